"""The lander's monitoring and FDIR rules (battery, thermal, heaters, latch-up, darkness)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from mission.mdb import MissionDatabase
from spacecraft_mock.obsw import fdir_rules
from spacecraft_mock.obsw.fdir_rules import FdirState
from spacecraft_mock.vehicles.lander import LANDER_ZONES, ZONE_NODE

if TYPE_CHECKING:
    from spacecraft_mock.obsw.onboard import OnboardSoftware
    from spacecraft_mock.vehicles.lander_model import LanderModel

ZONE_PARAMETERS: Final = {
    "AVIONICS": "lander.thermal.avionics_temperature",
    "BATTERY": "lander.thermal.battery_temperature",
    "PAYLOAD": "lander.thermal.payload_deck_temperature",
    "TANK": "lander.thermal.tank_temperature",
}
HEATER_FAILURE_S: Final = 60.0


def zone_limits(db: MissionDatabase) -> dict[str, tuple[float, float]]:
    return fdir_rules.zone_limits(db, ZONE_PARAMETERS)


def monitor(model: LanderModel, obsw: OnboardSoftware, st: FdirState, dt: float) -> None:
    la = model.lander
    ev = la.events
    fdir_rules.link_edges(
        st, ev, "lander", earth_visible=la.earth_visible, earth_el=la.earth_el,
        relay_up=la.rover_link_up, rssi=la.rover_rssi,
    )  # fmt: skip
    for zone in LANDER_ZONES:
        heater = la.thermal[ZONE_NODE[zone]].heater
        if heater is None:
            continue
        if heater.on and heater.failed:
            st.heater_off_s[zone] = st.heater_off_s.get(zone, 0.0) + dt
            if st.heater_off_s[zone] >= HEATER_FAILURE_S and zone not in st.heater_reported:
                st.heater_reported.add(zone)
                ev.raise_event("lander.thermal.heater_failure", zone=zone, current=0.0)
        else:
            st.heater_off_s[zone] = 0.0
            if not heater.failed:
                st.heater_reported.discard(zone)


def fdir(model: LanderModel, obsw: OnboardSoftware, st: FdirState, dt: float) -> None:
    la = model.lander
    ev = la.events
    fdir_rules.battery(st, ev, obsw, "lander", la.power.battery.soc * 100.0)
    for zone, (low, high) in model.zone_limits.items():
        temperature = la.temperature(ZONE_NODE[zone])
        if temperature > high and zone not in st.over:
            st.over.add(zone)
            ev.raise_event(
                "lander.thermal.overtemperature", zone=zone, temperature=temperature, limit=high
            )
            heater = la.thermal[ZONE_NODE[zone]].heater
            if heater is not None:
                heater.on = heater.stuck_on
            obsw.trip("THERMAL", "ISOLATE")
        elif temperature < high - 3.0:
            st.over.discard(zone)
        if temperature < low and zone not in st.under:
            st.under.add(zone)
            ev.raise_event(
                "lander.thermal.undertemperature", zone=zone, temperature=temperature, limit=low
            )
            obsw.trip("THERMAL", "POWER_CYCLE")
        elif temperature > low + 3.0:
            st.under.discard(zone)
    for name in la.payload.latched():
        la.payload.on[name] = False
        la.payload.latchup_count += 1
        ev.raise_event("lander.payload.latchup", instrument=name)
        obsw.trip("PAYLOAD", "ISOLATE")
    fdir_rules.darkness(st, obsw, la.lit, dt)

"""The lander's monitoring and FDIR rules (battery, thermal, heaters, latch-up, darkness)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from mission.mdb import MissionDatabase
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
DARK_S: Final = 1800.0


@dataclass(slots=True)
class LanderFdirState:
    battery_low: bool = False
    battery_critical: bool = False
    over: set[str] = field(default_factory=set)
    under: set[str] = field(default_factory=set)
    heater_off_s: dict[str, float] = field(default_factory=dict)
    heater_reported: set[str] = field(default_factory=set)
    earth_visible: bool | None = None
    relay_up: bool | None = None
    dark_s: float = 0.0
    lit_s: float = 0.0
    last_t: float = 0.0

    @property
    def heater_fault(self) -> bool:
        return bool(self.heater_reported)


def zone_limits(db: MissionDatabase) -> dict[str, tuple[float, float]]:
    out = {}
    for zone, name in ZONE_PARAMETERS.items():
        lim = db.parameters[name].limits
        low = lim.red_low if lim is not None and lim.red_low is not None else -273.0
        high = lim.red_high if lim is not None and lim.red_high is not None else 1000.0
        out[zone] = (low, high)
    return out


def monitor(model: LanderModel, obsw: OnboardSoftware, st: LanderFdirState, dt: float) -> None:
    la = model.lander
    ev = la.events
    if st.earth_visible is not None and la.earth_visible != st.earth_visible:
        name = "lander.comms.earth_rise" if la.earth_visible else "lander.comms.earth_set"
        ev.raise_event(name, elevation=la.earth_el)
    st.earth_visible = la.earth_visible
    if st.relay_up is not None and la.rover_link_up != st.relay_up:
        name = (
            "lander.comms.relay_link_restored"
            if la.rover_link_up
            else "lander.comms.relay_link_lost"
        )
        ev.raise_event(name, rssi=la.rover_rssi)
    st.relay_up = la.rover_link_up
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


def fdir(model: LanderModel, obsw: OnboardSoftware, st: LanderFdirState, dt: float) -> None:
    la = model.lander
    ev = la.events
    soc = la.power.battery.soc * 100.0
    if soc < 20.0 and not st.battery_low:
        st.battery_low = True
        ev.raise_event("lander.power.battery_low", soc=soc)
    elif soc > 25.0:
        st.battery_low = False
    if soc < 12.0 and not st.battery_critical:
        st.battery_critical = True
        ev.raise_event("lander.power.battery_critical", soc=soc)
        obsw.trip("POWER", "LOAD_SHED")
        obsw.set_mode("SAFE", "BATTERY")
    elif soc > 30.0:
        st.battery_critical = False
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
    st.dark_s = st.dark_s + dt if la.lit < 0.05 else 0.0
    st.lit_s = st.lit_s + dt if la.lit > 0.5 else 0.0
    if obsw.mode == "NOMINAL" and st.dark_s >= DARK_S:
        obsw.set_mode("HIBERNATION")
    elif obsw.mode == "HIBERNATION" and st.lit_s >= DARK_S:
        obsw.set_mode("NOMINAL")

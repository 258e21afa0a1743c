"""The rover's on-board monitoring and FDIR rules, and what each mode switches.

Monitoring (always): Earth set/rise, relay lost/restored, HGA pointing lost, high slip.
FDIR (when enabled), thresholds from the mission database's limits where it has them:

- power: state of charge below 20 % reports battery_low; below 12 % sheds drill, mobility and
  payload and enters SAFE (battery_critical); a failed cell is isolated (charge regulator FAULT);
- thermal: a zone beyond its red limit reports over/under-temperature (its heater is switched off
  or forced on); a heater that draws nothing while on for a minute reports heater_failure;
- mobility: a stall, slip or tilt stop trips the mobility flag;
- payload: a latched-up instrument is powered off at once (latchup, ISOLATE);
- comms: two minutes with an uplink carrier but no downlink path switch to the LGA;
- darkness: 30 minutes without Sun put the rover in HIBERNATION, 30 minutes of Sun wake it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from mission.mdb import MissionDatabase
from spacecraft_mock.environment import incidence_cos
from spacecraft_mock.obsw import fdir_rules
from spacecraft_mock.vehicles.mobility import DriveState
from spacecraft_mock.vehicles.rover_thermal import ZONE_NODES, ZONES

if TYPE_CHECKING:
    from spacecraft_mock.obsw.onboard import OnboardSoftware
    from spacecraft_mock.vehicles.rover_model import RoverModel

ZONE_PARAMETERS: Final = {
    "AVIONICS": "rover.thermal.avionics_temperature",
    "BATTERY": "rover.thermal.battery_temperature",
    "DRILL": "rover.thermal.drill_temperature",
    "INSTRUMENT": "rover.thermal.instrument_bay_temperature",
    "WHEELS": "rover.thermal.wheel_motor_temperature_1",
    "CAMERA": "rover.thermal.camera_temperature",
    "SURVIVAL": "rover.thermal.survival_temperature",
}
HEATER_FAILURE_S: Final = 60.0
NO_PATH_S: Final = 120.0
ARRAY_LOW_S: Final = 60.0
NOMINAL_DUST: Final = 0.95


@dataclass(slots=True)
class FdirState(fdir_rules.FdirState):
    """The shared state plus the rover's own checks."""

    cells_isolated: bool = False
    pointing_lost: bool = False
    no_path_s: float = 0.0
    stopped_fault_seen: bool = False
    array_low_reported: bool = False
    array_low_s: float = 0.0


def zone_limits(db: MissionDatabase) -> dict[str, tuple[float, float]]:
    """(red low, red high) of each zone's temperature parameter."""
    return fdir_rules.zone_limits(db, ZONE_PARAMETERS)


def _array_check(model: RoverModel, st: FdirState, dt: float) -> None:
    """Report array_output_low when the array gives well under what the Sun angle predicts."""
    r = model.rover
    expected = 0.0
    for panel in r.power.panels:
        cos_inc = incidence_cos(r.sun_el, r.sun_az, r.mobility.heading + panel.normal_offset_deg)
        expected += panel.peak_w * max(0.0, cos_inc) * r.lit * NOMINAL_DUST
    actual = r.power.array_w
    if expected > 50.0 and actual < 0.6 * expected:
        st.array_low_s += dt
        if st.array_low_s >= ARRAY_LOW_S and not st.array_low_reported:
            st.array_low_reported = True
            r.events.raise_event("rover.power.array_output_low", power=actual, expected=expected)
    else:
        st.array_low_s = 0.0
        if expected <= 50.0 or actual > 0.8 * expected:
            st.array_low_reported = False


def monitor(model: RoverModel, obsw: OnboardSoftware, st: FdirState, dt: float) -> None:
    r = model.rover
    ev = r.events
    fdir_rules.link_edges(
        st, ev, "rover", earth_visible=r.earth_visible, earth_el=r.earth_el,
        relay_up=r.radio.relay_up, rssi=r.radio.relay_rssi,
    )  # fmt: skip
    _array_check(model, st, dt)
    tracking = not r.radio.hga_stowed and r.radio.hga_fixed is None and r.radio.transmitter_on
    lost = tracking and r.radio.pointing_error > 0.5
    if lost and not st.pointing_lost:
        ev.raise_event("rover.comms.hga_pointing_lost", error=r.radio.pointing_error)
    st.pointing_lost = lost


def fdir(model: RoverModel, obsw: OnboardSoftware, st: FdirState, dt: float) -> None:
    r = model.rover
    ev = r.events

    def shed() -> None:
        for load in ("DRILL", "MOBILITY", "PAYLOAD"):
            ev.raise_event("rover.power.load_shed", load=load)

    fdir_rules.battery(st, ev, obsw, "rover", r.soc_pct, shed)
    if r.power.battery.failed_cells and not st.cells_isolated:
        st.cells_isolated = True
        obsw.trip("POWER", "ISOLATE")
    elif not r.power.battery.failed_cells:
        st.cells_isolated = False
    _thermal(model, obsw, st, dt)
    m = r.mobility
    if m.state is DriveState.STOPPED_FAULT and not st.stopped_fault_seen:
        st.stopped_fault_seen = True
        obsw.trip("MOBILITY", "ISOLATE")
    elif m.state is not DriveState.STOPPED_FAULT:
        st.stopped_fault_seen = False
    for name in r.payload.latched():
        r.payload.on[name] = False
        r.payload.latchup_count += 1
        r.payload.measuring.pop(name, None)
        ev.raise_event("rover.payload.latchup", instrument=name)
        obsw.trip("PAYLOAD", "ISOLATE")
    _comms(model, obsw, st, dt)
    _darkness(model, obsw, st, dt)


def _thermal(model: RoverModel, obsw: OnboardSoftware, st: FdirState, dt: float) -> None:
    r = model.rover
    ev = r.events
    for zone in ZONES:
        low, high = model.zone_limits[zone]
        temperature = max(r.temperature(n) for n in ZONE_NODES[zone])
        coldest = min(r.temperature(n) for n in ZONE_NODES[zone])
        if temperature > high and zone not in st.over:
            st.over.add(zone)
            ev.raise_event(
                "rover.thermal.overtemperature", zone=zone, temperature=temperature, limit=high
            )
            for node in ZONE_NODES[zone]:
                heater = r.thermal[node].heater
                if heater is not None:
                    heater.on = heater.stuck_on
            if zone == "DRILL":
                r.drill.stop(ev)
            obsw.trip("THERMAL", "ISOLATE")
        elif temperature < high - 3.0:
            st.over.discard(zone)
        if coldest < low and zone not in st.under:
            st.under.add(zone)
            ev.raise_event(
                "rover.thermal.undertemperature", zone=zone, temperature=coldest, limit=low
            )
            obsw.trip("THERMAL", "POWER_CYCLE")
        elif coldest > low + 3.0:
            st.under.discard(zone)
    for zone in ZONES:
        for node in ZONE_NODES[zone]:
            heater = r.thermal[node].heater
            if heater is None:
                continue
            key = f"{zone}:{node}"
            if heater.on and heater.failed:
                st.heater_off_s[key] = st.heater_off_s.get(key, 0.0) + dt
                if st.heater_off_s[key] >= HEATER_FAILURE_S and zone not in st.heater_reported:
                    st.heater_reported.add(zone)
                    ev.raise_event("rover.thermal.heater_failure", zone=zone, current=0.0)
            else:
                st.heater_off_s[key] = 0.0
                if not heater.failed:
                    st.heater_reported.discard(zone)


def _comms(model: RoverModel, obsw: OnboardSoftware, st: FdirState, dt: float) -> None:
    r = model.rover
    # The ground is there (uplink carrier) but neither the HGA nor the relay can answer it.
    if (
        r.path is None
        and obsw.uplink_locked
        and r.radio.antenna == "HGA"
        and obsw.mode == "NOMINAL"
    ):
        st.no_path_s += dt
        if st.no_path_s >= NO_PATH_S:
            r.radio.antenna, r.radio.rate = "LGA", "RATE_16K"
            r.events.raise_event("rover.comms.antenna_switched", antenna="LGA")
            obsw.trip("COMMS", "SWITCH_REDUNDANT")
            st.no_path_s = 0.0
    else:
        st.no_path_s = 0.0


def _darkness(model: RoverModel, obsw: OnboardSoftware, st: FdirState, dt: float) -> None:
    fdir_rules.darkness(st, obsw, model.rover.lit, dt, may_wake=model.auto_wake)

"""What each catalogued fault does to the world, and how clearing it undoes that.

Each effect is a pair of functions ``start(world, params) -> params`` and ``stop(world, params)``.
``start`` may return the parameters made concrete (e.g. ``station: prime`` becomes the station
that was prime), which is what ``stop`` receives and what the status shows. The subsystems only
expose health knobs (a failed heater, a stalled wheel, an extra Eb/N0 loss); the mapping from a
fault to those knobs is here, in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from mission.faults import ParamValue
from spacecraft_mock.obsw.onboard import NOMINAL_DRIFT_RATE
from spacecraft_mock.vehicles.lander import ZONE_NODE as LANDER_ZONE_NODE
from spacecraft_mock.vehicles.rover_thermal import zone_heaters
from spacecraft_mock.vehicles.thermal import Heater

if TYPE_CHECKING:
    from spacecraft_mock.world import World

Params = dict[str, ParamValue]
Start = Callable[["World", Params], Params]
Stop = Callable[["World", Params], None]


def _targets(params: Params) -> tuple[str, ...]:
    sc = str(params.get("spacecraft", "all"))
    return ("rover", "lander") if sc == "all" else (sc,)


# ---------------------------------------------------------------------------------- link
def _outage_start(world: World, params: Params) -> Params:
    station = str(params["station"])
    if station == "prime":
        station = world.link.prime or world.link.stations_in_view_or_first()
    world.link.faults.outages.add(station)
    return {**params, "station": station}


def _outage_stop(world: World, params: Params) -> None:
    world.link.faults.outages.discard(str(params["station"]))


def _ber_start(world: World, params: Params) -> Params:
    for sc in _targets(params):
        world.link.faults.ebn0_ceiling_db[sc] = float(params["ebn0_db"])
    return params


def _ber_stop(world: World, params: Params) -> None:
    for sc in _targets(params):
        world.link.faults.ebn0_ceiling_db.pop(sc, None)


def _loss_start(world: World, params: Params) -> Params:
    for sc in _targets(params):
        world.link.faults.loss_fraction[sc] = float(params["loss_fraction"])
    return params


def _loss_stop(world: World, params: Params) -> None:
    for sc in _targets(params):
        world.link.faults.loss_fraction.pop(sc, None)


def _uplink_start(world: World, params: Params) -> Params:
    world.link.faults.uplink_corruption[str(params["spacecraft"])] = float(params["probability"])
    return params


def _uplink_stop(world: World, params: Params) -> None:
    world.link.faults.uplink_corruption.pop(str(params["spacecraft"]), None)


# ---------------------------------------------------------------------------------- rover
def _set(setter: Callable[[World, bool], None]) -> tuple[Start, Stop]:
    def start(world: World, params: Params) -> Params:
        setter(world, True)
        return params

    def stop(world: World, params: Params) -> None:
        setter(world, False)

    return start, stop


def _relay(world: World, on: bool) -> None:
    world.rover.radio.relay_fault = on


def _star_tracker(world: World, on: bool) -> None:
    world.rover.nav.star_tracker_failed = on


def _drill_jam(world: World, on: bool) -> None:
    world.rover.drill.jam_fault = on


def _xband(world: World, on: bool) -> None:
    world.lander.radio.xband_fault = on


def _hga_start(world: World, params: Params) -> Params:
    world.rover.radio.hga_offset_fault_deg = float(params["offset_deg"])
    return params


def _hga_stop(world: World, params: Params) -> None:
    world.rover.radio.hga_offset_fault_deg = 0.0


def _cells_start(world: World, params: Params) -> Params:
    world.rover.power.battery.fail_cells(int(params["cells"]))
    return params


def _cells_stop(world: World, params: Params) -> None:
    world.rover.power.battery.restore_cells()


def _array_start(world: World, params: Params) -> Params:
    for panel in world.rover.power.panels:
        panel.degradation = float(params["remaining"])
    return params


def _array_stop(world: World, params: Params) -> None:
    for panel in world.rover.power.panels:
        panel.degradation = 1.0


def _dark_start(world: World, params: Params) -> Params:
    world.env.sun_horizon_raise_deg += float(params["horizon_raise_deg"])
    return params


def _dark_stop(world: World, params: Params) -> None:
    world.env.sun_horizon_raise_deg -= float(params["horizon_raise_deg"])


def _earth_start(world: World, params: Params) -> Params:
    world.env.earth_mask_raise_deg += float(params["mask_raise_deg"])
    return params


def _earth_stop(world: World, params: Params) -> None:
    world.env.earth_mask_raise_deg -= float(params["mask_raise_deg"])


def _rover_heaters(world: World, params: Params) -> list[Heater]:
    return zone_heaters(world.rover.thermal, str(params["zone"]))


def _stuck_start(world: World, params: Params) -> Params:
    for heater in _rover_heaters(world, params):
        heater.stuck_on = heater.on = True
    return params


def _stuck_stop(world: World, params: Params) -> None:
    for heater in _rover_heaters(world, params):
        heater.stuck_on = heater.on = False


def _failed_start(world: World, params: Params) -> Params:
    for heater in _rover_heaters(world, params):
        heater.failed = True
    return params


def _failed_stop(world: World, params: Params) -> None:
    for heater in _rover_heaters(world, params):
        heater.failed = False


def _lander_heater(world: World, params: Params) -> Heater | None:
    return world.lander.thermal[LANDER_ZONE_NODE[str(params["zone"])]].heater


def _lander_failed_start(world: World, params: Params) -> Params:
    heater = _lander_heater(world, params)
    if heater is not None:
        heater.failed = True
    return params


def _lander_failed_stop(world: World, params: Params) -> None:
    heater = _lander_heater(world, params)
    if heater is not None:
        heater.failed = False


def _stall_start(world: World, params: Params) -> Params:
    world.rover.mobility.stalled_wheel = int(params["wheel"])
    return params


def _stall_stop(world: World, params: Params) -> None:
    world.rover.mobility.stalled_wheel = 0


def _slip_start(world: World, params: Params) -> Params:
    world.rover.mobility.extra_slip = float(params["slip"])
    return params


def _slip_stop(world: World, params: Params) -> None:
    world.rover.mobility.extra_slip = 0.0


def _latch_start(world: World, params: Params) -> Params:
    world.rover.payload.latch_fault[str(params["instrument"])] = True
    return params


def _latch_stop(world: World, params: Params) -> None:
    world.rover.payload.latch_fault[str(params["instrument"])] = False


def _lander_latch_start(world: World, params: Params) -> Params:
    world.lander.payload.latch_fault[str(params["instrument"])] = True
    return params


def _lander_latch_stop(world: World, params: Params) -> None:
    world.lander.payload.latch_fault[str(params["instrument"])] = False


# ---------------------------------------------------------------------------------- obsw
def _stuck_sensor_start(world: World, params: Params) -> Params:
    name = str(params["parameter"])
    vehicle = world.rover if name.startswith("rover.") else world.lander
    vehicle.sensor_stuck[name] = float(params["value"])
    return params


def _stuck_sensor_stop(world: World, params: Params) -> None:
    name = str(params["parameter"])
    vehicle = world.rover if name.startswith("rover.") else world.lander
    vehicle.sensor_stuck.pop(name, None)


def _drift_start(world: World, params: Params) -> Params:
    world.obsw[str(params["vehicle"])].drift_rate = float(params["drift_ppm"]) * 1e-6
    return params


def _drift_stop(world: World, params: Params) -> None:
    world.obsw[str(params["vehicle"])].drift_rate = NOMINAL_DRIFT_RATE


def _reject_start(world: World, params: Params) -> Params:
    world.obsw[str(params["vehicle"])].commanding.forced_rejection = str(params["code"])
    return params


def _reject_stop(world: World, params: Params) -> None:
    world.obsw[str(params["vehicle"])].commanding.forced_rejection = None


def _reboot_start(world: World, params: Params) -> Params:
    world.models[str(params["vehicle"])].pending_reboot = "WATCHDOG"
    return params


def _nothing(world: World, params: Params) -> None:
    del world, params


EFFECTS: Final[dict[str, tuple[Start, Stop]]] = {
    "station_outage": (_outage_start, _outage_stop),
    "bit_error_burst": (_ber_start, _ber_stop),
    "frame_loss": (_loss_start, _loss_stop),
    "uplink_corruption": (_uplink_start, _uplink_stop),
    "relay_loss": _set(_relay),
    "hga_pointing_failure": (_hga_start, _hga_stop),
    "battery_cell_failure": (_cells_start, _cells_stop),
    "solar_array_degradation": (_array_start, _array_stop),
    "early_darkness": (_dark_start, _dark_stop),
    "earth_set": (_earth_start, _earth_stop),
    "heater_stuck_on": (_stuck_start, _stuck_stop),
    "heater_failed": (_failed_start, _failed_stop),
    "lander_heater_failed": (_lander_failed_start, _lander_failed_stop),
    "wheel_stall": (_stall_start, _stall_stop),
    "wheel_slip": (_slip_start, _slip_stop),
    "star_tracker_failure": _set(_star_tracker),
    "drill_jam": _set(_drill_jam),
    "instrument_latchup": (_latch_start, _latch_stop),
    "lander_instrument_latchup": (_lander_latch_start, _lander_latch_stop),
    "sensor_stuck": (_stuck_sensor_start, _stuck_sensor_stop),
    "clock_drift": (_drift_start, _drift_stop),
    "command_rejection": (_reject_start, _reject_stop),
    "obc_reboot": (_reboot_start, _nothing),
    "lander_xband_failure": _set(_xband),
}

"""Every rover parameter of the mission database, computed from the physics.

One function per packet family; each returns engineering values by parameter name. Sensor noise
is small and drawn from the rover's own ``rover.sensors`` stream. A ``sensor_stuck`` fault
replaces a parameter's value with a frozen one (see :func:`rover_telemetry`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from spacecraft_mock.vehicles.comms import RATES_BPS
from spacecraft_mock.vehicles.rover import Rover
from spacecraft_mock.vehicles.rover_thermal import ZONES, zone_heater_on

if TYPE_CHECKING:
    from spacecraft_mock.obsw.onboard import OnboardSoftware

Values = dict[str, object]


def _n(rover: Rover, sigma: float) -> float:
    return float(rover.noise.normal(0.0, sigma))


def obsw_values(rover: Rover, obsw: OnboardSoftware) -> Values:
    busy = 15.0 * rover.mobility.busy + 10.0 * rover.drill.busy + 4.0 * len(rover.payload.measuring)
    counters = obsw.commanding.counters
    return {
        "rover.obsw.mode": obsw.mode,
        "rover.obsw.cpu_load": min(99.0, max(1.0, 24.0 + busy + _n(rover, 2.0))),
        "rover.obsw.memory_used": min(99.0, 38.0 + 0.2 * obsw.store.fill_pct + _n(rover, 0.5)),
        "rover.obsw.uptime": int(obsw.uptime),
        "rover.obsw.boot_count": obsw.boot_count,
        "rover.obsw.tc_accepted": counters.accepted & 0xFFFF,
        "rover.obsw.tc_rejected": counters.rejected & 0xFFFF,
        "rover.obsw.tc_executed": counters.executed & 0xFFFF,
        "rover.obsw.last_function_id": counters.last_function_id,
        "rover.obsw.last_event_id": obsw.last_event_id,
        "rover.obsw.fdir_enabled": obsw.fdir_enabled,
        "rover.obsw.fdir_power_tripped": obsw.tripped.get("POWER", False),
        "rover.obsw.fdir_thermal_tripped": obsw.tripped.get("THERMAL", False),
        "rover.obsw.fdir_mobility_tripped": obsw.tripped.get("MOBILITY", False),
        "rover.obsw.fdir_comms_tripped": obsw.tripped.get("COMMS", False),
        "rover.obsw.watchdog_enabled": True,
        "rover.obsw.hk_storage_enabled": obsw.hk_storage_enabled,
        "rover.obsw.time_synchronised": obsw.time_synchronised,
        "rover.obsw.time_drift": obsw.clock_offset * 1000.0,
    }


def power_values(rover: Rover) -> Values:
    p = rover.power
    out: Values = {}
    for i, panel in enumerate(p.panels, start=1):
        out[f"rover.power.array_voltage_{i}"] = panel.voltage_v + (
            _n(rover, 0.02) if panel.voltage_v else 0.0
        )
        out[f"rover.power.array_current_{i}"] = max(0.0, panel.current_a + _n(rover, 0.005))
        out[f"rover.power.array_power_{i}"] = panel.power_w
    b = p.battery
    loads = p.loads
    out.update(
        {
            "rover.power.array_power": p.array_w,
            "rover.power.battery_voltage": b.voltage_v + _n(rover, 0.005),
            "rover.power.battery_current": b.current_a + _n(rover, 0.01),
            "rover.power.battery_soc": b.soc * 100.0,
            "rover.power.battery_energy": b.energy_wh,
            "rover.power.bus_voltage": p.bus_voltage_v + _n(rover, 0.01),
            "rover.power.load_avionics": loads.get("avionics", 0.0),
            "rover.power.load_mobility": loads.get("mobility", 0.0),
            "rover.power.load_drill": loads.get("drill", 0.0),
            "rover.power.load_payload": loads.get("payload", 0.0),
            "rover.power.load_heaters": loads.get("heaters", 0.0),
            "rover.power.load_comms": loads.get("comms", 0.0),
            "rover.power.total_load": p.load_w,
            "rover.power.power_balance": p.balance_w,
            "rover.power.charge_state": p.charge_state,
        }
    )
    return out


def thermal_values(rover: Rover) -> Values:
    th = rover.thermal
    avionics = rover.temperature("avionics")
    sink = rover.sink_c + 70.0 * rover.lit
    out: Values = {
        "rover.thermal.avionics_temperature": avionics + _n(rover, 0.05),
        "rover.thermal.battery_temperature": rover.temperature("battery") + _n(rover, 0.05),
        "rover.thermal.drill_temperature": rover.temperature("drill") + _n(rover, 0.05),
        "rover.thermal.instrument_bay_temperature": rover.temperature("instrument")
        + _n(rover, 0.05),
        "rover.thermal.camera_temperature": rover.temperature("camera") + _n(rover, 0.05),
        "rover.thermal.radiator_temperature": sink + 0.3 * (avionics - sink),
        "rover.thermal.survival_temperature": rover.temperature("web") + _n(rover, 0.05),
        "rover.thermal.thermostat_auto": th.auto,
        "rover.thermal.heater_power": th.heater_power_w,
    }
    for i in range(1, 5):
        out[f"rover.thermal.wheel_motor_temperature_{i}"] = rover.temperature(f"wheel_{i}") + _n(
            rover, 0.05
        )
    for zone in ZONES:
        key = "wheel" if zone == "WHEELS" else zone.lower()
        out[f"rover.thermal.{key}_heater"] = zone_heater_on(th, zone)
    return out


def mobility_values(rover: Rover) -> Values:
    m = rover.mobility
    slope, pitch, roll = m.slope_state()
    out: Values = {
        "rover.mobility.est_position_x": rover.nav.est_x,
        "rover.mobility.est_position_y": rover.nav.est_y,
        "rover.mobility.est_heading": rover.nav.est_heading(m) % 359.99,
        "rover.mobility.odometry": m.odometry_m,
        "rover.mobility.speed": m.speed,
        "rover.mobility.slip": m.slip_pct,
        "rover.mobility.pitch": pitch + _n(rover, 0.02),
        "rover.mobility.roll": roll + _n(rover, 0.02),
        "rover.mobility.slope": slope,
        "rover.mobility.drive_remaining": m.remaining_m(),
        "rover.mobility.hazard_detected": m.hazard,
        "rover.mobility.brakes_engaged": m.brakes,
        "rover.mobility.motors_powered": m.motors_powered,
        "rover.mobility.drive_state": m.state.value,
        "rover.mobility.nav_mode": m.nav_mode.value,
    }
    for i in range(4):
        out[f"rover.mobility.wheel_current_{i + 1}"] = m.wheel_currents[i]
        out[f"rover.mobility.steering_angle_{i + 1}"] = m.steering[i]
    return out


def navigation_values(rover: Rover) -> Values:
    nav, m = rover.nav, rover.mobility
    sigma = nav.sigma
    h = math.radians(m.heading)
    return {
        "rover.navigation.est_sigma_x": sigma * (0.75 + 0.25 * abs(math.sin(h))),
        "rover.navigation.est_sigma_y": sigma * (0.75 + 0.25 * abs(math.cos(h))),
        "rover.navigation.est_sigma_heading": nav.sigma_heading,
        "rover.navigation.landmark_match_time": int(nav.match_time),
        "rover.navigation.landmark_match_quality": nav.match_quality,
        "rover.navigation.landmark_match_count": nav.match_count,
        "rover.navigation.star_tracker_status": nav.star_tracker,
        "rover.navigation.star_tracker_stars": nav.stars,
        "rover.navigation.imu_rate_x": _n(rover, 0.01),
        "rover.navigation.imu_rate_y": _n(rover, 0.01),
        "rover.navigation.imu_rate_z": m.yaw_rate + _n(rover, 0.01),
        "rover.navigation.imu_temperature": rover.temperature("avionics") - 1.5 + _n(rover, 0.05),
        "rover.navigation.imu_status": "FAULT" if nav.imu_failed else "OK",
    }


def drill_values(rover: Rover) -> Values:
    d = rover.drill
    return {
        "rover.drill.depth": d.depth,
        "rover.drill.target_depth": d.target_depth,
        "rover.drill.torque": d.torque,
        "rover.drill.rotation_speed": d.rpm,
        "rover.drill.penetration_rate": d.penetration_mm_min,
        "rover.drill.motor_current": d.motor_current_a,
        "rover.drill.sample_id": d.sample_id,
        "rover.drill.samples_collected": d.samples_collected,
        "rover.drill.status": d.status.value,
        "rover.drill.jam_flag": d.jam_flag,
        "rover.drill.sample_present": d.cup is not None,
        "rover.drill.motor_enabled": d.motor_enabled,
        "rover.drill.reverse": d.reverse,
    }


def comms_values(rover: Rover, obsw: OnboardSoftware) -> Values:
    r = rover.radio
    store = obsw.store
    rate = 0
    if rover.path in ("hga", "relay"):
        rate = RATES_BPS[r.rate] if rover.path == "hga" else 2_000_000
    elif rover.path == "lga":
        rate = 16_000
    return {
        "rover.comms.hga_azimuth": r.hga_azimuth,
        "rover.comms.hga_elevation": r.hga_elevation,
        "rover.comms.hga_pointing_error": r.pointing_error,
        "rover.comms.earth_azimuth": (rover.earth_az + 180.0) % 360.0 - 180.0,
        "rover.comms.earth_elevation": rover.earth_el,
        "rover.comms.downlink_rate": rate,
        "rover.comms.relay_rssi": r.relay_rssi,
        "rover.comms.frames_stored": store.frames_stored,
        "rover.comms.frames_played_back": store.frames_played_back,
        "rover.comms.storage_fill": store.fill_pct,
        "rover.comms.transmitter_temperature": rover.temperature("avionics")
        + 4.0
        + _n(rover, 0.05),
        "rover.comms.tc_frames_received": obsw.farm.frames_received & 0xFFFF,
        "rover.comms.antenna_select": r.antenna if r.transmitter_on else "NONE",
        "rover.comms.hga_stowed": r.hga_stowed,
        "rover.comms.transmitter_on": r.transmitter_on,
        "rover.comms.relay_link_up": r.relay_up,
        "rover.comms.earth_visible": rover.earth_visible,
        "rover.comms.uplink_locked": obsw.uplink_locked,
        "rover.comms.hga_tracking": r.hga_tracking,
        "rover.comms.tc_frames_rejected": obsw.farm.frames_rejected & 0xFFFF,
    }

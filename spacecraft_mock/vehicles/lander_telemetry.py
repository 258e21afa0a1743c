"""Every lander parameter of the mission database, computed from the physics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spacecraft_mock.vehicles.comms import RATES_BPS
from spacecraft_mock.vehicles.lander import LANDER_INSTRUMENTS, LANDER_ZONES, ZONE_NODE, Lander

if TYPE_CHECKING:
    from spacecraft_mock.obsw.onboard import OnboardSoftware

Values = dict[str, object]
SCIENCE_INSTRUMENT = {
    "lander.sci.seismometer": "SEISMOMETER",
    "lander.sci.heat_probe": "HEAT_PROBE",
    "lander.sci.langmuir": "LANGMUIR",
}


def _n(lander: Lander, sigma: float) -> float:
    return float(lander.noise.normal(0.0, sigma))


def _obsw(lander: Lander, obsw: OnboardSoftware) -> Values:
    c = obsw.commanding.counters
    return {
        "lander.obsw.mode": obsw.mode,
        "lander.obsw.cpu_load": min(99.0, max(1.0, 22.0 + _n(lander, 2.0))),
        "lander.obsw.memory_used": min(99.0, 41.0 + 0.2 * obsw.store.fill_pct + _n(lander, 0.5)),
        "lander.obsw.uptime": int(obsw.uptime),
        "lander.obsw.boot_count": obsw.boot_count,
        "lander.obsw.tc_accepted": c.accepted & 0xFFFF,
        "lander.obsw.tc_rejected": c.rejected & 0xFFFF,
        "lander.obsw.tc_executed": c.executed & 0xFFFF,
        "lander.obsw.last_function_id": c.last_function_id,
        "lander.obsw.last_event_id": obsw.last_event_id,
        "lander.obsw.fdir_enabled": obsw.fdir_enabled,
        "lander.obsw.fdir_power_tripped": obsw.tripped.get("POWER", False),
        "lander.obsw.fdir_thermal_tripped": obsw.tripped.get("THERMAL", False),
        "lander.obsw.fdir_comms_tripped": obsw.tripped.get("COMMS", False),
        "lander.obsw.fdir_payload_tripped": obsw.tripped.get("PAYLOAD", False),
        "lander.obsw.watchdog_enabled": True,
        "lander.obsw.hk_storage_enabled": obsw.hk_storage_enabled,
        "lander.obsw.time_synchronised": obsw.time_synchronised,
        "lander.obsw.time_drift": obsw.clock_offset * 1000.0,
    }


def _power(lander: Lander) -> Values:
    p = lander.power
    out: Values = {}
    for i, panel in enumerate(p.panels, start=1):
        out[f"lander.power.array_voltage_{i}"] = panel.voltage_v + (
            _n(lander, 0.02) if panel.voltage_v else 0.0
        )
        out[f"lander.power.array_current_{i}"] = max(0.0, panel.current_a + _n(lander, 0.005))
        out[f"lander.power.array_power_{i}"] = panel.power_w
    b = p.battery
    out.update(
        {
            "lander.power.array_power": p.array_w,
            "lander.power.battery_voltage": b.voltage_v + _n(lander, 0.005),
            "lander.power.battery_current": b.current_a + _n(lander, 0.01),
            "lander.power.battery_soc": b.soc * 100.0,
            "lander.power.battery_energy": b.energy_wh,
            "lander.power.bus_voltage": p.bus_voltage_v + _n(lander, 0.01),
            "lander.power.load_avionics": p.loads.get("avionics", 0.0),
            "lander.power.load_comms": p.loads.get("comms", 0.0),
            "lander.power.load_payload": p.loads.get("payload", 0.0),
            "lander.power.load_heaters": p.loads.get("heaters", 0.0),
            "lander.power.total_load": p.load_w,
            "lander.power.power_balance": p.balance_w,
            "lander.power.charge_state": p.charge_state,
        }
    )
    return out


def _thermal(lander: Lander, heater_fault: bool) -> Values:
    th = lander.thermal
    avionics = lander.temperature("avionics")
    sink = lander.sink_c + 60.0 * lander.lit
    out: Values = {
        "lander.thermal.avionics_temperature": avionics + _n(lander, 0.05),
        "lander.thermal.battery_temperature": lander.temperature("battery") + _n(lander, 0.05),
        "lander.thermal.payload_deck_temperature": lander.temperature("payload") + _n(lander, 0.05),
        "lander.thermal.tank_temperature": lander.temperature("tank") + _n(lander, 0.05),
        "lander.thermal.radiator_temperature": sink + 0.3 * (avionics - sink),
        "lander.thermal.thermostat_auto": th.auto,
        "lander.thermal.louvre_open": th["avionics"].louvre_open,
        "lander.thermal.heater_fault": heater_fault,
        "lander.thermal.heater_power": th.heater_power_w,
    }
    for zone in LANDER_ZONES:
        heater = th[ZONE_NODE[zone]].heater
        out[f"lander.thermal.{zone.lower()}_heater"] = heater is not None and heater.on
    return out


def _comms(lander: Lander, obsw: OnboardSoftware) -> Values:
    r = lander.radio
    return {
        "lander.comms.rover_link_rssi": lander.rover_rssi,
        "lander.comms.frames_relayed": r.frames_relayed,
        "lander.comms.relay_frame_errors": r.relay_frame_errors & 0xFFFF,
        "lander.comms.downlink_rate": RATES_BPS[r.rate] if r.xband_on else 0,
        "lander.comms.hga_pointing_error": r.pointing_error,
        "lander.comms.earth_elevation": lander.earth_el,
        "lander.comms.transmitter_temperature": lander.temperature("avionics")
        + 6.0
        + _n(lander, 0.05),
        "lander.comms.storage_fill": obsw.store.fill_pct,
        "lander.comms.frames_stored": obsw.store.frames_stored,
        "lander.comms.relay_enabled": r.relay_enabled,
        "lander.comms.rover_link_up": lander.rover_link_up,
        "lander.comms.xband_tx_on": r.xband_on,
        "lander.comms.earth_visible": lander.earth_visible,
        "lander.comms.uplink_locked": obsw.uplink_locked,
        "lander.comms.xband_status": _xband_status(lander, obsw),
        "lander.comms.tc_frames_rejected": obsw.farm.frames_rejected & 0xFFFF,
    }


def _xband_status(lander: Lander, obsw: OnboardSoftware) -> str:
    r = lander.radio
    if r.xband_fault:
        return "FAULT"
    if not r.xband_on:
        return "OFF"
    return "TELEMETRY" if obsw.link_up else "CARRIER"


def _payload(lander: Lander) -> Values:
    p = lander.payload
    out: Values = {f"lander.payload.{n.lower()}_power": p.on[n] for n in LANDER_INSTRUMENTS}
    out["lander.payload.latchup_count"] = min(31, p.latchup_count)
    out["lander.payload.bus_current"] = p.power_w / 28.0
    x, y, z = p.rms
    deck = lander.temperature("payload")
    out.update(
        {
            "lander.seismometer.velocity_rms_x": x,
            "lander.seismometer.velocity_rms_y": y,
            "lander.seismometer.velocity_rms_z": z,
            "lander.seismometer.peak_velocity": p.peak,
            "lander.seismometer.event_count": p.seismic_events & 0xFFFF,
            "lander.seismometer.sensor_temperature": deck - 3.0 + _n(lander, 0.05),
            "lander.heat_probe.probe_depth": p.probe_depth,
            "lander.heat_probe.thermal_gradient": (
                p.probe_temperatures[3] - p.probe_temperatures[0]
            )
            / p.probe_depth,
        }
    )
    for i, temperature in enumerate(p.probe_temperatures, start=1):
        out[f"lander.heat_probe.temperature_{i}"] = temperature + _n(lander, 0.05)
    sun = lander.lit
    out.update(
        {
            "lander.langmuir.electron_density": 40.0
            + 2500.0 * sun * (1.0 + 0.05 * _n(lander, 1.0)),
            "lander.langmuir.electron_temperature": 2.0 + 6.0 * sun + abs(_n(lander, 0.2)),
            "lander.langmuir.plasma_potential": -8.0 + 13.0 * sun + _n(lander, 0.3),
            "lander.langmuir.probe_current": (2e-8 * sun - 5e-9) * (1.0 + 0.05 * _n(lander, 1.0)),
        }
    )
    return out


def lander_packet_values(
    lander: Lander, obsw: OnboardSoftware, heater_fault: bool, packet: str
) -> Values:
    """The values of one packet's parameters (a sensor-stuck fault's frozen value applied)."""
    family = packet.rsplit(".", maxsplit=1)[-1]
    if family == "obsw":
        values = _obsw(lander, obsw)
    elif family == "power":
        values = _power(lander)
    elif family == "thermal":
        values = _thermal(lander, heater_fault)
    elif family == "comms":
        values = _comms(lander, obsw)
    else:
        values = _payload(lander)
    for name, frozen in lander.sensor_stuck.items():
        if name in values:
            values[name] = frozen
    return values


def lander_science_enabled(lander: Lander, packet: str) -> bool:
    name = SCIENCE_INSTRUMENT.get(packet)
    return name is not None and lander.payload.on[name]

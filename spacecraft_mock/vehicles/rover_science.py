"""Rover payload housekeeping and science parameters, and the rover's telemetry by packet."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from spacecraft_mock.vehicles import rover_telemetry as tm
from spacecraft_mock.vehicles.instruments import INSTRUMENTS
from spacecraft_mock.vehicles.rover import Rover

if TYPE_CHECKING:
    from spacecraft_mock.obsw.onboard import OnboardSoftware

Values = dict[str, object]

SCIENCE_INSTRUMENTS: Final = {
    "rover.sci.ns": ("NS",),
    "rover.sci.reiwa": ("LTGA", "ADORE", "TRITON", "ISAP"),
    "rover.sci.alis": ("ALIS",),
    "rover.sci.prathima": ("PRATHIMA",),
    "rover.sci.gpr": ("GPR",),
    "rover.sci.ems": ("EMS",),
    "rover.sci.mir": ("MIR",),
}


def payload_values(rover: Rover) -> Values:
    p = rover.payload
    out: Values = {f"rover.payload.{name.lower()}_power": p.on[name] for name in INSTRUMENTS}
    out["rover.payload.latchup_count"] = min(63, p.latchup_count)
    out["rover.payload.reiwa_state"] = p.reiwa_state()
    out["rover.payload.bus_current"] = p.bus_current_a
    return out


def ns_values(rover: Rover) -> Values:
    p = rover.payload
    return {
        "rover.ns.thermal_count_rate": p.ns.thermal_cps,
        "rover.ns.epithermal_count_rate": p.ns.epithermal_cps,
        "rover.ns.weh": p.ns.weh,
        "rover.ns.integration_time": int(p.ns.bin_s),
        "rover.ns.detector_temperature": rover.temperature("instrument") - 2.0,
        "rover.ns.high_voltage": 1200.0 + tm._n(rover, 3.0),
    }


def reiwa_values(rover: Rover) -> Values:
    r = rover.payload.reiwa
    out: Values = {
        "rover.reiwa.ltga_water": r.water_wt_pct,
        "rover.reiwa.ltga_oven_temperature": r.oven_c,
        "rover.reiwa.ltga_mass_loss": r.mass_loss_mg,
        "rover.reiwa.adore_h2o": r.adore_h2o_ppmv,
        "rover.reiwa.adore_delta_d": r.adore_delta_d,
        "rover.reiwa.adore_cell_pressure": r.adore_pressure_hpa,
        "rover.reiwa.isap_raman_ratio": r.isap_ratio,
    }
    for mz, current in r.triton.items():
        out[f"rover.reiwa.triton_ion_current_m{mz}"] = current
    return out


def alis_values(rover: Rover) -> Values:
    p, m = rover.payload, rover.mobility
    alis = p.alis(m.x, m.y, rover.lit)
    out: Values = {f"rover.alis.reflectance_{band}": alis[band] for band in (
        "750nm", "1250nm", "1500nm", "2000nm", "2500nm", "2900nm")}  # fmt: skip
    out["rover.alis.water_band_depth"] = alis["water_band_depth"]
    out["rover.alis.detector_temperature"] = rover.temperature("instrument") - 28.0
    out["rover.alis.exposure_time"] = p.alis_exposure_ms
    return out


def prathima_values(rover: Rover) -> Values:
    p, m = rover.payload, rover.mobility
    permittivity, conductivity, probe_c = p.prathima(m.x, m.y, rover.surface_k)
    return {
        "rover.prathima.permittivity": permittivity,
        "rover.prathima.thermal_conductivity": conductivity,
        "rover.prathima.probe_temperature": probe_c,
        "rover.prathima.probe_depth": p.prathima_depth,
        "rover.prathima.heater_power": p.prathima_heater_w,
    }


def gpr_values(rover: Rover) -> Values:
    p, m = rover.payload, rover.mobility
    depth, amplitude, count = p.gpr(m.x, m.y)
    return {
        "rover.gpr.layer_depth": depth,
        "rover.gpr.signal_amplitude": amplitude,
        "rover.gpr.layer_count": count,
        "rover.gpr.trace_count": p.gpr_traces,
    }


def ems_values(rover: Rover) -> Values:
    p, m = rover.payload, rover.mobility
    gases = p.ems(m.x, m.y, rover.lit, rover.drill.busy)
    out: Values = {f"rover.ems.partial_pressure_m{mz}": value for mz, value in gases.items()}
    out["rover.ems.total_pressure"] = sum(gases.values()) * 1.15
    out["rover.ems.scan_count"] = p.ems_scans & 0xFFFF
    return out


def mir_values(rover: Rover) -> Values:
    p, m = rover.payload, rover.mobility
    mean, low, high = p.mir(m.x, m.y, rover.sun_el, rover.sun_az, rover.lit)
    return {
        "rover.mir.surface_temperature_mean": mean,
        "rover.mir.surface_temperature_min": low,
        "rover.mir.surface_temperature_max": high,
        "rover.mir.detector_temperature": rover.temperature("instrument") - 4.0,
    }


PACKETS: Final[dict[str, Callable[[Rover, OnboardSoftware], Values]]] = {
    "rover.hk.obsw": tm.obsw_values,
    "rover.hk.power": lambda r, o: tm.power_values(r),
    "rover.hk.thermal": lambda r, o: tm.thermal_values(r),
    "rover.hk.mobility": lambda r, o: tm.mobility_values(r),
    "rover.hk.navigation": lambda r, o: tm.navigation_values(r),
    "rover.hk.drill": lambda r, o: tm.drill_values(r),
    "rover.hk.comms": tm.comms_values,
    "rover.hk.payload": lambda r, o: payload_values(r),
    "rover.sci.ns": lambda r, o: ns_values(r),
    "rover.sci.reiwa": lambda r, o: reiwa_values(r),
    "rover.sci.alis": lambda r, o: alis_values(r),
    "rover.sci.prathima": lambda r, o: prathima_values(r),
    "rover.sci.gpr": lambda r, o: gpr_values(r),
    "rover.sci.ems": lambda r, o: ems_values(r),
    "rover.sci.mir": lambda r, o: mir_values(r),
}


def rover_packet_values(rover: Rover, obsw: OnboardSoftware, packet: str) -> Values:
    """The values of one packet's parameters (a sensor-stuck fault's frozen value applied)."""
    values = PACKETS[packet](rover, obsw)
    for name, frozen in rover.sensor_stuck.items():
        if name in values:
            values[name] = frozen
    return values


def rover_science_enabled(rover: Rover, packet: str) -> bool:
    instruments = SCIENCE_INSTRUMENTS.get(packet, ())
    return any(rover.payload.on[name] for name in instruments)

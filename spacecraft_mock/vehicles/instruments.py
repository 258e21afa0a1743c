"""The rover's instruments (simplified), with values that respond to where the rover is.

- NS (neutron spectrometer): 60 s bins; the epithermal rate drops as hydrogen rises (seeds: 20/15
  counts/s over dry soil), the on-board WEH estimate inverts that, with Poisson noise.
- REIWA: LTGA heats a drilled sample in its oven (+100 W) and weighs the water released; ADORE
  measures the vapour and its delta D; TRITON scans masses; ISAP takes a Raman ratio.
- ALIS, PRATHIMA, GPR, EMS-L, MIR: scene and soil properties from the terrain model.

A latch-up (fault) makes an instrument draw a large current while it is on; the on-board FDIR
powers it off (see the OBSW). Powering it on while the latch-up persists latches it again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from spacecraft_mock import terrain
from spacecraft_mock.vehicles.drill import Sample
from spacecraft_mock.vehicles.events import EventSink

INSTRUMENTS: Final = (
    "NS",
    "LTGA",
    "ADORE",
    "TRITON",
    "ISAP",
    "ALIS",
    "PRATHIMA",
    "GPR",
    "EMS",
    "MIR",
)
POWER_W: Final = {
    "NS": 8.0, "LTGA": 10.0, "ADORE": 15.0, "TRITON": 12.0, "ISAP": 10.0,
    "ALIS": 10.0, "PRATHIMA": 4.0, "GPR": 12.0, "EMS": 8.0, "MIR": 6.0,
}  # fmt: skip
REIWA: Final = ("LTGA", "ADORE", "TRITON", "ISAP")
LATCHUP_CURRENT_A: Final = 2.5
OVEN_POWER_W: Final = 100.0
OVEN_RAMP_C_S: Final = 20.0 / 60.0
SAMPLE_MASS_MG: Final = 400.0


@dataclass(slots=True)
class NsState:
    bin_s: float = 60.0
    elapsed: float = 0.0
    weh_sum: float = 0.0
    thermal_cps: float = 20.0
    epithermal_cps: float = 15.0
    weh: float = 0.0


@dataclass(slots=True)
class ReiwaState:
    state: str = "OFF"
    oven_c: float = -10.0
    oven_target_c: float = 600.0
    mass_loss_mg: float = 0.0
    water_wt_pct: float = 0.01
    adore_h2o_ppmv: float = 100.0
    adore_delta_d: float = 0.0
    adore_pressure_hpa: float = 1.0
    triton: dict[int, float] = field(
        default_factory=lambda: {2: 2e-13, 17: 1e-13, 18: 2e-13, 28: 1.5e-13, 44: 1e-13}
    )
    isap_ratio: float = 0.0
    timer: float = 0.0
    sample: Sample | None = None


class RoverPayload:
    def __init__(self, rng: np.random.Generator, dry_thermal: float, dry_epithermal: float) -> None:
        self.rng = rng
        self.dry_thermal = dry_thermal
        self.dry_epithermal = dry_epithermal
        self.on: dict[str, bool] = {name: name in ("NS", "GPR") for name in INSTRUMENTS}
        self.latch_fault: dict[str, bool] = dict.fromkeys(INSTRUMENTS, False)
        self.latchup_count = 0
        self.ns = NsState()
        self.reiwa = ReiwaState()
        self.alis_exposure_ms = 200
        self.gpr_traces = 0
        self.gpr_stack = 16
        self.ems_scans = 0
        self.prathima_depth = 0.0
        self.prathima_heater_w = 0.0
        self.prathima_timer = 0.0
        self.measuring: dict[str, float] = {}
        """Instrument -> seconds left of a commanded measurement."""

    # ------------------------------------------------------------------ power
    def power(self, name: str, on: bool, events: EventSink) -> None:
        if self.on[name] == on:
            return
        self.on[name] = on
        events.raise_event(
            "rover.payload.instrument_on" if on else "rover.payload.instrument_off", instrument=name
        )
        if not on:
            self.measuring.pop(name, None)
            if name == "LTGA":
                self.reiwa.oven_target_c = -10.0

    def latched(self) -> list[str]:
        """Instruments drawing a latch-up current now."""
        return [n for n in INSTRUMENTS if self.on[n] and self.latch_fault[n]]

    @property
    def oven_on(self) -> bool:
        return self.reiwa.state == "LTGA_HEATING"

    @property
    def power_w(self) -> float:
        total = sum(POWER_W[n] for n in INSTRUMENTS if self.on[n])
        total += 28.0 * LATCHUP_CURRENT_A * len(self.latched())
        if self.oven_on:
            total += OVEN_POWER_W
        return total + self.prathima_heater_w

    @property
    def bus_current_a(self) -> float:
        return self.power_w / 28.0

    def reiwa_state(self) -> str:
        if not any(self.on[n] for n in REIWA):
            return "OFF"
        return self.reiwa.state if self.reiwa.state != "OFF" else "IDLE"

    # ------------------------------------------------------------------ measurements
    def start_measurement(self, name: str, seconds: float, events: EventSink) -> None:
        self.measuring[name] = seconds
        events.raise_event("rover.payload.measurement_started", instrument=name)
        r = self.reiwa
        if name == "LTGA":
            r.state, r.mass_loss_mg = "LTGA_HEATING", 0.0
        elif name == "ADORE":
            r.state = "ADORE_MEASURING"
        elif name == "TRITON":
            r.state = "TRITON_SCANNING"
        elif name == "ISAP":
            r.state = "ISAP_MEASURING"
        elif name == "PRATHIMA":
            self.prathima_timer = seconds

    def load_sample(self, sample: Sample) -> None:
        self.reiwa.sample = sample

    def step(self, dt: float, x: float, y: float, moved_m: float, events: EventSink) -> None:
        self._ns_step(dt, x, y)
        self._reiwa_step(dt)
        if self.on["GPR"]:
            self.gpr_traces += int(abs(moved_m) / 0.02) + (1 if moved_m == 0 else 0)
        self.prathima_heater_w = 0.0
        if self.prathima_timer > 0 and self.on["PRATHIMA"]:
            self.prathima_timer -= dt
            self.prathima_depth = min(0.05, self.prathima_depth + 0.01 * dt)
            self.prathima_heater_w = 0.25
        elif self.prathima_depth > 0 and self.prathima_timer <= 0:
            self.prathima_depth = max(0.0, self.prathima_depth - 0.01 * dt)
        for name in list(self.measuring):
            self.measuring[name] -= dt
            if self.measuring[name] <= 0 or not self.on[name]:
                del self.measuring[name]
                if self.on[name]:
                    self._complete(name, x, y, events)

    def _complete(self, name: str, x: float, y: float, events: EventSink) -> None:
        r = self.reiwa
        if name in REIWA:
            r.state = "IDLE"
        if name == "LTGA":
            r.oven_target_c = -10.0
        if name == "EMS":
            self.ems_scans += 1
        if name == "ADORE":
            r.adore_delta_d = self._delta_d(x, y)
        events.raise_event("rover.payload.measurement_complete", instrument=name)

    def _ns_step(self, dt: float, x: float, y: float) -> None:
        ns = self.ns
        if not self.on["NS"]:
            ns.elapsed = ns.weh_sum = 0.0
            return
        ns.elapsed += dt
        ns.weh_sum += terrain.weh_wt_pct(x, y) * dt
        if ns.elapsed >= ns.bin_s:
            weh = ns.weh_sum / ns.elapsed
            epi_rate = self.dry_epithermal / (1.0 + 0.25 * weh)
            thermal_rate = self.dry_thermal * (1.0 + 0.08 * weh)
            epi = float(self.rng.poisson(epi_rate * ns.elapsed)) / ns.elapsed
            thermal = float(self.rng.poisson(thermal_rate * ns.elapsed)) / ns.elapsed
            ns.epithermal_cps, ns.thermal_cps = epi, thermal
            ns.weh = min(2.0, max(0.0, (self.dry_epithermal / max(epi, 1.0) - 1.0) / 0.25))
            ns.elapsed = ns.weh_sum = 0.0

    def _reiwa_step(self, dt: float) -> None:
        r = self.reiwa
        target = r.oven_target_c if self.oven_on and self.on["LTGA"] else -10.0
        if r.oven_c < target:
            r.oven_c = min(target, r.oven_c + OVEN_RAMP_C_S * dt)
        else:
            r.oven_c = max(target, r.oven_c - 0.5 * dt)
        sample = r.sample
        water = sample.water_wt_pct if sample is not None else 0.01
        if self.oven_on:
            released = min(1.0, max(0.0, (r.oven_c - 80.0) / 450.0))
            r.mass_loss_mg = SAMPLE_MASS_MG * water / 100.0 * released
            r.water_wt_pct = max(0.01, water * released)
            r.adore_h2o_ppmv = 100.0 + 3800.0 * water * released
            r.adore_pressure_hpa = 1.0 + 9.0 * water * released
            for mz, share in ((2, 0.1), (17, 0.2), (18, 1.0), (28, 0.05), (44, 0.03)):
                r.triton[mz] = 2e-13 + 1.8e-10 * water * released * share
            r.isap_ratio = min(2.0, 0.35 * water)

    def _delta_d(self, x: float, y: float) -> float:
        near = math.exp(-max(0.0, terrain.psr_distance(x, y)) / 200.0)
        return max(-100.0, min(100.0, -60.0 + 120.0 * near + float(self.rng.normal(0.0, 8.0))))

    # ------------------------------------------------------------------ scene products
    def alis(self, x: float, y: float, lit: float) -> dict[str, float]:
        hydration = 0.04 * terrain.weh_wt_pct(x, y) * (0.6 + 0.4 * lit)
        base = 0.09 + 0.05 * lit
        bands = {750: 1.0, 1250: 1.15, 1500: 1.2, 2000: 1.3, 2500: 1.35, 2900: 1.4}
        out = {
            f"{nm}nm": min(0.3, max(0.05, base * k * (1.0 - (hydration if nm >= 2900 else 0.0))))
            for nm, k in bands.items()
        }
        out["water_band_depth"] = min(0.2, hydration + abs(float(self.rng.normal(0.0, 0.003))))
        return out

    def mir(
        self, x: float, y: float, sun_el: float, sun_az: float, lit: float
    ) -> tuple[float, float, float]:
        mean = terrain.surface_temperature_k(x, y, sun_el, sun_az, lit > 0.5)
        psr_in_view = terrain.psr_distance(x, y) < 400.0
        low = 40.0 + 20.0 * max(0.0, terrain.psr_distance(x, y)) / 400.0 if psr_in_view else 95.0
        high = min(340.0, mean + 45.0 * lit)
        noise = float(self.rng.normal(0.0, 1.0))
        return max(150.0, mean + noise), max(30.0, min(low, mean - 20.0)), max(200.0, high)

    def ems(self, x: float, y: float, lit: float, drilling: bool) -> dict[int, float]:
        water = 1e-12 * (1.0 + 2.0 * terrain.weh_wt_pct(x, y)) * (3.0 if drilling else 1.0)
        wobble = 1.0 + 0.05 * float(self.rng.normal())
        return {
            2: 8e-12 * wobble,
            4: (3e-11 + 2e-11 * lit) * wobble,
            18: water * wobble,
            20: 1.5e-11 * wobble,
            40: (4e-12 + 3e-12 * (1.0 - lit)) * wobble,
            44: 2e-13 * wobble,
        }

    def prathima(self, x: float, y: float, surface_k: float) -> tuple[float, float, float]:
        weh = terrain.weh_wt_pct(x, y)
        permittivity = min(4.0, max(2.0, 2.6 + 0.5 * weh + float(self.rng.normal(0.0, 0.02))))
        conductivity = min(0.01, max(0.001, 0.0015 + 0.0025 * weh))
        probe_k = surface_k - 15.0 * self.prathima_depth / 0.05
        return permittivity, conductivity, probe_k - 273.15

    def gpr(self, x: float, y: float) -> tuple[float, float, int]:
        layers = terrain.gpr_layers(x, y)
        depth, amplitude = layers[0]
        return depth + float(self.rng.normal(0.0, 0.01)), amplitude, len(layers)

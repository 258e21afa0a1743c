"""Solar arrays, a lithium-ion battery and the power balance of one vehicle.

Array output is proportional to the cosine of the Sun's incidence on each vertical panel (seeds:
power.rover_array_output_law), times the lit share of the solar disc, a dust factor and a
per-panel degradation (faults). The battery integrates the balance between 0 and 100 % of its
usable energy; the charge regulator stops charging at the upper state-of-charge limit (trickle) and
shunts the excess. Its voltage is the open-circuit voltage of its cells plus the IR drop.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Final

from spacecraft_mock.environment import incidence_cos

CELLS: Final = 8
"""Cells in series (the MDB's 8-cell lithium-ion string)."""
INTERNAL_RESISTANCE_OHM: Final = 0.06
CHARGE_EFFICIENCY: Final = 0.95
MAX_CHARGE_CURRENT_A: Final = 13.0
BUS_VOLTAGE_V: Final = 28.0
TRICKLE_CURRENT_A: Final = 0.2

# Open-circuit voltage of one cell against state of charge (typical NMC curve, assumed).
_OCV_SOC: Final = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95, 1.0)
_OCV_V: Final = (3.0, 3.3, 3.45, 3.56, 3.64, 3.72, 3.82, 3.95, 4.04, 4.09, 4.15)


def cell_ocv(soc: float) -> float:
    """Open-circuit voltage of one cell at ``soc`` (0-1), interpolated."""
    s = min(1.0, max(0.0, soc))
    i = min(len(_OCV_SOC) - 2, max(0, bisect.bisect_right(_OCV_SOC, s) - 1))
    f = (s - _OCV_SOC[i]) / (_OCV_SOC[i + 1] - _OCV_SOC[i])
    return _OCV_V[i] + f * (_OCV_V[i + 1] - _OCV_V[i])


@dataclass(slots=True)
class Panel:
    """One vertical panel (string) of an array."""

    peak_w: float
    normal_offset_deg: float
    """Azimuth of the panel normal relative to the vehicle's heading."""
    efficiency: float = 1.0
    degradation: float = 1.0
    """1 = healthy; faults lower it."""
    power_w: float = 0.0
    voltage_v: float = 0.0
    current_a: float = 0.0

    def update(self, cos_incidence: float, lit: float, dust: float, temperature_c: float) -> None:
        power = self.peak_w * max(0.0, cos_incidence) * lit * dust * self.degradation
        power *= self.efficiency
        if power < 0.5:
            self.power_w = self.voltage_v = self.current_a = 0.0
            return
        # Maximum-power-point voltage: about 38 V, lower when hot (-0.35 %/K around 25 degC).
        self.voltage_v = 38.0 * (1.0 - 0.0035 * (temperature_c - 25.0)) * (0.9 + 0.1 * lit)
        self.power_w = power
        self.current_a = power / self.voltage_v


@dataclass(slots=True)
class Battery:
    capacity_wh: float
    soc: float
    soc_max: float
    cells: int = CELLS
    failed_cells: int = 0
    current_a: float = 0.0
    voltage_v: float = 0.0
    shunted_w: float = 0.0

    @property
    def energy_wh(self) -> float:
        return self.soc * self.effective_capacity_wh

    @property
    def effective_capacity_wh(self) -> float:
        return self.capacity_wh * (self.cells - self.failed_cells) / self.cells

    def fail_cells(self, count: int) -> None:
        """Short ``count`` more cells: their energy is lost, the string voltage drops."""
        count = max(0, min(self.cells - 1 - self.failed_cells, count))
        self.failed_cells += count

    def restore_cells(self) -> None:
        """Back to a healthy string (the fault's effect cleared, e.g. a cell bypass switched)."""
        self.failed_cells = 0

    def step(self, dt: float, net_w: float) -> None:
        """Charge (``net_w`` > 0) or discharge the battery for ``dt`` seconds."""
        ocv = cell_ocv(self.soc) * (self.cells - self.failed_cells)
        capacity = self.effective_capacity_wh
        self.shunted_w = 0.0
        if net_w > 0:
            # The regulator charges up to the upper state-of-charge limit, then only trickles
            # enough to make up for self-discharge (modelled as nothing) and shunts the rest.
            room_w = (self.soc_max - self.soc) * capacity * 3600.0 / dt / CHARGE_EFFICIENCY
            charge_w = max(0.0, min(net_w, MAX_CHARGE_CURRENT_A * ocv, room_w))
            self.shunted_w = net_w - charge_w
            self.soc = min(
                self.soc_max, self.soc + charge_w * CHARGE_EFFICIENCY * dt / 3600.0 / capacity
            )
            self.current_a = charge_w / ocv if charge_w > 0 else TRICKLE_CURRENT_A * 0.1
        else:
            self.soc = max(0.0, self.soc + net_w * dt / 3600.0 / capacity)
            self.current_a = net_w / ocv
        self.voltage_v = ocv + self.current_a * INTERNAL_RESISTANCE_OHM


@dataclass(slots=True)
class PowerSystem:
    """Arrays, battery and the bus of one vehicle."""

    panels: list[Panel]
    battery: Battery
    dust_factor: float = 1.0
    regulator_fault: bool = False
    array_w: float = 0.0
    load_w: float = 0.0
    bus_voltage_v: float = BUS_VOLTAGE_V
    loads: dict[str, float] = field(default_factory=dict)

    def step(
        self,
        dt: float,
        heading_deg: float,
        sun_el: float,
        sun_az: float,
        lit: float,
        panel_temperature_c: float,
        loads: dict[str, float],
        cos_override: float | None = None,
    ) -> None:
        """Advance by ``dt`` with the Sun at (``sun_el``, ``sun_az``) and the given loads (W)."""
        for panel in self.panels:
            if cos_override is None:
                cos_inc = incidence_cos(sun_el, sun_az, heading_deg + panel.normal_offset_deg)
            else:
                cos_inc = cos_override
            panel.update(cos_inc, lit, self.dust_factor, panel_temperature_c)
        self.array_w = sum(p.power_w for p in self.panels)
        self.loads = loads
        self.load_w = sum(loads.values())
        self.battery.step(dt, self.array_w - self.load_w)
        droop = 0.0002 * self.load_w
        self.bus_voltage_v = BUS_VOLTAGE_V - droop if self.battery.soc > 0.02 else 22.0

    @property
    def balance_w(self) -> float:
        return self.array_w - self.load_w

    @property
    def charge_state(self) -> str:
        if self.regulator_fault or self.battery.failed_cells:
            return "FAULT"
        current = self.battery.current_a
        if self.battery.soc >= self.battery.soc_max - 1e-4 and current >= 0:
            return "TRICKLE"
        if current > 0.3:
            return "CHARGING"
        if current < -0.3:
            return "DISCHARGING"
        return "IDLE"

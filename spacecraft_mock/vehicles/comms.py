"""Vehicle radios: the rover's X-band HGA/LGA and its relay radio, the lander's X-band and relay.

Which path a frame takes to Earth (HGA direct, relay through the lander, LGA direct) and the link
budgets are the space link's business (:mod:`spacecraft_mock.link`); this module holds the radio
state the on-board software controls and reports: antenna selection, HGA pointing, relay RSSI.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from spacecraft_mock import terrain

HGA_BEAMWIDTH_DEG: Final = 12.4
"""3 dB beamwidth of a 0.2 m dish at 8.45 GHz (70 lambda / D)."""
RATES_BPS: Final = {
    "RATE_16K": 16_000,
    "RATE_64K": 64_000,
    "RATE_256K": 256_000,
    "RATE_1M": 1_000_000,
    "RATE_2M": 2_000_000,
}
RELAY_TX_DBM: Final = 20.0
RELAY_ANTENNA_GAIN_DB: Final = 3.0
RELAY_THRESHOLD_DBM: Final = -85.0
RELAY_FLOOR_DBM: Final = -100.0
LOS_BLOCKED_LOSS_DB: Final = 25.0


def pointing_loss_db(error_deg: float) -> float:
    """Gain lost by pointing ``error_deg`` off boresight (parabolic main-lobe approximation)."""
    return min(40.0, 12.0 * (error_deg / HGA_BEAMWIDTH_DEG) ** 2)


@functools.lru_cache(maxsize=4096)
def _blocked(x_dm: int, y_dm: int) -> bool:
    """Whether the terrain cuts the line of sight between the rover and the lander."""
    x, y = x_dm / 10.0, y_dm / 10.0
    h_rover = terrain.height(x, y) + 1.5
    h_lander = terrain.height(0.0, 0.0) + 3.0
    for k in range(1, 8):
        f = k / 8.0
        ground = terrain.height(x * (1 - f), y * (1 - f))
        if ground > h_rover + (h_lander - h_rover) * f - 0.3:
            return True
    return False


def relay_rssi_dbm(x: float, y: float, rng: np.random.Generator) -> float:
    """Received relay signal at distance hypot(x, y) from the lander, with terrain blockage."""
    d = max(1.0, math.hypot(x, y))
    fspl = 40.05 + 20.0 * math.log10(d)  # 2.4 GHz free-space loss at d metres
    blocked = LOS_BLOCKED_LOSS_DB if _blocked(round(x * 10.0), round(y * 10.0)) else 0.0
    rssi = RELAY_TX_DBM + 2 * RELAY_ANTENNA_GAIN_DB - fspl - blocked + float(rng.normal(0.0, 0.8))
    return max(RELAY_FLOOR_DBM, min(-40.0, rssi))


@dataclass(slots=True)
class RoverRadio:
    rng: np.random.Generator
    antenna: str = "HGA"
    hga_stowed: bool = False
    hga_tracking: bool = True
    hga_fixed: tuple[float, float] | None = None
    hga_offset_fault_deg: float = 0.0
    hga_azimuth: float = 0.0
    hga_elevation: float = 0.0
    pointing_error: float = 0.05
    rate: str = "RATE_2M"
    relay_rssi: float = -60.0
    relay_up: bool = True
    relay_fault: bool = False
    tc_frames_received: int = 0
    transmitter_on: bool = True

    def update(
        self, heading: float, pitch: float, earth_az: float, earth_el: float, x: float, y: float,
        lander_relay_on: bool,
    ) -> None:  # fmt: skip
        body_az = (earth_az - heading + 180.0) % 360.0 - 180.0
        body_el = earth_el - pitch * math.cos(math.radians(body_az))
        if self.hga_stowed:
            self.hga_azimuth, self.hga_elevation = 0.0, 90.0
            self.pointing_error = 0.0
        elif self.hga_fixed is not None:
            self.hga_azimuth, self.hga_elevation = self.hga_fixed
            self.pointing_error = _angle(self.hga_fixed, (body_az, body_el))
        else:
            jitter = abs(float(self.rng.normal(0.0, 0.04)))
            self.hga_azimuth = body_az + self.hga_offset_fault_deg
            self.hga_elevation = body_el
            self.pointing_error = 0.03 + jitter + self.hga_offset_fault_deg
        self.hga_tracking = (
            not self.hga_stowed and self.hga_fixed is None and self.pointing_error < 0.5
        )
        rssi = relay_rssi_dbm(x, y, self.rng)
        if self.relay_fault or not lander_relay_on:
            rssi = RELAY_FLOOR_DBM + float(self.rng.normal(0.0, 0.5))
        self.relay_rssi = rssi
        self.relay_up = (
            lander_relay_on
            and not self.relay_fault
            and math.hypot(x, y) <= 1000.0
            and rssi > RELAY_THRESHOLD_DBM
        )

    @property
    def hga_usable(self) -> bool:
        """The HGA is selected, deployed and points within 3 deg of the Earth."""
        return self.antenna == "HGA" and not self.hga_stowed and self.pointing_error < 3.0

    @property
    def hga_rate_bps(self) -> int:
        return RATES_BPS[self.rate]

    @property
    def power_w(self) -> float:
        radio = 8.0 if self.relay_up else 5.0
        return radio + (24.0 if self.transmitter_on else 2.0)


def _angle(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Angle between two (azimuth, elevation) directions in degrees."""
    az1, el1 = map(math.radians, a)
    az2, el2 = map(math.radians, b)
    c = math.sin(el1) * math.sin(el2) + math.cos(el1) * math.cos(el2) * math.cos(az1 - az2)
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


@dataclass(slots=True)
class LanderRadio:
    rng: np.random.Generator
    relay_enabled: bool = True
    xband_on: bool = True
    rate: str = "RATE_2M"
    pointing_error: float = 0.03
    frames_relayed: int = 0
    relay_frame_errors: int = 0
    tc_frames_received: int = 0
    xband_fault: bool = False

    def update(self) -> None:
        self.pointing_error = 0.02 + abs(float(self.rng.normal(0.0, 0.02)))

    @property
    def rate_bps(self) -> int:
        return RATES_BPS[self.rate]

    @property
    def power_w(self) -> float:
        return (35.0 if self.xband_on else 4.0) + (12.0 if self.relay_enabled else 0.0)

"""The environment at the site: Sun and Earth from mission.geometry, horizons from the terrain.

One :class:`Environment` per world. Each physics step asks it for an :class:`EnvSample` (the
interpolated geometry at that time). Whether the Sun or the Earth is visible from a point of the
local frame combines the geometry with the terrain horizon towards the body's azimuth and the
far-field horizon of the ridge (``WorldConfig.sun_horizon_dip_deg``). Faults can raise the Sun's
horizon (``early_darkness``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from mission.facts import MissionFacts
from mission.geometry import GeometrySample, GeometryTable, site_earth_mask_deg
from spacecraft_mock import terrain

SUN_DIAMETER_DEG: Final = 0.53
LANDER_EYE_M: Final = 3.0
"""Height of the lander's solar panels and antenna above the ground."""
ROVER_EYE_M: Final = 1.5
"""Height of the rover's panel and high-gain antenna above the ground."""
_WINDOW_S: Final = 6 * 3600.0


@lru_cache(maxsize=65536)
def _horizon(x_dm: int, y_dm: int, az_cdeg: int, eye_cm: int) -> float:
    return terrain.horizon_deg(x_dm / 10.0, y_dm / 10.0, az_cdeg / 100.0, eye_cm / 100.0)


def local_horizon_deg(x: float, y: float, azimuth_deg: float, eye_m: float) -> float:
    """The terrain horizon, cached on a 10 cm / 0.25 deg grid (the rover moves slowly)."""
    az = round((azimuth_deg % 360.0) * 4.0) * 25
    return _horizon(round(x * 10.0), round(y * 10.0), az, round(eye_m * 100.0))


@dataclass(frozen=True, slots=True)
class EnvSample:
    """Geometry at one time plus the horizon state that faults may change."""

    geometry: GeometrySample
    sun_horizon_raise_deg: float
    far_horizon_deg: float
    earth_mask_deg: float

    @property
    def t(self) -> float:
        return self.geometry.t

    @property
    def sun_el(self) -> float:
        return self.geometry.sun_el_deg

    @property
    def sun_az(self) -> float:
        return self.geometry.sun_az_deg

    @property
    def earth_el(self) -> float:
        return self.geometry.earth_el_deg

    @property
    def earth_az(self) -> float:
        return self.geometry.earth_az_deg

    @property
    def light_time_s(self) -> float:
        return self.geometry.light_time_s

    def sun_horizon(self, x: float, y: float, eye_m: float) -> float:
        local = local_horizon_deg(x, y, self.sun_az, eye_m)
        return max(self.far_horizon_deg, local) + self.sun_horizon_raise_deg

    def sunlit_fraction(self, x: float, y: float, eye_m: float) -> float:
        """Share of the solar disc above the horizon (0 dark, 1 fully lit), linear in between."""
        if terrain.in_psr(x, y):
            return 0.0
        above = self.sun_el - self.sun_horizon(x, y, eye_m)
        return min(1.0, max(0.0, above / SUN_DIAMETER_DEG + 0.5))

    def earth_visible(self, x: float, y: float, eye_m: float) -> bool:
        """The Earth above the site's mask and above the local terrain towards it."""
        if self.earth_el < self.earth_mask_deg:
            return False
        return self.earth_el >= local_horizon_deg(x, y, self.earth_az, eye_m)


class Environment:
    """Geometry lookups for the world, with the horizon changes faults make."""

    def __init__(
        self, start: float, facts: MissionFacts, *, far_horizon_deg: float, step_s: float
    ) -> None:
        self.table = GeometryTable(start - step_s, start + _WINDOW_S, step_s=step_s, facts=facts)
        self.far_horizon_deg = far_horizon_deg
        self.earth_mask_deg = site_earth_mask_deg(facts)
        self.sun_horizon_raise_deg = 0.0
        self.earth_mask_raise_deg = 0.0
        self.station_ids: tuple[str, ...] = self.table.station_ids

    def sample(self, t: float) -> EnvSample:
        return EnvSample(
            geometry=self.table.at(t),
            sun_horizon_raise_deg=self.sun_horizon_raise_deg,
            far_horizon_deg=self.far_horizon_deg,
            earth_mask_deg=self.earth_mask_deg + self.earth_mask_raise_deg,
        )


def incidence_cos(sun_el_deg: float, sun_az_deg: float, normal_az_deg: float) -> float:
    """Cosine of the Sun's incidence on a vertical panel whose normal points to ``normal_az``."""
    return math.cos(math.radians(sun_el_deg)) * math.cos(math.radians(sun_az_deg - normal_az_deg))

"""A deterministic model of the ground around the landing site.

A local frame in metres with the lander at the origin, x to the east and y to the local north
(towards the equator along the site's meridian, as in mission.geometry's azimuths). The exploration
area is 1 × 1 km (x, y in -500..500). The model is analytic, so it extends smoothly past the area
(horizons look further than 500 m). It is the same for every seed: it is the site, not weather.

- A broad ridge through the origin (the lit landing site sits on its crest).
- A crater to the south-east whose floor is a permanently shadowed region (PSR), with a raised rim
  and walls steeper than the rover can climb (25 deg).
- A few low hills, and rocks (the larger ones are hazards and landmarks for image matching).
- Water-equivalent hydrogen (WEH) rising towards the PSR (0-2 wt%), an ice table that comes closer
  to the surface there, and harder, ice-cemented regolith below it.

Plain ``math`` instead of numpy: the simulator evaluates single points every step, where numpy's
per-call overhead would dominate.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from typing import Final

MOON_RADIUS_M: Final = 1_737_400.0
AREA_HALF_M: Final = 500.0

RIDGE_AXIS_DEG: Final = 60.0
"""Azimuth of the ridge crest (clockwise from north)."""
RIDGE_HEIGHT_M: Final = 50.0
RIDGE_WIDTH_M: Final = 600.0
RIDGE_LENGTH_M: Final = 900.0

PSR_CENTRE: Final = (330.0, -380.0)
PSR_RADIUS_M: Final = 170.0
PSR_DEPTH_M: Final = 48.0
RIM_HEIGHT_M: Final = 6.0
RIM_WIDTH_M: Final = 45.0

WEH_BACKGROUND: Final = 0.15
WEH_PEAK: Final = 1.9
WEH_DECAY_M: Final = 260.0

_TERRAIN_SEED: Final = 20280923
"""The terrain is fixed (it is the site); this seed only lays out hills and rocks once."""

_HORIZON_DISTANCES_M: Final = (15.0, 30.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1600.0)


@dataclass(frozen=True, slots=True)
class Rock:
    name: str
    x: float
    y: float
    radius_m: float

    @property
    def hazard(self) -> bool:
        """Rocks wider than the rover's ground clearance allows (about 0.35 m) must be avoided."""
        return self.radius_m >= 0.35


@dataclass(frozen=True, slots=True)
class Hill:
    x: float
    y: float
    height_m: float
    width_m: float


def _layout() -> tuple[tuple[Hill, ...], tuple[Rock, ...]]:
    rng = random.Random(_TERRAIN_SEED)
    hills: list[Hill] = []
    while len(hills) < 6:
        x, y = rng.uniform(-700, 700), rng.uniform(-700, 700)
        # Keep the lit plateau around the lander and the drive corridor free of hills.
        if math.hypot(x, y) < 180 or math.hypot(x - PSR_CENTRE[0], y - PSR_CENTRE[1]) < 260:
            continue
        hills.append(Hill(x, y, rng.uniform(2.0, 5.0), rng.uniform(60.0, 110.0)))
    rocks = []
    for i in range(60):
        x, y = rng.uniform(-480, 480), rng.uniform(-480, 480)
        radius = min(2.5, rng.paretovariate(2.2) * 0.15)
        rocks.append(Rock(f"rock_{i:02d}", x, y, radius))
    return tuple(hills), tuple(rocks)


HILLS, ROCKS = _layout()
LANDMARKS: Final = tuple(r for r in ROCKS if r.radius_m >= 0.6)
"""Boulders big enough to be recognised in orbital images (landmark matching)."""


def _crater(x: float, y: float) -> float:
    r = math.hypot(x - PSR_CENTRE[0], y - PSR_CENTRE[1])
    bowl = -PSR_DEPTH_M * (1.0 - (r / PSR_RADIUS_M) ** 2) if r < PSR_RADIUS_M else 0.0
    rim = RIM_HEIGHT_M * math.exp(-(((r - PSR_RADIUS_M) / RIM_WIDTH_M) ** 2))
    return bowl + rim


def height(x: float, y: float) -> float:
    """Terrain height in metres relative to the lander's foot."""
    axis = math.radians(RIDGE_AXIS_DEG)
    # An elongated dome: the crest runs along the axis and falls off slowly along it.
    across = x * math.cos(axis) - y * math.sin(axis)
    along = x * math.sin(axis) + y * math.cos(axis)
    shape = math.exp(-((across / RIDGE_WIDTH_M) ** 2) - (along / RIDGE_LENGTH_M) ** 2)
    h = RIDGE_HEIGHT_M * (shape - 1.0)
    h += _crater(x, y)
    for hill in HILLS:
        d2 = (x - hill.x) ** 2 + (y - hill.y) ** 2
        h += hill.height_m * math.exp(-d2 / (hill.width_m * hill.width_m))
    return h


def gradient(x: float, y: float) -> tuple[float, float]:
    """(dh/dx, dh/dy) by central differences over 0.5 m, on a 1 cm grid (cached: the rover
    asks about the same spot many times while it stands or creeps)."""
    return _gradient(round(x * 100.0), round(y * 100.0))


@functools.lru_cache(maxsize=4096)
def _gradient(x_cm: int, y_cm: int) -> tuple[float, float]:
    x, y, step = x_cm / 100.0, y_cm / 100.0, 0.5
    dx = (height(x + step, y) - height(x - step, y)) / (2 * step)
    dy = (height(x, y + step) - height(x, y - step)) / (2 * step)
    return dx, dy


def slope_deg(x: float, y: float) -> float:
    dx, dy = gradient(x, y)
    return math.degrees(math.atan(math.hypot(dx, dy)))


def pitch_roll_deg(x: float, y: float, heading_deg: float) -> tuple[float, float]:
    """Body pitch (nose up positive) and roll (right side down positive) on the local slope."""
    dx, dy = gradient(x, y)
    h = math.radians(heading_deg)
    forward = dx * math.sin(h) + dy * math.cos(h)  # rise per metre ahead
    right = dx * math.cos(h) - dy * math.sin(h)  # rise per metre to the right
    return math.degrees(math.atan(forward)), -math.degrees(math.atan(right))


def horizon_deg(x: float, y: float, azimuth_deg: float, eye_m: float = 1.5) -> float:
    """Elevation of the local terrain horizon seen from (x, y) towards ``azimuth_deg``.

    Sampled along the ray up to 1.6 km, with the Moon's curvature. It does not include the far
    horizon of the ridge (see WorldConfig.sun_horizon_dip_deg); callers take the larger of both.
    """
    a = math.radians(azimuth_deg)
    sa, ca = math.sin(a), math.cos(a)
    h0 = height(x, y) + eye_m
    best = -90.0
    for d in _HORIZON_DISTANCES_M:
        rise = height(x + d * sa, y + d * ca) - h0 - d * d / (2.0 * MOON_RADIUS_M)
        best = max(best, math.degrees(math.atan2(rise, d)))
    return best


def psr_distance(x: float, y: float) -> float:
    """Distance from the PSR's edge in metres (negative inside it)."""
    return math.hypot(x - PSR_CENTRE[0], y - PSR_CENTRE[1]) - PSR_RADIUS_M


def in_psr(x: float, y: float) -> bool:
    return psr_distance(x, y) < 0.0


def weh_wt_pct(x: float, y: float) -> float:
    """Water-equivalent hydrogen of the top metre, wt% (0-2): more towards the PSR."""
    d = max(0.0, psr_distance(x, y))
    patchy = 0.06 * math.sin(x / 37.0) * math.cos(y / 53.0)
    value = WEH_BACKGROUND + (WEH_PEAK - WEH_BACKGROUND) * math.exp(-d / WEH_DECAY_M) + patchy
    return min(2.0, max(0.0, value))


def ice_table_depth_m(x: float, y: float) -> float:
    """Depth below which the regolith is ice-bearing (shallower towards the PSR)."""
    d = max(0.0, psr_distance(x, y))
    return 0.15 + 0.75 * (1.0 - math.exp(-d / 300.0))


def water_wt_pct(x: float, y: float, depth_m: float) -> float:
    """Water content of the regolith at ``depth_m`` (what LTGA measures), 0.01-5 wt%."""
    dry = 0.02 + 0.05 * weh_wt_pct(x, y)
    wet = min(5.0, 0.4 + 2.4 * weh_wt_pct(x, y))
    z0 = ice_table_depth_m(x, y)
    share = 1.0 / (1.0 + math.exp(-(depth_m - z0) / 0.06))
    return min(5.0, max(0.01, dry + (wet - dry) * share))


def hardness(x: float, y: float, depth_m: float) -> float:
    """Relative drilling resistance (1 = loose regolith; ice-cemented layers are harder)."""
    compaction = 1.0 + 0.6 * min(depth_m, 1.5)
    return compaction + 0.35 * water_wt_pct(x, y, depth_m)


def gpr_layers(x: float, y: float) -> list[tuple[float, float]]:
    """Subsurface reflectors (depth m, amplitude dB against the direct wave), strongest first."""
    ice = ice_table_depth_m(x, y)
    layers = [
        (ice, -18.0 - 6.0 * (1.0 - weh_wt_pct(x, y) / 2.0)),
        (1.8 + 0.4 * math.sin(x / 90.0), -32.0),
        (3.6 + 0.6 * math.cos(y / 120.0), -45.0),
    ]
    if abs(math.sin(x / 61.0) * math.cos(y / 47.0)) > 0.7:
        layers.append((0.6 + 0.2 * math.sin(y / 23.0), -38.0))
    layers.sort(key=lambda layer: layer[1], reverse=True)
    return layers


def nearest_rock(x: float, y: float) -> tuple[Rock, float]:
    """The closest rock and the distance from (x, y) to its edge."""
    best = ROCKS[0]
    best_d = math.inf
    for rock in ROCKS:
        d = math.hypot(rock.x - x, rock.y - y) - rock.radius_m
        if d < best_d:
            best, best_d = rock, d
    return best, best_d


def hazard_ahead(x: float, y: float, heading_deg: float, lookahead_m: float = 3.0) -> bool:
    """Whether a hazardous rock lies in the drive corridor (1.6 m wide) within ``lookahead_m``."""
    h = math.radians(heading_deg)
    sh, ch = math.sin(h), math.cos(h)
    for rock in ROCKS:
        if not rock.hazard:
            continue
        rx, ry = rock.x - x, rock.y - y
        along = rx * sh + ry * ch
        if 0.0 < along < lookahead_m + rock.radius_m:
            across = abs(rx * ch - ry * sh)
            if across < 0.8 + rock.radius_m:
                return True
    return False


def surface_temperature_k(
    x: float, y: float, sun_elevation_deg: float, sun_azimuth_deg: float, lit: bool
) -> float:
    """Radiative-equilibrium surface temperature (PSR floor 30-40 K, sunlit 200-320 K).

    Sunlit ground at the pole sees the Sun at grazing incidence; the local slope facing the Sun
    matters more than anything else.
    """
    if in_psr(x, y):
        return 35.0 + 3.0 * math.sin(x / 40.0)
    if not lit:
        return 95.0
    dx, dy = gradient(x, y)
    a = math.radians(sun_azimuth_deg)
    toward_sun = dx * math.sin(a) + dy * math.cos(a)  # rise towards the Sun: faces away from it
    tilt = -math.degrees(math.atan(toward_sun))
    incidence = math.radians(max(0.5, sun_elevation_deg + tilt + 6.0))
    # 386 K = (S (1 - A) / (eps sigma))^(1/4) for S = 1361 W/m2, A = 0.12, eps = 0.95; the +6 deg
    # stands in for the surface roughness that lets some facets face the Sun.
    return max(200.0, min(320.0, 386.0 * math.pow(math.sin(incidence), 0.25)))

"""A cheap per-step geometry lookup for the simulator.

The simulator needs the Sun, the Earth and every station's view of the Moon at every simulated
second. Calling skyfield that often would dominate the run time, so :class:`GeometryTable`
computes the geometry for a window once, with vectorised skyfield calls on a coarse grid
(60 s by default), and interpolates linearly in between. Over 60 s the Moon moves at most 0.25 deg
in a station's sky and the Earth a few thousandths of a degree in the site's, so the linear error
is a few millidegrees at worst.

When the simulated time leaves the window, the table recomputes a window of the same length
that starts just before that time (or ends just after it when time runs backwards), so a
simulation can run indefinitely without planning its windows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from mission.facts import MissionFacts, Site, load_facts
from mission.geometry.ephemeris import SPEED_OF_LIGHT_KM_S, FloatArray
from mission.geometry.site import site_geometry
from mission.geometry.stations import (
    GroundStation,
    moon_from_stations,
    resolve_stations,
    site_earth_mask_deg,
)

__all__ = ["GeometrySample", "GeometryTable", "StationView"]

# Column layout of the table: five site columns, then three per station.
_SUN_EL, _SUN_AZ, _EARTH_EL, _EARTH_AZ, _RANGE = range(5)
_SITE_COLUMNS = 5
_STATION_COLUMNS = 3  # Moon elevation, Moon azimuth (unwrapped), range to the site


@dataclass(frozen=True, slots=True)
class StationView:
    """One station's view of the Moon at one time."""

    station_id: str
    moon_el_deg: float
    moon_az_deg: float
    range_km: float
    light_time_s: float
    visible: bool  # Moon above the station mask AND Earth above the site mask


@dataclass(frozen=True, slots=True)
class GeometrySample:
    """The geometry at one time (Unix seconds, UTC)."""

    t: float
    sun_el_deg: float
    sun_az_deg: float
    earth_el_deg: float
    earth_az_deg: float
    range_km: float  # Earth centre to site
    light_time_s: float  # one way, Earth centre to site
    earth_above_mask: bool
    stations: tuple[StationView, ...]

    def station(self, station_id: str) -> StationView:
        """The view of one station; KeyError when the table does not hold it."""
        for view in self.stations:
            if view.station_id == station_id:
                return view
        raise KeyError(f"station {station_id!r} is not in this geometry table")

    @property
    def visible_station_ids(self) -> tuple[str, ...]:
        """Ids of the stations that can talk to the site now."""
        return tuple(view.station_id for view in self.stations if view.visible)


class GeometryTable:
    """Precomputed, interpolated geometry over a window that follows the queried time."""

    def __init__(
        self,
        start: float,
        end: float,
        step_s: float = 60.0,
        *,
        stations: Iterable[str | GroundStation] | None = None,
        site: Site | None = None,
        facts: MissionFacts | None = None,
    ) -> None:
        if not math.isfinite(step_s) or step_s <= 0:
            raise ValueError(f"step_s must be positive, not {step_s!r}")
        if not end > start:
            raise ValueError(f"end ({end}) must be after start ({start})")
        self._facts = facts or load_facts()
        self._site = site or self._facts.site
        self._stations = resolve_stations(stations, self._facts)
        self._site_mask = site_earth_mask_deg(self._facts)
        self._station_masks = [s.elevation_mask_deg for s in self._stations]
        self._step = float(step_s)
        self._span = max(float(end) - float(start), self._step)
        self.recomputations = 0  # how many windows were computed (the first one included)
        self._start = 0.0
        self._values: FloatArray = np.empty((0, 0))
        self._compute(float(start))

    @property
    def start(self) -> float:
        return self._start

    @property
    def end(self) -> float:
        return self._start + float(self._values.shape[0] - 1) * self._step

    @property
    def step_s(self) -> float:
        return self._step

    @property
    def station_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self._stations)

    def covers(self, t: float) -> bool:
        """Whether ``t`` is inside the current window (no recomputation needed)."""
        return self.start <= t <= self.end

    def at(self, t: float) -> GeometrySample:
        """The interpolated geometry at ``t``; moves the window first when ``t`` is outside it."""
        if not self.covers(t):
            if not math.isfinite(t):
                raise ValueError(f"time must be finite, not {t!r}")
            if t > self.end:
                self._compute(t - self._step)
            else:
                self._compute(t + self._step - self._span)
        position = (t - self._start) / self._step
        index = min(int(position), self._values.shape[0] - 2)
        frac = position - index
        row_a = self._values[index]
        row = row_a + (self._values[index + 1] - row_a) * frac
        v = row.tolist()
        earth_above = v[_EARTH_EL] >= self._site_mask
        views = []
        for k, station in enumerate(self._stations):
            el, az, rng = v[_SITE_COLUMNS + _STATION_COLUMNS * k : _SITE_COLUMNS + 3 * k + 3]
            views.append(
                StationView(
                    station_id=station.id,
                    moon_el_deg=el,
                    moon_az_deg=az % 360.0,
                    range_km=rng,
                    light_time_s=rng / SPEED_OF_LIGHT_KM_S,
                    visible=earth_above and el >= self._station_masks[k],
                )
            )
        return GeometrySample(
            t=float(t),
            sun_el_deg=v[_SUN_EL],
            sun_az_deg=v[_SUN_AZ] % 360.0,
            earth_el_deg=v[_EARTH_EL],
            earth_az_deg=v[_EARTH_AZ] % 360.0,
            range_km=v[_RANGE],
            light_time_s=v[_RANGE] / SPEED_OF_LIGHT_KM_S,
            earth_above_mask=earth_above,
            stations=tuple(views),
        )

    def _compute(self, start: float) -> None:
        """Fill the table for ``[start, start + span]`` (rounded up to whole steps)."""
        count = max(2, math.ceil(self._span / self._step) + 1)
        times = start + self._step * np.arange(count, dtype=np.float64)
        geometry = site_geometry(times, self._site, facts=self._facts)
        values = np.empty((count, _SITE_COLUMNS + _STATION_COLUMNS * len(self._stations)))
        values[:, _SUN_EL] = geometry.sun_el_deg
        # Azimuths are unwrapped so that interpolation never runs the long way round.
        values[:, _SUN_AZ] = np.degrees(np.unwrap(np.radians(geometry.sun_az_deg)))
        values[:, _EARTH_EL] = geometry.earth_el_deg
        values[:, _EARTH_AZ] = np.degrees(np.unwrap(np.radians(geometry.earth_az_deg)))
        values[:, _RANGE] = geometry.earth_range_km
        looks = moon_from_stations(self._stations, times, self._site, facts=self._facts)
        for k, look in enumerate(looks):
            column = _SITE_COLUMNS + _STATION_COLUMNS * k
            values[:, column] = look.elevation_deg
            values[:, column + 1] = np.degrees(np.unwrap(np.radians(look.azimuth_deg)))
            values[:, column + 2] = look.range_km
        self._start = start
        self._values = values
        self.recomputations += 1

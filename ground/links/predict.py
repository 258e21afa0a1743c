"""The ground's own link prediction, from the geometry it shares with the simulator.

- :meth:`LinkPredictor.contacts`: every station's view of the site at a mission time (an
  interpolated :class:`~mission.geometry.GeometryTable`, cheap enough to call every tick), merged
  with the station monitor's ``in_view`` flag into :class:`~ground.commanding.queue.Contact`;
- :meth:`LinkPredictor.next_aos`: the next acquisition of signal of any (or one) station, from
  :func:`~mission.geometry.predict_passes` over a look-ahead window that is cached and recomputed
  when the mission time moves past half of it (a call may take ~0.5 s: run it in a thread);
- :meth:`LinkPredictor.passes` and :meth:`LinkPredictor.earth_elevation`: the ``/passes`` API.

Thread-safe: the table moves its window when asked about a time outside it, so calls are
serialised by a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from ground.links.contact import Contact, NextAos
from ground.links.monitor import MonitorFlags
from mission.facts import MissionFacts
from mission.geometry import (
    ElevationSeries,
    GeometrySample,
    GeometryTable,
    Pass,
    earth_elevation_series,
    ground_stations,
    predict_passes,
)

FAR_SEARCH_DAYS: Final = 35.0
"""How far beyond the look-ahead window the next Earth rise is searched (more than a month)."""
FAR_SEARCH_STEP_S: Final = 600.0


@dataclass(frozen=True, slots=True)
class _PassCache:
    start: float
    end: float
    passes: tuple[Pass, ...]


class LinkPredictor:
    """Station visibility and passes at mission times (see the module docstring)."""

    def __init__(
        self,
        *,
        facts: MissionFacts | None = None,
        stations: Sequence[str] | None = None,
        table_hours: float = 6.0,
        table_step_s: float = 60.0,
        lookahead_hours: float = 72.0,
    ) -> None:
        self._facts = facts
        known = tuple(s.id for s in ground_stations(facts))
        self.station_ids: tuple[str, ...] = tuple(stations) if stations is not None else known
        self._table_hours = table_hours
        self._table_step = table_step_s
        self.lookahead_hours = lookahead_hours
        self._table: GeometryTable | None = None
        self._passes: _PassCache | None = None
        self._far: tuple[float, NextAos | None] | None = None
        self._lock = threading.Lock()

    # --- now -----------------------------------------------------------------------------------
    def sample(self, t: float) -> GeometrySample:
        """The geometry at mission time ``t`` (interpolated)."""
        with self._lock:
            if self._table is None:
                self._table = GeometryTable(
                    t - self._table_step,
                    t + self._table_hours * 3600.0,
                    self._table_step,
                    stations=self.station_ids,
                    facts=self._facts,
                )
            return self._table.at(t)

    def contacts(
        self, t: float, monitors: Mapping[str, MonitorFlags] | None = None
    ) -> list[Contact]:
        """Each station's contact with the site at ``t``, cross-checked with its monitor data."""
        sample = self.sample(t)
        monitors = monitors or {}
        out = []
        for view in sample.stations:
            monitor = monitors.get(view.station_id)
            out.append(
                Contact(
                    station=view.station_id,
                    predicted=view.visible,
                    monitor_in_view=None if monitor is None else monitor.usable,
                    elevation_deg=view.moon_el_deg,
                    light_time_s=view.light_time_s,
                )
            )
        return out

    def light_time(self, t: float, station: str | None = None) -> float:
        """One-way light time (s) from ``station`` (default: the Earth's centre) to the site."""
        sample = self.sample(t)
        if station is None:
            return sample.light_time_s
        try:
            return sample.station(station).light_time_s
        except KeyError:
            return sample.light_time_s

    # --- ahead ---------------------------------------------------------------------------------
    def _cached_passes(self, t: float) -> tuple[Pass, ...]:
        with self._lock:
            cache = self._passes
        half = self.lookahead_hours * 1800.0
        if cache is None or not (cache.start <= t and t + half <= cache.end):
            found = predict_passes(t, self.lookahead_hours, self.station_ids, facts=self._facts)
            cache = _PassCache(t, t + self.lookahead_hours * 3600.0, tuple(found))
            with self._lock:
                self._passes = cache
        return cache.passes

    def next_aos(self, t: float, station: str | None = None) -> NextAos | None:
        """The first acquisition of signal after ``t`` (of ``station``, or of any station).

        Beyond the look-ahead window (the Earth stays below the site's horizon for up to about
        two weeks a month) the next Earth rise is found on a coarse series of the Earth's
        elevation first, and the passes are predicted around it.
        """
        for p in self._cached_passes(t):
            if p.aos > t and (station is None or p.station_id == station):
                return NextAos(p.station_id, p.aos)
        return self._far_aos(t, station)

    def _far_aos(self, t: float, station: str | None) -> NextAos | None:
        with self._lock:
            far = self._far
        cached = far[1] if far is not None and far[0] <= t else None
        if cached is not None and cached.time > t and station in (None, cached.station):
            return cached
        searched = t + self.lookahead_hours * 3600.0
        series = earth_elevation_series(
            searched, FAR_SEARCH_DAYS * 24.0, FAR_SEARCH_STEP_S, facts=self._facts
        )
        rising = np.flatnonzero(series.elevation_deg >= series.mask_deg)
        found: NextAos | None = None
        if rising.size:
            begin = float(series.times[max(int(rising[0]) - 1, 0)])
            stations = self.station_ids if station is None else (station,)
            passes = predict_passes(begin, self.lookahead_hours, stations, facts=self._facts)
            first = next((p for p in passes if p.aos > t), None)
            if first is not None:
                found = NextAos(first.station_id, first.aos)
        if station is None:
            with self._lock:
                self._far = (t, found)
        return found

    def passes(self, start: float, hours: float, station: str | None = None) -> list[Pass]:
        """Predicted passes in ``[start, start + hours]`` (``UnknownStationError`` for a bad id)."""
        stations: Sequence[str] = [station] if station is not None else self.station_ids
        return predict_passes(start, hours, stations, facts=self._facts)

    def earth_elevation(self, start: float, hours: float, step_s: float) -> ElevationSeries:
        """The Earth's elevation at the landing site every ``step_s`` from ``start``."""
        return earth_elevation_series(start, hours, step_s, facts=self._facts)

"""Pass prediction: when each ground station can talk to the site.

A station and the site see each other when the Moon is above the station's elevation mask and
the Earth is above the site's horizon mask. Near the lunar south pole both limits matter: the
Moon rises and sets at the station every day, and the Earth sets at the site for part of every
month, so a pass can begin or end for either reason. Each :class:`Pass` says which.

Method: the visibility condition is evaluated directly with skyfield on a coarse grid (60 s by
default), every change of state is refined by bisection on the same condition until its bracket
is at most ``tolerance_s`` (1 s by default) wide, and the highest Moon elevation of each pass is
found on a 1 s grid around the coarse maximum. A gap or a pass shorter than the coarse step can be
missed; at 60 s that does not happen for lunar geometry (the Moon moves 0.25 deg a minute).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from mission.facts import MissionFacts, Site, load_facts
from mission.geometry.ephemeris import FloatArray, skyfield_time
from mission.geometry.site import earth_elevation_deg, site_geometry
from mission.geometry.stations import (
    GroundStation,
    moon_elevations_deg,
    resolve_stations,
    site_earth_mask_deg,
)

__all__ = ["ElevationSeries", "LimitCause", "Pass", "earth_elevation_series", "predict_passes"]

BoolArray = npt.NDArray[np.bool_]


class LimitCause(StrEnum):
    """What started or ended a pass."""

    STATION_MASK = "station_mask"  # the Moon crossed the station's elevation mask
    SITE_EARTH_MASK = "site_earth_mask"  # the Earth crossed the site's horizon mask
    WINDOW = "window"  # the pass was already on at the start, or still on at the end


@dataclass(frozen=True, slots=True)
class Pass:
    """One contact opportunity between a station and the site (times in Unix seconds, UTC)."""

    station_id: str
    aos: float  # first visible time found (within the tolerance of the true crossing)
    los: float  # last visible time found
    max_elevation_deg: float  # highest Moon elevation at the station during the pass
    max_elevation_time: float
    aos_cause: LimitCause
    los_cause: LimitCause

    @property
    def duration_s(self) -> float:
        return self.los - self.aos


@dataclass(frozen=True, slots=True)
class ElevationSeries:
    """The Earth's elevation above the site horizon over time, for plots, and the Sun's."""

    times: FloatArray
    elevation_deg: FloatArray
    azimuth_deg: FloatArray
    mask_deg: float
    sun_elevation_deg: FloatArray
    sun_azimuth_deg: FloatArray


def earth_elevation_series(
    start: float,
    hours: float,
    step_s: float = 600.0,
    *,
    site: Site | None = None,
    facts: MissionFacts | None = None,
) -> ElevationSeries:
    """The Earth's (and the Sun's) elevation and azimuth at the site every ``step_s``."""
    if step_s <= 0 or hours <= 0:
        raise ValueError("hours and step_s must be positive")
    facts = facts or load_facts()
    times = start + np.arange(0.0, hours * 3600.0 + step_s / 2, step_s)
    geometry = site_geometry(times, site, facts=facts)
    return ElevationSeries(
        times=times,
        elevation_deg=geometry.earth_el_deg,
        azimuth_deg=geometry.earth_az_deg,
        mask_deg=site_earth_mask_deg(facts),
        sun_elevation_deg=geometry.sun_el_deg,
        sun_azimuth_deg=geometry.sun_az_deg,
    )


@dataclass(slots=True)
class _Brackets:
    """Brackets around the state changes of all stations, refined together.

    ``owner`` is the index of the station each bracket belongs to; ``*_lo`` and ``*_hi`` are the
    states of the two limits at the bracket's ends.
    """

    owner: npt.NDArray[np.intp]
    lo: FloatArray
    hi: FloatArray
    earth_lo: BoolArray
    earth_hi: BoolArray
    station_lo: BoolArray
    station_hi: BoolArray

    def select(self, k: int) -> _Brackets:
        m = self.owner == k
        return _Brackets(
            owner=self.owner[m],
            lo=self.lo[m],
            hi=self.hi[m],
            earth_lo=self.earth_lo[m],
            earth_hi=self.earth_hi[m],
            station_lo=self.station_lo[m],
            station_hi=self.station_hi[m],
        )


def predict_passes(
    start: float,
    hours: float,
    stations: Iterable[str | GroundStation] | str | None = None,
    *,
    site: Site | None = None,
    facts: MissionFacts | None = None,
    step_s: float = 60.0,
    tolerance_s: float = 1.0,
) -> list[Pass]:
    """Passes of ``stations`` (default: all) over the site in ``[start, start + hours]``.

    Returns the passes of all stations sorted by AOS. Unknown ids raise
    :class:`~mission.geometry.stations.UnknownStationError`.
    """
    if hours <= 0 or step_s <= 0 or tolerance_s <= 0:
        raise ValueError("hours, step_s and tolerance_s must be positive")
    facts = facts or load_facts()
    site = site or facts.site
    chosen = resolve_stations([stations] if isinstance(stations, str) else stations, facts)
    if not chosen:
        return []
    site_mask = site_earth_mask_deg(facts)
    end = start + hours * 3600.0
    count = max(2, math.ceil((end - start) / step_s) + 1)
    times = np.minimum(start + step_s * np.arange(count, dtype=np.float64), end)
    shared_t = skyfield_time(times)
    earth_ok = earth_elevation_deg(times, site, facts=facts, skyfield_t=shared_t) >= site_mask

    moon_el = moon_elevations_deg(chosen, times, skyfield_t=shared_t)
    visible_at_start: list[bool] = []
    parts: list[_Brackets] = []
    for k, station in enumerate(chosen):
        elevation = moon_el[k]
        station_ok = elevation >= station.elevation_mask_deg
        visible = earth_ok & station_ok
        changes = np.flatnonzero(visible[:-1] != visible[1:])
        visible_at_start.append(bool(visible[0]))
        parts.append(
            _Brackets(
                owner=np.full(changes.size, k, dtype=np.intp),
                lo=times[changes],
                hi=times[changes + 1],
                earth_lo=earth_ok[changes],
                earth_hi=earth_ok[changes + 1],
                station_lo=station_ok[changes],
                station_hi=station_ok[changes + 1],
            )
        )
    brackets = _Brackets(
        *(np.concatenate(arrays) for arrays in zip(*map(_fields, parts), strict=True))
    )
    _refine(brackets, chosen, site, facts, site_mask, tolerance_s)
    intervals = [
        (k, interval)
        for k in range(len(chosen))
        for interval in _intervals(brackets.select(k), visible_at_start[k], start, end)
    ]
    passes = _with_maxima(intervals, chosen, times, moon_el, step_s)
    passes.sort(key=lambda p: (p.aos, p.station_id))
    return passes


def _fields(b: _Brackets) -> tuple[npt.NDArray[Any], ...]:
    return (b.owner, b.lo, b.hi, b.earth_lo, b.earth_hi, b.station_lo, b.station_hi)


def _refine(
    b: _Brackets,
    stations: tuple[GroundStation, ...],
    site: Site,
    facts: MissionFacts,
    site_mask: float,
    tolerance_s: float,
) -> None:
    """Bisect every bracket until it is at most ``tolerance_s`` wide.

    All brackets of all stations move together: each round makes one skyfield ``Time`` for all
    midpoints and evaluates every station on it, which costs far less than a call per bracket.
    """
    if b.lo.size == 0:
        return
    while float(np.max(b.hi - b.lo)) > tolerance_s:
        mid = (b.lo + b.hi) / 2
        t = skyfield_time(mid)
        earth_mid = earth_elevation_deg(mid, site, facts=facts, skyfield_t=t) >= site_mask
        elevations = moon_elevations_deg(stations, mid, skyfield_t=t)
        masks = np.array([s.elevation_mask_deg for s in stations])
        own = np.arange(mid.size)
        station_mid = elevations[b.owner, own] >= masks[b.owner]
        # Keep the half where the visibility changes: replace the end whose state mid shares.
        same_as_lo = (earth_mid & station_mid) == (b.earth_lo & b.station_lo)
        b.lo = np.where(same_as_lo, mid, b.lo)
        b.earth_lo = np.where(same_as_lo, earth_mid, b.earth_lo)
        b.station_lo = np.where(same_as_lo, station_mid, b.station_lo)
        b.hi = np.where(same_as_lo, b.hi, mid)
        b.earth_hi = np.where(same_as_lo, b.earth_hi, earth_mid)
        b.station_hi = np.where(same_as_lo, b.station_hi, station_mid)


@dataclass(frozen=True, slots=True)
class _Interval:
    aos: float
    los: float
    aos_cause: LimitCause
    los_cause: LimitCause


def _intervals(b: _Brackets, visible_at_start: bool, start: float, end: float) -> list[_Interval]:
    """Pair the refined state changes into visible intervals."""
    out: list[_Interval] = []
    open_at: tuple[float, LimitCause] | None = (
        (start, LimitCause.WINDOW) if visible_at_start else None
    )
    for i in range(b.lo.size):
        # When both limits flip inside one bracket, the station mask is reported.
        cause = (
            LimitCause.STATION_MASK
            if b.station_lo[i] != b.station_hi[i]
            else LimitCause.SITE_EARTH_MASK
        )
        rising = not bool(b.earth_lo[i] and b.station_lo[i])
        if rising:
            open_at = (float(b.hi[i]), cause)
        elif open_at is not None:
            out.append(_Interval(open_at[0], float(b.lo[i]), open_at[1], cause))
            open_at = None
    if open_at is not None:
        out.append(_Interval(open_at[0], end, open_at[1], LimitCause.WINDOW))
    return out


def _with_maxima(
    intervals: list[tuple[int, _Interval]],
    stations: tuple[GroundStation, ...],
    times: FloatArray,
    moon_el: FloatArray,
    step_s: float,
) -> list[Pass]:
    """Find each interval's highest Moon elevation on a 1 s grid around the coarse maximum."""
    if not intervals:
        return []
    grids: list[FloatArray] = []
    for k, interval in intervals:
        inside = np.flatnonzero((times >= interval.aos) & (times <= interval.los))
        if inside.size:
            peak = float(times[inside[np.argmax(moon_el[k][inside])]])
            lo, hi = max(interval.aos, peak - step_s), min(interval.los, peak + step_s)
        else:
            lo, hi = interval.aos, interval.los
        grids.append(np.append(np.arange(lo, hi, 1.0), hi))
    fine = np.concatenate(grids)
    bounds = np.cumsum([0] + [grid.size for grid in grids])
    t = skyfield_time(fine)  # one Time for every grid; each station evaluated on all of it
    elevations = moon_elevations_deg(stations, fine, skyfield_t=t)
    passes = []
    for i, (k, interval) in enumerate(intervals):
        chunk = elevations[k][bounds[i] : bounds[i + 1]]
        best = int(np.argmax(chunk))
        passes.append(
            Pass(
                station_id=stations[k].id,
                aos=interval.aos,
                los=interval.los,
                max_elevation_deg=float(chunk[best]),
                max_elevation_time=float(grids[i][best]),
                aos_cause=interval.aos_cause,
                los_cause=interval.los_cause,
            )
        )
    return passes


def coverage(passes: Iterable[Pass]) -> list[tuple[float, float]]:
    """The union of the passes' [AOS, LOS] intervals: when at least one station has contact."""
    out: list[tuple[float, float]] = []
    for p in sorted(passes, key=lambda p: p.aos):
        if out and p.aos <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], p.los))
        else:
            out.append((p.aos, p.los))
    return out


def next_contact(
    t: float,
    *,
    min_remaining_s: float = 3600.0,
    margin_s: float = 60.0,
    search_days: float = 30.0,
    facts: MissionFacts | None = None,
) -> float | None:
    """The first time from ``t`` on when some station can talk to the site for at least
    ``min_remaining_s`` more: ``t`` itself when it can, else ``margin_s`` after the next AOS of
    such a contact. None when there is none within ``search_days`` (the Earth stays below the
    site's horizon for up to about two weeks a month, so 30 days always find one).

    For demonstrations: a simulation started there has its link up from the first minute.
    """
    windows = coverage(predict_passes(t, search_days * 24.0, facts=facts, step_s=300.0))
    for begin, end in windows:
        start = t if begin <= t else begin + margin_s
        if end - start >= min_remaining_s:
            return start
    return None

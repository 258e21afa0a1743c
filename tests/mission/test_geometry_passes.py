"""Pass prediction, checked against a direct skyfield computation that does not use the package.

The reference computes the Moon's elevation at a station the plain skyfield way,
``(earth + wgs84.latlon(...)).at(t).observe(moon).apparent().altaz()``, and the Earth's elevation
at the site from skyfield vectors and the IAU rotation built here from elementary rotations.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
import pytest
from skyfield.api import wgs84

from mission.facts import load_facts
from mission.geometry import (
    LimitCause,
    Pass,
    UnknownStationError,
    coverage,
    get_station,
    ground_stations,
    load_ephemeris,
    moon_elevations_deg,
    moon_orientation_deg,
    next_contact,
    predict_passes,
    skyfield_time,
)

# The Earth sets at the site on 2028-03-06 (about 03:42 UTC) and rises on 2028-03-22 (about
# 10:50 UTC): these windows contain passes cut by the site mask as well as by station masks.
WINDOWS = [
    datetime(2028, 3, 5, 12, tzinfo=UTC).timestamp(),
    datetime(2028, 3, 22, 0, tzinfo=UTC).timestamp(),
]
STATION_MASK = 10.0
SITE_MASK = 1.5
MARGIN_S = 60.0


def _reference_moon_el(station_id: str, times: np.ndarray) -> np.ndarray:
    eph = load_ephemeris()
    s = get_station(station_id)
    observer = eph.earth + wgs84.latlon(s.lat_deg, s.lon_deg, elevation_m=s.alt_m)
    alt, _, _ = observer.at(skyfield_time(times)).observe(eph.moon).apparent().altaz()
    return np.atleast_1d(alt.degrees)


def _rz(a: np.ndarray) -> np.ndarray:
    c, s, z, o = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([np.stack([c, s, z]), np.stack([-s, c, z]), np.stack([z, z, o])])


def _rx(a: np.ndarray) -> np.ndarray:
    c, s, z, o = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([np.stack([o, z, z]), np.stack([z, c, s]), np.stack([z, -s, c])])


def _reference_earth_el(times: np.ndarray) -> np.ndarray:
    eph = load_ephemeris()
    t = skyfield_time(times)
    earth = np.asarray(eph.moon.at(t).observe(eph.earth).position.km).reshape(3, -1)
    alpha0, delta0, w = (np.radians(np.atleast_1d(x)) for x in moon_orientation_deg(t.tdb))
    m = np.einsum("ijn,jkn,kln->iln", _rz(w), _rx(np.pi / 2 - delta0), _rz(np.pi / 2 + alpha0))
    body = np.einsum("ijn,jn->in", m, earth)
    site = load_facts().site
    lat, lon = np.radians(site.lat_deg), np.radians(site.lon_deg)
    up = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    relative = body - 1737.4 * up[:, None]
    elevation = np.degrees(np.arcsin(up @ relative / np.linalg.norm(relative, axis=0)))
    return np.asarray(elevation, dtype=np.float64)


@pytest.fixture(scope="module")
def passes() -> list[Pass]:
    found: list[Pass] = []
    for start in WINDOWS:
        found.extend(predict_passes(start, 24.0))
    return found


def test_passes_come_from_both_limits(passes: list[Pass]) -> None:
    causes = {p.aos_cause for p in passes} | {p.los_cause for p in passes}
    assert LimitCause.STATION_MASK in causes
    assert LimitCause.SITE_EARTH_MASK in causes
    assert {p.station_id for p in passes} == {s.id for s in ground_stations()}
    for p in passes:
        assert p.aos < p.los
        assert p.aos <= p.max_elevation_time <= p.los
        assert p.duration_s == p.los - p.aos


def test_aos_and_los_agree_with_skyfield_within_a_minute(passes: list[Pass]) -> None:
    checked = {LimitCause.STATION_MASK: 0, LimitCause.SITE_EARTH_MASK: 0}
    for p in passes:
        for edge, cause, rising in ((p.aos, p.aos_cause, True), (p.los, p.los_cause, False)):
            if cause is LimitCause.WINDOW:
                continue
            before, after = edge - MARGIN_S, edge + MARGIN_S
            if cause is LimitCause.STATION_MASK:
                el = _reference_moon_el(p.station_id, np.array([before, after]))
                mask = STATION_MASK
            else:
                el = _reference_earth_el(np.array([before, after]))
                mask = SITE_MASK
            if rising:
                assert el[0] < mask < el[1], (p, el)
            else:
                assert el[0] > mask > el[1], (p, el)
            checked[cause] += 1
    assert all(checked.values()), checked


def test_both_conditions_hold_inside_passes_and_fail_between(passes: list[Pass]) -> None:
    for p in passes:
        inside = np.linspace(p.aos + MARGIN_S, p.los - MARGIN_S, 5)
        assert np.all(_reference_moon_el(p.station_id, inside) > STATION_MASK)
        assert np.all(_reference_earth_el(inside) > SITE_MASK)
    by_station: dict[str, list[Pass]] = {}
    for p in passes:
        by_station.setdefault(p.station_id, []).append(p)
    gaps = 0
    for station_id, own in by_station.items():
        for first, second in itertools.pairwise(own):
            if second.aos - first.los < 2 * MARGIN_S or first.los_cause is LimitCause.WINDOW:
                continue
            middle = np.array([(first.los + second.aos) / 2])
            moon_ok = _reference_moon_el(station_id, middle)[0] > STATION_MASK
            earth_ok = _reference_earth_el(middle)[0] > SITE_MASK
            assert not (moon_ok and earth_ok)
            gaps += 1
    assert gaps > 0


def test_maximum_elevation_matches_skyfield(passes: list[Pass]) -> None:
    for p in passes:
        at_max = _reference_moon_el(p.station_id, np.array([p.max_elevation_time]))[0]
        assert at_max == pytest.approx(p.max_elevation_deg, abs=0.01)
        around = np.clip([p.max_elevation_time - 120.0, p.max_elevation_time + 120.0], p.aos, p.los)
        assert np.all(_reference_moon_el(p.station_id, around) <= at_max + 1e-6)


def test_edges_are_refined_to_a_second() -> None:
    coarse = predict_passes(WINDOWS[0], 24.0, ["dss43", "malargue"])
    fine = predict_passes(WINDOWS[0], 24.0, ["dss43", "malargue"], tolerance_s=0.05)
    assert len(coarse) == len(fine)
    for a, b in zip(coarse, fine, strict=True):
        assert abs(a.aos - b.aos) <= 1.0
        assert abs(a.los - b.los) <= 1.0


def test_station_elevations_match_plain_skyfield() -> None:
    times = WINDOWS[0] + np.arange(0.0, 86400.0, 900.0)
    stations = ground_stations()
    ours = moon_elevations_deg(stations, times)
    for row, station in zip(ours, stations, strict=True):
        assert np.max(np.abs(row - _reference_moon_el(station.id, times))) < 1e-3


def test_station_selection() -> None:
    only = predict_passes(WINDOWS[0], 12.0, "dss14")
    assert only
    assert {p.station_id for p in only} == {"dss14"}
    assert predict_passes(WINDOWS[0], 12.0, []) == []
    with pytest.raises(UnknownStationError) as info:
        predict_passes(WINDOWS[0], 12.0, ["dss99"])
    assert "dss99" in str(info.value)
    assert "dss43" in info.value.valid_ids
    with pytest.raises(ValueError, match="positive"):
        predict_passes(WINDOWS[0], 0.0)


def test_window_edges_are_reported() -> None:
    # DSS-14 sees the Moon (and the site sees the Earth) at 2028-03-01T00:00Z.
    start = datetime(2028, 3, 1, tzinfo=UTC).timestamp()
    first = predict_passes(start, 2.0, ["dss14"])
    assert first[0].aos == start
    assert first[0].aos_cause is LimitCause.WINDOW
    assert first[-1].los == start + 2 * 3600.0
    assert first[-1].los_cause is LimitCause.WINDOW


def test_next_contact_is_now_in_a_pass_else_just_after_the_next_aos() -> None:
    in_view = 1_800_000_000.0  # 2027-01-15T08:00Z: Earth up at the site, stations in view
    assert next_contact(in_view) == in_view
    dark = datetime(2026, 12, 7, 2, 0, tzinfo=UTC).timestamp()  # Earth below the site horizon
    start = next_contact(dark, min_remaining_s=3600.0)
    assert start is not None
    windows = coverage(predict_passes(dark, 30 * 24.0))
    assert not any(b <= dark < e for b, e in windows)  # no contact at ``dark``
    first = next(w for w in windows if w[1] - w[0] >= 3600.0 + 60.0)
    assert start == pytest.approx(first[0] + 60.0, abs=2.0)  # the margin after that AOS
    assert start - dark > 3 * 86400.0  # days of Earth below the horizon, as near the pole
    assert all(e < b2 for (_, e), (b2, _) in itertools.pairwise(windows))  # a union: disjoint

"""The interpolated per-step geometry table against direct computation."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from mission.geometry import (
    GeometryTable,
    ground_stations,
    moon_from_stations,
    site_geometry,
)

START = datetime(2028, 3, 5, 12, tzinfo=UTC).timestamp()  # Earth sets at the site on 6 March


def _angle_diff(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def test_interpolated_values_match_direct_computation() -> None:
    table = GeometryTable(START, START + 6 * 3600.0)
    rng = np.random.default_rng(7)
    times = np.sort(START + rng.uniform(0.0, 6 * 3600.0, 40))
    direct = site_geometry(times)
    looks = moon_from_stations(ground_stations(), times)
    for i, t in enumerate(times):
        sample = table.at(float(t))
        assert sample.t == t
        assert sample.sun_el_deg == pytest.approx(direct.sun_el_deg[i], abs=1e-3)
        assert _angle_diff(sample.sun_az_deg, direct.sun_az_deg[i]) < 1e-3
        assert sample.earth_el_deg == pytest.approx(direct.earth_el_deg[i], abs=1e-3)
        assert _angle_diff(sample.earth_az_deg, direct.earth_az_deg[i]) < 1e-3
        assert sample.range_km == pytest.approx(direct.earth_range_km[i], abs=0.5)
        assert sample.light_time_s == pytest.approx(direct.light_time_s[i], abs=1e-5)
        for look in looks:
            view = sample.station(look.station_id)
            assert view.moon_el_deg == pytest.approx(look.elevation_deg[i], abs=0.01)
            assert _angle_diff(view.moon_az_deg, look.azimuth_deg[i]) < 0.05
            assert view.range_km == pytest.approx(look.range_km[i], abs=0.5)
    assert table.recomputations == 1


def test_visibility_follows_both_masks() -> None:
    table = GeometryTable(START, START + 24 * 3600.0, step_s=300.0)
    seen_earth_states = set()
    for t in np.arange(START, START + 24 * 3600.0, 900.0):
        sample = table.at(float(t))
        seen_earth_states.add(sample.earth_above_mask)
        assert sample.earth_above_mask == (sample.earth_el_deg >= 1.5)
        for view in sample.stations:
            assert view.visible == (sample.earth_above_mask and view.moon_el_deg >= 10.0)
        assert set(sample.visible_station_ids) == {
            v.station_id for v in sample.stations if v.visible
        }
    assert seen_earth_states == {True, False}  # the Earth sets inside this day


def test_window_follows_time_forwards_and_backwards() -> None:
    table = GeometryTable(START, START + 3600.0, stations=["dss43"])
    assert table.station_ids == ("dss43",)
    assert table.covers(START + 1800.0)
    later = START + 5 * 86400.0 + 123.0
    sample = table.at(later)
    assert table.covers(later)
    assert table.recomputations == 2
    direct = site_geometry(later)
    assert sample.earth_el_deg == pytest.approx(direct.earth_el_deg[0], abs=1e-3)
    # Stepping on inside the new window costs nothing.
    table.at(later + 600.0)
    assert table.recomputations == 2
    earlier = START - 86400.0
    table.at(earlier)
    assert table.covers(earlier)
    assert table.recomputations == 3


def test_sample_lookup_and_arguments() -> None:
    table = GeometryTable(START, START + 600.0, stations=["dss14", "usuda"])
    sample = table.at(START)
    assert [v.station_id for v in sample.stations] == ["dss14", "usuda"]
    with pytest.raises(KeyError, match="dss63"):
        sample.station("dss63")
    with pytest.raises(ValueError, match="step_s"):
        GeometryTable(START, START + 600.0, step_s=0.0)
    with pytest.raises(ValueError, match="after start"):
        GeometryTable(START, START)


def test_non_finite_time_is_refused() -> None:
    table = GeometryTable(START, START + 600.0, stations=["dss14"])
    with pytest.raises(ValueError, match="finite"):
        table.at(float("nan"))

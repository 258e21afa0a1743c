"""Sun and Earth seen from the landing site over a simulated lunar month."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from mission.facts import Site, load_facts
from mission.geometry import (
    SiteGeometry,
    earth_elevation_deg,
    earth_elevation_series,
    load_ephemeris,
    site_frame,
    site_geometry,
    skyfield_time,
    sub_earth_point,
)

MONTH_START = datetime(2028, 3, 1, tzinfo=UTC).timestamp()
STEP_S = 600.0


@pytest.fixture(scope="module")
def month() -> SiteGeometry:
    return site_geometry(MONTH_START + np.arange(0.0, 30 * 86400.0, STEP_S))


def test_earth_elevation_swings_through_the_horizon(month: SiteGeometry) -> None:
    el = month.earth_el_deg
    # Observed for March 2028: -7.5 .. +5.7 deg. The latitude libration (+-6.7 deg) dominates; the
    # site's 1.26 deg offset from the pole towards 124.5 E (away from the Earth) and the 0.26 deg
    # parallax of the lunar radius lower the whole band by about 1 deg.
    assert -9.0 < el.min() < -5.0
    assert 4.0 < el.max() < 9.0


def test_earth_is_below_the_mask_for_a_large_part_of_the_month(month: SiteGeometry) -> None:
    mask = load_facts().number("comms.earth_site_mask_deg")
    share_below = float(np.mean(month.earth_el_deg < mask))
    # Observed: 0.54 over these 30 days (one contiguous ~16-day spell).
    assert 0.2 < share_below < 0.8


def test_earth_elevation_follows_the_sub_earth_latitude(month: SiteGeometry) -> None:
    # Near the south pole the Earth's elevation is roughly minus the sub-Earth latitude.
    lat, _ = sub_earth_point(month.times)
    assert np.corrcoef(month.earth_el_deg, -lat)[0, 1] > 0.99
    assert np.max(np.abs(month.earth_el_deg + lat)) < 2.0


def test_sun_skims_the_horizon_and_goes_round(month: SiteGeometry) -> None:
    assert np.max(np.abs(month.sun_el_deg)) < 4.0
    # The Sun circles the horizon once per synodic month: the unwrapped azimuth turns ~360 deg.
    turned = np.ptp(np.degrees(np.unwrap(np.radians(month.sun_az_deg))))
    assert 330.0 < turned < 400.0


def test_light_time_and_range(month: SiteGeometry) -> None:
    assert 1.15 < month.light_time_s.min() < month.light_time_s.max() < 1.40
    # Independently: the site is within a lunar radius of the Moon's centre, whose distance from
    # the Earth's centre skyfield gives directly.
    eph = load_ephemeris()
    t = skyfield_time(month.times)
    centre_km = np.linalg.norm((eph.moon - eph.earth).at(t).position.km, axis=0)
    assert np.max(np.abs(month.earth_range_km - centre_km)) < 1737.4 + 1.0
    assert np.allclose(month.light_time_s * 299_792.458, month.earth_range_km)


def test_earth_elevation_helpers_agree_with_site_geometry(month: SiteGeometry) -> None:
    times = month.times[::50]
    assert np.allclose(earth_elevation_deg(times), month.earth_el_deg[::50], atol=1e-9)
    series = earth_elevation_series(MONTH_START, 24.0, 3600.0)
    assert series.times.size == 25
    assert series.mask_deg == 1.5
    assert np.allclose(series.elevation_deg, month.earth_el_deg[:145:6], atol=1e-9)


def test_site_frame_is_orthonormal() -> None:
    frame = site_frame()
    basis = np.array([frame.east, frame.north, frame.up])
    assert np.allclose(basis @ basis.T, np.eye(3), atol=1e-12)
    assert np.allclose(np.cross(frame.east, frame.north), frame.up)
    assert np.linalg.norm(frame.position_km) == pytest.approx(1737.4)
    # At the exact pole the frame is still defined (from the longitude).
    pole = site_frame(Site(-90.0, 0.0))
    assert np.allclose(pole.up, [0.0, 0.0, -1.0])
    assert np.isfinite(pole.east).all()
    assert np.isfinite(pole.north).all()


def test_scalar_time_gives_one_element_arrays() -> None:
    geometry = site_geometry(MONTH_START)
    assert geometry.earth_el_deg.shape == (1,)
    assert geometry.sun_el_deg.shape == (1,)


def test_unix_seconds_convert_with_the_right_leap_second_offset() -> None:
    eph = load_ephemeris()
    for moment in (
        datetime(1999, 5, 1, tzinfo=UTC),
        datetime(2022, 1, 1, 6, 30, 15, 250_000, tzinfo=UTC),
        datetime(2028, 3, 1, 23, 59, 59, tzinfo=UTC),
    ):
        ours = skyfield_time(moment.timestamp())
        reference = eph.timescale.from_datetime(moment)
        assert abs(float(ours.tt) - float(reference.tt)) * 86400.0 < 1e-4
    arrays = skyfield_time(np.array([MONTH_START, MONTH_START + 86400.0]))
    assert arrays.shape == (2,)

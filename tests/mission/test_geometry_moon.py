"""The Moon's rotation model, checked against independent constructions and published tables."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from mission.geometry import (
    latlon_from_vector,
    load_ephemeris,
    moon_fixed_from_icrf,
    moon_orientation_deg,
    rotation_icrf_to_moon_fixed,
    skyfield_time,
    sub_earth_point,
)

J2000_JD = 2451545.0


def _unix(year: int, month: int, day: int, hour: int = 0) -> float:
    return datetime(year, month, day, hour, tzinfo=UTC).timestamp()


def _rz(angle_deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])


def _rx(angle_deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    return np.array([[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]])


def test_rotation_matrices_are_proper_rotations() -> None:
    dates = J2000_JD + np.linspace(8000.0, 12000.0, 500)
    m = rotation_icrf_to_moon_fixed(dates)
    assert m.shape == (500, 3, 3)
    identity = np.einsum("nij,nkj->nik", m, m)
    assert np.allclose(identity, np.eye(3), atol=1e-12)
    assert np.allclose(np.linalg.det(m), 1.0, atol=1e-12)


def test_rotation_is_the_product_of_the_three_elementary_rotations() -> None:
    for jd in J2000_JD + np.array([0.0, 1234.5, 10_000.25]):
        alpha0, delta0, w = (float(x) for x in moon_orientation_deg(jd))
        expected = _rz(w) @ _rx(90.0 - delta0) @ _rz(90.0 + alpha0)
        assert np.allclose(rotation_icrf_to_moon_fixed(jd), expected, atol=1e-12)
        # The third row is the pole direction in ICRF.
        a, d = np.radians(alpha0), np.radians(delta0)
        pole = [np.cos(d) * np.cos(a), np.cos(d) * np.sin(a), np.sin(d)]
        assert np.allclose(rotation_icrf_to_moon_fixed(jd)[2], pole, atol=1e-12)


def test_orientation_at_j2000_matches_the_constant_terms() -> None:
    # At J2000 the periodic terms are those of the E_k constants; the values stay within their sum
    # of amplitudes (about 4.3, 1.7 and 3.9 deg) of the constant terms of the IAU report.
    alpha0, delta0, w = (float(x) for x in moon_orientation_deg(J2000_JD))
    assert abs(alpha0 - 269.9949) < 4.3
    assert abs(delta0 - 66.5392) < 1.7
    assert abs(w - 38.3213) < 3.9


def test_the_moon_spins_once_per_sidereal_month() -> None:
    start = J2000_JD + 10_000.0
    _, _, w0 = moon_orientation_deg(start)
    _, _, w1 = moon_orientation_deg(start + 27.321661)
    # The prime meridian returns to (almost) the same angle; periodic terms move it < 0.2 deg.
    assert abs(((float(w1) - float(w0) + 180.0) % 360.0) - 180.0) < 0.2


def test_scalar_and_vector_inputs_agree() -> None:
    jd = J2000_JD + 9876.5
    assert np.allclose(rotation_icrf_to_moon_fixed(jd), rotation_icrf_to_moon_fixed([jd])[0])
    v = np.array([1.0, 2.0, 3.0])
    assert np.allclose(moon_fixed_from_icrf(v, jd), moon_fixed_from_icrf(v[:, None], [jd])[:, 0])


# NASA Scientific Visualization Studio, "Moon Phase and Libration, 2022" (svs.gsfc.nasa.gov/4955),
# hourly table computed from JPL ephemerides: UTC, sub-solar lon/lat, sub-Earth lon/lat (degrees).
SVS_2022 = [
    ((2022, 1, 1, 0), -156.684, -0.994, -1.820, 1.696),
    ((2022, 1, 6, 12), 136.285, -1.122, 7.116, 6.641),
    ((2022, 6, 30, 0), 169.172, 1.169, -1.285, -5.596),
    ((2022, 7, 5, 0), 107.946, 1.220, -6.606, -5.937),
]


@pytest.mark.parametrize(("when", "slon", "slat", "elon", "elat"), SVS_2022)
def test_sub_earth_and_sub_solar_points_match_nasa_svs(
    when: tuple[int, int, int, int], slon: float, slat: float, elon: float, elat: float
) -> None:
    t = _unix(*when)
    lat, lon = sub_earth_point(t)
    assert float(lat[0]) == pytest.approx(elat, abs=0.02)
    assert float(lon[0]) == pytest.approx(elon, abs=0.02)
    eph = load_ephemeris()
    st = skyfield_time(t)
    sun_icrf = eph.moon.at(st).observe(eph.sun).position.km
    sun_lat, sun_lon = latlon_from_vector(moon_fixed_from_icrf(sun_icrf, float(st.tdb)))
    assert float(sun_lat) == pytest.approx(slat, abs=0.02)
    assert float(sun_lon) == pytest.approx(slon, abs=0.02)


def test_sub_earth_point_librates_within_the_published_amplitudes() -> None:
    times = _unix(2028, 3, 1) + np.arange(0.0, 30 * 86400.0, 3600.0)
    lat, lon = sub_earth_point(times)
    assert np.max(np.abs(lat)) < 7.0
    assert np.max(np.abs(lon)) < 9.0
    # It does librate: both swings exceed half their published amplitudes (6.7 and 7.9 deg).
    assert np.ptp(lat) > 6.7
    assert np.ptp(lon) > 7.9

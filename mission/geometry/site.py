"""Sun and Earth seen from a site on the Moon.

The Earth's position comes from DE421 (Moon centre to Earth centre, corrected for light time) and
is rotated into the Moon's body-fixed axes with the IAU rotation model (:mod:`moon_frame`). The
Earth's libration as seen from the site is therefore not modelled separately: it emerges from the
real lunar orbit and the real lunar rotation. Near the south pole the Earth hangs a few degrees
above or below the horizon and sets for part of every month.

The local horizon is that of the sphere of the mean lunar radius (terrain is left to the horizon
mask in the seeds). Azimuths are measured from local north through east; at the south pole "north"
is the direction along the site's meridian towards the equator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mission.facts import MissionFacts, Site, load_facts
from mission.geometry.ephemeris import (
    SPEED_OF_LIGHT_KM_S,
    FloatArray,
    as_float_array,
    load_ephemeris,
    skyfield_time,
)
from mission.geometry.moon_frame import (
    latlon_from_vector,
    moon_fixed_from_icrf,
    rotation_icrf_to_moon_fixed,
)

__all__ = [
    "SiteFrame",
    "SiteGeometry",
    "earth_elevation_deg",
    "site_frame",
    "site_geometry",
    "site_offset_icrf_km",
    "sub_earth_point",
]


@dataclass(frozen=True, slots=True)
class SiteFrame:
    """A site's position and local east/north/up unit vectors, in Moon body-fixed axes (km)."""

    site: Site
    position_km: FloatArray
    east: FloatArray
    north: FloatArray
    up: FloatArray


@dataclass(frozen=True, slots=True)
class SiteGeometry:
    """Sun and Earth seen from a site, one array element per time (Unix seconds, UTC)."""

    times: FloatArray
    sun_el_deg: FloatArray
    sun_az_deg: FloatArray
    earth_el_deg: FloatArray
    earth_az_deg: FloatArray
    earth_range_km: FloatArray  # Earth centre to site
    light_time_s: FloatArray  # one way, Earth centre to site
    sub_earth_lat_deg: FloatArray
    sub_earth_lon_deg: FloatArray


def site_frame(site: Site | None = None, *, facts: MissionFacts | None = None) -> SiteFrame:
    """The local frame of ``site`` (default: the landing site from the seeds)."""
    facts = facts or load_facts()
    site = site or facts.site
    radius_km = facts.number("moon.mean_radius_km") + site.alt_m / 1000.0
    lat, lon = np.radians(site.lat_deg), np.radians(site.lon_deg)
    up = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    # East and north from the longitude, so they stay defined even at a pole.
    east = np.array([-np.sin(lon), np.cos(lon), 0.0])
    north = np.array([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)])
    return SiteFrame(site=site, position_km=radius_km * up, east=east, north=north, up=up)


def _horizontal(
    frame: SiteFrame, relative_km: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Elevation, azimuth (degrees) and distance of body-fixed vectors ``(3, N)`` from the site."""
    distance = np.linalg.norm(relative_km, axis=0)
    up = frame.up @ relative_km
    east = frame.east @ relative_km
    north = frame.north @ relative_km
    elevation = np.degrees(np.arcsin(np.clip(up / distance, -1.0, 1.0)))
    azimuth = np.mod(np.degrees(np.arctan2(east, north)), 360.0)
    return elevation, azimuth, distance


def _moon_centred_vectors(t: Any) -> tuple[FloatArray, FloatArray]:
    """ICRF vectors (km, ``(3, N)``) from the Moon's centre to the Earth and to the Sun."""
    eph = load_ephemeris()
    moon = eph.moon.at(t)
    earth_km = np.asarray(moon.observe(eph.earth).position.km, dtype=np.float64).reshape(3, -1)
    sun_km = np.asarray(moon.observe(eph.sun).position.km, dtype=np.float64).reshape(3, -1)
    return earth_km, sun_km


def site_geometry(
    times: float | npt.ArrayLike,
    site: Site | None = None,
    *,
    facts: MissionFacts | None = None,
) -> SiteGeometry:
    """Sun and Earth elevation, azimuth and range from ``site`` at ``times`` (vectorised)."""
    frame = site_frame(site, facts=facts)
    seconds = as_float_array(times)
    t = skyfield_time(seconds)
    earth_icrf, sun_icrf = _moon_centred_vectors(t)
    tdb = np.atleast_1d(t.tdb)
    earth_body = moon_fixed_from_icrf(earth_icrf, tdb)
    sun_body = moon_fixed_from_icrf(sun_icrf, tdb)
    site_km = frame.position_km[:, None]
    earth_el, earth_az, earth_range = _horizontal(frame, earth_body - site_km)
    sun_el, sun_az, _ = _horizontal(frame, sun_body - site_km)
    sub_lat, sub_lon = latlon_from_vector(earth_body)
    return SiteGeometry(
        times=seconds,
        sun_el_deg=sun_el,
        sun_az_deg=sun_az,
        earth_el_deg=earth_el,
        earth_az_deg=earth_az,
        earth_range_km=earth_range,
        light_time_s=earth_range / SPEED_OF_LIGHT_KM_S,
        sub_earth_lat_deg=sub_lat,
        sub_earth_lon_deg=sub_lon,
    )


def earth_elevation_deg(
    times: float | npt.ArrayLike,
    site: Site | None = None,
    *,
    facts: MissionFacts | None = None,
    skyfield_t: Any = None,
) -> FloatArray:
    """The Earth's elevation above the site's horizon (degrees), one value per time.

    ``skyfield_t``, when given, is a skyfield ``Time`` for ``times`` shared between calls.
    """
    frame = site_frame(site, facts=facts)
    t = skyfield_time(as_float_array(times)) if skyfield_t is None else skyfield_t
    eph = load_ephemeris()
    earth_icrf = np.asarray(eph.moon.at(t).observe(eph.earth).position.km).reshape(3, -1)
    earth_body = moon_fixed_from_icrf(earth_icrf, np.atleast_1d(t.tdb))
    elevation, _, _ = _horizontal(frame, earth_body - frame.position_km[:, None])
    return elevation


def sub_earth_point(times: float | npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Selenographic latitude and east longitude (degrees) of the point below the Earth."""
    t = skyfield_time(as_float_array(times))
    eph = load_ephemeris()
    earth_icrf = np.asarray(eph.moon.at(t).observe(eph.earth).position.km).reshape(3, -1)
    return latlon_from_vector(moon_fixed_from_icrf(earth_icrf, np.atleast_1d(t.tdb)))


def site_offset_icrf_km(
    times: float | npt.ArrayLike,
    site: Site | None = None,
    *,
    facts: MissionFacts | None = None,
) -> FloatArray:
    """The vector from the Moon's centre to the site in ICRF axes (km, ``(3, N)``)."""
    frame = site_frame(site, facts=facts)
    t = skyfield_time(as_float_array(times))
    rotation = rotation_icrf_to_moon_fixed(np.atleast_1d(t.tdb))
    # The transpose of a rotation is its inverse: v_icrf = M^T v_body.
    return np.asarray(np.einsum("nji,j->in", rotation, frame.position_km), dtype=np.float64)

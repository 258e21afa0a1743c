"""Ground stations and the Moon seen from them.

Station positions come from the seeds (``stations:`` in ``seeds/mission_facts.yaml``); skyfield's
WGS84 model (``wgs84.latlon``) places them on the Earth. The Moon's apparent geocentric position
(light time, aberration and deflection applied by skyfield; no refraction) is computed once per
time and shared by all stations, then each station's topocentric elevation and azimuth follow from
its skyfield position and horizon rotation (see :func:`_look`).

Elevations are those of the Moon's centre: the site near the south limb is 0.26 deg from it, less
than the uncertainty of any real horizon mask. Ranges are to the site itself (the Moon-centre
vector plus the site offset), so light times include the site's 1 737 km offset from the centre.

A station can talk to a vehicle when the Moon is above the station's elevation mask and the Earth
is above the site's horizon mask (:func:`link_visible`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from skyfield.api import wgs84

from mission.facts import MissionFacts, Site, StationFact, load_facts
from mission.geometry.ephemeris import (
    SPEED_OF_LIGHT_KM_S,
    FloatArray,
    as_float_array,
    load_ephemeris,
    skyfield_time,
)
from mission.geometry.site import site_offset_icrf_km

__all__ = [
    "GroundStation",
    "MoonLook",
    "UnknownStationError",
    "get_station",
    "ground_stations",
    "link_visible",
    "moon_elevation_deg",
    "moon_elevations_deg",
    "moon_from_station",
    "moon_from_stations",
    "resolve_stations",
    "site_earth_mask_deg",
]


@dataclass(frozen=True, slots=True)
class GroundStation:
    """A ground station as the geometry uses it."""

    id: str
    name: str
    agency: str
    dish_m: float
    lat_deg: float
    lon_deg: float
    alt_m: float
    elevation_mask_deg: float

    @classmethod
    def from_fact(cls, fact: StationFact) -> GroundStation:
        return cls(
            id=fact.id,
            name=fact.name,
            agency=fact.agency,
            dish_m=fact.dish_m,
            lat_deg=fact.lat_deg,
            lon_deg=fact.lon_deg,
            alt_m=fact.alt_m,
            elevation_mask_deg=fact.elevation_mask_deg,
        )


@dataclass(frozen=True, slots=True)
class MoonLook:
    """The Moon seen from one station, one array element per time."""

    station_id: str
    times: FloatArray
    elevation_deg: FloatArray
    azimuth_deg: FloatArray
    range_km: FloatArray  # station to site
    light_time_s: FloatArray


class UnknownStationError(KeyError):
    """A station id that is not in the seeds; carries the valid ids."""

    def __init__(self, station_id: str, valid_ids: tuple[str, ...]) -> None:
        self.station_id = station_id
        self.valid_ids = valid_ids
        super().__init__(station_id)

    def __str__(self) -> str:
        return f"unknown ground station {self.station_id!r}; valid ids: {', '.join(self.valid_ids)}"


def ground_stations(facts: MissionFacts | None = None) -> tuple[GroundStation, ...]:
    """All ground stations of the seeds, in file order."""
    facts = facts or load_facts()
    return tuple(GroundStation.from_fact(s) for s in facts.stations)


def get_station(station_id: str, facts: MissionFacts | None = None) -> GroundStation:
    """One station by id; :class:`UnknownStationError` (a KeyError) listing the valid ids."""
    stations = ground_stations(facts)
    for station in stations:
        if station.id == station_id:
            return station
    raise UnknownStationError(station_id, tuple(s.id for s in stations))


def resolve_stations(
    stations: Iterable[str | GroundStation] | None, facts: MissionFacts | None = None
) -> tuple[GroundStation, ...]:
    """Stations given by id or object; all stations of the seeds when None."""
    if stations is None:
        return ground_stations(facts)
    return tuple(s if isinstance(s, GroundStation) else get_station(s, facts) for s in stations)


def site_earth_mask_deg(facts: MissionFacts | None = None) -> float:
    """How high the Earth must be above the site horizon for a direct link (degrees)."""
    return (facts or load_facts()).number("comms.earth_site_mask_deg")


@functools.cache
def _geographic(lat_deg: float, lon_deg: float, alt_m: float) -> Any:
    return wgs84.latlon(lat_deg, lon_deg, elevation_m=alt_m)


def _times(times: float | npt.ArrayLike, skyfield_t: Any) -> tuple[FloatArray, Any]:
    seconds = as_float_array(times)
    return seconds, (skyfield_time(seconds) if skyfield_t is None else skyfield_t)


def _geocentric_moon_km(t: Any) -> FloatArray:
    """The Moon's apparent geocentric position (GCRS, km, ``(3, N)``), shared by all stations."""
    eph = load_ephemeris()
    apparent = eph.earth.at(t).observe(eph.moon).apparent()
    return np.asarray(apparent.position.km, dtype=np.float64).reshape(3, -1)


def _look(station: GroundStation, t: Any, moon_km: FloatArray) -> tuple[FloatArray, ...]:
    """Elevation, azimuth (degrees) and the station-to-Moon vector (GCRS, km) at ``t``.

    The topocentric vector is the geocentric apparent Moon minus the station's GCRS position
    (both from skyfield), turned into the station's horizon frame with skyfield's
    ``GeographicPosition.rotation_at`` (x north, y east, z up). This is the same computation as
    skyfield's ``(earth + station).at(t).observe(moon).apparent().altaz()`` except that light
    time and aberration are those of the Earth's centre, which changes the elevation by about
    1e-5 deg (tests compare the two); the Moon's position is then computed once for all
    stations instead of once per station, which makes a 9-station prediction about 9x faster.
    """
    geographic = _geographic(station.lat_deg, station.lon_deg, station.alt_m)
    station_km = np.asarray(geographic.at(t).position.km, dtype=np.float64).reshape(3, -1)
    topocentric = moon_km - station_km
    rotation = np.asarray(geographic.rotation_at(t), dtype=np.float64).reshape(3, 3, -1)
    x, y, z = np.einsum("ijn,jn->in", rotation, topocentric)
    elevation = np.degrees(np.arctan2(z, np.hypot(x, y)))
    azimuth = np.mod(np.degrees(np.arctan2(y, x)), 360.0)
    return elevation, azimuth, topocentric


def moon_elevations_deg(
    stations: Iterable[GroundStation],
    times: float | npt.ArrayLike,
    *,
    skyfield_t: Any = None,
) -> FloatArray:
    """The Moon's elevation from each station (degrees), shape ``(stations, times)``.

    ``skyfield_t``, when given, is a skyfield ``Time`` for ``times`` shared between calls.
    """
    seconds, t = _times(times, skyfield_t)
    moon_km = _geocentric_moon_km(t)
    rows = [_look(station, t, moon_km)[0] for station in stations]
    return np.array(rows, dtype=np.float64).reshape(len(rows), seconds.size)


def moon_elevation_deg(
    station: GroundStation, times: float | npt.ArrayLike, *, skyfield_t: Any = None
) -> FloatArray:
    """The Moon's elevation seen from ``station`` (degrees), one value per time."""
    rows = moon_elevations_deg([station], times, skyfield_t=skyfield_t)
    return np.asarray(rows[0], dtype=np.float64)


def moon_from_stations(
    stations: Iterable[GroundStation],
    times: float | npt.ArrayLike,
    site: Site | None = None,
    *,
    facts: MissionFacts | None = None,
    skyfield_t: Any = None,
) -> list[MoonLook]:
    """Elevation, azimuth, range and light time of the Moon (site) from each station.

    Elevation and azimuth are those of the Moon's centre; range and light time are to the site
    (the Moon-centre vector plus the centre-to-site offset).
    """
    seconds, t = _times(times, skyfield_t)
    moon_km = _geocentric_moon_km(t)
    offset_km = site_offset_icrf_km(seconds, site, facts=facts)
    looks = []
    for station in stations:
        elevation, azimuth, topocentric = _look(station, t, moon_km)
        range_km = np.linalg.norm(topocentric + offset_km, axis=0)
        looks.append(
            MoonLook(
                station_id=station.id,
                times=seconds,
                elevation_deg=elevation,
                azimuth_deg=azimuth,
                range_km=range_km,
                light_time_s=range_km / SPEED_OF_LIGHT_KM_S,
            )
        )
    return looks


def moon_from_station(
    station: GroundStation,
    times: float | npt.ArrayLike,
    site: Site | None = None,
    *,
    facts: MissionFacts | None = None,
) -> MoonLook:
    """Elevation, azimuth, range and light time of the Moon (site) from one station."""
    return moon_from_stations([station], times, site, facts=facts)[0]


def link_visible(
    moon_elevation: npt.ArrayLike,
    earth_elevation: npt.ArrayLike,
    station_mask_deg: float,
    site_mask_deg: float,
) -> npt.NDArray[np.bool_]:
    """Whether a station and a site see each other: both elevations above their masks."""
    return np.logical_and(
        np.asarray(moon_elevation) >= station_mask_deg,
        np.asarray(earth_elevation) >= site_mask_deg,
    )

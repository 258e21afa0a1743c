"""Sun, Earth and Moon geometry for a site near the lunar south pole, and the space link.

Times are float seconds since the Unix epoch, UTC; functions that take times accept numpy arrays
as well as scalars and return arrays. Everything runs offline (DE421 from skyfield-data, the IAU
lunar rotation model written out in :mod:`mission.geometry.moon_frame`). Defaults come from
``seeds/mission_facts.yaml`` through :mod:`mission.facts`.

Modules, one concern each:

- :mod:`~mission.geometry.ephemeris`: offline skyfield loading and time conversion;
- :mod:`~mission.geometry.moon_frame`: the Moon's body-fixed orientation;
- :mod:`~mission.geometry.site`: Sun and Earth seen from the site, range and light time;
- :mod:`~mission.geometry.stations`: ground stations and the Moon seen from them;
- :mod:`~mission.geometry.table`: the interpolated per-step lookup for the simulator;
- :mod:`~mission.geometry.passes`: pass prediction and the Earth-elevation series;
- :mod:`~mission.geometry.link_budget`: link budgets and frame error rates.
"""

from mission.geometry.ephemeris import (
    SPEED_OF_LIGHT_KM_S,
    Ephemeris,
    load_ephemeris,
    skyfield_time,
)
from mission.geometry.link_budget import (
    LinkBudget,
    LinkParameters,
    air_mass,
    atmospheric_loss_db,
    bit_error_rate,
    dish_gain_dbi,
    frame_error_rate,
    free_space_loss_db,
    link_budget,
    station_g_over_t_dbk,
    system_noise_temperature_k,
    uplink_budget,
)
from mission.geometry.moon_frame import (
    latlon_from_vector,
    moon_fixed_from_icrf,
    moon_orientation_deg,
    rotation_icrf_to_moon_fixed,
)
from mission.geometry.passes import (
    ElevationSeries,
    LimitCause,
    Pass,
    coverage,
    earth_elevation_series,
    next_contact,
    predict_passes,
)
from mission.geometry.site import (
    SiteFrame,
    SiteGeometry,
    earth_elevation_deg,
    site_frame,
    site_geometry,
    site_offset_icrf_km,
    sub_earth_point,
)
from mission.geometry.stations import (
    GroundStation,
    MoonLook,
    UnknownStationError,
    get_station,
    ground_stations,
    link_visible,
    moon_elevation_deg,
    moon_elevations_deg,
    moon_from_station,
    moon_from_stations,
    resolve_stations,
    site_earth_mask_deg,
)
from mission.geometry.table import GeometrySample, GeometryTable, StationView

__all__ = [
    "SPEED_OF_LIGHT_KM_S",
    "ElevationSeries",
    "Ephemeris",
    "GeometrySample",
    "GeometryTable",
    "GroundStation",
    "LimitCause",
    "LinkBudget",
    "LinkParameters",
    "MoonLook",
    "Pass",
    "SiteFrame",
    "SiteGeometry",
    "StationView",
    "UnknownStationError",
    "air_mass",
    "atmospheric_loss_db",
    "bit_error_rate",
    "coverage",
    "dish_gain_dbi",
    "earth_elevation_deg",
    "earth_elevation_series",
    "frame_error_rate",
    "free_space_loss_db",
    "get_station",
    "ground_stations",
    "latlon_from_vector",
    "link_budget",
    "link_visible",
    "load_ephemeris",
    "moon_elevation_deg",
    "moon_elevations_deg",
    "moon_fixed_from_icrf",
    "moon_from_station",
    "moon_from_stations",
    "moon_orientation_deg",
    "next_contact",
    "predict_passes",
    "resolve_stations",
    "rotation_icrf_to_moon_fixed",
    "site_earth_mask_deg",
    "site_frame",
    "site_geometry",
    "site_offset_icrf_km",
    "skyfield_time",
    "station_g_over_t_dbk",
    "sub_earth_point",
    "system_noise_temperature_k",
    "uplink_budget",
]

"""``/api/v1/passes`` and ``/api/v1/links/carrier``: contact windows and who carries each link.

Both use the geometry shared with the simulator (``mission.geometry``) at the **mission** time
of the ground's clock, so a simulation running at 1000× or set to another epoch is predicted for
its own time.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ground.api.deps import Services
from ground.api.errors import invalid, responses
from ground.api.schemas_commanding import (
    CarrierOut,
    EarthElevationOut,
    HandoverOut,
    LinkCarrierOut,
    PassesOut,
    PassOut,
    StationContactOut,
    SunDirectionOut,
)
from ground.commanding.wiring import link_service_of, predictor_of
from ground.security import Role, require
from mission.geometry import UnknownStationError

router = APIRouter(dependencies=[Depends(require(Role.VIEWER))], responses=responses(Role.VIEWER))

MAX_HOURS = 31 * 24.0
MAX_SERIES_POINTS = 5_000


@router.get(
    "/passes",
    tags=["links"],
    summary="Predicted passes",
    description="Passes of every ground station (or one) over the landing site for the next "
    "`hours` from the mission time: AOS, LOS, highest Moon elevation and what limits each end "
    "(the station's elevation mask or the Earth setting at the site), and the Earth's elevation "
    "at the site every `step_s`, with the Sun's direction at the same times.",
    response_model=PassesOut,
)
async def passes(
    services: Services,
    hours: Annotated[
        float,
        Query(gt=0, le=MAX_HOURS, description="How far ahead to predict (hours).", examples=[24]),
    ] = 24.0,
    station: Annotated[
        str | None,
        Query(
            description="Only this ground station (its id); every station if absent.",
            examples=["dss43"],
        ),
    ] = None,
    step_s: Annotated[
        float,
        Query(
            ge=10,
            le=86_400,
            description="Seconds between points of the Earth elevation series.",
            examples=[600],
        ),
    ] = 600.0,
) -> PassesOut:
    if hours * 3600.0 / step_s > MAX_SERIES_POINTS:
        invalid(
            ("query", "step_s"),
            f"{hours} h every {step_s} s is more than {MAX_SERIES_POINTS} points; "
            f"use step_s >= {hours * 3600.0 / MAX_SERIES_POINTS:.0f}",
            step_s,
        )
    predictor = predictor_of(services)
    if station is not None and station not in predictor.station_ids:
        invalid(
            ("query", "station"),
            f"unknown ground station {station!r}; valid ids: {', '.join(predictor.station_ids)}",
            station,
        )
    start = services.state.clock.now()
    try:
        found = await asyncio.to_thread(predictor.passes, start, hours, station)
    except UnknownStationError as exc:
        invalid(("query", "station"), str(exc), station)
    series = await asyncio.to_thread(predictor.earth_elevation, start, hours, step_s)
    return PassesOut(
        start=start,
        end=start + hours * 3600.0,
        hours=hours,
        station=station,
        passes=[
            PassOut(
                station=p.station_id,
                aos=p.aos,
                los=p.los,
                duration_s=p.duration_s,
                max_elevation_deg=p.max_elevation_deg,
                max_elevation_time=p.max_elevation_time,
                aos_cause=p.aos_cause.value,
                los_cause=p.los_cause.value,
            )
            for p in found
        ],
        earth=EarthElevationOut(
            times=series.times.tolist(),
            elevation_deg=series.elevation_deg.tolist(),
            azimuth_deg=series.azimuth_deg.tolist(),
            mask_deg=series.mask_deg,
            step_s=step_s,
        ),
        sun=SunDirectionOut(
            times=series.times.tolist(),
            elevation_deg=series.sun_elevation_deg.tolist(),
            azimuth_deg=series.sun_azimuth_deg.tolist(),
        ),
    )


@router.get(
    "/links/carrier",
    tags=["links"],
    summary="Station carrying each vehicle's link",
    description="For each vehicle the station that carries its link now (in view and locked, by "
    "the station monitor, or by the ground's prediction where a station sends no monitor data), "
    "the recent handovers, and every station's predicted and monitored contact.",
    response_model=LinkCarrierOut,
)
async def carrier(services: Services) -> LinkCarrierOut:
    snapshot = await asyncio.to_thread(link_service_of(services).snapshot)
    return LinkCarrierOut(
        time=snapshot["time"],
        vehicles=[CarrierOut.model_validate(v) for v in snapshot["vehicles"]],
        handovers=[HandoverOut.model_validate(h) for h in snapshot["handovers"]],
        stations=[StationContactOut.model_validate(s) for s in snapshot["stations"]],
    )

"""``/api/v1/mdb/...``: the mission database (parameters, packets, commands, events, stations)."""

from __future__ import annotations

import fnmatch
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from ground.api.deps import Services
from ground.api.errors import not_found, responses
from ground.api.schemas import (
    ArgumentInfo,
    CommandInfo,
    EventInfo,
    LimitsOut,
    PacketInfo,
    ParameterInfo,
    StationInfo,
)
from ground.security import Role, require
from mission.mdb.database import MissionDatabase
from mission.mdb.models import ArgumentDef, ParameterDef

router = APIRouter(
    prefix="/mdb",
    tags=["mission database"],
    dependencies=[Depends(require(Role.VIEWER))],
    responses=responses(Role.VIEWER),
)

ParameterName = Annotated[
    str,
    Path(
        description="Parameter name, <vehicle>.<subsystem>.<name>.",
        examples=["rover.power.battery_soc"],
    ),
]
Vehicle = Annotated[
    str | None, Query(description="Only this vehicle (rover or lander).", examples=["rover"])
]


def _enumeration(table: dict[int, str] | None) -> dict[str, str] | None:
    return None if not table else {str(k): v for k, v in table.items()}


def parameter_info(mdb: MissionDatabase, p: ParameterDef) -> ParameterInfo:
    calibration = p.calibration
    packet = mdb.packet_of_parameter.get(p.name)
    return ParameterInfo(
        name=p.name,
        vehicle=p.vehicle,
        subsystem=p.subsystem,
        description=p.description,
        type=p.type.value,
        units=p.units,
        encoding=p.encoding,
        polynomial=list(calibration.polynomial)
        if calibration is not None and calibration.polynomial is not None
        else None,
        enumeration=_enumeration(p.enumeration),
        limits=LimitsOut(**p.limits.model_dump()) if p.limits is not None else None,
        state_alarms={str(a.state).lower(): a.severity.value for a in p.alarms},
        packet=packet.name if packet is not None else None,
        period_s=packet.period if packet is not None else None,
    )


def argument_info(a: ArgumentDef) -> ArgumentInfo:
    return ArgumentInfo(
        name=a.name,
        description=a.description,
        type=a.type.value,
        units=a.units,
        encoding=a.encoding,
        min=a.min,
        max=a.max,
        enumeration=_enumeration(a.enumeration),
        default=a.default,
    )


@router.get(
    "/parameters",
    summary="List parameters",
    description="Parameters of the mission database, sorted by name. Filter by vehicle, "
    "subsystem, and a search text (a substring of the name or description, or an fnmatch "
    "pattern such as `rover.power.*`).",
    response_model=list[ParameterInfo],
)
async def list_parameters(
    services: Services,
    vehicle: Vehicle = None,
    subsystem: Annotated[
        str | None, Query(description="Only this subsystem.", examples=["power"])
    ] = None,
    search: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Substring of the name or description (case-insensitive), or a pattern.",
            examples=["battery"],
        ),
    ] = None,
) -> list[ParameterInfo]:
    mdb = services.mdb
    out = []
    needle = search.lower() if search else None
    pattern = bool(search) and any(c in (search or "") for c in "*?[")
    for p in sorted(mdb.parameters.values(), key=lambda p: p.name):
        if vehicle is not None and p.vehicle != vehicle:
            continue
        if subsystem is not None and p.subsystem != subsystem:
            continue
        if needle is not None:
            if pattern:
                if not fnmatch.fnmatchcase(p.name, search or ""):
                    continue
            elif needle not in p.name.lower() and needle not in p.description.lower():
                continue
        out.append(parameter_info(mdb, p))
    return out


@router.get(
    "/parameters/{name}",
    summary="Describe one parameter",
    description="Type, units, calibration, limits and the packet that carries it.",
    response_model=ParameterInfo,
    responses=responses(Role.VIEWER, not_found_what="parameter"),
)
async def get_parameter(services: Services, name: ParameterName) -> ParameterInfo:
    p = services.mdb.parameters.get(name)
    if p is None:
        raise not_found(f"unknown parameter {name!r}")
    return parameter_info(services.mdb, p)


@router.get(
    "/packets",
    summary="List telemetry packets",
    description="Housekeeping and science packets with their APID, PUS type and parameters.",
    response_model=list[PacketInfo],
)
async def list_packets(services: Services, vehicle: Vehicle = None) -> list[PacketInfo]:
    return [
        PacketInfo(
            name=p.name,
            vehicle=p.vehicle,
            description=p.description,
            apid=p.apid,
            service=p.service,
            subtype=p.subtype,
            sid=p.sid,
            vcid=p.vcid,
            period_s=p.period,
            parameters=list(p.parameters),
        )
        for p in sorted(services.mdb.packets.values(), key=lambda p: p.name)
        if vehicle is None or p.vehicle == vehicle
    ]


@router.get(
    "/commands",
    summary="List telecommands",
    description="Commands with their arguments, ranges and criticality.",
    response_model=list[CommandInfo],
)
async def list_commands(services: Services, vehicle: Vehicle = None) -> list[CommandInfo]:
    return [
        CommandInfo(
            name=c.name,
            vehicle=c.vehicle,
            description=c.description,
            apid=c.apid,
            service=c.service,
            subtype=c.subtype,
            function_id=c.function_id,
            criticality=c.criticality.value,
            execution_time_s=c.execution_time,
            arguments=[argument_info(a) for a in c.arguments],
        )
        for c in sorted(services.mdb.commands.values(), key=lambda c: c.name)
        if vehicle is None or c.vehicle == vehicle
    ]


@router.get(
    "/events",
    summary="List event definitions",
    description="On-board events (PUS service 5) with severity and message template.",
    response_model=list[EventInfo],
)
async def list_event_definitions(services: Services, vehicle: Vehicle = None) -> list[EventInfo]:
    return [
        EventInfo(
            id=e.id,
            name=e.name,
            vehicle=e.vehicle,
            description=e.description,
            severity=e.severity.value,
            message=e.message,
            arguments=[argument_info(a) for a in e.arguments],
        )
        for e in sorted(services.mdb.events.values(), key=lambda e: e.id)
        if vehicle is None or e.vehicle == vehicle
    ]


@router.get(
    "/stations",
    summary="List ground stations",
    description="Ground stations: position, dish, band, elevation mask.",
    response_model=list[StationInfo],
)
async def list_stations(services: Services) -> list[StationInfo]:
    return [
        StationInfo.model_validate(s.model_dump())
        for s in sorted(services.mdb.stations.values(), key=lambda s: s.id)
    ]

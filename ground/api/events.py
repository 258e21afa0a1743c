"""``/api/v1/events`` and ``/api/v1/alarms``: what happened on board, and what needs attention."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query

from ground.api.deps import Services, in_thread, timestamp
from ground.api.errors import invalid, not_found, responses
from ground.api.parameters import End, Start
from ground.api.schemas import (
    AcknowledgeRequest,
    AcknowledgeResponse,
    AlarmOut,
    AlarmStateLiteral,
    EventOut,
    SeverityLiteral,
)
from ground.model import AlarmState, AlarmView
from ground.security import Principal, Role, require
from ground.stream.encode import alarm_row

log = logging.getLogger("lupex.ground.api")

router = APIRouter(
    dependencies=[Depends(require(Role.VIEWER))],
    responses=responses(Role.VIEWER),
)

MAX_EVENTS = 10_000

AlarmId = Annotated[
    str,
    Path(
        description="Alarm id, <parameter>@<trigger time in ms>.",
        examples=["rover.thermal.battery_temperature@1767225600000"],
    ),
]


@router.get(
    "/events",
    tags=["events"],
    summary="Events",
    description="Archived events generated in [start, end) (default: everything up to now), "
    "oldest first, filtered by severity and spacecraft; at most `limit`. With `newest_first`, "
    "the newest `limit` events, newest first.",
    response_model=list[EventOut],
)
async def list_events(
    services: Services,
    start: Start = None,
    end: End = None,
    severity: Annotated[
        SeverityLiteral | None, Query(description="Only this severity.", examples=["high"])
    ] = None,
    spacecraft: Annotated[
        str | None, Query(description="Only this spacecraft.", examples=["rover"])
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_EVENTS, description="Most events returned.", examples=[100])
    ] = 1000,
    newest_first: Annotated[bool, Query(description="Newest first.")] = False,
) -> list[EventOut]:
    t0 = timestamp(start) if start is not None else None
    t1 = timestamp(end) if end is not None else None
    if t0 is not None and t1 is not None and not t0 < t1:
        invalid(("query", "start"), f"start ({t0}) must be before end ({t1})", t0)
    records = await in_thread(
        services.archive.events,
        t0,
        t1,
        severity,
        spacecraft,
        limit,
        newest_first=newest_first,
    )
    out = []
    for r in records:
        try:
            args = json.loads(r.args_json)
        except json.JSONDecodeError:
            args = {}
        out.append(
            EventOut(
                generation_time=r.generation_time,
                reception_time=r.reception_time,
                spacecraft=r.spacecraft,
                event_id=r.event_id,
                name=r.name,
                severity=r.severity,
                message=r.message,
                args=args if isinstance(args, dict) else {"value": args},
            )
        )
    return out


def alarm_out(view: AlarmView) -> AlarmOut:
    row: dict[str, Any] = alarm_row(view)
    return AlarmOut.model_validate(row)


@router.get(
    "/alarms",
    tags=["alarms"],
    summary="Alarms",
    description="Open alarms and recently cleared ones, newest trigger first; filter by state.",
    response_model=list[AlarmOut],
)
async def list_alarms(
    services: Services,
    state: Annotated[
        AlarmStateLiteral | None, Query(description="Only this state.", examples=["raised"])
    ] = None,
) -> list[AlarmOut]:
    views = services.state.alarms.all(AlarmState(state) if state is not None else None)
    return [alarm_out(v) for v in views]


@router.get(
    "/alarms/{alarm_id}",
    tags=["alarms"],
    summary="One alarm",
    description="An alarm by id (`<parameter>@<trigger time in ms>`).",
    response_model=AlarmOut,
    responses=responses(Role.VIEWER, not_found_what="alarm"),
)
async def get_alarm(services: Services, alarm_id: AlarmId) -> AlarmOut:
    try:
        return alarm_out(services.state.alarms.get(alarm_id))
    except KeyError:
        raise not_found(f"unknown alarm {alarm_id!r}") from None


@router.post(
    "/alarms/{alarm_id}/acknowledge",
    tags=["alarms"],
    summary="Acknowledge an alarm",
    description="Record who acknowledged the alarm and when (operator role). A raised alarm "
    "becomes acknowledged, or cleared at once when its value is already back in limits; "
    "acknowledging a handled alarm changes nothing.",
    response_model=AcknowledgeResponse,
    responses=responses(Role.OPERATOR, not_found_what="alarm"),
)
async def acknowledge_alarm(
    services: Services,
    alarm_id: AlarmId,
    principal: Annotated[Principal, Depends(require(Role.OPERATOR))],
    request: Annotated[AcknowledgeRequest | None, Body()] = None,
) -> AcknowledgeResponse:
    comment = request.comment if request is not None else None
    try:
        view = services.state.alarms.acknowledge(
            alarm_id, principal.name, services.state.clock.now()
        )
    except KeyError:
        raise not_found(f"unknown alarm {alarm_id!r}") from None
    # The manager queues the change; ingest archives it and streams it with its next batch.
    log.info(
        "alarm %s acknowledged by %s%s",
        alarm_id,
        principal.name,
        f": {comment}" if comment else "",
    )
    return AcknowledgeResponse(
        alarm=alarm_out(view), acknowledged_by=principal.name, comment=comment
    )

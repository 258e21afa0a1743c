"""``/api/v1/commands``: send commands, follow their verification, history, CSV, link status.

Operators send (``POST``) and cancel queued commands (``DELETE``); viewers read. A refused request
is a 422 in FastAPI's format whose ``loc`` names the field (``["body", "args", "distance"]``,
``["body", "confirm"]``...) and whose ``msg`` gives the reason and the allowed range; an immediate
release that no station can carry now is a 409 with the reason and the next AOS.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, NoReturn

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status

from ground.api.deps import Services, timestamp
from ground.api.errors import invalid, not_found, responses
from ground.api.schemas import ErrorMessage
from ground.api.schemas_commanding import (
    CommandLinkOut,
    CommandOut,
    CommandRequest,
    Cop1Directive,
    StageLiteral,
)
from ground.commanding.history import to_csv
from ground.commanding.service import CommandService
from ground.commanding.validation import CommandRequestError
from ground.commanding.wiring import command_service_of
from ground.security import Principal, Role, require

router = APIRouter(tags=["commands"], responses=responses(Role.VIEWER))

MAX_COMMANDS = 10_000


def command_service(services: Services) -> CommandService:
    return command_service_of(services)


Commands = Annotated[CommandService, Depends(command_service)]
StateFilter = Annotated[
    StageLiteral | Literal["active", "final"] | None,
    Query(
        description="Only commands in this stage; `active`: released and not finished, `final`: "
        "completed, failed, rejected or cancelled.",
        examples=["queued"],
    ),
]
Window = Annotated[
    datetime | None,
    Query(description="ISO 8601 (UTC when no offset) or Unix seconds, mission time."),
]
VehicleFilter = Annotated[
    str | None,
    Query(description="Only commands to this vehicle (`rover` or `lander`).", examples=["rover"]),
]
CommandId = Annotated[
    str,
    Path(
        description="The id returned when the command was sent.",
        examples=["0f8c2b5e-3d4a-4e61-9a57-2c1f0e6b7d90"],
    ),
]


def _window(start: datetime | None, end: datetime | None) -> tuple[float | None, float | None]:
    t0 = timestamp(start) if start is not None else None
    t1 = timestamp(end) if end is not None else None
    if t0 is not None and t1 is not None and not t0 < t1:
        invalid(("query", "start"), f"start ({t0}) must be before end ({t1})", t0)
    return t0, t1


def _refuse(exc: CommandRequestError, body: CommandRequest | Cop1Directive) -> NoReturn:
    if exc.status == status.HTTP_409_CONFLICT:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=exc.message)
    loc: tuple[str, ...] = ("body", *exc.field.split("."))
    value: Any = body.model_dump().get(exc.field)
    if exc.field.startswith("args.") and isinstance(body, CommandRequest):
        value = body.args.get(exc.field.removeprefix("args."))
    invalid(loc, exc.message, value)


@router.post(
    "/commands",
    summary="Send a command",
    description="Validate a command against the mission database and queue it (operator). It "
    "is released while a station can reach the vehicle (the ground's prediction at the mission "
    "time, cross-checked with the station monitor), encoded as a PUS-C TC in a TC transfer frame "
    "and published on that station's uplink topic; its verification stages follow (GET "
    "/commands/{id}, or the `commands` stream). Critical commands need `confirm: true`.",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CommandOut,
    responses={
        **responses(Role.OPERATOR),
        409: {"model": ErrorMessage, "description": "Immediate release impossible now."},
    },
)
async def send_command(
    body: CommandRequest,
    commands: Commands,
    principal: Annotated[Principal, Depends(require(Role.OPERATOR))],
) -> CommandOut:
    try:
        view = await commands.submit(
            body.name,
            body.args,
            principal.name,
            confirm=body.confirm,
            immediate=body.release == "immediate",
            station=body.station,
            bypass=body.bypass,
        )
    except CommandRequestError as exc:
        _refuse(exc, body)
    return CommandOut.model_validate(view)


@router.get(
    "/commands",
    summary="Command history",
    description="Commands created in [start, end) (mission time), oldest first, optionally in "
    "one stage; the newest `limit` of them.",
    response_model=list[CommandOut],
    dependencies=[Depends(require(Role.VIEWER))],
)
async def list_commands(
    commands: Commands,
    start: Window = None,
    end: Window = None,
    state: StateFilter = None,
    vehicle: VehicleFilter = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_COMMANDS, description="At most this many (the newest).")
    ] = 1000,
) -> list[CommandOut]:
    t0, t1 = _window(start, end)
    views = await commands.history(t0, t1, state, limit, vehicle)
    return [CommandOut.model_validate(v) for v in views]


@router.get(
    "/commands/export.csv",
    summary="Command history as CSV",
    description="The same selection as GET /commands, one row per command with the mission time "
    "of each stage.",
    response_class=Response,
    dependencies=[Depends(require(Role.VIEWER))],
    responses={200: {"content": {"text/csv": {"example": "id,name,vehicle,...\n"}}}},
)
async def export_commands(
    commands: Commands,
    start: Window = None,
    end: Window = None,
    state: StateFilter = None,
    vehicle: VehicleFilter = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_COMMANDS, description="At most this many (the newest).")
    ] = MAX_COMMANDS,
) -> Response:
    t0, t1 = _window(start, end)
    views = await commands.history(t0, t1, state, limit, vehicle)
    return Response(
        to_csv(views),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="commands.csv"'},
    )


@router.get(
    "/commands/link-status",
    summary="Command-link status",
    description="Per vehicle: the FARM state from the CLCW of its downlinked frames (lockout, "
    "wait, retransmit, FARM-B counter, report value N(R)) beside the next frame sequence number "
    "N(S) the ground will send.",
    response_model=list[CommandLinkOut],
    dependencies=[Depends(require(Role.VIEWER))],
)
async def link_status(commands: Commands) -> list[CommandLinkOut]:
    return [CommandLinkOut.model_validate(s) for s in commands.link_status()]


@router.post(
    "/commands/link/{vehicle}/cop1",
    summary="COP-1 directive",
    description="Drive the ground's FOP-1 for one vehicle (operator): Initiate AD service (without "
    "or with CLCW check, with Unlock or with Set V(R), the last two send a Type-BC frame through "
    "a station in view), Terminate AD, Resume AD after a suspension, Set V(S), set the FOP "
    "parameters (window K, timer T1, transmission limit, timeout type), or switch the vehicle "
    "between Type-AD (COP-1) and Type-BD (bypass) commanding. Returns the vehicle's "
    "command-link status. 409 when the FOP's state or the link refuses the directive.",
    response_model=CommandLinkOut,
    responses={
        **responses(Role.OPERATOR, not_found_what="vehicle"),
        409: {"model": ErrorMessage, "description": "Refused in the FOP's present state."},
    },
)
async def cop1_directive(
    vehicle: Annotated[str, Path(description="`rover` or `lander`.", examples=["rover"])],
    body: Cop1Directive,
    commands: Commands,
    principal: Annotated[Principal, Depends(require(Role.OPERATOR))],
) -> CommandLinkOut:
    fields = ("window", "t1_s", "transmission_limit", "timeout_type")
    parameters = {f: getattr(body, f) for f in fields if getattr(body, f) is not None}
    try:
        view = await commands.cop1_directive(
            vehicle,
            body.directive,
            mode=body.mode,
            set_vr=body.set_vr,
            v_s=body.v_s,
            tc_mode=body.tc_mode,
            parameters=parameters,
            station=body.station,
            by=principal.name,
        )
    except CommandRequestError as exc:
        if exc.field == "vehicle":
            raise not_found(exc.message) from exc
        _refuse(exc, body)
    return CommandLinkOut.model_validate(view)


@router.get(
    "/commands/{command_id}",
    summary="One command",
    description="A command with every verification stage reached so far and its time.",
    response_model=CommandOut,
    dependencies=[Depends(require(Role.VIEWER))],
    responses=responses(Role.VIEWER, not_found_what="command"),
)
async def get_command(command_id: CommandId, commands: Commands) -> CommandOut:
    view = await commands.get(command_id)
    if view is None:
        raise not_found(f"unknown command {command_id!r}")
    return CommandOut.model_validate(view)


@router.delete(
    "/commands/{command_id}",
    summary="Cancel a queued command",
    description="Take a command off the queue before its release (operator); 409 once released.",
    response_model=CommandOut,
    responses={
        **responses(Role.OPERATOR, not_found_what="command"),
        409: {"model": ErrorMessage, "description": "Already released."},
    },
)
async def cancel_command(
    command_id: CommandId,
    commands: Commands,
    principal: Annotated[Principal, Depends(require(Role.OPERATOR))],
) -> CommandOut:
    try:
        view = commands.cancel(command_id, principal.name)
    except KeyError:
        raise not_found(f"unknown or finished command {command_id!r}") from None
    except CommandRequestError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=exc.message) from None
    return CommandOut.model_validate(view)

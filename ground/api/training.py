"""``/api/v1/faults`` and ``/api/v1/training``: fault injection and training (instructor role).

Every endpoint needs the instructor role: no token → 401, a viewer or operator token → 403. A bad
fault parameter is a 422 whose ``loc`` is ``["body", "params", "<name>"]``; an unknown fault or
scenario a 404; starting a scenario while one runs, or stopping when none ran, a 409.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

from fastapi import APIRouter, Body, Depends, HTTPException, Path, status

from ground.api.deps import Services
from ground.api.errors import invalid, responses
from ground.api.schemas import ErrorMessage
from ground.api.schemas_commanding import (
    ControlOut,
    DebriefOut,
    FaultOut,
    InjectRequest,
    ScenarioOut,
    TrainingStatusOut,
)
from ground.commanding.wiring import training_service_of
from ground.security import Principal, Role, require
from ground.training.service import TrainingError, TrainingService

router = APIRouter(
    tags=["training"],
    dependencies=[Depends(require(Role.INSTRUCTOR))],
    responses={
        **responses(Role.INSTRUCTOR),
        404: {"model": ErrorMessage, "description": "Unknown fault or scenario."},
        409: {"model": ErrorMessage, "description": "Not possible in the current state."},
    },
)

Instructor = Annotated[Principal, Depends(require(Role.INSTRUCTOR))]
FaultId = Annotated[
    str,
    Path(
        description="A fault of the catalogue (GET /faults); to clear one instance, `<fault>#<n>`.",
        examples=["battery_cell_failure"],
    ),
]
ScenarioName = Annotated[
    str,
    Path(description="A scenario of GET /training/scenarios.", examples=["heater_failure_at_dusk"]),
]


def training_service(services: Services) -> TrainingService:
    return training_service_of(services)


Training = Annotated[TrainingService, Depends(training_service)]


def _refuse(exc: TrainingError, value: object = None) -> NoReturn:
    if exc.status == 422:  # starlette renamed its constant; the number is stable
        invalid(("body", *exc.field.split(".")), exc.message, value)
    raise HTTPException(exc.status, detail=exc.message)


@router.get(
    "/faults",
    summary="Fault catalogue",
    description="Every fault the simulation can inject, with its parameters (name, unit, range, "
    "default), the vehicle and subsystem it affects and what it should look like on the ground.",
    response_model=list[FaultOut],
)
async def list_faults(training: Training) -> list[FaultOut]:
    return [FaultOut.model_validate(f) for f in training.faults()]


@router.post(
    "/faults/{fault_id}",
    summary="Inject a fault",
    description="Inject one fault of the catalogue into the simulation, with parameters (their "
    "defaults otherwise) and a duration in mission seconds, through lupex/v1/sim/control. The "
    "answer says whether the simulator acknowledged it within a few seconds.",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ControlOut,
)
async def inject_fault(
    fault_id: FaultId,
    training: Training,
    principal: Instructor,
    body: Annotated[InjectRequest | None, Body()] = None,
) -> ControlOut:
    request = body or InjectRequest()
    try:
        out = await training.inject(
            fault_id,
            request.params,
            request.duration_s,
            principal.name,
            until_cleared=request.until_cleared,
        )
    except TrainingError as exc:
        name = exc.field.removeprefix("params.")
        _refuse(exc, request.params.get(name))
    return ControlOut.model_validate(out)


@router.delete(
    "/faults/{fault_id}",
    summary="Clear a fault",
    description="Clear every instance of a fault, or one instance (`<fault>#<n>`).",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ControlOut,
)
async def clear_fault(fault_id: FaultId, training: Training, principal: Instructor) -> ControlOut:
    try:
        out = await training.clear(fault_id, principal.name)
    except TrainingError as exc:
        _refuse(exc)
    return ControlOut.model_validate(out)


@router.get(
    "/training/scenarios",
    summary="Training scenarios",
    description="The graded scenarios of seeds/scenarios: their steps, duration and the "
    "detections a trainee is expected to make, each with its deadline.",
    response_model=list[ScenarioOut],
)
async def list_scenarios(training: Training) -> list[ScenarioOut]:
    return [ScenarioOut.model_validate(s) for s in training.scenarios()]


@router.post(
    "/training/scenarios/{name}/start",
    summary="Start a scenario",
    description="Start a scenario of seeds/scenarios in the simulation and track its expected "
    "detections as a checklist.",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TrainingStatusOut,
)
async def start_scenario(
    name: ScenarioName, training: Training, principal: Instructor
) -> TrainingStatusOut:
    try:
        out = await training.start(name, principal.name)
    except TrainingError as exc:
        _refuse(exc)
    return TrainingStatusOut.model_validate(out)


@router.post(
    "/training/stop",
    summary="Stop the scenario",
    description="Stop the running scenario (its faults are cleared) and return the debrief.",
    response_model=DebriefOut,
)
async def stop_scenario(training: Training, principal: Instructor) -> DebriefOut:
    try:
        out = await training.stop(principal.name)
    except TrainingError as exc:
        _refuse(exc)
    return DebriefOut.model_validate(out)


@router.get(
    "/training/status",
    summary="Training checklist",
    description="The running (or last) scenario's checklist: each expected detection, detected "
    "or not, and the time to detect it in mission seconds.",
    response_model=TrainingStatusOut,
)
async def training_status(training: Training) -> TrainingStatusOut:
    return TrainingStatusOut.model_validate(training.status())


@router.get(
    "/training/debrief",
    summary="Debrief",
    description="Score (see docs: per detection, acknowledgement, recovery command, penalties) "
    "and the timeline of the current or last run.",
    response_model=DebriefOut,
)
async def training_debrief(training: Training) -> DebriefOut:
    try:
        out = training.debrief()
    except TrainingError as exc:
        _refuse(exc)
    return DebriefOut.model_validate(out)

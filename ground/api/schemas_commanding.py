"""Request and response models of the commanding, passes/links and training endpoints.

Times are Unix seconds (UTC) of **mission** time (the simulation's clock), except ``wall_time``.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

T0: Final = 1767225600.0  # 2026-01-01T00:00:00Z, the examples' epoch

StageLiteral = Literal[
    "queued",
    "released",
    "sent",
    "accepted",
    "rejected",
    "started",
    "progress",
    "completed",
    "failed",
    "timeout",
    "cancelled",
]


def _example(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


# ------------------------------------------------------------------------------------ commands
class CommandRequest(BaseModel):
    """A command to send, by its mission-database name."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "rover.mobility.turn", "args": {"angle": 15.0}},
                {
                    "name": "rover.obsw.set_mode",
                    "args": {"mode": "SAFE"},
                    "confirm": True,
                    "release": "immediate",
                    "station": "dss43",
                },
            ]
        },
    )
    name: str = Field(description="Command name, e.g. rover.mobility.turn (GET /mdb/commands).")
    args: dict[str, Any] = Field(
        default_factory=dict,
        description="Argument values by name (numbers, labels, booleans; strings are converted "
        "by the argument's type). Omitted arguments take their default.",
    )
    confirm: bool = Field(False, description="Must be true for a critical command.")
    release: Literal["queued", "immediate"] = Field(
        "queued",
        description="queued: wait for a station that can reach the vehicle; immediate: send now "
        "or refuse (409) when no station can.",
    )
    station: str | None = Field(
        None, description="Preferred ground station (used when it can reach the vehicle)."
    )
    bypass: bool = Field(
        False,
        description="Send as a Type-BD (bypass) frame even when the vehicle is commanded under "
        "COP-1 (AD): for emergencies, e.g. while AD service is stopped by an alert.",
    )


class StageOut(BaseModel):
    """One verification stage reached."""

    stage: StageLiteral
    time: float = Field(description="Mission time at the ground when the stage was recorded.")
    wall_time: float = Field(description="Wall-clock time at the ground.")
    detail: str = Field("", description="What explains the stage (report, reason, station).")
    station: str | None = None
    generation_time: float | None = Field(
        None, description="On-board time of the PUS 1,x report behind the stage."
    )
    failure_code: int | None = Field(None, description="PUS service 1 failure code.")
    failure_name: str | None = Field(None, description="Its name in the mission database.")
    implied: bool = Field(False, description="Not reported; follows from a later report.")


EX_COMMAND: Final[dict[str, Any]] = {
    "id": "0b6f1f9e-3c1e-4e54-9d7b-9a1c6a1f2b10",
    "name": "rover.mobility.turn",
    "vehicle": "rover",
    "args": {"angle": 15.0},
    "issued_by": "alice",
    "critical": False,
    "stage": "completed",
    "final": True,
    "station": "dss43",
    "apid": 258,
    "seq_count": 12,
    "request_id": 419610636,
    "frame_seq": 12,
    "bypass": False,
    "light_time_s": 1.281,
    "waiting_reason": None,
    "next_aos": None,
    "next_aos_station": None,
    "failure_code": None,
    "failure_name": None,
    "created_at": T0,
    "updated_at": T0 + 65.0,
    "stages": [
        {"stage": "queued", "time": T0, "wall_time": T0, "detail": "by alice, queued"},
        {"stage": "released", "time": T0, "wall_time": T0, "detail": "via dss43"},
        {"stage": "sent", "time": T0, "wall_time": T0, "detail": "TC frame", "station": "dss43"},
        {"stage": "accepted", "time": T0 + 2.7, "wall_time": T0 + 2.7, "detail": "1,1"},
        {"stage": "started", "time": T0 + 2.7, "wall_time": T0 + 2.7, "detail": "1,3"},
        {"stage": "completed", "time": T0 + 65.0, "wall_time": T0 + 65.0, "detail": "1,7"},
    ],
}


class CommandOut(BaseModel):
    """A command and its verification stages."""

    model_config = _example(EX_COMMAND)
    id: str
    name: str
    vehicle: str
    args: dict[str, Any]
    issued_by: str
    critical: bool
    stage: StageLiteral = Field(description="The current stage.")
    final: bool = Field(description="Nothing more will happen (completed, failed, rejected...).")
    station: str | None = Field(description="Station the command was sent through.")
    apid: int | None
    seq_count: int | None = Field(description="TC packet sequence count (set at release).")
    request_id: int | None = Field(description="PUS request id (packet id, sequence control).")
    frame_seq: int | None = Field(description="N(S) of the TC transfer frame.")
    bypass: bool = Field(False, description="Sent as a Type-BD frame, outside COP-1.")
    light_time_s: float | None = Field(description="One-way light time used for the time-outs.")
    waiting_reason: str | None = Field(description="Why a queued command waits.")
    next_aos: float | None = Field(description="Next predicted AOS, while waiting.")
    next_aos_station: str | None
    failure_code: int | None
    failure_name: str | None
    created_at: float
    updated_at: float
    stages: list[StageOut]


class Cop1Out(BaseModel):
    """The ground's FOP-1 (COP-1 sender, CCSDS 232.1-B-2) for one vehicle."""

    model_config = _example(
        {
            "fop_state": "active",
            "v_s": 14,
            "nn_r": 13,
            "sent_queue": 1,
            "wait_queue": 0,
            "transmission_count": 1,
            "timer_deadline": T0 + 110.0,
            "suspended_state": None,
            "last_alert": None,
            "window": 10,
            "t1_s": 10.0,
            "transmission_limit": 3,
            "timeout_type": 0,
            "frames_sent": 14,
            "retransmissions": 2,
            "acknowledged": 13,
            "alerts": 0,
            "bc_frames": 0,
            "auto_initiate_pending": False,
            "held": 0,
            "station": "dss43",
        }
    )
    fop_state: Literal[
        "active",
        "retransmit_without_wait",
        "retransmit_with_wait",
        "initialising_without_bc",
        "initialising_with_bc",
        "initial",
    ] = Field(description="S1..S6 of the standard; `initial`: AD service not active.")
    v_s: int = Field(description="V(S): N(S) of the next new AD frame.")
    nn_r: int = Field(description="NN(R): the oldest frame not yet acknowledged by a CLCW.")
    sent_queue: int = Field(description="AD frames sent and not yet acknowledged.")
    wait_queue: int = Field(description="Requests waiting for room in the window.")
    transmission_count: int
    timer_deadline: float | None = Field(description="Mission time timer T1 expires at.")
    suspended_state: str | None = Field(description="State to resume (timeout type 1).")
    last_alert: str | None = Field(description="Why the FOP last stopped.")
    window: int = Field(description="K: the most AD frames outstanding.")
    t1_s: float = Field(description="Timer T1, mission seconds (plus the wall margin).")
    transmission_limit: int
    timeout_type: int = Field(description="0: alert at the limit; 1: suspend.")
    frames_sent: int
    retransmissions: int
    acknowledged: int
    alerts: int
    bc_frames: int = Field(description="Type-BC frames sent (Unlock, Set V(R)).")
    auto_initiate_pending: bool = Field(
        description="AD service starts by itself when the first CLCW of the vehicle arrives."
    )
    held: int = Field(description="Released commands held until AD service starts.")
    station: str | None = Field(description="Station the AD frames go through.")


class Cop1Directive(BaseModel):
    """A COP-1 directive to the ground's FOP-1 for one vehicle."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"directive": "initiate", "mode": "set_vr", "set_vr": 0},
                {"directive": "terminate"},
                {"directive": "set_parameters", "t1_s": 20.0, "transmission_limit": 5},
                {"directive": "set_tc_mode", "tc_mode": "bd"},
            ]
        },
    )
    directive: Literal[
        "initiate", "terminate", "resume", "set_v_s", "set_parameters", "set_tc_mode"
    ] = Field(description="What to do.")
    mode: Literal["without_clcw_check", "with_clcw_check", "unlock", "set_vr"] = Field(
        "without_clcw_check", description="How to initiate AD service (`initiate`)."
    )
    set_vr: int | None = Field(None, ge=0, le=255, description="New V(R) (`mode: set_vr`).")
    v_s: int | None = Field(None, ge=0, le=255, description="New V(S) (`set_v_s`).")
    tc_mode: Literal["ad", "bd"] | None = Field(None, description="`set_tc_mode`.")
    window: int | None = Field(None, ge=1, le=255, description="K (`set_parameters`).")
    t1_s: float | None = Field(None, gt=0, le=86_400, description="T1 (`set_parameters`).")
    transmission_limit: int | None = Field(
        None, ge=1, le=100, description="Transmission limit (`set_parameters`)."
    )
    timeout_type: Literal[0, 1] | None = Field(None, description="`set_parameters`.")
    station: str | None = Field(
        None, description="Station for a BC frame (Unlock, Set V(R)); default: the best in view."
    )


class CommandLinkOut(BaseModel):
    """Command-link status of one vehicle, from the CLCW of its downlinked frames."""

    model_config = _example(
        {
            "vehicle": "rover",
            "known": True,
            "state": "nominal",
            "lockout": False,
            "wait": False,
            "retransmit": False,
            "no_rf_available": False,
            "no_bit_lock": False,
            "farm_b_counter": 1,
            "vcid": 0,
            "report_value": 13,
            "next_frame_seq": 13,
            "in_step": True,
            "station": "dss43",
            "reception_time": T0,
            "tc_mode": "ad",
            "cop1": None,
        }
    )
    vehicle: str
    known: bool = Field(description="Whether a CLCW of this vehicle has been received.")
    state: str = Field(
        description="nominal, lockout, wait, retransmit, no_rf, no_bit_lock or unknown."
    )
    lockout: bool | None
    wait: bool | None
    retransmit: bool | None
    no_rf_available: bool | None
    no_bit_lock: bool | None
    farm_b_counter: int | None
    vcid: int | None
    report_value: int | None = Field(description="N(R): the next frame the FARM expects.")
    next_frame_seq: int = Field(description="N(S) of the next frame the ground will send.")
    in_step: bool | None = Field(description="Whether N(R) equals the next N(S).")
    station: str | None = Field(description="Station the CLCW came through.")
    reception_time: float | None
    tc_mode: Literal["ad", "bd"] = Field(
        "bd", description="ad: Type-AD frames under COP-1 (FOP-1); bd: bypass (Type-BD)."
    )
    cop1: Cop1Out | None = Field(None, description="The ground's FOP-1 for this vehicle.")


# ------------------------------------------------------------------------------------ passes
class PassOut(BaseModel):
    station: str
    aos: float
    los: float
    duration_s: float
    max_elevation_deg: float = Field(description="Highest Moon elevation at the station.")
    max_elevation_time: float
    aos_cause: str = Field(description="station_mask, site_earth_mask or window.")
    los_cause: str


class EarthElevationOut(BaseModel):
    """The Earth's elevation above the landing site's horizon, sampled every ``step_s``."""

    times: list[float]
    elevation_deg: list[float]
    azimuth_deg: list[float]
    mask_deg: float = Field(description="Site horizon mask: below it no station can reach.")
    step_s: float


class SunDirectionOut(BaseModel):
    """The Sun's direction at the landing site over time (for the rover map and power planning)."""

    times: list[float]
    elevation_deg: list[float]
    azimuth_deg: list[float] = Field(description="Clockwise from north.")


class PassesOut(BaseModel):
    """Predicted passes from the mission time, and the Earth's elevation at the site."""

    model_config = _example(
        {
            "start": T0,
            "end": T0 + 86400.0,
            "hours": 24.0,
            "station": None,
            "passes": [
                {
                    "station": "dss43",
                    "aos": T0 + 3600.0,
                    "los": T0 + 40000.0,
                    "duration_s": 36400.0,
                    "max_elevation_deg": 71.2,
                    "max_elevation_time": T0 + 21000.0,
                    "aos_cause": "station_mask",
                    "los_cause": "station_mask",
                }
            ],
            "earth": {
                "times": [T0, T0 + 600.0],
                "elevation_deg": [3.1, 3.1],
                "azimuth_deg": [12.0, 12.1],
                "mask_deg": 1.5,
                "step_s": 600.0,
            },
            "sun": {
                "times": [T0, T0 + 600.0],
                "elevation_deg": [1.2, 1.2],
                "azimuth_deg": [95.0, 95.1],
            },
        }
    )
    start: float
    end: float
    hours: float
    station: str | None
    passes: list[PassOut]
    earth: EarthElevationOut
    sun: SunDirectionOut


class CarrierOut(BaseModel):
    vehicle: str
    station: str | None = Field(description="Station carrying the vehicle's link now.")
    since: float | None
    source: str | None = Field(description="monitor (prime or locked) or prediction.")
    candidates: list[str] = Field(description="Stations that could carry it now.")


class HandoverOut(BaseModel):
    vehicle: str
    change: Literal["acquired", "handover", "lost"]
    from_station: str | None = Field(alias="from")
    to_station: str | None = Field(alias="to")
    time: float
    reason: str

    model_config = ConfigDict(populate_by_name=True)


class StationContactOut(BaseModel):
    station: str
    predicted_in_view: bool = Field(description="The ground's own prediction.")
    monitor_in_view: bool | None = Field(description="The station monitor's flag.")
    usable: bool = Field(description="Both agree (or no monitor data): commands can go.")
    outage: bool | None = Field(description="The station monitor reports an outage.")
    prime: list[str] = Field(description="Vehicles whose downlink this station carries.")
    moon_elevation_deg: float
    light_time_s: float
    ebn0_db: dict[str, float]
    locked: dict[str, bool]
    frames_received: int
    frames_bad: int
    frame_gaps: int


class LinkCarrierOut(BaseModel):
    """Which station carries each vehicle's link, recent handovers, and every station."""

    model_config = _example(
        {
            "time": T0,
            "vehicles": [
                {
                    "vehicle": "rover",
                    "station": "dss43",
                    "since": T0 - 3600.0,
                    "source": "monitor",
                    "candidates": ["dss43", "usuda"],
                }
            ],
            "handovers": [
                {
                    "vehicle": "rover",
                    "change": "handover",
                    "from": "usuda",
                    "to": "dss43",
                    "time": T0 - 3600.0,
                    "reason": "usuda lost rover; dss43: best Eb/N0 (8.1 dB)",
                }
            ],
            "stations": [
                {
                    "station": "dss43",
                    "predicted_in_view": True,
                    "monitor_in_view": True,
                    "usable": True,
                    "outage": False,
                    "prime": ["lander", "rover"],
                    "moon_elevation_deg": 45.2,
                    "light_time_s": 1.29,
                    "ebn0_db": {"rover": 8.1},
                    "locked": {"rover": True},
                    "frames_received": 1200,
                    "frames_bad": 1,
                    "frame_gaps": 0,
                }
            ],
        }
    )
    time: float = Field(description="Mission time of the snapshot.")
    vehicles: list[CarrierOut]
    handovers: list[HandoverOut]
    stations: list[StationContactOut]


# ------------------------------------------------------------------------------------ training
class FaultParameterOut(BaseModel):
    name: str
    type: str = Field(description="float, int, choice, bool or parameter (an MDB parameter name).")
    default: float | int | str | bool
    description: str
    units: str = ""
    min: float | None = None
    max: float | None = None
    choices: list[str] = Field(default_factory=list)


class FaultOut(BaseModel):
    """One fault of the catalogue (``seeds/faults.yaml``)."""

    model_config = _example(
        {
            "id": "battery_cell_failure",
            "title": "Battery cell failure",
            "description": "Cells of the rover battery fail open.",
            "target": {"kind": "vehicle", "vehicle": "rover", "subsystem": "power"},
            "parameters": [
                {
                    "name": "cells",
                    "type": "int",
                    "default": 1,
                    "description": "Failed cells",
                    "min": 1,
                    "max": 4,
                }
            ],
            "default_duration_s": None,
            "recovery": "Reduce loads.",
            "recovery_commands": ["rover.obsw.set_mode"],
            "effects": ["battery voltage drops"],
            "active": [],
        }
    )
    id: str
    title: str
    description: str
    target: dict[str, Any]
    parameters: list[FaultParameterOut]
    default_duration_s: float | None = Field(description="None: until cleared.")
    recovery: str
    recovery_commands: list[str]
    effects: list[str]
    active: list[str] = Field(description="Instance ids of this fault active now.")


class InjectRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"params": {"cells": 2}, "duration_s": 3600}]},
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Parameter values; omitted ones take their default."
    )
    duration_s: float | None = Field(
        None, gt=0, description="Mission seconds; default: the fault's own duration."
    )
    until_cleared: bool = Field(False, description="Stay until DELETE /faults/{id}.")


class ControlOut(BaseModel):
    """A control message sent to the simulator and its acknowledgement, if it came in time."""

    model_config = _example(
        {
            "request_id": "3f2a9c1d0b7e4a55",
            "message": {"action": "inject_fault", "fault": "battery_cell_failure"},
            "acknowledged": True,
            "accepted": True,
            "reason": "",
        }
    )
    request_id: str | None
    message: dict[str, Any]
    acknowledged: bool = Field(description="The simulator reported the outcome in sim/status.")
    accepted: bool | None
    reason: str | None


class ScenarioOut(BaseModel):
    name: str
    title: str
    description: str
    duration_s: float
    difficulty: int = Field(description="1 easy .. 3 hard.")
    faults: list[dict[str, Any]] = Field(description="The timeline: offset, fault, parameters.")
    expected: list[dict[str, Any]] = Field(description="Expected detections and deadlines.")
    recovery_commands: list[str]


class ChecklistRowOut(BaseModel):
    id: str
    kind: Literal["alarm", "event"]
    target: str = Field(description="Parameter (alarm) or event name.")
    level: str | None
    vehicle: str | None
    description: str
    opens_at: float = Field(description="Mission time the detection window opens.")
    deadline_s: float
    deadline: float
    state: Literal["pending", "detected", "late", "missed"]
    detected: bool
    detected_at: float | None
    seen_at: float | None = Field(description="Ground mission time when it was first seen.")
    time_to_detect_s: float | None = Field(description="Mission seconds from the window opening.")
    evidence: str
    alarm_id: str | None
    acknowledged_at: float | None
    acknowledged_by: str | None


class TrainingStatusOut(BaseModel):
    """The live checklist of the running (or last) scenario."""

    time: float
    state: str = Field(description="idle, starting, running, finished, stopped or ended.")
    scenario: str | None
    title: str | None = None
    started_at: float | None = None
    started_by: str | None = None
    ended_at: float | None = None
    elapsed_s: float | None = None
    detected: int | None = None
    expected: int | None = None
    checklist: list[ChecklistRowOut]
    active_faults: list[dict[str, Any]]
    simulator: dict[str, Any] | None = Field(description="The scenario as sim/status reports it.")


class ScoreLineOut(BaseModel):
    what: str
    points: float
    maximum: float
    reason: str


class ScoreOut(BaseModel):
    points: float
    maximum: float
    percent: float
    grade: Literal["excellent", "good", "pass", "fail"]
    lines: list[ScoreLineOut]


class DebriefOut(TrainingStatusOut):
    """Score and timeline of a run: faults, alarms, acknowledgements, detections, commands."""

    description: str
    recovery_commands: list[str]
    score: ScoreOut
    timeline: list[dict[str, Any]] = Field(
        description="Entries {time, kind, text, ...} in mission-time order; kinds: "
        "scenario_started, fault_injected, fault_cleared, alarm_raised, alarm_acknowledged, "
        "alarm_cleared, detection, command, scenario_ended."
    )


# ----------------------------------------------------------------- examples of the remaining models
# Nested models take their example from their parent's, so the two never disagree; the training
# models get theirs from one realistic run. ``tests/ground/test_api_schemas.py`` validates every
# example against its model.
def _first(model: type[BaseModel], field: str) -> dict[str, Any]:
    extra: Any = model.model_config.get("json_schema_extra")
    value: Any = extra["examples"][0][field]
    return dict(value[0] if isinstance(value, list) else value)


EX_CHECKLIST_ROW: Final[dict[str, Any]] = {
    "id": "charge_fault",
    "kind": "alarm",
    "target": "rover.power.charge_state",
    "level": "red",
    "vehicle": "rover",
    "description": "Charge regulator reports FAULT",
    "opens_at": T0 + 120.0,
    "deadline_s": 60.0,
    "deadline": T0 + 180.0,
    "state": "detected",
    "detected": True,
    "detected_at": T0 + 124.0,
    "seen_at": T0 + 125.3,
    "time_to_detect_s": 4.0,
    "evidence": "alarm rover.power.charge_state@1767225724 raised red",
    "alarm_id": "rover.power.charge_state@1767225724",
    "acknowledged_at": T0 + 190.0,
    "acknowledged_by": "trainee",
}
EX_TRAINING_STATUS: Final[dict[str, Any]] = {
    "time": T0 + 600.0,
    "state": "running",
    "scenario": "battery_cell_failure_during_drive",
    "title": "Battery cell failure during a drive",
    "started_at": T0,
    "started_by": "instructor",
    "ended_at": None,
    "elapsed_s": 600.0,
    "detected": 1,
    "expected": 2,
    "checklist": [EX_CHECKLIST_ROW],
    "active_faults": [{"id": "battery_cell_failure#1", "fault": "battery_cell_failure"}],
    "simulator": {"name": "battery_cell_failure_during_drive", "state": "running"},
}
EX_SCORE: Final[dict[str, Any]] = {
    "points": 85.0,
    "maximum": 100.0,
    "percent": 85.0,
    "grade": "good",
    "lines": [
        {
            "what": "charge_fault detected",
            "points": 40.0,
            "maximum": 40.0,
            "reason": "4 s after the fault, deadline 60 s",
        }
    ],
}
EX_DEBRIEF: Final[dict[str, Any]] = {
    **EX_TRAINING_STATUS,
    "state": "finished",
    "ended_at": T0 + 1800.0,
    "elapsed_s": 1800.0,
    "description": "The rover is driving to its next waypoint when a cell of its battery shorts.",
    "recovery_commands": ["rover.mobility.stop", "rover.obsw.fdir_enable"],
    "score": EX_SCORE,
    "timeline": [
        {"time": T0, "kind": "scenario_started", "text": "battery_cell_failure_during_drive"},
        {"time": T0 + 120.0, "kind": "fault_injected", "text": "battery_cell_failure (cells=1)"},
        {"time": T0 + 124.0, "kind": "alarm_raised", "text": "rover.power.charge_state red"},
    ],
}
EX_SCENARIO: Final[dict[str, Any]] = {
    "name": "battery_cell_failure_during_drive",
    "title": "Battery cell failure during a drive",
    "description": "The rover is driving to its next waypoint when a cell of its battery shorts.",
    "duration_s": 1800.0,
    "difficulty": 1,
    "faults": [{"at_s": 120.0, "fault": "battery_cell_failure", "params": {"cells": 1}}],
    "expected": [
        {
            "id": "charge_fault",
            "kind": "alarm",
            "parameter": "rover.power.charge_state",
            "level": "red",
            "deadline_s": 60.0,
        }
    ],
    "recovery_commands": ["rover.mobility.stop", "rover.obsw.fdir_enable"],
}

for _model, _example_value in (
    (PassOut, _first(PassesOut, "passes")),
    (EarthElevationOut, _first(PassesOut, "earth")),
    (SunDirectionOut, _first(PassesOut, "sun")),
    (CarrierOut, _first(LinkCarrierOut, "vehicles")),
    (HandoverOut, _first(LinkCarrierOut, "handovers")),
    (StationContactOut, _first(LinkCarrierOut, "stations")),
    (FaultParameterOut, _first(FaultOut, "parameters")),
    (StageOut, dict(EX_COMMAND["stages"][-1])),
    (ChecklistRowOut, EX_CHECKLIST_ROW),
    (TrainingStatusOut, EX_TRAINING_STATUS),
    (ScoreLineOut, EX_SCORE["lines"][0]),
    (ScoreOut, EX_SCORE),
    (DebriefOut, EX_DEBRIEF),
    (ScenarioOut, EX_SCENARIO),
):
    _model.model_config["json_schema_extra"] = {"examples": [_example_value]}
    _model.model_rebuild(force=True)

"""A telecommand as the ground tracks it: its verification stages, each with a time.

Stages, in order (PUS service 1 names in brackets)::

    queued → released → sent → accepted (1,1) → started (1,3) → completed (1,7)
                               ↘ rejected (1,2)  ↘ failed (1,4)   ↘ failed (1,8)
    any stage after sent → timeout (no report in time; a late report still moves the command on)
    queued → cancelled (by an operator, before release)

Every :class:`StageEntry` carries two times: ``time``, the **mission** time (Unix seconds, from the
ground's mission clock, the time base of everything the spacecraft sends), and ``wall_time``,
the wall clock at the ground when the stage was recorded. At a speed factor of 1 they agree; at
1000× one wall second is 1000 mission seconds.

:class:`TrackedCommand` is mutable and owned by the :class:`~ground.commanding.service.
CommandService` (under its lock); everything handed out (``view()``, ``record()``) is a copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from ground.archive.base import CommandRecord
from mission.ccsds.pus import request_id


class Stage(StrEnum):
    QUEUED = "queued"
    RELEASED = "released"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    STARTED = "started"
    PROGRESS = "progress"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


FINAL_STAGES: Final = frozenset({Stage.COMPLETED, Stage.FAILED, Stage.REJECTED, Stage.CANCELLED})
"""Stages after which nothing changes (a ``timeout`` is not final: a late report may follow)."""

WAITING_STAGES: Final = frozenset({Stage.QUEUED})
IN_FLIGHT_STAGES: Final = frozenset({Stage.RELEASED, Stage.SENT, Stage.ACCEPTED, Stage.STARTED})

STAGE_RANK: Final[dict[Stage, int]] = {
    Stage.QUEUED: 0,
    Stage.CANCELLED: 1,
    Stage.RELEASED: 1,
    Stage.SENT: 2,
    Stage.ACCEPTED: 3,
    Stage.REJECTED: 3,
    Stage.STARTED: 4,
    Stage.PROGRESS: 4,
    Stage.COMPLETED: 5,
    Stage.FAILED: 5,
    Stage.TIMEOUT: 6,
}
"""How far along a stage is; a report never moves a command backwards."""


@dataclass(frozen=True, slots=True)
class StageEntry:
    """One verification stage reached, with its times and what explains it."""

    stage: Stage
    time: float
    """Mission time (Unix seconds) at the ground when the stage was recorded."""
    wall_time: float
    detail: str = ""
    station: str | None = None
    generation_time: float | None = None
    """On-board generation time of the PUS 1,x report behind the stage, when there is one."""
    failure_code: int | None = None
    failure_name: str | None = None
    implied: bool = False
    """True when the stage was not reported but follows from a later report (a lost 1,1)."""

    def as_dict(self) -> dict[str, Any]:
        """``{"stage", "time", "wall_time", "detail"}`` plus the optional fields that are set."""
        out: dict[str, Any] = {
            "stage": self.stage.value,
            "time": self.time,
            "wall_time": self.wall_time,
            "detail": self.detail,
        }
        optional = {
            "station": self.station,
            "generation_time": self.generation_time,
            "failure_code": self.failure_code,
            "failure_name": self.failure_name,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        if self.implied:
            out["implied"] = True
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageEntry:
        return cls(
            stage=Stage(data["stage"]),
            time=float(data["time"]),
            wall_time=float(data.get("wall_time", data["time"])),
            detail=str(data.get("detail", "")),
            station=data.get("station"),
            generation_time=data.get("generation_time"),
            failure_code=data.get("failure_code"),
            failure_name=data.get("failure_name"),
            implied=bool(data.get("implied", False)),
        )


def request_id_int(apid: int, seq_count: int) -> int:
    """The 32-bit request id (packet id, sequence control) of an unsegmented TC, as an int."""
    return int.from_bytes(request_id(apid, seq_count), "big")


@dataclass(slots=True)
class TrackedCommand:
    """A command from submission to its last verification stage."""

    id: str
    name: str
    vehicle: str
    args: dict[str, Any]
    issued_by: str
    critical: bool
    apid: int
    service: int
    subtype: int
    app_data: bytes
    execution_time_s: float
    created_at: float
    """Mission time of submission."""
    immediate: bool = False
    preferred_station: str | None = None
    bypass: bool = False
    """A Type-BD frame even when the vehicle is commanded under COP-1 (AD)."""
    seq_count: int | None = None
    """The TC packet's sequence count, set at release (the request id follows from it)."""
    frame_seq: int | None = None
    """N(S) of the TC transfer frame that carried it."""
    station: str | None = None
    light_time_s: float | None = None
    """One-way light time used for the time-outs (from the ground's geometry at release)."""
    waiting_reason: str | None = None
    next_aos: float | None = None
    next_aos_station: str | None = None
    publishing: StageEntry | None = None
    """The ``sent`` entry prepared before publishing, recorded once the broker acknowledges."""
    stages: list[StageEntry] = field(default_factory=list)
    updated_at: float = 0.0

    @property
    def stage(self) -> Stage:
        """The current stage: the last one recorded, ignoring progress reports."""
        for entry in reversed(self.stages):
            if entry.stage is not Stage.PROGRESS:
                return entry.stage
        return Stage.QUEUED

    @property
    def final(self) -> bool:
        return self.stage in FINAL_STAGES

    @property
    def request_id(self) -> int | None:
        return None if self.seq_count is None else request_id_int(self.apid, self.seq_count)

    def reached(self, stage: Stage) -> bool:
        return any(e.stage is stage for e in self.stages)

    def entry(self, stage: Stage) -> StageEntry | None:
        """The first entry of ``stage``, or None."""
        for e in self.stages:
            if e.stage is stage:
                return e
        return None

    def add(self, entry: StageEntry) -> None:
        self.stages.append(entry)
        self.updated_at = max(self.updated_at, entry.time)
        if entry.stage is not Stage.QUEUED:
            self.waiting_reason = None
            self.next_aos = None
            self.next_aos_station = None

    def view(self) -> dict[str, Any]:
        """A JSON-able summary (REST, WebSocket and the CLI show this)."""
        last = self.stages[-1] if self.stages else None
        return {
            "id": self.id,
            "name": self.name,
            "vehicle": self.vehicle,
            "args": dict(self.args),
            "issued_by": self.issued_by,
            "critical": self.critical,
            "stage": self.stage.value,
            "final": self.final,
            "station": self.station,
            "apid": self.apid,
            "seq_count": self.seq_count,
            "request_id": self.request_id,
            "frame_seq": self.frame_seq,
            "bypass": self.bypass,
            "light_time_s": self.light_time_s,
            "waiting_reason": self.waiting_reason,
            "next_aos": self.next_aos,
            "next_aos_station": self.next_aos_station,
            "failure_code": last.failure_code if last else None,
            "failure_name": last.failure_name if last else None,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "stages": [e.as_dict() for e in self.stages],
        }

    def record(self) -> CommandRecord:
        """The archive's row for this command (upserted by id)."""
        extra = {
            "apid": self.apid,
            "service": self.service,
            "subtype": self.subtype,
            "seq_count": self.seq_count,
            "frame_seq": self.frame_seq,
            "bypass": self.bypass,
            "critical": self.critical,
            "light_time_s": self.light_time_s,
            "waiting_reason": self.waiting_reason,
            "execution_time_s": self.execution_time_s,
        }
        return CommandRecord(
            command_id=self.id,
            name=self.name,
            args_json=json.dumps(self.args, sort_keys=True),
            vehicle=self.vehicle,
            issued_by=self.issued_by,
            stages_json=json.dumps({"stages": [e.as_dict() for e in self.stages], **extra}),
            stage=self.stage.value,
            station=self.station,
            request_id=self.request_id,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


def view_from_record(record: CommandRecord) -> dict[str, Any]:
    """The :meth:`TrackedCommand.view` of an archived command."""
    try:
        stored = json.loads(record.stages_json)
    except json.JSONDecodeError:
        stored = {}
    if isinstance(stored, list):  # a plain stage list (the archive's documented minimum)
        stored = {"stages": stored}
    if not isinstance(stored, dict):
        stored = {}
    raw_stages = stored.get("stages", [])
    stages = [
        StageEntry.from_dict(s).as_dict()
        for s in raw_stages
        if isinstance(s, dict) and "stage" in s and "time" in s
    ]
    try:
        args = json.loads(record.args_json)
    except json.JSONDecodeError:
        args = {}
    last = stages[-1] if stages else {}
    return {
        "id": record.command_id,
        "name": record.name,
        "vehicle": record.vehicle,
        "args": args if isinstance(args, dict) else {},
        "issued_by": record.issued_by,
        "critical": bool(stored.get("critical", False)),
        "stage": record.stage,
        "final": record.stage in {s.value for s in FINAL_STAGES},
        "station": record.station,
        "apid": stored.get("apid"),
        "seq_count": stored.get("seq_count"),
        "request_id": record.request_id,
        "frame_seq": stored.get("frame_seq"),
        "bypass": bool(stored.get("bypass", False)),
        "light_time_s": stored.get("light_time_s"),
        "waiting_reason": stored.get("waiting_reason"),
        "next_aos": None,
        "next_aos_station": None,
        "failure_code": last.get("failure_code"),
        "failure_name": last.get("failure_name"),
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "stages": stages,
    }

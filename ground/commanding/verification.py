"""The verification state machine: PUS service 1 reports and time-outs move a command on.

Pure logic (no I/O, no clock of its own): the service passes the mission time ``now`` and the wall
time ``wall`` in.

Reports (``ground.processing.verification.VerificationReport``):

- 1,1 → accepted; 1,2 → rejected (final);
- 1,3 → started; 1,4 → failed (final);
- 1,5 → a progress entry (the stage stays started); 1,6 → failed;
- 1,7 → completed (final); 1,8 → failed (final); 1,10 → failed (routing).

A report whose predecessors were never received (a frame lost on the downlink) adds the missing
stages first, marked ``implied``, so the stage list is always in order. A report never moves a
command backwards, and nothing follows a final stage (a duplicate is ignored). A report that
arrives after a time-out is recorded: the time-out said "nothing heard in time", not "failed".

Time-outs, all in mission time::

    acceptance deadline  = sent + 2 × one-way light time                    + margin
    completion deadline  = sent + 2 × one-way light time + execution time   + margin
    margin               = margin_s + wall_margin_s × speed factor

``margin_s`` covers on-board processing and the report's wait for the next housekeeping frame;
``wall_margin_s`` covers what runs on the wall clock whatever the speed factor (broker, ingest
batching, the ground's own polling), converted to mission seconds by the speed factor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ground.commanding.model import STAGE_RANK, Stage, StageEntry, TrackedCommand
from ground.processing.verification import VerificationReport

_REPORT_STAGE: Final[dict[int, Stage]] = {
    1: Stage.ACCEPTED,
    2: Stage.REJECTED,
    3: Stage.STARTED,
    4: Stage.FAILED,
    5: Stage.PROGRESS,
    6: Stage.FAILED,
    7: Stage.COMPLETED,
    8: Stage.FAILED,
    10: Stage.FAILED,
}

_IMPLIED_BEFORE: Final[dict[int, tuple[Stage, ...]]] = {
    1: (),
    2: (),
    3: (Stage.ACCEPTED,),
    4: (Stage.ACCEPTED,),
    5: (Stage.ACCEPTED, Stage.STARTED),
    6: (Stage.ACCEPTED, Stage.STARTED),
    7: (Stage.ACCEPTED, Stage.STARTED),
    8: (Stage.ACCEPTED, Stage.STARTED),
    10: (),
}

_REPORT_WORDS: Final[dict[int, str]] = {
    1: "acceptance success",
    2: "acceptance failure",
    3: "start success",
    4: "start failure",
    5: "progress success",
    6: "progress failure",
    7: "completion success",
    8: "completion failure",
    10: "routing failure",
}


@dataclass(frozen=True, slots=True)
class TimeoutPolicy:
    """Margins added to the light-time and execution-time deadlines (see the module docstring)."""

    margin_s: float = 10.0
    wall_margin_s: float = 5.0

    def margin(self, speed: float) -> float:
        """The margin in mission seconds at ``speed`` (mission seconds per wall second)."""
        return self.margin_s + self.wall_margin_s * max(speed, 0.0)

    def acceptance_deadline(self, cmd: TrackedCommand, speed: float) -> float | None:
        """Mission time by which the 1,1 (or 1,2) report is due; None before ``sent``."""
        sent = cmd.entry(Stage.SENT)
        if sent is None:
            return None
        return sent.time + 2.0 * (cmd.light_time_s or 0.0) + self.margin(speed)

    def completion_deadline(self, cmd: TrackedCommand, speed: float) -> float | None:
        """Mission time by which the 1,7 (or 1,8) report is due; None before ``sent``."""
        sent = cmd.entry(Stage.SENT)
        if sent is None:
            return None
        return (
            sent.time + 2.0 * (cmd.light_time_s or 0.0) + cmd.execution_time_s + self.margin(speed)
        )


def report_words(subtype: int) -> str:
    """``"1,7 completion success"``."""
    return f"1,{subtype} {_REPORT_WORDS.get(subtype, 'report')}"


def apply_report(
    cmd: TrackedCommand, report: VerificationReport, now: float, wall: float
) -> list[StageEntry]:
    """Apply one PUS 1,x report to ``cmd``; return the entries added (empty: ignored)."""
    stage = _REPORT_STAGE.get(report.subtype)
    if stage is None or cmd.final:
        return []
    added: list[StageEntry] = []
    if not cmd.reached(Stage.SENT):
        # The report overtook the broker's acknowledgement of our publication: the frame was
        # sent, so record ``sent`` as prepared before publishing.
        if cmd.publishing is None:
            return []
        cmd.add(cmd.publishing)
        added.append(cmd.publishing)
        cmd.publishing = None
    current_rank = max(
        (STAGE_RANK[e.stage] for e in cmd.stages if e.stage is not Stage.TIMEOUT), default=0
    )
    if stage is not Stage.PROGRESS and cmd.reached(stage):
        return added  # a duplicate 1,1 or 1,3
    if stage is not Stage.FAILED and STAGE_RANK[stage] < current_rank:
        return added  # out of order: a late 1,1 after 1,3 changes nothing
    words = report_words(report.subtype)
    for implied in _IMPLIED_BEFORE.get(report.subtype, ()):
        if not cmd.reached(implied) and STAGE_RANK[implied] > current_rank:
            entry = StageEntry(
                stage=implied,
                time=now,
                wall_time=wall,
                detail=f"implied by the {words} report (the earlier report was not received)",
                station=report.station,
                implied=True,
            )
            cmd.add(entry)
            added.append(entry)
    detail = words
    if report.failure_code is not None:
        name = report.failure_name or "unknown failure code"
        detail = f"{words}: {name} (code {report.failure_code})"
    if report.step is not None:
        detail = f"{detail}, step {report.step}"
    if cmd.stage is Stage.TIMEOUT:
        detail = f"{detail}, after the time-out"
    entry = StageEntry(
        stage=stage,
        time=now,
        wall_time=wall,
        detail=detail,
        station=report.station,
        generation_time=report.generation_time,
        failure_code=report.failure_code,
        failure_name=report.failure_name,
    )
    cmd.add(entry)
    added.append(entry)
    return added


def check_timeout(
    cmd: TrackedCommand, policy: TimeoutPolicy, now: float, wall: float, speed: float
) -> StageEntry | None:
    """Add and return a ``timeout`` entry when the report due next is overdue at ``now``."""
    stage = cmd.stage
    if stage is Stage.SENT:
        deadline = policy.acceptance_deadline(cmd, speed)
        what = "acceptance (1,1)"
    elif stage in (Stage.ACCEPTED, Stage.STARTED):
        deadline = policy.completion_deadline(cmd, speed)
        what = "completion (1,7)"
    else:
        return None
    if deadline is None or now <= deadline:
        return None
    light = cmd.light_time_s or 0.0
    detail = (
        f"no {what} report by {deadline - _sent_time(cmd):.1f} s after sending "
        f"(2 × {light:.3f} s light time"
        + (f" + {cmd.execution_time_s:g} s execution" if what.startswith("completion") else "")
        + f" + {policy.margin(speed):.1f} s margin)"
    )
    entry = StageEntry(Stage.TIMEOUT, now, wall, detail=detail, station=cmd.station)
    cmd.add(entry)
    return entry


def _sent_time(cmd: TrackedCommand) -> float:
    sent = cmd.entry(Stage.SENT)
    return sent.time if sent is not None else cmd.created_at

"""The training checklist: each detection a scenario expects, detected or not, and how fast.

Pure logic. A scenario lists expected detections (``mission.scenarios``): an alarm on a parameter
at a level (at least yellow or red), or an on-board event by name, each with a deadline counted
from the moment its window opens (the scenario's start plus the offset of the fault that causes
it). The training service feeds the checklist the alarms and events the ground produces while the
scenario runs.

- An **alarm** matches when it is on the expected parameter, reached at least the expected level,
  and reached it at or after the scenario's start (an alarm already standing before the scenario
  does not count). Its detection time is when it reached the level: the trigger time, or the
  time of its most severe value when the level was reached later.
- An **event** matches by name (and by vehicle when the expectation names one), generated at or
  after the scenario's start; its detection time is its generation time.

Times are mission times (the on-board generation times of the samples and events, which is when
the ground's data shows the condition). ``time_to_detect_s`` is detection time minus the window's
opening, never negative; a detection is *in time* when it is at most ``deadline_s`` after the
opening. The ground's own mission time when it first saw the detection is kept as ``seen_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from ground.model import AlarmView, EventView

LEVEL_RANK: Final = {"yellow": 1, "watch": 1, "red": 2, "critical": 2}


class DetectionKind(StrEnum):
    ALARM = "alarm"
    EVENT = "event"


class ItemState(StrEnum):
    PENDING = "pending"
    """Not detected yet, deadline not passed."""
    DETECTED = "detected"
    """Detected within the deadline."""
    LATE = "late"
    """Detected after the deadline."""
    MISSED = "missed"
    """Not detected and the deadline has passed."""


@dataclass(frozen=True, slots=True)
class Expectation:
    """One detection a scenario expects."""

    id: str
    kind: DetectionKind
    target: str
    """The parameter (alarm) or event name."""
    deadline_s: float
    level: str | None = None
    """For an alarm: the level it must reach at least (``yellow`` or ``red``)."""
    opens_at_s: float = 0.0
    """Mission seconds from the scenario's start at which the detection window opens."""
    vehicle: str | None = None
    description: str = ""


@dataclass(slots=True)
class ChecklistItem:
    expectation: Expectation
    detected_at: float | None = None
    seen_at: float | None = None
    evidence: str = ""
    alarm_id: str | None = None
    acknowledged_at: float | None = None
    acknowledged_by: str | None = None

    def opens(self, start: float) -> float:
        return start + self.expectation.opens_at_s

    def deadline(self, start: float) -> float:
        return self.opens(start) + self.expectation.deadline_s

    def time_to_detect(self, start: float) -> float | None:
        if self.detected_at is None:
            return None
        return max(0.0, self.detected_at - self.opens(start))

    def state(self, start: float, now: float) -> ItemState:
        if self.detected_at is not None:
            in_time = self.detected_at <= self.deadline(start)
            return ItemState.DETECTED if in_time else ItemState.LATE
        return ItemState.MISSED if now > self.deadline(start) else ItemState.PENDING


def _alarm_detection_time(alarm: AlarmView, level: str | None) -> float | None:
    """When ``alarm`` reached ``level`` (None if it did not)."""
    want = LEVEL_RANK.get(level or "yellow", 1)
    reached = LEVEL_RANK.get(alarm.level, 0)
    if reached < want:
        return None
    # Two levels: the trigger had the most severe level when the most severe value came with
    # it; otherwise the trigger was yellow and red came at the most severe value's time.
    if want <= 1 or alarm.most_severe_time <= alarm.trigger_time:
        return alarm.trigger_time
    return alarm.most_severe_time


@dataclass(slots=True)
class Checklist:
    """The expected detections of one scenario run, from its mission start time."""

    scenario: str
    start: float
    items: list[ChecklistItem] = field(default_factory=list)

    @classmethod
    def of(cls, scenario: str, start: float, expectations: Iterable[Expectation]) -> Checklist:
        return cls(scenario, start, [ChecklistItem(e) for e in expectations])

    def observe_alarm(self, alarm: AlarmView, seen_at: float) -> list[ChecklistItem]:
        """Take an alarm (new or updated); return the items it changed."""
        changed = []
        for item in self.items:
            e = item.expectation
            if e.kind is not DetectionKind.ALARM or e.target != alarm.parameter:
                continue
            if item.alarm_id is None or item.alarm_id == alarm.id:
                at = _alarm_detection_time(alarm, e.level)
                if at is not None and at >= self.start and item.detected_at is None:
                    item.detected_at = at
                    item.seen_at = seen_at
                    item.alarm_id = alarm.id
                    item.evidence = (
                        f"{alarm.level} alarm on {alarm.parameter} "
                        f"(value {alarm.most_severe_value})"
                    )
                    changed.append(item)
            if (
                item.alarm_id == alarm.id
                and alarm.acknowledged_at is not None
                and item.acknowledged_at is None
            ):
                item.acknowledged_at = alarm.acknowledged_at
                item.acknowledged_by = alarm.acknowledged_by
                changed.append(item)
        return changed

    def observe_event(self, event: EventView, seen_at: float) -> list[ChecklistItem]:
        """Take an event; return the items it detected."""
        changed = []
        for item in self.items:
            e = item.expectation
            if e.kind is not DetectionKind.EVENT or e.target != event.name:
                continue
            if e.vehicle is not None and e.vehicle != event.spacecraft:
                continue
            if item.detected_at is None and event.generation_time >= self.start:
                item.detected_at = event.generation_time
                item.seen_at = seen_at
                item.evidence = f"event {event.name}: {event.message}"
                changed.append(item)
        return changed

    def complete(self) -> bool:
        return all(item.detected_at is not None for item in self.items)

    def status(self, now: float) -> list[dict[str, Any]]:
        """The checklist as JSON-able rows."""
        rows = []
        for item in self.items:
            e = item.expectation
            ttd = item.time_to_detect(self.start)
            rows.append(
                {
                    "id": e.id,
                    "kind": e.kind.value,
                    "target": e.target,
                    "level": e.level,
                    "vehicle": e.vehicle,
                    "description": e.description,
                    "opens_at": item.opens(self.start),
                    "deadline_s": e.deadline_s,
                    "deadline": item.deadline(self.start),
                    "state": item.state(self.start, now).value,
                    "detected": item.detected_at is not None,
                    "detected_at": item.detected_at,
                    "seen_at": item.seen_at,
                    "time_to_detect_s": ttd,
                    "evidence": item.evidence,
                    "alarm_id": item.alarm_id,
                    "acknowledged_at": item.acknowledged_at,
                    "acknowledged_by": item.acknowledged_by,
                }
            )
        return rows


def pending(items: Sequence[ChecklistItem]) -> list[ChecklistItem]:
    return [i for i in items if i.detected_at is None]

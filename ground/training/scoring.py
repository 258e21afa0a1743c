"""Scoring of a training run (pure logic). The formula, with the default points:

**Per expected detection** (deadline ``D`` seconds, time to detect ``t`` seconds, both mission
time, from the opening of the detection window):

- detected in time (``t <= D``): ``60 + 20 × (1 − t / D)`` (60 for detecting, up to 20 more for
  detecting fast, falling linearly to 0 at the deadline);
- detected late (``t > D``): 20;
- not detected: 0;
- an **alarm** detection also earns up to 20 for its acknowledgement by an operator: 20 when the
  alarm is acknowledged within ``D`` seconds of its detection, 10 when acknowledged later,
  0 when never. (Events are not acknowledged: an event detection is out of 80, an alarm's of 100.)

**Per recovery command the scenario names**: 50 when a command of that name completed after the
scenario started, 25 when it was sent but did not complete (failed, rejected, timed out, still
running), 0 when it was not sent.

**Penalty**: −10 for each *critical* command sent during the run that the scenario does not name
as a recovery (critical commands without need, e.g. a needless mode change or reboot).

``score = max(0, Σ points − penalties)``; ``percent = 100 × score / maximum`` where ``maximum`` is
the sum of the maxima above (penalties excluded). Grades: ≥ 90 excellent, ≥ 75 good, ≥ 50 pass,
else fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ground.training.checklist import ChecklistItem, DetectionKind


@dataclass(frozen=True, slots=True)
class ScoringRules:
    detection: float = 60.0
    speed: float = 20.0
    late: float = 20.0
    acknowledgement: float = 20.0
    late_acknowledgement: float = 10.0
    recovery: float = 50.0
    recovery_attempted: float = 25.0
    needless_critical: float = 10.0


@dataclass(frozen=True, slots=True)
class ScoreLine:
    what: str
    points: float
    maximum: float
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "points": round(self.points, 2),
            "maximum": self.maximum,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Score:
    points: float
    maximum: float
    lines: tuple[ScoreLine, ...] = field(default_factory=tuple)

    @property
    def percent(self) -> float:
        return 0.0 if self.maximum <= 0 else 100.0 * self.points / self.maximum

    @property
    def grade(self) -> str:
        p = self.percent
        if p >= 90:
            return "excellent"
        if p >= 75:
            return "good"
        if p >= 50:
            return "pass"
        return "fail"

    def as_dict(self) -> dict[str, Any]:
        return {
            "points": round(self.points, 2),
            "maximum": self.maximum,
            "percent": round(self.percent, 1),
            "grade": self.grade,
            "lines": [line.as_dict() for line in self.lines],
        }


def _detection_lines(item: ChecklistItem, start: float, rules: ScoringRules) -> list[ScoreLine]:
    e = item.expectation
    label = f"{e.kind.value} {e.target}" + (f" ({e.level})" if e.level else "")
    lines = []
    top = rules.detection + rules.speed
    ttd = item.time_to_detect(start)
    if ttd is None:
        lines.append(ScoreLine(f"detect {label}", 0.0, top, "not detected"))
    elif ttd <= e.deadline_s:
        fraction = 1.0 - ttd / e.deadline_s if e.deadline_s > 0 else 1.0
        points = rules.detection + rules.speed * max(0.0, fraction)
        lines.append(
            ScoreLine(
                f"detect {label}",
                points,
                top,
                f"detected in {ttd:.0f} s (deadline {e.deadline_s:.0f} s)",
            )
        )
    else:
        lines.append(
            ScoreLine(
                f"detect {label}",
                rules.late,
                top,
                f"detected late, in {ttd:.0f} s (deadline {e.deadline_s:.0f} s)",
            )
        )
    if e.kind is DetectionKind.ALARM:
        what = f"acknowledge {label}"
        if item.detected_at is None or item.acknowledged_at is None:
            lines.append(ScoreLine(what, 0.0, rules.acknowledgement, "not acknowledged"))
        else:
            delay = max(0.0, item.acknowledged_at - item.detected_at)
            who = f" by {item.acknowledged_by}" if item.acknowledged_by else ""
            if delay <= e.deadline_s:
                lines.append(
                    ScoreLine(
                        what, rules.acknowledgement, rules.acknowledgement, f"in {delay:.0f} s{who}"
                    )
                )
            else:
                lines.append(
                    ScoreLine(
                        what,
                        rules.late_acknowledgement,
                        rules.acknowledgement,
                        f"late, in {delay:.0f} s{who}",
                    )
                )
    return lines


def score_run(
    items: Sequence[ChecklistItem],
    start: float,
    commands: Sequence[Mapping[str, Any]],
    recovery: Sequence[str] = (),
    rules: ScoringRules | None = None,
) -> Score:
    """Score a run: its checklist, the command views sent during it, the recovery commands named."""
    rules = rules or ScoringRules()
    lines: list[ScoreLine] = []
    for item in items:
        lines.extend(_detection_lines(item, start, rules))
    during = [c for c in commands if float(c.get("created_at", 0.0)) >= start]
    for name in recovery:
        sent = [c for c in during if c.get("name") == name]
        what = f"recover with {name}"
        if any(c.get("stage") == "completed" for c in sent):
            lines.append(ScoreLine(what, rules.recovery, rules.recovery, "sent and completed"))
        elif sent:
            stage = sent[-1].get("stage")
            lines.append(
                ScoreLine(what, rules.recovery_attempted, rules.recovery, f"sent, {stage}")
            )
        else:
            lines.append(ScoreLine(what, 0.0, rules.recovery, "not sent"))
    for c in during:
        if c.get("critical") and c.get("name") not in recovery:
            lines.append(
                ScoreLine(
                    f"critical {c.get('name')}",
                    -rules.needless_critical,
                    0.0,
                    f"critical command not needed by the scenario (by {c.get('issued_by')})",
                )
            )
    total = sum(line.points for line in lines)
    maximum = sum(line.maximum for line in lines)
    return Score(points=max(0.0, total), maximum=maximum, lines=tuple(lines))

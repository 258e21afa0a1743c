"""Scenarios as the training service uses them: the expected detections as checklist entries.

Built from ``mission.scenarios`` (``seeds/scenarios/*.yaml``): each detection's window opens when
its timeline step is injected (``at_s`` after the start, corrected to the injection time the
simulator reports) and closes ``deadline_s`` later; the recovery commands are those the
detections name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ground.training.checklist import DetectionKind, Expectation
from mission.scenarios import Scenario, load_scenarios


@dataclass(frozen=True, slots=True)
class ScenarioPlan:
    name: str
    title: str
    description: str
    duration_s: float
    expectations: tuple[Expectation, ...]
    recovery: tuple[str, ...]
    steps: tuple[dict[str, Any], ...]
    step_of: Mapping[str, int]
    """Detection id → the index of the timeline step that opens its window."""
    difficulty: int = 1

    @classmethod
    def of(cls, scenario: Scenario) -> ScenarioPlan:
        expectations = []
        recovery: list[str] = []
        for d in scenario.detections:
            step = scenario.steps[d.step]
            if d.kind.value == DetectionKind.ALARM.value:
                kind, target = DetectionKind.ALARM, str(d.parameter)
            else:
                kind, target = DetectionKind.EVENT, str(d.event)
            expectations.append(
                Expectation(
                    id=d.id,
                    kind=kind,
                    target=target,
                    deadline_s=d.deadline_s,
                    level=d.level,
                    opens_at_s=step.at_s,
                    description=d.description,
                )
            )
            if d.recovery_command is not None and d.recovery_command not in recovery:
                recovery.append(d.recovery_command)
        return cls(
            name=scenario.name,
            title=scenario.title,
            description=scenario.description,
            duration_s=scenario.duration_s,
            expectations=tuple(expectations),
            recovery=tuple(recovery),
            steps=tuple(s.model_dump() for s in scenario.steps),
            step_of={d.id: d.step for d in scenario.detections},
            difficulty=scenario.difficulty,
        )

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "duration_s": self.duration_s,
            "difficulty": self.difficulty,
            "faults": [dict(s) for s in self.steps],
            "expected": [
                {
                    "id": e.id,
                    "kind": e.kind.value,
                    "target": e.target,
                    "level": e.level,
                    "opens_at_s": e.opens_at_s,
                    "deadline_s": e.deadline_s,
                    "description": e.description,
                }
                for e in self.expectations
            ],
            "recovery_commands": list(self.recovery),
        }


def load_plans(directory: Path | None = None) -> dict[str, ScenarioPlan]:
    """The plans of every scenario in ``directory`` (default ``seeds/scenarios``)."""
    return {name: ScenarioPlan.of(s) for name, s in load_scenarios(directory).items()}

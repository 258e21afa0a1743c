"""Training scenarios: named timelines of faults with the detections the ground should make.

One YAML file per scenario in ``seeds/scenarios/``. A scenario has a title, a description and
learning goals for the instructor, a difficulty (1 easy .. 3 hard), a duration in mission
seconds, an optional set-up (what the rover is doing when it starts), the timeline (each step a
fault injected at an offset from the start, with parameters and a duration), and the expected
detections: an alarm on a parameter at yellow or red, or an event by name, within a deadline in
mission seconds after the step that triggers it, optionally with the recovery command the
trainee is expected to send.

    scenarios = load_scenarios(mdb=load_mdb(), faults=load_faults())   # validated
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Final

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mission.faults import FaultCatalogue, FaultParamError, ParamValue
from mission.mdb import MissionDatabase

__all__ = [
    "Detection",
    "DetectionKind",
    "Scenario",
    "ScenarioError",
    "ScenarioSetup",
    "ScenarioStep",
    "load_scenario_file",
    "load_scenarios",
    "scenario_problems",
]

SEEDS_DIR_ENV: Final = "LUPEX_SEEDS_DIR"
_REPO_SEEDS: Final = Path(__file__).resolve().parent.parent / "seeds"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DetectionKind(StrEnum):
    ALARM = "alarm"
    EVENT = "event"


class ScenarioStep(_Model):
    at_s: float = Field(ge=0)
    """Offset from the scenario start, mission seconds."""
    fault: str
    params: dict[str, ParamValue] = Field(default_factory=dict)
    duration_s: float | None = Field(default=None, gt=0)
    """None: the fault's default duration (which may be 'until cleared')."""
    until_cleared: bool = False
    """True: stays until the scenario ends (or an instructor clears it)."""
    note: str = ""


class Detection(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: DetectionKind
    parameter: str | None = None
    level: str | None = Field(default=None, pattern=r"^(yellow|red)$")
    event: str | None = None
    step: int = Field(ge=0)
    """Index of the timeline step that triggers it."""
    deadline_s: float = Field(gt=0)
    """Mission seconds after that step's injection."""
    recovery_command: str | None = None
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> Detection:
        if self.kind is DetectionKind.ALARM and (self.parameter is None or self.level is None):
            raise ValueError(f"detection {self.id}: an alarm needs a parameter and a level")
        if self.kind is DetectionKind.EVENT and self.event is None:
            raise ValueError(f"detection {self.id}: an event detection needs an event")
        return self


class ScenarioSetup(_Model):
    activity: str | None = Field(default=None, pattern=r"^(drive|drill|park)$")
    """What the rover starts doing when the scenario starts (park: stand still, HGA on Earth)."""


class Scenario(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    learning_goals: tuple[str, ...] = Field(min_length=1)
    difficulty: int = Field(ge=1, le=3)
    duration_s: float = Field(gt=0)
    setup: ScenarioSetup = ScenarioSetup()
    steps: tuple[ScenarioStep, ...] = Field(min_length=1)
    detections: tuple[Detection, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        for d in self.detections:
            if d.step >= len(self.steps):
                raise ValueError(f"detection {d.id}: step {d.step} does not exist")
        for i, step in enumerate(self.steps):
            if step.at_s >= self.duration_s:
                raise ValueError(f"step {i} starts after the scenario ends")
        ids = [d.id for d in self.detections]
        if len(set(ids)) != len(ids):
            raise ValueError("detection ids must be unique")
        return self


class ScenarioError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def default_scenarios_dir() -> Path:
    seeds = os.environ.get(SEEDS_DIR_ENV)
    return ((Path(seeds) if seeds else _REPO_SEEDS) / "scenarios").resolve()


def load_scenario_file(path: Path) -> Scenario:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError([f"{path}: cannot read: {exc}"]) from exc
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        ]
        raise ScenarioError(problems) from exc
    if scenario.name != path.stem:
        raise ScenarioError([f"{path}: name {scenario.name!r} differs from the file name"])
    return scenario


def scenario_problems(
    scenario: Scenario, mdb: MissionDatabase | None, faults: FaultCatalogue | None
) -> list[str]:
    """What the scenario names that the mission database or the fault catalogue lacks."""
    out: list[str] = []
    where = f"scenario {scenario.name}"
    if faults is not None:
        for i, step in enumerate(scenario.steps):
            try:
                faults.resolve_params(step.fault, step.params)
            except FaultParamError as exc:
                out.append(f"{where} step {i}: {exc}")
    if mdb is not None:
        for d in scenario.detections:
            if d.parameter is not None:
                param = mdb.parameters.get(d.parameter)
                if param is None:
                    out.append(f"{where} detection {d.id}: unknown parameter {d.parameter!r}")
                elif param.limits is None and not param.alarms:
                    out.append(f"{where} detection {d.id}: {d.parameter} has no limits or alarms")
            if d.event is not None and d.event not in mdb.events_by_name:
                out.append(f"{where} detection {d.id}: unknown event {d.event!r}")
            if d.recovery_command is not None and d.recovery_command not in mdb.commands:
                out.append(f"{where} detection {d.id}: unknown command {d.recovery_command!r}")
    return out


def load_scenarios(
    directory: Path | None = None,
    *,
    mdb: MissionDatabase | None = None,
    faults: FaultCatalogue | None = None,
) -> dict[str, Scenario]:
    """Every ``*.yaml`` scenario of ``directory`` (default seeds/scenarios), by name, validated
    against the mission database and the fault catalogue when they are given."""
    folder = directory or default_scenarios_dir()
    scenarios: dict[str, Scenario] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            scenario = load_scenario_file(path)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(scenario_problems(scenario, mdb, faults))
        scenarios[scenario.name] = scenario
    if problems:
        raise ScenarioError(problems)
    return scenarios

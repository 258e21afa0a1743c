"""The fault catalogue: what an instructor can inject into the simulation (data only).

``seeds/faults.yaml`` lists each fault with a title and a description for the instructor, its
target (the link, a ground station, a vehicle subsystem or the environment), typed parameters with
defaults and ranges, a default duration, and what it is expected to change in telemetry (and how
it clears). The ground and the simulator read the same file; the simulator implements the effects.

    catalogue = load_faults()
    fault = catalogue.get("battery_cell_failure")
    params = catalogue.resolve_params("battery_cell_failure", {"cells": 2})

Expected effects name MDB parameters and events; ``{name}`` placeholders take the value of the
fault's parameter ``name`` (``{instrument_lower}`` its lower-case form), so a default-parameter
expectation can be checked against the mission database (:meth:`FaultCatalogue.problems`).
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "Change",
    "EffectKind",
    "Expectation",
    "FaultCatalogue",
    "FaultDef",
    "FaultParamError",
    "FaultParameter",
    "FaultsFileError",
    "ParamType",
    "RecoveryCommand",
    "TargetKind",
    "load_faults",
]

SEEDS_DIR_ENV: Final = "LUPEX_SEEDS_DIR"
FAULTS_FILE: Final = "faults.yaml"
_REPO_SEEDS: Final = Path(__file__).resolve().parent.parent / "seeds"
_PLACEHOLDER: Final = re.compile(r"\{([a-z_]+)\}")

ParamValue = float | int | str | bool


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetKind(StrEnum):
    LINK = "link"
    STATION = "station"
    VEHICLE = "vehicle"
    ENVIRONMENT = "environment"


class ParamType(StrEnum):
    FLOAT = "float"
    INT = "int"
    CHOICE = "choice"
    BOOL = "bool"
    PARAMETER = "parameter"
    """The name of an MDB parameter (checked against the database)."""


class EffectKind(StrEnum):
    PARAMETER = "parameter"
    EVENT = "event"
    LINK = "link"
    """A field of the station monitor record of the fault's station (or the prime station)."""
    FRAMES = "frames"
    """What happens to downlinked frames: corrupted, lost, none, counter_reset."""
    STATUS = "status"
    """A field of the vehicle's entry in sim/status."""


class Change(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"
    ABOVE = "above"
    BELOW = "below"
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    STUCK = "stuck"
    OCCURS = "occurs"


class FaultParameter(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: ParamType
    default: ParamValue
    description: str = Field(min_length=1)
    units: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> FaultParameter:
        if self.type is ParamType.CHOICE:
            if not self.choices or self.default not in self.choices:
                raise ValueError(f"choice parameter {self.name}: default must be one of choices")
        elif self.type in (ParamType.FLOAT, ParamType.INT):
            if isinstance(self.default, bool) or not isinstance(self.default, int | float):
                raise ValueError(f"parameter {self.name}: the default must be a number")
            if self.min is not None and self.default < self.min:
                raise ValueError(f"parameter {self.name}: default below min")
            if self.max is not None and self.default > self.max:
                raise ValueError(f"parameter {self.name}: default above max")
        elif self.type is ParamType.BOOL and not isinstance(self.default, bool):
            raise ValueError(f"parameter {self.name}: the default must be true or false")
        return self

    def coerce(self, value: object) -> ParamValue:
        """A valid value of this parameter, or ValueError saying what is allowed."""
        if self.type is ParamType.BOOL:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                return value.lower() in ("true", "1")
            raise ValueError(f"{self.name} must be true or false")
        if self.type in (ParamType.CHOICE, ParamType.PARAMETER):
            text = str(value)
            if self.type is ParamType.CHOICE and text not in self.choices:
                raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}")
            return text
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"{self.name} must be a number") from None
        if isinstance(value, bool) or math.isnan(number):
            raise ValueError(f"{self.name} must be a number")
        if (self.min is not None and number < self.min) or (
            self.max is not None and number > self.max
        ):
            raise ValueError(f"{self.name} must be within {self.min}..{self.max}")
        if self.type is ParamType.INT:
            if not number.is_integer():
                raise ValueError(f"{self.name} must be an integer")
            return int(number)
        return number


class Target(_Model):
    kind: TargetKind
    vehicle: str | None = None
    subsystem: str | None = None


class Expectation(_Model):
    """What a fault (or its clearing) does to telemetry, checkable on the simulated data."""

    kind: EffectKind
    name: str = Field(min_length=1)
    change: Change
    value: float | str | bool | None = None
    within_s: float = Field(gt=0, le=86400 * 3)
    description: str = ""

    def resolved(self, params: Mapping[str, ParamValue]) -> Expectation:
        """This expectation with ``{param}`` placeholders filled in from ``params``."""
        name = _fill(self.name, params)
        value = _fill(self.value, params) if isinstance(self.value, str) else self.value
        return self.model_copy(update={"name": name, "value": value})


class RecoveryCommand(_Model):
    command: str
    args: dict[str, ParamValue] = Field(default_factory=dict)
    """Values may be ``{param}`` placeholders or ``$now`` (the mission time at sending)."""


class Setup(_Model):
    """What must be going on for the fault to show (the tests and the instructor arrange it)."""

    activity: str | None = None
    """``drive`` or ``drill``: the rover must be doing it."""
    commands: tuple[RecoveryCommand, ...] = ()
    """Commands sent right after the injection (e.g. switch the failed heater on)."""


class FaultDef(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    target: Target
    parameters: tuple[FaultParameter, ...] = ()
    default_duration_s: float | None = Field(default=None, gt=0)
    """None: until cleared."""
    setup: Setup = Setup()
    effects: tuple[Expectation, ...] = Field(min_length=1)
    clears: tuple[Expectation, ...] = ()
    recovery: str = ""
    recovery_commands: tuple[RecoveryCommand, ...] = ()

    def parameter(self, name: str) -> FaultParameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(f"fault {self.id} has no parameter {name!r}")

    @property
    def defaults(self) -> dict[str, ParamValue]:
        return {p.name: p.default for p in self.parameters}


class _File(_Model):
    version: int = Field(ge=1)
    faults: tuple[FaultDef, ...] = Field(min_length=1)


class FaultsFileError(ValueError):
    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class FaultParamError(ValueError):
    """Unknown fault, unknown parameter or a value outside what the parameter allows."""

    def __init__(self, fault: str, parameter: str | None, message: str) -> None:
        self.fault, self.parameter = fault, parameter
        super().__init__(message)


def _fill(text: str, params: Mapping[str, ParamValue]) -> str:
    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in params:
            return str(params[key])
        if key.endswith("_lower") and key[:-6] in params:
            return str(params[key[:-6]]).lower()
        return match.group(0)

    return _PLACEHOLDER.sub(sub, text)


class FaultCatalogue:
    def __init__(self, faults: tuple[FaultDef, ...], path: Path | None = None) -> None:
        self.path = path
        self.faults: dict[str, FaultDef] = {f.id: f for f in faults}

    def __iter__(self) -> Any:
        return iter(self.faults.values())

    def __len__(self) -> int:
        return len(self.faults)

    def __contains__(self, fault_id: object) -> bool:
        return fault_id in self.faults

    def get(self, fault_id: str) -> FaultDef:
        try:
            return self.faults[fault_id]
        except KeyError:
            known = ", ".join(sorted(self.faults))
            raise FaultParamError(
                fault_id, None, f"unknown fault {fault_id!r}; known: {known}"
            ) from None

    def resolve_params(self, fault_id: str, params: Mapping[str, object]) -> dict[str, ParamValue]:
        """Defaults filled in and every value checked (``FaultParamError`` names the problem)."""
        fault = self.get(fault_id)
        names = {p.name for p in fault.parameters}
        for key in params:
            if key not in names:
                allowed = ", ".join(sorted(names)) or "none"
                raise FaultParamError(
                    fault_id,
                    key,
                    f"fault {fault_id} has no parameter {key!r} (parameters: {allowed})",
                )
        out: dict[str, ParamValue] = {}
        for p in fault.parameters:
            try:
                out[p.name] = p.coerce(params[p.name]) if p.name in params else p.default
            except ValueError as exc:
                raise FaultParamError(fault_id, p.name, f"fault {fault_id}: {exc}") from None
        return out

    def problems(self, parameters: set[str], events: set[str], commands: set[str]) -> list[str]:
        """Names in expectations, parameters and recovery commands the MDB does not know."""
        out: list[str] = []
        for fault in self.faults.values():
            defaults = fault.defaults
            for p in fault.parameters:
                if p.type is ParamType.PARAMETER and str(p.default) not in parameters:
                    out.append(f"{fault.id}: parameter default {p.default!r} is not in the MDB")
            for exp in (*fault.effects, *fault.clears):
                name = exp.resolved(defaults).name
                if exp.kind is EffectKind.PARAMETER and name not in parameters:
                    out.append(f"{fault.id}: unknown parameter {name!r}")
                if exp.kind is EffectKind.EVENT and name not in events:
                    out.append(f"{fault.id}: unknown event {name!r}")
            for rc in (*fault.recovery_commands, *fault.setup.commands):
                if _fill(rc.command, defaults) not in commands:
                    out.append(f"{fault.id}: unknown command {rc.command!r}")
        return out


def default_faults_path() -> Path:
    seeds = os.environ.get(SEEDS_DIR_ENV)
    return ((Path(seeds) if seeds else _REPO_SEEDS) / FAULTS_FILE).resolve()


def load_faults(path: Path | None = None) -> FaultCatalogue:
    """Load and validate the fault catalogue (the default one is cached)."""
    return _cached(default_faults_path()) if path is None else _load(Path(path))


@functools.cache
def _cached(path: Path) -> FaultCatalogue:
    return _load(path)


def _load(path: Path) -> FaultCatalogue:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FaultsFileError(path, f"cannot read: {exc}") from exc
    try:
        data = _File.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        entry = _entry(raw, first["loc"])
        raise FaultsFileError(path, f"{entry}{where}: {first['msg']}") from exc
    ids = [f.id for f in data.faults]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise FaultsFileError(path, f"duplicate fault ids: {', '.join(duplicates)}")
    return FaultCatalogue(data.faults, path)


def _entry(raw: object, loc: tuple[int | str, ...]) -> str:
    if isinstance(raw, dict) and len(loc) >= 2 and loc[0] == "faults" and isinstance(loc[1], int):
        faults = raw.get("faults")
        if isinstance(faults, list) and loc[1] < len(faults) and isinstance(faults[loc[1]], dict):
            return f"fault {faults[loc[1]].get('id', loc[1])!r}: "
    return ""

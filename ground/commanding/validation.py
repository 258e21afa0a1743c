"""Check a command request against the mission database and encode its application data.

Every refusal is a :class:`CommandRequestError` naming the field (``name``, ``args.<argument>``,
``confirm``, ``station``, ``release``) and saying why, with the allowed range or values, ready for
an HTTP 422. Values given as strings (the command line sends ``ARG=VALUE``) are converted by the
argument's type first; the ranges and labels are the mission database's own pydantic model of
the command's arguments (``MissionDatabase.command_models``), and the bytes come from
``mission.mdb.encode_command``, the encoder the spacecraft mock decodes against.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError

from mission.ccsds.errors import EncodeError
from mission.mdb.calibration import RawDomain
from mission.mdb.database import MissionDatabase
from mission.mdb.models import ArgumentDef, CommandDef, Criticality, EngType
from mission.mdb.packets import encode_command

_TRUE: Final = frozenset({"true", "yes", "on", "1"})
_FALSE: Final = frozenset({"false", "no", "off", "0"})
_RANGE_ERRORS: Final = frozenset(
    {"less_than_equal", "greater_than_equal", "less_than", "greater_than"}
)


class CommandRequestError(ValueError):
    """A command request the ground refuses: ``field`` says where, ``message`` says why."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class ValidatedCommand:
    """A command that passed every check, with its encoded application data."""

    definition: CommandDef
    args: dict[str, Any]
    """Engineering values of every argument, defaults included (JSON-able)."""
    app_data: bytes

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def vehicle(self) -> str:
        return self.definition.vehicle

    @property
    def critical(self) -> bool:
        return self.definition.criticality is Criticality.CRITICAL


def _number_text(value: float) -> str:
    return f"{value:g}"


def describe_argument(arg: ArgumentDef) -> str:
    """The allowed values of an argument: ``-20 to 100 m``, ``one of MANUAL, GUIDED``..."""
    if arg.type is EngType.ENUM:
        return "one of " + ", ".join((arg.enumeration or {}).values())
    if arg.type is EngType.BOOL:
        return "true or false"
    domain = RawDomain(arg.encoding)
    low = arg.min if arg.min is not None else domain.min
    high = arg.max if arg.max is not None else domain.max
    kind = "an integer" if arg.type is EngType.INT else "a number"
    units = f" {arg.units}" if arg.units else ""
    return f"{kind} from {_number_text(low)} to {_number_text(high)}{units}"


def _coerce(arg: ArgumentDef, value: Any) -> Any:
    """Turn a string (``ARG=VALUE`` from a terminal) into the argument's type; else unchanged."""
    if not isinstance(value, str):
        if arg.type is EngType.INT and isinstance(value, float) and value.is_integer():
            return int(value)
        return value
    text = value.strip()
    if arg.type is EngType.INT:
        try:
            return int(text, 0)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return value
            return int(number) if number.is_integer() else number
    if arg.type is EngType.FLOAT:
        try:
            return float(text)
        except ValueError:
            return value
    if arg.type is EngType.BOOL:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        return value
    if arg.type is EngType.ENUM:
        labels = tuple((arg.enumeration or {}).values())
        for label in labels:
            if label.lower() == text.lower():
                return label
    return value


def _argument_error(definition: CommandDef, arg: ArgumentDef, problem: str) -> str:
    return (
        f"{definition.name}: argument {arg.name} {problem}; allowed: {describe_argument(arg)}"
        + (f" ({arg.description})" if arg.description else "")
    )


def unknown_command(mdb: MissionDatabase, name: str) -> CommandRequestError:
    close = difflib.get_close_matches(name, list(mdb.commands), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return CommandRequestError(
        "name", f"unknown command {name!r}{hint} (GET /api/v1/mdb/commands lists them)"
    )


def validate_command(
    mdb: MissionDatabase, name: str, args: Mapping[str, Any] | None
) -> ValidatedCommand:
    """Check ``name`` and ``args`` against the mission database and encode the application data.

    Raises :class:`CommandRequestError` for an unknown command, an unknown, missing or invalid
    argument, or a value out of range (naming the argument and its allowed range).
    """
    definition = mdb.commands.get(name)
    if definition is None:
        raise unknown_command(mdb, name)
    given = dict(args or {})
    by_name = {a.name: a for a in definition.arguments}
    for key in given:
        if key not in by_name:
            takes = ", ".join(by_name) or "no arguments"
            raise CommandRequestError(
                f"args.{key}", f"{definition.name} has no argument {key!r}; it takes {takes}"
            )
    values: dict[str, Any] = {}
    for arg in definition.arguments:
        if arg.name in given:
            values[arg.name] = _coerce(arg, given[arg.name])
        elif arg.default is None:
            raise CommandRequestError(
                f"args.{arg.name}", _argument_error(definition, arg, "is missing")
            )
    for key, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            arg = by_name[key]
            raise CommandRequestError(
                f"args.{key}", _argument_error(definition, arg, f"is {value}")
            )
    model = mdb.command_models[definition.name]
    try:
        checked = model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else ""
        arg_or_none = by_name.get(key)
        if arg_or_none is None:
            raise CommandRequestError("args", f"{definition.name}: {first['msg']}") from None
        bad = values.get(key)
        problem = (
            f"= {bad!r} is out of range"
            if first["type"] in _RANGE_ERRORS
            else f"= {bad!r} is not valid ({first['msg']})"
        )
        raise CommandRequestError(
            f"args.{key}", _argument_error(definition, arg_or_none, problem)
        ) from None
    eng = checked.model_dump()
    try:
        # The mission database's own encoder: the one the spacecraft mock decodes against.
        app_data = encode_command(mdb, definition.name, eng).app_data
    except (EncodeError, ValidationError) as exc:
        failing = by_name.get(exc.field) if isinstance(exc, EncodeError) else None
        if failing is None:
            raise CommandRequestError("args", f"{definition.name}: {exc}") from None
        raise CommandRequestError(
            f"args.{failing.name}",
            _argument_error(definition, failing, f"cannot be encoded ({exc})"),
        ) from None
    return ValidatedCommand(definition=definition, args=eng, app_data=app_data)


def check_confirmation(command: ValidatedCommand, confirm: bool) -> None:
    """Critical commands need ``confirm: true``."""
    if command.critical and not confirm:
        raise CommandRequestError(
            "confirm",
            f'{command.name} is a critical command: send it again with "confirm": true '
            "(lupex command --confirm) to confirm it",
        )

"""Load and check the mission database files.

Every ``*.yaml`` file of the data folder is a mapping of sections (``spacecraft``, ``parameters``,
``packets``, ``commands``, ``events``, ``failure_codes``, ``stations``) to lists of entries. Each
entry is validated on its own with the pydantic models, then the whole is cross-checked. Every
problem names the file, the entry (``parameters[17] 'rover.power.battery_soc'``), the field and the
reason; :class:`MdbError` carries all of them.
"""

from __future__ import annotations

import functools
import math
import re
import string
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from mission.mdb.calibration import RawDomain, make_calibrator, polynomial_problem
from mission.mdb.codec import LayoutError, compute_layout
from mission.mdb.database import FUNCTION_SERVICE, SID_SERVICES, MissionDatabase
from mission.mdb.models import (
    ArgumentDef,
    CommandDef,
    EngType,
    EventDef,
    FailureCodeDef,
    PacketDef,
    ParameterDef,
    SpacecraftDef,
    StationDef,
)

DATA_DIR: Final = Path(__file__).resolve().parent / "data"
HK_SERVICE: Final = (3, 25)
SCIENCE_SERVICE: Final = 128

_SECTIONS: Final[dict[str, type[BaseModel]]] = {
    "spacecraft": SpacecraftDef,
    "parameters": ParameterDef,
    "packets": PacketDef,
    "commands": CommandDef,
    "events": EventDef,
    "failure_codes": FailureCodeDef,
    "stations": StationDef,
}

_M = TypeVar("_M", bound=BaseModel)


# ---------------------------------------------------------------------------------- errors
@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the database files."""

    file: str
    entry: str | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.entry:
            parts.append(self.entry)
        if self.field:
            parts.append(f"field '{self.field}'")
        return ": ".join(parts) + f": {self.reason}"


class MdbError(ValueError):
    """The database files are invalid. ``problems`` lists everything found (at least one)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        self.file, self.entry, self.field, self.reason = (
            first.file,
            first.entry,
            first.field,
            first.reason,
        )
        lines = [str(p) for p in self.problems]
        more = f" (and {len(lines) - 1} more problem(s))" if len(lines) > 1 else ""
        super().__init__(lines[0] + more + ("\n" + "\n".join(lines[1:]) if more else ""))


# ---------------------------------------------------------------------------------- YAML
# libyaml's parser when PyYAML was built with it (several times faster on these files).
_BaseLoader: Final[type[yaml.SafeLoader]] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """YAML 1.2-style booleans (only true/false; ``ON``/``NO`` stay strings), no duplicate keys."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # '<<: *anchor' merges are resolved by construct_mapping
        key = loader.construct_object(key_node)
        if key in seen:
            line = key_node.start_mark.line + 1
            msg = f"duplicate key {key!r} on line {line}"
            raise yaml.constructor.ConstructorError(None, None, msg, key_node.start_mark)
        seen.add(key)
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=True)
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# ---------------------------------------------------------------------------------- entries
@dataclass(frozen=True, slots=True)
class Located(Generic[_M]):
    """A validated entry and where it came from."""

    model: _M
    file: str
    label: str

    def problem(self, field: str | None, reason: str) -> Problem:
        return Problem(self.file, self.label, field, reason)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _entry_label(section: str, index: int, raw: object) -> str:
    name = None
    if isinstance(raw, dict):
        for key in ("name", "id", "code"):
            if key in raw:
                name = raw[key]
                break
    return f"{section}[{index}]" + (f" {name!r}" if name is not None else "")


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.entries: dict[str, list[Located[Any]]] = defaultdict(list)

    def read_file(self, path: Path) -> None:
        shown = _display(path)
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            self.problems.append(Problem(shown, None, None, f"cannot read: {exc}"))
            return
        if data is None:
            return
        if not isinstance(data, dict):
            reason = f"expected a mapping of sections, got {type(data).__name__}"
            self.problems.append(Problem(shown, None, None, reason))
            return
        for section, entries in data.items():
            if isinstance(section, str) and section.startswith("x-"):
                continue  # free-form: YAML anchors reused by the entries below
            model = _SECTIONS.get(section)
            if model is None:
                reason = f"unknown section {section!r}, expected one of {', '.join(_SECTIONS)}"
                self.problems.append(Problem(shown, None, None, reason))
                continue
            if not isinstance(entries, list):
                reason = f"section {section!r} must be a list, got {type(entries).__name__}"
                self.problems.append(Problem(shown, None, None, reason))
                continue
            for index, raw in enumerate(entries):
                label = _entry_label(section, index, raw)
                try:
                    entry = model.model_validate(raw)
                except ValidationError as exc:
                    for err in exc.errors():
                        self.problems.append(
                            Problem(shown, label, _field_path(err["loc"]) or None, err["msg"])
                        )
                    continue
                self.entries[section].append(Located(entry, shown, label))


# ---------------------------------------------------------------------------------- checks
def _duplicates(
    items: Iterable[Located[Any]], key: Callable[[Any], object], field: str, what: str
) -> Iterable[Problem]:
    first: dict[object, Located[Any]] = {}
    for item in items:
        value = key(item.model)
        if value in first:
            other = first[value]
            yield item.problem(
                field, f"duplicate {what} {value!r}, already used by {other.file}: {other.label}"
            )
        else:
            first[value] = item


def _check_enumeration(
    item: Located[Any], field: str, encoding: str, labels: Mapping[int, str]
) -> Iterable[Problem]:
    domain = RawDomain(encoding)
    if domain.kind != "uint":
        yield item.problem("encoding", f"an enumeration needs a uintN encoding, not {encoding}")
        return
    for raw in labels:
        if not domain.min <= raw <= domain.max:
            yield item.problem(
                field, f"raw value {raw} does not fit {encoding} ({domain.min}..{domain.max})"
            )
    seen: set[str] = set()
    for label in labels.values():
        if label in seen:
            yield item.problem(field, f"label {label!r} used twice")
        seen.add(label)


def _eng_range(p: ParameterDef) -> tuple[float, float] | None:
    domain = RawDomain(p.encoding)
    if p.type is EngType.INT or (p.type is EngType.FLOAT and p.calibration is None):
        return float(domain.min), float(domain.max)
    if p.type is EngType.FLOAT and p.calibration and p.calibration.polynomial:
        cal = make_calibrator(p.encoding, p.type, polynomial=p.calibration.polynomial)
        low, high = cal.to_eng(domain.min), cal.to_eng(domain.max)
        assert isinstance(low, float)
        assert isinstance(high, float)
        return min(low, high), max(low, high)
    return None


def _check_parameter(item: Located[ParameterDef], vehicles: set[str]) -> Iterable[Problem]:
    p = item.model
    if p.vehicle not in vehicles:
        yield item.problem("name", f"unknown vehicle {p.vehicle!r}, expected one of {vehicles}")
    kind, bits = p.raw_kind, p.bits
    cal = p.calibration
    if cal is not None and (cal.polynomial is None) == (cal.enumeration is None):
        yield item.problem("calibration", "give exactly one of 'polynomial' and 'enumeration'")
        return
    if p.type is EngType.ENUM:
        if cal is None or cal.enumeration is None:
            yield item.problem("calibration", "an enum parameter needs an 'enumeration'")
        else:
            yield from _check_enumeration(
                item, "calibration.enumeration", p.encoding, cal.enumeration
            )
    elif p.type is EngType.BOOL:
        if p.encoding != "uint1":
            yield item.problem("encoding", f"a bool parameter is encoded uint1, not {p.encoding}")
        if cal is not None:
            yield item.problem("calibration", "a bool parameter takes no calibration")
    elif p.type is EngType.INT:
        if kind == "float":
            yield item.problem(
                "encoding", f"an int parameter needs an integer encoding, not {p.encoding}"
            )
        if cal is not None:
            yield item.problem(
                "calibration",
                "an int parameter takes no calibration (use type float for a scaled value)",
            )
    elif cal is not None:
        if cal.enumeration is not None:
            yield item.problem(
                "calibration.enumeration", "only enum parameters take an enumeration"
            )
        elif cal.polynomial is not None:
            reason = polynomial_problem(cal.polynomial, RawDomain(p.encoding))
            if reason:
                yield item.problem("calibration.polynomial", reason)
    del bits
    yield from _check_limits(item)
    yield from _check_typical(item)


def _check_limits(item: Located[ParameterDef]) -> Iterable[Problem]:
    p = item.model
    numeric = p.type in (EngType.FLOAT, EngType.INT)
    if p.limits is not None:
        if not numeric:
            yield item.problem(
                "limits",
                f"numeric limits need a float or int parameter, not {p.type.value} (use 'alarms')",
            )
        lim = p.limits
        values = {k: v for k, v in lim.model_dump().items() if v is not None}
        if not values:
            yield item.problem("limits", "give at least one limit")
        if any(not math.isfinite(v) for v in values.values()):
            yield item.problem("limits", "limits must be finite")
        pairs = (
            ("red_low", "yellow_low"),
            ("yellow_high", "red_high"),
            ("yellow_low", "yellow_high"),
            ("red_low", "red_high"),
            ("yellow_low", "red_high"),
            ("red_low", "yellow_high"),
        )
        for low_name, high_name in pairs:
            low, high = values.get(low_name), values.get(high_name)
            if low is None or high is None:
                continue
            strict = low_name.endswith("low") and high_name.endswith("high")
            if low > high or (strict and low == high):
                yield item.problem(
                    f"limits.{low_name}",
                    f"limits inverted: {low_name} {low:g} is above {high_name} {high:g}",
                )
    if p.alarms:
        if p.type is EngType.ENUM:
            labels = set(p.enumeration.values())
            for i, alarm in enumerate(p.alarms):
                if not isinstance(alarm.state, str) or alarm.state not in labels:
                    yield item.problem(
                        f"alarms[{i}].state", f"{alarm.state!r} is not one of {sorted(labels)}"
                    )
        elif p.type is EngType.BOOL:
            for i, alarm in enumerate(p.alarms):
                if not isinstance(alarm.state, bool):
                    yield item.problem(
                        f"alarms[{i}].state", "a bool parameter alarms on true or false"
                    )
        else:
            yield item.problem(
                "alarms", "state alarms need an enum or bool parameter (use 'limits')"
            )
        states = [a.state for a in p.alarms]
        if len(set(states)) != len(states):
            yield item.problem("alarms", "a state is listed twice")


def _inside_limits(p: ParameterDef, value: float) -> str | None:
    lim = p.limits
    if lim is None:
        return None
    for name in ("red_low", "yellow_low"):
        bound = getattr(lim, name)
        if bound is not None and value < bound:
            return f"{value:g} is below {name} {bound:g}"
    for name in ("red_high", "yellow_high"):
        bound = getattr(lim, name)
        if bound is not None and value > bound:
            return f"{value:g} is above {name} {bound:g}"
    return None


def _check_typical(item: Located[ParameterDef]) -> Iterable[Problem]:
    p = item.model
    t = p.typical
    if t is None:
        return
    if p.type in (EngType.FLOAT, EngType.INT):
        if isinstance(t, bool | str):
            yield item.problem("typical", "a numeric parameter needs a number or [low, high]")
            return
        low, high = (t, t) if isinstance(t, float) else t
        if low > high:
            yield item.problem("typical", f"range inverted: {low:g} > {high:g}")
        rng = _eng_range(p)
        if rng is not None and not (rng[0] <= low and high <= rng[1]):
            yield item.problem(
                "typical", f"outside what the encoding can hold ({rng[0]:g}..{rng[1]:g})"
            )
        for value in (low, high):
            reason = _inside_limits(p, value)
            if reason:
                yield item.problem("typical", f"a nominal value must not alarm: {reason}")
    elif p.type is EngType.ENUM:
        if not isinstance(t, str) or t not in p.enumeration.values():
            yield item.problem("typical", f"expected one of {sorted(p.enumeration.values())}")
        elif any(a.state == t for a in p.alarms):
            yield item.problem("typical", f"a nominal state must not alarm: {t}")
    elif p.type is EngType.BOOL:
        if not isinstance(t, bool):
            yield item.problem("typical", "expected true or false")
        elif any(a.state is t for a in p.alarms):
            yield item.problem("typical", f"a nominal value must not alarm: {t}")


def _check_argument(item: Located[Any], prefix: str, arg: ArgumentDef) -> Iterable[Problem]:
    domain = RawDomain(arg.encoding)
    if arg.type is EngType.ENUM:
        if not arg.enumeration:
            yield item.problem(f"{prefix}.enumeration", "an enum argument needs an enumeration")
        else:
            yield from _check_enumeration(
                item, f"{prefix}.enumeration", arg.encoding, arg.enumeration
            )
        if arg.default is not None and arg.default not in (arg.enumeration or {}).values():
            yield item.problem(f"{prefix}.default", f"{arg.default!r} is not a label")
    elif arg.enumeration is not None:
        yield item.problem(f"{prefix}.enumeration", "only enum arguments take an enumeration")
    if arg.type is EngType.BOOL:
        if domain.kind != "uint":
            yield item.problem(f"{prefix}.encoding", "a bool argument needs a uintN encoding")
        if arg.default is not None and not isinstance(arg.default, bool):
            yield item.problem(f"{prefix}.default", "expected true or false")
    if arg.type is EngType.INT and domain.kind == "float":
        yield item.problem(f"{prefix}.encoding", "an int argument needs an integer encoding")
    numeric = arg.type in (EngType.FLOAT, EngType.INT)
    if not numeric and (arg.min is not None or arg.max is not None):
        yield item.problem(prefix, "min/max apply to float and int arguments only")
    if numeric:
        low = arg.min if arg.min is not None else domain.min
        high = arg.max if arg.max is not None else domain.max
        if low > high:
            yield item.problem(f"{prefix}.min", f"range inverted: min {low:g} > max {high:g}")
        if low < domain.min or high > domain.max:
            yield item.problem(
                prefix,
                f"range {low:g}..{high:g} does not fit {arg.encoding} "
                f"({domain.min:g}..{domain.max:g})",
            )
        if arg.default is not None:
            if isinstance(arg.default, bool | str) or (
                arg.type is EngType.INT and not float(arg.default).is_integer()
            ):
                yield item.problem(
                    f"{prefix}.default", f"{arg.default!r} is not a {arg.type.value}"
                )
            elif not low <= arg.default <= high:
                yield item.problem(
                    f"{prefix}.default", f"{arg.default:g} is outside {low:g}..{high:g}"
                )


def _check_arguments(
    item: Located[Any], arguments: tuple[ArgumentDef, ...], header: bool
) -> Iterable[Problem]:
    names = [a.name for a in arguments]
    for i, arg in enumerate(arguments):
        if names.index(arg.name) != i:
            yield item.problem(f"arguments[{i}].name", f"duplicate argument {arg.name!r}")
        yield from _check_argument(item, f"arguments[{i}]", arg)
    try:
        compute_layout([(a.name, a.encoding) for a in arguments], 16 if header else 0)
    except LayoutError as exc:
        yield item.problem(f"arguments[{names.index(exc.field)}]", exc.reason)


def _sample_value(arg: ArgumentDef) -> object:
    if arg.type is EngType.ENUM:
        return next(iter((arg.enumeration or {0: ""}).values()))
    if arg.type is EngType.BOOL:
        return False
    if arg.type is EngType.INT:
        return 1
    return 1.5


def _check_message(item: Located[EventDef]) -> Iterable[Problem]:
    event = item.model
    args = {a.name: a for a in event.arguments}
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(event.message) if f is not None]
    except ValueError as exc:
        yield item.problem("message", f"bad template: {exc}")
        return
    for name in fields:
        if name not in args:
            yield item.problem(
                "message",
                f"placeholder {{{name}}} is not an argument "
                f"(arguments: {', '.join(args) or 'none'})",
            )
            return
    try:
        event.message.format(**{name: _sample_value(a) for name, a in args.items()})
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        yield item.problem("message", f"bad template: {exc}")


def _check_spacecraft(items: list[Located[SpacecraftDef]]) -> Iterable[Problem]:
    yield from _duplicates(items, lambda s: s.name, "name", "spacecraft name")
    yield from _duplicates(items, lambda s: s.scid, "scid", "SCID")
    apids = [
        Located(a, item.file, f"{item.label} apids[{i}]")
        for item in items
        for i, a in enumerate(item.model.apids)
    ]
    yield from _duplicates(apids, lambda a: a.apid, "apid", "APID")
    yield from _duplicates(apids, lambda a: a.name, "name", "APID name")
    for item in items:
        sc = item.model
        vcids = [vc.vcid for vc in sc.virtual_channels]
        if len(set(vcids)) != len(vcids):
            yield item.problem("virtual_channels", "a VCID is listed twice")
        roles = [a.role for a in sc.apids]
        for role in set(roles):
            if roles.count(role) > 1:
                yield item.problem("apids", f"more than one {role.value} APID")
        if "obsw" not in roles:
            yield item.problem("apids", "an 'obsw' APID is needed (events, service 1 and 17)")


def _check_packets(
    items: list[Located[PacketDef]],
    params: Mapping[str, Located[ParameterDef]],
    spacecraft: Mapping[str, SpacecraftDef],
) -> Iterable[Problem]:
    yield from _duplicates(items, lambda p: p.name, "name", "packet name")
    yield from _duplicates(items, lambda p: p.sid, "sid", "SID")
    yield from _duplicates(items, lambda p: p.key, "sid", "(apid, service, subtype, sid)")
    owner: dict[str, Located[PacketDef]] = {}
    for item in items:
        pkt = item.model
        sc = spacecraft.get(pkt.vehicle)
        if sc is None:
            yield item.problem("name", f"unknown vehicle {pkt.vehicle!r}")
            continue
        if pkt.apid not in {a.apid for a in sc.apids}:
            yield item.problem(
                "apid", f"APID {pkt.apid} (0x{pkt.apid:03X}) is not one of {pkt.vehicle}'s"
            )
        if pkt.vcid not in {vc.vcid for vc in sc.virtual_channels}:
            yield item.problem("vcid", f"{pkt.vehicle} has no virtual channel {pkt.vcid}")
        if pkt.service not in SID_SERVICES or (
            pkt.service == HK_SERVICE[0] and pkt.subtype != HK_SERVICE[1]
        ):
            yield item.problem(
                "service",
                f"packets are HK (3,25) or science ({SCIENCE_SERVICE},x),"
                f" not {pkt.service},{pkt.subtype}",
            )
        fields: list[tuple[str, str]] = []
        for i, name in enumerate(pkt.parameters):
            located = params.get(name)
            if located is None:
                yield item.problem(f"parameters[{i}]", f"unknown parameter {name!r}")
                continue
            if located.model.vehicle != pkt.vehicle:
                yield item.problem(f"parameters[{i}]", f"{name} belongs to another vehicle")
            if name in owner:
                other = owner[name]
                where = (
                    "twice in this packet"
                    if other is item
                    else (f"also in {other.file}: {other.label}")
                )
                yield item.problem(f"parameters[{i}]", f"parameter {name!r} {where}")
            owner[name] = item
            fields.append((name, located.model.encoding))
        if len(fields) == len(pkt.parameters):
            try:
                compute_layout(fields, 16)
            except LayoutError as exc:
                yield item.problem(
                    f"parameters[{pkt.parameters.index(exc.field)}]", f"bit layout: {exc.reason}"
                )
    for name, located in params.items():
        if name not in owner:
            yield located.problem(None, f"parameter {name!r} is in no packet")


def _check_commands(
    items: list[Located[CommandDef]],
    params: Mapping[str, Located[ParameterDef]],
    event_names: set[str],
    spacecraft: Mapping[str, SpacecraftDef],
) -> Iterable[Problem]:
    yield from _duplicates(items, lambda c: c.name, "name", "command name")
    yield from _duplicates(
        items, lambda c: c.key, "function_id", "(apid, service, subtype, function id)"
    )
    for item in items:
        cmd = item.model
        sc = spacecraft.get(cmd.vehicle)
        if sc is None:
            yield item.problem("name", f"unknown vehicle {cmd.vehicle!r}")
            continue
        if cmd.apid not in {a.apid for a in sc.apids}:
            yield item.problem("apid", f"APID {cmd.apid} is not one of {cmd.vehicle}'s")
        is_function = (cmd.service, cmd.subtype) == FUNCTION_SERVICE
        if is_function and cmd.function_id is None:
            yield item.problem("function_id", "a PUS 8,1 command needs a function_id")
        if not is_function and cmd.function_id is not None:
            yield item.problem("function_id", "only PUS 8,1 commands take a function_id")
        yield from _check_arguments(item, cmd.arguments, header=is_function)
        for i, name in enumerate(cmd.effects.parameters):
            if name not in params:
                yield item.problem(f"effects.parameters[{i}]", f"unknown parameter {name!r}")
        for i, name in enumerate(cmd.effects.events):
            if name not in event_names:
                yield item.problem(f"effects.events[{i}]", f"unknown event {name!r}")


def _check_events(
    items: list[Located[EventDef]], spacecraft: Mapping[str, SpacecraftDef]
) -> Iterable[Problem]:
    yield from _duplicates(items, lambda e: e.id, "id", "event id")
    yield from _duplicates(items, lambda e: e.name, "name", "event name")
    for item in items:
        if item.model.vehicle not in spacecraft:
            yield item.problem("name", f"unknown vehicle {item.model.vehicle!r}")
        yield from _check_arguments(item, item.model.arguments, header=True)
        yield from _check_message(item)


def _check_all(entries: Mapping[str, list[Located[Any]]]) -> list[Problem]:
    problems: list[Problem] = []
    sc_items: list[Located[SpacecraftDef]] = entries.get("spacecraft", [])
    problems += _check_spacecraft(sc_items)
    spacecraft = {s.model.name: s.model for s in sc_items}
    param_items: list[Located[ParameterDef]] = entries.get("parameters", [])
    problems += _duplicates(param_items, lambda p: p.name, "name", "parameter name")
    for item in param_items:
        problems += _check_parameter(item, set(spacecraft))
    params = {p.model.name: p for p in param_items}
    event_items: list[Located[EventDef]] = entries.get("events", [])
    problems += _check_packets(entries.get("packets", []), params, spacecraft)
    problems += _check_events(event_items, spacecraft)
    problems += _check_commands(
        entries.get("commands", []), params, {e.model.name for e in event_items}, spacecraft
    )
    problems += _duplicates(
        entries.get("failure_codes", []), lambda f: f.code, "code", "failure code"
    )
    problems += _duplicates(
        entries.get("failure_codes", []), lambda f: f.name, "name", "failure code name"
    )
    problems += _duplicates(entries.get("stations", []), lambda s: s.id, "id", "station id")
    return problems


# ---------------------------------------------------------------------------------- API
def _load(path: Path) -> MissionDatabase:
    shown = _display(path)
    if not path.is_dir():
        raise MdbError([Problem(shown, None, None, "not a folder of *.yaml files")])
    files = sorted(path.glob("*.yaml"))
    if not files:
        raise MdbError([Problem(shown, None, None, "no *.yaml files")])
    collector = _Collector()
    for file in files:
        collector.read_file(file)
    if collector.problems:
        raise MdbError(collector.problems)
    for section in ("spacecraft", "parameters", "packets"):
        if not collector.entries.get(section):
            raise MdbError([Problem(shown, None, None, f"no {section} defined")])
    problems = _check_all(collector.entries)
    if problems:
        raise MdbError(problems)

    def models(section: str) -> list[Any]:
        return [e.model for e in collector.entries.get(section, [])]

    return MissionDatabase(
        spacecraft=models("spacecraft"),
        parameters=models("parameters"),
        packets=models("packets"),
        commands=models("commands"),
        events=models("events"),
        failure_codes=models("failure_codes"),
        stations=models("stations"),
        source=path,
    )


@functools.cache
def _load_default() -> MissionDatabase:
    return _load(DATA_DIR)


def load_mdb(path: Path | None = None) -> MissionDatabase:
    """Load and check the mission database (default: the packaged data, loaded once)."""
    if path is None:
        return _load_default()
    return _load(Path(path))


__all__ = ["DATA_DIR", "MdbError", "Problem", "load_mdb"]

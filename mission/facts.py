"""Simulation defaults with provenance: the loader of ``seeds/mission_facts.yaml``.

Every default the simulator, the ground and the geometry use lives once in that file, each with a
unit, a status (sourced, derived or assumed), a source and a description. This module validates it
with pydantic (the file is an edge of the system) and offers typed accessors::

    facts = load_facts()
    facts.number("power.rover_array_peak_w")  # 500.0
    facts.site                                # Site(lat_deg=-88.74, lon_deg=124.5, alt_m=0.0)
    facts.stations                            # [StationFact(id='misasa', ...), ...]

The default file is ``seeds/mission_facts.yaml`` next to this package, or
``$LUPEX_SEEDS_DIR/mission_facts.yaml`` when that variable is set.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

__all__ = [
    "SEEDS_DIR_ENV",
    "Fact",
    "FactStatus",
    "FactsError",
    "MissionFacts",
    "Site",
    "SourceRef",
    "StationFact",
    "default_facts_path",
    "load_facts",
]

SEEDS_DIR_ENV: Final = "LUPEX_SEEDS_DIR"
FACTS_FILE_NAME: Final = "mission_facts.yaml"
_REPO_SEEDS_DIR: Final = Path(__file__).resolve().parent.parent / "seeds"
_SOURCE_SPLIT: Final = re.compile(r"[;,]\s*")

Scalar = StrictInt | StrictFloat | StrictStr
FactValue = Scalar | list[Scalar] | dict[str, Scalar | list[Scalar]]


class FactStatus(StrEnum):
    """How a value is known."""

    SOURCED = "sourced"  # stated by a public source listed in seeds/README.md
    DERIVED = "derived"  # computed from sourced values
    ASSUMED = "assumed"  # an engineering choice, explained in the description


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class SourceRef(_Strict):
    """One source id (described in seeds/README.md) and its short title."""

    id: str = Field(pattern=r"^[A-Z][A-Z0-9]*$")
    title: str = Field(min_length=1)


class Fact(_Strict):
    """One simulation default with its provenance."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
    value: FactValue
    unit: str = Field(min_length=1)
    status: FactStatus
    source: str = Field(min_length=1)
    description: str = Field(min_length=1)


class StationFact(_Strict):
    """A ground station: position, dish and elevation mask, with provenance."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    agency: str = Field(min_length=1)
    dish_m: float = Field(gt=0)
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(gt=-180, le=180)
    alt_m: float = Field(ge=-500, le=9000)
    elevation_mask_deg: float = Field(ge=0, lt=90)
    status: FactStatus
    source: str = Field(min_length=1)
    description: str = Field(min_length=1)
    assumed_fields: tuple[str, ...] = ()


class _FactsFile(_Strict):
    version: int = Field(ge=1)
    sources: list[SourceRef]
    facts: list[Fact]
    stations: list[StationFact]


@dataclass(frozen=True, slots=True)
class Site:
    """A place on the Moon: planetocentric latitude, east longitude, height over the mean radius."""

    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0


@dataclass(frozen=True, slots=True)
class _Problem:
    key: str | None
    field: str | None
    message: str


class FactsError(ValueError):
    """The facts file is unreadable or invalid. Names the file, the key and the field."""

    def __init__(self, path: Path, problems: list[_Problem]) -> None:
        self.path = path
        self.problems = problems
        first = problems[0] if problems else _Problem(None, None, "invalid")
        self.key = first.key
        self.field = first.field
        lines = [f"{path}: {len(problems)} problem(s) in the mission facts file"]
        for problem in problems:
            where = []
            if problem.key is not None:
                where.append(f"key {problem.key!r}")
            if problem.field is not None:
                where.append(f"field {problem.field!r}")
            lines.append(f"  {', '.join(where) or 'file'}: {problem.message}")
        super().__init__("\n".join(lines))


class MissionFacts:
    """The validated contents of a facts file, with typed accessors."""

    __slots__ = ("_by_key", "_sources", "_stations", "path")

    def __init__(self, path: Path, data: _FactsFile) -> None:
        self.path = path
        self._by_key: dict[str, Fact] = {fact.key: fact for fact in data.facts}
        self._sources: dict[str, SourceRef] = {src.id: src for src in data.sources}
        self._stations: tuple[StationFact, ...] = tuple(data.stations)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __iter__(self) -> Iterator[Fact]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def keys(self) -> list[str]:
        """All fact keys, in file order."""
        return list(self._by_key)

    @property
    def sources(self) -> Mapping[str, SourceRef]:
        """The source ids the file declares (described in seeds/README.md)."""
        return dict(self._sources)

    def get(self, key: str) -> Fact:
        """The fact under ``key``; KeyError naming the key and close matches when unknown."""
        try:
            return self._by_key[key]
        except KeyError:
            close = difflib.get_close_matches(key, self._by_key, n=5, cutoff=0.5)
            hint = f"; close matches: {', '.join(close)}" if close else ""
            raise KeyError(f"unknown mission fact {key!r} in {self.path}{hint}") from None

    def number(self, key: str) -> float:
        """The value of a numeric fact as a float; TypeError when it is not a number."""
        value = self.get(key).value
        if isinstance(value, int | float):
            return float(value)
        raise TypeError(f"mission fact {key!r} is not a number: {value!r}")

    def numbers(self, key: str) -> tuple[float, ...]:
        """The value of a fact that holds a list of numbers."""
        value = self.get(key).value
        if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
            return tuple(float(v) for v in value)
        raise TypeError(f"mission fact {key!r} is not a list of numbers: {value!r}")

    def string(self, key: str) -> str:
        """The value of a text fact."""
        value = self.get(key).value
        if isinstance(value, str):
            return value
        raise TypeError(f"mission fact {key!r} is not a string: {value!r}")

    def mapping(self, key: str) -> dict[str, Any]:
        """The value of a fact that holds a mapping."""
        value = self.get(key).value
        if isinstance(value, dict):
            return dict(value)
        raise TypeError(f"mission fact {key!r} is not a mapping: {value!r}")

    @property
    def stations(self) -> list[StationFact]:
        """The ground stations, in file order."""
        return list(self._stations)

    def station(self, station_id: str) -> StationFact:
        """One ground station by id; KeyError listing the valid ids when unknown."""
        for station in self._stations:
            if station.id == station_id:
                return station
        valid = ", ".join(s.id for s in self._stations)
        raise KeyError(f"unknown ground station {station_id!r}; valid ids: {valid}")

    @property
    def site(self) -> Site:
        """The landing site (``site.landing_site``)."""
        raw = self.mapping("site.landing_site")
        try:
            return Site(
                lat_deg=float(raw["lat_deg"]),
                lon_deg=float(raw["lon_deg"]),
                alt_m=float(raw.get("alt_m", 0.0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TypeError(f"mission fact 'site.landing_site' is not a site: {raw!r}") from exc


def default_facts_path() -> Path:
    """``$LUPEX_SEEDS_DIR/mission_facts.yaml`` when set, else the repository's seeds file."""
    seeds_dir = os.environ.get(SEEDS_DIR_ENV)
    base = Path(seeds_dir) if seeds_dir else _REPO_SEEDS_DIR
    return (base / FACTS_FILE_NAME).resolve()


def load_facts(path: Path | None = None) -> MissionFacts:
    """Load and validate a facts file (the default one, cached, when ``path`` is None)."""
    if path is None:
        return _load_cached(default_facts_path())
    return _load(Path(path))


@functools.cache
def _load_cached(path: Path) -> MissionFacts:
    return _load(path)


def _load(path: Path) -> MissionFacts:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FactsError(path, [_Problem(None, None, f"cannot read: {exc}")]) from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FactsError(path, [_Problem(None, None, f"not valid YAML: {exc}")]) from exc
    if not isinstance(raw, dict):
        raise FactsError(path, [_Problem(None, None, "the top level must be a mapping")])
    try:
        data = _FactsFile.model_validate(raw)
    except ValidationError as exc:
        raise FactsError(path, _problems_from(exc, raw)) from exc
    problems = _consistency_problems(data)
    if problems:
        raise FactsError(path, problems)
    return MissionFacts(path, data)


def _problems_from(exc: ValidationError, raw: dict[str, Any]) -> list[_Problem]:
    """Turn pydantic's error locations (``('facts', 3, 'unit')``) into key and field names."""
    problems = []
    for error in exc.errors():
        loc = error["loc"]
        key: str | None = None
        field: str | None = None
        if len(loc) >= 2 and isinstance(loc[1], int):
            section, index = str(loc[0]), loc[1]
            key = _entry_name(raw, section, index)
            field = str(loc[2]) if len(loc) >= 3 else None
        elif loc:
            field = str(loc[0])
        problems.append(_Problem(key, field, error["msg"]))
    return problems


def _entry_name(raw: dict[str, Any], section: str, index: int) -> str:
    entries = raw.get(section)
    entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
    name_field = "id" if section in ("stations", "sources") else "key"
    if isinstance(entry, dict) and isinstance(entry.get(name_field), str):
        return str(entry[name_field])
    return f"{section}[{index}]"


def _consistency_problems(data: _FactsFile) -> list[_Problem]:
    problems: list[_Problem] = []
    seen: set[str] = set()
    for fact in data.facts:
        if fact.key in seen:
            problems.append(_Problem(fact.key, "key", "duplicate key"))
        seen.add(fact.key)
    station_ids: set[str] = set()
    for station in data.stations:
        if station.id in station_ids:
            problems.append(_Problem(station.id, "id", "duplicate station id"))
        station_ids.add(station.id)
        unknown = set(station.assumed_fields) - set(StationFact.model_fields)
        if unknown:
            problems.append(
                _Problem(station.id, "assumed_fields", f"not station fields: {sorted(unknown)}")
            )
    known = {src.id for src in data.sources}
    entries: list[Fact | StationFact] = [*data.facts, *data.stations]
    for entry in entries:
        if entry.status is not FactStatus.SOURCED:
            continue
        refs = [ref for ref in _SOURCE_SPLIT.split(entry.source) if ref]
        missing = [ref for ref in refs if ref not in known]
        if missing or not refs:
            name = entry.key if isinstance(entry, Fact) else entry.id
            problems.append(
                _Problem(
                    name,
                    "source",
                    f"a sourced entry must cite declared source ids ({', '.join(sorted(known))});"
                    f" unknown: {missing or entry.source!r}",
                )
            )
    return problems

"""Vectorised limit checks: one numpy pass per parameter per ingest batch.

Every parameter of the mission database compiles once into a :class:`LimitCheck`:

- numeric parameters (``float``/``int``) with ``limits``: a value is *yellow* when it is strictly
  below ``yellow_low`` or above ``yellow_high``, *red* when strictly beyond a red limit; red wins;
- enumerated and boolean parameters with state ``alarms``: a lookup table from raw code to level;
- everything else is never checked (its monitoring result is ``disabled``).

:meth:`LimitCheck.check` returns one ``int8`` code per sample (``0`` in limits, ``1`` yellow, ``2``
red), the ``SampleArrays.monitoring`` column. NaN values compare false with every bound and are
therefore in limits (a NaN is a value the spacecraft sent, not a limit violation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from ground.model import MonitoringResult
from mission.mdb.models import AlarmLevel, EngType, ParameterDef

IN_LIMITS: Final = 0
YELLOW: Final = 1
RED: Final = 2

LEVEL_NAMES: Final = ("ok", "yellow", "red")
"""Level code → the names ``AlarmView.level``/``current_level`` use."""

_LEVEL_OF: Final = {AlarmLevel.YELLOW: YELLOW, AlarmLevel.RED: RED}
_RESULTS: Final = (MonitoringResult.IN_LIMITS, MonitoringResult.WATCH, MonitoringResult.CRITICAL)

Codes = NDArray[np.int8]


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """The compiled limits of one parameter.

    ``yellow``/``red`` hold ``(low, high)`` with ``-inf``/``+inf`` for a missing side, or ``None``
    when the parameter has no limit of that colour. ``states`` maps raw codes to levels for
    enumerated/boolean parameters (``table`` is the same as a lookup array, with one trailing
    zero slot for codes beyond it).
    """

    name: str
    yellow: tuple[float, float] | None = None
    red: tuple[float, float] | None = None
    states: Mapping[int, int] | None = None
    table: NDArray[np.int8] | None = None
    boolean: bool = False

    @property
    def enabled(self) -> bool:
        return self.yellow is not None or self.red is not None or bool(self.states)

    def check(self, eng: NDArray[Any], raw: NDArray[Any]) -> Codes:
        """One level code per sample (``eng`` engineering values, ``raw`` raw values)."""
        n = len(eng)
        if self.table is not None:
            codes = np.asarray(raw)
            table: NDArray[np.int8] = self.table
            if self.boolean:
                flags: NDArray[np.int8] = table[(codes != 0).view(np.int8)]
                return flags
            index = np.clip(codes, 0, len(table) - 1).astype(np.intp, copy=False)
            levels: NDArray[np.int8] = table[index]
            return levels
        out = np.zeros(n, dtype=np.int8)
        if self.yellow is not None:
            low, high = self.yellow
            out[(eng < low) | (eng > high)] = YELLOW
        if self.red is not None:
            low, high = self.red
            out[(eng < low) | (eng > high)] = RED
        return out

    def check_one(self, eng: float | int | bool | str, raw: float | int) -> int:
        """The level of one value, computed directly (a reference for tests and single values)."""
        if self.states is not None:
            key = int(raw != 0) if self.boolean else int(raw)
            return self.states.get(key, IN_LIMITS)
        if isinstance(eng, str):
            return IN_LIMITS
        value = float(eng)
        if self.red is not None and (value < self.red[0] or value > self.red[1]):
            return RED
        if self.yellow is not None and (value < self.yellow[0] or value > self.yellow[1]):
            return YELLOW
        return IN_LIMITS

    def result(self, code: int) -> MonitoringResult:
        """The Yamcs-style monitoring result of a level code."""
        if not self.enabled:
            return MonitoringResult.DISABLED
        return _RESULTS[code]


def _pair(low: float | None, high: float | None) -> tuple[float, float] | None:
    if low is None and high is None:
        return None
    return (-math.inf if low is None else low, math.inf if high is None else high)


def compile_limits(parameter: ParameterDef) -> LimitCheck:
    """The :class:`LimitCheck` of one parameter definition."""
    if parameter.type in (EngType.FLOAT, EngType.INT):
        lim = parameter.limits
        if lim is None:
            return LimitCheck(parameter.name)
        return LimitCheck(
            parameter.name,
            yellow=_pair(lim.yellow_low, lim.yellow_high),
            red=_pair(lim.red_low, lim.red_high),
        )
    if not parameter.alarms:
        return LimitCheck(parameter.name)
    states: dict[int, int] = {}
    if parameter.type is EngType.BOOL:
        for alarm in parameter.alarms:
            states[int(bool(alarm.state))] = _LEVEL_OF[alarm.severity]
        table = np.array([states.get(0, 0), states.get(1, 0)], dtype=np.int8)
        return LimitCheck(parameter.name, states=states, table=table, boolean=True)
    raw_of = {label: code for code, label in parameter.enumeration.items()}
    for alarm in parameter.alarms:
        if isinstance(alarm.state, str) and alarm.state in raw_of:
            states[raw_of[alarm.state]] = _LEVEL_OF[alarm.severity]
    size = max(states, default=-1) + 2  # one trailing in-limits slot for larger codes
    table = np.zeros(size, dtype=np.int8)
    for code, level in states.items():
        table[code] = level
    return LimitCheck(parameter.name, states=states, table=table)


def compile_all(parameters: Mapping[str, ParameterDef]) -> dict[str, LimitCheck]:
    """Every parameter's compiled limits, by name."""
    return {name: compile_limits(p) for name, p in parameters.items()}


def level_name(code: int) -> str:
    """``ok``, ``yellow`` or ``red``."""
    return LEVEL_NAMES[code]

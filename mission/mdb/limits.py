"""Limit and state-alarm checks of parameter values (Yamcs ``monitoring_result`` names).

A numeric value is out of limits when it is strictly below a low or above a high limit; red wins
over yellow. Enumeration and boolean parameters alarm on listed states. Both a scalar and a
vectorised form are given; they agree.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mission.mdb.calibration import EngValue
from mission.mdb.models import AlarmLevel, EngType, ParameterDef


class MonitoringResult(IntEnum):
    """Worst first is the highest value, so ``max()`` combines results."""

    IN_LIMITS = 0
    WARNING = 1
    """Yellow limit or state."""
    CRITICAL = 2
    """Red limit or state."""


_LEVEL = {AlarmLevel.YELLOW: MonitoringResult.WARNING, AlarmLevel.RED: MonitoringResult.CRITICAL}


def check_value(param: ParameterDef, eng: EngValue) -> MonitoringResult:
    """Monitoring result of one engineering value (label for enums, bool for bools)."""
    if param.type in (EngType.ENUM, EngType.BOOL):
        for alarm in param.alarms:
            if alarm.state == eng and isinstance(eng, bool) == isinstance(alarm.state, bool):
                return _LEVEL[alarm.severity]
        return MonitoringResult.IN_LIMITS
    lim = param.limits
    if lim is None or isinstance(eng, str | bool):
        return MonitoringResult.IN_LIMITS
    value = float(eng)
    if (lim.red_low is not None and value < lim.red_low) or (
        lim.red_high is not None and value > lim.red_high
    ):
        return MonitoringResult.CRITICAL
    if (lim.yellow_low is not None and value < lim.yellow_low) or (
        lim.yellow_high is not None and value > lim.yellow_high
    ):
        return MonitoringResult.WARNING
    return MonitoringResult.IN_LIMITS


def check_array(param: ParameterDef, eng: NDArray[Any]) -> NDArray[np.int8]:
    """Vectorised :func:`check_value` over a batch-decoded engineering array.

    Enumerations take the raw codes (as in ``BatchDecoded.eng``), booleans a bool array.
    """
    out = np.zeros(eng.shape, dtype=np.int8)
    if param.type in (EngType.ENUM, EngType.BOOL):
        raw_of = {label: raw for raw, label in param.enumeration.items()}
        for alarm in sorted(param.alarms, key=lambda a: _LEVEL[a.severity]):
            if isinstance(alarm.state, bool):
                hit = eng.astype(bool) == alarm.state
            else:
                hit = eng == raw_of[alarm.state]
            out[hit] = _LEVEL[alarm.severity]
        return out
    lim = param.limits
    if lim is None:
        return out
    for level, low, high in (
        (MonitoringResult.WARNING, lim.yellow_low, lim.yellow_high),
        (MonitoringResult.CRITICAL, lim.red_low, lim.red_high),
    ):
        if low is not None:
            out[eng < low] = level
        if high is not None:
            out[eng > high] = level
    return out

"""Vectorised limit checks against a direct, one-value-at-a-time computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ground.model import MonitoringResult
from ground.processing.limits import RED, YELLOW, compile_all, compile_limits
from mission.mdb import load_mdb
from mission.mdb.limits import check_value
from mission.mdb.models import EngType, NumericLimits, ParameterDef

MDB = load_mdb()
CHECKS = compile_all(MDB.parameters)
NUMERIC = sorted(
    n for n, p in MDB.parameters.items() if p.type in (EngType.FLOAT, EngType.INT) and p.limits
)
STATES = sorted(n for n, p in MDB.parameters.items() if p.alarms)


def _direct(limits: NumericLimits, value: float) -> int:
    """The definition: red beyond a red limit, else yellow beyond a yellow limit (strictly)."""
    if (limits.red_low is not None and value < limits.red_low) or (
        limits.red_high is not None and value > limits.red_high
    ):
        return RED
    if (limits.yellow_low is not None and value < limits.yellow_low) or (
        limits.yellow_high is not None and value > limits.yellow_high
    ):
        return YELLOW
    return 0


def test_the_database_has_limits_of_both_kinds() -> None:
    assert len(NUMERIC) >= 20
    assert len(STATES) >= 10


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(NUMERIC),
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=50),
)
def test_numeric_limits_match_the_direct_computation(name: str, values: list[float]) -> None:
    param = MDB.parameters[name]
    assert param.limits is not None
    eng = np.asarray(values, dtype=np.float64)
    codes = CHECKS[name].check(eng, eng)
    assert codes.dtype == np.int8
    expected = [0 if math.isnan(v) else _direct(param.limits, v) for v in values]
    assert codes.tolist() == expected
    # and the mission database's own scalar check agrees
    assert [int(check_value(param, v)) for v in values] == expected


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(NUMERIC), data=st.data())
def test_values_on_the_limits_are_in_limits(name: str, data: st.DataObject) -> None:
    param = MDB.parameters[name]
    assert param.limits is not None
    bounds = [v for v in param.limits.model_dump().values() if v is not None]
    value = data.draw(st.sampled_from(bounds))
    code = int(CHECKS[name].check(np.array([value]), np.array([value]))[0])
    assert code == _direct(param.limits, value)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(STATES), data=st.data())
def test_state_alarms_match_the_direct_computation(name: str, data: st.DataObject) -> None:
    param = MDB.parameters[name]
    if param.type is EngType.BOOL:
        raws = data.draw(st.lists(st.integers(0, 1), max_size=40))
        engs: list[object] = [bool(r) for r in raws]
    else:
        codes_known = list(param.enumeration)
        raws = data.draw(
            st.lists(st.one_of(st.sampled_from(codes_known), st.integers(0, 255)), max_size=40)
        )
        engs = [param.enumeration.get(r, f"UNDEFINED_{r}") for r in raws]
    raw = np.asarray(raws, dtype=np.int64)
    got = CHECKS[name].check(raw.astype(np.float64), raw).tolist()
    expected = []
    for eng in engs:
        level = 0
        for alarm in param.alarms:
            if alarm.state == eng and isinstance(eng, bool) == isinstance(alarm.state, bool):
                level = RED if alarm.severity == "red" else YELLOW
        expected.append(level)
    assert got == expected


@pytest.mark.parametrize(
    ("limits", "value", "level"),
    [
        (NumericLimits(yellow_high=10.0), 10.0, 0),
        (NumericLimits(yellow_high=10.0), 10.5, YELLOW),
        (NumericLimits(red_low=-5.0), -5.5, RED),
        (NumericLimits(yellow_low=0.0, red_low=-5.0), -1.0, YELLOW),
        (NumericLimits(yellow_low=0.0, red_low=-5.0), -6.0, RED),
        (NumericLimits(red_high=3.0), 2.0, 0),
    ],
)
def test_one_sided_and_partial_limits(limits: NumericLimits, value: float, level: int) -> None:
    param = ParameterDef(
        name="rover.test.value",
        description="test",
        encoding="float32",
        type=EngType.FLOAT,
        limits=limits,
    )
    check = compile_limits(param)
    assert int(check.check(np.array([value]), np.array([value]))[0]) == level
    assert check.check_one(value, value) == level
    assert (
        check.result(level)
        is (
            MonitoringResult.IN_LIMITS,
            MonitoringResult.WATCH,
            MonitoringResult.CRITICAL,
        )[level]
    )


def test_parameters_without_limits_are_disabled() -> None:
    plain = next(n for n, p in MDB.parameters.items() if not p.limits and not p.alarms)
    check = CHECKS[plain]
    assert not check.enabled
    assert check.result(0) is MonitoringResult.DISABLED
    assert check.check(np.array([1e30]), np.array([1e30])).tolist() == [0]

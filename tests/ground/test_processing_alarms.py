"""The alarm lifecycle: examples, and a state machine checked against a sample-by-sample model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ground.model import AlarmState
from ground.processing.alarms import AlarmManager

P = "rover.power.battery_soc"
LEVELS = ("ok", "yellow", "red")


def feed(manager: AlarmManager, codes: list[int], t0: float) -> float:
    times = t0 + np.arange(len(codes), dtype=np.float64)
    values = [float(10 * c + i) for i, c in enumerate(codes)]
    manager.update(P, "rover", times, np.asarray(codes, dtype=np.int8), lambda i: values[i])
    return float(times[-1]) + 1.0


def test_raised_acknowledged_cleared() -> None:
    alarms = AlarmManager()
    t = feed(alarms, [0, 0, 1, 2, 1], 100.0)
    (view,) = alarms.all()
    assert view.state is AlarmState.RAISED
    assert (view.level, view.current_level) == ("red", "yellow")
    assert (view.trigger_time, view.most_severe_time) == (102.0, 103.0)
    assert view.trigger_value == 12.0
    changes = alarms.drain_changes()
    assert changes[-1] == view
    acked = alarms.acknowledge(view.id, "alice", 500.0)
    assert acked.state is AlarmState.ACKNOWLEDGED
    assert (acked.acknowledged_by, acked.acknowledged_at) == ("alice", 500.0)
    feed(alarms, [1, 0], t)
    cleared = alarms.get(view.id)
    assert cleared.state is AlarmState.CLEARED
    assert cleared.cleared_at == t + 1
    assert alarms.open_for(P) is None
    assert [c.state for c in alarms.drain_changes()] == [
        AlarmState.ACKNOWLEDGED,
        AlarmState.CLEARED,
    ]


def test_back_in_limits_stays_raised_until_acknowledged() -> None:
    alarms = AlarmManager()
    feed(alarms, [2, 0, 0], 0.0)
    (view,) = alarms.all()
    assert view.state is AlarmState.RAISED
    assert view.in_limits
    assert (view.level, view.current_level) == ("red", "ok")
    done = alarms.acknowledge(view.id, "bob", 10.0)
    assert done.state is AlarmState.CLEARED
    assert done.cleared_at == 10.0
    assert alarms.all(AlarmState.CLEARED) == [done]


def test_worse_after_acknowledgement_raises_again() -> None:
    alarms = AlarmManager()
    t = feed(alarms, [1], 0.0)
    view = alarms.acknowledge(alarms.all()[0].id, "carol", 1.5)
    feed(alarms, [2], t)
    again = alarms.get(view.id)
    assert again.state is AlarmState.RAISED
    assert again.level == "red"
    assert again.acknowledged_by is None


def test_unknown_alarm_and_idempotent_acknowledgement() -> None:
    alarms = AlarmManager()
    with pytest.raises(KeyError):
        alarms.get("nope")
    with pytest.raises(KeyError):
        alarms.acknowledge("nope", "x", 0.0)
    feed(alarms, [1], 0.0)
    alarm_id = alarms.all()[0].id
    first = alarms.acknowledge(alarm_id, "x", 1.0)
    assert alarms.acknowledge(alarm_id, "y", 2.0) == first


def test_a_new_excursion_after_clearing_is_a_new_alarm() -> None:
    alarms = AlarmManager()
    t = feed(alarms, [1], 0.0)
    first = alarms.acknowledge(alarms.all()[0].id, "x", 0.5)
    t = feed(alarms, [0, 1], t)
    views = alarms.all()
    assert {v.state for v in views} == {AlarmState.CLEARED, AlarmState.RAISED}
    assert len({v.id for v in views}) == 2
    assert alarms.get(first.id).state is AlarmState.CLEARED


@dataclass
class ModelAlarm:
    trigger_time: float
    level: int
    current: int
    state: str = "raised"
    acked_level: int = 0
    in_limits: bool = False
    most_severe_time: float = 0.0
    acknowledged_by: str | None = None


class AlarmMachine(RuleBasedStateMachine):
    """Random blocks of levels and acknowledgements; the manager must match the model."""

    def __init__(self) -> None:
        super().__init__()
        self.manager = AlarmManager()
        self.model: ModelAlarm | None = None
        self.closed = 0
        self.t = 0.0

    def _sample(self, code: int, t: float) -> None:
        m = self.model
        if code:
            if m is None:
                self.model = ModelAlarm(t, code, code, most_severe_time=t)
                return
            m.current, m.in_limits = code, False
            if code > m.level:
                m.level, m.most_severe_time = code, t
            if m.state == "acknowledged" and code > m.acked_level:
                m.state, m.acknowledged_by = "raised", None
            return
        if m is None:
            return
        m.current = 0
        m.in_limits = True
        if m.state == "acknowledged":
            self.model = None
            self.closed += 1

    @rule(codes=st.lists(st.integers(0, 2), min_size=1, max_size=12))
    def block(self, codes: list[int]) -> None:
        start = self.t
        self.t = feed(self.manager, codes, start)
        for i, code in enumerate(codes):
            self._sample(code, start + i)

    @rule(user=st.sampled_from(["ann", "ben"]))
    def acknowledge(self, user: str) -> None:
        view = self.manager.open_for(P)
        assert (view is None) == (self.model is None)
        if view is None or self.model is None:
            return
        self.manager.acknowledge(view.id, user, self.t)
        if self.model.state != "raised":
            return
        if self.model.in_limits:
            self.model = None
            self.closed += 1
        else:
            self.model.state, self.model.acknowledged_by = "acknowledged", user
            self.model.acked_level = self.model.level

    @invariant()
    def matches_the_model(self) -> None:
        view = self.manager.open_for(P)
        m = self.model
        if m is None:
            assert view is None
        else:
            assert view is not None
            assert view.state.value == m.state
            assert view.level == LEVELS[m.level]
            assert view.current_level == LEVELS[m.current]
            assert view.in_limits == m.in_limits
            assert view.trigger_time == m.trigger_time
            assert view.most_severe_time == m.most_severe_time
            assert view.acknowledged_by == m.acknowledged_by
        assert len(self.manager.all(AlarmState.CLEARED)) == self.closed


TestAlarmMachine = AlarmMachine.TestCase
TestAlarmMachine.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)

"""Every scenario's expected detections happen within their deadlines in the stepped world."""

from __future__ import annotations

import pytest

from mission.scenarios import load_scenarios
from mission.sim_control import StartScenario, StopScenario
from spacecraft_mock.world import World
from tests.spacecraft_mock.exercise import EPOCH
from tests.spacecraft_mock.scenario_run import exercise_scenario

SCENARIOS = load_scenarios()


def _params() -> list[object]:
    return [
        pytest.param(name, marks=[pytest.mark.slow] if s.duration_s > 3600 else [], id=name)
        for name, s in SCENARIOS.items()
    ]


@pytest.mark.parametrize("name", _params())
def test_scenario_detections_happen_before_their_deadlines(name: str) -> None:
    result = exercise_scenario(SCENARIOS[name])
    assert result.missed == []
    assert set(result.detected) == {d.id for d in SCENARIOS[name].detections}
    assert result.final_state == "finished"


def test_scenario_status_shows_progress_and_timeline_and_can_be_stopped() -> None:
    world = World(1, EPOCH)
    world.advance_to(EPOCH + 10.0)
    assert world.apply_control(StartScenario(scenario="instrument_latchup_fdir")).accepted
    world.advance_to(world.t + 900.0)
    status = world.status(wall_time=0.0, speed=1.0, paused=False, lag_s=0.0).scenario
    assert status is not None
    assert status.state == "running"
    assert status.progress == pytest.approx(0.5, abs=0.01)
    assert [e.state for e in status.timeline] == ["done", "done"]
    assert [e.fault for e in status.timeline] == ["instrument_latchup", "lander_instrument_latchup"]
    assert world.apply_control(StopScenario()).accepted
    stopped = world.status(wall_time=0.0, speed=1.0, paused=False, lag_s=0.0).scenario
    assert stopped is not None
    assert stopped.state == "stopped"
    refused = world.apply_control(StartScenario(scenario="no_such_scenario"))
    assert not refused.accepted
    assert "unknown scenario" in refused.reason

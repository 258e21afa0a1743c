"""Running a training scenario in a stepped world and checking its expected detections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from mission.mdb import MonitoringResult
from mission.scenarios import DetectionKind, Scenario
from mission.sim_control import StartScenario
from spacecraft_mock.world import World
from tests.spacecraft_mock.exercise import EPOCH
from tests.spacecraft_mock.probe import GroundProbe, run

WARM_UP_S: Final = 300.0
LEVELS: Final = {"yellow": MonitoringResult.WARNING, "red": MonitoringResult.CRITICAL}


@dataclass(slots=True)
class ScenarioResult:
    name: str
    detected: dict[str, float] = field(default_factory=dict)
    """Detection id -> mission seconds from the triggering step to the detection."""
    missed: list[str] = field(default_factory=list)
    final_state: str = ""


def exercise_scenario(
    scenario: Scenario, seed: int = 1, epoch: float = EPOCH, warm_up_s: float = WARM_UP_S
) -> ScenarioResult:
    world = World(seed, epoch)
    probe = GroundProbe(world.db)
    run(world, probe, epoch + warm_up_s)
    ack = world.apply_control(StartScenario(scenario=scenario.name))
    assert ack.accepted, ack.reason
    start = world.t
    run(world, probe, start + scenario.duration_s + 5.0, step=10.0)
    result = ScenarioResult(scenario.name)
    result.final_state = world.scenario.state if world.scenario is not None else "none"
    for detection in scenario.detections:
        t_step = start + scenario.steps[detection.step].at_s
        deadline = t_step + detection.deadline_s
        found: float | None = None
        if detection.kind is DetectionKind.ALARM:
            assert detection.parameter is not None
            assert detection.level is not None
            found = probe.first_alarm(detection.parameter, LEVELS[detection.level], t_step)
        else:
            assert detection.event is not None
            times = probe.event_times(detection.event, t_step, deadline)
            found = times[0] if times else None
        if found is not None and found <= deadline:
            result.detected[detection.id] = found - t_step
        else:
            late = "never" if found is None else f"after {found - t_step:.0f} s"
            result.missed.append(f"{detection.id} ({late}, deadline {detection.deadline_s:g} s)")
    return result

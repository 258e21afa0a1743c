"""Running a training scenario on mission time: inject its faults at their offsets, finish it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from mission.scenarios import Scenario
from mission.sim_control import ScenarioStatus, TimelineEntry

if TYPE_CHECKING:
    from spacecraft_mock.faults import FaultInjector


@dataclass(slots=True)
class _Entry:
    index: int
    start: float
    end: float | None
    state: Literal["pending", "active", "done"] = "pending"
    instance_id: str | None = None


class ScenarioRun:
    def __init__(self, scenario: Scenario, injector: FaultInjector, now: float) -> None:
        self.scenario = scenario
        self.injector = injector
        self.started_at = now
        self.state: Literal["running", "finished", "stopped"] = "running"
        self.finished_at = now
        self.entries: list[_Entry] = []
        for i, step in enumerate(scenario.steps):
            start = now + step.at_s
            duration = step.duration_s
            if duration is None and not step.until_cleared:
                duration = injector.catalogue.get(step.fault).default_duration_s
            end = None if step.until_cleared or duration is None else start + duration
            self.entries.append(_Entry(i, start, end))

    @property
    def ends_at(self) -> float:
        return self.started_at + self.scenario.duration_s

    def update(self, now: float) -> list[str]:
        """Inject what is due, follow what ended; returns short log lines."""
        log: list[str] = []
        if self.state != "running":
            return log
        for entry in self.entries:
            step = self.scenario.steps[entry.index]
            if entry.state == "pending" and entry.start <= now:
                duration = None if entry.end is None else entry.end - entry.start
                instance = self.injector.inject(
                    step.fault,
                    dict(step.params),
                    duration,
                    now,
                    "scenario",
                    use_default_duration=False,
                )
                entry.state, entry.instance_id = "active", instance.instance_id
                log.append(f"scenario {self.scenario.name}: injected {instance.instance_id}")
            elif entry.state == "active" and entry.instance_id not in self.injector.active:
                entry.state = "done"
        if now >= self.ends_at:
            self.finish(now, "finished")
            log.append(f"scenario {self.scenario.name}: finished")
        return log

    def finish(self, now: float, state: Literal["finished", "stopped"], clear: bool = True) -> None:
        if clear:
            for entry in self.entries:
                if entry.instance_id in self.injector.active:
                    self.injector.clear(entry.instance_id, now)
                if entry.state == "active":
                    entry.state = "done"
        self.state = state
        self.finished_at = now

    def status(self, now: float) -> ScenarioStatus:
        end = self.ends_at
        elapsed = (
            min(now, end) - self.started_at
            if self.state == "running"
            else (self.finished_at - self.started_at)
        )
        duration = self.scenario.duration_s
        timeline = []
        for entry in self.entries:
            step = self.scenario.steps[entry.index]
            instance = self.injector.active.get(entry.instance_id or "")
            timeline.append(
                TimelineEntry(
                    offset_s=step.at_s,
                    fault=step.fault,
                    params=dict(instance.params if instance else step.params),
                    duration_s=None if entry.end is None else entry.end - entry.start,
                    start=entry.start,
                    end=entry.end,
                    state=entry.state,
                )
            )
        return ScenarioStatus(
            name=self.scenario.name,
            title=self.scenario.title,
            state=self.state,
            started_at=self.started_at,
            ends_at=end,
            elapsed_s=max(0.0, elapsed),
            duration_s=duration,
            progress=min(1.0, max(0.0, elapsed / duration)),
            timeline=timeline,
        )

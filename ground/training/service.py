"""The training service: fault injection and scenarios for an instructor, the live checklist, the
score and the debrief.

``TrainingService(config, state, archive, commands=...)``; the lead starts ``run()`` in the
application's task group. It connects to the broker as the ``ground`` user with a client id of
its own (``<ground client id>-training``), **publishes** the instructor's requests on
``lupex/v1/sim/control`` (``mission.sim_control``: inject or clear a fault, start or stop a
scenario) and **reads** the retained ``lupex/v1/sim/status`` (active faults, the running scenario,
the outcome of each control message, matched by ``request_id``). The ACL lets the ground user
write ``sim/control``: the API checks the instructor role first, so the ground acts for an
instructor.

While a scenario runs, every ``tick_s`` the service hands the checklist (``ground.training.
checklist``) the alarms (``GroundState.alarms``) and events (``GroundState.events``) the ground
has produced; the checklist's start is the scenario's start in mission time as the simulator
reports it. A run ends when the instructor stops it, or when the scenario has finished and every
expected detection is decided (detected, or its deadline passed). The score
(``ground.training.scoring``) and the debrief (the timeline of injected and cleared faults from
sim/status, alarms raised and acknowledged, expected detections, commands sent) are then kept
until the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from pydantic import ValidationError

from ground.commanding.mqtt import MqttEndpoint
from ground.model import AlarmState, AlarmView, EventView
from ground.processing.state import GroundState
from ground.training.checklist import Checklist, ItemState
from ground.training.plans import ScenarioPlan, load_plans
from ground.training.scoring import Score, ScoringRules, score_run
from mission import topics
from mission.faults import FaultCatalogue, FaultParamError, load_faults
from mission.sim_control import (
    ClearFault,
    ControlAck,
    InjectFault,
    SimControl,
    SimStatus,
    StartScenario,
    StopScenario,
    control_json,
)
from mqtt_io import BrokerUrl

if TYPE_CHECKING:
    from ground.archive.base import Archive
    from ground.commanding.service import CommandService
    from ground.settings import GroundSettings

log = logging.getLogger("lupex.ground.training")

ACK_WAIT_S: Final = 5.0
TIMELINE_LIMIT: Final = 5_000
SEEN_LIMIT: Final = 1_000
"""Fault instances remembered as logged (far more than a status lists in ``recent_faults``)."""


class TrainingError(ValueError):
    """A request the training service refuses: ``field`` names what is wrong."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    broker: BrokerUrl
    client_id: str = "lupex-ground-training"
    tick_s: float = 0.1
    ack_wait_s: float = ACK_WAIT_S
    rules: ScoringRules = field(default_factory=ScoringRules)

    @classmethod
    def from_settings(cls, settings: GroundSettings) -> TrainingConfig:
        return cls(broker=settings.broker(), client_id=f"{settings.mqtt_client_id}-training")


@dataclass(slots=True)
class Run:
    """One scenario run: its checklist, its timeline, its end."""

    plan: ScenarioPlan
    checklist: Checklist
    started_by: str
    request_id: str
    requested_at: float
    confirmed: bool = False
    """The simulator reported the scenario running (its start time is then the checklist's)."""
    state: str = "starting"
    """starting, running, finished (by the simulator), stopped (by the instructor), ended."""
    ended_at: float | None = None
    stopped_by: str | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)
    seen_alarms: dict[str, tuple[str, float | None]] = field(default_factory=dict)
    seen_events: set[tuple[str, str, float]] = field(default_factory=set)
    score: Score | None = None


class TrainingService:
    """See the module docstring."""

    def __init__(
        self,
        config: TrainingConfig,
        state: GroundState,
        archive: Archive | None = None,
        *,
        commands: CommandService | None = None,
        catalogue: FaultCatalogue | None = None,
        plans: Mapping[str, ScenarioPlan] | None = None,
        endpoint: MqttEndpoint | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.state = state
        self.archive = archive
        self.commands = commands
        self.catalogue = catalogue or load_faults()
        self.plans: dict[str, ScenarioPlan] = dict(plans if plans is not None else load_plans())
        self.endpoint = endpoint or MqttEndpoint(
            config.broker,
            config.client_id,
            subscriptions=[topics.SIM_STATUS],
            on_message=self._on_message,
        )
        self._wall = wall
        self.sim: SimStatus | None = None
        self._acks: dict[str, ControlAck] = {}
        self._ack_waiters: dict[str, asyncio.Future[ControlAck]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._active_faults: dict[str, dict[str, Any]] = {}
        self.fault_log: deque[dict[str, Any]] = deque(maxlen=TIMELINE_LIMIT)
        self._logged_injected: dict[str, None] = {}
        """Instances whose injection is in ``fault_log`` (insertion-ordered, bounded)."""
        self._logged_cleared: dict[str, None] = {}
        self.run_: Run | None = None
        self.rejected_status = 0

    # ------------------------------------------------------------------------ catalogue
    def faults(self) -> list[dict[str, Any]]:
        """The fault catalogue, with which faults are active now."""
        active: dict[str, list[str]] = {}
        for instance in self._active_faults.values():
            active.setdefault(str(instance["fault"]), []).append(str(instance["instance_id"]))
        out = []
        for fault in self.catalogue:
            out.append(
                {
                    "id": fault.id,
                    "title": fault.title,
                    "description": fault.description,
                    "target": fault.target.model_dump(),
                    "parameters": [p.model_dump() for p in fault.parameters],
                    "default_duration_s": fault.default_duration_s,
                    "recovery": fault.recovery,
                    "recovery_commands": [c.command for c in fault.recovery_commands],
                    "effects": [e.description or e.name for e in fault.effects],
                    "active": active.get(fault.id, []),
                }
            )
        return out

    def scenarios(self) -> list[dict[str, Any]]:
        return [plan.summary() for plan in sorted(self.plans.values(), key=lambda p: p.name)]

    # ------------------------------------------------------------------------ control
    async def inject(
        self,
        fault_id: str,
        params: Mapping[str, object] | None,
        duration_s: float | None,
        by: str,
        *,
        until_cleared: bool = False,
    ) -> dict[str, Any]:
        """Inject one fault (``TrainingError`` naming a bad fault or parameter)."""
        try:
            resolved = self.catalogue.resolve_params(fault_id, dict(params or {}))
        except FaultParamError as exc:
            where = "fault" if exc.parameter is None else f"params.{exc.parameter}"
            status = 404 if exc.parameter is None else 422
            raise TrainingError(where, str(exc), status) from None
        if duration_s is not None and not duration_s > 0:
            raise TrainingError("duration_s", "must be positive (seconds of mission time)")
        request_id = uuid.uuid4().hex[:16]
        message = InjectFault(
            request_id=request_id,
            fault=fault_id,
            params=resolved,
            duration_s=duration_s,
            until_cleared=until_cleared,
        )
        ack = await self._send(message)
        log.info("fault %s injected by %s with %s", fault_id, by, resolved)
        self._log_action("fault_requested", f"{by} injected {fault_id}", fault=fault_id, by=by)
        return self._ack_view(message, ack)

    async def clear(self, fault_id: str, by: str) -> dict[str, Any]:
        """Clear a fault (by id, every instance) or one instance (``<fault>#<n>``)."""
        base = fault_id.split("#", 1)[0]
        if base not in self.catalogue:
            raise TrainingError("fault", f"unknown fault {fault_id!r}", 404)
        request_id = uuid.uuid4().hex[:16]
        message = ClearFault(request_id=request_id, fault=fault_id)
        ack = await self._send(message)
        self._log_action("fault_clear_requested", f"{by} cleared {fault_id}", fault=fault_id, by=by)
        return self._ack_view(message, ack)

    async def start(self, name: str, by: str) -> dict[str, Any]:
        """Start a scenario (``TrainingError`` 404 unknown, 409 when one is running)."""
        plan = self.plans.get(name)
        if plan is None:
            known = ", ".join(sorted(self.plans)) or "none"
            raise TrainingError("name", f"unknown scenario {name!r}; known: {known}", 404)
        if self.run_ is not None and self.run_.state in ("starting", "running"):
            raise TrainingError(
                "name",
                f"scenario {self.run_.plan.name} is running; stop it first (POST /training/stop)",
                409,
            )
        request_id = uuid.uuid4().hex[:16]
        now = self.state.clock.now()
        run = Run(
            plan=plan,
            checklist=Checklist.of(plan.name, now, plan.expectations),
            started_by=by,
            request_id=request_id,
            requested_at=now,
        )
        self.run_ = run
        self._timeline(now, "scenario_started", f"{by} started scenario {plan.name}", by=by)
        ack = await self._send(StartScenario(request_id=request_id, scenario=name))
        if ack is not None and not ack.accepted:
            run.state = "ended"
            run.ended_at = now
            raise TrainingError("name", f"the simulator refused: {ack.reason}", 409)
        self._follow_status()
        return self.status()

    async def stop(self, by: str) -> dict[str, Any]:
        """Stop the running scenario (clearing its faults) and return the debrief."""
        run = self.run_
        if run is None:
            raise TrainingError("scenario", "no scenario has been started", 409)
        if run.state in ("starting", "running", "finished"):
            await self._send(StopScenario(request_id=uuid.uuid4().hex[:16], clear_faults=True))
            self._end(run, "stopped", by)
        return self.debrief()

    # ------------------------------------------------------------------------ views
    def status(self) -> dict[str, Any]:
        """The live checklist (or the last run's) with the simulator's scenario state."""
        now = self.state.clock.now()
        run = self.run_
        sim_scenario = self.sim.scenario if self.sim is not None else None
        base: dict[str, Any] = {
            "time": now,
            "active_faults": list(self._active_faults.values()),
            "simulator": None if sim_scenario is None else sim_scenario.model_dump(),
        }
        if run is None:
            return {**base, "state": "idle", "scenario": None, "checklist": []}
        rows = run.checklist.status(run.ended_at if run.ended_at is not None else now)
        return {
            **base,
            "state": run.state,
            "scenario": run.plan.name,
            "title": run.plan.title,
            "started_at": run.checklist.start,
            "started_by": run.started_by,
            "ended_at": run.ended_at,
            "elapsed_s": (run.ended_at or now) - run.checklist.start,
            "detected": sum(1 for r in rows if r["detected"]),
            "expected": len(rows),
            "checklist": rows,
        }

    def debrief(self) -> dict[str, Any]:
        """Score and timeline of the current or last run (``TrainingError`` if none)."""
        run = self.run_
        if run is None:
            raise TrainingError("scenario", "no scenario has been run yet", 404)
        score = run.score or self._score(run)
        timeline = sorted(
            [*run.timeline, *self._faults_during(run), *self._commands_timeline(run)],
            key=lambda e: (float(e["time"]), str(e["kind"])),
        )
        return {
            **self.status(),
            "description": run.plan.description,
            "recovery_commands": list(run.plan.recovery),
            "score": score.as_dict(),
            "timeline": timeline,
        }

    # ------------------------------------------------------------------------ running
    async def run(self) -> None:
        """Serve until cancelled: the MQTT connection and the checklist tracking."""
        self._loop = asyncio.get_running_loop()
        async with asyncio.TaskGroup() as group:
            group.create_task(self.endpoint.run(), name="training-mqtt")
            group.create_task(self._track(), name="training-tracking")

    async def _track(self) -> None:
        while True:
            try:
                self.step()
            except Exception:
                log.exception("training step failed")
            await asyncio.sleep(self.config.tick_s)

    def step(self) -> None:
        """Feed the checklist what the ground has seen; end the run when it is decided."""
        run = self.run_
        if run is None or run.state in {"ended", "stopped"}:
            return
        now = self.state.clock.now()
        self._follow_status()
        for alarm in self.state.alarms.all():
            self._observe_alarm(run, alarm, now)
        for event in list(self.state.events):
            self._observe_event(run, event, now)
        if run.state == "finished":
            decided = all(
                r.state(run.checklist.start, now) is not ItemState.PENDING
                for r in run.checklist.items
            )
            if decided:
                self._end(run, "ended", None)

    def _observe_alarm(self, run: Run, alarm: AlarmView, now: float) -> None:
        if alarm.trigger_time < run.checklist.start:
            return
        for item in run.checklist.observe_alarm(alarm, now):
            if item.detected_at is not None and item.acknowledged_at is None:
                self._timeline(
                    item.detected_at,
                    "detection",
                    f"expected detection {item.expectation.id}: {item.evidence}",
                    expectation=item.expectation.id,
                )
        previous = run.seen_alarms.get(alarm.id)
        if previous is None:
            self._timeline(
                alarm.trigger_time,
                "alarm_raised",
                f"{alarm.level} alarm on {alarm.parameter} ({alarm.trigger_value})",
                alarm_id=alarm.id,
                parameter=alarm.parameter,
                level=alarm.level,
            )
        if alarm.acknowledged_at is not None and (previous is None or previous[1] is None):
            self._timeline(
                alarm.acknowledged_at,
                "alarm_acknowledged",
                f"{alarm.acknowledged_by} acknowledged the {alarm.parameter} alarm",
                alarm_id=alarm.id,
                by=alarm.acknowledged_by,
            )
        if alarm.state is AlarmState.CLEARED and (previous is None or previous[0] != "cleared"):
            self._timeline(
                alarm.cleared_at or now,
                "alarm_cleared",
                f"alarm on {alarm.parameter} cleared",
                alarm_id=alarm.id,
            )
        run.seen_alarms[alarm.id] = (alarm.state.value, alarm.acknowledged_at)

    def _observe_event(self, run: Run, event: EventView, now: float) -> None:
        key = (event.name, event.spacecraft, event.generation_time)
        if key in run.seen_events or event.generation_time < run.checklist.start:
            return
        run.seen_events.add(key)
        for item in run.checklist.observe_event(event, now):
            self._timeline(
                event.generation_time,
                "detection",
                f"expected detection {item.expectation.id}: {item.evidence}",
                expectation=item.expectation.id,
            )

    def _end(self, run: Run, state: str, by: str | None) -> None:
        now = self.state.clock.now()
        run.state = state
        run.ended_at = now
        run.stopped_by = by
        what = f"{by} stopped the scenario" if by else "scenario ended"
        self._timeline(now, "scenario_ended", what, by=by)
        run.score = self._score(run)
        log.info(
            "training run %s %s: %.0f of %.0f points",
            run.plan.name,
            state,
            run.score.points,
            run.score.maximum,
        )

    def _score(self, run: Run) -> Score:
        commands = self._commands_during(run)
        return score_run(
            run.checklist.items, run.checklist.start, commands, run.plan.recovery, self.config.rules
        )

    def _commands_during(self, run: Run) -> list[dict[str, Any]]:
        if self.commands is None:
            return []
        return [
            view
            for view in self.commands.history_live()
            if float(view["created_at"]) >= run.checklist.start
            and (run.ended_at is None or float(view["created_at"]) <= run.ended_at)
        ]

    def _commands_timeline(self, run: Run) -> list[dict[str, Any]]:
        out = []
        for view in self._commands_during(run):
            out.append(
                {
                    "time": float(view["created_at"]),
                    "kind": "command",
                    "text": f"{view['issued_by']} sent {view['name']} {view['args']}: "
                    f"{view['stage']}",
                    "command_id": view["id"],
                    "critical": view.get("critical", False),
                }
            )
        return out

    def _faults_during(self, run: Run) -> list[dict[str, Any]]:
        end = run.ended_at if run.ended_at is not None else float("inf")
        return [e for e in self.fault_log if run.checklist.start <= float(e["time"]) <= end]

    # ------------------------------------------------------------------------ sim/status
    def _on_message(self, topic: str, payload: bytes) -> None:
        if topic != topics.SIM_STATUS:
            return
        try:
            status = SimStatus.model_validate_json(payload)
        except ValidationError:
            self.rejected_status += 1
            return
        self.on_sim_status(status)

    def on_sim_status(self, status: SimStatus) -> None:
        """Take a sim status: fault transitions, the scenario's state, control outcomes."""
        self.sim = status
        current = {f.instance_id: f for f in status.active_faults}
        # Every instance the status knows of, ended ones included (``recent_faults``), so that a
        # fault that began and ended between two statuses is still logged, with its own times.
        known = {f.instance_id: f for f in status.recent_faults}
        known.update(current)
        # Keyed with the start time too: a restarted simulator numbers its instances from 1 again.
        for instance_id, fault in sorted(known.items(), key=lambda kv: kv[1].start):
            key = f"{instance_id}@{fault.start!r}"
            if key not in self._logged_injected:
                self._logged_injected[key] = None
                self.fault_log.append(
                    {
                        "time": fault.start,
                        "kind": "fault_injected",
                        "text": f"{fault.title} ({fault.fault}) injected by {fault.source}"
                        + (f" with {fault.params}" if fault.params else ""),
                        "fault": fault.fault,
                        "instance_id": instance_id,
                        "params": dict(fault.params),
                        "source": fault.source,
                    }
                )
        gone = [i for i in self._active_faults if i not in current]
        gone += [i for i, f in known.items() if f.ended and i not in self._active_faults]
        for instance_id in gone:
            # Either seen active before (``_active_faults``) or listed as ended (``known``).
            record = self._active_faults.get(instance_id) or known[instance_id].model_dump()
            key = f"{instance_id}@{record['start']!r}"
            if key in self._logged_cleared:
                continue
            self._logged_cleared[key] = None
            ended = known.get(instance_id)
            self.fault_log.append(
                {
                    "time": ended.end
                    if ended is not None and ended.ended and ended.end is not None
                    else status.mission_time,
                    "kind": "fault_cleared",
                    "text": f"{record['title']} ({record['fault']}) cleared",
                    "fault": record["fault"],
                    "instance_id": instance_id,
                }
            )
        for seen in (self._logged_injected, self._logged_cleared):
            while len(seen) > SEEN_LIMIT:
                del seen[next(iter(seen))]
        self._active_faults = {k: v.model_dump() for k, v in current.items()}
        ack = status.last_control
        if ack is not None and ack.request_id is not None:
            self._acks[ack.request_id] = ack
            waiter = self._ack_waiters.pop(ack.request_id, None)
            if waiter is not None and self._loop is not None:
                self._loop.call_soon_threadsafe(_resolve, waiter, ack)

    def _follow_status(self) -> None:
        """Move the run along with the simulator's scenario state."""
        run = self.run_
        sim = self.sim
        if run is None or sim is None or sim.scenario is None:
            return
        scenario = sim.scenario
        if scenario.name != run.plan.name:
            return
        if not run.confirmed and run.state == "starting":
            ack = self._acks.get(run.request_id)
            if ack is None or not ack.accepted:
                return
            run.confirmed = True
            run.state = "running"
            run.checklist.start = scenario.started_at
        if run.confirmed:
            # Windows open when the simulator actually injected each step.
            for item in run.checklist.items:
                step = run.plan.step_of.get(item.expectation.id)
                if step is None or step >= len(scenario.timeline):
                    continue
                entry = scenario.timeline[step]
                if entry.state != "pending":
                    opens = entry.start - run.checklist.start
                    if opens != item.expectation.opens_at_s:
                        item.expectation = replace(item.expectation, opens_at_s=opens)
        if run.state == "running" and scenario.state in ("finished", "stopped"):
            run.state = "finished"

    # ------------------------------------------------------------------------ helpers
    async def _send(self, message: SimControl) -> ControlAck | None:
        """Publish a control message and wait a little for the simulator's acknowledgement."""
        loop = asyncio.get_running_loop()
        request_id = message.request_id or ""
        waiter: asyncio.Future[ControlAck] = loop.create_future()
        self._ack_waiters[request_id] = waiter
        try:
            async with asyncio.timeout(self.config.ack_wait_s * 4):
                await self.endpoint.publish(
                    topics.SIM_CONTROL, control_json(message).encode(), qos=1
                )
        except TimeoutError:
            self._ack_waiters.pop(request_id, None)
            raise TrainingError(
                "broker", "cannot reach the broker to send the control message", 503
            ) from None
        known = self._acks.get(request_id)
        if known is not None:
            self._ack_waiters.pop(request_id, None)
            return known
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.config.ack_wait_s):
                return await waiter
        self._ack_waiters.pop(request_id, None)
        return self._acks.get(request_id)

    def _ack_view(self, message: SimControl, ack: ControlAck | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "request_id": message.request_id,
            "message": message.model_dump(exclude_none=True),
            "acknowledged": ack is not None,
            "accepted": None if ack is None else ack.accepted,
            "reason": None if ack is None else ack.reason,
        }
        if ack is not None and not ack.accepted:
            raise TrainingError("fault", f"the simulator refused: {ack.reason}")
        return out

    def _timeline(self, t: float, kind: str, text: str, **details: Any) -> None:
        run = self.run_
        if run is None:
            return
        run.timeline.append({"time": t, "kind": kind, "text": text, **details})
        del run.timeline[:-TIMELINE_LIMIT]

    def _log_action(self, kind: str, text: str, **details: Any) -> None:
        self._timeline(self.state.clock.now(), kind, text, **details)


def _resolve(waiter: asyncio.Future[ControlAck], ack: ControlAck) -> None:
    if not waiter.done():
        waiter.set_result(ack)

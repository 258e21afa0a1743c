"""The training service through a real Mosquitto, with a scripted simulator at the other end.

The simulator here only answers the control plane (``mission.sim_control``): it reads
``lupex/v1/sim/control`` as the ``spacecraft`` user and publishes the retained ``sim/status``
with the outcome, the active faults and the scenario. The ground's alarms and events are fed to
``GroundState`` directly, as ingest would. The full loop with the real spacecraft mock is
``tests/integration/test_scenarios_e2e.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import aiomqtt
import numpy as np
import pytest

from ground.model import EventView
from ground.processing.clock import SimStatus as ClockStatus
from ground.processing.state import GroundState
from ground.training.plans import ScenarioPlan
from ground.training.service import TrainingConfig, TrainingError, TrainingService
from mission import topics
from mission.mdb.database import MissionDatabase
from mission.mdb.loader import load_mdb
from mission.scenarios import Scenario
from mission.sim_control import (
    ActiveFault,
    ControlAck,
    InjectFault,
    ScenarioStatus,
    SimStatus,
    StartScenario,
    StopScenario,
    TimelineEntry,
    parse_control,
)
from mqtt_io import BrokerUrl
from tests.ground.test_api_support import wait_for
from tests.support.mosquitto import MosquittoServer

pytestmark = pytest.mark.integration

T0 = 1_800_000_000.0
SOC = "rover.power.battery_soc"

SCENARIO = Scenario.model_validate(
    {
        "name": "drill_and_battery",
        "title": "Drill jam, then a weak battery",
        "description": "A test scenario.",
        "learning_goals": ["spot an alarm", "spot an event"],
        "difficulty": 1,
        "duration_s": 3600,
        "steps": [
            {"at_s": 60, "fault": "drill_jam"},
            {"at_s": 600, "fault": "battery_cell_failure", "params": {"cells": 2}},
        ],
        "detections": [
            {
                "id": "jam",
                "kind": "event",
                "event": "rover.drill.jammed",
                "step": 0,
                "deadline_s": 300,
                "recovery_command": "rover.drill.stop",
            },
            {
                "id": "soc",
                "kind": "alarm",
                "parameter": SOC,
                "level": "red",
                "step": 1,
                "deadline_s": 900,
            },
        ],
    }
)


@pytest.fixture(scope="module")
def mdb() -> MissionDatabase:
    return load_mdb()


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


@dataclass
class FakeSimulator:
    """Answers control messages with a sim status, as the spacecraft mock does."""

    client: aiomqtt.Client
    now: float = T0
    faults: list[ActiveFault] = field(default_factory=list)
    scenario: ScenarioStatus | None = None
    received: list[object] = field(default_factory=list)
    refuse: str | None = None

    def status(self, ack: ControlAck | None) -> SimStatus:
        return SimStatus(
            mission_time=self.now,
            mission_time_iso=iso(self.now),
            wall_time=time.time(),
            epoch=T0,
            speed=1.0,
            paused=False,
            seed=1,
            lag_s=0.0,
            prime_station="dss43",
            active_faults=list(self.faults),
            scenario=self.scenario,
            vehicles={},
            last_control=ack,
        )

    async def publish(self, ack: ControlAck | None = None) -> None:
        payload = self.status(ack).model_dump_json().encode()
        await self.client.publish(topics.SIM_STATUS, payload, qos=1, retain=True)

    async def serve(self) -> None:
        await self.client.subscribe(topics.SIM_CONTROL, qos=1)
        async for message in self.client.messages:
            assert isinstance(message.payload, bytes)
            control = parse_control(message.payload)
            self.received.append(control)
            accepted = self.refuse is None
            if accepted and isinstance(control, InjectFault):
                self.faults.append(
                    ActiveFault(
                        instance_id=f"{control.fault}#1",
                        fault=control.fault,
                        title=control.fault.replace("_", " "),
                        params=control.params,
                        start=self.now,
                        end=None,
                        source="manual",
                    )
                )
            if accepted and isinstance(control, StartScenario):
                self.scenario = scenario_status(self.now, "running", 0)
            if accepted and isinstance(control, StopScenario):
                self.faults.clear()
                if self.scenario is not None:
                    self.scenario = self.scenario.model_copy(update={"state": "stopped"})
            await self.publish(
                ControlAck(
                    request_id=control.request_id,
                    action=control.action,
                    accepted=accepted,
                    reason=self.refuse or "",
                    time=self.now,
                )
            )


def scenario_status(
    start: float, state: Literal["running", "finished", "stopped"], done_steps: int
) -> ScenarioStatus:
    timeline = [
        TimelineEntry(
            offset_s=step.at_s,
            fault=step.fault,
            params=step.params,
            duration_s=step.duration_s,
            start=start + step.at_s + 2.0,  # the simulator injects on its physics grid
            end=None,
            state="active" if k < done_steps else "pending",
        )
        for k, step in enumerate(SCENARIO.steps)
    ]
    return ScenarioStatus(
        name=SCENARIO.name,
        title=SCENARIO.title,
        state=state,
        started_at=start,
        ends_at=start + SCENARIO.duration_s,
        elapsed_s=0.0,
        duration_s=SCENARIO.duration_s,
        progress=0.0,
        timeline=timeline,
    )


@dataclass
class Setup:
    service: TrainingService
    state: GroundState
    sim: FakeSimulator


@contextlib.asynccontextmanager
async def training(
    mosquitto: MosquittoServer, mdb: MissionDatabase, unique_id: str
) -> AsyncIterator[Setup]:
    ground = mosquitto.credential("ground")
    broker = BrokerUrl.parse(mosquitto.url, ground.username, ground.password)
    config = TrainingConfig(broker=broker, client_id=f"{unique_id}-training", ack_wait_s=5.0)
    state = GroundState.from_mdb(mdb)
    state.clock.on_status(ClockStatus(T0, 1.0, paused=True, wall_time=time.time()))
    service = TrainingService(
        config,
        state,
        plans={SCENARIO.name: ScenarioPlan.of(SCENARIO)},
    )
    sc = mosquitto.credential("spacecraft")
    async with aiomqtt.Client(
        mosquitto.host, mosquitto.port, username=sc.username, password=sc.password
    ) as client:
        sim = FakeSimulator(client)
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(sim.serve()), group.create_task(service.run())]
            await wait_for(lambda: service.endpoint.connected, "the training connection")
            try:
                yield Setup(service, state, sim)
            finally:
                for task in tasks:
                    task.cancel()


def set_time(setup: Setup, t: float) -> None:
    setup.sim.now = t
    setup.state.clock.on_status(ClockStatus(t, 1.0, paused=True, wall_time=time.time()))


def raise_alarm(state: GroundState, parameter: str, t: float, code: int) -> None:
    state.alarms.update(
        parameter,
        parameter.split(".", 1)[0],
        np.array([t]),
        np.array([code], dtype=np.int8),
        lambda _: 5.0,
    )


async def test_bad_fault_requests_name_the_field(
    mosquitto: MosquittoServer, mdb: MissionDatabase, unique_id: str
) -> None:
    async with training(mosquitto, mdb, unique_id) as t:
        with pytest.raises(TrainingError) as bad:
            await t.service.inject("battery_cell_failure", {"cells": 9}, None, "ines")
        assert bad.value.field == "params.cells"
        assert bad.value.status == 422
        with pytest.raises(TrainingError) as unknown:
            await t.service.inject("gremlins", {}, None, "ines")
        assert unknown.value.status == 404
        with pytest.raises(TrainingError) as extra:
            await t.service.inject("battery_cell_failure", {"volts": 1}, None, "ines")
        assert extra.value.field == "params.volts"
        assert t.sim.received == []


async def test_a_fault_is_injected_and_acknowledged_through_the_broker(
    mosquitto: MosquittoServer, mdb: MissionDatabase, unique_id: str
) -> None:
    async with training(mosquitto, mdb, unique_id) as t:
        out = await t.service.inject("battery_cell_failure", {"cells": 2}, 600.0, "ines")
        assert out["acknowledged"] is True
        assert out["accepted"] is True
        sent = t.sim.received[-1]
        assert isinstance(sent, InjectFault)
        assert (sent.fault, sent.params, sent.duration_s) == (
            "battery_cell_failure",
            {"cells": 2},
            600.0,
        )
        await wait_for(
            lambda: any(f["active"] for f in t.service.faults()), "the fault to show as active"
        )
        t.sim.refuse = "no such instance"
        with pytest.raises(TrainingError) as refused:
            await t.service.clear("battery_cell_failure#7", "ines")
        assert "no such instance" in refused.value.message


async def test_a_scenario_run_is_tracked_scored_and_debriefed(
    mosquitto: MosquittoServer, mdb: MissionDatabase, unique_id: str
) -> None:
    async with training(mosquitto, mdb, unique_id) as t:
        status = await t.service.start(SCENARIO.name, "ines")
        assert status["scenario"] == SCENARIO.name
        await wait_for(lambda: t.service.status()["state"] == "running", "the run to start")
        with pytest.raises(TrainingError) as twice:
            await t.service.start(SCENARIO.name, "ines")
        assert twice.value.status == 409

        # The drill jams 100 s after step 0 was injected (at T0 + 62).
        t.sim.scenario = scenario_status(T0, "running", 2)
        await t.sim.publish()
        set_time(t, T0 + 162.0)
        t.state.events.append(
            EventView(9, "rover.drill.jammed", "rover", "high", "drill jammed", T0 + 162, 1.0)
        )
        # The battery goes yellow, then red 200 s after step 1 was injected (at T0 + 602).
        raise_alarm(t.state, SOC, T0 + 700.0, 1)
        raise_alarm(t.state, SOC, T0 + 802.0, 2)
        set_time(t, T0 + 805.0)

        def both() -> bool:
            return all(r["detected"] for r in t.service.status()["checklist"])

        await wait_for(both, "both detections")
        rows = {r["id"]: r for r in t.service.status()["checklist"]}
        assert rows["jam"]["time_to_detect_s"] == pytest.approx(100.0)
        assert rows["soc"]["time_to_detect_s"] == pytest.approx(200.0)
        assert rows["soc"]["state"] == "detected"

        alarm_id = rows["soc"]["alarm_id"]
        t.state.alarms.acknowledge(alarm_id, "olga", T0 + 830.0)
        await wait_for(
            lambda: t.service.status()["checklist"][1]["acknowledged_by"] == "olga",
            "the acknowledgement",
        )
        set_time(t, T0 + 900.0)
        debrief = await t.service.stop("ines")
        assert isinstance(t.sim.received[-1], StopScenario)
        assert debrief["state"] == "stopped"
        kinds = [e["kind"] for e in debrief["timeline"]]
        for kind in (
            "scenario_started",
            "detection",
            "alarm_raised",
            "alarm_acknowledged",
            "scenario_ended",
        ):
            assert kind in kinds, kind
        score = debrief["score"]
        # jam: 60 + 20 × (1 − 100/300); soc: 60 + 20 × (1 − 200/900) + 20 (acknowledged in 28 s);
        # recovery rover.drill.stop not sent: 0 of 50.
        expected = (60 + 20 * (1 - 100 / 300)) + (60 + 20 * (1 - 200 / 900) + 20)
        assert score["points"] == pytest.approx(expected, abs=0.01)
        assert score["maximum"] == 80 + 100 + 50
        assert t.service.debrief()["score"] == score


def _fault(n: int, start: float, end: float | None, ended: bool = False) -> ActiveFault:
    return ActiveFault(
        instance_id=f"drill_jam#{n}",
        fault="drill_jam",
        title="Drill jam",
        params={},
        start=start,
        end=end,
        source="scenario",
        ended=ended,
    )


def test_a_fault_over_between_two_statuses_is_still_logged(mdb: MissionDatabase) -> None:
    """At a high speed factor a short fault can begin and end between two sim statuses: the
    status's ``recent_faults`` still shows it, and the ground logs both ends at their times.
    Logged once each, however many statuses repeat it; a restarted simulator's ``#1`` again is
    a new instance."""
    broker = BrokerUrl.parse("mqtt://127.0.0.1:1")
    service = TrainingService(TrainingConfig(broker=broker), GroundState.from_mdb(mdb))
    sim = FakeSimulator(client=None)  # type: ignore[arg-type]  # only builds statuses here
    service.on_sim_status(sim.status(None))
    short = _fault(1, T0 + 10.0, T0 + 20.0, ended=True)
    for _ in range(3):
        sim.now = T0 + 30.0
        status = sim.status(None).model_copy(update={"recent_faults": [short]})
        service.on_sim_status(status)
    kinds = [(e["kind"], e["instance_id"], e["time"]) for e in service.fault_log]
    assert kinds == [
        ("fault_injected", "drill_jam#1", T0 + 10.0),
        ("fault_cleared", "drill_jam#1", T0 + 20.0),
    ]
    # An active one, seen then gone without an ``ended`` record (the history moved on).
    again = _fault(1, T0 + 100.0, None)
    sim.now, sim.faults = T0 + 110.0, [again]
    service.on_sim_status(sim.status(None))
    sim.now, sim.faults = T0 + 120.0, []
    service.on_sim_status(sim.status(None))
    assert [(e["kind"], e["time"]) for e in list(service.fault_log)[2:]] == [
        ("fault_injected", T0 + 100.0),
        ("fault_cleared", T0 + 120.0),
    ]

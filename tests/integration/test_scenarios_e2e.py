"""Every training scenario of ``seeds/scenarios`` end to end, through the real broker.

For each scenario in turn, a ground service of its own (ingest, link tracking, commanding,
training; REST under a real uvicorn; a fresh archive) and a fresh spacecraft mock (``lupex
spacecraft``, its own process) at a high speed factor, with the epoch, seed and warm-up the
scenarios were validated with in the stepped world. As an instructor and an operator would, the
test:

1. starts both and waits until the ground has received the warm-up's telemetry (the worlds run
   one after another in one helper process, ``DRIVER``, with the mock's real-time runner and
   MQTT adapter);
2. acknowledges every open alarm (a trainee clears the board before an exercise);
3. starts the scenario with ``POST /training/scenarios/{name}/start`` (the ground publishes it
   on ``lupex/v1/sim/control``), and follows ``GET /training/status`` until every expected
   detection is detected;
4. stops it (``POST /training/stop``) and keeps the debrief.

Then it asserts that every expected detection of every scenario was made before its deadline: the
time to detect is measured by the ground's checklist in mission time, from the injection of the
scenario step (as the simulator reports it) to the alarm's trigger or the event's generation, so
a simulation lagging behind its speed factor changes nothing. No sleeps: the loops poll the API
with a bounded wait each.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from ground.app import create_app
from ground.commanding.wiring import EXTRA_SERVICES, extra_routers
from mission.scenarios import Scenario, load_scenarios
from tests.ground.test_api_support import (
    GroundTokens,
    running_server,
    services_of,
    settings_for,
    sqlite_url,
)
from tests.integration.test_command_roundtrip import clear_retained
from tests.support.mosquitto import MosquittoServer
from tests.support.timeouts import timeout

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]
"""Most of the time goes to starting a ground per scenario and to the longest scenario
(heater_failure_at_dusk needs some 11,000 mission seconds): 6.8 minutes were measured on the
2-core machine at a load average of 12 from other work. The pytest time-out is an upper bound
for such a machine, not a target."""

SPEED: Final = 400.0
"""Mission seconds per wall second asked of the mock (it may lag behind on a busy machine; the
detection times are on-board times, so that does not change the result)."""
EPOCH: Final = 1_795_399_200.0  # 2026-11-22T02:00Z
SEED: Final = 1
"""The epoch, seed and warm-up of the stepped-world check of the scenarios
(tests/spacecraft_mock/test_scenarios.py): the conditions their author validated them in."""
WARM_UP_S: Final = 300.0
"""Mission seconds of telemetry before a scenario starts; standing alarms are acknowledged."""
POLL_S: Final = 0.25


DRIVER: Final = """
import asyncio, os, sys
from mqtt_io import BrokerUrl
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.mqtt_adapter import AdapterSettings, MqttAdapter
from spacecraft_mock.runner import RealTimeRunner
from spacecraft_mock.world import World


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    env = os.environ
    url = BrokerUrl.parse(
        sys.argv[1], env["LUPEX_SPACECRAFT_MQTT_USERNAME"], env["LUPEX_SPACECRAFT_MQTT_PASSWORD"]
    )
    World(1, 1.8e9)  # load the mission database, facts, faults and ephemeris once
    print("ready", flush=True)
    run = stop = None
    while words := (await reader.readline()).decode().split():
        if words[0] == "go":
            seed, epoch, speed, client_id = words[1:5]
            world = World(int(seed), float(epoch), config=WorldConfig())
            runner = RealTimeRunner(world, float(speed))
            adapter = MqttAdapter(
                runner, AdapterSettings(url=url, client_id=client_id, flush_timeout_s=0.5)
            )
            stop = asyncio.Event()
            run = asyncio.create_task(adapter.run(stop))
            await adapter.connected.wait()
            print("running", flush=True)
        elif words[0] == "stop" and run is not None and stop is not None:
            stop.set()
            await run
            print("stopped", flush=True)


asyncio.run(main())
"""
"""Runs one simulated world after another in one process, with the mock's real-time runner and
MQTT adapter (as ``lupex spacecraft`` does): importing and loading the mission database once
instead of once per scenario saves several seconds a scenario."""


class MockDriver:
    """The mock's real runner and MQTT adapter for one fresh world at a time (see ``DRIVER``)."""

    def __init__(self, mosquitto: MosquittoServer, log: Path) -> None:
        self.mosquitto = mosquitto
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def _expect(self, word: str) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        async with asyncio.timeout(timeout(120)):
            line = await self.process.stdout.readline()
        assert line.decode().strip() == word, f"mock driver said {line!r}, not {word!r}"

    async def _say(self, line: str) -> None:
        assert self.process is not None
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())
        await self.process.stdin.drain()

    async def __aenter__(self) -> MockDriver:
        cred = self.mosquitto.credential("spacecraft")
        env = {
            **os.environ,
            "LUPEX_SPACECRAFT_MQTT_USERNAME": cred.username,
            "LUPEX_SPACECRAFT_MQTT_PASSWORD": cred.password,
        }
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                DRIVER,
                self.mosquitto.url,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        await self._expect("ready")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.process is None:
            return
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            async with asyncio.timeout(timeout(30)):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    @contextlib.asynccontextmanager
    async def world(
        self, seed: int, epoch: float, speed: float, client_id: str
    ) -> AsyncIterator[None]:
        """A fresh world running on the broker for the duration of the block."""
        await clear_retained(self.mosquitto)
        await self._say(f"go {seed} {epoch!r} {speed!r} {client_id}")
        await self._expect("running")
        try:
            yield
        finally:
            await self._say("stop")
            await self._expect("stopped")


@dataclass
class Outcome:
    scenario: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    score: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0
    mission_s: float = 0.0
    timeline_kinds: set[str] = field(default_factory=set)


def scenarios() -> dict[str, Scenario]:
    """Every scenario (``LUPEX_TEST_SCENARIOS=a,b`` picks some, to debug one quickly)."""
    found = load_scenarios()
    chosen = os.environ.get("LUPEX_TEST_SCENARIOS")
    if chosen:
        return {name: found[name] for name in chosen.split(",")}
    return found


def wall_budget(scenario: Scenario) -> float:
    """Wall seconds to wait for a scenario's detections (an upper bound, not a measurement): its
    whole duration (a detection may reach the ground only in a playback after the fault ends)
    at an eighth of the asked speed, the simulation and the ground sharing a busy machine."""
    return timeout(30 + 8 * (scenario.duration_s + WARM_UP_S) / SPEED)


async def poll(condition: Any, what: str, wall_s: float) -> Any:
    deadline = time.monotonic() + wall_s
    while True:
        result = await condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(POLL_S)


def table(outcomes: list[Outcome]) -> Iterator[str]:
    yield f"{'scenario':<36} {'detection':<16} {'state':<9} {'ttd_s':>8} {'deadline_s':>10}"
    for o in outcomes:
        for r in o.rows:
            ttd = "-" if r["time_to_detect_s"] is None else f"{r['time_to_detect_s']:.0f}"
            yield (
                f"{o.scenario:<36} {r['id']:<16} {r['state']:<9} {ttd:>8} {r['deadline_s']:>10.0f}"
            )
        yield (
            f"{o.scenario:<36} {'(score)':<16} {o.score.get('percent', 0):>8.1f}% "
            f"wall {o.wall_s:.1f} s, mission {o.mission_s:.0f} s"
        )


async def run_scenario(
    mosquitto: MosquittoServer,
    mock: MockDriver,
    folder: Path,
    client_id: str,
    name: str,
    scenario: Scenario,
) -> Outcome:
    """One scenario with a ground of its own and a fresh simulated world (see the docstring)."""
    await asyncio.to_thread(folder.mkdir)
    tokens = GroundTokens()
    settings = settings_for(mosquitto, sqlite_url(folder), tokens, client_id)
    app = create_app(settings, extra_routers=extra_routers(), extra_services=EXTRA_SERVICES)
    base = f"http://127.0.0.1:{settings.port}/api/v1"
    instructor, operator = tokens.header("instructor"), tokens.header("operator")
    started_wall = time.monotonic()
    async with (
        running_server(app, settings.port),
        httpx.AsyncClient(base_url=base, timeout=30) as http,
        mock.world(SEED, EPOCH, SPEED, f"{client_id}-spacecraft"),
    ):
        state = services_of(app).state

        async def warm() -> bool:
            newest = [v.generation_time for v in state.latest.all()]
            return bool(state.clock.has_status and newest and max(newest) >= EPOCH + WARM_UP_S)

        await poll(warm, f"{name}: telemetry of the new world", timeout(60))
        for alarm in (await http.get("/alarms", headers=operator)).json():
            if alarm["state"] == "raised":
                await http.post(f"/alarms/{alarm['id']}/acknowledge", headers=operator)
        response = await http.post(f"/training/scenarios/{name}/start", headers=instructor)
        assert response.status_code == 202, response.text

        async def detected() -> dict[str, Any] | None:
            body = (await http.get("/training/status", headers=instructor)).json()
            assert body["scenario"] == name
            done = body["checklist"] and all(r["detected"] for r in body["checklist"])
            return body if done else None

        with contextlib.suppress(AssertionError):  # a miss is reported with the others below
            await poll(detected, f"{name}: every expected detection", wall_budget(scenario))
        debrief = (await http.post("/training/stop", headers=instructor)).json()
    return Outcome(
        scenario=name,
        rows=debrief["checklist"],
        score=debrief["score"],
        wall_s=time.monotonic() - started_wall,
        mission_s=float((debrief["simulator"] or {}).get("elapsed_s", 0.0)),
        timeline_kinds={e["kind"] for e in debrief["timeline"]},
    )


async def test_every_scenario_is_detected_before_its_deadlines(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    plans = scenarios()
    assert len(plans) >= 8 or os.environ.get("LUPEX_TEST_SCENARIOS")
    outcomes = []
    async with MockDriver(mosquitto, tmp_path / "spacecraft.log") as mock:
        for k, (name, scenario) in enumerate(sorted(plans.items())):
            folder = tmp_path / name
            outcome = await run_scenario(
                mosquitto, mock, folder, f"{unique_id}-{k}", name, scenario
            )
            outcomes.append(outcome)
            print("\n".join(table([outcome])))
    print("\n".join(table(outcomes)))
    failures = [
        f"{o.scenario}/{r['id']}: {r['state']}, {r['time_to_detect_s']} s of {r['deadline_s']} s"
        for o in outcomes
        for r in o.rows
        if not r["detected"] or r["time_to_detect_s"] > r["deadline_s"]
    ]
    assert not failures, "\n".join(failures)
    for o in outcomes:
        assert {"scenario_started", "fault_injected", "detection", "scenario_ended"} <= (
            o.timeline_kinds
        ), o.scenario
        assert o.score["maximum"] > 0

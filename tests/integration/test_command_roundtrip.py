"""Commands end to end: the ground service (REST, queue, uplink, ingest, verification) and the real
spacecraft mock, through a real Mosquitto with the shipped ACL, at a high speed factor.

- A command goes through every stage in order (queued, released, sent, accepted, started,
  completed), each reported by the spacecraft, and the time from sent to accepted is at least
  twice the one-way light time: in mission time, and in wall time divided by the speed factor.
- A command sent while no station can reach the site (the Earth below the site's horizon) waits
  with the next AOS as its reason and is released at that AOS, then verified like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import aiomqtt
import httpx
import pytest

from ground.app import API_PREFIX, create_app
from ground.commanding.wiring import EXTRA_SERVICES, extra_routers
from mission import topics
from mission.geometry import Pass, earth_elevation_series, ground_stations, predict_passes
from tests.ground.test_api_support import (
    GroundTokens,
    running_server,
    services_of,
    settings_for,
    sqlite_url,
    wait_until,
)
from tests.support.mosquitto import MosquittoServer
from tests.support.timeouts import timeout

pytestmark = pytest.mark.integration

SPEED: Final = 100.0
"""Mission seconds per wall second. The simulation alone runs at about 450× on the 2-core
reference machine; beside the broker and the ground under test, 100× keeps it from lagging (a
lagging simulation makes the ground's extrapolated mission clock run ahead of it)."""
HK_RATE: Final = 0.25
"""Housekeeping at a quarter of its rate: the mock, the broker and the ground share two cores."""
IN_VIEW_EPOCH: Final = 1_800_000_000.0  # 2027-01-15T08:00Z: Earth up at the site, stations in view
ALL_STAGES: Final = ["queued", "released", "sent", "accepted", "started", "completed"]


MOCK_CLI: Final = (
    "import typer; from lupex.commands.spacecraft import spacecraft; typer.run(spacecraft)"
)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


async def clear_retained(mosquitto: MosquittoServer) -> None:
    """Remove the retained sim status and station monitors an earlier run left on the broker."""
    cred = mosquitto.credential("spacecraft")
    async with aiomqtt.Client(
        mosquitto.host, mosquitto.port, username=cred.username, password=cred.password
    ) as client:
        for topic in (topics.SIM_STATUS, *(topics.link(s.id) for s in ground_stations())):
            await client.publish(topic, b"", qos=1, retain=True)


@contextlib.asynccontextmanager
async def spacecraft(
    mosquitto: MosquittoServer,
    epoch: float,
    unique_id: str,
    log_dir: Path,
    speed: float = SPEED,
    hk_rate: float = HK_RATE,
    seed: int = 7,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """The spacecraft mock as its own process (``lupex spacecraft``), as the spacecraft user.

    A process of its own: at a few hundred times real time the simulation needs a core, and the
    ground under test needs its event loop to itself.
    """
    cred = mosquitto.credential("spacecraft")
    await clear_retained(mosquitto)
    env = {
        **os.environ,
        "LUPEX_SPACECRAFT_MQTT_USERNAME": cred.username,
        "LUPEX_SPACECRAFT_MQTT_PASSWORD": cred.password,
        "LUPEX_SPACECRAFT_MQTT_CLIENT_ID": f"{unique_id}-spacecraft",
    }
    args = [
        sys.executable,
        "-c",
        MOCK_CLI,
        "--broker",
        mosquitto.url,
        "--speed",
        str(speed),
        "--seed",
        str(seed),
        "--epoch",
        _iso(epoch),
        "--hk-rate",
        str(hk_rate),
        "--log-level",
        "WARNING",
    ]
    with (log_dir / "spacecraft.log").open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            *args, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT
        )
        try:
            yield process
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(timeout(30)):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


@pytest.fixture(autouse=True)
def generous_command_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Time-outs are tested on their own (tests/ground/test_commanding_service.py); here a busy
    machine must not turn a slow report into a time-out between the stages under test."""
    monkeypatch.setenv("LUPEX_GROUND_COMMAND_TIMEOUT_WALL_MARGIN_S", str(timeout(60)))


@dataclass
class Ground:
    http: httpx.AsyncClient
    app: Any
    tokens: GroundTokens


@contextlib.asynccontextmanager
async def ground(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str
) -> AsyncIterator[Ground]:
    # A retained status of an earlier test's mock (same epoch) would set the ground's clock
    # before this test's mock runs, and a command could go up before the mock subscribed.
    await clear_retained(mosquitto)
    tokens = GroundTokens()
    settings = settings_for(mosquitto, sqlite_url(tmp_path), tokens, unique_id)
    app = create_app(settings, extra_routers=extra_routers(), extra_services=EXTRA_SERVICES)
    base = f"http://127.0.0.1:{settings.port}{API_PREFIX}"
    async with (
        running_server(app, settings.port),
        httpx.AsyncClient(base_url=base, headers=tokens.header("operator"), timeout=30) as http,
    ):
        yield Ground(http, app, tokens)


async def mission_clock_near(g: Ground, t: float, within_s: float) -> float:
    """Wait until the ground's mission clock follows the running simulator, started at ``t``."""
    state = services_of(g.app).state

    async def near() -> float | None:
        now = state.clock.now()
        running = state.clock.has_status and state.clock.speed > 0
        return now if running and t <= now < t + within_s else None

    return await wait_until(near, "the ground's mission clock to follow the simulator", 60)


async def command_until(g: Ground, command_id: str, stages: set[str], units: float = 60) -> Any:
    """Poll the command over REST (every 0.1 s: the ground under test shares the machine)."""
    deadline = time.monotonic() + timeout(units)
    while True:
        view = (await g.http.get(f"/commands/{command_id}")).json()
        if view["stage"] in stages:
            return view
        if time.monotonic() > deadline:
            msg = f"command {command_id} did not reach {sorted(stages)}: {view['stages']}"
            raise AssertionError(msg)
        await asyncio.sleep(0.1)


def entry(view: dict[str, Any], stage: str) -> dict[str, Any]:
    return next(s for s in view["stages"] if s["stage"] == stage)


def check_round_trip(view: dict[str, Any], speed: float) -> None:
    assert [s["stage"] for s in view["stages"]] == ALL_STAGES, json.dumps(view["stages"], indent=1)
    assert not any(s.get("implied") for s in view["stages"]), view["stages"]
    sent, accepted = entry(view, "sent"), entry(view, "accepted")
    assert sent["station"] == view["station"]
    light = view["light_time_s"]
    assert 1.1 < light < 1.5
    # At least the round trip of the light: in mission time, and in wall time at this speed.
    assert accepted["time"] - sent["time"] >= 2 * light
    assert accepted["wall_time"] - sent["wall_time"] >= 2 * light / speed
    times = [s["time"] for s in view["stages"]]
    assert times == sorted(times)


async def test_a_command_reaches_every_stage_in_order(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    async with (
        ground(mosquitto, tmp_path, unique_id) as g,
        spacecraft(mosquitto, IN_VIEW_EPOCH, unique_id, tmp_path),
    ):
        await mission_clock_near(g, IN_VIEW_EPOCH, 3600.0)
        for name in ("lander.obsw.are_you_alive", "rover.obsw.are_you_alive"):
            response = await g.http.post("/commands", json={"name": name})
            assert response.status_code == 202, response.text
            done = await command_until(
                g, response.json()["id"], {"completed", "failed", "rejected", "timeout"}
            )
            check_round_trip(done, SPEED)
        status = (await g.http.get("/commands/link-status")).json()
        lander = next(s for s in status if s["vehicle"] == "lander")
        assert lander["known"]
        assert lander["state"] == "nominal"


def _dark_before_aos() -> tuple[float, Pass]:
    """A time the Earth is below the site's horizon, 20 mission minutes before the next AOS."""
    series = earth_elevation_series(IN_VIEW_EPOCH, 24 * 30, step_s=600.0)
    above = (series.elevation_deg >= series.mask_deg).tolist()
    setting = next(k for k in range(1, len(above)) if above[k - 1] and not above[k])
    dark = float(series.times[setting]) + 6 * 3600.0
    first = min((p for p in predict_passes(dark, 24 * 20) if p.aos > dark), key=lambda p: p.aos)
    return first.aos - 1200.0, first


async def test_a_command_waits_for_the_next_aos_and_is_released_there(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    epoch, first = _dark_before_aos()
    aos, station = first.aos, first.station_id
    async with (
        ground(mosquitto, tmp_path, unique_id) as g,
        spacecraft(mosquitto, epoch, unique_id, tmp_path),
    ):
        now = await mission_clock_near(g, epoch, 600.0)
        assert now < aos - 300.0, "the simulation ran too far before the test could command"
        refused = await g.http.post(
            "/commands", json={"name": "lander.obsw.are_you_alive", "release": "immediate"}
        )
        assert refused.status_code == 409
        assert "no station in view" in refused.json()["detail"]

        response = await g.http.post("/commands", json={"name": "lander.obsw.are_you_alive"})
        assert response.status_code == 202
        queued = response.json()
        assert queued["stage"] == "queued"
        assert queued["next_aos"] == pytest.approx(aos, abs=2.0)
        assert queued["next_aos_station"] == station
        assert f"next AOS {station}" in queued["waiting_reason"]

        done = await command_until(
            g, queued["id"], {"completed", "failed", "rejected", "timeout"}, units=120
        )
        released = entry(done, "released")
        # Released once the station rose (the prediction, then the station monitor agreeing),
        # not before, and during that first pass.
        assert aos - 1.0 <= released["time"] < first.los
        check_round_trip(done, SPEED)


async def test_cop1_recovers_commands_from_a_corrupted_uplink(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Type-AD frames under COP-1 through the mock's FARM-1: with most rover uplink frames
    corrupted (the uplink_corruption fault), the FOP-1 sends them again (go-back-N on the CLCW's
    retransmit flag, or timer T1) until every command got through, once, in order."""
    monkeypatch.setenv("LUPEX_GROUND_COMMAND_FOP_T1_WALL_MARGIN_S", "0.2")
    async with (
        ground(mosquitto, tmp_path, unique_id) as g,
        spacecraft(mosquitto, IN_VIEW_EPOCH, unique_id, tmp_path),
    ):
        await mission_clock_near(g, IN_VIEW_EPOCH, 3600.0)
        directive = await g.http.post(
            "/commands/link/rover/cop1",
            json={"directive": "set_parameters", "t1_s": 15, "transmission_limit": 20},
        )
        assert directive.status_code == 200, directive.text
        instructor = g.tokens.header("instructor")
        fault = await g.http.post(
            "/faults/uplink_corruption",
            json={"params": {"probability": 0.6, "spacecraft": "rover"}, "duration_s": 36_000},
            headers=instructor,
        )
        assert fault.status_code in (200, 202), fault.text
        ids = []
        for _ in range(10):
            response = await g.http.post("/commands", json={"name": "rover.obsw.are_you_alive"})
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        for command_id in ids:
            done = await command_until(g, command_id, {"completed", "failed", "rejected"}, 180)
            stages = [s["stage"] for s in done["stages"]]
            assert stages[-1] == "completed", done["stages"]
            assert stages.count("accepted") == 1
        status = (await g.http.get("/commands/link-status")).json()
        rover = next(s for s in status if s["vehicle"] == "rover")
        assert rover["tc_mode"] == "ad"
        cop1 = rover["cop1"]
        assert cop1["fop_state"] in ("active", "retransmit_without_wait")
        assert cop1["retransmissions"] > 0
        assert cop1["acknowledged"] >= 10
        assert cop1["alerts"] == 0
        frame_seqs = [(await g.http.get(f"/commands/{i}")).json()["frame_seq"] for i in ids]
        assert frame_seqs == sorted(frame_seqs)  # one N(S) each, in order

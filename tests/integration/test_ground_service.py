"""The ground service end to end: real Mosquitto, real archive (SQLite and PostgreSQL), real
uvicorn, frames published as the spacecraft user, read back over REST and the WebSocket; and the
``lupex ground`` command started as a process, answering, and stopping cleanly on SIGTERM.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
import typer
from typer.testing import CliRunner
from websockets.asyncio.client import connect

from ground.app import API_PREFIX, create_app
from lupex.commands.export import export
from mission.mdb.loader import load_mdb
from tests.ground.test_api_support import (
    T0,
    FrameFactory,
    GroundTokens,
    expected_eng,
    publish_frames,
    running_server,
    services_of,
    settings_for,
    sqlite_url,
    wait_subscribed,
    wait_until,
)
from tests.support.mosquitto import MosquittoServer
from tests.support.ports import free_port
from tests.support.postgres import PostgresServer
from tests.support.timeouts import POLL_INTERVAL, timeout

pytestmark = pytest.mark.integration

POWER: Final = "rover.hk.power"
SOC: Final = "rover.power.battery_soc"
N: Final = 20


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, unique_id: str) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(unique_id)


async def test_published_frames_reach_latest_and_the_websocket(
    mosquitto: MosquittoServer, db_url: str, unique_id: str
) -> None:
    tokens = GroundTokens()
    settings = settings_for(mosquitto, db_url, tokens, unique_id)
    mdb = load_mdb()
    factory = FrameFactory(mdb, "rover")
    values = [factory.values(POWER, **{SOC: 40.0 + i}) for i in range(N)]
    times = [T0 + i for i in range(N)]
    frames = factory.frames([(POWER, t, v) for t, v in zip(times, values, strict=True)])
    base = f"http://127.0.0.1:{settings.port}{API_PREFIX}"
    app = create_app(settings)
    async with (
        running_server(app, settings.port),
        httpx.AsyncClient(base_url=base, headers=tokens.header("viewer")) as http,
        connect(
            f"ws://127.0.0.1:{settings.port}{API_PREFIX}/stream?token={tokens.viewer}",
            open_timeout=timeout(10),
        ) as ws,
    ):
        await ws.send(json.dumps({"op": "subscribe", "parameters": ["rover.power.*"]}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), timeout(10)))
        assert ack["type"] == "subscribed"
        assert SOC in ack["parameters"]
        await wait_subscribed(app)
        await publish_frames(mosquitto, unique_id, "rover", frames)

        streamed: dict[float, Any] = {}
        while len(streamed) < N:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout(30)))
            if message["type"] == "parameters":
                streamed.update(
                    {
                        v["generation_time"]: v["eng_value"]
                        for v in message["values"]
                        if v["name"] == SOC
                    }
                )
        expected = [expected_eng(mdb, POWER, v)[SOC] for v in values]
        assert [streamed[t] for t in times] == pytest.approx(expected)

        async def latest_is_last() -> dict[str, Any] | None:
            body = (await http.get("/parameters/latest", params={"names": SOC})).json()
            found = body["values"]
            return found[0] if found and found[0]["generation_time"] == times[-1] else None

        latest = await wait_until(latest_is_last, "the last value in /parameters/latest")
        assert latest["eng_value"] == pytest.approx(expected[-1])

        async def archived() -> dict[str, Any] | None:
            params = {"start": T0, "end": T0 + N, "limit": 1000}
            body = (await http.get(f"/parameters/{SOC}/samples", params=params)).json()
            return body if len(body["samples"]) == N else None

        samples = await wait_until(archived, "every sample in the archive")
        assert [s["eng_value"] for s in samples["samples"]] == pytest.approx(expected)


# ------------------------------------------------------------------------------ the command line
CLI: Final = "import typer; from lupex.commands.ground import ground; typer.run(ground)"


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + timeout(60)
    while time.monotonic() < deadline:
        assert process.poll() is None, "lupex ground exited while starting"
        try:
            response = httpx.get(url, timeout=timeout(2))
        except httpx.HTTPError:
            time.sleep(POLL_INTERVAL)
            continue
        if response.status_code == 200:
            return response
    msg = "lupex ground did not answer /api/v1/health"
    raise AssertionError(msg)


def test_lupex_ground_serves_and_stops_on_sigterm(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    tokens = GroundTokens()
    port = free_port()
    db = sqlite_url(tmp_path)
    ground_password = mosquitto.credential("ground").password
    env = {
        **os.environ,
        "LUPEX_GROUND_MQTT_PASSWORD": ground_password,
        "LUPEX_GROUND_MQTT_CLIENT_ID": unique_id,
        "LUPEX_GROUND_VIEWER_TOKEN": tokens.viewer,
        "LUPEX_GROUND_PORT": "1",  # the command line wins over the environment
    }
    argv = [sys.executable, "-c", CLI, "--broker", mosquitto.url, "--db", db, "--port", str(port)]
    argv += ["--log-format", "json", "--log-level", "DEBUG"]
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    try:
        health = _wait_healthy(f"http://127.0.0.1:{port}{API_PREFIX}/health", process)
        assert health.json()["status"] == "ok"
        details = httpx.get(
            f"http://127.0.0.1:{port}{API_PREFIX}/health/details",
            headers=tokens.header("viewer"),
            timeout=timeout(5),
        )
        assert details.status_code == 200
        assert details.json()["services"]["ingest"] == "running"
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=timeout(30))
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    lines = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    messages = " ".join(line["message"] for line in lines)
    assert f"http://127.0.0.1:{port}{API_PREFIX}" in messages  # says where it listens ...
    assert "archive" in messages
    assert "ground service stopped" in messages  # ... and that it stopped cleanly
    everything = stdout.decode() + stderr.decode()
    assert tokens.viewer not in everything
    assert ground_password not in everything


async def test_lupex_export_writes_what_the_service_archived(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    tokens = GroundTokens()
    db = sqlite_url(tmp_path)
    settings = settings_for(mosquitto, db, tokens, unique_id)
    mdb = load_mdb()
    factory = FrameFactory(mdb, "rover")
    frames = factory.frames([(POWER, T0 + i, None) for i in range(N)])
    app = create_app(settings)
    async with running_server(app, settings.port):
        await wait_subscribed(app)
        await publish_frames(mosquitto, unique_id, "rover", frames)
        archive = services_of(app).archive

        def stored() -> bool:
            return sum(b.count for b in archive.history(SOC, T0, T0 + N, 1)) == N

        async def stored_yet() -> bool:
            return await asyncio.to_thread(stored)

        await wait_until(stored_yet, "the samples in the archive")
    out = tmp_path / "export.csv"
    cli = typer.Typer()
    cli.command()(export)
    window = ["--start", "2026-01-01T00:00:00Z", "--end", str(T0 + N)]
    args = ["--db", db, "--params", "rover.power.battery_*", *window, "--output", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    battery = {n for n in mdb.parameters if n.startswith("rover.power.battery_")}
    assert {r["parameter"] for r in rows} == battery
    assert sum(r["parameter"] == SOC for r in rows) == N
    missing = CliRunner().invoke(
        cli, ["--db", db, "--params", "rover.nope", "--start", "0", "--end", "1", "-o", str(out)]
    )
    assert missing.exit_code == 2
    assert "rover.nope" in missing.output


def test_lupex_ground_refuses_a_bad_topic_filter_naming_the_field() -> None:
    from lupex.commands.ground import ground

    cli = typer.Typer()
    cli.command()(ground)
    result = CliRunner().invoke(cli, ["--topic-filter", "lupex/v1/uplink/+/rover"])
    assert result.exit_code == 2
    assert "topic_filter" in result.output
    assert "lupex/v1/downlink/<station>/<spacecraft>" in result.output

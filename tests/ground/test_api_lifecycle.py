"""The app's lifecycle: background services in one TaskGroup, failure reporting, clean shutdown."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from ground.api.deps import GroundServices
from ground.app import API_PREFIX, create_app
from tests.ground.test_api_support import (
    GroundTokens,
    running_server,
    services_of,
    settings_for,
    sqlite_url,
    wait_for,
)
from tests.support.mosquitto import MosquittoServer
from tests.support.timeouts import timeout

pytestmark = pytest.mark.integration


class BrokenServiceError(RuntimeError):
    pass


async def test_a_dying_background_service_fails_health_and_calls_on_fatal(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    tokens = GroundTokens()
    settings = settings_for(mosquitto, sqlite_url(tmp_path), tokens, unique_id)
    release = asyncio.Event()
    fatal: list[BaseException] = []

    async def broken(_services: GroundServices) -> None:
        await release.wait()
        msg = "the extra service broke"
        raise BrokenServiceError(msg)

    async def sibling(_services: GroundServices) -> None:
        await asyncio.Event().wait()  # runs until cancelled

    extra = [("sibling", sibling), ("broken", broken)]
    app = create_app(settings, extra_services=extra, on_fatal=fatal.append)
    base = f"http://127.0.0.1:{settings.port}{API_PREFIX}"
    async with (
        running_server(app, settings.port),
        httpx.AsyncClient(base_url=base, headers=tokens.header("viewer")) as http,
    ):
        services = services_of(app)
        assert (await http.get("/health")).status_code == 200
        assert set(services.task_states()) == {
            "ingest",
            "stream-gauges",
            "commanding",
            "links",
            "training",
            "sibling",
            "broken",
        }
        release.set()
        await wait_for(lambda: fatal, "on_fatal")
        health = await http.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "failing"
        details = (await http.get("/health/details")).json()
        assert details["status"] == "failing"
        assert details["services"]["broken"] == "failed"
        await wait_for(lambda: services.task_states()["sibling"] == "stopped", "the sibling")
    assert len(fatal) == 1
    assert isinstance(fatal[0], BrokenServiceError)


async def read_until_closed(ws: ClientConnection) -> websockets.ConnectionClosed:
    """Read what is left (the stats after the pong), then return how the connection closed."""
    while True:
        try:
            await asyncio.wait_for(ws.recv(), timeout(10))
        except websockets.ConnectionClosed as closed:
            return closed


async def test_shutdown_closes_stream_clients_cleanly(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    tokens = GroundTokens()
    settings = settings_for(mosquitto, sqlite_url(tmp_path), tokens, unique_id)
    app = create_app(settings)
    url = f"ws://127.0.0.1:{settings.port}{API_PREFIX}/stream"
    async with running_server(app, settings.port):
        ws = await connect(
            url, additional_headers=tokens.header("viewer"), open_timeout=timeout(10)
        )
        await ws.send(json.dumps({"op": "ping"}))
        assert json.loads(await ws.recv())["type"] == "pong"
    # The server has stopped (the context above waited for it): the client was told goodbye.
    closed = await read_until_closed(ws)
    assert closed.rcvd is not None
    assert closed.rcvd.code in (1001, 1012)  # going away (the hub) / restart (uvicorn)
    assert app.state.services is None  # the lifespan ran to its end

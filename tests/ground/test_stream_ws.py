"""The live WebSocket against a real uvicorn server and real clients (``websockets``, raw TCP).

Updates are fed through the hub's ``LiveSink`` methods, as ingest does, from the server's own
event loop (the server runs in the test's loop). The path from MQTT to the WebSocket is covered by
``tests/integration/test_ground_service.py``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import json
import os
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final

import pytest
from websockets.asyncio.client import ClientConnection, connect

from ground.api.deps import GroundServices
from ground.app import API_PREFIX, create_app
from ground.model import EventView, LinkView
from tests.ground.test_api_support import (
    T0,
    GroundTokens,
    running_server,
    sample_block,
    services_of,
    settings_for,
    sqlite_url,
    wait_for,
)
from tests.support.mosquitto import MosquittoServer
from tests.support.timeouts import timeout

pytestmark = pytest.mark.integration

SOC: Final = "rover.power.battery_soc"
VOLTAGE: Final = "rover.power.battery_voltage"
TEMP: Final = "rover.thermal.battery_temperature"


@dataclass
class Ground:
    url: str
    port: int
    tokens: GroundTokens
    services: GroundServices

    def connect(self, **kwargs: Any) -> Any:
        return connect(
            self.url,
            additional_headers=self.tokens.header("viewer"),
            open_timeout=timeout(10),
            max_size=None,
            **kwargs,
        )


@contextlib.asynccontextmanager
async def ground(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str, **overrides: Any
) -> AsyncIterator[Ground]:
    tokens = GroundTokens()
    settings = settings_for(mosquitto, sqlite_url(tmp_path), tokens, unique_id, **overrides)
    app = create_app(settings)
    async with running_server(app, settings.port):
        url = f"ws://127.0.0.1:{settings.port}{API_PREFIX}/stream"
        yield Ground(url, settings.port, tokens, services_of(app))


async def recv_json(ws: ClientConnection) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout(10)))
    assert isinstance(message, dict)
    return message


async def recv_type(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next message of type ``kind`` (``stats`` messages in between are skipped)."""
    while True:
        message = await recv_json(ws)
        if message["type"] == kind:
            return message
        assert message["type"] == "stats", message


async def subscribe(ws: ClientConnection, **op: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"op": "subscribe", **op}))
    return await recv_type(ws, "subscribed")


def mdb_names(services: GroundServices, prefix: str) -> list[str]:
    return sorted(n for n in services.mdb.parameters if n.startswith(prefix))


# ------------------------------------------------------------------------------ subscriptions
async def test_subscribe_by_name_and_pattern_latest_first_then_batches(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    async with ground(mosquitto, tmp_path, unique_id) as g:
        hub, latest = g.services.hub, g.services.state.latest
        latest.update([sample_block(SOC, [T0], [55.0]), sample_block(TEMP, [T0], [21.5])])
        async with g.connect() as ws:
            ack = await subscribe(ws, parameters=["rover.power.battery_*", TEMP])
            assert ack["parameters"] == sorted(
                [*mdb_names(g.services, "rover.power.battery_"), TEMP]
            )
            first = await recv_type(ws, "parameters")  # the latest values, before any update
            assert {v["name"]: v["eng_value"] for v in first["values"]} == {SOC: 55.0, TEMP: 21.5}
            assert first["values"][0].keys() == {
                "name",
                "generation_time",
                "reception_time",
                "eng_value",
                "raw_value",
                "monitoring_result",
            }
            times = [T0 + 1 + i / 10 for i in range(200)]
            hub.on_samples(
                [
                    sample_block(SOC, times, [float(i) for i in range(200)]),
                    sample_block("rover.power.array_power", times, [1.0] * 200),  # not subscribed
                    sample_block(VOLTAGE, times[:3], [28.0] * 3),
                ]
            )
            update = await recv_type(ws, "parameters")
            names = [v["name"] for v in update["values"]]
            assert names == [SOC] * 200 + [VOLTAGE] * 3  # one message, many values
            assert [v["generation_time"] for v in update["values"][:200]] == times
            assert [v["eng_value"] for v in update["values"][:200]] == list(range(200))


async def test_unsubscribe_stops_names_and_kinds(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    async with ground(mosquitto, tmp_path, unique_id) as g:
        hub = g.services.hub
        async with g.connect() as ws:
            await subscribe(ws, parameters=[SOC, VOLTAGE], events=True, links=True)
            await ws.send(
                json.dumps({"op": "unsubscribe", "parameters": ["rover.power.*"], "links": True})
            )
            ack = await recv_type(ws, "subscribed")
            assert ack["parameters"] == []
            assert ack["events"]
            assert not ack["links"]
            hub.on_samples([sample_block(SOC, [T0], [1.0])])
            hub.on_links([LinkView("dss43", in_view=True)])
            event = EventView(1, "rover.power.battery_low", "rover", "medium", "low", T0, T0 + 1)
            hub.on_events([event])
            received = await recv_type(ws, "events")  # nothing unsubscribed came before it
            assert received["events"][0]["name"] == "rover.power.battery_low"
            await ws.send(json.dumps({"op": "ping"}))
            assert (await recv_type(ws, "pong"))["time"] > 0


async def test_alarms_links_and_commands_reach_subscribers(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    async with ground(mosquitto, tmp_path, unique_id) as g:
        hub = g.services.hub
        async with g.connect() as ws:
            await subscribe(ws, links=True, commands=True)
            # A station of its own: monitors retained on the suite's broker by earlier tests
            # (real stations) may reach the subscriber too, before or with this one.
            hub.on_links([LinkView("test-station", in_view=True, ebn0_db={"rover": 6.5})])
            ours: list[dict[str, Any]] = []
            while not ours:
                links = await recv_type(ws, "links")
                ours = [v for v in links["links"] if v["station"] == "test-station"]
            assert ours[0]["ebn0_db"] == {"rover": 6.5}
            hub.on_commands([{"id": "c1", "stage": "queued", "time": T0}])
            commands = await recv_type(ws, "commands")
            assert commands["commands"] == [{"id": "c1", "stage": "queued", "time": T0}]


async def test_bad_operations_get_errors_and_the_connection_stays(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    async with ground(mosquitto, tmp_path, unique_id) as g, g.connect() as ws:
        for text, field_name in (
            ("not json", "message"),
            ('{"op": "dance"}', "op"),
            ('{"op": "subscribe", "parameters": "rover.*"}', "parameters"),
            ('{"op": "subscribe", "alarms": "maybe"}', "alarms"),
        ):
            await ws.send(text)
            error = await recv_type(ws, "error")
            assert error["field"] == field_name, error
            assert error["message"]
        await ws.send(
            json.dumps({"op": "subscribe", "parameters": [SOC, "rover.power.nope", "zz*"]})
        )
        unknown = await recv_type(ws, "error")
        assert unknown["field"] == "parameters[1]"
        assert unknown["value"] == "rover.power.nope"
        no_match = await recv_type(ws, "error")
        assert no_match["field"] == "parameters[2]"
        ack = await recv_type(ws, "subscribed")
        assert ack["parameters"] == [SOC]  # the valid part still applies
        await ws.send(json.dumps({"op": "ping"}))
        assert (await recv_type(ws, "pong"))["type"] == "pong"


# ------------------------------------------------------------------------------ slow clients
class StalledClient:
    """A WebSocket client over a raw socket that subscribes, then never reads again."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.setblocking(False)

    async def open(self, parameters: list[str]) -> None:
        loop = asyncio.get_running_loop()
        await loop.sock_connect(self.sock, ("127.0.0.1", self.port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {API_PREFIX}/stream HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {self.token}\r\n\r\n"
        )
        await loop.sock_sendall(self.sock, request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = await asyncio.wait_for(loop.sock_recv(self.sock, 1), timeout(10))
            assert chunk, "the server closed the connection during the handshake"
            response += chunk
        assert response.startswith(b"HTTP/1.1 101"), response
        payload = json.dumps({"op": "subscribe", "parameters": parameters}).encode()
        await loop.sock_sendall(self.sock, self._masked_text_frame(payload))

    @staticmethod
    def _masked_text_frame(payload: bytes) -> bytes:
        mask = os.urandom(4)
        length = len(payload)
        header = b"\x81" + (
            bytes([0x80 | length])
            if length < 126
            else bytes([0x80 | 126]) + struct.pack(">H", length)
        )
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return header + mask + masked

    def close(self) -> None:
        self.sock.close()


@dataclass
class Reader:
    """Reads every message of a client in the background and counts the values."""

    ws: ClientConnection
    values: int = 0
    types: list[str] = field(default_factory=list)
    stats: list[dict[str, Any]] = field(default_factory=list)

    def has(self, values: int) -> bool:
        return self.values >= values

    async def run(self) -> None:
        with contextlib.suppress(Exception):
            async for text in self.ws:
                message = json.loads(text)
                self.types.append(message["type"])
                if message["type"] == "parameters":
                    self.values += len(message["values"])
                elif message["type"] == "stats":
                    self.stats.append(message)


async def test_a_stalled_client_loses_its_own_data_and_slows_nobody(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    batches, per_batch, queue_size = 200, 500, 8
    async with ground(mosquitto, tmp_path, unique_id, stream_queue_size=queue_size) as g:
        hub = g.services.hub
        assert not inspect.iscoroutinefunction(hub.on_samples)  # ingest can only enqueue
        stalled_client = StalledClient(g.port, g.tokens.viewer)
        await stalled_client.open([SOC])
        stalled = await wait_for(lambda: next(iter(hub.sessions.values()), None), "stalled session")
        await wait_for(lambda: stalled.subscription.parameters, "the stalled subscription")
        async with g.connect() as ws:
            await subscribe(ws, parameters=[SOC])
            reader = Reader(ws)
            reading = asyncio.create_task(reader.run())
            for i in range(batches):
                times = [T0 + i + k / per_batch for k in range(per_batch)]
                values = [float(k) for k in range(per_batch)]
                hub.on_samples([sample_block(SOC, times, values)])  # returns at once
                await wait_for(partial(reader.has, (i + 1) * per_batch), f"batch {i} at the reader")
            assert reader.values == batches * per_batch  # the reading client got everything
            assert stalled.stats.dropped > 0  # the stalled one lost its own data ...
            assert stalled.queued <= queue_size  # ... within its bounded queue
            assert stalled.sending  # its sender is still blocked in a write: nobody waited for it
            assert g.services.metrics.ws_dropped._value.get() > 0
            reading.cancel()
        stalled_client.close()


async def test_a_client_that_resumes_reading_sees_its_drop_counter(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    async with ground(mosquitto, tmp_path, unique_id, stream_queue_size=4) as g:
        hub = g.services.hub
        # A tiny receive buffer and no reading: the server's writes back up after a few messages.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", g.port))
        # Without compression: permessage-deflate shrinks these repetitive messages ~100-fold.
        async with g.connect(sock=sock, max_queue=1, compression=None) as ws:
            await subscribe(ws, parameters=[SOC])
            session = next(iter(hub.sessions.values()))
            i = 0
            while session.stats.dropped == 0:
                times = [T0 + i + k / 500 for k in range(500)]
                hub.on_samples([sample_block(SOC, times, [1.0] * 500)])
                i += 1
                await asyncio.sleep(0)  # let the sender write until the socket is full
                assert i < 10_000, "the session never dropped anything"
            await ws.send(json.dumps({"op": "ping"}))
            while True:  # read again: the backlog, the pong, then the stats that follow it
                message = await recv_json(ws)
                if message["type"] == "stats" and message["dropped"] > 0:
                    break
            assert message["dropped"] == session.stats.dropped
            assert message["dropped_messages"] >= 1
            assert message["queue_size"] == 4

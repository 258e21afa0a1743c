"""The live feed: bounded state, and one real WebSocket connection that reconnects."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from websockets.sync.server import Server, ServerConnection, serve

from dashboard.live import LiveFeed, RingBuffer, numeric
from tests.dashboard.helpers import values_message
from tests.support.timeouts import timeout

TOKEN = "secret-token-123456"


def test_ring_buffer_keeps_the_newest_samples_in_time_order() -> None:
    ring = RingBuffer(4)
    for t in (5.0, 1.0, 2.0, 3.0, 4.0, 6.0):
        ring.append(t, t * 10)
    times, values = ring.arrays()
    assert times.tolist() == [2.0, 3.0, 4.0, 6.0]  # the oldest two were overwritten
    assert values.tolist() == [20.0, 30.0, 40.0, 60.0]
    assert len(ring) == ring.capacity == 4


def test_numeric_values_for_plots() -> None:
    assert numeric(True) == 1.0
    assert numeric(3) == 3.0
    assert numeric(float("nan")) is None
    assert numeric("SAFE") is None


def test_every_live_structure_is_bounded() -> None:
    feed = LiveFeed(
        "ws://unused",
        None,
        capacity=10,
        max_parameters=3,
        events_capacity=5,
        commands_capacity=4,
        alarms_capacity=2,
    )
    for batch in range(100):
        feed.handle(values_message(*((f"p{i}", float(batch), batch) for i in range(5))))
        feed.handle({"type": "events", "events": [{"name": f"e{batch}"}]})
        feed.handle({"type": "commands", "commands": [{"id": f"c{batch}", "stage": "queued"}]})
        feed.handle({"type": "alarms", "alarms": [{"id": f"a{batch}", "state": "raised"}]})
    assert sorted(feed.latest()) == ["p0", "p1", "p2"]  # no buffer beyond max_parameters
    series = feed.series(["p0", "p3"])
    assert list(series) == ["p0"]
    assert series["p0"].values.tolist() == list(map(float, range(90, 100)))
    assert [e["name"] for e in feed.events()] == ["e99", "e98", "e97", "e96", "e95"]
    assert [c["id"] for c in feed.commands()] == ["c99", "c98", "c97", "c96"]
    assert [a["id"] for a in feed.alarms()] == ["a99", "a98"]
    status = feed.status()
    assert status.messages == 400
    assert status.buffers == 3


def test_labels_are_kept_as_latest_values_but_not_plotted() -> None:
    feed = LiveFeed("ws://unused", None)
    feed.handle(values_message(("rover.obsw.mode", 1.0, "SAFE"), ("rover.power.bus_on", 1.0, True)))
    assert feed.latest(["rover.obsw.mode"])["rover.obsw.mode"]["eng_value"] == "SAFE"
    assert list(feed.series(["rover.obsw.mode", "rover.power.bus_on"])) == ["rover.power.bus_on"]


def test_snapshots_are_copies() -> None:
    feed = LiveFeed("ws://unused", None)
    feed.handle(values_message(("x", 1.0, 1.0)))
    snapshot = feed.series(["x"])["x"]
    snapshot.values[0] = 99.0
    assert feed.series(["x"])["x"].values.tolist() == [1.0]
    assert np.shares_memory(snapshot.values, feed.series(["x"])["x"].values) is False


class _Stream:
    """A real WebSocket server that speaks the ground's stream protocol for one test."""

    def __init__(self) -> None:
        self.subscriptions: list[dict[str, Any]] = []
        self.headers: list[str | None] = []
        self.connections = 0
        self.drop_first = threading.Event()
        self.drop_first.set()

    def handler(self, connection: ServerConnection) -> None:
        self.connections += 1
        request = connection.request
        self.headers.append(None if request is None else request.headers.get("Authorization"))
        self.subscriptions.append(json.loads(connection.recv(timeout=timeout(10))))
        connection.send(json.dumps(values_message(("rover.power.battery_soc", 1.0, 50.0))))
        connection.send(json.dumps({"type": "stats", "dropped": 7}))
        if self.drop_first.is_set():
            self.drop_first.clear()
            connection.close()  # the feed must reconnect on its own
            return
        connection.send(json.dumps(values_message(("rover.power.battery_soc", 2.0, 51.0))))
        for _ in connection:  # keep the connection open until the client leaves
            pass


@contextmanager
def stream_server() -> Iterator[tuple[_Stream, str]]:
    stream = _Stream()
    server: Server = serve(stream.handler, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.socket.getsockname()[:2]
        yield stream, f"ws://{host}:{port}/api/v1/stream"
    finally:
        server.shutdown()
        thread.join(timeout(10))


def wait_for(condition: Any, what: str) -> None:
    event = threading.Event()
    for _ in range(int(timeout(20) / 0.05)):
        if condition():
            return
        event.wait(0.05)
    pytest.fail(f"timed out waiting for {what}")


def test_one_connection_subscribes_receives_and_reconnects() -> None:
    with stream_server() as (stream, url):
        feed = LiveFeed(url, TOKEN, patterns=["rover.*"], reconnect_max_s=0.2).start()
        try:
            wait_for(lambda: feed.status().values >= 3, "values from two connections")
            status = feed.status()
            assert status.connected
            assert status.connects == 2
            assert status.server_dropped == 7
        finally:
            feed.stop()
    assert stream.headers == [f"Bearer {TOKEN}"] * 2
    assert stream.subscriptions[0] == {
        "op": "subscribe",
        "parameters": ["rover.*"],
        "alarms": True,
        "events": True,
        "links": True,
        "commands": True,
    }
    series = feed.series(["rover.power.battery_soc"])["rover.power.battery_soc"]
    assert series.values.tolist() == [50.0, 50.0, 51.0]
    assert not feed.status().running  # stop() ended the thread


def test_an_unreachable_ground_is_reported_and_retried() -> None:
    from tests.support.ports import free_port

    feed = LiveFeed(f"ws://127.0.0.1:{free_port()}/api/v1/stream", TOKEN, reconnect_max_s=0.1)
    feed.start()
    try:
        wait_for(lambda: feed.status().error is not None, "a connection error")
        status = feed.status()
        assert not status.connected
        assert "cannot reach the ground" in str(status.error)
        assert TOKEN not in str(status.error)
    finally:
        feed.stop()

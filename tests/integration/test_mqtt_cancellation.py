"""Cancelling the MQTT loops of the ground ends them, even when the broker stops answering.

aiomqtt turns the cancellation of a task inside ``async with client`` into
``MqttError("Operation timed out")`` when the client cannot complete its disconnection within its
timeout. A reconnect loop that took that for a lost connection reconnected for ever and the
TaskGroup that cancelled it (the service's shutdown) never ended. To make the disconnection hang
as it does with a stuck broker or network, the broker is frozen (SIGSTOP) and the client's socket
is filled with data it cannot send (``jam``), so its DISCONNECT stays queued. The waits below only
guard against a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import aiomqtt
import pytest

from ground.archive import open_archive
from ground.commanding.mqtt import MqttEndpoint
from ground.ingest.config import IngestConfig
from ground.ingest.service import IngestService
from ground.metrics import GroundMetrics
from ground.model import NullSink
from ground.processing.state import GroundState
from mission import topics
from tests.integration.test_ingest_support import MDB, broker_url
from tests.support.mosquitto import MosquittoServer
from tests.support.timeouts import timeout

pytestmark = pytest.mark.integration

CLIENT_TIMEOUT_S = 0.5
"""The MQTT clients' operation timeout here: how long aiomqtt waits for the frozen broker."""


@pytest.fixture
def broker() -> Iterator[MosquittoServer]:
    with MosquittoServer() as server:
        yield server


@contextlib.asynccontextmanager
async def frozen(server: MosquittoServer) -> AsyncIterator[None]:
    """The broker stopped (SIGSTOP): connections stay open, nothing is answered."""
    pid = server.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


JAM_MESSAGES = 40
JAM_OCTETS = 64_000


def jam(client: aiomqtt.Client, topic: str) -> list[asyncio.Task[None]]:
    """Queue more outgoing data than the socket and the frozen broker's buffers take."""
    sock = client._client.socket()  # paho's socket: a small send buffer fills sooner
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    payload = b"j" * JAM_OCTETS
    return [asyncio.create_task(client.publish(topic, payload, qos=0)) for _ in range(JAM_MESSAGES)]


async def settle(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def cancel_and_wait(task: asyncio.Task[None]) -> None:
    """Cancel ``task``; it must end cancelled (a hang fails after a generous bound)."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=timeout(30))
    assert task in done, "the task did not end after being cancelled"
    assert task.cancelled()


async def test_cancelling_ingest_with_an_unresponsive_broker_ends_it(
    broker: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    archive = open_archive(f"sqlite:///{tmp_path / 'archive.db'}")
    config = replace(
        IngestConfig(broker=broker_url(broker, "ground"), client_id=unique_id),
        mqtt_timeout_s=CLIENT_TIMEOUT_S,
    )
    service = IngestService(
        config, MDB, archive, GroundState.from_mdb(MDB), NullSink(), GroundMetrics()
    )
    task = asyncio.create_task(service.run())
    try:
        async with asyncio.timeout(timeout(30)):
            await service.source.subscribed.wait()
        client = service.source.client
        assert client is not None
        async with frozen(broker):
            jammed = jam(client, topics.uplink(unique_id, "rover"))
            await cancel_and_wait(task)
            await settle(jammed)
        assert not service.running
    finally:
        if not task.done():
            task.cancel()
        service.close()
        archive.close()


async def test_cancelling_an_endpoint_with_an_unresponsive_broker_ends_it(
    broker: MosquittoServer, unique_id: str
) -> None:
    endpoint = MqttEndpoint(
        broker_url(broker, "ground"),
        unique_id,
        subscriptions=[topics.uplink(unique_id, "rover")],
        timeout_s=CLIENT_TIMEOUT_S,
    )
    task = asyncio.create_task(endpoint.run())
    try:
        async with asyncio.timeout(timeout(30)):
            await endpoint.wait_connected()
        client = endpoint._client
        assert client is not None
        async with frozen(broker):
            jammed = jam(client, topics.uplink(unique_id, "rover"))
            await cancel_and_wait(task)
            await settle(jammed)
    finally:
        if not task.done():
            task.cancel()


async def test_cancelling_a_publish_to_an_unresponsive_broker_ends_it(
    broker: MosquittoServer, unique_id: str
) -> None:
    endpoint = MqttEndpoint(
        broker_url(broker, "ground"), unique_id, timeout_s=CLIENT_TIMEOUT_S, publish_timeout_s=0.2
    )
    runner = asyncio.create_task(endpoint.run())
    try:
        async with asyncio.timeout(timeout(30)):
            await endpoint.wait_connected()
        async with frozen(broker):
            publish = asyncio.create_task(endpoint.publish(topics.uplink(unique_id, "rover"), b"x"))
            done, _ = await asyncio.wait({publish}, timeout=CLIENT_TIMEOUT_S)
            assert not done  # no PUBACK from a frozen broker: it keeps retrying
            await cancel_and_wait(publish)
            await cancel_and_wait(runner)
    finally:
        for task in (runner,):
            if not task.done():
                task.cancel()

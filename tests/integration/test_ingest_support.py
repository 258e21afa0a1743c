"""Helpers of the ingest integration tests (no tests here): a service against a real broker, an
independent reference decoding, and publishing from a thread."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bench.common import PublishResult, publish_messages
from ground.archive import Archive
from ground.ingest.config import IngestConfig
from ground.ingest.service import IngestService
from ground.metrics import GroundMetrics
from ground.model import NullSink
from ground.processing.state import GroundState
from mission.ccsds.framing import TmFrameReader
from mission.ccsds.pus import parse_tm_packet
from mission.mdb import decode_tm, load_mdb
from mission.mdb.database import SID_SERVICES
from mqtt_io import BrokerUrl
from tests.support.mosquitto import MosquittoServer
from tests.support.timeouts import timeout

MDB = load_mdb()


def broker_url(server: MosquittoServer, user: str) -> BrokerUrl:
    cred = server.credential(user)
    return BrokerUrl(server.host, server.port, cred.username, cred.password)


@contextlib.asynccontextmanager
async def ingest(
    server: MosquittoServer, archive: Archive, client_id: str, **options: Any
) -> AsyncIterator[IngestService]:
    """An ``IngestService`` on ``server`` (as the ground user), subscribed when yielded."""
    config = replace(
        IngestConfig(broker=broker_url(server, "ground"), client_id=client_id), **options
    )
    service = IngestService(
        config, MDB, archive, GroundState.from_mdb(MDB), NullSink(), GroundMetrics()
    )
    task = asyncio.create_task(service.run())
    try:
        async with asyncio.timeout(timeout(30)):
            await service.source.subscribed.wait()
        yield service
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        service.close()


async def publish(
    server: MosquittoServer, messages: Sequence[tuple[str, bytes]], rate: float | None = None
) -> PublishResult:
    """Publish as the spacecraft user at QoS 1 from a worker thread; every PUBACK awaited."""
    cred = server.credential("spacecraft")
    return await asyncio.to_thread(
        publish_messages,
        messages,
        host=server.host,
        port=server.port,
        username=cred.username,
        password=cred.password,
        rate=rate,
    )


@dataclass
class Reference:
    """What the frames contain, decoded one packet at a time by ``mission`` (not by ingest)."""

    keys: dict[tuple[str, int], list[tuple[int, float]]] = field(default_factory=dict)
    samples: dict[str, list[tuple[float, float | int, object]]] = field(default_factory=dict)
    packets: int = 0


def reference(messages: Sequence[tuple[str, bytes]]) -> Reference:
    ref = Reference()
    reader = TmFrameReader()
    for _, frame in messages:
        for packet in reader.read(frame).extraction.packets:
            apid = ((packet[0] & 0x07) << 8) | packet[1]
            seq = ((packet[2] & 0x3F) << 8) | packet[3]
            vehicle = MDB.vehicle_of_apid(apid)
            ref.packets += 1
            if packet[7] in SID_SERVICES:
                decoded = decode_tm(MDB, packet)
                t = decoded.generation_time
                for name, value in decoded.values.items():
                    ref.samples.setdefault(name, []).append((t, value.raw_value, value.eng_value))
            else:
                t = parse_tm_packet(packet).generation_time
            ref.keys.setdefault((vehicle, apid), []).append((seq, t))
    return ref

"""The ingest service without MQTT: the same path through ``ingest_payload`` into a real archive."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiomqtt
import numpy as np
import pytest

from ground.archive import Archive, ArchiveBatch, SampleBlock, open_archive
from ground.ingest.config import IngestConfig
from ground.ingest.mqtt_source import MqttSource, payload_bytes
from ground.ingest.service import IngestService, merge_batches
from ground.metrics import GroundMetrics
from ground.model import NullSink
from ground.processing.state import GroundState
from mqtt_io import BrokerUrl
from tests.ground.test_ingest_support import MDB, T0, Downlink, values_for
from tests.support.timeouts import timeout


@contextlib.asynccontextmanager
async def running(archive: Archive) -> AsyncIterator[IngestService]:
    config = IngestConfig(
        broker=BrokerUrl("127.0.0.1", 1), client_id="unit", compact_interval_s=0.05
    )
    service = IngestService(
        config, MDB, archive, GroundState.from_mdb(MDB), NullSink(), GroundMetrics()
    )
    task = asyncio.create_task(service.run(mqtt=False))
    try:
        async with asyncio.timeout(timeout(30)):
            await service.started.wait()
        yield service
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        service.close()


async def feed(service: IngestService, messages: list[tuple[str, bytes, float]]) -> None:
    for topic, payload, t in messages:
        await service.ingest_payload(topic, payload, t)
    async with asyncio.timeout(timeout(60)):
        await service.drain()


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return open_archive(f"sqlite:///{tmp_path / 'archive.db'}")


async def test_payloads_are_archived_once_and_a_restart_resumes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    link = Downlink()
    packets = [link.hk("rover.hk.power", T0 + i) for i in range(300)]
    frames = link.frames(packets)
    messages = link.messages(frames)
    half = len(messages) // 2
    first = open_archive(url)
    async with running(first) as service:
        await feed(service, [*messages[:half], (link.topic, b"garbage", T0)])
        health = service.health()
        assert health["running"]
        assert health["archive_lag_s"] == 0.0
        assert health["batches_committed"] >= 1
    first.close()
    second = open_archive(url)
    async with running(second) as service:
        # everything again (a broker redelivering after a crash), then the rest
        await feed(service, [*messages, (link.topic, b"garbage", T0)])
        assert service.state.counters.duplicates == half + 1
        latest = service.state.latest.get("rover.power.battery_soc")
        assert latest is not None
        assert latest.generation_time == T0 + 299
    assert second.packet_count() == 300
    keys = second.packet_keys("rover", 0x102)
    assert sorted(seq for seq, _ in keys) == list(range(300))
    assert second.frame_count() == len(frames) + 1
    assert second.quarantine_counts() == {"truncated": 1}
    assert second.last_values(["rover.power.battery_soc"])[
        "rover.power.battery_soc"
    ].generation_time == (T0 + 299)
    second.close()


async def test_acknowledged_alarms_are_archived_even_without_traffic(archive: Archive) -> None:
    link = Downlink()
    hot = dict(values_for(MDB, "rover.hk.power"), **{"rover.power.battery_soc": 5.0})
    frames = link.frames([link.hk("rover.hk.power", T0, hot)])
    async with running(archive) as service:
        await feed(service, link.messages(frames))
        alarm = service.state.alarms.open_for("rover.power.battery_soc")
        assert alarm is not None
        service.state.alarms.acknowledge(alarm.id, "flight-director", T0 + 5)
        async with asyncio.timeout(timeout(30)):
            await service.drain()
        record = archive.alarm(alarm.id)
        assert record is not None
        assert (record.state, record.acknowledged_by) == ("acknowledged", "flight-director")
    archive.close()


def test_merged_batches_hold_one_sample_block_per_parameter() -> None:
    first = SampleBlock("p", np.array([1.0, 2.0]), 10.0, np.array([1, 2]), np.array([1.0, 2.0]))
    second = SampleBlock("p", np.array([3.0]), 11.0, np.array([3.5]), np.array([3.5]))
    other = SampleBlock("q", np.array([1.0]), 10.0, np.array([7]), np.array([7.0]))
    merged = merge_batches(
        [
            ArchiveBatch(samples=[first, other], state={"k": b"1"}),
            ArchiveBatch(samples=[second], state={"k": b"2"}),
        ]
    )
    blocks = {b.parameter: b for b in merged.samples}
    assert blocks["p"].generation_times.tolist() == [1.0, 2.0, 3.0]
    assert blocks["p"].raw_values.tolist() == [1.0, 2.0, 3.5]
    assert blocks["p"].reception_time == 11.0
    assert blocks["q"] is other
    assert merged.state == {"k": b"2"}


def test_mqtt_options_never_make_a_discarding_queue() -> None:
    config = IngestConfig(broker=BrokerUrl("h", 1), client_id="c", receive_maximum=123)
    source = MqttSource(config, asyncio.Queue())
    v5 = source.options(aiomqtt.ProtocolVersion.V5)
    assert (v5.receive_maximum, v5.persistent, v5.manual_ack) == (123, True, True)
    # aiomqtt's bounded queue discards; the ingest bounds it with a ReadGate instead.
    assert v5.max_queued_incoming == 0
    assert source.options(aiomqtt.ProtocolVersion.V311).max_queued_incoming == 0
    assert source.downlink_filter == "lupex/v1/downlink/+/+"
    shared = MqttSource(replace(config, shared_group="g1"), asyncio.Queue())
    assert shared.downlink_filter == "$share/g1/lupex/v1/downlink/+/+"
    assert payload_bytes(bytearray(b"ab")) == b"ab"
    assert payload_bytes("é") == "é".encode()
    assert payload_bytes(None) == b""

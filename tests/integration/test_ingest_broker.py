"""Ingest through a real Mosquitto into SQLite and PostgreSQL: every packet archived exactly once,
history and latest values equal to what was sent."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.common import build_traffic
from ground.archive import Archive, open_archive
from tests.ground.test_ingest_support import T0, Downlink
from tests.integration.test_ingest_support import MDB, ingest, publish, reference
from tests.support.mosquitto import MosquittoServer
from tests.support.postgres import PostgresServer
from tests.support.timeouts import timeout

pytestmark = pytest.mark.integration


@pytest.fixture
def broker() -> Iterator[MosquittoServer]:
    with MosquittoServer() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_url(request: pytest.FixtureRequest, tmp_path: Path, unique_id: str) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/archive.db"
    postgres: PostgresServer = request.getfixturevalue("postgres")
    return postgres.create_database(unique_id)


@pytest.fixture
def archive(archive_url: str) -> Iterator[Archive]:
    store = open_archive(archive_url)
    yield store
    store.close()


@pytest.mark.parametrize("writer", ["thread", "process"])
async def test_traffic_is_archived_exactly_once_and_matches_what_was_sent(
    broker: MosquittoServer, archive: Archive, archive_url: str, unique_id: str, writer: str
) -> None:
    # 100 packets/s of mission time: distinct millisecond times, so 'the last value' is defined
    traffic = build_traffic(6_000, mdb=MDB, station=unique_id, rate=100.0, event_fraction=0.01)
    ref = reference(traffic.messages)
    assert ref.packets == traffic.packets
    url = archive_url if writer == "process" else None
    async with ingest(broker, archive, unique_id, batch_max_frames=64, archive_url=url) as service:
        sent = await publish(broker, traffic.messages)
        assert sent.acknowledged == traffic.frames
        async with asyncio.timeout(timeout(120)):
            await service.wait_committed(traffic.frames)
        health = service.health()
        counters = service.state.counters.as_dict()
    assert health["connected"]
    assert health["messages_acknowledged"] == traffic.frames
    assert counters["errors_total"] == 0
    assert counters["packets"] == traffic.packets
    assert counters["per_station"] == {unique_id: traffic.frames}

    # every packet exactly once, by (APID, sequence count, generation time)
    for (vehicle, apid), keys in ref.keys.items():
        assert sorted(archive.packet_keys(vehicle, apid)) == sorted(keys)
    assert archive.packet_count() == traffic.packets
    assert archive.frame_count() == traffic.frames

    # history equal to the reference decoding, sample for sample
    start, end = traffic.start - 1, traffic.end + 1
    for name in ("rover.power.battery_soc", "rover.mobility.odometer", "lander.obsw.mode"):
        if name not in ref.samples:
            continue
        rows = list(archive.samples([name], start, end))
        expected = sorted(ref.samples[name], key=lambda s: s[0])
        assert [(r.generation_time, r.raw_value) for r in rows] == [
            (t, raw) for t, raw, _ in expected
        ]
    # latest values: the last value sent of every parameter
    latest = service.state.latest
    for name, samples in ref.samples.items():
        t, raw, eng = max(samples, key=lambda s: s[0])
        value = latest.get(name)
        assert value is not None
        assert (value.generation_time, value.raw_value, value.eng_value) == (t, raw, eng)
    stored = archive.last_values(list(ref.samples))
    assert {n: v.generation_time for n, v in stored.items()} == {
        n: max(s[0] for s in samples) for n, samples in ref.samples.items()
    }
    # events went to the archive with their rendered message
    events = archive.events(start, end, limit=100_000)
    assert len([e for e in events if not e.name.startswith("ground.")]) == traffic.events


async def test_reconnects_after_a_broker_restart_and_reports_it(
    broker: MosquittoServer, tmp_path: Path, unique_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUPEX_NO_BACKOFF", "1")
    store = open_archive(f"sqlite:///{tmp_path}/restart.db")
    traffic = build_traffic(4_000, mdb=MDB, station=unique_id, rate=100.0)
    half = len(traffic.messages) // 2
    try:
        async with ingest(broker, store, unique_id) as service:
            await publish(broker, traffic.messages[:half])
            async with asyncio.timeout(timeout(60)):
                await service.wait_committed(half)
            await asyncio.to_thread(broker.restart)
            await publish(broker, traffic.messages[half:])
            async with asyncio.timeout(timeout(60)):
                await service.wait_committed(len(traffic.messages))
            health = service.health()
            reconnects = service.metrics.registry.get_sample_value("lupex_mqtt_reconnects_total")
        assert health["connected"]
        assert health["connections"] >= 2
        assert reconnects is not None
        assert reconnects >= 1
        for (vehicle, apid), keys in reference(traffic.messages).keys.items():
            assert sorted(store.packet_keys(vehicle, apid)) == sorted(keys)
    finally:
        store.close()


async def test_a_shared_subscription_splits_the_downlink_between_instances(
    broker: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    """Two instances in one share group: each frame goes to one of them, none is lost or taken
    twice. (Each frame here holds whole packets: shared subscriptions split a VC frame by frame.)"""
    link = Downlink(station=unique_id)
    frames = [f for i in range(120) for f in link.frames([link.hk("rover.hk.power", T0 + i)])]
    messages = [(link.topic, f) for f in frames]
    stores = [open_archive(f"sqlite:///{tmp_path}/{name}.db") for name in ("a", "b")]
    try:
        async with (
            ingest(broker, stores[0], f"{unique_id}a", shared_group=unique_id) as first,
            ingest(broker, stores[1], f"{unique_id}b", shared_group=unique_id) as second,
        ):
            assert first.health()["subscription"].startswith(f"$share/{unique_id}/")
            await publish(broker, messages)
            async with asyncio.timeout(timeout(60)):
                while first.committed + second.committed < len(messages):
                    waits = {
                        asyncio.ensure_future(s.wait_committed(s.committed + 1))
                        for s in (first, second)
                    }
                    _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    for waiting in pending:
                        waiting.cancel()
            split = (first.committed, second.committed)
        assert min(split) > 0
        keys = [set(store.packet_keys("rover", 0x102)) for store in stores]
        assert not keys[0] & keys[1]
        assert sorted(seq for seq, _ in keys[0] | keys[1]) == list(range(120))
    finally:
        for store in stores:
            store.close()


async def test_topic_filters_give_each_instance_one_vehicle(
    broker: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    """Growing past one ground the recommended way: one instance per vehicle by topic filter
    (``--topic-filter``), so packets split across frames always reach the same instance."""
    links = {v: Downlink(vehicle=v, station=unique_id) for v in ("rover", "lander")}
    packet = {"rover": "rover.hk.power", "lander": "lander.hk.power"}
    messages = [
        (link.topic, frame)
        for i in range(60)
        for vehicle, link in links.items()
        for frame in link.frames([link.hk(packet[vehicle], T0 + i)])
    ]
    stores = {v: open_archive(f"sqlite:///{tmp_path}/{v}.db") for v in links}
    try:
        async with (
            ingest(
                broker, stores["rover"], f"{unique_id}r", topic_filter="lupex/v1/downlink/+/rover"
            ) as rover,
            ingest(
                broker, stores["lander"], f"{unique_id}l", topic_filter="lupex/v1/downlink/+/lander"
            ) as lander,
        ):
            assert rover.health()["subscription"] == "lupex/v1/downlink/+/rover"
            await publish(broker, messages)
            async with asyncio.timeout(timeout(60)):
                await rover.wait_committed(60)
                await lander.wait_committed(60)
            assert (rover.committed, lander.committed) == (60, 60)
        for vehicle, store in stores.items():
            other = "lander" if vehicle == "rover" else "rover"
            apid = MDB.packets[packet[vehicle]].apid
            assert sorted(seq for seq, _ in store.packet_keys(vehicle, apid)) == list(range(60))
            assert store.packet_keys(other, MDB.packets[packet[other]].apid) == []
    finally:
        for store in stores.values():
            store.close()

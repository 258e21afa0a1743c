"""More than 10,000 malformed payloads through a real Mosquitto: every one counted and
quarantined with its reason, the service healthy, and the good traffic beside them intact."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.common import build_traffic
from ground.archive import Archive, open_archive
from mission import topics
from mission.ccsds.crc import crc16
from mission.ccsds.framing import TmFrameWriter
from mission.ccsds.pus import build_tm_packet
from tests.integration.test_ingest_support import MDB, ingest, publish, reference
from tests.support.mosquitto import MosquittoServer
from tests.support.timeouts import timeout

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FRAME = MDB.spacecraft["rover"].tm_frame_length
PER_KIND = 1_700


def recrc(body: bytes) -> bytes:
    return body + crc16(body).to_bytes(2, "big")


def malformed(
    station: str, sources: list[bytes], rng: random.Random
) -> list[tuple[str, bytes, str]]:
    """(topic, payload, expected reason), all payloads distinct: each kind takes every source
    frame at most once, and the kinds differ in length, CRC or SCID."""
    rover = topics.downlink(station, "rover")
    out: list[tuple[str, bytes, str]] = []
    for _ in range(PER_KIND):
        length = rng.choice([n for n in (rng.randrange(16, 2 * FRAME),) if n != FRAME] or [1])
        out.append(
            (rover, rng.randbytes(length), "truncated" if length < FRAME else "length_mismatch")
        )
    for frame in sources[:PER_KIND]:
        out.append((rover, frame[: rng.randrange(1, FRAME)], "truncated"))
    for frame in sources[:PER_KIND]:
        out.append((rover, frame + rng.randbytes(rng.randrange(1, 64)), "length_mismatch"))
    for frame in sources[:PER_KIND]:
        at = rng.randrange(FRAME)
        out.append((rover, frame[:at] + bytes([frame[at] ^ 0x5A]) + frame[at + 1 :], "crc"))
    for frame in sources[:PER_KIND]:
        out.append(
            (rover, recrc(bytes([0x3F, 0xF0 | (frame[1] & 0x0F)]) + frame[2:-2]), "unknown_scid")
        )
    for frame in sources[:1_000]:
        lander = bytes([0x1E, 0x00 | (frame[1] & 0x0F)])  # SCID 0x1E0 on the rover's topic
        out.append((rover, recrc(lander + frame[2:-2]), "spacecraft_mismatch"))
    for _ in range(1_000):
        out.append(
            (topics.downlink(station, "marsrover"), rng.randbytes(FRAME), "unknown_spacecraft")
        )
    return out


def bad_packet_frames(station: str, count: int) -> tuple[list[tuple[str, bytes]], Counter[str]]:
    """Good lander frames whose packets are all bad: (messages, expected reasons)."""
    sc = MDB.spacecraft["lander"]
    writer = TmFrameWriter(sc.scid, sc.tm_frame_length)
    topic = topics.downlink(station, "lander")
    expected: Counter[str] = Counter()
    messages: list[tuple[str, bytes]] = []
    t = 1_767_225_600.0
    for i in range(count):
        packet = build_tm_packet(0x202, i & 0x3FFF, 3, 25, b"\x0f\xff" + bytes(20), t + i)
        kind = i % 3
        if kind == 0:
            packet = packet[:-1] + bytes([packet[-1] ^ 1])
            expected["packet_crc"] += 1
        elif kind == 1:
            packet = build_tm_packet(0x7AB, i & 0x3FFF, 3, 25, b"\x00\x01", t + i)
            expected["packet_unknown_apid"] += 1
        else:
            expected["packet_unknown_packet"] += 1  # SID 0xFFF is no packet of APID 0x202
        for frame in writer.add_packet(0, packet):
            messages.append((topic, frame))
    for frame in writer.flush(0):
        messages.append((topic, frame))
    return messages, expected


@pytest.fixture
def broker() -> Iterator[MosquittoServer]:
    with MosquittoServer() as server:
        yield server


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    store = open_archive(f"sqlite:///{tmp_path / 'archive.db'}")
    yield store
    store.close()


async def test_ten_thousand_malformed_payloads(
    broker: MosquittoServer, archive: Archive, unique_id: str
) -> None:
    rng = random.Random(20260101)
    sources = build_traffic(40_000, mdb=MDB, vehicles=("rover",), seed=7, rate=100.0).messages
    bad = malformed(unique_id, [frame for _, frame in sources], rng)
    packet_frames, packet_reasons = bad_packet_frames(unique_id, 3_000)
    good = build_traffic(
        8_000,
        mdb=MDB,
        vehicles=("rover",),
        seed=8,
        rate=100.0,
        station=unique_id,
        start=1_767_300_000.0,
    )
    assert len({p for _, p, _ in bad}) == len(bad) >= 10_000
    # interleave three streams, each in its own order: the good rover frames, the lander frames
    # full of bad packets (in order, so that their packets are reassembled), the bad payloads
    shuffled: list[tuple[str, bytes]] = [(t, p) for t, p, _ in bad]
    rng.shuffle(shuffled)
    streams = [deque(good.messages), deque(packet_frames), deque(shuffled)]
    messages: list[tuple[str, bytes]] = []
    while any(streams):
        weights = [len(s) for s in streams]
        chosen = rng.choices(range(3), weights)[0]
        messages.append(streams[chosen].popleft())
    async with ingest(broker, archive, unique_id) as service:
        sent = await publish(broker, messages)
        assert sent.acknowledged == len(messages)
        async with asyncio.timeout(timeout(180)):
            await service.wait_committed(len(messages))
        health = service.health()
        errors = dict(service.state.counters.errors)
        metrics = {
            s.labels["reason"]: s.value
            for metric in service.metrics.errors.collect()
            for s in metric.samples
            if s.name.endswith("_total")
        }
    expected = Counter(reason for _, _, reason in bad) + packet_reasons
    assert errors == dict(expected)
    assert metrics == {k: float(v) for k, v in expected.items()}
    assert archive.quarantine_counts() == dict(expected)
    assert health["connected"]
    assert health["running"]
    assert health["queues"] == {"incoming": 0, "processing": 0, "archive": 0}
    (sample,) = archive.quarantine(limit=1, reason="unknown_spacecraft")
    assert sample.topic == topics.downlink(unique_id, "marsrover")
    assert sample.detail
    # the good traffic beside it: every packet, exactly once
    ref = reference(good.messages)
    for (vehicle, apid), keys in ref.keys.items():
        assert sorted(archive.packet_keys(vehicle, apid)) == sorted(keys)

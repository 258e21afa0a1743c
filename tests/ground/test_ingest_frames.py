"""Frame checks, deduplication, frame sequence checks, CLCW and extraction (no I/O)."""

from __future__ import annotations

import os

import pytest

from ground.archive import frame_hash
from ground.ingest.pipeline import BatchProcessor
from ground.processing.state import GroundState
from mission.ccsds.clcw import Clcw
from mission.ccsds.crc import crc16
from mission.mdb import decode_tm
from tests.ground.test_ingest_support import MDB, T0, Downlink


def processor() -> BatchProcessor:
    return BatchProcessor(MDB, GroundState.from_mdb(MDB))


def hk_frames(link: Downlink, count: int, t0: float = T0) -> tuple[list[bytes], list[bytes]]:
    packets = [link.hk("rover.hk.power", t0 + i) for i in range(count)]
    return packets, link.frames(packets)


def test_good_frames_give_every_packet_once_even_across_frames() -> None:
    link = Downlink()
    packets, frames = hk_frames(link, 60)  # 60 × 77 octets: packets span frame boundaries
    assert len(frames) >= 4
    proc = processor()
    result = proc.process(link.messages(frames))
    assert result.packets == 60
    assert [f.quality for f in result.archive.frames] == ["good"] * len(frames)
    assert not result.archive.quarantine
    soc = next(s for s in result.samples if s.name == "rover.power.battery_soc")
    direct = [decode_tm(MDB, p).values["rover.power.battery_soc"] for p in packets]
    assert soc.eng_values.tolist() == [d.eng_value for d in direct]
    assert soc.raw_values.tolist() == [d.raw_value for d in direct]
    assert soc.generation_times.tolist() == [T0 + i for i in range(60)]
    assert proc.state.counters.frames_accepted == len(frames)
    assert proc.state.counters.per_vc == {"rover/0": len(frames)}


def test_a_redelivered_frame_is_dropped_in_the_batch_and_across_batches() -> None:
    link = Downlink()
    _, frames = hk_frames(link, 30)
    proc = processor()
    first = proc.process(link.messages(frames + frames[:1]))
    assert len(first.archive.frames) == len(frames)
    again = proc.process(link.messages(frames))
    assert again.archive.frames == []
    assert len(again.packet_columns) == 0
    assert proc.state.counters.duplicates == len(frames) + 1
    assert proc.state.links.get("usuda") is not None


def test_restored_state_and_hashes_recognise_redelivered_frames() -> None:
    link = Downlink()
    _, frames = hk_frames(link, 40)
    first = processor()
    done = first.process(link.messages(frames[:3]))
    snapshot = done.archive.state[first.state_key]
    second = processor()
    second.restore(snapshot, [f.frame_hash for f in done.archive.frames])
    redelivered = second.process(link.messages(frames))
    assert [f.frame_hash for f in redelivered.archive.frames] == [frame_hash(f) for f in frames[3:]]
    assert second.state.counters.duplicates == 3
    # the partial packet carried from frame 3 to 4 was restored: no octet skipped, no gap
    assert not second.state.counters.skipped_octets
    assert second.state.counters.frame_gaps == 0
    assert done.packets + redelivered.packets == 40


def corrupt(frame: bytes, at: int) -> bytes:
    return frame[:at] + bytes([frame[at] ^ 0xFF]) + frame[at + 1 :]


def refcs(body: bytes) -> bytes:
    return body + crc16(body).to_bytes(2, "big")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda f: corrupt(f, 500), "crc"),
        (lambda f: f[:-10], "truncated"),
        (lambda f: f + b"\x00" * 10, "length_mismatch"),
        (lambda f: b"", "truncated"),
        (lambda f: os.urandom(len(f)), "crc"),
        (lambda f: refcs(bytes([0x40 | f[0]]) + f[1:-2]), "bad_header"),  # version 1
        (lambda f: refcs(bytes([0x3F, 0xF0]) + f[2:-2]), "unknown_scid"),
        (lambda f: refcs(bytes([0x1E, 0x00 | (f[1] & 0x0F)]) + f[2:-2]), "spacecraft_mismatch"),
    ],
)
def test_malformed_frames_are_quarantined_and_counted(make: object, reason: str) -> None:
    link = Downlink()
    _, frames = hk_frames(link, 30)
    assert callable(make)
    bad = make(frames[1])
    proc = processor()
    result = proc.process(link.messages([frames[0], bad]))
    (record,) = result.archive.quarantine
    assert record.reason == reason
    assert record.payload == bad
    assert record.topic == link.topic
    assert record.detail
    assert proc.state.counters.errors[reason] == 1
    qualities = [f.quality for f in result.archive.frames]
    assert qualities == ["good", reason]


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("lupex/v1/downlink/usuda/marsrover", "unknown_spacecraft"),
        ("lupex/v1/downlink/usuda", "bad_topic"),
        ("lupex/v1/downlink/us uda/rover", "bad_topic"),
        ("somewhere/else", "bad_topic"),
    ],
)
def test_wrong_topics_are_quarantined(topic: str, reason: str) -> None:
    link = Downlink()
    _, frames = hk_frames(link, 5)
    proc = processor()
    result = proc.process([(topic, frames[0], T0)])
    (record,) = result.archive.quarantine
    assert (record.reason, record.topic) == (reason, topic)
    assert proc.state.counters.errors[reason] == 1


def test_a_cleared_retained_message_is_not_bad_data_but_garbage_is() -> None:
    proc = processor()
    cleared = proc.process(
        [("lupex/v1/sim/status", b"", T0), ("lupex/v1/link/dss43", b"", T0)]
    )  # what a subscriber receives when a retained message is deleted
    assert cleared.archive.quarantine == []
    assert not proc.state.clock.has_status
    garbage = proc.process([("lupex/v1/sim/status", b"{not json", T0)])
    assert [q.reason for q in garbage.archive.quarantine] == ["bad_sim_status"]


def test_frame_gaps_raise_events_and_count_per_link() -> None:
    link = Downlink()
    _, frames = hk_frames(link, 100)
    proc = processor()
    result = proc.process(link.messages(frames[:2] + frames[5:]))
    gaps = [e for e in result.events if e.name == "ground.ingest.frame_gap"]
    assert len(gaps) == 1
    assert gaps[0].args["missing"] == 3
    counters = proc.state.counters
    assert (counters.frame_gaps, counters.frame_gap_frames) == (1, 3)
    view = proc.state.links.get("usuda")
    assert view is not None
    assert view.frame_gaps == 1
    # the packet cut by the gap is reported as skipped octets, never silently dropped
    assert sum(counters.skipped_octets.values()) > 0


def test_a_different_frame_with_the_same_vc_count_is_a_duplicate() -> None:
    link = Downlink()
    _, frames = hk_frames(link, 30)
    twin = refcs(frames[1][:-6] + Clcw(vcid=0, report_value=99).pack())  # same counts, new CLCW
    proc = processor()
    result = proc.process(link.messages([frames[0], frames[1], twin, frames[2]]))
    assert [q.reason for q in result.archive.quarantine] == ["duplicate_frame_count"]
    assert any(e.name == "ground.ingest.frame_duplicate" for e in result.events)


def test_clcw_is_kept_per_spacecraft_with_its_reception_time() -> None:
    link = Downlink()
    link.clcw = Clcw(vcid=0, report_value=42, lockout=True, retransmit=True)
    _, frames = hk_frames(link, 10)
    proc = processor()
    proc.process(link.messages(frames, t=T0 + 100))
    clcw = proc.state.clcw["rover"]
    assert isinstance(clcw, Clcw)
    assert (clcw.report_value, clcw.lockout, clcw.retransmit) == (42, True, True)
    assert clcw.reception_time == T0 + 100 + 0.001 * (len(frames) - 1)
    assert (clcw.station, clcw.spacecraft) == ("usuda", "rover")

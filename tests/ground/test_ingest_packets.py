"""Packets inside good frames: decoding, bad packets, events, verification, deduplication."""

from __future__ import annotations

import numpy as np

from ground.ingest.pipeline import BatchProcessor
from ground.model import AlarmState, NullSink
from ground.processing.state import GroundState
from ground.processing.verification import VerificationReport
from mission.ccsds.crc import crc16
from mission.ccsds.pus import build_tm_packet
from mission.mdb import VerificationReport as ReportData
from mission.mdb import (
    VerificationReportType,
    decode_tm,
    encode_event,
    encode_verification,
)
from tests.ground.test_ingest_support import MDB, T0, Downlink, values_for


def processor() -> BatchProcessor:
    return BatchProcessor(MDB, GroundState.from_mdb(MDB))


def recrc(packet: bytes) -> bytes:
    body = packet[:-2]
    return body + crc16(body).to_bytes(2, "big")


def test_every_housekeeping_and_science_packet_decodes_like_the_single_decoder() -> None:
    link = Downlink()
    packets = []
    t = T0
    for name, definition in MDB.packets.items():
        if definition.vehicle != "rover":
            continue
        for k in range(3):
            t += 1
            packets.append(
                (definition.vcid, link.hk(name, t, values_for(MDB, name, shift=0.3 * k)))
            )
    frames = [f for vcid in (0, 1) for f in link.frames([p for v, p in packets if v == vcid], vcid)]
    proc = processor()
    result = proc.process(link.messages(frames))
    assert result.packets == len(packets)
    by_name = {s.name: s for s in result.samples}
    for _, packet in packets:
        decoded = decode_tm(MDB, packet)
        for name, value in decoded.values.items():
            block = by_name[name]
            i = block.generation_times.tolist().index(decoded.generation_time)
            assert block.raw_values[i] == value.raw_value
            if block.labels is not None:
                assert block.labels[i] == value.eng_value
            else:
                assert block.eng_values[i] == float(value.eng_value)
    latest = proc.state.latest.get("rover.power.battery_soc")
    assert latest is not None
    assert latest.generation_time == max(
        decode_tm(MDB, p).generation_time
        for _, p in packets
        if decode_tm(MDB, p).packet == "rover.hk.power"
    )
    assert result.sample_count == proc.state.counters.samples


def test_bad_packets_in_a_good_frame_are_quarantined_and_neighbours_survive() -> None:
    link = Downlink()
    good = [link.hk("rover.hk.power", T0 + i) for i in range(4)]
    bad_crc = good[1][:30] + bytes([good[1][30] ^ 0xFF]) + good[1][31:]
    unknown_apid = recrc(bytes([good[2][0] & 0xF8 | 0x07, 0x70]) + good[2][2:])
    unknown_sid = recrc(good[3][:20] + b"\x0f\xff" + good[3][22:])
    short = build_tm_packet(0x102, 9, 3, 25, b"\x00\x66", T0)  # hk.power's SID, no parameters
    unknown_service = build_tm_packet(0x101, 10, 99, 1, b"", T0)
    unknown_event = build_tm_packet(0x101, 11, 5, 1, b"\xee\xee", T0)
    frames = link.frames(
        [good[0], bad_crc, unknown_apid, unknown_sid, short, unknown_service, unknown_event]
    )
    proc = processor()
    result = proc.process(link.messages(frames))
    reasons = sorted(q.reason for q in result.archive.quarantine)
    assert reasons == sorted(
        [
            "packet_crc",
            "packet_unknown_apid",
            "packet_unknown_packet",
            "packet_length_mismatch",
            "packet_unknown_packet",
            "packet_unknown_packet",
        ]
    )
    payloads = {q.payload for q in result.archive.quarantine}
    assert bad_crc in payloads
    assert short in payloads
    assert result.packets == 1
    assert proc.state.counters.quarantined == 6
    assert all(q.topic == link.topic for q in result.archive.quarantine)


def test_events_are_rendered_and_verification_reports_reach_listeners() -> None:
    link = Downlink()
    event = encode_event(MDB, "rover.power.battery_low", {"soc": 17.25}, 0, T0 + 1)
    report = ReportData(VerificationReportType.COMPLETION_FAILURE, 0x102, 321, None, 11)
    verification = encode_verification(MDB, "rover", report, 1, T0 + 2)
    proc = processor()
    seen: list[VerificationReport] = []
    proc.state.verification_listeners.append(seen.append)
    result = proc.process(link.messages(link.frames([event, verification])))
    proc.deliver(result, NullSink())
    (ev,) = [e for e in result.events if not e.name.startswith("ground.")]
    assert ev.message == "Battery state of charge low: 17.2 %"
    assert (ev.severity, ev.spacecraft, ev.generation_time) == ("medium", "rover", T0 + 1)
    assert [r.name for r in result.archive.events] == ["rover.power.battery_low"]
    (got,) = seen
    assert (got.apid, got.seq_count, got.subtype) == (0x102, 321, 8)
    assert (got.failure_code, got.failure_name) == (11, "INSUFFICIENT_POWER")
    assert got.stage == "completion"
    assert not got.success
    assert got.generation_time == T0 + 2
    assert proc.state.events[-1] == ev


def test_the_same_packet_again_on_playback_is_dropped() -> None:
    link = Downlink()
    packets = [link.hk("rover.hk.power", T0 + i) for i in range(10)]
    proc = processor()
    first = proc.process(link.messages(link.frames(packets, vcid=0)))
    again = proc.process(link.messages(link.frames(packets[3:6], vcid=2), t=T0 + 50))
    assert first.packets == 10
    assert again.packets == 0
    assert proc.state.counters.packet_duplicates == 3
    assert any(e.name == "ground.ingest.packet_duplicate" for e in again.events)


def test_packet_gaps_raise_one_event_per_batch() -> None:
    link = Downlink()
    packets = [link.hk("rover.hk.power", T0 + i) for i in range(600)]
    kept = packets[:100] + packets[110:]
    proc = processor()
    result = proc.process(link.messages(link.frames(kept)))
    (gap,) = [e for e in result.events if e.name == "ground.ingest.packet_gap"]
    assert gap.args["missing"] == 10
    assert proc.state.counters.packet_gap_packets == 10


def test_limit_violations_raise_alarms_that_reach_the_archive() -> None:
    link = Downlink()
    values = values_for(MDB, "rover.hk.power")
    hot = dict(values, **{"rover.power.battery_soc": 5.0})
    packets = [link.hk("rover.hk.power", T0 + i, hot if i in (2, 3) else values) for i in range(6)]
    proc = processor()
    result = proc.process(link.messages(link.frames(packets)))
    soc = next(s for s in result.samples if s.name == "rover.power.battery_soc")
    assert np.count_nonzero(soc.monitoring) == 2
    alarm = proc.state.alarms.open_for("rover.power.battery_soc")
    assert alarm is not None
    assert alarm.state is AlarmState.RAISED
    assert alarm.in_limits
    assert alarm.trigger_time == T0 + 2
    assert any(a.alarm_id == alarm.id for a in result.archive.alarms)

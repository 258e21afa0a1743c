"""Hypothesis round trips for every CCSDS/PUS codec: what goes in comes out."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mission.ccsds import (
    Clcw,
    PacketExtractor,
    SpacePacketHeader,
    TmFrameReader,
    TmFrameWriter,
    build_tc_frame,
    build_tc_packet,
    build_tm_packet,
    cds_pack,
    cds_unpack,
    parse_tc_frame,
    parse_tc_packet,
    parse_tm_frame,
    parse_tm_packet,
)
from mission.ccsds.pus import parse_request_id, request_id
from mission.ccsds.spacepacket import PacketType, SequenceFlags
from mission.ccsds.tmframe import FHP_IDLE, data_field_length

# Whole milliseconds between 1970 and 2100: the CDS short range the project uses.
ms_times = st.integers(min_value=0, max_value=4_102_444_800_000).map(lambda ms: ms / 1000.0)
apids = st.integers(min_value=0, max_value=0x7FE)
u8 = st.integers(min_value=0, max_value=0xFF)
u16 = st.integers(min_value=0, max_value=0xFFFF)
seq_counts = st.integers(min_value=0, max_value=0x3FFF)


@given(ms_times)
def test_cds_round_trip(t: float) -> None:
    packed = cds_pack(t)
    assert len(packed) == 7
    assert packed[0] == 0x40
    assert cds_unpack(packed) == t


@given(
    st.sampled_from(list(PacketType)),
    apids,
    seq_counts,
    u16,
    st.booleans(),
    st.sampled_from(list(SequenceFlags)),
)
def test_space_packet_header_round_trip(
    ptype: PacketType, apid: int, seq: int, dlen: int, sec: bool, flags: SequenceFlags
) -> None:
    hdr = SpacePacketHeader(ptype, apid, seq, dlen, sec, flags)
    assert SpacePacketHeader.unpack(hdr.pack()) == hdr
    assert hdr.packet_length == dlen + 7


@given(apids, seq_counts, u8, u8, st.binary(max_size=300), ms_times, u16, u16)
def test_pus_tm_round_trip(
    apid: int, seq: int, svc: int, sub: int, data: bytes, t: float, counter: int, dest: int
) -> None:
    raw = build_tm_packet(apid, seq, svc, sub, data, t, msg_counter=counter, dest_id=dest)
    pkt = parse_tm_packet(raw)
    assert (pkt.apid, pkt.seq_count, pkt.service, pkt.subtype) == (apid, seq, svc, sub)
    assert (pkt.data, pkt.generation_time, pkt.msg_counter, pkt.dest_id) == (data, t, counter, dest)
    assert pkt.pack() == raw


@given(apids, seq_counts, u8, u8, st.binary(max_size=200), u16, st.integers(0, 15))
def test_pus_tc_round_trip(
    apid: int, seq: int, svc: int, sub: int, data: bytes, source: int, ack: int
) -> None:
    raw = build_tc_packet(apid, seq, svc, sub, data, source_id=source, ack_flags=ack)
    pkt = parse_tc_packet(raw)
    assert (pkt.apid, pkt.seq_count, pkt.service, pkt.subtype) == (apid, seq, svc, sub)
    assert (pkt.data, pkt.source_id, pkt.ack_flags) == (data, source, ack)
    assert parse_request_id(pkt.request_id) == (apid, seq)
    assert request_id(apid, seq) == pkt.request_id


@given(
    st.integers(0, 63),
    u8,
    st.integers(0, 3),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_clcw_round_trip(
    vcid: int, nr: int, farm_b: int, norf: bool, nolock: bool, lock: bool, wait: bool, rt: bool
) -> None:
    clcw = Clcw(vcid, nr, farm_b, norf, nolock, lock, wait, rt)
    assert Clcw.unpack(clcw.pack()) == clcw


@given(st.integers(0, 0x3FF), st.integers(0, 63), u8, st.binary(min_size=1, max_size=1010))
def test_tc_frame_round_trip(scid: int, vcid: int, seq: int, data: bytes) -> None:
    frame = parse_tc_frame(build_tc_frame(scid, vcid, data, seq_num=seq))
    assert (frame.scid, frame.vcid, frame.seq_num, frame.data) == (scid, vcid, seq, data)
    assert frame.bypass


# A frame stream: packets of random sizes (many spanning frames) on several virtual channels,
# with flushes (idle fill) at random points. Everything written comes back, in order per VC.
stream_ops = st.lists(
    st.one_of(
        st.tuples(st.just("packet"), st.sampled_from([0, 1, 2]), st.integers(0, 2500)),
        st.tuples(st.just("flush"), st.sampled_from([0, 1, 2]), st.just(0)),
    ),
    min_size=1,
    max_size=60,
)


@given(stream_ops, st.sampled_from([64, 223, 1115]), st.integers(0, 0x3FF))
def test_frame_stream_round_trip(
    ops: list[tuple[str, int, int]], frame_length: int, scid: int
) -> None:
    writer = TmFrameWriter(scid, frame_length, clcw_source=lambda: Clcw(report_value=7))
    reader = TmFrameReader(frame_length)
    sent: dict[int, list[bytes]] = {0: [], 1: [], 2: []}
    got: dict[int, list[bytes]] = {0: [], 1: [], 2: []}
    frames: list[bytes] = []
    for i, (op, vc, size) in enumerate(ops):
        if op == "packet":
            pkt = build_tm_packet(0x100 + vc, i, 3, 25, bytes([i & 0xFF]) * size, float(i))
            sent[vc].append(pkt)
            frames += writer.add_packet(vc, pkt)
        else:
            frames += writer.flush(vc)
    for vc in (0, 1, 2):
        frames += writer.flush(vc)
        frames += writer.flush(vc)  # a second flush completes any spilled idle tail
    for raw in frames:
        assert len(raw) == frame_length
        result = reader.read(raw)
        assert result.frame.scid == scid
        assert result.frame.clcw == Clcw(report_value=7)
        assert result.extraction.skipped == []
        assert result.extraction.frame_gap == 0
        got[result.frame.vcid] += result.extraction.packets
    assert got == sent


def test_frame_counters_wrap_and_are_per_channel() -> None:
    writer = TmFrameWriter(42, 64)
    frames: list[bytes] = []
    for i in range(700):  # more than 256 frames per channel, so both counters wrap
        frames += writer.add_packet(i % 2, build_tm_packet(1 + i % 2, i, 3, 25, bytes(60), 0.0))
    parsed = [parse_tm_frame(f, 64) for f in frames]
    assert len(parsed) > 2 * 256
    assert [p.mc_count for p in parsed] == [i & 0xFF for i in range(len(parsed))]
    for vc in (0, 1):
        counts = [p.vc_count for p in parsed if p.vcid == vc]
        assert counts == [i & 0xFF for i in range(len(counts))]


def test_idle_frame_is_only_idle_data() -> None:
    writer = TmFrameWriter(5)
    frame = parse_tm_frame(writer.idle_frame())
    assert frame.first_header_pointer == FHP_IDLE
    assert frame.vcid == 7
    assert len(frame.data) == data_field_length(1115)
    assert PacketExtractor().feed_frame(frame).packets == []


def test_extractor_reports_lost_frame_and_resynchronises() -> None:
    writer = TmFrameWriter(1, 64)
    pkts = [build_tm_packet(0x10, i, 3, 25, bytes(40), float(i)) for i in range(20)]
    frames = [f for p in pkts for f in writer.add_packet(0, p)]
    reader = TmFrameReader(64)
    got: list[bytes] = []
    skipped = 0
    gaps = 0
    for i, raw in enumerate(frames):
        if i == 3:
            continue  # lost on the link
        res = reader.read(raw)
        got += res.extraction.packets
        skipped += res.extraction.skipped_octets
        gaps += res.extraction.frame_gap
    assert gaps == 1
    assert skipped > 0
    assert set(got) < set(pkts)
    # Every packet that came out is intact (parses with its CRC), none is invented.
    for raw in got:
        assert parse_tm_packet(raw).apid == 0x10

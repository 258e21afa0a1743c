"""``FastExtractor`` behaves exactly like ``mission.ccsds.PacketExtractor`` (the reference)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ground.ingest.extract import FastExtractor
from mission.ccsds.framing import Extraction, PacketExtractor, TmFrameWriter
from mission.ccsds.spacepacket import idle_packet
from mission.ccsds.tmframe import FHP_IDLE, FHP_NO_PACKET_START, parse_tm_frame

FRAME = 128  # short frames: many packets span several


def packet(apid: int, length: int, fill: int) -> bytes:
    body = bytes([fill]) * (length - 6)
    return (
        bytes([0x08 | (apid >> 8), apid & 0xFF, 0xC0, 0x00])
        + (len(body) - 1).to_bytes(2, "big")
        + body
    )


packets = st.one_of(
    st.builds(packet, st.integers(0, 0x7FE), st.integers(7, 300), st.integers(0, 255)),
    st.builds(idle_packet, st.integers(7, 40)),
)


def same(a: Extraction, b: Extraction) -> None:
    assert a.packets == b.packets
    assert a.idle_packets == b.idle_packets
    assert a.skipped == b.skipped
    assert a.frame_gap == b.frame_gap


@settings(max_examples=300, deadline=None)
@given(
    stream=st.lists(st.tuples(packets, st.booleans()), max_size=40),
    drops=st.sets(st.integers(0, 60), max_size=5),
    split=st.integers(0, 60),
)
def test_same_packets_and_skipped_octets_on_frame_streams(
    stream: list[tuple[bytes, bool]], drops: set[int], split: int
) -> None:
    writer = TmFrameWriter(0x1E1, FRAME)
    frames: list[bytes] = []
    for data, flush in stream:
        frames += writer.add_packet(0, data)
        if flush:
            frames += writer.flush(0)
    frames += [*writer.flush(0), writer.idle_frame(0)]
    reference, fast = PacketExtractor(), FastExtractor()
    for i, raw in enumerate(frames):
        if i in drops:
            continue  # a lost frame: a VC count gap
        if i == split:  # a restart in the middle: resume from the snapshot
            restored = FastExtractor()
            restored.restore(*reference.snapshot())
            fast = restored
        frame = parse_tm_frame(raw, FRAME)
        same(
            fast.feed(frame.data, frame.first_header_pointer, frame.vc_count),
            reference.feed_frame(frame),
        )
        assert fast.snapshot() == reference.snapshot()


@settings(max_examples=500, deadline=None)
@given(
    chunks=st.lists(
        st.tuples(
            st.binary(min_size=0, max_size=200),
            st.one_of(st.integers(0, 250), st.sampled_from([FHP_IDLE, FHP_NO_PACKET_START])),
            st.one_of(st.none(), st.integers(0, 255)),
        ),
        max_size=20,
    )
)
def test_same_results_on_arbitrary_bytes(chunks: list[tuple[bytes, int, int | None]]) -> None:
    reference, fast = PacketExtractor(), FastExtractor()
    for data, fhp, vc_count in chunks:
        same(fast.feed(data, fhp, vc_count), reference.feed(data, fhp, vc_count))
        assert fast.snapshot() == reference.snapshot()
        assert fast.partial_octets == reference.partial_octets

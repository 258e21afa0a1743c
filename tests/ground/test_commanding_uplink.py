"""TC encoding for the uplink: frames parse with our decoder, packets with ``spacepackets``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from spacepackets.ecss.tc import PusTc

from ground.commanding.uplink import SequenceCounters, encode_tc
from mission.ccsds.errors import HeaderFieldError
from mission.ccsds.tcframe import parse_tc_frame


@given(
    scid=st.integers(0, 0x3FF),
    apid=st.integers(0, 0x7FE),
    service=st.integers(0, 255),
    subtype=st.integers(0, 255),
    app_data=st.binary(max_size=200),
    seq_count=st.integers(0, 0x3FFF),
    frame_seq=st.integers(0, 255),
    source_id=st.integers(0, 0xFFFF),
)
def test_encoded_tc_parses_with_both_implementations(
    scid: int,
    apid: int,
    service: int,
    subtype: int,
    app_data: bytes,
    seq_count: int,
    frame_seq: int,
    source_id: int,
) -> None:
    encoded = encode_tc(
        scid=scid,
        apid=apid,
        service=service,
        subtype=subtype,
        app_data=app_data,
        seq_count=seq_count,
        frame_seq=frame_seq,
        source_id=source_id,
    )
    frame = parse_tc_frame(encoded.frame)
    assert (frame.scid, frame.vcid, frame.seq_num, frame.bypass) == (scid, 0, frame_seq, True)
    assert frame.data == encoded.packet
    theirs = PusTc.unpack(frame.data)
    assert (theirs.apid, theirs.seq_count, theirs.service, theirs.message_subtype) == (
        apid,
        seq_count,
        service,
        subtype,
    )
    assert theirs.app_data == app_data
    assert theirs.source_id == source_id
    assert theirs.pus_tc_sec_header.ack_flags == 0b1111


def test_a_frame_longer_than_the_vehicle_accepts_is_refused() -> None:
    with pytest.raises(HeaderFieldError):
        encode_tc(
            scid=1,
            apid=2,
            service=8,
            subtype=1,
            app_data=bytes(100),
            seq_count=0,
            frame_seq=0,
            max_frame_length=64,
        )


def test_counters_per_apid_and_per_vehicle_wrap_and_resume() -> None:
    counters = SequenceCounters()
    assert [counters.next_packet(0x101) for _ in range(3)] == [0, 1, 2]
    assert counters.next_packet(0x102) == 0
    assert counters.peek_frame("rover") == 0
    assert [counters.next_frame("rover") for _ in range(2)] == [0, 1]
    assert counters.next_frame("lander") == 0
    counters.resume([(0x101, 0x3FFF, "rover", 255)])
    assert counters.next_packet(0x101) == 0
    assert counters.peek_frame("rover") == 0
    counters.resume([(0x102, 41, "lander", 9)])
    assert counters.next_packet(0x102) == 42
    assert counters.next_frame("lander") == 10

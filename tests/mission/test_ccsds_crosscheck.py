"""Cross-checks against an independent implementation, `spacepackets`.

Frames and packets made by the project parse with spacepackets to the same header fields, times and
payloads, and spacepackets-built packets and frames decode with the project's decoders.
"""

from __future__ import annotations

import fastcrc  # spacepackets' own CRC dependency: an independent CRC-16 implementation
from hypothesis import given
from hypothesis import strategies as st
from spacepackets.ccsds.time import CdsShortTimestamp
from spacepackets.ccsds.tm_frame import (
    MasterChannelId,
    TmFramePrimaryHeader,
    TmTransferFrame,
    TransferFrameDataFieldStatus,
)
from spacepackets.ecss.tc import PusTc
from spacepackets.ecss.tm import PusTm

from mission.ccsds import (
    Clcw,
    build_tc_packet,
    build_tm_frame,
    build_tm_packet,
    cds_pack,
    parse_tc_packet,
    parse_tm_frame,
    parse_tm_packet,
)

ms_times = st.integers(min_value=0, max_value=4_102_444_800_000).map(lambda ms: ms / 1000.0)


def _their_stamp(t: float) -> CdsShortTimestamp:
    """spacepackets' timestamp for a whole-millisecond Unix time.

    Built from days and milliseconds: spacepackets 0.32's ``from_datetime`` truncates the float
    fraction of a second (``int(0.126 * 1000) == 125``), so it is off by a millisecond for many
    times. The project's encoder rounds instead.
    """
    days, ms = divmod(round(t * 1000), 86_400_000)
    return CdsShortTimestamp.from_unix_days(days, ms)


apids = st.integers(min_value=0, max_value=0x7FE)
u8 = st.integers(0, 255)
seqs = st.integers(0, 0x3FFF)


@given(ms_times)
def test_cds_matches_spacepackets(t: float) -> None:
    ours = cds_pack(t)
    theirs = CdsShortTimestamp.unpack(ours)
    assert round(theirs.as_unix_seconds() * 1000) == round(t * 1000)
    assert _their_stamp(t).pack() == ours


@given(apids, seqs, u8, u8, st.binary(max_size=200), ms_times, st.integers(0, 0xFFFF))
def test_our_tm_parses_with_spacepackets(
    apid: int, seq: int, svc: int, sub: int, data: bytes, t: float, counter: int
) -> None:
    raw = build_tm_packet(apid, seq, svc, sub, data, t, msg_counter=counter, dest_id=3)
    theirs = PusTm.unpack(raw, timestamp_len=7)
    assert (theirs.apid, theirs.seq_count, theirs.service) == (apid, seq, svc)
    assert theirs.message_subtype == sub
    assert theirs.source_data == data
    assert theirs.pus_tm_sec_header.message_counter == counter
    assert theirs.pus_tm_sec_header.dest_id == 3
    assert round(CdsShortTimestamp.unpack(theirs.timestamp).as_unix_seconds() * 1000) == round(
        t * 1000
    )


@given(apids, seqs, u8, u8, st.binary(max_size=200), ms_times)
def test_spacepackets_tm_parses_with_ours(
    apid: int, seq: int, svc: int, sub: int, data: bytes, t: float
) -> None:
    stamp = _their_stamp(t).pack()
    raw = PusTm(svc, sub, stamp, source_data=data, apid=apid, seq_count=seq).pack()
    ours = parse_tm_packet(raw)
    assert (ours.apid, ours.seq_count, ours.service, ours.subtype) == (apid, seq, svc, sub)
    assert (ours.data, ours.generation_time) == (data, t)


@given(apids, seqs, u8, u8, st.binary(max_size=200), st.integers(0, 0xFFFF))
def test_tc_both_ways(apid: int, seq: int, svc: int, sub: int, data: bytes, source: int) -> None:
    ours = build_tc_packet(apid, seq, svc, sub, data, source_id=source)
    theirs = PusTc.unpack(ours)
    assert (theirs.apid, theirs.seq_count, theirs.service, theirs.message_subtype) == (
        apid,
        seq,
        svc,
        sub,
    )
    assert (theirs.app_data, theirs.source_id) == (data, source)
    built = PusTc(svc, sub, apid=apid, app_data=data, seq_count=seq, source_id=source).pack()
    assert bytes(built) == ours
    back = parse_tc_packet(bytes(built))
    assert (back.apid, back.seq_count, back.data, back.source_id) == (apid, seq, data, source)


@given(
    st.integers(0, 0x3FF),
    st.integers(0, 7),
    u8,
    u8,
    st.integers(0, 0x7FF),
    st.binary(min_size=1103, max_size=1103),
)
def test_tm_frame_both_ways(
    scid: int, vcid: int, mc: int, vc_count: int, fhp: int, data: bytes
) -> None:
    clcw = Clcw(vcid=0, report_value=mc)
    ours = build_tm_frame(scid, vcid, mc, vc_count, fhp, data, clcw=clcw)
    theirs = TmTransferFrame.unpack(ours, 1115, has_error_control_field=True)
    ph = theirs.primary_header
    assert ph.master_channel_id.spacecraft_id == scid
    assert (ph.vc_id, ph.master_ch_frame_count, ph.vc_frame_count) == (vcid, mc, vc_count)
    assert ph.ocf_flag
    assert ph.frame_datafield_status.first_header_pointer == fhp
    assert theirs.data_field == data
    assert theirs.op_ctrl_field == clcw.pack()

    header = TmFramePrimaryHeader(
        MasterChannelId(0, scid),
        vcid,
        True,
        mc,
        vc_count,
        TransferFrameDataFieldStatus(False, False, False, 0b11, fhp),
    )
    body = header.pack() + data + clcw.pack()
    built = TmTransferFrame(
        1115, header, None, data, clcw.pack(), fastcrc.crc16.ibm_3740(body).to_bytes(2, "big")
    ).pack()
    assert built == ours
    frame = parse_tm_frame(built)
    assert (frame.scid, frame.vcid, frame.first_header_pointer, frame.data) == (
        scid,
        vcid,
        fhp,
        data,
    )
    assert frame.clcw == clcw

"""Whole packets: TM encode/decode, the batch decoder, events, commands and service 1 reports."""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from spacepackets.ecss.tm import PusTm

from mission.ccsds.crc import crc16
from mission.ccsds.errors import (
    CrcError,
    HeaderFieldError,
    LengthMismatchError,
    ProtocolError,
    TruncatedError,
    UnknownApidError,
    UnknownPacketError,
)
from mission.ccsds.pus import build_tm_packet, parse_tc_packet
from mission.mdb import (
    ArgumentDef,
    CommandArgumentError,
    EngType,
    PacketCodec,
    TmBatchDecoder,
    UnknownCommandError,
    VerificationReport,
    VerificationReportType,
    argument_errors,
    build_command_packet,
    decode_command,
    decode_event,
    decode_event_data,
    decode_tm,
    decode_verification,
    decode_verification_data,
    encode_are_you_alive_report,
    encode_command,
    encode_event,
    encode_raw_tm,
    encode_tm,
    encode_verification,
    load_mdb,
)
from mission.mdb.calibration import RawDomain
from tests.mission.test_mdb_codec import outcome, raw_strategy

DB = load_mdb()
PACKETS = sorted(DB.packets)
COMMANDS = sorted(DB.commands)
EVENTS = sorted(DB.events_by_name)
ms_times = st.integers(min_value=946_684_800_000, max_value=4_102_444_799_000).map(
    lambda ms: ms / 1000.0
)
seq_counts = st.integers(0, 0x3FFF)


def raw_of(data: st.DataObject, codec: PacketCodec) -> dict[str, Any]:
    return {p.name: data.draw(raw_strategy(p)) for p in codec.parameters}


# ---------------------------------------------------------------------------------- TM
@given(data=st.data(), name=st.sampled_from(PACKETS), seq=seq_counts, t=ms_times)
def test_tm_round_trip_every_packet(data: st.DataObject, name: str, seq: int, t: float) -> None:
    codec = DB.codecs[name]
    raw = raw_of(data, codec)
    packet = encode_raw_tm(DB, name, raw, seq, t, msg_counter=3)
    decoded = decode_tm(DB, packet)
    assert decoded.packet == name
    assert (decoded.apid, decoded.seq_count, decoded.sid) == (codec.packet.apid, seq, codec.sid)
    assert (decoded.service, decoded.subtype) == (codec.packet.service, codec.packet.subtype)
    assert decoded.generation_time == t
    assert decoded.msg_counter == 3
    assert {n: v.raw_value for n, v in decoded.values.items()} == raw
    eng = {n: v.eng_value for n, v in decoded.values.items()}
    assert encode_tm(DB, name, eng, seq, t, msg_counter=3) == packet


@given(data=st.data(), name=st.sampled_from(PACKETS), t=ms_times)
def test_tm_parses_with_spacepackets(data: st.DataObject, name: str, t: float) -> None:
    codec = DB.codecs[name]
    packet = encode_raw_tm(DB, name, raw_of(data, codec), 9, t)
    theirs = PusTm.unpack(packet, timestamp_len=7)
    assert theirs.apid == codec.packet.apid
    assert (theirs.service, theirs.message_subtype) == (codec.packet.service, codec.packet.subtype)
    assert theirs.source_data == packet[20:-2]


def test_tm_decode_errors() -> None:
    codec = DB.codecs["rover.hk.drill"]
    good = encode_raw_tm(DB, "rover.hk.drill", {p.name: 0 for p in codec.parameters}, 1, 1.7e9)
    with pytest.raises(UnknownApidError):
        decode_tm(DB, build_tm_packet(0x0AA, 1, 3, 25, good[20:-2], 1.7e9))
    with pytest.raises(UnknownPacketError) as info:
        decode_tm(DB, build_tm_packet(0x102, 1, 3, 25, b"\x7f\x7f" + good[22:-2], 1.7e9))
    assert info.value.sid == 0x7F7F
    with pytest.raises(LengthMismatchError):
        decode_tm(DB, build_tm_packet(0x102, 1, 3, 25, good[20:-3], 1.7e9))
    with pytest.raises(UnknownPacketError):
        decode_tm(DB, build_tm_packet(0x102, 1, 9, 9, b"", 1.7e9))
    with pytest.raises(TruncatedError):
        decode_tm(DB, build_tm_packet(0x102, 1, 3, 25, b"\x00", 1.7e9))


@given(blob=st.binary(max_size=120))
def test_random_bytes_into_single_decoders(blob: bytes) -> None:
    first = blob[0] if blob else 1
    calls: list[Callable[[], object]] = [
        lambda: decode_tm(DB, blob),
        lambda: decode_event(DB, blob),
        lambda: decode_verification(DB, blob),
        lambda: decode_event_data(DB, 0x101, first % 6, blob),
        lambda: decode_verification_data(first % 10, blob[1:]),
    ]
    for service, subtype in ((8, 1), (17, 1), (15, 9), (3, 31), (8, 2)):
        calls.append(functools.partial(decode_command, DB, 0x102, service, subtype, blob))
    for call in calls:
        assert outcome(call)


# ---------------------------------------------------------------------------------- batch
def _mixed_batch(data: st.DataObject) -> tuple[list[bytes], list[str]]:
    names = data.draw(st.lists(st.sampled_from(PACKETS), min_size=1, max_size=25))
    packets = []
    for i, name in enumerate(names):
        codec = DB.codecs[name]
        t = 1.7e9 + i * 0.125
        packets.append(encode_raw_tm(DB, name, raw_of(data, codec), i, t, msg_counter=i))
    return packets, names


@given(data=st.data())
def test_batch_decoder_matches_single_decoder(data: st.DataObject) -> None:
    packets, names = _mixed_batch(data)
    batch = TmBatchDecoder(DB).decode(packets)
    assert not batch.rejected
    assert batch.packet_count == len(packets)
    assert sum(g.count for g in batch.groups) == len(packets)
    assert batch.sample_count == sum(len(DB.packets[n].parameters) for n in names)
    for group in batch.groups:
        assert group.samples.count == group.count
        for k, index in enumerate(group.indices.tolist()):
            single = decode_tm(DB, packets[index])
            assert single.packet == group.packet.name == names[index]
            assert group.seq_count[k] == single.seq_count
            assert group.generation_time[k] == single.generation_time
            assert group.msg_counter[k] == single.msg_counter
            for name, value in single.values.items():
                assert group.samples.raw[name][k].item() == value.raw_value
                assert group.samples.eng_value(name, k) == value.eng_value


@given(data=st.data(), position=st.integers(0, 200), value=st.integers(0, 255), fix=st.booleans())
def test_batch_decoder_reports_bad_packets_and_agrees_with_single(
    data: st.DataObject, position: int, value: int, fix: bool
) -> None:
    packets, _ = _mixed_batch(data)
    victim = data.draw(st.integers(0, len(packets) - 1))
    bad = bytearray(packets[victim])
    bad[position % len(bad)] = value
    if fix:  # recompute the PEC so that the deeper checks are reached
        bad[-2:] = crc16(bytes(bad[:-2])).to_bytes(2, "big")
    packets[victim] = bytes(bad)
    packets.append(bytes(bad[: data.draw(st.integers(0, len(bad) - 1))]))  # a truncated one
    batch = TmBatchDecoder(DB).decode(packets)
    accepted = {int(i) for g in batch.groups for i in g.indices}
    rejected = {r.index for r in batch.rejected}
    others = len(batch.events) + len(batch.verifications) + len(batch.others)
    assert len(accepted) + len(rejected) + others == len(packets)
    assert not accepted & rejected
    for r in batch.rejected:
        assert isinstance(r.error, ProtocolError)
        assert r.data == packets[r.index]
        with pytest.raises(ProtocolError):
            decode_tm(DB, packets[r.index])
    for index in accepted:
        decode_tm(DB, packets[index])


def test_batch_rejection_reasons() -> None:
    codec = DB.codecs["rover.hk.payload"]
    good = encode_raw_tm(DB, codec.name, {p.name: 0 for p in codec.parameters}, 5, 1.7e9)
    flipped = bytearray(good)
    flipped[25] ^= 0xFF
    unknown_sid = bytearray(good)
    unknown_sid[20:22] = b"\xff\xff"
    unknown_sid[-2:] = crc16(bytes(unknown_sid[:-2])).to_bytes(2, "big")
    bad_pfield = bytearray(good)
    bad_pfield[13] = 0x2E
    bad_pfield[-2:] = crc16(bytes(bad_pfield[:-2])).to_bytes(2, "big")
    batch = TmBatchDecoder(DB).decode(
        [good, bytes(flipped), good[:10], bytes(unknown_sid), bytes(bad_pfield), good + b"\x00"]
    )
    reasons = {r.index: type(r.error) for r in batch.rejected}
    assert reasons == {
        1: CrcError,
        2: TruncatedError,
        3: UnknownPacketError,
        4: HeaderFieldError,
        5: LengthMismatchError,
    }
    assert [g.indices.tolist() for g in batch.groups] == [[0]]


def test_batch_decoder_sorts_events_verifications_and_pings() -> None:
    event = encode_event(DB, "rover.drill.jam", {"depth": 0.5, "torque": 41.0}, 1, 1.7e9)
    report = VerificationReport(VerificationReportType.ACCEPTANCE_SUCCESS, 0x102, 12)
    verification = encode_verification(DB, "rover", report, 2, 1.7e9)
    ping = encode_are_you_alive_report(DB, "lander", 3, 1.7e9)
    batch = TmBatchDecoder(DB).decode([event, verification, ping])
    assert not batch.rejected
    assert [e.name for e in batch.events] == ["rover.drill.jam"]
    assert batch.events[0].message == "Drill jam at 0.500 m: torque 41.0 N m"
    assert batch.verifications[0].report == report
    assert batch.others[0].packet.apid == DB.obsw_apid("lander")
    assert batch.packet_count == 3


# ---------------------------------------------------------------------------------- events
def _arg_value(arg: ArgumentDef) -> st.SearchStrategy[Any]:
    if arg.type is EngType.ENUM:
        return st.sampled_from(sorted((arg.enumeration or {}).values()))
    if arg.type is EngType.BOOL:
        return st.booleans()
    domain = RawDomain(arg.encoding)
    low = arg.min if arg.min is not None else domain.min
    high = arg.max if arg.max is not None else domain.max
    if arg.type is EngType.INT:
        return st.integers(int(low), int(high))
    return st.floats(low, high)  # float32 arguments arrive rounded to float32 (_expected)


def _expected(arg: ArgumentDef, value: Any) -> Any:
    if arg.encoding == "float32":
        return float(np.float32(value))
    return value


@given(data=st.data(), name=st.sampled_from(EVENTS), seq=seq_counts, t=ms_times)
def test_event_round_trip_every_event(data: st.DataObject, name: str, seq: int, t: float) -> None:
    event = DB.events_by_name[name]
    args = {a.name: data.draw(_arg_value(a), label=a.name) for a in event.arguments}
    packet = encode_event(DB, name, args, seq, t)
    decoded = decode_event(DB, packet)
    assert (decoded.id, decoded.name, decoded.severity) == (event.id, name, event.severity)
    assert (decoded.apid, decoded.seq_count, decoded.generation_time) == (
        DB.obsw_apid(event.vehicle),
        seq,
        t,
    )
    assert packet[8] == event.severity.subtype
    expected = {a.name: _expected(a, args[a.name]) for a in event.arguments}
    assert decoded.args == expected
    assert decoded.message == event.message.format(**expected)


def test_event_errors() -> None:
    event = DB.events_by_name["rover.power.battery_low"]
    data = struct.pack(">Hf", event.id, 17.5)
    with pytest.raises(HeaderFieldError, match="subtype"):
        decode_event_data(DB, 0x101, 1, data)
    with pytest.raises(HeaderFieldError, match="apid"):
        decode_event_data(DB, 0x201, 3, data)
    with pytest.raises(UnknownPacketError):
        decode_event_data(DB, 0x101, 3, struct.pack(">Hf", 0xFFFF, 1.0))
    with pytest.raises(LengthMismatchError):
        decode_event_data(DB, 0x101, 3, data[:-1])


# ---------------------------------------------------------------------------------- commands
@given(data=st.data(), name=st.sampled_from(COMMANDS), seq=seq_counts)
def test_command_round_trip_every_command(data: st.DataObject, name: str, seq: int) -> None:
    command = DB.commands[name]
    given_args = {}
    for arg in command.arguments:
        if arg.default is None or data.draw(st.booleans()):
            given_args[arg.name] = data.draw(_arg_value(arg), label=arg.name)
    encoded = encode_command(DB, name, given_args)
    assert (encoded.apid, encoded.service, encoded.subtype) == (
        command.apid,
        command.service,
        command.subtype,
    )
    decoded_def, decoded = decode_command(DB, *encoded)
    assert decoded_def is command
    expected = {a.name: _expected(a, given_args.get(a.name, a.default)) for a in command.arguments}
    assert decoded == expected
    tc = parse_tc_packet(build_command_packet(DB, name, given_args, seq, source_id=7))
    assert (tc.apid, tc.seq_count, tc.service, tc.subtype) == (
        command.apid,
        seq,
        command.service,
        command.subtype,
    )
    assert tc.data == encoded.app_data
    assert tc.source_id == 7


def test_command_validation_errors_name_argument_and_range() -> None:
    with pytest.raises(ValidationError) as info:
        encode_command(DB, "rover.mobility.drive_distance", {"distance": 150.0})
    errors = argument_errors(info.value)
    assert errors[0]["loc"] == ["distance"]
    assert "100" in errors[0]["msg"]
    with pytest.raises(ValidationError) as info:
        encode_command(DB, "rover.mobility.drive_distance", {})
    assert argument_errors(info.value)[0] == {
        "loc": ["distance"],
        "msg": "Field required",
        "type": "missing",
    }
    with pytest.raises(ValidationError) as info:
        encode_command(DB, "rover.obsw.set_mode", {"mode": "PARTY"})
    assert "NOMINAL" in argument_errors(info.value)[0]["msg"]
    with pytest.raises(ValidationError) as info:
        encode_command(DB, "rover.obsw.are_you_alive", {"please": True})
    assert argument_errors(info.value)[0]["loc"] == ["please"]
    with pytest.raises(ValidationError):
        encode_command(DB, "rover.ns.start_measurement", {"integration_time": 5})
    with pytest.raises(ValidationError):
        encode_command(DB, "rover.drill.to_depth", {"depth": math.nan})
    with pytest.raises(ValidationError):
        encode_command(DB, "rover.thermal.set_thermostat", {"auto": "yes"})
    with pytest.raises(UnknownCommandError):
        encode_command(DB, "rover.mobility.fly", {})


def test_command_decode_errors() -> None:
    drive = DB.commands["rover.mobility.drive_distance"]
    assert drive.function_id is not None
    too_far = struct.pack(">Hff", drive.function_id, 500.0, 0.02)
    with pytest.raises(CommandArgumentError) as info:
        decode_command(DB, drive.apid, 8, 1, too_far)
    assert info.value.argument == "distance"
    with pytest.raises(UnknownPacketError) as unknown:
        decode_command(DB, drive.apid, 8, 1, struct.pack(">H", 0xBEEF))
    assert unknown.value.sid == 0xBEEF
    with pytest.raises(LengthMismatchError):
        decode_command(DB, drive.apid, 8, 1, too_far[:-1])
    with pytest.raises(TruncatedError):
        decode_command(DB, drive.apid, 8, 1, b"\x01")
    with pytest.raises(UnknownApidError):
        decode_command(DB, 0x3AA, 17, 1, b"")
    mode = DB.commands["rover.obsw.set_mode"]
    with pytest.raises(CommandArgumentError, match="mode"):
        decode_command(DB, mode.apid, 8, 1, struct.pack(">HB", mode.function_id or 0, 0))


# ---------------------------------------------------------------------------------- service 1
@given(
    kind=st.sampled_from(list(VerificationReportType)),
    apid=st.integers(0, 0x7FE),
    seq=seq_counts,
    step=st.integers(0, 255),
    code=st.integers(0, 0xFFFF),
    extra=st.binary(min_size=4, max_size=4),
)
def test_verification_round_trip(
    kind: VerificationReportType, apid: int, seq: int, step: int, code: int, extra: bytes
) -> None:
    progress = kind in (
        VerificationReportType.PROGRESS_SUCCESS,
        VerificationReportType.PROGRESS_FAILURE,
    )
    report = VerificationReport(
        kind,
        apid,
        seq,
        step=step if progress else None,
        failure_code=code if kind.is_failure else None,
        failure_data=extra if kind.is_failure else b"",
    )
    data = report.pack()
    assert data[:4] == struct.pack(">HH", 0x1800 | apid, 0xC000 | seq)
    assert decode_verification_data(int(kind), data) == report
    packet = encode_verification(DB, "lander", report, 4, 1.7e9)
    decoded = decode_verification(DB, packet)
    assert decoded.report == report
    assert decoded.apid == DB.obsw_apid("lander")
    if kind.is_failure and code in DB.failure_codes:
        assert decoded.failure == DB.failure_codes[code]

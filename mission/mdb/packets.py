"""Whole PUS packets of the mission database: telemetry (one at a time and in batches), events,
telecommands and service 1 verification reports.

Built on :mod:`mission.ccsds.pus` for headers, time and CRC. The batch decoder validates each
packet with a few integer operations and ``binascii.crc_hqx``, groups the packets by definition
and decodes each group with one ``np.frombuffer`` over a dtype that spans the whole packet, so the
headers (sequence count, time) come out as numpy arrays too.
"""

from __future__ import annotations

import binascii
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final, NamedTuple

import numpy as np
from numpy.typing import NDArray
from pydantic import ValidationError

from mission.ccsds.crc import CRC_INIT, crc16
from mission.ccsds.errors import (
    CommandArgumentError,
    CrcError,
    EncodeError,
    HeaderFieldError,
    LengthMismatchError,
    ProtocolError,
    TruncatedError,
    UnknownApidError,
    UnknownPacketError,
)
from mission.ccsds.pus import (
    PEC_LEN,
    PUS_VERSION,
    TM_CDS_DAY_OFFSET,
    TM_CDS_MS_OFFSET,
    TM_DATA_OFFSET,
    TM_HEADER_LEN,
    TM_MIN_LEN,
    TM_MSG_COUNTER_OFFSET,
    TM_TIME_OFFSET,
    TmPacket,
    build_tc_packet,
    build_tm_packet,
    parse_request_id,
    parse_tm_packet,
    request_id,
)
from mission.ccsds.timecode import CDS_PFIELD, CDS_UNIX_DAY_OFFSET, MS_PER_DAY
from mission.mdb.calibration import EngValue
from mission.mdb.codec import SID_LENGTH, BatchDecoded, DecodedValue, PacketCodec
from mission.mdb.database import FUNCTION_SERVICE, SID_SERVICES, MissionDatabase
from mission.mdb.models import CommandDef, EngType, EventDef, FailureCodeDef, PacketDef, Severity

EVENT_SERVICE: Final = 5
VERIFICATION_SERVICE: Final = 1
TEST_SERVICE: Final = 17
ARE_YOU_ALIVE: Final = (17, 1)
ARE_YOU_ALIVE_REPORT: Final = (17, 2)
FAILURE_DATA_LEN: Final = 4
REQUEST_ID_LEN: Final = 4

_HDR: Final = struct.Struct(">HHHBBB")
_U16: Final = struct.Struct(">H")


# ---------------------------------------------------------------------------------- errors
class UnknownCommandError(LookupError):
    """No command of that name in the database."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown command {name!r}")


# ---------------------------------------------------------------------------------- HK/science
@dataclass(frozen=True, slots=True)
class DecodedPacket:
    """One housekeeping or science packet, decoded."""

    packet: str
    apid: int
    seq_count: int
    service: int
    subtype: int
    sid: int
    generation_time: float
    msg_counter: int
    values: Mapping[str, DecodedValue]


def _codec_for(
    db: MissionDatabase, apid: int, service: int, subtype: int, data: bytes
) -> PacketCodec:
    if apid not in db.apids:
        raise UnknownApidError(apid)
    if service not in SID_SERVICES:
        raise UnknownPacketError(apid, service, subtype, None)
    if len(data) < SID_LENGTH:
        raise TruncatedError(
            f"source data of apid {apid} {service},{subtype}", SID_LENGTH, len(data)
        )
    sid = _U16.unpack_from(data)[0]
    packet = db.packet_by_key.get((apid, service, subtype, sid))
    if packet is None:
        raise UnknownPacketError(apid, service, subtype, sid)
    return db.codecs[packet.name]


def encode_tm(
    db: MissionDatabase,
    packet_name: str,
    values: Mapping[str, object],
    seq_count: int,
    time: float,
    msg_counter: int = 0,
    dest_id: int = 0,
) -> bytes:
    """A complete PUS TM packet of ``packet_name`` from engineering values."""
    codec = db.codecs[packet_name]
    packet = codec.packet
    return build_tm_packet(
        packet.apid,
        seq_count,
        packet.service,
        packet.subtype,
        codec.encode_source(values),
        time,
        msg_counter=msg_counter,
        dest_id=dest_id,
    )


def encode_raw_tm(
    db: MissionDatabase,
    packet_name: str,
    raw: Mapping[str, object],
    seq_count: int,
    time: float,
    msg_counter: int = 0,
) -> bytes:
    """A complete PUS TM packet from raw values (tests, fault injection of raw codes)."""
    codec = db.codecs[packet_name]
    packet = codec.packet
    return build_tm_packet(
        packet.apid,
        seq_count,
        packet.service,
        packet.subtype,
        codec.encode_raw_source(raw),
        time,
        msg_counter=msg_counter,
    )


def decode_tm(db: MissionDatabase, buf: bytes | bytearray | memoryview) -> DecodedPacket:
    """Decode one HK or science TM packet (headers and CRC checked)."""
    tm = parse_tm_packet(buf)
    codec = _codec_for(db, tm.apid, tm.service, tm.subtype, tm.data)
    return DecodedPacket(
        packet=codec.name,
        apid=tm.apid,
        seq_count=tm.seq_count,
        service=tm.service,
        subtype=tm.subtype,
        sid=codec.sid,
        generation_time=tm.generation_time,
        msg_counter=tm.msg_counter,
        values=codec.decode_source(tm.data),
    )


# ---------------------------------------------------------------------------------- events
@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """One event report (PUS 5,x) with its message rendered."""

    id: int
    name: str
    vehicle: str
    severity: Severity
    args: Mapping[str, EngValue]
    message: str
    apid: int = 0
    seq_count: int = 0
    generation_time: float = 0.0


def render_message(event: EventDef, args: Mapping[str, EngValue]) -> str:
    """The event's message with its arguments filled in (labels for enumerations)."""
    try:
        return event.message.format(**args)
    except (KeyError, ValueError, TypeError, IndexError):  # a value the template cannot format
        return f"{event.message} {dict(args)}"


def encode_event_data(
    db: MissionDatabase, name: str, args: Mapping[str, object]
) -> tuple[int, int, bytes]:
    """(apid, subtype, report data) of an event; arguments in engineering units or labels."""
    event = db.events_by_name[name]
    data = db.event_codecs[event.id].encode(event.id, args)
    return db.obsw_apid(event.vehicle), event.severity.subtype, data


def encode_event(
    db: MissionDatabase,
    name: str,
    args: Mapping[str, object],
    seq_count: int,
    time: float,
    msg_counter: int = 0,
) -> bytes:
    """A complete PUS 5,x TM packet on the vehicle's obsw APID."""
    apid, subtype, data = encode_event_data(db, name, args)
    return build_tm_packet(
        apid, seq_count, EVENT_SERVICE, subtype, data, time, msg_counter=msg_counter
    )


def decode_event_data(
    db: MissionDatabase, apid: int, subtype: int, data: bytes | bytearray | memoryview
) -> tuple[EventDef, dict[str, EngValue]]:
    """The event definition and its arguments from 5,x report data."""
    if apid not in db.apids:
        raise UnknownApidError(apid)
    if len(data) < SID_LENGTH:
        raise TruncatedError(f"event report on apid {apid}", SID_LENGTH, len(data))
    event_id = _U16.unpack_from(data)[0]
    event = db.events.get(event_id)
    if event is None:
        raise UnknownPacketError(apid, EVENT_SERVICE, subtype, event_id)
    expected_apid = db.obsw_apid(event.vehicle)
    if apid != expected_apid:
        raise HeaderFieldError(f"event {event.name}", "apid", apid, str(expected_apid))
    if subtype != event.severity.subtype:
        raise HeaderFieldError(
            f"event {event.name}",
            "subtype",
            subtype,
            f"{event.severity.subtype} ({event.severity})",
        )
    _, args = db.event_codecs[event_id].decode(data)
    return event, args


def _decoded_event(db: MissionDatabase, tm: TmPacket) -> DecodedEvent:
    event, args = decode_event_data(db, tm.apid, tm.subtype, tm.data)
    return DecodedEvent(
        id=event.id,
        name=event.name,
        vehicle=event.vehicle,
        severity=event.severity,
        args=args,
        message=render_message(event, args),
        apid=tm.apid,
        seq_count=tm.seq_count,
        generation_time=tm.generation_time,
    )


def decode_event(db: MissionDatabase, buf: bytes | bytearray | memoryview) -> DecodedEvent:
    """Decode one complete PUS 5,x TM packet."""
    tm = parse_tm_packet(buf)
    if tm.service != EVENT_SERVICE:
        raise HeaderFieldError("event report", "service", tm.service, str(EVENT_SERVICE))
    return _decoded_event(db, tm)


# ---------------------------------------------------------------------------------- commands
class EncodedCommand(NamedTuple):
    """What goes into a TC packet for a database command."""

    apid: int
    service: int
    subtype: int
    app_data: bytes


def command_def(db: MissionDatabase, name: str) -> CommandDef:
    command = db.commands.get(name)
    if command is None:
        raise UnknownCommandError(name)
    return command


def validate_command_args(
    db: MissionDatabase, name: str, args: Mapping[str, Any]
) -> dict[str, Any]:
    """Check arguments against the command's definition; defaults filled in.

    Raises ``pydantic.ValidationError`` naming the argument and the allowed range or labels
    (what an HTTP API answers with a 422), or :class:`UnknownCommandError`.
    """
    command_def(db, name)
    model = db.command_models[name]
    return model.model_validate(dict(args)).model_dump()


def encode_command(db: MissionDatabase, name: str, args: Mapping[str, Any]) -> EncodedCommand:
    """(apid, service, subtype, application data) of a command, after validation."""
    command = command_def(db, name)
    values = validate_command_args(db, name, args)
    header = command.function_id if command.function_id is not None else None
    data = db.command_codecs[name].encode(header, values)
    return EncodedCommand(command.apid, command.service, command.subtype, data)


def build_command_packet(
    db: MissionDatabase,
    name: str,
    args: Mapping[str, Any],
    seq_count: int,
    source_id: int = 0,
    ack_flags: int = 0b1111,
) -> bytes:
    """A complete PUS TC packet for a database command."""
    encoded = encode_command(db, name, args)
    return build_tc_packet(
        encoded.apid,
        seq_count,
        encoded.service,
        encoded.subtype,
        encoded.app_data,
        source_id=source_id,
        ack_flags=ack_flags,
    )


def _check_decoded_argument(command: CommandDef, name: str, value: EngValue) -> None:
    arg = next(a for a in command.arguments if a.name == name)
    if arg.type is EngType.ENUM:
        if value not in (arg.enumeration or {}).values():
            labels = ", ".join((arg.enumeration or {}).values())
            raise CommandArgumentError(command.name, name, value, f"expected one of {labels}")
        return
    if arg.type is EngType.BOOL:
        return
    assert isinstance(value, int | float)
    low = arg.min if arg.min is not None else -np.inf
    high = arg.max if arg.max is not None else np.inf
    if arg.encoding == "float32":  # the bounds as float32 too: 0.05 arrives as 0.0500000007
        low, high = float(np.float32(low)), float(np.float32(high))
    if not low <= value <= high:  # also refuses NaN
        raise CommandArgumentError(command.name, name, value, f"allowed {arg.min}..{arg.max}")


def decode_command(
    db: MissionDatabase,
    apid: int,
    service: int,
    subtype: int,
    app_data: bytes | bytearray | memoryview,
) -> tuple[CommandDef, dict[str, EngValue]]:
    """The command and its arguments from a received TC (what the spacecraft executes).

    Raises a ``ProtocolError``: ``UnknownApidError``, ``UnknownPacketError`` (unknown service,
    subtype or function id; ``sid`` holds the function id), ``TruncatedError`` /
    ``LengthMismatchError``, or :class:`CommandArgumentError` for a value outside its range.
    """
    if apid not in db.apids:
        raise UnknownApidError(apid)
    function_id: int | None = None
    if (service, subtype) == FUNCTION_SERVICE:
        if len(app_data) < SID_LENGTH:
            raise TruncatedError("function id", SID_LENGTH, len(app_data))
        function_id = _U16.unpack_from(app_data)[0]
    command = db.command_by_key.get((apid, service, subtype, function_id))
    if command is None:
        raise UnknownPacketError(apid, service, subtype, function_id)
    _, args = db.command_codecs[command.name].decode(app_data)
    for name, value in args.items():
        _check_decoded_argument(command, name, value)
    return command, args


def argument_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """JSON-friendly errors of a command validation (``loc``, ``msg``, ``type``), for an API."""
    return [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False)
    ]


# ---------------------------------------------------------------------------------- service 1
class VerificationReportType(IntEnum):
    """PUS service 1 report subtypes."""

    ACCEPTANCE_SUCCESS = 1
    ACCEPTANCE_FAILURE = 2
    START_SUCCESS = 3
    START_FAILURE = 4
    PROGRESS_SUCCESS = 5
    PROGRESS_FAILURE = 6
    COMPLETION_SUCCESS = 7
    COMPLETION_FAILURE = 8

    @property
    def is_failure(self) -> bool:
        return self.value % 2 == 0

    @property
    def stage(self) -> str:
        return ("acceptance", "start", "progress", "completion")[(self.value - 1) // 2]


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """Data of a 1,x report: request id of the TC, step (progress), failure code and data."""

    subtype: VerificationReportType
    tc_apid: int
    tc_seq_count: int
    step: int | None = None
    failure_code: int | None = None
    failure_data: bytes = b""

    def pack(self) -> bytes:
        return encode_verification_data(self)


def _verification_length(subtype: VerificationReportType) -> int:
    length = REQUEST_ID_LEN
    if subtype in (
        VerificationReportType.PROGRESS_SUCCESS,
        VerificationReportType.PROGRESS_FAILURE,
    ):
        length += 1
    if subtype.is_failure:
        length += 2 + FAILURE_DATA_LEN
    return length


def encode_verification_data(report: VerificationReport) -> bytes:
    """Request id (packet id + sequence control of the TC), [step u8], [code u16 + 4 octets]."""
    subtype = VerificationReportType(report.subtype)
    what = f"verification report 1,{int(subtype)}"
    out = request_id(report.tc_apid, report.tc_seq_count)
    if subtype in (
        VerificationReportType.PROGRESS_SUCCESS,
        VerificationReportType.PROGRESS_FAILURE,
    ):
        if report.step is None or not 0 <= report.step <= 0xFF:
            raise EncodeError(what, "step", report.step, "a progress report needs a step 0..255")
        out += bytes((report.step,))
    if subtype.is_failure:
        code = report.failure_code
        if code is None or not 0 <= code <= 0xFFFF:
            raise EncodeError(what, "failure_code", code, "a failure report needs a code 0..65535")
        data = report.failure_data or bytes(FAILURE_DATA_LEN)
        if len(data) != FAILURE_DATA_LEN:
            raise EncodeError(what, "failure_data", data, f"must be {FAILURE_DATA_LEN} octets")
        out += _U16.pack(code) + data
    return out


def decode_verification_data(
    subtype: int, data: bytes | bytearray | memoryview
) -> VerificationReport:
    """Inverse of :func:`encode_verification_data`."""
    try:
        kind = VerificationReportType(subtype)
    except ValueError:
        raise HeaderFieldError("verification report", "subtype", subtype, "1..8") from None
    expected = _verification_length(kind)
    if len(data) != expected:
        raise LengthMismatchError(f"verification report 1,{subtype}", expected, len(data))
    apid, seq_count = parse_request_id(data)
    pos = REQUEST_ID_LEN
    step: int | None = None
    if kind in (VerificationReportType.PROGRESS_SUCCESS, VerificationReportType.PROGRESS_FAILURE):
        step = data[pos]
        pos += 1
    code: int | None = None
    failure_data = b""
    if kind.is_failure:
        code = _U16.unpack_from(data, pos)[0]
        failure_data = bytes(data[pos + 2 : pos + 2 + FAILURE_DATA_LEN])
    return VerificationReport(kind, apid, seq_count, step, code, failure_data)


@dataclass(frozen=True, slots=True)
class DecodedVerification:
    """A received 1,x report with its packet header and the failure code's definition."""

    report: VerificationReport
    apid: int
    seq_count: int
    generation_time: float
    failure: FailureCodeDef | None = None


def encode_verification(
    db: MissionDatabase,
    vehicle: str,
    report: VerificationReport,
    seq_count: int,
    time: float,
    msg_counter: int = 0,
) -> bytes:
    """A complete PUS 1,x TM packet on the vehicle's obsw APID."""
    return build_tm_packet(
        db.obsw_apid(vehicle),
        seq_count,
        VERIFICATION_SERVICE,
        int(report.subtype),
        encode_verification_data(report),
        time,
        msg_counter=msg_counter,
    )


def _decoded_verification(db: MissionDatabase, tm: TmPacket) -> DecodedVerification:
    if tm.apid not in db.apids:
        raise UnknownApidError(tm.apid)
    report = decode_verification_data(tm.subtype, tm.data)
    failure = db.failure_codes.get(report.failure_code) if report.failure_code else None
    return DecodedVerification(report, tm.apid, tm.seq_count, tm.generation_time, failure)


def decode_verification(
    db: MissionDatabase, buf: bytes | bytearray | memoryview
) -> DecodedVerification:
    """Decode one complete PUS 1,x TM packet."""
    tm = parse_tm_packet(buf)
    if tm.service != VERIFICATION_SERVICE:
        raise HeaderFieldError("verification report", "service", tm.service, "1")
    return _decoded_verification(db, tm)


def encode_are_you_alive_report(
    db: MissionDatabase, vehicle: str, seq_count: int, time: float, msg_counter: int = 0
) -> bytes:
    """The PUS 17,2 answer to an are-you-alive request."""
    return build_tm_packet(
        db.obsw_apid(vehicle), seq_count, *ARE_YOU_ALIVE_REPORT, b"", time, msg_counter=msg_counter
    )


# ---------------------------------------------------------------------------------- batches
@dataclass(frozen=True, slots=True)
class PacketGroup:
    """All packets of one definition in a batch, decoded column-wise."""

    packet: PacketDef
    indices: NDArray[np.int64]
    """Positions of these packets in the batch's input list."""
    seq_count: NDArray[np.int64]
    generation_time: NDArray[np.float64]
    msg_counter: NDArray[np.int64]
    samples: BatchDecoded

    @property
    def apid(self) -> int:
        return self.packet.apid

    @property
    def count(self) -> int:
        return len(self.indices)


@dataclass(frozen=True, slots=True)
class RejectedPacket:
    """A packet the batch decoder refused, and why (``error.reason`` is a counter label)."""

    index: int
    data: bytes
    error: ProtocolError


@dataclass(frozen=True, slots=True)
class OtherPacket:
    """A valid packet that is neither HK, science, event nor verification (e.g. 17,2)."""

    index: int
    packet: TmPacket


@dataclass(frozen=True, slots=True)
class TmBatch:
    groups: tuple[PacketGroup, ...]
    events: tuple[DecodedEvent, ...]
    verifications: tuple[DecodedVerification, ...]
    others: tuple[OtherPacket, ...]
    rejected: tuple[RejectedPacket, ...]

    @property
    def packet_count(self) -> int:
        """Packets accepted (all kinds)."""
        return (
            sum(g.count for g in self.groups)
            + len(self.events)
            + len(self.verifications)
            + len(self.others)
        )

    @property
    def sample_count(self) -> int:
        """Parameter samples decoded from HK and science packets."""
        return sum(g.count * len(g.packet.parameters) for g in self.groups)


@dataclass(frozen=True, slots=True)
class _Entry:
    codec: PacketCodec
    length: int
    dtype: np.dtype[np.void]


class TmBatchDecoder:
    """Validate, group and decode lists of raw PUS TM packets of mixed kinds.

    :meth:`decode` never raises for a bad packet: it lists it in ``rejected`` with its
    ``ProtocolError``.
    """

    def __init__(self, db: MissionDatabase) -> None:
        self.db = db
        self._apids = frozenset(db.apids)
        self._entries: dict[tuple[int, int, int, int], _Entry] = {}
        for key, packet in db.packet_by_key.items():
            codec = db.codecs[packet.name]
            length = TM_HEADER_LEN + codec.source_length + PEC_LEN
            fields = [
                ("_psc", ">u2", 2),
                ("_mc", ">u2", TM_MSG_COUNTER_OFFSET),
                ("_day", ">u2", TM_CDS_DAY_OFFSET),
                ("_ms", ">u4", TM_CDS_MS_OFFSET),
            ]
            dtype = np.dtype(
                {
                    "names": [f[0] for f in fields],
                    "formats": [f[1] for f in fields],
                    "offsets": [f[2] for f in fields],
                    "itemsize": length,
                }
            )
            self._entries[key] = _Entry(codec, length, dtype)

    def _check(self, buf: bytes | bytearray | memoryview) -> tuple[int, int, int]:
        """Validate the headers and the CRC; return (apid, service, subtype)."""
        n = len(buf)
        if n < TM_MIN_LEN:
            raise TruncatedError("pus_tm", TM_MIN_LEN, n)
        word0, _, data_length, vt, service, subtype = _HDR.unpack_from(buf)
        if data_length + 7 != n:
            raise LengthMismatchError("pus_tm", data_length + 7, n)
        if word0 >> 11 != 0b00001:
            if word0 >> 13:
                raise HeaderFieldError("space_packet", "version", word0 >> 13, "0")
            if (word0 >> 12) & 1:
                raise HeaderFieldError("pus_tm", "packet_type", 1, "0 (TM)")
            raise HeaderFieldError("pus_tm", "sec_header_flag", 0, "1")
        if binascii.crc_hqx(buf, CRC_INIT) != 0:
            field = _U16.unpack_from(buf, n - PEC_LEN)[0]
            raise CrcError("pus_tm", field, crc16(memoryview(buf)[:-PEC_LEN]))
        if vt >> 4 != PUS_VERSION:
            raise HeaderFieldError("pus_tm", "pus_version", vt >> 4, str(PUS_VERSION))
        if buf[TM_TIME_OFFSET] != CDS_PFIELD:
            raise HeaderFieldError("pus_tm", "time_p_field", buf[TM_TIME_OFFSET], "0x40")
        ms = int.from_bytes(buf[TM_CDS_MS_OFFSET : TM_CDS_MS_OFFSET + 4], "big")
        if ms >= MS_PER_DAY:
            raise HeaderFieldError("cds_time", "ms_of_day", ms, f"< {MS_PER_DAY}")
        apid = word0 & 0x7FF
        if apid not in self._apids:
            raise UnknownApidError(apid)
        return apid, service, subtype

    def decode(self, packets: Sequence[bytes | bytearray | memoryview]) -> TmBatch:
        """Decode a batch; the order of ``packets`` is kept in each group's ``indices``."""
        members: dict[tuple[int, int, int, int], list[int]] = {}
        events: list[DecodedEvent] = []
        verifications: list[DecodedVerification] = []
        others: list[OtherPacket] = []
        rejected: list[RejectedPacket] = []
        entries = self._entries
        for index, buf in enumerate(packets):
            try:
                apid, service, subtype = self._check(buf)
                if service in SID_SERVICES:
                    n = len(buf)
                    if n < TM_MIN_LEN + SID_LENGTH:
                        raise TruncatedError("pus_tm with sid", TM_MIN_LEN + SID_LENGTH, n)
                    key = (
                        apid,
                        service,
                        subtype,
                        (buf[TM_DATA_OFFSET] << 8) | buf[TM_DATA_OFFSET + 1],
                    )
                    entry = entries.get(key)
                    if entry is None:
                        raise UnknownPacketError(*key)
                    if n != entry.length:
                        raise LengthMismatchError(f"packet {entry.codec.name}", entry.length, n)
                    members.setdefault(key, []).append(index)
                elif service == EVENT_SERVICE:
                    events.append(_decoded_event(self.db, parse_tm_packet(buf, check_crc=False)))
                elif service == VERIFICATION_SERVICE:
                    tm = parse_tm_packet(buf, check_crc=False)
                    verifications.append(_decoded_verification(self.db, tm))
                elif (service, subtype) == ARE_YOU_ALIVE_REPORT:
                    others.append(OtherPacket(index, parse_tm_packet(buf, check_crc=False)))
                else:
                    raise UnknownPacketError(apid, service, subtype, None)
            except ProtocolError as exc:
                rejected.append(RejectedPacket(index, bytes(buf), exc))
        groups = []
        for key, indices in members.items():
            entry = entries[key]
            joined = b"".join(packets[i] for i in indices)
            records = np.frombuffer(joined, dtype=entry.dtype, count=len(indices))
            day = records["_day"].astype(np.int64)
            ms = records["_ms"].astype(np.int64)
            groups.append(
                PacketGroup(
                    packet=entry.codec.packet,
                    indices=np.asarray(indices, dtype=np.int64),
                    seq_count=(records["_psc"] & 0x3FFF).astype(np.int64),
                    generation_time=((day - CDS_UNIX_DAY_OFFSET) * MS_PER_DAY + ms) / 1000.0,
                    msg_counter=records["_mc"].astype(np.int64),
                    samples=entry.codec.decode_buffer(
                        joined, len(indices), TM_DATA_OFFSET, entry.length
                    ),
                )
            )
        return TmBatch(
            tuple(groups), tuple(events), tuple(verifications), tuple(others), tuple(rejected)
        )


__all__ = [
    "ARE_YOU_ALIVE",
    "ARE_YOU_ALIVE_REPORT",
    "CommandArgumentError",
    "DecodedEvent",
    "DecodedPacket",
    "DecodedVerification",
    "EncodedCommand",
    "OtherPacket",
    "PacketGroup",
    "RejectedPacket",
    "TmBatch",
    "TmBatchDecoder",
    "UnknownCommandError",
    "VerificationReport",
    "VerificationReportType",
    "argument_errors",
    "build_command_packet",
    "command_def",
    "decode_command",
    "decode_event",
    "decode_event_data",
    "decode_tm",
    "decode_verification",
    "decode_verification_data",
    "encode_are_you_alive_report",
    "encode_command",
    "encode_event",
    "encode_event_data",
    "encode_raw_tm",
    "encode_tm",
    "encode_verification",
    "encode_verification_data",
    "render_message",
    "validate_command_args",
]

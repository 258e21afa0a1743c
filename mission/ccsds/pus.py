"""PUS-C (ECSS-E-ST-70-41C) telemetry and telecommand packets.

TM: primary header (6) + secondary header (14: PUS version 2 and time reference status, service,
subtype, message type counter (16), destination id (16), CDS short time with P-field (7)) + source
data + packet error control (CRC-16, 2).

TC: primary header (6) + secondary header (5: PUS version 2 and acknowledgement flags, service,
subtype, source id (16)) + application data + packet error control (2).

These are the project's own encoders because the ground decodes tens of thousands of packets a
second and needs fixed-offset access; `spacepackets` is used in the tests as an independent
implementation to check them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from mission.ccsds.crc import CRC_INIT, crc16
from mission.ccsds.errors import CrcError, HeaderFieldError, LengthMismatchError, TruncatedError
from mission.ccsds.spacepacket import (
    PRIMARY_HEADER_LEN,
    SEQ_COUNT_MODULO,
    PacketType,
    SequenceFlags,
    SpacePacketHeader,
)
from mission.ccsds.timecode import CDS_PFIELD, CDS_SHORT_LEN, cds_pack, cds_unpack

PUS_VERSION: Final = 2
TM_SEC_HEADER_LEN: Final = 7 + CDS_SHORT_LEN
TM_HEADER_LEN: Final = PRIMARY_HEADER_LEN + TM_SEC_HEADER_LEN  # 20
TC_SEC_HEADER_LEN: Final = 5
TC_HEADER_LEN: Final = PRIMARY_HEADER_LEN + TC_SEC_HEADER_LEN  # 11
PEC_LEN: Final = 2
TM_MIN_LEN: Final = TM_HEADER_LEN + PEC_LEN
TC_MIN_LEN: Final = TC_HEADER_LEN + PEC_LEN

# Fixed offsets inside a PUS-C TM packet, for batch decoders.
TM_SERVICE_OFFSET: Final = 7
TM_SUBTYPE_OFFSET: Final = 8
TM_MSG_COUNTER_OFFSET: Final = 9
TM_DEST_ID_OFFSET: Final = 11
TM_TIME_OFFSET: Final = 13  # the CDS P-field
TM_CDS_DAY_OFFSET: Final = 14
TM_CDS_MS_OFFSET: Final = 16
TM_DATA_OFFSET: Final = TM_HEADER_LEN

_TM_SEC: Final = struct.Struct(">BBBHH")
_TC_SEC: Final = struct.Struct(">BBBH")
_U16: Final = struct.Struct(">H")


@dataclass(frozen=True, slots=True)
class TmPacket:
    apid: int
    seq_count: int
    service: int
    subtype: int
    generation_time: float
    data: bytes
    msg_counter: int = 0
    dest_id: int = 0
    seq_flags: SequenceFlags = SequenceFlags.UNSEGMENTED
    time_ref_status: int = 0

    def pack(self) -> bytes:
        return build_tm_packet(
            self.apid,
            self.seq_count,
            self.service,
            self.subtype,
            self.data,
            self.generation_time,
            msg_counter=self.msg_counter,
            dest_id=self.dest_id,
            seq_flags=self.seq_flags,
            time_ref_status=self.time_ref_status,
        )


@dataclass(frozen=True, slots=True)
class TcPacket:
    apid: int
    seq_count: int
    service: int
    subtype: int
    data: bytes
    source_id: int = 0
    ack_flags: int = 0b1111
    seq_flags: SequenceFlags = SequenceFlags.UNSEGMENTED

    @property
    def request_id(self) -> bytes:
        """The four octets that PUS service 1 reports echo: packet id and sequence control."""
        return request_id(self.apid, self.seq_count, self.seq_flags)

    def pack(self) -> bytes:
        return build_tc_packet(
            self.apid,
            self.seq_count,
            self.service,
            self.subtype,
            self.data,
            source_id=self.source_id,
            ack_flags=self.ack_flags,
            seq_flags=self.seq_flags,
        )


def _check_u8(what: str, name: str, value: int) -> None:
    if not 0 <= value <= 0xFF:
        raise HeaderFieldError(what, name, value, "0..255")


def _check_u16(what: str, name: str, value: int) -> None:
    if not 0 <= value <= 0xFFFF:
        raise HeaderFieldError(what, name, value, "0..65535")


def build_tm_packet(
    apid: int,
    seq_count: int,
    service: int,
    subtype: int,
    data: bytes,
    time: float,
    msg_counter: int = 0,
    dest_id: int = 0,
    seq_flags: SequenceFlags = SequenceFlags.UNSEGMENTED,
    time_ref_status: int = 0,
) -> bytes:
    """Encode a PUS-C TM packet with CDS short time and CRC-16 PEC."""
    _check_u8("pus_tm", "service", service)
    _check_u8("pus_tm", "subtype", subtype)
    _check_u16("pus_tm", "msg_counter", msg_counter)
    _check_u16("pus_tm", "dest_id", dest_id)
    if not 0 <= time_ref_status <= 0xF:
        raise HeaderFieldError("pus_tm", "time_ref_status", time_ref_status, "0..15")
    header = SpacePacketHeader(
        packet_type=PacketType.TM,
        apid=apid,
        seq_count=seq_count % SEQ_COUNT_MODULO,
        data_length=TM_SEC_HEADER_LEN + len(data) + PEC_LEN - 1,
        seq_flags=seq_flags,
    )
    body = b"".join(
        (
            header.pack(),
            _TM_SEC.pack(
                (PUS_VERSION << 4) | time_ref_status, service, subtype, msg_counter, dest_id
            ),
            cds_pack(time),
            data,
        )
    )
    return body + _U16.pack(crc16(body))


def parse_tm_packet(buf: bytes | bytearray | memoryview, check_crc: bool = True) -> TmPacket:
    """Decode one complete PUS-C TM packet; ``buf`` must hold exactly that packet."""
    if len(buf) < TM_MIN_LEN:
        raise TruncatedError("pus_tm", TM_MIN_LEN, len(buf))
    hdr = SpacePacketHeader.unpack(buf)
    if hdr.packet_length != len(buf):
        raise LengthMismatchError("pus_tm", hdr.packet_length, len(buf))
    if hdr.packet_type is not PacketType.TM:
        raise HeaderFieldError("pus_tm", "packet_type", int(hdr.packet_type), "0 (TM)")
    if not hdr.sec_header_flag:
        raise HeaderFieldError("pus_tm", "sec_header_flag", 0, "1")
    if check_crc:
        computed = crc16(memoryview(buf)[:-PEC_LEN], CRC_INIT)
        field = _U16.unpack_from(buf, len(buf) - PEC_LEN)[0]
        if computed != field:
            raise CrcError("pus_tm", field, computed)
    vt, service, subtype, msg_counter, dest_id = _TM_SEC.unpack_from(buf, PRIMARY_HEADER_LEN)
    if vt >> 4 != PUS_VERSION:
        raise HeaderFieldError("pus_tm", "pus_version", vt >> 4, str(PUS_VERSION))
    if buf[TM_TIME_OFFSET] != CDS_PFIELD:
        raise HeaderFieldError("pus_tm", "time_p_field", buf[TM_TIME_OFFSET], "0x40")
    return TmPacket(
        apid=hdr.apid,
        seq_count=hdr.seq_count,
        service=service,
        subtype=subtype,
        generation_time=cds_unpack(buf, TM_TIME_OFFSET),
        data=bytes(buf[TM_DATA_OFFSET:-PEC_LEN]),
        msg_counter=msg_counter,
        dest_id=dest_id,
        seq_flags=hdr.seq_flags,
        time_ref_status=vt & 0xF,
    )


def build_tc_packet(
    apid: int,
    seq_count: int,
    service: int,
    subtype: int,
    data: bytes,
    source_id: int = 0,
    ack_flags: int = 0b1111,
    seq_flags: SequenceFlags = SequenceFlags.UNSEGMENTED,
) -> bytes:
    """Encode a PUS-C TC packet with CRC-16 PEC. ``ack_flags`` asks for 1,1 / 1,3 / 1,5 / 1,7."""
    _check_u8("pus_tc", "service", service)
    _check_u8("pus_tc", "subtype", subtype)
    _check_u16("pus_tc", "source_id", source_id)
    if not 0 <= ack_flags <= 0xF:
        raise HeaderFieldError("pus_tc", "ack_flags", ack_flags, "0..15")
    header = SpacePacketHeader(
        packet_type=PacketType.TC,
        apid=apid,
        seq_count=seq_count % SEQ_COUNT_MODULO,
        data_length=TC_SEC_HEADER_LEN + len(data) + PEC_LEN - 1,
        seq_flags=seq_flags,
    )
    body = (
        header.pack()
        + _TC_SEC.pack((PUS_VERSION << 4) | ack_flags, service, subtype, source_id)
        + data
    )
    return body + _U16.pack(crc16(body))


def parse_tc_packet(buf: bytes | bytearray | memoryview, check_crc: bool = True) -> TcPacket:
    """Decode one complete PUS-C TC packet; ``buf`` must hold exactly that packet."""
    if len(buf) < TC_MIN_LEN:
        raise TruncatedError("pus_tc", TC_MIN_LEN, len(buf))
    hdr = SpacePacketHeader.unpack(buf)
    if hdr.packet_length != len(buf):
        raise LengthMismatchError("pus_tc", hdr.packet_length, len(buf))
    if hdr.packet_type is not PacketType.TC:
        raise HeaderFieldError("pus_tc", "packet_type", int(hdr.packet_type), "1 (TC)")
    if not hdr.sec_header_flag:
        raise HeaderFieldError("pus_tc", "sec_header_flag", 0, "1")
    if check_crc:
        computed = crc16(memoryview(buf)[:-PEC_LEN])
        field = _U16.unpack_from(buf, len(buf) - PEC_LEN)[0]
        if computed != field:
            raise CrcError("pus_tc", field, computed)
    va, service, subtype, source_id = _TC_SEC.unpack_from(buf, PRIMARY_HEADER_LEN)
    if va >> 4 != PUS_VERSION:
        raise HeaderFieldError("pus_tc", "pus_version", va >> 4, str(PUS_VERSION))
    return TcPacket(
        apid=hdr.apid,
        seq_count=hdr.seq_count,
        service=service,
        subtype=subtype,
        data=bytes(buf[TC_HEADER_LEN:-PEC_LEN]),
        source_id=source_id,
        ack_flags=va & 0xF,
        seq_flags=hdr.seq_flags,
    )


def request_id(
    apid: int, seq_count: int, seq_flags: SequenceFlags = SequenceFlags.UNSEGMENTED
) -> bytes:
    """PUS request id of a TC: its packet id (version 0, type TC, sec header) and seq control."""
    packet_id = (1 << 12) | (1 << 11) | apid
    return _U16.pack(packet_id) + _U16.pack((int(seq_flags) << 14) | seq_count)


def parse_request_id(buf: bytes | bytearray | memoryview, offset: int = 0) -> tuple[int, int]:
    """Return (apid, seq_count) from a 4-octet request id."""
    if len(buf) - offset < 4:
        raise TruncatedError("request_id", 4, max(0, len(buf) - offset))
    packet_id, seq_ctrl = struct.unpack_from(">HH", buf, offset)
    return packet_id & 0x7FF, seq_ctrl & 0x3FFF

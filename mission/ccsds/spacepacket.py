"""CCSDS Space Packet primary header, CCSDS 133.0-B-2 §4.1.3.

Six octets: version (3 bits, 0), type (1: 0 TM, 1 TC), secondary header flag (1), APID (11),
sequence flags (2), sequence count (14), and the packet data length (16) = octets after the
primary header minus one.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Final, Self

from mission.ccsds.errors import HeaderFieldError, LengthMismatchError, TruncatedError

PRIMARY_HEADER_LEN: Final = 6
IDLE_APID: Final = 0x7FF
MAX_APID: Final = 0x7FF
SEQ_COUNT_MODULO: Final = 1 << 14
MIN_PACKET_LEN: Final = PRIMARY_HEADER_LEN + 1
MAX_PACKET_LEN: Final = PRIMARY_HEADER_LEN + 0x10000
_HDR: Final = struct.Struct(">HHH")


class PacketType(IntEnum):
    TM = 0
    TC = 1


class SequenceFlags(IntEnum):
    CONTINUATION = 0b00
    FIRST_SEGMENT = 0b01
    LAST_SEGMENT = 0b10
    UNSEGMENTED = 0b11


@dataclass(frozen=True, slots=True)
class SpacePacketHeader:
    packet_type: PacketType
    apid: int
    seq_count: int
    data_length: int
    """Octets in the packet data field minus one, as on the wire."""
    sec_header_flag: bool = True
    seq_flags: SequenceFlags = SequenceFlags.UNSEGMENTED
    version: int = 0

    @property
    def packet_length(self) -> int:
        """Total packet length in octets, primary header included."""
        return PRIMARY_HEADER_LEN + self.data_length + 1

    @property
    def packet_id(self) -> int:
        """The first 16 bits: version, type, secondary header flag and APID."""
        return (
            (self.version << 13)
            | (int(self.packet_type) << 12)
            | (int(self.sec_header_flag) << 11)
            | self.apid
        )

    @property
    def seq_ctrl(self) -> int:
        """The second 16 bits: sequence flags and count."""
        return (int(self.seq_flags) << 14) | self.seq_count

    def pack(self) -> bytes:
        if not 0 <= self.apid <= MAX_APID:
            raise HeaderFieldError("space_packet", "apid", self.apid, "0..2047")
        if not 0 <= self.seq_count < SEQ_COUNT_MODULO:
            raise HeaderFieldError("space_packet", "seq_count", self.seq_count, "0..16383")
        if not 0 <= self.data_length <= 0xFFFF:
            raise HeaderFieldError("space_packet", "data_length", self.data_length, "0..65535")
        return _HDR.pack(self.packet_id, self.seq_ctrl, self.data_length)

    @classmethod
    def unpack(cls, buf: bytes | bytearray | memoryview, offset: int = 0) -> Self:
        if len(buf) - offset < PRIMARY_HEADER_LEN:
            raise TruncatedError(
                "space_packet_header", PRIMARY_HEADER_LEN, max(0, len(buf) - offset)
            )
        word0, word1, data_length = _HDR.unpack_from(buf, offset)
        version = word0 >> 13
        if version != 0:
            raise HeaderFieldError("space_packet", "version", version, "0")
        return cls(
            packet_type=PacketType((word0 >> 12) & 1),
            apid=word0 & 0x7FF,
            seq_count=word1 & 0x3FFF,
            data_length=data_length,
            sec_header_flag=bool((word0 >> 11) & 1),
            seq_flags=SequenceFlags(word1 >> 14),
            version=version,
        )


def peek_packet_length(buf: bytes | bytearray | memoryview, offset: int = 0) -> int:
    """Total length of the packet starting at ``offset`` (needs its 6 header octets)."""
    if len(buf) - offset < PRIMARY_HEADER_LEN:
        raise TruncatedError("space_packet_header", PRIMARY_HEADER_LEN, max(0, len(buf) - offset))
    return PRIMARY_HEADER_LEN + 1 + int.from_bytes(buf[offset + 4 : offset + 6], "big")


def check_packet_length(buf: bytes | bytearray | memoryview, what: str = "space_packet") -> None:
    """Raise unless ``buf`` is exactly one packet as its length field says."""
    expected = peek_packet_length(buf)
    if expected != len(buf):
        raise LengthMismatchError(what, expected, len(buf))


def idle_packet(length: int, seq_count: int = 0, fill: int = 0x55) -> bytes:
    """An idle packet (APID 0x7FF) of exactly ``length`` octets (at least 7)."""
    if length < MIN_PACKET_LEN:
        raise HeaderFieldError("idle_packet", "length", length, f">= {MIN_PACKET_LEN}")
    header = SpacePacketHeader(
        packet_type=PacketType.TM,
        apid=IDLE_APID,
        seq_count=seq_count % SEQ_COUNT_MODULO,
        data_length=length - PRIMARY_HEADER_LEN - 1,
        sec_header_flag=False,
    )
    return header.pack() + bytes([fill]) * (length - PRIMARY_HEADER_LEN)

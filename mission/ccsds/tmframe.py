"""TM Transfer Frame, CCSDS 132.0-B-3.

Fixed length per spacecraft (1115 octets by default): a 6-octet primary header, no secondary
header, the data field of Space Packets placed by the first header pointer, a 4-octet Operational
Control Field carrying a CLCW, and a 2-octet Frame Error Control Field (CRC-16-CCITT).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from mission.ccsds.clcw import CLCW_LEN, Clcw
from mission.ccsds.crc import crc16
from mission.ccsds.errors import CrcError, HeaderFieldError, LengthMismatchError, TruncatedError

TM_PRIMARY_HEADER_LEN: Final = 6
FECF_LEN: Final = 2
DEFAULT_FRAME_LEN: Final = 1115
FHP_NO_PACKET_START: Final = 0x7FF
"""No packet starts in this frame: it holds the continuation of an earlier one."""
FHP_IDLE: Final = 0x7FE
"""The frame holds only idle data (an OID frame)."""
MAX_SCID: Final = 0x3FF
SEGMENT_LENGTH_ID: Final = 0b11  # required when the synchronisation flag is 0
_HDR: Final = struct.Struct(">HBBH")


def data_field_length(frame_length: int, ocf: bool = True, fecf: bool = True) -> int:
    """Octets of the frame data field for a frame of ``frame_length`` octets."""
    trailer = (CLCW_LEN if ocf else 0) + (FECF_LEN if fecf else 0)
    return frame_length - TM_PRIMARY_HEADER_LEN - trailer


@dataclass(frozen=True, slots=True)
class TmFrame:
    scid: int
    vcid: int
    mc_count: int
    vc_count: int
    first_header_pointer: int
    data: bytes
    clcw: Clcw | None = None
    sec_header_flag: bool = False
    sync_flag: bool = False
    packet_order_flag: bool = False
    segment_length_id: int = SEGMENT_LENGTH_ID
    version: int = 0

    @property
    def is_idle(self) -> bool:
        return self.first_header_pointer == FHP_IDLE

    def pack(self) -> bytes:
        return build_tm_frame(
            self.scid,
            self.vcid,
            self.mc_count,
            self.vc_count,
            self.first_header_pointer,
            self.data,
            clcw=self.clcw,
        )


def build_tm_frame(
    scid: int,
    vcid: int,
    mc_count: int,
    vc_count: int,
    first_header_pointer: int,
    data: bytes | bytearray,
    clcw: Clcw | None = None,
    fecf: bool = True,
) -> bytes:
    """Encode a TM transfer frame. The data field length fixes the frame length."""
    if not 0 <= scid <= MAX_SCID:
        raise HeaderFieldError("tm_frame", "scid", scid, f"0..{MAX_SCID}")
    if not 0 <= vcid <= 7:
        raise HeaderFieldError("tm_frame", "vcid", vcid, "0..7")
    if not 0 <= first_header_pointer <= 0x7FF:
        raise HeaderFieldError("tm_frame", "first_header_pointer", first_header_pointer, "0..2047")
    word0 = (scid << 4) | (vcid << 1) | int(clcw is not None)
    status = (SEGMENT_LENGTH_ID << 11) | first_header_pointer
    parts = [_HDR.pack(word0, mc_count & 0xFF, vc_count & 0xFF, status), bytes(data)]
    if clcw is not None:
        parts.append(clcw.pack())
    body = b"".join(parts)
    if fecf:
        body += crc16(body).to_bytes(2, "big")
    return body


def parse_tm_frame(
    buf: bytes | bytearray | memoryview,
    frame_length: int | None = DEFAULT_FRAME_LEN,
    check_crc: bool = True,
    fecf: bool = True,
) -> TmFrame:
    """Decode a TM transfer frame, checking its length and its FECF."""
    n = len(buf)
    if frame_length is not None and n != frame_length:
        if n < frame_length:
            raise TruncatedError("tm_frame", frame_length, n)
        raise LengthMismatchError("tm_frame", frame_length, n)
    trailer = FECF_LEN if fecf else 0
    if n < TM_PRIMARY_HEADER_LEN + trailer + 1:
        raise TruncatedError("tm_frame", TM_PRIMARY_HEADER_LEN + trailer + 1, n)
    if fecf and check_crc:
        computed = crc16(memoryview(buf)[:-FECF_LEN])
        field = int.from_bytes(buf[-FECF_LEN:], "big")
        if computed != field:
            raise CrcError("tm_frame", field, computed)
    word0, mc_count, vc_count, status = _HDR.unpack_from(buf, 0)
    version = word0 >> 14
    if version != 0:
        raise HeaderFieldError("tm_frame", "version", version, "0 (TM transfer frame)")
    sec_header_flag = bool(status >> 15)
    if sec_header_flag:
        raise HeaderFieldError("tm_frame", "sec_header_flag", 1, "0 (no secondary header)")
    ocf = bool(word0 & 1)
    end = n - trailer
    clcw: Clcw | None = None
    if ocf:
        end -= CLCW_LEN
        if end < TM_PRIMARY_HEADER_LEN:
            raise TruncatedError("tm_frame", TM_PRIMARY_HEADER_LEN + CLCW_LEN + trailer, n)
        clcw = Clcw.unpack(buf, end)
    return TmFrame(
        scid=(word0 >> 4) & MAX_SCID,
        vcid=(word0 >> 1) & 0b111,
        mc_count=mc_count,
        vc_count=vc_count,
        first_header_pointer=status & 0x7FF,
        data=bytes(buf[TM_PRIMARY_HEADER_LEN:end]),
        clcw=clcw,
        sec_header_flag=sec_header_flag,
        sync_flag=bool((status >> 14) & 1),
        packet_order_flag=bool((status >> 13) & 1),
        segment_length_id=(status >> 11) & 0b11,
        version=version,
    )


def peek_scid_vcid(buf: bytes | bytearray | memoryview) -> tuple[int, int]:
    """SCID and VCID of a frame, from its first two octets (for routing before full checks)."""
    if len(buf) < 2:
        raise TruncatedError("tm_frame", TM_PRIMARY_HEADER_LEN, len(buf))
    word0 = (buf[0] << 8) | buf[1]
    return (word0 >> 4) & MAX_SCID, (word0 >> 1) & 0b111

"""TC Transfer Frame, CCSDS 232.0-B-4.

A 5-octet primary header (version 0, bypass flag, control command flag, SCID (10), VCID (6), frame
length − 1 (10), frame sequence number N(S) (8)), the data field (here one PUS-C TC packet, no
segment header), and a 2-octet FECF. Type-BD frames (bypass, data) are what the ground sends;
Type-AD with COP-1 sequence control is the next step.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from mission.ccsds.crc import crc16
from mission.ccsds.errors import CrcError, HeaderFieldError, LengthMismatchError, TruncatedError

TC_PRIMARY_HEADER_LEN: Final = 5
TC_FECF_LEN: Final = 2
TC_MAX_FRAME_LEN: Final = 1024
_HDR: Final = struct.Struct(">HHB")


@dataclass(frozen=True, slots=True)
class TcFrame:
    scid: int
    vcid: int
    seq_num: int
    data: bytes
    bypass: bool = True
    control_command: bool = False
    version: int = 0

    def pack(self) -> bytes:
        return build_tc_frame(
            self.scid,
            self.vcid,
            self.data,
            seq_num=self.seq_num,
            bypass=self.bypass,
            control_command=self.control_command,
        )


def build_tc_frame(
    scid: int,
    vcid: int,
    data: bytes,
    seq_num: int = 0,
    bypass: bool = True,
    control_command: bool = False,
) -> bytes:
    """Encode a TC transfer frame with FECF."""
    if not 0 <= scid <= 0x3FF:
        raise HeaderFieldError("tc_frame", "scid", scid, "0..1023")
    if not 0 <= vcid <= 0x3F:
        raise HeaderFieldError("tc_frame", "vcid", vcid, "0..63")
    length = TC_PRIMARY_HEADER_LEN + len(data) + TC_FECF_LEN
    if length > TC_MAX_FRAME_LEN:
        raise HeaderFieldError("tc_frame", "frame_length", length, f"<= {TC_MAX_FRAME_LEN}")
    word0 = (int(bypass) << 13) | (int(control_command) << 12) | scid
    word1 = (vcid << 10) | (length - 1)
    body = _HDR.pack(word0, word1, seq_num & 0xFF) + data
    return body + crc16(body).to_bytes(2, "big")


def parse_tc_frame(buf: bytes | bytearray | memoryview, check_crc: bool = True) -> TcFrame:
    """Decode a TC transfer frame, checking its length field and FECF."""
    n = len(buf)
    if n < TC_PRIMARY_HEADER_LEN + TC_FECF_LEN:
        raise TruncatedError("tc_frame", TC_PRIMARY_HEADER_LEN + TC_FECF_LEN, n)
    word0, word1, seq_num = _HDR.unpack_from(buf, 0)
    version = word0 >> 14
    if version != 0:
        raise HeaderFieldError("tc_frame", "version", version, "0")
    length = (word1 & 0x3FF) + 1
    if length != n:
        raise LengthMismatchError("tc_frame", length, n)
    if check_crc:
        computed = crc16(memoryview(buf)[:-TC_FECF_LEN])
        field = int.from_bytes(buf[-TC_FECF_LEN:], "big")
        if computed != field:
            raise CrcError("tc_frame", field, computed)
    return TcFrame(
        scid=word0 & 0x3FF,
        vcid=word1 >> 10,
        seq_num=seq_num,
        data=bytes(buf[TC_PRIMARY_HEADER_LEN:-TC_FECF_LEN]),
        bypass=bool((word0 >> 13) & 1),
        control_command=bool((word0 >> 12) & 1),
        version=version,
    )

"""Communications Link Control Word (CLCW), CCSDS 232.0-B-4 §4.2.1.

Four octets carried in the TM frame's Operational Control Field. It reports the on-board FARM
state for one TC virtual channel: lockout, wait, retransmit, the FARM-B counter and the report
value N(R) (the next expected frame sequence number).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final, Self

from mission.ccsds.errors import HeaderFieldError, TruncatedError

CLCW_LEN: Final = 4
_U32: Final = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class Clcw:
    vcid: int = 0
    report_value: int = 0
    """N(R): the next expected TC frame sequence number."""
    farm_b_counter: int = 0
    no_rf_available: bool = False
    no_bit_lock: bool = False
    lockout: bool = False
    wait: bool = False
    retransmit: bool = False
    status: int = 0
    cop_in_effect: int = 1
    version: int = 0

    def pack(self) -> bytes:
        if not 0 <= self.vcid < 64:
            raise HeaderFieldError("clcw", "vcid", self.vcid, "0..63")
        if not 0 <= self.report_value <= 0xFF:
            raise HeaderFieldError("clcw", "report_value", self.report_value, "0..255")
        word = (
            (0 << 31)  # control word type 0 = CLCW
            | (self.version & 0b11) << 29
            | (self.status & 0b111) << 26
            | (self.cop_in_effect & 0b11) << 24
            | self.vcid << 18
            | int(self.no_rf_available) << 15
            | int(self.no_bit_lock) << 14
            | int(self.lockout) << 13
            | int(self.wait) << 12
            | int(self.retransmit) << 11
            | (self.farm_b_counter & 0b11) << 9
            | self.report_value
        )
        return _U32.pack(word)

    @classmethod
    def unpack(cls, buf: bytes | bytearray | memoryview, offset: int = 0) -> Self:
        if len(buf) - offset < CLCW_LEN:
            raise TruncatedError("clcw", CLCW_LEN, max(0, len(buf) - offset))
        (word,) = _U32.unpack_from(buf, offset)
        if word >> 31:
            raise HeaderFieldError("clcw", "control_word_type", 1, "0 (CLCW)")
        return cls(
            version=(word >> 29) & 0b11,
            status=(word >> 26) & 0b111,
            cop_in_effect=(word >> 24) & 0b11,
            vcid=(word >> 18) & 0x3F,
            no_rf_available=bool((word >> 15) & 1),
            no_bit_lock=bool((word >> 14) & 1),
            lockout=bool((word >> 13) & 1),
            wait=bool((word >> 12) & 1),
            retransmit=bool((word >> 11) & 1),
            farm_b_counter=(word >> 9) & 0b11,
            report_value=word & 0xFF,
        )

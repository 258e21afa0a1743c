"""CRC-16-CCITT (polynomial 0x1021, initial value 0xFFFF), as TM/TC FECF and PUS PEC use.

``binascii.crc_hqx`` is the C implementation of exactly this CRC (CRC-16/CCITT-FALSE when seeded
with 0xFFFF), so no third-party package is needed on the hot path.
"""

from __future__ import annotations

import binascii
from typing import Final

CRC_INIT: Final = 0xFFFF


def crc16(data: bytes | bytearray | memoryview, init: int = CRC_INIT) -> int:
    """Return the CRC-16-CCITT of ``data``."""
    return binascii.crc_hqx(data, init)


def append_crc(data: bytes | bytearray) -> bytes:
    """Return ``data`` followed by its big-endian CRC-16."""
    return bytes(data) + crc16(data).to_bytes(2, "big")


def crc_ok(data_with_crc: bytes | bytearray | memoryview) -> bool:
    """True when the trailing two octets are the CRC of what precedes them."""
    return binascii.crc_hqx(data_with_crc, CRC_INIT) == 0

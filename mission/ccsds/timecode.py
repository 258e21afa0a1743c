"""CCSDS Day Segmented (CDS) short time code, CCSDS 301.0-B-4 §3.3.

Seven octets: a P-field 0x40 (CDS, agency epoch 1958-01-01, 16-bit day, 32-bit milliseconds of
day, no sub-millisecond field), then the day and the millisecond of day. Inside the code base times
are float seconds since the Unix epoch (UTC, leap seconds ignored as POSIX does), so wire times are
whole milliseconds.
"""

from __future__ import annotations

import struct
from typing import Final

from mission.ccsds.errors import HeaderFieldError, TruncatedError

CDS_PFIELD: Final = 0x40
CDS_SHORT_LEN: Final = 7
CDS_UNIX_DAY_OFFSET: Final = 4383  # days from 1958-01-01 to 1970-01-01
MS_PER_DAY: Final = 86_400_000
_MAX_DAY: Final = 0xFFFF
_STRUCT: Final = struct.Struct(">BHI")


def to_ms(t: float) -> int:
    """Round a Unix time in seconds to whole milliseconds since the Unix epoch."""
    return round(t * 1000.0)


def cds_pack(t: float) -> bytes:
    """Encode a Unix time (s) as CDS short with P-field, rounded to the millisecond."""
    ms_total = to_ms(t) + CDS_UNIX_DAY_OFFSET * MS_PER_DAY
    day, ms = divmod(ms_total, MS_PER_DAY)
    if not 0 <= day <= _MAX_DAY:
        raise HeaderFieldError("cds_time", "day", day, f"0..{_MAX_DAY} (1958..2137)")
    return _STRUCT.pack(CDS_PFIELD, day, ms)


def cds_unpack(buf: bytes | bytearray | memoryview, offset: int = 0) -> float:
    """Decode a CDS short time with P-field into Unix seconds."""
    if len(buf) - offset < CDS_SHORT_LEN:
        raise TruncatedError("cds_time", CDS_SHORT_LEN, max(0, len(buf) - offset))
    pfield, day, ms = (int(v) for v in _STRUCT.unpack_from(buf, offset))
    if pfield != CDS_PFIELD:
        raise HeaderFieldError("cds_time", "p_field", pfield, "0x40 (CDS, 16-bit day, ms)")
    if ms >= MS_PER_DAY:
        raise HeaderFieldError("cds_time", "ms_of_day", ms, f"< {MS_PER_DAY}")
    return ((day - CDS_UNIX_DAY_OFFSET) * MS_PER_DAY + ms) / 1000.0

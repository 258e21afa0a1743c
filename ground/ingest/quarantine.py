"""Quarantine: what ingest could not use, kept with its topic, reason, detail and reception time.

Reasons are short machine-readable labels, also used as counter and metric labels:

- message level: ``bad_topic`` (not a downlink topic), ``unknown_spacecraft`` (a spacecraft name
  the mission database does not know);
- frame level: the ``reason`` of the :class:`~mission.ccsds.ProtocolError` raised by the frame
  checks (``truncated``, ``length_mismatch``, ``crc``, ``bad_header``, ``unknown_scid``), plus
  ``spacecraft_mismatch`` (the frame's SCID is not the topic's spacecraft) and
  ``duplicate_frame_count`` (a different frame with the virtual-channel count just seen);
- packet level: ``packet_`` + the reason of the packet's error (``packet_crc``,
  ``packet_unknown_apid``, ``packet_unknown_packet``, ``packet_length_mismatch``, ...).
"""

from __future__ import annotations

from typing import Final

from ground.archive import QuarantineRecord
from mission.ccsds.errors import ProtocolError

BAD_TOPIC: Final = "bad_topic"
UNKNOWN_SPACECRAFT: Final = "unknown_spacecraft"
SPACECRAFT_MISMATCH: Final = "spacecraft_mismatch"
DUPLICATE_FRAME_COUNT: Final = "duplicate_frame_count"
PACKET_PREFIX: Final = "packet_"
MAX_DETAIL: Final = 500


def packet_reason(error: ProtocolError) -> str:
    """The quarantine reason of a bad packet inside a good frame."""
    return PACKET_PREFIX + error.reason


def record(
    reception_time: float, topic: str, reason: str, detail: str, payload: bytes
) -> QuarantineRecord:
    """A quarantine record (the detail is cut to ``MAX_DETAIL`` characters)."""
    return QuarantineRecord(
        reception_time=reception_time,
        topic=topic,
        reason=reason,
        detail=detail[:MAX_DETAIL],
        payload=payload,
    )

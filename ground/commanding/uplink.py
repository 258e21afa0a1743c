"""Telecommand encoding for the uplink: a PUS-C TC packet in a TC transfer frame.

- The packet (CCSDS 133.0-B-2 + PUS-C secondary header): the command's APID, a 14-bit sequence
  count per APID (kept by :class:`SequenceCounters`; with the APID it is the request id that the
  on-board service 1 reports echo), service, subtype, the ground's source id, all four
  acknowledgement flags (so that 1,1, 1,3 and 1,7 are reported), the application data and the
  CRC-16 packet error control.
- The frame (CCSDS 232.0-B-4): the vehicle's SCID, virtual channel 0, FECF. In BD mode (bypass,
  Type-BD) one running frame sequence number N(S) per vehicle (8 bits, wrapping); in AD mode
  (Type-AD, sequence-controlled) the FOP-1 assigns N(S) and retransmits (``ground.commanding.fop``);
  Type-BC frames carry its Unlock and Set V(R) directives.

The frame goes out on ``lupex/v1/uplink/{station}/{spacecraft}`` at QoS 1.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from mission.ccsds.errors import HeaderFieldError
from mission.ccsds.pus import build_tc_packet
from mission.ccsds.spacepacket import SEQ_COUNT_MODULO
from mission.ccsds.tcframe import build_tc_frame

TC_VCID: Final = 0
ALL_ACKNOWLEDGEMENTS: Final = 0b1111
FRAME_SEQ_MODULO: Final = 256
GROUND_SOURCE_ID: Final = 1
"""The PUS source id of telecommands from this ground segment."""


class SequenceCounters:
    """Packet sequence counts per APID and frame sequence numbers per vehicle (thread-safe)."""

    def __init__(self) -> None:
        self._packet: dict[int, int] = {}
        self._frame: dict[str, int] = {}
        self._lock = threading.Lock()

    def next_packet(self, apid: int) -> int:
        with self._lock:
            value = self._packet.get(apid, 0)
            self._packet[apid] = (value + 1) % SEQ_COUNT_MODULO
            return value

    def next_frame(self, vehicle: str) -> int:
        with self._lock:
            value = self._frame.get(vehicle, 0)
            self._frame[vehicle] = (value + 1) % FRAME_SEQ_MODULO
            return value

    def peek_frame(self, vehicle: str) -> int:
        """The N(S) the next frame to ``vehicle`` will carry."""
        with self._lock:
            return self._frame.get(vehicle, 0)

    def frames_sent(self) -> dict[str, int]:
        with self._lock:
            return dict(self._frame)

    def resume(self, used: Iterable[tuple[int, int | None, str, int | None]]) -> None:
        """Continue after the counts already used: ``(apid, seq_count, vehicle, frame_seq)``.

        Called at start with the archive's recent commands, so a restarted ground does not reuse
        a request id that an on-board report may still echo.
        """
        with self._lock:
            for apid, seq, vehicle, frame in used:
                if seq is not None:
                    self._packet[apid] = (seq + 1) % SEQ_COUNT_MODULO
                if frame is not None:
                    self._frame[vehicle] = (frame + 1) % FRAME_SEQ_MODULO


@dataclass(frozen=True, slots=True)
class EncodedTc:
    packet: bytes
    frame: bytes
    seq_count: int
    frame_seq: int


def encode_tc(
    *,
    scid: int,
    apid: int,
    service: int,
    subtype: int,
    app_data: bytes,
    seq_count: int,
    frame_seq: int,
    source_id: int = GROUND_SOURCE_ID,
    max_frame_length: int | None = None,
    bypass: bool = True,
) -> EncodedTc:
    """The TC packet and the frame that carries it (``HeaderFieldError`` when it cannot fit).

    ``bypass``: a Type-BD frame (the default); False: Type-AD, for the FOP-1 (``ground.commanding.
    fop``), which assigns the N(S) when it transmits (:func:`ad_frame`)."""
    packet = build_tc_packet(
        apid,
        seq_count,
        service,
        subtype,
        app_data,
        source_id=source_id,
        ack_flags=ALL_ACKNOWLEDGEMENTS,
    )
    frame = build_tc_frame(scid, TC_VCID, packet, seq_num=frame_seq, bypass=bypass)
    if max_frame_length is not None and len(frame) > max_frame_length:
        raise HeaderFieldError("tc_frame", "frame_length", len(frame), f"<= {max_frame_length}")
    return EncodedTc(packet=packet, frame=frame, seq_count=seq_count, frame_seq=frame_seq)


def ad_frame(scid: int, packet: bytes, frame_seq: int) -> bytes:
    """A Type-AD (sequence-controlled) TC frame carrying ``packet`` with N(S) = ``frame_seq``."""
    return build_tc_frame(scid, TC_VCID, packet, seq_num=frame_seq, bypass=False)


def bc_frame(scid: int, directive: bytes, frame_seq: int) -> bytes:
    """A Type-BC frame carrying a COP-1 control command (Unlock, Set V(R))."""
    return build_tc_frame(
        scid, TC_VCID, directive, seq_num=frame_seq, bypass=True, control_command=True
    )

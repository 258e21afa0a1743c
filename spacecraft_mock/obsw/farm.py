"""TC frame reception: checks (FECF, SCID, length), FARM-1 for Type-AD, FARM-B, and the CLCW.

CCSDS 232.0-B-4 / 232.1-B-2 (COP-1). Type-AD frames go through FARM-1 (sequence-controlled:
accepted when N(S) = V(R), then V(R) advances; a gap sets retransmit, a frame outside the window
sets lockout). Type-BD frames bypass the sequence check and advance the FARM-B counter. Type-BC
frames carry the Unlock and Set V(R) directives.

Mission convention for bypass frames: while the FARM has seen no sequence-controlled traffic (no
Type-AD frame accepted and no Set V(R) since power-on), the report value becomes N(S) + 1 of the
last accepted BD frame, so that a ground sending only BD frames with a running N(S) sees its
commands arrive in the CLCW. Once AD service is in use, BD frames leave V(R) alone, as the standard
says, so that a bypass command never disturbs the FOP-1's sequence.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from mission.ccsds import Clcw, ProtocolError, TcFrame, parse_tc_frame

FARM_WINDOW: Final = 10
"""FARM-1 positive/negative window width W."""
UNLOCK: Final = b"\x00"
SET_VR_PREFIX: Final = b"\x82\x00"


class FrameVerdict(StrEnum):
    ACCEPTED = "accepted"
    BAD_FRAME = "bad_frame"  # FECF, length, version
    WRONG_SCID = "wrong_scid"
    TOO_LONG = "too_long"
    DISCARDED = "discarded"  # FARM-1 refused it (out of sequence, lockout)
    CONTROL = "control"  # a BC directive, executed


@dataclass(frozen=True, slots=True)
class FrameResult:
    verdict: FrameVerdict
    frame: TcFrame | None = None
    reason: str = ""


class Farm:
    """The receiving end of COP-1 for one spacecraft, and its CLCW."""

    def __init__(self, scid: int, max_frame_length: int) -> None:
        self.scid = scid
        self.max_frame_length = max_frame_length
        self.v_r = 0
        self.lockout = False
        self.wait = False
        self.retransmit = False
        self.farm_b_counter = 0
        self.frames_received = 0
        self.frames_rejected = 0
        self.last_vcid = 0
        self.no_rf = False
        self.sequenced = False
        """A Type-AD frame or a Set V(R) was accepted since power-on (see the module docstring)."""

    def receive(self, raw: bytes) -> FrameResult:
        """Check one TC frame and run it through the FARM."""
        self.frames_received += 1
        if len(raw) > self.max_frame_length:
            self.frames_rejected += 1
            return FrameResult(FrameVerdict.TOO_LONG, reason=f"{len(raw)} octets")
        try:
            frame = parse_tc_frame(raw)
        except ProtocolError as exc:
            self.frames_rejected += 1
            return FrameResult(FrameVerdict.BAD_FRAME, reason=exc.reason)
        if frame.scid != self.scid:
            self.frames_rejected += 1
            return FrameResult(FrameVerdict.WRONG_SCID, frame, f"scid {frame.scid}")
        self.last_vcid = frame.vcid
        if frame.bypass:
            self.farm_b_counter = (self.farm_b_counter + 1) & 0b11
            if frame.control_command:
                return self._control(frame)
            if not self.sequenced:
                self.v_r = (frame.seq_num + 1) & 0xFF
            return FrameResult(FrameVerdict.ACCEPTED, frame)
        return self._farm1(frame)

    def _control(self, frame: TcFrame) -> FrameResult:
        if frame.data == UNLOCK:
            self.lockout = self.retransmit = self.wait = False
            return FrameResult(FrameVerdict.CONTROL, frame, "unlock")
        if len(frame.data) == 3 and frame.data[:2] == SET_VR_PREFIX and not self.lockout:
            self.v_r = frame.data[2]
            self.retransmit = self.wait = False
            self.sequenced = True
            return FrameResult(FrameVerdict.CONTROL, frame, "set_vr")
        self.frames_rejected += 1
        return FrameResult(FrameVerdict.DISCARDED, frame, "bad control command")

    def _farm1(self, frame: TcFrame) -> FrameResult:
        if self.lockout:
            return FrameResult(FrameVerdict.DISCARDED, frame, "lockout")
        if self.wait:
            return FrameResult(FrameVerdict.DISCARDED, frame, "wait: no buffer to accept it")
        ahead = (frame.seq_num - self.v_r) & 0xFF
        if ahead == 0:
            self.v_r = (self.v_r + 1) & 0xFF
            self.retransmit = False
            self.sequenced = True
            return FrameResult(FrameVerdict.ACCEPTED, frame)
        if ahead < FARM_WINDOW:
            self.retransmit = True
            return FrameResult(FrameVerdict.DISCARDED, frame, "gap: retransmit")
        if 0xFF - ahead < FARM_WINDOW:
            return FrameResult(FrameVerdict.DISCARDED, frame, "duplicate")
        self.lockout = True
        return FrameResult(FrameVerdict.DISCARDED, frame, "outside the window: lockout")

    def clcw(self) -> Clcw:
        return Clcw(
            vcid=self.last_vcid,
            report_value=self.v_r,
            farm_b_counter=self.farm_b_counter,
            no_rf_available=self.no_rf,
            no_bit_lock=self.no_rf,
            lockout=self.lockout,
            wait=self.wait,
            retransmit=self.retransmit,
        )

    def reset(self) -> None:
        """Power-on state (after a reboot)."""
        self.v_r = 0
        self.lockout = self.wait = self.retransmit = False
        self.sequenced = False
        self.farm_b_counter = 0
        self.frames_received = self.frames_rejected = 0

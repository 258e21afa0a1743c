"""Packets into TM frames and back: virtual-channel multiplexing and packet extraction.

The writer turns a stream of Space Packets per virtual channel into fixed-length TM frames, setting
the first header pointer, letting packets span frames, and filling with idle packets (APID 0x7FF)
on a flush. The extractor reverses it for one virtual channel and reports every octet it could not
place in a packet, with the reason, instead of dropping it silently (like spacepackets'
``ParserResult.skipped_ranges`` and fprime's ``deframe() -> (packet, leftover, discarded)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from mission.ccsds.clcw import Clcw
from mission.ccsds.spacepacket import IDLE_APID, MIN_PACKET_LEN, PRIMARY_HEADER_LEN, idle_packet
from mission.ccsds.tmframe import (
    DEFAULT_FRAME_LEN,
    FHP_IDLE,
    FHP_NO_PACKET_START,
    TmFrame,
    build_tm_frame,
    data_field_length,
    parse_tm_frame,
)

IDLE_VCID: Final = 7


class TmFrameWriter:
    """Multiplexes packets of several virtual channels into the TM frames of one spacecraft."""

    def __init__(
        self,
        scid: int,
        frame_length: int = DEFAULT_FRAME_LEN,
        clcw_source: Callable[[], Clcw | None] | None = None,
    ) -> None:
        self.scid = scid
        self.frame_length = frame_length
        self.data_length = data_field_length(frame_length)
        self._clcw_source = clcw_source
        self._streams: dict[int, bytearray] = {}
        self._starts: dict[int, list[int]] = {}
        self.mc_count = 0
        self.vc_counts: dict[int, int] = {}
        self._idle_seq = 0

    def pending(self, vcid: int) -> int:
        """Octets waiting on ``vcid`` for a frame that is not complete yet."""
        return len(self._streams.get(vcid, b""))

    def add_packet(self, vcid: int, packet: bytes) -> list[bytes]:
        """Queue one packet on ``vcid``; return the frames it completed (often none)."""
        stream = self._streams.setdefault(vcid, bytearray())
        self._starts.setdefault(vcid, []).append(len(stream))
        stream += packet
        frames: list[bytes] = []
        while len(stream) >= self.data_length:
            frames.append(self._cut(vcid))
        return frames

    def flush(self, vcid: int) -> list[bytes]:
        """Complete a partly filled frame on ``vcid`` with an idle packet and return it.

        When fewer than 7 octets remain, the idle packet spans into the next frame: its tail then
        waits in the stream and the next frame's first header pointer skips it.
        """
        stream = self._streams.get(vcid)
        if not stream:
            return []
        room = self.data_length - len(stream)
        self._idle_seq += 1
        return self.add_packet(vcid, idle_packet(max(room, MIN_PACKET_LEN), self._idle_seq))

    def idle_frame(self, vcid: int = IDLE_VCID) -> bytes:
        """An only-idle-data frame (first header pointer 0x7FE), e.g. to keep the link alive."""
        return self._frame(vcid, FHP_IDLE, b"\x55" * self.data_length)

    def _cut(self, vcid: int) -> bytes:
        stream = self._streams[vcid]
        starts = self._starts[vcid]
        n = self.data_length
        inside = [s for s in starts if s < n]
        fhp = inside[0] if inside else FHP_NO_PACKET_START
        self._starts[vcid] = [s - n for s in starts if s >= n]
        data = bytes(stream[:n])
        del stream[:n]
        return self._frame(vcid, fhp, data)

    def _frame(self, vcid: int, fhp: int, data: bytes) -> bytes:
        vc_count = self.vc_counts.get(vcid, 0)
        frame = build_tm_frame(
            self.scid,
            vcid,
            self.mc_count,
            vc_count,
            fhp,
            data,
            clcw=self._clcw_source() if self._clcw_source else Clcw(),
        )
        self.mc_count = (self.mc_count + 1) & 0xFF
        self.vc_counts[vcid] = (vc_count + 1) & 0xFF
        return frame


@dataclass(frozen=True, slots=True)
class Skipped:
    """Octets the extractor could not place in a packet, and why."""

    reason: str
    octets: int


@dataclass(slots=True)
class Extraction:
    packets: list[bytes] = field(default_factory=list)
    idle_packets: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    frame_gap: int = 0
    """Frames missing on this virtual channel before this one (from the VC frame count)."""

    @property
    def skipped_octets(self) -> int:
        return sum(s.octets for s in self.skipped)


class PacketExtractor:
    """Reassembles the packets of one virtual channel from its frames, in order."""

    def __init__(self) -> None:
        self._partial = bytearray()
        self._last_vc_count: int | None = None

    @property
    def partial_octets(self) -> int:
        return len(self._partial)

    def snapshot(self) -> tuple[bytes, int | None]:
        """The state needed to resume after a restart: the partial packet and last VC count."""
        return bytes(self._partial), self._last_vc_count

    def restore(self, partial: bytes, last_vc_count: int | None) -> None:
        self._partial = bytearray(partial)
        self._last_vc_count = last_vc_count

    def feed_frame(self, frame: TmFrame) -> Extraction:
        return self.feed(frame.data, frame.first_header_pointer, frame.vc_count)

    def feed(
        self, data: bytes, first_header_pointer: int, vc_count: int | None = None
    ) -> Extraction:
        out = Extraction()
        if vc_count is not None:
            last = self._last_vc_count
            if last is not None:
                gap = (vc_count - last - 1) & 0xFF
                if gap:
                    out.frame_gap = gap
                    self._drop_partial(out, "frame_gap")
            self._last_vc_count = vc_count
        fhp = first_header_pointer
        n = len(data)
        if fhp == FHP_IDLE:
            self._drop_partial(out, "interrupted")
            return out
        if fhp != FHP_NO_PACKET_START and fhp >= n:
            self._drop_partial(out, "bad_first_header_pointer")
            out.skipped.append(Skipped("bad_first_header_pointer", n))
            return out
        region_end = n if fhp == FHP_NO_PACKET_START else fhp
        if self._partial:
            self._continue_partial(data, region_end, fhp, out)
        elif region_end:
            out.skipped.append(Skipped("no_packet_start", region_end))
        if fhp != FHP_NO_PACKET_START:
            self._split(data, fhp, out)
        return out

    def _drop_partial(self, out: Extraction, reason: str) -> None:
        if self._partial:
            out.skipped.append(Skipped(reason, len(self._partial)))
            self._partial.clear()

    def _continue_partial(self, data: bytes, region_end: int, fhp: int, out: Extraction) -> None:
        partial = self._partial
        if len(partial) < PRIMARY_HEADER_LEN:
            take = min(PRIMARY_HEADER_LEN - len(partial), region_end)
            partial += data[:take]
            if len(partial) < PRIMARY_HEADER_LEN:
                return
            used = take
        else:
            used = 0
        total = PRIMARY_HEADER_LEN + 1 + int.from_bytes(partial[4:6], "big")
        need = total - len(partial)
        available = region_end - used
        if need <= available:
            partial += data[used : used + need]
            self._emit(bytes(partial), out)
            partial.clear()
            rest = available - need
            if rest:
                out.skipped.append(Skipped("first_header_pointer_mismatch", rest))
        elif fhp == FHP_NO_PACKET_START:
            partial += data[used:region_end]
        else:
            out.skipped.append(Skipped("first_header_pointer_mismatch", len(partial) + available))
            partial.clear()

    def _split(self, data: bytes, pos: int, out: Extraction) -> None:
        n = len(data)
        while pos < n:
            if n - pos < PRIMARY_HEADER_LEN:
                self._partial += data[pos:]
                return
            length = PRIMARY_HEADER_LEN + 1 + ((data[pos + 4] << 8) | data[pos + 5])
            end = pos + length
            if end > n:
                self._partial += data[pos:]
                return
            self._emit(data[pos:end], out)
            pos = end

    @staticmethod
    def _emit(packet: bytes, out: Extraction) -> None:
        if ((packet[0] & 0x07) << 8 | packet[1]) == IDLE_APID:
            out.idle_packets += 1
        else:
            out.packets.append(packet)


@dataclass(frozen=True, slots=True)
class ReadResult:
    frame: TmFrame
    extraction: Extraction


class TmFrameReader:
    """Frame checks plus per-virtual-channel extraction for one spacecraft's frame stream."""

    def __init__(self, frame_length: int = DEFAULT_FRAME_LEN) -> None:
        self.frame_length = frame_length
        self.extractors: dict[tuple[int, int], PacketExtractor] = {}

    def read(self, buf: bytes) -> ReadResult:
        """Parse one frame (raising a ProtocolError when it is bad) and extract its packets."""
        frame = parse_tm_frame(buf, self.frame_length)
        key = (frame.scid, frame.vcid)
        extractor = self.extractors.get(key)
        if extractor is None:
            extractor = self.extractors[key] = PacketExtractor()
        return ReadResult(frame, extractor.feed_frame(frame))

"""Packet sequence checks per APID, modulo 2¹⁴, tolerant of virtual-channel interleaving.

A spacecraft counts packets per APID, but one APID's packets may travel on several virtual
channels (here: an instrument's housekeeping on VC 0, its science on VC 1), and a VC's frame
leaves only when it is full. Packets of one APID therefore arrive slightly out of order, and a
check "each count is the previous plus one" in reception order would report gaps that are not.

So each APID keeps a sliding window of ``window`` counts behind the highest count received (the
*head*). Counts inside the window may still arrive; a count that falls out of the window
(the head moved more than ``window`` past it) without having arrived is declared **missing**.
A count that arrives after its slot left the window is **late**; one received a second time
(different generation time: deduplication already removed exact copies) is a **repeat**. A count
far behind the window (more than ``reset_distance``) means the on-board counter restarted: the
stream **resets** to it. All arithmetic is modulo 16,384 (the counter wraps).

Played-back packets (a playback VC) carry old counts and are not checked here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

MODULO: Final = 1 << 14
MASK: Final = MODULO - 1
HALF: Final = MODULO // 2
DEFAULT_WINDOW: Final = 256
CHUNK: Final = 4096


@dataclass(slots=True)
class SequenceResult:
    """What one call of :meth:`SequenceTracker.feed` found."""

    missing: int = 0
    """Counts declared missing (left the window without arriving)."""
    gaps: int = 0
    """Runs of consecutive missing counts."""
    late: int = 0
    repeats: int = 0
    resets: int = 0

    def add(self, other: SequenceResult) -> None:
        self.missing += other.missing
        self.gaps += other.gaps
        self.late += other.late
        self.repeats += other.repeats
        self.resets += other.resets

    @property
    def anomalies(self) -> bool:
        return bool(self.missing or self.late or self.repeats or self.resets)


class _Stream:
    __slots__ = ("assumed", "frontier", "head", "in_gap", "received")

    def __init__(self, frontier: int) -> None:
        self.frontier = frontier & MASK
        """The last count already decided (received or declared missing)."""
        self.head = 0
        """Offset of the highest count received, from the frontier."""
        self.received = np.zeros(MODULO, dtype=bool)
        self.assumed = np.zeros(MODULO, dtype=bool)
        """Counts before the first one seen: assumed received, silently accepted if they come."""
        self.in_gap = False
        """Whether the frontier count was declared missing (a gap may go on in the next call)."""

    @classmethod
    def starting_at(cls, first: int, window: int) -> _Stream:
        """A new stream whose first count is ``first``: the window before it is assumed."""
        stream = cls(first - 1 - window)
        if window:
            slots = (stream.frontier + 1 + np.arange(window)) & MASK
            stream.received[slots] = True
            stream.assumed[slots] = True
            stream.head = window
        return stream


class SequenceTracker:
    """Per-APID windows (see the module docstring)."""

    def __init__(self, window: int = DEFAULT_WINDOW, reset_distance: int | None = None) -> None:
        if not 0 <= window < HALF // 2:
            msg = f"window must be in 0..{HALF // 2 - 1}, not {window}"
            raise ValueError(msg)
        self.window = window
        self.reset_distance = reset_distance if reset_distance is not None else 4 * window + 64
        self.streams: dict[int, _Stream] = {}

    def feed(self, apid: int, seqs: NDArray[np.int64]) -> SequenceResult:
        """Check the counts of one APID, in reception order."""
        result = SequenceResult()
        start = 0
        n = len(seqs)
        while start < n:
            chunk = np.asarray(seqs[start : start + CHUNK], dtype=np.int64) & MASK
            start += self._feed(apid, chunk, result)
        return result

    def _feed(self, apid: int, seqs: NDArray[np.int64], result: SequenceResult) -> int:
        """Feed a prefix of ``seqs``; return how many counts were consumed."""
        stream = self.streams.get(apid)
        if stream is None:
            stream = self.streams[apid] = _Stream.starting_at(int(seqs[0]), self.window)
        offsets = (seqs - stream.frontier) & MASK
        ahead = (offsets >= 1) & (offsets <= HALF)
        consumed = len(seqs)
        if not bool(ahead.all()):
            first_behind = int(np.argmin(ahead))
            behind_by = (stream.frontier - int(seqs[first_behind])) & MASK
            if behind_by > self.reset_distance:
                # The counter restarted: decide the window now, restart at this count.
                if first_behind:
                    self._mark(stream, offsets[:first_behind], result)
                self._finalize(stream, stream.head, result)
                result.resets += 1
                self.streams[apid] = _Stream.starting_at(int(seqs[first_behind]), self.window)
                return first_behind
            result.late += 1
            keep = np.ones(len(seqs), dtype=bool)
            keep[first_behind] = False
            consumed = first_behind + 1
            offsets = offsets[:consumed][keep[:consumed]]
        self._mark(stream, offsets, result)
        if stream.head > self.window:
            self._finalize(stream, stream.head - self.window, result)
        return consumed

    @staticmethod
    def _mark(stream: _Stream, offsets: NDArray[np.int64], result: SequenceResult) -> None:
        if not len(offsets):
            return
        slots = (stream.frontier + offsets) & MASK
        already = stream.received[slots] & ~stream.assumed[slots]
        # Counts repeated within this call: how many slots were hit more than once, minus one.
        result.repeats += (
            int(already.sum())
            + len(slots)
            - int(np.count_nonzero(np.bincount(slots, minlength=MODULO)))
        )
        stream.received[slots] = True
        stream.assumed[slots] = False
        stream.head = max(stream.head, int(offsets.max()))

    @staticmethod
    def _finalize(stream: _Stream, count: int, result: SequenceResult) -> None:
        """Decide the ``count`` counts after the frontier."""
        if count <= 0:
            return
        slots = (stream.frontier + 1 + np.arange(count)) & MASK
        missing = ~stream.received[slots]
        n_missing = int(missing.sum())
        if n_missing:
            result.missing += n_missing
            starts = int(missing[0] and not stream.in_gap)
            result.gaps += starts + int((missing[1:] & ~missing[:-1]).sum())
        stream.in_gap = bool(missing[-1])
        stream.received[slots] = False
        stream.assumed[slots] = False
        stream.frontier = (stream.frontier + count) & MASK
        stream.head -= count

    # ------------------------------------------------------------------ restart state
    def snapshot(self) -> dict[str, Any]:
        """JSON-able state: per APID the frontier, the head and the window's received bitmap."""
        out: dict[str, Any] = {}
        for apid, stream in self.streams.items():
            slots = (stream.frontier + 1 + np.arange(stream.head)) & MASK
            bits = np.packbits(stream.received[slots]).tobytes().hex()
            assumed = np.packbits(stream.assumed[slots]).tobytes().hex()
            out[str(apid)] = [stream.frontier, stream.head, bits, assumed, stream.in_gap]
        return out

    def restore(self, saved: Mapping[str, Any]) -> None:
        for key, value in saved.items():
            frontier, head, bits, assumed, in_gap = value
            stream = _Stream(int(frontier))
            stream.head = int(head)
            stream.in_gap = bool(in_gap)
            slots = (stream.frontier + 1 + np.arange(stream.head)) & MASK
            stream.received[slots] = _unpack(bits, stream.head)
            stream.assumed[slots] = _unpack(assumed, stream.head)
            self.streams[int(key)] = stream


def _unpack(hex_bits: str, count: int) -> NDArray[np.bool_]:
    flags = np.unpackbits(np.frombuffer(bytes.fromhex(hex_bits), dtype=np.uint8))[:count]
    return flags.astype(bool)

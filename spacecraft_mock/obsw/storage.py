"""On-board packet store (PUS 15 in spirit) and its playback on virtual channel 2.

During a loss of signal the on-board software writes packets here instead of sending them; the
store is bounded and drops its oldest packets when full. Playback (automatic at acquisition of
signal, or commanded with 15,9) hands stored packets back at a fixed rate to be framed on VC 2,
oldest first, and removes them as they go. Counts are reported in frame equivalents (stored octets
divided by a frame's data field).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Final

STORES: Final = ("HK", "SCIENCE", "EVENTS")


@dataclass(frozen=True, slots=True)
class Stored:
    time: float
    store: str
    packet: bytes


class PacketStore:
    def __init__(self, capacity_bytes: int, frame_data_length: int) -> None:
        self.capacity = capacity_bytes
        self.frame_data_length = frame_data_length
        self._items: deque[Stored] = deque()
        self.used = 0
        self.dropped = 0
        self.playing = False
        self.play_store = "ALL"
        self.play_from = 0.0
        self.play_to = math.inf
        self.played_bytes = 0
        self._full_reported = False

    def __len__(self) -> int:
        return len(self._items)

    @property
    def fill_pct(self) -> float:
        return 100.0 * self.used / self.capacity

    @property
    def frames_stored(self) -> int:
        return math.ceil(self.used / self.frame_data_length)

    @property
    def frames_played_back(self) -> int:
        return math.ceil(self.played_bytes / self.frame_data_length)

    def add(self, time: float, store: str, packet: bytes) -> bool:
        """Store a packet; True the first time the store passes 95 % (report storage_full)."""
        self._items.append(Stored(time, store, packet))
        self.used += len(packet)
        while self.used > self.capacity and self._items:
            old = self._items.popleft()
            self.used -= len(old.packet)
            self.dropped += 1
        if self.fill_pct > 95.0 and not self._full_reported:
            self._full_reported = True
            return True
        if self.fill_pct < 90.0:
            self._full_reported = False
        return False

    def _selected(self, item: Stored) -> bool:
        if self.play_store not in ("ALL", item.store):
            return False
        return self.play_from <= item.time <= self.play_to

    def start_playback(self, store: str = "ALL", start: float = 0.0, end: float = 0.0) -> int:
        """Begin a retrieval; returns the frames it will send (0 = nothing selected)."""
        self.play_store = store
        self.play_from = start
        self.play_to = end if end > 0 else math.inf
        self.played_bytes = 0
        pending = sum(len(i.packet) for i in self._items if self._selected(i))
        self.playing = pending > 0
        return math.ceil(pending / self.frame_data_length)

    def stop_playback(self) -> None:
        self.playing = False

    def take(self, budget_bytes: float) -> list[bytes]:
        """Up to ``budget_bytes`` of selected packets, oldest first (removed from the store)."""
        out: list[bytes] = []
        if not self.playing:
            return out
        keep: deque[Stored] = deque()
        spent = 0
        if self._selects_all():
            while self._items and spent < budget_bytes:
                packet = self._items.popleft().packet
                out.append(packet)
                spent += len(packet)
            self.used -= spent
        while self._items and spent < budget_bytes:
            item = self._items.popleft()
            if self._selected(item):
                out.append(item.packet)
                spent += len(item.packet)
                self.used -= len(item.packet)
            else:
                keep.append(item)
        if keep:
            self._items.extendleft(reversed(keep))
        self.played_bytes += spent
        if self._selects_all():
            self.playing = bool(self._items)
        elif not any(self._selected(i) for i in self._items):
            self.playing = False
        return out

    def _selects_all(self) -> bool:
        return self.play_store == "ALL" and self.play_from <= 0.0 and self.play_to == math.inf

    def clear(self, store: str) -> int:
        """Delete a store's packets; returns the frames deleted."""
        before = self.used
        self._items = deque(i for i in self._items if store not in ("ALL", i.store))
        self.used = sum(len(i.packet) for i in self._items)
        if not self._items:
            self.playing = False
        return math.ceil((before - self.used) / self.frame_data_length)

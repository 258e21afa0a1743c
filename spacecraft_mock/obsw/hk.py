"""Housekeeping and science scheduling (PUS 3,25 and 128,1) at the MDB's periods.

Generation times are multiples of each packet's period counted from the Unix epoch, so they do
not depend on how the world is stepped. A global rate multiplier and per-packet overrides come
from :class:`~spacecraft_mock.config.WorldConfig`; PUS 3,31 changes a period in flight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mission.mdb import MissionDatabase
from spacecraft_mock.config import WorldConfig


@dataclass(slots=True)
class _Entry:
    name: str
    sid: int
    vcid: int
    period: float
    next_due: float
    science: bool


class HkScheduler:
    def __init__(self, db: MissionDatabase, vehicle: str, config: WorldConfig, t0: float) -> None:
        self.entries: dict[str, _Entry] = {}
        for packet in db.packets_for(vehicle):
            period = config.hk_period(packet.name, packet.period)
            self.entries[packet.name] = _Entry(
                packet.name,
                packet.sid,
                packet.vcid,
                period,
                self._first_after(t0, period),
                packet.service != 3,
            )

    @staticmethod
    def _first_after(t: float, period: float) -> float:
        return (math.floor(t / period) + 1) * period

    def by_sid(self, sid: int) -> str | None:
        for entry in self.entries.values():
            if entry.sid == sid:
                return entry.name
        return None

    def set_period(self, name: str, period: float, now: float) -> None:
        entry = self.entries[name]
        entry.period = period
        entry.next_due = self._first_after(now, period)

    def due(self, t_prev: float, t_now: float) -> list[tuple[float, str]]:
        """(generation time, packet) of every packet due in (t_prev, t_now], in time order."""
        out: list[tuple[float, str]] = []
        for entry in self.entries.values():
            if entry.next_due <= t_prev:  # a jump (catch-up): skip what fell before the step
                entry.next_due = self._first_after(t_prev, entry.period)
            while entry.next_due <= t_now + 1e-9:
                out.append((entry.next_due, entry.name))
                entry.next_due += entry.period
        out.sort()
        return out

    def is_science(self, name: str) -> bool:
        return self.entries[name].science

    def vcid(self, name: str) -> int:
        return self.entries[name].vcid

"""The ground's live state, shared by ingest (which writes it) and the API/stream (which read it).

``GroundState`` bundles:

- ``latest``: :class:`LatestValues` — ``get(name) -> ParameterValue | None``, ``all()``,
  ``names()``; values are flagged ``stale`` by the staleness checker;
- ``alarms``: :class:`AlarmManager` — ``all(state=None) -> list[AlarmView]``,
  ``get(id) -> AlarmView`` (``KeyError``), ``acknowledge(id, user, now) -> AlarmView``;
- ``links``: :class:`LinkTable` — ``all() -> list[LinkView]``, ``get(station)``;
- ``counters``: :class:`IngestCounters` — ``as_dict()``: a JSON-able dict of totals (frames,
  packets, samples), errors by reason, per-station and per-virtual-channel counts, duplicates,
  gaps and skipped octets by reason;
- ``events``: ``deque[EventView]`` — the most recent events (bounded);
- ``clock``: :class:`MissionClock` — ``now()`` in mission time, ``speed``;
- ``clcw``: ``dict[str, ReceivedClcw]`` — the latest CLCW per spacecraft name; a
  ``ReceivedClcw`` *is a* :class:`~mission.ccsds.Clcw` with ``reception_time``, ``station`` and
  ``spacecraft`` added;
- ``verification_listeners``: ``list[Callable[[VerificationReport], None]]`` — called by ingest
  for every PUS 1,x report, in order of reception (a listener must return quickly; exceptions are
  logged and counted, never stop ingest).

Build it with :meth:`GroundState.from_mdb`.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ground.model import EventView
from ground.processing.alarms import AlarmManager
from ground.processing.clock import MissionClock
from ground.processing.latest import LatestValues
from ground.processing.limits import LimitCheck, compile_all
from ground.processing.links import LinkTable
from ground.processing.verification import VerificationListener, VerificationReport
from mission.ccsds.clcw import Clcw
from mission.mdb.database import MissionDatabase

log = logging.getLogger("lupex.ground.state")

RECENT_EVENTS: Final = 1000


@dataclass(frozen=True, slots=True)
class ReceivedClcw(Clcw):
    """A CLCW as received: the word's fields plus when, through which station, from whom."""

    reception_time: float = 0.0
    station: str = ""
    spacecraft: str = ""


class IngestCounters:
    """Totals kept by ingest; ``as_dict()`` for the API, ``to_state``/``restore`` for restarts."""

    def __init__(self) -> None:
        self.frames = 0
        self.frames_accepted = 0
        self.packets = 0
        self.samples = 0
        self.events = 0
        self.verification_reports = 0
        self.idle_packets = 0
        self.duplicates = 0
        self.frame_gaps = 0
        self.frame_gap_frames = 0
        self.vc_gaps = 0
        self.vc_gap_frames = 0
        self.packet_gaps = 0
        self.packet_gap_packets = 0
        self.packet_duplicates = 0
        self.packet_out_of_order = 0
        self.quarantined = 0
        self.errors: Counter[str] = Counter()
        self.skipped_octets: Counter[str] = Counter()
        self.per_vc: Counter[str] = Counter()
        """``"<spacecraft>/<vcid>"`` → frames accepted."""
        self.per_apid: Counter[str] = Counter()
        """``"<apid>"`` → packets decoded."""
        self.per_station: Counter[str] = Counter()
        """``station`` → frames received (good or bad)."""
        self.listener_errors = 0

    _SCALARS: Final = (
        "frames",
        "frames_accepted",
        "packets",
        "samples",
        "events",
        "verification_reports",
        "idle_packets",
        "duplicates",
        "frame_gaps",
        "frame_gap_frames",
        "vc_gaps",
        "vc_gap_frames",
        "packet_gaps",
        "packet_gap_packets",
        "packet_duplicates",
        "packet_out_of_order",
        "quarantined",
        "listener_errors",
    )
    _COUNTERS: Final = ("errors", "skipped_octets", "per_vc", "per_apid", "per_station")

    def as_dict(self, links: LinkTable | None = None) -> dict[str, Any]:
        """A JSON-able snapshot (``per_link`` filled from ``links`` when given)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in self._SCALARS}
        for name in self._COUNTERS:
            out[name] = dict(sorted(getattr(self, name).items()))
        out["errors_total"] = sum(self.errors.values())
        out["skipped_octets_total"] = sum(self.skipped_octets.values())
        if links is not None:
            out["per_link"] = links.counts()
        return out

    def to_state(self) -> dict[str, Any]:
        """What ``restore`` needs (saved in the archive with each batch)."""
        return self.as_dict()

    def restore(self, saved: Mapping[str, Any]) -> None:
        for name in self._SCALARS:
            value = saved.get(name)
            if isinstance(value, int):
                setattr(self, name, value)
        for name in self._COUNTERS:
            value = saved.get(name)
            if isinstance(value, dict):
                counter: Counter[str] = getattr(self, name)
                counter.clear()
                counter.update({str(k): int(v) for k, v in value.items()})


@dataclass
class GroundState:
    """Everything live the API and the stream read; see the module docstring."""

    latest: LatestValues
    alarms: AlarmManager
    links: LinkTable
    counters: IngestCounters
    events: deque[EventView]
    clock: MissionClock
    clcw: dict[str, ReceivedClcw] = field(default_factory=dict)
    verification_listeners: list[VerificationListener] = field(default_factory=list)
    limits: Mapping[str, LimitCheck] = field(default_factory=dict)

    @classmethod
    def from_mdb(
        cls,
        mdb: MissionDatabase,
        clock: MissionClock | None = None,
        recent_events: int = RECENT_EVENTS,
    ) -> GroundState:
        limits = compile_all(mdb.parameters)
        types = {name: p.type for name, p in mdb.parameters.items()}
        return cls(
            latest=LatestValues(types, limits),
            alarms=AlarmManager(),
            links=LinkTable(),
            counters=IngestCounters(),
            events=deque(maxlen=recent_events),
            clock=clock or MissionClock(),
            limits=limits,
        )

    def notify_verification(self, report: VerificationReport) -> None:
        """Hand a report to every listener; a failing listener is logged and counted."""
        for listener in list(self.verification_listeners):
            try:
                listener(report)
            except Exception:
                self.counters.listener_errors += 1
                log.exception("verification listener %r failed", listener)

    def add_verification_listener(self, listener: Callable[[VerificationReport], None]) -> None:
        self.verification_listeners.append(listener)

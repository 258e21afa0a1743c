"""A minimal ground for the simulator tests: decode what reaches the stations, remember it.

Frames go through the project's TM frame reader per spacecraft (FECF, virtual channels, packet
extraction); packets through the mission database. Values, alarms (MDB limits), events, PUS 1
reports, frame errors and gaps are kept with their reception (mission) time, so that a test can
ask "did X happen between t1 and t2". It also builds TC frames for the uplink.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from mission.ccsds import Clcw, ProtocolError, TmFrameReader, build_tc_frame, parse_tm_packet
from mission.mdb import (
    DecodedVerification,
    MissionDatabase,
    MonitoringResult,
    build_command_packet,
    check_value,
    decode_event,
    decode_verification,
)
from spacecraft_mock.link import StationMonitor
from spacecraft_mock.world import StepOutput, World


@dataclass(slots=True)
class Received:
    t: float
    """Reception (mission) time."""
    generation_time: float
    value: Any


@dataclass(slots=True)
class GroundProbe:
    db: MissionDatabase
    readers: dict[str, TmFrameReader] = field(default_factory=dict)
    raw_packets: dict[str, list[tuple[float, float, bytes]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    """Packet name -> (reception time, generation time, source data); decoded on demand."""
    _decoded: dict[str, list[tuple[float, float, dict[str, Any]]]] = field(default_factory=dict)
    events: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    reports: list[tuple[float, DecodedVerification]] = field(default_factory=list)
    alive_reports: list[tuple[float, str]] = field(default_factory=list)
    frames: list[tuple[float, str, str, int, int]] = field(default_factory=list)
    """(time, station, spacecraft, vcid, vc_count) of every good frame."""
    corrupted: list[tuple[float, str]] = field(default_factory=list)
    gaps: list[tuple[float, str, int]] = field(default_factory=list)
    resets: list[tuple[float, str]] = field(default_factory=list)
    monitors: dict[str, list[StationMonitor]] = field(default_factory=lambda: defaultdict(list))
    packets: Counter[str] = field(default_factory=Counter)
    clcws: dict[str, list[tuple[float, Clcw]]] = field(default_factory=lambda: defaultdict(list))
    seq_counts: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    _last_seen: dict[str, float] = field(default_factory=dict)
    _last_vc0: dict[str, int] = field(default_factory=dict)

    def feed(self, out: StepOutput) -> None:
        for record in out.monitors:
            self.monitors[record.station].append(record)
        for delivery in out.frames:
            self._frame(delivery.time, delivery.station, delivery.spacecraft, delivery.frame)

    def _frame(self, t: float, station: str, spacecraft: str, raw: bytes) -> None:
        reader = self.readers.setdefault(spacecraft, TmFrameReader())
        try:
            result = reader.read(raw)
        except ProtocolError:
            self.corrupted.append((t, spacecraft))
            return
        frame = result.frame
        if frame.clcw is not None:
            self.clcws[spacecraft].append((t, frame.clcw))
        if frame.vcid == 0:
            last = self._last_vc0.get(spacecraft)
            silent = t - self._last_seen.get(spacecraft, t) > 30.0
            if last is not None and frame.vc_count == 0 and last != 255 and silent:
                self.resets.append((t, spacecraft))
            self._last_vc0[spacecraft] = frame.vc_count
        self._last_seen[spacecraft] = t
        self.frames.append((t, station, spacecraft, frame.vcid, frame.vc_count))
        if result.extraction.frame_gap:
            self.gaps.append((t, spacecraft, result.extraction.frame_gap))
        for packet in result.extraction.packets:
            self._packet(t, packet)

    def _packet(self, t: float, packet: bytes) -> None:
        tm = parse_tm_packet(packet)
        self.seq_counts[tm.apid].append(tm.seq_count)
        if tm.service in (3, 128):
            sid = int.from_bytes(tm.data[:2], "big")
            name = self.db.packet_by_key[(tm.apid, tm.service, tm.subtype, sid)].name
            self.packets[name] += 1
            self.raw_packets[name].append((t, tm.generation_time, tm.data))
            self._decoded.pop(name, None)
        elif tm.service == 5:
            event = decode_event(self.db, packet)
            self.events.append((t, event.name, dict(event.args)))
        elif tm.service == 1:
            self.reports.append((t, decode_verification(self.db, packet)))
        elif tm.service == 17:
            self.alive_reports.append((t, self.db.vehicle_of_apid(tm.apid)))

    # ------------------------------------------------------------------ queries
    def _rows(self, packet: str) -> list[tuple[float, float, dict[str, Any]]]:
        rows = self._decoded.get(packet)
        if rows is None:
            codec = self.db.codecs[packet]
            rows = [
                (t, gen, {k: v.eng_value for k, v in codec.decode_source(data).items()})
                for t, gen, data in self.raw_packets.get(packet, [])
            ]
            self._decoded[packet] = rows
        return rows

    def received(self, name: str) -> list[Received]:
        """Every value of parameter ``name`` received so far, in reception order."""
        packet = self.db.packet_of(name).name
        return [Received(t, gen, values[name]) for t, gen, values in self._rows(packet)]

    def alarms(self, name: str) -> list[tuple[float, MonitoringResult]]:
        param = self.db.parameters[name]
        out: list[tuple[float, MonitoringResult]] = []
        for r in self.received(name):
            result = check_value(param, r.value)
            if result is not MonitoringResult.IN_LIMITS:
                out.append((r.t, result))
        return out

    def all_alarms(self) -> dict[str, list[tuple[float, MonitoringResult]]]:
        return {n: a for n in self.db.parameters if (a := self.alarms(n))}

    def last_value(self, name: str, before: float) -> Any:
        found = [r.value for r in self.received(name) if r.t <= before]
        return found[-1] if found else None

    def samples(self, name: str, start: float, end: float) -> list[Received]:
        return [r for r in self.received(name) if start <= r.t <= end]

    def event_times(self, name: str, start: float, end: float) -> list[float]:
        return [t for t, n, _ in self.events if n == name and start <= t <= end]

    def first_alarm(self, name: str, level: MonitoringResult, start: float) -> float | None:
        for t, result in self.alarms(name):
            if t >= start and result >= level:
                return t
        return None


class Uplink:
    """Builds and sends TC frames (Type-BD, running sequence numbers) like a ground would."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._seq = itertools.count(1)
        self._frame_seq: dict[str, itertools.count[int]] = {}

    def send(
        self, name: str, args: dict[str, Any] | None = None, station: str | None = None
    ) -> tuple[int, int]:
        """Send a command through the prime station now; returns its (apid, seq_count)."""
        db = self.world.db
        vehicle = name.split(".", maxsplit=1)[0]
        seq = next(self._seq) & 0x3FFF
        packet = build_command_packet(db, name, args or {}, seq)
        counter = self._frame_seq.setdefault(vehicle, itertools.count(0))
        frame = build_tc_frame(db.spacecraft[vehicle].scid, 0, packet, seq_num=next(counter) & 0xFF)
        via = station or self.world.link.prime or "dss43"
        self.world.receive_uplink(via, vehicle, frame)
        return db.commands[name].apid, seq


def run(world: World, probe: GroundProbe, until: float, step: float = 5.0) -> None:
    """Advance ``world`` to ``until`` in ``step`` chunks, feeding the probe."""
    while world.t < until - 1e-9:
        probe.feed(world.advance_to(min(until, world.t + step)))

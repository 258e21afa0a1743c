"""One ingest batch, start to finish, without I/O: messages in, an ``ArchiveBatch`` and live updates
out. ``IngestService`` feeds it from MQTT; tests and replay feed it directly.

The processor routes each message by topic: downlink frames go through the frame stage and the
packet stage (``frames.py``, ``decode.py``); station monitor data updates the link table; the sim
status sets the mission clock. It then updates the ``GroundState`` (latest values, events, CLCW),
hands PUS 1 reports to the verification listeners, and assembles everything the archive must
commit in one transaction, including the ingest state (extractor snapshots, sequence counts,
counters) that makes a restart resume exactly where the archive stops.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np

from ground.archive import (
    AlarmRecord,
    ArchiveBatch,
    FrameRecord,
    QuarantineRecord,
    SampleBlock,
    frame_hash,
)
from ground.ingest import quarantine
from ground.ingest.columns import PacketColumns
from ground.ingest.decode import PacketStage
from ground.ingest.frames import FrameStage, dumps_state, header_numbers, loads_state
from ground.metrics import GroundMetrics
from ground.model import (
    AlarmView,
    EventView,
    LinkView,
    LiveSink,
    ParameterValue,
    SampleArrays,
)
from ground.processing.clock import parse_sim_status
from ground.processing.events import event_record
from ground.processing.state import GroundState
from ground.processing.verification import VerificationReport
from mission.mdb.database import MissionDatabase
from mission.topics import ROOT, SIM_STATUS, parse_downlink_topic, parse_link_topic

log = logging.getLogger("lupex.ground.ingest")

DOWNLINK_PREFIX: Final = f"{ROOT}/downlink/"
LINK_PREFIX: Final = f"{ROOT}/link/"
BAD_LINK_MONITOR: Final = "bad_link_monitor"
BAD_SIM_STATUS: Final = "bad_sim_status"
INTERNAL_ERROR: Final = "internal_error"

Message = tuple[str, bytes, float]
"""``(topic, payload, reception_time)``."""


@dataclass(slots=True)
class ProcessedBatch:
    """The result of one batch: what to archive and what to show live.

    ``archive`` holds everything but the packet index, which stays in ``packet_columns`` until
    the archive writer builds the records (``archive_batch()``), off the critical path.
    """

    archive: ArchiveBatch
    packet_columns: PacketColumns = field(default_factory=PacketColumns)
    samples: list[SampleArrays] = field(default_factory=list)
    events: list[EventView] = field(default_factory=list)
    alarms: list[AlarmView] = field(default_factory=list)
    links: list[LinkView] = field(default_factory=list)
    latest: list[ParameterValue] = field(default_factory=list)
    verifications: list[VerificationReport] = field(default_factory=list)
    messages: int = 0
    frames: int = 0
    packets: int = 0
    sample_count: int = 0


def full_batch(archive: ArchiveBatch, columns: PacketColumns) -> ArchiveBatch:
    """``archive`` with the packet index records built from ``columns``."""
    if not len(columns):
        return archive
    return replace(archive, packets=[*archive.packets, *columns.records()])


def alarm_record(view: AlarmView, numeric: Mapping[str, Mapping[str, int]]) -> AlarmRecord:
    """The archive record of an alarm (labels stored as their raw codes, booleans as 0/1)."""
    codes = numeric.get(view.parameter, {})

    def number(value: float | int | str | bool) -> float:
        if isinstance(value, str):
            return float(codes.get(value, -1))
        return float(value)

    return AlarmRecord(
        alarm_id=view.id,
        parameter=view.parameter,
        severity=view.level,
        state=str(view.state),
        trigger_value=number(view.trigger_value),
        trigger_time=view.trigger_time,
        most_severe_value=number(view.most_severe_value),
        most_severe_time=view.most_severe_time,
        acknowledged_by=view.acknowledged_by,
        acknowledged_at=view.acknowledged_at,
        cleared_at=view.cleared_at,
    )


class BatchProcessor:
    """Turns batches of messages into archive batches and live updates (see module doc)."""

    def __init__(
        self,
        mdb: MissionDatabase,
        state: GroundState,
        metrics: GroundMetrics | None = None,
        *,
        state_key: str = "ingest/default",
        recent_hashes: int = 200_000,
    ) -> None:
        self.mdb = mdb
        self.state = state
        self.metrics = metrics
        self.state_key = state_key
        self.frames = FrameStage(mdb, state.counters, recent_hashes)
        self.packets = PacketStage(mdb, state.counters, state.limits, state.alarms)
        self._raised_reported: dict[str, int] = {}
        self._label_codes = {
            name: {label: code for code, label in p.enumeration.items()}
            for name, p in mdb.parameters.items()
            if p.enumeration
        }

    # ------------------------------------------------------------------ restart state
    def snapshot(self) -> bytes:
        """The ingest state to commit with a batch."""
        return dumps_state(
            {
                "frames": self.frames.snapshot(),
                "packets": self.packets.snapshot(),
                "counters": self.state.counters.to_state(),
                "links": self.state.links.counts(),
            }
        )

    def restore(self, blob: bytes | None, frame_hashes: Iterable[bytes] = ()) -> None:
        """Resume from the archive: the last committed state and the recent frame hashes."""
        saved = loads_state(blob)
        self.frames.restore(saved.get("frames", {}))
        self.packets.restore(saved.get("packets", {}))
        self.state.counters.restore(saved.get("counters", {}))
        links = saved.get("links", {})
        if isinstance(links, dict):
            self.state.links.restore_counts(links)
        self.frames.hashes.update(frame_hashes)

    # ------------------------------------------------------------------ processing
    def process(self, messages: Sequence[Message]) -> ProcessedBatch:
        """Process one batch of messages (in reception order)."""
        started = time.perf_counter()
        downlink: list[Message] = []
        other_quarantine: list[QuarantineRecord] = []
        state = self.state
        for message in messages:
            topic = message[0]
            if topic.startswith(DOWNLINK_PREFIX):
                downlink.append(message)
            elif topic.startswith(LINK_PREFIX):
                self._link(message, other_quarantine)
            elif topic == SIM_STATUS:
                self._sim_status(message, other_quarantine)
            else:
                downlink.append(message)  # the frame stage quarantines it as a bad topic
        frames_out = self.frames.process(downlink)
        packets_out = self.packets.process(frames_out)

        events = frames_out.events + packets_out.events
        latest = state.latest.update(packets_out.samples)
        if packets_out.newest_generation_time is not None and messages:
            state.clock.on_generation_time(packets_out.newest_generation_time, messages[-1][2])
        for spacecraft, clcw in frames_out.clcw.items():
            state.clcw[spacecraft] = clcw
        state.events.extend(events)
        for station, counts in self.frames.drain_station_counts().items():
            if station:
                state.links.add_counts(
                    station,
                    frames=counts.frames,
                    bad=counts.bad,
                    gaps=counts.gaps,
                    duplicates=counts.duplicates,
                    last_frame_time=counts.last,
                )
        alarms = state.alarms.drain_changes()

        batch = ArchiveBatch(
            frames=frames_out.frames,
            samples=[
                SampleBlock(
                    s.name, s.generation_times, s.reception_time, s.raw_values, s.eng_values
                )
                for s in packets_out.samples
            ],
            events=[event_record(e) for e in events],
            quarantine=frames_out.quarantine + packets_out.quarantine + other_quarantine,
            alarms=[alarm_record(a, self._label_codes) for a in alarms],
            state={self.state_key: self.snapshot()},
        )
        result = ProcessedBatch(
            archive=batch,
            packet_columns=packets_out.packets,
            samples=packets_out.samples,
            events=events,
            alarms=alarms,
            links=state.links.drain_changed(),
            latest=latest,
            verifications=packets_out.verifications,
            messages=len(messages),
            frames=len(frames_out.frames),
            packets=len(packets_out.packets),
            sample_count=packets_out.sample_count,
        )
        if self.metrics is not None:
            self._metrics(
                result, frames_out.duplicates, frames_out.skipped, time.perf_counter() - started
            )
        return result

    def deliver(self, result: ProcessedBatch, sink: LiveSink) -> None:
        """Hand a batch's live updates to the verification listeners and the sink.

        Call it from the event loop's thread (listeners and sinks may use asyncio objects).
        """
        for report in result.verifications:
            self.state.notify_verification(report)
        if result.samples:
            sink.on_samples(result.samples)
        if result.events:
            sink.on_events(result.events)
        if result.alarms:
            sink.on_alarms(result.alarms)
        if result.links:
            sink.on_links(result.links)

    def failed_batch(self, messages: Sequence[Message], error: BaseException) -> ProcessedBatch:
        """What to archive when processing a batch failed (a bug, not bad input): every message
        raw, as a frame of quality ``internal_error`` and in the quarantine, so nothing is lost."""
        frames = []
        records = []
        detail = f"{type(error).__name__}: {error}"
        for topic, payload, reception_time in messages:
            try:
                station, spacecraft = parse_downlink_topic(topic)
            except ValueError:
                station = spacecraft = ""
            scid, vcid, mc, vc = header_numbers(payload)
            frames.append(
                FrameRecord(
                    reception_time,
                    station,
                    spacecraft,
                    scid,
                    vcid,
                    mc,
                    vc,
                    frame_hash(payload),
                    payload,
                    INTERNAL_ERROR,
                )
            )
            records.append(
                quarantine.record(reception_time, topic, INTERNAL_ERROR, detail, payload)
            )
        self.state.counters.errors[INTERNAL_ERROR] += len(messages)
        self.state.counters.quarantined += len(messages)
        return ProcessedBatch(
            ArchiveBatch(frames=frames, quarantine=records), messages=len(messages)
        )

    def alarm_batch(self) -> ProcessedBatch | None:
        """An archive batch of pending alarm changes (acknowledgements while no data flows)."""
        alarms = self.state.alarms.drain_changes()
        if not alarms:
            return None
        return ProcessedBatch(
            archive=ArchiveBatch(alarms=[alarm_record(a, self._label_codes) for a in alarms]),
            alarms=alarms,
        )

    def _link(self, message: Message, out: list[QuarantineRecord]) -> None:
        topic, payload, reception_time = message
        if not payload:
            return  # a retained message cleared (MQTT's empty retained publish), not bad data
        try:
            station = parse_link_topic(topic)
            self.state.links.on_monitor(station, payload, reception_time)
        except ValueError as exc:
            self._bad(out, message, BAD_LINK_MONITOR, str(exc))

    def _sim_status(self, message: Message, out: list[QuarantineRecord]) -> None:
        _, payload, reception_time = message
        if not payload:
            return  # the retained status cleared (MQTT's empty retained publish)
        try:
            self.state.clock.on_status(parse_sim_status(payload), reception_time)
        except ValueError as exc:
            self._bad(out, message, BAD_SIM_STATUS, str(exc))

    def _bad(self, out: list[QuarantineRecord], message: Message, reason: str, detail: str) -> None:
        topic, payload, reception_time = message
        self.state.counters.errors[reason] += 1
        self.state.counters.quarantined += 1
        out.append(quarantine.record(reception_time, topic, reason, detail, payload))

    def _metrics(
        self,
        result: ProcessedBatch,
        duplicates: int,
        skipped: Mapping[str, int],
        seconds: float,
    ) -> None:
        metrics = self.metrics
        assert metrics is not None
        batch = result.archive
        per_link: dict[tuple[str, str], int] = {}
        for frame in batch.frames:
            key = (frame.station, frame.spacecraft)
            per_link[key] = per_link.get(key, 0) + 1
        for (station, spacecraft), count in per_link.items():
            metrics.frames.labels(station=station, spacecraft=spacecraft).inc(count)
        if duplicates:
            metrics.frames_duplicate.labels(station="all").inc(duplicates)
        columns = result.packet_columns
        if len(columns):
            apids, counts = np.unique(columns.apid, return_counts=True)
            for apid, count in zip(apids.tolist(), counts.tolist(), strict=True):
                spacecraft = self.mdb.apid_vehicle.get(apid, "")
                metrics.packets.labels(spacecraft=spacecraft, apid=str(apid)).inc(count)
        if result.sample_count:
            metrics.samples.inc(result.sample_count)
        reasons: dict[str, int] = {}
        for record in batch.quarantine:
            reasons[record.reason] = reasons.get(record.reason, 0) + 1
        for reason, count in reasons.items():
            metrics.errors.labels(reason=reason).inc(count)
        for event in result.events:
            metrics.events.labels(severity=event.severity).inc()
            if event.name == "ground.ingest.frame_gap":
                metrics.frame_gaps.labels(spacecraft=event.spacecraft).inc(
                    float(event.args.get("missing", 1))
                )
            elif event.name == "ground.ingest.packet_gap":
                metrics.packet_gaps.labels(apid=str(event.args.get("apid", ""))).inc(
                    float(event.args.get("missing", 1))
                )
        raised = self.state.alarms.raised_by_level
        for level, total in raised.items():
            delta = total - self._raised_reported.get(level, 0)
            if delta:
                metrics.alarms_raised.labels(level=level).inc(delta)
                self._raised_reported[level] = total
        for reason, octets in skipped.items():
            metrics.skipped_octets.labels(reason=reason).inc(octets)
        metrics.batch_seconds.observe(seconds)

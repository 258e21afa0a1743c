"""``IngestService``: MQTT → batches → archive, with live updates, never losing a frame.

One ``asyncio.TaskGroup`` runs five tasks until cancelled:

- the **receiver** (``MqttSource``): persistent MQTT session, QoS 1, manual acknowledgement,
  reconnection with backoff; it puts messages on a bounded queue;
- the **processor**: takes up to ``batch_max_frames`` messages (or what arrived within
  ``batch_max_delay_s``) and runs ``BatchProcessor`` on the worker thread (frame checks,
  extraction, decoding, limits, alarms), then hands live updates to the sink and the verification
  listeners on the event loop's thread, and queues the batch for the archive;
- the **archive writer**: commits each batch in one transaction (merging queued batches when it
  falls behind), *then* acknowledges the batch's messages, in order. With ``archive_url`` set
  it commits in a process of its own (``writer.ProcessWriter``: decoding and archiving then run
  on two cores), otherwise on the worker thread;
- the **compactor**: merges the archive's small blocks now and then;
- the **staleness checker**: flags parameters not received within k × their period.

Queues are bounded, so a slow archive slows the processor, which slows the receiver, which stops
acknowledging, and the broker (bounded by the Receive Maximum) holds the rest. At start the
service resumes from the archive: the last committed ingest state (extractor snapshots, sequence
counts, counters), the recent frame hashes (a frame redelivered after a crash is recognised), the
latest values and the open alarms.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from ground.archive import AlarmRecord, Archive, ArchiveBatch, ArchiveError
from ground.ingest.columns import PacketColumns
from ground.ingest.config import IngestConfig
from ground.ingest.merge import merge_batches
from ground.ingest.mqtt_source import MqttSource, Received
from ground.ingest.pipeline import BatchProcessor, Message, ProcessedBatch
from ground.ingest.writer import (
    MEMORY_URLS,
    ArchiveWriter,
    Part,
    ProcessWriter,
    ThreadWriter,
)
from ground.metrics import GroundMetrics
from ground.model import AlarmState, AlarmView, LiveSink, MonitoringResult, ParameterValue
from ground.processing.staleness import StalenessChecker
from ground.processing.state import GroundState
from mission.mdb.database import MissionDatabase
from mission.mdb.models import EngType

__all__ = ["IngestConfig", "IngestService", "merge_batches"]

log = logging.getLogger("lupex.ground.ingest")

MERGE_BATCHES: Final = 8
"""Most queued batches the archive writer commits in one transaction when it falls behind."""
ARCHIVE_RETRY_S: Final = (0.05, 0.2, 1.0, 2.0, 5.0)
REJECTED_RETRIES: Final = 3
IDLE_TICK_S: Final = 0.25


class IngestService:
    """The ingest pipeline of the ground service (see the module docstring).

    ``run()`` until cancelled; ``health()`` for the API; ``ingest_payload()`` feeds a message
    through the same path without MQTT (tests, replay); ``drain()`` waits until everything fed so
    far is committed to the archive.
    """

    def __init__(
        self,
        config: IngestConfig,
        mdb: MissionDatabase,
        archive: Archive,
        state: GroundState,
        sink: LiveSink,
        metrics: GroundMetrics,
    ) -> None:
        self.config = config
        self.mdb = mdb
        self.archive = archive
        self.state = state
        self.sink = sink
        self.metrics = metrics
        self.processor = BatchProcessor(
            mdb, state, metrics, state_key=config.state_key, recent_hashes=config.recent_hashes
        )
        self.queue: asyncio.Queue[Received] = asyncio.Queue(
            max(config.queue_size, config.receive_maximum)
        )
        # Unbounded as a queue, bounded in frames by _enqueue_for_archive (see the config).
        self._archive_queue: asyncio.Queue[tuple[ProcessedBatch, list[Received]]] = asyncio.Queue()
        self._archive_frames = 0
        self._archive_room = asyncio.Event()
        self._archive_room.set()
        self.source = MqttSource(config, self.queue, metrics)
        self.staleness = StalenessChecker(
            state.latest,
            state.clock,
            {name: mdb.update_period(name) for name in mdb.packet_of_parameter},
        )
        # One worker thread processes batches, commits them and compacts, in turn. Two threads
        # would not run Python in parallel (the GIL), and worse: SQLite releases the GIL at every
        # row it writes, and with a CPU-bound thread beside it each release costs up to a
        # switch interval (5 ms) to get it back, which measured several times slower overall.
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="ingest-worker")
        self.writer: ArchiveWriter = (
            ProcessWriter(config.archive_url, archive)
            if config.archive_url and config.archive_url not in MEMORY_URLS
            else ThreadWriter(archive, self._worker)
        )
        self._enqueued = 0
        self._committed = 0
        self._committed_cond: asyncio.Condition | None = None
        self._pending_since: deque[float] = deque()
        self._batches_in_flight = 0
        self._restored = False
        self.running = False
        self.started = asyncio.Event()
        """Set once the service has resumed from the archive and its tasks run."""
        self.batches_committed = 0
        self.last_commit_time: float | None = None
        self.archive_errors = 0
        self.processing_seconds = 0.0
        """Wall time spent processing batches (worker thread)."""
        self.archive_write_seconds = 0.0
        """Wall time spent committing batches (worker thread)."""
        self.batches_processed = 0
        self.messages_processed = 0

    # ------------------------------------------------------------------ start: resume
    def restore(self) -> None:
        """Resume from the archive (blocking; ``run`` calls it on a worker thread)."""
        if self._restored:
            return
        archive = self.archive
        blob = archive.load_state(self.config.state_key)
        hashes = archive.recent_frame_hashes(self.config.recent_hashes)
        self.processor.restore(blob, hashes)
        self.state.latest.restore(self._last_values())
        self.state.alarms.restore(self._open_alarms(archive.alarms()))
        self._restored = True
        log.info(
            "ingest resumed: %d frame hashes, state %s", len(hashes), "found" if blob else "new"
        )

    def _last_values(self) -> list[ParameterValue]:
        values = []
        for name, last in self.archive.last_values().items():
            param = self.mdb.parameters.get(name)
            if param is None:
                continue
            eng: float | int | str | bool = last.eng_value
            if param.type is EngType.ENUM:
                code = int(last.raw_value)
                eng = param.enumeration.get(code, f"UNDEFINED_{code}")
            elif param.type is EngType.BOOL:
                eng = bool(last.eng_value)
            elif param.type is EngType.INT:
                eng = int(last.eng_value)
            limits = self.state.limits.get(name)
            if limits is None or not limits.enabled:
                result = MonitoringResult.DISABLED
            else:
                result = limits.result(limits.check_one(eng, last.raw_value))
            values.append(
                ParameterValue(
                    name, last.generation_time, last.generation_time, last.raw_value, eng, result
                )
            )
        return values

    def _open_alarms(self, records: Iterable[AlarmRecord]) -> list[AlarmView]:
        latest: dict[str, AlarmRecord] = {}
        for record in records:
            latest[record.parameter] = record  # by trigger time: the last one wins
        views = []
        for record in latest.values():
            if record.state == AlarmState.CLEARED:
                continue
            param = self.mdb.parameters.get(record.parameter)
            values: list[float | int | str | bool] = [
                record.trigger_value,
                record.most_severe_value,
            ]
            if param is not None and param.type is EngType.ENUM:
                values = [param.enumeration.get(int(v), f"UNDEFINED_{int(v)}") for v in values]
            elif param is not None and param.type is EngType.BOOL:
                values = [bool(v) for v in values]
            views.append(
                AlarmView(
                    id=record.alarm_id,
                    parameter=record.parameter,
                    spacecraft=param.vehicle if param is not None else "",
                    level=record.severity,
                    current_level=record.severity,
                    state=AlarmState(record.state),
                    trigger_time=record.trigger_time,
                    trigger_value=values[0],
                    most_severe_time=record.most_severe_time,
                    most_severe_value=values[1],
                    last_value=values[1],
                    last_time=record.most_severe_time,
                    acknowledged_by=record.acknowledged_by,
                    acknowledged_at=record.acknowledged_at,
                )
            )
        return views

    # ------------------------------------------------------------------ running
    async def run(self, *, mqtt: bool = True) -> None:
        """Run until cancelled (``mqtt=False``: no receiver, only ``ingest_payload``)."""
        loop = asyncio.get_running_loop()
        self._committed_cond = asyncio.Condition()
        await loop.run_in_executor(self._worker, self.restore)
        self.running = True
        self.started.set()
        try:
            async with asyncio.TaskGroup() as group:
                if mqtt:
                    group.create_task(self.source.run(), name="ingest-receiver")
                group.create_task(self._process_loop(), name="ingest-processor")
                group.create_task(self._archive_loop(), name="ingest-archiver")
                if self.config.compact_interval_s > 0:
                    group.create_task(self._compact_loop(), name="ingest-compactor")
                group.create_task(self._staleness_loop(), name="ingest-staleness")
        finally:
            self.running = False
            self.started.clear()

    def close(self) -> None:
        """Release the worker threads (after ``run`` ended)."""
        self.writer.close()
        self._worker.shutdown(wait=True, cancel_futures=True)

    async def ingest_payload(self, topic: str, payload: bytes, reception_time: float) -> None:
        """Feed one message through the pipeline as if it came from the broker."""
        self._enqueued += 1
        await self.queue.put(Received(topic, payload, reception_time))

    async def drain(self) -> None:
        """Wait until every message fed or received so far, and every alarm change, is committed
        to the archive (use it under a timeout)."""
        cond = self._committed_cond
        if cond is None:
            msg = "the service is not running"
            raise RuntimeError(msg)
        target = self._enqueued + self.source.received
        async with cond:
            await cond.wait_for(
                lambda: (
                    self._committed >= target
                    and self._batches_in_flight == 0
                    and self.state.alarms.pending_changes == 0
                )
            )

    async def wait_committed(self, messages: int) -> None:
        """Wait until ``messages`` messages (fed or received) have been committed and acknowledged
        (use it under a timeout)."""
        cond = self._committed_cond
        if cond is None:
            msg = "the service is not running"
            raise RuntimeError(msg)
        async with cond:
            await cond.wait_for(lambda: self._committed >= messages)

    @property
    def committed(self) -> int:
        """Messages committed to the archive (and acknowledged, when they came by MQTT)."""
        return self._committed

    def health(self) -> dict[str, Any]:
        """Connection, queues and archive lag, JSON-able."""
        source = self.source
        now = time.time()
        protocol = source.protocol
        return {
            "running": self.running,
            "connected": source.connected,
            "protocol": None if protocol is None else ("5" if protocol.value == 5 else "3.1.1"),
            "client_id": self.config.client_id,
            "subscription": source.downlink_filter,
            "last_message_time": source.last_message_time,
            "messages_received": source.received,
            "messages_acknowledged": source.acknowledged,
            "connections": source.connections,
            "last_error": source.last_error,
            "socket_read_pauses": source.gate.pauses if source.gate is not None else 0,
            "queues": {
                "incoming": source.incoming_depth(),
                "processing": self.queue.qsize(),
                "archive": self._archive_queue.qsize(),
            },
            "archive_lag_s": round(now - self._pending_since[0], 3) if self._pending_since else 0.0,
            "batches_committed": self.batches_committed,
            "last_commit_time": self.last_commit_time,
            "archive_errors": self.archive_errors,
            "batches_processed": self.batches_processed,
            "mean_batch_messages": (
                round(self.messages_processed / self.batches_processed, 1)
                if self.batches_processed
                else 0.0
            ),
            "processing_seconds": round(self.processing_seconds, 3),
            "archive_write_seconds": round(self.archive_write_seconds, 3),
        }

    # ------------------------------------------------------------------ processor
    async def _collect(self) -> list[Received]:
        queue = self.queue
        limit = self.config.batch_max_frames
        try:
            first = await asyncio.wait_for(queue.get(), IDLE_TICK_S)
        except TimeoutError:
            return []
        items = [first]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.batch_max_delay_s
        while len(items) < limit:
            try:
                items.append(queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                items.append(await asyncio.wait_for(queue.get(), remaining))
            except TimeoutError:
                break
        return items

    async def _process_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            items = await self._collect()
            if not items:
                result = self.processor.alarm_batch()
                if result is not None:
                    self._deliver(result)
                    self._batches_in_flight += 1
                    await self._enqueue_for_archive(result, [])
                continue
            messages: list[Message] = [(i.topic, i.payload, i.reception_time) for i in items]
            self._pending_since.append(items[0].reception_time)
            started = time.perf_counter()
            try:
                result = await loop.run_in_executor(self._worker, self.processor.process, messages)
            except Exception as exc:
                # A bug, not bad input (bad input is quarantined): keep the frames, go on.
                log.exception("ingest batch of %d messages failed; archiving them raw", len(items))
                result = self.processor.failed_batch(messages, exc)
            self.processing_seconds += time.perf_counter() - started
            self.batches_processed += 1
            self.messages_processed += len(items)
            self._deliver(result)
            self._batches_in_flight += 1
            await self._enqueue_for_archive(result, items)

    async def _enqueue_for_archive(self, result: ProcessedBatch, items: list[Received]) -> None:
        """Queue a processed batch for the writer; wait while ``archive_queue_frames`` frames
        are queued already (a batch always goes in when the queue is empty)."""
        while self._archive_frames >= self.config.archive_queue_frames:
            self._archive_room.clear()
            await self._archive_room.wait()
        self._archive_frames += len(items)
        self._archive_queue.put_nowait((result, items))

    def _deliver(self, result: ProcessedBatch) -> None:
        try:
            self.processor.deliver(result, self.sink)
        except Exception:
            log.exception("live sink failed; ingest goes on")

    # ------------------------------------------------------------------ archive writer
    async def _archive_loop(self) -> None:
        queue = self._archive_queue
        while True:
            taken = [await queue.get()]
            while len(taken) < MERGE_BATCHES:
                try:
                    taken.append(queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            await self._write([(result.archive, result.packet_columns) for result, _ in taken])
            for _, items in taken:
                for item in items:
                    self.source.acknowledge(item)
                if items:
                    self._pending_since.popleft()
            written = sum(len(items) for _, items in taken)
            self._committed += written
            self._archive_frames -= written
            self._archive_room.set()
            self._batches_in_flight -= len(taken)
            self.batches_committed += len(taken)
            self.last_commit_time = time.time()
            self._set_gauges()
            cond = self._committed_cond
            if cond is not None:
                async with cond:
                    cond.notify_all()

    async def _write(self, parts: list[Part]) -> None:
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                await self.writer.write(parts)
            except ArchiveError as exc:
                self.archive_errors += 1
                attempt += 1
                rejected = "rejected" in str(exc)
                log.error("archive write failed (attempt %d): %s", attempt, exc)
                if rejected and attempt >= REJECTED_RETRIES:
                    # The batch itself is unstorable (a bug): store what can be, never block.
                    self.state.counters.errors["archive_rejected"] += 1
                    for batch, _ in parts:
                        await self._write_raw(batch)
                    return
                await asyncio.sleep(ARCHIVE_RETRY_S[min(attempt, len(ARCHIVE_RETRY_S)) - 1])
                continue
            seconds = time.perf_counter() - started
            self.archive_write_seconds += seconds
            self.metrics.archive_seconds.observe(seconds)
            return

    async def _write_raw(self, part: ArchiveBatch) -> None:
        raw = ArchiveBatch(frames=part.frames, quarantine=part.quarantine, state=part.state)
        while True:
            try:
                await self.writer.write([(raw, PacketColumns())])
                return
            except ArchiveError as exc:
                log.error("archive write of raw frames failed: %s", exc)
                await asyncio.sleep(ARCHIVE_RETRY_S[-1])

    def _set_gauges(self) -> None:
        gauge = self.metrics.queue_depth
        gauge.labels(queue="incoming").set(self.source.incoming_depth())
        gauge.labels(queue="processing").set(self.queue.qsize())
        gauge.labels(queue="archive").set(self._archive_queue.qsize())

    # ------------------------------------------------------------------ periodic tasks
    async def _compact_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.compact_interval_s)
            try:
                removed = await self.writer.compact(time.time() - 5.0)
                log.debug("archive compaction merged away %d blocks", removed)
            except Exception:
                log.exception("archive compaction failed; will try again")

    async def _staleness_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.staleness_interval_s)
            self._set_gauges()
            try:
                changed = self.staleness.check()
            except Exception:
                log.exception("staleness check failed")
                continue
            if changed:
                try:
                    self.sink.on_stale(changed)
                except Exception:
                    log.exception("live sink failed on stale values")

"""The archive's records and interface, and the SQL both backends share.

``Archive`` is the interface the ground uses (synchronous and thread-safe: the ground calls it
from worker threads through ``asyncio.to_thread``). Its public methods are written once here in
portable SQL (``?`` placeholders, ``ON CONFLICT`` upserts); a backend supplies connections, the
schema and a bulk-insert primitive (``ground.archive.sqlite``, ``ground.archive.postgres``).

Storage model (see ``ground.archive.segments``):
- parameter samples live in columnar **segments** (numpy blobs, one row per parameter per batch,
  merged by ``compact``), never one row per sample;
- the **packet index** is columnar too (one block per ``(spacecraft, apid)`` per batch): 20,000
  rows per batch cost ~190 ms with ``executemany`` on SQLite and ~200 ms with ``COPY`` on
  PostgreSQL on the 2-core reference machine, against ~25 ms of CPU to build the blocks;
- frames, events, quarantined messages, alarms, commands and the ingest state are plain rows
  whose columns are the records' fields.

Times are float seconds since the Unix epoch (UTC). Every time window is half-open,
``start <= t < end``; a ``None`` bound is open.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, fields
from enum import StrEnum
from operator import attrgetter
from types import TracebackType
from typing import Any, ClassVar, Final, NamedTuple, Protocol, Self

import numpy as np
from numpy.typing import NDArray

from ground.archive import segments as seg

_RETRIES: Final = 3
_IN_CHUNK: Final = 500
_COMPACT_CHUNK_SAMPLES: Final = 262_144
_COMPACT_CHUNK_BLOCKS: Final = 1_024
_WINDOW_SAMPLES: Final = 250_000
_FIRST_WINDOW: Final = 3_600.0


def frame_hash(data: bytes) -> bytes:
    """The archive's frame hash: blake2b with a 16-octet digest."""
    return hashlib.blake2b(data, digest_size=seg.FRAME_HASH_SIZE).digest()


class ArchiveError(Exception):
    """The archive could not do what was asked; for ``write``: nothing of the batch is stored."""


class AlarmSeverity(StrEnum):
    """Values of ``AlarmRecord.severity``."""

    YELLOW = "yellow"
    RED = "red"


class AlarmState(StrEnum):
    """Values of ``AlarmRecord.state``."""

    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


# --- records written (their fields are the columns of their tables) ------------------------------


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """A received TM transfer frame, as it arrived (``quality``: 'good', 'bad_crc', ...)."""

    reception_time: float
    station: str
    spacecraft: str
    scid: int
    vcid: int
    mc_count: int
    vc_count: int
    frame_hash: bytes
    data: bytes
    quality: str = "good"


@dataclass(frozen=True, slots=True, eq=False)
class SampleBlock:
    """The samples of one parameter from one batch (1-D arrays of one length).

    ``raw_values``: integers (stored as int64) or floats (float64); ``eng_values``: float64.
    """

    parameter: str
    generation_times: NDArray[np.float64]
    reception_time: float
    raw_values: NDArray[Any]
    eng_values: NDArray[np.float64]

    def __post_init__(self) -> None:
        n = len(self.generation_times)
        if len(self.raw_values) != n or len(self.eng_values) != n:
            msg = (
                f"{self.parameter}: {n} generation times, {len(self.raw_values)} raw values, "
                f"{len(self.eng_values)} engineering values"
            )
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class PacketRecord:
    """One entry of the packet index (the packet itself is in its frame, ``frame_hash``).

    Limits of the columnar index: ``seq_count`` 0..65535, ``service``/``subtype``/``vcid``
    0..255, ``frame_hash`` 16 octets or empty.
    """

    generation_time: float
    reception_time: float
    spacecraft: str
    apid: int
    seq_count: int
    service: int
    subtype: int
    packet_name: str
    vcid: int
    frame_hash: bytes


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An on-board or ground event."""

    generation_time: float
    reception_time: float
    spacecraft: str
    event_id: int
    name: str
    severity: str
    message: str
    args_json: str = "{}"


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """A message the ingest could not use, kept with the reason (``ProtocolError.reason``)."""

    reception_time: float
    topic: str
    reason: str
    detail: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class AlarmRecord:
    """An alarm; stored by ``alarm_id`` (a later record with the same id replaces it)."""

    alarm_id: str
    parameter: str
    severity: str
    state: str
    trigger_value: float
    trigger_time: float
    most_severe_value: float
    most_severe_time: float
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None
    cleared_at: float | None = None


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A telecommand and its verification; stored by ``command_id`` (a uuid string).

    ``stages_json`` is the stage history, a JSON list of ``{"stage", "time", "detail"}``;
    ``stage`` is the current stage.
    """

    command_id: str
    name: str
    args_json: str
    vehicle: str
    issued_by: str
    stages_json: str
    stage: str
    station: str | None
    request_id: int | None
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class ArchiveBatch:
    """Everything one ingest batch stores, written in one transaction by ``Archive.write``.

    ``state`` holds small blobs of ingest state (extractor snapshots, counters) that must commit
    atomically with the data they describe.
    """

    frames: Sequence[FrameRecord] = ()
    samples: Sequence[SampleBlock] = ()
    packets: Sequence[PacketRecord] = ()
    events: Sequence[EventRecord] = ()
    quarantine: Sequence[QuarantineRecord] = ()
    alarms: Sequence[AlarmRecord] = ()
    commands: Sequence[CommandRecord] = ()
    state: Mapping[str, bytes] = field(default_factory=dict)


# --- records read --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bucket:
    """Statistics of the engineering values in ``[start, end)``; NaN values are not counted."""

    start: float
    end: float
    count: int
    min: float
    max: float
    mean: float


@dataclass(frozen=True, slots=True)
class SampleRow:
    """One stored sample."""

    generation_time: float
    parameter: str
    raw_value: int | float
    eng_value: float
    reception_time: float


class LastValue(NamedTuple):
    """The newest sample of a parameter (by generation time)."""

    generation_time: float
    raw_value: int | float
    eng_value: float


@dataclass(frozen=True, slots=True, eq=False)
class SampleChunk:
    """Samples of several parameters in columns, ordered by generation time, then parameter."""

    generation_times: NDArray[np.float64]
    parameter_index: NDArray[np.intp]
    parameters: tuple[str, ...]
    raw_values: NDArray[Any]
    eng_values: NDArray[np.float64]
    reception_times: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.generation_times)

    def rows(self) -> Iterator[SampleRow]:
        """The samples as rows."""
        names = self.parameters
        for t, p, raw, eng, rec in zip(
            self.generation_times.tolist(),
            self.parameter_index.tolist(),
            self.raw_values.tolist(),
            self.eng_values.tolist(),
            self.reception_times.tolist(),
            strict=True,
        ):
            yield SampleRow(t, names[p], raw, eng, rec)


# --- backend primitives and shared SQL -----------------------------------------------------------


class Db(Protocol):
    """A connection inside a read or write context, with ``?`` placeholders."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a statement and return all its rows."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement and return the number of rows it changed."""
        ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a statement once per parameter row."""
        ...

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Bulk-insert rows (``COPY`` where the backend has it)."""
        ...


class _LostRaceError(Exception):
    """Another compaction merged some of the blocks first: roll this merge back."""


def _columns(record: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(record))


_FRAME_COLUMNS: Final = _columns(FrameRecord)
_EVENT_COLUMNS: Final = _columns(EventRecord)
_QUARANTINE_COLUMNS: Final = _columns(QuarantineRecord)
_ALARM_COLUMNS: Final = _columns(AlarmRecord)
_COMMAND_COLUMNS: Final = _columns(CommandRecord)
_COUNTED_TABLES: Final = (
    *("frames", "parameters", "segments", "packet_streams", "packet_blocks"),
    *("events", "quarantine", "alarms", "commands", "state"),
)

_SEGMENT_WINDOW: Final = (
    "SELECT {cols} FROM parameters p JOIN segments s ON s.parameter_id = p.id "
    "WHERE p.name {name} AND s.t_start < ? AND s.t_start >= ? - p.max_span AND s.t_end >= ? "
    "ORDER BY s.t_start, s.id"
)
"""Segments of a parameter overlapping [start, end): ``t_start`` is indexed, and no segment
spans more than the parameter's ``max_span``, so the index scan is bounded on both sides."""


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _select(columns: Sequence[str], table: str, rest: str) -> str:
    return f"SELECT {', '.join(columns)} FROM {table} {rest}"  # noqa: S608 (names are constants)


def _upsert_sql(table: str, columns: Sequence[str]) -> str:
    key, *rest = columns
    updates = ", ".join(f"{c} = excluded.{c}" for c in rest)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_marks(len(columns))}) "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


def _bounds(start: float | None, end: float | None) -> tuple[float, float]:
    return (-math.inf if start is None else start), (math.inf if end is None else end)


@dataclass(frozen=True, slots=True)
class _BlockKind:
    """A table of columnar blocks, for compaction."""

    table: str
    series_table: str
    series_column: str
    group_sql: str
    payload: str
    columns: tuple[str, ...]
    merge: Callable[[Sequence[tuple[Any, ...]]], tuple[Any, ...]]


def _merge_segment_rows(rows: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    merged = seg.merge_segments([seg.decode_segment(*row) for row in rows])
    return seg.encode_segment(merged).row()


def _merge_packet_rows(rows: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    merged = seg.merge_packet_blocks([seg.decode_packet_block(*row) for row in rows])
    return seg.packet_block_row(merged)


_SEGMENTS: Final = _BlockKind(
    *("segments", "parameters", "parameter_id", "raw_kind % 2"),
    "raw_kind, times, eng, raw, rtimes",
    seg.SEGMENT_COLUMNS,
    _merge_segment_rows,
)
_PACKET_BLOCKS: Final = _BlockKind(
    *("packet_blocks", "packet_streams", "stream_id", "0"),
    "data, names, frame_hashes",
    seg.PACKET_BLOCK_COLUMNS,
    _merge_packet_rows,
)


def _prepare_samples(blocks: Sequence[SampleBlock]) -> list[tuple[str, tuple[Any, ...]]]:
    return [
        (
            b.parameter,
            seg.encode_segment(
                seg.make_segment(b.generation_times, b.raw_values, b.eng_values, b.reception_time)
            ).row(),
        )
        for b in blocks
        if len(b.generation_times)
    ]


def _prepare_packets(
    packets: Sequence[PacketRecord],
) -> list[tuple[tuple[str, int], tuple[Any, ...]]]:
    if not packets:
        return []
    # One list comprehension per column: 4x faster than attrgetter plus a transposition.
    blocks = seg.make_packet_blocks(
        [p.spacecraft for p in packets],
        [p.apid for p in packets],
        [p.generation_time for p in packets],
        [p.reception_time for p in packets],
        [p.seq_count for p in packets],
        [p.service for p in packets],
        [p.subtype for p in packets],
        [p.vcid for p in packets],
        [p.packet_name for p in packets],
        [p.frame_hash for p in packets],
    )
    return [(stream, seg.packet_block_row(block)) for stream, block in blocks]


class Archive(ABC):
    """The ground archive. Thread-safe; every method may be called from any thread."""

    backend: ClassVar[str]

    def __init__(self) -> None:
        self._series: dict[tuple[str, Any], tuple[int, float]] = {}
        self._cache_lock = threading.Lock()
        self._compact_lock = threading.Lock()
        self._compact_pending: list[tuple[_BlockKind, int]] = []
        """The series a stepped compaction pass has still to visit (popped from the end)."""

    @abstractmethod
    def _reading(self) -> AbstractContextManager[Db]:
        """A connection for reads (each statement sees a consistent snapshot)."""

    @abstractmethod
    def _writing(self) -> AbstractContextManager[Db]:
        """One write transaction: commits on a normal exit, rolls back on an exception."""

    @abstractmethod
    def _storage_bytes(self) -> int:
        """Bytes the archive takes on disk."""

    def _is_conflict(self, exc: Exception) -> bool:
        """Whether ``exc`` means a concurrent transaction won (retry later, nothing is wrong)."""
        return isinstance(exc, _LostRaceError)

    @abstractmethod
    def close(self) -> None:
        """Close every connection (idempotent)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------------------

    def write(self, batch: ArchiveBatch) -> None:
        """Store ``batch`` in one transaction, or nothing of it (``ArchiveError``)."""
        try:
            samples = _prepare_samples(batch.samples)
            packets = _prepare_packets(batch.packets)
        except (ValueError, TypeError, OverflowError) as exc:
            msg = f"batch rejected, nothing stored: {exc}"
            raise ArchiveError(msg) from exc
        try:
            with self._writing() as db:
                series = self._write_blocks(db, _SEGMENTS, [((p,), r) for p, r in samples])
                series |= self._write_blocks(db, _PACKET_BLOCKS, packets)
                self._write_rows(db, batch)
        except ArchiveError:
            raise
        except Exception as exc:
            msg = f"batch not stored (rolled back): {exc}"
            raise ArchiveError(msg) from exc
        with self._cache_lock:  # only what is committed
            self._series.update(series)

    def _write_blocks(
        self, db: Db, kind: _BlockKind, blocks: Sequence[tuple[tuple[Any, ...], tuple[Any, ...]]]
    ) -> dict[tuple[str, Any], tuple[int, float]]:
        """Insert blocks keyed by series (``(name,)`` or ``(spacecraft, apid)``)."""
        if not blocks:
            return {}
        keys = {(kind.table, key) for key, _ in blocks}
        with self._cache_lock:
            known = {k: self._series[k] for k in keys if k in self._series}
        missing = sorted(k for _, k in keys - known.keys())
        if missing:
            key_columns = ("name",) if kind is _SEGMENTS else ("spacecraft", "apid")
            names = ", ".join(key_columns)
            db.executemany(
                f"INSERT INTO {kind.series_table} ({names}, max_span) "  # noqa: S608
                f"VALUES ({_marks(len(key_columns))}, 0) ON CONFLICT ({names}) DO NOTHING",
                missing,
            )
            for i in range(0, len(missing), _IN_CHUNK):
                chunk = missing[i : i + _IN_CHUNK]
                where = " OR ".join(
                    [f"({' AND '.join(f'{c} = ?' for c in key_columns)})"] * len(chunk)
                )
                rows = db.query(
                    _select(("id", "max_span", *key_columns), kind.series_table, f"WHERE {where}"),
                    [v for key in chunk for v in key],
                )
                known.update({(kind.table, tuple(r[2:])): (r[0], r[1]) for r in rows})
        db.insert_rows(
            kind.table,
            kind.columns,
            [(known[kind.table, key][0], *values) for key, values in blocks],
        )
        spans: dict[tuple[Any, ...], float] = {}
        for key, values in blocks:
            spans[key] = max(spans.get(key, 0.0), values[1] - values[0])
        # In series id order: concurrent writers (several ground instances) lock rows alike.
        for key, new_span in sorted(spans.items(), key=lambda item: known[kind.table, item[0]]):
            sid, span = known[kind.table, key]
            if new_span > span:
                db.execute(
                    f"UPDATE {kind.series_table} SET max_span = ? WHERE id = ? AND max_span < ?",  # noqa: S608
                    (new_span, sid, new_span),
                )
                known[kind.table, key] = (sid, new_span)
        return known

    def _write_rows(self, db: Db, batch: ArchiveBatch) -> None:
        records: Sequence[Any]
        for table, columns, records in (
            ("frames", _FRAME_COLUMNS, batch.frames),
            ("events", _EVENT_COLUMNS, batch.events),
            ("quarantine", _QUARANTINE_COLUMNS, batch.quarantine),
        ):
            if records:
                db.insert_rows(table, columns, list(map(attrgetter(*columns), records)))
        for table, columns, records in (
            ("alarms", _ALARM_COLUMNS, batch.alarms),
            ("commands", _COMMAND_COLUMNS, batch.commands),
        ):
            if records:
                rows = [tuple(map(_plain, row)) for row in map(attrgetter(*columns), records)]
                db.executemany(_upsert_sql(table, columns), rows)
        if batch.state:
            db.executemany(
                _upsert_sql("state", ("key", "value")),
                [(key, bytes(value)) for key, value in batch.state.items()],
            )

    # --- parameters ------------------------------------------------------------------------------

    def parameter_names(self) -> list[str]:
        """Every parameter with stored samples, sorted."""
        with self._reading() as db:
            return [r[0] for r in db.query("SELECT name FROM parameters ORDER BY name")]

    def history(
        self, parameter: str, start: float, end: float, buckets: int = 1000
    ) -> list[Bucket]:
        """Count, min, max and mean of ``parameter`` in ``buckets`` equal slices of [start, end).

        Buckets without a (non-NaN) sample are omitted, so every returned bucket has
        ``count >= 1``; bucket ``i`` is ``[edges[i], edges[i+1])`` with
        ``edges = segments.bucket_edges(start, end, buckets)``.
        """
        edges = seg.bucket_edges(start, end, buckets)
        window = (parameter, end, start, start)
        for _ in range(_RETRIES):
            # Summaries first: a segment that lies inside one bucket needs no blob at all.
            with self._reading() as db:
                meta = db.query(
                    _SEGMENT_WINDOW.format(
                        cols="s.id, s.t_start, s.t_end, s.n_valid, s.v_min, s.v_max, s.v_sum",
                        name="= ?",
                    ),
                    window,
                )
            acc = seg.BucketAccumulator(edges)
            need: list[int] = []
            if meta:
                ids, *summary = zip(*meta, strict=True)
                t_start, t_end, n_valid, v_min, v_max, v_sum = (
                    np.array(column, dtype=dtype)  # SQL NULL (no valid value) becomes NaN
                    for column, dtype in zip(
                        summary, (float, float, np.int64, float, float, float), strict=True
                    )
                )
                used = acc.add_summaries(t_start, t_end, n_valid, v_min, v_max, v_sum)
                need = [ids[i] for i in np.flatnonzero(~used).tolist()]
            blobs = self._blobs("segments", "times, eng", need)
            if blobs is None:
                continue  # compaction replaced some segments between the two reads
            acc.add_parts(
                [(seg.decode_floats(blobs[i][0]), seg.decode_floats(blobs[i][1])) for i in need]
            )
            return [Bucket(*b) for b in acc.result()]
        # Compaction keeps winning the race: read every blob in one statement.
        with self._reading() as db:
            rows = db.query(_SEGMENT_WINDOW.format(cols="s.times, s.eng", name="= ?"), window)
        acc = seg.BucketAccumulator(edges)
        acc.add_parts([(seg.decode_floats(t), seg.decode_floats(e)) for t, e in rows])
        return [Bucket(*b) for b in acc.result()]

    def _blobs(
        self, table: str, cols: str, ids: Sequence[int]
    ) -> dict[int, tuple[Any, ...]] | None:
        """``id -> columns`` of ``ids``, or None when one of them is gone."""
        found: dict[int, tuple[Any, ...]] = {}
        with self._reading() as db:
            for i in range(0, len(ids), _IN_CHUNK):
                chunk = ids[i : i + _IN_CHUNK]
                rows = db.query(
                    _select(("id", cols), table, f"WHERE id IN ({_marks(len(chunk))})"), chunk
                )
                found.update({row[0]: row[1:] for row in rows})
        return found if len(found) == len(set(ids)) else None

    def _segments(
        self, names: Sequence[str], start: float, end: float
    ) -> dict[str, seg.SegmentArrays]:
        """The samples of each of ``names`` in [start, end) (one statement: one snapshot)."""
        with self._reading() as db:
            rows = db.query(
                _SEGMENT_WINDOW.format(
                    cols="p.name, s.raw_kind, s.times, s.eng, s.raw, s.rtimes",
                    name=f"IN ({_marks(len(names))})",
                ),
                (*names, end, start, start),
            )
        per_name: dict[str, list[seg.SegmentArrays]] = {}
        for name, *blobs in rows:
            per_name.setdefault(name, []).append(seg.decode_segment(*blobs))
        found = {n: seg.window(seg.merge_segments(p), start, end) for n, p in per_name.items()}
        return {n: arrays for n, arrays in found.items() if len(arrays)}

    def history_raw(
        self, parameter: str, start: float, end: float, limit: int = 10_000
    ) -> list[SampleRow]:
        """The first ``limit`` samples of ``parameter`` in [start, end), by generation time."""
        arrays = self._segments((parameter,), start, end).get(parameter)
        if arrays is None:
            return []
        n = max(limit, 0)
        return [
            SampleRow(t, parameter, raw, eng, rec)
            for t, raw, eng, rec in zip(
                arrays.times[:n].tolist(),
                arrays.raw[:n].tolist(),
                arrays.eng[:n].tolist(),
                arrays.reception[:n].tolist(),
                strict=True,
            )
        ]

    def sample_count(self, parameters: Sequence[str], start: float, end: float) -> int:
        """How many samples ``samples(parameters, start, end)`` yields (for a progress bar)."""
        names = tuple(dict.fromkeys(parameters))
        if not names or not end > start:
            return 0
        with self._reading() as db:
            rows = db.query(
                _SEGMENT_WINDOW.format(
                    cols="s.t_start, s.t_end, s.n, s.times", name=f"IN ({_marks(len(names))})"
                ),
                (*names, end, start, start),
            )
        total = 0
        for t_start, t_end, n, times in rows:
            if t_start >= start and t_end < end:
                total += n
            else:
                lo, hi = np.searchsorted(seg.decode_floats(times), (start, end), side="left")
                total += int(hi - lo)
        return total

    def samples(self, parameters: Sequence[str], start: float, end: float) -> Iterator[SampleRow]:
        """Every sample of ``parameters`` in [start, end), by generation time then parameter."""
        for chunk in self.sample_chunks(parameters, start, end):
            yield from chunk.rows()

    def sample_chunks(
        self,
        parameters: Sequence[str],
        start: float,
        end: float,
        *,
        chunk_samples: int = _WINDOW_SAMPLES,
    ) -> Iterator[SampleChunk]:
        """``samples`` in columns: one chunk per time window of about ``chunk_samples``."""
        names = tuple(dict.fromkeys(parameters))
        if not names or not end > start:
            return
        span = min(end - start, _FIRST_WINDOW)
        w0 = start
        while w0 < end:
            w1 = min(end, w0 + span)
            if w1 <= w0:
                w1 = end
            chunk = self._sample_chunk(names, self._segments(names, w0, w1))
            if len(chunk):
                yield chunk
            span *= 4.0 if not len(chunk) else min(4.0, max(0.25, chunk_samples / len(chunk)))
            w0 = w1

    @staticmethod
    def _sample_chunk(names: tuple[str, ...], found: dict[str, seg.SegmentArrays]) -> SampleChunk:
        parts = [(i, found[name]) for i, name in enumerate(names) if name in found]
        if not parts:
            empty = np.empty(0)
            return SampleChunk(empty, np.empty(0, np.intp), names, empty, empty, empty)
        times = np.concatenate([p.times for _, p in parts])
        index = np.concatenate([np.full(len(p), i, dtype=np.intp) for i, p in parts])
        raw: NDArray[Any]
        if len({p.raw.dtype for _, p in parts}) == 1:
            raw = np.concatenate([p.raw for _, p in parts])
        else:  # integer and float raw values side by side: keep each one exact
            raw = np.array([v for _, p in parts for v in p.raw.tolist()], dtype=object)
        order = np.lexsort((index, times))
        return SampleChunk(
            times[order],
            index[order],
            names,
            raw[order],
            np.concatenate([p.eng for _, p in parts])[order],
            np.concatenate([p.reception for _, p in parts])[order],
        )

    def last_values(self, parameters: Sequence[str] | None = None) -> dict[str, LastValue]:
        """The newest sample (by generation time) of each parameter that has one."""
        result: dict[str, LastValue] = {}
        with self._reading() as db:
            names = (
                [r[0] for r in db.query("SELECT name FROM parameters")]
                if parameters is None
                else list(dict.fromkeys(parameters))
            )
            for name in names:
                rows = db.query(
                    "SELECT s.raw_kind, s.times, s.eng, s.raw FROM parameters p "
                    "JOIN segments s ON s.parameter_id = p.id WHERE p.name = ? "
                    "ORDER BY s.t_end DESC, s.id DESC LIMIT 1",
                    (name,),
                )
                if rows:
                    result[name] = LastValue(*seg.last_sample(*rows[0]))
        return result

    # --- frames ----------------------------------------------------------------------------------

    def frames(
        self,
        start: float | None = None,
        end: float | None = None,
        spacecraft: str | None = None,
        *,
        page: int = 1_000,
    ) -> Iterator[FrameRecord]:
        """Frames received in [start, end), by reception time (read page by page)."""
        lo, hi = _bounds(start, end)
        extra, extra_params = ("AND spacecraft = ?", [spacecraft]) if spacecraft else ("", [])
        where, params = "reception_time >= ?", [lo]
        while True:
            with self._reading() as db:
                rows = db.query(
                    _select(
                        ("id", *_FRAME_COLUMNS),
                        "frames",
                        f"WHERE {where} AND reception_time < ? {extra} "
                        "ORDER BY reception_time, id LIMIT ?",
                    ),
                    (*params, hi, *extra_params, page),
                )
            for row in rows:
                yield FrameRecord(*row[1:])
            if len(rows) < page:
                return
            where = "reception_time >= ? AND (reception_time > ? OR id > ?)"
            params = [rows[-1][1], rows[-1][1], rows[-1][0]]

    def frame_count(
        self, start: float | None = None, end: float | None = None, spacecraft: str | None = None
    ) -> int:
        """How many frames ``frames(start, end, spacecraft)`` yields."""
        lo, hi = _bounds(start, end)
        extra, params = ("AND spacecraft = ?", [spacecraft]) if spacecraft else ("", [])
        rest = f"WHERE reception_time >= ? AND reception_time < ? {extra}"
        with self._reading() as db:
            return int(db.query(_select(("COUNT(*)",), "frames", rest), (lo, hi, *params))[0][0])

    def recent_frame_hashes(self, limit: int = 10_000) -> set[bytes]:
        """Hashes of the ``limit`` frames stored last (to deduplicate after a restart)."""
        with self._reading() as db:
            rows = db.query("SELECT frame_hash FROM frames ORDER BY id DESC LIMIT ?", (limit,))
        return {bytes(r[0]) for r in rows}

    def has_frame(self, digest: bytes) -> bool:
        """Whether a frame with this hash is stored."""
        with self._reading() as db:
            return bool(db.query("SELECT 1 FROM frames WHERE frame_hash = ? LIMIT 1", (digest,)))

    # --- packets ---------------------------------------------------------------------------------

    @staticmethod
    def _stream_filter(spacecraft: str | None, apid: int | None) -> tuple[str, list[Any]]:
        clauses: list[str] = ["1 = 1"]
        params: list[Any] = []
        if spacecraft is not None:
            clauses.append("s.spacecraft = ?")
            params.append(spacecraft)
        if apid is not None:
            clauses.append("s.apid = ?")
            params.append(apid)
        return " AND ".join(clauses), params

    def packet_count(self, spacecraft: str | None = None, apid: int | None = None) -> int:
        """How many packets the index holds (for one spacecraft and/or APID)."""
        where, params = self._stream_filter(spacecraft, apid)
        rest = f"b JOIN packet_streams s ON s.id = b.stream_id WHERE {where}"
        with self._reading() as db:
            rows = db.query(
                _select(("CAST(COALESCE(SUM(b.n), 0) AS BIGINT)",), "packet_blocks", rest),
                params,
            )
        return int(rows[0][0])

    def _packet_blocks(
        self, spacecraft: str | None, apid: int | None, lo: float, hi: float
    ) -> list[tuple[str, int, seg.PacketBlock]]:
        where, params = self._stream_filter(spacecraft, apid)
        rest = (
            f"b JOIN packet_streams s ON s.id = b.stream_id WHERE {where} AND b.t_start < ? "
            "AND b.t_start >= ? - s.max_span AND b.t_end >= ? ORDER BY b.t_start, b.id"
        )
        columns = ("s.spacecraft", "s.apid", "b.data", "b.names", "b.frame_hashes")
        with self._reading() as db:
            rows = db.query(_select(columns, "packet_blocks", rest), (*params, hi, lo, lo))
        return [(sc, ap, seg.decode_packet_block(d, n, f)) for sc, ap, d, n, f in rows]

    def packet_keys(
        self, spacecraft: str, apid: int, start: float | None = None, end: float | None = None
    ) -> list[tuple[int, float]]:
        """``(seq_count, generation_time)`` of the packets of one APID, by generation time."""
        lo, hi = _bounds(start, end)
        blocks = [b.rows for _, _, b in self._packet_blocks(spacecraft, apid, lo, hi)]
        if not blocks:
            return []
        rows = np.concatenate(blocks)
        rows = rows[(rows["generation_time"] >= lo) & (rows["generation_time"] < hi)]
        rows = rows[np.argsort(rows["generation_time"], kind="stable")]
        return list(zip(rows["seq_count"].tolist(), rows["generation_time"].tolist(), strict=True))

    def packets(
        self,
        start: float | None = None,
        end: float | None = None,
        spacecraft: str | None = None,
        apid: int | None = None,
        limit: int = 10_000,
    ) -> list[PacketRecord]:
        """The first ``limit`` packets generated in [start, end), by generation time."""
        lo, hi = _bounds(start, end)
        found: list[tuple[float, int, int]] = []
        blocks = self._packet_blocks(spacecraft, apid, lo, hi)
        for b, (_, _, block) in enumerate(blocks):
            times = block.rows["generation_time"]
            found.extend(
                (float(times[i]), b, i)
                for i in np.flatnonzero((times >= lo) & (times < hi)).tolist()
            )
        found.sort()
        result = []
        for t, b, i in found[: max(limit, 0)]:
            spacecraft_b, apid_b, block = blocks[b]
            row = block.rows[i]
            result.append(
                PacketRecord(
                    *(t, float(row["reception_time"]), spacecraft_b, apid_b),
                    *(int(row["seq_count"]), int(row["service"]), int(row["subtype"])),
                    *(block.name_of(i), int(row["vcid"]), block.frame_hash_of(i)),
                )
            )
        return result

    # --- events, quarantine, alarms, commands, state ---------------------------------------------

    def events(
        self,
        start: float | None = None,
        end: float | None = None,
        severity: str | None = None,
        spacecraft: str | None = None,
        limit: int = 1_000,
        *,
        newest_first: bool = False,
    ) -> list[EventRecord]:
        """Events generated in [start, end), oldest (or newest) first, at most ``limit``."""
        lo, hi = _bounds(start, end)
        where = "generation_time >= ? AND generation_time < ?"
        params: list[Any] = [lo, hi]
        for column, value in (("severity", severity), ("spacecraft", spacecraft)):
            if value is not None:
                where += f" AND {column} = ?"
                params.append(value)
        order = "DESC" if newest_first else "ASC"
        rest = f"WHERE {where} ORDER BY generation_time {order}, id {order} LIMIT ?"
        with self._reading() as db:
            rows = db.query(_select(_EVENT_COLUMNS, "events", rest), (*params, limit))
        return [EventRecord(*row) for row in rows]

    def quarantine(self, limit: int = 100, reason: str | None = None) -> list[QuarantineRecord]:
        """The ``limit`` messages quarantined last (with ``reason``), newest first."""
        where, params = ("WHERE reason = ?", [reason]) if reason is not None else ("", [])
        rest = f"{where} ORDER BY id DESC LIMIT ?"
        with self._reading() as db:
            rows = db.query(_select(_QUARANTINE_COLUMNS, "quarantine", rest), (*params, limit))
        return [QuarantineRecord(t, topic, r, d, bytes(p)) for t, topic, r, d, p in rows]

    def quarantine_counts(self) -> dict[str, int]:
        """How many messages were quarantined, by reason."""
        with self._reading() as db:
            rows = db.query("SELECT reason, COUNT(*) FROM quarantine GROUP BY reason")
        return {reason: int(count) for reason, count in rows}

    def alarms(self, state: str | None = None) -> list[AlarmRecord]:
        """Alarms (in one state), by trigger time."""
        where, params = ("WHERE state = ?", [str(state)]) if state is not None else ("", [])
        rest = f"{where} ORDER BY trigger_time, alarm_id"
        with self._reading() as db:
            rows = db.query(_select(_ALARM_COLUMNS, "alarms", rest), params)
        return [AlarmRecord(*row) for row in rows]

    def alarm(self, alarm_id: str) -> AlarmRecord | None:
        """One alarm, or None."""
        with self._reading() as db:
            rows = db.query(_select(_ALARM_COLUMNS, "alarms", "WHERE alarm_id = ?"), (alarm_id,))
        return AlarmRecord(*rows[0]) if rows else None

    def commands(
        self,
        start: float | None = None,
        end: float | None = None,
        limit: int = 1_000,
        *,
        newest_first: bool = False,
    ) -> list[CommandRecord]:
        """Commands created in [start, end), oldest (or newest) first, at most ``limit``."""
        lo, hi = _bounds(start, end)
        order = "DESC" if newest_first else "ASC"
        rest = (
            "WHERE created_at >= ? AND created_at < ? "
            f"ORDER BY created_at {order}, command_id {order} LIMIT ?"
        )
        with self._reading() as db:
            rows = db.query(_select(_COMMAND_COLUMNS, "commands", rest), (lo, hi, limit))
        return [CommandRecord(*row) for row in rows]

    def command(self, command_id: str) -> CommandRecord | None:
        """One command, or None."""
        rest = "WHERE command_id = ?"
        with self._reading() as db:
            rows = db.query(_select(_COMMAND_COLUMNS, "commands", rest), (command_id,))
        return CommandRecord(*rows[0]) if rows else None

    def load_state(self, key: str) -> bytes | None:
        """The state blob last committed under ``key``, or None."""
        with self._reading() as db:
            rows = db.query("SELECT value FROM state WHERE key = ?", (key,))
        return bytes(rows[0][0]) if rows else None

    # --- maintenance -----------------------------------------------------------------------------

    def compact(self, older_than: float | None = None, *, full: bool = False) -> int:
        """Merge small segments and packet blocks; return how many rows that removed.

        Only blocks whose newest reception time is before ``older_than`` are touched (all when
        None). Size-tiered (``segments.plan_merges``): safe to call often, each sample is
        rewritten a handful of times in all. ``full`` also merges the leftover partial groups
        (a one-off, e.g. before an export; not for periodic use). Runs beside writes and reads:
        each merge is one short transaction, and readers see either the small blocks or the
        merged one, never both.
        """
        removed = 0
        with self._compact_lock:
            for kind, sid in self._compactable():
                removed += self._compact_series(kind, sid, older_than, full=full)
        return removed

    def compact_step(self, older_than: float | None, budget_s: float) -> tuple[int, bool]:
        """Compact for about ``budget_s`` seconds; return (rows removed, pass finished).

        The periodic compaction of a live archive calls this until the pass is finished, so a
        single writer (the ingest's archive writer) can commit batches between two steps instead
        of waiting for a whole pass: a pass over a day of data took 4.4 s, during which the live
        stream stopped (measured with ``bench.latency``). The next step goes on from the series
        where the last one stopped.
        """
        deadline = time.monotonic() + budget_s
        removed = 0
        with self._compact_lock:
            if not self._compact_pending:
                self._compact_pending = self._compactable()[::-1]
            pending = self._compact_pending
            while pending:
                kind, sid = pending.pop()
                removed += self._compact_series(kind, sid, older_than, full=False)
                if time.monotonic() >= deadline:
                    break
            return removed, not pending

    def _compactable(self) -> list[tuple[_BlockKind, int]]:
        """Every (kind, series id) that may hold blocks to merge."""
        out: list[tuple[_BlockKind, int]] = []
        for kind in (_SEGMENTS, _PACKET_BLOCKS):
            with self._reading() as db:
                rows = db.query(_select(("id",), kind.series_table, "ORDER BY id"))
            out += [(kind, int(sid)) for (sid,) in rows]
        return out

    def _compact_series(
        self, kind: _BlockKind, sid: int, older_than: float | None, *, full: bool
    ) -> int:
        columns = ("id", "t_start", "t_end", "n", kind.group_sql)
        rest = f"WHERE {kind.series_column} = ? AND n < {seg.SMALL_BLOCK}"  # the partial index
        params: list[Any] = [sid]
        if older_than is not None:
            rest += " AND r_end < ?"
            params.append(older_than)
        removed = 0
        while True:
            with self._reading() as db:
                infos = [
                    seg.BlockInfo(*row)
                    for row in db.query(_select(columns, kind.table, rest), params)
                ]
            plan = seg.plan_merges(infos, final=full)
            sizes = {b.id: b.n for b in infos}
            done = 0
            chunk: list[list[int]] = []
            for group in plan:
                chunk.append(group)
                ids = [i for g in chunk for i in g]
                if (
                    len(ids) >= _COMPACT_CHUNK_BLOCKS
                    or sum(map(sizes.__getitem__, ids)) >= _COMPACT_CHUNK_SAMPLES
                ):
                    done += self._merge_groups(kind, sid, chunk)
                    chunk = []
            if chunk:
                done += self._merge_groups(kind, sid, chunk)
            if done == 0:
                return removed
            removed += done

    def _merge_groups(self, kind: _BlockKind, sid: int, groups: list[list[int]]) -> int:
        payload = self._blobs(kind.table, kind.payload, [i for g in groups for i in g])
        if payload is None:
            return 0  # another compaction got there first
        merged = [(group, kind.merge([payload[i] for i in group])) for group in groups]
        span = max(values[1] - values[0] for _, values in merged)
        try:
            with self._writing() as db:
                for group, _ in merged:
                    sql = f"DELETE FROM {kind.table} WHERE id IN ({_marks(len(group))})"  # noqa: S608
                    if db.execute(sql, group) != len(group):
                        raise _LostRaceError
                db.insert_rows(kind.table, kind.columns, [(sid, *values) for _, values in merged])
                db.execute(
                    f"UPDATE {kind.series_table} SET max_span = ? WHERE id = ? AND max_span < ?",  # noqa: S608
                    (span, sid, span),
                )
        except Exception as exc:
            if self._is_conflict(exc):
                return 0  # another compaction (maybe another ground instance) got there first
            raise
        return sum(len(group) - 1 for group in groups)

    def stats(self) -> dict[str, int]:
        """Row counts per table, stored ``samples`` and ``packets``, and ``bytes`` on disk."""
        total = "CAST(COALESCE(SUM(n), 0) AS BIGINT)"
        with self._reading() as db:
            counts = {
                t: int(db.query(_select(("COUNT(*)",), t, ""))[0][0]) for t in _COUNTED_TABLES
            }
            for name, table in (("samples", "segments"), ("packets", "packet_blocks")):
                counts[name] = int(db.query(_select((total,), table, ""))[0][0])
        counts["bytes"] = self._storage_bytes()
        return counts


def _plain(value: Any) -> Any:
    """A ``StrEnum`` member as its plain string value (drivers may adapt enums by name)."""
    return str(value) if isinstance(value, StrEnum) else value

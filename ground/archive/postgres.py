"""The PostgreSQL archive: psycopg 3, one writer connection and a small pool of readers.

- ``write`` is one transaction on the writer connection (guarded by a lock); bulk rows
  (segments, packet blocks, frames, events, quarantine) go in with binary ``COPY``.
- Readers are autocommit connections from a small pool; each statement sees one snapshot.
- Blobs are ``bytea`` with ``STORAGE EXTERNAL``: numpy arrays do not compress, so TOAST is told
  not to try.
- Several ground instances may share one database: schema creation takes an advisory lock,
  series ids come from ``INSERT ... ON CONFLICT DO NOTHING``, and a compaction that loses a race
  with another one rolls back (``Archive._merge_groups``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

import psycopg

from ground.archive.base import Archive, ArchiveError, Db
from ground.archive.segments import SMALL_BLOCK

_MAX_IDLE_READERS: Final = 4
_SCHEMA_LOCK_KEY: Final = 0x4C55_5045  # "LUPE": pg_advisory_xact_lock key of the schema

_F8: Final = "DOUBLE PRECISION"
SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS archive_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "INSERT INTO archive_meta (key, value) VALUES ('schema_version', '1') "
    "ON CONFLICT (key) DO NOTHING",
    "CREATE TABLE IF NOT EXISTS parameters ("
    "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
    f"max_span {_F8} NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS segments ("
    "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    "parameter_id BIGINT NOT NULL REFERENCES parameters (id), "
    f"t_start {_F8} NOT NULL, t_end {_F8} NOT NULL, r_end {_F8} NOT NULL, "
    f"n BIGINT NOT NULL, n_valid BIGINT NOT NULL, v_min {_F8}, v_max {_F8}, v_sum {_F8}, "
    "raw_kind BIGINT NOT NULL, times BYTEA NOT NULL, eng BYTEA NOT NULL, raw BYTEA, "
    "rtimes BYTEA NOT NULL)",
    "ALTER TABLE segments ALTER COLUMN times SET STORAGE EXTERNAL, "
    "ALTER COLUMN eng SET STORAGE EXTERNAL, ALTER COLUMN raw SET STORAGE EXTERNAL, "
    "ALTER COLUMN rtimes SET STORAGE EXTERNAL",
    "CREATE INDEX IF NOT EXISTS segments_by_start ON segments (parameter_id, t_start)",
    "CREATE INDEX IF NOT EXISTS segments_by_end ON segments (parameter_id, t_end)",
    "CREATE INDEX IF NOT EXISTS segments_small ON segments "
    f"(parameter_id, t_start, t_end, n, r_end, raw_kind) WHERE n < {SMALL_BLOCK}",
    "CREATE TABLE IF NOT EXISTS packet_streams ("
    "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, spacecraft TEXT NOT NULL, "
    f"apid BIGINT NOT NULL, max_span {_F8} NOT NULL DEFAULT 0, UNIQUE (spacecraft, apid))",
    "CREATE TABLE IF NOT EXISTS packet_blocks ("
    "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    "stream_id BIGINT NOT NULL REFERENCES packet_streams (id), "
    f"t_start {_F8} NOT NULL, t_end {_F8} NOT NULL, r_end {_F8} NOT NULL, n BIGINT NOT NULL, "
    "data BYTEA NOT NULL, names TEXT NOT NULL, frame_hashes BYTEA NOT NULL)",
    "ALTER TABLE packet_blocks ALTER COLUMN data SET STORAGE EXTERNAL, "
    "ALTER COLUMN frame_hashes SET STORAGE EXTERNAL",
    "CREATE INDEX IF NOT EXISTS packet_blocks_by_start ON packet_blocks (stream_id, t_start)",
    "CREATE INDEX IF NOT EXISTS packet_blocks_small ON packet_blocks "
    f"(stream_id, t_start, t_end, n, r_end) WHERE n < {SMALL_BLOCK}",
    "CREATE TABLE IF NOT EXISTS frames ("
    f"id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, reception_time {_F8} NOT NULL, "
    "station TEXT NOT NULL, spacecraft TEXT NOT NULL, scid BIGINT NOT NULL, "
    "vcid BIGINT NOT NULL, mc_count BIGINT NOT NULL, vc_count BIGINT NOT NULL, "
    "frame_hash BYTEA NOT NULL, data BYTEA NOT NULL, quality TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS frames_by_time ON frames (reception_time, id)",
    "CREATE INDEX IF NOT EXISTS frames_by_hash ON frames (frame_hash)",
    "CREATE TABLE IF NOT EXISTS events ("
    f"id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, generation_time {_F8} NOT NULL, "
    f"reception_time {_F8} NOT NULL, spacecraft TEXT NOT NULL, event_id BIGINT NOT NULL, "
    "name TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL, "
    "args_json TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_by_time ON events (generation_time, id)",
    "CREATE TABLE IF NOT EXISTS quarantine ("
    f"id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, reception_time {_F8} NOT NULL, "
    "topic TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL, payload BYTEA NOT NULL)",
    "CREATE INDEX IF NOT EXISTS quarantine_by_reason ON quarantine (reason, id)",
    "CREATE TABLE IF NOT EXISTS alarms (alarm_id TEXT PRIMARY KEY, parameter TEXT NOT NULL, "
    f"severity TEXT NOT NULL, state TEXT NOT NULL, trigger_value {_F8}, "
    f"trigger_time {_F8} NOT NULL, most_severe_value {_F8}, most_severe_time {_F8} NOT NULL, "
    f"acknowledged_by TEXT, acknowledged_at {_F8}, cleared_at {_F8})",
    "CREATE INDEX IF NOT EXISTS alarms_by_state ON alarms (state, trigger_time)",
    "CREATE TABLE IF NOT EXISTS commands (command_id TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "args_json TEXT NOT NULL, vehicle TEXT NOT NULL, issued_by TEXT NOT NULL, "
    "stages_json TEXT NOT NULL, stage TEXT NOT NULL, station TEXT, request_id BIGINT, "
    f"created_at {_F8} NOT NULL, updated_at {_F8} NOT NULL)",
    "CREATE INDEX IF NOT EXISTS commands_by_created ON commands (created_at)",
    "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value BYTEA NOT NULL)",
)

# Binary COPY needs each value's exact type; the archive's column names are unambiguous.
_COPY_TYPES: Final = {
    **dict.fromkeys(
        (
            "t_start",
            "t_end",
            "r_end",
            "v_min",
            "v_max",
            "v_sum",
            "reception_time",
            "generation_time",
        ),
        "float8",
    ),
    **dict.fromkeys(
        (
            "parameter_id",
            "stream_id",
            "n",
            "n_valid",
            "raw_kind",
            "scid",
            "vcid",
            "mc_count",
            "vc_count",
            "event_id",
        ),
        "int8",
    ),
    **dict.fromkeys(
        (
            "station",
            "spacecraft",
            "quality",
            "names",
            "name",
            "severity",
            "message",
            "args_json",
            "topic",
            "reason",
            "detail",
        ),
        "text",
    ),
    **dict.fromkeys(
        ("times", "eng", "raw", "rtimes", "data", "frame_hashes", "frame_hash", "payload"),
        "bytea",
    ),
}


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s`` (the archive's SQL has no other ``?`` or ``%``)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _PgDb:
    """``Db`` over a psycopg cursor."""

    __slots__ = ("_cur",)

    def __init__(self, cur: psycopg.Cursor[tuple[Any, ...]]) -> None:
        self._cur = cur

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        # Binary results: bytea arrives as its bytes, not as hex text twice its size (10x
        # faster for the history of a day of 10 Hz samples).
        self._cur.execute(_pg_sql(sql), params, binary=True)
        return self._cur.fetchall()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._cur.execute(_pg_sql(sql), params)
        return self._cur.rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cur.executemany(_pg_sql(sql), rows)

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        with self._cur.copy(statement) as copy:
            copy.set_types([_COPY_TYPES[c] for c in columns])
            for row in rows:
                copy.write_row(row)


class PostgresArchive(Archive):
    """The archive in a PostgreSQL database (``url``: a libpq connection string or URI)."""

    backend = "postgresql"

    def __init__(self, url: str, *, connect_timeout: float = 10.0) -> None:
        super().__init__()
        self.url: Final = url
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._pool_lock = threading.Lock()
        self._idle: list[psycopg.Connection[tuple[Any, ...]]] = []
        self._closed = False
        self._writer: psycopg.Connection[tuple[Any, ...]] | None = None
        with self._writing() as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK_KEY,))
            for statement in SCHEMA:
                db.execute(statement)

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        try:
            return psycopg.connect(
                self.url, autocommit=True, connect_timeout=max(1, round(self._connect_timeout))
            )
        except psycopg.Error as exc:
            msg = f"cannot connect to the PostgreSQL archive: {exc}"
            raise ArchiveError(msg) from exc

    def _check_open(self) -> None:
        if self._closed:
            msg = "the PostgreSQL archive is closed"
            raise ArchiveError(msg)

    @contextmanager
    def _reading(self) -> Iterator[Db]:
        self._check_open()
        with self._pool_lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None or conn.closed:
            conn = self._connect()
        try:
            with conn.cursor() as cur:
                yield _PgDb(cur)
        finally:
            with self._pool_lock:
                keep = (
                    not self._closed
                    and not conn.closed
                    and not conn.broken
                    and len(self._idle) < _MAX_IDLE_READERS
                )
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    @contextmanager
    def _writing(self) -> Iterator[Db]:
        with self._lock:
            self._check_open()
            if self._writer is None or self._writer.closed or self._writer.broken:
                if self._writer is not None:
                    self._writer.close()
                self._writer = self._connect()
            with self._writer.transaction(), self._writer.cursor() as cur:
                yield _PgDb(cur)

    def _is_conflict(self, exc: Exception) -> bool:
        # Two compactions on one database may lock the same rows in different orders.
        return super()._is_conflict(exc) or isinstance(
            exc, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure
        )

    def _storage_bytes(self) -> int:
        with self._reading() as db:
            return int(db.query("SELECT pg_database_size(current_database())")[0][0])

    def close(self) -> None:
        with self._lock, self._pool_lock:
            if self._closed:
                return
            self._closed = True
            idle, self._idle = self._idle, []
            writer, self._writer = self._writer, None
        for conn in idle:
            conn.close()
        if writer is not None:
            writer.close()

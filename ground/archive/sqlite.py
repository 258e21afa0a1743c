"""The SQLite archive: one file, WAL, one writer connection and a pool of readers.

- The writer connection is guarded by a lock; ``write`` is one ``BEGIN IMMEDIATE`` transaction
  (``synchronous=NORMAL``: a commit survives a process crash, the last ones may be lost to a power
  cut, never half of one).
- Readers have connections of their own (WAL lets them read while the writer writes); each
  statement reads one consistent snapshot.
- ``:memory:`` has a single connection for everything (separate connections would see separate
  databases), still guarded by the lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from ground.archive.base import Archive, ArchiveError, Db
from ground.archive.segments import SMALL_BLOCK

MEMORY: Final = ":memory:"
PAGE_SIZE: Final = 8_192
"""Page size of a new archive file: large blobs read faster with fewer, larger overflow pages."""

_MAX_IDLE_READERS: Final = 8

SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS archive_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "INSERT INTO archive_meta (key, value) VALUES ('schema_version', '1') "
    "ON CONFLICT (key) DO NOTHING",
    "CREATE TABLE IF NOT EXISTS parameters (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
    "max_span REAL NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS segments (id INTEGER PRIMARY KEY, "
    "parameter_id INTEGER NOT NULL REFERENCES parameters (id), "
    "t_start REAL NOT NULL, t_end REAL NOT NULL, r_end REAL NOT NULL, "
    "n INTEGER NOT NULL, n_valid INTEGER NOT NULL, v_min REAL, v_max REAL, v_sum REAL, "
    "raw_kind INTEGER NOT NULL, times BLOB NOT NULL, eng BLOB NOT NULL, raw BLOB, "
    "rtimes BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS segments_by_start ON segments (parameter_id, t_start)",
    "CREATE INDEX IF NOT EXISTS segments_by_end ON segments (parameter_id, t_end)",
    "CREATE INDEX IF NOT EXISTS segments_small ON segments "
    f"(parameter_id, t_start, t_end, n, r_end, raw_kind) WHERE n < {SMALL_BLOCK}",
    "CREATE TABLE IF NOT EXISTS packet_streams (id INTEGER PRIMARY KEY, "
    "spacecraft TEXT NOT NULL, apid INTEGER NOT NULL, max_span REAL NOT NULL DEFAULT 0, "
    "UNIQUE (spacecraft, apid))",
    "CREATE TABLE IF NOT EXISTS packet_blocks (id INTEGER PRIMARY KEY, "
    "stream_id INTEGER NOT NULL REFERENCES packet_streams (id), "
    "t_start REAL NOT NULL, t_end REAL NOT NULL, r_end REAL NOT NULL, n INTEGER NOT NULL, "
    "data BLOB NOT NULL, names TEXT NOT NULL, frame_hashes BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS packet_blocks_by_start ON packet_blocks (stream_id, t_start)",
    "CREATE INDEX IF NOT EXISTS packet_blocks_small ON packet_blocks "
    f"(stream_id, t_start, t_end, n, r_end) WHERE n < {SMALL_BLOCK}",
    "CREATE TABLE IF NOT EXISTS frames (id INTEGER PRIMARY KEY, reception_time REAL NOT NULL, "
    "station TEXT NOT NULL, spacecraft TEXT NOT NULL, scid INTEGER NOT NULL, "
    "vcid INTEGER NOT NULL, mc_count INTEGER NOT NULL, vc_count INTEGER NOT NULL, "
    "frame_hash BLOB NOT NULL, data BLOB NOT NULL, quality TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS frames_by_time ON frames (reception_time)",
    "CREATE INDEX IF NOT EXISTS frames_by_hash ON frames (frame_hash)",
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, generation_time REAL NOT NULL, "
    "reception_time REAL NOT NULL, spacecraft TEXT NOT NULL, event_id INTEGER NOT NULL, "
    "name TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL, "
    "args_json TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_by_time ON events (generation_time)",
    "CREATE TABLE IF NOT EXISTS quarantine (id INTEGER PRIMARY KEY, "
    "reception_time REAL NOT NULL, topic TEXT NOT NULL, reason TEXT NOT NULL, "
    "detail TEXT NOT NULL, payload BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS quarantine_by_reason ON quarantine (reason, id)",
    "CREATE TABLE IF NOT EXISTS alarms (alarm_id TEXT PRIMARY KEY, parameter TEXT NOT NULL, "
    "severity TEXT NOT NULL, state TEXT NOT NULL, trigger_value REAL, "
    "trigger_time REAL NOT NULL, most_severe_value REAL, most_severe_time REAL NOT NULL, "
    "acknowledged_by TEXT, acknowledged_at REAL, cleared_at REAL)",
    "CREATE INDEX IF NOT EXISTS alarms_by_state ON alarms (state, trigger_time)",
    "CREATE TABLE IF NOT EXISTS commands (command_id TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "args_json TEXT NOT NULL, vehicle TEXT NOT NULL, issued_by TEXT NOT NULL, "
    "stages_json TEXT NOT NULL, stage TEXT NOT NULL, station TEXT, request_id INTEGER, "
    "created_at REAL NOT NULL, updated_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS commands_by_created ON commands (created_at)",
    "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
)


class _SqliteDb:
    """``Db`` over a sqlite3 connection (``?`` placeholders are native)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self._conn.execute(sql, params).fetchall()
        return rows

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        marks = ", ".join("?" * len(columns))
        self._conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608 (constants)
            rows,
        )


class SqliteArchive(Archive):
    """The archive in one SQLite file (or in memory: ``path=":memory:"``, for tests)."""

    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.memory: Final = str(path) == MEMORY
        self.path: Final = MEMORY if self.memory else str(Path(path))
        self._lock = threading.RLock()
        self._pool_lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        if not self.memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._writer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            self._setup_writer()
        except BaseException:
            self._writer.close()
            raise

    def _setup_writer(self) -> None:
        conn = self._writer
        new = conn.execute("PRAGMA page_count").fetchone()[0] == 0
        if new:
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        if not self.memory:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                msg = f"{self.path}: could not switch to WAL (journal_mode is {mode})"
                raise ArchiveError(msg)
        for pragma in (
            "synchronous = NORMAL",
            "busy_timeout = 30000",
            "cache_size = -65536",
            "journal_size_limit = 67108864",
            "foreign_keys = OFF",
        ):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in SCHEMA:
                conn.execute(statement)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _connect_reader(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        for pragma in (
            "busy_timeout = 30000",
            "cache_size = -32768",
            "mmap_size = 268435456",
            "query_only = ON",
        ):
            conn.execute(f"PRAGMA {pragma}")
        return conn

    def _check_open(self) -> None:
        if self._closed:
            msg = f"archive {self.path} is closed"
            raise ArchiveError(msg)

    @contextmanager
    def _reading(self) -> Iterator[Db]:
        self._check_open()
        if self.memory:
            with self._lock:
                self._check_open()
                yield _SqliteDb(self._writer)
            return
        with self._pool_lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect_reader()
        try:
            yield _SqliteDb(conn)
        finally:
            if conn.in_transaction:
                conn.rollback()
            with self._pool_lock:
                keep = not self._closed and len(self._idle) < _MAX_IDLE_READERS
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    @contextmanager
    def _writing(self) -> Iterator[Db]:
        with self._lock:
            self._check_open()
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteDb(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _storage_bytes(self) -> int:
        if self.memory:
            with self._lock:
                pages = self._writer.execute("PRAGMA page_count").fetchone()[0]
                size = self._writer.execute("PRAGMA page_size").fetchone()[0]
            return int(pages) * int(size)
        return sum(
            p.stat().st_size for p in (Path(self.path), Path(self.path + "-wal")) if p.exists()
        )

    def close(self) -> None:
        with self._lock, self._pool_lock:
            if self._closed:
                return
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        with self._lock:
            self._writer.close()

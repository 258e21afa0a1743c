"""The archive writer process: commits, survives its child's death, falls back when it cannot
start; and writes the same archive as the in-thread writer."""

from __future__ import annotations

import asyncio
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ground.archive import open_archive
from ground.ingest.pipeline import BatchProcessor
from ground.ingest.writer import Part, ProcessWriter
from ground.processing.state import GroundState
from tests.ground.test_ingest_support import MDB, T0, Downlink


def parts(count: int, start: int = 0) -> list[Part]:
    link = Downlink()
    link.seq = {0x102: start}
    packets = [link.hk("rover.hk.power", T0 + start + i) for i in range(count)]
    processor = BatchProcessor(MDB, GroundState.from_mdb(MDB))
    result = processor.process(link.messages(link.frames(packets), t=T0 + start))
    return [(result.archive, result.packet_columns)]


async def test_commits_in_a_child_and_survives_its_death(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    archive = open_archive(url)
    writer = ProcessWriter(url, archive)
    try:
        await writer.write(parts(50))
        assert archive.packet_count() == 50
        child = writer._process
        assert child is not None
        child.kill()
        child.join(10)
        await writer.write(parts(30, start=50))  # a new child takes over
        assert writer.restarts == 1
        assert not writer.in_process
        assert archive.packet_count() == 80
        assert await writer.compact(T0 + 1e9) >= 0
    finally:
        writer.close()
        archive.close()


async def test_falls_back_to_the_ground_process_when_the_child_cannot_open_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    archive = open_archive(url)
    writer = ProcessWriter("postgresql://nobody@127.0.0.1:1/none", archive)
    try:
        await writer.write(parts(20))
        assert writer.in_process
        assert archive.packet_count() == 20
    finally:
        writer.close()
        archive.close()


class _Recorder:
    """A writer's end of the pipe that records which threads use it and overlapping calls."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.threads: set[int] = set()
        self.overlaps = 0
        self.write_sent = threading.Event()
        self._active = 0
        self._lock = threading.Lock()

    def _enter(self) -> None:
        with self._lock:
            self.threads.add(threading.get_ident())
            self._active += 1
            if self._active > 1:
                self.overlaps += 1

    def _leave(self) -> None:
        with self._lock:
            self._active -= 1

    def send(self, obj: Any) -> None:
        self._enter()
        try:
            self.conn.send(obj)
        finally:
            self._leave()
        if obj[0] == "write":
            self.write_sent.set()

    def recv(self) -> Any:
        self._enter()
        try:
            return self.conn.recv()
        finally:
            self._leave()

    def poll(self, timeout: float) -> bool:
        return self.conn.poll(timeout)

    def close(self) -> None:
        self.conn.close()


class _RecordingWriter(ProcessWriter):
    recorder: _Recorder | None = None

    def _start(self) -> Connection:
        conn = super()._start()
        self.recorder = _Recorder(conn)
        self._conn = self.recorder  # type: ignore[assignment]
        return self.recorder  # type: ignore[return-value]


async def test_close_during_a_commit_waits_for_it_and_never_shares_the_pipe(
    tmp_path: Path,
) -> None:
    """The service stopped while a commit is in flight (the cancelled ``write`` goes on in the
    writer's I/O thread) and ``close`` is called from another thread: before the fix, ``close``
    sent on the pipe from its own thread in the middle of the commit's message and the child died
    of ``UnpicklingError: invalid load key, '\\x00'``."""
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    archive = open_archive(url)
    writer = _RecordingWriter(url, archive)
    try:
        await writer.write(parts(10))  # the child is up
        recorder = writer.recorder
        assert recorder is not None
        recorder.write_sent.clear()
        big = parts(3000, start=10)  # a message of several pipe buffers
        commit = asyncio.ensure_future(writer.write(big))
        assert await asyncio.to_thread(recorder.write_sent.wait, 60)
        child = writer._process
        assert child is not None
        await asyncio.to_thread(writer.close)  # from another thread, the commit still going on
        await commit
        assert child.exitcode == 0  # it read every message and left on "close"
        assert archive.packet_count() == 3010
        assert recorder.overlaps == 0
        assert len(recorder.threads) == 1  # the writer's I/O thread, and no other
        assert threading.get_ident() not in recorder.threads
    finally:
        writer.close()
        archive.close()


async def test_a_child_that_reads_garbage_exits_and_is_replaced(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    archive = open_archive(url)
    writer = ProcessWriter(url, archive)
    try:
        await writer.write(parts(5))
        conn, child = writer._conn, writer._process
        assert conn is not None
        assert child is not None
        conn.send_bytes(b"\x00\x00\x00\x10 not a pickle")  # what an interleaved send looks like
        await asyncio.to_thread(child.join, 60)
        assert child.exitcode == 3
        await writer.write(parts(5, start=5))
        assert writer.restarts == 1
        assert archive.packet_count() == 10
    finally:
        writer.close()
        archive.close()

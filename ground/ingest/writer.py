"""Archive writers: on the ingest's worker thread, or in a process of their own.

Committing a batch (encoding parameter segments, building the packet index, SQL) costs more CPU
than decoding it. In one Python process the two cannot run at once (the GIL), and worse, SQLite
releases the GIL at every row, so a busy thread beside it makes each row wait for a switch
interval. ``ProcessWriter`` therefore commits in a child process with its own archive
connection: decoding and archiving then use two cores. ``ThreadWriter`` commits on the worker
thread, for archives a second process cannot open (``sqlite://:memory:``).

Both commit the batches they are given in one transaction and raise ``ArchiveError`` when it
fails (nothing stored). ``ProcessWriter`` survives its child's death: it starts a new one and,
unless the archive already holds the batch's frames (the child died after committing), writes
the batch again. The child dies with its parent (``PR_SET_PDEATHSIG`` on Linux), so a killed
ground never leaves a writer committing behind its back while a new one resumes.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import signal
import sys
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any, Final, Protocol

from ground.archive import Archive, ArchiveBatch, ArchiveError, open_archive
from ground.ingest.columns import PacketColumns
from ground.ingest.merge import merge_batches
from ground.ingest.pipeline import full_batch

log = logging.getLogger("lupex.ground.ingest.writer")

MEMORY_URLS: Final = frozenset({"sqlite://:memory:", "sqlite:///:memory:", "sqlite://"})
_PR_SET_PDEATHSIG: Final = 1
START_TIMEOUT_S: Final = 60.0

Part = tuple[ArchiveBatch, PacketColumns]


def merge_parts(parts: Sequence[Part]) -> Part:
    """One (batch, packet columns) holding all of ``parts``."""
    if len(parts) == 1:
        return parts[0]
    return (
        merge_batches([batch for batch, _ in parts]),
        PacketColumns.concat([columns for _, columns in parts]),
    )


class ArchiveWriter(Protocol):
    async def write(self, parts: Sequence[Part]) -> None:
        """Commit ``parts`` in one transaction (``ArchiveError``: nothing stored)."""
        ...

    async def compact(self, older_than: float) -> int: ...

    def close(self) -> None: ...


class ThreadWriter:
    """Commits on ``executor`` (the ingest's worker thread) with the service's archive."""

    def __init__(self, archive: Archive, executor: Executor) -> None:
        self.archive = archive
        self.executor = executor

    def _write(self, parts: Sequence[Part]) -> None:
        self.archive.write(full_batch(*merge_parts(parts)))

    async def write(self, parts: Sequence[Part]) -> None:
        await asyncio.get_running_loop().run_in_executor(self.executor, self._write, parts)

    async def compact(self, older_than: float) -> int:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self.archive.compact, older_than)

    def close(self) -> None:
        return None


# ---------------------------------------------------------------------------------- the child
def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # pragma: no cover - exotic libc
            log.warning("could not tie the archive writer's life to the ground's")


def _child_main(url: str, conn: Connection) -> None:
    """The writer process: commit what the parent sends, answer ("ok", value) or ("error", ...)."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    archive = open_archive(url)
    try:
        conn.send(("ok", "ready"))
        while True:
            try:
                kind, payload = conn.recv()
            except EOFError:
                return
            try:
                if kind == "write":
                    archive.write(full_batch(*merge_parts(payload)))
                    conn.send(("ok", None))
                elif kind == "compact":
                    conn.send(("ok", archive.compact(payload)))
                else:
                    conn.send(("ok", None))
                    return
            except ArchiveError as exc:
                conn.send(("error", str(exc)))
            except Exception as exc:
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        archive.close()


# ---------------------------------------------------------------------------------- the parent
class ProcessWriter:
    """Commits in a child process that opens ``url`` itself (see the module docstring)."""

    def __init__(self, url: str, archive: Archive) -> None:
        if url in MEMORY_URLS:
            msg = "an in-memory archive cannot be written from another process"
            raise ValueError(msg)
        self.url = url
        self.archive = archive
        """The service's own archive, to tell whether a batch was committed before a crash."""
        self._io = ThreadPoolExecutor(1, thread_name_prefix="ingest-writer-io")
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._conn: Connection | None = None
        self.restarts = 0
        self.in_process = False
        """True once the child could not be started: commits then happen here, on the I/O
        thread, with the service's archive (slower, never stuck)."""

    def _start(self) -> Connection:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_child_main, args=(self.url, child), name="lupex-archive-writer", daemon=True
        )
        process.start()
        child.close()
        try:
            if not parent.poll(START_TIMEOUT_S):
                msg = "the archive writer process did not start"
                raise ArchiveError(msg)
            status, detail = parent.recv()
            if status != "ok":
                msg = f"the archive writer process failed to open the archive: {detail}"
                raise ArchiveError(msg)
        except (EOFError, OSError, ArchiveError) as exc:
            parent.close()
            process.kill()
            process.join(5)
            if isinstance(exc, ArchiveError):
                raise
            msg = f"the archive writer process died while starting ({exc})"
            raise ArchiveError(msg) from exc
        self._process, self._conn = process, parent
        return parent

    def _call(self, kind: str, payload: Any) -> Any:
        if self.in_process:
            return self._local(kind, payload)
        conn = self._conn
        if conn is None:
            try:
                conn = self._start()
            except ArchiveError:
                log.exception("no archive writer process: committing in the ground process")
                self.in_process = True
                return self._local(kind, payload)
        conn.send((kind, payload))
        status, value = conn.recv()
        if status != "ok":
            raise ArchiveError(str(value))
        return value

    def _local(self, kind: str, payload: Any) -> Any:
        if kind == "write":
            self.archive.write(full_batch(*merge_parts(payload)))
            return None
        if kind == "compact":
            return self.archive.compact(payload)
        return None

    def _write_blocking(self, parts: Sequence[Part]) -> None:
        try:
            self._call("write", list(parts))
        except (EOFError, OSError) as exc:
            self._lost(exc)
            if self._committed(parts):
                return
            self._call("write", list(parts))

    def _committed(self, parts: Sequence[Part]) -> bool:
        frames = [f for batch, _ in parts for f in batch.frames]
        return bool(frames) and self.archive.has_frame(frames[-1].frame_hash)

    def _lost(self, exc: BaseException) -> None:
        log.error("the archive writer process died (%s); starting a new one", exc)
        self.restarts += 1
        process, self._process, self._conn = self._process, None, None
        if process is not None:
            process.join(5)

    async def write(self, parts: Sequence[Part]) -> None:
        await asyncio.get_running_loop().run_in_executor(self._io, self._write_blocking, parts)

    def _compact_blocking(self, older_than: float) -> int:
        try:
            return int(self._call("compact", older_than))
        except (EOFError, OSError) as exc:
            self._lost(exc)
            return 0

    async def compact(self, older_than: float) -> int:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._io, self._compact_blocking, older_than)

    def close(self) -> None:
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            try:
                conn.send(("close", None))
                if conn.poll(30):
                    conn.recv()
            except (EOFError, OSError):
                pass
            conn.close()
        if process is not None:
            process.join(30)
            if process.is_alive():
                process.kill()
                process.join(5)
        self._io.shutdown(wait=True)

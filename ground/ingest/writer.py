r"""Archive writers: on the ingest's worker thread, or in a process of their own.

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

**One user of the pipe at a time, always the same thread.** ``multiprocessing.Connection`` is not
thread-safe: ``send`` writes a large message as a 4-octet length header and then the pickle, in
several ``write`` calls, and a second thread sending meanwhile slips its own message in between.
The child then reads the other message's header (``\x00\x00\x00\x..``) as the start of the
pickle: ``UnpicklingError: invalid load key, '\x00'``. That is what happened when the service was
stopped while a commit was in flight (the cancelled ``write`` went on in the I/O thread while
``close`` sent ``close`` from the caller's thread). Now every exchange with the child (send and
its answer) runs on the writer's single I/O thread, ``close`` included, and holds a lock, so a
``close`` waits for the commit in flight. The child treats a message it cannot read as the end
of the connection: it says so in the log and exits, and the parent starts a new one.

**How the child starts.** It is a fresh interpreter, ``python -m ground.ingest.writer FD``, that
talks over one end of a socket pair wrapped in a ``multiprocessing.Connection``; the archive URL
(which may hold a password) comes over the pipe, never on the command line. Not
``multiprocessing``'s ``spawn``: that re-imports the parent's ``__main__`` script in the child,
which breaks whenever ``__main__`` is not an importable file (a Streamlit script, a test runner's
temporary module) and costs an import of whatever the main script imports. ``fork`` is worse: the
ground is threaded.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import logging
import pickle
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
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
CLOSE_TIMEOUT_S: Final = 30.0
COMPACT_STEP_S: Final = 0.05
"""Longest a compaction step keeps the writer from committing (see ``Archive.compact_step``)."""
EXIT_BAD_MESSAGE: Final = 3
"""The child's exit status when it read a message it could not unpickle."""

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


async def compact_in_steps(executor: Executor, step: Callable[[], tuple[int, bool]]) -> int:
    """Run ``step`` (one ``Archive.compact_step``) on ``executor`` until the pass is finished;
    each step is a job of its own, so the writes queued meanwhile go in between. Rows removed."""
    loop = asyncio.get_running_loop()
    removed, finished = 0, False
    while not finished:
        done, finished = await loop.run_in_executor(executor, step)
        removed += done
    return removed


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
        """A compaction pass in steps, batches processed in between."""
        step = functools.partial(self.archive.compact_step, older_than, COMPACT_STEP_S)
        return await compact_in_steps(self.executor, step)

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


def _child_main(conn: Connection) -> None:
    """The writer process: commit what the parent sends, answer ("ok", value) or ("error", ...).

    The first message is the archive's URL; the answer to it says whether the archive opened.
    """
    _die_with_parent()
    # The parent decides when to stop (a Ctrl-C or a SIGTERM to the whole process group must not
    # kill the child before the parent's last commit); PR_SET_PDEATHSIG ends it with the parent.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        url = conn.recv()
        archive = open_archive(url)
    except EOFError:
        return
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    try:
        conn.send(("ok", "ready"))
        while True:
            try:
                kind, payload = conn.recv()
            except EOFError:
                return
            except (pickle.UnpicklingError, ValueError, TypeError) as exc:
                # A garbled stream (see the module docstring): nothing after this can be trusted.
                log.error("archive writer: unreadable message from the ground (%s); exiting", exc)
                sys.exit(EXIT_BAD_MESSAGE)
            try:
                if kind == "write":
                    archive.write(full_batch(*merge_parts(payload)))
                    conn.send(("ok", None))
                elif kind == "compact_step":
                    conn.send(("ok", archive.compact_step(*payload)))
                else:
                    conn.send(("ok", None))
                    return
            except ArchiveError as exc:
                conn.send(("error", str(exc)))
            except Exception as exc:
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        archive.close()


def main(argv: Sequence[str]) -> int:
    """``python -m ground.ingest.writer FD``: serve the parent on the connection at ``FD``."""
    conn = Connection(int(argv[0]))
    try:
        _child_main(conn)
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        conn.close()
    return 0


# ---------------------------------------------------------------------------------- the parent
class ChildProcess:
    """The writer child, with the few ``multiprocessing.Process`` verbs the parent needs."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def exitcode(self) -> int | None:
        """The exit status (negative: killed by that signal), None while it runs."""
        return self.popen.poll()

    def is_alive(self) -> bool:
        return self.popen.poll() is None

    def join(self, timeout: float | None = None) -> None:
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()


def start_child() -> tuple[ChildProcess, Connection]:
    """A new writer child and the parent's end of its pipe (see the module docstring)."""
    ours, theirs = socket.socketpair()
    try:
        fd = theirs.fileno()
        popen = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "ground.ingest.writer", str(fd)],
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
        )
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return ChildProcess(popen), Connection(ours.detach())


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
        self._pipe_lock = threading.Lock()
        """Held for each exchange with the child (send, then its answer)."""
        self._closed = False
        self._process: ChildProcess | None = None
        self._conn: Connection | None = None
        self.restarts = 0
        self.in_process = False
        """True once the child could not be started: commits then happen here, on the I/O
        thread, with the service's archive (slower, never stuck)."""

    def _start(self) -> Connection:
        try:
            process, parent = start_child()
        except OSError as exc:
            msg = f"the archive writer process could not be started ({exc})"
            raise ArchiveError(msg) from exc
        try:
            parent.send(self.url)
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
        """One exchange with the child (on the I/O thread; see the module docstring)."""
        with self._pipe_lock:
            if self._closed:
                msg = "the archive writer is closed"
                raise ArchiveError(msg)
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
        if kind == "compact_step":
            return self.archive.compact_step(*payload)
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

    def _compact_step_blocking(self, older_than: float) -> tuple[int, bool]:
        try:
            removed, finished = self._call("compact_step", (older_than, COMPACT_STEP_S))
        except (EOFError, OSError) as exc:
            self._lost(exc)
            return 0, True
        return int(removed), bool(finished)

    async def compact(self, older_than: float) -> int:
        """A compaction pass in steps, commits going in between."""
        step = functools.partial(self._compact_step_blocking, older_than)
        return await compact_in_steps(self._io, step)

    def _close_blocking(self) -> None:
        with self._pipe_lock:
            self._closed = True
            conn, process = self._conn, self._process
            self._conn = self._process = None
            if conn is not None:
                try:
                    conn.send(("close", None))
                    if conn.poll(CLOSE_TIMEOUT_S):
                        conn.recv()
                except (EOFError, OSError):
                    pass
                conn.close()
        if process is not None:
            process.join(CLOSE_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join(5)

    def close(self) -> None:
        """Stop the child after the exchange in flight, if any (from any thread; blocking)."""
        try:
            self._io.submit(self._close_blocking).result()
        except RuntimeError:  # closed before
            return
        finally:
            self._io.shutdown(wait=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

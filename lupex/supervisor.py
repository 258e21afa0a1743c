"""Start a set of service processes, forward their logs, and stop them all cleanly.

`lupex demo` uses it to run the broker, the ground service, the spacecraft mock and the dashboard
without containers. Each child runs in its own session (process group), so stopping it also stops
whatever it started (Streamlit's server, for instance); nothing is left orphaned. SIGINT and SIGTERM
stop the children in reverse start order: SIGTERM first, SIGKILL for any that outlive the grace
period.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, TextIO

import psutil


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    ready_port: int | None = None
    """A TCP port on 127.0.0.1 that accepts connections once the service is up."""
    ready_timeout_s: float = 60.0
    echo: bool = True
    """Forward the service's output to the console (it always goes to its log file)."""


class ServiceFailedError(RuntimeError):
    pass


@dataclass(slots=True)
class _Running:
    spec: ServiceSpec
    proc: subprocess.Popen[bytes]
    log_path: Path
    threads: list[threading.Thread]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


class Supervisor:
    def __init__(self, log_dir: Path, out: TextIO = sys.stdout, grace_s: float = 10.0) -> None:
        self.log_dir = log_dir
        self.out = out
        self.grace_s = grace_s
        self._running: list[_Running] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        log_dir.mkdir(parents=True, exist_ok=True)

    @property
    def pids(self) -> list[int]:
        return [r.proc.pid for r in self._running]

    def start(self, spec: ServiceSpec) -> None:
        log_path = self.log_dir / f"{spec.name}.log"
        env = {**os.environ, **spec.env, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(  # noqa: S603 - argv is built by lupex itself, not user input
            list(spec.argv),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert proc.stdout is not None
        thread = threading.Thread(
            target=self._forward, args=(spec, proc.stdout, log_path), daemon=True
        )
        thread.start()
        self._running.append(_Running(spec, proc, log_path, [thread]))
        if spec.ready_port is not None:
            self._wait_ready(spec, proc)

    def _forward(self, spec: ServiceSpec, stream: IO[bytes], log_path: Path) -> None:
        with log_path.open("ab") as log:
            for line in iter(stream.readline, b""):
                log.write(line)
                log.flush()
                if not spec.echo:
                    continue
                text = line.decode(errors="replace").rstrip()
                with self._lock:
                    print(f"[{spec.name:>10}] {text}", file=self.out, flush=True)

    def _wait_ready(self, spec: ServiceSpec, proc: subprocess.Popen[bytes]) -> None:
        assert spec.ready_port is not None
        deadline = time.monotonic() + spec.ready_timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServiceFailedError(
                    f"{spec.name} exited with code {proc.returncode} while starting; "
                    f"see {self.log_dir / (spec.name + '.log')}"
                )
            if port_open(spec.ready_port):
                return
            if self._stop.wait(0.1):
                raise ServiceFailedError(f"stopped while waiting for {spec.name}")
        raise ServiceFailedError(
            f"{spec.name} did not listen on port {spec.ready_port} within {spec.ready_timeout_s}s"
        )

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        self._stop.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGTERM, self.request_stop)

    def wait(self, on_tick: Callable[[], None] | None = None) -> int:
        """Block until a stop is requested or a child exits; return an exit code."""
        while not self._stop.wait(0.5):
            for r in self._running:
                code = r.proc.poll()
                if code is not None:
                    with self._lock:
                        print(
                            f"[supervisor] {r.spec.name} exited with code {code}; stopping all",
                            file=self.out,
                            flush=True,
                        )
                    return 1
            if on_tick is not None:
                on_tick()
        return 0

    def shutdown(self) -> None:
        """Stop every child, newest first: SIGTERM, then SIGKILL after the grace period."""
        for r in reversed(self._running):
            self._signal_group(r.proc, signal.SIGTERM)
            try:
                r.proc.wait(self.grace_s)
            except subprocess.TimeoutExpired:
                with self._lock:
                    print(f"[supervisor] {r.spec.name} ignored SIGTERM; killing", file=self.out)
                self._signal_group(r.proc, signal.SIGKILL)
                r.proc.wait()
            # Anything else left in the child's process group goes too, and is waited for.
            self._signal_group(r.proc, signal.SIGKILL)
            self._wait_group_gone(r.proc.pid)
            for t in r.threads:
                t.join(timeout=2)
            if r.proc.stdout is not None:
                r.proc.stdout.close()
        self._running.clear()

    @staticmethod
    def _wait_group_gone(pgid: int, timeout_s: float = 3.0) -> None:
        """Wait until no live process is left in the group (zombies awaiting reaping aside)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            members = [
                p
                for p in psutil.process_iter(["pid"])
                if _pgid(p.pid) == pgid and _status(p) != psutil.STATUS_ZOMBIE
            ]
            if not members:
                return
            time.sleep(0.02)

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except (ProcessLookupError, PermissionError):
        return None


def _status(proc: psutil.Process) -> str | None:
    try:
        return str(proc.status())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None

"""The demo supervisor stops every child and grandchild: no orphan processes."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from lupex.supervisor import ServiceFailedError, ServiceSpec, Supervisor
from tests.support.ports import free_port
from tests.support.timeouts import timeout

# A child that starts a grandchild, listens on a port, and ignores nothing.
CHILD = """
import socket, subprocess, sys, time
port = int(sys.argv[1])
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen()
print("listening", port, flush=True)
time.sleep(600)
"""

# A child that ignores SIGTERM, so the supervisor must escalate to SIGKILL.
STUBBORN = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("stubborn", flush=True)
time.sleep(600)
"""


def _descendants(pids: list[int]) -> set[int]:
    out: set[int] = set()
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            out.add(pid)
            out |= {c.pid for c in proc.children(recursive=True)}
        except psutil.NoSuchProcess:
            continue
    return out


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.add(pid)
        except psutil.NoSuchProcess:
            continue
    return alive


def test_shutdown_leaves_no_orphans(tmp_path: Path) -> None:
    out = io.StringIO()
    sup = Supervisor(tmp_path, out=out, grace_s=timeout(2))
    port = free_port()
    sup.start(ServiceSpec("svc", [sys.executable, "-c", CHILD, str(port)], ready_port=port))
    sup.start(ServiceSpec("stubborn", [sys.executable, "-c", STUBBORN]))
    deadline = time.monotonic() + timeout(10)
    tree: set[int] = set()
    while time.monotonic() < deadline:
        tree = _descendants(sup.pids)
        if len(tree) >= 3 and "stubborn" in out.getvalue():
            break
        time.sleep(0.05)
    assert len(tree) >= 3, "the child, its grandchild and the stubborn child all run"
    sup.shutdown()
    assert _alive(tree) == set()
    assert "listening" in (tmp_path / "svc.log").read_text()
    assert "ignored SIGTERM; killing" in out.getvalue()


def test_a_child_that_dies_stops_the_wait(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path, out=io.StringIO())
    sup.start(ServiceSpec("short", [sys.executable, "-c", "print('bye')"]))
    assert sup.wait() == 1
    sup.shutdown()


def test_a_signal_stops_the_wait(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path, out=io.StringIO())
    sup.start(ServiceSpec("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"]))
    threading.Timer(0.2, sup.request_stop, args=(signal.SIGTERM, None)).start()
    assert sup.wait() == 0
    pids = set(sup.pids)
    sup.shutdown()
    assert _alive(pids) == set()


def test_a_child_that_fails_to_start_is_reported(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path, out=io.StringIO())
    with pytest.raises(ServiceFailedError, match="exited with code 3"):
        sup.start(
            ServiceSpec(
                "bad", [sys.executable, "-c", "raise SystemExit(3)"], ready_port=free_port()
            )
        )
    sup.shutdown()
    assert os.path.exists(tmp_path / "bad.log")

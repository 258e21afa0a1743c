"""The whole system on free ports, as ``lupex demo`` runs it, for the browser tests and the bench.

A Mosquitto (the suite's, from the shipped configuration), the ground service, the spacecraft mock
and the dashboard, each a process of its own started from its ``lupex`` command function, with
the demo's environment (MQTT passwords, one token per role). Every process gets its own session,
so stopping one stops its children (Streamlit under ``lupex dashboard``); logs go to files.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

import httpx

from tests.support.mosquitto import MosquittoServer
from tests.support.ports import accepts_connections, free_port
from tests.support.timeouts import POLL_INTERVAL, timeout

EPOCH: Final = "2026-11-22T12:00:00"
"""A mission start with Earth above the site and several stations in view (see lupex passes)."""

LUPEX: Final = (sys.executable, "-m", "lupex")


@dataclass
class Tokens:
    viewer: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    operator: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    instructor: str = field(default_factory=lambda: secrets.token_urlsafe(24))


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def check(self) -> None:
        if self.process.poll() is not None:
            msg = f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
            raise AssertionError(msg)

    def stop(self) -> None:
        if self.process.poll() is None:
            _signal_group(self.process, signal.SIGTERM)
            try:
                self.process.wait(timeout(20))
            except subprocess.TimeoutExpired:
                _signal_group(self.process, signal.SIGKILL)
                self.process.wait(timeout(10))


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


@dataclass
class Stack:
    """What a test needs of the running system."""

    api: str
    dashboard: str
    tokens: Tokens
    services: dict[str, Service]
    folder: Path

    def check(self) -> None:
        for service in self.services.values():
            service.check()

    def header(self, role: str = "instructor") -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self.tokens, role)}"}

    def get(self, path: str, role: str = "instructor") -> httpx.Response:
        return httpx.get(f"{self.api}/api/v1{path}", headers=self.header(role), timeout=10)

    def streamlit_pid(self) -> int:
        """The Streamlit server process (the child of ``lupex dashboard``)."""
        import psutil

        wrapper = psutil.Process(self.services["dashboard"].process.pid)
        children = wrapper.children(recursive=True)
        return int(children[0].pid) if children else wrapper.pid


def _start(name: str, argv: Sequence[str], env: Mapping[str, str], folder: Path) -> Service:
    log = folder / f"{name}.log"
    stream: IO[bytes] = log.open("wb")
    process = subprocess.Popen(
        list(argv),
        env={**os.environ, **env},
        stdout=stream,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # stopping its group stops its children too
    )
    stream.close()
    return Service(name, process, log)


def _wait(service: Service, ready: str, check: object) -> None:
    deadline = time.monotonic() + timeout(120)
    while time.monotonic() < deadline:
        service.check()
        if callable(check) and check():
            return
        time.sleep(POLL_INTERVAL * 10)
    msg = f"{service.name} did not become ready ({ready}):\n{service.log_tail()}"
    raise AssertionError(msg)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def running_stack(
    mosquitto: MosquittoServer,
    folder: Path,
    *,
    speed: float = 50.0,
    epoch: str = EPOCH,
    dashboard_role: str = "instructor",
    extra_dashboard_env: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    """Ground, spacecraft mock and dashboard on ``mosquitto``; stopped (all of them) at exit."""
    folder.mkdir(parents=True, exist_ok=True)
    tokens = Tokens()
    run_id = secrets.token_hex(4)
    api_port, dashboard_port = free_port(), free_port()
    services: dict[str, Service] = {}
    with ExitStack() as stack:
        ground_env = {
            "LUPEX_GROUND_MQTT_PASSWORD": mosquitto.credential("ground").password,
            "LUPEX_GROUND_PERSISTENT_SESSION": "false",
            "LUPEX_GROUND_VIEWER_TOKEN": tokens.viewer,
            "LUPEX_GROUND_OPERATOR_TOKEN": tokens.operator,
            "LUPEX_GROUND_INSTRUCTOR_TOKEN": tokens.instructor,
        }
        argv = [*LUPEX, "ground", "--broker", mosquitto.url, "--port", str(api_port)]
        argv += ["--db", f"sqlite:///{folder / 'archive.db'}", "--client-id", f"ground-{run_id}"]
        argv += ["--host", "127.0.0.1", "--log-format", "human"]
        ground = services["ground"] = _start("ground", argv, ground_env, folder)
        stack.callback(ground.stop)
        api = f"http://127.0.0.1:{api_port}"
        _wait(ground, "/health", lambda: _answers(f"{api}/api/v1/health"))

        spacecraft_env = {
            "LUPEX_SPACECRAFT_MQTT_PASSWORD": mosquitto.credential("spacecraft").password,
            "LUPEX_SPACECRAFT_MQTT_CLIENT_ID": f"spacecraft-{run_id}",
        }
        argv = [*LUPEX, "spacecraft", "--broker", mosquitto.url]
        argv += ["--speed", str(speed), "--epoch", epoch]
        spacecraft = services["spacecraft"] = _start("spacecraft", argv, spacecraft_env, folder)
        stack.callback(spacecraft.stop)

        dashboard_env = {"LUPEX_DASHBOARD_TOKEN": getattr(tokens, dashboard_role)}
        dashboard_env.update(extra_dashboard_env or {})
        argv = [*LUPEX, "dashboard", "--api", api, "--port", str(dashboard_port)]
        dashboard = services["dashboard"] = _start("dashboard", argv, dashboard_env, folder)
        stack.callback(dashboard.stop)
        url = f"http://127.0.0.1:{dashboard_port}"
        _wait(
            dashboard,
            "/_stcore/health",
            lambda: (
                accepts_connections("127.0.0.1", dashboard_port)
                and _answers(f"{url}/_stcore/health")
            ),
        )
        yield Stack(api, url, tokens, services, folder)

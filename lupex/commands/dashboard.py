"""``lupex dashboard``: run the Streamlit dashboard against a ground service.

A thin layer over ``streamlit run dashboard/app.py``: the options reach the app through
``LUPEX_DASHBOARD_*`` environment variables (the token never appears on the Streamlit command
line, so ``ps`` does not show it). Streamlit runs as a child process that this command waits for;
SIGINT and SIGTERM are forwarded to it, so a supervisor (``lupex demo``) stops it cleanly, and its
exit code becomes ours. Register it with ``app.command("dashboard")(dashboard)``.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

__all__ = ["dashboard", "streamlit_command"]

EXIT_USAGE = 2
STOP_GRACE_S = 10.0
POLL_S = 0.5


def app_path() -> Path:
    """``dashboard/app.py`` of the installed package (found without importing Streamlit)."""
    spec = importlib.util.find_spec("dashboard")
    if spec is None or spec.origin is None:
        msg = "the dashboard package is not installed"
        raise RuntimeError(msg)
    return Path(spec.origin).with_name("app.py")


def streamlit_command(port: int, host: str) -> list[str]:
    """The Streamlit command line (no secrets on it)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path()),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]


def dashboard(
    api: Annotated[
        str,
        typer.Option(
            help="Base URL of the ground service, e.g. http://127.0.0.1:8000 "
            "[env LUPEX_DASHBOARD_API].",
            envvar="LUPEX_DASHBOARD_API",
        ),
    ] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option(
            help="Bearer token for the ground's API; prefer the environment variable "
            "LUPEX_DASHBOARD_TOKEN, which other users cannot see.",
            envvar="LUPEX_DASHBOARD_TOKEN",
            show_envvar=False,
            show_default=False,
        ),
    ] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Dashboard HTTP port.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Run the Streamlit dashboard (live operations view) against a ground service."""
    if not api.startswith(("http://", "https://")):
        raise typer.BadParameter("must be an http:// or https:// URL", param_hint="--api")
    env = dict(os.environ)
    env["LUPEX_DASHBOARD_API"] = api
    if token:
        env["LUPEX_DASHBOARD_TOKEN"] = token
    else:
        env.pop("LUPEX_DASHBOARD_TOKEN", None)
        typer.echo("dashboard: no token given; the ground will answer 401", err=True)
    env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    # Streamlit runs every script run and fragment rerun on a new thread; glibc gives threads
    # their own malloc arenas (up to 8 per core), which holds on to freed memory and lets the
    # resident size creep up on a long live run. Two arenas keep it flat (bench/dashboard_memory).
    env.setdefault("MALLOC_ARENA_MAX", "2")
    typer.echo(f"dashboard: http://{host}:{port} (ground {api})")
    raise typer.Exit(run_child(streamlit_command(port, host), env))


def run_child(command: list[str], env: dict[str, str]) -> int:
    """Run ``command``, forwarding SIGINT/SIGTERM to it; its exit code (128+n for a signal)."""
    child = subprocess.Popen(command, env=env)  # noqa: S603 - our own interpreter and arguments
    forwarded: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        forwarded.append(signum)
        if child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    deadline: float | None = None
    try:
        while True:
            try:
                code = child.wait(timeout=POLL_S)
                break
            except subprocess.TimeoutExpired:
                if forwarded and deadline is None:
                    deadline = time.monotonic() + STOP_GRACE_S
                if deadline is not None and time.monotonic() > deadline:
                    child.kill()  # it ignored the forwarded signal for STOP_GRACE_S
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code

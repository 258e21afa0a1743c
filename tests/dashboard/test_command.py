"""``lupex dashboard``: the Streamlit command line, the token kept off it, signals forwarded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lupex.commands import dashboard as command
from tests.support.timeouts import timeout

CHILD = """
import signal, sys, time
def stop(signum, frame):
    print("got", signum, flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""


def test_the_streamlit_command_line_runs_the_app_headless_without_secrets() -> None:
    line = command.streamlit_command(8600, "0.0.0.0")
    assert line[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert Path(line[4]) == Path(command.__file__).parents[2] / "dashboard" / "app.py"
    assert Path(line[4]).is_file()
    assert line[line.index("--server.port") + 1] == "8600"
    assert line[line.index("--server.headless") + 1] == "true"
    assert not any("token" in part.lower() for part in line)


def test_options_reach_the_app_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def fake_run(line: list[str], env: dict[str, str]) -> int:
        seen["line"] = line
        seen["env"] = env
        return 0

    monkeypatch.setattr(command, "run_child", fake_run)
    monkeypatch.delenv("LUPEX_DASHBOARD_TOKEN", raising=False)
    import typer

    app = typer.Typer()
    app.command()(command.dashboard)
    result = CliRunner().invoke(
        app,
        ["--api", "http://127.0.0.1:8123", "--port", "8601"],
        env={"LUPEX_DASHBOARD_TOKEN": "tok-from-env-0123456789"},
    )
    assert result.exit_code == 0, result.output
    env = seen["env"]
    assert isinstance(env, dict)
    assert env["LUPEX_DASHBOARD_API"] == "http://127.0.0.1:8123"
    assert env["LUPEX_DASHBOARD_TOKEN"] == "tok-from-env-0123456789"
    assert "tok-from-env" not in result.output
    bad = CliRunner().invoke(app, ["--api", "ftp://x"])
    assert bad.exit_code == 2


def test_sigterm_is_forwarded_to_the_child_and_its_code_returned() -> None:
    # run_child installs signal handlers, which only a main thread may do: drive it from a
    # process of its own, as `lupex demo`'s supervisor does.
    line = [sys.executable, "-u", "-c", CHILD]
    driver = (
        "import os, sys; from lupex.commands.dashboard import run_child; "
        f"sys.exit(run_child({line!r}, dict(os.environ)))"
    )
    with subprocess.Popen(
        [sys.executable, "-c", driver], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout(30))
        assert proc.stdout.read().strip() == f"got {int(signal.SIGTERM)}"
    assert code == 0

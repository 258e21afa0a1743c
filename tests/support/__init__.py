"""Helpers that start real services for the tests, and the suite's skip policy.

- ``tests.support.mosquitto``: a Mosquitto broker started from ``deploy/mosquitto``;
- ``tests.support.postgres``: a throwaway PostgreSQL cluster;
- ``tests.support.chromium``: headless Chromium, directly or through Playwright;
- ``tests.support.ports`` and ``tests.support.timeouts``: free ports and scaled timeouts.

A missing service raises ``ServiceUnavailableError``: the tests that need it error out, they are
never skipped (and with ``CI=true`` a skip would fail the run anyway, see ``SkipPolicy``).
"""

from __future__ import annotations

import os
from typing import Final

import pytest

CI_ENV_VAR: Final = "CI"
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_PASSING: Final = (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)


class ServiceUnavailableError(RuntimeError):
    """A real service the tests need (binary, user, port) is not available on this machine."""


def ci_enabled(environ: dict[str, str] | None = None) -> bool:
    """Whether ``CI`` is set to a true value (``true``, ``1``, ``yes``, ``on``; any case)."""
    value = (os.environ if environ is None else environ).get(CI_ENV_VAR, "")
    return value.strip().lower() in _TRUE


class SkipPolicy:
    """A pytest plugin: when ``CI=true``, any skipped test or module fails the session.

    A skip hides a missing dependency or service behind a green run; in CI every test must run.
    Skips are counted from test reports (setup or call) and from collection reports (module-level
    ``pytest.skip``/``importorskip``). Expected failures (``xfail``) are not skips.
    """

    def __init__(self, *, enforce: bool | None = None) -> None:
        self.enforce: Final = ci_enabled() if enforce is None else enforce
        self.skipped: dict[str, str] = {}

    def _record(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
            self.skipped.setdefault(report.nodeid, reason.removeprefix("Skipped: "))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.enforce and self.skipped and session.exitstatus in _PASSING:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not (self.enforce and self.skipped):
            return
        terminalreporter.section("skip policy", sep="=", red=True, bold=True)
        terminalreporter.write_line(
            f"{CI_ENV_VAR}=true: {len(self.skipped)} skipped test(s) fail this run:", red=True
        )
        for nodeid, reason in self.skipped.items():
            terminalreporter.write_line(f"SKIPPED {nodeid or '<session>'}: {reason}", red=True)

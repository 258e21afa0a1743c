"""Fixtures of the dashboard's unit tests: a stub ground API and an AppTest runner per page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.components import PageContext
from dashboard.live import LiveFeed
from tests.dashboard.fake_ground import FakeGround

PageRunner = Callable[..., AppTest]


def _run_page(module: str, ctx: "PageContext") -> None:  # noqa: UP037 - AppTest copies this source
    """The script AppTest runs: one page's ``render`` with the test's context."""
    import importlib

    importlib.import_module(module).render(ctx)


@pytest.fixture
def ground() -> FakeGround:
    return FakeGround()


@pytest.fixture
def live() -> LiveFeed:
    """A live feed that is never started: the tests fold messages into it directly."""
    return LiveFeed("ws://ground.test/api/v1/stream", "secret-token-123456", capacity=50)


@pytest.fixture
def run_page(ground: FakeGround) -> PageRunner:
    """``run_page("overview", live=..., role=...)``: an AppTest of that page, already run."""

    def run(page: str, *, live: LiveFeed | None = None, role: str | None = None) -> AppTest:
        ctx = ground.context(live=live, role=role)
        app = AppTest.from_function(
            _run_page, args=(f"dashboard.views.{page}", ctx), default_timeout=30
        )
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        return app

    return run

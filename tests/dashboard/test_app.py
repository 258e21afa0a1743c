"""The app shell: navigation, sidebar, and one live feed per process however often it reruns."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.live import LiveFeed
from tests.dashboard.helpers import texts
from tests.support.ports import free_port

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
TOKEN = "app-test-token-0123456789"


def feed_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "lupex-live-feed" and t.is_alive()]


@pytest.fixture
def unreachable_ground(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Settings pointing at a port where nothing listens; the feed is stopped afterwards."""
    api = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("LUPEX_DASHBOARD_API", api)
    monkeypatch.setenv("LUPEX_DASHBOARD_TOKEN", TOKEN)
    monkeypatch.setenv("LUPEX_DASHBOARD_TIMEOUT_S", "2")
    before = set(feed_threads())
    yield api
    for thread in set(feed_threads()) - before:
        target = getattr(thread, "_target", None)
        feed = getattr(target, "__self__", None)
        if isinstance(feed, LiveFeed):
            feed.stop()


def test_the_app_navigates_and_says_the_ground_is_unreachable(unreachable_ground: str) -> None:
    before = len(feed_threads())
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert [t.value for t in app.title] == ["LUPEX mission control"]  # the default page
    sidebar = "\n".join(str(getattr(e, "value", "")) for e in app.sidebar.get("markdown"))
    assert "Ground service unreachable" in sidebar
    captions = "\n".join(str(getattr(e, "value", "")) for e in app.sidebar.get("caption"))
    assert "app-…(25 chars)" in captions  # the token, masked
    assert TOKEN not in texts(app) + captions
    assert any("Ground service unreachable" in str(e.value) for e in app.error)
    # However often the app reruns, it keeps the one feed thread of the process.
    app.run()
    app.run()
    assert len(feed_threads()) == before + 1

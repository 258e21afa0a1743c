"""Headless Chromium runs here: it renders a page served on a free port and takes a screenshot."""

from __future__ import annotations

import functools
import http.server
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ServiceUnavailableError
from tests.support.chromium import (
    chromium_path,
    command_line,
    fresh_user_data_dir,
    launch_async,
    launch_sync,
)
from tests.support.ports import free_port
from tests.support.timeouts import timeout

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>LUPEX smoke test</title></head>
<body><h1 id="greeting">Hello from the Moon's south pole</h1>
<p id="computed"></p>
<script>document.getElementById("computed").textContent = "6 x 7 = " + (6 * 7);</script>
</body></html>
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """A tiny static site on a free port of 127.0.0.1, served from a thread."""
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_playwright_drives_the_system_chromium(site: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "browser_smoke.png"
    screenshot.unlink(missing_ok=True)
    with launch_sync() as context:
        page = context.new_page()
        page.goto(site, timeout=timeout(30) * 1000)
        title = page.title()
        greeting = page.locator("#greeting").inner_text()
        computed = page.locator("#computed").inner_text()
        page.screenshot(path=screenshot)
    assert title == "LUPEX smoke test"
    assert greeting == "Hello from the Moon's south pole"
    assert computed == "6 x 7 = 42"  # the page's script ran
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_the_async_launcher_renders_too(site: str) -> None:
    async with launch_async() as context:
        page = await context.new_page()
        await page.goto(site, timeout=timeout(30) * 1000)
        computed = await page.locator("#computed").inner_text()
    assert computed == "6 x 7 = 42"


def test_chromium_command_line_dumps_the_dom(site: str, tmp_path: Path) -> None:
    profile = fresh_user_data_dir(tmp_path)
    result = subprocess.run(
        command_line("--dump-dom", site, user_data_dir=profile),
        capture_output=True,
        text=True,
        timeout=timeout(60),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "6 x 7 = 42" in result.stdout


def test_a_missing_chromium_is_an_error_not_a_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUPEX_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(ServiceUnavailableError, match="LUPEX_CHROMIUM"):
        chromium_path()

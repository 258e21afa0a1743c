"""Headless Chromium for the end-to-end tests: the Debian package, driven by Playwright.

Playwright's Python package drives the system Chromium through ``executable_path``; nothing is
downloaded (never run ``playwright install``). Run headless as root, Chromium needs the flags in
``CHROMIUM_ARGS`` and a fresh profile folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Final

from tests.support import ServiceUnavailableError

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext as AsyncBrowserContext
    from playwright.sync_api import BrowserContext

DEFAULT_CHROMIUM: Final = "/usr/bin/chromium"

CHROMIUM_ARGS: Final[tuple[str, ...]] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
)
"""Flags for headless Chromium as root on a machine without a display or network access."""


def chromium_path() -> str:
    """The Chromium executable: ``LUPEX_CHROMIUM``, else ``/usr/bin/chromium``, else ``PATH``."""
    if configured := os.environ.get("LUPEX_CHROMIUM"):
        if not os.access(configured, os.X_OK):
            msg = f"LUPEX_CHROMIUM={configured} is not an executable"
            raise ServiceUnavailableError(msg)
        return configured
    for candidate in (DEFAULT_CHROMIUM, shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    msg = (
        "Chromium is not installed: install the Debian package 'chromium' (.ci/run does) "
        "or point LUPEX_CHROMIUM at the executable"
    )
    raise ServiceUnavailableError(msg)


def fresh_user_data_dir(parent: Path | None = None) -> Path:
    """A new, empty Chromium profile folder (the caller deletes it)."""
    return Path(tempfile.mkdtemp(prefix="lupex-chromium-", dir=parent))


def command_line(*extra: str, user_data_dir: Path) -> list[str]:
    """A Chromium command line with ``CHROMIUM_ARGS``, a profile folder and ``extra`` flags."""
    return [chromium_path(), *CHROMIUM_ARGS, f"--user-data-dir={user_data_dir}", *extra]


@contextmanager
def launch_sync(*, user_data_dir: Path | None = None) -> Iterator[BrowserContext]:
    """Playwright (sync API) driving the system Chromium with a fresh profile.

    Yields a persistent browser context (Playwright takes the profile folder as an argument of
    ``launch_persistent_context``, not as a flag). Do not call it from a running event loop.
    """
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    profile = user_data_dir or fresh_user_data_dir()
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=executable,
                headless=True,
                args=list(CHROMIUM_ARGS),
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        if user_data_dir is None:
            shutil.rmtree(profile, ignore_errors=True)


@asynccontextmanager
async def launch_async(*, user_data_dir: Path | None = None) -> AsyncIterator[AsyncBrowserContext]:
    """Playwright (async API) driving the system Chromium with a fresh profile."""
    from playwright.async_api import async_playwright

    executable = chromium_path()
    profile = user_data_dir or fresh_user_data_dir()
    try:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=executable,
                headless=True,
                args=list(CHROMIUM_ARGS),
            )
            try:
                yield context
            finally:
                await context.close()
    finally:
        if user_data_dir is None:
            shutil.rmtree(profile, ignore_errors=True)

"""The dashboard in a real headless Chromium, against the real ground, broker and spacecraft mock.

One system per module (``tests.dashboard.stack``): Mosquitto from the shipped configuration, the
ground service, the mock at 50× and the dashboard, each its own process. Playwright waits on
page conditions (``expect`` with time-outs), never on fixed sleeps. Each page is captured into
``artifacts/screenshots/`` and copied to ``docs/images/dashboard-<page>.png`` for the README.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pytest
from playwright.sync_api import Locator, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.dashboard.stack import Stack, running_stack
from tests.support.chromium import launch_sync
from tests.support.mosquitto import MosquittoServer
from tests.support.timeouts import timeout

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT: Final = Path(__file__).resolve().parents[2]
SCREENSHOTS: Final = ROOT / "artifacts" / "screenshots"
DOC_IMAGES: Final = ROOT / "docs" / "images"
VIEWPORT: Final = {"width": 1440, "height": 1000}
LIVE_MS: Final = timeout(240) * 1000
"""Waits on the simulation through the whole chain (mock → broker → ground → dashboard)."""
PAGE_MS: Final = timeout(60) * 1000
FITS: Final = (
    "() => { const m = document.querySelector('[data-testid=stMain]');"
    " const drawn = s => Array.from(document.querySelectorAll(s))"
    "   .every(e => e.getClientRects().length === 0 || e.offsetWidth > 200);"  # hidden, or laid out
    " return m && m.clientHeight >= Math.min(m.scrollHeight, 3200) - 2"
    " && drawn('[data-testid=stDataFrame]') && drawn('[data-testid=stVegaLiteChart]'); }"
)
"""The page fits the window and its tables and charts have been laid out."""
"""Waits on one page to draw."""


@pytest.fixture(scope="module")
def stack(mosquitto: MosquittoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(mosquitto, tmp_path_factory.mktemp("dashboard-stack")) as running:
        yield running
        running.check()  # nothing died during the tests


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserContext]:
    with launch_sync() as context:
        yield context


@pytest.fixture
def page(browser: BrowserContext, stack: Stack) -> Iterator[Page]:
    page = browser.new_page()
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]  # a ViewportSize TypedDict
    page.set_default_timeout(PAGE_MS)
    try:
        yield page
    finally:
        page.close()


def open_page(page: Page, stack: Stack, path: str, heading: str) -> None:
    page.goto(f"{stack.dashboard}/{path}")
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=PAGE_MS)


def metric(page: Page, label: str) -> Locator:
    """The value of the first metric whose label starts with ``label``."""
    labelled = page.get_by_test_id("stMetricLabel").filter(
        has_text=re.compile("^" + re.escape(label))
    )
    return (
        page.get_by_test_id("stMetric").filter(has=labelled).first.get_by_test_id("stMetricValue")
    )


def choose(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the select box labelled ``label`` (typing filters the list)."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=re.compile(re.escape(option))).first.click()
    expect(box).to_have_value(re.compile(re.escape(option)))


def capture(page: Page, name: str) -> Path:
    """A screenshot of the whole page into artifacts/screenshots/, copied to docs/images/.

    Streamlit scrolls its main block, not the document, so a "full page" screenshot would stop
    at the window: the window is made as tall as the content for the shot, then put back.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    for _ in range(4):  # live content may grow while the window is resized: measure again
        height = page.evaluate(
            "() => document.querySelector('[data-testid=stMain]')?.scrollHeight ?? 0"
        )
        size = {"width": VIEWPORT["width"], "height": min(max(height, 1000), 3200)}
        page.set_viewport_size(size)  # type: ignore[arg-type]  # a ViewportSize TypedDict
        try:
            page.wait_for_function(FITS, timeout=timeout(10) * 1000)
            break
        except PlaywrightTimeoutError:
            continue
    shot = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=shot, full_page=True, animations="disabled")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]  # a ViewportSize TypedDict
    shutil.copyfile(shot, DOC_IMAGES / f"dashboard-{name}.png")
    return shot


STREAMED_JS = (
    "() => Math.max(0, ...Array.from("
    "document.querySelectorAll('[data-testid=stCaptionContainer]')).map(e => {"
    " const m = e.innerText.match(/([\\d,]+) values/);"
    " return m ? Number(m[1].replaceAll(',', '')) : 0; }))"
)
"""The count of streamed values the page shows (the largest, should Streamlit still be showing a
stale copy of the caption while it redraws)."""


# ----------------------------------------------------------------------------------------- tests
def test_overview_shows_live_values_that_change(page: Page, stack: Stack) -> None:
    open_page(page, stack, "", "LUPEX mission control")
    clock = metric(page, "Mission time")
    expect(clock).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"), timeout=LIVE_MS)
    expect(metric(page, "Speed")).to_have_text("×50", timeout=LIVE_MS)
    expect(metric(page, "Battery")).to_have_text(re.compile(r"^\d+\.\d %$"), timeout=LIVE_MS)
    expect(metric(page, "Avionics temp.")).to_have_text(re.compile(r"^-?\d+\.\d °C$"))
    expect(metric(page, "One-way light time")).to_have_text(re.compile(r"^1\.\d{3} s$"))
    expect(page.get_by_text("Live stream connected").first).to_be_visible(timeout=LIVE_MS)
    first_time = clock.inner_text()
    first = page.wait_for_function(f"() => ({STREAMED_JS})() || false", timeout=LIVE_MS)
    first_count = int(first.json_value())
    # The page redraws itself (no reload): the mission clock moves and values keep streaming.
    expect(clock).not_to_have_text(first_time, timeout=LIVE_MS)
    later = page.wait_for_function(
        f"n => {{ const v = ({STREAMED_JS})(); return v > n ? v : false; }}",
        arg=first_count,
        timeout=LIVE_MS,
    )
    assert int(later.json_value()) > first_count
    capture(page, "overview")


def test_a_command_sent_from_the_form_reaches_completed(page: Page, stack: Stack) -> None:
    open_page(page, stack, "commands", "Commands")
    choose(page, "Command", "rover.obsw.are_you_alive")
    form = page.get_by_test_id("stForm")
    expect(form).to_contain_text("rover.obsw.are_you_alive · PUS 17,1")  # redrawn for it
    form.get_by_role("button", name="Send command").click()
    expect(page.get_by_text("accepted by the ground as")).to_be_visible(timeout=PAGE_MS)
    expect(page.get_by_text(re.compile(r"rover\.obsw\.are_you_alive is completed"))).to_be_visible(
        timeout=LIVE_MS
    )
    sent = stack.get("/commands?limit=5", role="viewer").json()
    (command,) = [c for c in sent if c["name"] == "rover.obsw.are_you_alive"]
    stages = [s["stage"] for s in command["stages"]]
    assert stages[0] == "queued"
    assert stages[-1] == "completed"
    assert {"sent", "accepted", "started"} <= set(stages)
    capture(page, "commands")


def test_a_fault_injected_from_the_training_page_raises_its_alarm(page: Page, stack: Stack) -> None:
    open_page(page, stack, "training", "Training")
    page.get_by_role("tab", name="Single fault").click()
    choose(page, "Fault", "battery_cell_failure")
    expect(page.get_by_text("cells of the rover's 8-cell", exact=False).first).to_be_visible()
    page.get_by_role("button", name="Inject fault").click()
    expect(page.get_by_text("Fault battery_cell_failure injected").first).to_be_visible()
    expect(page.get_by_text("battery_cell_failure#1").first).to_be_visible()  # now active
    capture(page, "training")

    open_page(page, stack, "alarms", "Alarms and events")
    alarm = page.get_by_test_id("stMarkdownContainer").filter(has_text="rover.power.charge_state")
    expect(alarm.first).to_be_visible(timeout=LIVE_MS)  # FAULT is a red state alarm
    expect(alarm.first).to_contain_text("state raised")
    capture(page, "alarms")
    alarms = stack.get("/alarms", role="viewer").json()
    assert any(a["parameter"] == "rover.power.charge_state" for a in alarms)


PAGES: Final = [
    ("telemetry", "Telemetry", "stVegaLiteChart"),
    ("rover", "Rover traverse", "stVegaLiteChart"),
    ("antennas", "Antennas and passes", "stVegaLiteChart"),
]


@pytest.mark.parametrize(("path", "heading", "ready"), PAGES)
def test_every_page_draws_live_data(
    page: Page, stack: Stack, path: str, heading: str, ready: str
) -> None:
    open_page(page, stack, path, heading)
    expect(page.get_by_test_id(ready).first).to_be_visible(timeout=LIVE_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    if path == "rover":
        expect(metric(page, "Position east")).to_have_text(re.compile(r"^-?\d+\.\d m$"))
    if path == "antennas":
        expect(page.get_by_text(re.compile(r"rover via \w+"))).to_be_visible(timeout=LIVE_MS)
    capture(page, path)

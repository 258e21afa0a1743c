"""Dashboard memory (issue 6): the Streamlit server's RSS over a live run with a browser attached.

1. Starts the whole system as ``lupex demo`` does (``tests.dashboard.stack``): Mosquitto from the
   shipped configuration, the ground service, the spacecraft mock at a high speed and the
   dashboard (``lupex dashboard``), each its own process.
2. Opens headless Chromium (``tests.support.chromium``) with two tabs: one stays on the overview,
   the other walks through every page in turn, so every live fragment and page switch runs.
3. Samples the resident set size of the Streamlit server process every few seconds for the
   whole run, and the number of live values the dashboard has received (its sidebar counter).

Prints one JSON object: RSS at the start, peak and end, the slope of a least-squares line over
the whole run and over the run after the first quarter (warm-up: imports, caches, ring buffers
filling), CPU, and the stream rate the dashboard kept up with.

    python -m bench.dashboard_memory [--minutes 10] [--speed 100] [--interval 5]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import numpy as np
import psutil

from bench.common import emit, log

PAGES: Final = ("", "telemetry", "rover", "antennas", "commands", "alarms", "training")
PAGE_DWELL_S: Final = 20.0
"""How long the walking tab stays on each page."""
MIB: Final = 1024.0 * 1024.0


def slope_mib_per_hour(times: list[float], rss: list[float]) -> float:
    """Least-squares slope of RSS (MiB) against time, in MiB per hour."""
    if len(times) < 2:
        return 0.0
    fit = np.polyfit(np.asarray(times), np.asarray(rss), 1)
    return float(fit[0]) * 3600.0


def values_received(page: Any) -> int | None:
    """The dashboard's own count of live values received (its sidebar caption)."""
    try:
        text = page.get_by_text(re.compile(r"[\d,]+ values")).first.inner_text(timeout=5000)
    except Exception:  # a page mid-redraw: no reading this time
        return None
    found = re.search(r"([\d,]+) values", text)
    return int(found.group(1).replace(",", "")) if found else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="Length of the run.")
    parser.add_argument("--speed", type=float, default=100.0, help="Simulation speed factor.")
    parser.add_argument("--interval", type=float, default=5.0, help="Seconds between samples.")
    args = parser.parse_args(argv)

    from playwright.sync_api import expect

    from tests.dashboard.stack import running_stack
    from tests.support.chromium import launch_sync
    from tests.support.mosquitto import MosquittoServer

    duration = args.minutes * 60.0
    with (
        tempfile.TemporaryDirectory(prefix="lupex-bench-dashboard-") as folder,
        MosquittoServer() as broker,
        running_stack(broker, Path(folder), speed=args.speed) as stack,
        launch_sync() as browser,
    ):
        server = psutil.Process(stack.streamlit_pid())
        log(f"dashboard at {stack.dashboard}, Streamlit pid {server.pid}, speed {args.speed}")
        watcher = browser.new_page()
        walker = browser.new_page()
        for page in (watcher, walker):
            page.set_viewport_size({"width": 1440, "height": 1000})
        watcher.goto(stack.dashboard)
        expect(watcher.get_by_text("Live stream connected").first).to_be_visible(timeout=120_000)

        times: list[float] = []
        rss: list[float] = []
        counts: list[tuple[float, int]] = []
        server.cpu_percent(None)
        cpu: list[float] = []
        started = time.monotonic()
        next_page_at = started
        page_index = 0
        while (now := time.monotonic()) - started < duration:
            if now >= next_page_at:
                walker.goto(f"{stack.dashboard}/{PAGES[page_index % len(PAGES)]}")
                page_index += 1
                next_page_at = now + PAGE_DWELL_S
            stack.check()
            elapsed = time.monotonic() - started
            times.append(elapsed)
            rss.append(server.memory_info().rss / MIB)
            cpu.append(server.cpu_percent(None))
            received = values_received(watcher)
            if received is not None:
                counts.append((elapsed, received))
            if len(times) % 12 == 1:
                log(f"t={elapsed:6.0f} s  RSS {rss[-1]:7.1f} MiB  values {received}")
            # Sample on a fixed cadence: the browser tabs keep the dashboard busy meanwhile.
            time.sleep(max(0.0, started + len(times) * args.interval - time.monotonic()))

    warm = len(times) // 4
    rate = None
    if len(counts) >= 2:
        (t0, c0), (t1, c1) = counts[0], counts[-1]
        rate = round((c1 - c0) / (t1 - t0), 1) if t1 > t0 else None
    emit(
        {
            "duration_s": round(times[-1], 1),
            "minutes_asked": args.minutes,
            "speed": args.speed,
            "interval_s": args.interval,
            "samples": len(times),
            "pages_visited": page_index,
            "browser_tabs": 2,
            "rss_mib": {
                "start": round(rss[0], 1),
                "peak": round(max(rss), 1),
                "end": round(rss[-1], 1),
                "after_warmup_start": round(rss[warm], 1),
            },
            "slope_mib_per_hour": {
                "whole_run": round(slope_mib_per_hour(times, rss), 2),
                "after_warmup": round(slope_mib_per_hour(times[warm:], rss[warm:]), 2),
            },
            "cpu_percent": {
                "mean": round(float(np.mean(cpu[1:])) if len(cpu) > 1 else 0.0, 1),
                "max": round(max(cpu[1:], default=0.0), 1),
            },
            "live_values_per_s": rate,
            "series_rss_mib": [round(x, 1) for x in rss],
        }
    )


if __name__ == "__main__":
    main(sys.argv[1:])

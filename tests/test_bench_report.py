"""docs/performance.md and the README's summary are rendered from the stored results only."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import SUMMARY_END, SUMMARY_START, render, render_summary, with_summary


def _store(folder: Path, name: str, result: dict[str, object]) -> None:
    record = {
        "name": name,
        "command": f"lupex bench run {name}",
        "module_command": f"python -m bench.{name}",
        "started": "2026-11-22T08:00:00Z",
        "wall_seconds": 12.5,
        "machine": {"python": "3.11", "cpus": 2, "memory_gib": 8.0},
        "result": result,
    }
    (folder / f"{name}.json").write_text(json.dumps(record))


def test_figures_come_from_the_results_and_misses_are_marked(tmp_path: Path) -> None:
    _store(tmp_path, "latency", {"websocket": {"p50_ms": 31.5, "p99_ms": 80.0, "lost": 0},
                                 "mqtt_baseline": {"p50_ms": 2.0, "p99_ms": 9.0}})  # fmt: skip
    page = render(tmp_path)
    assert "`lupex bench run latency`" in page
    assert "| publication → WebSocket, p50 | 31.500 ms | 2.000 ms bare MQTT subscriber |" in page
    assert "| ≤ 20 ms | **no** |" in page  # p50 above its target
    assert "| ≤ 100 ms | yes |" in page
    assert page.count("_Not measured yet._") == 6  # the other benchmarks
    summary = render_summary(tmp_path)
    assert "31.500 ms" in summary
    assert summary.count("not measured yet") == 6


def test_simulation_speed_is_judged_against_the_speed_asked(tmp_path: Path) -> None:
    _store(tmp_path, "sim_speed", {
        "speed": 1000.0,
        "baseline_world_alone": {"speed": 2400.0, "frames": 100},
        "alone": {"speed_achieved": 995.0, "max_lag_wall_s": 0.03,
                  "spacecraft_process": {"cpu_percent_mean": 60.0}},
        "with_ground": {"speed_achieved": 640.0, "max_lag_wall_s": 9.9, "frames_received": 99},
    })  # fmt: skip
    page = render(tmp_path)
    assert (
        "| speed achieved, spacecraft alone | 995 × | 2,400× (world stepped alone) | ≥ 990× | yes |"
        in page
    )
    assert "| speed achieved, ground ingesting too | 640 × |" in page
    assert page.count("| ≥ 990× | **no** |") == 1
    assert "| frames received / published (with ground) | 99 / 100 |" in page


def test_the_readme_block_is_replaced_and_nothing_else(tmp_path: Path) -> None:
    _store(tmp_path, "history", {"history": {"history": {"median_ms": 12.0},
                                             "group_by": {"median_ms": 700.0}}})  # fmt: skip
    readme = f"# Title\n\n{SUMMARY_START}\nold figures\n{SUMMARY_END}\n\n## After\n"
    once = with_summary(readme, render_summary(tmp_path))
    assert "old figures" not in once
    assert "12.000 ms" in once
    assert once.startswith("# Title\n")
    assert once.endswith(f"{SUMMARY_END}\n\n## After\n")
    assert with_summary(once, render_summary(tmp_path)) == once

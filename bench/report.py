"""Render docs/performance.md from the stored benchmark results (bench/results/*.json).

The numbers in the report come only from those files, which ``lupex bench run`` writes with the
command that produced them and the machine they ran on. Nothing here is typed in by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

ABOUT: Final[dict[str, tuple[str, str]]] = {
    "decode": (
        "Decode throughput (issue 2)",
        "Frames → packets → decoded, calibrated values for a realistic mix of the mission "
        "database's packets, beside raw `struct.unpack` of the same bytes measured in the same "
        "run. Target: within 3× of the raw unpack cost per packet, calibration included.",
    ),
    "history": (
        "History query (issue 4)",
        "24 h of a 10 Hz parameter (864,000 samples) into 1,000 buckets from the columnar "
        "parameter archive, beside a plain SQL `GROUP BY` over per-sample rows in the same run. "
        "Target: ≤ 50 ms.",
    ),
    "ingest": (
        "Sustained ingest (issue 4)",
        "Frames through a real Mosquitto at QoS 1 into the SQLite archive for ≥ 60 s, checked for "
        "zero lost or duplicated packets, beside a bare aiomqtt subscriber counting the same "
        "messages. Target: ≥ 20,000 packets/s and ≥ 400,000 samples/s on this 2-core machine.",
    ),
    "latency": (
        "Publication → WebSocket latency (issue 4)",
        "At 1,000 packets/s, from publication to a WebSocket client, beside a bare MQTT "
        "subscriber's publication → receipt latency. Target: p50 ≤ 20 ms, p99 ≤ 100 ms.",
    ),
    "overload": (
        "Overload (issue 4)",
        "Publishing at twice the sustainable rate for 60 s: peak RSS, archive completeness and "
        "WebSocket drops.",
    ),
    "sim_speed": (
        "Simulation speed (issue 3)",
        "`lupex spacecraft --speed 1000` on a real Mosquitto with a station pass in view, alone "
        "and with the ground ingesting every frame on the same machine, beside the world stepped "
        "alone (no clock, no I/O) in the same run. Target: the speed asked, within 1 %.",
    ),
    "dashboard_memory": (
        "Dashboard memory (issue 6)",
        "RSS of the Streamlit server over a 10-minute live run at high speed with a browser "
        "attached.",
    ),
}


Row = tuple[str, object, str, object, str, object]
"""metric, value, unit, same-run baseline, target, met."""


def _get(result: dict[str, Any], path: str) -> Any:
    value: Any = result
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _at_most(value: Any, limit: float) -> bool | None:
    return None if not isinstance(value, int | float) else value <= limit


def _at_least(value: Any, limit: float) -> bool | None:
    return None if not isinstance(value, int | float) else value >= limit


def _ten_minutes(r: dict[str, Any]) -> bool | None:
    """Whether the samples cover 10 minutes, to one sampling interval (the first sample is taken
    an interval after the start)."""
    duration, interval = _get(r, "duration_s"), _get(r, "interval_s") or 0.0
    if not isinstance(duration, int | float):
        return None
    return bool(duration + interval >= 600.0)


def _headline(name: str, r: dict[str, Any]) -> list[Row]:
    """The figures each issue asks for, with the same-run baseline and the target."""
    if name == "decode":
        ratio = _get(r, "ratio_per_packet")
        return [
            ("CPU per packet (decode + calibration)", _get(r, "project.us_per_packet"), "µs",
             f"{_fmt(_get(r, 'raw_struct_unpack.us_per_packet'))} µs raw struct.unpack", "", ""),
            ("ratio to raw unpack", ratio, "×", "", "≤ 3×", _at_most(ratio, 3.0)),
            ("packets/s", _get(r, "project.packets_per_s"), "",
             _fmt(_get(r, "raw_struct_unpack.packets_per_s")), "", ""),
            ("samples/s", _get(r, "project.samples_per_s"), "", "", "", ""),
            ("ratio with limit checks too", _get(r, "ratio_with_limits"), "×", "", "", ""),
        ]  # fmt: skip
    if name == "history":
        median = _get(r, "history.history.median_ms")
        return [
            ("24 h of 10 Hz into 1,000 buckets, median", median, "ms",
             f"{_fmt(_get(r, 'history.group_by.median_ms'))} ms SQL GROUP BY", "≤ 50 ms",
             _at_most(median, 50.0)),
            ("speed-up over GROUP BY", _get(r, "history.speedup"), "×", "", "", ""),
        ]  # fmt: skip
    if name == "ingest":
        pps, sps = _get(r, "packets_per_s"), _get(r, "samples_per_s")
        bare = _get(r, "ceiling.bare_packets_per_s_equivalent")
        return [
            ("packets/s, whole run", pps, "", f"{_fmt(bare)} (bare aiomqtt subscriber)",
             "≥ 20,000", _at_least(pps, 20_000)),
            ("samples/s", sps, "", "", "≥ 400,000", _at_least(sps, 400_000)),
            ("frames/s", _get(r, "frames_per_s"), "",
             f"{_fmt(_get(r, 'ceiling.bare_frames_per_s'))} (bare)", "", ""),
            ("run length", _get(r, "seconds"), "s", "", "≥ 60 s",
             _at_least(_get(r, "seconds"), 60)),
            ("lost / duplicated packets",
             f"{_get(r, 'checks.lost')} / {_get(r, 'checks.duplicated')}", "", "", "0 / 0",
             _get(r, "zero_loss")),
            ("ground CPU, mean", _get(r, "ground_process.cpu_percent_mean"), "%", "", "", ""),
            ("ground peak RSS (with its archive writer)", _get(r, "ground_process.rss_peak_mib"),
             "MiB", "", "", ""),
        ]  # fmt: skip
    if name == "latency":
        p50, p99 = _get(r, "websocket.p50_ms"), _get(r, "websocket.p99_ms")
        return [
            ("publication → WebSocket, p50", p50, "ms",
             f"{_fmt(_get(r, 'mqtt_baseline.p50_ms'))} ms bare MQTT subscriber", "≤ 20 ms",
             _at_most(p50, 20.0)),
            ("publication → WebSocket, p99", p99, "ms",
             f"{_fmt(_get(r, 'mqtt_baseline.p99_ms'))} ms bare MQTT subscriber", "≤ 100 ms",
             _at_most(p99, 100.0)),
            ("values lost", _get(r, "websocket.lost"), "", "", "0",
             _get(r, "websocket.lost") == 0),
        ]  # fmt: skip
    if name == "overload":
        return [
            ("offered (2 × sustainable)", _get(r, "offered_packets_per_s"), "packets/s", "", "",
             ""),
            ("ground peak RSS", _get(r, "ground_rss_peak_mib"), "MiB", "", "bounded", ""),
            ("lost / duplicated packets",
             f"{_get(r, 'checks.lost')} / {_get(r, 'checks.duplicated')}", "", "", "0 / 0",
             _get(r, "nothing_lost")),
            ("WebSocket drops counted (metric)", _get(r, "websocket.dropped_total_metric"), "",
             "", "> 0 for the slow client",
             _at_least(_get(r, "websocket.dropped_total_metric"), 1)),
            ("catch-up after the publisher stopped", _get(r, "catch_up_seconds_after_publisher"),
             "s", "", "", ""),
        ]  # fmt: skip
    if name == "sim_speed":
        asked = _get(r, "speed")
        floor = None if not isinstance(asked, int | float) else 0.99 * asked
        alone, ground = _get(r, "alone.speed_achieved"), _get(r, "with_ground.speed_achieved")
        bare = f"{_fmt(_get(r, 'baseline_world_alone.speed'))}× (world stepped alone)"
        target = f"≥ {_fmt(floor)}×" if floor is not None else ""
        return [
            ("speed achieved, spacecraft alone", alone, "×", bare, target,
             None if floor is None else _at_least(alone, floor)),
            ("speed achieved, ground ingesting too", ground, "×", bare, target,
             None if floor is None else _at_least(ground, floor)),
            ("largest lag reported (alone / with ground)",
             f"{_fmt(_get(r, 'alone.max_lag_wall_s'))} / "
             f"{_fmt(_get(r, 'with_ground.max_lag_wall_s'))}", "s of wall time", "", "", ""),
            ("frames received / published (with ground)",
             f"{_fmt(_get(r, 'with_ground.frames_received'))} / "
             f"{_fmt(_get(r, 'baseline_world_alone.frames'))}", "", "", "", ""),
            ("spacecraft CPU, mean (alone)", _get(r, "alone.spacecraft_process.cpu_percent_mean"),
             "%", "", "", ""),
        ]  # fmt: skip
    if name == "dashboard_memory":
        return [
            ("Streamlit RSS start → end", f"{_fmt(_get(r, 'rss_mib.start'))} → "
             f"{_fmt(_get(r, 'rss_mib.end'))}", "MiB", "", "", ""),
            ("RSS peak", _get(r, "rss_mib.peak"), "MiB", "", "", ""),
            ("growth after warm-up", _get(r, "slope_mib_per_hour.after_warmup"), "MiB/h", "",
             "no steady growth", ""),
            ("run length (first to last RSS sample)", _get(r, "duration_s"), "s", "",
             "10-minute run", _ten_minutes(r)),
        ]  # fmt: skip
    return []


def _flatten(value: object, prefix: str = "") -> list[tuple[str, object]]:
    if isinstance(value, dict):
        rows: list[tuple[str, object]] = []
        for k in value:
            rows += _flatten(value[k], f"{prefix}.{k}" if prefix else str(k))
        return rows
    if isinstance(value, list) and len(value) > 8:
        return [(prefix, f"[{len(value)} values]")]
    return [(prefix, value)]


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def render(results_dir: Path) -> str:
    out = [
        "# Performance",
        "",
        "Generated by `lupex bench report` from `bench/results/*.json`; every figure below was",
        "measured by the command shown, on the machine described with it. This machine is shared,",
        "so each benchmark measures its baseline in the same run and the ratios matter more than",
        "absolute times. Run everything again with `make bench` (`lupex bench run all`).",
        "",
    ]
    files = {p.stem: p for p in sorted(results_dir.glob("*.json"))} if results_dir.exists() else {}
    for name, (title, about) in ABOUT.items():
        out += [f"## {title}", "", about, ""]
        path = files.get(name)
        if path is None:
            out += ["_Not measured yet._", ""]
            continue
        record = json.loads(path.read_text())
        machine = record.get("machine", {})
        out += [
            f"- Command: `{record['command']}` (runs `{record['module_command']}`)",
            f"- Run: {record['started']}, {record['wall_seconds']} s wall time; "
            f"Python {machine.get('python')}, {machine.get('cpus')} CPUs, "
            f"{machine.get('memory_gib')} GiB; load average (1, 5, 15 min) before: "
            f"{machine.get('load_average_before')}, after: {machine.get('load_average_after')}",
            "",
        ]
        result = record["result"]
        rows = _headline(name, result) if isinstance(result, dict) else []
        if rows:
            out += [
                "| figure | value | baseline (same run) | target | met |",
                "|---|---|---|---|---|",
            ]
            for metric, value, unit, baseline, target, met in rows:
                shown = "" if value is None else f"{_fmt(value)} {unit}".strip()
                verdict = "yes" if met is True else "**no**" if met is False else ""
                out.append(f"| {metric} | {shown} | {_fmt(baseline)} | {target} | {verdict} |")
            out.append("")
        details = result
        out += ["<details><summary>All figures</summary>", "", "| key | value |", "|---|---|"]
        out += [f"| {k} | {_fmt(v)} |" for k, v in _flatten(details)]
        out += ["", "</details>", ""]
        notes = result.get("notes") if isinstance(result, dict) else None
        if isinstance(notes, list):
            out += [f"- {n}" for n in notes] + [""]
    return "\n".join(out).rstrip() + "\n"


SUMMARY_START: Final = "<!-- performance-summary -->"
SUMMARY_END: Final = "<!-- /performance-summary -->"


def render_summary(results_dir: Path) -> str:
    """The figures that have a target, one table for the README (between the markers)."""
    out = ["| benchmark | figure | measured | same-run baseline | target | met |"]
    out.append("|---|---|---|---|---|---|")
    for name, (title, _) in ABOUT.items():
        path = results_dir / f"{name}.json"
        if not path.exists():
            out.append(f"| {title} | | not measured yet | | | |")
            continue
        record = json.loads(path.read_text())
        for metric, value, unit, baseline, target, met in _headline(name, record["result"]):
            if not target:
                continue
            shown = "" if value is None else f"{_fmt(value)} {unit}".strip()
            verdict = "yes" if met is True else "**no**" if met is False else ""
            out.append(
                f"| {title} | {metric} | {shown} | {_fmt(baseline)} | {target} | {verdict} |"
            )
    return "\n".join(out) + "\n"


def with_summary(readme: str, summary: str) -> str:
    """``readme`` with the block between the summary markers replaced by ``summary``."""
    start = readme.index(SUMMARY_START) + len(SUMMARY_START)
    end = readme.find(SUMMARY_END, start)
    tail = readme[end:] if end >= 0 else SUMMARY_END + readme[start:]
    return readme[:start] + "\n" + summary + tail

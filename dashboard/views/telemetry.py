"""Telemetry: browse the mission database, plot live values and bucketed history.

- The browser searches parameters by name, vehicle and subsystem (``/mdb/parameters``).
- The live plot redraws every ``ctx.refresh_s`` seconds inside a fragment, from the live feed's
  ring buffers (nothing accumulates between reruns).
- The history plot asks ``/parameters/{name}/history`` for min, max and mean per bucket over any
  window of mission time, and draws the min–max band with the mean line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any, Final

import streamlit as st

from dashboard.client import Json
from dashboard.components import (
    ICONS,
    MONITORING_COLOURS,
    PageContext,
    as_float,
    chart,
    current_values,
    fetch,
    fetch_list,
    fmt_time,
    fmt_value,
    guarded,
    history_chart,
    live_chart,
    table,
    unit_label,
)

WINDOWS: Final[dict[str, float]] = {
    "15 min": 900.0,
    "1 h": 3600.0,
    "6 h": 6 * 3600.0,
    "24 h": 86400.0,
    "7 d": 7 * 86400.0,
}
CUSTOM: Final = "custom"
DEFAULT_PARAMETERS: Final = ("rover.power.battery_soc", "rover.power.power_balance")
MAX_PLOTTED: Final = 6
MAX_LISTED: Final = 300


def limits_text(limits: Any) -> str:
    """Yellow and red limits in one short string (``""`` when there are none)."""
    if not isinstance(limits, dict):
        return ""
    parts = []
    for colour in ("yellow", "red"):
        low, high = limits.get(f"{colour}_low"), limits.get(f"{colour}_high")
        if low is not None or high is not None:
            lo = "−∞" if low is None else f"{low:g}"
            hi = "+∞" if high is None else f"{high:g}"
            parts.append(f"{colour} [{lo}, {hi}]")
    return " · ".join(parts)


def parameter_rows(parameters: Sequence[Json]) -> list[dict[str, Any]]:
    return [
        {
            "name": p.get("name", ""),
            "units": unit_label(str(p.get("units") or "")),
            "type": p.get("type", ""),
            "description": p.get("description", ""),
            "limits": limits_text(p.get("limits")),
            "period (s)": p.get("period_s"),
        }
        for p in parameters[:MAX_LISTED]
    ]


def window_bounds(
    now: float, choice: str, custom: tuple[float, float] | None
) -> tuple[float, float]:
    """(start, end) of a history window ending at ``now`` (or the custom one)."""
    if choice == CUSTOM and custom is not None:
        return custom
    return now - WINDOWS.get(choice, 3600.0), now


def _browser(ctx: PageContext) -> list[Json]:
    everything = fetch_list(ctx.client.mdb_parameters)
    subsystems = sorted({str(p.get("subsystem", "")) for p in everything if p.get("subsystem")})
    c1, c2, c3 = st.columns([3, 1, 1])
    search = c1.text_input("Search parameters", placeholder="e.g. battery, temperature, drill")
    vehicle = c2.selectbox("Vehicle", ["all", "rover", "lander"])
    subsystem = c3.selectbox("Subsystem", ["all", *subsystems])
    found = fetch_list(
        lambda: ctx.client.mdb_parameters(
            search=search.strip(),
            vehicle="" if vehicle == "all" else vehicle,
            subsystem="" if subsystem == "all" else subsystem,
        ),
    )
    with st.expander(f"Mission database: {len(found)} parameter(s) match", expanded=bool(search)):
        table(parameter_rows(found), empty="No parameter matches.")
    return found


def _latest_rows(values: dict[str, Json], units: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for name, v in values.items():
        gen, rec = as_float(v.get("generation_time")), as_float(v.get("reception_time"))
        rows.append(
            {
                "parameter": name,
                "value": fmt_value(v.get("eng_value"), units.get(name, ""), digits=3),
                "raw": str(v.get("raw_value")),
                "generated (mission UTC)": fmt_time(gen),
                # The ground stamps reception with its wall clock, which the simulation's speed
                # factor leaves behind: shown as it is, not as a delay.
                "received (wall UTC)": fmt_time(rec),
                "limits": str(v.get("monitoring_result", "")),
            }
        )
    return rows


def render(ctx: PageContext) -> None:
    st.title("Telemetry", anchor=False)
    found = _browser(ctx)
    units: dict[str, str] = guarded(ctx.client.units, {}, quiet=True)
    known = [str(p["name"]) for p in found if "name" in p]
    selected_now: list[str] = list(st.session_state.get("tm_selected", []))
    if "tm_selected" not in st.session_state:
        selected_now = [n for n in DEFAULT_PARAMETERS if n in units or not units]
    options = sorted(set(known) | set(selected_now))
    selected = st.multiselect(
        "Parameters to plot",
        options,
        default=selected_now,
        max_selections=MAX_PLOTTED,
        key="tm_selected",
        help="Pick up to six; search above to find more.",
    )
    if not selected:
        st.info("Pick one or more parameters to plot.", icon=ICONS["hint"])
        return

    st.subheader("Live")

    @st.fragment(run_every=ctx.refresh_s)
    def live_plot() -> None:
        if ctx.live is None:
            st.caption("The live stream is off.")
        else:
            series = ctx.live.series(selected)
            columns = st.columns(2) if len(selected) > 1 else [st.container()]
            for index, name in enumerate(selected):  # one chart each: units and scales differ
                with columns[index % len(columns)]:
                    one = {name: series[name]} if name in series else {}
                    chart(live_chart(one, units, height=200), f"{name}: waiting for live values…")
        table(
            _latest_rows(current_values(ctx, selected), units),
            empty="No value received yet for these parameters.",
            colours={"limits": MONITORING_COLOURS},
        )

    live_plot()

    st.subheader("History")
    c1, c2 = st.columns([3, 1])
    choice = c1.segmented_control(
        "Window (mission time)", [*WINDOWS, CUSTOM], default="1 h", key="tm_window"
    )
    buckets = c2.slider("Buckets", 50, 1000, 300, step=50, help="Min/max/mean per bucket.")
    clock = fetch(ctx.client.clock, quiet=True)
    now = as_float(clock.get("mission_time")) or datetime.now(UTC).timestamp()
    custom = None
    if choice == CUSTOM:
        default_start = datetime.fromtimestamp(now - 86400.0, UTC)
        d1, t1, d2, t2 = st.columns(4)
        start_day = d1.date_input("Start date (UTC)", default_start.date())
        start_time = t1.time_input("Start time (UTC)", default_start.time().replace(microsecond=0))
        end_day = d2.date_input("End date (UTC)", datetime.fromtimestamp(now, UTC).date())
        end_time = t2.time_input("End time (UTC)", time(23, 59))
        custom = (_utc(start_day, start_time), _utc(end_day, end_time))
        if custom[1] <= custom[0]:
            st.warning("The end of the window must come after its start.")
            return
    start, end = window_bounds(now, str(choice or "1 h"), custom)
    st.caption(f"{fmt_time(start)} → {fmt_time(end)} · {buckets} buckets")
    for name in selected:
        history = _history(ctx, name, start, end, buckets)
        chart(
            history_chart(history, units.get(name, "")),
            f"{name}: no samples in this window.",
        )


def _history(ctx: PageContext, name: str, start: float, end: float, buckets: int) -> Json:
    return fetch(lambda: ctx.client.history(name, start, end, buckets))


def _utc(day: date | Any, moment: time | Any) -> float:
    if not isinstance(day, date) or not isinstance(moment, time):
        return datetime.now(UTC).timestamp()
    return datetime.combine(day, moment, tzinfo=UTC).timestamp()

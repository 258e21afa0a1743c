"""Overview: mission time, each vehicle's mode and health, the link, alarms and latest events.

The whole body is one fragment that reruns every ``ctx.refresh_s`` seconds; values come from the
live feed (falling back to the REST API for what it has not seen yet).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

import numpy as np
import streamlit as st

from dashboard.client import Json
from dashboard.components import (
    LEVEL_COLOURS,
    RED,
    SEVERITY_COLOURS,
    STATE_COLOURS,
    YELLOW,
    PageContext,
    as_float,
    carriers,
    connection_panel,
    current_values,
    delta_from_buffer,
    dot,
    eng,
    fetch,
    fetch_list,
    fmt_clock,
    fmt_time,
    fmt_value,
    table,
)

VEHICLES: Final = ("rover", "lander")
DeltaColour = Literal["normal", "off"]
HEALTH: Final[tuple[tuple[str, str, str, DeltaColour], ...]] = (
    # (parameter suffix, label, units, delta colour: up is good, or neither)
    ("power.battery_soc", "Battery", "%", "normal"),
    ("power.power_balance", "Power balance", "W", "off"),
    ("thermal.battery_temperature", "Battery temp.", "degC", "off"),
    ("thermal.avionics_temperature", "Avionics temp.", "degC", "off"),
)
STATUS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "rover": (
        ("obsw.mode", "Mode"),
        ("mobility.drive_state", "Drive"),
        ("drill.status", "Drill"),
        ("power.charge_state", "Charge"),
    ),
    "lander": (
        ("obsw.mode", "Mode"),
        ("comms.xband_status", "X-band"),
        ("comms.relay_enabled", "Relay"),
        ("power.charge_state", "Charge"),
    ),
}
SPARK_POINTS: Final = 120
DELTA_LOOKBACK_S: Final = 600.0
"""Metric deltas compare with the value this many mission seconds earlier."""


def overview_names() -> list[str]:
    names = [f"{v}.{suffix}" for v in VEHICLES for suffix, _, _, _ in HEALTH]
    names += [f"{v}.{suffix}" for v, rows in STATUS.items() for suffix, _ in rows]
    names += ["rover.comms.earth_elevation", "rover.comms.earth_visible"]
    return names


def active_link(links: list[Json], carrier: Json) -> tuple[str, float | None]:
    """(active station(s) with the vehicles they carry, one-way light time).

    From ``/links/carrier`` (``vehicles``: which station carries each vehicle) and ``/links``;
    without a carrier, the stations in view and locked.
    """
    carried = carriers(carrier)
    by_station: dict[str, list[str]] = {}
    for vehicle, station in carried.items():
        if station:
            by_station.setdefault(station, []).append(vehicle)
    locked = [
        str(link.get("station"))
        for link in links
        if link.get("in_view") and any(bool(v) for v in (link.get("locked") or {}).values())
    ]
    text = " / ".join(sorted(by_station)) if by_station else (" / ".join(locked) or "none")
    active = set(by_station) or set(locked)
    rows = [*links, *(carrier.get("stations") or [])]
    light = next(
        (
            as_float(row.get("light_time_s"))
            for row in rows
            if isinstance(row, dict) and row.get("station") in active and row.get("light_time_s")
        ),
        None,
    )
    return text, light


def _spark(ctx: PageContext, name: str) -> list[float] | None:
    if ctx.live is None:
        return None
    series = ctx.live.series([name]).get(name)
    if series is None or len(series.values) < 2:
        return None
    values = series.values
    if len(values) > SPARK_POINTS:
        index = np.linspace(0, len(values) - 1, SPARK_POINTS).astype(int)
        values = values[index]
    return [round(float(v), 3) for v in values]


def _vehicle_card(ctx: PageContext, vehicle: str, values: Mapping[str, Json]) -> None:
    with st.container(border=True):
        st.subheader("Rover · JAXA" if vehicle == "rover" else "Lander · ISRO")
        badges = []
        for suffix, label in STATUS[vehicle]:
            value = eng(values, f"{vehicle}.{suffix}")
            badges.append(f"**{label}** `{fmt_value(value)}`")
        st.markdown(" · ".join(badges))
        columns = [*st.columns(2), *st.columns(2)]  # a 2 × 2 grid keeps the numbers readable
        for column, (suffix, label, units, colour) in zip(columns, HEALTH, strict=True):
            name = f"{vehicle}.{suffix}"
            value = values.get(name)
            monitoring = str(value.get("monitoring_result", "")) if value else ""
            flag = {"watch": " " + dot(YELLOW), "critical": " " + dot(RED)}.get(monitoring, "")
            delta = delta_from_buffer(ctx, name, DELTA_LOOKBACK_S)
            column.metric(
                label + flag,
                fmt_value(eng(values, name), units, digits=1),
                delta=None if delta is None else fmt_value(round(delta, 2), units, digits=2),
                delta_color=colour,
                chart_data=_spark(ctx, name),
                help=f"{name} (delta over the last {DELTA_LOOKBACK_S / 60:.0f} min)",
                border=False,
            )


def _mission_row(ctx: PageContext, values: Mapping[str, Json], alarms: list[Json]) -> None:
    clock = fetch(ctx.client.clock)
    links = fetch_list(ctx.client.links, quiet=True)
    carrier = fetch(ctx.client.carrier, quiet=True)
    station, light = active_link(links, carrier)
    open_alarms = [a for a in alarms if a.get("state") in {"raised", "acknowledged"}]
    unacked = sum(1 for a in open_alarms if a.get("state") == "raised")
    red = sum(1 for a in open_alarms if a.get("level") == "red")
    mission_time = as_float(clock.get("mission_time"))
    speed = as_float(clock.get("speed"))
    earth_el = as_float(eng(values, "rover.comms.earth_elevation"))
    cols = st.columns(6)
    cols[0].metric("Mission time (UTC)", fmt_clock(mission_time), help=fmt_time(mission_time))
    cols[1].metric("Speed", "paused" if speed == 0 else f"×{speed:g}" if speed else "—")
    carried = carriers(carrier)
    cols[2].metric(
        "Active station",
        station,
        help=" · ".join(f"{v} via {s or 'no station'}" for v, s in carried.items()) or None,
    )
    cols[3].metric("One-way light time", fmt_value(light, "s", digits=3))
    cols[4].metric("Earth elevation at site", fmt_value(earth_el, "deg", digits=1))
    cols[5].metric(
        "Open alarms",
        str(len(open_alarms)),
        delta=f"{unacked} new" if unacked else None,
        delta_color="inverse",
        delta_arrow="off",
        help=f"{unacked} not yet acknowledged, {red} red",
    )


def _events_and_alarms(ctx: PageContext, alarms: list[Json]) -> None:
    left, right = st.columns([3, 2])
    with left:
        st.markdown("##### Latest events")
        events = ctx.live.events(8) if ctx.live is not None else []
        if not events:
            events = fetch_list(lambda: ctx.client.events(limit=8), quiet=True)
        rows = [
            {
                "severity": str(e.get("severity", "")),
                "time": fmt_clock(as_float(e.get("generation_time"))),
                "vehicle": e.get("spacecraft", ""),
                "event": e.get("name", ""),
                "message": e.get("message", ""),
            }
            for e in events[:8]
        ]
        table(rows, empty="No events yet.", colours={"severity": SEVERITY_COLOURS})
    with right:
        st.markdown("##### Open alarms")
        open_rows = [
            {
                "level": str(a.get("level", "")),
                "parameter": a.get("parameter", ""),
                "state": str(a.get("state", "")),
                "value": fmt_value(a.get("last_value")),
            }
            for a in alarms
            if a.get("state") in {"raised", "acknowledged"}
        ]
        table(
            open_rows[:8],
            empty="No open alarms.",
            colours={"level": LEVEL_COLOURS, "state": STATE_COLOURS},
        )
        st.markdown("##### Dashboard connection")
        connection_panel(ctx)


def render(ctx: PageContext) -> None:
    st.title("LUPEX mission control", anchor=False)
    st.caption(
        "India–Japan Lunar Polar Exploration (Chandrayaan-5): an ISRO lander and a JAXA rover "
        "near the lunar south pole. Simulated telemetry, live from the ground service."
    )

    @st.fragment(run_every=ctx.refresh_s)
    def live_overview() -> None:
        values = current_values(ctx, overview_names())
        alarms = fetch_list(ctx.client.alarms, quiet=True)
        _mission_row(ctx, values, alarms)
        left, right = st.columns(2)
        with left:
            _vehicle_card(ctx, "rover", values)
        with right:
            _vehicle_card(ctx, "lander", values)
        _events_and_alarms(ctx, alarms)

    live_overview()

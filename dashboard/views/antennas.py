"""Antennas and passes: the next 24 h of passes per station, the Earth at the site, the links.

- A Gantt chart of predicted passes (``/passes?hours=24``) with the current mission time marked.
- The Earth's elevation above the site horizon, with the mask below which no contact is possible.
- The current link of each station (live feed, or ``/links``) and which station carries each
  vehicle, and the command-link status (CLCW, ``/commands/link-status``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import altair as alt
import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs in the dev set
import streamlit as st

from dashboard.client import Json
from dashboard.components import (
    GREEN,
    GREY,
    RED,
    ChartSpec,
    PageContext,
    as_float,
    carriers,
    chart,
    fetch,
    fetch_list,
    fmt_duration,
    fmt_time,
    fmt_value,
    table,
)

HOURS: Final = 24.0
PREDICTION_REFRESH_S: Final = 30.0
"""The Gantt's "now" moves every 30 s; the prediction itself is reused for two minutes."""


def to_seconds(value: Any) -> float | None:
    """Unix seconds from a number or an ISO 8601 string."""
    number = as_float(value)
    if number is not None:
        return number
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def pass_rows(passes: Json) -> list[dict[str, Any]]:
    """Passes of every station as rows with numeric times (unparseable ones dropped)."""
    source = passes.get("passes", [])
    if isinstance(source, Mapping):  # {"dss43": [ ... ], ...}
        flat = [dict(p, station=station) for station, ps in source.items() for p in ps]
    else:
        flat = [p for p in source if isinstance(p, dict)]
    rows = []
    for p in flat:
        aos, los = to_seconds(p.get("aos")), to_seconds(p.get("los"))
        if aos is None or los is None:
            continue
        rows.append(
            {
                "station": str(p.get("station") or p.get("station_id") or "?"),
                "aos": aos,
                "los": los,
                "max_elevation_deg": as_float(p.get("max_elevation_deg")),
                "aos_cause": p.get("aos_cause", ""),
                "los_cause": p.get("los_cause", ""),
            }
        )
    return rows


def elevation_series(passes: Json) -> tuple[pd.DataFrame, float | None]:
    """The Earth's elevation at the site (time, elevation, azimuth) and the mask, if present."""
    block: Any = None
    for key in ("earth_elevation", "earth", "site_earth", "earth_elevation_series"):
        if isinstance(passes.get(key), dict):
            block = passes[key]
            break
    if block is None:
        return pd.DataFrame(columns=["time", "elevation"]), None
    times = block.get("times") or block.get("time") or []
    elevation = block.get("elevation_deg") or block.get("elevation") or []
    azimuth = block.get("azimuth_deg") or block.get("azimuth") or [None] * len(times)
    seconds = [to_seconds(t) for t in times]
    frame = pd.DataFrame(
        {
            "t": seconds,
            "elevation": pd.Series(elevation[: len(seconds)], dtype="float64"),
            "azimuth": pd.Series(azimuth[: len(seconds)], dtype="float64"),
        }
    ).dropna(subset=["t", "elevation"])
    frame["time"] = pd.to_datetime(frame["t"], unit="s", utc=True)
    mask = as_float(block.get("mask_deg", passes.get("mask_deg")))
    return frame, mask


def gantt(rows: Sequence[Mapping[str, Any]], now: float | None) -> ChartSpec | None:
    if not rows:
        return None
    frame = pd.DataFrame(list(rows))
    frame["start"] = pd.to_datetime(frame["aos"], unit="s", utc=True)
    frame["end"] = pd.to_datetime(frame["los"], unit="s", utc=True)
    frame["duration"] = [
        fmt_duration(b - a) for a, b in zip(frame["aos"], frame["los"], strict=True)
    ]
    x = alt.X("start:T", title="UTC", scale=alt.Scale(type="utc"), axis=alt.Axis(format="%d %H:%M"))
    bars = (
        alt.Chart(frame)
        .mark_bar(cornerRadius=3, height=16)
        .encode(
            x=x,
            x2="end:T",
            y=alt.Y("station:N", title=None, sort="ascending"),
            color=alt.Color(
                "max_elevation_deg:Q",
                title="max elevation (°)",
                scale=alt.Scale(scheme="viridis"),
            ),
            tooltip=[
                "station:N",
                alt.Tooltip("start:T", format="%Y-%m-%d %H:%M:%S", title="AOS (UTC)"),
                alt.Tooltip("end:T", format="%Y-%m-%d %H:%M:%S", title="LOS (UTC)"),
                alt.Tooltip("duration:N", title="duration"),
                alt.Tooltip("max_elevation_deg:Q", format=".1f", title="max elevation (°)"),
                "aos_cause:N",
                "los_cause:N",
            ],
        )
    )
    layers: list[alt.Chart] = [bars]
    if now is not None:
        marker = pd.DataFrame(
            {"start": pd.to_datetime([now], unit="s", utc=True), "label": ["now"]}
        )
        layers.append(
            alt.Chart(marker).mark_rule(color="#f7768e", strokeWidth=2).encode(x="start:T")
        )
    height = 28 * frame["station"].nunique() + 40
    return alt.layer(*layers).properties(height=height)


def earth_chart(frame: pd.DataFrame, mask: float | None, now: float | None) -> ChartSpec | None:
    if frame.empty:
        return None
    x = alt.X("time:T", title="UTC", scale=alt.Scale(type="utc"), axis=alt.Axis(format="%d %H:%M"))
    line = (
        alt.Chart(frame)
        .mark_area(line=True, opacity=0.25)
        .encode(
            x=x,
            y=alt.Y("elevation:Q", title="elevation (°)"),
            tooltip=[
                alt.Tooltip("time:T", format="%Y-%m-%d %H:%M", title="UTC"),
                alt.Tooltip("elevation:Q", format=".2f", title="elevation (°)"),
                alt.Tooltip("azimuth:Q", format=".1f", title="azimuth (°)"),
            ],
        )
    )
    layers: list[alt.Chart] = [line]
    if mask is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"mask": [mask]}))
            .mark_rule(strokeDash=[6, 4], color="#f7768e")
            .encode(y="mask:Q", tooltip=[alt.Tooltip("mask:Q", title="site mask (°)")])
        )
    if now is not None:
        marker = pd.DataFrame({"time": pd.to_datetime([now], unit="s", utc=True)})
        layers.append(alt.Chart(marker).mark_rule(color="#e0af68").encode(x="time:T"))
    return alt.layer(*layers).properties(height=220)


def merge_links(links: Sequence[Json], contacts: Sequence[Any]) -> list[Json]:
    """Per station: ``/links`` (counts, monitor) overlaid with the carrier's contact view.

    ``/links/carrier`` lists every station's predicted and monitored contact, Eb/N0 and lock per
    vehicle, and the vehicles it is prime for; its fields win where ``/links`` has none.
    """
    merged: dict[str, Json] = {str(x.get("station")): dict(x) for x in links if x.get("station")}
    for contact in contacts:
        if not isinstance(contact, Mapping) or not contact.get("station"):
            continue
        row = merged.setdefault(str(contact["station"]), {"station": contact["station"]})
        for key, value in contact.items():
            if value not in (None, {}, []) and row.get(key) in (None, {}, [], 0, False):
                row[key] = value
    return [merged[k] for k in sorted(merged)]


def link_rows(links: Sequence[Json]) -> list[dict[str, Any]]:
    rows = []
    for link in links:
        ebn0 = link.get("ebn0_db") or {}
        locked = link.get("locked") or {}
        in_view = link.get("in_view", link.get("monitor_in_view", link.get("predicted_in_view")))
        rows.append(
            {
                "station": link.get("station", ""),
                "in view": "yes" if in_view else "no",
                "prime for": ", ".join(link.get("prime") or []) or "—",
                "Moon elevation": fmt_value(as_float(link.get("moon_elevation_deg")), "deg", 1),
                "Eb/N0 rover": fmt_value(as_float(ebn0.get("rover")), "dB", 1),
                "Eb/N0 lander": fmt_value(as_float(ebn0.get("lander")), "dB", 1),
                "lock": ", ".join(v for v, ok in locked.items() if ok) or "—",
                "light time": fmt_value(as_float(link.get("light_time_s")), "s", 3),
                "frames": link.get("frames_received", 0),
                "bad": link.get("frames_bad", 0),
                "gaps": link.get("frame_gaps", 0),
                "last frame (wall UTC)": fmt_time(as_float(link.get("last_frame_time"))),
            }
        )
    return rows


def clcw_rows(statuses: Sequence[Json]) -> list[dict[str, Any]]:
    """One row per vehicle of ``/commands/link-status`` (CLCW and FARM state)."""
    rows = []
    for entry in statuses:
        if not entry.get("known", True):
            rows.append({"vehicle": entry.get("vehicle", ""), "state": "no CLCW received yet"})
            continue
        rows.append(
            {
                "vehicle": entry.get("vehicle", ""),
                "state": entry.get("state", ""),
                "station": entry.get("station") or "—",
                "lockout": _flag(entry.get("lockout")),
                "wait": _flag(entry.get("wait")),
                "retransmit": _flag(entry.get("retransmit")),
                "no RF": _flag(entry.get("no_rf_available")),
                "no bit lock": _flag(entry.get("no_bit_lock")),
                "FARM-B count": entry.get("farm_b_counter"),
                "N(R)": entry.get("report_value"),
                "next N(S)": entry.get("next_frame_seq"),
                "in step": _flag(entry.get("in_step"), good=True),
                "received (wall UTC)": fmt_time(as_float(entry.get("reception_time"))),
            }
        )
    return rows


def cop1_rows(statuses: Sequence[Json]) -> list[dict[str, Any]]:
    """One row per vehicle: the ground's FOP-1 (COP-1 sender) from ``/commands/link-status``."""
    rows = []
    for entry in statuses:
        cop1 = entry.get("cop1") or {}
        mode = str(entry.get("tc_mode") or "bd")
        if mode != "ad" or not cop1:
            rows.append({"vehicle": entry.get("vehicle", ""), "TC mode": "BD (bypass)"})
            continue
        state = str(cop1.get("fop_state", ""))
        if state == "initial" and cop1.get("auto_initiate_pending"):
            state = "initial (starts with the first CLCW)"
        rows.append(
            {
                "vehicle": entry.get("vehicle", ""),
                "TC mode": "AD (COP-1)",
                "FOP state": state,
                "V(S)": cop1.get("v_s"),
                "NN(R)": cop1.get("nn_r"),
                "sent, unacknowledged": cop1.get("sent_queue"),
                "waiting": (cop1.get("wait_queue") or 0) + (cop1.get("held") or 0),
                "retransmissions": cop1.get("retransmissions"),
                "alerts": cop1.get("alerts"),
                "last alert": cop1.get("last_alert") or "—",
            }
        )
    return rows


def _flag(value: Any, *, good: bool = False) -> str:
    """A CLCW flag: a raised warning flag stands out; ``good`` flags read the other way."""
    if value is None:
        return "—"
    if good:
        return "yes" if value else "NO"
    return "YES" if value else "no"


def carrier_text(carrier: Json) -> str:
    parts = [
        f"**{vehicle}** via `{station or 'no station'}`"
        for vehicle, station in carriers(carrier).items()
    ]
    return " · ".join(parts) or "—"


def handover_rows(carrier: Json) -> list[dict[str, Any]]:
    rows = []
    for h in reversed([h for h in carrier.get("handovers") or [] if isinstance(h, dict)]):
        rows.append(
            {
                "time (UTC)": fmt_time(as_float(h.get("time"))),
                "vehicle": h.get("vehicle", ""),
                "change": h.get("change", ""),
                "from": h.get("from") or h.get("from_station") or "—",
                "to": h.get("to") or h.get("to_station") or "—",
                "reason": h.get("reason", ""),
            }
        )
    return rows


def render(ctx: PageContext) -> None:
    st.title("Antennas and passes", anchor=False)

    @st.fragment(run_every=ctx.refresh_s)
    def live_links() -> None:
        links = ctx.live.links() if ctx.live is not None else []
        if not links:
            links = fetch_list(ctx.client.links)
        carrier = fetch(ctx.client.carrier, quiet=True)
        st.markdown("Current carrier: " + carrier_text(carrier))
        st.markdown("##### Link state per station")
        table(
            link_rows(merge_links(links, carrier.get("stations") or [])),
            empty="No station has reported yet.",
            colours={"in view": {"yes": GREEN, "no": GREY}},
        )
        st.markdown("##### Command link (CLCW)")
        status = fetch_list(ctx.client.link_status, quiet=True)
        flags = {"YES": RED, "NO": RED, "no": GREEN, "yes": GREEN}
        table(
            clcw_rows(status),
            empty="No CLCW received yet.",
            colours=dict.fromkeys(
                ("lockout", "wait", "retransmit", "no RF", "no bit lock", "in step"), flags
            ),
        )
        st.markdown("##### Command link (COP-1, the ground's FOP-1)")
        table(cop1_rows(status), empty="No command-link status yet.")
        handovers = handover_rows(carrier)
        if handovers:
            with st.expander(f"Handovers ({len(handovers)})"):
                table(handovers, empty="")

    live_links()

    @st.fragment(run_every=PREDICTION_REFRESH_S)
    def predictions() -> None:
        clock = fetch(ctx.client.clock, quiet=True)
        now = as_float(clock.get("mission_time"))
        passes = fetch(lambda: ctx.client.passes(hours=HOURS))
        rows = pass_rows(passes)
        st.markdown(f"##### Predicted passes, next {HOURS:.0f} h")
        chart(gantt(rows, now), "No pass predicted in the next 24 h.")
        st.markdown("##### Earth above the site horizon")
        frame, mask = elevation_series(passes)
        chart(earth_chart(frame, mask, now), "No Earth elevation series from the ground.")
        if rows:
            with st.expander("Pass list"):
                table(
                    [
                        {
                            "station": r["station"],
                            "AOS (UTC)": fmt_time(r["aos"]),
                            "LOS (UTC)": fmt_time(r["los"]),
                            "duration": fmt_duration(r["los"] - r["aos"]),
                            "max elevation": fmt_value(r["max_elevation_deg"], "deg", 1),
                        }
                        for r in sorted(rows, key=lambda r: r["aos"])
                    ],
                    empty="",
                )

    predictions()

"""Alarms and events: acknowledge alarms; filter events by severity and vehicle.

Alarms follow the ground's lifecycle: raised → acknowledged (by whom, when) → cleared once the
parameter is back in limits; the most severe level is kept until acknowledged. Acknowledging needs
an operator token. Both lists redraw in fragments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import streamlit as st

from dashboard.client import ApiError, Json
from dashboard.components import (
    GREY,
    ICONS,
    LEVEL_COLOURS,
    SEVERITY_COLOURS,
    STATE_COLOURS,
    PageContext,
    as_float,
    dot,
    fetch,
    fetch_list,
    flash,
    fmt_time,
    fmt_value,
    show_error,
    show_flash,
    table,
)

STATES: Final[dict[str, tuple[str, ...]]] = {
    "open": ("raised", "acknowledged"),
    "raised": ("raised",),
    "acknowledged": ("acknowledged",),
    "cleared": ("cleared",),
    "all": ("raised", "acknowledged", "cleared"),
}
SEVERITIES: Final = ("info", "low", "medium", "high")
EVENT_WINDOWS: Final[dict[str, float | None]] = {
    "1 h": 3600.0,
    "6 h": 6 * 3600.0,
    "24 h": 86400.0,
    "7 d": 7 * 86400.0,
    "all": None,
}


def filter_alarms(alarms: Sequence[Json], state: str) -> list[Json]:
    wanted = STATES.get(state, STATES["open"])
    chosen = [a for a in alarms if a.get("state") in wanted]
    rank = {"raised": 0, "acknowledged": 1, "cleared": 2}
    level = {"red": 0, "yellow": 1}
    return sorted(
        chosen,
        key=lambda a: (
            rank.get(str(a.get("state")), 3),
            level.get(str(a.get("level")), 2),
            -(as_float(a.get("trigger_time")) or 0.0),
        ),
    )


def filter_events(events: Sequence[Json], severities: Sequence[str], vehicle: str) -> list[Json]:
    out = []
    for event in events:
        if severities and str(event.get("severity")) not in severities:
            continue
        if vehicle != "all" and str(event.get("spacecraft")) != vehicle:
            continue
        out.append(event)
    return out


def event_rows(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "severity": str(e.get("severity", "")),
            "time (UTC)": fmt_time(as_float(e.get("generation_time"))),
            "vehicle": e.get("spacecraft", ""),
            "event": e.get("name", ""),
            "message": e.get("message", ""),
        }
        for e in events
    ]


def _alarm_line(alarm: Mapping[str, Any]) -> str:
    level = str(alarm.get("level", ""))
    state = str(alarm.get("state", ""))
    parts = [
        f"{dot(LEVEL_COLOURS.get(level, GREY))} **{alarm.get('parameter', '?')}**"
        + (f" — {alarm['message']}" if alarm.get("message") else ""),
        "  \n",
        f"state {dot(STATE_COLOURS.get(state, GREY), state)}",
        f" · most severe {level} ({fmt_value(alarm.get('most_severe_value'))})",
        f" · now {alarm.get('current_level', '')} ({fmt_value(alarm.get('last_value'))})",
        f" · raised {fmt_time(as_float(alarm.get('trigger_time')))}",
    ]
    if alarm.get("acknowledged_by"):
        parts.append(
            f" · acknowledged by {alarm['acknowledged_by']} at "
            f"{fmt_time(as_float(alarm.get('acknowledged_at')))}"
        )
    if alarm.get("cleared_at"):
        parts.append(f" · cleared {fmt_time(as_float(alarm.get('cleared_at')))}")
    return "".join(parts)


def _acknowledge(ctx: PageContext, alarm_id: str, comment: str) -> None:
    try:
        ctx.client.acknowledge(alarm_id, comment or None)
    except ApiError as exc:
        show_error(exc)
        return
    flash(f"Alarm {alarm_id} acknowledged")
    st.rerun(scope="fragment")  # redraw the list with the alarm's new state


def render(ctx: PageContext) -> None:
    st.title("Alarms and events", anchor=False)
    st.subheader("Alarms")
    c1, c2 = st.columns([2, 3])
    state = c1.segmented_control("Show", list(STATES), default="open", key="al_state")
    comment = c2.text_input(
        "Comment recorded with an acknowledgement",
        placeholder="optional: what is being done about it",
        key="al_comment",
        disabled=not ctx.may("operator"),
    )
    if not ctx.may("operator"):
        st.caption(f"{ICONS['lock']} Acknowledging alarms needs an operator token.")

    @st.fragment(run_every=ctx.refresh_s)
    def alarms_list() -> None:
        show_flash()
        alarms = filter_alarms(fetch_list(ctx.client.alarms), str(state or "open"))
        if not alarms:
            st.success("No alarm in this list.", icon=ICONS["ok"])
            return
        for alarm in alarms[:50]:
            alarm_id = str(alarm.get("id"))
            with st.container(border=True):
                left, right = st.columns([6, 1], vertical_alignment="center")
                left.markdown(_alarm_line(alarm))
                if alarm.get("state") == "raised" and right.button(
                    "Acknowledge",
                    key=f"ack:{alarm_id}",
                    disabled=not ctx.may("operator"),
                    type="primary",
                ):
                    _acknowledge(ctx, alarm_id, comment)

    alarms_list()

    st.subheader("Events")
    f1, f2, f3, f4 = st.columns([3, 1, 1, 1])
    severities = f1.multiselect("Severity", list(SEVERITIES), default=list(SEVERITIES))
    vehicle = f2.selectbox("Vehicle", ["all", "rover", "lander", "ground"])
    window = f3.selectbox("Window", list(EVENT_WINDOWS), index=2)
    limit = int(f4.number_input("Most", min_value=10, max_value=1000, value=200, step=10))

    @st.fragment(run_every=ctx.refresh_s)
    def events_list() -> None:
        seconds = EVENT_WINDOWS.get(str(window))
        start = None
        if seconds is not None:
            now = as_float(fetch(ctx.client.clock, quiet=True).get("mission_time"))
            start = None if now is None else now - seconds
        events = fetch_list(
            lambda: ctx.client.events(
                start=start,
                severity=severities[0] if len(severities) == 1 else "",
                spacecraft="" if vehicle == "all" else str(vehicle),
                limit=limit,
            ),
        )
        chosen = filter_events(events, severities, str(vehicle))
        st.caption(f"{len(chosen)} event(s)")
        table(
            event_rows(chosen),
            empty="No event matches.",
            key="ev_table",
            colours={"severity": SEVERITY_COLOURS},
        )

    events_list()

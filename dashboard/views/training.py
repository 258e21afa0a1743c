"""Training: the instructor starts a scenario or a single fault and follows the checklist live.

While a scenario runs, the ground tracks its expected detections as a checklist (pending,
detected, late or missed; time to detect; deadline). Stopping it, or its end, gives the score and
the debrief (faults injected, alarms raised and acknowledged, detections and commands sent, on
one timeline). The ground reserves all of this to the instructor role: with another token the
page says so, and the trainee works from the other pages.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import streamlit as st

from dashboard.client import ApiError, ForbiddenError, Json, items
from dashboard.components import (
    BLUE,
    GREEN,
    GREY,
    ICONS,
    RED,
    VIOLET,
    YELLOW,
    PageContext,
    as_float,
    fetch,
    fetch_list,
    flash,
    fmt_duration,
    fmt_time,
    show_error,
    show_flash,
    table,
    unit_label,
)

CHECK_STATES: Final[dict[str, str]] = {
    "pending": "… pending",
    "detected": "✓ detected",
    "late": "✓ late",
    "missed": "✗ missed",
}
CHECK_COLOURS: Final[dict[str, str]] = {
    "… pending": YELLOW,
    "✓ detected": GREEN,
    "✓ late": YELLOW,
    "✗ missed": RED,
}
STATE_COLOURS: Final[dict[str, str]] = {
    "running": GREEN,
    "starting": YELLOW,
    "finished": BLUE,
    "stopped": GREY,
    "ended": BLUE,
    "idle": GREY,
}
TIMELINE_COLOURS: Final[dict[str, str]] = {
    "fault_injected": RED,
    "fault_cleared": GREEN,
    "alarm_raised": RED,
    "alarm_acknowledged": YELLOW,
    "alarm_cleared": GREEN,
    "detection": GREEN,
    "command": BLUE,
    "scenario_started": VIOLET,
    "scenario_ended": VIOLET,
}
GRADE_TEXT: Final[dict[str, str]] = {
    "excellent": "excellent",
    "good": "good",
    "pass": "pass",
    "fail": "fail",
}


def checklist_rows(status: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for item in items(status, "checklist"):
        state = str(item.get("state") or ("detected" if item.get("detected") else "pending"))
        rows.append(
            {
                "status": CHECK_STATES.get(state, state),
                "expected detection": item.get("description") or item.get("id", ""),
                "kind": item.get("kind", ""),
                "target": item.get("target", ""),
                "level": item.get("level") or "",
                "time to detect": fmt_duration(as_float(item.get("time_to_detect_s"))),
                "deadline": fmt_duration(as_float(item.get("deadline_s"))),
                "acknowledged by": item.get("acknowledged_by") or "",
                "evidence": item.get("evidence") or "",
            }
        )
    return rows


def timeline_rows(debrief: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The debrief's timeline, in mission-time order."""
    entries = sorted(items(debrief, "timeline"), key=lambda e: as_float(e.get("time")) or 0.0)
    return [
        {
            "time (UTC)": fmt_time(as_float(e.get("time"))),
            "kind": str(e.get("kind", "")),
            "what": str(e.get("text") or e.get("what") or e.get("description") or ""),
        }
        for e in entries
    ]


def score_text(debrief: Mapping[str, Any]) -> str | None:
    """``"7 / 10 (70 %, good)"`` from the debrief's score, or None."""
    score = debrief.get("score")
    if not isinstance(score, Mapping):
        return None
    points, maximum = as_float(score.get("points")), as_float(score.get("maximum"))
    if points is None or maximum is None:
        return None
    percent = as_float(score.get("percent"))
    grade = GRADE_TEXT.get(str(score.get("grade")), str(score.get("grade") or ""))
    extra = ", ".join(x for x in (f"{percent:.0f} %" if percent is not None else "", grade) if x)
    return f"{points:g} / {maximum:g}" + (f" ({extra})" if extra else "")


def score_rows(debrief: Mapping[str, Any]) -> list[dict[str, Any]]:
    score = debrief.get("score")
    lines = items(score, "lines") if isinstance(score, Mapping) else []
    return [
        {
            "what": line.get("what", ""),
            "points": line.get("points"),
            "of": line.get("maximum"),
            "why": line.get("reason", ""),
        }
        for line in lines
    ]


def active_instances(catalogue: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(instance id, fault title) of every active fault instance."""
    out = []
    for fault in catalogue:
        for instance in fault.get("active") or []:
            out.append((str(instance), str(fault.get("title") or fault.get("id"))))
    return out


def fault_parameter_widget(fault_id: str, param: Mapping[str, Any]) -> Any:
    """The widget of one fault parameter (float, int, choice, bool or a parameter name)."""
    name = str(param.get("name"))
    key = f"fault:{fault_id}:{name}"
    kind = str(param.get("type") or "float")
    units = unit_label(str(param.get("units") or ""))
    label = f"{name} [{units}]" if units else name
    help_text = str(param.get("description") or "") or None
    default = param.get("default")
    if kind == "choice":
        choices = [str(c) for c in param.get("choices") or []]
        index = choices.index(str(default)) if str(default) in choices else 0
        return st.selectbox(label, choices, index=index, key=key, help=help_text)
    if kind == "bool":
        return st.checkbox(label, value=bool(default), key=key, help=help_text)
    if kind in {"parameter", "str", "string"}:
        return st.text_input(label, value=str(default or ""), key=key, help=help_text)
    low, high = as_float(param.get("min")), as_float(param.get("max"))
    value = as_float(default)
    if kind == "int":
        return st.number_input(
            label,
            min_value=None if low is None else int(low),
            max_value=None if high is None else int(high),
            value=int(value or 0),
            step=1,
            key=key,
            help=help_text,
        )
    return st.number_input(
        label,
        min_value=low,
        max_value=high,
        value=float(value or 0.0),
        format="%.4g",
        key=key,
        help=help_text,
    )


def _status_panel(ctx: PageContext) -> None:
    try:
        status = ctx.client.training_status()
    except ForbiddenError:
        st.info(
            "The checklist and the score are the instructor's. Spot the faults on the other "
            "pages, acknowledge the alarms and command a recovery: the instructor's debrief "
            "scores what you did.",
            icon=ICONS["training"],
        )
        return
    except ApiError as exc:
        show_error(exc)
        return
    state = str(status.get("state") or "idle")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Scenario", str(status.get("title") or status.get("scenario") or "none"))
    c2.metric("State", state)
    c3.metric("Elapsed (mission time)", fmt_duration(as_float(status.get("elapsed_s"))))
    detected, expected = status.get("detected"), status.get("expected")
    c4.metric(
        "Detected",
        f"{detected} / {expected}" if expected is not None else "—",
        help="Expected detections seen so far (alarms and events).",
    )
    st.markdown("##### Checklist")
    table(
        checklist_rows(status),
        empty="No scenario has run yet: nothing to detect.",
        colours={"status": CHECK_COLOURS},
        key="tr_checklist",
    )
    active = [f for f in status.get("active_faults") or [] if isinstance(f, Mapping)]
    if active:
        st.caption(
            "Active faults: "
            + ", ".join(str(f.get("instance_id") or f.get("fault") or f.get("id")) for f in active)
        )


def _scenario_controls(ctx: PageContext) -> None:
    scenarios = fetch_list(ctx.client.scenarios)
    if not scenarios:
        st.caption("The ground offers no scenario.")
        return
    by_name = {str(s.get("name")): s for s in scenarios if s.get("name")}
    name = st.selectbox(
        "Scenario",
        list(by_name),
        key="tr_scenario",
        format_func=lambda n: (
            f"{by_name[n].get('title') or n} · {'★' * int(by_name[n].get('difficulty') or 1)}"
        ),
    )
    chosen = by_name[str(name)]
    st.caption(
        f"{chosen.get('description', '')} · runs {fmt_duration(as_float(chosen.get('duration_s')))}"
        " of mission time"
    )
    with st.expander("Timeline and expected detections (instructor's eyes only)"):
        table(
            [
                {
                    "at": fmt_duration(as_float(f.get("at_s", f.get("offset_s", f.get("at"))))),
                    "fault": f.get("fault") or f.get("id") or "",
                    "parameters": ", ".join(f"{k}={v}" for k, v in (f.get("params") or {}).items()),
                    "note": f.get("note") or "",
                }
                for f in chosen.get("faults") or []
                if isinstance(f, Mapping)
            ],
            empty="No fault in this scenario.",
        )
        table(
            [
                {
                    "expected": e.get("description") or e.get("target") or "",
                    "kind": e.get("kind", ""),
                    "target": e.get("target") or e.get("parameter") or e.get("event") or "",
                    "deadline": fmt_duration(as_float(e.get("deadline_s"))),
                }
                for e in chosen.get("expected") or []
                if isinstance(e, Mapping)
            ],
            empty="No expected detection.",
        )
        recovery = chosen.get("recovery_commands") or []
        if recovery:
            st.caption("Recovery commands: " + ", ".join(f"`{c}`" for c in recovery))
    b1, b2 = st.columns(2)
    if b1.button("Start scenario", type="primary", icon=ICONS["play"], key="tr_start"):
        _act(lambda: ctx.client.start_scenario(str(name)), f"Scenario {name} started")
    if b2.button("Stop scenario", icon=ICONS["stop"], key="tr_stop"):
        _act(ctx.client.stop_training, "Scenario stopped: the debrief is ready")


def _fault_controls(ctx: PageContext) -> None:
    catalogue = fetch_list(ctx.client.faults)
    if not catalogue:
        st.caption("The ground offers no fault catalogue.")
        return
    by_id = {str(f.get("id")): f for f in catalogue if f.get("id")}
    fault_id = st.selectbox(
        "Fault",
        list(by_id),
        key="tr_fault",
        format_func=lambda i: f"{by_id[i].get('title') or i} ({i})",
    )
    fault = by_id[str(fault_id)]
    target = fault.get("target") or {}
    st.caption(
        f"{fault.get('description', '')} · target: "
        + ", ".join(f"{k} {v}" for k, v in target.items() if k != "kind")
    )
    if fault.get("effects"):
        st.caption("Effects: " + "; ".join(str(e) for e in fault["effects"]))
    params: dict[str, Any] = {}
    definitions = [p for p in fault.get("parameters") or [] if isinstance(p, Mapping)]
    columns = st.columns(2) if definitions else []
    for index, definition in enumerate(definitions):
        with columns[index % 2]:
            params[str(definition.get("name"))] = fault_parameter_widget(str(fault_id), definition)
    d1, d2 = st.columns(2)
    default_duration = as_float(fault.get("default_duration_s"))
    until_cleared = d2.checkbox(
        "Until cleared", value=default_duration is None, key=f"tr_until:{fault_id}"
    )
    duration = d1.number_input(
        "Duration [s of mission time]",
        min_value=1.0,
        value=default_duration or 3600.0,
        key=f"tr_duration:{fault_id}",
        disabled=until_cleared,
    )
    if st.button("Inject fault", type="primary", icon=ICONS["fault"], key="tr_inject"):
        _act(
            lambda: ctx.client.inject_fault(
                str(fault_id),
                params,
                duration_s=None if until_cleared else float(duration),
                until_cleared=until_cleared,
            ),
            f"Fault {fault_id} injected",
        )

    @st.fragment(run_every=ctx.refresh_s)
    def active_faults() -> None:  # live: the simulator reports each fault once it takes effect
        active = active_instances(fetch_list(ctx.client.faults, quiet=True))
        if not active:
            return
        st.markdown("##### Active faults")
        for instance, title in active:
            left, right = st.columns([5, 1], vertical_alignment="center")
            left.markdown(f"{ICONS['fault']} **{title}** `{instance}`")
            if right.button("Clear", key=f"tr_clear:{instance}", icon=ICONS["clear"]):
                _act(functools.partial(ctx.client.clear_fault, instance), f"{instance} cleared")

    active_faults()


def _act(call: Callable[[], Json], done: str) -> None:
    """Do an instructor action; on success rerun the page so every panel shows its effect."""
    try:
        answer = call()
    except ApiError as exc:
        show_error(exc)
        return
    if answer.get("acknowledged") is False:
        done += " (the simulator has not confirmed it yet)"
    elif answer.get("accepted") is False:
        done += f" — the simulator refused: {answer.get('reason') or 'no reason given'}"
    flash(done)
    st.rerun()


def _debrief(ctx: PageContext) -> None:
    debrief = fetch(ctx.client.debrief)
    if not debrief:
        return
    c1, c2 = st.columns([1, 2])
    c1.metric("Score", score_text(debrief) or "—")
    c2.markdown(
        f"**{debrief.get('title') or debrief.get('scenario') or ''}** · "
        f"{debrief.get('state', '')} · started {fmt_time(as_float(debrief.get('started_at')))}"
        f" by {debrief.get('started_by') or '?'}"
    )
    table(score_rows(debrief), empty="No score lines.", key="tr_score")
    st.markdown("##### Timeline")
    table(
        timeline_rows(debrief),
        empty="The debrief has no entries yet.",
        key="tr_debrief",
        colours={"kind": TIMELINE_COLOURS},
    )


def render(ctx: PageContext) -> None:
    st.title("Training", anchor=False)
    show_flash()
    instructor = ctx.may("instructor")

    @st.fragment(run_every=ctx.refresh_s)
    def status() -> None:
        _status_panel(ctx)

    status()
    if not instructor:
        return
    st.subheader("Instructor")
    scenario_tab, fault_tab, debrief_tab = st.tabs(["Scenario", "Single fault", "Debrief"])
    with scenario_tab:
        _scenario_controls(ctx)
    with fault_tab:
        _fault_controls(ctx)
    with debrief_tab:
        if st.toggle("Show the debrief", key="tr_show_debrief"):
            _debrief(ctx)

"""Commands: a form generated from the mission database, and the history with its stages.

Each argument becomes a widget that carries its units and its allowed range (the ground checks
them again and answers 422 naming the argument). Critical commands need the confirmation box.
The history redraws in a fragment; one command's verification stages (queued, released, sent,
accepted, started, completed, or where it stopped) are shown with their times. Below, the
command link: the ground's FOP-1 per vehicle and the COP-1 directives an operator may send.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import streamlit as st

from dashboard.client import ApiError, Json
from dashboard.components import (
    GREY,
    ICONS,
    STAGE_COLOURS,
    PageContext,
    as_float,
    dot,
    fetch_list,
    fmt_time,
    show_error,
    table,
    unit_label,
)
from dashboard.views.antennas import cop1_rows

HISTORY_LIMIT: Final = 40


def argument_help(arg: Mapping[str, Any]) -> str:
    """The description, units and allowed range of an argument, in one sentence."""
    parts = [str(arg.get("description") or "").rstrip(".")]
    low, high = arg.get("min"), arg.get("max")
    units = unit_label(str(arg.get("units") or ""))
    if low is not None or high is not None:
        lo = "−∞" if low is None else f"{low:g}"
        hi = "+∞" if high is None else f"{high:g}"
        parts.append(f"allowed {lo} … {hi} {units}".rstrip())
    enumeration = arg.get("enumeration")
    if isinstance(enumeration, Mapping) and enumeration:
        parts.append("one of " + ", ".join(str(v) for v in enumeration.values()))
    if arg.get("default") is not None:
        parts.append(f"default {arg['default']}")
    return ". ".join(p for p in parts if p) + "."


def argument_label(arg: Mapping[str, Any]) -> str:
    units = unit_label(str(arg.get("units") or ""))
    return f"{arg.get('name')} [{units}]" if units else str(arg.get("name"))


def _initial_number(arg: Mapping[str, Any], integer: bool) -> float | int:
    low, high = as_float(arg.get("min")), as_float(arg.get("max"))
    default = as_float(arg.get("default"))
    value = default if default is not None else (0.0 if low is None else low)
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return int(value) if integer else float(value)


def argument_widget(command: str, arg: Mapping[str, Any]) -> Any:
    """Draw the widget of one argument and return its value (label for enums)."""
    name = str(arg.get("name"))
    key = f"cmd:{command}:{name}"
    kind = str(arg.get("type") or "float")
    label, help_text = argument_label(arg), argument_help(arg)
    enumeration = arg.get("enumeration")
    if kind == "enum" and isinstance(enumeration, Mapping) and enumeration:
        labels = [str(v) for v in enumeration.values()]
        default = str(arg.get("default")) if arg.get("default") is not None else labels[0]
        index = labels.index(default) if default in labels else 0
        return st.selectbox(label, labels, index=index, key=key, help=help_text)
    if kind == "bool":
        return st.checkbox(label, value=bool(arg.get("default", False)), key=key, help=help_text)
    integer = kind == "int"
    low, high = arg.get("min"), arg.get("max")
    if integer:
        return st.number_input(
            label,
            min_value=None if low is None else int(low),
            max_value=None if high is None else int(high),
            value=int(_initial_number(arg, True)),
            step=1,
            key=key,
            help=help_text,
        )
    span = (float(high) - float(low)) if low is not None and high is not None else 10.0
    return st.number_input(
        label,
        min_value=None if low is None else float(low),
        max_value=None if high is None else float(high),
        value=float(_initial_number(arg, False)),
        step=_step(span),
        format="%.4g",
        key=key,
        help=help_text,
    )


def _step(span: float) -> float:
    for step in (0.001, 0.01, 0.1, 1.0, 10.0, 100.0):
        if span / step <= 2000:
            return step
    return 1000.0


def stage_rows(command: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for stage in command.get("stages") or []:
        if not isinstance(stage, Mapping):
            continue
        name = str(stage.get("stage", ""))
        failure = stage.get("failure_name") or stage.get("failure_code")
        rows.append(
            {
                "stage": name + (" (implied)" if stage.get("implied") else ""),
                "mission time (UTC)": fmt_time(as_float(stage.get("time"))),
                "wall clock (UTC)": fmt_time(as_float(stage.get("wall_time"))),
                "station": stage.get("station") or "",
                "detail": " ".join(str(x) for x in (stage.get("detail") or "", failure or "") if x),
            }
        )
    return rows


def history_rows(commands: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for c in commands:
        stage = str(c.get("stage", ""))
        args = c.get("args") or {}
        rows.append(
            {
                "stage": stage,
                "command": c.get("name", ""),
                "args": json.dumps(args, separators=(",", ":")) if args else "",
                "station": c.get("station") or "",
                "issued by": c.get("issued_by", ""),
                "created (UTC)": fmt_time(as_float(c.get("created_at"))),
                "waiting": c.get("waiting_reason") or "",
                "id": c.get("id", ""),
            }
        )
    return rows


def _form(ctx: PageContext, commands: list[Json]) -> None:
    vehicles = sorted({str(c.get("vehicle", "")) for c in commands if c.get("vehicle")})
    c1, c2 = st.columns([1, 3])
    vehicles = vehicles or ["rover"]
    index = vehicles.index("rover") if "rover" in vehicles else 0
    vehicle = c1.selectbox("Vehicle", vehicles, index=index, key="cmd_vehicle")
    choices = [c for c in commands if c.get("vehicle") == vehicle]
    names = [str(c.get("name")) for c in choices]
    if not names:
        st.info("The mission database has no command for this vehicle.")
        return
    by_name = {str(c.get("name")): c for c in choices}
    name = c2.selectbox(
        "Command",
        names,
        key="cmd_name",
        format_func=lambda n: f"{n} — {by_name[n].get('description', '')}",
    )
    command = by_name[str(name)]
    critical = str(command.get("criticality", "normal")) == "critical"
    if critical:
        st.warning("Critical command: it needs an explicit confirmation.", icon=ICONS["warning"])
    arguments = [a for a in command.get("arguments") or [] if isinstance(a, Mapping)]
    with st.form(key=f"cmdform:{name}", border=True):
        st.markdown(
            f"**{name}** · {command.get('description', '')} · expected execution "
            f"≤ {command.get('execution_time_s', '?')} s"
        )
        values: dict[str, Any] = {}
        columns = st.columns(2) if arguments else []
        for index, arg in enumerate(arguments):
            with columns[index % 2]:
                values[str(arg.get("name"))] = argument_widget(str(name), arg)
        if not arguments:
            st.caption("This command has no arguments.")
        confirm = False
        if critical:
            confirm = st.checkbox("I confirm this critical command", key=f"confirm:{name}")
        bypass = st.checkbox(
            "Bypass COP-1 (Type-BD frame)",
            key=f"bypass:{name}",
            help="Outside the sequence-controlled service: for emergencies, e.g. while AD "
            "service is stopped by an alert.",
        )
        may = ctx.may("operator")
        submitted = st.form_submit_button(
            "Send command", type="primary", disabled=not may, icon=ICONS["send"]
        )
    if not ctx.may("operator"):
        st.caption(
            f"{ICONS['lock']} This dashboard's token is a viewer: sending commands needs an "
            "operator."
        )
    if submitted:
        if critical and not confirm:
            st.error("Tick the confirmation box to send a critical command.")
            return
        try:
            result = ctx.client.send_command(str(name), values, confirm=confirm, bypass=bypass)
        except ApiError as exc:
            show_error(exc)
            return
        st.session_state["cmd_last"] = result.get("id")
        st.session_state.pop("cmd_detail", None)  # show the new command's stages
        st.success(
            f"Command **{name}** accepted by the ground as `{result.get('id', '?')}` "
            f"({result.get('stage', 'queued')})."
        )


def render(ctx: PageContext) -> None:
    st.title("Commands", anchor=False)
    commands = fetch_list(ctx.client.mdb_commands)
    if commands:
        _form(ctx, commands)

    st.subheader("Command history")

    @st.fragment(run_every=ctx.refresh_s)
    def history() -> None:
        recent = fetch_list(lambda: ctx.client.commands(limit=HISTORY_LIMIT))
        table(
            history_rows(recent),
            empty="No command sent yet.",
            key="cmd_history",
            colours={"stage": STAGE_COLOURS},
            widths={"stage": "small", "args": "medium", "waiting": "medium"},
        )
        if not recent:
            return
        by_id = {str(c.get("id")): c for c in recent}
        ids = list(by_id)
        last = st.session_state.get("cmd_last")
        index = ids.index(last) if last in ids else 0
        chosen = st.selectbox(
            "Verification stages of",
            ids,
            index=index,
            format_func=lambda i: (
                f"{by_id[i].get('name')} · created {fmt_time(as_float(by_id[i].get('created_at')))}"
            ),
            key="cmd_detail",
        )
        command = by_id[str(chosen)]
        stage = str(command.get("stage", ""))
        st.markdown(
            f"**{command.get('name')}** is {dot(STAGE_COLOURS.get(stage, GREY), stage)}"
            + (
                f" — waiting: {command.get('waiting_reason')}"
                if command.get("waiting_reason")
                else ""
            )
            + (
                f" · next AOS {fmt_time(as_float(command.get('next_aos')))} "
                f"({command.get('next_aos_station')})"
                if command.get("next_aos")
                else ""
            )
        )
        table(
            stage_rows(command),
            empty="No stage recorded yet.",
            colours={"stage": STAGE_COLOURS},
            widths={"stage": "small", "detail": "large"},
        )

    history()
    _command_link(ctx)


COP1_ACTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "Initiate AD (Set V(R) to V(S))": ("initiate", {"mode": "set_vr"}),
    "Initiate AD with Unlock": ("initiate", {"mode": "unlock"}),
    "Initiate AD (no CLCW check)": ("initiate", {"mode": "without_clcw_check"}),
    "Terminate AD": ("terminate", {}),
    "Resume AD": ("resume", {}),
    "Switch to BD (bypass)": ("set_tc_mode", {"tc_mode": "bd"}),
    "Switch to AD (COP-1)": ("set_tc_mode", {"tc_mode": "ad"}),
}
"""The COP-1 directives offered to operators, as (directive, fields) of the API."""


def cop1_body(label: str, status: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The directive and fields for one of :data:`COP1_ACTIONS`, given the vehicle's status
    (Set V(R) takes the FOP's V(S), so that both ends continue from where the ground is)."""
    directive, fields = COP1_ACTIONS[label]
    fields = dict(fields)
    if fields.get("mode") == "set_vr":
        cop1 = status.get("cop1") or {}
        fields["set_vr"] = int(cop1.get("v_s") or 0)
    return directive, fields


def _command_link(ctx: PageContext) -> None:
    with st.expander("Command link (COP-1)", expanded=False):
        statuses = fetch_list(ctx.client.link_status, quiet=True)
        table(cop1_rows(statuses), empty="No command-link status yet.", key="cop1_status")
        st.caption(
            "Type-AD frames go through the ground's FOP-1: it retransmits what the on-board "
            "FARM-1 did not acknowledge and stops with an alert at the transmission limit (or "
            "after an on-board reboot, when the FARM starts again from V(R) = 0). Start it again "
            "here."
        )
        by_vehicle = {str(s.get("vehicle")): s for s in statuses}
        if not by_vehicle:
            return
        c1, c2, c3 = st.columns([1, 2, 1])
        vehicle = c1.selectbox("Vehicle", list(by_vehicle), key="cop1_vehicle")
        label = c2.selectbox("Directive", list(COP1_ACTIONS), key="cop1_directive")
        go = c3.button("Send directive", disabled=not ctx.may("operator"), key="cop1_go")
        if go:
            directive, fields = cop1_body(str(label), by_vehicle[str(vehicle)])
            try:
                result = ctx.client.cop1(str(vehicle), directive, **fields)
            except ApiError as exc:
                show_error(exc)
                return
            state = (result.get("cop1") or {}).get("fop_state", "?")
            st.success(f"{label} for **{vehicle}**: the FOP is now `{state}`.")

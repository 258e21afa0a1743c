"""``lupex cop1 VEHICLE [DIRECTIVE]``: the ground's COP-1 (FOP-1) from the terminal.

A thin layer over ``GET /api/v1/commands/link-status`` (no directive: print the vehicle's FOP
state and the CLCW) and ``POST /api/v1/commands/link/{vehicle}/cop1`` (a directive: initiate,
terminate, resume, set_v_s, set_parameters, set_tc_mode). Register it with
``app.command("cop1")(cop1)``.

The token comes from ``--token`` or ``LUPEX_TOKEN`` (viewer to read, operator for directives)
and is never printed. Exit codes: 0 done, 2 refused by the ground or unreachable.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import typer

from lupex.commands.command import api_base, exit_if_refused

__all__ = ["cop1", "status_lines"]

EXIT_REFUSED: Final = 2
DIRECTIVES: Final = (
    "initiate",
    "terminate",
    "resume",
    "set_v_s",
    "set_parameters",
    "set_tc_mode",
)


def status_lines(status: dict[str, Any]) -> list[str]:
    """A vehicle's command-link status as a few readable lines."""
    cop1 = status.get("cop1") or {}
    lines = [
        f"{status.get('vehicle')}: TC mode {str(status.get('tc_mode', '?')).upper()}, "
        f"FOP {cop1.get('fop_state', '?')}, V(S)={cop1.get('v_s')}, NN(R)={cop1.get('nn_r')}, "
        f"{cop1.get('sent_queue', 0)} sent unacknowledged, {cop1.get('wait_queue', 0)} waiting"
    ]
    lines.append(
        f"  window K={cop1.get('window')}, T1={cop1.get('t1_s')} s, transmission limit "
        f"{cop1.get('transmission_limit')}, timeout type {cop1.get('timeout_type')}; "
        f"{cop1.get('frames_sent', 0)} frames, {cop1.get('retransmissions', 0)} retransmissions, "
        f"{cop1.get('alerts', 0)} alerts"
    )
    if cop1.get("last_alert"):
        lines.append(f"  last alert: {cop1['last_alert']}")
    if status.get("known"):
        lines.append(
            f"  CLCW: {status.get('state')}, N(R)={status.get('report_value')}, lockout "
            f"{status.get('lockout')}, retransmit {status.get('retransmit')}, wait "
            f"{status.get('wait')} (via {status.get('station')})"
        )
    else:
        lines.append("  CLCW: none received yet")
    return lines


def cop1(
    vehicle: Annotated[str, typer.Argument(help="rover or lander.")],
    directive: Annotated[
        str | None,
        typer.Argument(help=f"One of: {', '.join(DIRECTIVES)}; none: show the status."),
    ] = None,
    mode: Annotated[
        str,
        typer.Option(help="initiate: without_clcw_check, with_clcw_check, unlock or set_vr."),
    ] = "without_clcw_check",
    set_vr: Annotated[
        int | None, typer.Option("--set-vr", help="initiate --mode set_vr: the new V(R).")
    ] = None,
    v_s: Annotated[int | None, typer.Option("--v-s", help="set_v_s: the new V(S).")] = None,
    tc_mode: Annotated[str | None, typer.Option("--tc-mode", help="set_tc_mode: ad or bd.")] = None,
    window: Annotated[int | None, typer.Option(help="set_parameters: window K.")] = None,
    t1: Annotated[float | None, typer.Option(help="set_parameters: timer T1, s.")] = None,
    limit: Annotated[int | None, typer.Option(help="set_parameters: transmission limit.")] = None,
    timeout_type: Annotated[
        int | None, typer.Option(help="set_parameters: 0 alert, 1 suspend.")
    ] = None,
    api: Annotated[
        str, typer.Option("--api", envvar="LUPEX_API", help="Ground service base URL.")
    ] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="LUPEX_TOKEN", help="Bearer token.", show_default=False),
    ] = None,
) -> None:
    """Show the ground's COP-1 state for a vehicle, or send it a COP-1 directive."""
    import httpx

    if not token:
        typer.echo("Error: no token: pass --token or set LUPEX_TOKEN", err=True)
        raise typer.Exit(EXIT_REFUSED)
    base = api_base(api)
    body: dict[str, Any] = {"directive": directive, "mode": mode}
    optional = {
        "set_vr": set_vr,
        "v_s": v_s,
        "tc_mode": tc_mode,
        "window": window,
        "t1_s": t1,
        "transmission_limit": limit,
        "timeout_type": timeout_type,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    try:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30.0
        ) as client:
            if directive is None:
                response = client.get("/commands/link-status")
            else:
                response = client.post(f"/commands/link/{vehicle}/cop1", json=body)
            exit_if_refused(response)
            data = response.json()
    except httpx.HTTPError as exc:
        typer.echo(f"Error: cannot reach the ground service at {base}: {exc}", err=True)
        raise typer.Exit(EXIT_REFUSED) from None
    if directive is None:
        found = [s for s in data if isinstance(s, dict) and s.get("vehicle") == vehicle]
        if not found:
            typer.echo(f"Error: unknown vehicle {vehicle!r}", err=True)
            raise typer.Exit(EXIT_REFUSED)
        data = found[0]
    for line in status_lines(data):
        typer.echo(line)

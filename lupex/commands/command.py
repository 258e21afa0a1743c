"""``lupex command NAME [ARG=VALUE ...]``: send a telecommand through the ground's REST API.

A thin layer over ``POST /api/v1/commands`` and ``GET /api/v1/commands/{id}``: the ground
validates, queues, releases and verifies; this prints each verification stage as it arrives
(mission time, stage, detail) until the command is finished. Register it with
``app.command("command")(command)``.

The token comes from ``--token`` or ``LUPEX_TOKEN`` (operator role or higher) and is never
printed. Exit codes: 0 completed (or queued/sent with ``--no-wait``), 1 failed, rejected, timed
out or cancelled, 2 refused by the ground (bad name or argument, missing confirmation, role) or
unreachable.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any, Final

import typer

__all__ = ["command"]

EXIT_FAILED: Final = 1
EXIT_REFUSED: Final = 2
POLL_S: Final = 0.2
FINISHED: Final = frozenset({"completed", "failed", "rejected", "cancelled", "timeout"})


def _iso(t: object) -> str:
    if not isinstance(t, int | float):
        return "?"
    stamp = datetime.fromtimestamp(float(t), UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``["angle=15", "mode=SAFE"]`` → ``{"angle": "15", "mode": "SAFE"}`` (the ground converts)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            msg = f"argument {pair!r} is not ARG=VALUE"
            raise typer.BadParameter(msg, param_hint="ARGS")
        out[key.strip()] = value.strip()
    return out


def api_base(url: str) -> str:
    """``http://host:port`` → ``http://host:port/api/v1`` (unchanged if it already ends so)."""
    base = url.rstrip("/")
    return base if base.endswith("/api/v1") else f"{base}/api/v1"


def refusal_text(status: int, body: Any) -> str:
    """The ground's reason, from a 4xx body (FastAPI's 422 list or ``{"detail": "..."}``)."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        lines = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                lines.append(f"{loc}: {item.get('msg', '')}")
        return "; ".join(lines) or f"HTTP {status}"
    if isinstance(detail, str):
        return detail
    return f"HTTP {status}"


def exit_if_refused(response: Any) -> None:
    """Print the ground's reason and exit 2 when ``response`` (httpx) is a 4xx/5xx."""
    if response.status_code < 400:
        return
    try:
        payload = response.json()
    except ValueError:
        payload = None
    refused = refusal_text(response.status_code, payload)
    typer.echo(f"Refused ({response.status_code}): {refused}", err=True)
    raise typer.Exit(EXIT_REFUSED)


def _stage_line(stage: dict[str, Any]) -> str:
    station = f" [{stage['station']}]" if stage.get("station") else ""
    detail = f"  {stage['detail']}" if stage.get("detail") else ""
    return f"  {_iso(stage.get('time'))}  {stage.get('stage', '?'):<10}{station}{detail}"


def command(
    name: Annotated[str, typer.Argument(help="Command name, e.g. rover.mobility.turn.")],
    args: Annotated[
        list[str] | None,
        typer.Argument(help="Arguments as ARG=VALUE, e.g. angle=15 mode=SAFE.", show_default=False),
    ] = None,
    api: Annotated[
        str, typer.Option("--api", envvar="LUPEX_API", help="Ground service base URL.")
    ] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="LUPEX_TOKEN",
            help="Bearer token (operator role or higher).",
            show_default=False,
        ),
    ] = None,
    confirm: Annotated[bool, typer.Option("--confirm", help="Confirm a critical command.")] = False,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Follow the stages until the end.")
    ] = True,
    immediate: Annotated[
        bool,
        typer.Option("--immediate", help="Send now or fail, instead of waiting for a station."),
    ] = False,
    station: Annotated[
        str | None, typer.Option("--station", help="Preferred ground station.")
    ] = None,
    bypass: Annotated[
        bool, typer.Option("--bypass", help="A Type-BD frame outside COP-1 (emergencies).")
    ] = False,
    timeout_s: Annotated[
        float, typer.Option("--timeout", help="Stop following after this many wall seconds.")
    ] = 600.0,
) -> None:
    """Send a command through the ground service and print its verification stages."""
    import httpx

    values = parse_assignments(args or [])
    if not token:
        typer.echo("Error: no token: pass --token or set LUPEX_TOKEN", err=True)
        raise typer.Exit(EXIT_REFUSED)
    headers = {"Authorization": f"Bearer {token}"}
    body: dict[str, Any] = {
        "name": name,
        "args": values,
        "confirm": confirm,
        "release": "immediate" if immediate else "queued",
    }
    if station:
        body["station"] = station
    if bypass:
        body["bypass"] = True
    base = api_base(api)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30.0) as client:
            response = client.post("/commands", json=body)
            exit_if_refused(response)
            view = response.json()
            typer.echo(f"{view['name']} {view['id']}")
            shown = 0
            reason: str | None = None
            deadline = time.monotonic() + timeout_s
            while True:
                stages = view.get("stages", [])
                for stage in stages[shown:]:
                    typer.echo(_stage_line(stage))
                shown = len(stages)
                waiting = view.get("waiting_reason")
                if view.get("stage") == "queued" and waiting and waiting != reason:
                    typer.echo(f"  waiting: {waiting}")
                    reason = waiting
                if not wait or view.get("stage") in FINISHED or time.monotonic() > deadline:
                    break
                time.sleep(POLL_S)
                polled = client.get(f"/commands/{view['id']}")
                polled.raise_for_status()
                view = polled.json()
    except httpx.HTTPError as exc:
        typer.echo(f"Error: cannot reach the ground service at {base}: {exc}", err=True)
        raise typer.Exit(EXIT_REFUSED) from None
    final = view.get("stage")
    if wait and final != "completed":
        raise typer.Exit(EXIT_FAILED)

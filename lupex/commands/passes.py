"""``lupex passes``: predicted contact windows between ground stations and the landing site.

A thin layer over :func:`mission.geometry.predict_passes`. Register it with
``app.command("passes")(passes)``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mission.geometry import Pass, UnknownStationError, ground_stations, predict_passes

__all__ = ["passes"]

MAX_HOURS = 31 * 24.0
EXIT_USAGE = 2


def _parse_start(text: str) -> float:
    """ISO 8601 (a time without an offset is taken as UTC) or ``now``, as Unix seconds."""
    if text.strip().lower() == "now":
        return datetime.now(UTC).timestamp()
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _iso(t: float) -> str:
    stamp = datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _pass_json(p: Pass) -> dict[str, object]:
    return {
        "station": p.station_id,
        "aos": _iso(p.aos),
        "los": _iso(p.los),
        "duration_s": round(p.duration_s, 3),
        "max_elevation_deg": round(p.max_elevation_deg, 3),
        "max_elevation_time": _iso(p.max_elevation_time),
        "aos_cause": p.aos_cause.value,
        "los_cause": p.los_cause.value,
    }


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code=EXIT_USAGE)


def passes(
    station: Annotated[
        str, typer.Option("--station", help="Ground station id (for example dss43), or 'all'.")
    ] = "all",
    start: Annotated[
        str,
        typer.Option("--start", help="Start, ISO 8601 (UTC when no offset is given), or 'now'."),
    ] = "now",
    hours: Annotated[
        float,
        typer.Option("--hours", min=0.01, max=MAX_HOURS, help="Length of the prediction window."),
    ] = 24.0,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print JSON (ISO 8601 UTC times) instead of a table.")
    ] = False,
) -> None:
    """Predict when ground stations can talk to the landing site.

    A pass needs the Moon above the station's elevation mask and the Earth above the site's
    horizon mask; the table says which of the two started and ended each pass.
    """
    valid_ids = [s.id for s in ground_stations()]
    if station != "all" and station not in valid_ids:
        raise _fail(f"unknown station {station!r}; valid ids: {', '.join(valid_ids)}, all")
    try:
        start_s = _parse_start(start)
    except ValueError as exc:
        raise _fail(f"start {start!r} is not an ISO 8601 time ({exc})") from exc
    try:
        found = predict_passes(start_s, hours, None if station == "all" else [station])
    except UnknownStationError as exc:  # the check above makes this unreachable in practice
        raise _fail(str(exc)) from exc

    if json_out:
        document = {
            "station": station,
            "start": _iso(start_s),
            "hours": hours,
            "passes": [_pass_json(p) for p in found],
        }
        typer.echo(json.dumps(document, indent=2))
        return

    table = Table(title=f"Passes over the landing site from {_iso(start_s)} for {hours:g} h")
    for column in ("station", "AOS (UTC)", "LOS (UTC)", "duration", "max el", "at", "AOS by"):
        table.add_column(column)
    table.add_column("LOS by")
    for p in found:
        h, m = divmod(round(p.duration_s / 60.0), 60)
        table.add_row(
            p.station_id,
            _iso(p.aos)[:19],
            _iso(p.los)[:19],
            f"{h} h {m:02d} min",
            f"{p.max_elevation_deg:.1f}°",
            _iso(p.max_elevation_time)[11:19],
            p.aos_cause.value,
            p.los_cause.value,
        )
    console = Console()
    if not console.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
        console = Console(width=132)
    if found:
        console.print(table)
    else:
        console.print(f"No passes for {station} in the window.")

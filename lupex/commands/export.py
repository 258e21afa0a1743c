"""``lupex export``: archived samples of a set of parameters over a time window, as CSV.

A thin layer over ``ground.archive.write_csv`` with a progress bar. Register it with
``app.command("export")(export)``::

    lupex export --db sqlite:///var/lupex/archive.db --params 'rover.power.*,lander.thermal.*' \\
        --start 2026-01-01T00:00:00Z --end 2026-01-01T06:00:00Z --output power.csv
"""

from __future__ import annotations

import fnmatch
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from ground.archive import Archive

__all__ = ["export"]

EXIT_USAGE = 2


def _time(text: str, option: str) -> float:
    """ISO 8601 (UTC when no offset) or Unix seconds → Unix seconds."""
    value = text.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is neither ISO 8601 nor Unix seconds", param_hint=option
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def resolve(requested: list[str], stored: list[str]) -> tuple[list[str], list[str]]:
    """Names and fnmatch patterns → stored parameter names (request order), and the unmatched."""
    found: dict[str, None] = {}
    unmatched: list[str] = []
    stored_set = set(stored)
    for entry in requested:
        if any(c in entry for c in "*?["):
            matched = [n for n in stored if fnmatch.fnmatchcase(n, entry)]
            found.update(dict.fromkeys(matched))
            if not matched:
                unmatched.append(entry)
        elif entry in stored_set:
            found[entry] = None
        else:
            unmatched.append(entry)
    return list(found), unmatched


def _expected_rows(archive: Archive, names: list[str], start: float, end: float) -> int:
    # One bucket per parameter: answered from the segment summaries, without reading samples.
    return sum(b.count for name in names for b in archive.history(name, start, end, 1))


def export(
    db: Annotated[str, typer.Option(help="Archive URL (sqlite:///file.db, postgresql://...).")],
    params: Annotated[
        str,
        typer.Option(help="Comma-separated parameter names or fnmatch patterns ('rover.power.*')."),
    ],
    start: Annotated[str, typer.Option(help="Start, ISO 8601 (UTC if no offset) or Unix s.")],
    end: Annotated[str, typer.Option(help="End (exclusive), ISO 8601 or Unix seconds.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="CSV file to write ('-' for stdout).")
    ],
) -> None:
    """Export archived samples as CSV: generation_time, parameter, raw, eng, reception_time."""
    # Imported here so that `lupex --help` does not load numpy and the database drivers.
    from ground.archive import open_archive, write_csv

    t0, t1 = _time(start, "--start"), _time(end, "--end")
    if not t0 < t1:
        raise typer.BadParameter("--start must be before --end", param_hint="--start")
    requested = [p.strip() for p in params.split(",") if p.strip()]
    if not requested:
        raise typer.BadParameter("no parameter given", param_hint="--params")
    try:
        archive = open_archive(db)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--db") from None
    console = Console(stderr=True)
    with ExitStack() as stack:
        stack.callback(archive.close)
        names, unmatched = resolve(requested, archive.parameter_names())
        if unmatched:
            typer.echo(f"Error: no samples archived for: {', '.join(unmatched)}", err=True)
            raise typer.Exit(EXIT_USAGE)
        total = _expected_rows(archive, names, t0, t1)
        out: TextIO
        if str(output) == "-":
            out = sys.stdout
        else:
            out = stack.enter_context(output.open("w", encoding="utf-8", newline=""))
        progress = stack.enter_context(
            Progress(
                TextColumn("[bold]export"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("samples"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )
        )
        task = progress.add_task("export", total=max(total, 1))
        rows = write_csv(
            archive, names, t0, t1, out, lambda done: progress.update(task, completed=done)
        )
        progress.update(task, completed=max(rows, 1), total=max(rows, 1))
    console.print(
        f"exported {rows} samples of {len(names)} parameter(s) to "
        f"{'stdout' if str(output) == '-' else output}"
    )

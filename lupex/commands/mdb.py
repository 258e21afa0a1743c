"""``lupex mdb``: check the mission database and generate the ICD.

A thin layer over :mod:`mission.mdb`. Register it with ``app.add_typer(mdb_app, name="mdb")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mission.mdb import MdbError, MissionDatabase, load_mdb, render_icd

__all__ = ["mdb_app"]

DEFAULT_ICD = Path("docs/icd.md")

mdb_app = typer.Typer(
    name="mdb",
    help="Mission database: validate it and generate the ICD (docs/icd.md).",
    no_args_is_help=True,
    add_completion=False,
)


def _load(path: Path | None) -> MissionDatabase:
    try:
        return load_mdb(path)
    except MdbError as exc:
        typer.echo(f"mission database invalid ({len(exc.problems)} problem(s)):", err=True)
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(code=1) from None


@mdb_app.command("check")
def check(
    path: Annotated[
        Path | None,
        typer.Option("--path", help="Folder of *.yaml database files (default: the packaged one)."),
    ] = None,
) -> None:
    """Validate the database and print the number of definitions of each kind."""
    db = _load(path)
    typer.echo(f"mission database OK: {db.source}")
    for kind, count in db.summary().items():
        typer.echo(f"  {kind:<14} {count:>5}")
    for vehicle in db.vehicles:
        typer.echo(
            f"  {vehicle}: {len(db.parameters_for(vehicle))} parameters, "
            f"{len(db.packets_for(vehicle))} packets, {len(db.commands_for(vehicle))} commands, "
            f"{len(db.events_for(vehicle))} events"
        )


@mdb_app.command("docs")
def docs(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the ICD.")
    ] = DEFAULT_ICD,
    check_only: Annotated[
        bool,
        typer.Option(
            "--check", help="Write nothing; exit 1 if the file differs from the database."
        ),
    ] = False,
    path: Annotated[
        Path | None,
        typer.Option("--path", help="Folder of *.yaml database files (default: the packaged one)."),
    ] = None,
) -> None:
    """Generate the Interface Control Document from the mission database."""
    db = _load(path)
    text = render_icd(db)
    if check_only:
        current = output.read_text(encoding="utf-8") if output.exists() else None
        if current != text:
            reason = "is missing" if current is None else "differs from the mission database"
            typer.echo(f"{output} {reason}; run `lupex mdb docs` to regenerate it", err=True)
            raise typer.Exit(code=1)
        typer.echo(f"{output} is up to date")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output} ({len(text.splitlines())} lines)")

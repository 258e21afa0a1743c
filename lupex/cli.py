"""The `lupex` umbrella command. Each subcommand is a thin layer over one package."""

from __future__ import annotations

import typer

from lupex import __version__

app = typer.Typer(
    name="lupex",
    help="LUPEX ground-segment mock: spacecraft simulator, ground service and dashboard.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lupex {__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """LUPEX ground-segment mock."""

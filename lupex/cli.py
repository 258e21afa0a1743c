"""The `lupex` umbrella command. Each subcommand is a thin layer over one package.

Subcommands live in ``lupex/commands/<name>.py`` and import their package lazily, so that
``lupex --help`` stays fast.
"""

from __future__ import annotations

import typer

from lupex import __version__
from lupex.commands.bench import bench_app
from lupex.commands.broker import broker
from lupex.commands.command import command
from lupex.commands.cop1 import cop1
from lupex.commands.dashboard import dashboard
from lupex.commands.demo import demo
from lupex.commands.export import export
from lupex.commands.ground import ground
from lupex.commands.mdb import mdb_app
from lupex.commands.passes import passes
from lupex.commands.replay import replay
from lupex.commands.scenario import fault_app, scenario_app
from lupex.commands.spacecraft import spacecraft

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


app.command("demo")(demo)
app.command("broker")(broker)
app.command("ground")(ground)
app.command("dashboard")(dashboard)
app.command("export")(export)
app.command("command")(command)
app.command("cop1")(cop1)
app.command("replay")(replay)
app.command("passes")(passes)
app.command("spacecraft")(spacecraft)
app.add_typer(scenario_app, name="scenario")
app.add_typer(fault_app, name="fault")
app.add_typer(bench_app, name="bench")
app.add_typer(mdb_app, name="mdb")

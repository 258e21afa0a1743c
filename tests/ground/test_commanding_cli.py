"""``lupex command`` against a real ground service (uvicorn, real broker, real archive)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ground.api import commands as commands_api
from ground.app import create_app
from ground.commanding.wiring import run_commanding, run_links
from lupex.commands.command import api_base, command, parse_assignments, refusal_text
from lupex.commands.cop1 import cop1
from tests.ground.test_api_support import GroundTokens, running_server, settings_for, sqlite_url
from tests.support.mosquitto import MosquittoServer

pytestmark = pytest.mark.integration


@dataclass
class Server:
    url: str
    tokens: GroundTokens


@pytest.fixture
async def server(
    mosquitto: MosquittoServer, tmp_path: Path, unique_id: str
) -> AsyncIterator[Server]:
    tokens = GroundTokens()
    settings = settings_for(mosquitto, sqlite_url(tmp_path), tokens, unique_id)
    app = create_app(
        settings,
        extra_routers=[commands_api.router],
        extra_services=[("links", run_links), ("commanding", run_commanding)],
    )
    async with running_server(app, settings.port):
        yield Server(f"http://127.0.0.1:{settings.port}", tokens)


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(command)
    return app


async def invoke(args: list[str], token: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke, cli(), args, env={"LUPEX_TOKEN": token}, catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


async def test_a_command_is_queued_from_the_terminal(server: Server) -> None:
    code, out, _ = await invoke(
        ["rover.mobility.turn", "angle=15", "--no-wait", "--api", server.url],
        server.tokens.operator,
    )
    assert code == 0, out
    assert out.startswith("rover.mobility.turn ")
    assert "queued" in out
    assert server.tokens.operator not in out


async def test_refusals_are_explained_and_exit_2(server: Server) -> None:
    code, _, err = await invoke(
        ["rover.mobility.drive_distance", "distance=500", "--api", server.url],
        server.tokens.operator,
    )
    assert code == 2
    assert "args.distance" in err
    assert "-20 to 100 m" in err
    code, _, err = await invoke(["rover.mobility.stop", "--api", server.url], server.tokens.viewer)
    assert code == 2
    assert "403" in err
    assert "operator" in err


def test_helpers() -> None:
    assert parse_assignments(["a=1", " mode = SAFE "]) == {"a": "1", "mode": "SAFE"}
    with pytest.raises(typer.BadParameter):
        parse_assignments(["oops"])
    assert api_base("http://h:1/") == "http://h:1/api/v1"
    assert api_base("http://h:1/api/v1") == "http://h:1/api/v1"
    body = {"detail": [{"loc": ["body", "args", "x"], "msg": "too big"}]}
    assert refusal_text(422, body) == "args.x: too big"
    assert refusal_text(409, {"detail": "no station"}) == "no station"


async def test_cop1_status_and_directives_from_the_terminal(server: Server) -> None:
    app = typer.Typer()
    app.command()(cop1)
    runner = CliRunner()

    async def run(args: list[str], token: str) -> tuple[int, str, str]:
        result = await asyncio.to_thread(
            runner.invoke, app, [*args, "--api", server.url], env={"LUPEX_TOKEN": token},
            catch_exceptions=False,
        )  # fmt: skip
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = await run(["rover"], server.tokens.viewer)
    assert code == 0, out
    assert out.startswith("rover: TC mode AD, FOP initial")
    assert "CLCW: none received yet" in out
    code, out, _ = await run(["rover", "initiate"], server.tokens.operator)
    assert code == 0, out
    assert "FOP active" in out
    code, out, _ = await run(["rover", "set_parameters", "--t1", "25"], server.tokens.operator)
    assert "T1=25.0 s" in out
    code, _, err = await run(["rover", "initiate"], server.tokens.operator)
    assert code == 2
    assert "terminate AD first" in err
    code, _, err = await run(["rover", "terminate"], server.tokens.viewer)
    assert code == 2
    assert "403" in err
    code, _, err = await run(["rover", "initiate", "--mode", "set_vr"], server.tokens.operator)
    assert code == 2
    assert "set_vr" in err

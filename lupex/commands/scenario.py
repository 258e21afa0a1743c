"""``lupex scenario`` and ``lupex fault``: training scenarios and single faults for the mock.

``list`` and ``show`` read ``seeds/`` and work offline. ``run``, ``stop``, ``fault inject`` and
``fault clear`` publish a control message on ``lupex/v1/sim/control`` as the instructor and follow
``lupex/v1/sim/status`` for the outcome (and, for ``run``, the progress until the scenario ends).
Credentials: ``LUPEX_INSTRUCTOR_MQTT_USERNAME`` / ``LUPEX_INSTRUCTOR_MQTT_PASSWORD`` (default: the
demo user ``instructor``). Register with ``app.add_typer(scenario_app, name="scenario")`` and
``app.add_typer(fault_app, name="fault")``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Annotated

import aiomqtt
import typer
from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from rich.console import Console
from rich.table import Table

from mission import topics
from mission.faults import FaultParamError, load_faults
from mission.scenarios import ScenarioError, load_scenarios
from mission.sim_control import (
    ClearFault,
    InjectFault,
    SimControl,
    SimStatus,
    StartScenario,
    StopScenario,
    control_json,
)
from mqtt_io import BrokerUrl, ClientOptions, detect_protocol, make_client

__all__ = ["fault_app", "parse_assignments", "scenario_app"]

EXIT_FAILED = 1
EXIT_USAGE = 2
DEFAULT_BROKER = "mqtt://127.0.0.1:1883"

scenario_app = typer.Typer(
    help="Training scenarios: list, show, run and stop.", no_args_is_help=True
)
fault_app = typer.Typer(help="Single faults: list, inject and clear.", no_args_is_help=True)


class InstructorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LUPEX_INSTRUCTOR_", extra="ignore")

    mqtt_username: str = "instructor"
    mqtt_password: SecretStr = SecretStr("lupex-instructor-demo")


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=132)


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code=code)


def _url(broker: str) -> BrokerUrl:
    settings = InstructorSettings()
    try:
        return BrokerUrl.parse(
            broker,
            username=settings.mqtt_username,
            password=settings.mqtt_password.get_secret_value(),
        )
    except ValueError as exc:
        raise _fail(str(exc)) from exc


def parse_assignments(items: list[str]) -> dict[str, float | int | str | bool]:
    """``["cells=2", "zone=BATTERY", "until=true"]`` -> typed values (int, float, bool or text)."""
    out: dict[str, float | int | str | bool] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            msg = f"expected KEY=VALUE, got {item!r}"
            raise ValueError(msg)
        value: float | int | str | bool
        if text.lower() in ("true", "false"):
            value = text.lower() == "true"
        else:
            try:
                value = int(text)
            except ValueError:
                try:
                    value = float(text)
                except ValueError:
                    value = text
        out[key] = value
    return out


# ---------------------------------------------------------------------------------- MQTT
async def _send(
    url: BrokerUrl, message: SimControl, wait_s: float, follow: str | None = None
) -> SimStatus:
    """Publish ``message`` and return the status acknowledging it (and, with ``follow`` set to a
    scenario name, the status that shows that scenario ended)."""
    protocol = await detect_protocol(url)
    options = ClientOptions(identifier=f"lupex-cli-{uuid.uuid4().hex[:8]}", protocol=protocol)
    deadline = time.monotonic() + wait_s
    async with make_client(url, options) as client:
        await client.subscribe(topics.SIM_STATUS, qos=1)
        await client.publish(topics.SIM_CONTROL, control_json(message), qos=1)
        acked: SimStatus | None = None
        last_progress = -1.0
        async for received in client.messages:
            payload = received.payload
            raw = payload if isinstance(payload, bytes | bytearray) else str(payload).encode()
            try:
                status = SimStatus.model_validate_json(raw)
            except ValidationError:
                continue
            ack = status.last_control
            if acked is None and ack is not None and ack.request_id == message.request_id:
                acked = status
                if not ack.accepted or follow is None:
                    return status
                typer.echo(f"{ack.action}: {ack.reason}")
            if acked is not None and follow is not None:
                scenario = status.scenario
                if scenario is None or scenario.name != follow:
                    continue
                if scenario.progress - last_progress >= 0.05 or scenario.state != "running":
                    last_progress = scenario.progress
                    active = ", ".join(f.instance_id for f in status.active_faults) or "none"
                    typer.echo(
                        f"{status.mission_time_iso} {scenario.name}: {scenario.progress:5.0%} "
                        f"({scenario.elapsed_s:.0f}/{scenario.duration_s:.0f} s) faults: {active}"
                    )
                if scenario.state != "running" or not status.running:
                    return status
            if time.monotonic() > deadline:
                break
    msg = "no answer from the simulator in time (is `lupex spacecraft` running on this broker?)"
    raise TimeoutError(msg)


def _run(url: BrokerUrl, message: SimControl, timeout: float, follow: str | None = None) -> None:
    try:
        status = asyncio.run(_send(url, message, timeout, follow))
    except (TimeoutError, aiomqtt.MqttError) as exc:
        raise _fail(f"{url}: {exc}", EXIT_FAILED) from exc
    ack = status.last_control
    if ack is None or not ack.accepted:
        raise _fail(f"refused: {ack.reason if ack else 'no acknowledgement'}", EXIT_FAILED)
    if follow is None:
        typer.echo(f"{ack.action}: {ack.reason}")


# ---------------------------------------------------------------------------------- scenario
Broker = Annotated[str, typer.Option(help="Broker URL, mqtt://HOST:PORT.")]


@scenario_app.command("list")
def list_scenarios() -> None:
    """List the scenarios of seeds/scenarios (offline)."""
    try:
        scenarios = load_scenarios()
    except ScenarioError as exc:
        raise _fail(str(exc)) from exc
    table = Table(title="Training scenarios")
    for column in ("name", "title", "grade", "duration", "faults", "detections"):
        table.add_column(column)
    for s in scenarios.values():
        table.add_row(
            s.name, s.title, str(s.difficulty), f"{s.duration_s / 60:.0f} min", str(len(s.steps)),
            str(len(s.detections)),
        )  # fmt: skip
    _console().print(table)


@scenario_app.command("show")
def show_scenario(name: Annotated[str, typer.Argument(help="Scenario name.")]) -> None:
    """Show a scenario: description, learning goals, timeline and expected detections."""
    scenarios = load_scenarios()
    scenario = scenarios.get(name)
    if scenario is None:
        raise _fail(f"unknown scenario {name!r}; known: {', '.join(sorted(scenarios))}")
    console = _console()
    console.print(
        f"[bold]{scenario.title}[/bold] ({scenario.name}), difficulty {scenario.difficulty}"
    )
    console.print(scenario.description)
    console.print("Learning goals:")
    for goal in scenario.learning_goals:
        console.print(f"  - {goal}")
    if scenario.setup.activity:
        console.print(f"Set-up: the rover starts to {scenario.setup.activity}.")
    timeline = Table(title="Timeline")
    for column in ("step", "at", "fault", "parameters", "duration"):
        timeline.add_column(column)
    for i, step in enumerate(scenario.steps):
        duration = "until cleared" if step.until_cleared else (
            f"{step.duration_s:g} s" if step.duration_s else "default"
        )  # fmt: skip
        params = ", ".join(f"{k}={v}" for k, v in step.params.items())
        timeline.add_row(str(i), f"+{step.at_s:g} s", step.fault, params, duration)
    console.print(timeline)
    detections = Table(title="Expected detections")
    for column in ("id", "what", "after step", "deadline", "recovery"):
        detections.add_column(column)
    for d in scenario.detections:
        what = f"{d.parameter} {d.level}" if d.kind.value == "alarm" else f"event {d.event}"
        detections.add_row(d.id, what, str(d.step), f"{d.deadline_s:g} s", d.recovery_command or "")
    console.print(detections)


@scenario_app.command("run")
def run_scenario(
    name: Annotated[str, typer.Argument(help="Scenario name.")],
    broker: Broker = DEFAULT_BROKER,
    timeout: Annotated[float, typer.Option(help="Give up after this many wall seconds.")] = 3600.0,
) -> None:
    """Start a scenario on a running mock and follow it until it ends."""
    if name not in load_scenarios():
        raise _fail(f"unknown scenario {name!r}")
    message = StartScenario(scenario=name, request_id=uuid.uuid4().hex)
    _run(_url(broker), message, timeout, follow=name)


@scenario_app.command("stop")
def stop_scenario(
    broker: Broker = DEFAULT_BROKER,
    keep_faults: Annotated[bool, typer.Option(help="Leave the scenario's faults active.")] = False,
    timeout: Annotated[float, typer.Option(help="Wall seconds to wait for the answer.")] = 30.0,
) -> None:
    """Stop the running scenario (and clear its faults)."""
    message = StopScenario(clear_faults=not keep_faults, request_id=uuid.uuid4().hex)
    _run(_url(broker), message, timeout)


# ---------------------------------------------------------------------------------- faults
@fault_app.command("list")
def list_faults() -> None:
    """List the fault catalogue (offline)."""
    table = Table(title="Fault catalogue")
    for column in ("id", "title", "target", "parameters", "default duration"):
        table.add_column(column)
    for f in load_faults():
        target = f.target.kind.value + (f" {f.target.vehicle}" if f.target.vehicle else "")
        params = ", ".join(f"{p.name}={p.default}" for p in f.parameters)
        duration = f"{f.default_duration_s:g} s" if f.default_duration_s else "until cleared"
        table.add_row(f.id, f.title, target, params, duration)
    _console().print(table)


@fault_app.command("inject")
def inject_fault(
    fault: Annotated[str, typer.Argument(help="Fault id (see `lupex fault list`).")],
    params: Annotated[list[str] | None, typer.Argument(help="Parameters as KEY=VALUE.")] = None,
    duration: Annotated[
        float | None, typer.Option(min=1.0, help="Mission seconds (default: the catalogue's).")
    ] = None,
    broker: Broker = DEFAULT_BROKER,
    timeout: Annotated[float, typer.Option(help="Wall seconds to wait for the answer.")] = 30.0,
) -> None:
    """Inject one fault into a running mock."""
    try:
        values = parse_assignments(params or [])
        load_faults().resolve_params(fault, values)
    except (ValueError, FaultParamError) as exc:
        raise _fail(str(exc)) from exc
    message = InjectFault(
        fault=fault, params=values, duration_s=duration, request_id=uuid.uuid4().hex
    )
    _run(_url(broker), message, timeout)


@fault_app.command("clear")
def clear_fault(
    fault: Annotated[str, typer.Argument(help="Fault id or instance id (fault#n).")],
    broker: Broker = DEFAULT_BROKER,
    timeout: Annotated[float, typer.Option(help="Wall seconds to wait for the answer.")] = 30.0,
) -> None:
    """Clear a fault (every instance of a fault id, or one instance)."""
    _run(_url(broker), ClearFault(fault=fault, request_id=uuid.uuid4().hex), timeout)

"""`lupex demo`: the whole system on one machine, without containers.

Starts the broker (Mosquitto from the shipped configuration when it is installed, otherwise the
embedded amqtt broker), the ground service with a SQLite archive, the spacecraft mock at a speed
worth watching, and the dashboard; prints what listens where and the demo tokens; stops
everything cleanly on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import getpass
import json
import secrets
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from lupex.commands.spacecraft import parse_epoch
from lupex.mosquitto import (
    SHIPPED_CONFIG,
    MosquittoMissingError,
    demo_password,
    derive_config,
    mosquitto_binary,
)
from lupex.supervisor import ServiceFailedError, ServiceSpec, Supervisor, port_open


def _python_m(*args: str) -> list[str]:
    return [sys.executable, "-m", "lupex", *args]


def _check_free(port: int, what: str, option: str) -> None:
    if port_open(port):
        raise typer.BadParameter(f"port {port} is already in use; choose another with {option}")
    del what


def _start_scenario(api_port: int, token: str, name: str) -> None:
    req = urllib.request.Request(
        f"http://127.0.0.1:{api_port}/api/v1/training/scenarios/{name}/start",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        data=json.dumps({}).encode(),
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
        resp.read()


def demo(
    speed: Annotated[float, typer.Option(help="Simulation speed factor (1-1000).")] = 20.0,
    seed: Annotated[int, typer.Option(help="Simulation seed (same seed, same run).")] = 1,
    scenario: Annotated[
        str | None, typer.Option(help="Fault scenario to start once everything is up.")
    ] = None,
    broker_port: Annotated[int, typer.Option(help="MQTT broker port.")] = 1883,
    api_port: Annotated[int, typer.Option(help="Ground service HTTP/WebSocket port.")] = 8000,
    dashboard_port: Annotated[int, typer.Option(help="Dashboard port.")] = 8501,
    data_dir: Annotated[Path, typer.Option(help="Where the archive and logs go.")] = Path(
        "var/demo"
    ),
    embedded_broker: Annotated[
        bool, typer.Option(help="Use the embedded broker even if Mosquitto is installed.")
    ] = False,
    dashboard: Annotated[bool, typer.Option(help="Start the dashboard.")] = True,
    epoch: Annotated[
        str,
        typer.Option(
            help="Mission start: 'contact' (now if a ground station can talk to the site for the "
            "next hour, else just after the next such AOS; the Earth is below the site's horizon "
            "for days each month), 'now', or ISO 8601 (UTC)."
        ),
    ] = "contact",
) -> None:
    """Run broker, ground service, spacecraft mock and dashboard together (Ctrl-C stops all)."""
    if not 1.0 <= speed <= 1000.0:
        raise typer.BadParameter("speed must be between 1 and 1000", param_hint="--speed")
    try:
        start = parse_epoch(epoch)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--epoch") from exc
    start_iso = datetime.fromtimestamp(start, UTC).isoformat(timespec="seconds")
    _check_free(broker_port, "broker", "--broker-port")
    _check_free(api_port, "ground", "--api-port")
    if dashboard:
        _check_free(dashboard_port, "dashboard", "--dashboard-port")
    data_dir = data_dir.resolve()
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    tokens = {role: secrets.token_urlsafe(18) for role in ("viewer", "operator", "instructor")}
    sup = Supervisor(data_dir / "logs")
    sup.install_signal_handlers()
    broker_kind = "embedded amqtt (MQTT 3.1.1)"
    mosquitto: str | None = None
    if not embedded_broker:
        try:
            mosquitto = mosquitto_binary()
        except MosquittoMissingError:
            typer.echo("demo: Mosquitto is not installed; using the embedded broker")
    try:
        if mosquitto is not None:
            broker_kind = "Mosquitto (shipped configuration)"
            conf = data_dir / "mosquitto.conf"
            (data_dir / "mosquitto").mkdir(exist_ok=True)
            conf.write_text(
                derive_config(
                    SHIPPED_CONFIG.read_text(),
                    port=broker_port,
                    persistence_dir=data_dir / "mosquitto",
                    run_as=getpass.getuser(),
                )
            )
            sup.start(
                ServiceSpec(
                    "broker", [mosquitto, "-c", str(conf)], ready_port=broker_port, echo=False
                )
            )
        else:
            sup.start(
                ServiceSpec(
                    "broker",
                    _python_m("broker", "--port", str(broker_port)),
                    ready_port=broker_port,
                )
            )
        broker_url = f"mqtt://127.0.0.1:{broker_port}"
        ground_env = {
            "LUPEX_GROUND_MQTT_PASSWORD": demo_password("ground"),
            "LUPEX_GROUND_VIEWER_TOKEN": tokens["viewer"],
            "LUPEX_GROUND_OPERATOR_TOKEN": tokens["operator"],
            "LUPEX_GROUND_INSTRUCTOR_TOKEN": tokens["instructor"],
            "LUPEX_GROUND_LOG_FORMAT": "human",
        }
        sup.start(
            ServiceSpec(
                "ground",
                _python_m(
                    "ground",
                    "--broker",
                    broker_url,
                    "--db",
                    f"sqlite:///{data_dir / 'archive.db'}",
                    "--port",
                    str(api_port),
                ),
                env=ground_env,
                ready_port=api_port,
            )
        )
        sup.start(
            ServiceSpec(
                "spacecraft",
                _python_m(
                    "spacecraft",
                    "--broker",
                    broker_url,
                    "--speed",
                    str(speed),
                    "--seed",
                    str(seed),
                    "--epoch",
                    start_iso,
                ),
                env={"LUPEX_SPACECRAFT_MQTT_PASSWORD": demo_password("spacecraft")},
            )
        )
        if dashboard:
            sup.start(
                ServiceSpec(
                    "dashboard",
                    _python_m(
                        "dashboard",
                        "--api",
                        f"http://127.0.0.1:{api_port}",
                        "--port",
                        str(dashboard_port),
                    ),
                    env={"LUPEX_DASHBOARD_TOKEN": tokens["instructor"]},
                    ready_port=dashboard_port,
                    ready_timeout_s=120,
                )
            )
        if scenario:
            _start_scenario(api_port, tokens["instructor"], scenario)
        _banner(
            broker_kind,
            broker_port,
            api_port,
            dashboard_port if dashboard else None,
            tokens,
            data_dir,
            start_iso,
        )
        code = sup.wait()
    except ServiceFailedError as exc:
        typer.echo(f"demo: {exc}", err=True)
        code = 1
    finally:
        typer.echo("demo: stopping all services ...")
        sup.shutdown()
        typer.echo("demo: stopped; archive and logs are in " + str(data_dir))
    raise typer.Exit(code)


def _banner(
    broker_kind: str,
    broker_port: int,
    api_port: int,
    dashboard_port: int | None,
    tokens: dict[str, str],
    data_dir: Path,
    start_iso: str,
) -> None:
    lines = [
        "",
        "LUPEX ground-segment mock is running. Ctrl-C stops everything.",
        f"  broker     mqtt://127.0.0.1:{broker_port}   ({broker_kind})",
        f"  ground API http://127.0.0.1:{api_port}/docs   (WebSocket /api/v1/stream)",
    ]
    if dashboard_port is not None:
        lines.append(f"  dashboard  http://127.0.0.1:{dashboard_port}")
    lines.append(f"  mission    starts {start_iso} (the simulation's epoch)")
    lines.append(f"  archive    {data_dir / 'archive.db'}")
    lines.append(f"  logs       {data_dir / 'logs'}/<service>.log")
    lines.append("  demo tokens (Authorization: Bearer <token>):")
    lines += [f"    {role:<10} {token}" for role, token in tokens.items()]
    lines.append("")
    typer.echo("\n".join(lines))

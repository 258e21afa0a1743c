"""``lupex spacecraft``: run the simulated rover and lander on an MQTT broker.

A thin layer over :mod:`spacecraft_mock.app`. Register it with
``app.command("spacecraft")(spacecraft)``.
Credentials come from ``LUPEX_SPACECRAFT_MQTT_USERNAME`` / ``LUPEX_SPACECRAFT_MQTT_PASSWORD``
(default: the demo user ``spacecraft``); the password is never printed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Annotated

import typer

from mqtt_io import BrokerUrl
from spacecraft_mock.app import RunOptions, run_service
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.settings import SpacecraftSettings

__all__ = ["parse_epoch", "spacecraft"]

EXIT_USAGE = 2


def parse_epoch(text: str | None) -> float:
    """ISO 8601 (UTC when no offset is given), ``now`` / None, or ``contact`` (now if a ground
    station can talk to the site for the next hour, else just after the next such AOS: the Earth
    is below the site's horizon for days each month), as Unix seconds."""
    if text is not None and text.strip().lower() == "contact":
        from mission.geometry import next_contact

        now = datetime.now(UTC).timestamp()
        found = next_contact(now)
        return now if found is None else found
    if text is None or text.strip().lower() == "now":
        return datetime.now(UTC).timestamp()
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def spacecraft(
    broker: Annotated[
        str, typer.Option(help="Broker URL, mqtt://HOST:PORT.")
    ] = "mqtt://127.0.0.1:1883",
    speed: Annotated[
        float, typer.Option(min=0.1, max=1000.0, help="Mission seconds per wall second.")
    ] = 10.0,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream.")] = 1,
    duration: Annotated[
        float | None,
        typer.Option(
            min=1.0, help="Stop after this many mission seconds (default: run until stopped)."
        ),
    ] = None,
    epoch: Annotated[
        str | None,
        typer.Option(
            help="Mission start: ISO 8601 (UTC), 'now' (default) or 'contact' (the next time a "
            "ground station can talk to the site; now when one can)."
        ),
    ] = None,
    hk_rate: Annotated[
        float, typer.Option(min=0.01, max=100.0, help="Multiplier of every housekeeping rate.")
    ] = 1.0,
    no_plan: Annotated[
        bool, typer.Option("--no-plan", help="Keep the rover still (no autonomous activity plan).")
    ] = False,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "INFO",
) -> None:
    """Run the simulated LUPEX rover and lander, their link through the ground stations, on MQTT."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = SpacecraftSettings()
    try:
        url = BrokerUrl.parse(
            broker,
            username=settings.mqtt_username,
            password=settings.mqtt_password.get_secret_value(),
        )
        start = parse_epoch(epoch)
    except ValueError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=EXIT_USAGE) from exc
    options = RunOptions(
        url=url,
        speed=speed,
        seed=seed,
        epoch=start,
        duration_s=duration,
        config=WorldConfig(hk_rate_multiplier=hk_rate, activity_plan=not no_plan),
        client_id=settings.mqtt_client_id,
    )
    asyncio.run(run_service(options))

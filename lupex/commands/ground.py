"""``lupex ground``: run the ground service (a thin layer over ``ground.app.serve``).

Settings come from ``LUPEX_GROUND_*`` environment variables (see ``ground.settings``); the options
given here override them. Register it with ``app.command("ground")(ground)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

__all__ = ["ground"]

EXIT_USAGE = 2


def ground(
    broker: Annotated[
        str | None,
        typer.Option(
            help="MQTT broker URL, mqtt://host:port [env LUPEX_GROUND_BROKER_URL]. "
            "Credentials: LUPEX_GROUND_MQTT_USERNAME / LUPEX_GROUND_MQTT_PASSWORD."
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            help="Archive URL, sqlite:///file.db or postgresql://user@host:port/db "
            "[env LUPEX_GROUND_DB_URL]."
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="HTTP/WebSocket port [env LUPEX_GROUND_PORT]."),
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Address to bind [env LUPEX_GROUND_HOST].")
    ] = None,
    client_id: Annotated[
        str | None,
        typer.Option(help="MQTT client id, one per instance [env LUPEX_GROUND_MQTT_CLIENT_ID]."),
    ] = None,
    share_group: Annotated[
        str | None,
        typer.Option(
            help="MQTT 5 shared-subscription group, to split the downlink between instances "
            "[env LUPEX_GROUND_SHARE_GROUP]."
        ),
    ] = None,
    topic_filter: Annotated[
        str | None,
        typer.Option(
            help="Downlink topics this instance takes, e.g. lupex/v1/downlink/+/rover, to run one "
            "instance per vehicle [env LUPEX_GROUND_TOPIC_FILTER]."
        ),
    ] = None,
    mdb_dir: Annotated[
        Path | None,
        typer.Option(help="Mission database folder [env LUPEX_GROUND_MDB_DIR]."),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(help="json, human or auto [env LUPEX_GROUND_LOG_FORMAT]."),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="DEBUG, INFO, WARNING... [env LUPEX_GROUND_LOG_LEVEL].")
    ] = None,
) -> None:
    """Run the ground service: MQTT ingest, archive, REST API and WebSocket stream."""
    # Imported here: the service pulls in FastAPI, numpy and the archive, and `lupex --help`
    # should stay fast.
    from ground.app import serve
    from ground.settings import GroundSettings

    options: dict[str, Any] = {
        "broker_url": broker,
        "db_url": db,
        "port": port,
        "host": host,
        "mqtt_client_id": client_id,
        "share_group": share_group,
        "topic_filter": topic_filter,
        "mdb_dir": mdb_dir,
        "log_format": log_format,
        "log_level": log_level,
    }
    try:
        settings = GroundSettings(**{k: v for k, v in options.items() if v is not None})
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"]) or "settings"
            typer.echo(f"Error: {field}: {error['msg']}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    code = serve(settings)
    if code:
        raise typer.Exit(code)

"""`lupex broker`: the embedded MQTT broker, for a demo on a machine without Mosquitto."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Annotated

import typer


def broker(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 1883,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Run the embedded MQTT 3.1.1 broker (amqtt) with the shipped users and ACL.

    Users and passwords come from LUPEX_BROKER_USERS (JSON {"user": "password"}), else the demo
    users of deploy/mosquitto. Prefer Mosquitto for anything but a quick demo.
    """
    from lupex.embedded_broker import serve
    from lupex.mosquitto import DEMO_CREDENTIALS

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    raw = os.environ.get("LUPEX_BROKER_USERS")
    users = (
        json.loads(raw) if raw else {name: cred.password for name, cred in DEMO_CREDENTIALS.items()}
    )
    asyncio.run(serve(host, port, users))

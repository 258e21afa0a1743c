"""A small MQTT endpoint with its own client id: publish with QoS 1, subscribe, reconnect.

The command uplink and the training service each run one (``lupex-ground-cmd``,
``lupex-ground-training``), apart from ingest's persistent downlink session, so that a burst of
telemetry never delays a telecommand and a reconnection of one does not touch the others.

``run()`` connects (MQTT 5, or 3.1.1 when the broker speaks nothing newer, as the embedded amqtt
broker), subscribes, hands every message to ``on_message`` and, when the connection drops,
reconnects with exponential backoff (``mqtt_io.backoff_delays``; ``LUPEX_NO_BACKOFF=1`` in
tests). ``publish()`` waits for a connection and for the broker's acknowledgement (PUBACK at
QoS 1); when the connection drops before the acknowledgement it publishes again on the next
connection (QoS 1 is at least once anyway).

Cancelling ``run`` or ``publish`` always ends them, even when aiomqtt reports the cancellation as
``MqttError("Operation timed out")`` (see ``mqtt_io.raise_if_cancelling``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import aiomqtt

from mqtt_io import (
    BrokerUrl,
    ClientOptions,
    backoff_delays,
    detect_protocol,
    make_client,
    raise_if_cancelling,
)

log = logging.getLogger("lupex.ground.mqtt")

MessageHandler = Callable[[str, bytes], None]


class MqttEndpoint:
    """One MQTT connection of the ground (see the module docstring)."""

    def __init__(
        self,
        url: BrokerUrl,
        client_id: str,
        *,
        subscriptions: Sequence[str] = (),
        on_message: MessageHandler | None = None,
        on_reconnect: Callable[[], None] | None = None,
        publish_timeout_s: float = 10.0,
        timeout_s: float = 10.0,
    ) -> None:
        self.url = url
        self.client_id = client_id
        self.subscriptions = tuple(subscriptions)
        self._on_message = on_message
        self._on_reconnect = on_reconnect
        self._publish_timeout = publish_timeout_s
        self._timeout = timeout_s
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self.connections = 0
        self.last_error: str | None = None

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self) -> None:
        """Wait until connected (wrap in ``asyncio.timeout`` to bound the wait)."""
        await self._connected.wait()

    async def run(self) -> None:
        """Stay connected until cancelled."""
        delays = backoff_delays()
        protocol: aiomqtt.ProtocolVersion | None = None
        while True:
            try:
                if protocol is None:
                    protocol = await detect_protocol(self.url)
                options = ClientOptions(
                    identifier=self.client_id, protocol=protocol, timeout=self._timeout
                )
                async with make_client(self.url, options) as client:
                    for topic in self.subscriptions:
                        await client.subscribe(topic, qos=1)
                    self._client = client
                    self.connections += 1
                    if self.connections > 1 and self._on_reconnect is not None:
                        self._on_reconnect()
                    self._connected.set()
                    delays = backoff_delays()
                    log.info("MQTT %s connected to %s", self.client_id, self.url)
                    # With no subscription this only ends when the connection drops.
                    async for message in client.messages:
                        self._deliver(message)
            except aiomqtt.MqttError as exc:
                raise_if_cancelling(exc)
                self.last_error = str(exc)
                log.warning("MQTT %s: connection to %s lost: %s", self.client_id, self.url, exc)
            finally:
                self._client = None
                self._connected.clear()
            await asyncio.sleep(next(delays))

    def _deliver(self, message: aiomqtt.Message) -> None:
        if self._on_message is None:
            return
        payload = message.payload
        data = (
            payload
            if isinstance(payload, bytes)
            else bytes(payload)
            if isinstance(payload, bytearray)
            else str(payload).encode()
        )
        try:
            self._on_message(str(message.topic), data)
        except Exception:
            log.exception("MQTT %s: handler failed for %s", self.client_id, message.topic)

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish once the broker acknowledges it; retried across reconnections."""
        while True:
            await self._connected.wait()
            client = self._client
            if client is None:
                await asyncio.sleep(0)
                continue
            try:
                await client.publish(
                    topic, payload, qos=qos, retain=retain, timeout=self._publish_timeout
                )
            except aiomqtt.MqttError as exc:
                raise_if_cancelling(exc)
                self.last_error = str(exc)
                log.warning(
                    "MQTT %s: publish to %s failed (%s); retrying", self.client_id, topic, exc
                )
                if self._client is client:
                    # The connection still looks up: give the receive loop a moment to notice.
                    await asyncio.sleep(0.05)
                continue
            return

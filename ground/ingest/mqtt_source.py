"""The MQTT receive loop: persistent session, manual acknowledgement, reconnection with backoff.

No loss, by construction:

- the session is persistent (MQTT 5: clean start off + a session expiry interval; MQTT 3.1.1:
  ``clean_session=False``), so the broker keeps our QoS 1 frames while we are away;
- every QoS 1 message is acknowledged by :meth:`MqttSource.acknowledge` only once the batch that
  holds it is committed to the archive; a message received but not acknowledged is sent again by
  the broker after a reconnection or a restart, and deduplication drops the second copy;
- MQTT 5's Receive Maximum bounds what the broker sends before we acknowledge, so aiomqtt's
  incoming queue (sized Receive Maximum + an allowance for QoS 0 messages, which Receive Maximum
  does not count) never fills and never discards. With an MQTT 3.1.1 broker there is no Receive
  Maximum: the incoming queue is then unbounded rather than lossy.

Acknowledgements are sent in order of reception (the archive writer commits batches in order)
and only on the connection the message came on (``generation``): after a reconnection the broker
redelivers whatever the old connection did not acknowledge.

Cancellation ends ``run`` (``mqtt_io.raise_if_cancelling``): aiomqtt may turn the cancellation of
a task inside ``async with client`` into ``MqttError("Operation timed out")`` when the broker does
not confirm the disconnection in time, which must not be taken for a lost connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Final

import aiomqtt

from ground.ingest.config import IngestConfig
from ground.metrics import GroundMetrics
from mission.topics import LINK_ALL, SIM_STATUS, shared
from mqtt_io import (
    ClientOptions,
    MessageReader,
    ReadGate,
    acknowledge,
    backoff_delays,
    detect_protocol,
    make_client,
    raise_if_cancelling,
)

log = logging.getLogger("lupex.ground.ingest.mqtt")

SUBSCRIBE_QOS: Final = 1


@dataclass(slots=True)
class Received:
    """One message on its way through ingest (``message`` is None when it did not come by MQTT)."""

    topic: str
    payload: bytes
    reception_time: float
    message: aiomqtt.Message | None = None
    generation: int = 0


def payload_bytes(payload: object) -> bytes:
    """An aiomqtt payload as bytes (downlink frames are binary; JSON topics may be text)."""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, bytearray | memoryview):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode()
    if payload is None:
        return b""
    return str(payload).encode()


class MqttSource:
    """Receives downlink (and link/status) messages into ``queue`` until cancelled."""

    def __init__(
        self,
        config: IngestConfig,
        queue: asyncio.Queue[Received],
        metrics: GroundMetrics | None = None,
        protocol: aiomqtt.ProtocolVersion | None = None,
    ) -> None:
        self.config = config
        self.queue = queue
        self.metrics = metrics
        self.protocol = protocol
        self.client: aiomqtt.Client | None = None
        self.generation = 0
        self.connected = False
        self.connections = 0
        self.last_message_time: float | None = None
        self.received = 0
        self.acknowledged = 0
        self.last_error: str | None = None
        self.gate: ReadGate | None = None
        """The current connection's read gate (``gate.pauses``: how often reading stopped)."""
        self.subscribed = asyncio.Event()
        """Set once the first subscription is in place (the session then exists)."""

    @property
    def downlink_filter(self) -> str:
        if self.config.shared_group:
            return shared(self.config.topic_filter, self.config.shared_group)
        return self.config.topic_filter

    def options(self, protocol: aiomqtt.ProtocolVersion) -> ClientOptions:
        config = self.config
        return ClientOptions(
            identifier=config.client_id,
            protocol=protocol,
            persistent=config.persistent,
            session_expiry_s=config.session_expiry_s,
            receive_maximum=config.receive_maximum,
            manual_ack=True,
            # Never a discarding queue (a discarded QoS 1 message is never acknowledged): the
            # queue is bounded by reading the socket no more (ReadGate, in _session).
            max_queued_incoming=0,
            keepalive=config.keepalive_s,
            timeout=config.mqtt_timeout_s,
        )

    def incoming_depth(self) -> int:
        client = self.client
        return len(client.messages) if client is not None and self.connected else 0

    def acknowledge(self, item: Received) -> bool:
        """Acknowledge a committed message if its connection is still the current one."""
        message = item.message
        client = self.client
        if message is None or client is None:
            return False
        if item.generation != self.generation or not self.connected:
            return False  # the broker redelivers it on the new connection
        acknowledge(client, message)
        self.acknowledged += 1
        return True

    async def run(self) -> None:
        """Connect, subscribe and receive; reconnect with backoff on any MQTT error."""
        delays = backoff_delays()
        while True:
            connections = self.connections
            try:
                if self.protocol is None:
                    self.protocol = await detect_protocol(self.config.broker)
                    log.info(
                        "broker %s speaks MQTT %s",
                        self.config.broker,
                        "5" if self.protocol is aiomqtt.ProtocolVersion.V5 else "3.1.1",
                    )
                await self._session(self.protocol)
            except aiomqtt.MqttError as exc:
                raise_if_cancelling(exc)
                self.last_error = str(exc)
            finally:
                self.connected = False
            if self.connections > connections:
                delays = backoff_delays()  # it did connect: the next retry starts small again
            delay = next(delays)
            log.warning(
                "MQTT connection to %s lost or refused (%s); retrying in %.2f s",
                self.config.broker,
                self.last_error,
                delay,
            )
            if self.metrics is not None:
                self.metrics.mqtt_reconnects.inc()
            await asyncio.sleep(delay)

    async def _session(self, protocol: aiomqtt.ProtocolVersion) -> None:
        client = make_client(self.config.broker, self.options(protocol))
        gate = ReadGate.install(client, self.config.receive_maximum + self.config.qos0_allowance)
        self.gate = gate
        async with client:
            self.generation += 1
            generation = self.generation
            self.client = client
            self.connected = True
            self.connections += 1
            await client.subscribe(self.downlink_filter, qos=SUBSCRIBE_QOS)
            if self.config.subscribe_links:
                await client.subscribe(LINK_ALL, qos=SUBSCRIBE_QOS)
                await client.subscribe(SIM_STATUS, qos=SUBSCRIBE_QOS)
            self.subscribed.set()
            log.info(
                "subscribed to %s as %s (session %s)",
                self.downlink_filter,
                self.config.client_id,
                "persistent" if self.config.persistent else "clean",
            )
            queue = self.queue
            reader = MessageReader(client, gate)  # cheaper than ``async for`` (see mqtt_io)
            while True:
                message = reader.ready()
                if message is None:
                    message = await reader.next()
                now = time.time()
                self.last_message_time = now
                self.received += 1
                await queue.put(
                    Received(
                        str(message.topic), payload_bytes(message.payload), now, message, generation
                    )
                )

"""Broker URLs, client construction, protocol detection, manual acknowledgement, backoff, the
incoming message reader and the cancellation rule of reconnect loops.

aiomqtt 2.5 keeps three things private that the ground needs: paho's manual acknowledgement
(``make_client``, ``acknowledge``) and the incoming message queue (``MessageReader``). This
module is the one place that reaches them; ``tests/mqtt_io/test_client.py`` checks that they
are still where it looks.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger("lupex.mqtt")

DEFAULT_PORT: Final = 1883
NO_BACKOFF_ENV: Final = "LUPEX_NO_BACKOFF"
"""Set to 1 in tests to reconnect at once (like stamina's testing switch)."""


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    """``mqtt://user:password@host:port``; the password never appears in ``repr`` or logs."""

    host: str
    port: int = DEFAULT_PORT
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str, username: str | None = None, password: str | None = None) -> BrokerUrl:
        """Parse a URL; explicit credentials (e.g. from settings) override those in the URL."""
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "tcp"):
            raise ValueError(f"broker URL scheme must be mqtt:// (got {parts.scheme!r})")
        if not parts.hostname:
            raise ValueError(f"broker URL has no host: {cls._redact(url)!r}")
        return cls(
            host=parts.hostname,
            port=parts.port or DEFAULT_PORT,
            username=username or (unquote(parts.username) if parts.username else None),
            password=password or (unquote(parts.password) if parts.password else None),
        )

    @staticmethod
    def _redact(url: str) -> str:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        return url.replace(f":{parts.password}@", ":***@")

    def redacted(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"mqtt://{user}{self.host}:{self.port}"

    def __str__(self) -> str:
        return self.redacted()


@dataclass(frozen=True, slots=True)
class ClientOptions:
    identifier: str | None = None
    protocol: aiomqtt.ProtocolVersion = aiomqtt.ProtocolVersion.V5
    persistent: bool = False
    """Keep the session (and the broker's queue of QoS 1 messages) across disconnections."""
    session_expiry_s: int = 24 * 3600
    receive_maximum: int = 1000
    """MQTT 5: how many unacknowledged QoS 1 messages the broker may send us at once."""
    manual_ack: bool = False
    """Acknowledge QoS 1 messages only when ``acknowledge`` is called (after archiving)."""
    max_queued_incoming: int = 0
    keepalive: int = 30
    timeout: float = 10.0


def make_client(url: BrokerUrl, options: ClientOptions) -> aiomqtt.Client:
    """An aiomqtt client set up for ``options`` (not connected yet: use ``async with``)."""
    properties: Properties | None = None
    kwargs: dict[str, object] = {}
    if options.protocol is aiomqtt.ProtocolVersion.V5:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        if options.persistent:
            # A persistent MQTT 5 session needs clean_start off AND a session expiry interval.
            properties.SessionExpiryInterval = options.session_expiry_s
        properties.ReceiveMaximum = options.receive_maximum
        kwargs["clean_start"] = not options.persistent
    else:
        kwargs["clean_session"] = not options.persistent
    client = aiomqtt.Client(
        url.host,
        url.port,
        username=url.username,
        password=url.password,
        identifier=options.identifier,
        protocol=options.protocol,
        keepalive=options.keepalive,
        timeout=options.timeout,
        properties=properties,
        max_queued_incoming_messages=options.max_queued_incoming or None,
        **kwargs,  # type: ignore[arg-type]
    )
    if options.manual_ack:
        # aiomqtt 2.5 does not expose paho's manual acknowledgement; it is set on the paho client
        # it wraps, before connecting. Messages are then acknowledged by ``acknowledge``.
        client._client.manual_ack_set(True)
    return client


def acknowledge(client: aiomqtt.Client, message: aiomqtt.Message) -> None:
    """Acknowledge a QoS 1/2 message received with ``manual_ack`` (in order of reception)."""
    if message.qos > 0:
        client._client.ack(message.mid, message.qos)


class ReadGate:
    """Stops reading a client's socket while its incoming queue is full; never discards.

    Why: aiomqtt's bounded incoming queue *discards* what does not fit ("Message queue is full.
    Discarding message."), and a discarded QoS 1 message is never acknowledged, so it holds one
    of the broker's in-flight slots for the rest of the connection. With Receive Maximum that
    cannot happen, as long as the broker honours it; Mosquitto 2.0.11 (Debian 12's) does not
    when it has a backlog for a slow subscriber: it sent a 50-slot client hundreds of messages
    beyond its limit (``tests/mqtt_io/test_client.py``), and the ground's ingest, its in-flight
    window filled with discarded messages, stopped for good (seen in ``bench.overload``). So the
    queue is unbounded and this gate bounds it instead, the TCP way: at ``high`` queued messages
    it takes the socket out of the event loop (paho then reads at most the packet it is on), and
    once a consumer has taken the queue down to ``low`` it puts it back. The broker keeps the
    backlog, which is its job. While paused nothing is read, PINGRESP included: a pause longer
    than the keep-alive ends the connection, and the session resumes it without loss.

    Install it before connecting (:meth:`install`); :class:`MessageReader` calls :meth:`check`.
    """

    def __init__(self, client: aiomqtt.Client, high: int, low: int | None = None) -> None:
        self.client = client
        self.high = max(1, high)
        self.low = max(0, min(self.high - 1, self.high // 2 if low is None else low))
        self.paused = False
        self.pauses = 0
        self._fd: int | None = None

    @classmethod
    def install(cls, client: aiomqtt.Client, high: int, low: int | None = None) -> ReadGate:
        """Watch ``client``'s incoming queue (call it before ``async with client``)."""
        gate = cls(client, high, low)
        paho = client._client
        deliver: Any = paho.on_message  # aiomqtt's, which queues the message

        def on_message(paho_client: Any, userdata: Any, message: Any) -> None:
            deliver(paho_client, userdata, message)
            if not gate.paused and client._queue.qsize() >= gate.high:
                gate.pause()

        paho.on_message = on_message
        return gate

    def pause(self) -> None:
        sock = self.client._client.socket()
        if sock is None:
            return
        self._fd = sock.fileno()
        self.client._loop.remove_reader(self._fd)
        self.paused = True
        self.pauses += 1

    def check(self) -> None:
        """Read again once the queue is down to ``low`` (after a consumer took messages)."""
        if self.paused and self.client._queue.qsize() <= self.low:
            self.resume()

    def resume(self) -> None:
        self.paused = False
        sock = self.client._client.socket()
        if sock is None or self._fd is None or sock.fileno() != self._fd:
            return  # the connection is gone; a new one registers its own reader
        client = self.client
        paho = client._client

        def read() -> None:  # what aiomqtt's own reader callback does (aiomqtt 2.5)
            try:
                while True:
                    paho.loop_read()
                    pending = getattr(paho._sock, "pending", None)
                    if callable(pending) and pending() > 0:
                        continue
                    break
            except Exception as exc:  # a broken connection: end it, as aiomqtt does
                if not client._disconnected.done():
                    client._disconnected.set_exception(exc)

        client._loop.add_reader(self._fd, read)


class MessageReader:
    """Takes a connected client's incoming messages, one at a time, cheaply.

    ``async for message in client.messages`` (aiomqtt's public way) creates a task and waits on
    two futures for every message; taking what is already queued first costs about a third less
    CPU per message (measured with ``bench.ingest``). aiomqtt 2.5 offers no public non-blocking
    get, so :meth:`ready` reads its private incoming queue, here and nowhere else; when the
    queue is not where it used to be (another aiomqtt version), every message goes through the
    public iterator instead, only slower. :meth:`next` waits with the public iterator, so a
    lost connection still surfaces as ``aiomqtt.MqttError``.
    """

    def __init__(self, client: aiomqtt.Client, gate: ReadGate | None = None) -> None:
        queue = getattr(client, "_queue", None)
        self._queue: asyncio.Queue[aiomqtt.Message] | None = (
            queue if isinstance(queue, asyncio.Queue) else None
        )
        self._messages = aiter(client.messages)
        self._gate = gate

    @property
    def fast(self) -> bool:
        """Whether queued messages are taken directly (False: only the public iterator)."""
        return self._queue is not None

    def ready(self) -> aiomqtt.Message | None:
        """A message already received, or None (never waits)."""
        queue = self._queue
        if queue is None or queue.empty():
            if self._gate is not None:
                self._gate.check()
            return None
        message = queue.get_nowait()
        if self._gate is not None:
            self._gate.check()
        return message

    async def next(self) -> aiomqtt.Message:
        """The next message (waits; ``aiomqtt.MqttError`` when the connection is lost)."""
        message = self.ready()
        if message is not None:
            return message
        return await anext(self._messages)


def raise_if_cancelling(error: BaseException) -> None:
    """Re-raise the current task's pending cancellation that ``error`` stands in for.

    Every reconnect loop calls this first in its ``except aiomqtt.MqttError``: when a task is
    cancelled inside ``async with client:``, aiomqtt's ``__aexit__`` waits for the broker's
    disconnection under its own timeout, and if the broker does not answer in time it raises
    ``MqttError("Operation timed out")`` *instead of* the ``CancelledError``. A loop that takes it
    for a lost connection reconnects for ever, and whoever cancelled it (a TaskGroup at shutdown)
    waits for ever. A task being cancelled (``cancelling()``) must end, so this raises
    ``CancelledError`` from ``error``; otherwise it returns.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from error


async def detect_protocol(url: BrokerUrl, connect_timeout: float = 10.0) -> aiomqtt.ProtocolVersion:
    """MQTT 5 when the broker accepts it, else 3.1.1 (the embedded amqtt broker speaks only 3.1.1).

    Raises ``aiomqtt.MqttError`` when the broker cannot be reached or refuses the credentials.
    """
    try:
        async with make_client(url, ClientOptions(timeout=connect_timeout)):
            return aiomqtt.ProtocolVersion.V5
    except aiomqtt.MqttCodeError as exc:
        raise_if_cancelling(exc)
        # MQTT 3.1.1 brokers answer a v5 CONNECT with "unacceptable protocol version" (rc 1)
        # or close the connection; retry with 3.1.1 and let real refusals surface there.
        log.info("broker %s refused MQTT 5 (%s); trying MQTT 3.1.1", url, exc)
    except aiomqtt.MqttError as exc:
        raise_if_cancelling(exc)
        log.info("MQTT 5 connection to %s failed (%s); trying MQTT 3.1.1", url, exc)
    async with make_client(
        url, ClientOptions(protocol=aiomqtt.ProtocolVersion.V311, timeout=connect_timeout)
    ):
        return aiomqtt.ProtocolVersion.V311


def backoff_delays(
    initial: float = 0.2, maximum: float = 15.0, factor: float = 2.0, seed: int | None = None
) -> Iterator[float]:
    """Exponential backoff with full jitter: 0.2 s, 0.4 s, ... capped at 15 s.

    With ``LUPEX_NO_BACKOFF=1`` (tests) every delay is a tiny constant instead.
    """
    rng = random.Random(seed)
    delay = initial
    while True:
        if os.environ.get(NO_BACKOFF_ENV) == "1":
            yield 0.05
            continue
        yield rng.uniform(initial / 2, delay)
        delay = min(maximum, delay * factor)

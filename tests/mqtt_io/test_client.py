"""The shared MQTT edge against a real Mosquitto: URLs, protocol detection, manual ack."""

from __future__ import annotations

import asyncio

import aiomqtt
import pytest

from mission import topics
from mqtt_io import (
    BrokerUrl,
    ClientOptions,
    MessageReader,
    ReadGate,
    acknowledge,
    backoff_delays,
    detect_protocol,
    raise_if_cancelling,
)
from mqtt_io.client import make_client
from tests.support.mosquitto import MosquittoServer


def test_url_parsing_and_redaction() -> None:
    url = BrokerUrl.parse("mqtt://ground:s3cret@broker.example:1999")
    assert (url.host, url.port, url.username, url.password) == (
        "broker.example",
        1999,
        "ground",
        "s3cret",
    )
    assert "s3cret" not in repr(url)
    assert "s3cret" not in str(url)
    assert BrokerUrl.parse("localhost").port == 1883
    override = BrokerUrl.parse("mqtt://a:b@h:1", username="c", password="d")
    assert (override.username, override.password) == ("c", "d")
    with pytest.raises(ValueError, match="scheme"):
        BrokerUrl.parse("http://h:1")


def test_backoff_grows_and_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LUPEX_NO_BACKOFF", raising=False)
    delays = backoff_delays(initial=1.0, maximum=8.0, seed=1)
    values = [next(delays) for _ in range(12)]
    assert all(0.5 <= v <= 8.0 for v in values)
    assert max(values[6:]) > max(values[:2])
    monkeypatch.setenv("LUPEX_NO_BACKOFF", "1")
    assert next(backoff_delays()) == 0.05


def _url(server: MosquittoServer, user: str) -> BrokerUrl:
    cred = server.credential(user)
    return BrokerUrl("127.0.0.1", server.port, cred.username, cred.password)


async def test_detects_mqtt5_on_mosquitto(mosquitto: MosquittoServer) -> None:
    assert await detect_protocol(_url(mosquitto, "ground")) is aiomqtt.ProtocolVersion.V5


async def test_unacknowledged_message_is_redelivered(
    mosquitto: MosquittoServer, unique_id: str
) -> None:
    """With manual ack, a message received but not acknowledged comes back on reconnect."""
    topic = topics.downlink(unique_id, "rover")
    opts = ClientOptions(identifier=unique_id, persistent=True, manual_ack=True)
    ground = _url(mosquitto, "ground")
    async with make_client(ground, opts) as client:
        await client.subscribe(topic, qos=1)
        async with make_client(_url(mosquitto, "spacecraft"), ClientOptions()) as sc:
            await sc.publish(topic, b"frame-1", qos=1)
        async with asyncio.timeout(10):
            first = await anext(aiter(client.messages))
        assert first.payload == b"frame-1"
        # disconnect without acknowledging
    async with make_client(ground, opts) as client:
        async with asyncio.timeout(10):
            again = await anext(aiter(client.messages))
        assert again.payload == b"frame-1"
        acknowledge(client, again)
        # give the broker a round trip to register the ack
        await client.publish(topics.uplink(unique_id, "rover"), b"", qos=1)
    async with make_client(ground, opts) as client:
        await client.subscribe(topic, qos=1)
        async with make_client(_url(mosquitto, "spacecraft"), ClientOptions()) as sc:
            await sc.publish(topic, b"frame-2", qos=1)
        async with asyncio.timeout(10):
            nxt = await anext(aiter(client.messages))
        assert nxt.payload == b"frame-2"  # frame-1 was acknowledged and is not sent again
        acknowledge(client, nxt)


async def test_message_reader_takes_queued_messages_in_order(
    mosquitto: MosquittoServer, unique_id: str
) -> None:
    """The reader still finds aiomqtt's incoming queue (else it would only be slower), takes
    what is queued without waiting and waits for the rest, in order."""
    topic = topics.downlink(unique_id, "rover")
    async with make_client(_url(mosquitto, "ground"), ClientOptions(identifier=unique_id)) as c:
        await c.subscribe(topic, qos=1)
        reader = MessageReader(c)
        assert reader.fast
        assert reader.ready() is None
        async with make_client(_url(mosquitto, "spacecraft"), ClientOptions()) as sc:
            for n in range(5):
                await sc.publish(topic, f"m{n}".encode(), qos=1)
        async with asyncio.timeout(10):
            got = [(await reader.next()).payload for _ in range(5)]
        assert got == [b"m0", b"m1", b"m2", b"m3", b"m4"]
        assert reader.ready() is None


async def test_raise_if_cancelling_turns_a_masked_cancellation_back() -> None:
    """An ``MqttError`` raised while the task is being cancelled becomes ``CancelledError``;
    the same error in a task nobody cancels is left to the caller."""
    error = aiomqtt.MqttError("Operation timed out")
    raise_if_cancelling(error)  # not cancelling: returns

    started = asyncio.Event()

    async def masked() -> str:
        try:
            started.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            try:
                raise error from None  # what aiomqtt's __aexit__ does on a timeout
            except aiomqtt.MqttError as exc:
                raise_if_cancelling(exc)
                return "taken for a lost connection"
        return "not reached"

    task = asyncio.create_task(masked())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_a_slow_consumer_stops_the_reads_and_loses_nothing(
    mosquitto: MosquittoServer, unique_id: str
) -> None:
    """The read gate bounds the incoming queue by not reading the socket, where aiomqtt's own
    bound would discard (and a discarded QoS 1 message is never acknowledged). Mosquitto 2.0.11
    with a backlog sends beyond Receive Maximum, so the gate is what holds the bound; here it is
    set below the window the slow consumer keeps unacknowledged, so it must engage."""
    topic = topics.downlink(unique_id, "rover")
    total, window, high = 3000, 25, 20
    opts = ClientOptions(identifier=unique_id, persistent=True, manual_ack=True, receive_maximum=50)
    client = make_client(_url(mosquitto, "ground"), opts)
    gate = ReadGate.install(client, high)
    async with client:
        await client.subscribe(topic, qos=1)

        async def publish() -> None:
            async with make_client(_url(mosquitto, "spacecraft"), ClientOptions()) as sc:
                for n in range(total):
                    await sc.publish(topic, n.to_bytes(4, "big") + bytes(1100), qos=1)

        publisher = asyncio.create_task(publish())
        reader = MessageReader(client, gate)
        received: list[int] = []
        deepest = 0
        unacknowledged: list[aiomqtt.Message] = []
        async with asyncio.timeout(120):
            while len(received) < total:
                message = await reader.next()
                deepest = max(deepest, client._queue.qsize())
                assert isinstance(message.payload, bytes)
                received.append(int.from_bytes(message.payload[:4], "big"))
                unacknowledged.append(message)
                if len(unacknowledged) >= window:
                    await asyncio.sleep(0.01)  # a slow consumer: the broker builds a backlog
                    for held in unacknowledged:
                        acknowledge(client, held)
                    unacknowledged.clear()
            await publisher
    assert received == list(range(total))  # nothing discarded, nothing out of order
    assert gate.pauses > 0
    assert deepest <= high

"""The embedded broker enforces the shipped users and ACL (one ACL file for both brokers)."""

from __future__ import annotations

import asyncio

import aiomqtt
import pytest
from amqtt.broker import Broker
from hypothesis import given
from hypothesis import strategies as st

from lupex.embedded_broker import (
    ACL_PATH,
    allowed,
    broker_config,
    parse_mosquitto_acl,
    topic_matches,
)
from lupex.mosquitto import DEMO_CREDENTIALS
from mission import topics
from tests.support.ports import free_port

RULES = parse_mosquitto_acl(ACL_PATH.read_text())
levels = st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)


@given(st.lists(levels, min_size=1, max_size=6))
def test_topic_matching_wildcards(parts: list[str]) -> None:
    topic = "/".join(parts)
    assert topic_matches(topic, topic)
    assert topic_matches("#", topic)
    assert topic_matches("/".join(["+"] * len(parts)), topic)
    assert not topic_matches("/".join(["+"] * (len(parts) + 1)), topic)


def test_acl_matches_the_documented_roles() -> None:
    dl = topics.downlink("dss14", "rover")
    ul = topics.uplink("dss14", "rover")
    assert allowed(RULES, "spacecraft", dl, write=True)
    assert not allowed(RULES, "spacecraft", ul, write=True)
    assert allowed(RULES, "spacecraft", ul, write=False)
    assert allowed(RULES, "ground", dl, write=False)
    assert allowed(RULES, "ground", topics.shared(topics.DOWNLINK_ALL, "g"), write=False)
    assert not allowed(RULES, "ground", dl, write=True)
    assert allowed(RULES, "instructor", topics.SIM_CONTROL, write=True)
    assert not allowed(RULES, "viewer", topics.SIM_CONTROL, write=True)
    assert not allowed(RULES, None, dl, write=False)


def test_acl_parse_errors_name_the_line() -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_mosquitto_acl("user a\nbogus line here\n")


async def test_embedded_broker_refuses_and_routes() -> None:
    port = free_port()
    users = {n: c.password for n, c in DEMO_CREDENTIALS.items()}
    broker = Broker(broker_config("127.0.0.1", port, users))
    await broker.start()
    try:
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", port):
                pass
        wrong = "not-the-password"
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", port, username="ground", password=wrong):
                pass
        ground = DEMO_CREDENTIALS["ground"]
        sc = DEMO_CREDENTIALS["spacecraft"]
        async with aiomqtt.Client(
            "127.0.0.1", port, username=ground.username, password=ground.password
        ) as g:
            await g.subscribe(topics.DOWNLINK_ALL, qos=1)
            async with aiomqtt.Client(
                "127.0.0.1", port, username=sc.username, password=sc.password
            ) as s:
                # refused: the spacecraft may not publish on sim/control ...
                await s.publish(topics.SIM_CONTROL, b"denied", qos=1)
                await s.publish(topics.downlink("dss14", "rover"), b"frame", qos=1)
            async with asyncio.timeout(10):
                msg = await anext(aiter(g.messages))
            assert msg.payload == b"frame"
    finally:
        await broker.shutdown()

"""The stream's pure logic: client messages, name resolution, a session's queue and batching."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pytest

from ground.model import MonitoringResult, ParameterValue, SampleArrays
from ground.stream.encode import ParameterEncoder
from ground.stream.hub import StreamHub
from ground.stream.protocol import (
    PingOp,
    ProtocolProblem,
    SubscribeOp,
    UnsubscribeOp,
    parse_client_message,
    resolve,
)
from ground.stream.session import ClientSession, ValueBlock

KNOWN = ["rover.power.battery_soc", "rover.power.bus_voltage", "rover.thermal.battery_temp"]


# ---------------------------------------------------------------------------------- messages
def test_valid_operations_parse() -> None:
    sub = parse_client_message(
        '{"op": "subscribe", "parameters": ["rover.power.*"], "alarms": true, "events": true}'
    )
    assert isinstance(sub, SubscribeOp)
    assert sub.parameters == ["rover.power.*"]
    assert sub.alarms
    assert not sub.links
    assert isinstance(parse_client_message('{"op": "unsubscribe", "links": true}'), UnsubscribeOp)
    assert isinstance(parse_client_message(b'{"op": "ping"}'), PingOp)


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("{not json", "message", "not valid JSON"),
        ("[1, 2]", "message", "expected a JSON object"),
        ('{"parameters": []}', "op", "missing"),
        ('{"op": "subscribe!"}', "op", "unknown operation"),
        ('{"op": "subscribe", "parameters": "rover.*"}', "parameters", "valid list"),
        ('{"op": "subscribe", "parameters": [1]}', "parameters[0]", "valid string"),
        ('{"op": "subscribe", "alarms": "yes please"}', "alarms", "valid boolean"),
        ('{"op": "subscribe", "colour": "red"}', "colour", "Extra inputs"),
        ('{"op": "ping", "at": 1}', "at", "Extra inputs"),
    ],
)
def test_bad_messages_name_the_field(text: str, field: str, reason: str) -> None:
    problem = parse_client_message(text)
    assert isinstance(problem, ProtocolProblem)
    assert problem.field == field
    assert reason in problem.message
    message = problem.to_message()
    assert message["type"] == "error"
    assert message["field"] == field


def test_resolve_names_and_patterns() -> None:
    found = resolve(["rover.power.*", "rover.thermal.battery_temp", "nope", "x.*"], KNOWN)
    assert found.names == frozenset(KNOWN)
    assert found.unmatched == ((2, "nope"), (3, "x.*"))
    assert resolve(["rover.power.battery_so?"], KNOWN).names == {"rover.power.battery_soc"}
    assert resolve(["rover.power.[bc]*"], KNOWN).names == {
        "rover.power.battery_soc",
        "rover.power.bus_voltage",
    }


# ---------------------------------------------------------------------------------- encoding
def test_encoder_types_labels_and_monitoring() -> None:
    encoder = ParameterEncoder(
        eng_types={"a.b.mode": "enum", "a.b.flag": "bool", "a.b.count": "int", "a.b.temp": "float"},
        monitored=["a.b.temp"],
        enumerations={"a.b.mode": {0: "SAFE", 1: "NOMINAL"}},
    )

    def block(name: str, eng: list[float], monitoring: list[int]) -> SampleArrays:
        return SampleArrays(
            name=name,
            spacecraft="a",
            generation_times=np.array([1.0, 2.0][: len(eng)]),
            reception_time=3.0,
            raw_values=np.array(eng, dtype=np.int64),
            eng_values=np.array(eng, dtype=np.float64),
            monitoring=np.array(monitoring, dtype=np.int8),
        )

    assert [r["eng_value"] for r in encoder.block_rows(block("a.b.mode", [1, 0], [0, 0]))] == [
        "NOMINAL",
        "SAFE",
    ]
    assert [r["eng_value"] for r in encoder.block_rows(block("a.b.flag", [1, 0], [0, 0]))] == [
        True,
        False,
    ]
    count = encoder.block_rows(block("a.b.count", [7], [0]))[0]
    assert count["eng_value"] == 7
    assert isinstance(count["eng_value"], int)
    assert count["monitoring_result"] == MonitoringResult.DISABLED.value
    temps = encoder.block_rows(block("a.b.temp", [10, 99], [0, 2]))
    assert [r["monitoring_result"] for r in temps] == ["in_limits", "critical"]
    nan = SampleArrays(
        name="a.b.temp",
        spacecraft="a",
        generation_times=np.array([1.0]),
        reception_time=2.0,
        raw_values=np.array([np.nan]),
        eng_values=np.array([np.nan]),
        monitoring=np.zeros(1, dtype=np.int8),
    )
    fragment = json.loads("[" + encoder.block_fragment(nan) + "]")
    assert fragment[0]["eng_value"] is None
    assert fragment[0]["raw_value"] is None


# ---------------------------------------------------------------------------------- sessions
def _session(queue_size: int = 4, max_values: int = 1000) -> ClientSession:
    session = ClientSession(
        "test", queue_size=queue_size, min_interval_s=0.0, max_values=max_values
    )
    session.subscription.parameters.update({"a", "b"})
    return session


def _block(name: str, count: int) -> ValueBlock:
    rows = ",".join(json.dumps({"name": name, "i": i}) for i in range(count))
    return ValueBlock(name, count, rows)


def _drain(session: ClientSession) -> list[dict[str, Any]]:
    return [json.loads(text) for text, _ in session.take_messages()]


def test_full_queue_drops_oldest_data_and_counts_it() -> None:
    session = _session(queue_size=3)
    session.enqueue_control({"type": "subscribed"})
    for i in range(5):
        session.enqueue_values([_block("a", 10 + i)])
    assert session.queued == 3
    assert session.stats.dropped_messages == 3
    assert session.stats.dropped == 10 + 11 + 12
    messages = _drain(session)
    assert messages[0] == {"type": "subscribed"}  # the control message survived
    assert [len(m["values"]) for m in messages if m["type"] == "parameters"] == [13 + 14]


def test_updates_are_merged_into_few_messages_in_order() -> None:
    session = _session(queue_size=100, max_values=25)
    session.subscription.events = True
    for _ in range(6):
        session.enqueue_values([_block("a", 5), _block("b", 5)])
    session.enqueue_rows("events", [{"id": 1}, {"id": 2}])
    session.enqueue_control({"type": "pong"})
    session.enqueue_values([_block("a", 1)])
    messages = _drain(session)
    kinds = [m["type"] for m in messages]
    assert kinds == ["parameters", "parameters", "parameters", "events", "pong", "parameters"]
    assert [len(m["values"]) for m in messages if m["type"] == "parameters"] == [25, 25, 10, 1]
    assert sum(len(m.get("values", m.get("events", []))) for m in messages) == 63


def test_unsubscribed_updates_still_queued_are_not_sent() -> None:
    session = _session()
    session.enqueue_values([_block("a", 3), _block("b", 2)])
    session.subscription.parameters.discard("a")
    messages = _drain(session)
    assert [v["name"] for v in messages[0]["values"]] == ["b", "b"]


async def test_enqueue_never_waits_even_when_the_sender_is_stuck() -> None:
    session = _session(queue_size=2)
    release, entered = asyncio.Event(), asyncio.Event()

    async def stuck_send(_text: str) -> None:
        entered.set()
        await release.wait()

    sender = asyncio.create_task(session.run_sender(stuck_send))
    session.enqueue_values([_block("a", 1)])
    await asyncio.wait_for(entered.wait(), 5)  # the sender took the first message and blocks
    assert session.sending
    for _ in range(100):
        session.enqueue_values([_block("a", 1)])  # synchronous: returns at once every time
    assert session.queued == 2
    assert session.stats.dropped == 98
    session.close()
    release.set()
    assert await asyncio.wait_for(sender, 5) == (1001, "server shutting down")


async def test_stale_flags_reach_only_the_clients_subscribed_to_the_parameter() -> None:
    encoder = ParameterEncoder(eng_types={"a.b.temp": "float", "a.b.volt": "float"}, monitored=[])
    hub = StreamHub(parameters=["a.b.temp", "a.b.volt"], encoder=encoder, latest=lambda _: None)
    temp, volt = hub.connect("one"), hub.connect("two")
    hub.subscribe(temp, SubscribeOp(op="subscribe", parameters=["a.b.temp"]))
    hub.subscribe(volt, SubscribeOp(op="subscribe", parameters=["a.b.volt"]))
    _drain(temp), _drain(volt)  # the acknowledgements
    old = ParameterValue("a.b.temp", 100.0, 101.5, 12, 12.0, stale=True)
    hub.on_stale([old])
    assert _drain(temp) == [
        {
            "type": "stale",
            "stale": [
                {"name": "a.b.temp", "stale": True, "generation_time": 100.0,
                 "reception_time": 101.5}
            ],
        }
    ]  # fmt: skip
    assert _drain(volt) == []
    hub.on_stale([old])
    hub.unsubscribe(temp, UnsubscribeOp(op="unsubscribe", parameters=["a.b.temp"]))
    assert [m["type"] for m in _drain(temp)] == ["subscribed"]  # no longer wanted: not sent


def test_a_connection_closed_under_the_sender_is_a_disconnect_not_a_failure() -> None:
    from ground.api.stream import _is_disconnect

    uvicorn_sansio = RuntimeError(
        "Unexpected ASGI message 'websocket.send', after sending 'websocket.close'."
    )
    starlette = RuntimeError('Cannot call "send" once a close message has been sent.')
    assert _is_disconnect(uvicorn_sansio)
    assert _is_disconnect(starlette)
    assert _is_disconnect(ConnectionResetError())
    assert not _is_disconnect(RuntimeError("something else broke"))
    assert not _is_disconnect(ValueError("bad"))


def test_the_queue_is_bounded_in_values_whatever_the_batch_sizes() -> None:
    """A few huge batches (a client subscribed to everything at full ingest rate) stay under
    the value bound: the oldest go, counted; the newest stays even when larger than the bound;
    control messages are kept."""
    session = ClientSession("big", queue_size=256, min_interval_s=0.0, max_values=1000,
                            max_queued_values=100)  # fmt: skip
    session.subscription.parameters.update({"a", "b"})
    session.enqueue_control({"type": "subscribed"})
    for count in (40, 40, 40):
        session.enqueue_values([_block("a", count)])
    assert session.stats.dropped == 40  # the first batch made room for the third
    session.enqueue_values([_block("b", 150)])  # larger than the bound on its own
    assert session.stats.dropped == 40 + 80
    messages = _drain(session)
    assert messages[0] == {"type": "subscribed"}
    assert [(m["values"][0]["name"], len(m["values"])) for m in messages[1:]] == [("b", 150)]
    session.enqueue_values([_block("a", 60)])  # the bound applies afresh after a drain
    assert session.stats.dropped == 120

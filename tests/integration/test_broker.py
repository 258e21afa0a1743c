"""The shipped Mosquitto configuration, proven against a real Mosquitto started from it.

The ACL matrix below is the specification (docs: deploy/mosquitto/README.md), written out here
independently of ``deploy/mosquitto/acl``. Every allowed publish is shown to arrive; every refusal
is shown by an authorised subscriber that sees nothing while a control message published right
after (by a client allowed to publish it) does arrive. Mosquitto queues one subscriber's messages
in the order it accepted them, so "the first message is the control message" proves the refused
message was dropped.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import aiomqtt
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from mission import topics
from tests.support import ServiceUnavailableError
from tests.support.mosquitto import (
    DEMO_CREDENTIALS,
    REPLACED_DIRECTIVES,
    SHIPPED_CONFIG,
    SHIPPED_DIR,
    MosquittoServer,
    derive_config,
    directives,
)
from tests.support.timeouts import timeout

integration = pytest.mark.integration

V5: Final = aiomqtt.ProtocolVersion.V5
V311: Final = aiomqtt.ProtocolVersion.V311
NOT_AUTHORIZED: Final = 0x87
BAD_CREDENTIALS: Final = 0x86
FRAME_SIZE: Final = 1115
USERS: Final = ("spacecraft", "ground", "instructor", "viewer")

# --- The specification: who may publish (WRITE) and receive (READ) each kind of topic -------------
KINDS: Final = ("downlink", "uplink", "link", "sim_control", "sim_status", "params")
WRITE: Final[dict[str, frozenset[str]]] = {
    "downlink": frozenset({"spacecraft"}),
    "uplink": frozenset({"ground"}),
    "link": frozenset({"spacecraft"}),
    "sim_control": frozenset({"ground", "instructor"}),
    "sim_status": frozenset({"spacecraft"}),
    "params": frozenset({"ground"}),
}
READ: Final[dict[str, frozenset[str]]] = {
    "downlink": frozenset({"ground"}),
    "uplink": frozenset({"spacecraft"}),
    "link": frozenset({"ground", "instructor", "viewer"}),
    "sim_control": frozenset({"spacecraft", "instructor"}),
    "sim_status": frozenset({"ground", "instructor", "viewer"}),
    "params": frozenset({"viewer"}),
}
# For each user, a kind it may read: where the control message of a refused read goes.
READABLE: Final = {
    "spacecraft": "uplink",
    "ground": "downlink",
    "instructor": "link",
    "viewer": "params",
}


def topic_of(kind: str, station: str) -> str:
    """A topic of ``kind``; ``station`` (a per-test unique id) keeps tests apart where it can."""
    builders: dict[str, Callable[[], str]] = {
        "downlink": lambda: topics.downlink(station, "rover"),
        "uplink": lambda: topics.uplink(station, "lander"),
        "link": lambda: topics.link(station),
        "sim_control": lambda: topics.SIM_CONTROL,
        "sim_status": lambda: topics.SIM_STATUS,
        "params": lambda: topics.params(f"rover.power.{station}"),
    }
    return builders[kind]()


def writer_of(kind: str) -> str:
    return sorted(WRITE[kind])[0]


def reader_of(kind: str) -> str:
    return sorted(READ[kind])[0]


ALLOWED: Final = [
    (kind, writer, reader)
    for kind in KINDS
    for writer, reader in itertools.product(sorted(WRITE[kind]), sorted(READ[kind]))
]
DENIED_WRITES: Final = [(kind, user) for kind in KINDS for user in USERS if user not in WRITE[kind]]
DENIED_READS: Final = [(kind, user) for kind in KINDS for user in USERS if user not in READ[kind]]


# --- Helpers --------------------------------------------------------------------------------------
_ids = itertools.count()


def client(
    server: MosquittoServer,
    username: str | None,
    *,
    password: str | None = None,
    protocol: aiomqtt.ProtocolVersion = V5,
    identifier: str | None = None,
    clean_start: paho.CleanStartOption = paho.MQTT_CLEAN_START_FIRST_ONLY,
    properties: Properties | None = None,
) -> aiomqtt.Client:
    """An aiomqtt client of the test broker, logged in as a shipped user (or anonymous)."""
    if username is not None and password is None:
        password = server.credential(username).password
    return aiomqtt.Client(
        server.host,
        server.port,
        username=username,
        password=password,
        protocol=protocol,
        identifier=identifier or f"test-{username}-{next(_ids)}",
        clean_start=clean_start,
        properties=properties,
        timeout=timeout(5),
        max_queued_incoming_messages=10_000,
    )


async def first_message(subscriber: aiomqtt.Client) -> aiomqtt.Message:
    """The next message that is not a retained one left by someone else."""
    async with asyncio.timeout(timeout(5)):
        async for message in subscriber.messages:
            if not message.retain:
                return message
    msg = "the message iterator ended"
    raise AssertionError(msg)


async def until_control(subscriber: aiomqtt.Client, control: bytes) -> list[bytes]:
    """Payloads received before ``control`` (published last, on a topic of its own)."""
    payloads = []
    while (payload := (await first_message(subscriber)).payload) != control:
        assert isinstance(payload, bytes)
        payloads.append(payload)
    return payloads


def frame(label: str) -> bytes:
    """A payload the size of a TM frame, recognisable by its first bytes."""
    return label.encode().ljust(FRAME_SIZE, b"\x00")


def session_properties(expiry_s: int) -> Properties:
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = expiry_s
    return properties


# --- The configuration files ----------------------------------------------------------------------
def shipped_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for name, line in directives(SHIPPED_CONFIG.read_text()):
        settings.setdefault(name, []).append(line.split(maxsplit=1)[1])
    return settings


def test_shipped_config_does_not_lose_data() -> None:
    settings = shipped_settings()
    assert settings["listener"] == ["1883"]
    assert settings["allow_anonymous"] == ["false"]
    assert settings["persistence"] == ["true"]
    assert settings["persistence_location"]
    # A minute of 2,000 frames/s must fit in one persistent session's queue.
    assert int(settings["max_queued_messages"][0]) >= 2_000 * 60
    assert int(settings["max_queued_bytes"][0]) == 0
    assert int(settings["max_inflight_messages"][0]) == 0
    assert settings["persistent_client_expiration"] == ["1d"]
    assert settings["set_tcp_nodelay"] == ["true"]
    assert int(settings["max_packet_size"][0]) >= 2 * FRAME_SIZE
    assert int(settings["autosave_interval"][0]) <= 60


@integration
def test_derived_config_is_the_shipped_one_with_test_paths(mosquitto: MosquittoServer) -> None:
    shipped = directives(SHIPPED_CONFIG.read_text())
    derived = directives(mosquitto.config_path.read_text())
    kept = [line for name, line in shipped if name not in REPLACED_DIRECTIVES]
    assert [line for name, line in derived if name not in REPLACED_DIRECTIVES] == kept
    derived_lines = dict(derived)
    assert derived_lines["listener"] == f"listener {mosquitto.port} 127.0.0.1"
    assert derived_lines["persistence_location"] == (
        f"persistence_location {mosquitto.persistence_dir}/"
    )
    assert derived_lines["password_file"] == f"password_file {SHIPPED_DIR / 'passwd'}"
    assert derived_lines["acl_file"] == f"acl_file {SHIPPED_DIR / 'acl'}"
    assert "include_dir" not in derived_lines


@pytest.mark.parametrize("directive", ["listener", "persistence_location", "acl_file"])
def test_derivation_refuses_a_shipped_file_it_cannot_map(directive: str, tmp_path: Path) -> None:
    text = SHIPPED_CONFIG.read_text()
    line = next(line for name, line in directives(text) if name == directive)
    for broken in (text.replace(line, ""), text.replace(line, f"{line}\n{line}")):
        with pytest.raises(ValueError, match=f"exactly one '{directive}'"):
            derive_config(broken, port=1, persistence_dir=tmp_path)


def test_derivation_drops_include_dir(tmp_path: Path) -> None:
    text = SHIPPED_CONFIG.read_text() + "\ninclude_dir /etc/mosquitto/conf.d\n"
    derived = derive_config(text, port=1883, persistence_dir=tmp_path, run_as="root")
    assert "include_dir" not in derived
    assert derived.rstrip().endswith("user root")


def test_password_file_holds_hashes_of_every_shipped_user() -> None:
    entries = dict(
        line.split(":", 1) for line in (SHIPPED_DIR / "passwd").read_text().splitlines() if line
    )
    assert sorted(entries) == sorted(USERS)
    for user, hashed in entries.items():
        assert hashed.startswith("$7$"), f"{user}: not a mosquitto_passwd PBKDF2-SHA512 hash"
        assert DEMO_CREDENTIALS[user].password not in hashed


def test_readme_documents_every_demo_password() -> None:
    readme = (SHIPPED_DIR / "README.md").read_text()
    for credentials in DEMO_CREDENTIALS.values():
        assert f"`{credentials.username}`" in readme
        assert f"`{credentials.password}`" in readme


# --- Authentication -------------------------------------------------------------------------------
@integration
@pytest.mark.parametrize("username", USERS)
async def test_each_shipped_user_logs_in(mosquitto: MosquittoServer, username: str) -> None:
    async with client(mosquitto, username) as logged_in:
        assert logged_in.identifier


@integration
@pytest.mark.parametrize("protocol", [V311, V5])
@pytest.mark.parametrize(
    ("username", "password"),
    [
        (None, None),
        ("ground", "not-the-password"),
        ("ground", ""),
        ("nobody", "lupex-ground-demo"),
    ],
    ids=["anonymous", "wrong-password", "empty-password", "unknown-user"],
)
async def test_refused_logins(
    mosquitto: MosquittoServer,
    username: str | None,
    password: str | None,
    protocol: aiomqtt.ProtocolVersion,
) -> None:
    refused = client(mosquitto, username, password=password, protocol=protocol)
    with pytest.raises(aiomqtt.MqttCodeError) as caught:
        async with refused:
            pass
    reason = caught.value.rc
    assert isinstance(reason, ReasonCode)
    assert reason.is_failure
    assert reason.value in {NOT_AUTHORIZED, BAD_CREDENTIALS}


# --- Publish and subscribe rights -----------------------------------------------------------------
@integration
@pytest.mark.parametrize(("kind", "writer", "reader"), ALLOWED)
async def test_allowed_round_trip(
    mosquitto: MosquittoServer, unique_id: str, kind: str, writer: str, reader: str
) -> None:
    topic = topic_of(kind, unique_id)
    payload = frame(f"{kind}:{writer}->{reader}:{unique_id}")
    async with client(mosquitto, reader) as subscriber, client(mosquitto, writer) as publisher:
        await subscriber.subscribe(topic, qos=1)
        await publisher.publish(topic, payload, qos=1)
        message = await first_message(subscriber)
    assert message.topic.value == topic
    assert message.payload == payload
    assert message.qos == 1


@integration
@pytest.mark.parametrize("protocol", [V311, V5])
@pytest.mark.parametrize(("kind", "offender"), DENIED_WRITES)
async def test_refused_publish_is_dropped(
    mosquitto: MosquittoServer,
    unique_id: str,
    kind: str,
    offender: str,
    protocol: aiomqtt.ProtocolVersion,
) -> None:
    topic = topic_of(kind, unique_id)
    async with (
        client(mosquitto, reader_of(kind)) as subscriber,
        client(mosquitto, offender, protocol=protocol) as rogue,
        client(mosquitto, writer_of(kind)) as control,
    ):
        await subscriber.subscribe(topic, qos=1)
        # QoS 1: this returns once the broker has handled (and dropped) the message.
        await rogue.publish(topic, b"refused " + unique_id.encode(), qos=1)
        await control.publish(topic, b"control " + unique_id.encode(), qos=1)
        message = await first_message(subscriber)
    assert message.payload == b"control " + unique_id.encode()


@contextmanager
def paho_v5(
    server: MosquittoServer, username: str
) -> Iterator[tuple[paho.Client, queue.Queue[ReasonCode]]]:
    """A connected paho-mqtt MQTT 5 client whose PUBACK reason codes land in a queue."""
    acks: queue.Queue[ReasonCode] = queue.Queue()
    connected: queue.Queue[ReasonCode] = queue.Queue()
    mqttc = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=f"paho-{username}-{next(_ids)}", protocol=paho.MQTTv5
    )
    mqttc.username_pw_set(username, server.credential(username).password)
    mqttc.on_connect = lambda _c, _u, _f, reason, _p: connected.put(reason)
    mqttc.on_publish = lambda _c, _u, _mid, reason, _p: acks.put(reason)
    mqttc.connect(server.host, server.port)
    mqttc.loop_start()
    try:
        assert connected.get(timeout=timeout(5)) == 0
        yield mqttc, acks
    finally:
        mqttc.disconnect()
        mqttc.loop_stop()


@integration
@pytest.mark.parametrize(("kind", "offender"), DENIED_WRITES)
def test_refused_publish_gets_not_authorized_puback_with_mqtt5(
    mosquitto: MosquittoServer, unique_id: str, kind: str, offender: str
) -> None:
    with paho_v5(mosquitto, offender) as (rogue, acks):
        rogue.publish(topic_of(kind, unique_id), b"refused", qos=1)
        reason = acks.get(timeout=timeout(5))
    assert reason == NOT_AUTHORIZED


@integration
@pytest.mark.parametrize("kind", KINDS)
def test_allowed_publish_gets_a_successful_puback_with_mqtt5(
    mosquitto: MosquittoServer, unique_id: str, kind: str
) -> None:
    with paho_v5(mosquitto, writer_of(kind)) as (publisher, acks):
        publisher.publish(topic_of(kind, unique_id), b"allowed", qos=1)
        reason = acks.get(timeout=timeout(5))
    # 0x10 "No matching subscribers" is a success code too.
    assert not reason.is_failure


async def assert_read_refused(
    server: MosquittoServer, unique_id: str, kind: str, user: str, subscription: str
) -> None:
    topic = topic_of(kind, unique_id)
    control_kind = READABLE[user]
    control_topic = topic_of(control_kind, unique_id)
    async with (
        client(server, user) as eavesdropper,
        client(server, writer_of(kind)) as writer,
        client(server, writer_of(control_kind)) as control,
    ):
        await eavesdropper.subscribe(subscription, qos=1)
        await eavesdropper.subscribe(control_topic, qos=1)
        await writer.publish(topic, b"secret " + unique_id.encode(), qos=1)
        await control.publish(control_topic, b"control " + unique_id.encode(), qos=1)
        message = await first_message(eavesdropper)
    assert message.topic.value == control_topic
    assert message.payload == b"control " + unique_id.encode()


@integration
@pytest.mark.parametrize(("kind", "user"), DENIED_READS)
async def test_refused_read_delivers_nothing(
    mosquitto: MosquittoServer, unique_id: str, kind: str, user: str
) -> None:
    await assert_read_refused(mosquitto, unique_id, kind, user, topic_of(kind, unique_id))


@integration
@pytest.mark.parametrize("user", ["spacecraft", "instructor", "viewer"])
async def test_shared_subscription_does_not_bypass_the_acl(
    mosquitto: MosquittoServer, unique_id: str, user: str
) -> None:
    subscription = topics.shared(topics.downlink(unique_id, "rover"), unique_id)
    await assert_read_refused(mosquitto, unique_id, "downlink", user, subscription)


@integration
@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="Mosquitto 2.0's acl_file grants every SUBSCRIBE and filters on delivery instead",
)
async def test_refused_subscription_gets_a_failure_reason_code(
    mosquitto: MosquittoServer, unique_id: str
) -> None:
    async with client(mosquitto, "viewer") as viewer:
        granted = await viewer.subscribe(topics.downlink(unique_id, "rover"), qos=1)
    assert isinstance(granted[0], ReasonCode)
    assert granted[0].is_failure


# --- Shared subscriptions -------------------------------------------------------------------------
@integration
async def test_ground_workers_share_the_downlink(
    mosquitto: MosquittoServer, unique_id: str
) -> None:
    subscription = topics.shared(topics.downlink_station(unique_id), unique_id)
    control_topic = topics.downlink(f"{unique_id}-control", "rover")
    sent = [frame(f"{unique_id}:{n}") for n in range(20)]
    async with (
        client(mosquitto, "ground") as worker_a,
        client(mosquitto, "ground") as worker_b,
        client(mosquitto, "spacecraft") as spacecraft,
    ):
        for worker in (worker_a, worker_b):
            granted = await worker.subscribe(subscription, qos=1)
            assert granted[0] == 1
            await worker.subscribe(control_topic, qos=1)
        for payload in sent:
            await spacecraft.publish(topics.downlink(unique_id, "rover"), payload, qos=1)
        await spacecraft.publish(control_topic, b"control", qos=1)
        received_a = await until_control(worker_a, b"control")
        received_b = await until_control(worker_b, b"control")
    # Each frame went to exactly one worker, and both took a share.
    assert sorted(received_a + received_b) == sorted(sent)
    assert received_a
    assert received_b


@integration
@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason=(
        "Mosquitto 2.0 picks a member of a share group before checking its read access: "
        "any logged-in user joining the ground's group makes the ground lose frames"
    ),
)
async def test_a_foreign_share_group_member_cannot_take_ground_frames(
    mosquitto: MosquittoServer, unique_id: str
) -> None:
    subscription = topics.shared(topics.downlink_station(unique_id), unique_id)
    control_topic = topics.downlink(f"{unique_id}-control", "rover")
    sent = [frame(f"{unique_id}:{n}") for n in range(10)]
    async with (
        client(mosquitto, "ground") as worker,
        client(mosquitto, "viewer") as intruder,
        client(mosquitto, "spacecraft") as spacecraft,
    ):
        await worker.subscribe(subscription, qos=1)
        await worker.subscribe(control_topic, qos=1)
        await intruder.subscribe(subscription, qos=1)
        for payload in sent:
            await spacecraft.publish(topics.downlink(unique_id, "rover"), payload, qos=1)
        await spacecraft.publish(control_topic, b"control", qos=1)
        received = await until_control(worker, b"control")
    assert received == sent


# --- Persistence ----------------------------------------------------------------------------------
QUEUED: Final = 1_500  # more than Mosquitto's default max_queued_messages (1000)


@integration
async def test_persistent_session_rides_out_a_ground_and_broker_restart(unique_id: str) -> None:
    downlink = topics.downlink(unique_id, "rover")
    ground_id = f"ground-{unique_id}"
    sent = [frame(f"{unique_id}:{n}") for n in range(QUEUED)]

    def ground(server: MosquittoServer) -> aiomqtt.Client:
        return client(
            server,
            "ground",
            identifier=ground_id,
            clean_start=False,
            properties=session_properties(3600),
        )

    with MosquittoServer() as broker:
        async with ground(broker) as ground_client:
            await ground_client.subscribe(downlink, qos=1)
        # The ground is offline: the broker queues the frames in its session.
        async with client(broker, "spacecraft") as spacecraft:
            for payload in sent:
                await spacecraft.publish(downlink, payload, qos=1)
        broker.restart()
        async with ground(broker) as ground_client, client(broker, "spacecraft") as spacecraft:
            # Subscribing again keeps the session's queue (and makes a lost session visible as a
            # short list rather than a timeout); the control frame is queued behind the rest.
            await ground_client.subscribe(downlink, qos=1)
            await spacecraft.publish(downlink, b"control", qos=1)
            received = await until_control(ground_client, b"control")
        log = broker.log_text()
    assert len(received) == len(sent)
    assert received == sent
    assert "Saving in-memory database" in log


@integration
async def test_without_session_expiry_nothing_is_kept(unique_id: str) -> None:
    downlink = topics.downlink(unique_id, "rover")
    ground_id = f"ground-{unique_id}"

    def ground(server: MosquittoServer) -> aiomqtt.Client:
        # clean_start off but no Session Expiry Interval: MQTT 5 ends the session on disconnect.
        return client(server, "ground", identifier=ground_id, clean_start=False)

    with MosquittoServer() as broker:
        async with ground(broker) as ground_client:
            await ground_client.subscribe(downlink, qos=1)
        async with client(broker, "spacecraft") as spacecraft:
            await spacecraft.publish(downlink, b"lost", qos=1)
        async with ground(broker) as ground_client, client(broker, "spacecraft") as spacecraft:
            await ground_client.subscribe(downlink, qos=1)
            await spacecraft.publish(downlink, b"control", qos=1)
            message = await first_message(ground_client)
    assert message.payload == b"control"


@integration
async def test_a_killed_broker_starts_again_on_its_port(unique_id: str) -> None:
    with MosquittoServer() as broker:
        port, first_pid = broker.port, broker.pid
        broker.kill()
        assert broker.pid is None
        with pytest.raises(aiomqtt.MqttError):
            async with client(broker, "ground"):
                pass
        broker.restart()
        assert (broker.port, broker.url) == (port, f"mqtt://127.0.0.1:{port}")
        assert broker.pid not in {None, first_pid}
        async with client(broker, "ground", identifier=unique_id) as ground:
            assert ground.identifier == unique_id


@integration
def test_broker_fails_loudly_on_a_broken_config(tmp_path: Path) -> None:
    broken = tmp_path / "mosquitto.conf"
    broken.write_text(SHIPPED_CONFIG.read_text() + "\nno_such_option 1\n")
    (tmp_path / "passwd").write_bytes((SHIPPED_DIR / "passwd").read_bytes())
    (tmp_path / "acl").write_bytes((SHIPPED_DIR / "acl").read_bytes())
    with pytest.raises(RuntimeError, match="no_such_option"), MosquittoServer(config=broken):
        pass


def test_a_missing_mosquitto_is_an_error_not_a_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUPEX_MOSQUITTO", "/nonexistent/mosquitto")
    with pytest.raises(ServiceUnavailableError, match="LUPEX_MOSQUITTO"):
        MosquittoServer()

"""Helpers shared by the API, stream and security tests (no tests here).

- ``GroundTokens``/``settings_for``: ground settings pointing at the suite's real Mosquitto and a
  real archive, with one token per role;
- ``FrameFactory``: TM frames built with ``mission.ccsds.TmFrameWriter`` and the mission
  database's encoders, as the spacecraft would send them;
- ``publish_frames``: publish them as the ``spacecraft`` user;
- ``running_server``: the app under a real uvicorn on a free port, in the test's event loop;
- ``server_thread``: the same in a thread of its own, for synchronous tests (an ``httpx.Client``;
  Starlette's ``TestClient`` warns about httpx, and a real server is closer to production);
- ``wait_for``: poll a condition until it holds, with a scaled timeout (never a bare sleep).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

import aiomqtt
import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI

from ground.api.deps import GroundServices
from ground.model import SampleArrays
from ground.settings import GroundSettings
from mission import topics
from mission.ccsds.framing import TmFrameWriter
from mission.ccsds.pus import build_tm_packet
from mission.mdb.database import MissionDatabase
from mission.mdb.models import EngType, ParameterDef
from tests.support.mosquitto import MosquittoServer
from tests.support.ports import free_port
from tests.support.timeouts import POLL_INTERVAL, timeout

_T = TypeVar("_T")

T0: Final = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@dataclass(frozen=True)
class GroundTokens:
    viewer: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    operator: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    instructor: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}

    def all(self) -> tuple[str, str, str]:
        return (self.viewer, self.operator, self.instructor)


def settings_for(
    mosquitto: MosquittoServer,
    db_url: str,
    tokens: GroundTokens,
    client_id: str,
    **overrides: Any,
) -> GroundSettings:
    """Settings of a ground instance on the suite's broker, with its own session and archive."""
    ground = mosquitto.credential("ground")
    values: dict[str, Any] = {
        "broker_url": mosquitto.url,
        "mqtt_username": ground.username,
        "mqtt_password": ground.password,
        "mqtt_client_id": client_id,
        "persistent_session": False,
        "db_url": db_url,
        "host": "127.0.0.1",
        "port": free_port(),
        "viewer_token": tokens.viewer,
        "operator_token": tokens.operator,
        "instructor_token": tokens.instructor,
        "log_format": "human",
    }
    values.update(overrides)
    return GroundSettings(**values)


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'archive.db'}"


# ------------------------------------------------------------------------------------------ frames
def nominal_value(p: ParameterDef) -> object:
    """An engineering value the parameter's calibration can encode (its typical value)."""
    typical = p.typical
    if p.type is EngType.ENUM:
        labels = list(p.enumeration.values())
        return typical if isinstance(typical, str) and typical in labels else labels[0]
    if p.type is EngType.BOOL:
        return bool(typical) if isinstance(typical, bool) else False
    if isinstance(typical, tuple):
        value: float = (typical[0] + typical[1]) / 2
    elif isinstance(typical, int | float) and not isinstance(typical, bool):
        value = float(typical)
    else:
        value = 0.0
    return round(value) if p.type is EngType.INT else value


PacketSpec = tuple[str, float, Mapping[str, object] | None]
"""(packet name, generation time, engineering values or None for nominal ones)."""


class FrameFactory:
    """Frames of one vehicle from the mission database's packets."""

    def __init__(self, mdb: MissionDatabase, vehicle: str = "rover") -> None:
        spacecraft = mdb.spacecraft[vehicle]
        self.mdb = mdb
        self.vehicle = vehicle
        self.writer = TmFrameWriter(spacecraft.scid, spacecraft.tm_frame_length)
        self._seq: dict[int, int] = {}

    def packet_names(self) -> list[str]:
        return sorted(p.name for p in self.mdb.packets_for(self.vehicle))

    def values(self, packet: str, **eng: object) -> dict[str, object]:
        codec = self.mdb.codec(packet)
        values = {p.name: nominal_value(p) for p in codec.parameters}
        values.update(eng)
        return values

    def packet(self, packet: str, t: float, values: Mapping[str, object] | None = None) -> bytes:
        definition = self.mdb.packets[packet]
        codec = self.mdb.codec(packet)
        source = codec.encode_source(values if values is not None else self.values(packet))
        seq = self._seq.get(definition.apid, 0)
        self._seq[definition.apid] = (seq + 1) % 16384
        return build_tm_packet(
            definition.apid, seq, definition.service, definition.subtype, source, t
        )

    def event_packet(self, event: str, t: float, args: Mapping[str, object]) -> bytes:
        """A PUS 5,x event report (subtype from the severity) on the vehicle's obsw APID."""
        definition = self.mdb.events_by_name[event]
        data = self.mdb.event_codecs[definition.id].encode(definition.id, args)
        apid = self.mdb.obsw_apid(self.vehicle)
        seq = self._seq.get(apid, 0)
        self._seq[apid] = (seq + 1) % 16384
        return build_tm_packet(apid, seq, 5, definition.severity.subtype, data, t)

    def event_frames(self, event: str, t: float, args: Mapping[str, object]) -> list[bytes]:
        """Frames (VC 0, flushed) carrying one event report."""
        return self.writer.add_packet(0, self.event_packet(event, t, args)) + self.writer.flush(0)

    def frames(self, packets: Iterable[PacketSpec]) -> list[bytes]:
        """Frames carrying these packets (each VC flushed at the end)."""
        out: list[bytes] = []
        used: set[int] = set()
        for name, t, values in packets:
            vcid = self.mdb.packets[name].vcid
            used.add(vcid)
            out += self.writer.add_packet(vcid, self.packet(name, t, values))
        for vcid in sorted(used):
            out += self.writer.flush(vcid)
        return out


def expected_eng(mdb: MissionDatabase, packet: str, values: Mapping[str, object]) -> dict[str, Any]:
    """What the ground should show: each value through the calibration and back."""
    codec = mdb.codec(packet)
    raws = codec.to_raw(values)
    return {
        name: cal.to_eng(raw)
        for name, cal, raw in zip(codec.names, codec.calibrators, raws, strict=True)
    }


async def publish_frames(
    mosquitto: MosquittoServer, station: str, vehicle: str, frames: Iterable[bytes]
) -> None:
    """Publish frames at QoS 1 as the ``spacecraft`` user, as the mock does."""
    cred = mosquitto.credential("spacecraft")
    async with aiomqtt.Client(
        mosquitto.host, mosquitto.port, username=cred.username, password=cred.password
    ) as client:
        topic = topics.downlink(station, vehicle)
        for frame in frames:
            await client.publish(topic, frame, qos=1)


# ------------------------------------------------------------------------------------------ waits
async def wait_for(condition: Callable[[], _T | None], what: str, units: float = 20) -> _T:
    """Poll ``condition`` until it returns something truthy; fail after ``units`` timeouts."""
    deadline = time.monotonic() + timeout(units)
    while not (result := condition()):
        if time.monotonic() > deadline:
            msg = f"timed out waiting for {what}"
            raise AssertionError(msg)
        await asyncio.sleep(POLL_INTERVAL)
    return result


async def wait_until(
    condition: Callable[[], Awaitable[_T | None]], what: str, units: float = 20
) -> _T:
    """``wait_for`` with an asynchronous condition (an HTTP request, a thread)."""
    deadline = time.monotonic() + timeout(units)
    while not (result := await condition()):
        if time.monotonic() > deadline:
            msg = f"timed out waiting for {what}"
            raise AssertionError(msg)
        await asyncio.sleep(POLL_INTERVAL)
    return result


def services_of(app: FastAPI) -> GroundServices:
    services = app.state.services
    assert isinstance(services, GroundServices)
    return services


def subscribed(app: FastAPI) -> bool:
    """Whether the app's ingest holds its MQTT subscription (frames published now arrive)."""
    services = app.state.services
    return (
        isinstance(services, GroundServices)
        and services.ingest is not None
        and services.ingest.source.subscribed.is_set()
    )


async def wait_subscribed(app: FastAPI) -> None:
    await wait_for(lambda: subscribed(app), "the ground's MQTT subscription")


def wait_subscribed_sync(app: FastAPI) -> None:
    """``wait_subscribed`` for a server running in another thread."""
    deadline = time.monotonic() + timeout(20)
    while not subscribed(app):
        if time.monotonic() > deadline:
            msg = "timed out waiting for the ground's MQTT subscription"
            raise AssertionError(msg)
        time.sleep(POLL_INTERVAL)


@contextlib.contextmanager
def server_thread(app: FastAPI, port: int) -> Iterator[httpx.Client]:
    """The app under uvicorn in a thread of its own; yields an HTTP client for it."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, lifespan="on", ws_ping_interval=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout(30)
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                msg = "uvicorn did not start"
                raise AssertionError(msg)
            time.sleep(POLL_INTERVAL)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=timeout(30)) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout(30))


@contextlib.asynccontextmanager
async def running_server(app: FastAPI, port: int) -> AsyncIterator[uvicorn.Server]:
    """The app under uvicorn on 127.0.0.1:port, in this event loop; stopped on exit."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, lifespan="on", ws_ping_interval=None
    )
    server = uvicorn.Server(config)
    # uvicorn.Server.serve() captures SIGINT/SIGTERM; the test runner keeps its own handlers.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve())
    try:
        await wait_for(lambda: server.started or task.done(), "uvicorn to start")
        if task.done():
            task.result()
            msg = "uvicorn stopped while starting"
            raise AssertionError(msg)
        yield server
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout(30))


# ------------------------------------------------------------------------------------------ blocks
def sample_block(
    name: str, times: Iterable[float], values: Iterable[float], reception: float | None = None
) -> SampleArrays:
    """A ``SampleArrays`` as ingest hands it to the hub (float engineering values)."""
    t = np.asarray(list(times), dtype=np.float64)
    v = np.asarray(list(values), dtype=np.float64)
    return SampleArrays(
        name=name,
        spacecraft=name.split(".", 1)[0],
        generation_times=t,
        reception_time=reception if reception is not None else float(t[-1]) + 1.0,
        raw_values=v.copy(),
        eng_values=v,
        monitoring=np.zeros(len(t), dtype=np.int8),
    )

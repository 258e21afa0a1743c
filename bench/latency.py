"""Latency from publication to a WebSocket client at 1,000 packets/s, beside a bare MQTT subscriber.

One command, JSON on stdout (``python -m bench.latency`` or ``lupex bench run latency``)::

    python -m bench.latency [--rate 1000] [--duration 60] [--warmup 5]

What runs:

- a Mosquitto broker from the shipped configuration (``deploy/mosquitto``) on a free port;
- the ground service as its own process (``python -m ground``, SQLite archive, default settings);
- in this process, on one event loop:
  - a publisher, as the ``spacecraft`` user at QoS 1, sending every 10 ms one TM frame that holds
    ``rate / 100`` rover power housekeeping packets (``rover.hk.power``), each with its own
    generation time (whole milliseconds), recording the time just before each publication;
  - a WebSocket client subscribed to ``rover.power.battery_soc`` (one value per packet): the
    latency of a packet is its value's arrival minus its frame's publication;
  - the baseline: a bare aiomqtt subscriber (the ``ground`` user, its own client id) on the same
    topic, whose latency is the frame's arrival minus its publication.

Both latencies are measured with one clock (``time.perf_counter`` of this process). Packets
generated during the warm-up are left out. Targets (issue 4): p50 ≤ 20 ms, p99 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import aiomqtt
import httpx
import numpy as np
from websockets.asyncio.client import connect

from bench.common import ResourceMonitor, emit, log
from lupex.mosquitto import SHIPPED_CONFIG, demo_password, derive_config, mosquitto_binary
from mission import topics
from mission.ccsds.framing import TmFrameWriter
from mission.ccsds.pus import build_tm_packet
from mission.mdb.loader import load_mdb
from mission.mdb.models import EngType, ParameterDef

PACKET: Final = "rover.hk.power"
PARAMETER: Final = "rover.power.battery_soc"
STATION: Final = "bench"
TICK_S: Final = 0.010
TARGET_P50_MS: Final = 20.0
TARGET_P99_MS: Final = 100.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def _wait_port(port: int, what: str, deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                msg = f"{what} did not listen on port {port}"
                raise RuntimeError(msg) from None
            await asyncio.sleep(0.05)
        else:
            writer.close()
            await writer.wait_closed()
            return


@contextlib.contextmanager
def _process(
    argv: list[str], log_path: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Latencies:
    """Publication times by key, and the latencies measured on arrival."""

    published: dict[Any, float] = field(default_factory=dict)
    measured: list[float] = field(default_factory=list)
    unknown: int = 0

    def arrive(self, key: Any, now: float) -> None:
        sent = self.published.get(key)
        if sent is None:
            self.unknown += 1
        else:
            self.measured.append(now - sent)

    def summary(self, expected: int) -> dict[str, Any]:
        ms = np.asarray(self.measured) * 1000.0
        if not len(ms):
            return {"samples": 0, "lost": expected}
        p50, p90, p99, p999 = np.percentile(ms, [50, 90, 99, 99.9])
        return {
            "samples": len(ms),
            "lost": max(expected - len(ms), 0),
            "p50_ms": round(float(p50), 2),
            "p90_ms": round(float(p90), 2),
            "p99_ms": round(float(p99), 2),
            "p99_9_ms": round(float(p999), 2),
            "max_ms": round(float(ms.max()), 2),
            "mean_ms": round(float(ms.mean()), 2),
        }


def _nominal(p: ParameterDef) -> object:
    """The parameter's typical value (the middle of its typical range), in engineering units."""
    typical = p.typical
    if p.type is EngType.ENUM:
        labels = list(p.enumeration.values())
        return typical if isinstance(typical, str) and typical in labels else labels[0]
    if p.type is EngType.BOOL:
        return typical if isinstance(typical, bool) else False
    if isinstance(typical, tuple):
        value = (typical[0] + typical[1]) / 2
    elif isinstance(typical, int | float) and not isinstance(typical, bool):
        value = float(typical)
    else:
        value = 0.0
    return round(value) if p.type is EngType.INT else value


class Traffic:
    """TM frames of ``rover.hk.power`` packets, one frame per tick."""

    def __init__(self, per_tick: int, start: float) -> None:
        mdb = load_mdb()
        spacecraft = mdb.spacecraft["rover"]
        self.definition = mdb.packets[PACKET]
        codec = mdb.codec(PACKET)
        values = {p.name: _nominal(p) for p in codec.parameters}
        self.source = codec.encode_source(values)
        self.writer = TmFrameWriter(spacecraft.scid, spacecraft.tm_frame_length)
        self.per_tick = per_tick
        self.start_ms = round(start * 1000)
        self.count = 0
        self.seq = 0
        packet_len = len(self.packet(0))
        if packet_len * per_tick + 7 > self.writer.data_length:
            msg = f"{per_tick} packets of {packet_len} octets do not fit one frame"
            raise ValueError(msg)

    def packet(self, generation_ms: int) -> bytes:
        d = self.definition
        self.seq = (self.seq + 1) % 16384
        return build_tm_packet(
            d.apid, self.seq, d.service, d.subtype, self.source, generation_ms / 1000
        )

    def tick(self) -> tuple[bytes, list[int]]:
        """One frame and the generation times (ms) of the packets it carries."""
        times = []
        frames: list[bytes] = []
        for _ in range(self.per_tick):
            generation_ms = self.start_ms + self.count
            self.count += 1
            times.append(generation_ms)
            frames += self.writer.add_packet(self.definition.vcid, self.packet(generation_ms))
        frames += self.writer.flush(self.definition.vcid)
        if len(frames) != 1:
            msg = f"expected one frame per tick, got {len(frames)}"
            raise RuntimeError(msg)
        return frames[0], times


def _digest(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=8).digest()


async def _subscribed(http: httpx.AsyncClient, url: str) -> bool:
    try:
        response = await http.get(url)
    except httpx.HTTPError:
        return False
    if response.status_code != 200:
        return False
    body = response.json()
    return bool(body["broker"].get("subscribed")) and body["services"].get("ingest") == "running"


@contextlib.asynccontextmanager
async def _services(workdir: Path, token: str) -> AsyncIterator[tuple[int, int, int]]:
    """Mosquitto and the ground service; yields (broker port, ground HTTP port, ground pid)."""
    broker_port, http_port = _free_port(), _free_port()
    (workdir / "mosquitto").mkdir()
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        derive_config(
            SHIPPED_CONFIG.read_text(),
            port=broker_port,
            persistence_dir=workdir / "mosquitto",
            run_as=pwd.getpwuid(os.geteuid()).pw_name,
        )
    )
    env = {
        **os.environ,
        "LUPEX_GROUND_BROKER_URL": f"mqtt://127.0.0.1:{broker_port}",
        "LUPEX_GROUND_MQTT_PASSWORD": demo_password("ground"),
        "LUPEX_GROUND_MQTT_CLIENT_ID": f"bench-ground-{secrets.token_hex(4)}",
        "LUPEX_GROUND_DB_URL": f"sqlite:///{workdir / 'archive.db'}",
        "LUPEX_GROUND_PORT": str(http_port),
        "LUPEX_GROUND_VIEWER_TOKEN": token,
        "LUPEX_GROUND_LOG_LEVEL": "WARNING",
        "LUPEX_GROUND_LOG_FORMAT": "json",
    }
    with _process([mosquitto_binary(), "-c", str(conf)], workdir / "mosquitto.log"):
        await _wait_port(broker_port, "mosquitto")
        with _process([sys.executable, "-m", "ground"], workdir / "ground.log", env=env) as ground:
            details = f"http://127.0.0.1:{http_port}/api/v1/health/details"
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(headers=headers) as http:
                deadline = time.monotonic() + 60
                # Ready once ingest runs and holds its MQTT subscription: frames published
                # before that would never reach this (new) session.
                while not await _subscribed(http, details):
                    if ground.poll() is not None:
                        msg = f"the ground service exited; see {workdir / 'ground.log'}"
                        raise RuntimeError(msg)
                    if time.monotonic() > deadline:
                        msg = "the ground service did not connect to the broker"
                        raise RuntimeError(msg)
                    await asyncio.sleep(0.1)
            yield broker_port, http_port, ground.pid


async def run(rate: float, duration: float, warmup: float, keep: bool) -> dict[str, Any]:
    per_tick = round(rate * TICK_S)
    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="lupex-bench-latency-"))
    token = secrets.token_urlsafe(24)
    ws_lat, mqtt_lat = Latencies(), Latencies()
    # From the ground's MQTT reception (the values' reception_time) to the client (wall clock).
    inside = Latencies()
    start_wall = round(time.time(), 3)
    traffic = Traffic(per_tick, start_wall)
    warmup_ms = traffic.start_ms + round(warmup * 1000)
    try:
        async with _services(workdir, token) as (broker_port, http_port, ground_pid):
            topic = topics.downlink(STATION, "rover")
            spacecraft = demo_password("spacecraft")
            ground = demo_password("ground")
            ws_url = f"ws://127.0.0.1:{http_port}/api/v1/stream"
            async with (
                connect(
                    ws_url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None
                ) as ws,
                aiomqtt.Client(
                    "127.0.0.1",
                    broker_port,
                    username="ground",
                    password=ground,
                    identifier=f"bench-baseline-{secrets.token_hex(4)}",
                ) as baseline,
                aiomqtt.Client(
                    "127.0.0.1",
                    broker_port,
                    username="spacecraft",
                    password=spacecraft,
                    identifier=f"bench-spacecraft-{secrets.token_hex(4)}",
                ) as publisher,
            ):
                await ws.send(json.dumps({"op": "subscribe", "parameters": [PARAMETER]}))
                while json.loads(await ws.recv())["type"] != "subscribed":
                    pass
                await baseline.subscribe(topic, qos=1)

                async def read_ws() -> None:
                    async for text in ws:
                        now = time.perf_counter()
                        message = json.loads(text)
                        if message["type"] != "parameters":
                            continue
                        wall = time.time()
                        for value in message["values"]:
                            generation_ms = round(value["generation_time"] * 1000)
                            if generation_ms >= warmup_ms:
                                ws_lat.arrive(generation_ms, now)
                                inside.measured.append(wall - value["reception_time"])

                async def read_mqtt() -> None:
                    async for message in baseline.messages:
                        now = time.perf_counter()
                        payload = message.payload
                        if isinstance(payload, bytes):
                            mqtt_lat.arrive(_digest(payload), now)

                readers = [asyncio.create_task(read_ws()), asyncio.create_task(read_mqtt())]
                monitor = ResourceMonitor(ground_pid)
                ticks = round(duration / TICK_S)
                frames_measured = 0
                log(f"publishing {per_tick * ticks} packets in {ticks} frames over {duration:g} s")
                loop = asyncio.get_running_loop()
                next_tick = loop.time()
                for index in range(ticks):
                    frame, times = traffic.tick()
                    measured = times[0] >= warmup_ms
                    if measured and frames_measured == 0:
                        monitor.start()
                    now = time.perf_counter()
                    if measured:
                        frames_measured += 1
                        mqtt_lat.published[_digest(frame)] = now
                        for generation_ms in times:
                            ws_lat.published[generation_ms] = now
                    await publisher.publish(topic, frame, qos=1)
                    next_tick += TICK_S
                    await asyncio.sleep(max(0.0, next_tick - loop.time()))
                    if index and index % round(10 / TICK_S) == 0:
                        log(f"{index * TICK_S:.0f} s: {len(ws_lat.measured)} values at the client")
                expected_values = frames_measured * per_tick
                for _ in range(300):  # up to 15 s for the last values to arrive
                    if (
                        len(ws_lat.measured) >= expected_values
                        and len(mqtt_lat.measured) >= frames_measured
                    ):
                        break
                    await asyncio.sleep(0.05)
                resources = monitor.stop()
                for task in readers:
                    task.cancel()
                await asyncio.gather(*readers, return_exceptions=True)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if not ws_lat.measured:
        msg = "the WebSocket client received no value: see the ground log (--keep)"
        raise RuntimeError(msg)
    ws_summary = ws_lat.summary(expected_values)
    mqtt_summary = mqtt_lat.summary(frames_measured)
    return {
        "rate_packets_per_s": per_tick / TICK_S,
        "duration_s": duration,
        "warmup_s": warmup,
        "frames_per_s": 1 / TICK_S,
        "packets_measured": expected_values,
        "websocket": ws_summary,
        "mqtt_baseline": mqtt_summary,
        "ground_reception_to_websocket": inside.summary(len(inside.measured)),
        "websocket_minus_baseline_p50_ms": round(
            ws_summary.get("p50_ms", float("nan")) - mqtt_summary.get("p50_ms", float("nan")), 2
        ),
        "targets": {"p50_ms": TARGET_P50_MS, "p99_ms": TARGET_P99_MS},
        "meets_targets": bool(
            ws_summary.get("p50_ms", 1e9) <= TARGET_P50_MS
            and ws_summary.get("p99_ms", 1e9) <= TARGET_P99_MS
            and ws_summary.get("lost", 1) == 0
        ),
        "ground_process": {
            "cpu_percent_mean": resources.cpu_percent_mean,
            "cpu_percent_max": resources.cpu_percent_max,
            "rss_peak_mib": resources.rss_peak_mib,
        },
        "load_average_1min": {
            "before": round(load_before[0], 2),
            "after": round(os.getloadavg()[0], 2),
        },
        "method": "publisher, WebSocket client and bare MQTT subscriber in one process "
        "(one clock); ground service in its own process; Mosquitto from deploy/mosquitto",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=1000.0, help="packets per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of publication")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds left out at the start")
    parser.add_argument("--keep", action="store_true", help="keep the logs and the archive")
    args = parser.parse_args()
    if args.warmup >= args.duration:
        parser.error("--warmup must be shorter than --duration")
    emit(asyncio.run(run(args.rate, args.duration, args.warmup, args.keep)))


if __name__ == "__main__":
    main()

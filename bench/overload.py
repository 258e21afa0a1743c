"""Overload (issue 4): publishing at twice the sustainable rate for 60 s.

    python -m bench.overload [--seconds 60] [--sustainable PACKETS_PER_S]

The whole ground service (``python -m ground``: ingest, archive, live stream hub, API) runs as
its own process against a Mosquitto from the shipped configuration. A WebSocket client subscribes
to every parameter and then reads one message a second (a slow client). A publisher process sends
realistic frames at QoS 1 at twice the sustainable rate (``--sustainable``, by default the
``packets_per_s`` of the last ``bench.ingest`` result in ``bench/results/ingest.json``, else
20,000 packets/s) for ``--seconds``; the broker queues what the ground cannot take yet (the
ground's Receive Maximum bounds what it holds itself).

Reported: the publishing and archiving rates, the ground's peak RSS (it must stay bounded: the
backlog waits in the broker, not in the ground), the broker's peak RSS, how long the archive took
to catch up after the publisher stopped, whether every packet arrived exactly once, and the
WebSocket drops (``lupex_ws_dropped_total`` from ``/metrics`` and the slow client's own ``stats``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Final

from bench.common import ResourceMonitor, build_traffic, emit, log
from bench.ingest import GROUND, REPO, check_archive, save_messages, wait_archive

RESULTS: Final = REPO / "bench" / "results" / "ingest.json"
DEFAULT_SUSTAINABLE: Final = 20_000.0


def sustainable_rate() -> float:
    """The last measured sustained ingest rate (packets/s), or the target."""
    try:
        record = json.loads(RESULTS.read_text())
        return float(record["result"]["packets_per_s"])
    except (OSError, KeyError, ValueError, TypeError):
        return DEFAULT_SUSTAINABLE


def _free_port() -> int:
    sys.path.insert(0, str(REPO))
    from tests.support.ports import free_port

    return free_port()


def _get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - local URL
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except OSError:
        return 0, ""


def start_ground_service(
    broker_port: int, db: Path, api_port: int, token: str, log_path: Path
) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        LUPEX_NO_BACKOFF="1",
        LUPEX_GROUND_BROKER_URL=f"mqtt://127.0.0.1:{broker_port}",
        LUPEX_GROUND_MQTT_USERNAME=GROUND[0],
        LUPEX_GROUND_MQTT_PASSWORD=GROUND[1],
        LUPEX_GROUND_MQTT_CLIENT_ID="bench-ground",
        LUPEX_GROUND_DB_URL=f"sqlite:///{db}",
        LUPEX_GROUND_PORT=str(api_port),
        LUPEX_GROUND_VIEWER_TOKEN=token,
        LUPEX_GROUND_LOG_LEVEL="WARNING",
    )
    with log_path.open("ab") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "ground"], stdout=stderr, stderr=stderr, env=env, cwd=REPO
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"ground service exited: {log_path.read_text(errors='replace')[-3000:]}"
            raise RuntimeError(msg)
        status, _ = _get(f"http://127.0.0.1:{api_port}/api/v1/health")
        if status == 200:
            return process
        time.sleep(0.2)
    process.kill()
    msg = "ground service did not become healthy"
    raise RuntimeError(msg)


async def slow_client(url: str, stop: asyncio.Event, pause: float = 1.0) -> dict[str, Any]:
    """Subscribe to everything, then read one message per ``pause`` seconds.

    The client sends no keepalive pings of its own and reads so little that the server's queue
    for it fills (TCP backpressure): the server drops and counts. The server may end up closing
    the connection (its pings go unanswered while nothing is read); that is reported.
    """
    import websockets

    received = 0
    last_stats: dict[str, Any] = {}
    started = time.monotonic()
    closed: str | None = None
    try:
        async with websockets.connect(url, max_size=2**26, ping_interval=None) as ws:
            await ws.send(json.dumps({"op": "subscribe", "parameters": ["*"], "events": True,
                                      "alarms": True, "links": True}))  # fmt: skip
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=pause * 5)
                except TimeoutError:
                    continue
                received += 1
                message = json.loads(raw)
                if message.get("type") == "stats":
                    last_stats = message
                await asyncio.sleep(pause)
    except websockets.ConnectionClosed as exc:
        closed = f"closed by the server after {time.monotonic() - started:.0f} s: {exc}"
    return {"messages_read": received, "last_stats": last_stats, "closed": closed}


def metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            match = re.search(r"\s([0-9.eE+-]+)$", line)
            if match:
                total += float(match.group(1))
    return total


async def _overload(
    seconds: float,
    sustainable: float,
    work: Path,
    broker_port: int,
    broker_pid: int,
    websocket: bool = True,
) -> dict[str, Any]:
    rate = 2 * sustainable
    packets = int(rate * seconds)
    log(f"building {packets} packets ({rate:.0f} packets/s for {seconds:.0f} s)")
    traffic = build_traffic(packets, rate=rate)
    messages = work / "messages.npz"
    save_messages(traffic, messages)
    frames_per_s = rate * traffic.frames / traffic.packets
    db = work / "archive.db"
    api_port = _free_port()
    token = secrets.token_urlsafe(16)
    ground = start_ground_service(broker_port, db, api_port, token, work / "ground.log")
    monitor = ResourceMonitor(ground.pid).start()
    broker_monitor = ResourceMonitor(broker_pid).start()
    stop = asyncio.Event()
    client = asyncio.create_task(
        slow_client(f"ws://127.0.0.1:{api_port}/api/v1/stream?token={token}", stop)
        if websocket
        else stop.wait()
    )
    log(f"publishing {traffic.frames} frames at {frames_per_s:.0f} frames/s")
    publisher = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.ingest", "--publish", "--port", str(broker_port),
        "--messages", str(messages), "--publish-rate", str(frames_per_s),
        stdout=asyncio.subprocess.PIPE, cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )  # fmt: skip
    out, _ = await publisher.communicate()
    published = json.loads(out.decode().strip().splitlines()[-1])
    publish_end = float(published["started"]) + float(published["seconds"])
    during = monitor.stop()
    log("publisher done; waiting for the archive to catch up")
    monitor = ResourceMonitor(ground.pid).start()
    progress: list[tuple[float, int]] = []
    try:
        done = await asyncio.to_thread(wait_archive, db, traffic.packets, 20 * seconds, progress)
    finally:
        after = monitor.stop()
        broker_usage = broker_monitor.stop()
        stop.set()
        ws: Any
        try:
            ws = await asyncio.wait_for(client, 30)
        except (TimeoutError, OSError) as exc:
            ws = {"error": repr(exc)}
        if not websocket:
            ws = "no WebSocket client (--no-websocket)"
        _, metrics_text = _get(f"http://127.0.0.1:{api_port}/metrics")
        ground.terminate()
        await asyncio.to_thread(ground.wait, 60)
    checks = await asyncio.to_thread(check_archive, db, traffic)
    elapsed = done - float(published["started"])
    return {
        "seconds": seconds,
        "sustainable_packets_per_s": round(sustainable),
        "offered_packets_per_s": round(rate),
        "published_packets_per_s": round(traffic.packets / float(published["seconds"])),
        "archived_packets_per_s_overall": round(traffic.packets / elapsed),
        "catch_up_seconds_after_publisher": round(done - publish_end, 1),
        "packets": traffic.packets,
        "frames": traffic.frames,
        "ground_rss_peak_mib": max(during.rss_peak_mib, after.rss_peak_mib),
        "ground_while_publishing": during.__dict__,
        "ground_while_catching_up": after.__dict__,
        "broker_process": broker_usage.__dict__,
        "checks": checks,
        "nothing_lost": checks["lost"] == 0 and checks["duplicated"] == 0,
        "websocket": {
            "dropped_total_metric": metric(metrics_text, "lupex_ws_dropped_total"),
            "sent_total_metric": metric(metrics_text, "lupex_ws_messages_total"),
            "slow_client": ws,
        },
        "publisher": published,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def run(
    seconds: float = 60.0, sustainable: float | None = None, websocket: bool = True
) -> dict[str, Any]:
    """Run the benchmark; return its result (see the module docstring)."""
    sys.path.insert(0, str(REPO))
    from tests.support.mosquitto import MosquittoServer

    rate = sustainable if sustainable is not None else sustainable_rate()
    with (
        tempfile.TemporaryDirectory(prefix="lupex-bench-overload-") as tmp,
        MosquittoServer() as broker,
    ):
        assert broker.pid is not None
        return asyncio.run(_overload(seconds, rate, Path(tmp), broker.port, broker.pid, websocket))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.overload", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--sustainable", type=float, default=None, help="packets/s (default: bench.ingest's)"
    )
    parser.add_argument(
        "--no-websocket", action="store_true", help="run without the slow WebSocket client"
    )
    args = parser.parse_args(argv)
    emit(run(args.seconds, args.sustainable, not args.no_websocket))


if __name__ == "__main__":
    main()

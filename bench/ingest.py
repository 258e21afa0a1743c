"""Sustained ingest (issue 4): frames through a real Mosquitto at QoS 1 into the SQLite archive.

    python -m bench.ingest [--seconds 90] [--rate 25000] [--ceiling-seconds 20]

1. Builds ``seconds × rate`` realistic packets (``bench.common.build_traffic``) in TM frames.
2. Starts a Mosquitto from the shipped configuration on a free port (``tests/support``).
3. **Ceiling**: a bare aiomqtt subscriber (QoS 1, persistent session, manual acknowledgement of
   each message at once, nothing else) counts the same frames while a publisher process sends
   them as fast as the broker acknowledges, for ``--ceiling-seconds``.
4. **Ingest**: ``python -m ground.ingest`` (the ``IngestService``: frame checks, extraction,
   decoding, calibration, limits, alarms, SQLite archive, acknowledgement after commit) as its
   own process, sampled for CPU and RSS; a publisher process sends every frame at QoS 1 as fast
   as the pipeline absorbs (backpressure: the ground's Receive Maximum, the publisher's window).
   The run ends when the archive holds every packet.
5. Checks, from the archive: every (APID, sequence count, generation time) sent is stored exactly
   once (no loss, no duplicate); the ingest's own counters show no gap and no error.

The JSON result has packets/s and samples/s (whole run, first publication to last commit), the
bare subscriber's ceiling in frames/s (and the packets/s it would carry), the ground's CPU and
peak RSS, and the checks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import numpy as np

from bench.common import (
    ResourceMonitor,
    Traffic,
    build_traffic,
    emit,
    log,
    publish_messages,
)

REPO: Final = Path(__file__).resolve().parents[1]
SPACECRAFT: Final = ("spacecraft", "lupex-spacecraft-demo")
GROUND: Final = ("ground", "lupex-ground-demo")
TARGET_PACKETS: Final = 20_000
TARGET_SAMPLES: Final = 400_000


# ---------------------------------------------------------------------------------- traffic files
def save_messages(traffic: Traffic, path: Path) -> None:
    topics = sorted({t for t, _ in traffic.messages})
    index = {t: i for i, t in enumerate(topics)}
    frames = np.frombuffer(b"".join(p for _, p in traffic.messages), dtype=np.uint8)
    np.savez(
        path,
        frames=frames.reshape(len(traffic.messages), -1),
        topic=np.asarray([index[t] for t, _ in traffic.messages], dtype=np.int16),
        topics=np.asarray(topics),
    )


def load_messages(path: Path) -> list[tuple[str, bytes]]:
    data = np.load(path)
    topics = [str(t) for t in data["topics"]]
    frames = data["frames"]
    return [(topics[int(i)], frames[k].tobytes()) for k, i in enumerate(data["topic"])]


def _python(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.ingest", *args]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), LUPEX_NO_BACKOFF="1")


# ------------------------------------------------------------------------------ helper processes
def publisher_main(args: argparse.Namespace) -> None:
    messages = load_messages(Path(args.messages))
    deadline = time.monotonic() + args.deadline if args.deadline else None
    started = time.time()
    result = publish_messages(
        messages,
        host="127.0.0.1",
        port=args.port,
        username=SPACECRAFT[0],
        password=SPACECRAFT[1],
        rate=args.publish_rate or None,
        window=args.window,
        deadline=deadline,
    )
    emit(
        {
            "sent": result.sent,
            "acknowledged": result.acknowledged,
            "seconds": result.seconds,
            "started": started,
            "reconnects": result.reconnects,
        }
    )


async def _bare(port: int, expect: int, seconds: float, ready: Path) -> dict[str, Any]:
    from mqtt_io import BrokerUrl, ClientOptions, acknowledge, make_client

    url = BrokerUrl("127.0.0.1", port, *GROUND)
    options = ClientOptions(
        identifier="bench-bare", persistent=True, receive_maximum=1000, manual_ack=True,
        max_queued_incoming=0,
    )  # fmt: skip
    count = 0
    first = last = 0.0
    async with make_client(url, options) as client:
        await client.subscribe("lupex/v1/downlink/+/+", qos=1)
        await asyncio.to_thread(ready.write_text, "ready")
        try:
            async with asyncio.timeout(seconds + 60):
                async for message in client.messages:
                    if count == 0:
                        first = time.monotonic()
                    count += 1
                    acknowledge(client, message)
                    last = time.monotonic()
                    if count >= expect or last - first >= seconds:
                        break
        except TimeoutError:
            pass
    span = last - first
    return {"messages": count, "seconds": span, "per_s": count / span if span else 0.0}


def bare_main(args: argparse.Namespace) -> None:
    emit(asyncio.run(_bare(args.port, args.expect, args.seconds, Path(args.ready))))


def _wait_file(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            msg = f"{path} did not appear"
            raise TimeoutError(msg)
        time.sleep(0.05)


def _json_line(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate(timeout=3600)
    return dict(json.loads(out.strip().splitlines()[-1]))


# ---------------------------------------------------------------------------------- phases
def measure_ceiling(
    port: int, messages: Path, frames: int, seconds: float, work: Path
) -> dict[str, Any]:
    ready = work / "bare.ready"
    bare = subprocess.Popen(
        _python("--bare", "--port", str(port), "--expect", str(frames),
                "--seconds", str(seconds), "--ready", str(ready)),
        stdout=subprocess.PIPE, text=True, env=_env(), cwd=REPO,
    )  # fmt: skip
    _wait_file(ready, 60)
    publisher = subprocess.Popen(
        _python("--publish", "--port", str(port), "--messages", str(messages),
                "--deadline", str(seconds + 5)),
        stdout=subprocess.PIPE, text=True, env=_env(), cwd=REPO,
    )  # fmt: skip
    result = _json_line(bare)
    published = _json_line(publisher)
    return {"bare_subscriber": result, "publisher": published}


def wait_archive(
    db: Path, packets: int, limit_s: float, progress: list[tuple[float, int]]
) -> float:
    """Poll the archive until it holds ``packets`` packets; return the time it did."""
    from ground.archive import open_archive

    archive = open_archive(f"sqlite:///{db}")
    try:
        deadline = time.monotonic() + limit_s
        while True:
            count = archive.packet_count()
            now = time.time()
            progress.append((now, count))
            if count >= packets:
                return now
            if time.monotonic() > deadline:
                msg = f"archive holds {count} of {packets} packets after {limit_s} s"
                raise TimeoutError(msg)
            time.sleep(0.5)
    finally:
        archive.close()


def check_archive(db: Path, traffic: Traffic) -> dict[str, Any]:
    """Lost and duplicated packets, by (spacecraft, APID), from the archive's packet index."""
    from ground.archive import open_archive

    archive = open_archive(f"sqlite:///{db}")
    try:
        lost = duplicated = stored = 0
        for (vehicle, apid), expected in traffic.keys.items():
            keys = np.asarray(
                [round(t * 1000) * 16384 + s for s, t in archive.packet_keys(vehicle, apid)],
                dtype=np.int64,
            )
            stored += len(keys)
            unique = np.unique(keys)
            duplicated += len(keys) - len(unique)
            lost += len(np.setdiff1d(expected, unique))
        state = archive.load_state("ingest/bench-ground")
        counters = json.loads(state)["counters"] if state else {}
        return {
            "packets_sent": traffic.packets,
            "packets_stored": stored,
            "lost": lost,
            "duplicated": duplicated,
            "archive_packet_count": archive.packet_count(),
            "ingest_errors": counters.get("errors", {}),
            "ingest_packet_gaps": counters.get("packet_gap_packets"),
            "ingest_frame_gaps": counters.get("frame_gap_frames"),
            "ingest_duplicate_frames": counters.get("duplicates"),
            "stats": archive.stats(),
        }
    finally:
        archive.close()


def start_ground(
    port: int, db: Path, log_path: Path, extra: list[str] | None = None
) -> subprocess.Popen[str]:
    argv = [
        sys.executable, "-m", "ground.ingest",
        "--broker", f"mqtt://{GROUND[0]}:{GROUND[1]}@127.0.0.1:{port}",
        "--db", f"sqlite:///{db}",
        "--client-id", "bench-ground",
        *(extra or []),
    ]  # fmt: skip
    with log_path.open("a") as stderr:
        ground = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=stderr, text=True, env=_env(), cwd=REPO
        )
    assert ground.stdout is not None
    line = ground.stdout.readline()
    if line.strip() != "ready":
        msg = f"ground ingest did not start: {log_path.read_text()[-2000:]}"
        raise RuntimeError(msg)
    return ground


def run(
    seconds: float = 60.0,
    rate: float = 25_000.0,
    ceiling_seconds: float = 20.0,
    window: int = 2000,
) -> dict[str, Any]:
    """Run the benchmark; return its result (see the module docstring)."""
    sys.path.insert(0, str(REPO))
    from tests.support.mosquitto import MosquittoServer

    packets = int(seconds * rate)
    with tempfile.TemporaryDirectory(prefix="lupex-bench-ingest-") as tmp:
        work = Path(tmp)
        log(f"building {packets} packets of traffic")
        traffic = build_traffic(packets, rate=rate)
        messages = work / "messages.npz"
        save_messages(traffic, messages)
        log(f"{traffic.frames} frames, {traffic.samples} samples")
        with MosquittoServer() as broker:
            log("ceiling: bare aiomqtt subscriber")
            ceiling = measure_ceiling(broker.port, messages, traffic.frames, ceiling_seconds, work)
        with MosquittoServer() as broker:
            db = work / "archive.db"
            ground = start_ground(broker.port, db, work / "ground.log")
            monitor = ResourceMonitor(ground.pid).start()
            broker_monitor = ResourceMonitor(broker.pid).start()
            log("ingest: publishing every frame at QoS 1")
            publisher = subprocess.Popen(
                _python("--publish", "--port", str(broker.port), "--messages", str(messages),
                        "--window", str(window)),
                stdout=subprocess.PIPE, text=True, env=_env(), cwd=REPO,
            )  # fmt: skip
            progress: list[tuple[float, int]] = []
            try:
                done = wait_archive(db, traffic.packets, 20 * seconds + 120, progress)
            finally:
                published = _json_line(publisher)
                usage = monitor.stop()
                broker_usage = broker_monitor.stop()
                ground.terminate()
                ground.communicate(timeout=60)
            checks = check_archive(db, traffic)
        elapsed = done - float(published["started"])
        steady = _steady_rate(progress)
    pps = traffic.packets / elapsed
    sps = traffic.samples / elapsed
    bare = ceiling["bare_subscriber"]
    packets_per_frame = traffic.packets / traffic.frames
    return {
        "seconds": round(elapsed, 1),
        "packets": traffic.packets,
        "samples": traffic.samples,
        "frames": traffic.frames,
        "packets_per_frame": round(packets_per_frame, 2),
        "packets_per_s": round(pps),
        "samples_per_s": round(sps),
        "frames_per_s": round(traffic.frames / elapsed),
        "steady_packets_per_s": round(steady),
        "publisher": published,
        "ground_process": usage.__dict__,
        "broker_process": broker_usage.__dict__,
        "checks": checks,
        "zero_loss": checks["lost"] == 0 and checks["duplicated"] == 0,
        "ceiling": {
            "bare_frames_per_s": round(bare["per_s"]),
            "bare_packets_per_s_equivalent": round(bare["per_s"] * packets_per_frame),
            "bare_messages": bare["messages"],
            "bare_seconds": round(bare["seconds"], 1),
            "publisher": ceiling["publisher"],
        },
        "targets": {"packets_per_s": TARGET_PACKETS, "samples_per_s": TARGET_SAMPLES},
        "targets_met": pps >= TARGET_PACKETS and sps >= TARGET_SAMPLES and elapsed >= 60,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def _steady_rate(progress: list[tuple[float, int]]) -> float:
    """Packets/s between 10 % and 90 % of the run (leaves out start-up and the tail)."""
    if len(progress) < 3:
        return 0.0
    total = progress[-1][1]
    inside = [(t, n) for t, n in progress if 0.1 * total <= n <= 0.9 * total]
    if len(inside) < 2:
        return 0.0
    (t0, n0), (t1, n1) = inside[0], inside[-1]
    return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument(
        "--seconds",
        type=float,
        default=90.0,
        help="traffic to send, in seconds at --rate (90: the run lasts over 60 s even when the "
        "ground takes it faster than --rate)",
    )
    parser.add_argument(
        "--rate", type=float, default=25_000.0, help="packets/s the traffic is built for"
    )
    parser.add_argument("--ceiling-seconds", type=float, default=20.0)
    parser.add_argument(
        "--window", type=int, default=2000, help="publisher's unacknowledged messages"
    )
    # helper processes
    parser.add_argument("--publish", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--messages", default="", help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--ready", default="", help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--publish-rate", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.publish:
        publisher_main(args)
    elif args.bare:
        bare_main(args)
    else:
        emit(run(args.seconds, args.rate, args.ceiling_seconds, args.window))


if __name__ == "__main__":
    main()

"""Simulation speed (issue 3): does ``lupex spacecraft --speed 1000`` keep real time on MQTT?

    python -m bench.sim_speed [--speed 1000] [--duration 60000] [--epoch ISO] [--seed 1]

1. **Baseline** (this process, same seed, epoch and span): the world stepped alone, in the
   runner's 20-mission-second chunks, with no clock, no broker and no I/O: how fast the
   simulation itself runs on one core (mission seconds per wall second).
2. **Spacecraft alone**: a Mosquitto from the shipped configuration on a free port, a bare
   subscriber (paho, QoS 1) on the downlink and the simulation status, and the command users run,
   ``lupex spacecraft --broker … --speed S --duration D --epoch E``, sampled for CPU and RSS.
3. **With the ground**: the same, with ``python -m ground.ingest`` decoding and archiving every
   frame on the same machine (what ``make demo`` runs, less the dashboard).

For each run: the speed achieved (mission time over wall time between the first and the last
simulation status the spacecraft published, start-up left out), the largest lag it reported
(mission seconds behind its target), the frames the subscriber received against those the
spacecraft says it published, and the spacecraft's CPU share. Target: the speed asked, within 1 %.
The default epoch puts a station pass in the span, so frames flow most of the time (with no
station in view the mock only stores telemetry, which is cheaper).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench.common import ResourceMonitor, emit, log

REPO: Final = Path(__file__).resolve().parents[1]
GROUND: Final = ("ground", "lupex-ground-demo")
DEFAULT_EPOCH: Final = "2026-12-20T00:00:00+00:00"
STOPPED: Final = re.compile(
    r"stopped at \S+: (\d+) frames published \((\d+) resent, (\d+) dropped\)"
)
TOLERANCE: Final = 0.01


def baseline(seed: int, epoch: float, duration: float, chunk: float) -> dict[str, Any]:
    """The world alone: stepped as fast as it goes, no I/O."""
    from spacecraft_mock.world import World

    world = World(seed, epoch)
    end = epoch + duration
    frames = 0
    started, started_cpu = time.perf_counter(), time.process_time()
    while world.t < end:
        frames += len(world.advance_to(min(end, world.t + chunk)).frames)
    wall = time.perf_counter() - started
    cpu = time.process_time() - started_cpu
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "speed": round(duration / wall, 1),
        "speed_per_cpu_s": round(duration / cpu, 1),
        "frames": frames,
    }


class Subscriber:
    """Counts downlink frames and keeps every simulation status (a bare paho client, QoS 1)."""

    def __init__(self, port: int) -> None:
        self.frames = 0
        self.statuses: list[dict[str, Any]] = []
        self._connected = threading.Event()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id="bench-sim-speed", protocol=paho.MQTTv5
        )
        self.client.username_pw_set(*GROUND)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not self._connected.wait(10):
            msg = "the bench subscriber could not connect"
            raise RuntimeError(msg)

    def _on_connect(self, client: paho.Client, *_: object) -> None:
        client.subscribe([("lupex/v1/downlink/+/+", 1), ("lupex/v1/sim/status", 1)])
        self._connected.set()

    def _on_message(self, _client: paho.Client, _userdata: object, message: Any) -> None:
        if message.topic.startswith("lupex/v1/downlink/"):
            self.frames += 1
        elif not message.retain:  # a status left from an earlier run is not this run's
            self.statuses.append(json.loads(message.payload))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def spacecraft_run(
    port: int, speed: float, duration: float, epoch: str, seed: int, work: Path, *, ground: bool
) -> dict[str, Any]:
    from bench.ingest import start_ground

    ground_process = None
    ground_monitor = None
    if ground:
        ground_process = start_ground(port, work / "archive.db", work / "ground.log")
        ground_monitor = ResourceMonitor(ground_process.pid).start()
    subscriber = Subscriber(port)
    argv = [
        sys.executable, "-m", "lupex", "spacecraft",
        "--broker", f"mqtt://127.0.0.1:{port}", "--speed", f"{speed:g}",
        "--duration", f"{duration:g}", "--epoch", epoch, "--seed", str(seed),
    ]  # fmt: skip
    log(" ".join(["lupex", *argv[3:]]) + (" (ground ingesting)" if ground else ""))
    started = time.monotonic()
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO
    )
    monitor = ResourceMonitor(process.pid).start()
    _, stderr = process.communicate(timeout=duration / speed * 20 + 120)
    wall = time.monotonic() - started
    usage = monitor.stop()
    time.sleep(1.0)  # the last frames and statuses on their way to the subscriber
    subscriber.close()
    ground_usage = None
    if ground_process is not None and ground_monitor is not None:
        ground_usage = ground_monitor.stop().__dict__
        ground_process.terminate()
        ground_process.communicate(timeout=60)
    if process.returncode != 0:
        msg = f"lupex spacecraft failed ({process.returncode}): {stderr[-2000:]}"
        raise RuntimeError(msg)
    match = STOPPED.search(stderr)
    statuses = [s for s in subscriber.statuses if s.get("speed") == speed]
    if match is None or len(statuses) < 2:
        msg = f"no final log line or too few statuses ({len(statuses)}): {stderr[-2000:]}"
        raise RuntimeError(msg)
    first, last = statuses[0], statuses[-1]
    mission = last["mission_time"] - first["mission_time"]
    elapsed = last["wall_time"] - first["wall_time"]
    achieved = mission / elapsed if elapsed > 0 else 0.0
    return {
        "speed_asked": speed,
        "speed_achieved": round(achieved, 1),
        "ratio": round(achieved / speed, 4),
        "met": achieved >= speed * (1 - TOLERANCE) and not last.get("running", True),
        "mission_s_measured": round(mission, 1),
        "wall_s_measured": round(elapsed, 2),
        "wall_s_process": round(wall, 2),
        "max_lag_s": max(s["lag_s"] for s in statuses),
        "max_lag_wall_s": round(max(s["lag_s"] for s in statuses) / speed, 3),
        "statuses": len(statuses),
        "messages_published": int(match.group(1)),
        "resent": int(match.group(2)),
        "dropped": int(match.group(3)),
        "frames_received": subscriber.frames,
        "spacecraft_process": usage.__dict__,
        "ground_process": ground_usage,
    }


def run(speed: float, duration: float, epoch: str, seed: int) -> dict[str, Any]:
    """Run the benchmark; return its result (see the module docstring)."""
    sys.path.insert(0, str(REPO))
    from tests.support.mosquitto import MosquittoServer

    start = datetime.fromisoformat(epoch).timestamp()
    log(f"baseline: the world stepped alone for {duration:g} mission seconds")
    bare = baseline(seed, start, duration, chunk=speed * 0.02)
    log(f"baseline: {bare['speed']:g}x ({bare['frames']} frames)")
    runs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="lupex-bench-sim-") as tmp:
        for name, ground in (("alone", False), ("with_ground", True)):
            with MosquittoServer() as broker:
                work = Path(tmp) / name
                work.mkdir()
                runs[name] = spacecraft_run(
                    broker.port, speed, duration, epoch, seed, work, ground=ground
                )
            log(
                f"{name}: {runs[name]['speed_achieved']:g}x achieved, max lag "
                f"{runs[name]['max_lag_s']:g} s, CPU "
                f"{runs[name]['spacecraft_process']['cpu_percent_mean']:.0f} %"
            )
    return {
        "speed": speed,
        "duration_s": duration,
        "epoch": epoch,
        "seed": seed,
        "baseline_world_alone": bare,
        "alone": runs["alone"],
        "with_ground": runs["with_ground"],
        "target": f"{speed:g}x within {TOLERANCE:.0%}",
        "targets_met": bool(runs["alone"]["met"] and runs["with_ground"]["met"]),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sim_speed", description=__doc__)
    parser.add_argument("--speed", type=float, default=1000.0, help="speed factor asked")
    parser.add_argument(
        "--duration", type=float, default=60_000.0, help="mission seconds of each run"
    )
    parser.add_argument("--epoch", default=DEFAULT_EPOCH, help="mission start, ISO 8601")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    emit(run(args.speed, args.duration, args.epoch, args.seed))


if __name__ == "__main__":
    main()

"""Run the spacecraft mock as a service: world + real-time runner + MQTT adapter + signals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass

from mqtt_io import BrokerUrl
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.mqtt_adapter import AdapterSettings, MqttAdapter
from spacecraft_mock.runner import RealTimeRunner
from spacecraft_mock.world import World, iso

log = logging.getLogger("lupex.spacecraft")


@dataclass(frozen=True, slots=True)
class RunOptions:
    url: BrokerUrl
    speed: float
    seed: int
    epoch: float
    duration_s: float | None
    config: WorldConfig
    client_id: str = "lupex-spacecraft"


async def run_service(options: RunOptions, stop: asyncio.Event | None = None) -> MqttAdapter:
    """Build the world and run it on MQTT until the duration ends or SIGINT/SIGTERM arrives."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    world = World(options.seed, options.epoch, config=options.config)
    runner = RealTimeRunner(world, options.speed, duration_s=options.duration_s)
    adapter = MqttAdapter(runner, AdapterSettings(url=options.url, client_id=options.client_id))
    log.info(
        "spacecraft mock: broker %s, speed %g, seed %d, epoch %s, duration %s",
        options.url, options.speed, options.seed, iso(options.epoch),
        "unbounded" if options.duration_s is None else f"{options.duration_s:g} s",
    )  # fmt: skip
    try:
        await adapter.run(stop)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    log.info(
        "stopped at %s: %d frames published (%d resent, %d dropped), max lag %.1f s",
        iso(world.t), adapter.outbox.acked, adapter.outbox.requeued, adapter.outbox.dropped,
        runner.max_lag_s,
    )  # fmt: skip
    return adapter

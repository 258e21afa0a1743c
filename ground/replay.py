"""Replay: re-stream archived TM frames onto the downlink topics, at a chosen speed.

Frames are read from the archive in order of reception (``Archive.frames``), and published at
QoS 1 on ``lupex/v1/downlink/{station}/{spacecraft}``: the station they came through, or the one
given. The gaps between frames are the recorded ones divided by ``speed`` (``speed=0`` publishes
as fast as the broker acknowledges). Only good frames are replayed (quarantined payloads are
not), byte for byte.

A ground instance deduplicates frames by content: replaying into the instance that archived them
(within its deduplication window) is a no-op by design. Replay into another instance (training,
reprocessing with a new mission database), or publish under another station name for display.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Final

from ground.archive import Archive, FrameRecord
from mission.topics import downlink
from mqtt_io import BrokerUrl, ClientOptions, detect_protocol, make_client

PAGE: Final = 500
DEFAULT_IN_FLIGHT: Final = 200
GOOD: Final = "good"

Progress = Callable[[int, int], None]
"""Called with (frames published, frames to publish)."""


@dataclass(frozen=True, slots=True)
class ReplayResult:
    frames: int
    skipped: int
    seconds: float
    first_reception_time: float | None
    last_reception_time: float | None


class _Pacer:
    """Keeps recorded inter-frame gaps, divided by the speed factor."""

    def __init__(
        self,
        speed: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.speed = speed
        self.clock = clock
        self.sleep = sleep
        self._origin: tuple[float, float] | None = None

    async def wait(self, reception_time: float) -> None:
        if self.speed <= 0:
            return
        if self._origin is None:
            self._origin = (reception_time, self.clock())
            return
        recorded, wall = self._origin
        delay = wall + (reception_time - recorded) / self.speed - self.clock()
        if delay > 0:
            await self.sleep(delay)


async def _pages(iterator: Iterator[FrameRecord]) -> list[FrameRecord]:
    return await asyncio.to_thread(lambda: list(itertools.islice(iterator, PAGE)))


async def replay(
    archive: Archive,
    broker: BrokerUrl,
    *,
    speed: float = 1.0,
    start: float | None = None,
    end: float | None = None,
    station: str | None = None,
    spacecraft: str | None = None,
    progress: Progress | None = None,
    max_in_flight: int = DEFAULT_IN_FLIGHT,
    client_id: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> ReplayResult:
    """Publish the archived frames received in [start, end) (see the module docstring)."""
    if speed < 0:
        msg = f"speed must be positive (or 0 for as fast as possible), not {speed}"
        raise ValueError(msg)
    total = await asyncio.to_thread(archive.frame_count, start, end, spacecraft)
    if progress is not None:
        progress(0, total)
    pacer = _Pacer(speed, clock, sleep)
    protocol = await detect_protocol(broker)
    options = ClientOptions(identifier=client_id, protocol=protocol)
    published = skipped = 0
    first: float | None = None
    last: float | None = None
    started = time.monotonic()
    slots = asyncio.Semaphore(max(1, max_in_flight))
    async with make_client(broker, options) as client, asyncio.TaskGroup() as group:

        async def send(topic: str, payload: bytes) -> None:
            try:
                await client.publish(topic, payload, qos=1)
            finally:
                slots.release()

        frames = archive.frames(start, end, spacecraft)
        while page := await _pages(frames):
            for frame in page:
                if frame.quality != GOOD or not frame.spacecraft:
                    skipped += 1
                    continue
                await pacer.wait(frame.reception_time)
                topic = downlink(station or frame.station, frame.spacecraft)
                await slots.acquire()
                group.create_task(send(topic, frame.data))
                published += 1
                first = frame.reception_time if first is None else first
                last = frame.reception_time
                if progress is not None:
                    progress(published + skipped, total)
    return ReplayResult(published, skipped, time.monotonic() - started, first, last)

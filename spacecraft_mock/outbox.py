"""What the MQTT adapter still has to publish, kept across broker disconnections.

Frames queue in order and are removed only when their QoS 1 publish has completed (PUBACK); what
was in flight when a connection dropped goes back to the front of the queue, in order, and is sent
again after reconnecting (the ground deduplicates identical frames). Retained state (station
monitors, sim status) is keyed by topic: only the newest unsent value of each topic is kept. The
frame queue is bounded; when it is full the oldest frames are dropped and counted, so that a
broker that stays away for long never makes the simulator run out of memory or stop.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass(slots=True)
class OutMessage:
    id: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    keyed: bool
    attempts: int = 0


class Outbox:
    def __init__(self, max_frames: int = 100_000) -> None:
        self.max_frames = max_frames
        self._frames: deque[OutMessage] = deque()
        self._latest: dict[str, OutMessage] = {}
        self._inflight: dict[int, OutMessage] = {}
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._next_id = 0
        self.dropped = 0
        self.acked = 0
        self.requeued = 0

    def _new(self, topic: str, payload: bytes, qos: int, retain: bool, keyed: bool) -> OutMessage:
        self._next_id += 1
        return OutMessage(self._next_id, topic, payload, qos, retain, keyed)

    def put(self, topic: str, payload: bytes, qos: int = 1) -> None:
        """Queue a message that must arrive (a frame), in order."""
        self._frames.append(self._new(topic, payload, qos, False, False))
        while len(self._frames) > self.max_frames:
            self._frames.popleft()
            self.dropped += 1
        self._wake()

    def put_latest(self, topic: str, payload: bytes, qos: int = 1, retain: bool = True) -> None:
        """Queue the newest state of ``topic``, replacing an unsent older one."""
        self._latest[topic] = self._new(topic, payload, qos, retain, True)
        self._wake()

    def _wake(self) -> None:
        self._ready.set()
        self._idle.clear()

    def __len__(self) -> int:
        return len(self._frames) + len(self._latest)

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    @property
    def empty(self) -> bool:
        return not self._frames and not self._latest and not self._inflight

    async def get(self) -> OutMessage:
        """The next message to publish (state first, it is small and newest-wins)."""
        while not self._latest and not self._frames:
            self._ready.clear()
            await self._ready.wait()
        if self._latest:
            topic = next(iter(self._latest))
            message = self._latest.pop(topic)
        else:
            message = self._frames.popleft()
        message.attempts += 1
        self._inflight[message.id] = message
        return message

    def ack(self, message: OutMessage) -> None:
        if self._inflight.pop(message.id, None) is not None:
            self.acked += 1
        self._check_idle()

    def requeue(self, message: OutMessage) -> None:
        """Put back a message whose publish did not complete."""
        if self._inflight.pop(message.id, None) is None:
            return
        self.requeued += 1
        if message.keyed:
            self._latest.setdefault(message.topic, message)
        else:
            # Keep the original order: insert before every queued frame with a larger id.
            index = 0
            for index, queued in enumerate(self._frames):  # noqa: B007 - the index is the result
                if queued.id > message.id:
                    break
            else:
                index = len(self._frames)
            self._frames.insert(index, message)
        self._ready.set()

    def requeue_all(self) -> None:
        for message in sorted(self._inflight.values(), key=lambda m: m.id, reverse=True):
            self.requeue(message)

    def _check_idle(self) -> None:
        if self.empty:
            self._idle.set()

    async def drained(self) -> None:
        """Wait until everything queued has been acknowledged."""
        self._check_idle()
        await self._idle.wait()

"""One WebSocket client of the live stream: its subscription, its bounded queue and its sender.

The hub (the ingest side) only calls the synchronous ``enqueue_*`` methods, which append to a
``deque`` and set an event; they never wait. The client's own sender task drains the queue, merges
what accumulated into as few messages as possible and writes them to the socket. A client that
reads slowly blocks only its own sender; its queue fills up and the **oldest** data messages are
dropped (live telemetry is worth more fresh than complete; the archive has everything) and counted
in ``dropped`` (values, events, alarms... lost) and ``dropped_messages``. Control messages
(``subscribed``, ``error``, ``pong``, ``stats``) are dropped only when the queue holds nothing else.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ground.stream.encode import dumps

log = logging.getLogger("lupex.ground.stream")

_ids: Final = itertools.count(1)

STATS_MIN_INTERVAL_S: Final = 1.0
"""Shortest time between two unsolicited ``stats`` messages to one client."""

KINDS: Final = ("parameters", "alarms", "events", "links", "commands")


@dataclass(slots=True)
class ValueBlock:
    """The values of one parameter from one ingest batch, as a JSON fragment shared by clients."""

    name: str
    count: int
    fragment: str


@dataclass(slots=True)
class _Item:
    kind: str
    """``control`` or one of ``KINDS``."""
    count: int
    payload: Any
    """control: the message dict (None: a stats message, filled in when sent); parameters:
    list[ValueBlock]; others: list of row dicts."""


@dataclass(slots=True)
class SessionStats:
    sent_messages: int = 0
    sent_values: int = 0
    dropped: int = 0
    dropped_messages: int = 0


@dataclass(eq=False, slots=True)
class Subscription:
    parameters: set[str] = field(default_factory=set)
    alarms: bool = False
    events: bool = False
    links: bool = False
    commands: bool = False

    def wants(self, kind: str) -> bool:
        if kind in ("parameters", "stale"):
            return bool(self.parameters)
        return bool(getattr(self, kind))


class ClientSession:
    """A client's queue and sender. Create it with ``StreamHub.connect``."""

    def __init__(
        self,
        principal_name: str,
        *,
        queue_size: int,
        min_interval_s: float,
        max_values: int,
        max_queued_values: int | None = None,
        on_sent: Callable[[int], None] | None = None,
        on_dropped: Callable[[int], None] | None = None,
    ) -> None:
        self.id: Final = next(_ids)
        self.principal_name: Final = principal_name
        self.subscription: Final = Subscription()
        self.stats: Final = SessionStats()
        self.queue_size: Final = queue_size
        self.min_interval_s: Final = min_interval_s
        self.max_values: Final = max_values
        self.max_queued_values: Final = (
            max_queued_values if max_queued_values is not None else 20 * max_values
        )
        """Values (data rows) the queue may hold: the bound in memory, whatever the batch sizes
        (a batch at full ingest rate is hundreds of thousands of values)."""
        self._queue: deque[_Item] = deque()
        self._queued_values = 0
        self._wakeup = asyncio.Event()
        self._closed = False
        self._close_code = 1000
        self._close_reason = ""
        self._on_sent = on_sent
        self._on_dropped = on_dropped
        self._stats_reported = 0
        self._stats_time = 0.0
        self.sending = False
        """True while the sender waits for the socket to take a message (a slow client)."""

    def __repr__(self) -> str:
        return f"ClientSession(id={self.id}, queued={len(self._queue)})"

    # ------------------------------------------------------------------ ingest side (never waits)
    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def closed(self) -> bool:
        return self._closed

    def enqueue_control(self, message: dict[str, Any]) -> None:
        self._put(_Item("control", 0, message))

    def enqueue_stats(self) -> None:
        """Queue a ``stats`` message; its numbers are taken when it is sent."""
        self._put(_Item("control", 0, None))

    def enqueue_values(self, blocks: list[ValueBlock]) -> None:
        self._put(_Item("parameters", sum(b.count for b in blocks), blocks))

    def enqueue_rows(self, kind: str, rows: Sequence[dict[str, Any]]) -> None:
        self._put(_Item(kind, len(rows), rows))

    def _put(self, item: _Item) -> None:
        if self._closed:
            return
        queue = self._queue
        if len(queue) >= self.queue_size:
            self._drop_one()
        queue.append(item)
        if item.kind != "control":
            self._queued_values += item.count
            # The oldest data goes first; the item just queued stays, however large.
            while self._queued_values > self.max_queued_values and self._drop_one(keep=item):
                pass
        self._wakeup.set()

    def _drop_one(self, keep: _Item | None = None) -> bool:
        """Drop the oldest data item but ``keep`` (a control message only when the queue is full
        of them); False if there was nothing to drop."""
        queue = self._queue
        victim_index = next(
            (i for i, it in enumerate(queue) if it.kind != "control" and it is not keep), None
        )
        if victim_index is None:
            if len(queue) < self.queue_size:
                return False
            victim_index = 0
        victim = queue[victim_index]
        del queue[victim_index]
        if victim.kind != "control":
            self._queued_values -= victim.count
        self.stats.dropped += victim.count
        self.stats.dropped_messages += 1
        if self._on_dropped is not None:
            self._on_dropped(max(victim.count, 1))
        return True

    def close(self, code: int = 1001, reason: str = "server shutting down") -> None:
        """Ask the sender to close the connection after what it is writing now."""
        self._closed = True
        self._close_code, self._close_reason = code, reason
        self._queue.clear()
        self._queued_values = 0
        self._wakeup.set()

    # ------------------------------------------------------------------ sender side
    def stats_message(self) -> dict[str, Any]:
        s = self.stats
        self._stats_reported = s.dropped + s.dropped_messages
        self._stats_time = time.monotonic()
        return {
            "type": "stats",
            "dropped": s.dropped,
            "dropped_messages": s.dropped_messages,
            "sent_messages": s.sent_messages,
            "sent_values": s.sent_values,
            "queued": len(self._queue),
            "queue_size": self.queue_size,
        }

    def take_messages(self) -> list[tuple[str, int]]:
        """Empty the queue into JSON texts to send, each with its number of updates."""
        items = list(self._queue)
        self._queue.clear()
        self._queued_values = 0
        return list(self._messages(items))

    def _messages(self, items: list[_Item]) -> Iterator[tuple[str, int]]:
        """Merge drained items into JSON texts, keeping control messages in their place.

        Between two control messages, every data item of one kind becomes one message (or several
        of at most ``max_values`` values): many values per message under load.
        """
        segment: dict[str, list[_Item]] = {}
        for item in items:
            if item.kind == "control":
                yield from self._segment_messages(segment)
                segment = {}
                payload = self.stats_message() if item.payload is None else item.payload
                yield dumps(payload), 0
            else:
                segment.setdefault(item.kind, []).append(item)
        yield from self._segment_messages(segment)

    def _segment_messages(self, segment: dict[str, list[_Item]]) -> Iterator[tuple[str, int]]:
        sub = self.subscription
        for kind, items in segment.items():
            if not sub.wants(kind):
                continue  # unsubscribed since these were queued
            if kind == "parameters":
                fragments: list[str] = []
                values = 0
                for item in items:
                    for block in item.payload:
                        if block.name not in sub.parameters or not block.count:
                            continue
                        if fragments and values + block.count > self.max_values:
                            yield _values_message(fragments), values
                            fragments, values = [], 0
                        fragments.append(block.fragment)
                        values += block.count
                if fragments:
                    yield _values_message(fragments), values
            else:
                rows = [row for item in items for row in item.payload]
                if kind == "stale":
                    rows = [row for row in rows if row["name"] in sub.parameters]
                for start in range(0, len(rows), self.max_values):
                    chunk = rows[start : start + self.max_values]
                    yield dumps({"type": kind, kind: chunk}), len(chunk)

    async def run_sender(self, send_text: Callable[[str], Awaitable[None]]) -> tuple[int, str]:
        """Drain the queue into ``send_text`` until closed; return the close code and reason."""
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if self._closed:
                return self._close_code, self._close_reason
            messages = self.take_messages()
            for text, values in messages:
                self.sending = True
                try:
                    await send_text(text)
                finally:
                    self.sending = False
                self.stats.sent_messages += 1
                self.stats.sent_values += values
                if self._on_sent is not None:
                    self._on_sent(1)
                if self._closed:
                    return self._close_code, self._close_reason
            s = self.stats
            if (
                s.dropped + s.dropped_messages != self._stats_reported
                and time.monotonic() - self._stats_time >= STATS_MIN_INTERVAL_S
            ):
                await send_text(dumps(self.stats_message()))
                self.stats.sent_messages += 1
            if self.min_interval_s > 0 and messages:
                # Let updates accumulate for a moment: under load, fewer and larger messages.
                await asyncio.sleep(self.min_interval_s)


def _values_message(fragments: list[str]) -> str:
    return '{"type":"parameters","values":[' + ",".join(fragments) + "]}"

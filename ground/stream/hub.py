"""The live hub: fans ingest's output out to the WebSocket clients (implements ``LiveSink``).

Every ``on_*`` method runs on the ingest path and returns at once: it looks up which sessions want
the update (an index from parameter name to sessions), encodes it once, and appends it to each
session's bounded queue. It never awaits and never touches a socket; a slow client only loses its
own data (see ``ground.stream.session``). Calls from another thread are handed to the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

from ground.metrics import GroundMetrics
from ground.model import AlarmView, EventView, LinkView, ParameterValue, SampleArrays
from ground.stream.encode import (
    ParameterEncoder,
    alarm_row,
    command_row,
    dumps,
    event_row,
    link_row,
    stale_row,
    value_row,
)
from ground.stream.protocol import ProtocolProblem, SubscribeOp, UnsubscribeOp, resolve
from ground.stream.session import ClientSession, ValueBlock

log = logging.getLogger("lupex.ground.stream")

GAUGE_INTERVAL_S: Final = 1.0


class StreamHub:
    """Sessions, their subscriptions, and the ``LiveSink`` methods that feed them."""

    def __init__(
        self,
        *,
        parameters: Iterable[str],
        encoder: ParameterEncoder,
        latest: Callable[[str], ParameterValue | None],
        metrics: GroundMetrics | None = None,
        queue_size: int = 256,
        min_interval_s: float = 0.005,
        max_values: int = 5000,
        max_queued_values: int = 100_000,
    ) -> None:
        self.parameter_names: Final = tuple(sorted(parameters))
        self.encoder: Final = encoder
        self._latest = latest
        self._metrics = metrics
        self.queue_size: Final = queue_size
        self.min_interval_s: Final = min_interval_s
        self.max_values: Final = max_values
        self.max_queued_values: Final = max_queued_values
        self.sessions: dict[int, ClientSession] = {}
        self._by_parameter: dict[str, set[ClientSession]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._closed = False
        with contextlib.suppress(RuntimeError):  # built outside a loop: bound on first use
            self._bind(asyncio.get_running_loop())

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def _elsewhere(self) -> bool:
        """True when called off the event loop's thread (the call is then rescheduled)."""
        return self._loop_thread is not None and threading.get_ident() != self._loop_thread

    # ------------------------------------------------------------------ sessions
    def connect(self, principal_name: str) -> ClientSession:
        if self._loop is None:
            self._bind(asyncio.get_running_loop())
        metrics = self._metrics
        session = ClientSession(
            principal_name,
            queue_size=self.queue_size,
            min_interval_s=self.min_interval_s,
            max_values=self.max_values,
            max_queued_values=self.max_queued_values,
            on_sent=metrics.ws_sent.inc if metrics else None,
            on_dropped=metrics.ws_dropped.inc if metrics else None,
        )
        if self._closed:
            session.close()
        self.sessions[session.id] = session
        if metrics:
            metrics.ws_clients.set(len(self.sessions))
        log.info("stream client %d connected (%s)", session.id, principal_name)
        return session

    def disconnect(self, session: ClientSession) -> None:
        self.sessions.pop(session.id, None)
        for name in session.subscription.parameters:
            subscribers = self._by_parameter.get(name)
            if subscribers is not None:
                subscribers.discard(session)
                if not subscribers:
                    del self._by_parameter[name]
        session.subscription.parameters.clear()
        session.close(1000, "")
        if self._metrics:
            self._metrics.ws_clients.set(len(self.sessions))
        s = session.stats
        log.info(
            "stream client %d disconnected: %d messages sent, %d updates dropped",
            session.id,
            s.sent_messages,
            s.dropped,
        )

    def close_all(self) -> None:
        """Ask every session to close (1001, going away); called at shutdown."""
        self._closed = True
        for session in list(self.sessions.values()):
            session.close()

    def subscribe(self, session: ClientSession, op: SubscribeOp) -> list[ProtocolProblem]:
        """Add to a session's subscription; queue the ack and the latest values of new names."""
        resolution = resolve(op.parameters, self.parameter_names)
        problems = [
            ProtocolProblem(
                f"parameters[{index}]",
                "matches no parameter of the mission database"
                if any(c in entry for c in "*?[")
                else "unknown parameter",
                entry,
            )
            for index, entry in resolution.unmatched
        ]
        sub = session.subscription
        new_names = sorted(resolution.names - sub.parameters)
        for name in new_names:
            sub.parameters.add(name)
            self._by_parameter.setdefault(name, set()).add(session)
        for kind in ("alarms", "events", "links", "commands"):
            if getattr(op, kind):
                setattr(sub, kind, True)
        for problem in problems:
            session.enqueue_control(problem.to_message())
        session.enqueue_control(self._ack(session))
        snapshot = [v for v in (self._latest(n) for n in new_names) if v is not None]
        if snapshot:
            rows = [value_row(v) for v in snapshot]
            session.enqueue_values([ValueBlock(row["name"], 1, dumps(row)) for row in rows])
        return problems

    def unsubscribe(self, session: ClientSession, op: UnsubscribeOp) -> list[ProtocolProblem]:
        resolution = resolve(op.parameters, self.parameter_names)
        problems = [
            ProtocolProblem(f"parameters[{index}]", "matches no parameter", entry)
            for index, entry in resolution.unmatched
        ]
        sub = session.subscription
        for name in resolution.names & sub.parameters:
            sub.parameters.discard(name)
            subscribers = self._by_parameter.get(name)
            if subscribers is not None:
                subscribers.discard(session)
                if not subscribers:
                    del self._by_parameter[name]
        for kind in ("alarms", "events", "links", "commands"):
            if getattr(op, kind):
                setattr(sub, kind, False)
        for problem in problems:
            session.enqueue_control(problem.to_message())
        session.enqueue_control(self._ack(session))
        return problems

    @staticmethod
    def _ack(session: ClientSession) -> dict[str, Any]:
        sub = session.subscription
        return {
            "type": "subscribed",
            "parameters": sorted(sub.parameters),
            "alarms": sub.alarms,
            "events": sub.events,
            "links": sub.links,
            "commands": sub.commands,
        }

    # ------------------------------------------------------------------ LiveSink
    def on_samples(self, blocks: Sequence[SampleArrays]) -> None:
        if self._elsewhere():
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self.on_samples, blocks)
            return
        index = self._by_parameter
        if not index:
            return
        per_session: dict[ClientSession, list[ValueBlock]] = {}
        encode = self.encoder.block_fragment
        for block in blocks:
            subscribers = index.get(block.name)
            if not subscribers:
                continue
            shared = ValueBlock(block.name, len(block.generation_times), encode(block))
            for session in subscribers:
                bucket = per_session.get(session)
                if bucket is None:
                    per_session[session] = [shared]
                else:
                    bucket.append(shared)
        for session, value_blocks in per_session.items():
            session.enqueue_values(value_blocks)

    def _fan_out(self, kind: str, rows_of: Callable[[], list[dict[str, Any]]]) -> None:
        rows: list[dict[str, Any]] | None = None
        for session in self.sessions.values():
            if getattr(session.subscription, kind):
                if rows is None:
                    rows = rows_of()
                    if not rows:
                        return
                session.enqueue_rows(kind, rows)

    def on_events(self, events: Sequence[EventView]) -> None:
        if self._elsewhere():
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self.on_events, events)
            return
        self._fan_out("events", lambda: [event_row(e) for e in events])

    def on_alarms(self, alarms: Sequence[AlarmView]) -> None:
        if self._elsewhere():
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self.on_alarms, alarms)
            return
        self._fan_out("alarms", lambda: [alarm_row(a) for a in alarms])

    def on_links(self, links: Sequence[LinkView]) -> None:
        if self._elsewhere():
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self.on_links, links)
            return
        self._fan_out("links", lambda: [link_row(lk) for lk in links])

    def on_commands(self, commands: Sequence[Mapping[str, object]]) -> None:
        if self._elsewhere():
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self.on_commands, commands)
            return
        self._fan_out("commands", lambda: [command_row(c) for c in commands])

    def on_stale(self, values: Sequence[ParameterValue]) -> None:
        """Tell each client subscribed to a parameter that it just went stale (the next value
        that arrives, sent as usual, carries ``stale: false`` again)."""
        if self._elsewhere():
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self.on_stale, values)
            return
        index = self._by_parameter
        per_session: dict[ClientSession, list[dict[str, Any]]] = {}
        for value in values:
            for session in index.get(value.name, ()):
                per_session.setdefault(session, []).append(stale_row(value))
        for session, rows in per_session.items():
            session.enqueue_rows("stale", rows)

    # ------------------------------------------------------------------ background
    def queued_total(self) -> int:
        return sum(s.queued for s in self.sessions.values())

    async def run(self) -> None:
        """Background service: keep the stream's queue-depth gauge current."""
        if self._loop is None:
            self._bind(asyncio.get_running_loop())
        if self._metrics is None:
            return
        gauge = self._metrics.queue_depth.labels("stream")
        while True:
            gauge.set(self.queued_total())
            await asyncio.sleep(GAUGE_INTERVAL_S)

"""The live feed: ONE WebSocket connection to the ground per Streamlit server process.

``app.py`` creates a :class:`LiveFeed` inside ``st.cache_resource``, so every browser session of
the process shares it and no rerun ever starts a second connection or thread. A daemon thread
runs websockets' synchronous client: it subscribes, folds each batched message into bounded
structures, and reconnects with exponential backoff (with jitter) when the link drops.

Everything it keeps is bounded, so a day-long run does not grow:

- one :class:`RingBuffer` per numeric parameter, fixed-size numpy arrays allocated once, at most
  ``max_parameters`` of them (the mission database has a few hundred);
- the latest value of each parameter (one dict per name, replaced in place);
- the last ``events_capacity`` events, ``commands_capacity`` commands and ``alarms_capacity``
  alarms (ordered dicts trimmed from the oldest), and one entry per ground station.

Pages read copies through the snapshot methods, under the feed's lock; they never hold
references into the live structures. :meth:`LiveFeed.handle` is pure state-folding, so the unit
tests drive it without a network.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from dashboard.client import Json

log = logging.getLogger("lupex.dashboard.live")

FloatArray = npt.NDArray[np.float64]

CLOSE_UNAUTHENTICATED: Final = 4401
CLOSE_FORBIDDEN: Final = 4403
RECV_POLL_S: Final = 1.0
"""How often the receive loop looks at the stop flag while no message arrives."""
MIN_BACKOFF_S: Final = 0.5
STATS_PERIOD_S: Final = 10.0
"""How often the feed asks the ground for its drop counters (a ping answered by stats)."""
PING: Final = json.dumps({"op": "ping"})
MAX_MESSAGE_BYTES: Final = 32 * 1024 * 1024


def numeric(value: Any) -> float | None:
    """A value as a float for plotting (booleans as 0/1), or None for labels and gaps."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


class RingBuffer:
    """The last ``capacity`` (time, value) pairs of one parameter, in preallocated arrays."""

    __slots__ = ("_count", "_next", "_t", "_v")

    def __init__(self, capacity: int) -> None:
        self._t: FloatArray = np.zeros(capacity, dtype=np.float64)
        self._v: FloatArray = np.zeros(capacity, dtype=np.float64)
        self._next = 0
        self._count = 0

    @property
    def capacity(self) -> int:
        return int(self._t.shape[0])

    def __len__(self) -> int:
        return self._count

    def append(self, t: float, v: float) -> None:
        self._t[self._next] = t
        self._v[self._next] = v
        self._next = (self._next + 1) % self.capacity
        self._count = min(self._count + 1, self.capacity)

    def arrays(self) -> tuple[FloatArray, FloatArray]:
        """Copies of the times and values, sorted by time (oldest first)."""
        if self._count < self.capacity:
            t, v = self._t[: self._count].copy(), self._v[: self._count].copy()
        else:
            t = np.concatenate((self._t[self._next :], self._t[: self._next]))
            v = np.concatenate((self._v[self._next :], self._v[: self._next]))
        order = np.argsort(t, kind="stable")
        return t[order], v[order]


@dataclass(frozen=True, slots=True)
class Series:
    """A copy of one parameter's ring buffer."""

    name: str
    times: FloatArray
    values: FloatArray


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """The state of the dashboard's own connection to the ground."""

    url: str
    running: bool
    connected: bool
    last_message_age_s: float | None
    messages: int
    values: int
    connects: int
    server_dropped: int
    subscribed: int
    error: str | None
    buffers: int


@dataclass(slots=True)
class _Counters:
    messages: int = 0
    values: int = 0
    connects: int = 0
    server_dropped: int = 0
    subscribed: int = 0
    last_message: float | None = None  # time.monotonic()
    connected: bool = False
    error: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def _trimmed_put(store: OrderedDict[str, Json], key: str, value: Json, capacity: int) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > capacity:
        store.popitem(last=False)


class LiveFeed:
    """Bounded live state of the ground, fed by one WebSocket connection (see module doc)."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        patterns: Sequence[str] = ("*",),
        capacity: int = 1200,
        max_parameters: int = 2000,
        events_capacity: int = 300,
        commands_capacity: int = 200,
        alarms_capacity: int = 500,
        reconnect_max_s: float = 30.0,
    ) -> None:
        self.url: Final = url
        self._token = token
        self.patterns: Final = tuple(patterns)
        self.capacity: Final = capacity
        self.max_parameters: Final = max_parameters
        self._reconnect_max_s = reconnect_max_s
        self._lock = threading.Lock()
        self._buffers: dict[str, RingBuffer] = {}
        self._latest: dict[str, Json] = {}
        self._events: deque[Json] = deque(maxlen=events_capacity)
        self._commands: OrderedDict[str, Json] = OrderedDict()
        self._commands_capacity = commands_capacity
        self._alarms: OrderedDict[str, Json] = OrderedDict()
        self._alarms_capacity = alarms_capacity
        self._links: dict[str, Json] = {}
        self._counters = _Counters()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ws: Any = None

    def __repr__(self) -> str:
        return f"LiveFeed({self.url!r}, token={'set' if self._token else 'none'})"

    # ------------------------------------------------------------------------- state folding
    def handle(self, message: Json) -> None:
        """Fold one server message into the bounded state."""
        kind = message.get("type")
        with self._lock:
            self._counters.messages += 1
            self._counters.last_message = time.monotonic()
            if kind == "parameters":
                self._on_values(message.get("values") or [])
            elif kind == "alarms":
                for alarm in message.get("alarms") or []:
                    if isinstance(alarm, dict) and "id" in alarm:
                        _trimmed_put(self._alarms, str(alarm["id"]), alarm, self._alarms_capacity)
            elif kind == "events":
                self._events.extend(e for e in message.get("events") or [] if isinstance(e, dict))
            elif kind == "commands":
                for command in message.get("commands") or []:
                    if isinstance(command, dict) and "id" in command:
                        key = str(command["id"])
                        _trimmed_put(self._commands, key, command, self._commands_capacity)
            elif kind == "links":
                for link in message.get("links") or []:
                    if isinstance(link, dict) and "station" in link:
                        station = str(link["station"])
                        if station in self._links or len(self._links) < 64:
                            self._links[station] = link
            elif kind == "stats":
                dropped = message.get("dropped")
                if isinstance(dropped, int):
                    self._counters.server_dropped = dropped
                self._counters.stats = {k: v for k, v in message.items() if k != "type"}
            elif kind == "subscribed":
                names = message.get("parameters")
                self._counters.subscribed = len(names) if isinstance(names, list) else 0
            elif kind == "error":
                self._counters.error = f"{message.get('field')}: {message.get('message')}"

    def _on_values(self, values: Iterable[Any]) -> None:
        for value in values:
            if not isinstance(value, dict):
                continue
            name = value.get("name")
            if not isinstance(name, str):
                continue
            if name not in self._latest and len(self._latest) >= self.max_parameters:
                continue
            self._counters.values += 1
            self._latest[name] = value
            number = numeric(value.get("eng_value"))
            t = numeric(value.get("generation_time"))
            if number is None or t is None:
                continue
            buffer = self._buffers.get(name)
            if buffer is None:
                buffer = self._buffers[name] = RingBuffer(self.capacity)
            buffer.append(t, number)

    # ----------------------------------------------------------------------------- snapshots
    def series(self, names: Iterable[str]) -> dict[str, Series]:
        out: dict[str, Series] = {}
        with self._lock:
            for name in names:
                buffer = self._buffers.get(name)
                if buffer is not None and len(buffer):
                    t, v = buffer.arrays()
                    out[name] = Series(name, t, v)
        return out

    def latest(self, names: Iterable[str] | None = None) -> dict[str, Json]:
        with self._lock:
            if names is None:
                return {k: dict(v) for k, v in self._latest.items()}
            return {n: dict(self._latest[n]) for n in names if n in self._latest}

    def events(self, limit: int | None = None) -> list[Json]:
        """Newest first."""
        with self._lock:
            newest = list(reversed(self._events))
        return newest[:limit] if limit is not None else newest

    def alarms(self) -> list[Json]:
        with self._lock:
            return list(reversed(self._alarms.values()))

    def commands(self) -> list[Json]:
        """Newest update first."""
        with self._lock:
            return list(reversed(self._commands.values()))

    def links(self) -> list[Json]:
        with self._lock:
            return [self._links[k] for k in sorted(self._links)]

    def status(self) -> FeedStatus:
        with self._lock:
            c = self._counters
            age = None if c.last_message is None else time.monotonic() - c.last_message
            thread = self._thread
            return FeedStatus(
                url=self.url,
                running=thread is not None and thread.is_alive(),
                connected=c.connected,
                last_message_age_s=age,
                messages=c.messages,
                values=c.values,
                connects=c.connects,
                server_dropped=c.server_dropped,
                subscribed=c.subscribed,
                error=c.error,
                buffers=len(self._buffers),
            )

    # -------------------------------------------------------------------------- connection
    def subscribe_message(self) -> str:
        return json.dumps(
            {
                "op": "subscribe",
                "parameters": list(self.patterns),
                "alarms": True,
                "events": True,
                "links": True,
                "commands": True,
            }
        )

    def start(self) -> LiveFeed:
        """Start the background thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="lupex-live-feed", daemon=True
                )
                self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        ws = self._ws
        if ws is not None:
            try:
                ws.close()
            except Exception:  # closing a dead socket may fail in any way
                log.debug("closing the stream failed", exc_info=True)
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _set(self, *, connected: bool, error: str | None = None) -> None:
        with self._lock:
            self._counters.connected = connected
            if connected:
                self._counters.connects += 1
                self._counters.error = None
            elif error is not None:
                self._counters.error = error

    def _run(self) -> None:
        backoff = MIN_BACKOFF_S
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self._session()
            except Exception as exc:  # the loop must outlive any failure
                self._set(connected=False, error=_describe(exc))
                log.info("live stream disconnected: %s", _describe(exc))
            else:
                self._set(connected=False)
            if self._stop.is_set():
                break
            if time.monotonic() - started > 30.0:
                backoff = MIN_BACKOFF_S  # the connection had been up: start over
            delay = backoff * random.uniform(0.8, 1.2)
            backoff = min(backoff * 2.0, self._reconnect_max_s)
            self._stop.wait(delay)

    def _session(self) -> None:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else None
        with connect(
            self.url,
            additional_headers=headers,
            open_timeout=5.0,
            close_timeout=2.0,
            max_size=MAX_MESSAGE_BYTES,
            ping_interval=20.0,
            ping_timeout=20.0,
        ) as ws:
            self._ws = ws
            try:
                ws.send(self.subscribe_message())
                self._set(connected=True)
                pinged = time.monotonic()
                while not self._stop.is_set():
                    if time.monotonic() - pinged > STATS_PERIOD_S:
                        ws.send(PING)  # the ground answers with pong and its drop counters
                        pinged = time.monotonic()
                    try:
                        raw = ws.recv(timeout=RECV_POLL_S)
                    except TimeoutError:
                        continue
                    try:
                        message = json.loads(raw)
                    except (ValueError, TypeError):
                        continue
                    if isinstance(message, dict):
                        self.handle(message)
            finally:
                self._ws = None


def _describe(exc: BaseException) -> str:
    """A short reason for the status line (never containing the token)."""
    if isinstance(exc, InvalidStatus):
        code = exc.response.status_code
        if code == 401:
            return "the ground refused the token (401)"
        if code == 403:
            return "this token's role may not stream (403)"
        return f"the ground answered HTTP {code}"
    if isinstance(exc, ConnectionClosed):
        received = exc.rcvd
        if received is not None and received.code == CLOSE_UNAUTHENTICATED:
            return "the ground refused the token (4401)"
        if received is not None and received.code == CLOSE_FORBIDDEN:
            return "this token's role may not stream (4403)"
        return "connection closed" + (f" ({received.code})" if received is not None else "")
    if isinstance(exc, OSError | TimeoutError):
        return f"cannot reach the ground ({type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}"[:200]

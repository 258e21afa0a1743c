"""The JSON protocol of the live stream, ``/api/v1/stream``.

Client → server, one JSON object per text message, ``op`` names the operation::

    {"op": "subscribe", "parameters": ["rover.power.*", "rover.thermal.battery_temperature"],
     "alarms": true, "events": true, "links": true, "commands": true}
    {"op": "unsubscribe", "parameters": ["rover.power.*"], "events": true}
    {"op": "ping"}

``subscribe`` adds to what the client receives; ``unsubscribe`` removes (a flag set to true there
stops that kind). Parameter names may be fnmatch patterns (``*``, ``?``, ``[...]``), resolved
against the mission database when the message arrives.

Server → client, ``type`` names the message::

    {"type": "subscribed", "parameters": [...every parameter now subscribed...],
     "alarms": true, "events": false, "links": false, "commands": false}
    {"type": "parameters", "values": [{"name", "generation_time", "reception_time", "eng_value",
                                      "raw_value", "monitoring_result"}, ...]}
    {"type": "alarms", "alarms": [...]}   {"type": "events", "events": [...]}
    {"type": "links", "links": [...]}     {"type": "commands", "commands": [...]}
    {"type": "stale", "stale": [{"name", "stale": true, "generation_time", "reception_time"}]}
    {"type": "stats", "dropped": 12, "dropped_messages": 1, "sent": 345, "queue": 0, ...}
    {"type": "pong", "time": 1767225600.0}
    {"type": "error", "field": "op", "message": "...", "value": "..."}

Times are float Unix seconds (UTC). A bad message gets an ``error`` naming the field and the
reason, and the connection stays open. The user's guide to all of it is docs/stream.md.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

MAX_NAMES: Final = 2000
"""Most names or patterns in one subscribe message."""

_PATTERN_CHARS: Final = re.compile(r"[*?\[]")


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubscribeOp(_Op):
    op: Literal["subscribe"]
    parameters: Annotated[list[str], Field(max_length=MAX_NAMES)] = []
    alarms: bool = False
    events: bool = False
    links: bool = False
    commands: bool = False


class UnsubscribeOp(_Op):
    op: Literal["unsubscribe"]
    parameters: Annotated[list[str], Field(max_length=MAX_NAMES)] = []
    alarms: bool = False
    events: bool = False
    links: bool = False
    commands: bool = False


class PingOp(_Op):
    op: Literal["ping"]


ClientOp = Annotated[SubscribeOp | UnsubscribeOp | PingOp, Field(discriminator="op")]
_CLIENT_OP: Final[TypeAdapter[SubscribeOp | UnsubscribeOp | PingOp]] = TypeAdapter(ClientOp)
OPS: Final = ("subscribe", "unsubscribe", "ping")


@dataclass(frozen=True, slots=True)
class ProtocolProblem:
    """Why a client message was refused: the field (dotted path) and the reason."""

    field: str
    message: str
    value: str | None = None

    def to_message(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "error", "field": self.field, "message": self.message}
        if self.value is not None:
            out["value"] = self.value
        return out


def _loc(loc: Sequence[int | str]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts)


ClientMessage = SubscribeOp | UnsubscribeOp | PingOp


def parse_client_message(text: str | bytes) -> ClientMessage | ProtocolProblem:
    """Parse one client message, or say what is wrong with it (field and reason)."""
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return ProtocolProblem("message", f"not valid JSON: {exc}")
    if not isinstance(raw, dict):
        return ProtocolProblem("message", f"expected a JSON object, got {type(raw).__name__}")
    op = raw.get("op")
    if op is None:
        return ProtocolProblem("op", f"missing; expected one of {', '.join(OPS)}")
    if op not in OPS:
        expected = f"unknown operation; expected one of {', '.join(OPS)}"
        return ProtocolProblem("op", expected, str(op))
    try:
        return _CLIENT_OP.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [p for p in first["loc"] if p != op]  # drop the union tag pydantic puts in front
        return ProtocolProblem(_loc(loc) or "message", first["msg"])


def is_pattern(name: str) -> bool:
    return _PATTERN_CHARS.search(name) is not None


@dataclass(frozen=True, slots=True)
class Resolution:
    """Names matched by a list of names and patterns, and the entries that matched nothing."""

    names: frozenset[str]
    unmatched: tuple[tuple[int, str], ...]


def resolve(requested: Sequence[str], known: Iterable[str]) -> Resolution:
    """Resolve exact names and fnmatch patterns against ``known`` (case-sensitive)."""
    known_list = list(known)
    known_set = frozenset(known_list)
    names: set[str] = set()
    unmatched: list[tuple[int, str]] = []
    for index, entry in enumerate(requested):
        if is_pattern(entry):
            regex = re.compile(fnmatch.translate(entry))
            matched = [n for n in known_list if regex.match(n)]
            if not matched:
                unmatched.append((index, entry))
            names.update(matched)
        elif entry in known_set:
            names.add(entry)
        else:
            unmatched.append((index, entry))
    return Resolution(frozenset(names), tuple(unmatched))

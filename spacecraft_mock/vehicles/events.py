"""What the physics tells the on-board software: events to report, by MDB event name."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One event raised by a subsystem: the MDB event name and its arguments."""

    name: str
    args: dict[str, object] = field(default_factory=dict)


class EventSink:
    """Collects occurrences during a step; the OBSW drains and reports them."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: list[Occurrence] = []

    def raise_event(self, name: str, **args: object) -> None:
        self._items.append(Occurrence(name, dict(args)))

    def drain(self) -> list[Occurrence]:
        items, self._items = self._items, []
        return items

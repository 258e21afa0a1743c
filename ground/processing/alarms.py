"""The alarm lifecycle: raised → (acknowledged) → cleared once back in limits.

One alarm at most is open per parameter. Its state machine, driven by the level codes of the
limit checks (``0`` ok, ``1`` yellow, ``2`` red) and by operators' acknowledgements:

- no open alarm, a value out of limits → a new alarm, ``RAISED``, at that value's level;
- while open, ``level`` is the most severe level seen since the last acknowledgement (it never
  drops by itself), ``current_level`` follows the values and ``in_limits`` says whether the last
  value is back in limits;
- acknowledging a ``RAISED`` alarm records who and when: it becomes ``ACKNOWLEDGED``, or
  ``CLEARED`` at once if its value is already back in limits;
- an ``ACKNOWLEDGED`` alarm whose value returns in limits is ``CLEARED`` (and closed);
- an ``ACKNOWLEDGED`` alarm that becomes more severe than what was acknowledged is ``RAISED``
  again (someone must acknowledge the new level);
- a ``RAISED`` alarm back in limits stays ``RAISED`` (``in_limits`` true) until acknowledged.

:meth:`AlarmManager.update` walks only the points where a parameter's level changes (numpy), so an
ingest batch costs one vectorised pass per parameter, not one Python step per sample.
Every change is queued (:meth:`AlarmManager.drain_changes`) for the archive and the live sink.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Final

import numpy as np
from numpy.typing import NDArray

from ground.model import AlarmState, AlarmView
from ground.processing.limits import IN_LIMITS, level_name

EngScalar = float | int | str | bool
ValueAt = Callable[[int], EngScalar]
"""The engineering value of sample ``i`` of the block being checked."""

CLOSED_KEPT: Final = 1000
"""Closed (cleared) alarms kept in memory for ``get`` and listings."""

_LEVEL_CODE: Final = {"ok": 0, "yellow": 1, "red": 2}


class _Open:
    """An open alarm, mutable while samples stream in; ``view()`` freezes it."""

    __slots__ = (
        "_view",
        "acked_level",
        "acknowledged_at",
        "acknowledged_by",
        "current",
        "id",
        "in_limits",
        "last_time",
        "last_value",
        "level",
        "message",
        "most_severe_time",
        "most_severe_value",
        "parameter",
        "spacecraft",
        "state",
        "trigger_time",
        "trigger_value",
    )

    def __init__(self, view: AlarmView) -> None:
        self.id = view.id
        self.parameter = view.parameter
        self.spacecraft = view.spacecraft
        self.level = _LEVEL_CODE.get(view.level, 1)
        self.current = _LEVEL_CODE.get(view.current_level, self.level)
        self.state = view.state
        self.trigger_time = view.trigger_time
        self.trigger_value = view.trigger_value
        self.most_severe_time = view.most_severe_time
        self.most_severe_value = view.most_severe_value
        self.last_value = view.last_value
        self.last_time = view.last_time
        self.acknowledged_by = view.acknowledged_by
        self.acknowledged_at = view.acknowledged_at
        self.in_limits = view.in_limits
        self.message = view.message
        self.acked_level = self.level if view.state is AlarmState.ACKNOWLEDGED else 0
        self._view: AlarmView | None = view

    def touch(self) -> None:
        self._view = None

    def view(self, cleared_at: float | None = None) -> AlarmView:
        if self._view is None or cleared_at is not None:
            self._view = AlarmView(
                id=self.id,
                parameter=self.parameter,
                spacecraft=self.spacecraft,
                level=level_name(self.level),
                current_level=level_name(self.current),
                state=self.state,
                trigger_time=self.trigger_time,
                trigger_value=self.trigger_value,
                most_severe_time=self.most_severe_time,
                most_severe_value=self.most_severe_value,
                last_value=self.last_value,
                last_time=self.last_time,
                acknowledged_by=self.acknowledged_by,
                acknowledged_at=self.acknowledged_at,
                cleared_at=cleared_at,
                in_limits=self.in_limits,
                message=self.message,
            )
        return self._view


def alarm_id(parameter: str, trigger_time: float) -> str:
    """A stable id: the parameter and its trigger time in milliseconds.

    Stable across restarts, so an alarm re-raised from the same archived data keeps its id.
    """
    return f"{parameter}@{round(trigger_time * 1000)}"


class AlarmManager:
    """Open alarms per parameter and the lifecycle above. Safe to call from several threads."""

    def __init__(self, closed_kept: int = CLOSED_KEPT) -> None:
        self._open: dict[str, _Open] = {}
        self._by_id: dict[str, str] = {}
        self._closed: OrderedDict[str, AlarmView] = OrderedDict()
        self._closed_kept = closed_kept
        self._changes: list[AlarmView] = []
        self._lock = threading.Lock()
        self.raised_total = 0
        self.raised_by_level: dict[str, int] = {}
        """Alarms raised since start, by their trigger level (for metrics)."""

    # ------------------------------------------------------------------ queries
    def all(self, state: AlarmState | None = None) -> list[AlarmView]:
        """Open alarms (and recently cleared ones), newest trigger first; filter by ``state``."""
        with self._lock:
            views = [o.view() for o in self._open.values()]
            views += list(self._closed.values())
        if state is not None:
            views = [v for v in views if v.state is state]
        return sorted(views, key=lambda v: v.trigger_time, reverse=True)

    def get(self, alarm_id: str) -> AlarmView:
        """The alarm with this id; ``KeyError`` when it is unknown."""
        with self._lock:
            parameter = self._by_id.get(alarm_id)
            if parameter is not None:
                return self._open[parameter].view()
            return self._closed[alarm_id]

    def open_for(self, parameter: str) -> AlarmView | None:
        """The open alarm of a parameter, if any."""
        with self._lock:
            entry = self._open.get(parameter)
            return None if entry is None else entry.view()

    def is_open(self, parameter: str) -> bool:
        return parameter in self._open

    @property
    def open_parameters(self) -> frozenset[str]:
        return frozenset(self._open)

    def drain_changes(self) -> list[AlarmView]:
        """Every alarm change since the last call, in order (for the archive and the sink)."""
        with self._lock:
            changes, self._changes = self._changes, []
        return changes

    @property
    def pending_changes(self) -> int:
        return len(self._changes)

    # ------------------------------------------------------------------ operator actions
    def acknowledge(self, alarm_id: str, user: str, now: float) -> AlarmView:
        """Acknowledge an alarm; ``KeyError`` when unknown. Idempotent on a handled alarm."""
        with self._lock:
            parameter = self._by_id.get(alarm_id)
            if parameter is None:
                return self._closed[alarm_id]
            entry = self._open[parameter]
            if entry.state is not AlarmState.RAISED:
                return entry.view()
            entry.acknowledged_by = user
            entry.acknowledged_at = now
            if entry.in_limits:
                entry.state = AlarmState.CLEARED
                view = entry.view(cleared_at=now)
                self._close(parameter, view)
            else:
                entry.state = AlarmState.ACKNOWLEDGED
                entry.acked_level = entry.level
                entry.touch()
                view = entry.view()
            self._changes.append(view)
            return view

    # ------------------------------------------------------------------ restore
    def restore(self, views: Iterable[AlarmView]) -> None:
        """Reopen alarms read back from the archive (those not cleared), e.g. after a restart."""
        with self._lock:
            for view in views:
                if view.state is AlarmState.CLEARED:
                    self._remember_closed(view)
                    continue
                self._open[view.parameter] = _Open(view)
                self._by_id[view.id] = view.parameter

    # ------------------------------------------------------------------ data
    def update(
        self,
        parameter: str,
        spacecraft: str,
        times: NDArray[np.float64],
        codes: NDArray[np.int8],
        value_at: ValueAt,
        message: str = "",
    ) -> None:
        """Apply one block of checked samples of ``parameter`` (in generation-time order).

        Call it only for blocks with an out-of-limits code or an open alarm (the caller tests
        ``codes.any() or is_open(parameter)``, which keeps quiet parameters off this path).
        """
        n = len(codes)
        if n == 0:
            return
        # Change points: the first sample and every sample whose level differs from the previous.
        starts = np.flatnonzero(np.diff(codes)) + 1
        with self._lock:
            entry = self._open.get(parameter)
            changed = False
            for index in (0, *starts.tolist()):
                code = int(codes[index])
                t = float(times[index])
                if code != IN_LIMITS:
                    if entry is None:
                        value = value_at(index)
                        entry = self._raise(parameter, spacecraft, t, code, value, message)
                        changed = True
                        continue
                    if entry.current != code or entry.in_limits:
                        entry.current = code
                        entry.in_limits = False
                        changed = True
                    if code > entry.level:
                        entry.level = code
                        entry.most_severe_time = t
                        entry.most_severe_value = value_at(index)
                        changed = True
                    if entry.state is AlarmState.ACKNOWLEDGED and code > entry.acked_level:
                        entry.state = AlarmState.RAISED
                        entry.acknowledged_by = None
                        entry.acknowledged_at = None
                        changed = True
                    continue
                if entry is None:
                    continue
                if entry.state is AlarmState.ACKNOWLEDGED:
                    entry.state = AlarmState.CLEARED
                    entry.current = IN_LIMITS
                    entry.in_limits = True
                    entry.last_value = value_at(index)
                    entry.last_time = t
                    view = entry.view(cleared_at=t)
                    self._close(parameter, view)
                    self._changes.append(view)
                    entry = None
                    changed = False
                elif not entry.in_limits:
                    entry.current = IN_LIMITS
                    entry.in_limits = True
                    changed = True
            if entry is not None:
                last = n - 1
                entry.last_value = value_at(last)
                entry.last_time = float(times[last])
                entry.touch()
                if changed:
                    self._changes.append(entry.view())

    def _raise(
        self,
        parameter: str,
        spacecraft: str,
        t: float,
        code: int,
        value: EngScalar,
        message: str,
    ) -> _Open:
        view = AlarmView(
            id=alarm_id(parameter, t),
            parameter=parameter,
            spacecraft=spacecraft,
            level=level_name(code),
            current_level=level_name(code),
            state=AlarmState.RAISED,
            trigger_time=t,
            trigger_value=value,
            most_severe_time=t,
            most_severe_value=value,
            last_value=value,
            last_time=t,
            message=message,
        )
        entry = _Open(view)
        self._open[parameter] = entry
        self._by_id[view.id] = parameter
        self.raised_total += 1
        self.raised_by_level[view.level] = self.raised_by_level.get(view.level, 0) + 1
        return entry

    def _close(self, parameter: str, view: AlarmView) -> None:
        del self._open[parameter]
        self._by_id.pop(view.id, None)
        self._remember_closed(view)

    def _remember_closed(self, view: AlarmView) -> None:
        self._closed[view.id] = view
        self._closed.move_to_end(view.id)
        while len(self._closed) > self._closed_kept:
            self._closed.popitem(last=False)

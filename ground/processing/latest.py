"""The latest value of every parameter, for the API's latest values and the dashboard's first paint.

Ingest hands over whole batches (``SampleArrays``); only the last sample of each block becomes a
``ParameterValue`` (one Python object per parameter per batch, never per sample). A value older
than the one held (e.g. played-back data) does not replace it. The staleness checker marks values
``stale``; a newer value clears the flag.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from ground.model import MonitoringResult, ParameterValue, SampleArrays
from ground.processing.limits import LimitCheck
from mission.mdb.models import EngType

_MONITORING: tuple[MonitoringResult, ...] = (
    MonitoringResult.IN_LIMITS,
    MonitoringResult.WATCH,
    MonitoringResult.CRITICAL,
)


def last_value(
    block: SampleArrays, eng_type: EngType | None, limits: LimitCheck | None = None
) -> ParameterValue:
    """The ``ParameterValue`` of the last sample of ``block`` (the newest by generation time)."""
    i = len(block.generation_times) - 1
    raw = block.raw_values[i].item()
    eng: float | int | str | bool
    if block.labels is not None:
        eng = block.labels[i]
    elif eng_type is EngType.BOOL:
        eng = bool(block.eng_values[i])
    elif eng_type is EngType.INT:
        eng = int(block.eng_values[i])
    else:
        eng = float(block.eng_values[i])
    code = int(block.monitoring[i]) if len(block.monitoring) else 0
    if limits is None or not limits.enabled:
        result = MonitoringResult.DISABLED
    else:
        result = _MONITORING[code]
    return ParameterValue(
        name=block.name,
        generation_time=float(block.generation_times[i]),
        reception_time=block.reception_time,
        raw_value=raw,
        eng_value=eng,
        monitoring_result=result,
    )


class LatestValues:
    """Parameter name → its newest ``ParameterValue``. Safe to read from other threads.

    Interface used by the API/stream: ``get(name) -> ParameterValue | None``, ``all()``,
    ``names()``.
    """

    def __init__(
        self,
        types: Mapping[str, EngType] | None = None,
        limits: Mapping[str, LimitCheck] | None = None,
    ) -> None:
        self._values: dict[str, ParameterValue] = {}
        self._types = dict(types or {})
        self._limits = dict(limits or {})
        self._lock = threading.Lock()

    def get(self, name: str) -> ParameterValue | None:
        """The newest value of ``name``, or ``None`` before any arrived."""
        return self._values.get(name)

    def all(self) -> list[ParameterValue]:
        """Every parameter's newest value, sorted by name."""
        with self._lock:
            values = list(self._values.values())
        return sorted(values, key=lambda v: v.name)

    def names(self) -> list[str]:
        """Names of the parameters that have a value, sorted."""
        with self._lock:
            return sorted(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def update(self, blocks: Sequence[SampleArrays]) -> list[ParameterValue]:
        """Take the last sample of each block; return the values that replaced older ones."""
        changed: list[ParameterValue] = []
        with self._lock:
            values = self._values
            for block in blocks:
                if not len(block.generation_times):
                    continue
                current = values.get(block.name)
                newest = float(block.generation_times[-1])
                if current is not None and newest < current.generation_time:
                    continue
                value = last_value(block, self._types.get(block.name), self._limits.get(block.name))
                values[block.name] = value
                changed.append(value)
        return changed

    def put(self, value: ParameterValue) -> None:
        """Set one value if it is at least as new as the one held (restore, tools)."""
        with self._lock:
            current = self._values.get(value.name)
            if current is None or value.generation_time >= current.generation_time:
                self._values[value.name] = value

    def restore(self, values: Iterable[ParameterValue]) -> None:
        """Load values read back from the archive at start."""
        for value in values:
            self.put(value)

    def set_stale(self, names: Iterable[str], stale: bool) -> list[ParameterValue]:
        """Flag (or unflag) values as stale; return those whose flag changed."""
        changed: list[ParameterValue] = []
        with self._lock:
            for name in names:
                current = self._values.get(name)
                if current is not None and current.stale != stale:
                    value = replace(current, stale=stale)
                    self._values[name] = value
                    changed.append(value)
        return changed

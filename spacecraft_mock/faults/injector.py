"""Active faults: inject with parameters and a duration, expire on mission time, clear."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from mission.faults import FaultCatalogue, FaultParamError, ParamValue
from spacecraft_mock.faults.effects import EFFECTS

if TYPE_CHECKING:
    from spacecraft_mock.world import World


HISTORY_LIMIT: Final = 32
"""How many of the latest fault instances the status reports, so that a fault that began and
ended between two status messages (a short one at a high speed factor) is still seen."""


class InjectionError(ValueError):
    """The fault cannot be injected or cleared (unknown id, bad parameter)."""


@dataclass(slots=True)
class ActiveFaultInstance:
    instance_id: str
    fault: str
    title: str
    params: dict[str, ParamValue]
    start: float
    end: float | None
    source: Literal["manual", "scenario"]
    ended: bool = False
    """Cleared or expired (``end`` is then when it happened)."""


class FaultInjector:
    def __init__(self, world: World, catalogue: FaultCatalogue) -> None:
        self.world = world
        self.catalogue = catalogue
        self.active: dict[str, ActiveFaultInstance] = {}
        self.history: deque[ActiveFaultInstance] = deque(maxlen=HISTORY_LIMIT)
        """The latest injected instances, ended or not (``SimStatus.recent_faults``)."""
        self._count = 0
        self.changes = 0
        """Faults begun or ended so far (the MQTT adapter publishes a status when it moves)."""
        missing = sorted(set(catalogue.faults) - set(EFFECTS))
        if missing:
            msg = f"faults without an effect in the simulator: {', '.join(missing)}"
            raise InjectionError(msg)

    def inject(
        self,
        fault_id: str,
        params: dict[str, object],
        duration_s: float | None,
        now: float,
        source: Literal["manual", "scenario"] = "manual",
        use_default_duration: bool = True,
    ) -> ActiveFaultInstance:
        try:
            fault = self.catalogue.get(fault_id)
            resolved = self.catalogue.resolve_params(fault_id, params)
        except FaultParamError as exc:
            raise InjectionError(str(exc)) from exc
        if duration_s is None and use_default_duration:
            duration_s = fault.default_duration_s
        start, _ = EFFECTS[fault_id]
        concrete = start(self.world, resolved)
        self._count += 1
        instance = ActiveFaultInstance(
            instance_id=f"{fault_id}#{self._count}",
            fault=fault_id,
            title=fault.title,
            params=concrete,
            start=now,
            end=None if duration_s is None else now + duration_s,
            source=source,
        )
        self.active[instance.instance_id] = instance
        self.history.append(instance)
        self.changes += 1
        return instance

    def update(self, now: float) -> list[ActiveFaultInstance]:
        """Clear the faults whose duration has run out; returns them."""
        expired = [f for f in self.active.values() if f.end is not None and f.end <= now]
        for instance in expired:
            self._remove(instance, now)
        return expired

    def clear(self, key: str, now: float) -> list[ActiveFaultInstance]:
        """Clear an instance (``fault#n``) or every instance of a fault id."""
        chosen = [f for f in self.active.values() if key in (f.instance_id, f.fault)]
        if not chosen:
            if key not in self.catalogue:
                msg = f"unknown fault {key!r}"
                raise InjectionError(msg)
            return []
        for instance in chosen:
            self._remove(instance, now)
        return chosen

    def clear_all(self, now: float, source: str | None = None) -> list[ActiveFaultInstance]:
        chosen = [f for f in self.active.values() if source is None or f.source == source]
        for instance in chosen:
            self._remove(instance, now)
        return chosen

    def _remove(self, instance: ActiveFaultInstance, now: float) -> None:
        _, stop = EFFECTS[instance.fault]
        stop(self.world, instance.params)
        instance.end = now
        instance.ended = True
        del self.active[instance.instance_id]
        self.changes += 1

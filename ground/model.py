"""Values the ground's stages hand to each other, and the interfaces between the stages.

Ingest and processing (``ground/ingest``, ``ground/processing``) produce these; the live stream
(``ground/stream``) and the API (``ground/api``) consume them. Field names follow Yamcs's
``ParameterValue`` (generation_time, reception_time, raw_value, eng_value, monitoring_result).
Times are float Unix seconds (UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import numpy as np
import numpy.typing as npt


class MonitoringResult(StrEnum):
    """Outcome of the limit check of one value (Yamcs's names, reduced to what we check)."""

    IN_LIMITS = "in_limits"
    WATCH = "watch"  # yellow
    CRITICAL = "critical"  # red
    DISABLED = "disabled"  # no limits defined


@dataclass(frozen=True, slots=True)
class ParameterValue:
    """One value of one parameter, as the API and the stream show it."""

    name: str
    generation_time: float
    reception_time: float
    raw_value: float | int
    eng_value: float | int | str | bool
    monitoring_result: MonitoringResult = MonitoringResult.DISABLED
    stale: bool = False


@dataclass(frozen=True, slots=True)
class SampleArrays:
    """Every value of one parameter in one ingest batch, as arrays (the hot path's currency).

    ``monitoring`` holds one code per sample: 0 in limits / disabled, 1 yellow, 2 red.
    """

    name: str
    spacecraft: str
    generation_times: npt.NDArray[np.float64]
    reception_time: float
    raw_values: npt.NDArray[np.float64] | npt.NDArray[np.int64]
    eng_values: npt.NDArray[np.float64]
    monitoring: npt.NDArray[np.int8]
    labels: Sequence[str] | None = None
    """For enumerated parameters: the label of each sample (eng_values then hold raw codes)."""


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    name: str
    spacecraft: str
    severity: str  # info | low | medium | high
    message: str
    generation_time: float
    reception_time: float
    args: dict[str, float | int | str | bool] = field(default_factory=dict)


class AlarmState(StrEnum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


@dataclass(frozen=True, slots=True)
class AlarmView:
    """An alarm and its lifecycle: raised → (acknowledged) → cleared once back in limits.

    The most severe level seen is kept until acknowledged; an alarm that is back in limits but not
    yet acknowledged stays visible (``in_limits`` true) until someone acknowledges it.
    """

    id: str
    parameter: str
    spacecraft: str
    level: str  # yellow | red: the most severe level seen since the last acknowledgement
    current_level: str  # yellow | red | ok
    state: AlarmState
    trigger_time: float
    trigger_value: float | int | str | bool
    most_severe_time: float
    most_severe_value: float | int | str | bool
    last_value: float | int | str | bool
    last_time: float
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None
    cleared_at: float | None = None
    in_limits: bool = False
    message: str = ""


@dataclass(frozen=True, slots=True)
class LinkView:
    """State of one ground station's link, from its monitor topic and from what arrives."""

    station: str
    in_view: bool | None = None
    moon_elevation_deg: float | None = None
    earth_elevation_at_site_deg: float | None = None
    ebn0_db: dict[str, float] = field(default_factory=dict)
    light_time_s: float | None = None
    locked: dict[str, bool] = field(default_factory=dict)
    frames_received: int = 0
    frames_bad: int = 0
    frame_gaps: int = 0
    duplicates: int = 0
    last_frame_time: float | None = None
    monitor_time: float | None = None


class LiveSink(Protocol):
    """Where ingest and processing push what they produce (the WebSocket hub implements it).

    Every method must return at once: it may only enqueue. A slow consumer loses its own data.
    """

    def on_samples(self, blocks: Sequence[SampleArrays]) -> None: ...

    def on_events(self, events: Sequence[EventView]) -> None: ...

    def on_alarms(self, alarms: Sequence[AlarmView]) -> None: ...

    def on_links(self, links: Sequence[LinkView]) -> None: ...

    def on_commands(self, commands: Sequence[dict[str, object]]) -> None: ...

    def on_stale(self, values: Sequence[ParameterValue]) -> None:
        """Values just flagged stale (not received within k × their period)."""
        ...


class NullSink:
    """A sink that drops everything (tools and tests that do not stream)."""

    def on_samples(self, blocks: Sequence[SampleArrays]) -> None:
        return None

    def on_events(self, events: Sequence[EventView]) -> None:
        return None

    def on_alarms(self, alarms: Sequence[AlarmView]) -> None:
        return None

    def on_links(self, links: Sequence[LinkView]) -> None:
        return None

    def on_commands(self, commands: Sequence[dict[str, object]]) -> None:
        return None

    def on_stale(self, values: Sequence[ParameterValue]) -> None:
        return None

"""The mission clock as the ground sees it: simulation time and speed factor.

The simulator runs on a mission clock that may go 1× to 1000× faster than the wall clock (or be
paused). The ground needs "now" in mission time, e.g. to decide that a parameter has not been
received for k × its period at any speed. Two sources, the better one wins:

1. ``lupex/v1/sim/status`` (retained JSON): the simulation time at a wall-clock instant, the speed
   factor, and whether it is paused. Between two status messages, mission time is extrapolated:
   ``t_sim + (wall_now - wall_at_status) × rate``, where ``rate`` is the speed factor the
   simulation actually achieved between its last two statuses (never more than the nominal
   one). A simulation that cannot keep up with its speed factor (a busy machine, 1000×) says so
   in ``lag_s``, and extrapolating at the nominal speed would run the ground's clock ahead of
   the telemetry and flag everything stale; the measured rate does not.
2. Without a status (a real spacecraft, a replay): the newest generation time received, advanced
   at ``speed`` (1 by default) since its reception.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError

from mission.sim_control import SimStatus as MissionSimStatus

_TIME_KEYS: Final = ("mission_time", "sim_time", "time", "t")
_SPEED_KEYS: Final = ("speed", "speed_factor", "time_factor")
_WALL_KEYS: Final = ("wall_time", "published_at", "wall")
RATE_MIN_INTERVAL_S: Final = 0.2
"""Wall seconds two statuses must be apart for the rate between them to be measured."""


@dataclass(frozen=True, slots=True)
class SimStatus:
    """What the clock takes from one ``lupex/v1/sim/status`` message."""

    mission_time: float
    speed: float
    paused: bool
    wall_time: float | None = None


def _number(data: Mapping[str, Any], keys: tuple[str, ...]) -> float | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


def parse_sim_status(payload: bytes | str) -> SimStatus:
    """Parse a sim status message; ``ValueError`` when it has no usable time.

    The simulator's :class:`mission.sim_control.SimStatus` is read as such. Other JSON objects
    are read leniently: the clock fields at the top level or under ``clock``: a time
    (``mission_time``, ``sim_time`` or ``time``, Unix seconds), a ``speed`` (default 1) and
    ``paused`` (or ``running: false``), and optionally the wall-clock time of publication.
    """
    try:
        status = MissionSimStatus.model_validate_json(payload)
    except ValidationError:
        pass
    else:
        return SimStatus(
            mission_time=status.mission_time,
            speed=status.speed,
            paused=status.paused or not status.running,
            wall_time=status.wall_time,
        )
    try:
        data = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"sim status is not JSON: {exc}"
        raise ValueError(msg) from None
    if not isinstance(data, dict):
        msg = "sim status is not a JSON object"
        raise ValueError(msg)
    clock = data.get("clock")
    source: Mapping[str, Any] = clock if isinstance(clock, dict) else data
    mission_time = _number(source, _TIME_KEYS)
    if mission_time is None:
        msg = "sim status has no mission time"
        raise ValueError(msg)
    speed = _number(source, _SPEED_KEYS)
    paused = bool(source.get("paused", False)) or source.get("running") is False
    return SimStatus(
        mission_time=mission_time,
        speed=1.0 if speed is None or speed < 0 else speed,
        paused=paused,
        wall_time=_number(source, _WALL_KEYS),
    )


class MissionClock:
    """``now()`` in mission time (Unix seconds) and the current ``speed`` factor."""

    def __init__(self, wall: Callable[[], float] = time.time, default_speed: float = 1.0) -> None:
        self._wall = wall
        self._default_speed = default_speed
        self._status: SimStatus | None = None
        self._status_wall = 0.0
        self._rate: float | None = None
        self._frame_time: float | None = None
        self._frame_wall = 0.0

    @property
    def speed(self) -> float:
        """The speed factor (0 while the simulation is paused)."""
        status = self._status
        if status is None:
            return self._default_speed
        return 0.0 if status.paused else status.speed

    @property
    def rate(self) -> float:
        """Mission seconds per wall second now: the achieved rate of the simulation (at most
        ``speed``), ``speed`` until two statuses measured it, 0 while paused."""
        speed = self.speed
        if self._rate is None or speed == 0.0:
            return speed
        return min(self._rate, speed)

    @property
    def has_status(self) -> bool:
        return self._status is not None

    def now(self) -> float:
        """Mission time now; the wall clock until anything tells otherwise."""
        wall = self._wall()
        status = self._status
        if status is not None:
            return status.mission_time + (wall - self._status_wall) * self.rate
        if self._frame_time is not None:
            return self._frame_time + (wall - self._frame_wall) * self._default_speed
        return wall

    def on_status(self, status: SimStatus, reception_time: float | None = None) -> None:
        """Take a sim status message (``reception_time``: wall clock at reception)."""
        wall = (
            status.wall_time
            if status.wall_time is not None
            else (reception_time if reception_time is not None else self._wall())
        )
        previous, previous_wall = self._status, self._status_wall
        if (
            previous is None
            or previous.paused
            or status.paused
            or previous.speed != status.speed
            or status.mission_time < previous.mission_time  # a restarted simulation
        ):
            self._rate = None  # nothing comparable: the nominal speed until measured again
        elif wall - previous_wall >= RATE_MIN_INTERVAL_S:
            self._rate = (status.mission_time - previous.mission_time) / (wall - previous_wall)
        self._status = status
        self._status_wall = wall

    def on_generation_time(self, generation_time: float, reception_time: float) -> None:
        """Take the newest generation time of a batch (used when no sim status is known)."""
        if self._frame_time is None or generation_time >= self._frame_time:
            self._frame_time = generation_time
            self._frame_wall = reception_time

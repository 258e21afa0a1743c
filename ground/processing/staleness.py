"""Staleness: a parameter not received within k × its expected period is flagged ``stale``.

Periods come from the mission database (the packet's generation period) and the test is made in
mission time (:class:`MissionClock`), so it holds at any speed factor. The allowance adds a
margin in mission seconds (light time, the on-board packet schedule) and one in wall seconds
scaled by the speed (network and processing delays grow with the speed in mission time):

    stale  ⇔  clock.now() − generation_time  >  k × period + grace + wall_grace × rate

(``rate``: the speed the simulation actually achieves, see :class:`MissionClock`.)

A value flagged stale is un-flagged by the next value that arrives (``LatestValues.update``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ground.model import ParameterValue
from ground.processing.clock import MissionClock
from ground.processing.latest import LatestValues

DEFAULT_FACTOR: Final = 3.0
DEFAULT_GRACE_S: Final = 5.0
DEFAULT_WALL_GRACE_S: Final = 2.0


@dataclass(frozen=True, slots=True)
class StalenessPolicy:
    factor: float = DEFAULT_FACTOR
    """k: how many expected periods may pass without a value."""
    grace_s: float = DEFAULT_GRACE_S
    """Extra mission seconds allowed (light time, schedule jitter)."""
    wall_grace_s: float = DEFAULT_WALL_GRACE_S
    """Extra wall seconds allowed (transport and processing), scaled by the speed factor."""

    def allowance(self, period: float, speed: float) -> float:
        return self.factor * period + self.grace_s + self.wall_grace_s * speed


class StalenessChecker:
    """Flags values of ``latest`` stale when overdue; call :meth:`check` periodically."""

    def __init__(
        self,
        latest: LatestValues,
        clock: MissionClock,
        periods: Mapping[str, float],
        policy: StalenessPolicy | None = None,
    ) -> None:
        self.latest = latest
        self.clock = clock
        self.periods = dict(periods)
        self.policy = policy or StalenessPolicy()

    def overdue(self, value: ParameterValue, now: float, speed: float) -> bool:
        period = self.periods.get(value.name)
        if period is None:
            return False
        return now - value.generation_time > self.policy.allowance(period, speed)

    def check(self) -> list[ParameterValue]:
        """Flag every overdue value; return the values that just became stale."""
        if self.clock.speed == 0.0 and self.clock.has_status:
            return []  # a paused simulation sends nothing and nothing is late
        now = self.clock.now()
        speed = self.clock.rate
        newly = [
            value.name
            for value in self.latest.all()
            if not value.stale and self.overdue(value, now, speed)
        ]
        return self.latest.set_stale(newly, True) if newly else []

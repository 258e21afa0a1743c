"""Drive a :class:`~spacecraft_mock.world.World` in real time, times a speed factor.

Mission time is ``anchor + speed * (wall - wall_anchor)`` (re-anchored when the speed changes or
the run pauses), so it does not drift however long the run is. Each iteration advances the world
to that target in chunks, within a wall-time budget so that the event loop can publish what the
world produced; when the world falls behind (a slow machine, a burst of work) the next iterations
catch up with larger spans, and ``lag_s`` says how far behind it is. The world's physics step is
fixed, so catching up changes nothing in the simulation, only when its output appears.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Final

from mission.sim_control import MAX_SPEED, MIN_SPEED
from spacecraft_mock.world import StepOutput, World

DEFAULT_BUDGET_S: Final = 0.02
DEFAULT_TICK_S: Final = 0.02
MIN_CHUNK_S: Final = 1.0


class RealTimeRunner:
    def __init__(
        self,
        world: World,
        speed: float = 10.0,
        *,
        duration_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        budget_s: float = DEFAULT_BUDGET_S,
        tick_s: float = DEFAULT_TICK_S,
    ) -> None:
        if not MIN_SPEED <= speed <= MAX_SPEED:
            msg = f"speed must be within {MIN_SPEED}..{MAX_SPEED}, not {speed}"
            raise ValueError(msg)
        self.world = world
        self.clock = clock
        self.speed = speed
        self.paused = False
        self.budget_s = budget_s
        self.tick_s = tick_s
        self.end = None if duration_s is None else world.epoch + duration_s
        self._wall_anchor = clock()
        self._mission_anchor = world.t
        self.lag_s = 0.0
        self.max_lag_s = 0.0
        self.behind = False
        """The last step stopped at its wall budget short of its target (more to catch up)."""
        self.iterations = 0
        self.catch_ups = 0
        """Iterations that went straight on to catch up instead of waiting for the next tick."""

    # ------------------------------------------------------------------ clock
    def target(self) -> float:
        """Where the mission clock should be now."""
        if self.paused:
            target = self._mission_anchor
        else:
            target = self._mission_anchor + self.speed * (self.clock() - self._wall_anchor)
        return target if self.end is None else min(target, self.end)

    def _reanchor(self) -> None:
        now = self.clock()
        if not self.paused:
            self._mission_anchor += self.speed * (now - self._wall_anchor)
        self._wall_anchor = now

    def set_speed(self, speed: float) -> None:
        if not MIN_SPEED <= speed <= MAX_SPEED:
            msg = f"speed must be within {MIN_SPEED}..{MAX_SPEED}, not {speed}"
            raise ValueError(msg)
        self._reanchor()
        self.speed = speed

    def pause(self) -> None:
        self._reanchor()
        self.paused = True

    def resume(self) -> None:
        self._reanchor()
        self.paused = False

    @property
    def done(self) -> bool:
        return self.end is not None and self.world.t >= self.end

    # ------------------------------------------------------------------ stepping
    def step_once(self) -> StepOutput:
        """Advance towards the target within the wall budget; returns what came out."""
        self.iterations += 1
        started = self.clock()
        target = self.target()
        total = StepOutput()
        chunk = max(MIN_CHUNK_S, self.speed * self.tick_s)
        while self.world.t < target:
            out = self.world.advance_to(min(target, self.world.t + chunk))
            total.frames.extend(out.frames)
            total.monitors.extend(out.monitors)
            total.events.extend(out.events)
            total.log.extend(out.log)
            if self.clock() - started >= self.budget_s:
                break
        # Behind only when the budget ran out before the target: the target keeps moving while
        # the step runs, so ``lag_s`` is never quite zero, and taking that for "behind" turned the
        # loop into a busy spin (100 % of a core at any speed).
        self.behind = self.world.t < target
        self.lag_s = max(0.0, self.target() - self.world.t)
        self.max_lag_s = max(self.max_lag_s, self.lag_s)
        return total

    async def run(
        self, sink: Callable[[StepOutput], Awaitable[None]], stop: asyncio.Event | None = None
    ) -> None:
        """Run until ``stop`` is set or the duration is over, handing every output to ``sink``."""
        stop = stop or asyncio.Event()
        # Anchor now: whatever time setting up took (loading, connecting) is not lag.
        self._wall_anchor = self.clock()
        self._mission_anchor = self.world.t
        while not stop.is_set() and not self.done:
            out = self.step_once()
            await sink(out)
            if self.behind:
                self.catch_ups += 1
                await asyncio.sleep(0)  # behind: let the publisher run, then catch up
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.tick_s)

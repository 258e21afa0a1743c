"""Same seed, epoch and commands: the same bytes, however the world is stepped or driven."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

from spacecraft_mock.config import WorldConfig
from spacecraft_mock.runner import RealTimeRunner
from spacecraft_mock.world import StepOutput, World
from tests.spacecraft_mock.exercise import EPOCH

Frames = list[tuple[float, str, str, bytes]]


def _frames_stepped(world: World, end: float, steps: Iterator[float]) -> Frames:
    out: Frames = []
    while world.t < end:
        result = world.advance_to(min(end, world.t + next(steps)))
        out.extend((f.time, f.station, f.spacecraft, f.frame) for f in result.frames)
    return out


def _state(world: World) -> tuple[float, ...]:
    r = world.rover
    return (
        r.mobility.x,
        r.mobility.y,
        r.mobility.heading,
        r.power.battery.soc,
        r.temperature("battery"),
        world.lander.power.battery.soc,
        world.obsw["rover"].clock_offset,
    )


def test_same_seed_gives_identical_frames_whatever_the_stepping() -> None:
    hours = 2.0
    end = EPOCH + hours * 3600.0
    regular = World(1, EPOCH)
    frames_a = _frames_stepped(regular, end, itertools.repeat(10.0))
    irregular = World(1, EPOCH)
    # Odd, mostly sub-step and multi-step spans: the physics grid must not care.
    frames_b = _frames_stepped(irregular, end, itertools.cycle([0.37, 1.0, 97.3, 2.5, 0.01, 33.0]))
    assert len(frames_a) > 3600 * hours  # both vehicles together: more than a frame a second
    assert frames_a == frames_b
    assert _state(regular) == _state(irregular)


def test_another_seed_gives_different_frames() -> None:
    end = EPOCH + 600.0
    one = _frames_stepped(World(1, EPOCH), end, itertools.repeat(10.0))
    two = _frames_stepped(World(2, EPOCH), end, itertools.repeat(10.0))
    assert len(one) == len(two)
    assert [f[3] for f in one] != [f[3] for f in two]
    # ... but the structure (which frames, when, where) is the same: only the noise differs.
    assert [f[:3] for f in one] == [f[:3] for f in two]


class FakeClock:
    """A monotonic clock that advances by ``tick`` every time it is read (a busy machine)."""

    def __init__(self, tick: float) -> None:
        self.now = 0.0
        self.tick = tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


def test_runner_speed_and_catch_up_do_not_change_the_physics() -> None:
    duration = 1800.0
    reference = _frames_stepped(World(1, EPOCH), EPOCH + duration, itertools.repeat(5.0))
    for speed, tick in ((10.0, 0.004), (1000.0, 0.013)):
        world = World(1, EPOCH)
        clock = FakeClock(tick)
        runner = RealTimeRunner(world, speed, duration_s=duration, clock=clock)
        frames: Frames = []
        lagged = False
        while not runner.done:
            out = runner.step_once()
            frames.extend((f.time, f.station, f.spacecraft, f.frame) for f in out.frames)
            lagged = lagged or runner.behind
            clock.now += 0.02  # the event loop's tick
            if runner.iterations == 50:
                runner.set_speed(speed / 2)
        assert frames == reference[: len(frames)]
        assert len(frames) >= len(reference) - 10  # the frames still in flight at the end
        assert world.t == EPOCH + duration
        if speed == 1000.0:
            assert lagged  # it fell behind and caught up with bigger spans


def test_runner_follows_the_speed_and_pauses() -> None:
    world = World(1, EPOCH, config=WorldConfig(telemetry=False))
    clock = FakeClock(0.0)
    runner = RealTimeRunner(world, 50.0, clock=clock)
    clock.now = 2.0
    runner.step_once()
    assert world.t == EPOCH + 100.0
    runner.pause()
    clock.now = 10.0
    runner.step_once()
    assert world.t == EPOCH + 100.0
    runner.resume()
    runner.set_speed(200.0)
    clock.now = 11.0
    runner.step_once()
    assert world.t == EPOCH + 300.0
    assert runner.lag_s == 0.0


def test_runner_waits_for_the_next_tick_once_it_has_caught_up() -> None:
    """The target moves while a step runs, so there is always a sliver of lag; only a step cut
    short by its wall budget counts as behind. (Taking any lag for "behind" made the run loop
    spin without waiting: a whole core at every speed.)"""
    world = World(1, EPOCH, config=WorldConfig(telemetry=False))
    clock = FakeClock(1e-4)  # time passes with every reading, as on a real machine
    runner = RealTimeRunner(world, 10.0, duration_s=5.0, clock=clock, tick_s=0.0)
    sinks = 0

    async def sink(out: StepOutput) -> None:
        nonlocal sinks
        sinks += 1

    asyncio.run(runner.run(sink))
    assert runner.done
    assert sinks == runner.iterations > 100
    assert runner.max_lag_s > 0.0  # the sliver of lag is still reported...
    assert runner.catch_ups == 0  # ...but never taken for falling behind
    assert not runner.behind


def test_runner_catches_up_without_waiting_when_its_budget_runs_out() -> None:
    world = World(1, EPOCH, config=WorldConfig(telemetry=False))
    clock = FakeClock(0.05)  # every reading costs more than the whole 20 ms budget
    runner = RealTimeRunner(world, 1000.0, duration_s=600.0, clock=clock, tick_s=0.0)
    out = runner.step_once()
    assert runner.behind
    assert world.t < EPOCH + 600.0
    assert out.frames == []

    async def sink(out: StepOutput) -> None:
        return None

    asyncio.run(runner.run(sink))
    assert runner.done
    assert runner.catch_ups > 0

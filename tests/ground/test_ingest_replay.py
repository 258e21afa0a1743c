"""Replay pacing: recorded gaps between frames, divided by the speed factor."""

from __future__ import annotations

import pytest

from ground.replay import _Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 9))
        self.now += seconds


@pytest.mark.parametrize("speed", [1.0, 4.0, 100.0])
async def test_gaps_are_kept_and_scaled(speed: float) -> None:
    fake = FakeTime()
    pacer = _Pacer(speed, fake.clock, fake.sleep)
    recorded = [1000.0, 1001.0, 1001.5, 1004.0]
    for t in recorded:
        await pacer.wait(t)
    assert fake.slept == [round(d / speed, 9) for d in (1.0, 0.5, 2.5)]


async def test_time_spent_publishing_is_not_added_to_the_gaps() -> None:
    fake = FakeTime()
    pacer = _Pacer(1.0, fake.clock, fake.sleep)
    await pacer.wait(0.0)
    fake.now += 0.75  # publishing took time
    await pacer.wait(1.0)
    fake.now += 5.0  # fell behind: no sleep, catch up
    await pacer.wait(2.0)
    assert fake.slept == [0.25]


async def test_speed_zero_never_waits() -> None:
    fake = FakeTime()
    pacer = _Pacer(0.0, fake.clock, fake.sleep)
    for t in (0.0, 10.0, 20.0):
        await pacer.wait(t)
    assert fake.slept == []

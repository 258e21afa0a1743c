"""The rover's autonomous activity plan, so that there is always something worth watching.

A loop over waypoints on the lit plateau around the lander: stow the HGA and drive a leg (at most
100 m per Earth day, seeds: mobility.max_distance_per_day_m), turn the array to the Sun, track the
Earth again, correct the position estimate by landmark matching, take ALIS, MIR, EMS-L and
PRATHIMA measurements, and at every third stop drill (samples every 10 cm), hand the last sample
to REIWA (LTGA oven, ADORE, TRITON, ISAP) and retract. Recharge first when the battery is low.

The plan is a generator that yields wait conditions; the world advances it once per physics step.
It runs only in NOMINAL mode and pauses for an hour after any ground command to mobility, drill or
payload (the ground has the rover then).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Final

from spacecraft_mock.vehicles.drill import DrillStatus
from spacecraft_mock.vehicles.mobility import DriveOutcome
from spacecraft_mock.vehicles.rover import Rover

WAYPOINTS: Final = (
    (45.0, -30.0), (85.0, -70.0), (105.0, -30.0), (75.0, 25.0), (35.0, 70.0),
    (-20.0, 75.0), (-55.0, 40.0), (-65.0, -15.0), (-35.0, -60.0), (10.0, -25.0),
)  # fmt: skip
"""On the lit plateau around the lander (local horizon below -0.5 deg in every direction)."""
DRILL_DEPTHS: Final = (0.3, 0.5, 0.8, 1.2, 1.5)
DRIVE_SPEED: Final = 0.03
HOLD_AFTER_GROUND_S: Final = 3600.0
DWELL_S: Final = 1800.0
RECHARGE_BELOW_PCT: Final = 50.0
RECHARGE_TO_PCT: Final = 80.0
DAY_S: Final = 86400.0
PARK_S: Final = 4 * 3600.0
"""How long a scenario's forced park lasts before the plan resumes."""

Wait = Callable[[], bool]


class ActivityPlan:
    def __init__(self, rover: Rover, enabled: bool, max_distance_per_day: float) -> None:
        self.rover = rover
        self.enabled = enabled
        self.max_per_day = max_distance_per_day
        self.hold_until = 0.0
        self.activity = "idle"
        self.legs = 0
        self.drillings = 0
        self._now = rover.t
        self._script = self._run()
        self._waiting: Wait | None = None

    def hold(self, t: float, seconds: float = HOLD_AFTER_GROUND_S) -> None:
        self.hold_until = max(self.hold_until, t + seconds)

    def force(self, activity: str) -> None:
        """Scenario set-up: restart the plan at a drive or a drilling now."""
        self.hold_until = 0.0
        self._waiting = None
        self._script = self._forced(activity)

    def step(self, t: float, runnable: bool) -> None:
        self._now = t
        if not self.enabled or not runnable or t < self.hold_until:
            return
        for _ in range(8):  # a few instantaneous actions may follow each other in one step
            if self._waiting is not None and not self._waiting():
                return
            self._waiting = next(self._script)

    # ------------------------------------------------------------------ building blocks
    def _after(self, seconds: float) -> Wait:
        end = self._now + seconds
        return lambda: self._now >= end

    def _drive(self, goal: tuple[float, float]) -> Iterator[Wait]:
        r = self.rover
        self.activity = "drive"
        r.radio.hga_stowed = True
        yield self._after(60.0)
        r.mobility.drive_to(goal[0], goal[1], DRIVE_SPEED, self._now, r.events)
        yield lambda: not r.mobility.busy
        self.legs += 1
        if r.mobility.outcome is DriveOutcome.ABORTED:
            self.activity = "blocked"
            yield self._after(2 * 3600.0)
            r.mobility.reset()

    def _park(self) -> Iterator[Wait]:
        r = self.rover
        self.activity = "park"
        turn = (r.sun_pointing_heading() - r.mobility.heading + 180.0) % 360.0 - 180.0
        if abs(turn) > 5.0:
            r.mobility.turn(turn, self._now)
            yield lambda: not r.mobility.busy
        r.mobility.reset()
        r.radio.hga_stowed, r.radio.hga_fixed = False, None
        yield self._after(60.0)
        r.nav.landmark_match(self._now, r.mobility, r.lit, r.events)

    def _measure(self, name: str, seconds: float) -> Iterator[Wait]:
        p = self.rover.payload
        events = self.rover.events
        self.activity = f"measure {name}"
        p.power(name, True, events)
        yield self._after(30.0)
        if p.on[name]:
            p.start_measurement(name, seconds, events)
            yield lambda: name not in p.measuring
        p.power(name, False, events)

    def _drill(self, depth: float) -> Iterator[Wait]:
        r = self.rover
        d, events = r.drill, r.events
        self.activity = "drill"
        d.to_depth(depth, 0.1, 100.0, events)
        yield lambda: not d.busy
        if d.status is DrillStatus.JAMMED:
            self.activity = "drill jammed"
            yield lambda: not d.jam_fault
            d.retract()
            yield lambda: d.status is DrillStatus.STOWED
            return
        if d.cup is not None:
            d.transfer("LTGA")
            yield lambda: d.status is not DrillStatus.TRANSFERRING
            if d.delivered is not None:
                r.payload.load_sample(d.delivered)
        self.activity = "retract"
        d.retract()
        yield lambda: d.status is DrillStatus.STOWED
        if r.payload.reiwa.sample is not None:
            r.payload.reiwa.oven_target_c = 600.0
            yield from self._measure("LTGA", 30.0 * 60.0 + 600.0)
            yield from self._measure("ADORE", 300.0)
            yield from self._measure("TRITON", 120.0)
            yield from self._measure("ISAP", 60.0)
        self.drillings += 1

    def _budget(self, leg_m: float) -> Iterator[Wait]:
        """Rest until the next Earth day when this leg would exceed the daily distance."""
        r = self.rover
        day = math.floor(self._now / DAY_S)
        start = self._day_odometry.setdefault(day, r.mobility.odometry_m)
        if r.mobility.odometry_m - start + leg_m * 1.1 > self.max_per_day:
            self.activity = "rest (daily distance)"
            yield lambda: math.floor(self._now / DAY_S) > day
            self._day_odometry[math.floor(self._now / DAY_S)] = r.mobility.odometry_m

    def _recharge(self) -> Iterator[Wait]:
        r = self.rover
        if r.soc_pct < RECHARGE_BELOW_PCT:
            self.activity = "recharge"
            yield lambda: r.soc_pct >= RECHARGE_TO_PCT or r.lit < 0.2

    # ------------------------------------------------------------------ scripts
    _day_odometry: dict[int, float]

    def _run(self) -> Iterator[Wait]:
        self._day_odometry = {}
        yield self._after(120.0)
        index = 0
        while True:
            goal = WAYPOINTS[index % len(WAYPOINTS)]
            yield from self._recharge()
            leg = math.hypot(goal[0] - self.rover.mobility.x, goal[1] - self.rover.mobility.y)
            yield from self._budget(leg)
            yield from self._drive(goal)
            yield from self._park()
            yield from self._measure("ALIS", 20.0)
            yield from self._measure("MIR", 10.0)
            yield from self._measure("EMS", 120.0)
            if index % 3 == 2:
                depth = DRILL_DEPTHS[self.drillings % len(DRILL_DEPTHS)]
                yield from self._drill(depth)
            else:
                yield from self._measure("PRATHIMA", 600.0)
            self.activity = "dwell"
            yield self._after(DWELL_S)
            index += 1

    def _forced(self, activity: str) -> Iterator[Wait]:
        self._day_odometry = {}
        if activity == "drive":
            r = self.rover
            heading = math.radians(r.mobility.heading)
            goal = (
                r.mobility.x + 40.0 * math.sin(heading),
                r.mobility.y + 40.0 * math.cos(heading),
            )
            yield from self._drive(goal)
        elif activity == "drill":
            yield from self._drill(1.2)
        elif activity == "park":
            yield from self._park()
            self.activity = "parked"
            yield self._after(PARK_S)
        yield from self._run()

"""Rover mobility: true position and heading, drives and point turns, slip, wheel currents.

Positions are in the local site frame (m, x east, y north, lander at the origin); the heading is
clockwise from north. Slip grows with slope; the rover advances by the wheel distance times
(1 - slip), and wheel odometry counts the wheel distance, so dead reckoning drifts. Guards stop a
drive on a stall, on high slip, at the tilt limit, or (in GUIDED mode) on a hazard ahead; in
AUTONOMOUS mode the rover steers around hazards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np

from spacecraft_mock import terrain
from spacecraft_mock.vehicles.events import EventSink

TURN_RATE_DEG_S: Final = 1.0
BASE_WHEEL_CURRENT_A: Final = 1.1
STALL_CURRENT_A: Final = 4.6
STALL_DETECT_S: Final = 3.0
SLIP_ABORT_PCT: Final = 40.0
SLIP_ABORT_S: Final = 10.0
HIGH_SLIP_PCT: Final = 30.0
TILT_LIMIT_DEG: Final = 20.0
STEERING_POWER_W: Final = 12.0


class DriveState(StrEnum):
    IDLE = "IDLE"
    DRIVING = "DRIVING"
    TURNING = "TURNING"
    STOPPED_HAZARD = "STOPPED_HAZARD"
    STOPPED_FAULT = "STOPPED_FAULT"


class NavMode(StrEnum):
    MANUAL = "MANUAL"
    GUIDED = "GUIDED"
    AUTONOMOUS = "AUTONOMOUS"


class DriveOutcome(StrEnum):
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    ABORTED = "ABORTED"


@dataclass(slots=True)
class _Drive:
    distance_m: float | None  # a straight drive (signed), or None for a goal
    goal: tuple[float, float] | None
    speed: float
    turn_deg: float | None = None  # a point turn
    done_m: float = 0.0
    started_t: float = 0.0
    detour_m: float = 0.0


class Mobility:
    def __init__(self, x: float, y: float, heading_deg: float, rng: np.random.Generator) -> None:
        self.x, self.y, self.heading = x, y, heading_deg % 360.0
        self.rng = rng
        self.state = DriveState.IDLE
        self.nav_mode = NavMode.AUTONOMOUS
        self.odometry_m = 0.0
        self.speed = 0.0
        self.slip_pct = 0.0
        self.wheel_currents = [0.0] * 4
        self.steering = [0.0] * 4
        self.yaw_rate = 0.0
        self.brakes = True
        self.motors_powered = False
        self.hazard = False
        self.stalled_wheel = 0  # fault: 1..4 stalled
        self.extra_slip = 0.0  # fault: added slip fraction
        self.outcome = DriveOutcome.COMPLETE
        self.abort_reason = ""
        self._drive: _Drive | None = None
        self._stall_s = 0.0
        self._slip_s = 0.0
        self._high_slip_reported = False
        self.last_wheel_m = 0.0
        self.last_true_m = 0.0
        self.last_turn_deg = 0.0

    # ------------------------------------------------------------------ commands
    @property
    def busy(self) -> bool:
        return self.state in (DriveState.DRIVING, DriveState.TURNING)

    def drive_distance(self, distance: float, speed: float, t: float, events: EventSink) -> None:
        self._start(_Drive(distance_m=distance, goal=None, speed=speed, started_t=t), events)

    def drive_to(self, x: float, y: float, speed: float, t: float, events: EventSink) -> None:
        self._start(_Drive(distance_m=None, goal=(x, y), speed=speed, started_t=t), events)

    def turn(self, angle_deg: float, t: float) -> None:
        self._drive = _Drive(distance_m=None, goal=None, speed=0.0, turn_deg=angle_deg, started_t=t)
        self.state = DriveState.TURNING
        self.outcome = DriveOutcome.RUNNING
        self.motors_powered, self.brakes = True, False

    def _start(self, drive: _Drive, events: EventSink) -> None:
        self._drive = drive
        self.state = DriveState.DRIVING
        self.outcome = DriveOutcome.RUNNING
        self.motors_powered, self.brakes = True, False
        self._stall_s = self._slip_s = 0.0
        self._high_slip_reported = False
        if drive.goal is not None:
            distance = math.hypot(drive.goal[0] - self.x, drive.goal[1] - self.y)
        else:
            distance = drive.distance_m or 0.0
        events.raise_event("rover.mobility.drive_started", distance=distance, speed=drive.speed)

    def stop(self, reason: str, events: EventSink, state: DriveState = DriveState.IDLE) -> None:
        """Stop a drive or turn; ``reason`` is a drive-abort label (COMMANDED, STALL, ...)."""
        drive = self._drive
        if drive is not None and self.busy:
            self.outcome = DriveOutcome.ABORTED
            self.abort_reason = reason
            if drive.turn_deg is None:
                events.raise_event(
                    "rover.mobility.drive_aborted", distance=drive.done_m, reason=reason
                )
        self._drive = None
        self.state = state
        self._halt()

    def reset(self) -> None:
        """Clear a STOPPED_* state (a new drive command also does)."""
        if not self.busy:
            self.state = DriveState.IDLE

    def _halt(self) -> None:
        self.speed = 0.0
        self.motors_powered, self.brakes = False, True
        self.wheel_currents = [0.0] * 4
        self.yaw_rate = 0.0

    # ------------------------------------------------------------------ physics
    def remaining_m(self) -> float:
        drive = self._drive
        if drive is None or not self.busy:
            return 0.0
        if drive.goal is not None:
            return math.hypot(drive.goal[0] - self.x, drive.goal[1] - self.y)
        if drive.distance_m is not None:
            return max(0.0, abs(drive.distance_m) - drive.done_m)
        return 0.0

    def slope_state(self) -> tuple[float, float, float]:
        """(slope, pitch, roll) in degrees at the rover."""
        pitch, roll = terrain.pitch_roll_deg(self.x, self.y, self.heading)
        return terrain.slope_deg(self.x, self.y), pitch, roll

    def step(self, dt: float, t: float, events: EventSink) -> None:
        self.last_wheel_m = self.last_true_m = self.last_turn_deg = 0.0
        drive = self._drive
        if drive is None or not self.busy:
            self._halt()
            self.slip_pct = 0.0
            self.steering = [0.0] * 4
            return
        if drive.turn_deg is not None:
            self._turn_step(dt, drive, events)
            return
        target = self._target_heading(drive)
        error = (target - self.heading + 180.0) % 360.0 - 180.0
        if abs(error) > 3.0:
            # Point turn towards the goal before driving on.
            turn = math.copysign(min(abs(error), TURN_RATE_DEG_S * dt), error)
            self.heading = (self.heading + turn) % 360.0
            self.last_turn_deg = turn
            self.yaw_rate = turn / dt
            self.steering = [45.0, -45.0, -45.0, 45.0]
            self.speed = 0.0
            self._currents(0.6, 0.0)
            return
        self.heading = (self.heading + error) % 360.0
        self.steering = [error * 0.5 + self.rng.normal(0.0, 0.3) for _ in range(4)]
        self.yaw_rate = error / dt
        slope, pitch, roll = self.slope_state()
        if self._guards(drive, dt, pitch, roll, events):
            return
        slip = min(0.95, 0.02 + 0.012 * slope + max(0.0, pitch) * 0.006 + self.extra_slip)
        slip += self.rng.normal(0.0, 0.01)
        slip = min(0.95, max(0.0, slip))
        wheel_ds = drive.speed * dt
        remaining = self.remaining_m()
        if self.stalled_wheel:
            wheel_ds *= 0.0
        true_ds = min(wheel_ds * (1.0 - slip), remaining)
        if true_ds <= 0.0 and remaining <= 0.01:
            self._finish(drive, t, events)
            return
        if true_ds < wheel_ds * (1.0 - slip):
            wheel_ds = true_ds / (1.0 - slip)
        sign = -1.0 if (drive.distance_m or 0.0) < 0 else 1.0
        h = math.radians(self.heading)
        self.x += sign * true_ds * math.sin(h)
        self.y += sign * true_ds * math.cos(h)
        self.odometry_m += wheel_ds
        drive.done_m += true_ds
        self.last_wheel_m = sign * wheel_ds
        self.last_true_m = true_ds
        self.slip_pct = slip * 100.0
        self.speed = sign * true_ds / dt
        self._currents(1.0 + 2.5 * math.sin(math.radians(pitch)) + 0.8 * slip, pitch)
        if self.remaining_m() <= 0.01:
            self._finish(drive, t, events)

    def _target_heading(self, drive: _Drive) -> float:
        if drive.goal is None:
            return self.heading
        heading = math.degrees(math.atan2(drive.goal[0] - self.x, drive.goal[1] - self.y)) % 360
        if drive.detour_m > 0.0:
            return (heading + 35.0) % 360.0
        return heading

    def _guards(
        self, drive: _Drive, dt: float, pitch: float, roll: float, events: EventSink
    ) -> bool:
        """Stall, tilt, slip and hazard checks; True when the drive stopped."""
        if self.stalled_wheel:
            self._stall_s += dt
            self._currents(1.1, pitch)
            if self._stall_s >= STALL_DETECT_S:
                current = self.wheel_currents[self.stalled_wheel - 1]
                events.raise_event(
                    "rover.mobility.wheel_stall", wheel=self.stalled_wheel, current=current
                )
                self.stop("STALL", events, DriveState.STOPPED_FAULT)
            return True
        if abs(pitch) > TILT_LIMIT_DEG or abs(roll) > TILT_LIMIT_DEG:
            events.raise_event("rover.mobility.tilt_limit", pitch=pitch, roll=roll)
            self.stop("TILT", events, DriveState.STOPPED_HAZARD)
            return True
        if self.slip_pct > HIGH_SLIP_PCT and not self._high_slip_reported:
            events.raise_event("rover.mobility.high_slip", slip=self.slip_pct)
            self._high_slip_reported = True
        self._slip_s = self._slip_s + dt if self.slip_pct > SLIP_ABORT_PCT else 0.0
        if self._slip_s >= SLIP_ABORT_S and self.nav_mode is not NavMode.MANUAL:
            self.stop("SLIP", events, DriveState.STOPPED_FAULT)
            return True
        self.hazard = (self.nav_mode is not NavMode.MANUAL) and terrain.hazard_ahead(
            self.x, self.y, self.heading
        )
        if drive.detour_m > 0.0:
            drive.detour_m = max(0.0, drive.detour_m - drive.speed * dt)
        if self.hazard:
            if self.nav_mode is NavMode.AUTONOMOUS and drive.goal is not None:
                drive.detour_m = 4.0
                return False
            events.raise_event("rover.mobility.hazard_detected", range=2.0)
            self.stop("HAZARD", events, DriveState.STOPPED_HAZARD)
            return True
        return False

    def _turn_step(self, dt: float, drive: _Drive, events: EventSink) -> None:
        left = (drive.turn_deg or 0.0) - drive.done_m
        turn = math.copysign(min(abs(left), TURN_RATE_DEG_S * dt), left)
        self.heading = (self.heading + turn) % 360.0
        drive.done_m += turn
        self.last_turn_deg = turn
        self.yaw_rate = turn / dt
        self.steering = [45.0, -45.0, -45.0, 45.0]
        self._currents(0.6, 0.0)
        if abs(left - turn) < 1e-6:
            events.raise_event("rover.mobility.turn_complete", heading=self.heading)
            self.outcome = DriveOutcome.COMPLETE
            self._drive = None
            self.state = DriveState.IDLE
            self._halt()

    def _finish(self, drive: _Drive, t: float, events: EventSink) -> None:
        events.raise_event(
            "rover.mobility.drive_complete", distance=drive.done_m, duration=t - drive.started_t
        )
        self.outcome = DriveOutcome.COMPLETE
        self._drive = None
        self.state = DriveState.IDLE
        self._halt()

    def _currents(self, load: float, pitch: float) -> None:
        del pitch
        base = BASE_WHEEL_CURRENT_A * max(0.2, load)
        self.wheel_currents = [max(0.0, base + self.rng.normal(0.0, 0.05)) for _ in range(4)]
        if self.stalled_wheel:
            self.wheel_currents[self.stalled_wheel - 1] = STALL_CURRENT_A + self.rng.normal(0, 0.05)

    @property
    def power_w(self) -> float:
        if not self.motors_powered:
            return 0.0
        return sum(self.wheel_currents) * 28.0 + STEERING_POWER_W

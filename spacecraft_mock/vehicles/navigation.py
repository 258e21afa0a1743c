"""The rover's position ESTIMATE: dead reckoning, landmark matching and ground fixes.

The true position lives in :class:`~spacecraft_mock.vehicles.mobility.Mobility`. The estimate
integrates wheel odometry corrected by the slip that visual odometry measures (with an error) along
the estimated heading (the gyro drifts while turning; the star tracker bounds it). Its 1-sigma
grows with the distance driven since the last fix (seeds: navigation.dead_reckoning_error_fraction,
2 % of the distance); a landmark match (camera images against orbital maps) or a ground fix
(same-beam interferometry, VLBI) resets it. Only the estimate and its sigma are downlinked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spacecraft_mock.vehicles.events import EventSink
from spacecraft_mock.vehicles.mobility import Mobility

LANDMARK_SIGMA_M = 0.5
STAR_TRACKER_SIGMA_DEG = 0.05
GYRO_DRIFT_PER_DEG = 0.004
"""Heading error added per degree turned (0.4 %), before the star tracker corrects it."""


@dataclass(slots=True)
class Navigation:
    rng: np.random.Generator
    error_fraction: float
    est_x: float = 0.0
    est_y: float = 0.0
    heading_error: float = 0.0
    sigma_fix: float = 1.0
    distance_since_fix: float = 0.0
    sigma_heading: float = STAR_TRACKER_SIGMA_DEG
    slip_bias: float = 0.0
    match_time: float = 0.0
    match_quality: float = 0.0
    match_count: int = 0
    star_tracker: str = "TRACKING"
    star_tracker_failed: bool = False
    imu_failed: bool = False
    stars: int = 11

    @classmethod
    def start(
        cls, mobility: Mobility, rng: np.random.Generator, error_fraction: float
    ) -> Navigation:
        nav = cls(rng=rng, error_fraction=error_fraction)
        nav.est_x = mobility.x + float(rng.normal(0.0, 0.7))
        nav.est_y = mobility.y + float(rng.normal(0.0, 0.7))
        return nav

    def est_heading(self, mobility: Mobility) -> float:
        return (mobility.heading + self.heading_error) % 360.0

    @property
    def sigma(self) -> float:
        return math.hypot(self.sigma_fix, self.error_fraction * self.distance_since_fix)

    def step(self, dt: float, mobility: Mobility, lit: bool) -> None:
        if mobility.last_turn_deg:
            self.heading_error += abs(mobility.last_turn_deg) * float(
                self.rng.normal(0.0, GYRO_DRIFT_PER_DEG)
            )
        if mobility.last_wheel_m and abs(self.slip_bias) < 1e-9:
            # A new drive: visual odometry's slip estimate carries its own bias for a while.
            self.slip_bias = float(self.rng.normal(0.0, self.error_fraction * 0.6))
        if not mobility.busy:
            self.slip_bias = 0.0
        self.star_tracker = self._star_tracker_state(lit)
        if self.star_tracker == "TRACKING":
            self.stars = 9 + int(self.rng.integers(0, 5))
            self.heading_error += (
                float(self.rng.normal(0.0, STAR_TRACKER_SIGMA_DEG)) - self.heading_error
            ) * min(1.0, dt / 60.0)
            self.sigma_heading = STAR_TRACKER_SIGMA_DEG
        else:
            self.stars = 0
            self.sigma_heading = min(20.0, self.sigma_heading + 0.002 * dt)
            self.heading_error += float(self.rng.normal(0.0, 0.0015 * math.sqrt(dt)))
        wheel = mobility.last_wheel_m
        if wheel:
            measured = 1.0 - (mobility.slip_pct / 100.0 + self.slip_bias)
            ds = wheel * measured
            h = math.radians(self.est_heading(mobility))
            lateral = float(self.rng.normal(0.0, 0.3 * self.error_fraction))
            self.est_x += ds * (math.sin(h) + lateral * math.cos(h))
            self.est_y += ds * (math.cos(h) - lateral * math.sin(h))
            self.distance_since_fix += abs(ds)

    def _star_tracker_state(self, lit: bool) -> str:
        if self.star_tracker_failed:
            return "FAULT"
        del lit  # the boresight points to the sky away from the Sun, which stays near the horizon
        return "TRACKING"

    def landmark_match(self, t: float, mobility: Mobility, lit: float, events: EventSink) -> bool:
        """Match camera images against orbital maps; True when the estimate was corrected."""
        quality = min(0.98, max(0.0, 0.45 + 0.45 * lit + float(self.rng.normal(0.0, 0.08))))
        if quality < 0.6:
            self.match_quality = quality
            events.raise_event("rover.navigation.landmark_match_failed", quality=quality)
            return False
        new_x = mobility.x + float(self.rng.normal(0.0, LANDMARK_SIGMA_M * 0.7))
        new_y = mobility.y + float(self.rng.normal(0.0, LANDMARK_SIGMA_M * 0.7))
        correction = math.hypot(new_x - self.est_x, new_y - self.est_y)
        self.est_x, self.est_y = new_x, new_y
        self.sigma_fix, self.distance_since_fix = LANDMARK_SIGMA_M, 0.0
        self.match_time, self.match_quality = t, quality
        self.match_count += 1
        events.raise_event(
            "rover.navigation.landmark_match", quality=quality, correction=correction
        )
        return True

    def set_position(
        self, x: float, y: float, heading: float, sigma: float, mobility: Mobility
    ) -> None:
        """A ground fix: overwrite the estimate (and the heading) with the ground's solution."""
        self.est_x, self.est_y = x, y
        self.heading_error = (heading - mobility.heading + 180.0) % 360.0 - 180.0
        self.sigma_fix, self.distance_since_fix = sigma, 0.0

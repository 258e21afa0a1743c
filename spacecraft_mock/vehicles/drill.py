"""The rover drill: deploy, drill at about 1 cm/min to 1.5 m, sample every 10 cm, retract.

Torque follows the regolith's hardness at the bit (compaction with depth, ice-cemented layers
below the ice table, see :mod:`spacecraft_mock.terrain`). A jam (fault) makes the torque climb to
the jam threshold; the sequencer then stops rotation and reports JAMMED until it is retracted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np

from spacecraft_mock import terrain
from spacecraft_mock.vehicles.events import EventSink

DEPLOY_S: Final = 30.0
SAMPLING_S: Final = 30.0
TRANSFER_S: Final = 60.0
RETRACT_RATE_M_S: Final = 0.05 / 60.0
JAM_TORQUE_NM: Final = 40.0
JAM_TORQUE_RISE_NM_S: Final = 1.5


class DrillStatus(StrEnum):
    STOWED = "STOWED"
    IDLE = "IDLE"
    DEPLOYING = "DEPLOYING"
    DRILLING = "DRILLING"
    RETRACTING = "RETRACTING"
    SAMPLING = "SAMPLING"
    TRANSFERRING = "TRANSFERRING"
    JAMMED = "JAMMED"
    FAULT = "FAULT"


@dataclass(slots=True)
class Sample:
    sample_id: int
    depth_m: float
    water_wt_pct: float
    x: float
    y: float


class Drill:
    def __init__(self, rng: np.random.Generator, max_depth: float, rate_m_s: float) -> None:
        self.rng = rng
        self.max_depth = max_depth
        self.rate_m_s = rate_m_s
        self.status = DrillStatus.STOWED
        self.depth = 0.0
        self.target_depth = 0.0
        self.sample_step = 0.1
        self.rpm_command = 100.0
        self.rpm = 0.0
        self.torque = 0.0
        self.penetration_mm_min = 0.0
        self.sample_id = 0
        self.samples_collected = 0
        self.cup: Sample | None = None
        self.delivered: Sample | None = None
        self.delivered_to = ""
        self.jam_flag = False
        self.reverse = False
        self.jam_fault = False
        self._timer = 0.0
        self._next_sample = 0.1
        self._after_deploy = DrillStatus.IDLE
        self._after_transfer = DrillStatus.IDLE
        self.busy_since = 0.0

    @property
    def motor_enabled(self) -> bool:
        return self.status in (
            DrillStatus.DRILLING,
            DrillStatus.RETRACTING,
            DrillStatus.SAMPLING,
        ) or (self.status is DrillStatus.IDLE and self.rpm > 0)

    @property
    def busy(self) -> bool:
        return self.status in (
            DrillStatus.DEPLOYING,
            DrillStatus.DRILLING,
            DrillStatus.RETRACTING,
            DrillStatus.SAMPLING,
            DrillStatus.TRANSFERRING,
        )

    @property
    def power_w(self) -> float:
        if not self.motor_enabled and self.status is not DrillStatus.DEPLOYING:
            return 0.0
        if self.status is DrillStatus.DEPLOYING:
            return 40.0
        return 60.0 + 8.0 * self.torque * abs(self.rpm) / 100.0

    @property
    def motor_current_a(self) -> float:
        return 0.3 + 0.12 * self.torque if self.motor_enabled else 0.0

    # ------------------------------------------------------------------ commands
    def start(self, rpm: float, events: EventSink) -> None:
        self.rpm_command = rpm
        if self.status is DrillStatus.STOWED:
            self._deploy(DrillStatus.IDLE)
        self.rpm = rpm if self.status is DrillStatus.IDLE else 0.0
        events.raise_event("rover.drill.started", target=self.depth)

    def to_depth(self, depth: float, step: float, rpm: float, events: EventSink) -> None:
        self.target_depth = min(self.max_depth, depth)
        self.sample_step = step
        self.rpm_command = rpm
        self._next_sample = (int(self.depth / step + 1e-6) + 1) * step
        if self.status is DrillStatus.STOWED:
            self._deploy(DrillStatus.DRILLING)
        else:
            self.status = DrillStatus.DRILLING
        events.raise_event("rover.drill.started", target=self.target_depth)

    def stop(self, events: EventSink) -> None:
        self.rpm = 0.0
        if self.status in (DrillStatus.DRILLING, DrillStatus.SAMPLING, DrillStatus.RETRACTING):
            self.status = DrillStatus.IDLE
        events.raise_event("rover.drill.stopped", depth=self.depth)

    def retract(self) -> None:
        self.reverse = self.status is DrillStatus.JAMMED
        self.jam_flag = False
        self.status = DrillStatus.RETRACTING
        self.target_depth = 0.0

    def transfer(self, destination: str) -> None:
        self.status = DrillStatus.TRANSFERRING
        self._timer = TRANSFER_S
        self.delivered_to = destination

    def _deploy(self, then: DrillStatus) -> None:
        self.status = DrillStatus.DEPLOYING
        self._timer = DEPLOY_S
        self._after_deploy = then

    # ------------------------------------------------------------------ physics
    def step(self, dt: float, x: float, y: float, events: EventSink) -> None:
        self.penetration_mm_min = 0.0
        status = self.status
        if status is DrillStatus.DEPLOYING:
            self._timer -= dt
            if self._timer <= 0:
                self.status = self._after_deploy
                self.rpm = self.rpm_command if self.status is DrillStatus.DRILLING else 0.0
        elif status is DrillStatus.DRILLING:
            self._drill_step(dt, x, y, events)
        elif status is DrillStatus.SAMPLING:
            self._timer -= dt
            self._torque(x, y, 0.3)
            if self._timer <= 0:
                self._take_sample(x, y, events)
        elif status is DrillStatus.RETRACTING:
            self.rpm = -30.0 if self.reverse else 30.0
            self.depth = max(0.0, self.depth - RETRACT_RATE_M_S * dt)
            self._torque(x, y, 0.4)
            if self.depth <= 0.0:
                self.status, self.rpm, self.torque, self.reverse = (
                    DrillStatus.STOWED,
                    0.0,
                    0.0,
                    False,
                )
                events.raise_event("rover.drill.stopped", depth=0.0)
        elif status is DrillStatus.TRANSFERRING:
            self._timer -= dt
            if self._timer <= 0 and self.cup is not None:
                self.delivered = self.cup
                self.cup = None
                events.raise_event(
                    "rover.drill.sample_transferred",
                    sample_id=self.delivered.sample_id,
                    destination=self.delivered_to,
                )
                self.status = DrillStatus.IDLE if self.depth > 0 else DrillStatus.STOWED
        elif status is DrillStatus.JAMMED:
            self.rpm = 0.0
            self.torque = max(0.0, self.torque - 2.0 * dt)
        else:
            self.torque = (
                max(0.0, self.torque - 5.0 * dt) if self.rpm == 0 else self._torque(x, y, 0.2)
            )

    def _drill_step(self, dt: float, x: float, y: float, events: EventSink) -> None:
        self.rpm = self.rpm_command
        if self.jam_fault:
            self.torque = min(JAM_TORQUE_NM + 2.0, self.torque + JAM_TORQUE_RISE_NM_S * dt)
            if self.torque >= JAM_TORQUE_NM:
                self.status, self.jam_flag, self.rpm = DrillStatus.JAMMED, True, 0.0
                events.raise_event("rover.drill.jam", depth=self.depth, torque=self.torque)
            return
        self._torque(x, y, 1.0)
        advance = min(self.rate_m_s * dt, self.target_depth - self.depth)
        self.depth += max(0.0, advance)
        self.penetration_mm_min = max(0.0, advance) / dt * 60_000.0
        if self.depth >= self._next_sample - 1e-9:
            self.status = DrillStatus.SAMPLING
            self._timer = SAMPLING_S
            return
        if self.depth >= self.target_depth - 1e-9:
            self._reached(events)

    def _take_sample(self, x: float, y: float, events: EventSink) -> None:
        self.sample_id += 1
        self.samples_collected = min(255, self.samples_collected + 1)
        self.cup = Sample(self.sample_id, self.depth, terrain.water_wt_pct(x, y, self.depth), x, y)
        events.raise_event(
            "rover.drill.sample_acquired", sample_id=self.sample_id, depth=self.depth
        )
        self._next_sample += self.sample_step
        if self.depth >= self.target_depth - 1e-9:
            self._reached(events)
        else:
            self.status = DrillStatus.DRILLING

    def _reached(self, events: EventSink) -> None:
        self.status, self.rpm = DrillStatus.IDLE, 0.0
        events.raise_event("rover.drill.depth_reached", depth=self.depth)

    def _torque(self, x: float, y: float, share: float) -> float:
        base = (
            3.0
            + 7.0 * terrain.hardness(x, y, self.depth) * (max(10.0, abs(self.rpm)) / 100.0) ** 0.3
        )
        self.torque = max(0.0, base * share + float(self.rng.normal(0.0, 0.3)))
        return self.torque

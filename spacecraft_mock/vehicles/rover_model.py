"""The rover as the on-board software sees it: physics, plan, telemetry, commands and FDIR."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from mission.facts import MissionFacts
from mission.mdb import MissionDatabase
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.environment import EnvSample
from spacecraft_mock.obsw import rover_fdir
from spacecraft_mock.obsw.rover_commands import RoverCommands
from spacecraft_mock.rng import RandomStreams
from spacecraft_mock.vehicles.events import EventSink
from spacecraft_mock.vehicles.instruments import INSTRUMENTS
from spacecraft_mock.vehicles.plan import ActivityPlan
from spacecraft_mock.vehicles.rover import Rover
from spacecraft_mock.vehicles.rover_science import rover_packet_values, rover_science_enabled

if TYPE_CHECKING:
    from spacecraft_mock.obsw.onboard import Handler, OnboardSoftware

SAFE_RECOVERY_SOC = 40.0


class RoverModel:
    name = "rover"

    def __init__(
        self,
        db: MissionDatabase,
        facts: MissionFacts,
        config: WorldConfig,
        streams: RandomStreams,
        t0: float,
    ) -> None:
        self.rover = Rover(facts, config, streams, t0)
        self.events: EventSink = self.rover.events
        self.plan = ActivityPlan(
            self.rover, config.activity_plan, facts.number("mobility.max_distance_per_day_m")
        )
        self.zone_limits = rover_fdir.zone_limits(db)
        self.fdir_state = rover_fdir.FdirState()
        self.pending_reboot: str | None = None
        self.auto_wake = True
        self.safe_recovery_s = config.safe_recovery_s

    # ------------------------------------------------------------------ VehicleModel
    def telemetry(self, obsw: OnboardSoftware, packet: str) -> dict[str, object]:
        return rover_packet_values(self.rover, obsw, packet)

    def science_enabled(self, packet: str) -> bool:
        return rover_science_enabled(self.rover, packet)

    def handlers(self, obsw: OnboardSoftware) -> Mapping[str, Handler]:
        return RoverCommands(self, obsw).handlers()

    def fdir(self, obsw: OnboardSoftware) -> None:
        st = self.fdir_state
        dt = obsw.now - st.last_t if st.last_t else 0.0
        st.last_t = obsw.now
        rover_fdir.monitor(self, obsw, st, dt)
        if obsw.fdir_enabled:
            rover_fdir.fdir(self, obsw, st, dt)
        if (
            obsw.mode == "SAFE"
            and self.safe_recovery_s is not None
            and obsw.now - obsw.safe_since >= self.safe_recovery_s
            and self.rover.soc_pct >= SAFE_RECOVERY_SOC
            and self.rover.lit > 0.5
        ):
            obsw.set_mode("NOMINAL")

    def on_mode(self, obsw: OnboardSoftware, mode: str) -> None:
        r = self.rover
        r.mode = mode
        if mode in ("SAFE", "HIBERNATION"):
            r.mobility.stop("COMMANDED", r.events)
            r.drill.stop(r.events)
            for name in INSTRUMENTS:
                r.payload.power(name, False, r.events)
            r.radio.hga_stowed = True
            r.radio.antenna, r.radio.rate = "LGA", "RATE_16K"
            r.radio.transmitter_on = mode == "SAFE"
            if mode == "HIBERNATION":
                r.thermal["avionics"].heater.set_points(-12.0, -8.0)  # type: ignore[union-attr]
        elif mode == "NOMINAL":
            r.radio.transmitter_on = True
            r.radio.antenna, r.radio.rate = "HGA", "RATE_2M"
            r.radio.hga_stowed, r.radio.hga_fixed = False, None
            r.thermal["avionics"].heater.set_points(-10.0, -5.0)  # type: ignore[union-attr]
            for name in ("NS", "GPR"):
                r.payload.power(name, True, r.events)

    def on_reboot(self, obsw: OnboardSoftware) -> None:
        r = self.rover
        r.mobility.stop("COMMANDED", EventSink())
        r.drill.stop(EventSink())
        for name in INSTRUMENTS:
            r.payload.on[name] = False
        r.radio.transmitter_on = False
        r.mode = "BOOT"
        self.events.drain()

    # ------------------------------------------------------------------ world
    def step(self, dt: float, env: EnvSample, obsw: OnboardSoftware) -> None:
        if self.pending_reboot is not None and obsw.alive:
            reason, self.pending_reboot = self.pending_reboot, None
            obsw.reboot(reason)
        if not obsw.alive:
            self.rover.radio.transmitter_on = False
        elif obsw.mode in ("BOOT", "SAFE") and not self.rover.radio.transmitter_on:
            self.rover.radio.transmitter_on = True
            self.rover.mode = obsw.mode
        self.rover.step(dt, env)
        self.plan.step(env.t, obsw.alive and obsw.mode == "NOMINAL")

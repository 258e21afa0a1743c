"""The lander as its on-board software sees it: physics, telemetry, commands and FDIR."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from mission.facts import MissionFacts
from mission.mdb import MissionDatabase
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.environment import EnvSample
from spacecraft_mock.obsw import lander_fdir
from spacecraft_mock.obsw.fdir_rules import FdirState
from spacecraft_mock.obsw.lander_commands import LanderCommands
from spacecraft_mock.rng import RandomStreams
from spacecraft_mock.vehicles.events import EventSink
from spacecraft_mock.vehicles.lander import LANDER_INSTRUMENTS, Lander
from spacecraft_mock.vehicles.lander_telemetry import (
    lander_packet_values,
    lander_science_enabled,
)

if TYPE_CHECKING:
    from spacecraft_mock.obsw.onboard import Handler, OnboardSoftware


class LanderModel:
    name = "lander"

    def __init__(
        self,
        db: MissionDatabase,
        facts: MissionFacts,
        config: WorldConfig,
        streams: RandomStreams,
        t0: float,
    ) -> None:
        self.lander = Lander(facts, streams, t0)
        self.events: EventSink = self.lander.events
        self.zone_limits = lander_fdir.zone_limits(db)
        self.fdir_state = FdirState()
        self.pending_reboot: str | None = None
        self.safe_recovery_s = config.safe_recovery_s

    def telemetry(self, obsw: OnboardSoftware, packet: str) -> dict[str, object]:
        return lander_packet_values(self.lander, obsw, self.fdir_state.heater_fault, packet)

    def science_enabled(self, packet: str) -> bool:
        return lander_science_enabled(self.lander, packet)

    def handlers(self, obsw: OnboardSoftware) -> Mapping[str, Handler]:
        return LanderCommands(self, obsw).handlers()

    def fdir(self, obsw: OnboardSoftware) -> None:
        st = self.fdir_state
        dt = obsw.now - st.last_t if st.last_t else 0.0
        st.last_t = obsw.now
        lander_fdir.monitor(self, obsw, st, dt)
        if obsw.fdir_enabled:
            lander_fdir.fdir(self, obsw, st, dt)
        if (
            obsw.mode == "SAFE"
            and self.safe_recovery_s is not None
            and obsw.now - obsw.safe_since >= self.safe_recovery_s
            and self.lander.power.battery.soc > 0.4
        ):
            obsw.set_mode("NOMINAL")

    def on_mode(self, obsw: OnboardSoftware, mode: str) -> None:
        la = self.lander
        la.mode = mode
        if mode == "HIBERNATION":
            la.radio.xband_on = False
            for name in LANDER_INSTRUMENTS:
                la.payload.on[name] = False
        elif mode == "NOMINAL":
            la.radio.xband_on = True
            for name in LANDER_INSTRUMENTS:
                la.payload.on[name] = True

    def on_reboot(self, obsw: OnboardSoftware) -> None:
        la = self.lander
        la.mode = "BOOT"
        la.radio.xband_on = False
        self.events.drain()

    def step(
        self, dt: float, env: EnvSample, obsw: OnboardSoftware, rover_distance: float, driving: bool
    ) -> None:
        if self.pending_reboot is not None and obsw.alive:
            reason, self.pending_reboot = self.pending_reboot, None
            obsw.reboot(reason)
        if (
            obsw.alive
            and obsw.mode in ("BOOT", "SAFE", "NOMINAL")
            and not self.lander.radio.xband_on
        ):
            self.lander.radio.xband_on = True
            self.lander.mode = obsw.mode
        self.lander.step(dt, env, rover_distance, driving)

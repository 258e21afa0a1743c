"""The simulated world: environment, rover, lander, their on-board software, faults and the link.

``World(seed, epoch, facts, mdb, config)`` is stepped on a virtual clock with
:meth:`World.advance_to` (or :meth:`World.step`). Physics runs on a fixed grid of
``config.physics_step_s`` mission seconds from the epoch whatever the caller's steps are, so the
result never depends on how (or how fast) the world is driven; telecommands are handled at their
exact arrival time. Every random number comes from a named stream of the seed. Same seed, epoch and
commands (with their times): byte-identical frames.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mission.facts import MissionFacts, load_facts
from mission.faults import FaultCatalogue, load_faults
from mission.mdb import MissionDatabase, load_mdb
from mission.scenarios import Scenario, load_scenarios
from mission.sim_control import (
    ActiveFault,
    ClearAll,
    ClearFault,
    ControlAck,
    InjectFault,
    SimControl,
    SimStatus,
    StartScenario,
    StopScenario,
    VehicleStatus,
)
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.environment import Environment, EnvSample
from spacecraft_mock.faults import FaultInjector, InjectionError
from spacecraft_mock.faults.injector import ActiveFaultInstance
from spacecraft_mock.link import FrameDelivery, LinkEvent, SpaceLink, StationMonitor
from spacecraft_mock.obsw.farm import FrameVerdict
from spacecraft_mock.obsw.onboard import OnboardSoftware
from spacecraft_mock.rng import RandomStreams
from spacecraft_mock.scenarios import ScenarioRun
from spacecraft_mock.vehicles.lander_model import LanderModel
from spacecraft_mock.vehicles.rover_model import RoverModel

log = logging.getLogger("lupex.spacecraft.world")

RELAY_ERROR_RSSI_DBM = -78.0


@dataclass(slots=True)
class StepOutput:
    """What happened up to the requested time: frames reaching stations, monitor records, log."""

    frames: list[FrameDelivery] = field(default_factory=list)
    monitors: list[StationMonitor] = field(default_factory=list)
    events: list[LinkEvent] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class World:
    def __init__(
        self,
        seed: int,
        epoch: float,
        facts: MissionFacts | None = None,
        mdb: MissionDatabase | None = None,
        config: WorldConfig | None = None,
        faults: FaultCatalogue | None = None,
        scenarios: dict[str, Scenario] | None = None,
    ) -> None:
        if not math.isfinite(epoch):
            msg = f"epoch must be a finite Unix time, not {epoch!r}"
            raise ValueError(msg)
        self.seed = seed
        self.epoch = float(epoch)
        self.facts = facts or load_facts()
        self.db = mdb or load_mdb()
        self.config = config or WorldConfig()
        self.catalogue = faults or load_faults()
        self._scenarios = scenarios
        self.streams = RandomStreams(seed)
        self.env = Environment(
            self.epoch,
            self.facts,
            far_horizon_deg=self.config.far_horizon_deg,
            step_s=self.config.geometry_step_s,
        )
        self.rover_model = RoverModel(self.db, self.facts, self.config, self.streams, self.epoch)
        self.lander_model = LanderModel(self.db, self.facts, self.config, self.streams, self.epoch)
        self.models: dict[str, RoverModel | LanderModel] = {
            "rover": self.rover_model,
            "lander": self.lander_model,
        }
        self.rover = self.rover_model.rover
        self.lander = self.lander_model.lander
        self.obsw = {
            name: OnboardSoftware(self.db, model, self.config, self.epoch)
            for name, model in (("rover", self.rover_model), ("lander", self.lander_model))
        }
        self.link = SpaceLink(self.facts, self.config, self.streams)
        self.injector = FaultInjector(self, self.catalogue)
        self.scenario: ScenarioRun | None = None
        self.relay_rng = self.streams.stream("link.relay")
        self.t = self.epoch
        self._last_tick = self.epoch
        self._next_tick = self.epoch + self.config.physics_step_s
        self._next_monitor = self.epoch
        self._out = StepOutput()
        self.sample: EnvSample = self.env.sample(self.epoch)
        self.link.update(self.sample, 0.0)
        self._update_paths()

    # ------------------------------------------------------------------ stepping
    def step(self, dt: float) -> StepOutput:
        return self.advance_to(self.t + dt)

    def advance_to(self, t: float) -> StepOutput:
        """Run the world up to mission time ``t``; return what reached the ground by then."""
        if t < self.t:
            msg = f"the world cannot go back in time ({t} < {self.t})"
            raise ValueError(msg)
        while True:
            tick = self._next_tick
            tc = self.link.next_uplink_time()
            if min(tick, tc) > t:
                break
            if tc <= tick:
                self._arrive_tc()
            else:
                self._tick(tick)
                self._next_tick = self.epoch + self.config.physics_step_s * (
                    round((tick - self.epoch) / self.config.physics_step_s) + 1
                )
        self.t = t
        out, self._out = self._out, StepOutput()
        out.frames = self.link.due(t)
        out.events.extend(self.link.events)
        self.link.events.clear()
        return out

    def _tick(self, t: float) -> None:
        dt = t - self._last_tick
        self._last_tick = t
        self.sample = env = self.env.sample(t)
        for instance in self.injector.update(t):
            self._out.log.append(f"fault {instance.instance_id} ended")
        if self.scenario is not None:
            self._out.log.extend(self.scenario.update(t))
        self.link.update(env, dt)
        self._update_paths()
        lander_obsw, rover_obsw = self.obsw["lander"], self.obsw["rover"]
        self.lander_model.step(
            dt, env, lander_obsw, self.rover.distance_to_lander, self.rover.mobility.busy
        )
        self.rover.lander_relay_on = self.lander.radio.relay_enabled and lander_obsw.alive
        self.rover_model.step(dt, env, rover_obsw)
        self.lander.rover_rssi = self.rover.radio.relay_rssi
        self.lander.rover_link_up = self.rover.radio.relay_up
        lander_obsw.step(t - dt, t)
        rover_obsw.step(t - dt, t)
        self._transmit()
        if t >= self._next_monitor:
            self._out.monitors.extend(self.link.monitors(env))
            self._next_monitor = t + self.config.monitor_interval_s

    def _update_paths(self) -> None:
        lo, ro = self.obsw["lander"], self.obsw["rover"]
        lander, rover, link = self.lander, self.rover, self.link
        prime = link.prime is not None
        lander_tx = lo.alive and lander.radio.xband_on and not lander.radio.xband_fault
        lander_ok = lander_tx and lander.earth_visible and prime
        link.set_path(
            "lander",
            "hga" if lander_ok else None,
            link.lander_emitter(lander.radio.rate_bps) if lander_ok else None,
            0.0,
        )
        lo.downlink_rate_bps = lander.radio.rate_bps
        lo.set_link(lander_ok)
        lo.uplink_locked = lo.alive and lander.earth_visible and prime
        radio = rover.radio
        relay_ok = radio.relay_up and lander_ok
        tx = ro.alive and radio.transmitter_on
        path: str | None = None
        if tx and radio.hga_usable and rover.earth_visible and prime:
            path = "hga"
        elif tx and relay_ok:
            path = "relay"
        elif tx and radio.antenna == "LGA" and rover.earth_visible and prime:
            path = "lga"
        rover.path = path
        emitter, loss = link.rover_emitter(path, radio.rate, radio.pointing_error)
        link.set_path("rover", path, emitter, loss)
        ro.store_science = path == "lga" and self.config.store_science_on_lga
        ro.downlink_rate_bps = emitter.rate_bps if emitter is not None else 0.0
        ro.set_link(path is not None)
        ro.uplink_locked = ro.alive and ((rover.earth_visible and prime) or relay_ok)

    def _transmit(self) -> None:
        for name, obsw in self.obsw.items():
            for out in obsw.take_frames():
                if name == "rover" and self.rover.path == "relay":
                    rssi = self.rover.radio.relay_rssi
                    p_error = min(0.5, max(0.0, (RELAY_ERROR_RSSI_DBM - rssi) / 14.0))
                    if p_error and float(self.relay_rng.random()) < p_error:
                        self.lander.radio.relay_frame_errors += 1
                        continue
                    self.lander.radio.frames_relayed += 1
                self.link.transmit(name, out.frame, out.time)

    def _arrive_tc(self) -> None:
        arrival, station, spacecraft, frame = self.link.pop_uplink()
        obsw = self.obsw.get(spacecraft)
        if obsw is None:
            return
        obsw.now = arrival
        verdict = obsw.receive_tc_frame(frame)
        if verdict is None:
            self._out.log.append(f"TC frame for {spacecraft} via {station} lost (rebooting)")
        elif verdict is not FrameVerdict.ACCEPTED:
            self._out.log.append(f"TC frame for {spacecraft} via {station}: {verdict.value}")
        self._transmit()

    # ------------------------------------------------------------------ uplink
    def receive_uplink(
        self, station: str, spacecraft: str, frame: bytes, t: float | None = None
    ) -> bool:
        """A station radiates a TC frame at mission time ``t`` (default now).

        True when it will reach the vehicle one light time later; False when it is lost (station
        not in view or in an outage, vehicle unable to hear it).
        """
        if spacecraft == "rover":
            ro = self.obsw["rover"]
            relay = self.rover.radio.relay_up and self.lander.earth_visible
            hear = ro.alive and (self.rover.earth_visible or relay)
        elif spacecraft == "lander":
            hear = self.lander.earth_visible
        else:
            return False
        return self.link.uplink(station, spacecraft, frame, self.t if t is None else t, hear)

    # ------------------------------------------------------------------ control
    def scenarios(self) -> dict[str, Scenario]:
        if self._scenarios is None:
            self._scenarios = load_scenarios(mdb=self.db, faults=self.catalogue)
        return self._scenarios

    def apply_control(self, message: SimControl) -> ControlAck:
        """Faults and scenarios (speed and pause belong to the runner)."""
        now = self.t
        try:
            detail = self._control(message, now)
        except InjectionError as exc:
            return ControlAck(
                request_id=message.request_id, action=message.action, accepted=False,
                reason=str(exc), time=now,
            )  # fmt: skip
        self._out.log.append(f"control {message.action}: {detail}")
        return ControlAck(
            request_id=message.request_id, action=message.action, accepted=True, reason=detail,
            time=now,
        )  # fmt: skip

    def _control(self, message: SimControl, now: float) -> str:
        if isinstance(message, InjectFault):
            duration = None if message.until_cleared else message.duration_s
            instance = self.injector.inject(
                message.fault, dict(message.params), duration, now,
                use_default_duration=not message.until_cleared,
            )  # fmt: skip
            return f"injected {instance.instance_id}"
        if isinstance(message, ClearFault):
            cleared = self.injector.clear(message.fault, now)
            return f"cleared {', '.join(i.instance_id for i in cleared) or 'nothing'}"
        if isinstance(message, ClearAll):
            cleared = self.injector.clear_all(now)
            return f"cleared {len(cleared)} fault(s)"
        if isinstance(message, StartScenario):
            return self.start_scenario(message.scenario)
        if isinstance(message, StopScenario):
            if self.scenario is None or self.scenario.state != "running":
                raise InjectionError("no scenario is running")
            self.scenario.finish(now, "stopped", clear=message.clear_faults)
            return f"stopped {self.scenario.scenario.name}"
        raise InjectionError(f"{message.action} is handled by the runner")

    def start_scenario(self, name: str) -> str:
        scenario = self.scenarios().get(name)
        if scenario is None:
            raise InjectionError(
                f"unknown scenario {name!r}; known: {', '.join(sorted(self.scenarios()))}"
            )
        if self.scenario is not None and self.scenario.state == "running":
            self.scenario.finish(self.t, "stopped")
        if scenario.setup.activity is not None:
            self.rover_model.plan.force(scenario.setup.activity)
        self.scenario = ScenarioRun(scenario, self.injector, self.t)
        self._out.log.extend(self.scenario.update(self.t))
        return f"started {name}"

    # ------------------------------------------------------------------ status
    def status(
        self, *, wall_time: float, speed: float, paused: bool, lag_s: float,
        last_control: ControlAck | None = None, running: bool = True,
    ) -> SimStatus:  # fmt: skip
        def described(f: ActiveFaultInstance) -> ActiveFault:
            return ActiveFault(
                instance_id=f.instance_id,
                fault=f.fault,
                title=f.title,
                params=dict(f.params),
                start=f.start,
                end=f.end,
                source=f.source,
                ended=f.ended,
            )

        faults = [described(f) for f in self.injector.active.values()]
        recent = [described(f) for f in self.injector.history]
        vehicles = {
            name: VehicleStatus(
                mode=obsw.mode,
                link_path=self.rover.path if name == "rover" else self.link.paths["lander"].path,
                storage_fill_pct=round(obsw.store.fill_pct, 3),
                tc_frames_rejected=obsw.farm.frames_rejected,
            )
            for name, obsw in self.obsw.items()
        }
        return SimStatus(
            mission_time=self.t,
            mission_time_iso=iso(self.t),
            wall_time=wall_time,
            epoch=self.epoch,
            speed=speed,
            paused=paused,
            seed=self.seed,
            lag_s=lag_s,
            prime_station=self.link.prime,
            active_faults=faults,
            recent_faults=recent,
            scenario=self.scenario.status(self.t) if self.scenario is not None else None,
            vehicles=vehicles,
            last_control=last_control,
            running=running,
        )

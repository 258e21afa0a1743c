"""The LUPEX rover: its subsystems stepped together on the fixed physics step.

Power (a 500 W vertical array as four strings, a 5 kWh battery), thermal (see rover_thermal),
mobility and navigation, drill, instruments and radios. Loads follow the mode and the activity
(seeds: hibernate 40 W, idle 120 W, +150 W driving, +250 W drilling, +100 W oven).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mission.facts import MissionFacts
from spacecraft_mock import terrain
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.environment import ROVER_EYE_M, EnvSample
from spacecraft_mock.rng import NormalBlock, RandomStreams
from spacecraft_mock.vehicles.comms import RoverRadio
from spacecraft_mock.vehicles.drill import Drill
from spacecraft_mock.vehicles.events import EventSink
from spacecraft_mock.vehicles.instruments import RoverPayload
from spacecraft_mock.vehicles.mobility import Mobility
from spacecraft_mock.vehicles.navigation import Navigation
from spacecraft_mock.vehicles.power import Battery, Panel, PowerSystem
from spacecraft_mock.vehicles.rover_thermal import rover_network
from spacecraft_mock.vehicles.thermal import ThermalNetwork, sink_temperature_c

PANEL_NORMAL_OFFSET_DEG = 90.0
"""The vertical array faces the rover's right-hand side; parked, the rover turns it to the Sun."""


@dataclass(slots=True)
class Loads:
    """Mode-dependent base loads of the rover in watts (assumed split of the seeds' totals)."""

    avionics: dict[str, float] = field(
        default_factory=lambda: {"NOMINAL": 55.0, "SAFE": 45.0, "HIBERNATION": 15.0, "BOOT": 30.0}
    )
    cameras_driving: float = 5.0


class Rover:
    name = "rover"

    def __init__(
        self, facts: MissionFacts, config: WorldConfig, streams: RandomStreams, t0: float
    ) -> None:
        self.facts = facts
        self.config = config
        self.events = EventSink()
        self.streams = streams
        x0, y0 = config.rover_start_m
        rng = streams.stream
        peak = facts.number("power.rover_array_peak_w") / 4.0
        efficiencies = (1.0, 0.985, 0.992, 0.978)
        self.power = PowerSystem(
            panels=[Panel(peak, PANEL_NORMAL_OFFSET_DEG, e) for e in efficiencies],
            battery=Battery(
                capacity_wh=facts.number("power.rover_battery_usable_wh"),
                soc=0.80,
                soc_max=facts.numbers("power.rover_battery_soc_limits")[1],
            ),
            dust_factor=0.97,
        )
        self.thermal: ThermalNetwork = rover_network()
        self.mobility = Mobility(x0, y0, 0.0, rng("rover.mobility"))
        self.nav = Navigation.start(
            self.mobility,
            rng("rover.navigation"),
            facts.number("navigation.dead_reckoning_error_fraction"),
        )
        self.drill = Drill(
            rng("rover.drill"),
            facts.number("drill.max_depth_m"),
            facts.number("drill.rate_m_per_min") / 60.0,
        )
        self.payload = RoverPayload(
            rng("rover.payload"),
            facts.number("ns.dry_thermal_cps"),
            facts.number("ns.dry_epithermal_cps"),
        )
        self.payload.ns.bin_s = facts.number("ns.bin_s")
        self.radio = RoverRadio(rng("rover.comms"))
        self.noise = NormalBlock(rng("rover.sensors"))
        self.loads = Loads()
        self.mode = "NOMINAL"
        self.lit = 1.0
        self.earth_visible = True
        self.surface_k = 250.0
        self.sink_c = -100.0
        self.sun_el = 0.0
        self.sun_az = 0.0
        self.earth_el = 0.0
        self.earth_az = 0.0
        self.lander_relay_on = True
        self.path: str | None = "hga"
        """How the rover reaches Earth now: hga, relay, lga or None (set by the space link)."""
        self.moved_m = 0.0
        self.t = t0
        self.sensor_stuck: dict[str, object] = {}
        """Fault: parameter name -> frozen value."""
        self._settle()

    def _settle(self) -> None:
        """Start the HGA on the Earth and the heading with the array to the Sun (set at step 1)."""
        self._first_step = True

    # ------------------------------------------------------------------ physics
    def step(self, dt: float, env: EnvSample) -> None:
        self.t = env.t
        m = self.mobility
        if self._first_step:
            self._first_step = False
            m.heading = (env.sun_az - PANEL_NORMAL_OFFSET_DEG) % 360.0
        self.sun_el, self.sun_az = env.sun_el, env.sun_az
        self.earth_el, self.earth_az = env.earth_el, env.earth_az
        self.lit = env.sunlit_fraction(m.x, m.y, ROVER_EYE_M)
        self.earth_visible = env.earth_visible(m.x, m.y, ROVER_EYE_M)
        self.surface_k = terrain.surface_temperature_k(
            m.x, m.y, env.sun_el, env.sun_az, self.lit > 0.5
        )
        self.sink_c = sink_temperature_c(self.surface_k)
        m.step(dt, env.t, self.events)
        self.moved_m = m.last_true_m
        self.nav.step(dt, m, self.lit > 0.5)
        self.drill.step(dt, m.x, m.y, self.events)
        self.payload.step(dt, m.x, m.y, self.moved_m, self.events)
        _, pitch, _ = m.slope_state()
        self.radio.update(
            m.heading, pitch, env.earth_az, env.earth_el, m.x, m.y, self.lander_relay_on
        )
        loads = self.current_loads()
        self.power.step(
            dt,
            m.heading,
            env.sun_el,
            env.sun_az,
            self.lit,
            self.thermal["camera"].temperature_c,
            loads,
        )
        self._thermal_step(dt, loads)

    def current_loads(self) -> dict[str, float]:
        avionics = self.loads.avionics.get(self.mode, 55.0)
        if self.mobility.motors_powered:
            avionics += self.loads.cameras_driving
        return {
            "avionics": avionics,
            "mobility": self.mobility.power_w,
            "drill": self.drill.power_w,
            "payload": self.payload.power_w,
            "heaters": self.thermal.heater_power_w,
            "comms": self.radio.power_w,
        }

    def _thermal_step(self, dt: float, loads: dict[str, float]) -> None:
        th = self.thermal
        th["avionics"].internal_w = (
            loads["avionics"] + 0.4 * loads["comms"] + 0.05 * loads["mobility"]
        )
        th["battery"].internal_w = self.power.battery.current_a**2 * 0.04
        oven = 100.0 if self.payload.oven_on else 0.0
        th["instrument"].internal_w = 0.7 * (loads["payload"] - oven) + 0.3 * oven
        th["drill"].internal_w = 0.2 * loads["drill"]
        for i, current in enumerate(self.mobility.wheel_currents):
            th[f"wheel_{i + 1}"].internal_w = 0.25 * current * 28.0
        th["camera"].internal_w = 3.0 if self.mobility.motors_powered else 1.0
        th.step(dt, self.sink_c, self.lit)

    # ------------------------------------------------------------------ helpers
    def temperature(self, node: str) -> float:
        return self.thermal[node].temperature_c

    def sun_pointing_heading(self) -> float:
        """The heading that turns the array to face the Sun."""
        return (self.sun_az - PANEL_NORMAL_OFFSET_DEG) % 360.0

    @property
    def distance_to_lander(self) -> float:
        return math.hypot(self.mobility.x, self.mobility.y)

    @property
    def soc_pct(self) -> float:
        return self.power.battery.soc * 100.0

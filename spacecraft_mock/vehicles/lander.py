"""The ISRO lander: 750 W array, 8 kWh battery, thermal zones, X-band, rover relay, instruments.

The array is three vertical wings of 250 W that turn in azimuth to face the Sun (assumed), so its
output is 750 W times cos(elevation) times the lit share of the disc. The lander's own instruments
(a seismometer, a surface heat-flow probe and a Langmuir probe) are assumptions of the mock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from mission.facts import MissionFacts
from spacecraft_mock import terrain
from spacecraft_mock.environment import LANDER_EYE_M, EnvSample
from spacecraft_mock.rng import NormalBlock, RandomStreams
from spacecraft_mock.vehicles.comms import LanderRadio
from spacecraft_mock.vehicles.events import EventSink
from spacecraft_mock.vehicles.power import Battery, Panel, PowerSystem
from spacecraft_mock.vehicles.thermal import Heater, Node, ThermalNetwork, sink_temperature_c

LANDER_INSTRUMENTS = ("SEISMOMETER", "HEAT_PROBE", "LANGMUIR")
INSTRUMENT_POWER_W = {"SEISMOMETER": 3.0, "HEAT_PROBE": 4.0, "LANGMUIR": 5.0}
LATCHUP_CURRENT_A = 1.5
LANDER_ZONES = ("AVIONICS", "BATTERY", "PAYLOAD", "TANK", "SURVIVAL")
ZONE_NODE = {
    "AVIONICS": "avionics",
    "BATTERY": "battery",
    "PAYLOAD": "payload",
    "TANK": "tank",
    "SURVIVAL": "web",
}
AVIONICS_W = {"NOMINAL": 85.0, "SAFE": 70.0, "HIBERNATION": 20.0, "BOOT": 40.0}


def lander_network() -> ThermalNetwork:
    nodes = {
        "avionics": Node(
            "avionics", 40_000.0, 1.6, 20.0, sun_gain_c=60.0, g_env_closed_w_k=0.12,
            louvre_closed_c=0.0, louvre_open_c=20.0, heater=Heater("avionics", 25.0, -5.0, 0.0),
        ),
        "web": Node("web", 10_000.0, 0.05, 10.0, sun_gain_c=60.0,
                    heater=Heater("survival", 20.0, -33.0, -28.0)),
        "battery": Node("battery", 45_000.0, 0.06, 15.0, sun_gain_c=30.0,
                        heater=Heater("battery", 20.0, 8.0, 12.0)),
        "payload": Node(
            "payload", 10_000.0, 0.3, 5.0, sun_gain_c=60.0, g_env_closed_w_k=0.08,
            louvre_closed_c=-10.0, louvre_open_c=10.0, heater=Heater("payload", 10.0, -15.0, -10.0),
        ),
        "tank": Node("tank", 20_000.0, 0.08, 18.0, sun_gain_c=50.0,
                     heater=Heater("tank", 15.0, 14.0, 18.0)),
    }  # fmt: skip
    links = [
        ("avionics", "web", 0.8),
        ("avionics", "battery", 0.8),
        ("avionics", "payload", 0.2),
        ("avionics", "tank", 0.1),
    ]
    return ThermalNetwork(nodes, links)


@dataclass(slots=True)
class LanderPayload:
    rng: np.random.Generator
    on: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(LANDER_INSTRUMENTS, True))
    latch_fault: dict[str, bool] = field(
        default_factory=lambda: dict.fromkeys(LANDER_INSTRUMENTS, False)
    )
    latchup_count: int = 0
    gain: str = "HIGH"
    seismic_events: int = 0
    rms: tuple[float, float, float] = (0.3, 0.3, 0.2)
    peak: float = 1.0
    probe_temperatures: list[float] = field(default_factory=lambda: [250.0, 245.0, 240.0, 238.0])
    probe_depth: float = 0.1
    quake_pending: float | None = None

    def latched(self) -> list[str]:
        return [n for n in LANDER_INSTRUMENTS if self.on[n] and self.latch_fault[n]]

    @property
    def power_w(self) -> float:
        total = sum(INSTRUMENT_POWER_W[n] for n in LANDER_INSTRUMENTS if self.on[n])
        return total + 28.0 * LATCHUP_CURRENT_A * len(self.latched())

    def step(self, dt: float, rover_distance: float, rover_driving: bool, surface_k: float,
             events: EventSink) -> None:  # fmt: skip
        background = 0.25
        rover = 40.0 * math.exp(-rover_distance / 120.0) if rover_driving else 0.0
        noise = self.rng.normal(0.0, 0.03, 3)
        self.rms = (
            background + 0.6 * rover + abs(float(noise[0])),
            background + 0.6 * rover + abs(float(noise[1])),
            0.7 * background + 0.8 * rover + abs(float(noise[2])),
        )
        self.peak = 3.0 * max(self.rms)
        # Rare moonquakes and micrometeorite impacts (about one every 30 hours, assumed).
        if self.on["SEISMOMETER"] and self.rng.random() < dt / (30 * 3600.0):
            self.seismic_events += 1
            self.peak = float(self.rng.uniform(20.0, 90.0))
            events.raise_event("lander.seismometer.event_detected", peak=self.peak)
        # Regolith temperatures relax towards the surface value with depth-dependent lags.
        targets = (surface_k, 0.6 * surface_k + 0.4 * 250.0, 0.3 * surface_k + 0.7 * 250.0, 252.0)
        taus = (1800.0, 6 * 3600.0, 24 * 3600.0, 240 * 3600.0)
        for i, (target, tau) in enumerate(zip(targets, taus, strict=True)):
            self.probe_temperatures[i] += (target - self.probe_temperatures[i]) * min(1.0, dt / tau)


class Lander:
    name = "lander"

    def __init__(self, facts: MissionFacts, streams: RandomStreams, t0: float) -> None:
        self.events = EventSink()
        peak = facts.number("power.lander_array_peak_w") / 3.0
        self.power = PowerSystem(
            panels=[Panel(peak, 0.0, e) for e in (1.0, 0.99, 0.985)],
            battery=Battery(
                capacity_wh=facts.number("power.lander_battery_usable_wh"), soc=0.85, soc_max=0.95
            ),
            dust_factor=0.96,
        )
        self.thermal = lander_network()
        self.radio = LanderRadio(streams.stream("lander.comms"))
        self.payload = LanderPayload(streams.stream("lander.payload"))
        self.noise = NormalBlock(streams.stream("lander.sensors"))
        self.mode = "NOMINAL"
        self.lit = 1.0
        self.earth_visible = True
        self.earth_el = 0.0
        self.sun_el = 0.0
        self.surface_k = 250.0
        self.sink_c = -100.0
        self.t = t0
        self.sensor_stuck: dict[str, object] = {}
        self.rover_rssi = -60.0
        self.rover_link_up = True

    def step(self, dt: float, env: EnvSample, rover_distance: float, rover_driving: bool) -> None:
        self.t = env.t
        self.sun_el, self.earth_el = env.sun_el, env.earth_el
        self.lit = env.sunlit_fraction(0.0, 0.0, LANDER_EYE_M)
        self.earth_visible = env.earth_visible(0.0, 0.0, LANDER_EYE_M)
        self.surface_k = terrain.surface_temperature_k(
            0.0, 0.0, env.sun_el, env.sun_az, self.lit > 0.5
        )
        self.sink_c = sink_temperature_c(self.surface_k)
        self.radio.update()
        self.payload.step(dt, rover_distance, rover_driving, self.surface_k, self.events)
        loads = self.current_loads()
        cos_el = math.cos(math.radians(env.sun_el))
        self.power.step(dt, 0.0, env.sun_el, env.sun_az, self.lit, 20.0, loads, cos_override=cos_el)
        th = self.thermal
        th["avionics"].internal_w = loads["avionics"] + 0.4 * loads["comms"]
        th["battery"].internal_w = self.power.battery.current_a**2 * 0.03
        th["payload"].internal_w = 0.8 * loads["payload"]
        th.step(dt, self.sink_c, self.lit)

    def current_loads(self) -> dict[str, float]:
        return {
            "avionics": AVIONICS_W.get(self.mode, 85.0),
            "comms": self.radio.power_w,
            "payload": self.payload.power_w,
            "heaters": self.thermal.heater_power_w,
        }

    def temperature(self, node: str) -> float:
        return self.thermal[node].temperature_c

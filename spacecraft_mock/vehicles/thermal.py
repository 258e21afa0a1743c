"""A lumped-parameter thermal network with thermostat-controlled heaters.

Each node has a heat capacity, internal dissipation, an optional heater and a conductance to its
environment sink. The warm-electronics nodes have a variable conductance (a louvre or heat switch:
open when warm, closed when cold), which is what lets a solar-powered rover live through darkness
on a few tens of watts. Nodes are coupled to each other by conductive links. The network is
integrated with explicit Euler in sub-steps short enough to be stable for any physics step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(slots=True)
class Heater:
    """A heater with a thermostat (hysteresis), which faults can jam on or break."""

    name: str
    power_w: float
    on_below_c: float
    off_above_c: float
    on: bool = False
    """Switch state as the on-board software reports it."""
    enabled: bool = True
    stuck_on: bool = False
    failed: bool = False

    def control(self, temperature_c: float, auto: bool) -> None:
        if self.stuck_on:
            self.on = True
        elif not self.enabled:
            self.on = False
        elif auto:
            if temperature_c < self.on_below_c:
                self.on = True
            elif temperature_c > self.off_above_c:
                self.on = False

    def set_points(self, on_below_c: float, off_above_c: float) -> None:
        self.on_below_c, self.off_above_c = on_below_c, off_above_c

    @property
    def draw_w(self) -> float:
        """Electrical power drawn (a failed heater draws nothing although switched on)."""
        return self.power_w if self.on and not self.failed else 0.0


@dataclass(slots=True)
class Node:
    name: str
    capacity_j_k: float
    g_env_w_k: float
    """Conductance to the sink when warm (louvre open)."""
    temperature_c: float
    sun_gain_c: float = 0.0
    """How much warmer this node's sink is when the vehicle is fully sunlit."""
    g_env_closed_w_k: float | None = None
    """Conductance when cold (louvre closed); None = constant conductance."""
    louvre_closed_c: float = 0.0
    louvre_open_c: float = 20.0
    heater: Heater | None = None
    internal_w: float = 0.0

    def g_env(self) -> float:
        closed = self.g_env_closed_w_k
        if closed is None:
            return self.g_env_w_k
        span = self.louvre_open_c - self.louvre_closed_c
        share = min(1.0, max(0.0, (self.temperature_c - self.louvre_closed_c) / span))
        return closed + (self.g_env_w_k - closed) * share

    @property
    def louvre_open(self) -> bool:
        return self.g_env_closed_w_k is not None and self.temperature_c > self.louvre_open_c - 5


@dataclass(slots=True)
class ThermalNetwork:
    nodes: dict[str, Node]
    links: list[tuple[str, str, float]] = field(default_factory=list)
    auto: bool = True
    """Thermostats under on-board control (ground control only when False)."""
    _max_dt: float = 0.0

    def __post_init__(self) -> None:
        worst = math.inf
        for node in self.nodes.values():
            total = node.g_env_w_k + sum(g for a, b, g in self.links if node.name in (a, b))
            worst = min(worst, node.capacity_j_k / total)
        self._max_dt = 0.2 * worst

    def __getitem__(self, name: str) -> Node:
        return self.nodes[name]

    def heaters(self) -> list[Heater]:
        return [n.heater for n in self.nodes.values() if n.heater is not None]

    @property
    def heater_power_w(self) -> float:
        return sum(h.draw_w for h in self.heaters())

    def step(self, dt: float, sink_c: float, lit: float) -> None:
        """Advance ``dt`` seconds with the environment sink at ``sink_c`` and ``lit`` (0-1)."""
        for node in self.nodes.values():
            if node.heater is not None:
                node.heater.control(node.temperature_c, self.auto)
        steps = max(1, math.ceil(dt / self._max_dt))
        h = dt / steps
        nodes = list(self.nodes.values())
        for _ in range(steps):
            flows = {n.name: 0.0 for n in nodes}
            for a, b, g in self.links:
                q = g * (self.nodes[b].temperature_c - self.nodes[a].temperature_c)
                flows[a] += q
                flows[b] -= q
            for node in nodes:
                heater = node.heater.draw_w if node.heater is not None else 0.0
                sink = sink_c + node.sun_gain_c * lit
                q = node.internal_w + heater + node.g_env() * (sink - node.temperature_c)
                node.temperature_c += h * (q + flows[node.name]) / node.capacity_j_k


def sink_temperature_c(surface_k: float) -> float:
    """Effective sink of a box on the surface: part ground view, part cold sky (assumed mix)."""
    return 0.4 * (surface_k - 273.15) + 0.6 * -150.0

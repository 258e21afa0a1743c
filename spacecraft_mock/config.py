"""Settings of the simulated world that are not mission facts.

Mission facts (array power, battery size, loads, speeds, link budget...) come from
``seeds/mission_facts.yaml`` through :mod:`mission.facts`. What is here is how the *simulation*
runs: its fixed physics step, telemetry rates, the on-board store, the frame flush latency, and the
few modelling constants the facts file does not hold (each one explained).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

MIB: Final = 1024 * 1024


def _empty() -> Mapping[str, float]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class WorldConfig:
    """How the world is simulated. The defaults suit the demo and the tests."""

    physics_step_s: float = 1.0
    """Fixed physics step in mission seconds. It never depends on the runner's speed factor."""
    geometry_step_s: float = 60.0
    """Grid of the interpolated geometry table (mission.geometry.GeometryTable)."""
    telemetry: bool = True
    """Frame, store and downlink the packets. Off for fast physics runs (coarse steps, long
    spans): housekeeping is still generated and offered to ``OnboardSoftware.packet_tap``."""
    hk_rate_multiplier: float = 1.0
    """Every housekeeping and science rate is multiplied by this (periods divided by it)."""
    hk_period_overrides: Mapping[str, float] = field(default_factory=_empty)
    """Per-packet period in seconds, by packet name; wins over the multiplier."""
    flush_interval_s: float = 1.0
    """A partly filled frame waits at most this long before idle fill completes it. No continuous
    idle-frame stream is generated at the link rate: frames exist only when data needs them."""
    monitor_interval_s: float = 2.0
    """Station monitor records (``lupex/v1/link/{station}``) are produced this often."""
    frame_errors: bool = True
    """Draw frame losses and corrupted frames from the link budget (off = a perfect channel)."""
    scintillation: bool = True
    """Random tropospheric fading that grows at low station elevation (assumed model, see link)."""
    storage_capacity_bytes: int = 128 * MIB
    """On-board packet store of each vehicle; the oldest packets are dropped when it is full."""
    los_hk_interval_s: float = 60.0
    """During loss of signal each housekeeping packet is stored at most once per this interval
    (science is stored whole), so that a multi-day Earth set fits the store."""
    playback_frames_per_s: float = 20.0
    """Playback rate on virtual channel 2 (about 180 kbit/s, beside the real-time data)."""
    far_horizon_deg: float = -1.85
    """Elevation of the far-field horizon seen from the ridge (the terrain model adds the local
    one). With it the lander's site is lit about 87 % of a year (seeds:
    site.illumination_fraction) with mission.geometry's Sun; a test checks it."""
    prime_hysteresis_deg: float = 5.0
    """Another station becomes prime only when it sees the Moon this much higher (or the prime
    station is lost), so that the downlink does not flap between two stations."""
    relay_delay_s: float = 0.05
    """Extra latency of a rover frame relayed through the lander (store and forward)."""
    activity_plan: bool = True
    """The rover follows its autonomous plan (drive legs, drill stops, measurements)."""
    rover_start_m: tuple[float, float] = (12.0, -6.0)
    """Rover position in the local site frame at the start (east, north; lander at the origin)."""
    safe_recovery_s: float | None = 7200.0
    """After this long in SAFE mode with a healthy battery in sunlight, the vehicle's autonomy
    returns to NOMINAL (so an unattended demo carries on); None = only the ground recovers."""
    store_science_on_lga: bool = True
    """On the low-gain antenna (16 kbit/s) science is stored instead of sent in real time."""

    def __post_init__(self) -> None:
        if not self.physics_step_s > 0:
            msg = f"physics_step_s must be positive, not {self.physics_step_s}"
            raise ValueError(msg)
        if not self.hk_rate_multiplier > 0:
            msg = f"hk_rate_multiplier must be positive, not {self.hk_rate_multiplier}"
            raise ValueError(msg)
        for name, period in self.hk_period_overrides.items():
            if not period > 0:
                msg = f"period of {name} must be positive, not {period}"
                raise ValueError(msg)
        if not self.flush_interval_s > 0 or not self.monitor_interval_s > 0:
            msg = "flush_interval_s and monitor_interval_s must be positive"
            raise ValueError(msg)
        if self.storage_capacity_bytes < 4096:
            msg = f"storage_capacity_bytes is too small: {self.storage_capacity_bytes}"
            raise ValueError(msg)

    def hk_period(self, packet: str, default_period: float) -> float:
        """The generation period of ``packet`` in mission seconds."""
        override = self.hk_period_overrides.get(packet)
        if override is not None:
            return override
        return default_period / self.hk_rate_multiplier

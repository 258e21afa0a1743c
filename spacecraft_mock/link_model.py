"""Link-level helpers: downlink paths, budgets with fading, frame corruption.

Kept apart from :mod:`spacecraft_mock.link` (which moves frames) so that the numbers can be read
on their own. EIRPs, data rates and the budget come from ``seeds/mission_facts.yaml`` through
:mod:`mission.geometry.link_budget`.

Fading is an ASSUMED lumped model of low-elevation effects (tropospheric scintillation,
multipath, antenna pointing in wind): a first-order random process per station and spacecraft
whose standard deviation is 0.3 dB times the air mass to the power 1.3 (about 0.3 dB at zenith,
1.2 dB at 20 deg and 2.8 dB at the 10 deg mask). It is stronger than real X-band scintillation so
that frame errors are seen at low elevation on a training dashboard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from mission.facts import MissionFacts
from mission.geometry import LinkParameters, air_mass, frame_error_rate, link_budget

FADING_SIGMA_ZENITH_DB: Final = 0.3
FADING_EXPONENT: Final = 1.3
FADING_CORRELATION_S: Final = 10.0
CARRIER_LOCK_CN0_DBHZ: Final = 30.0
LOST_SHARE: Final = 0.5
"""Share of frame errors where the frame is lost (no sync) rather than delivered corrupted."""


@dataclass(frozen=True, slots=True)
class Emitter:
    """A transmitter seen from the ground: EIRP and data rate of the current path."""

    eirp_dbw: float
    rate_bps: float


class Fading:
    """AR(1) fading per (station, spacecraft), stepped with the physics."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.state: dict[tuple[str, str], float] = {}

    def step(self, key: tuple[str, str], elevation_deg: float, dt: float) -> float:
        sigma = FADING_SIGMA_ZENITH_DB * air_mass(max(elevation_deg, 0.0)) ** FADING_EXPONENT
        a = math.exp(-dt / FADING_CORRELATION_S)
        previous = self.state.get(key, 0.0)
        value = a * previous + math.sqrt(1.0 - a * a) * float(self.rng.normal(0.0, sigma))
        self.state[key] = value
        return value


@dataclass(frozen=True, slots=True)
class Budget:
    ebn0_db: float
    cn0_dbhz: float
    fer: float

    @property
    def carrier_lock(self) -> bool:
        return self.cn0_dbhz >= CARRIER_LOCK_CN0_DBHZ


def evaluate(
    range_km: float,
    dish_m: float,
    elevation_deg: float,
    emitter: Emitter,
    extra_loss_db: float,
    params: LinkParameters,
) -> Budget:
    """Eb/N0, C/N0 and frame error rate with an extra loss (fading, pointing, faults)."""
    budget = link_budget(
        range_km,
        dish_m,
        max(elevation_deg, 0.1),
        emitter.rate_bps,
        emitter.eirp_dbw - extra_loss_db,
        params=params,
    )
    fer = frame_error_rate(budget.ebn0_db, params=params)
    return Budget(budget.ebn0_db, budget.cn0_dbhz, fer)


def eirps(facts: MissionFacts) -> dict[str, float]:
    return {
        "rover_hga": facts.number("link.rover_hga_eirp_dbw"),
        "rover_lga": facts.number("link.rover_lga_eirp_dbw"),
        "lander_hga": facts.number("link.lander_hga_eirp_dbw"),
    }


def corrupt(frame: bytes, rng: np.random.Generator) -> bytes:
    """Flip one to three bits (CRC-16 detects every such error: the FECF no longer matches)."""
    data = bytearray(frame)
    for _ in range(int(rng.integers(1, 4))):
        bit = int(rng.integers(0, len(data) * 8))
        data[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(data)

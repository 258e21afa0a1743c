"""Which station carries each vehicle's link, and the handovers between stations (pure logic).

Evidence per station, best first:

1. the station monitor (``lupex/v1/link/{station}``): in view, not in an outage, and per vehicle
   ``prime`` (this station carries the vehicle's downlink) and the locks and Eb/N0;
2. the CLCW last received from the vehicle, which names the station it came through;
3. the ground's own prediction (Moon above the station mask, Earth above the site mask), for
   stations that have sent no (fresh) monitor data.

A station is a *candidate* for a vehicle when its monitor says it is usable (in view, no outage)
and it is prime for or locked on the vehicle, or, without monitor data, when the prediction says
it is in view. The carrier is the prime candidate when there is one. Otherwise the carrier stays
the same as long as it remains a candidate (no flapping between two stations that both receive the
vehicle); when it stops being one, the new carrier is the station the latest CLCW came through if
it is a candidate, else the candidate with the best Eb/N0 for the vehicle, else the one with the
Moon highest. A change is a handover; losing every candidate is a loss of the link.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ground.links.contact import Contact
from ground.links.monitor import MonitorFlags


class Change(StrEnum):
    ACQUIRED = "acquired"
    HANDOVER = "handover"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class Candidate:
    station: str
    source: str
    """``monitor`` (usable and prime or locked per the station monitor) or ``prediction``."""
    prime: bool
    ebn0_db: float | None
    elevation_deg: float | None


@dataclass(frozen=True, slots=True)
class CarrierChange:
    vehicle: str
    change: Change
    old: str | None
    new: str | None
    time: float
    reason: str


@dataclass(frozen=True, slots=True)
class CarrierState:
    vehicle: str
    station: str | None
    since: float | None
    source: str | None
    candidates: tuple[Candidate, ...]


def candidates(
    vehicle: str, contacts: Iterable[Contact], monitors: Mapping[str, MonitorFlags]
) -> list[Candidate]:
    """The stations that can carry ``vehicle``'s link now (see the module docstring)."""
    out = []
    for contact in contacts:
        monitor = monitors.get(contact.station)
        if monitor is not None:
            prime = monitor.prime.get(vehicle, False)
            if monitor.usable and (prime or monitor.locked.get(vehicle, False)):
                out.append(
                    Candidate(
                        contact.station,
                        "monitor",
                        prime,
                        monitor.ebn0_db.get(vehicle),
                        contact.elevation_deg,
                    )
                )
        elif contact.predicted:
            out.append(Candidate(contact.station, "prediction", False, None, contact.elevation_deg))
    return out


def _choose(found: list[Candidate], clcw_station: str | None) -> tuple[Candidate, str]:
    by_id = {c.station: c for c in found}
    primes = [c for c in found if c.prime]
    if primes:
        return primes[0], "prime station by its monitor"
    if clcw_station is not None and clcw_station in by_id:
        return by_id[clcw_station], "the latest CLCW came through it"
    with_ebn0 = [c for c in found if c.ebn0_db is not None]
    if with_ebn0:
        best = max(with_ebn0, key=lambda c: (c.ebn0_db or 0.0, c.station))
        return best, f"best Eb/N0 ({best.ebn0_db:.1f} dB)"
    high = max(found, key=lambda c: (c.elevation_deg or -90.0, c.station))
    return high, f"highest Moon elevation ({high.elevation_deg or 0.0:.1f} deg)"


class CarrierTracker:
    """Keeps the carrier of each vehicle and reports its changes."""

    def __init__(self, vehicles: Iterable[str]) -> None:
        self._state: dict[str, CarrierState] = {
            v: CarrierState(v, None, None, None, ()) for v in vehicles
        }

    def carrier(self, vehicle: str) -> str | None:
        state = self._state.get(vehicle)
        return None if state is None else state.station

    def states(self) -> list[CarrierState]:
        return [self._state[v] for v in sorted(self._state)]

    def update(
        self,
        vehicle: str,
        found: list[Candidate],
        now: float,
        clcw_station: str | None = None,
    ) -> CarrierChange | None:
        """Take the candidates at ``now``; return the change of carrier, if any."""
        old = self._state.get(vehicle) or CarrierState(vehicle, None, None, None, ())
        by_id = {c.station: c for c in found}
        if not found:
            self._state[vehicle] = CarrierState(vehicle, None, now, None, ())
            if old.station is None:
                return None
            return CarrierChange(
                vehicle,
                Change.LOST,
                old.station,
                None,
                now,
                f"{old.station} no longer in view of or locked on {vehicle}",
            )
        keep = old.station is not None and old.station in by_id
        if keep and (by_id[str(old.station)].prime or not any(c.prime for c in found)):
            current = by_id[str(old.station)]
            self._state[vehicle] = CarrierState(
                vehicle, current.station, old.since, current.source, tuple(found)
            )
            return None
        chosen, why = _choose(found, clcw_station)
        self._state[vehicle] = CarrierState(
            vehicle, chosen.station, now, chosen.source, tuple(found)
        )
        if old.station is None:
            return CarrierChange(
                vehicle, Change.ACQUIRED, None, chosen.station, now, f"{chosen.station}: {why}"
            )
        return CarrierChange(
            vehicle,
            Change.HANDOVER,
            old.station,
            chosen.station,
            now,
            f"{chosen.station} takes over from {old.station}: {why}",
        )

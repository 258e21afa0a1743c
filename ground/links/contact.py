"""A station's contact with the landing site at one mission time, and the next AOS.

Pure values shared by the link prediction (``ground.links.predict``) and the command queue
(``ground.commanding.queue``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Contact:
    """One station's view of the site at one mission time."""

    station: str
    predicted: bool
    """The ground's geometry says the station and the site see each other."""
    monitor_in_view: bool | None
    """The station monitor's flag (None: no monitor data from this station)."""
    elevation_deg: float
    """Elevation of the Moon in the station's sky."""
    light_time_s: float
    """One-way light time from the station to the site (s)."""

    @property
    def usable(self) -> bool:
        """Predicted in view, and the station's monitor does not say otherwise."""
        return self.predicted and self.monitor_in_view is not False


@dataclass(frozen=True, slots=True)
class NextAos:
    """The next acquisition of signal: which station, at what mission time."""

    station: str
    time: float

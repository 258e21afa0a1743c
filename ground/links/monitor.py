"""Station monitor data as the link tracking and the command queue need it.

``lupex/v1/link/{station}`` carries a retained :class:`mission.sim_control.StationMonitorMessage`:
besides what ``GroundState.links`` shows, it says whether the station is in an **outage** and
which station is **prime** for each vehicle (the one that carries its downlink). The link service
subscribes to the topic itself and keeps the latest message per station here.

A message is *fresh* while its time is within ``stale_s`` mission seconds of the ground's mission
time (plus ``stale_wall_s`` wall seconds' worth at the current speed): a retained message left by
an earlier run of the simulator, at another epoch, is ignored instead of vetoing or allowing a
release.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from ground.model import LinkView
from mission import topics
from mission.sim_control import StationMonitorMessage


@dataclass(frozen=True, slots=True)
class MonitorFlags:
    """What one station's monitor says now."""

    station: str
    usable: bool
    """In view and not in an outage."""
    in_view: bool
    outage: bool
    prime: dict[str, bool]
    """Per vehicle: this station carries its downlink."""
    locked: dict[str, bool]
    """Per vehicle: frame lock."""
    ebn0_db: dict[str, float]


class StationMonitors:
    """The latest monitor message per station (thread-safe)."""

    def __init__(self, stale_s: float = 300.0, stale_wall_s: float = 10.0) -> None:
        self.stale_s = stale_s
        self.stale_wall_s = stale_wall_s
        self._latest: dict[str, StationMonitorMessage] = {}
        self._lock = threading.Lock()
        self.rejected = 0

    def on_message(self, topic: str, payload: bytes) -> None:
        """Handler for ``lupex/v1/link/+`` (invalid messages are counted and ignored)."""
        try:
            station = topics.parse_link_topic(topic)
            message = StationMonitorMessage.model_validate_json(payload)
        except (ValueError, ValidationError):
            self.rejected += 1
            return
        if message.station != station:
            self.rejected += 1
            return
        with self._lock:
            self._latest[station] = message

    def put(self, message: StationMonitorMessage) -> None:
        with self._lock:
            self._latest[message.station] = message

    def latest(self) -> dict[str, StationMonitorMessage]:
        with self._lock:
            return dict(self._latest)

    def window(self, speed: float) -> float:
        """How far (mission seconds) a message's time may be from now and still count."""
        return self.stale_s + self.stale_wall_s * max(speed, 0.0)

    def fresh(self, now: float, speed: float) -> dict[str, MonitorFlags]:
        """The fresh monitors at mission time ``now`` (see the module docstring)."""
        window = self.window(speed)
        out = {}
        for station, m in self.latest().items():
            if abs(m.time - now) > window:
                continue
            out[station] = MonitorFlags(
                station=station,
                usable=m.in_view and not m.outage,
                in_view=m.in_view,
                outage=m.outage,
                prime={v: s.prime for v, s in m.spacecraft.items()},
                locked={v: s.frame_lock for v, s in m.spacecraft.items()},
                ebn0_db={v: s.ebn0_db for v, s in m.spacecraft.items() if s.ebn0_db is not None},
            )
        return out


def flags_from_links(
    links: Mapping[str, LinkView], now: float, window_s: float
) -> dict[str, MonitorFlags]:
    """Monitor flags from ``GroundState.links`` (stations the service has no message of).

    Only views whose monitor time is within ``window_s`` of ``now`` count.
    """
    out = {}
    for station, view in links.items():
        if view.in_view is None or view.monitor_time is None:
            continue
        if abs(view.monitor_time - now) > window_s:
            continue
        out[station] = MonitorFlags(
            station=station,
            usable=view.in_view,
            in_view=view.in_view,
            outage=False,
            prime={},
            locked=dict(view.locked),
            ebn0_db=dict(view.ebn0_db),
        )
    return out

"""The link service: each vehicle's carrying station, handover events, and the links' snapshot.

``LinkService(state, sink, archive, broker=..., client_id=...)``; ``run()`` subscribes to the
station monitor topic ``lupex/v1/link/+`` with its own MQTT client (the full monitor message:
outage and prime station per vehicle, which ``GroundState.links`` does not keep) and looks every
``tick_s`` wall seconds at the fresh monitors (:mod:`ground.links.monitor`; ``GroundState.links``
for stations without a message of their own), the CLCWs received (``GroundState.clcw``) and the
ground's own prediction at the mission time (:class:`~ground.links.predict.LinkPredictor`). It
keeps the carrier of each vehicle (:mod:`ground.links.carrier`) and raises a ground event for
each change, into the live sink, ``GroundState.events`` and the archive:

=======  ========================  ========  ===========================================
id       name                      severity  when
=======  ========================  ========  ===========================================
0xFF10   ``ground.link.handover``  info      another station takes over a vehicle's link
0xFF11   ``ground.link.acquired``  info      a station acquires a vehicle with none before
0xFF12   ``ground.link.lost``      low       no station carries the vehicle any more
=======  ========================  ========  ===========================================

Events are stamped with the mission time (generation) and the wall clock (reception). Nothing is
tracked until the ground has heard from a station or a vehicle, so a ground with no spacecraft
behind it raises no events from the prediction alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final

from ground.archive.base import Archive, ArchiveBatch
from ground.commanding.mqtt import MqttEndpoint
from ground.links.carrier import CarrierChange, CarrierTracker, Change, candidates
from ground.links.monitor import MonitorFlags, StationMonitors, flags_from_links
from ground.links.predict import LinkPredictor
from ground.model import EventView, LiveSink
from ground.processing.events import event_record
from ground.processing.state import GroundState
from mission import topics
from mqtt_io import BrokerUrl

log = logging.getLogger("lupex.ground.links")

EVENT_KINDS: Final[dict[Change, tuple[int, str, str]]] = {
    Change.HANDOVER: (0xFF10, "ground.link.handover", "info"),
    Change.ACQUIRED: (0xFF11, "ground.link.acquired", "info"),
    Change.LOST: (0xFF12, "ground.link.lost", "low"),
}
RECENT_CHANGES: Final = 200


class LinkService:
    """See the module docstring."""

    def __init__(
        self,
        state: GroundState,
        sink: LiveSink,
        archive: Archive | None,
        *,
        broker: BrokerUrl | None = None,
        client_id: str = "lupex-ground-links",
        vehicles: Sequence[str] = ("rover", "lander"),
        predictor: LinkPredictor | None = None,
        monitors: StationMonitors | None = None,
        tick_s: float = 0.2,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.state = state
        self.sink = sink
        self.archive = archive
        self.vehicles = tuple(vehicles)
        self.predictor = predictor or LinkPredictor()
        self.tick_s = tick_s
        self._wall = wall
        self.monitors = monitors or StationMonitors()
        self.endpoint = (
            MqttEndpoint(
                broker,
                client_id,
                subscriptions=[topics.LINK_ALL],
                on_message=self.monitors.on_message,
            )
            if broker is not None
            else None
        )
        self.tracker = CarrierTracker(self.vehicles)
        self.changes: deque[CarrierChange] = deque(maxlen=RECENT_CHANGES)
        self._last_time: float | None = None

    def carrier(self, vehicle: str) -> str | None:
        """The station carrying ``vehicle``'s link now, or None."""
        return self.tracker.carrier(vehicle)

    def monitor_flags(self, now: float, speed: float) -> dict[str, MonitorFlags]:
        """What each station's fresh monitor says at mission time ``now``."""
        links = {view.station: view for view in self.state.links.all()}
        flags = flags_from_links(links, now, self.monitors.window(speed))
        flags.update(self.monitors.fresh(now, speed))
        return flags

    def step(self) -> list[EventView]:
        """Update the carriers at the current mission time; return the events of the changes."""
        now, speed = self.state.clock.now(), self.state.clock.speed
        monitors = self.monitor_flags(now, speed)
        clcws = dict(self.state.clcw)
        if not monitors and not clcws:
            return []
        self._last_time = now
        contacts = self.predictor.contacts(now, monitors)
        events = []
        for vehicle in self.vehicles:
            clcw = clcws.get(vehicle)
            found = candidates(vehicle, contacts, monitors)
            change = self.tracker.update(
                vehicle, found, now, clcw_station=clcw.station if clcw is not None else None
            )
            if change is not None:
                self.changes.append(change)
                events.append(self._event(change))
        return events

    def _event(self, change: CarrierChange) -> EventView:
        event_id, name, severity = EVENT_KINDS[change.change]
        if change.change is Change.HANDOVER:
            message = f"{change.vehicle} link handed over from {change.old} to {change.new}"
        elif change.change is Change.ACQUIRED:
            message = f"{change.vehicle} link acquired by {change.new}"
        else:
            message = f"{change.vehicle} link lost by {change.old}"
        args: dict[str, float | int | str | bool] = {"reason": change.reason}
        if change.old is not None:
            args["from"] = change.old
        if change.new is not None:
            args["to"] = change.new
        return EventView(
            id=event_id,
            name=name,
            spacecraft=change.vehicle,
            severity=severity,
            message=message,
            generation_time=change.time,
            reception_time=self._wall(),
            args=args,
        )

    async def run(self) -> None:
        """Subscribe to the station monitors and track the carriers until cancelled."""
        async with asyncio.TaskGroup() as group:
            if self.endpoint is not None:
                group.create_task(self.endpoint.run(), name="links-mqtt")
            group.create_task(self._track(), name="links-tracking")

    async def _track(self) -> None:
        while True:
            try:
                events = await asyncio.to_thread(self.step)
                if events:
                    await self._publish(events)
            except Exception:
                log.exception("link tracking step failed")
            await asyncio.sleep(self.tick_s)

    async def _publish(self, events: list[EventView]) -> None:
        for event in events:
            log.info("%s", event.message)
        self.state.events.extend(events)
        self.sink.on_events(events)
        if self.archive is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(
                    self.archive.write, ArchiveBatch(events=[event_record(e) for e in events])
                )

    def snapshot(self) -> dict[str, Any]:
        """Carriers, recent changes and every station's predicted and monitored state."""
        now, speed = self.state.clock.now(), self.state.clock.speed
        monitors = self.monitor_flags(now, speed)
        links = {view.station: view for view in self.state.links.all()}
        contacts = self.predictor.contacts(now, monitors)
        stations = []
        for contact in contacts:
            monitor = monitors.get(contact.station)
            link = links.get(contact.station)
            stations.append(
                {
                    "station": contact.station,
                    "predicted_in_view": contact.predicted,
                    "monitor_in_view": contact.monitor_in_view,
                    "usable": contact.usable,
                    "moon_elevation_deg": contact.elevation_deg,
                    "light_time_s": contact.light_time_s,
                    "outage": monitor.outage if monitor else None,
                    "prime": sorted(v for v, p in monitor.prime.items() if p) if monitor else [],
                    "ebn0_db": dict(monitor.ebn0_db) if monitor else {},
                    "locked": dict(monitor.locked) if monitor else {},
                    "frames_received": link.frames_received if link else 0,
                    "frames_bad": link.frames_bad if link else 0,
                    "frame_gaps": link.frame_gaps if link else 0,
                }
            )
        return {
            "time": now,
            "vehicles": [
                {
                    "vehicle": s.vehicle,
                    "station": s.station,
                    "since": s.since,
                    "source": s.source,
                    "candidates": [c.station for c in s.candidates],
                }
                for s in self.tracker.states()
            ],
            "handovers": [
                {
                    "vehicle": c.vehicle,
                    "change": c.change.value,
                    "from": c.old,
                    "to": c.new,
                    "time": c.time,
                    "reason": c.reason,
                }
                for c in list(self.changes)[-50:]
            ],
            "stations": stations,
        }

"""The station carrying each vehicle's link, handovers as events, and station monitor freshness."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from ground.links.carrier import Candidate, CarrierTracker, Change, candidates
from ground.links.contact import Contact
from ground.links.monitor import MonitorFlags, StationMonitors
from ground.links.predict import LinkPredictor
from ground.links.service import LinkService
from ground.model import EventView, NullSink
from ground.processing.clock import SimStatus
from ground.processing.state import GroundState
from mission import topics
from mission.mdb.loader import load_mdb
from mission.sim_control import SpacecraftLinkStatus, StationMonitorMessage

T = 1_800_000_000.0  # 2027-01-15T08:00Z: Earth up at the site, five stations in view


def flags(station: str, *, prime: bool = False, usable: bool = True) -> MonitorFlags:
    return MonitorFlags(
        station,
        usable=usable,
        in_view=True,
        outage=not usable,
        prime={"rover": prime},
        locked={"rover": prime},
        ebn0_db={"rover": 8.0} if prime else {},
    )


def contact(station: str, el: float = 30.0) -> Contact:
    return Contact(station, True, None, el, 1.3)


def test_candidates_need_a_usable_station_that_is_prime_or_locked() -> None:
    found = candidates(
        "rover",
        [contact("a"), contact("b"), contact("c"), contact("d")],
        {"a": flags("a", prime=True), "b": flags("b"), "c": flags("c", prime=True, usable=False)},
    )
    assert [(c.station, c.source, c.prime) for c in found] == [
        ("a", "monitor", True),
        ("d", "prediction", False),
    ]


def test_the_prime_station_carries_and_its_change_is_a_handover() -> None:
    tracker = CarrierTracker(["rover"])
    a = Candidate("a", "monitor", True, 8.0, 40.0)
    b = Candidate("b", "monitor", True, 7.0, 50.0)
    acquired = tracker.update("rover", [a], 100.0)
    assert acquired is not None
    assert (acquired.change, acquired.new) == (Change.ACQUIRED, "a")
    assert tracker.update("rover", [a, Candidate("b", "monitor", False, None, 60)], 101.0) is None
    handover = tracker.update("rover", [Candidate("a", "monitor", False, None, 40), b], 102.0)
    assert handover is not None
    assert (handover.change, handover.old, handover.new) == (Change.HANDOVER, "a", "b")
    lost = tracker.update("rover", [], 103.0)
    assert lost is not None
    assert (lost.change, lost.old, lost.new) == (Change.LOST, "b", None)
    assert tracker.carrier("rover") is None


def test_without_a_prime_the_carrier_stays_while_it_can() -> None:
    tracker = CarrierTracker(["rover"])
    low = Candidate("low", "prediction", False, None, 20.0)
    high = Candidate("high", "prediction", False, None, 60.0)
    tracker.update("rover", [low], 1.0)
    assert tracker.update("rover", [low, high], 2.0) is None  # no flapping to the higher one
    change = tracker.update("rover", [high], 3.0)
    assert change is not None
    assert change.new == "high"
    assert "highest Moon elevation" in change.reason


def monitor(station: str, t: float, *, prime: bool, outage: bool = False) -> StationMonitorMessage:
    link = SpacecraftLinkStatus(
        ebn0_db=9.5 if prime else None,
        carrier_lock=prime,
        bit_lock=prime,
        frame_lock=prime,
        data_rate_bps=256_000 if prime else 0,
        path="hga" if prime else None,
        prime=prime,
    )
    return StationMonitorMessage(
        station=station,
        time=t,
        time_iso="",
        in_view=True,
        outage=outage,
        moon_elevation_deg=40.0,
        moon_azimuth_deg=100.0,
        earth_elevation_site_deg=3.0,
        range_km=384_000.0,
        light_time_s=1.28,
        prime=prime,
        spacecraft={"rover": link, "lander": link},
        uplink_frames=0,
        uplink_lost=0,
    )


def test_monitor_messages_are_parsed_and_stale_ones_ignored() -> None:
    store = StationMonitors(stale_s=300.0, stale_wall_s=10.0)
    store.on_message(
        topics.link("dss43"), monitor("dss43", T, prime=True).model_dump_json().encode()
    )
    store.on_message(topics.link("dss14"), b"not json")
    store.on_message(
        topics.link("dss14"), monitor("dss63", T, prime=True).model_dump_json().encode()
    )
    assert store.rejected == 2
    fresh = store.fresh(T + 100.0, speed=1.0)
    assert set(fresh) == {"dss43"}
    assert fresh["dss43"].prime == {"rover": True, "lander": True}
    assert store.fresh(T + 400.0, speed=1.0) == {}
    assert set(store.fresh(T + 400.0, speed=100.0)) == {"dss43"}  # 300 + 10 × 100 s


@dataclass
class EventSink(NullSink):
    events: list[EventView] = field(default_factory=list)

    def on_events(self, events: Sequence[EventView]) -> None:
        self.events.extend(events)


@pytest.fixture(scope="module")
def predictor() -> LinkPredictor:
    return LinkPredictor()


def test_the_link_service_raises_acquisition_and_handover_events(predictor: LinkPredictor) -> None:
    state = GroundState.from_mdb(load_mdb())
    state.clock.on_status(SimStatus(T, 1.0, paused=True, wall_time=time.time()))
    service = LinkService(state, EventSink(), None, predictor=predictor)
    assert service.step() == []  # nothing heard yet: no events from the prediction alone
    visible = [c.station for c in predictor.contacts(T) if c.predicted]
    first, second = visible[:2]
    service.monitors.put(monitor(first, T, prime=True))
    service.monitors.put(monitor(second, T, prime=False))
    events = service.step()
    assert {(e.name, e.spacecraft, e.args["to"]) for e in events} == {
        ("ground.link.acquired", "rover", first),
        ("ground.link.acquired", "lander", first),
    }
    assert service.carrier("rover") == first
    service.monitors.put(monitor(first, T, prime=False, outage=True))
    service.monitors.put(monitor(second, T, prime=True))
    handovers = service.step()
    assert [(e.name, e.args["from"], e.args["to"]) for e in handovers] == [
        ("ground.link.handover", first, second),
        ("ground.link.handover", first, second),
    ]
    assert handovers[0].id == 0xFF10
    assert handovers[0].generation_time == T
    snapshot = service.snapshot()
    rows = {s["station"]: s for s in snapshot["stations"]}
    assert rows[first]["outage"] is True
    assert rows[first]["usable"] is False
    assert rows[second]["prime"] == ["lander", "rover"]
    assert [v["station"] for v in snapshot["vehicles"]] == [second, second]

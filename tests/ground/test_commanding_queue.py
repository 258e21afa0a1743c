"""Release decisions of the command queue (pure logic) and the ground's link prediction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ground.commanding.queue import CommandQueue, decide_release, duration_text, iso
from ground.links.contact import Contact, NextAos
from ground.links.monitor import MonitorFlags
from ground.links.predict import LinkPredictor
from mission.geometry import earth_elevation_series, predict_passes
from tests.ground.test_commanding_verification import command

NOW = 1_800_000_000.0  # 2027-01-15T08:00Z: Earth up at the site, five stations in view


def contact(
    station: str, *, predicted: bool = True, monitor: bool | None = None, el: float = 30.0
) -> Contact:
    return Contact(station, predicted, monitor, el, 1.3)


def test_nothing_in_view_waits_with_the_next_aos_in_the_reason() -> None:
    aos = NextAos("dss43", NOW + 3725.0)
    decision = decide_release("rover", [contact("dss43", predicted=False)], NOW, next_aos=aos)
    assert not decision.release
    assert decision.station is None
    assert decision.next_aos == aos
    assert "no station in view of rover" in decision.reason
    assert f"next AOS dss43 at {iso(NOW + 3725.0)}" in decision.reason


def test_the_monitor_can_veto_a_predicted_contact() -> None:
    decision = decide_release("lander", [contact("dss14", monitor=False)], NOW)
    assert not decision.release
    assert "dss14" in decision.reason
    assert "monitor" in decision.reason


def test_a_station_without_monitor_data_is_judged_on_the_prediction() -> None:
    decision = decide_release("lander", [contact("dss14", monitor=None)], NOW)
    assert decision.station == "dss14"
    assert decision.light_time_s == 1.3


def test_the_monitor_alone_does_not_release() -> None:
    decision = decide_release("rover", [contact("dss14", predicted=False, monitor=True)], NOW)
    assert not decision.release


def test_preferred_then_carrier_then_highest_elevation() -> None:
    contacts = [contact("a", el=20.0), contact("b", el=60.0), contact("c", el=40.0)]
    assert decide_release("rover", contacts, NOW, preferred="a", carrier="c").station == "a"
    assert decide_release("rover", contacts, NOW, carrier="c").station == "c"
    assert decide_release("rover", contacts, NOW).station == "b"
    fallback = decide_release("rover", contacts, NOW, preferred="z")
    assert fallback.station == "b"
    assert "preferred station z cannot reach rover" in fallback.reason


def test_the_queue_is_first_in_first_out() -> None:
    queue = CommandQueue()
    first, second = command(), command()
    second.id = "c2"
    second.vehicle = "lander"
    queue.add(first)
    queue.add(second)
    assert [c.id for c in queue] == ["c1", "c2"]
    assert [c.id for c in queue.pending("lander")] == ["c2"]
    assert queue.remove("c1") is first
    assert "c1" not in queue
    assert len(queue) == 1


def test_text_helpers() -> None:
    assert iso(0.0) == "1970-01-01T00:00:00Z"
    assert duration_text(3725) == "1 h 02 min"
    assert duration_text(65) == "1 min 05 s"
    assert duration_text(4) == "4 s"


@pytest.fixture(scope="module")
def predictor() -> LinkPredictor:
    return LinkPredictor(lookahead_hours=48.0)


def _earth_rise(after: float) -> float:
    """The first time after ``after`` at which the Earth rises above the site's mask (hourly)."""
    series = earth_elevation_series(after, 24 * 30, step_s=600.0)
    above = series.elevation_deg >= series.mask_deg
    for k in range(1, len(above)):
        if above[k] and not above[k - 1]:
            return float(series.times[k])
    raise AssertionError("no Earth rise in 30 days")


def test_prediction_agrees_with_the_shared_pass_geometry(predictor: LinkPredictor) -> None:
    start = datetime(2026, 1, 20, tzinfo=UTC).timestamp()
    rise = _earth_rise(start)
    before = rise - 3 * 3600.0
    # Earth below the site's horizon: nobody can talk to the site.
    assert not any(c.predicted for c in predictor.contacts(before))
    expected = min(p.aos for p in predict_passes(before, 48.0) if p.aos > before)
    nxt = predictor.next_aos(before)
    assert nxt is not None
    assert nxt.time == pytest.approx(expected, abs=1.0)
    # Just after that AOS the station is predicted in view.
    after = predictor.contacts(nxt.time + 120.0)
    assert any(c.station == nxt.station and c.predicted for c in after)


def test_contacts_take_the_monitor_flag(predictor: LinkPredictor) -> None:
    t = NOW
    visible = [c.station for c in predictor.contacts(t) if c.predicted]
    assert visible, "pick a time with a station in view"
    station = visible[0]
    outage = MonitorFlags(station, False, True, True, {}, {}, {})
    vetoed = predictor.contacts(t, {station: outage})
    by_id = {c.station: c for c in vetoed}
    assert by_id[station].predicted
    assert not by_id[station].usable
    assert 1.1 < by_id[station].light_time_s < 1.5


def test_next_aos_beyond_the_look_ahead_during_a_long_earth_set(predictor: LinkPredictor) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    series = earth_elevation_series(start, 24 * 40, step_s=600.0)
    above = (series.elevation_deg >= series.mask_deg).tolist()
    setting = next(k for k in range(1, len(above)) if above[k - 1] and not above[k])
    rising = next(k for k in range(setting, len(above)) if above[k] and not above[k - 1])
    assert series.times[rising] - series.times[setting] > 4 * 86400, "pick a long Earth set"
    t = float(series.times[setting]) + 86400.0
    nxt = predictor.next_aos(t)
    assert nxt is not None
    expected = min(
        p.aos for p in predict_passes(float(series.times[rising - 1]), 24.0) if p.aos > t
    )
    assert nxt.time == pytest.approx(expected, abs=1.0)
    assert nxt.time > t + predictor.lookahead_hours * 3600.0

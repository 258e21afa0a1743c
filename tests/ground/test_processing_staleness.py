"""Staleness in mission time, the mission clock, latest values and the link table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ground.model import MonitoringResult, SampleArrays
from ground.processing.clock import MissionClock, SimStatus, parse_sim_status
from ground.processing.latest import LatestValues
from ground.processing.links import LinkTable
from ground.processing.staleness import StalenessChecker, StalenessPolicy
from mission.mdb.models import EngType
from mission.sim_control import SimStatus as SimStatusMessage
from mission.sim_control import SpacecraftLinkStatus, StationMonitorMessage


class WallClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def block(name: str, times: list[float], values: list[float], rt: float = 0.0) -> SampleArrays:
    t = np.asarray(times, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    return SampleArrays(name, "rover", t, rt, v, v, np.zeros(len(t), dtype=np.int8))


def test_latest_takes_the_last_sample_and_ignores_older_blocks() -> None:
    latest = LatestValues({"a": EngType.INT, "b": EngType.BOOL})
    changed = latest.update([block("a", [1.0, 2.0, 3.0], [10, 20, 30]), block("b", [1.0], [1])])
    assert {v.name for v in changed} == {"a", "b"}
    a = latest.get("a")
    assert a is not None
    assert (a.generation_time, a.eng_value, a.raw_value) == (3.0, 30, 30.0)
    assert isinstance(a.eng_value, int)
    b = latest.get("b")
    assert b is not None
    assert b.eng_value is True
    assert a.monitoring_result is MonitoringResult.DISABLED
    assert latest.update([block("a", [0.5], [99])]) == []  # played back: older
    assert latest.get("a") == a
    assert latest.names() == ["a", "b"]
    assert [v.name for v in latest.all()] == ["a", "b"]


@pytest.mark.parametrize("speed", [1.0, 10.0, 1000.0])
def test_stale_after_k_periods_of_mission_time_at_any_speed(speed: float) -> None:
    wall = WallClock(1_000.0)
    clock = MissionClock(wall)
    clock.on_status(SimStatus(mission_time=5_000.0, speed=speed, paused=False), 1_000.0)
    latest = LatestValues()
    latest.update([block("p", [5_000.0], [1.0])])
    policy = StalenessPolicy(factor=3.0, grace_s=0.0, wall_grace_s=0.0)
    checker = StalenessChecker(latest, clock, {"p": 2.0}, policy)
    wall.now = 1_000.0 + 5.9 / speed  # 5.9 s of mission time later: within 3 × 2 s
    assert checker.check() == []
    wall.now = 1_000.0 + 6.1 / speed  # 6.1 s of mission time: overdue
    (stale,) = checker.check()
    assert stale.name == "p"
    assert stale.stale
    assert checker.check() == []  # reported once
    latest.update([block("p", [5_006.5], [2.0])])
    fresh = latest.get("p")
    assert fresh is not None
    assert not fresh.stale


def test_nothing_goes_stale_while_the_simulation_is_paused() -> None:
    wall = WallClock(0.0)
    clock = MissionClock(wall)
    clock.on_status(SimStatus(mission_time=100.0, speed=10.0, paused=True), 0.0)
    latest = LatestValues()
    latest.update([block("p", [50.0], [1.0])])
    checker = StalenessChecker(latest, clock, {"p": 1.0})
    wall.now = 1e6
    assert clock.now() == 100.0
    assert checker.check() == []


def test_a_simulation_behind_its_speed_factor_does_not_run_the_clock_ahead() -> None:
    """At 100× the simulation only achieved 50× (``lag_s`` growing): the ground extrapolates at
    the rate it measured between the last two statuses, never faster than the nominal speed,
    and goes back to the nominal speed when the speed changes or the simulation restarts."""
    wall = WallClock(0.0)
    clock = MissionClock(wall)
    clock.on_status(SimStatus(mission_time=1_000.0, speed=100.0, paused=False, wall_time=0.0))
    assert clock.rate == 100.0  # nothing measured yet
    clock.on_status(SimStatus(mission_time=1_050.0, speed=100.0, paused=False, wall_time=1.0))
    wall.now = 2.0
    assert clock.rate == 50.0
    assert clock.now() == 1_100.0  # not 1_150
    assert clock.speed == 100.0  # what the simulator was asked for, as shown to operators
    # Catching up (more than the nominal speed between two statuses) is capped at the speed.
    clock.on_status(SimStatus(mission_time=1_300.0, speed=100.0, paused=False, wall_time=3.0))
    assert clock.rate == 100.0
    # Statuses too close together measure nothing: the last rate stays.
    clock.on_status(SimStatus(mission_time=1_301.0, speed=100.0, paused=False, wall_time=3.01))
    assert clock.rate == 100.0
    clock.on_status(SimStatus(mission_time=1_400.0, speed=10.0, paused=False, wall_time=4.0))
    assert clock.rate == 10.0  # a new speed: nominal until measured
    clock.on_status(SimStatus(mission_time=1_402.0, speed=10.0, paused=False, wall_time=5.0))
    assert clock.rate == 2.0
    clock.on_status(SimStatus(mission_time=500.0, speed=10.0, paused=False, wall_time=6.0))
    assert clock.rate == 10.0  # restarted: nominal again
    clock.on_status(SimStatus(mission_time=600.0, speed=10.0, paused=True, wall_time=7.0))
    assert clock.rate == 0.0


def test_clock_without_status_follows_the_frames() -> None:
    wall = WallClock(10.0)
    clock = MissionClock(wall)
    assert clock.now() == 10.0
    clock.on_generation_time(1_000.0, reception_time=10.0)
    wall.now = 12.0
    assert clock.now() == 1_002.0
    assert clock.speed == 1.0


def test_sim_status_parsing() -> None:
    status = parse_sim_status(json.dumps({"clock": {"mission_time": 5.0, "speed": 20}}))
    assert (status.mission_time, status.speed, status.paused) == (5.0, 20.0, False)
    assert parse_sim_status(b'{"sim_time": 1, "running": false}').paused
    for bad in (b"not json", b"[1]", b'{"speed": 3}'):
        with pytest.raises(ValueError, match="sim status"):
            parse_sim_status(bad)


def test_link_table_merges_monitor_data_and_ingest_counts() -> None:
    links = LinkTable()
    payload = json.dumps(
        {
            "in_view": True,
            "moon_elevation_deg": 42.5,
            "ebn0_db": {"rover": 6.1},
            "locked": {"rover": True},
            "light_time_s": 1.28,
            "time": 77.0,
        }
    )
    links.on_monitor("usuda", payload, 80.0)
    links.add_counts("usuda", frames=10, bad=1, gaps=2, duplicates=3, last_frame_time=81.0)
    view = links.get("usuda")
    assert view is not None
    assert view.in_view is True
    assert view.moon_elevation_deg == 42.5
    assert view.ebn0_db == {"rover": 6.1}
    assert view.locked == {"rover": True}
    assert view.monitor_time == 77.0
    assert (view.frames_received, view.frames_bad, view.frame_gaps, view.duplicates) == (
        10,
        1,
        2,
        3,
    )
    assert links.drain_changed() == [view]
    assert links.drain_changed() == []
    with pytest.raises(ValueError, match="JSON"):
        links.on_monitor("usuda", b"\xff", 1.0)
    assert links.counts()["usuda"]["frames_received"] == 10


def test_the_simulators_own_messages_are_understood() -> None:
    status = SimStatusMessage(
        mission_time=5_000.0,
        mission_time_iso="x",
        wall_time=100.0,
        epoch=0.0,
        speed=50.0,
        paused=False,
        seed=1,
        lag_s=0.0,
        prime_station="usuda",
        active_faults=[],
        scenario=None,
        vehicles={},
    )
    wall = WallClock(102.0)
    clock = MissionClock(wall)
    clock.on_status(parse_sim_status(status.model_dump_json()), reception_time=101.0)
    assert clock.speed == 50.0
    assert clock.now() == 5_000.0 + 2.0 * 50.0  # from the status's own wall time
    monitor = StationMonitorMessage(
        station="usuda",
        time=5_001.0,
        time_iso="x",
        in_view=True,
        outage=False,
        moon_elevation_deg=30.0,
        moon_azimuth_deg=100.0,
        earth_elevation_site_deg=12.5,
        range_km=384_000.0,
        light_time_s=1.28,
        prime=True,
        spacecraft={
            "rover": SpacecraftLinkStatus(
                ebn0_db=7.5, carrier_lock=True, bit_lock=True, frame_lock=True,
                data_rate_bps=64_000, path="hga", prime=True,
            ),
            "lander": SpacecraftLinkStatus(
                ebn0_db=None, carrier_lock=False, bit_lock=False, frame_lock=False,
                data_rate_bps=0, path=None, prime=False,
            ),
        },
        uplink_frames=0,
        uplink_lost=0,
    )  # fmt: skip
    links = LinkTable()
    view = links.on_monitor("usuda", monitor.model_dump_json(), 101.0)
    assert view.earth_elevation_at_site_deg == 12.5
    assert view.ebn0_db == {"rover": 7.5}
    assert view.locked == {"rover": True, "lander": False}
    assert view.monitor_time == 5_001.0

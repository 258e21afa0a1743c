"""The space link: visibility, light time both ways, frame errors, storage and playback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mission.mdb import MissionDatabase, VerificationReportType
from mission.sim_control import ClearFault, InjectFault
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.world import World
from tests.spacecraft_mock.exercise import EPOCH
from tests.spacecraft_mock.probe import GroundProbe, Uplink, run

EARTH_DOWN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp()
"""The Earth is below the site's horizon for days around this time."""


def test_nothing_is_delivered_without_a_station_and_storage_fills(mdb: MissionDatabase) -> None:
    world = World(1, EARTH_DOWN)
    probe = GroundProbe(mdb)
    run(world, probe, EARTH_DOWN + 900.0)
    assert world.sample.earth_el < world.sample.earth_mask_deg
    assert probe.frames == []
    assert all(not r.in_view for records in probe.monitors.values() for r in records)
    for vehicle in ("rover", "lander"):
        assert world.obsw[vehicle].store.fill_pct > 0.0
        assert world.obsw[vehicle].store.frames_stored > 0
    assert not world.receive_uplink("dss43", "rover", b"\x00" * 20)
    assert world.link.uplink_lost["dss43"] == 1


def test_light_time_is_applied_on_downlink_and_uplink(mdb: MissionDatabase) -> None:
    world = World(1, EPOCH, config=WorldConfig(activity_plan=False))
    probe = GroundProbe(mdb)
    run(world, probe, EPOCH + 120.0)
    station = world.link.prime
    assert station is not None
    light = world.link.light_time(station)
    assert 1.19 <= light <= 1.41  # a station on Earth's surface is a little nearer or farther
    delays = [r.t - r.generation_time for r in probe.received("rover.mobility.odometry")]
    assert min(delays) >= light - 0.01  # nothing arrives before its light time
    assert min(delays) == pytest.approx(light, abs=0.05)  # frames completed as a packet arrives
    assert max(delays) < light + 1.1  # partial frames wait at most the 1 s flush interval
    sent_at = world.t
    apid, seq = Uplink(world).send("rover.obsw.are_you_alive", station=station)
    run(world, probe, world.t + 10.0)
    accepted = [
        (t, d) for t, d in probe.reports
        if d.report.subtype is VerificationReportType.ACCEPTANCE_SUCCESS
        and (d.report.tc_apid, d.report.tc_seq_count) == (apid, seq)
    ]  # fmt: skip
    t_recv, report = accepted[0]
    onboard = report.generation_time - world.obsw["rover"].clock_offset
    assert onboard - sent_at == pytest.approx(light, abs=0.01)  # executed one light time later
    assert t_recv - sent_at >= 2 * light  # and seen on the ground after the round trip


def test_frame_errors_appear_at_low_eb_n0_both_lost_and_corrupted(mdb: MissionDatabase) -> None:
    world = World(2, EPOCH, config=WorldConfig(activity_plan=False))
    probe = GroundProbe(mdb)
    run(world, probe, EPOCH + 300.0)
    assert probe.corrupted == []
    assert probe.gaps == []  # a clean link before the burst
    world.apply_control(
        InjectFault(fault="bit_error_burst", params={"ebn0_db": 1.5}, duration_s=600)
    )
    start = world.t
    run(world, probe, start + 590.0)
    budget = world.link.budget(world.link.prime or "", "rover")
    assert budget is not None
    assert budget.ebn0_db == pytest.approx(1.5)
    assert len([t for t, _ in probe.corrupted if t >= start]) > 5
    assert sum(n for t, _, n in probe.gaps if t >= start) > 5
    assert world.link.frames_lost["rover"] > 0
    assert world.link.frames_corrupted["lander"] > 0


def test_storage_fills_during_los_and_plays_back_on_vc2_after_aos(mdb: MissionDatabase) -> None:
    world = World(4, EPOCH)
    probe = GroundProbe(mdb)
    run(world, probe, EPOCH + 120.0)
    world.apply_control(InjectFault(fault="earth_set", until_cleared=True))
    los = world.t
    run(world, probe, los + 1800.0)
    assert [f for f in probe.frames if f[0] > los + 5.0] == []
    stored = world.obsw["rover"].store.frames_stored
    assert stored > 0
    assert world.obsw["lander"].store.fill_pct > 0.0
    world.apply_control(ClearFault(fault="earth_set"))
    aos = world.t
    run(world, probe, aos + 900.0)
    playback = [f for f in probe.frames if f[3] == 2 and f[0] >= aos]
    assert {f[2] for f in playback} == {"rover", "lander"}
    assert world.obsw["rover"].store.frames_stored == 0
    assert probe.event_times("rover.comms.playback_started", aos, world.t)
    assert probe.event_times("rover.comms.playback_complete", aos, world.t)
    # The played-back packets carry the LOS: their generation times fall inside it.
    inside = [
        r for r in probe.received("rover.power.battery_soc")
        if los + 5.0 < r.generation_time < aos - 5.0
    ]  # fmt: skip
    assert len(inside) >= 1800 / world.config.los_hk_interval_s - 2
    assert all(r.t > aos for r in inside)


def test_prime_station_outage_hands_over_and_frames_continue(mdb: MissionDatabase) -> None:
    world = World(1, EPOCH, config=WorldConfig(activity_plan=False))
    probe = GroundProbe(mdb)
    run(world, probe, EPOCH + 60.0)
    first = world.link.prime
    world.apply_control(InjectFault(fault="station_outage", params={"station": "prime"}))
    out = world.advance_to(world.t + 5.0)
    probe.feed(out)
    handovers = [e for e in out.events if e.kind == "handover"]
    assert handovers
    assert handovers[0].detail == {"from": first, "to": world.link.prime}
    run(world, probe, world.t + 120.0)
    late = {f[1] for f in probe.frames if f[0] > world.t - 60.0}
    assert late == {world.link.prime}
    assert probe.gaps == []  # counters continue across the handover
    outage = [r for r in probe.monitors[first or ""] if r.outage]
    assert outage
    assert not outage[-1].prime

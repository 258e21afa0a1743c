"""Unit tests of the simulator's small parts: outbox, FARM, packet store, terrain, environment."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import numpy as np
import pytest

from mission.ccsds import build_tc_frame
from mission.ccsds.crc import append_crc, crc_ok
from mission.facts import load_facts
from mission.geometry import site_geometry
from spacecraft_mock import terrain
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.environment import LANDER_EYE_M, local_horizon_deg
from spacecraft_mock.link_model import Fading, corrupt
from spacecraft_mock.obsw.farm import Farm, FrameVerdict
from spacecraft_mock.obsw.storage import PacketStore
from spacecraft_mock.outbox import Outbox
from spacecraft_mock.rng import RandomStreams
from spacecraft_mock.vehicles.power import Battery, cell_ocv
from spacecraft_mock.vehicles.thermal import Heater

SCID = 0x1E1


# ---------------------------------------------------------------------------------- outbox
async def test_outbox_keeps_order_and_requeues_in_order() -> None:
    box = Outbox(max_frames=100)
    for i in range(5):
        box.put("t", bytes([i]))
    taken = [await box.get() for _ in range(3)]
    box.ack(taken[1])
    box.requeue_all()
    order = [(await box.get()).payload[0] for _ in range(4)]
    assert order == [0, 2, 3, 4]
    assert box.requeued == 2
    assert box.acked == 1


async def test_outbox_latest_state_replaces_unsent_and_is_sent_first() -> None:
    box = Outbox()
    box.put("frames", b"f")
    box.put_latest("status", b"1")
    box.put_latest("status", b"2")
    first = await box.get()
    assert (first.topic, first.payload, first.retain) == ("status", b"2", True)
    assert (await box.get()).payload == b"f"


async def test_outbox_is_bounded_and_counts_drops() -> None:
    box = Outbox(max_frames=3)
    for i in range(5):
        box.put("t", bytes([i]))
    assert box.dropped == 2
    assert [(await box.get()).payload[0] for _ in range(3)] == [2, 3, 4]


async def test_outbox_drained_waits_for_acknowledgements() -> None:
    box = Outbox()
    box.put("t", b"x")
    waiter = asyncio.create_task(box.drained())
    message = await box.get()
    await asyncio.sleep(0)
    assert not waiter.done()
    box.ack(message)
    await asyncio.wait_for(waiter, 1.0)
    assert box.empty


# ---------------------------------------------------------------------------------- FARM
def test_farm_checks_fecf_length_and_scid() -> None:
    farm = Farm(SCID, 1024)
    good = build_tc_frame(SCID, 0, b"\x18\x01\xc0\x00\x00\x05" + bytes(6), seq_num=7)
    assert farm.receive(good).verdict is FrameVerdict.ACCEPTED
    assert farm.clcw().report_value == 8
    bad_crc = good[:-1] + bytes([good[-1] ^ 1])
    assert farm.receive(bad_crc).verdict is FrameVerdict.BAD_FRAME
    other = build_tc_frame(0x1E0, 0, b"\x00" * 8)
    assert farm.receive(other).verdict is FrameVerdict.WRONG_SCID
    assert farm.receive(good + bytes(1100)).verdict is FrameVerdict.TOO_LONG
    assert (farm.frames_received, farm.frames_rejected) == (4, 3)


def test_farm1_sequence_window_lockout_and_unlock() -> None:
    farm = Farm(SCID, 1024)

    def ad(n: int) -> bytes:
        return build_tc_frame(SCID, 0, b"\x00" * 8, seq_num=n, bypass=False)

    assert farm.receive(ad(0)).verdict is FrameVerdict.ACCEPTED
    assert farm.receive(ad(1)).verdict is FrameVerdict.ACCEPTED
    assert farm.clcw().report_value == 2
    assert farm.receive(ad(4)).verdict is FrameVerdict.DISCARDED
    assert farm.clcw().retransmit
    assert farm.receive(ad(100)).verdict is FrameVerdict.DISCARDED
    assert farm.clcw().lockout
    assert farm.receive(ad(2)).verdict is FrameVerdict.DISCARDED  # locked out
    unlock = build_tc_frame(SCID, 0, b"\x00", bypass=True, control_command=True)
    assert farm.receive(unlock).verdict is FrameVerdict.CONTROL
    set_vr = build_tc_frame(SCID, 0, b"\x82\x00\x09", bypass=True, control_command=True)
    assert farm.receive(set_vr).verdict is FrameVerdict.CONTROL
    clcw = farm.clcw()
    assert (clcw.lockout, clcw.retransmit, clcw.report_value) == (False, False, 9)
    assert clcw.farm_b_counter == 2


def test_bypass_frames_move_v_r_only_until_ad_service_is_in_use() -> None:
    farm = Farm(SCID, 1024)
    bd = build_tc_frame(SCID, 0, b"\x00" * 8, seq_num=41)
    assert farm.receive(bd).verdict is FrameVerdict.ACCEPTED
    assert farm.clcw().report_value == 42  # the mission convention for a BD-only ground
    ad = build_tc_frame(SCID, 0, b"\x00" * 8, seq_num=42, bypass=False)
    assert farm.receive(ad).verdict is FrameVerdict.ACCEPTED
    another_bd = build_tc_frame(SCID, 0, b"\x00" * 8, seq_num=7)
    assert farm.receive(another_bd).verdict is FrameVerdict.ACCEPTED
    assert farm.clcw().report_value == 43  # the standard: BD frames leave V(R) alone
    farm.reset()
    assert farm.receive(another_bd).verdict is FrameVerdict.ACCEPTED
    assert farm.clcw().report_value == 8


def test_farm_wait_refuses_sequenced_frames_but_not_bypass_frames() -> None:
    farm = Farm(SCID, 1024)
    farm.wait = True
    ad = build_tc_frame(SCID, 0, b"\x00" * 8, seq_num=0, bypass=False)
    assert farm.receive(ad).verdict is FrameVerdict.DISCARDED
    assert farm.clcw().wait
    bd = build_tc_frame(SCID, 0, b"\x00" * 8, seq_num=5)
    assert farm.receive(bd).verdict is FrameVerdict.ACCEPTED
    assert farm.clcw().report_value == 6


# ---------------------------------------------------------------------------------- storage
def test_packet_store_fills_drops_oldest_and_plays_back_in_order() -> None:
    store = PacketStore(capacity_bytes=1000, frame_data_length=100)
    full = [store.add(float(i), "HK", bytes([i]) * 100) for i in range(12)]
    assert store.dropped == 2
    assert full.count(True) == 1
    assert store.frames_stored == 10
    assert store.start_playback() == 10
    first = store.take(250)
    assert [p[0] for p in first] == [2, 3, 4]
    rest = store.take(10_000)
    assert [p[0] for p in rest] == list(range(5, 12))
    assert not store.playing
    assert store.used == 0


def test_packet_store_selective_playback_and_clear() -> None:
    store = PacketStore(capacity_bytes=10_000, frame_data_length=100)
    for i in range(6):
        store.add(float(i), "HK" if i % 2 else "SCIENCE", bytes([i]) * 50)
    assert store.start_playback("SCIENCE", 1.0, 4.0) == 1
    assert [p[0] for p in store.take(1000)] == [2, 4]
    assert store.clear("HK") == 2
    assert len(store) == 1


# ---------------------------------------------------------------------------------- physics
def test_battery_stays_within_its_limits_and_a_failed_cell_lowers_the_voltage() -> None:
    battery = Battery(capacity_wh=5000.0, soc=0.9, soc_max=0.95)
    for _ in range(3600):
        battery.step(10.0, 400.0)
    assert battery.soc == pytest.approx(0.95)
    healthy = battery.voltage_v
    battery.fail_cells(1)
    battery.step(1.0, 0.0)
    assert healthy - battery.voltage_v == pytest.approx(cell_ocv(0.95), abs=0.2)


def test_heater_thermostat_and_faults() -> None:
    heater = Heater("battery", 15.0, 7.0, 11.0)
    heater.control(5.0, auto=True)
    assert heater.on
    assert heater.draw_w == 15.0
    heater.failed = True
    assert heater.draw_w == 0.0
    heater.control(12.0, auto=True)
    assert not heater.on
    heater.stuck_on = True
    heater.control(40.0, auto=True)
    assert heater.on


def test_rng_streams_are_independent_and_reproducible() -> None:
    a, b = RandomStreams(7), RandomStreams(7)
    x = a.stream("one").random(3)
    a.stream("two").random(100)  # drawing elsewhere changes nothing in "one"
    assert np.array_equal(np.concatenate([x, a.stream("one").random(2)]), b.stream("one").random(5))
    assert not np.array_equal(RandomStreams(8).stream("one").random(3), x)


def test_terrain_has_more_hydrogen_towards_the_psr_and_steep_crater_walls() -> None:
    far = terrain.weh_wt_pct(-300.0, 300.0)
    near = terrain.weh_wt_pct(200.0, -250.0)
    assert 0.0 <= far < near <= 2.0
    assert terrain.in_psr(*terrain.PSR_CENTRE)
    assert terrain.slope_deg(0.0, 0.0) < 5.0
    rim = (
        terrain.PSR_CENTRE[0] - 0.6 * terrain.PSR_RADIUS_M,
        terrain.PSR_CENTRE[1] + 0.55 * terrain.PSR_RADIUS_M,
    )
    assert terrain.slope_deg(*rim) > 20.0
    assert terrain.water_wt_pct(200.0, -250.0, 1.0) > terrain.water_wt_pct(200.0, -250.0, 0.02)


def test_site_is_lit_about_86_percent_of_a_year() -> None:
    facts = load_facts()
    start = datetime(2028, 1, 1, tzinfo=UTC).timestamp()
    times = start + np.arange(0.0, 365 * 86400.0, 3 * 3600.0)
    geometry = site_geometry(times, facts=facts)
    far = WorldConfig().far_horizon_deg
    horizon = np.array(
        [max(far, local_horizon_deg(0.0, 0.0, az, LANDER_EYE_M)) for az in geometry.sun_az_deg]
    )
    lit = float(np.mean(geometry.sun_el_deg > horizon))
    assert lit == pytest.approx(facts.number("site.illumination_fraction"), abs=0.03)


def test_fading_grows_at_low_elevation() -> None:
    fading = Fading(np.random.default_rng(3))
    low = [fading.step(("s", "rover"), 10.0, 1.0) for _ in range(4000)]
    high = [fading.step(("s", "lander"), 80.0, 1.0) for _ in range(4000)]
    assert np.std(low) > 4 * np.std(high)


def test_corruption_always_breaks_the_frame_check() -> None:
    rng = np.random.default_rng(5)
    framed = append_crc(bytes(range(256)) * 4)
    assert crc_ok(framed)
    assert not any(crc_ok(corrupt(framed, rng)) for _ in range(500))

"""Housekeeping and science: every MDB parameter from the physics, encoded exactly, on schedule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from spacepackets.ecss.tm import PusTm

from mission.ccsds import parse_tm_packet
from mission.mdb import MissionDatabase, decode_tm, encode_tm
from mission.mdb.calibration import EnumCalibrator, PolynomialCalibrator
from mission.mdb.models import EngType
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.obsw.tm import TmSource
from spacecraft_mock.world import World
from tests.spacecraft_mock.exercise import EPOCH
from tests.spacecraft_mock.probe import GroundProbe, run


@pytest.fixture(scope="module")
def world() -> World:
    w = World(1, EPOCH)
    w.advance_to(EPOCH + 120.0)
    return w


def test_every_parameter_of_every_packet_comes_from_the_model(
    world: World, mdb: MissionDatabase
) -> None:
    for vehicle, model in world.models.items():
        obsw = world.obsw[vehicle]
        for packet in mdb.packets_for(vehicle):
            values = model.telemetry(obsw, packet.name)
            missing = set(packet.parameters) - set(values)
            assert not missing, f"{packet.name} lacks {sorted(missing)}"
            for name in packet.parameters:
                value = values[name]
                assert value is not None
                if isinstance(value, float):
                    assert math.isfinite(value), name


def _in_range(mdb: MissionDatabase, name: str, rng: np.random.Generator) -> object:
    param = mdb.parameters[name]
    codec = mdb.codecs[mdb.packet_of(name).name]
    cal = codec.calibrators[codec.names.index(name)]
    if isinstance(cal, EnumCalibrator):
        return str(rng.choice(sorted(cal.labels.values())))
    if param.type is EngType.BOOL:
        return bool(rng.integers(0, 2))
    low, high = cal.domain.min, cal.domain.max
    if param.encoding.startswith("float"):
        return float(rng.uniform(-1e3, 1e3))
    raw = int(rng.integers(int(low), int(high) + 1))
    eng = cal.to_eng(raw)
    if isinstance(cal, PolynomialCalibrator) or param.type is EngType.FLOAT:
        return float(eng)
    return int(eng)


def test_fast_encoder_matches_the_mdb_encoder(mdb: MissionDatabase) -> None:
    rng = np.random.default_rng(11)
    for vehicle in mdb.vehicles:
        source = TmSource(mdb, vehicle)
        for packet in mdb.packets_for(vehicle):
            for _ in range(20):
                values = {n: _in_range(mdb, n, rng) for n in packet.parameters}
                fast = source.hk(packet.name, values, EPOCH)
                seq = parse_tm_packet(fast).seq_count
                reference = encode_tm(mdb, packet.name, values, seq, EPOCH, msg_counter=seq)
                assert fast == reference, packet.name


def test_out_of_range_values_saturate_instead_of_failing(mdb: MissionDatabase) -> None:
    source = TmSource(mdb, "rover")
    packet = mdb.packets["rover.hk.power"]
    values: dict[str, object] = dict.fromkeys(packet.parameters, 1000000000000.0)
    values["rover.power.charge_state"] = "NOT_A_STATE"
    values["rover.power.battery_current"] = -math.inf
    decoded = decode_tm(mdb, source.hk(packet.name, values, EPOCH))
    assert decoded.values["rover.power.battery_voltage"].eng_value == pytest.approx(65.535)
    assert decoded.values["rover.power.charge_state"].eng_value == "IDLE"


def test_packets_follow_the_mdb_periods_and_parse_with_spacepackets(mdb: MissionDatabase) -> None:
    world = World(3, EPOCH, config=WorldConfig(activity_plan=False))
    probe = GroundProbe(mdb)
    raw: list[bytes] = []
    world.obsw["rover"].packet_tap = lambda v, n, t, p: raw.append(p)
    span = 240.0
    run(world, probe, EPOCH + span)
    for packet in mdb.packets_for("rover") + mdb.packets_for("lander"):
        if packet.service != 3:
            continue
        expected = span / packet.period
        assert probe.packets[packet.name] == pytest.approx(expected, abs=2), packet.name
    assert probe.packets["rover.sci.ns"] >= 3  # NS and GPR are on by default
    assert "rover.sci.alis" not in probe.packets  # ALIS is off: no science from it
    for raw_packet in raw[:200]:
        tm = PusTm.unpack(raw_packet, timestamp_len=7)
        ours = parse_tm_packet(raw_packet)
        assert (tm.service, tm.message_subtype, tm.apid) == (ours.service, ours.subtype, ours.apid)
        assert tm.source_data == ours.data


def test_hk_rate_multiplier_and_overrides(mdb: MissionDatabase) -> None:
    config = WorldConfig(
        hk_rate_multiplier=2.0, hk_period_overrides={"rover.hk.power": 10.0}, activity_plan=False
    )
    world = World(1, EPOCH, config=config)
    counts: dict[str, int] = {}

    def tap(vehicle: str, name: str, t: float, packet: bytes) -> None:
        counts[name] = counts.get(name, 0) + 1

    world.obsw["rover"].packet_tap = tap
    world.advance_to(EPOCH + 100.0)
    assert counts["rover.hk.power"] == pytest.approx(10, abs=1)
    assert counts["rover.hk.mobility"] == pytest.approx(200, abs=2)  # 1 s / 2
    assert counts["rover.hk.thermal"] == pytest.approx(25, abs=1)  # 8 s / 2

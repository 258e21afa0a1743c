"""Every MDB command executes on board (or fails with the right code) with its PUS 1 reports."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from mission.ccsds import build_tc_frame, build_tc_packet
from mission.ccsds.pus import PEC_LEN
from mission.mdb import MissionDatabase, VerificationReportType, encode_command
from mission.sim_control import InjectFault
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.world import World
from tests.spacecraft_mock.exercise import EPOCH
from tests.spacecraft_mock.probe import GroundProbe, Uplink, run

R = VerificationReportType


class Bench:
    """A world, a ground probe and an uplink; ``do`` sends one command and waits for its end."""

    def __init__(self, mdb: MissionDatabase) -> None:
        self.mdb = mdb
        self.world = World(5, EPOCH, config=WorldConfig(activity_plan=False, safe_recovery_s=None))
        self.probe = GroundProbe(mdb)
        self.uplink = Uplink(self.world)
        self.exercised: set[str] = set()
        run(self.world, self.probe, EPOCH + 60.0)

    def reports(self, apid: int, seq: int) -> list[tuple[R, str | None]]:
        out = []
        for _, decoded in self.probe.reports:
            report = decoded.report
            if (report.tc_apid, report.tc_seq_count) == (apid, seq):
                code = decoded.failure.name if decoded.failure is not None else None
                out.append((R(report.subtype), code))
        return out

    def wait_final(self, apid: int, seq: int, limit: float) -> list[tuple[R, str | None]]:
        end = self.world.t + limit
        final = {R.ACCEPTANCE_FAILURE, R.START_FAILURE, R.COMPLETION_SUCCESS, R.COMPLETION_FAILURE}
        while self.world.t < end:
            run(self.world, self.probe, self.world.t + 2.0, step=2.0)
            got = self.reports(apid, seq)
            if any(kind in final for kind, _ in got):
                run(self.world, self.probe, self.world.t + 2.0)
                return self.reports(apid, seq)
        return self.reports(apid, seq)

    def do(self, name: str, args: dict[str, Any] | None = None, fails: str | None = None,
           stage: R | None = None) -> None:  # fmt: skip
        """Send ``name``; check 1,1 / 1,3 / 1,7, or the failure report with code ``fails``."""
        self.exercised.add(name)
        apid, seq = self.uplink.send(name, args)
        limit = self.mdb.commands[name].execution_time + 30.0
        got = self.wait_final(apid, seq, limit)
        if fails is None:
            assert got == [(R.ACCEPTANCE_SUCCESS, None), (R.START_SUCCESS, None),
                           (R.COMPLETION_SUCCESS, None)], (name, got)  # fmt: skip
        else:
            expected = stage or R.START_FAILURE
            assert got[-1] == (expected, fails), (name, got)
            if expected is not R.ACCEPTANCE_FAILURE:
                assert got[0] == (R.ACCEPTANCE_SUCCESS, None), (name, got)

    def raw(self, vehicle: str, packet: bytes) -> None:
        scid = self.mdb.spacecraft[vehicle].scid
        frame = build_tc_frame(scid, 0, packet, seq_num=200)
        self.world.receive_uplink(self.world.link.prime or "dss43", vehicle, frame)

    def now_on_board(self, vehicle: str) -> float:
        """UTC at which a command sent now arrives (what a time synchronisation carries)."""
        return self.world.t + self.world.link.light_time(self.world.link.prime or "dss43")


@pytest.fixture(scope="module")
def bench(mdb: MissionDatabase) -> Bench:
    return Bench(mdb)


def test_rover_commands(bench: Bench) -> None:
    w, do = bench.world, bench.do
    do("rover.obsw.are_you_alive")
    assert any(v == "rover" for _, v in bench.probe.alive_reports)
    do("rover.obsw.set_hk_period", {"sid": 104, "period": 2.0})
    do("rover.obsw.set_hk_period", {"sid": 999, "period": 2.0}, fails="UNKNOWN_SID")
    do("rover.obsw.time_sync", {"utc_time": bench.now_on_board("rover")})
    assert abs(w.obsw["rover"].clock_offset) < 0.01
    do("rover.obsw.fdir_disable")
    assert not w.obsw["rover"].fdir_enabled
    do("rover.obsw.fdir_enable")
    do("rover.mobility.set_nav_mode", {"mode": "GUIDED"})
    do("rover.mobility.turn", {"angle": 10.0})
    do("rover.mobility.drive_distance", {"distance": 0.5, "speed": 0.05})
    nav = w.rover.nav
    do("rover.mobility.drive_to", {"x": nav.est_x + 0.5, "y": nav.est_y, "speed": 0.05})
    # A long drive stopped by the ground: the drive fails (ABORTED), the stop completes.
    apid, seq = bench.uplink.send(
        "rover.mobility.drive_distance", {"distance": 20.0, "speed": 0.02}
    )
    run(w, bench.probe, w.t + 30.0)
    do("rover.mobility.stop")
    assert bench.wait_final(apid, seq, 30.0)[-1] == (R.COMPLETION_FAILURE, "ABORTED")
    do("rover.navigation.landmark_match")
    do("rover.navigation.set_position", {"x": 1.0, "y": 2.0, "heading": 90.0, "sigma": 1.0})
    assert (nav.est_x, nav.est_y) == (1.0, 2.0)
    do("rover.drill.start", {"rotation_speed": 100.0})
    do("rover.drill.stop")
    apid, seq = bench.uplink.send("rover.drill.to_depth", {"depth": 0.05, "sample_step": 0.05})
    run(w, bench.probe, w.t + 10.0)
    do("rover.mobility.drive_distance", {"distance": 1.0, "speed": 0.02}, fails="RESOURCE_BUSY")
    assert bench.wait_final(apid, seq, 900.0)[-1] == (R.COMPLETION_SUCCESS, None)
    bench.exercised.add("rover.drill.to_depth")
    do("rover.drill.transfer_sample", {"destination": "LTGA"})
    do("rover.drill.retract")
    do("rover.drill.transfer_sample", {"destination": "LTGA"}, fails="PRECONDITION_FAILED")
    for zone_command in ("rover.thermal.heater_on", "rover.thermal.heater_off"):
        do(zone_command, {"zone": "CAMERA"})
    do("rover.thermal.set_thermostat", {"auto": True})
    do("rover.comms.hga_point", {"azimuth": 0.0, "elevation": 45.0})
    do("rover.comms.hga_stow")
    do("rover.comms.hga_track_earth")
    do("rover.comms.select_antenna", {"antenna": "LGA"})
    do("rover.comms.set_downlink_rate", {"rate": "RATE_2M"}, fails="PRECONDITION_FAILED")
    do("rover.comms.select_antenna", {"antenna": "HGA"})
    do("rover.comms.set_downlink_rate", {"rate": "RATE_2M"})
    do("rover.comms.playback_start", {}, fails="STORE_EMPTY")
    do("rover.comms.playback_stop")
    do("rover.comms.storage_clear", {"store": "ALL"}, fails="STORE_EMPTY")


def test_rover_payload_commands(bench: Bench) -> None:
    do = bench.do
    do("rover.ns.start_measurement", {"integration_time": 10})
    for instrument in ("LTGA", "ADORE", "TRITON", "ISAP", "ALIS", "PRATHIMA", "EMS", "MIR"):
        do("rover.payload.power_on", {"instrument": instrument})
    assert bench.world.rover.payload.reiwa.sample is not None  # transferred by the drill test
    do("rover.reiwa.ltga_start", {"target_temperature": 100.0})
    do("rover.reiwa.adore_start", {"duration": 10})
    do("rover.reiwa.triton_scan", {"mz_min": 1, "mz_max": 10})
    do("rover.reiwa.isap_measure", {"exposure": 0.1})
    do("rover.alis.acquire", {"exposure_time": 10})
    do("rover.prathima.deploy_probe", {"depth": 0.05})
    do("rover.gpr.start_sounding", {"stack": 8})
    do("rover.ems.start_scan", {"mz_min": 1, "mz_max": 10})
    do("rover.mir.acquire")
    for instrument in ("LTGA", "ADORE", "TRITON", "ISAP", "ALIS", "PRATHIMA", "EMS", "MIR"):
        do("rover.payload.power_off", {"instrument": instrument})
    do("rover.alis.acquire", {"exposure_time": 10}, fails="PRECONDITION_FAILED")


def test_rover_modes_power_hardware_and_reboot(bench: Bench) -> None:
    w, do = bench.world, bench.do
    do("rover.obsw.set_mode", {"mode": "SAFE"})
    do(
        "rover.mobility.drive_distance",
        {"distance": 1.0, "speed": 0.02},
        fails="NOT_ALLOWED_IN_MODE",
    )
    do("rover.obsw.set_mode", {"mode": "NOMINAL"})
    soc = w.rover.power.battery.soc
    w.rover.power.battery.soc = 0.2
    do(
        "rover.mobility.drive_distance",
        {"distance": 1.0, "speed": 0.02},
        fails="INSUFFICIENT_POWER",
    )
    w.rover.power.battery.soc = soc
    w.apply_control(InjectFault(fault="drill_jam", until_cleared=True))
    w.rover.drill.depth = 0.1  # as if it had jammed at 10 cm
    do("rover.drill.retract", fails="HARDWARE_FAILURE")
    do("rover.obsw.reboot", {"image": "PRIMARY"})
    run(w, bench.probe, w.t + 150.0)
    assert bench.probe.event_times("rover.obsw.rebooted", 0.0, w.t)
    assert w.obsw["rover"].mode == "SAFE"


def test_acceptance_failures(bench: Bench, mdb: MissionDatabase) -> None:
    w = bench.world
    before = w.obsw["lander"].commanding.counters.rejected

    def reject(vehicle: str, packet: bytes, code: str) -> None:
        apid, seq = struct.unpack(">HH", packet[:4])
        bench.raw(vehicle, packet)
        got = bench.wait_final(apid & 0x7FF, seq & 0x3FFF, 20.0)
        assert got == [(R.ACCEPTANCE_FAILURE, code)], (code, got)

    alive = encode_command(mdb, "lander.obsw.are_you_alive", {})
    good = build_tc_packet(alive.apid, 900, alive.service, alive.subtype, alive.app_data)
    reject("lander", good[:-PEC_LEN] + bytes([good[-2] ^ 0xFF, good[-1]]), "INVALID_CHECKSUM")
    rover_apid = mdb.commands["rover.obsw.are_you_alive"].apid
    reject("lander", build_tc_packet(rover_apid, 901, 17, 1, b""), "ILLEGAL_APID")
    reject(
        "lander",
        build_tc_packet(alive.apid, 902, 8, 1, struct.pack(">H", 0x0999)),
        "ILLEGAL_SERVICE",
    )
    rate = encode_command(mdb, "lander.comms.set_downlink_rate", {"rate": "RATE_1M"})
    reject("lander", build_tc_packet(rate.apid, 903, 8, 1, rate.app_data + b"\0"), "INVALID_LENGTH")
    bad_enum = rate.app_data[:2] + bytes([99])
    reject("lander", build_tc_packet(rate.apid, 904, 8, 1, bad_enum), "ILLEGAL_ARGUMENT")
    period = encode_command(mdb, "lander.obsw.set_hk_period", {"sid": 201, "period": 2.0})
    too_long = period.app_data[:2] + struct.pack(">f", 7200.0)
    reject("lander", build_tc_packet(period.apid, 905, 3, 31, too_long), "ARGUMENT_OUT_OF_RANGE")
    assert w.obsw["lander"].commanding.counters.rejected == before + 6
    assert len(bench.probe.event_times("lander.obsw.command_rejected", 0.0, w.t)) >= 6


def test_lander_commands(bench: Bench) -> None:
    do = bench.do
    do("lander.obsw.are_you_alive")
    do("lander.obsw.set_hk_period", {"sid": 202, "period": 4.0})
    do("lander.obsw.time_sync", {"utc_time": bench.now_on_board("lander")})
    do("lander.obsw.fdir_disable")
    do("lander.obsw.fdir_enable")
    do("lander.comms.relay_off")
    assert not bench.world.lander.radio.relay_enabled
    do("lander.comms.relay_on")
    do("lander.comms.set_downlink_rate", {"rate": "RATE_1M"})
    do("lander.thermal.heater_on", {"zone": "TANK"})
    do("lander.thermal.heater_off", {"zone": "TANK"})
    do("lander.payload.power_off", {"instrument": "SEISMOMETER"})
    do("lander.seismometer.set_gain", {"gain": "LOW"}, fails="PRECONDITION_FAILED")
    do("lander.payload.power_on", {"instrument": "SEISMOMETER"})
    do("lander.seismometer.set_gain", {"gain": "LOW"})
    do("lander.comms.playback_start", {}, fails="STORE_EMPTY")
    do("lander.comms.playback_stop")
    do("lander.comms.storage_clear", {"store": "HK"}, fails="STORE_EMPTY")
    do("lander.obsw.set_mode", {"mode": "SAFE"})
    do("lander.obsw.set_mode", {"mode": "NOMINAL"})
    do("lander.obsw.reboot", {"image": "BACKUP"})


def test_every_mdb_command_was_exercised(bench: Bench, mdb: MissionDatabase) -> None:
    # Runs after the tests above in this module (pytest keeps file order).
    assert set(mdb.commands) - bench.exercised == set()


def test_bad_tc_frames_are_refused_and_counted(mdb: MissionDatabase) -> None:
    world = World(9, EPOCH, config=WorldConfig(activity_plan=False))
    probe = GroundProbe(mdb)
    run(world, probe, EPOCH + 30.0)
    alive = encode_command(mdb, "rover.obsw.are_you_alive", {})
    packet = build_tc_packet(alive.apid, 1, alive.service, alive.subtype, alive.app_data)
    good = build_tc_frame(mdb.spacecraft["rover"].scid, 0, packet, seq_num=0)
    station = world.link.prime or "dss43"
    world.receive_uplink(station, "rover", good[:-1] + bytes([good[-1] ^ 0x01]))  # bad FECF
    lander_scid = build_tc_frame(mdb.spacecraft["lander"].scid, 0, packet, seq_num=1)
    world.receive_uplink(station, "rover", lander_scid)  # wrong SCID for the rover
    run(world, probe, world.t + 20.0)
    farm = world.obsw["rover"].farm
    assert (farm.frames_received, farm.frames_rejected) == (2, 2)
    assert not probe.reports  # nothing was executed: no verification report at all
    status = world.status(wall_time=0.0, speed=1.0, paused=False, lag_s=0.0)
    assert status.vehicles["rover"].tc_frames_rejected == 2


def test_clcw_report_value_advances_with_each_accepted_frame(mdb: MissionDatabase) -> None:
    world = World(9, EPOCH, config=WorldConfig(activity_plan=False))
    probe = GroundProbe(mdb)
    uplink = Uplink(world)
    run(world, probe, EPOCH + 20.0)
    assert probe.clcws["rover"][-1][1].report_value == 0
    for expected in (1, 2, 3):
        uplink.send("rover.obsw.are_you_alive")
        run(world, probe, world.t + 10.0)
        clcw = probe.clcws["rover"][-1][1]
        assert clcw.report_value == expected
        assert clcw.farm_b_counter == expected % 4
    assert not clcw.lockout
    assert not clcw.no_rf_available

"""The mission database loads, covers both vehicles, and every broken file is named precisely."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mission.facts import load_facts
from mission.mdb import (
    DATA_DIR,
    ApidRole,
    Criticality,
    EngType,
    MdbError,
    MissionDatabase,
    MonitoringResult,
    check_value,
    load_mdb,
)

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def db() -> MissionDatabase:
    return load_mdb()


# ---------------------------------------------------------------------------------- content
def test_counts_meet_the_brief(db: MissionDatabase) -> None:
    assert len(db.parameters) >= 120
    assert len(db.commands) >= 25
    assert len(db.events) >= 30
    assert set(db.spacecraft) == {"rover", "lander"}


@pytest.mark.parametrize(
    ("vehicle", "subsystems"),
    [
        (
            "rover",
            [
                "power",
                "thermal",
                "mobility",
                "navigation",
                "drill",
                "comms",
                "obsw",
                "payload",
                "ns",
                "reiwa",
                "alis",
                "prathima",
                "gpr",
                "ems",
                "mir",
            ],
        ),
        (
            "lander",
            [
                "power",
                "thermal",
                "comms",
                "obsw",
                "payload",
                "seismometer",
                "heat_probe",
                "langmuir",
            ],
        ),
    ],
)
def test_each_vehicle_covers_its_subsystems(
    db: MissionDatabase, vehicle: str, subsystems: list[str]
) -> None:
    present = {p.subsystem for p in db.parameters_for(vehicle)}
    assert set(subsystems) <= present, set(subsystems) - present


@pytest.mark.parametrize("subsystem", ["power", "thermal", "comms", "obsw", "payload"])
@pytest.mark.parametrize("vehicle", ["rover", "lander"])
def test_both_vehicles_have_parameters_and_events_in_shared_subsystems(
    db: MissionDatabase, vehicle: str, subsystem: str
) -> None:
    assert any(p.subsystem == subsystem for p in db.parameters_for(vehicle))
    assert any(e.name.split(".")[1] == subsystem for e in db.events_for(vehicle))


def test_required_parameters_exist(db: MissionDatabase) -> None:
    required = [
        "rover.power.battery_soc", "rover.power.battery_voltage", "rover.power.battery_current",
        "rover.power.bus_voltage", "rover.power.power_balance", "rover.power.array_current_1",
        "rover.thermal.avionics_temperature", "rover.thermal.battery_temperature",
        "rover.thermal.drill_temperature", "rover.thermal.survival_heater",
        "rover.mobility.est_position_x", "rover.mobility.est_position_y",
        "rover.mobility.est_heading", "rover.mobility.odometry", "rover.mobility.slip",
        "rover.mobility.wheel_current_4", "rover.mobility.steering_angle_4",
        "rover.mobility.hazard_detected", "rover.navigation.est_sigma_x",
        "rover.navigation.landmark_match_quality", "rover.navigation.star_tracker_status",
        "rover.navigation.imu_rate_z", "rover.drill.depth", "rover.drill.torque",
        "rover.drill.sample_id", "rover.drill.status", "rover.drill.jam_flag",
        "rover.ns.weh", "rover.reiwa.ltga_water", "rover.reiwa.adore_delta_d",
        "rover.reiwa.adore_h2o", "rover.reiwa.triton_ion_current_m18",
        "rover.reiwa.isap_raman_ratio", "rover.alis.water_band_depth",
        "rover.prathima.permittivity", "rover.prathima.thermal_conductivity",
        "rover.gpr.layer_depth", "rover.ems.partial_pressure_m18",
        "rover.mir.surface_temperature_mean", "rover.comms.hga_pointing_error",
        "rover.comms.relay_rssi", "rover.comms.storage_fill", "rover.obsw.mode",
        "rover.obsw.cpu_load", "rover.obsw.tc_rejected", "rover.obsw.time_drift",
        "lander.power.array_power", "lander.power.battery_soc", "lander.comms.rover_link_rssi",
        "lander.comms.frames_relayed", "lander.comms.xband_status", "lander.obsw.mode",
    ]  # fmt: skip
    missing = [name for name in required if name not in db.parameters]
    assert not missing


def test_every_parameter_is_in_exactly_one_packet(db: MissionDatabase) -> None:
    seen: dict[str, str] = {}
    for packet in db.packets.values():
        for name in packet.parameters:
            assert name not in seen, f"{name} in {seen.get(name)} and {packet.name}"
            seen[name] = packet.name
    assert set(seen) == set(db.parameters)
    assert db.update_period("rover.mobility.speed") == db.packets["rover.hk.mobility"].period


def test_typical_values_are_in_limits(db: MissionDatabase) -> None:
    for p in db.parameters.values():
        t = p.typical
        if t is None:
            continue
        for value in t if isinstance(t, tuple) else (t,):
            assert check_value(p, value) is MonitoringResult.IN_LIMITS, (p.name, value)


def test_critical_commands(db: MissionDatabase) -> None:
    for vehicle in ("rover", "lander"):
        for name in (
            "obsw.set_mode",
            "obsw.reboot",
            "obsw.fdir_enable",
            "obsw.fdir_disable",
            "comms.storage_clear",
        ):
            assert db.commands[f"{vehicle}.{name}"].criticality is Criticality.CRITICAL
        alive = db.commands[f"{vehicle}.obsw.are_you_alive"]
        assert (alive.service, alive.subtype) == (17, 1)
        assert alive.apid == db.obsw_apid(vehicle)
    assert db.commands["rover.mobility.drive_distance"].criticality is Criticality.NORMAL


def test_apids_and_spacecraft(db: MissionDatabase) -> None:
    for sc in db.spacecraft.values():
        assert {a.role for a in sc.apids} == set(ApidRole)
        assert sc.tm_frame_length == 1115
        assert {vc.vcid for vc in sc.virtual_channels} == {0, 1, 2, 7}
        assert db.spacecraft_by_scid[sc.scid] is sc
    assert all(0 <= apid < 0x7FF for apid in db.apids)
    assert db.vehicle_of_apid(db.obsw_apid("lander")) == "lander"


def test_enum_and_bool_parameters_are_consistent(db: MissionDatabase) -> None:
    for p in db.parameters.values():
        if p.type is EngType.ENUM:
            assert p.enumeration
            assert max(p.enumeration) < 1 << p.bits
        if p.type is EngType.BOOL:
            assert p.encoding == "uint1"


def test_stations_agree_with_the_seed_facts(db: MissionDatabase) -> None:
    facts = load_facts()  # fails if seeds/mission_facts.yaml is missing: it must exist
    seeded = {s.id: s for s in facts.stations}
    assert set(seeded) == set(db.stations)
    for sid, ours in db.stations.items():
        theirs = seeded[sid]
        assert (ours.name, ours.agency) == (theirs.name, theirs.agency)
        assert ours.dish_m == theirs.dish_m
        assert (ours.lat_deg, ours.lon_deg, ours.alt_m) == (
            theirs.lat_deg,
            theirs.lon_deg,
            theirs.alt_m,
        )
        assert ours.elevation_mask_deg == theirs.elevation_mask_deg


def test_default_database_is_cached() -> None:
    assert load_mdb() is load_mdb()


# ---------------------------------------------------------------------------------- errors
def _entry(doc: Doc, section: str, name: str) -> tuple[int, Doc]:
    for index, entry in enumerate(doc[section]):
        if entry.get("name") == name:
            return index, entry
    raise AssertionError(name)


def _broken(tmp_path: Path, filename: str, mutate: Callable[[Doc], None]) -> MdbError:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    target = data / filename
    doc = yaml.safe_load(target.read_text(encoding="utf-8"))
    mutate(doc)
    target.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    with pytest.raises(MdbError) as info:
        load_mdb(data)
    return info.value


def test_inverted_limits_name_file_entry_and_field(tmp_path: Path) -> None:
    index = -1

    def mutate(doc: Doc) -> None:
        nonlocal index
        index, entry = _entry(doc, "parameters", "rover.power.battery_soc")
        entry["limits"] = {"red_low": 30, "yellow_low": 18}

    err = _broken(tmp_path, "rover_platform.yaml", mutate)
    assert err.file.endswith("rover_platform.yaml")
    assert err.entry == f"parameters[{index}] 'rover.power.battery_soc'"
    assert err.field == "limits.red_low"
    assert "inverted" in err.reason
    assert f"parameters[{index}] 'rover.power.battery_soc'" in str(err)
    assert "rover_platform.yaml" in str(err)


def test_structural_error_names_the_field(tmp_path: Path) -> None:
    def mutate(doc: Doc) -> None:
        _, entry = _entry(doc, "parameters", "rover.obsw.cpu_load")
        entry["encoding"] = "uint33"
        entry["colour"] = "red"

    err = _broken(tmp_path, "rover_platform.yaml", mutate)
    fields = {p.field for p in err.problems}
    assert {"encoding", "colour"} <= fields
    assert all("'rover.obsw.cpu_load'" in (p.entry or "") for p in err.problems)


def test_unknown_parameter_in_packet(tmp_path: Path) -> None:
    def mutate(doc: Doc) -> None:
        _, entry = _entry(doc, "packets", "rover.hk.drill")
        entry["parameters"].append("rover.drill.nonexistent")

    err = _broken(tmp_path, "packets.yaml", mutate)
    assert err.file.endswith("packets.yaml")
    assert "'rover.hk.drill'" in (err.entry or "")
    assert "unknown parameter 'rover.drill.nonexistent'" in err.reason


def test_parameter_in_two_packets(tmp_path: Path) -> None:
    def mutate(doc: Doc) -> None:
        _, entry = _entry(doc, "packets", "rover.hk.power")
        entry["parameters"] += ["rover.drill.sample_id"]

    err = _broken(tmp_path, "packets.yaml", mutate)
    assert any("rover.drill.sample_id" in p.reason and "also in" in p.reason for p in err.problems)


def test_parameter_in_no_packet(tmp_path: Path) -> None:
    def mutate(doc: Doc) -> None:
        _, entry = _entry(doc, "packets", "rover.hk.drill")
        entry["parameters"].remove("rover.drill.sample_id")

    err = _broken(tmp_path, "packets.yaml", mutate)
    assert any(
        "rover.drill.sample_id" in p.reason and "no packet" in p.reason for p in err.problems
    )


def test_duplicate_apid(tmp_path: Path) -> None:
    def mutate(doc: Doc) -> None:
        doc["spacecraft"][1]["apids"][0]["apid"] = doc["spacecraft"][0]["apids"][0]["apid"]

    err = _broken(tmp_path, "spacecraft.yaml", mutate)
    assert err.field == "apid"
    assert "duplicate APID" in err.reason


def test_duplicate_sid(tmp_path: Path) -> None:
    def mutate(doc: Doc) -> None:
        _, entry = _entry(doc, "packets", "lander.hk.power")
        entry["sid"] = 101

    err = _broken(tmp_path, "packets.yaml", mutate)
    assert any(p.field == "sid" and "duplicate SID 101" in p.reason for p in err.problems)


def test_duplicate_event_id(tmp_path: Path) -> None:
    def mutate(doc: Doc) -> None:
        doc["events"][1]["id"] = doc["events"][0]["id"]

    err = _broken(tmp_path, "events.yaml", mutate)
    assert err.field == "id"
    assert "duplicate event id" in err.reason


def test_enum_raw_value_outside_bit_width(tmp_path: Path) -> None:
    def mutate(doc: Doc) -> None:
        _, entry = _entry(doc, "parameters", "rover.mobility.drive_state")
        entry["calibration"]["enumeration"][9] = "BEYOND"

    err = _broken(tmp_path, "rover_platform.yaml", mutate)
    assert err.field == "calibration.enumeration"
    assert "does not fit uint3" in err.reason


def test_polynomial_not_invertible(tmp_path: Path) -> None:
    def mutate(doc: Doc) -> None:
        _, entry = _entry(doc, "parameters", "rover.thermal.radiator_temperature")
        entry["calibration"]["polynomial"] = [0.0, 1.0, -0.001]  # peaks at raw 500
        del entry["typical"]

    err = _broken(tmp_path, "rover_platform.yaml", mutate)
    assert err.field == "calibration.polynomial"
    assert "not monotonic" in err.reason


def test_layout_not_byte_complete(tmp_path: Path) -> None:
    def mutate(doc: Doc) -> None:
        _, entry = _entry(doc, "parameters", "rover.obsw.time_synchronised")
        entry["encoding"] = "uint2"
        entry["type"] = "int"
        del entry["alarms"]
        entry["typical"] = 1

    err = _broken(tmp_path, "rover_platform.yaml", mutate)
    assert err.file.endswith("packets.yaml")
    assert "'rover.hk.obsw'" in (err.entry or "")
    assert (err.field or "").startswith("parameters[")
    assert "octet" in err.reason


def test_typical_value_that_would_alarm(tmp_path: Path) -> None:
    def mutate(doc: Doc) -> None:
        _, entry = _entry(doc, "parameters", "rover.thermal.battery_temperature")
        entry["typical"] = [10, 33]

    err = _broken(tmp_path, "rover_platform.yaml", mutate)
    assert err.field == "typical"
    assert "must not alarm" in err.reason


def test_event_template_with_unknown_placeholder(tmp_path: Path) -> None:
    def mutate(doc: Doc) -> None:
        _, entry = _entry(doc, "events", "rover.power.battery_low")
        entry["message"] = "Battery low: {charge}"

    err = _broken(tmp_path, "events.yaml", mutate)
    assert err.field == "message"
    assert "{charge}" in err.reason


def test_command_effect_naming_an_unknown_event(tmp_path: Path) -> None:
    def mutate(doc: Doc) -> None:
        _, entry = _entry(doc, "commands", "rover.mobility.stop")
        entry["effects"]["events"] = ["rover.mobility.teleported"]

    err = _broken(tmp_path, "commands.yaml", mutate)
    assert err.field == "effects.events[0]"
    assert "unknown event" in err.reason


def test_command_argument_default_out_of_range(tmp_path: Path) -> None:
    def mutate(doc: Doc) -> None:
        _, entry = _entry(doc, "commands", "rover.drill.start")
        entry["arguments"][0]["default"] = 500

    err = _broken(tmp_path, "commands.yaml", mutate)
    assert err.field == "arguments[0].default"
    assert "outside" in err.reason


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    target = data / "failure_codes.yaml"
    target.write_text(
        "failure_codes:\n  - code: 1\n    code: 2\n    name: X\n    description: y\n",
        encoding="utf-8",
    )
    with pytest.raises(MdbError) as info:
        load_mdb(data)
    assert info.value.file.endswith("failure_codes.yaml")
    assert "duplicate key 'code'" in info.value.reason


def test_yes_no_on_off_stay_strings(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    target = data / "rover_platform.yaml"
    text = target.read_text(encoding="utf-8")
    assert '0: "OFF"' in text
    target.write_text(text.replace('0: "OFF"', "0: OFF"), encoding="utf-8")
    reloaded = load_mdb(data)
    assert reloaded.parameters["rover.navigation.star_tracker_status"].enumeration[0] == "OFF"


def test_missing_folder_and_unknown_section(tmp_path: Path) -> None:
    with pytest.raises(MdbError, match="not a folder"):
        load_mdb(tmp_path / "nowhere")
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    (data / "extra.yaml").write_text("telemetry: []\n", encoding="utf-8")
    with pytest.raises(MdbError, match="unknown section 'telemetry'"):
        load_mdb(data)

"""The fault catalogue and the training scenarios: loading, validation, cross-checks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mission.faults import (
    EffectKind,
    FaultParamError,
    FaultsFileError,
    ParamType,
    TargetKind,
    load_faults,
)
from mission.mdb import load_mdb
from mission.scenarios import (
    DetectionKind,
    ScenarioError,
    load_scenario_file,
    load_scenarios,
    scenario_problems,
)

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
BRIEF_FAULTS = (
    "station_outage", "bit_error_burst", "frame_loss", "relay_loss", "battery_cell_failure",
    "solar_array_degradation", "heater_stuck_on", "heater_failed", "wheel_stall", "wheel_slip",
    "drill_jam", "instrument_latchup", "sensor_stuck", "clock_drift", "early_darkness",
    "command_rejection", "hga_pointing_failure", "obc_reboot",
)  # fmt: skip


def test_the_catalogue_covers_the_brief_and_every_target_kind() -> None:
    catalogue = load_faults()
    assert len(catalogue) >= 15
    assert set(BRIEF_FAULTS) <= set(catalogue.faults)
    assert {f.target.kind for f in catalogue} == set(TargetKind)
    for fault in catalogue:
        assert fault.description
        assert fault.title
        assert fault.recovery
        assert fault.effects


def test_catalogue_names_exist_in_the_mission_database() -> None:
    db = load_mdb()
    catalogue = load_faults()
    assert catalogue.problems(set(db.parameters), set(db.events_by_name), set(db.commands)) == []
    stations = set(db.stations)
    station_choices = set(catalogue.get("station_outage").parameter("station").choices)
    assert station_choices == stations | {"prime"}
    codes = set(catalogue.get("command_rejection").parameter("code").choices)
    assert codes <= set(db.failure_codes_by_name)


def test_parameters_are_typed_checked_and_defaulted() -> None:
    catalogue = load_faults()
    assert catalogue.resolve_params("battery_cell_failure", {}) == {"cells": 1}
    assert catalogue.resolve_params("battery_cell_failure", {"cells": "2"}) == {"cells": 2}
    resolved = catalogue.resolve_params("bit_error_burst", {"ebn0_db": 3, "spacecraft": "rover"})
    assert resolved == {"ebn0_db": 3.0, "spacecraft": "rover"}
    with pytest.raises(FaultParamError, match=r"within 1\.0\.\.3\.0") as excinfo:
        catalogue.resolve_params("battery_cell_failure", {"cells": 5})
    assert excinfo.value.parameter == "cells"
    with pytest.raises(FaultParamError, match="must be an integer"):
        catalogue.resolve_params("battery_cell_failure", {"cells": 1.5})
    with pytest.raises(FaultParamError, match="one of"):
        catalogue.resolve_params("heater_failed", {"zone": "GARAGE"})
    with pytest.raises(FaultParamError, match="no parameter"):
        catalogue.resolve_params("relay_loss", {"x": 1})
    with pytest.raises(FaultParamError, match="unknown fault"):
        catalogue.get("nope")
    sensor = catalogue.get("sensor_stuck")
    assert sensor.parameter("parameter").type is ParamType.PARAMETER


def test_expectation_placeholders_take_the_parameters() -> None:
    fault = load_faults().get("instrument_latchup")
    effect = next(e for e in fault.effects if e.kind is EffectKind.PARAMETER)
    assert effect.resolved({"instrument": "GPR"}).name == "rover.payload.gpr_power"
    assert effect.resolved(fault.defaults).name == "rover.payload.ns_power"


def test_a_broken_catalogue_names_the_fault_and_field(tmp_path: Path) -> None:
    data = yaml.safe_load((SEEDS / "faults.yaml").read_text(encoding="utf-8"))
    data["faults"][3]["parameters"] = [{"name": "p", "type": "float", "default": 5, "max": 1,
                                        "description": "d"}]  # fmt: skip
    path = tmp_path / "faults.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(FaultsFileError, match=r"uplink_corruption.*default above max"):
        load_faults(path)
    data["faults"][3] = data["faults"][2]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(FaultsFileError, match="duplicate fault ids: frame_loss"):
        load_faults(path)


def test_at_least_eight_graded_scenarios_validated_against_mdb_and_faults() -> None:
    scenarios = load_scenarios(mdb=load_mdb(), faults=load_faults())
    assert len(scenarios) >= 8
    assert {s.difficulty for s in scenarios.values()} == {1, 2, 3}
    kinds = {d.kind for s in scenarios.values() for d in s.detections}
    assert kinds == {DetectionKind.ALARM, DetectionKind.EVENT}
    for scenario in scenarios.values():
        assert scenario.learning_goals
        assert scenario.description
        assert (
            any(d.recovery_command for d in scenario.detections) or scenario.name == "dusty_array"
        )


def test_scenario_problems_name_what_is_unknown(tmp_path: Path) -> None:
    raw = yaml.safe_load((SEEDS / "scenarios" / "clock_drift.yaml").read_text(encoding="utf-8"))
    raw["detections"][0]["parameter"] = "rover.obsw.no_such_thing"
    raw["detections"][1]["event"] = "rover.obsw.no_event"
    raw["steps"][0]["params"]["drift_ppm"] = 1e9
    path = tmp_path / "clock_drift.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    scenario = load_scenario_file(path)
    problems = scenario_problems(scenario, load_mdb(), load_faults())
    assert any("unknown parameter 'rover.obsw.no_such_thing'" in p for p in problems)
    assert any("unknown event 'rover.obsw.no_event'" in p for p in problems)
    assert any("drift_ppm must be within" in p for p in problems)
    with pytest.raises(ScenarioError):
        load_scenarios(tmp_path, mdb=load_mdb(), faults=load_faults())


def test_scenario_structure_is_checked(tmp_path: Path) -> None:
    raw = yaml.safe_load((SEEDS / "scenarios" / "clock_drift.yaml").read_text(encoding="utf-8"))
    raw["detections"][0]["step"] = 7
    path = tmp_path / "clock_drift.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ScenarioError, match="step 7 does not exist"):
        load_scenario_file(path)
    raw["detections"][0]["step"] = 0
    renamed = tmp_path / "other_name.yaml"
    renamed.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ScenarioError, match="differs from the file name"):
        load_scenario_file(renamed)

"""The `lupex scenario`, `lupex fault` and `lupex spacecraft` command functions (offline parts)."""

from __future__ import annotations

import time

import pytest
import typer
from typer.testing import CliRunner

from lupex.commands.scenario import fault_app, parse_assignments, scenario_app
from lupex.commands.spacecraft import parse_epoch, spacecraft

app = typer.Typer()
app.add_typer(scenario_app, name="scenario")
app.add_typer(fault_app, name="fault")
app.command("spacecraft")(spacecraft)
runner = CliRunner()


def test_scenario_list_and_show_work_offline() -> None:
    listed = runner.invoke(app, ["scenario", "list"])
    assert listed.exit_code == 0
    assert "wheel_stall_on_slope" in listed.output
    shown = runner.invoke(app, ["scenario", "show", "earth_set_with_drill_jam"])
    assert shown.exit_code == 0
    assert "rover.drill.retract" in shown.output
    assert "earth_set" in shown.output
    unknown = runner.invoke(app, ["scenario", "show", "nope"])
    assert unknown.exit_code == 2
    assert "unknown scenario" in unknown.output


def test_fault_list_and_bad_injections_are_refused_before_any_network() -> None:
    listed = runner.invoke(app, ["fault", "list"])
    assert listed.exit_code == 0
    assert "battery_cell_failure" in listed.output
    bad = runner.invoke(app, ["fault", "inject", "battery_cell_failure", "cells=9"])
    assert bad.exit_code == 2
    assert "within" in bad.output
    malformed = runner.invoke(app, ["fault", "inject", "wheel_stall", "wheel"])
    assert malformed.exit_code == 2


def test_parse_assignments_types_values() -> None:
    assert parse_assignments(["a=1", "b=2.5", "c=true", "d=BATTERY"]) == {
        "a": 1, "b": 2.5, "c": True, "d": "BATTERY",
    }  # fmt: skip
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_assignments(["nothing"])


def test_spacecraft_epoch_parsing_and_usage_errors() -> None:
    assert parse_epoch("2026-11-22T00:00:00") == 1795305600.0
    assert parse_epoch("2026-11-22T09:00:00+09:00") == 1795305600.0
    before = time.time()
    contact = parse_epoch("contact")  # now when a station can talk to the site, else later
    assert contact >= before - 1.0
    assert contact - before < 30 * 86400.0
    bad = runner.invoke(app, ["spacecraft", "--epoch", "yesterday"])
    assert bad.exit_code == 2
    assert "Error" in bad.output
    assert runner.invoke(app, ["spacecraft", "--speed", "5000"]).exit_code == 2

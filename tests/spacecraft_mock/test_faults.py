"""Every fault of the catalogue changes the telemetry as described, and clears."""

from __future__ import annotations

import pytest

from mission.faults import FaultCatalogue, load_faults
from mission.sim_control import ClearAll, ClearFault, InjectFault
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.faults.effects import EFFECTS
from spacecraft_mock.world import World
from tests.spacecraft_mock.exercise import EPOCH, exercise

CATALOGUE = load_faults()


def _params() -> list[object]:
    out: list[object] = []
    for fault in CATALOGUE:
        longest = max(e.within_s for e in (*fault.effects, *fault.clears))
        marks = [pytest.mark.slow] if longest > 1000 else []
        out.append(pytest.param(fault.id, marks=marks, id=fault.id))
    return out


@pytest.mark.parametrize("fault_id", _params())
def test_fault_changes_telemetry_as_described_and_clears(fault_id: str) -> None:
    result = exercise(CATALOGUE.get(fault_id))
    assert result.problems == []
    assert result.cleared_at > result.injected_at


def test_every_catalogued_fault_has_an_effect(catalogue: FaultCatalogue) -> None:
    assert len(catalogue) >= 15
    assert set(catalogue.faults) == set(EFFECTS)


def test_faults_expire_clear_and_are_listed_in_the_status() -> None:
    world = World(1, EPOCH, config=WorldConfig(activity_plan=False))
    world.advance_to(EPOCH + 10.0)
    ack = world.apply_control(InjectFault(fault="relay_loss", duration_s=30.0))
    assert ack.accepted
    world.apply_control(InjectFault(fault="star_tracker_failure", until_cleared=True))
    world.apply_control(InjectFault(fault="clock_drift", params={"vehicle": "lander"}))
    status = world.status(wall_time=0.0, speed=1.0, paused=False, lag_s=0.0)
    assert {f.fault for f in status.active_faults} == {
        "relay_loss", "star_tracker_failure", "clock_drift",
    }  # fmt: skip
    relay = next(f for f in status.active_faults if f.fault == "relay_loss")
    assert relay.end == pytest.approx(relay.start + 30.0)
    assert next(f.end for f in status.active_faults if f.fault == "star_tracker_failure") is None
    world.advance_to(world.t + 31.0)
    assert "relay_loss" not in {f.fault for f in world.injector.active.values()}
    assert not world.rover.radio.relay_fault
    assert world.apply_control(ClearFault(fault="star_tracker_failure")).accepted
    assert not world.rover.nav.star_tracker_failed
    assert world.apply_control(ClearAll()).accepted
    assert world.injector.active == {}
    assert world.obsw["lander"].drift_rate < 1e-6


@pytest.mark.parametrize(
    ("fault", "params", "reason"),
    [
        ("no_such_fault", {}, "unknown fault"),
        ("battery_cell_failure", {"cells": 9}, "cells must be within 1.0..3.0"),
        ("heater_failed", {"zone": "KITCHEN"}, "zone must be one of"),
        ("relay_loss", {"colour": 1}, "has no parameter 'colour'"),
    ],
)
def test_bad_injections_are_refused_with_the_reason(
    fault: str, params: dict[str, float | int | str | bool], reason: str
) -> None:
    world = World(1, EPOCH, config=WorldConfig(telemetry=False))
    ack = world.apply_control(InjectFault(fault=fault, params=params))
    assert not ack.accepted
    assert reason in ack.reason
    assert world.injector.active == {}

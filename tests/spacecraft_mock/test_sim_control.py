"""The JSON of sim/control, sim/status and the station monitor (mission.sim_control)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from mission.sim_control import (
    InjectFault,
    SetSpeed,
    SimStatus,
    StartScenario,
    StationMonitorMessage,
    control_json,
    parse_control,
)
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.mqtt_adapter import monitor_message
from spacecraft_mock.world import World
from tests.spacecraft_mock.exercise import EPOCH


def test_control_messages_round_trip_and_are_validated() -> None:
    message = parse_control(
        b'{"action": "inject_fault", "fault": "wheel_stall", "params": {"wheel": 3},'
        b' "duration_s": 60, "request_id": "r1"}'
    )
    assert isinstance(message, InjectFault)
    assert (message.fault, message.params, message.duration_s) == ("wheel_stall", {"wheel": 3}, 60)
    assert parse_control(control_json(message)) == message
    assert isinstance(parse_control('{"action": "set_speed", "speed": 100}'), SetSpeed)
    assert isinstance(parse_control('{"action": "start_scenario", "scenario": "x"}'), StartScenario)
    with pytest.raises(ValidationError, match="speed"):
        parse_control('{"action": "set_speed", "speed": 5000}')
    with pytest.raises(ValidationError):
        parse_control('{"action": "explode"}')
    with pytest.raises(ValidationError, match="extra"):
        parse_control('{"action": "pause", "when": "now"}')


def test_status_and_monitor_json_validate_against_the_shared_models() -> None:
    world = World(1, EPOCH, config=WorldConfig(activity_plan=False))
    out = world.advance_to(EPOCH + 10.0)
    status = world.status(wall_time=1.0, speed=10.0, paused=False, lag_s=0.0)
    again = SimStatus.model_validate_json(status.model_dump_json())
    assert again == status
    assert again.vehicles["rover"].mode == "NOMINAL"
    assert again.prime_station == world.link.prime
    assert out.monitors
    record = monitor_message(out.monitors[0])
    data = json.loads(record.model_dump_json())
    assert StationMonitorMessage.model_validate(data) == record
    assert set(data["spacecraft"]) == {"rover", "lander"}
    prime = [m for m in out.monitors if m.prime]
    assert prime
    assert prime[0].spacecraft["rover"].frame_lock

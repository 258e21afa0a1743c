"""Command requests checked against the mission database: refusals name the field and the range."""

from __future__ import annotations

import struct

import pytest

from ground.commanding.validation import (
    CommandRequestError,
    check_confirmation,
    describe_argument,
    validate_command,
)
from mission.mdb.database import MissionDatabase
from mission.mdb.loader import load_mdb


@pytest.fixture(scope="module")
def mdb() -> MissionDatabase:
    return load_mdb()


def refusal(mdb: MissionDatabase, name: str, args: dict[str, object]) -> CommandRequestError:
    with pytest.raises(CommandRequestError) as info:
        validate_command(mdb, name, args)
    assert info.value.status == 422
    return info.value


def test_a_valid_command_is_encoded_with_its_function_id_first(mdb: MissionDatabase) -> None:
    definition = mdb.commands["rover.mobility.turn"]
    command = validate_command(mdb, "rover.mobility.turn", {"angle": 12.5})
    assert command.vehicle == "rover"
    assert command.args == {"angle": 12.5}
    assert definition.function_id is not None
    assert command.app_data == struct.pack(">Hf", definition.function_id, 12.5)


def test_strings_from_the_terminal_are_converted(mdb: MissionDatabase) -> None:
    command = validate_command(
        mdb, "rover.mobility.drive_distance", {"distance": "2.5", "speed": "0.01"}
    )
    assert command.args == {"distance": 2.5, "speed": pytest.approx(0.01)}
    mode = validate_command(mdb, "rover.mobility.set_nav_mode", {"mode": "guided"})
    assert mode.args == {"mode": "GUIDED"}


def test_defaults_fill_missing_optional_arguments(mdb: MissionDatabase) -> None:
    command = validate_command(mdb, "rover.mobility.drive_distance", {"distance": 1})
    assert command.args["speed"] == pytest.approx(0.02)


def test_unknown_command_is_named_with_suggestions(mdb: MissionDatabase) -> None:
    error = refusal(mdb, "rover.mobility.trun", {})
    assert error.field == "name"
    assert "rover.mobility.trun" in error.message
    assert "rover.mobility.turn" in error.message


def test_out_of_range_names_the_argument_and_the_range(mdb: MissionDatabase) -> None:
    error = refusal(mdb, "rover.mobility.drive_distance", {"distance": 500})
    assert error.field == "args.distance"
    assert "500" in error.message
    assert "out of range" in error.message
    assert "-20 to 100 m" in error.message


def test_missing_argument_is_named(mdb: MissionDatabase) -> None:
    error = refusal(mdb, "rover.mobility.turn", {})
    assert error.field == "args.angle"
    assert "missing" in error.message
    assert "-180 to 180 deg" in error.message


def test_unknown_argument_is_named(mdb: MissionDatabase) -> None:
    error = refusal(mdb, "rover.mobility.turn", {"angle": 1, "spin": 2})
    assert error.field == "args.spin"
    assert "takes angle" in error.message


def test_bad_label_and_bad_type_are_refused(mdb: MissionDatabase) -> None:
    error = refusal(mdb, "rover.mobility.set_nav_mode", {"mode": "WARP"})
    assert error.field == "args.mode"
    assert "MANUAL, GUIDED, AUTONOMOUS" in error.message
    error = refusal(mdb, "rover.mobility.turn", {"angle": "left"})
    assert error.field == "args.angle"
    assert error.status == 422
    error = refusal(mdb, "rover.mobility.turn", {"angle": float("nan")})
    assert error.field == "args.angle"


def test_critical_commands_need_a_confirmation(mdb: MissionDatabase) -> None:
    command = validate_command(mdb, "rover.obsw.set_mode", {"mode": "SAFE"})
    assert command.critical
    with pytest.raises(CommandRequestError) as info:
        check_confirmation(command, confirm=False)
    assert info.value.field == "confirm"
    assert "critical" in info.value.message
    check_confirmation(command, confirm=True)
    check_confirmation(validate_command(mdb, "rover.mobility.stop", {}), confirm=False)


def test_every_command_of_the_database_describes_its_arguments(mdb: MissionDatabase) -> None:
    for definition in mdb.commands.values():
        for arg in definition.arguments:
            text = describe_argument(arg)
            assert text
            if arg.min is not None:
                assert f"{arg.min:g}" in text

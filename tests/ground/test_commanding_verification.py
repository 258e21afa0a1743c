"""The verification state machine: PUS 1,x reports and time-outs (pure logic)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ground.commanding.model import (
    FINAL_STAGES,
    STAGE_RANK,
    Stage,
    StageEntry,
    TrackedCommand,
    request_id_int,
    view_from_record,
)
from ground.commanding.verification import TimeoutPolicy, apply_report, check_timeout
from ground.processing.verification import VerificationReport
from mission.ccsds.pus import parse_request_id, request_id

APID = 0x102
SEQ = 17
SENT_AT = 1_000.0
LIGHT = 1.25


def command(*, execution_time_s: float = 20.0, sent: bool = True) -> TrackedCommand:
    cmd = TrackedCommand(
        id="c1",
        name="rover.mobility.turn",
        vehicle="rover",
        args={"angle": 10.0},
        issued_by="alice",
        critical=False,
        apid=APID,
        service=8,
        subtype=1,
        app_data=b"\x01\x03\x41\x20\x00\x00",
        execution_time_s=execution_time_s,
        created_at=SENT_AT - 60.0,
        seq_count=SEQ,
        station="dss43",
        light_time_s=LIGHT,
    )
    cmd.add(StageEntry(Stage.QUEUED, SENT_AT - 60.0, 0.0))
    cmd.add(StageEntry(Stage.RELEASED, SENT_AT - 1.0, 1.0, station="dss43"))
    if sent:
        cmd.add(StageEntry(Stage.SENT, SENT_AT, 2.0, station="dss43"))
    return cmd


def report(subtype: int, *, code: int | None = None, name: str | None = None) -> VerificationReport:
    return VerificationReport(
        spacecraft="rover",
        apid=APID,
        seq_count=SEQ,
        subtype=subtype,
        generation_time=SENT_AT + LIGHT,
        reception_time=5.0,
        failure_code=code,
        failure_name=name,
        station="dss43",
    )


def stages(cmd: TrackedCommand) -> list[str]:
    return [e.stage.value for e in cmd.stages]


def test_success_reports_move_the_command_through_every_stage_in_order() -> None:
    cmd = command()
    apply_report(cmd, report(1), SENT_AT + 2.6, 3.0)
    apply_report(cmd, report(3), SENT_AT + 2.7, 3.1)
    apply_report(cmd, report(7), SENT_AT + 20.0, 4.0)
    assert stages(cmd) == ["queued", "released", "sent", "accepted", "started", "completed"]
    assert cmd.stage is Stage.COMPLETED
    assert cmd.final
    accepted = cmd.entry(Stage.ACCEPTED)
    assert accepted is not None
    assert accepted.time == SENT_AT + 2.6
    assert accepted.generation_time == SENT_AT + LIGHT
    assert accepted.station == "dss43"
    assert "1,1" in accepted.detail


def test_a_rejection_is_final_and_carries_the_reason_code() -> None:
    cmd = command()
    apply_report(cmd, report(2, code=8, name="NOT_ALLOWED_IN_MODE"), SENT_AT + 3, 3.0)
    assert cmd.stage is Stage.REJECTED
    last = cmd.stages[-1]
    assert (last.failure_code, last.failure_name) == (8, "NOT_ALLOWED_IN_MODE")
    assert "NOT_ALLOWED_IN_MODE (code 8)" in last.detail
    assert apply_report(cmd, report(1), SENT_AT + 4, 4.0) == []
    assert cmd.stage is Stage.REJECTED


def test_a_completion_failure_is_failed_with_its_code() -> None:
    cmd = command()
    apply_report(cmd, report(1), SENT_AT + 3, 3.0)
    apply_report(cmd, report(3), SENT_AT + 3, 3.0)
    apply_report(cmd, report(8, code=14, name="ABORTED"), SENT_AT + 9, 4.0)
    assert stages(cmd)[-1] == "failed"
    assert cmd.stages[-1].failure_name == "ABORTED"
    assert cmd.view()["failure_code"] == 14


def test_lost_reports_are_implied_so_the_stages_stay_in_order() -> None:
    cmd = command()
    added = apply_report(cmd, report(7), SENT_AT + 30, 3.0)
    assert [e.stage for e in added] == [Stage.ACCEPTED, Stage.STARTED, Stage.COMPLETED]
    assert [e.implied for e in added] == [True, True, False]
    assert stages(cmd) == ["queued", "released", "sent", "accepted", "started", "completed"]


def test_duplicates_and_late_earlier_reports_change_nothing() -> None:
    cmd = command()
    apply_report(cmd, report(1), SENT_AT + 3, 3.0)
    assert apply_report(cmd, report(1), SENT_AT + 4, 3.0) == []
    apply_report(cmd, report(3), SENT_AT + 5, 3.0)
    assert apply_report(cmd, report(1), SENT_AT + 6, 3.0) == []
    assert stages(cmd) == ["queued", "released", "sent", "accepted", "started"]


def test_progress_reports_are_recorded_without_changing_the_stage() -> None:
    cmd = command()
    apply_report(cmd, report(1), SENT_AT + 3, 3.0)
    apply_report(cmd, report(3), SENT_AT + 4, 3.0)
    apply_report(cmd, report(5), SENT_AT + 5, 3.0)
    assert stages(cmd)[-1] == "progress"
    assert cmd.stage is Stage.STARTED


def test_a_report_that_overtakes_the_brokers_acknowledgement_records_sent_first() -> None:
    cmd = command(sent=False)
    cmd.publishing = StageEntry(Stage.SENT, SENT_AT, 2.0, station="dss43")
    apply_report(cmd, report(1), SENT_AT + 3, 3.0)
    assert stages(cmd) == ["queued", "released", "sent", "accepted"]
    assert cmd.publishing is None


def test_a_report_for_a_command_not_yet_sent_is_ignored() -> None:
    cmd = command(sent=False)
    assert apply_report(cmd, report(1), SENT_AT + 3, 3.0) == []
    assert cmd.stage is Stage.RELEASED


def test_acceptance_timeout_waits_for_twice_the_light_time_plus_the_margin() -> None:
    policy = TimeoutPolicy(margin_s=10.0, wall_margin_s=5.0)
    speed = 100.0
    deadline = SENT_AT + 2 * LIGHT + 10.0 + 5.0 * speed  # 1512.5
    cmd = command()
    assert check_timeout(cmd, policy, deadline - 0.01, 9.0, speed) is None
    entry = check_timeout(cmd, policy, deadline + 0.01, 9.0, speed)
    assert entry is not None
    assert entry.stage is Stage.TIMEOUT
    assert "acceptance" in entry.detail
    assert check_timeout(cmd, policy, deadline + 100, 9.0, speed) is None  # once only


def test_completion_timeout_adds_the_execution_time() -> None:
    policy = TimeoutPolicy(margin_s=10.0, wall_margin_s=0.0)
    cmd = command(execution_time_s=900.0)
    apply_report(cmd, report(1), SENT_AT + 3, 3.0)
    deadline = SENT_AT + 2 * LIGHT + 900.0 + 10.0
    assert check_timeout(cmd, policy, deadline - 0.01, 9.0, 1.0) is None
    entry = check_timeout(cmd, policy, deadline + 0.01, 9.0, 1.0)
    assert entry is not None
    assert "completion" in entry.detail
    assert "900 s execution" in entry.detail


def test_a_late_report_after_a_timeout_is_still_recorded() -> None:
    cmd = command()
    check_timeout(cmd, TimeoutPolicy(0.0, 0.0), SENT_AT + 100, 9.0, 1.0)
    assert cmd.stage is Stage.TIMEOUT
    assert not cmd.final
    apply_report(cmd, report(1), SENT_AT + 101, 9.5)
    assert stages(cmd)[-2:] == ["timeout", "accepted"]
    assert "after the time-out" in cmd.stages[-1].detail


def test_no_timeout_before_sending_or_after_the_end() -> None:
    policy = TimeoutPolicy(0.0, 0.0)
    assert check_timeout(command(sent=False), policy, 1e12, 0.0, 1.0) is None
    cmd = command()
    apply_report(cmd, report(7), SENT_AT + 3, 3.0)
    assert check_timeout(cmd, policy, 1e12, 0.0, 1.0) is None


def test_the_request_id_is_the_pus_one() -> None:
    value = request_id_int(APID, SEQ)
    assert parse_request_id(value.to_bytes(4, "big")) == (APID, SEQ)
    assert value.to_bytes(4, "big") == request_id(APID, SEQ)
    assert command().request_id == value


def test_the_archive_record_round_trips_into_the_same_view() -> None:
    cmd = command()
    apply_report(cmd, report(2, code=7, name="ARGUMENT_OUT_OF_RANGE"), SENT_AT + 3, 3.0)
    view = view_from_record(cmd.record())
    live = cmd.view()
    for key in ("id", "name", "vehicle", "args", "stage", "station", "request_id", "seq_count"):
        assert view[key] == live[key], key
    assert view["stages"] == live["stages"]
    assert view["failure_name"] == "ARGUMENT_OUT_OF_RANGE"


@given(st.lists(st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 10]), max_size=12))
def test_any_report_sequence_keeps_the_stages_in_order(subtypes: list[int]) -> None:
    cmd = command()
    for k, subtype in enumerate(subtypes):
        code = 1 if subtype in (2, 4, 6, 8, 10) else None
        apply_report(cmd, report(subtype, code=code), SENT_AT + k, float(k))
    ranks = [STAGE_RANK[e.stage] for e in cmd.stages]
    assert ranks == sorted(ranks)
    finals = [i for i, e in enumerate(cmd.stages) if e.stage in FINAL_STAGES]
    assert len(finals) <= 1
    if finals:
        assert finals[0] == len(cmd.stages) - 1

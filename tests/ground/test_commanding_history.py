"""Command history filters, the CSV export and the command-link status from the CLCW."""

from __future__ import annotations

import csv
import io

from ground.commanding.clcw import command_link_status
from ground.commanding.history import CSV_COLUMNS, matches, merge_views, to_csv
from ground.commanding.verification import apply_report
from ground.processing.state import ReceivedClcw
from mission.ccsds.clcw import Clcw
from tests.ground.test_commanding_verification import SENT_AT, command, report


def test_filters_by_stage_and_by_group() -> None:
    done = command()
    apply_report(done, report(7), SENT_AT + 5, 1.0)
    waiting = command(sent=False)
    waiting.id = "c2"
    views = [done.view(), waiting.view()]
    assert [v["id"] for v in views if matches(v, "completed")] == ["c1"]
    assert [v["id"] for v in views if matches(v, "final")] == ["c1"]
    assert [v["id"] for v in views if matches(v, "active")] == ["c2"]
    assert [v["id"] for v in views if matches(v, None, vehicle="lander")] == []


def test_live_views_override_archived_ones() -> None:
    old = command().view()
    newer = dict(old, stage="accepted")
    merged = merge_views([old], [newer])
    assert len(merged) == 1
    assert merged[0]["stage"] == "accepted"


def test_csv_has_one_row_per_command_with_each_stage_time() -> None:
    cmd = command()
    apply_report(cmd, report(8, code=14, name="ABORTED"), SENT_AT + 5, 1.0)
    text = to_csv([cmd.view()])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(CSV_COLUMNS)
    row = rows[0]
    assert row["name"] == "rover.mobility.turn"
    assert row["stage"] == "failed"
    assert row["station"] == "dss43"
    assert row["sent_at"].startswith("1970-01-01T00:16:40.000")  # SENT_AT = 1000 s
    assert row["failure_name"] == "ABORTED"
    assert row["failure_code"] == "14"
    assert row["request_id"] == "0x1902C011"  # packet id 0x1902 (TC, sec. header, apid 0x102)


def test_link_status_compares_the_report_value_with_the_next_frame() -> None:
    received = ReceivedClcw(
        report_value=5, farm_b_counter=2, reception_time=12.0, station="dss43", spacecraft="rover"
    )
    statuses = {
        s.vehicle: s
        for s in command_link_status(
            ["rover", "lander"], {"rover": received}, {"rover": 5, "lander": 3}
        )
    }
    rover = statuses["rover"]
    assert (rover.known, rover.state, rover.in_step, rover.station) == (
        True,
        "nominal",
        True,
        "dss43",
    )
    assert rover.farm_b_counter == 2
    assert statuses["lander"].state == "unknown"
    assert statuses["lander"].next_frame_seq == 3
    locked = command_link_status(["rover"], {"rover": Clcw(lockout=True, report_value=1)}, {})
    assert locked[0].state == "lockout"
    assert locked[0].in_step is False

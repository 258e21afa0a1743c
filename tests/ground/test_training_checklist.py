"""The training checklist and the score (pure logic)."""

from __future__ import annotations

import pytest

from ground.model import AlarmState, AlarmView, EventView
from ground.training.checklist import Checklist, DetectionKind, Expectation, ItemState
from ground.training.scoring import ScoringRules, score_run

START = 10_000.0


def alarm(
    parameter: str,
    level: str,
    trigger: float,
    *,
    most_severe: float | None = None,
    acked: float | None = None,
    alarm_id: str | None = None,
) -> AlarmView:
    return AlarmView(
        id=alarm_id or f"{parameter}@{int(trigger * 1000)}",
        parameter=parameter,
        spacecraft=parameter.split(".", maxsplit=1)[0],
        level=level,
        current_level=level,
        state=AlarmState.ACKNOWLEDGED if acked is not None else AlarmState.RAISED,
        trigger_time=trigger,
        trigger_value=1.0,
        most_severe_time=most_severe if most_severe is not None else trigger,
        most_severe_value=2.0,
        last_value=2.0,
        last_time=trigger,
        acknowledged_by="olga" if acked is not None else None,
        acknowledged_at=acked,
    )


def event(name: str, t: float, spacecraft: str = "rover") -> EventView:
    return EventView(1, name, spacecraft, "high", "it happened", t, t)


SOC = Expectation("soc", DetectionKind.ALARM, "rover.power.battery_soc", 600.0, level="red")
JAM = Expectation(
    "jam", DetectionKind.EVENT, "rover.drill.jammed", 300.0, opens_at_s=1000.0, vehicle="rover"
)


def test_an_alarm_counts_once_it_reaches_the_expected_level() -> None:
    checklist = Checklist.of("s", START, [SOC])
    assert checklist.observe_alarm(alarm("rover.power.battery_soc", "yellow", START + 10), 1) == []
    escalated = alarm(
        "rover.power.battery_soc", "red", START + 10, most_severe=START + 70, alarm_id="a"
    )
    changed = checklist.observe_alarm(escalated, START + 75)
    assert [i.expectation.id for i in changed] == ["soc"]
    item = checklist.items[0]
    assert item.detected_at == START + 70
    assert item.seen_at == START + 75
    row = checklist.status(START + 80)[0]
    assert row["state"] == "detected"
    assert row["time_to_detect_s"] == 70.0
    assert row["deadline"] == START + 600.0


def test_alarms_standing_before_the_start_and_other_parameters_do_not_count() -> None:
    checklist = Checklist.of("s", START, [SOC])
    checklist.observe_alarm(alarm("rover.power.battery_soc", "red", START - 5), START)
    checklist.observe_alarm(alarm("rover.power.bus_voltage", "red", START + 5), START + 5)
    assert checklist.items[0].detected_at is None
    assert checklist.items[0].state(START, START + 601) is ItemState.MISSED


def test_an_event_window_opens_with_its_fault() -> None:
    checklist = Checklist.of("s", START, [JAM])
    checklist.observe_event(event("rover.drill.jammed", START + 1100, "lander"), START + 1100)
    assert checklist.items[0].detected_at is None  # wrong vehicle
    checklist.observe_event(event("rover.drill.jammed", START + 1100), START + 1101)
    item = checklist.items[0]
    assert item.time_to_detect(START) == 100.0
    assert item.state(START, START + 2000) is ItemState.DETECTED
    late = Checklist.of("s", START, [JAM])
    late.observe_event(event("rover.drill.jammed", START + 1400), START + 1400)
    assert late.items[0].state(START, START + 2000) is ItemState.LATE


def test_the_acknowledgement_is_recorded() -> None:
    checklist = Checklist.of("s", START, [SOC])
    checklist.observe_alarm(alarm("rover.power.battery_soc", "red", START + 10), START + 10)
    acked = alarm("rover.power.battery_soc", "red", START + 10, acked=START + 40)
    changed = checklist.observe_alarm(acked, START + 41)
    assert changed
    assert checklist.items[0].acknowledged_by == "olga"
    assert checklist.status(START + 50)[0]["acknowledged_at"] == START + 40


def test_score_follows_the_documented_formula() -> None:
    checklist = Checklist.of("s", START, [SOC, JAM])
    # SOC detected 150 s after the start (deadline 600 s), acknowledged 60 s later.
    checklist.observe_alarm(
        alarm("rover.power.battery_soc", "red", START + 150, acked=START + 210), START + 211
    )
    # JAM detected late: 400 s after its window opened (deadline 300 s).
    checklist.observe_event(event("rover.drill.jammed", START + 1400), START + 1400)
    commands = [
        {
            "name": "rover.obsw.set_mode",
            "stage": "completed",
            "critical": True,
            "created_at": START + 300,
            "issued_by": "olga",
        },
        {
            "name": "rover.obsw.reboot",
            "stage": "completed",
            "critical": True,
            "created_at": START + 350,
            "issued_by": "olga",
        },
        {
            "name": "rover.obsw.reboot",
            "stage": "completed",
            "critical": True,
            "created_at": START - 50,
            "issued_by": "olga",
        },  # before the run: not counted
    ]
    score = score_run(checklist.items, START, commands, recovery=["rover.obsw.set_mode"])
    rules = ScoringRules()
    expected = (
        (rules.detection + rules.speed * (1 - 150 / 600))  # SOC in time
        + rules.acknowledgement  # acknowledged within 600 s
        + rules.late  # JAM late
        + rules.recovery  # set_mode completed
        - rules.needless_critical  # one needless reboot during the run
    )
    maximum = (
        (rules.detection + rules.speed + rules.acknowledgement)
        + (rules.detection + rules.speed)
        + rules.recovery
    )
    assert score.points == pytest.approx(expected)
    assert score.maximum == pytest.approx(maximum)
    assert score.percent == pytest.approx(100 * expected / maximum)
    assert score.grade == "pass"  # 155 of 230 points: 67 %


def test_an_empty_run_scores_zero_and_never_negative() -> None:
    checklist = Checklist.of("s", START, [SOC])
    needless = [{"name": "rover.obsw.reboot", "critical": True, "created_at": START + 1}]
    score = score_run(checklist.items, START, needless)
    assert score.points == 0.0
    assert score.grade == "fail"

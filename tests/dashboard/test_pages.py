"""Each page's rendering with Streamlit's AppTest, against the stub ground API (no network)."""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.live import LiveFeed
from tests.dashboard.conftest import PageRunner
from tests.dashboard.fake_ground import NOW, FakeGround
from tests.dashboard.helpers import chart_specs, texts, values_message


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


# ------------------------------------------------------------------------------------ overview
def test_overview_shows_mission_time_link_alarms_and_vehicle_health(run_page: PageRunner) -> None:
    app = run_page("overview")
    shown = metrics(app)
    assert shown["Mission time (UTC)"] == "10:00:00"  # NOW is 2026-01-01T10:00:00Z
    assert shown["Speed"] == "×50"
    assert shown["Active station"] == "dss43"
    assert shown["One-way light time"] == "1.281 s"
    assert shown["Earth elevation at site"] == "3.2 °"
    assert shown["Open alarms"] == "2"  # one raised, one acknowledged; the cleared one is not open
    battery = [m for m in app.metric if m.label.startswith("Battery temp.")]
    assert {m.value for m in battery} == {"18.2 °C", "15.5 °C"}
    assert any(m.label == "Battery temp. :red[●]" for m in battery)  # critical monitoring result
    soc = [m.value for m in app.metric if m.label == "Battery"]
    assert soc == ["87.6 %", "91.0 %"]  # rover, then lander
    page = texts(app)
    assert "Mode** `NOMINAL`" in page
    assert "Mode** `SURFACE`" in page
    events = app.dataframe[0].value
    assert list(events["event"]) == [
        "lander.thermal.heater_fault",
        "rover.mobility.drive_complete",
        "rover.power.battery_low",
    ]


def test_overview_prefers_live_values_and_shows_deltas_and_sparklines(
    run_page: PageRunner, live: LiveFeed
) -> None:
    name = "rover.power.battery_soc"
    live.handle(values_message(*((name, NOW - 1200 + 60 * i, 80.0 + i) for i in range(21))))
    app = run_page("overview", live=live)
    rover_soc = next(m for m in app.metric if m.label == "Battery")
    assert rover_soc.value == "100.0 %"  # the live value, not the REST one (87.6 %)
    assert rover_soc.delta == "10.00 %"  # 10 samples of +1 % in the last 600 s
    assert list(rover_soc.proto.chart_data) == [80.0 + i for i in range(21)]
    assert "Live stream disconnected" in texts(app)  # the feed was never started


def test_overview_says_when_the_ground_is_unreachable(
    run_page: PageRunner, ground: FakeGround
) -> None:
    ground.unreachable = True
    app = run_page("overview")
    errors = [e.value for e in app.error]
    assert any("Ground service unreachable" in e and "http://ground.test" in e for e in errors)
    assert metrics(app)["Mission time (UTC)"] == "—"


@pytest.mark.parametrize(("status", "title"), [(401, "Not authenticated (401)"), (403, "(403)")])
def test_refusals_are_shown_as_such(
    run_page: PageRunner, ground: FakeGround, status: int, title: str
) -> None:
    ground.refuse = status
    app = run_page("overview")
    errors = [e.value for e in app.error]
    assert any(title in e for e in errors), errors
    assert all("secret-token-123456" not in e for e in errors)


# ----------------------------------------------------------------------------------- telemetry
def test_telemetry_browser_searches_the_mission_database(run_page: PageRunner) -> None:
    app = run_page("telemetry")
    app.text_input[0].input("temperature").run()
    listed = app.dataframe[0].value
    assert set(listed["name"]) == {
        "rover.thermal.battery_temperature",
        "rover.thermal.avionics_temperature",
        "lander.thermal.battery_temperature",
        "lander.thermal.avionics_temperature",
    }
    assert set(listed["units"]) == {"°C"}
    assert "yellow [0, 35] · red [-10, 45]" in set(listed["limits"])
    app.selectbox[0].select("lander").run()
    assert set(app.dataframe[0].value["name"]) == {
        "lander.thermal.battery_temperature",
        "lander.thermal.avionics_temperature",
    }


def test_telemetry_plots_live_buffers_and_bucketed_history(
    run_page: PageRunner, live: LiveFeed, ground: FakeGround
) -> None:
    live.handle(
        values_message(*(("rover.power.battery_soc", NOW - 10 + i, 80.0 + i) for i in range(5)))
    )
    app = run_page("telemetry", live=live)
    assert app.multiselect[0].value == ["rover.power.battery_soc", "rover.power.power_balance"]
    specs = chart_specs(app)
    live_spec = specs[0]
    assert [row["value"] for row in live_spec["_rows"]] == [80.0, 81.0, 82.0, 83.0, 84.0]
    assert {row["parameter"] for row in live_spec["_rows"]} == {"rover.power.battery_soc [%]"}
    history_specs = specs[1:]
    assert len(history_specs) == 2  # one per selected parameter
    band = history_specs[0]
    assert band["layer"][0]["mark"]["type"] == "area"  # the min–max band
    assert band["layer"][1]["mark"]["type"] == "line"  # the mean
    assert band["layer"][0]["encoding"]["y"]["title"] == "rover.power.battery_soc [%]"
    assert all(r["min"] <= r["mean"] <= r["max"] for r in band["_rows"])
    asked = [q for m, p, q in ground.requests if p.endswith("/history")]
    assert len(asked) == 2


def test_telemetry_history_window_follows_mission_time(
    run_page: PageRunner, ground: FakeGround
) -> None:
    app = run_page("telemetry")
    window: Any = app.get("button_group")[0]  # the segmented control (no typed accessor)
    window.set_value("6 h").run()
    history_calls = [r for r in ground.requests if r[1].endswith("/history")]
    assert history_calls  # each request recorded; the window is checked through the caption
    assert "2026-01-01 04:00:00 UTC → 2026-01-01 10:00:00 UTC" in texts(app)


# --------------------------------------------------------------------------------------- rover
def test_rover_map_shows_traverse_uncertainty_drill_sites_and_directions(
    run_page: PageRunner,
) -> None:
    app = run_page("rover")
    shown = metrics(app)
    assert shown["Position east"] == "40.0 m"
    assert shown["Position north"] == "30.0 m"
    assert shown["1σ uncertainty"] == "2.50 m"  # hypot(1.5, 2.0)
    assert shown["Earth az / el"] == "120° / 3.2°"
    assert shown["Sun az / el"] == "250° / 1.5°"  # the sample of /passes' sun series nearest now
    assert int(shown["Drill sites"]) >= 1
    (site_map,) = chart_specs(app)
    layers = site_map["layer"]
    marks = [layer["mark"]["type"] for layer in layers]
    assert marks.count("line") >= 3  # 1σ ellipses, the path, the Earth ray, the current 1σ
    assert site_map["layer"][0]["encoding"]["x"]["title"] == "east (m)"
    assert site_map["layer"][0]["encoding"]["y"]["title"] == "north (m)"
    bodies = {row.get("body") for row in site_map["_rows"] if row.get("body")}
    assert bodies == {"Earth az 120°, el 3.2°", "Sun az 250°, el 1.5°"}
    labels = {row.get("label") for row in site_map["_rows"]}
    assert "Lander" in labels
    drilled = [row for row in site_map["_rows"] if row.get("label") == "D1"]
    assert drilled
    assert drilled[0]["depth"] == "0.60 m"
    sites = app.dataframe[0].value
    assert sites["deepest (m)"].iloc[0] == 0.6


# ------------------------------------------------------------------------------------ antennas
def test_antennas_show_passes_earth_links_and_clcw(run_page: PageRunner) -> None:
    app = run_page("antennas")
    page = texts(app)
    assert "**rover** via `dss43`" in page
    links, clcw = app.dataframe[0].value, app.dataframe[1].value
    assert list(links["station"]) == ["dss14", "dss43"]
    assert list(links["in view"]) == ["no", "yes"]
    assert list(links["Eb/N0 rover"]) == ["-3.5 dB", "6.3 dB"]  # dss14's from /links/carrier
    assert list(links["prime for"]) == ["—", "rover, lander"]
    assert list(links["light time"]) == ["1.290 s", "1.281 s"]
    assert list(clcw["vehicle"]) == ["rover", "lander"]
    assert clcw["N(R)"][0] == 17
    assert clcw["lockout"][0] == "no"
    assert clcw["state"][1] == "no CLCW received yet"
    gantt, earth = chart_specs(app)
    stations = {row["station"] for row in gantt["_rows"] if "station" in row}
    assert stations == {"dss43", "dss63"}  # float times and ISO strings both parsed
    assert gantt["layer"][0]["mark"]["type"] == "bar"
    assert any(row.get("mask") == 1.5 for row in earth["_rows"])


# ------------------------------------------------------------------------------------ commands
def test_command_form_is_generated_from_the_mission_database(run_page: PageRunner) -> None:
    app = run_page("commands")
    distance, speed = app.number_input
    assert distance.label == "distance [m]"
    assert (distance.min, distance.max) == (-20.0, 100.0)
    assert "allowed -20 … 100 m" in str(distance.help)
    assert speed.value == pytest.approx(0.02)  # the default
    history = app.dataframe[0].value
    assert history["stage"][0] == "completed"
    stages = app.dataframe[1].value
    assert list(stages["stage"]) == [
        "queued",
        "released",
        "sent",
        "accepted",
        "started",
        "completed",
    ]


def test_sending_a_command_posts_its_arguments(run_page: PageRunner, ground: FakeGround) -> None:
    app = run_page("commands")
    app.number_input[0].set_value(12.5)
    app.button[0].click().run()  # the form's submit button
    assert ground.posted("/commands") == [
        {"name": "rover.mobility.drive_distance", "args": {"distance": 12.5, "speed": 0.02},
         "confirm": False}
    ]  # fmt: skip
    assert any("accepted by the ground as `c-0002`" in s.value for s in app.success)


def test_a_command_can_bypass_cop1(run_page: PageRunner, ground: FakeGround) -> None:
    app = run_page("commands")
    app.checkbox(key="bypass:rover.mobility.drive_distance").check()
    app.button[0].click().run()
    (posted,) = ground.posted("/commands")
    assert posted["bypass"] is True


def test_a_critical_command_needs_the_confirmation(
    run_page: PageRunner, ground: FakeGround
) -> None:
    app = run_page("commands")
    app.selectbox[1].select("rover.obsw.set_mode").run()
    assert any("Critical command" in w.value for w in app.warning)
    app.selectbox[2].select("SAFE")
    app.button[0].click().run()
    assert ground.posted("/commands") == []
    assert any("confirmation box" in e.value for e in app.error)
    app.checkbox[0].check()
    app.button[0].click().run()
    assert ground.posted("/commands") == [
        {"name": "rover.obsw.set_mode", "args": {"mode": "SAFE"}, "confirm": True}
    ]


def test_an_operator_restarts_cop1_after_an_alert(run_page: PageRunner, ground: FakeGround) -> None:
    app = run_page("commands")
    status = next(df.value for df in app.dataframe if "FOP state" in df.value.columns)
    assert status["FOP state"][0] == "initial"
    assert status["last alert"][0] == "lockout"
    app.selectbox(key="cop1_directive").select("Initiate AD (Set V(R) to V(S))").run()
    app.button(key="cop1_go").click().run()
    assert ground.posted("/commands/link/rover/cop1") == [
        {"directive": "initiate", "mode": "set_vr", "set_vr": 17}
    ]
    assert any("the FOP is now `active`" in s.value for s in app.success)


def test_a_viewer_cannot_send(run_page: PageRunner, ground: FakeGround) -> None:
    ground.role = "viewer"
    app = run_page("commands")
    assert app.button[0].disabled
    assert app.button(key="cop1_go").disabled
    assert "needs an operator" in texts(app)


# ------------------------------------------------------------------------------ alarms, events
def test_alarms_can_be_acknowledged(run_page: PageRunner, ground: FakeGround) -> None:
    app = run_page("alarms_events")
    page = texts(app)
    assert "rover.thermal.battery_temperature" in page
    assert "lander.power.battery_soc" not in page  # cleared: not in the open list
    (ack,) = [b for b in app.button if b.label == "Acknowledge"]  # only the raised alarm
    app.text_input[0].input("heater cycling")
    ack.click().run()
    assert ground.posted("/acknowledge") == [{"comment": "heater cycling"}]
    app.run()  # AppTest does not replay the fragment's own rerun; the next run shows the change
    assert "acknowledged by alice" in texts(app)
    assert not [b for b in app.button if b.label == "Acknowledge"]


def test_events_filter_by_severity_and_vehicle(run_page: PageRunner) -> None:
    app = run_page("alarms_events")
    assert len(app.dataframe[0].value) == 3
    app.multiselect[0].set_value(["high", "medium"]).run()
    assert set(app.dataframe[0].value["severity"]) == {"high", "medium"}
    app.selectbox[0].select("rover").run()
    assert list(app.dataframe[0].value["event"]) == ["rover.power.battery_low"]


# ------------------------------------------------------------------------------------ training
def test_instructor_starts_a_scenario_and_follows_the_checklist(
    run_page: PageRunner, ground: FakeGround
) -> None:
    app = run_page("training")
    assert metrics(app)["State"] == "idle"
    start = next(b for b in app.button if b.label == "Start scenario")
    start.click().run()
    assert ("POST", "/training/scenarios/heater_failure_at_dusk/start", {}) in ground.requests
    shown = metrics(app)
    assert shown["Scenario"] == "Heater failure at dusk"
    assert shown["State"] == "running"
    assert shown["Detected"] == "1 / 2"
    checklist = app.dataframe[0].value
    assert list(checklist["status"]) == ["✓ detected", "… pending"]
    assert checklist["time to detect"][0] == "00:05:12"
    assert checklist["acknowledged by"][0] == "bob"


def test_instructor_injects_and_clears_a_single_fault(
    run_page: PageRunner, ground: FakeGround
) -> None:
    app = run_page("training")
    app.selectbox[1].select("wheel_stall").run()
    current = next(n for n in app.number_input if n.label == "current [A]")
    assert (current.min, current.max, current.value) == (0.5, 5.0, 2.5)
    current.set_value(3.0)
    next(b for b in app.button if b.label == "Inject fault").click().run()
    assert ground.inject_bodies == [
        {"params": {"current": 3.0}, "until_cleared": False, "duration_s": 600.0}
    ]
    assert ground.injected == ["wheel_stall#1"]
    next(b for b in app.button if b.label == "Clear").click().run()
    assert ground.injected == []
    assert ("DELETE", "/faults/wheel_stall#1", None) in ground.requests


def test_instructor_reads_the_score_and_the_debrief(run_page: PageRunner) -> None:
    app = run_page("training")
    app.toggle[0].set_value(True).run()
    assert metrics(app)["Score"] == "7 / 10 (70 %, good)"
    timeline = app.dataframe[-1].value
    assert list(timeline["kind"]) == ["fault_injected", "alarm_raised", "alarm_acknowledged"]


def test_trainees_are_told_the_checklist_is_the_instructors(
    run_page: PageRunner, ground: FakeGround
) -> None:
    ground.role = "operator"
    app = run_page("training")
    assert "The checklist and the score are the instructor's" in texts(app)
    assert not app.error
    assert not [b for b in app.button if b.label in {"Start scenario", "Inject fault"}]

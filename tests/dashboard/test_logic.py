"""The pages' pure helpers: geometry of the rover map, pass parsing, forms, formatting."""

from __future__ import annotations

import math

import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs in the dev set
import pytest

from dashboard.components import fmt_duration, fmt_time, fmt_value
from dashboard.views.antennas import (
    clcw_rows,
    cop1_rows,
    elevation_series,
    link_rows,
    merge_links,
    pass_rows,
    to_seconds,
)
from dashboard.views.commands import argument_help, stage_rows
from dashboard.views.overview import active_link
from dashboard.views.rover import (
    azimuth,
    body_at,
    direction_ray,
    drill_sites,
    ellipse_frame,
    map_extent,
    traverse_frame,
)
from dashboard.views.telemetry import limits_text, window_bounds
from dashboard.views.training import (
    active_instances,
    checklist_rows,
    score_text,
    timeline_rows,
)


def history(name: str, rows: list[tuple[float, float, float]]) -> dict[str, object]:
    """A history response with buckets (start, mean, max) of width 10."""
    return {
        "name": name,
        "buckets": [
            {"start": s, "end": s + 10, "count": 1, "min": m, "max": x, "mean": m}
            for s, m, x in rows
        ],
    }


def test_traverse_joins_the_estimate_and_its_sigma_by_bucket() -> None:
    frame = traverse_frame(
        {
            "rover.mobility.est_position_x": history("x", [(0, 0.0, 0.0), (10, 1.0, 1.0)]),
            "rover.mobility.est_position_y": history("y", [(0, 5.0, 5.0), (10, 6.0, 6.0)]),
            "rover.navigation.est_sigma_x": history("sx", [(10, 0.5, 0.5)]),
            "rover.drill.depth": history("d", [(0, 0.0, 0.3)]),
        }
    )
    assert frame["x"].tolist() == [0.0, 1.0]
    assert frame["y"].tolist() == [5.0, 6.0]
    assert math.isnan(frame["sx"][0])
    assert frame["sx"][1] == 0.5
    assert math.isnan(frame["sy"][1])  # no σ north history at all
    assert frame["depth"][0] == 0.3  # the deepest point of the bucket, not its mean


def test_drill_sites_merge_nearby_buckets_and_keep_the_deepest() -> None:
    path = pd.DataFrame(
        {
            "start": [0.0, 10.0, 20.0, 30.0],
            "x": [0.0, 1.0, 50.0, 50.5],
            "y": [0.0, 1.0, 0.0, 0.0],
            "depth": [0.5, 1.2, 0.0, 0.4],
        }
    )
    sites = drill_sites(path)
    assert [(s.x, s.y, s.max_depth_m) for s in sites] == [(0.0, 0.0, 1.2), (50.5, 0.0, 0.4)]


def test_ellipses_have_the_sigma_as_semi_axes() -> None:
    frame = ellipse_frame([(10.0, 20.0, 2.0, 3.0), (0.0, 0.0, float("nan"), 1.0)])
    assert set(frame["id"]) == {0}  # the one without a σ is left out
    assert frame["x"].max() == pytest.approx(12.0)
    assert frame["x"].min() == pytest.approx(8.0)
    assert frame["y"].max() == pytest.approx(23.0)


@pytest.mark.parametrize(
    ("azimuth", "end"), [(0.0, (0.0, 10.0)), (90.0, (10.0, 0.0)), (225.0, (-7.071, -7.071))]
)
def test_direction_rays_use_azimuths_clockwise_from_north(
    azimuth: float, end: tuple[float, float]
) -> None:
    start, stop = direction_ray(0.0, 0.0, azimuth, 10.0, "Sun")
    assert (start["x"], start["y"]) == (0.0, 0.0)
    assert (stop["x"], stop["y"]) == pytest.approx(end, abs=1e-3)


def test_map_extent_is_square_and_holds_the_lander() -> None:
    x0, x1, y0, y1 = map_extent([100.0, 120.0], [-30.0, 10.0])
    assert x1 - x0 == pytest.approx(y1 - y0)
    assert x0 <= 0.0 <= x1
    assert y0 <= 0.0 <= y1
    assert x1 >= 120.0
    assert y0 <= -30.0


def test_pass_rows_accept_unix_and_iso_times() -> None:
    rows = pass_rows(
        {
            "passes": [
                {"station": "dss43", "aos": 100.0, "los": 200.0, "max_elevation_deg": 40},
                {"station": "dss63", "aos": "1970-01-01T00:05:00Z", "los": "1970-01-01T00:10:00Z"},
                {"station": "bad", "aos": "never", "los": 1.0},
            ]
        }
    )
    assert [(r["station"], r["aos"], r["los"]) for r in rows] == [
        ("dss43", 100.0, 200.0),
        ("dss63", 300.0, 600.0),
    ]
    assert to_seconds("nonsense") is None


def test_earth_elevation_series_and_mask() -> None:
    frame, mask = elevation_series(
        {"earth": {"times": [0.0, 600.0], "elevation_deg": [1.0, 2.0], "mask_deg": 1.5}}
    )
    assert frame["elevation"].tolist() == [1.0, 2.0]
    assert mask == 1.5
    empty, none = elevation_series({})
    assert empty.empty
    assert none is None


def test_clcw_flags_stand_out() -> None:
    (row,) = clcw_rows([{"vehicle": "rover", "lockout": True, "wait": False, "in_step": False}])
    assert row["lockout"] == "YES"  # a raised warning flag is in capitals (and red)
    assert row["wait"] == "no"
    assert row["in step"] == "NO"


def test_active_link_comes_from_the_carrier() -> None:
    links = [{"station": "usuda", "in_view": True, "locked": {"rover": True}, "light_time_s": 1.3}]
    carrier = {
        "vehicles": [{"vehicle": "rover", "station": "dss43"}, {"vehicle": "lander"}],
        "stations": [{"station": "dss43", "light_time_s": 1.25}],
    }
    assert active_link(links, carrier) == ("dss43", 1.25)
    assert active_link(links, {}) == ("usuda", 1.3)
    assert active_link([], {}) == ("none", None)


def test_argument_help_gives_units_range_and_default() -> None:
    text = argument_help(
        {"description": "Ground speed.", "units": "m/s", "min": 0.005, "max": 0.05, "default": 0.02}
    )
    assert text == "Ground speed. allowed 0.005 … 0.05 m/s. default 0.02."
    enum = argument_help({"enumeration": {"0": "SAFE", "1": "NOMINAL"}})
    assert enum == "one of SAFE, NOMINAL."


def test_stage_rows_show_failures_and_implied_stages() -> None:
    rows = stage_rows(
        {
            "stages": [
                {"stage": "accepted", "time": 0.0, "implied": True},
                {"stage": "failed", "time": 60.0, "failure_name": "HAZARD", "detail": "1,8"},
            ]
        }
    )
    assert [r["stage"] for r in rows] == ["accepted (implied)", "failed"]
    assert rows[1]["detail"] == "1,8 HAZARD"
    assert rows[1]["mission time (UTC)"] == "1970-01-01 00:01:00 UTC"


def test_training_checklist_score_and_timeline() -> None:
    rows = checklist_rows(
        {"checklist": [{"state": "detected"}, {"state": "missed"}, {"state": "late"}, {}]}
    )
    assert [r["status"] for r in rows] == ["✓ detected", "✗ missed", "✓ late", "… pending"]
    score = {"points": 3, "maximum": 4, "percent": 75.0, "grade": "pass"}
    assert score_text({"score": score}) == "3 / 4 (75 %, pass)"
    assert score_text({}) is None
    timeline = timeline_rows(
        {"timeline": [{"time": 20.0, "kind": "command", "text": "b"}, {"time": 10.0, "text": "a"}]}
    )
    assert [r["what"] for r in timeline] == ["a", "b"]
    assert active_instances([{"id": "f", "title": "F", "active": ["f#1", "f#2"]}, {"id": "g"}]) == [
        ("f#1", "F"),
        ("f#2", "F"),
    ]


def test_history_windows_end_at_mission_time() -> None:
    assert window_bounds(10_000.0, "1 h", None) == (6_400.0, 10_000.0)
    assert window_bounds(10_000.0, "custom", (1.0, 2.0)) == (1.0, 2.0)
    assert limits_text({"yellow_low": 18.0, "red_low": 10.0}) == "yellow [18, +∞] · red [10, +∞]"
    assert limits_text(None) == ""


def test_formatting() -> None:
    assert fmt_value(21.456, "degC", 1) == "21.5 °C"
    assert fmt_value(True) == "ON"
    assert fmt_value(None, "m") == "—"
    assert fmt_value("SAFE") == "SAFE"
    assert fmt_time(0.0) == "1970-01-01 00:00:00 UTC"
    assert fmt_time(None) == "—"
    assert fmt_duration(12.34) == "12.3 s"
    assert fmt_duration(3723.0) == "01:02:03"
    assert fmt_duration(90_061.0) == "1 d 01:01:01"


def test_body_direction_is_the_nearest_sample_of_a_series() -> None:
    series = {
        "times": [0.0, 600.0, 1200.0],
        "azimuth_deg": [10, 20, 30],
        "elevation_deg": [1, 2, 3],
    }
    assert body_at(series, 700.0) == (20.0, 2.0)
    assert body_at({"azimuth_deg": 5.0, "elevation_deg": -1.0}, None) == (5.0, -1.0)
    assert body_at(None, 0.0) == (None, None)
    assert azimuth(-130.0) == 230.0


def test_links_take_what_the_carrier_knows_and_keep_their_counts() -> None:
    merged = merge_links(
        [{"station": "usuda", "ebn0_db": {}, "frames_received": 12, "in_view": True}],
        [
            {
                "station": "usuda",
                "ebn0_db": {"rover": 16.4},
                "frames_received": 0,
                "prime": ["rover"],
            },
            {"station": "dss43", "ebn0_db": {"rover": 17.0}, "predicted_in_view": True},
        ],
    )
    assert [m["station"] for m in merged] == ["dss43", "usuda"]
    usuda = merged[1]
    assert usuda["ebn0_db"] == {"rover": 16.4}  # /links had none
    assert usuda["frames_received"] == 12  # /links' own count stays
    assert usuda["prime"] == ["rover"]
    (dss43, _) = link_rows(merged)
    assert dss43["in view"] == "yes"  # from the prediction when no monitor says otherwise


def test_cop1_rows_show_the_fop_of_ad_vehicles_and_bypass_for_bd() -> None:
    ad = {
        "vehicle": "rover",
        "tc_mode": "ad",
        "cop1": {"fop_state": "retransmit_without_wait", "v_s": 14, "nn_r": 12, "sent_queue": 2,
                 "wait_queue": 1, "held": 0, "retransmissions": 3, "alerts": 0,
                 "last_alert": None, "auto_initiate_pending": False},
    }  # fmt: skip
    pending = {"fop_state": "initial", "auto_initiate_pending": True, "held": 2}
    waiting = {"vehicle": "lander", "tc_mode": "ad", "cop1": pending}
    bypass = {"vehicle": "lander", "tc_mode": "bd", "cop1": {"fop_state": "initial"}}
    rover, lander, bd = cop1_rows([ad, waiting, bypass])
    assert rover["FOP state"] == "retransmit_without_wait"
    assert (rover["V(S)"], rover["NN(R)"], rover["sent, unacknowledged"]) == (14, 12, 2)
    assert rover["waiting"] == 1
    assert rover["last alert"] == "—"
    assert lander["FOP state"] == "initial (starts with the first CLCW)"
    assert lander["waiting"] == 2
    assert bd == {"vehicle": "lander", "TC mode": "BD (bypass)"}

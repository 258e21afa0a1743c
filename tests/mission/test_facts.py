"""The seeds: every default of the brief is present with provenance; broken files fail well."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from mission.facts import (
    SEEDS_DIR_ENV,
    FactsError,
    FactStatus,
    Site,
    default_facts_path,
    load_facts,
)

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"

# The "Simulation defaults" table of the mission brief: key, value, status. Values are copied from
# the brief by hand, not read from the code under test.
BRIEF_DEFAULTS: list[tuple[str, Any, FactStatus]] = [
    ("site.landing_site", {"lat_deg": -88.74, "lon_deg": 124.5}, FactStatus.ASSUMED),
    ("site.illumination_fraction", 0.86, FactStatus.ASSUMED),
    ("power.rover_array_peak_w", 500, FactStatus.ASSUMED),
    ("power.rover_array_orientation", "vertical", FactStatus.ASSUMED),
    ("power.rover_array_output_law", "cos_incidence", FactStatus.ASSUMED),
    ("power.rover_battery_usable_wh", 5000, FactStatus.ASSUMED),
    ("power.rover_battery_soc_limits", [0.20, 0.95], FactStatus.ASSUMED),
    ("power.rover_load_hibernate_w", 40, FactStatus.ASSUMED),
    ("power.rover_load_idle_w", 120, FactStatus.ASSUMED),
    ("power.rover_load_driving_extra_w", 150, FactStatus.ASSUMED),
    ("power.rover_load_drilling_extra_w", 250, FactStatus.ASSUMED),
    ("power.rover_load_oven_extra_w", 100, FactStatus.ASSUMED),
    ("power.lander_array_peak_w", 750, FactStatus.ASSUMED),
    ("thermal.avionics_limits_c", [-20, 50], FactStatus.ASSUMED),
    ("thermal.battery_limits_c", [0, 35], FactStatus.ASSUMED),
    ("thermal.survival_limit_c", -40, FactStatus.ASSUMED),
    ("mobility.max_speed_m_s", 0.05, FactStatus.ASSUMED),
    ("mobility.mean_speed_m_s", 0.02, FactStatus.ASSUMED),
    ("mobility.slope_limit_deg", 25, FactStatus.SOURCED),
    ("mobility.max_distance_per_day_m", 100, FactStatus.ASSUMED),
    ("mobility.total_distance_m", 2000, FactStatus.ASSUMED),
    ("mobility.exploration_area_m", [1000, 1000], FactStatus.SOURCED),
    ("drill.max_depth_m", 1.5, FactStatus.SOURCED),
    ("drill.sample_step_m", 0.10, FactStatus.ASSUMED),
    ("drill.rate_m_per_min", 0.01, FactStatus.ASSUMED),
    ("comms.rover_hga_downlink_bps", 2_000_000, FactStatus.ASSUMED),
    ("comms.rover_lga_downlink_bps", 16_000, FactStatus.ASSUMED),
    ("comms.rover_uplink_bps", 2_000, FactStatus.ASSUMED),
    ("comms.rover_lander_rate_bps", 2_000_000, FactStatus.ASSUMED),
    ("comms.rover_lander_max_range_m", 1000, FactStatus.ASSUMED),
    ("comms.rover_lander_link_type", "S-band or Wi-Fi", FactStatus.SOURCED),
    ("comms.station_elevation_mask_deg", 10, FactStatus.ASSUMED),
    ("comms.earth_site_mask_deg", 1.5, FactStatus.ASSUMED),
    ("comms.light_time_nominal_s", 1.28, FactStatus.DERIVED),
    ("ns.bin_s", 60, FactStatus.ASSUMED),
    ("ns.dry_thermal_cps", 20, FactStatus.ASSUMED),
    ("ns.dry_epithermal_cps", 15, FactStatus.ASSUMED),
    ("ns.weh_wt_pct_range", [0, 2], FactStatus.ASSUMED),
    ("ltga.water_wt_pct_range", [0.01, 5], FactStatus.ASSUMED),
    ("adore.delta_d_permil_range", [-100, 100], FactStatus.SOURCED),
    ("prathima.permittivity_range", [2, 4], FactStatus.ASSUMED),
    ("prathima.thermal_conductivity_range_w_m_k", [0.001, 0.01], FactStatus.ASSUMED),
]

# Sourced mission facts from the brief that a simulator needs.
BRIEF_FACTS: list[tuple[str, Any]] = [
    ("rover.mass_kg", 350),
    ("lander.payload_capacity_kg", 350),
    ("rover.surface_mission_days", 100),
    ("comms.light_time_range_s", [1.19, 1.36]),
    ("environment.earth_libration_lat_amplitude_deg", 6.7),
    ("environment.earth_libration_lon_amplitude_deg", 7.9),
    ("environment.earth_libration_lat_period_days", 27.2),
    ("environment.earth_libration_lon_period_days", 27.55),
    ("thermal.psr_floor_temperature_k", [30, 40]),
    ("thermal.sunlit_surface_temperature_k", [200, 320]),
    ("comms.xband_uplink_mhz", [7145, 7235]),
    ("comms.xband_downlink_mhz", [8400, 8500]),
    ("launch.vehicle", "H3-24L"),
    ("moon.mean_radius_km", 1737.4),
]

# The ground-antenna table of the brief: id, dish m, lat, lon, alt m.
BRIEF_STATIONS = {
    "misasa": (54, 36.1410, 138.3521, 1656),
    "usuda": (64, 36.1331, 138.3620, 1509),
    "byalalu": (32, 12.9018, 77.3682, 750),
    "new_norcia": (35, -31.0482, 116.1910, 252),
    "cebreros": (35, 40.4528, -4.3675, 794),
    "malargue": (35, -35.7760, -69.3982, 1573),
    "dss14": (70, 35.4259, -116.8895, 1001),
    "dss43": (70, -35.4024, 148.9813, 689),
    "dss63": (70, 40.4312, -4.2480, 865),
}


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, dict):
        return isinstance(a, dict) and all(_same(a.get(k), v) for k, v in b.items())
    if isinstance(b, list):
        return isinstance(a, list) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(b, int | float) and not isinstance(b, bool):
        return isinstance(a, int | float) and a == pytest.approx(b)
    return bool(a == b)


@pytest.mark.parametrize(
    ("key", "value", "status"), BRIEF_DEFAULTS, ids=[k for k, *_ in BRIEF_DEFAULTS]
)
def test_every_brief_default_is_present_with_its_status(
    key: str, value: Any, status: FactStatus
) -> None:
    fact = load_facts().get(key)
    assert _same(fact.value, value), f"{key}: {fact.value!r} != brief {value!r}"
    assert fact.status is status
    assert fact.source.strip()
    assert fact.description.strip()
    assert fact.unit.strip()


@pytest.mark.parametrize(("key", "value"), BRIEF_FACTS, ids=[k for k, _ in BRIEF_FACTS])
def test_sourced_mission_facts_are_present(key: str, value: Any) -> None:
    fact = load_facts().get(key)
    assert _same(fact.value, value)
    assert fact.status is FactStatus.SOURCED


def test_link_budget_assumptions_are_present_and_marked_assumed() -> None:
    facts = load_facts()
    for key in (
        "link.rover_hga_eirp_dbw",
        "link.rover_lga_eirp_dbw",
        "link.station_antenna_efficiency",
        "link.station_receiver_noise_k",
        "link.required_ebn0_db",
        "link.coding_gain_db",
    ):
        assert facts.get(key).status is FactStatus.ASSUMED, key
        assert isinstance(facts.number(key), float)
    gt_by_dish = facts.mapping("link.station_gt_dbk_by_dish_m")
    assert {int(d) for d in gt_by_dish} == {s[0] for s in BRIEF_STATIONS.values()}


def test_stations_match_the_brief_table() -> None:
    stations = {s.id: s for s in load_facts().stations}
    assert set(stations) == set(BRIEF_STATIONS)
    for station_id, (dish, lat, lon, alt) in BRIEF_STATIONS.items():
        s = stations[station_id]
        assert (s.dish_m, s.lat_deg, s.lon_deg, s.alt_m) == pytest.approx((dish, lat, lon, alt))
        assert s.elevation_mask_deg == 10
        assert s.agency in {"JAXA", "ISRO", "ESA", "NASA"}
        assert "elevation_mask_deg" in s.assumed_fields  # the 10 deg mask is the brief's choice
    assert stations["byalalu"].assumed_fields == ("alt_m", "elevation_mask_deg")


def test_every_source_id_is_described_in_the_readme() -> None:
    facts = load_facts()
    readme = (SEEDS / "README.md").read_text(encoding="utf-8")
    for source_id in facts.sources:
        assert re.search(rf"\b{source_id}\b", readme), f"{source_id} not described in README"
    for term in ("sourced", "derived", "assumed", "later one"):
        assert term in readme


def test_accessors() -> None:
    facts = load_facts()
    assert facts.site == Site(lat_deg=-88.74, lon_deg=124.5, alt_m=0.0)
    assert facts.number("drill.max_depth_m") == 1.5
    assert facts.numbers("comms.light_time_range_s") == (1.19, 1.36)
    assert facts.string("launch.vehicle") == "H3-24L"
    assert facts.station("dss43").dish_m == 70
    assert "power.rover_array_peak_w" in facts
    assert len(facts) == len(facts.keys()) == len(list(facts))
    with pytest.raises(TypeError, match="not a number"):
        facts.number("launch.vehicle")
    with pytest.raises(KeyError, match="dss43"):
        facts.station("dss99")


def test_unknown_key_names_it_and_suggests_close_matches() -> None:
    with pytest.raises(KeyError) as info:
        load_facts().get("power.rover_aray_peak_w")
    message = str(info.value)
    assert "power.rover_aray_peak_w" in message
    assert "power.rover_array_peak_w" in message


def test_default_load_is_cached() -> None:
    assert load_facts() is load_facts()


def _write_variant(tmp_path: Path, edit: Any) -> Path:
    raw = yaml.safe_load((SEEDS / "mission_facts.yaml").read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "mission_facts.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def _fact(raw: dict[str, Any], key: str) -> dict[str, Any]:
    return next(f for f in raw["facts"] if f["key"] == key)


def test_missing_field_names_file_key_and_field(tmp_path: Path) -> None:
    path = _write_variant(tmp_path, lambda raw: _fact(raw, "drill.max_depth_m").pop("unit"))
    with pytest.raises(FactsError) as info:
        load_facts(path)
    message = str(info.value)
    assert str(path) in message
    assert "drill.max_depth_m" in message
    assert "'unit'" in message
    assert (info.value.key, info.value.field) == ("drill.max_depth_m", "unit")


def test_bad_status_names_key_and_field(tmp_path: Path) -> None:
    def edit(raw: dict[str, Any]) -> None:
        _fact(raw, "power.rover_array_peak_w")["status"] = "guessed"

    with pytest.raises(FactsError) as info:
        load_facts(_write_variant(tmp_path, edit))
    assert (info.value.key, info.value.field) == ("power.rover_array_peak_w", "status")


def test_bad_station_value_names_station_and_field(tmp_path: Path) -> None:
    def edit(raw: dict[str, Any]) -> None:
        next(s for s in raw["stations"] if s["id"] == "usuda")["lat_deg"] = 123.0

    with pytest.raises(FactsError) as info:
        load_facts(_write_variant(tmp_path, edit))
    assert (info.value.key, info.value.field) == ("usuda", "lat_deg")


def test_boolean_is_not_a_number(tmp_path: Path) -> None:
    def edit(raw: dict[str, Any]) -> None:
        _fact(raw, "ns.bin_s")["value"] = True

    with pytest.raises(FactsError) as info:
        load_facts(_write_variant(tmp_path, edit))
    assert (info.value.key, info.value.field) == ("ns.bin_s", "value")


def test_sourced_fact_must_cite_a_declared_source(tmp_path: Path) -> None:
    def edit(raw: dict[str, Any]) -> None:
        _fact(raw, "drill.max_depth_m")["source"] = "N2; Z9"

    with pytest.raises(FactsError) as info:
        load_facts(_write_variant(tmp_path, edit))
    assert (info.value.key, info.value.field) == ("drill.max_depth_m", "source")
    assert "Z9" in str(info.value)


def test_duplicate_key_is_rejected(tmp_path: Path) -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["facts"].append(dict(_fact(raw, "ns.bin_s")))

    with pytest.raises(FactsError) as info:
        load_facts(_write_variant(tmp_path, edit))
    assert (info.value.key, info.value.field) == ("ns.bin_s", "key")


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "mission_facts.yaml"
    path.write_text("facts: [unclosed\n", encoding="utf-8")
    with pytest.raises(FactsError, match=re.escape(str(path))):
        load_facts(path)


def test_seeds_dir_can_be_overridden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(SEEDS / "mission_facts.yaml", tmp_path / "mission_facts.yaml")
    text = (tmp_path / "mission_facts.yaml").read_text(encoding="utf-8")
    (tmp_path / "mission_facts.yaml").write_text(
        text.replace("value: 500\n", "value: 640\n", 1), encoding="utf-8"
    )
    monkeypatch.setenv(SEEDS_DIR_ENV, str(tmp_path))
    assert default_facts_path() == (tmp_path / "mission_facts.yaml").resolve()
    assert load_facts().number("power.rover_array_peak_w") == 640
    monkeypatch.delenv(SEEDS_DIR_ENV)
    assert load_facts().number("power.rover_array_peak_w") == 500

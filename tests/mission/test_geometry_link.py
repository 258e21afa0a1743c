"""Link budgets and frame error rates."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mission.facts import load_facts
from mission.geometry import (
    LinkParameters,
    air_mass,
    bit_error_rate,
    dish_gain_dbi,
    frame_error_rate,
    free_space_loss_db,
    link_budget,
    station_g_over_t_dbk,
    uplink_budget,
)

PARAMS = LinkParameters.from_facts()
HGA_EIRP = load_facts().number("link.rover_hga_eirp_dbw")
LGA_EIRP = load_facts().number("link.rover_lga_eirp_dbw")

ranges = st.floats(min_value=350_000.0, max_value=410_000.0)
elevations = st.floats(min_value=0.0, max_value=90.0)
dishes = st.sampled_from([32.0, 35.0, 54.0, 64.0, 70.0])


def test_free_space_loss_matches_the_textbook_constant() -> None:
    # FSPL(dB) = 92.45 + 20 log10(d / km) + 20 log10(f / GHz), the usual engineering form.
    for d_km, f_ghz in ((1.0, 1.0), (384_400.0, 8.45), (405_000.0, 7.19)):
        expected = 92.45 + 20 * math.log10(d_km) + 20 * math.log10(f_ghz)
        assert free_space_loss_db(d_km, f_ghz * 1e9) == pytest.approx(expected, abs=0.01)


def test_dish_gain_of_a_deep_space_antenna() -> None:
    # A 70 m dish at 8.45 GHz: (pi D / lambda)^2 = 75.85 dB before efficiency.
    assert dish_gain_dbi(70.0, 8.45e9, 1.0) == pytest.approx(75.85, abs=0.01)
    assert dish_gain_dbi(70.0, 8.45e9, 0.6) == pytest.approx(75.85 + 10 * math.log10(0.6), abs=0.01)


def test_air_mass_is_one_at_zenith_and_finite_at_the_horizon() -> None:
    assert air_mass(90.0) == pytest.approx(1.0, abs=1e-3)
    assert air_mass(30.0) == pytest.approx(2.0, abs=0.01)
    assert 35.0 < air_mass(0.0) < 40.0
    assert air_mass(-3.0) == air_mass(0.0)


def test_seeded_g_over_t_table_agrees_with_the_model() -> None:
    table = load_facts().mapping("link.station_gt_dbk_by_dish_m")
    for dish, value in table.items():
        assert station_g_over_t_dbk(float(dish), 90.0, PARAMS) == pytest.approx(value, abs=0.1)


def test_the_assumed_links_close_at_the_mask() -> None:
    # The seeds' descriptions promise margin at 2 Mbit/s (high gain) and 16 kbit/s (low gain)
    # even for the smallest dish at apogee and at the 10 deg station mask.
    hga = link_budget(406_000.0, 32.0, 10.0, 2_000_000, HGA_EIRP)
    lga = link_budget(406_000.0, 32.0, 10.0, 16_000, LGA_EIRP)
    up = uplink_budget(406_000.0, 10.0, 2_000)
    for budget in (hga, lga):
        assert budget.closes, budget
        assert budget.margin_db < 20.0  # small enough for low elevations and faults to matter
    assert up.closes  # commands get a large margin, as deep-space uplinks do
    assert hga.ebn0_db == pytest.approx(hga.cn0_dbhz - 63.01, abs=0.01)
    assert math.isnan(up.system_noise_k)


@given(r1=ranges, r2=ranges, el=elevations, dish=dishes)
def test_margin_falls_with_range(r1: float, r2: float, el: float, dish: float) -> None:
    near, far = sorted((r1, r2))
    a = link_budget(near, dish, el, 2e6, HGA_EIRP, params=PARAMS)
    b = link_budget(far, dish, el, 2e6, HGA_EIRP, params=PARAMS)
    assert a.margin_db >= b.margin_db
    assert a.margin_db - b.margin_db == pytest.approx(20 * math.log10(far / near), abs=1e-9)


@given(e1=elevations, e2=elevations, r=ranges, dish=dishes)
def test_margin_grows_with_elevation(e1: float, e2: float, r: float, dish: float) -> None:
    low, high = sorted((e1, e2))
    a = link_budget(r, dish, low, 2e6, HGA_EIRP, params=PARAMS)
    b = link_budget(r, dish, high, 2e6, HGA_EIRP, params=PARAMS)
    assert a.margin_db <= b.margin_db + 1e-12
    assert a.atmospheric_loss_db >= b.atmospheric_loss_db - 1e-12


@given(rate=st.floats(min_value=1e3, max_value=1e7), el=elevations)
def test_doubling_the_rate_costs_three_decibels(rate: float, el: float) -> None:
    a = link_budget(384_400.0, 35.0, el, rate, HGA_EIRP, params=PARAMS)
    b = link_budget(384_400.0, 35.0, el, 2 * rate, HGA_EIRP, params=PARAMS)
    assert a.ebn0_db - b.ebn0_db == pytest.approx(10 * math.log10(2), abs=1e-9)


@given(x=st.floats(min_value=-20.0, max_value=30.0), y=st.floats(min_value=-20.0, max_value=30.0))
def test_frame_error_rate_is_a_falling_probability(x: float, y: float) -> None:
    low, high = sorted((x, y))
    fer_low, fer_high = frame_error_rate(low, params=PARAMS), frame_error_rate(high, params=PARAMS)
    assert 0.0 <= fer_high <= fer_low <= 1.0


def test_frame_error_rate_waterfall_sits_at_the_required_eb_n0() -> None:
    required = PARAMS.required_ebn0_db
    assert 1e-3 < frame_error_rate(required, params=PARAMS) < 0.05
    assert frame_error_rate(required - 3.0, params=PARAMS) > 0.5
    assert frame_error_rate(required + 2.0, params=PARAMS) < 1e-4
    # Uncoded BPSK (no coding gain) at 9.6 dB gives the textbook bit error rate of about 1e-5.
    assert bit_error_rate(9.6, 0.0) == pytest.approx(1e-5, rel=0.1)
    # A one-bit frame loses exactly its bit error rate.
    assert frame_error_rate(4.0, frame_bits=1, params=PARAMS) == pytest.approx(
        bit_error_rate(4.0, PARAMS.coding_gain_db)
    )


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="positive"):
        link_budget(0.0, 35.0, 30.0, 2e6, HGA_EIRP)
    with pytest.raises(ValueError, match="positive"):
        uplink_budget(384_400.0, 30.0, 0.0)

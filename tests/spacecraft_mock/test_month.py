"""Physics sanity over a simulated lunar month, stepped coarsely (5-minute physics steps).

Nominal run in the lit season: the battery stays between the operations limits (seeds: 20-95 %),
every temperature within the documented ranges, the Earth is below the site's horizon for a large
share of the month as it really is near the pole, and no housekeeping value of either vehicle
trips a limit of the mission database.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from mission.facts import load_facts
from mission.mdb import MissionDatabase, MonitoringResult, check_value, decode_tm
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.world import World

START = datetime(2026, 11, 22, tzinfo=UTC).timestamp()
MONTH_S = 29.53 * 86400.0


@pytest.mark.slow
def test_a_nominal_lunar_month(mdb: MissionDatabase) -> None:
    facts = load_facts()
    config = WorldConfig(
        physics_step_s=300.0,
        geometry_step_s=600.0,
        telemetry=False,  # no framing: the housekeeping is checked from the packets directly
        hk_rate_multiplier=1.0 / 600.0,
    )
    world = World(1, START, config=config)
    packets: list[bytes] = []
    for obsw in world.obsw.values():
        obsw.packet_tap = lambda vehicle, name, t, raw: packets.append(raw)
    soc: list[float] = []
    temps: dict[str, list[float]] = {"avionics": [], "battery": [], "web": []}
    lander_soc: list[float] = []
    earth_below = 0
    hours = 0
    t = START
    while t < START + MONTH_S:
        t = min(START + MONTH_S, t + 3600.0)
        world.advance_to(t)
        hours += 1
        earth_below += world.sample.earth_el < world.sample.earth_mask_deg
        soc.append(world.rover.soc_pct)
        lander_soc.append(world.lander.power.battery.soc * 100.0)
        for node, values in temps.items():
            values.append(world.rover.temperature(node))
    low, high = (100.0 * v for v in facts.numbers("power.rover_battery_soc_limits"))
    assert low <= min(soc)
    assert max(soc) <= high + 1e-6
    assert low <= min(lander_soc)
    assert max(lander_soc) <= high + 1e-6
    avionics = facts.numbers("thermal.avionics_limits_c")
    battery = facts.numbers("thermal.battery_limits_c")
    assert avionics[0] <= min(temps["avionics"])
    assert max(temps["avionics"]) <= avionics[1]
    assert battery[0] <= min(temps["battery"])
    assert max(temps["battery"]) <= battery[1]
    assert min(temps["web"]) > facts.number("thermal.survival_limit_c")
    share = earth_below / hours
    assert 0.4 <= share <= 0.8  # near the pole the Earth is down for most of each month
    assert world.rover.mobility.odometry_m > 500.0  # the rover did explore
    assert world.rover_model.plan.drillings >= 3
    alarms: Counter[str] = Counter()
    for raw in packets:
        decoded = decode_tm(mdb, raw)
        for name, value in decoded.values.items():
            if check_value(mdb.parameters[name], value.eng_value) is not MonitoringResult.IN_LIMITS:
                alarms[name] += 1
    assert len(packets) > 10_000
    assert alarms == Counter()

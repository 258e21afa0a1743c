"""The rover's thermal network: zones, heaters and their thermostat set points (assumed values).

The warm electronics box (avionics, battery, instrument bay and its coldest point, the survival
node) has louvres: well coupled to the cold sky when warm, insulated when cold, so that about
40 W keeps it alive through darkness. Wheels, drill and cameras sit outside and follow the
environment, warmed by their motors and small heaters.
"""

from __future__ import annotations

from spacecraft_mock.vehicles.thermal import Heater, Node, ThermalNetwork

ZONES = ("AVIONICS", "BATTERY", "DRILL", "INSTRUMENT", "WHEELS", "CAMERA", "SURVIVAL")
WHEEL_NODES = ("wheel_1", "wheel_2", "wheel_3", "wheel_4")
ZONE_NODES: dict[str, tuple[str, ...]] = {
    "AVIONICS": ("avionics",),
    "BATTERY": ("battery",),
    "DRILL": ("drill",),
    "INSTRUMENT": ("instrument",),
    "WHEELS": WHEEL_NODES,
    "CAMERA": ("camera",),
    "SURVIVAL": ("web",),
}


def rover_network(start_c: float = 15.0) -> ThermalNetwork:
    nodes = {
        "avionics": Node(
            "avionics", 25_000.0, 1.2, start_c + 6, sun_gain_c=70.0, g_env_closed_w_k=0.10,
            louvre_closed_c=0.0, louvre_open_c=20.0,
            heater=Heater("avionics", 20.0, -10.0, -5.0),
        ),
        "web": Node(
            "web", 8_000.0, 0.06, start_c - 5, sun_gain_c=70.0,
            heater=Heater("survival", 15.0, -33.0, -28.0),
        ),
        "battery": Node(
            "battery", 30_000.0, 0.05, start_c, sun_gain_c=40.0,
            heater=Heater("battery", 15.0, 7.0, 11.0),
        ),
        "instrument": Node(
            "instrument", 8_000.0, 0.5, start_c - 5, sun_gain_c=60.0, g_env_closed_w_k=0.05,
            louvre_closed_c=-5.0, louvre_open_c=15.0,
            heater=Heater("instrument", 10.0, 2.0, 6.0),
        ),
        "drill": Node(
            "drill", 6_000.0, 0.8, -20.0, sun_gain_c=80.0,
            heater=Heater("drill", 10.0, -45.0, -40.0),
        ),
        "camera": Node(
            "camera", 600.0, 0.1, -5.0, sun_gain_c=90.0, heater=Heater("camera", 4.0, -18.0, -14.0)
        ),
    }  # fmt: skip
    for name in WHEEL_NODES:
        nodes[name] = Node(
            name, 1_500.0, 0.12, -15.0, sun_gain_c=90.0, heater=Heater("wheels", 5.0, -40.0, -35.0)
        )
    links = [
        ("avionics", "web", 0.8),
        ("avionics", "battery", 0.6),
        ("avionics", "instrument", 0.3),
        ("avionics", "camera", 0.02),
    ]
    return ThermalNetwork(nodes, links)


def zone_heaters(network: ThermalNetwork, zone: str) -> list[Heater]:
    return [h for n in ZONE_NODES[zone] if (h := network[n].heater) is not None]


def zone_heater_on(network: ThermalNetwork, zone: str) -> bool:
    return any(h.on for h in zone_heaters(network, zone))

"""What the lander's and the rover's FDIR share: their state, zone limits and the common rules.

Each vehicle's own module (``lander_fdir``, ``rover_fdir``) keeps what differs: which zones and
nodes, what a critical battery sheds, the rover's array, pointing, mobility and comms checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from mission.mdb import MissionDatabase

if TYPE_CHECKING:
    from spacecraft_mock.obsw.onboard import OnboardSoftware
    from spacecraft_mock.vehicles.events import EventSink

BATTERY_LOW_PCT: Final = 20.0
BATTERY_LOW_CLEAR_PCT: Final = 25.0
BATTERY_CRITICAL_PCT: Final = 12.0
BATTERY_CRITICAL_CLEAR_PCT: Final = 30.0
DARK_S: Final = 1800.0
"""30 minutes without Sun put a vehicle in HIBERNATION; 30 minutes of Sun wake it up."""


@dataclass(slots=True)
class FdirState:
    """Monitoring and FDIR memory of one vehicle (the rover's adds its own fields)."""

    battery_low: bool = False
    battery_critical: bool = False
    over: set[str] = field(default_factory=set)
    under: set[str] = field(default_factory=set)
    heater_off_s: dict[str, float] = field(default_factory=dict)
    heater_reported: set[str] = field(default_factory=set)
    earth_visible: bool | None = None
    relay_up: bool | None = None
    dark_s: float = 0.0
    lit_s: float = 0.0
    last_t: float = 0.0

    @property
    def heater_fault(self) -> bool:
        return bool(self.heater_reported)


def zone_limits(
    db: MissionDatabase, parameters: Mapping[str, str]
) -> dict[str, tuple[float, float]]:
    """(red low, red high) of each zone's temperature parameter (zone → parameter name)."""
    out = {}
    for zone, name in parameters.items():
        limits = db.parameters[name].limits
        low = limits.red_low if limits is not None and limits.red_low is not None else -273.0
        high = limits.red_high if limits is not None and limits.red_high is not None else 1000.0
        out[zone] = (low, high)
    return out


def link_edges(
    st: FdirState,
    events: EventSink,
    vehicle: str,
    *,
    earth_visible: bool,
    earth_el: float,
    relay_up: bool,
    rssi: float,
) -> None:
    """Earth rise/set and relay link lost/restored events, on each change after the first."""
    if st.earth_visible is not None and earth_visible != st.earth_visible:
        name = f"{vehicle}.comms.earth_rise" if earth_visible else f"{vehicle}.comms.earth_set"
        events.raise_event(name, elevation=earth_el)
    st.earth_visible = earth_visible
    if st.relay_up is not None and relay_up != st.relay_up:
        name = (
            f"{vehicle}.comms.relay_link_restored"
            if relay_up
            else f"{vehicle}.comms.relay_link_lost"
        )
        events.raise_event(name, rssi=rssi)
    st.relay_up = relay_up


def battery(
    st: FdirState,
    events: EventSink,
    obsw: OnboardSoftware,
    vehicle: str,
    soc_pct: float,
    shed: Callable[[], None] = lambda: None,
) -> None:
    """battery_low below 20 %; below 12 % battery_critical, ``shed`` loads, LOAD_SHED and SAFE."""
    if soc_pct < BATTERY_LOW_PCT and not st.battery_low:
        st.battery_low = True
        events.raise_event(f"{vehicle}.power.battery_low", soc=soc_pct)
    elif soc_pct > BATTERY_LOW_CLEAR_PCT:
        st.battery_low = False
    if soc_pct < BATTERY_CRITICAL_PCT and not st.battery_critical:
        st.battery_critical = True
        events.raise_event(f"{vehicle}.power.battery_critical", soc=soc_pct)
        shed()
        obsw.trip("POWER", "LOAD_SHED")
        obsw.set_mode("SAFE", "BATTERY")
    elif soc_pct > BATTERY_CRITICAL_CLEAR_PCT:
        st.battery_critical = False


def darkness(
    st: FdirState,
    obsw: OnboardSoftware,
    lit: float,
    dt: float,
    *,
    may_wake: bool = True,
) -> None:
    """HIBERNATION after :data:`DARK_S` without Sun, NOMINAL again after as long in sunlight."""
    st.dark_s = st.dark_s + dt if lit < 0.05 else 0.0
    st.lit_s = st.lit_s + dt if lit > 0.5 else 0.0
    if obsw.mode == "NOMINAL" and st.dark_s >= DARK_S:
        obsw.set_mode("HIBERNATION")
    elif obsw.mode == "HIBERNATION" and st.lit_s >= DARK_S and may_wake:
        obsw.set_mode("NOMINAL")

"""The command queue and its release policy: send only while a station can reach the vehicle.

Pure logic. The service feeds it the stations' :class:`Contact` at the current mission time: the
ground's own prediction (``mission.geometry``: the Moon above the station's mask and the Earth
above the site's horizon mask) cross-checked with the station monitor's ``in_view`` flag. A
station is usable when the prediction says it is in view and its monitor does not say otherwise
(a station that has sent no monitor data is judged on the prediction alone). When the two
disagree, the command waits: a station that is down or outside its pass must not be used.

Choice among the usable stations: the operator's preferred station if it is usable; else the
station that carries the vehicle's downlink now (its CLCW comes back through it); else the one
with the Moon highest in its sky.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ground.commanding.model import TrackedCommand
from ground.links.contact import Contact, NextAos


@dataclass(frozen=True, slots=True)
class ReleaseDecision:
    """Where to send now (``station``), or why not (``reason``) and when it may be possible."""

    station: str | None
    light_time_s: float | None
    reason: str
    next_aos: NextAos | None = None

    @property
    def release(self) -> bool:
        return self.station is not None


def iso(t: float) -> str:
    """``2026-01-23T18:04:05Z`` (whole seconds)."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration_text(seconds: float) -> str:
    """``3 h 02 min``, ``12 min 05 s`` or ``42 s``."""
    s = max(0, round(seconds))
    hours, rest = divmod(s, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def decide_release(
    vehicle: str,
    contacts: Sequence[Contact],
    now: float,
    *,
    preferred: str | None = None,
    carrier: str | None = None,
    next_aos: NextAos | None = None,
) -> ReleaseDecision:
    """Pick the station to send a command to ``vehicle`` through at ``now``, or say why not."""
    usable = [c for c in contacts if c.usable]
    if usable:
        by_id = {c.station: c for c in usable}
        if preferred is not None and preferred in by_id:
            chosen, why = by_id[preferred], "the preferred station"
        elif carrier is not None and carrier in by_id:
            chosen, why = by_id[carrier], f"the station carrying the {vehicle} link"
        else:
            chosen = max(usable, key=lambda c: (c.elevation_deg, c.station))
            why = f"the highest Moon elevation ({chosen.elevation_deg:.1f} deg)"
        note = ""
        if preferred is not None and chosen.station != preferred:
            note = f"; preferred station {preferred} cannot reach {vehicle} now"
        return ReleaseDecision(
            station=chosen.station,
            light_time_s=chosen.light_time_s,
            reason=f"via {chosen.station}, {why}{note}",
        )
    disagree = sorted(c.station for c in contacts if c.predicted and c.monitor_in_view is False)
    reason = f"no station in view of {vehicle}"
    if disagree:
        reason += f" (predicted in view but out of contact by its monitor: {', '.join(disagree)})"
    if next_aos is not None:
        reason += (
            f"; next AOS {next_aos.station} at {iso(next_aos.time)}"
            f" (in {duration_text(next_aos.time - now)} mission time)"
        )
    else:
        reason += "; no AOS predicted in the look-ahead window"
    return ReleaseDecision(station=None, light_time_s=None, reason=reason, next_aos=next_aos)


class CommandQueue:
    """Commands waiting for release, first in first out (one order for all vehicles)."""

    def __init__(self) -> None:
        self._pending: dict[str, TrackedCommand] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def __iter__(self) -> Iterator[TrackedCommand]:
        return iter(list(self._pending.values()))

    def __contains__(self, command_id: object) -> bool:
        return command_id in self._pending

    def add(self, cmd: TrackedCommand) -> None:
        self._pending[cmd.id] = cmd

    def remove(self, command_id: str) -> TrackedCommand | None:
        return self._pending.pop(command_id, None)

    def pending(self, vehicle: str | None = None) -> list[TrackedCommand]:
        return [c for c in self._pending.values() if vehicle is None or c.vehicle == vehicle]

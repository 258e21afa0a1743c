"""Ground-station links: the station monitor topic plus what ingest counts per station.

``lupex/v1/link/{station}`` carries retained JSON monitor data (visibility, elevations, Eb/N0 per
spacecraft, light time, lock per spacecraft). Ingest adds its own per-station counters: frames
received, frames rejected, frame gaps, duplicates, and the last frame's reception time. The table
keeps one :class:`~ground.model.LinkView` per station and reports the stations that changed.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from ground.model import LinkView
from mission.sim_control import StationMonitorMessage


def _float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _float_map(value: Any) -> dict[str, float]:
    if isinstance(value, dict):
        return {str(k): f for k, v in value.items() if (f := _float(v)) is not None}
    return {}


def _bool_map(value: Any) -> dict[str, bool]:
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items() if isinstance(v, bool)}
    return {}


def parse_link_monitor(payload: bytes | str) -> dict[str, Any]:
    """The LinkView fields of a station monitor message; ``ValueError`` if it is not JSON.

    The simulator's :class:`mission.sim_control.StationMonitorMessage` is read field by field
    (Eb/N0 and frame lock per spacecraft); other JSON objects are read leniently by LinkView's
    own field names.
    """
    try:
        message = StationMonitorMessage.model_validate_json(payload)
    except ValidationError:
        pass
    else:
        return {
            "in_view": message.in_view,
            "moon_elevation_deg": message.moon_elevation_deg,
            "earth_elevation_at_site_deg": message.earth_elevation_site_deg,
            "light_time_s": message.light_time_s,
            "ebn0_db": {
                name: link.ebn0_db
                for name, link in message.spacecraft.items()
                if link.ebn0_db is not None and math.isfinite(link.ebn0_db)
            },
            "locked": {name: link.frame_lock for name, link in message.spacecraft.items()},
            "monitor_time": message.time,
        }
    try:
        data = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"link monitor data is not JSON: {exc}"
        raise ValueError(msg) from None
    if not isinstance(data, dict):
        msg = "link monitor data is not a JSON object"
        raise ValueError(msg)
    fields: dict[str, Any] = {}
    if isinstance(data.get("in_view"), bool):
        fields["in_view"] = data["in_view"]
    for key in ("moon_elevation_deg", "earth_elevation_at_site_deg", "light_time_s"):
        if (value := _float(data.get(key))) is not None:
            fields[key] = value
    if "ebn0_db" in data:
        fields["ebn0_db"] = _float_map(data["ebn0_db"])
    if "locked" in data:
        fields["locked"] = _bool_map(data["locked"])
    for key in ("time", "monitor_time", "generation_time"):
        if (value := _float(data.get(key))) is not None:
            fields["monitor_time"] = value
            break
    return fields


@dataclass(slots=True)
class _Counts:
    frames_received: int = 0
    frames_bad: int = 0
    frame_gaps: int = 0
    duplicates: int = 0
    last_frame_time: float | None = None


class LinkTable:
    """Station → :class:`LinkView` (``all()``, ``get(station)``), thread-safe to read."""

    def __init__(self) -> None:
        self._links: dict[str, LinkView] = {}
        self._dirty: set[str] = set()
        self._lock = threading.Lock()

    def all(self) -> list[LinkView]:
        """Every known station's link, sorted by station."""
        with self._lock:
            return [self._links[k] for k in sorted(self._links)]

    def get(self, station: str) -> LinkView | None:
        """One station's link, or ``None`` if nothing was heard from it."""
        return self._links.get(station)

    def on_monitor(self, station: str, payload: bytes | str, reception_time: float) -> LinkView:
        """Apply a station monitor message (``ValueError`` if it is not valid JSON)."""
        fields = parse_link_monitor(payload)
        fields.setdefault("monitor_time", reception_time)
        with self._lock:
            view = replace(self._links.get(station) or LinkView(station), **fields)
            self._links[station] = view
            self._dirty.add(station)
        return view

    def add_counts(
        self,
        station: str,
        *,
        frames: int = 0,
        bad: int = 0,
        gaps: int = 0,
        duplicates: int = 0,
        last_frame_time: float | None = None,
    ) -> None:
        """Add ingest counts of one batch for one station."""
        if not (frames or bad or gaps or duplicates or last_frame_time is not None):
            return
        with self._lock:
            view = self._links.get(station) or LinkView(station)
            self._links[station] = replace(
                view,
                frames_received=view.frames_received + frames,
                frames_bad=view.frames_bad + bad,
                frame_gaps=view.frame_gaps + gaps,
                duplicates=view.duplicates + duplicates,
                last_frame_time=(
                    last_frame_time if last_frame_time is not None else view.last_frame_time
                ),
            )
            self._dirty.add(station)

    def drain_changed(self) -> list[LinkView]:
        """The links that changed since the last call (for the live sink)."""
        with self._lock:
            changed = [self._links[s] for s in sorted(self._dirty)]
            self._dirty.clear()
        return changed

    def counts(self) -> dict[str, dict[str, int]]:
        """Per-station ingest counts, JSON-able."""
        with self._lock:
            return {
                s: {
                    "frames_received": v.frames_received,
                    "frames_bad": v.frames_bad,
                    "frame_gaps": v.frame_gaps,
                    "duplicates": v.duplicates,
                }
                for s, v in sorted(self._links.items())
            }

    def restore_counts(self, counts: Mapping[str, Mapping[str, int]]) -> None:
        """Reload per-station counts saved with the archive state."""
        with self._lock:
            for station, c in counts.items():
                view = self._links.get(station) or LinkView(station)
                self._links[station] = replace(
                    view,
                    frames_received=int(c.get("frames_received", 0)),
                    frames_bad=int(c.get("frames_bad", 0)),
                    frame_gaps=int(c.get("frame_gaps", 0)),
                    duplicates=int(c.get("duplicates", 0)),
                )

    def stations(self) -> Iterable[str]:
        return list(self._links)

"""Checking the catalogue's expected effects (mission.faults.Expectation) on probe data."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from mission.faults import Change, EffectKind, Expectation
from spacecraft_mock.world import World
from tests.spacecraft_mock.probe import GroundProbe

MARGIN_S: Final = 3.0
"""Reception lags generation by the light time (about 1.3 s) plus framing (up to 1 s)."""


@dataclass(frozen=True, slots=True)
class Window:
    start: float
    """When the fault was injected (or cleared)."""
    station: str | None
    """The station the fault concerns (its own, or the prime one at the start)."""
    spacecraft: str


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b) and isinstance(a, bool) == isinstance(b, bool)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))
    return str(a) == str(b)


def _compare(change: Change, value: Any, expected: Any, baseline: Any) -> bool:
    if change is Change.EQUALS:
        return _equal(value, expected)
    if change is Change.NOT_EQUALS:
        return not _equal(value, expected)
    v, e = _number(value), _number(expected)
    if change is Change.ABOVE:
        return v > e
    if change is Change.BELOW:
        return v < e
    b = _number(baseline)
    if change is Change.INCREASE:
        return v >= b + e
    if change is Change.DECREASE:
        return v <= b - e
    return False


def check(
    exp: Expectation, probe: GroundProbe, world: World, window: Window, end: float
) -> str | None:
    """None when the expectation holds between ``window.start`` and its deadline, else why not."""
    deadline = window.start + exp.within_s + MARGIN_S
    kind = exp.kind
    if kind is EffectKind.PARAMETER:
        return _parameter(exp, probe, window, deadline, end)
    if kind is EffectKind.EVENT:
        if probe.event_times(exp.name, window.start, deadline):
            return None
        return f"event {exp.name} not received by +{exp.within_s:g} s"
    if kind is EffectKind.LINK:
        return _link(exp, probe, window, deadline)
    if kind is EffectKind.STATUS:
        return _status(exp, world, window)
    return _frames(exp, probe, window, deadline, end)


def _parameter(
    exp: Expectation, probe: GroundProbe, window: Window, deadline: float, end: float
) -> str | None:
    baseline = probe.last_value(exp.name, window.start)
    if exp.change is Change.STUCK:
        later = probe.samples(exp.name, deadline, end)
        if len(later) >= 2 and all(_equal(s.value, exp.value) for s in later):
            return None
        return f"{exp.name} not stuck at {exp.value}: {[s.value for s in later][:5]}"
    samples = probe.samples(exp.name, window.start, deadline)
    if any(_compare(exp.change, s.value, exp.value, baseline) for s in samples):
        return None
    seen = [s.value for s in samples][-5:]
    return f"{exp.name} {exp.change.value} {exp.value} (baseline {baseline}) not seen: {seen}"


def _link(exp: Expectation, probe: GroundProbe, window: Window, deadline: float) -> str | None:
    station = window.station
    if station is None:
        return "no station to check"
    records = [r for r in probe.monitors.get(station, []) if window.start <= r.time <= deadline]
    before = [r for r in probe.monitors.get(station, []) if r.time <= window.start]

    def field(record: Any) -> Any:
        if exp.name == "ebn0_db":
            return record.spacecraft[window.spacecraft].ebn0_db
        return getattr(record, exp.name)

    baseline = field(before[-1]) if before else None
    if any(_compare(exp.change, field(r), exp.value, baseline) for r in records):
        return None
    return f"link {station} {exp.name} {exp.change.value} {exp.value} not seen"


def _status(exp: Expectation, world: World, window: Window) -> str | None:
    value = world.obsw[window.spacecraft].farm.frames_rejected
    if exp.change is Change.INCREASE and value > 0:
        return None
    if exp.change is Change.STUCK:
        return None
    return f"status {exp.name} = {value}"


def _frames(
    exp: Expectation, probe: GroundProbe, window: Window, deadline: float, end: float
) -> str | None:
    name, start = exp.name, window.start
    if name == "corrupted":
        hit = [t for t, sc in probe.corrupted if start <= t <= deadline]
    elif name == "lost":
        hit = [t for t, sc, n in probe.gaps if start <= t <= deadline]
        if exp.change is Change.STUCK:
            late = [t for t, sc, n in probe.gaps if start + 15.0 <= t <= end]
            return None if not late else f"frames still lost after clearing: {len(late)}"
    elif name == "station_silent":
        silent = [f[0] for f in probe.frames if f[1] == window.station and deadline <= f[0] <= end]
        return None if not silent else f"{len(silent)} frames still arrive via {window.station}"
    elif name in ("none", "lander_silent"):
        arriving = [
            f[0] for f in probe.frames
            if deadline <= f[0] <= end and (name == "none" or f[2] == "lander")
        ]  # fmt: skip
        return None if not arriving else f"{len(arriving)} frames still arrive"
    elif name == "playback":
        hit = [f[0] for f in probe.frames if f[3] == 2 and start <= f[0] <= deadline]
    elif name == "counter_reset":
        hit = [t for t, sc in probe.resets if start <= t <= deadline]
    else:
        return f"unknown frames expectation {name}"
    return None if hit else f"no {name} frames by +{exp.within_s:g} s"

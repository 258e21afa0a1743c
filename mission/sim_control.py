"""JSON messages of the simulation's control plane (pure data, no I/O).

- ``lupex/v1/sim/control`` carries a :data:`SimControl` message: inject or clear a fault, clear all,
  start or stop a scenario, set the speed, pause or resume. Parse one with :func:`parse_control`.
- ``lupex/v1/sim/status`` carries a retained :class:`SimStatus`: clocks, speed, seed, the active
  faults, the running scenario with its progress and timeline, each vehicle's mode, and the
  outcome of the last control message (matched by ``request_id``).
- ``lupex/v1/link/{station}`` carries a retained :class:`StationMonitorMessage` (station monitor
  data of the simulated ground station).

Times are float seconds since the Unix epoch (UTC); ``*_iso`` fields repeat them for people.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

__all__ = [
    "ActiveFault",
    "ClearAll",
    "ClearFault",
    "ControlAck",
    "InjectFault",
    "Pause",
    "Resume",
    "ScenarioStatus",
    "SetSpeed",
    "SimControl",
    "SimStatus",
    "SpacecraftLinkStatus",
    "StartScenario",
    "StationMonitorMessage",
    "StopScenario",
    "TimelineEntry",
    "VehicleStatus",
    "parse_control",
]

MIN_SPEED = 0.1
MAX_SPEED = 1000.0
FaultParams = dict[str, float | int | str | bool]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str | None = Field(default=None, max_length=64)
    """Echoed in ``SimStatus.last_control`` so the sender can see the outcome."""


class InjectFault(_Message):
    action: Literal["inject_fault"] = "inject_fault"
    fault: str = Field(min_length=1, max_length=64)
    params: FaultParams = Field(default_factory=dict)
    duration_s: float | None = Field(default=None, gt=0, le=30 * 86400)
    """None: the fault's default duration from the catalogue (which may be 'until cleared')."""
    until_cleared: bool = False
    """True: ignore any duration; the fault stays until a clear."""


class ClearFault(_Message):
    action: Literal["clear_fault"] = "clear_fault"
    fault: str = Field(min_length=1, max_length=64)
    """A fault id (clears every instance of it) or an instance id (``<fault>#<n>``)."""


class ClearAll(_Message):
    action: Literal["clear_all"] = "clear_all"


class StartScenario(_Message):
    action: Literal["start_scenario"] = "start_scenario"
    scenario: str = Field(min_length=1, max_length=64)


class StopScenario(_Message):
    action: Literal["stop_scenario"] = "stop_scenario"
    clear_faults: bool = True


class SetSpeed(_Message):
    action: Literal["set_speed"] = "set_speed"
    speed: float = Field(ge=MIN_SPEED, le=MAX_SPEED)


class Pause(_Message):
    action: Literal["pause"] = "pause"


class Resume(_Message):
    action: Literal["resume"] = "resume"


SimControl = Annotated[
    InjectFault | ClearFault | ClearAll | StartScenario | StopScenario | SetSpeed | Pause | Resume,
    Field(discriminator="action"),
]
_CONTROL: TypeAdapter[SimControl] = TypeAdapter(SimControl)


def parse_control(payload: bytes | str) -> SimControl:
    """Validate a control message (raises ``pydantic.ValidationError`` naming the field)."""
    return _CONTROL.validate_json(payload)


def control_json(message: SimControl) -> str:
    """The JSON of a control message, as published on ``lupex/v1/sim/control``."""
    return _CONTROL.dump_json(message, exclude_none=True).decode()


# ---------------------------------------------------------------------------------- status
class _Status(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActiveFault(_Status):
    instance_id: str
    fault: str
    title: str
    params: FaultParams
    start: float
    end: float | None
    """None: until cleared."""
    source: Literal["manual", "scenario"]
    ended: bool = False
    """Over (cleared or expired at ``end``); only in ``SimStatus.recent_faults``."""


class TimelineEntry(_Status):
    offset_s: float
    fault: str
    params: FaultParams
    duration_s: float | None
    start: float
    end: float | None
    state: Literal["pending", "active", "done"]


class ScenarioStatus(_Status):
    name: str
    title: str
    state: Literal["running", "finished", "stopped"]
    started_at: float
    ends_at: float
    elapsed_s: float
    duration_s: float
    progress: float = Field(ge=0.0, le=1.0)
    timeline: list[TimelineEntry]


class VehicleStatus(_Status):
    mode: str
    link_path: str | None
    """hga, relay, lga or None (no path to Earth now)."""
    storage_fill_pct: float
    tc_frames_rejected: int


class ControlAck(_Status):
    request_id: str | None
    action: str
    accepted: bool
    reason: str = ""
    time: float


class SimStatus(_Status):
    version: Literal[1] = 1
    mission_time: float
    mission_time_iso: str
    wall_time: float
    epoch: float
    speed: float
    paused: bool
    seed: int
    lag_s: float
    """How far the simulation is behind where the speed factor says it should be."""
    prime_station: str | None
    active_faults: list[ActiveFault]
    recent_faults: list[ActiveFault] = Field(default_factory=list)
    """The latest fault instances, active or ended (a bounded history), so that a receiver who
    missed the statuses in between still sees every injection and every clearing."""
    scenario: ScenarioStatus | None
    vehicles: dict[str, VehicleStatus]
    last_control: ControlAck | None = None
    running: bool = True
    """False in the last status of a run (the simulator stopped)."""


class SpacecraftLinkStatus(_Status):
    ebn0_db: float | None
    carrier_lock: bool
    bit_lock: bool
    frame_lock: bool
    data_rate_bps: int
    path: str | None
    prime: bool


class StationMonitorMessage(_Status):
    station: str
    time: float
    time_iso: str
    in_view: bool
    outage: bool
    moon_elevation_deg: float
    moon_azimuth_deg: float
    earth_elevation_site_deg: float
    range_km: float
    light_time_s: float
    prime: bool
    spacecraft: dict[str, SpacecraftLinkStatus]
    uplink_frames: int
    uplink_lost: int

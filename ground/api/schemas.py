"""Pydantic response and request models of the REST API (``/api/v1``), each with an example.

Times are float seconds since the Unix epoch (UTC), as everywhere in the code base; query
parameters accept ISO 8601 too. Field names follow Yamcs's ``ParameterValue``.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

Scalar = float | int | str | bool | None
MonitoringLiteral = Literal["in_limits", "watch", "critical", "disabled"]
AlarmStateLiteral = Literal["raised", "acknowledged", "cleared"]
SeverityLiteral = Literal["info", "low", "medium", "high"]
RoleLiteral = Literal["viewer", "operator", "instructor"]

T0 = 1767225600.0  # 2026-01-01T00:00:00Z, the examples' epoch


def _example(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


# ------------------------------------------------------------------------------------------ errors
class ErrorMessage(BaseModel):
    """An error: what went wrong, in words (401, 403, 404, 500)."""

    model_config = _example({"detail": "unknown parameter 'rover.power.nope'"})
    detail: str = Field(description="What went wrong and, where it helps, what would be accepted.")


# ------------------------------------------------------------------------------------- parameters
EX_VALUE: Final[dict[str, Any]] = {
    "name": "rover.power.battery_soc",
    "generation_time": T0,
    "reception_time": T0 + 1.281,
    "raw_value": 2871,
    "eng_value": 87.6,
    "monitoring_result": "in_limits",
    "stale": False,
}


class ParameterValueOut(BaseModel):
    """The value of one parameter at one time (Yamcs ``ParameterValue`` names)."""

    model_config = _example(EX_VALUE)
    name: str = Field(description="Parameter name, <vehicle>.<subsystem>.<name>.")
    generation_time: float = Field(description="On-board time of the sample (Unix seconds, UTC).")
    reception_time: float = Field(description="Ground reception time (Unix seconds, UTC).")
    raw_value: Scalar = Field(description="The value as sent, before calibration.")
    eng_value: Scalar = Field(description="Calibrated engineering value (a label for enums).")
    monitoring_result: MonitoringLiteral = Field(
        description="Limit check: in_limits, watch (yellow), critical (red), or disabled."
    )
    stale: bool = Field(False, description="True when the parameter stopped arriving.")


class LatestResponse(BaseModel):
    """Latest values of the requested parameters; ``missing`` lists those never received."""

    model_config = _example(
        {
            "values": [EX_VALUE],
            "missing": ["rover.drill.depth"],
        }
    )
    values: list[ParameterValueOut] = Field(description="One value per parameter, by name.")
    missing: list[str] = Field(description="Requested parameters with no value received yet.")


EX_BUCKET: Final[dict[str, Any]] = {
    "start": T0,
    "end": T0 + 86.4,
    "count": 864,
    "min": 85.1,
    "max": 88.0,
    "mean": 86.7,
}


class BucketOut(BaseModel):
    """Statistics of a parameter's engineering values in [start, end)."""

    model_config = _example(EX_BUCKET)
    start: float = Field(description="Start of the bucket (inclusive, Unix seconds).")
    end: float = Field(description="End of the bucket (exclusive, Unix seconds).")
    count: int = Field(description="Samples in the bucket (≥ 1; empty buckets are left out).")
    min: float = Field(description="Smallest engineering value.")
    max: float = Field(description="Largest engineering value.")
    mean: float = Field(description="Mean engineering value.")


class HistoryResponse(BaseModel):
    """A parameter's history in equal time buckets (min, max, mean, count per bucket)."""

    model_config = _example(
        {
            "name": "rover.power.battery_soc",
            "units": "%",
            "start": T0,
            "end": T0 + 86400,
            "buckets_requested": 1000,
            "buckets": [EX_BUCKET],
        }
    )
    name: str = Field(description="Parameter name.")
    units: str = Field(description="Engineering units ('' when none).")
    start: float = Field(description="Start of the window (Unix seconds).")
    end: float = Field(description="End of the window (Unix seconds).")
    buckets_requested: int = Field(description="Number of equal slices of the window.")
    buckets: list[BucketOut] = Field(description="Non-empty buckets, in time order.")


EX_SAMPLE: Final[dict[str, Any]] = {
    "generation_time": T0,
    "reception_time": T0 + 1.28,
    "raw_value": 2871,
    "eng_value": 87.6,
}


class SampleOut(BaseModel):
    """One archived sample."""

    model_config = _example(EX_SAMPLE)
    generation_time: float = Field(description="On-board time (Unix seconds).")
    reception_time: float = Field(description="Ground reception time (Unix seconds).")
    raw_value: Scalar = Field(description="Raw value.")
    eng_value: Scalar = Field(description="Engineering value (a label for enums).")


class SamplesResponse(BaseModel):
    """Raw archived samples of one parameter, oldest first."""

    model_config = _example(
        {
            "name": "rover.power.battery_soc",
            "start": T0,
            "end": T0 + 60,
            "limit": 10000,
            "truncated": False,
            "samples": [EX_SAMPLE],
        }
    )
    name: str = Field(description="Parameter name.")
    start: float = Field(description="Start of the window (Unix seconds).")
    end: float = Field(description="End of the window (Unix seconds).")
    limit: int = Field(description="Most samples returned.")
    truncated: bool = Field(description="True when the window holds more than ``limit`` samples.")
    samples: list[SampleOut] = Field(description="Samples by generation time.")


# ------------------------------------------------------------------------------------------ events
class EventOut(BaseModel):
    """An on-board event (PUS service 5) or a ground event."""

    model_config = _example(
        {
            "generation_time": T0,
            "reception_time": T0 + 1.3,
            "spacecraft": "rover",
            "event_id": 4097,
            "name": "rover.power.battery_low",
            "severity": "medium",
            "message": "Battery state of charge low: 19.5 %",
            "args": {"soc": 19.5},
        }
    )
    generation_time: float = Field(description="On-board time (Unix seconds).")
    reception_time: float = Field(description="Ground reception time (Unix seconds).")
    spacecraft: str = Field(description="rover or lander (or ground).")
    event_id: int = Field(description="Event id of the mission database.")
    name: str = Field(description="Event name.")
    severity: str = Field(description="info, low, medium or high.")
    message: str = Field(description="Rendered message.")
    args: dict[str, Any] = Field(description="The event's arguments.")


# ------------------------------------------------------------------------------------------ alarms
EX_ALARM: Final[dict[str, Any]] = {
    "id": "rover.thermal.battery_temperature@1767225600000",
    "parameter": "rover.thermal.battery_temperature",
    "spacecraft": "rover",
    "level": "red",
    "current_level": "yellow",
    "state": "raised",
    "trigger_time": T0,
    "trigger_value": 41.0,
    "most_severe_time": T0 + 30,
    "most_severe_value": 47.5,
    "last_value": 43.2,
    "last_time": T0 + 60,
    "acknowledged_by": None,
    "acknowledged_at": None,
    "cleared_at": None,
    "in_limits": False,
    "message": "battery_temperature above the red high limit 45 °C",
}


class AlarmOut(BaseModel):
    """An alarm and its lifecycle: raised → (acknowledged) → cleared once back in limits."""

    model_config = _example(EX_ALARM)
    id: str = Field(description="Alarm id (parameter@trigger time in ms).")
    parameter: str = Field(description="Parameter in alarm.")
    spacecraft: str = Field(description="Vehicle of the parameter.")
    level: str = Field(description="Most severe level since the last acknowledgement (yellow/red).")
    current_level: str = Field(description="Level of the last value: yellow, red or ok.")
    state: AlarmStateLiteral = Field(description="raised, acknowledged or cleared.")
    trigger_time: float = Field(description="When the alarm was raised (Unix seconds).")
    trigger_value: Scalar = Field(description="The value that raised it.")
    most_severe_time: float = Field(description="When the most severe value was seen.")
    most_severe_value: Scalar = Field(description="The most severe value seen.")
    last_value: Scalar = Field(description="The last value received.")
    last_time: float = Field(description="Generation time of the last value.")
    acknowledged_by: str | None = Field(description="Who acknowledged it.")
    acknowledged_at: float | None = Field(description="When it was acknowledged.")
    cleared_at: float | None = Field(description="When it cleared.")
    in_limits: bool = Field(description="Whether the last value is back in limits.")
    message: str = Field(description="A human-readable summary.")


class AcknowledgeRequest(BaseModel):
    """Acknowledge an alarm, optionally with a comment for the log."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"comment": "Heater cycling, watching it"}]},
    )
    comment: str | None = Field(
        None, max_length=500, description="Why, or what is being done about it (≤ 500 characters)."
    )


class AcknowledgeResponse(BaseModel):
    """The alarm after the acknowledgement."""

    model_config = _example(
        {
            "alarm": EX_ALARM
            | {"state": "acknowledged", "acknowledged_by": "alice", "acknowledged_at": T0 + 90},
            "acknowledged_by": "alice",
            "comment": "Heater cycling, watching it",
        }
    )
    alarm: AlarmOut = Field(description="The alarm as it is now.")
    acknowledged_by: str = Field(description="Name of the token that acknowledged.")
    comment: str | None = Field(description="The comment given.")


# ------------------------------------------------------------------------------------------- links
class LinkOut(BaseModel):
    """State of one ground station's link."""

    model_config = _example(
        {
            "station": "dss43",
            "in_view": True,
            "moon_elevation_deg": 42.1,
            "earth_elevation_at_site_deg": 3.2,
            "ebn0_db": {"rover": 6.3, "lander": 9.8},
            "light_time_s": 1.281,
            "locked": {"rover": True, "lander": True},
            "frames_received": 120345,
            "frames_bad": 12,
            "frame_gaps": 3,
            "duplicates": 0,
            "last_frame_time": T0,
            "monitor_time": T0,
        }
    )
    station: str = Field(description="Station id.")
    in_view: bool | None = Field(description="Whether the station sees the Moon and the site.")
    moon_elevation_deg: float | None = Field(description="Moon elevation at the station.")
    earth_elevation_at_site_deg: float | None = Field(
        description="Earth elevation at the landing site."
    )
    ebn0_db: dict[str, float | None] = Field(description="Eb/N0 per spacecraft (dB).")
    light_time_s: float | None = Field(description="One-way light time (s).")
    locked: dict[str, bool] = Field(description="Receiver lock per spacecraft.")
    frames_received: int = Field(description="Frames received through this station.")
    frames_bad: int = Field(description="Frames that failed their checks.")
    frame_gaps: int = Field(description="Gaps in frame counts.")
    duplicates: int = Field(description="Redelivered frames dropped.")
    last_frame_time: float | None = Field(description="Reception time of the last frame.")
    monitor_time: float | None = Field(description="Time of the last station monitor message.")


class CountersOut(BaseModel):
    """Ingest totals: frames, packets, samples, errors by reason, per link, VC and APID."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "frames": 120360,
                    "frames_accepted": 120345,
                    "packets": 480112,
                    "samples": 9602240,
                    "events": 41,
                    "duplicates": 2,
                    "frame_gaps": 3,
                    "quarantined": 13,
                    "errors_total": 13,
                    "errors": {"bad_crc": 12, "unknown_scid": 1},
                    "per_station": {"dss43": 120360},
                    "per_vc": {"rover/0": 60000},
                    "per_apid": {"258": 240000},
                }
            ]
        },
    )
    frames: int = Field(0, description="TM frames received.")
    frames_accepted: int = Field(0, description="Frames that passed every check.")
    packets: int = Field(0, description="Packets decoded.")
    samples: int = Field(0, description="Parameter samples decoded.")
    events: int = Field(0, description="Events received.")
    duplicates: int = Field(0, description="Redelivered frames dropped.")
    frame_gaps: int = Field(0, description="Gaps in frame counts.")
    quarantined: int = Field(0, description="Messages kept in quarantine.")
    errors_total: int = Field(0, description="Malformed inputs, all reasons.")
    errors: dict[str, int] = Field(default_factory=dict, description="Malformed inputs by reason.")


# -------------------------------------------------------------------------------------- quarantine
class QuarantineEntry(BaseModel):
    """A message ingest could not use, kept with the reason."""

    model_config = _example(
        {
            "reception_time": T0,
            "topic": "lupex/v1/downlink/dss43/rover",
            "reason": "bad_crc",
            "detail": "tm_frame CRC 0x1a2b expected, 0x3c4d computed",
            "size": 1115,
            "payload_hex": "01e1000000001800",
        }
    )
    reception_time: float = Field(description="When it arrived (Unix seconds).")
    topic: str = Field(description="MQTT topic it arrived on.")
    reason: str = Field(description="Machine-readable reason (ProtocolError.reason).")
    detail: str = Field(description="What was wrong, with the numbers.")
    size: int = Field(description="Payload length in octets.")
    payload_hex: str = Field(description="The first 64 octets of the payload, in hex.")


class QuarantineSummary(BaseModel):
    """How many messages were quarantined, by reason."""

    model_config = _example({"total": 13, "by_reason": {"bad_crc": 12, "unknown_scid": 1}})
    total: int = Field(description="All quarantined messages.")
    by_reason: dict[str, int] = Field(description="Count per reason.")


# ----------------------------------------------------------------------------------------- health
class HealthOut(BaseModel):
    """Liveness: ok while the background services run."""

    model_config = _example({"status": "ok", "version": "0.1.0"})
    status: Literal["ok", "failing"] = Field(description="ok, or failing once a service died.")
    version: str = Field(description="Version of the ground service.")


class ComponentHealth(BaseModel):
    """State of one part of the service."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{"status": "ok", "detail": "connected"}]},
    )
    status: str = Field(description="ok, degraded, failing, starting or stopped.")
    detail: str = Field("", description="A few words on the state.")


class HealthDetails(BaseModel):
    """Readiness details: ingest, archive, broker and stream."""

    model_config = _example(
        {
            "status": "ok",
            "version": "0.1.0",
            "uptime_s": 3600.5,
            "ingest": {"status": "ok", "detail": "running", "queue": 0},
            "archive": {"status": "ok", "detail": "sqlite:///var/lupex/archive.db"},
            "broker": {"status": "ok", "detail": "mqtt://ground:***@127.0.0.1:1883"},
            "stream": {"status": "ok", "detail": "2 clients", "clients": 2},
            "services": {"ingest": "running", "stream-gauges": "running"},
        }
    )
    status: Literal["ok", "degraded", "failing"] = Field(description="Worst of the components.")
    version: str = Field(description="Version of the ground service.")
    uptime_s: float = Field(description="Seconds since start.")
    ingest: ComponentHealth = Field(description="The MQTT ingest pipeline.")
    archive: ComponentHealth = Field(description="The archive database.")
    broker: ComponentHealth = Field(description="The MQTT broker connection.")
    stream: ComponentHealth = Field(description="The WebSocket hub.")
    services: dict[str, str] = Field(description="Background task → running, stopped or failed.")


class ClockOut(BaseModel):
    """The mission clock as the ground sees it."""

    model_config = _example(
        {"mission_time": T0 + 12.5, "wall_time": T0 + 0.3, "speed": 20.0, "from_sim_status": True}
    )
    mission_time: float = Field(description="Mission time now (Unix seconds).")
    wall_time: float = Field(description="Wall clock now (Unix seconds).")
    speed: float = Field(description="Speed factor (0 while the simulation is paused).")
    from_sim_status: bool = Field(description="True when the simulator's status sets the clock.")


# -------------------------------------------------------------------------------- mission database
EX_LIMITS: Final[dict[str, Any]] = {
    "yellow_low": 18.0,
    "yellow_high": None,
    "red_low": 10.0,
    "red_high": None,
}


class LimitsOut(BaseModel):
    """Numeric limits: out of limits strictly below a low or above a high limit."""

    model_config = _example(EX_LIMITS)
    yellow_low: float | None = Field(None, description="Yellow (watch) low limit.")
    yellow_high: float | None = Field(None, description="Yellow (watch) high limit.")
    red_low: float | None = Field(None, description="Red (critical) low limit.")
    red_high: float | None = Field(None, description="Red (critical) high limit.")


class ParameterInfo(BaseModel):
    """A parameter of the mission database."""

    model_config = _example(
        {
            "name": "rover.power.battery_soc",
            "vehicle": "rover",
            "subsystem": "power",
            "description": "Battery state of charge.",
            "type": "float",
            "units": "%",
            "encoding": "uint16",
            "polynomial": [0.0, 0.01],
            "enumeration": None,
            "limits": EX_LIMITS,
            "state_alarms": {},
            "packet": "rover.hk.power",
            "period_s": 2.0,
        }
    )
    name: str = Field(description="<vehicle>.<subsystem>.<name>.")
    vehicle: str = Field(description="rover or lander.")
    subsystem: str = Field(description="Subsystem (power, thermal, ...).")
    description: str = Field(description="What it measures.")
    type: str = Field(description="Engineering type: float, int, enum or bool.")
    units: str = Field(description="Engineering units.")
    encoding: str = Field(description="Raw encoding (uint16, float32, ...), big-endian.")
    polynomial: list[float] | None = Field(description="Calibration raw → eng, Σ cᵢ·rawⁱ.")
    enumeration: dict[str, str] | None = Field(description="Raw code → label, for enums.")
    limits: LimitsOut | None = Field(description="Numeric limits, if any.")
    state_alarms: dict[str, str] = Field(description="Enum label (or true/false) → alarm level.")
    packet: str | None = Field(description="The packet that carries it.")
    period_s: float | None = Field(description="Expected update period (s).")


class PacketInfo(BaseModel):
    """A telemetry packet of the mission database."""

    model_config = _example(
        {
            "name": "rover.hk.power",
            "vehicle": "rover",
            "description": "Rover power housekeeping.",
            "apid": 258,
            "service": 3,
            "subtype": 25,
            "sid": 102,
            "vcid": 0,
            "period_s": 2.0,
            "parameters": ["rover.power.battery_voltage", "rover.power.battery_soc"],
        }
    )
    name: str = Field(description="Packet name.")
    vehicle: str = Field(description="rover or lander.")
    description: str = Field(description="What it carries.")
    apid: int = Field(description="Application process id.")
    service: int = Field(description="PUS service type.")
    subtype: int = Field(description="PUS service subtype.")
    sid: int = Field(description="Structure id (first two octets of the source data).")
    vcid: int = Field(description="Virtual channel it is sent on.")
    period_s: float = Field(description="Default generation period (s).")
    parameters: list[str] = Field(description="Parameters in order of the layout.")


EX_ARGUMENT: Final[dict[str, Any]] = {
    "name": "distance",
    "description": "Distance to drive; negative reverses (at most 20 m)",
    "type": "float",
    "units": "m",
    "encoding": "float32",
    "min": -20.0,
    "max": 100.0,
    "enumeration": None,
    "default": None,
}


class ArgumentInfo(BaseModel):
    """An argument of a command or an event."""

    model_config = _example(EX_ARGUMENT)
    name: str = Field(description="Argument name.")
    description: str = Field(description="What it sets.")
    type: str = Field(description="float, int, enum or bool.")
    units: str = Field(description="Units.")
    encoding: str = Field(description="Raw encoding.")
    min: float | None = Field(description="Smallest allowed value.")
    max: float | None = Field(description="Largest allowed value.")
    enumeration: dict[str, str] | None = Field(description="Code → label, for enums.")
    default: Scalar = Field(description="Default when omitted (none: required).")


class CommandInfo(BaseModel):
    """A telecommand of the mission database."""

    model_config = _example(
        {
            "name": "rover.mobility.drive_distance",
            "vehicle": "rover",
            "description": "Drive straight ahead (or back, with a negative distance).",
            "apid": 258,
            "service": 8,
            "subtype": 1,
            "function_id": 257,
            "criticality": "normal",
            "execution_time_s": 21600.0,
            "arguments": [EX_ARGUMENT],
        }
    )
    name: str = Field(description="Command name.")
    vehicle: str = Field(description="rover or lander.")
    description: str = Field(description="What it does.")
    apid: int = Field(description="Destination APID.")
    service: int = Field(description="PUS service type.")
    subtype: int = Field(description="PUS service subtype.")
    function_id: int | None = Field(description="PUS 8,1 function id.")
    criticality: str = Field(description="normal, or critical (needs a confirmation).")
    execution_time_s: float = Field(description="Longest expected on-board execution time.")
    arguments: list[ArgumentInfo] = Field(description="Arguments in order.")


class EventInfo(BaseModel):
    """An event definition of the mission database."""

    model_config = _example(
        {
            "id": 4097,
            "name": "rover.power.battery_low",
            "vehicle": "rover",
            "description": "State of charge fell below 20 %.",
            "severity": "medium",
            "message": "Battery state of charge low: {soc:.1f} %",
            "arguments": [],
        }
    )
    id: int = Field(description="Event id.")
    name: str = Field(description="Event name.")
    vehicle: str = Field(description="rover or lander.")
    description: str = Field(description="When it is raised.")
    severity: SeverityLiteral = Field(description="info, low, medium or high.")
    message: str = Field(description="Message template.")
    arguments: list[ArgumentInfo] = Field(description="Arguments of the report.")


class StationInfo(BaseModel):
    """A ground station."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "id": "dss43",
                    "name": "NASA DSS-43 Canberra",
                    "agency": "NASA",
                    "dish_m": 70.0,
                    "lat_deg": -35.4024,
                    "lon_deg": 148.9813,
                    "alt_m": 689.0,
                    "elevation_mask_deg": 10.0,
                    "band": "X",
                    "uplink_mhz": [7145.0, 7235.0],
                    "downlink_mhz": [8400.0, 8500.0],
                    "g_over_t_dbk": 50.6,
                    "description": "Deep Space Network 70 m antenna, Australia.",
                }
            ]
        },
    )
    id: str = Field(description="Station id.")
    name: str = Field(description="Station name.")
    agency: str = Field(description="Operating agency.")
    dish_m: float = Field(description="Dish diameter (m).")
    lat_deg: float = Field(description="Geodetic latitude (°).")
    lon_deg: float = Field(description="Longitude (°, east positive).")
    alt_m: float = Field(description="Altitude (m).")
    elevation_mask_deg: float = Field(description="Lowest usable elevation (°).")
    band: str = Field(description="Radio band.")
    uplink_mhz: list[float] = Field(description="Uplink frequency range (MHz).")
    downlink_mhz: list[float] = Field(description="Downlink frequency range (MHz).")
    g_over_t_dbk: float = Field(description="Figure of merit (dB/K).")
    description: str = Field(description="Notes.")


class WhoAmI(BaseModel):
    """The caller's identity."""

    model_config = _example({"name": "alice", "role": "operator"})
    name: str = Field(description="Display name of the token.")
    role: RoleLiteral = Field(description="Role of the token.")

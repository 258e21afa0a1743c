"""A stub of the ground's REST API for the dashboard's unit tests (pure rendering logic).

``FakeGround`` answers the documented ``/api/v1`` shapes (those of ``ground.api.schemas``) from
small in-memory tables through ``httpx.MockTransport``, so the pages run with the real
``ApiClient`` and no network. It records every request, and can be told to refuse (401/403) or
to be unreachable, to check how the pages show errors.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote

import httpx

from dashboard.client import ApiClient
from dashboard.components import PageContext
from dashboard.live import LiveFeed

T0: Final = 1_767_225_600.0  # 2026-01-01T00:00:00Z
NOW: Final = T0 + 36_000.0


def _param(
    name: str, units: str, description: str, *, kind: str = "float", limits: Any = None
) -> dict[str, Any]:
    vehicle, subsystem, _ = name.split(".")
    return {
        "name": name,
        "vehicle": vehicle,
        "subsystem": subsystem,
        "description": description,
        "type": kind,
        "units": units,
        "encoding": "float32",
        "polynomial": None,
        "enumeration": None,
        "limits": limits,
        "state_alarms": {},
        "packet": f"{vehicle}.hk.{subsystem}",
        "period_s": 1.0,
    }


SOC_LIMITS: Final = {"yellow_low": 18.0, "yellow_high": None, "red_low": 10.0, "red_high": None}
TEMP_LIMITS: Final = {"yellow_low": 0.0, "yellow_high": 35.0, "red_low": -10.0, "red_high": 45.0}

PARAMETERS: Final = [
    _param("rover.power.battery_soc", "%", "Battery state of charge", limits=SOC_LIMITS),
    _param("rover.power.power_balance", "W", "Array power minus loads"),
    _param("rover.thermal.battery_temperature", "degC", "Battery temperature", limits=TEMP_LIMITS),
    _param("rover.thermal.avionics_temperature", "degC", "Avionics temperature"),
    _param("rover.obsw.mode", "", "On-board software mode", kind="enum"),
    _param("rover.mobility.est_position_x", "m", "Estimated position, east"),
    _param("rover.mobility.est_position_y", "m", "Estimated position, north"),
    _param("rover.mobility.est_heading", "deg", "Estimated heading"),
    _param("rover.navigation.est_sigma_x", "m", "1-sigma east"),
    _param("rover.navigation.est_sigma_y", "m", "1-sigma north"),
    _param("rover.drill.depth", "m", "Drill depth"),
    _param("rover.comms.earth_azimuth", "deg", "Earth azimuth"),
    _param("rover.comms.earth_elevation", "deg", "Earth elevation"),
    _param("lander.power.battery_soc", "%", "Battery state of charge", limits=SOC_LIMITS),
    _param("lander.power.power_balance", "W", "Array power minus loads"),
    _param("lander.thermal.battery_temperature", "degC", "Battery temperature"),
    _param("lander.thermal.avionics_temperature", "degC", "Avionics temperature"),
    _param("lander.obsw.mode", "", "On-board software mode", kind="enum"),
]

LATEST: Final[dict[str, Any]] = {
    "rover.power.battery_soc": 87.6,
    "rover.power.power_balance": 42.5,
    "rover.thermal.battery_temperature": 18.25,
    "rover.thermal.avionics_temperature": 21.0,
    "rover.obsw.mode": "NOMINAL",
    "rover.mobility.est_position_x": 40.0,
    "rover.mobility.est_position_y": 30.0,
    "rover.mobility.est_heading": 45.0,
    "rover.navigation.est_sigma_x": 1.5,
    "rover.navigation.est_sigma_y": 2.0,
    "rover.drill.depth": 0.0,
    "rover.comms.earth_azimuth": 120.0,
    "rover.comms.earth_elevation": 3.25,
    "lander.power.battery_soc": 91.0,
    "lander.power.power_balance": -12.0,
    "lander.thermal.battery_temperature": 15.5,
    "lander.thermal.avionics_temperature": 19.0,
    "lander.obsw.mode": "SURFACE",
}

COMMANDS: Final = [
    {
        "name": "rover.mobility.drive_distance",
        "vehicle": "rover",
        "description": "Drive straight ahead by a distance",
        "apid": 258,
        "service": 8,
        "subtype": 1,
        "function_id": 257,
        "criticality": "normal",
        "execution_time_s": 21600.0,
        "arguments": [
            {
                "name": "distance",
                "description": "Distance to drive",
                "type": "float",
                "units": "m",
                "encoding": "float32",
                "min": -20.0,
                "max": 100.0,
                "enumeration": None,
                "default": None,
            },
            {
                "name": "speed",
                "description": "Ground speed",
                "type": "float",
                "units": "m/s",
                "encoding": "float32",
                "min": 0.005,
                "max": 0.05,
                "enumeration": None,
                "default": 0.02,
            },
        ],
    },
    {
        "name": "rover.obsw.set_mode",
        "vehicle": "rover",
        "description": "Change the on-board mode",
        "apid": 258,
        "service": 8,
        "subtype": 1,
        "function_id": 1,
        "criticality": "critical",
        "execution_time_s": 5.0,
        "arguments": [
            {
                "name": "mode",
                "description": "New mode",
                "type": "enum",
                "units": "",
                "encoding": "uint8",
                "min": None,
                "max": None,
                "enumeration": {"0": "SAFE", "1": "NOMINAL", "2": "HIBERNATE"},
                "default": None,
            }
        ],
    },
    {
        "name": "lander.obsw.are_you_alive",
        "vehicle": "lander",
        "description": "PUS 17,1 connection test",
        "apid": 300,
        "service": 17,
        "subtype": 1,
        "function_id": None,
        "criticality": "normal",
        "execution_time_s": 1.0,
        "arguments": [],
    },
]


SCENARIOS: Final = [
    {
        "name": "heater_failure_at_dusk",
        "title": "Heater failure at dusk",
        "description": "The battery heater fails; then the Sun sets early.",
        "duration_s": 28800.0,
        "difficulty": 2,
        "faults": [
            {"at_s": 0, "fault": "heater_failed", "params": {"zone": "BATTERY"}},
            {"at_s": 120, "fault": "early_darkness", "params": {"horizon_raise_deg": 6.0}},
        ],
        "expected": [
            {"id": "battery_cold", "kind": "alarm", "target": "rover.thermal.battery_temperature",
             "level": "yellow", "opens_at_s": 0, "deadline_s": 21600,
             "description": "Battery below 5 degC"},
        ],
        "recovery_commands": ["rover.thermal.heater_on"],
    }
]  # fmt: skip


def stage(name: str, t: float, **extra: Any) -> dict[str, Any]:
    return {"stage": name, "time": t, "wall_time": t - 30_000.0, "detail": "", **extra}


def command_view(
    command_id: str, name: str, stages: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    return {
        "id": command_id,
        "name": name,
        "vehicle": name.split(".", maxsplit=1)[0],
        "args": extra.pop("args", {}),
        "issued_by": "alice",
        "critical": False,
        "stage": stages[-1]["stage"],
        "final": stages[-1]["stage"] in {"completed", "failed", "rejected", "cancelled"},
        "station": "dss43",
        "apid": 258,
        "seq_count": 1,
        "request_id": 1,
        "frame_seq": 1,
        "light_time_s": 1.28,
        "waiting_reason": None,
        "next_aos": None,
        "next_aos_station": None,
        "failure_code": None,
        "failure_name": None,
        "created_at": stages[0]["time"],
        "updated_at": stages[-1]["time"],
        "stages": stages,
        **extra,
    }


def alarm(alarm_id: str, parameter: str, state: str, level: str, value: float) -> dict[str, Any]:
    return {
        "id": alarm_id,
        "parameter": parameter,
        "spacecraft": parameter.split(".", maxsplit=1)[0],
        "level": level,
        "current_level": level,
        "state": state,
        "trigger_time": NOW - 600,
        "trigger_value": value,
        "most_severe_time": NOW - 300,
        "most_severe_value": value,
        "last_value": value,
        "last_time": NOW - 10,
        "acknowledged_by": "bob" if state == "acknowledged" else None,
        "acknowledged_at": NOW - 100 if state == "acknowledged" else None,
        "cleared_at": NOW - 50 if state == "cleared" else None,
        "in_limits": state == "cleared",
        "message": f"{parameter} out of limits",
    }


def event(name: str, severity: str, message: str, t: float) -> dict[str, Any]:
    return {
        "generation_time": t,
        "reception_time": t + 1.3,
        "spacecraft": name.split(".", maxsplit=1)[0],
        "event_id": 1,
        "name": name,
        "severity": severity,
        "message": message,
        "args": {},
    }


@dataclass
class FakeGround:
    """In-memory ground API; ``transport`` plugs it into an ``ApiClient``."""

    role: str = "instructor"
    refuse: int | None = None
    """Answer every request with this status (401, 403...) when set."""
    unreachable: bool = False
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    latest: dict[str, Any] = field(default_factory=lambda: dict(LATEST))
    alarms: list[dict[str, Any]] = field(
        default_factory=lambda: [
            alarm("rover.thermal.battery_temperature@1", "rover.thermal.battery_temperature",
                  "raised", "red", 47.5),
            alarm("rover.power.battery_soc@2", "rover.power.battery_soc", "acknowledged",
                  "yellow", 17.0),
            alarm("lander.power.battery_soc@3", "lander.power.battery_soc", "cleared",
                  "yellow", 17.5),
        ]
    )  # fmt: skip
    events: list[dict[str, Any]] = field(
        default_factory=lambda: [
            event("rover.power.battery_low", "medium", "Battery state of charge low: 19.5 %",
                  NOW - 500),
            event("rover.mobility.drive_complete", "info", "Drive complete: 12.0 m", NOW - 400),
            event("lander.thermal.heater_fault", "high", "Heater fault on the battery zone",
                  NOW - 300),
        ]
    )  # fmt: skip
    commands: list[dict[str, Any]] = field(
        default_factory=lambda: [
            command_view(
                "c-0001",
                "rover.mobility.drive_distance",
                [
                    stage("queued", NOW - 900),
                    stage("released", NOW - 899),
                    stage("sent", NOW - 899, station="dss43"),
                    stage("accepted", NOW - 896),
                    stage("started", NOW - 896),
                    stage("completed", NOW - 700),
                ],
                args={"distance": 12.0, "speed": 0.02},
            )
        ]
    )
    training_running: bool = False
    injected: list[str] = field(default_factory=list)
    inject_bodies: list[Any] = field(default_factory=list)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> ApiClient:
        return ApiClient("http://ground.test", "secret-token-123456", transport=self.transport)

    def context(self, live: LiveFeed | None = None, role: str | None = None) -> PageContext:
        return PageContext(client=self.client(), live=live, role=role or self.role, refresh_s=2.0)

    def posted(self, path_part: str) -> list[Any]:
        """Bodies of the POST requests whose path contains ``path_part``."""
        return [
            body for method, path, body in self.requests if method == "POST" and path_part in path
        ]

    # --------------------------------------------------------------------------- dispatch
    def handle(self, request: httpx.Request) -> httpx.Response:
        path = unquote(request.url.path).removeprefix("/api/v1")
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, path, body))
        if self.unreachable:
            raise httpx.ConnectError("connection refused", request=request)
        if self.refuse is not None:
            return httpx.Response(self.refuse, json={"detail": f"refused with {self.refuse}"})
        if request.headers.get("Authorization") != "Bearer secret-token-123456":
            return httpx.Response(401, json={"detail": "missing or unknown token"})
        query = dict(request.url.params)
        try:
            data = self.route(request.method, path, query, body)
        except LookupError as exc:
            return httpx.Response(404, json={"detail": str(exc)})
        except PermissionError as exc:
            return httpx.Response(403, json={"detail": str(exc)})
        except ValueError as exc:
            return httpx.Response(
                422, json={"detail": [{"loc": ["body", "args"], "msg": str(exc)}]}
            )
        return httpx.Response(200, json=data)

    def route(self, method: str, path: str, query: dict[str, str], body: Any) -> Any:
        if method == "GET":
            return self.get(path, query)
        if path == "/commands":
            return self.post_command(body)
        if path.startswith("/commands/link/") and path.endswith("/cop1"):
            if self.role == "viewer":
                raise PermissionError("needs the operator role")
            vehicle = path.split("/")[3]
            return {"vehicle": vehicle, "tc_mode": "ad", "cop1": {"fop_state": "active"}}
        if path.startswith("/alarms/") and path.endswith("/acknowledge"):
            return self.acknowledge(path.split("/")[2], body)
        if path.startswith(("/faults/", "/training/")):
            self.instructor_only()
            control = {"request_id": "r1", "message": {}, "acknowledged": True, "accepted": True,
                       "reason": ""}  # fmt: skip
            if path.startswith("/faults/"):
                target = path.split("/")[2]
                if method == "DELETE":
                    self.injected = [i for i in self.injected if not i.startswith(target)]
                else:
                    self.injected.append(f"{target}#{len(self.injected) + 1}")
                    self.inject_bodies.append(body)
                return control
            self.training_running = path.endswith("/start")
            return self.training_status() if self.training_running else self.debrief()
        raise LookupError(path)

    def instructor_only(self) -> None:
        if self.role != "instructor":
            raise PermissionError("needs the instructor role")

    def get(self, path: str, query: dict[str, str]) -> Any:
        simple: dict[str, Any] = {
            "/health": {"status": "ok", "version": "0.1.0"},
            "/whoami": {"name": "alice", "role": self.role},
            "/clock": {"mission_time": NOW, "wall_time": NOW - 30_000.0, "speed": 50.0,
                       "from_sim_status": True},
            "/mdb/commands": COMMANDS,
            "/links": [
                {"station": "dss43", "in_view": True, "moon_elevation_deg": 42.1,
                 "earth_elevation_at_site_deg": 3.2, "ebn0_db": {"rover": 6.3, "lander": 9.8},
                 "light_time_s": 1.281, "locked": {"rover": True, "lander": True},
                 "frames_received": 120345, "frames_bad": 12, "frame_gaps": 3, "duplicates": 0,
                 "last_frame_time": NOW, "monitor_time": NOW},
                {"station": "dss14", "in_view": False, "moon_elevation_deg": -20.0,
                 "earth_elevation_at_site_deg": 3.2, "ebn0_db": {}, "light_time_s": None,
                 "locked": {}, "frames_received": 0, "frames_bad": 0, "frame_gaps": 0,
                 "duplicates": 0, "last_frame_time": None, "monitor_time": NOW},
            ],
            "/links/carrier": {
                "time": NOW,
                "vehicles": [
                    {"vehicle": "rover", "station": "dss43", "since": NOW - 3600,
                     "source": "monitor", "candidates": ["dss43"]},
                    {"vehicle": "lander", "station": "dss43", "since": NOW - 3600,
                     "source": "monitor", "candidates": ["dss43"]},
                ],
                "handovers": [
                    {"vehicle": "rover", "change": "handover", "from": "usuda", "to": "dss43",
                     "time": NOW - 3600, "reason": "usuda lost rover; dss43: best Eb/N0"},
                ],
                "stations": [
                    {"station": "dss43", "predicted_in_view": True, "monitor_in_view": True,
                     "usable": True, "prime": ["rover", "lander"], "moon_elevation_deg": 42.0,
                     "light_time_s": 1.281, "ebn0_db": {"rover": 6.3, "lander": 9.8},
                     "locked": {"rover": True, "lander": True}, "frames_received": 120345,
                     "frames_bad": 12, "frame_gaps": 3},
                    {"station": "dss14", "predicted_in_view": False, "monitor_in_view": False,
                     "usable": False, "prime": [], "moon_elevation_deg": -20.0,
                     "light_time_s": 1.29, "ebn0_db": {"rover": -3.5}, "locked": {},
                     "frames_received": 0, "frames_bad": 0, "frame_gaps": 0},
                ],
            },
            "/commands/link-status": [
                {"vehicle": "rover", "known": True, "state": "nominal", "lockout": False,
                 "wait": False, "retransmit": False, "no_rf_available": False,
                 "no_bit_lock": False, "farm_b_counter": 2, "vcid": 0, "report_value": 17,
                 "next_frame_seq": 17, "in_step": True, "station": "dss43",
                 "reception_time": NOW - 2, "tc_mode": "ad",
                 "cop1": {"fop_state": "initial", "v_s": 17, "nn_r": 17, "sent_queue": 0,
                          "wait_queue": 0, "held": 0, "retransmissions": 4, "alerts": 1,
                          "last_alert": "lockout", "auto_initiate_pending": False}},
                {"vehicle": "lander", "known": False, "state": "unknown", "lockout": None,
                 "wait": None, "retransmit": None, "no_rf_available": None, "no_bit_lock": None,
                 "farm_b_counter": None, "vcid": None, "report_value": None,
                 "next_frame_seq": 0, "in_step": None, "station": None,
                 "reception_time": None},
            ],
            "/passes": self.passes(),
        }  # fmt: skip
        if path in simple:
            return simple[path]
        if path.startswith(("/faults", "/training/")):
            self.instructor_only()
            if path == "/training/scenarios":
                return SCENARIOS
            answers: dict[str, Callable[[], Any]] = {
                "/faults": self.faults,
                "/training/status": self.training_status,
                "/training/debrief": self.debrief,
            }
            return answers[path]()
        if path == "/mdb/parameters":
            return self.search(query)
        if path == "/parameters/latest":
            names = [n for n in query.get("names", "").split(",") if n]
            return {
                "values": [self.value(n) for n in names if n in self.latest],
                "missing": [n for n in names if n not in self.latest],
            }
        if path.endswith("/history"):
            return self.history(path.split("/")[2], query)
        if path == "/alarms":
            state = query.get("state")
            return [a for a in self.alarms if not state or a["state"] == state]
        if path == "/events":
            chosen = [
                e for e in self.events
                if (not query.get("spacecraft") or e["spacecraft"] == query["spacecraft"])
            ]  # fmt: skip
            chosen.sort(key=lambda e: e["generation_time"], reverse=True)  # newest_first=true
            return chosen[: int(query.get("limit", 100))]
        if path == "/commands":
            return self.commands[-int(query.get("limit", 1000)) :]
        raise LookupError(path)

    def search(self, query: dict[str, str]) -> list[dict[str, Any]]:
        out = PARAMETERS
        if text := query.get("search"):
            out = [p for p in out if text in p["name"] or text in p["description"]]
        if vehicle := query.get("vehicle"):
            out = [p for p in out if p["vehicle"] == vehicle]
        if subsystem := query.get("subsystem"):
            out = [p for p in out if p["subsystem"] == subsystem]
        return out

    def value(self, name: str) -> dict[str, Any]:
        value = self.latest[name]
        return {
            "name": name,
            "generation_time": NOW - 5,
            "reception_time": NOW - 3.7,
            "raw_value": value,
            "eng_value": value,
            "monitoring_result": "critical"
            if name.endswith("battery_temperature")
            else "in_limits",
            "stale": False,
        }

    def history(self, name: str, query: dict[str, str]) -> dict[str, Any]:
        start, end = float(query["start"]), float(query["end"])
        count = min(int(query.get("buckets", 100)), 50)
        width = (end - start) / count
        buckets = []
        for i in range(count):
            f = i / (count - 1)
            if name.endswith("est_position_x"):
                mean = 40.0 * f
            elif name.endswith("est_position_y"):
                mean = 30.0 * f * f
            elif "sigma" in name:
                mean = 0.5 + 1.5 * f
            elif name.endswith("drill.depth"):
                mean = 0.6 if 0.4 <= f <= 0.5 else 0.0
            else:
                mean = 80.0 + 5.0 * math.sin(6 * f)
            spread = 1.0 if name.startswith(("rover.power", "lander")) else 0.0
            buckets.append(
                {"start": start + i * width, "end": start + (i + 1) * width, "count": 10,
                 "min": mean - spread, "max": mean + spread, "mean": mean}
            )  # fmt: skip
        units = next((p["units"] for p in PARAMETERS if p["name"] == name), "")
        return {"name": name, "units": units, "start": start, "end": end,
                "buckets_requested": count, "buckets": buckets}  # fmt: skip

    def passes(self) -> dict[str, Any]:
        times = [NOW + 600.0 * i for i in range(145)]
        return {
            "start": NOW,
            "hours": 24,
            "passes": [
                {"station": "dss43", "aos": NOW - 3600, "los": NOW + 7200,
                 "max_elevation_deg": 55.0, "aos_cause": "station_mask",
                 "los_cause": "station_mask"},
                {"station": "dss63", "aos": "2026-01-01T20:00:00Z",
                 "los": "2026-01-02T02:00:00Z", "max_elevation_deg": 38.5,
                 "aos_cause": "station_mask", "los_cause": "site_earth_mask"},
            ],
            "earth": {
                "times": times,
                "elevation_deg": [3.0 + 2.0 * math.sin(i / 20) for i in range(145)],
                "azimuth_deg": [120.0] * 145,
                "mask_deg": 1.5,
                "step_s": 600.0,
            },
            "sun": {
                "times": [NOW - 600.0, NOW, NOW + 600.0],
                "azimuth_deg": [-111.0, -110.0, -109.0],
                "elevation_deg": [1.4, 1.5, 1.6],
            },
        }  # fmt: skip

    def faults(self) -> list[dict[str, Any]]:
        return [
            {"id": "heater_failed", "title": "Heater failure",
             "description": "A heater stops heating.",
             "target": {"kind": "vehicle", "vehicle": "rover", "subsystem": "thermal"},
             "parameters": [{"name": "zone", "type": "choice", "default": "BATTERY",
                             "description": "Heater zone", "choices": ["BATTERY", "DRILL"]}],
             "default_duration_s": None, "recovery": "Use the redundant heater.",
             "recovery_commands": ["rover.thermal.heater_on"], "effects": ["no heating"],
             "active": [i for i in self.injected if i.startswith("heater_failed")]},
            {"id": "wheel_stall", "title": "Wheel stall", "description": "Wheel 2 stalls.",
             "target": {"kind": "vehicle", "vehicle": "rover", "subsystem": "mobility"},
             "parameters": [{"name": "current", "type": "float", "default": 2.5, "units": "A",
                             "description": "Stall current", "min": 0.5, "max": 5.0}],
             "default_duration_s": 600.0, "recovery": "Stop and back off.",
             "recovery_commands": ["rover.mobility.stop"], "effects": ["wheel current rises"],
             "active": [i for i in self.injected if i.startswith("wheel_stall")]},
        ]  # fmt: skip

    def training_status(self) -> dict[str, Any]:
        base = {"time": NOW, "active_faults": [], "simulator": None}
        if not self.training_running:
            return {**base, "state": "idle", "scenario": None, "checklist": []}
        return {
            **base,
            "state": "running",
            "scenario": "heater_failure_at_dusk",
            "title": "Heater failure at dusk",
            "started_at": NOW - 754.0,
            "started_by": "carol",
            "ended_at": None,
            "elapsed_s": 754.0,
            "detected": 1,
            "expected": 2,
            "checklist": [
                {"id": "battery_cold", "kind": "alarm",
                 "target": "rover.thermal.battery_temperature", "level": "yellow",
                 "vehicle": "rover", "description": "Battery below 5 degC",
                 "opens_at": NOW - 754, "deadline_s": 1800.0, "deadline": NOW + 1046,
                 "state": "detected", "detected": True, "detected_at": NOW - 442,
                 "seen_at": NOW - 440, "time_to_detect_s": 312.0, "evidence": "alarm",
                 "alarm_id": "a1", "acknowledged_at": NOW - 400, "acknowledged_by": "bob"},
                {"id": "heater_failure", "kind": "event", "target": "rover.thermal.heater_failure",
                 "level": None, "vehicle": "rover", "description": "Heater failure reported",
                 "opens_at": NOW - 754, "deadline_s": 3600.0, "deadline": NOW + 2846,
                 "state": "pending", "detected": False, "detected_at": None, "seen_at": None,
                 "time_to_detect_s": None, "evidence": "", "alarm_id": None,
                 "acknowledged_at": None, "acknowledged_by": None},
            ],
        }  # fmt: skip

    def debrief(self) -> dict[str, Any]:
        return {
            **self.training_status(),
            "description": "The battery heater fails at dusk.",
            "recovery_commands": ["rover.thermal.heater_on"],
            "score": {"points": 7.0, "maximum": 10.0, "percent": 70.0, "grade": "good",
                      "lines": [{"what": "battery_cold detected", "points": 4.0, "maximum": 4.0,
                                 "reason": "in 312 s"}]},
            "timeline": [
                {"time": NOW - 600, "kind": "alarm_raised",
                 "text": "rover.thermal.battery_temperature yellow"},
                {"time": NOW - 754, "kind": "fault_injected", "text": "heater_failed (BATTERY)"},
                {"time": NOW - 500, "kind": "alarm_acknowledged", "text": "by bob"},
            ],
        }  # fmt: skip

    def post_command(self, body: Any) -> dict[str, Any]:
        if self.role == "viewer":
            raise PermissionError("sending commands needs the operator role")
        definition = next((c for c in COMMANDS if c["name"] == body["name"]), None)
        if definition is None:
            raise LookupError(f"unknown command {body['name']!r}")
        if definition["criticality"] == "critical" and not body.get("confirm"):
            raise ValueError("critical command: confirm must be true")
        command_id = f"c-{len(self.commands) + 1:04d}"
        view = command_view(command_id, body["name"], [stage("queued", NOW)], args=body["args"])
        self.commands.append(view)
        return view

    def acknowledge(self, alarm_id: str, body: Any) -> dict[str, Any]:
        if self.role == "viewer":
            raise PermissionError("acknowledging needs the operator role")
        for a in self.alarms:
            if a["id"] == alarm_id:
                a.update(state="acknowledged", acknowledged_by="alice", acknowledged_at=NOW)
                return {
                    "alarm": a,
                    "acknowledged_by": "alice",
                    "comment": (body or {}).get("comment"),
                }
        raise LookupError(alarm_id)

"""The REST API against a running ground service: real Mosquitto, real SQLite archive.

A module fixture starts the app and publishes, as the spacecraft user, a known set of frames
(power housekeeping with a rising state of charge, an obsw packet out of limits and back, an event
report) and two malformed payloads; every test then reads it back through the API.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from ground.app import API_PREFIX, create_app
from mission.mdb.database import MissionDatabase
from mission.mdb.loader import load_mdb
from tests.ground.test_api_support import (
    T0,
    FrameFactory,
    GroundTokens,
    expected_eng,
    publish_frames,
    server_thread,
    settings_for,
    sqlite_url,
    wait_subscribed_sync,
)
from tests.support.mosquitto import MosquittoServer
from tests.support.timeouts import POLL_INTERVAL, timeout

pytestmark = pytest.mark.integration

API: Final = API_PREFIX
N_POWER: Final = 30
POWER: Final = "rover.hk.power"
OBSW: Final = "rover.hk.obsw"
SOC: Final = "rover.power.battery_soc"
CPU: Final = "rover.obsw.cpu_load"
EVENT: Final = "rover.power.battery_low"
GARBAGE: Final = (b"\x00" * 10, b"not a frame at all")


@dataclass
class Seeded:
    client: httpx.Client
    tokens: GroundTokens
    mdb: MissionDatabase
    station: str
    power_values: list[dict[str, object]]
    power_times: list[float]

    def get(self, path: str, role: str = "viewer", **params: Any) -> Any:
        response = self.client.get(f"{API}{path}", headers=self.tokens.header(role), params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def raw(self, path: str, role: str = "viewer", **params: Any) -> Any:
        return self.client.get(f"{API}{path}", headers=self.tokens.header(role), params=params)


def _boom_router() -> APIRouter:
    router = APIRouter()

    @router.get("/test-boom", summary="Fails on purpose", include_in_schema=False)
    async def boom() -> None:
        msg = "internal detail /etc/secret-path that must not leak"
        raise RuntimeError(msg)

    return router


def _wait(condition: Any, what: str, units: float = 30) -> None:
    deadline = time.monotonic() + timeout(units)
    while not condition():
        if time.monotonic() > deadline:
            msg = f"timed out waiting for {what}"
            raise AssertionError(msg)
        time.sleep(POLL_INTERVAL)


@pytest.fixture(scope="module")
def seeded(
    mosquitto: MosquittoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    tmp = tmp_path_factory.mktemp("api")
    tokens = GroundTokens()
    settings = settings_for(mosquitto, sqlite_url(tmp), tokens, f"api-{uuid.uuid4().hex[:8]}")
    app: FastAPI = create_app(settings, extra_routers=[_boom_router()])
    mdb = load_mdb()
    station = f"st{uuid.uuid4().hex[:8]}"
    factory = FrameFactory(mdb, "rover")
    power_times = [T0 + 2.0 * i for i in range(N_POWER)]
    power_values = [factory.values(POWER, **{SOC: 50.0 + i}) for i in range(N_POWER)]
    specs: list[tuple[str, float, Any]] = list(
        zip([POWER] * N_POWER, power_times, power_values, strict=True)
    )
    specs += [
        (OBSW, T0 + 10.0, factory.values(OBSW, **{CPU: 97.0})),
        (OBSW, T0 + 20.0, factory.values(OBSW, **{CPU: 40.0})),
    ]
    frames = factory.frames(specs) + factory.event_frames(EVENT, T0 + 5.0, {"soc": 19.5})
    with server_thread(app, settings.port) as client:
        seeded = Seeded(client, tokens, mdb, station, power_values, power_times)
        wait_subscribed_sync(app)
        asyncio.run(publish_frames(mosquitto, station, "rover", [*frames, *GARBAGE]))

        def ready() -> bool:
            latest = seeded.get("/parameters/latest", names=SOC)["values"]
            quarantined = seeded.get("/quarantine/summary")["total"]
            cpu = seeded.get("/parameters/latest", names=CPU)["values"]
            return (
                bool(latest)
                and latest[0]["generation_time"] == power_times[-1]
                and bool(cpu)
                and cpu[0]["generation_time"] == T0 + 20.0
                and quarantined >= len(GARBAGE)
                and bool(seeded.get("/events"))
            )

        _wait(ready, "the published frames to be ingested")
        yield seeded


# ---------------------------------------------------------------------------- mission database
def test_mdb_parameters_list_filter_and_search(seeded: Seeded) -> None:
    everything = seeded.get("/mdb/parameters")
    assert [p["name"] for p in everything] == sorted(seeded.mdb.parameters)
    rover_power = seeded.get("/mdb/parameters", vehicle="rover", subsystem="power")
    assert rover_power
    assert all(p["name"].startswith("rover.power.") for p in rover_power)
    assert {p["name"] for p in seeded.get("/mdb/parameters", search="rover.power.*")} == {
        p["name"] for p in rover_power
    }
    found = seeded.get("/mdb/parameters", search="STATE OF CHARGE")
    assert SOC in [p["name"] for p in found]
    soc = seeded.get(f"/mdb/parameters/{SOC}")
    definition = seeded.mdb.parameters[SOC]
    assert soc["units"] == definition.units
    assert soc["limits"]["red_low"] == definition.limits.red_low  # type: ignore[union-attr]
    assert soc["packet"] == POWER


def test_mdb_unknown_parameter_is_404_naming_it(seeded: Seeded) -> None:
    response = seeded.raw("/mdb/parameters/rover.power.nope")
    assert response.status_code == 404
    assert "rover.power.nope" in response.json()["detail"]


def test_mdb_packets_commands_events_stations(seeded: Seeded) -> None:
    mdb = seeded.mdb
    assert {p["name"] for p in seeded.get("/mdb/packets")} == set(mdb.packets)
    assert {p["name"] for p in seeded.get("/mdb/packets", vehicle="lander")} == {
        p.name for p in mdb.packets_for("lander")
    }
    commands = seeded.get("/mdb/commands")
    assert {c["name"] for c in commands} == set(mdb.commands)
    assert all(len(c["arguments"]) == len(mdb.commands[c["name"]].arguments) for c in commands)
    assert {e["id"] for e in seeded.get("/mdb/events")} == set(mdb.events)
    assert {s["id"] for s in seeded.get("/mdb/stations")} == set(mdb.stations)


def test_bad_query_values_are_422_naming_the_field(seeded: Seeded) -> None:
    response = seeded.raw("/events", limit="many")
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["query", "limit"]
    assert error["msg"]


# ---------------------------------------------------------------------------- latest values
def test_latest_by_names_and_pattern(seeded: Seeded) -> None:
    expected = expected_eng(seeded.mdb, POWER, seeded.power_values[-1])
    body = seeded.get("/parameters/latest", names=f"{SOC},{CPU}")
    by_name = {v["name"]: v for v in body["values"]}
    assert set(by_name) == {SOC, CPU}
    assert by_name[SOC]["eng_value"] == pytest.approx(expected[SOC])
    assert by_name[SOC]["generation_time"] == seeded.power_times[-1]
    assert by_name[SOC]["monitoring_result"] == "in_limits"
    pattern = seeded.get("/parameters/latest", pattern="rover.power.battery_*")
    names = {v["name"] for v in pattern["values"]} | set(pattern["missing"])
    assert names == {n for n in seeded.mdb.parameters if n.startswith("rover.power.battery_")}
    everything = seeded.get("/parameters/latest")
    assert SOC in {v["name"] for v in everything["values"]}


def test_latest_lists_parameters_never_received_as_missing(seeded: Seeded) -> None:
    never = next(n for n in seeded.mdb.parameters if n.startswith("lander."))
    body = seeded.get("/parameters/latest", names=[SOC, never])
    assert body["missing"] == [never]


def test_latest_unknown_name_is_404_naming_it(seeded: Seeded) -> None:
    response = seeded.raw("/parameters/latest", names="rover.power.bogus")
    assert response.status_code == 404
    assert "rover.power.bogus" in response.json()["detail"]


# ---------------------------------------------------------------------------- history, samples
def test_history_buckets_count_every_sample(seeded: Seeded) -> None:
    start, end = seeded.power_times[0], seeded.power_times[-1] + 1
    body = seeded.get(f"/parameters/{SOC}/history", start=start, end=end, buckets=10)
    assert body["buckets_requested"] == 10
    assert body["units"] == "%"
    assert sum(b["count"] for b in body["buckets"]) == N_POWER
    values = [float(expected_eng(seeded.mdb, POWER, v)[SOC]) for v in seeded.power_values]
    assert min(b["min"] for b in body["buckets"]) == pytest.approx(min(values))
    assert max(b["max"] for b in body["buckets"]) == pytest.approx(max(values))
    iso = seeded.get(
        f"/parameters/{SOC}/history",
        start="2026-01-01T00:00:00Z",
        end="2026-01-01T00:01:00",
        buckets=1,
    )
    assert iso["buckets"][0]["count"] == N_POWER


def test_history_inverted_window_is_422_naming_start(seeded: Seeded) -> None:
    response = seeded.raw(f"/parameters/{SOC}/history", start=T0 + 10, end=T0)
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["query", "start"]
    assert "before end" in error["msg"]


@pytest.mark.parametrize("buckets", [0, 10_001, -5])
def test_history_bucket_count_out_of_range_is_422_with_the_range(
    seeded: Seeded, buckets: int
) -> None:
    response = seeded.raw(f"/parameters/{SOC}/history", start=T0, end=T0 + 60, buckets=buckets)
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["query", "buckets"]
    assert "between 1 and 10000" in error["msg"]


def test_history_bad_time_is_422_naming_the_field(seeded: Seeded) -> None:
    response = seeded.raw(f"/parameters/{SOC}/history", start="yesterday-ish", end=T0)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "start"]


def test_history_unknown_parameter_is_404(seeded: Seeded) -> None:
    response = seeded.raw("/parameters/rover.x.y/history", start=T0, end=T0 + 1)
    assert response.status_code == 404
    assert "rover.x.y" in response.json()["detail"]


def test_samples_round_trip_and_truncate(seeded: Seeded) -> None:
    start, end = seeded.power_times[0], seeded.power_times[-1] + 1
    body = seeded.get(f"/parameters/{SOC}/samples", start=start, end=end)
    assert not body["truncated"]
    assert [s["generation_time"] for s in body["samples"]] == seeded.power_times
    expected = [expected_eng(seeded.mdb, POWER, v)[SOC] for v in seeded.power_values]
    assert [s["eng_value"] for s in body["samples"]] == pytest.approx(expected)
    short = seeded.get(f"/parameters/{SOC}/samples", start=start, end=end, limit=5)
    assert short["truncated"]
    assert len(short["samples"]) == 5
    too_many = seeded.raw(f"/parameters/{SOC}/samples", start=start, end=end, limit=10**9)
    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["loc"] == ["query", "limit"]


# ---------------------------------------------------------------------------- CSV export
def test_export_csv_streams_every_sample(seeded: Seeded) -> None:
    start, end = seeded.power_times[0], seeded.power_times[-1] + 1
    response = seeded.raw("/export.csv", params=f"{SOC},rover.obsw.cpu_*", start=start, end=end)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["parameter"] for r in rows].count(SOC) == N_POWER
    assert [r["parameter"] for r in rows].count(CPU) == 2
    assert {r["parameter"] for r in rows} == {SOC, CPU}


def test_export_csv_refuses_unknown_and_missing_parameters(seeded: Seeded) -> None:
    unknown = seeded.raw("/export.csv", params="rover.nothing.here", start=T0, end=T0 + 1)
    assert unknown.status_code == 404
    assert "rover.nothing.here" in unknown.json()["detail"]
    missing = seeded.raw("/export.csv", start=T0, end=T0 + 1)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["query", "params"]
    nomatch = seeded.raw("/export.csv", params="zzz.*", start=T0, end=T0 + 1)
    assert nomatch.status_code == 422


# ---------------------------------------------------------------------------- events, alarms
def test_events_with_filters(seeded: Seeded) -> None:
    events = seeded.get("/events", start=T0, end=T0 + 3600)
    assert [e["name"] for e in events] == [EVENT]
    assert events[0]["args"]["soc"] == pytest.approx(19.5)
    assert "19.5" in events[0]["message"]
    assert seeded.get("/events", severity="high", start=T0, end=T0 + 3600) == []
    assert seeded.get("/events", spacecraft="lander", start=T0, end=T0 + 3600) == []
    bad = seeded.raw("/events", severity="apocalyptic")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "severity"]


def test_alarm_raised_then_acknowledged_by_an_operator(seeded: Seeded) -> None:
    raised = seeded.get("/alarms", state="raised")
    alarm = next(a for a in raised if a["parameter"] == CPU)
    assert alarm["level"] == "red"
    assert alarm["in_limits"]
    assert alarm["trigger_time"] == T0 + 10.0
    assert seeded.get(f"/alarms/{alarm['id']}")["id"] == alarm["id"]
    response = seeded.client.post(
        f"{API}/alarms/{alarm['id']}/acknowledge",
        headers=seeded.tokens.header("operator"),
        json={"comment": "load spike during boot"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["comment"] == "load spike during boot"
    assert body["alarm"]["acknowledged_by"] == body["acknowledged_by"]
    assert body["alarm"]["state"] == "cleared"  # already back in limits when acknowledged
    assert alarm["id"] not in {a["id"] for a in seeded.get("/alarms", state="raised")}


def test_alarm_errors(seeded: Seeded) -> None:
    assert seeded.raw("/alarms/nope@1").status_code == 404
    headers = seeded.tokens.header("operator")
    unknown = seeded.client.post(f"{API}/alarms/nope@1/acknowledge", headers=headers, json={})
    assert unknown.status_code == 404
    assert "nope@1" in unknown.json()["detail"]
    long = seeded.client.post(
        f"{API}/alarms/nope@1/acknowledge", headers=headers, json={"comment": "x" * 501}
    )
    assert long.status_code == 422
    assert long.json()["detail"][0]["loc"] == ["body", "comment"]
    extra = seeded.client.post(
        f"{API}/alarms/nope@1/acknowledge", headers=headers, json={"user": "mallory"}
    )
    assert extra.status_code == 422
    assert extra.json()["detail"][0]["loc"] == ["body", "user"]
    bad_state = seeded.raw("/alarms", state="sleeping")
    assert bad_state.status_code == 422


# ---------------------------------------------------------------------------- links, counters...
def test_links_and_counters(seeded: Seeded) -> None:
    links = {link["station"]: link for link in seeded.get("/links")}
    assert links[seeded.station]["frames_received"] >= 1
    counters = seeded.get("/counters")
    assert counters["frames"] >= links[seeded.station]["frames_received"]
    assert counters["samples"] >= N_POWER
    assert counters["errors_total"] >= len(GARBAGE)


def test_quarantine_lists_malformed_payloads(seeded: Seeded) -> None:
    entries = seeded.get("/quarantine", limit=100)
    payloads = {bytes.fromhex(e["payload_hex"]) for e in entries}
    assert set(GARBAGE) <= payloads
    assert all(e["topic"].endswith(f"/{seeded.station}/rover") for e in entries if e["size"] < 64)
    summary = seeded.get("/quarantine/summary")
    assert summary["total"] == sum(summary["by_reason"].values()) >= len(GARBAGE)
    reason = entries[0]["reason"]
    assert all(e["reason"] == reason for e in seeded.get("/quarantine", reason=reason))


def test_health_clock_and_identity(seeded: Seeded) -> None:
    health = seeded.client.get(f"{API}/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    details = seeded.get("/health/details")
    assert details["status"] in ("ok", "degraded")
    assert details["services"]["ingest"] == "running"
    assert details["archive"]["status"] == "ok"
    assert "lupex-ground-demo" not in json.dumps(details)  # the MQTT password is not shown
    clock = seeded.get("/clock")
    assert clock["mission_time"] >= seeded.power_times[-1]
    assert seeded.get("/whoami", role="operator")["role"] == "operator"


def test_unhandled_errors_are_500_without_internals(seeded: Seeded) -> None:
    response = seeded.client.get(f"{API}/test-boom")
    assert response.status_code == 500
    assert response.json()["detail"] == "internal error"
    assert "secret-path" not in response.text
    assert seeded.client.get(f"{API}/health").status_code == 200  # still serving


# ---------------------------------------------------------------------------- OpenAPI
def test_openapi_is_complete(seeded: Seeded) -> None:
    schema = seeded.client.get("/openapi.json").json()
    operations = [
        (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "delete", "patch")
    ]
    assert len(operations) >= 20
    for path, method, op in operations:
        assert op.get("summary"), (path, method)
        assert op.get("description"), (path, method)
        assert op.get("tags"), (path, method)
        for parameter in op.get("parameters", []):
            assert parameter.get("description"), (path, method, parameter["name"])
    components = schema["components"]["schemas"]
    assert components
    for name, component in components.items():
        assert component.get("examples") or component.get("example"), name
    assert "bearer" in schema["components"]["securitySchemes"]

"""The fault and training endpoints under a real uvicorn: instructor only, refusals named."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ground.app import create_app
from ground.commanding.wiring import EXTRA_SERVICES, extra_routers
from mission.faults import load_faults
from mission.scenarios import load_scenarios
from tests.ground.test_api_support import GroundTokens, running_server, settings_for, sqlite_url
from tests.support.mosquitto import MosquittoServer

pytestmark = pytest.mark.integration

ENDPOINTS = [
    ("GET", "/faults"),
    ("POST", "/faults/battery_cell_failure"),
    ("DELETE", "/faults/battery_cell_failure"),
    ("GET", "/training/scenarios"),
    ("POST", "/training/scenarios/dusty_array/start"),
    ("POST", "/training/stop"),
    ("GET", "/training/status"),
    ("GET", "/training/debrief"),
]


@dataclass
class Api:
    client: httpx.AsyncClient
    tokens: GroundTokens


@pytest.fixture
async def api(mosquitto: MosquittoServer, tmp_path: Path, unique_id: str) -> AsyncIterator[Api]:
    tokens = GroundTokens()
    settings = settings_for(mosquitto, sqlite_url(tmp_path), tokens, unique_id)
    app = create_app(settings, extra_routers=extra_routers(), extra_services=EXTRA_SERVICES)
    base = f"http://127.0.0.1:{settings.port}/api/v1"
    async with (
        running_server(app, settings.port),
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        yield Api(client, tokens)


async def test_every_training_endpoint_needs_the_instructor_role(api: Api) -> None:
    for method, path in ENDPOINTS:
        anonymous = await api.client.request(method, path)
        assert anonymous.status_code == 401, (method, path)
        for role in ("viewer", "operator"):
            refused = await api.client.request(method, path, headers=api.tokens.header(role))
            assert refused.status_code == 403, (method, path, role, refused.text)
            assert "instructor" in refused.json()["detail"]


async def test_catalogue_and_scenarios_are_listed(api: Api) -> None:
    instructor = api.tokens.header("instructor")
    faults = (await api.client.get("/faults", headers=instructor)).json()
    assert {f["id"] for f in faults} == {f.id for f in load_faults()}
    assert len(faults) >= 15
    scenarios = (await api.client.get("/training/scenarios", headers=instructor)).json()
    assert {s["name"] for s in scenarios} == set(load_scenarios())
    dusty = next(s for s in scenarios if s["name"] == "dusty_array")
    assert dusty["expected"][0]["target"] == "rover.power.array_output_low"


async def test_bad_requests_are_refused_with_the_reason(api: Api) -> None:
    instructor = api.tokens.header("instructor")
    bad = await api.client.post(
        "/faults/battery_cell_failure", json={"params": {"cells": 9}}, headers=instructor
    )
    assert bad.status_code == 422
    detail = bad.json()["detail"][0]
    assert detail["loc"] == ["body", "params", "cells"]
    assert "1.0..3.0" in detail["msg"] or "within" in detail["msg"]
    negative = await api.client.post(
        "/faults/battery_cell_failure", json={"duration_s": -5}, headers=instructor
    )
    assert negative.status_code == 422
    assert negative.json()["detail"][0]["loc"] == ["body", "duration_s"]
    unknown = await api.client.post("/faults/gremlins", headers=instructor)
    assert unknown.status_code == 404
    assert "gremlins" in unknown.json()["detail"]
    missing = await api.client.post("/training/scenarios/nope/start", headers=instructor)
    assert missing.status_code == 404
    assert (await api.client.get("/training/debrief", headers=instructor)).status_code == 404
    assert (await api.client.post("/training/stop", headers=instructor)).status_code == 409
    idle = (await api.client.get("/training/status", headers=instructor)).json()
    assert idle["state"] == "idle"
    assert idle["checklist"] == []

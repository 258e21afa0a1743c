"""The commanding and passes endpoints under a real uvicorn: roles, refusals, history, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from ground.api import commands as commands_api
from ground.api import passes as passes_api
from ground.app import create_app
from ground.commanding.wiring import run_commanding, run_links
from mission.geometry import predict_passes, site_geometry
from tests.ground.test_api_support import (
    GroundTokens,
    running_server,
    settings_for,
    sqlite_url,
)
from tests.support.mosquitto import MosquittoServer

pytestmark = pytest.mark.integration


@dataclass
class Api:
    client: httpx.AsyncClient
    tokens: GroundTokens


@pytest.fixture
async def api(mosquitto: MosquittoServer, tmp_path: Path, unique_id: str) -> AsyncIterator[Api]:
    tokens = GroundTokens()
    settings = settings_for(mosquitto, sqlite_url(tmp_path), tokens, unique_id)
    app = create_app(
        settings,
        extra_routers=[commands_api.router, passes_api.router],
        extra_services=[("links", run_links), ("commanding", run_commanding)],
    )
    async with (
        running_server(app, settings.port),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.port}/api/v1", timeout=30) as c,
    ):
        yield Api(c, tokens)


TURN = {"name": "rover.mobility.turn", "args": {"angle": 10}}


async def test_no_token_is_401_everywhere(api: Api) -> None:
    for method, path in (
        ("POST", "/commands"),
        ("GET", "/commands"),
        ("GET", "/commands/export.csv"),
        ("GET", "/commands/link-status"),
        ("GET", "/passes"),
        ("GET", "/links/carrier"),
    ):
        response = await api.client.request(method, path, json=TURN if method == "POST" else None)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_viewer_may_read_but_not_send(api: Api) -> None:
    viewer = api.tokens.header("viewer")
    refused = await api.client.post("/commands", json=TURN, headers=viewer)
    assert refused.status_code == 403
    assert "operator" in refused.json()["detail"]
    assert (await api.client.get("/commands", headers=viewer)).status_code == 200


async def test_bad_requests_are_422_naming_the_field(api: Api) -> None:
    operator = api.tokens.header("operator")
    cases = [
        ({"name": "rover.mobility.nope"}, ["body", "name"], "unknown command"),
        (
            {"name": "rover.mobility.drive_distance", "args": {"distance": 500}},
            ["body", "args", "distance"],
            "-20 to 100 m",
        ),
        ({"name": "rover.mobility.turn"}, ["body", "args", "angle"], "missing"),
        (
            {"name": "rover.obsw.set_mode", "args": {"mode": "SAFE"}},
            ["body", "confirm"],
            "critical",
        ),
        ({"name": "rover.mobility.stop", "station": "arecibo"}, ["body", "station"], "dss43"),
        ({"name": "rover.mobility.stop", "release": "later"}, ["body", "release"], "immediate"),
    ]
    for body, loc, words in cases:
        response = await api.client.post("/commands", json=body, headers=operator)
        assert response.status_code == 422, (body, response.text)
        detail = response.json()["detail"][0]
        assert detail["loc"] == loc, (body, detail)
        assert words in detail["msg"], (body, detail)


async def test_a_command_is_accepted_and_can_be_followed_listed_and_exported(api: Api) -> None:
    operator = api.tokens.header("operator")
    viewer = api.tokens.header("viewer")
    response = await api.client.post("/commands", json=TURN, headers=operator)
    assert response.status_code == 202, response.text
    command = response.json()
    assert command["stages"][0]["stage"] == "queued"
    assert command["name"] == "rover.mobility.turn"
    assert command["args"] == {"angle": 10.0}

    one = await api.client.get(f"/commands/{command['id']}", headers=viewer)
    assert one.status_code == 200
    assert one.json()["id"] == command["id"]
    assert (await api.client.get("/commands/nope", headers=viewer)).status_code == 404

    listed = await api.client.get("/commands", headers=viewer)
    assert [c["id"] for c in listed.json()] == [command["id"]]

    exported = await api.client.get("/commands/export.csv", headers=viewer)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["id"] for r in rows] == [command["id"]]
    assert rows[0]["queued_at"]

    status = await api.client.get("/commands/link-status", headers=viewer)
    assert {s["vehicle"] for s in status.json()} == {"rover", "lander"}


async def test_cop1_directives_change_the_fop_and_bad_ones_name_the_field(api: Api) -> None:
    operator = api.tokens.header("operator")
    status = (await api.client.get("/commands/link-status", headers=operator)).json()
    rover = next(s for s in status if s["vehicle"] == "rover")
    assert rover["tc_mode"] == "ad"  # the default: Type-AD frames under COP-1
    assert rover["cop1"]["fop_state"] == "initial"
    assert rover["cop1"]["auto_initiate_pending"]  # no CLCW received yet

    def post(body: dict[str, object], vehicle: str = "rover") -> Awaitable[httpx.Response]:
        return api.client.post(f"/commands/link/{vehicle}/cop1", json=body, headers=operator)

    changed = await post({"directive": "set_parameters", "t1_s": 30, "transmission_limit": 5})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["cop1"]["t1_s"], changed.json()["cop1"]["transmission_limit"]) == (30, 5)
    started = await post({"directive": "initiate", "mode": "without_clcw_check"})
    assert started.json()["cop1"]["fop_state"] == "active"
    assert not started.json()["cop1"]["auto_initiate_pending"]
    again = await post({"directive": "initiate"})
    assert again.status_code == 409
    assert "terminate AD first" in again.json()["detail"]
    stopped = await post({"directive": "terminate"})
    assert stopped.json()["cop1"]["fop_state"] == "initial"
    bypass = await post({"directive": "set_tc_mode", "tc_mode": "bd"})
    assert bypass.json()["tc_mode"] == "bd"
    assert (await post({"directive": "resume"})).status_code == 409

    cases: list[tuple[dict[str, object], list[str], str]] = [
        ({"directive": "initiate", "mode": "set_vr", "set_vr": 256}, ["body", "set_vr"], "255"),
        ({"directive": "set_parameters", "window": 0}, ["body", "window"], "1"),
        ({"directive": "jump"}, ["body", "directive"], "initiate"),
        ({"directive": "set_v_s"}, ["body", "v_s"], "0..255"),
    ]
    for body, loc, words in cases:
        response = await post(body)
        assert response.status_code == 422, (body, response.text)
        detail = response.json()["detail"][0]
        assert detail["loc"] == loc, (body, detail)
        assert words in detail["msg"], (body, detail)
    assert (await post({"directive": "terminate"}, vehicle="orbiter")).status_code == 404
    viewer = api.tokens.header("viewer")
    refused = await api.client.post(
        "/commands/link/rover/cop1", json={"directive": "terminate"}, headers=viewer
    )
    assert refused.status_code == 403


async def test_passes_are_those_of_the_shared_geometry(api: Api) -> None:
    viewer = api.tokens.header("viewer")
    response = await api.client.get(
        "/passes", params={"hours": 12, "station": "dss43"}, headers=viewer
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = predict_passes(body["start"], 12, ["dss43"])
    assert [round(p["aos"]) for p in body["passes"]] == [round(p.aos) for p in expected]
    assert all(p["station"] == "dss43" for p in body["passes"])
    earth = body["earth"]
    assert len(earth["times"]) == len(earth["elevation_deg"]) == 12 * 6 + 1
    sun = body["sun"]
    assert sun["times"] == earth["times"]
    direct = site_geometry(np.asarray(sun["times"]))
    assert sun["elevation_deg"] == pytest.approx(direct.sun_el_deg.tolist(), abs=1e-9)
    assert sun["azimuth_deg"] == pytest.approx(direct.sun_az_deg.tolist(), abs=1e-9)
    assert all(-90.0 <= e <= 90.0 for e in sun["elevation_deg"])
    bad = await api.client.get("/passes", params={"station": "arecibo"}, headers=viewer)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "station"]

    carrier = await api.client.get("/links/carrier", headers=viewer)
    assert carrier.status_code == 200
    stations = {s["station"] for s in carrier.json()["stations"]}
    assert "dss43" in stations

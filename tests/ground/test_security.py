"""Access control: tokens and roles on every endpoint and on the WebSocket; no secret in logs."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from fastapi import FastAPI
from pydantic import ValidationError
from websockets.asyncio.client import connect

from ground.app import API_PREFIX, create_app
from ground.logging import RedactingFilter, redact
from ground.security import Role, TokenStore
from ground.settings import GroundSettings, parse_token_table
from tests.ground.test_api_support import (
    GroundTokens,
    running_server,
    server_thread,
    settings_for,
    sqlite_url,
)
from tests.support.mosquitto import MosquittoServer
from tests.support.timeouts import timeout

integration = pytest.mark.integration

PUBLIC_PATHS = {f"{API_PREFIX}/health", "/metrics", "/openapi.json", "/docs", "/redoc"}
HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete"})
# Who may do what, written out here independently of the routes (every other operation is
# open to any valid token, i.e. the viewer role): the test fails when a route drifts from it.
OPERATOR_OPERATIONS = {
    ("POST", f"{API_PREFIX}/alarms/{{alarm_id}}/acknowledge"),
    ("POST", f"{API_PREFIX}/commands"),
    ("DELETE", f"{API_PREFIX}/commands/{{command_id}}"),
    ("POST", f"{API_PREFIX}/commands/link/{{vehicle}}/cop1"),
}
INSTRUCTOR_OPERATIONS = {
    ("GET", f"{API_PREFIX}/faults"),
    ("POST", f"{API_PREFIX}/faults/{{fault_id}}"),
    ("DELETE", f"{API_PREFIX}/faults/{{fault_id}}"),
    ("GET", f"{API_PREFIX}/training/scenarios"),
    ("POST", f"{API_PREFIX}/training/scenarios/{{name}}/start"),
    ("POST", f"{API_PREFIX}/training/stop"),
    ("GET", f"{API_PREFIX}/training/status"),
    ("GET", f"{API_PREFIX}/training/debrief"),
}


# --------------------------------------------------------------------------------- pure logic
def test_roles_are_ordered_and_parsed() -> None:
    assert Role.VIEWER < Role.OPERATOR < Role.INSTRUCTOR
    assert [Role.parse(s) for s in ("viewer", " Operator ", "INSTRUCTOR")] == list(Role)
    with pytest.raises(ValueError, match="unknown role 'admin'"):
        Role.parse("admin")


def test_token_store_matches_exactly_and_names_principals() -> None:
    store = TokenStore({"tok-a": Role.VIEWER, "tok-b": "operator:alice", "tok-c": "instructor"})
    assert store.authenticate(None) is None
    assert store.authenticate("") is None
    assert store.authenticate("tok-") is None
    assert store.authenticate("tok-a ") is None
    viewer, alice = store.authenticate("tok-a"), store.authenticate("tok-b")
    assert viewer is not None
    assert viewer.role is Role.VIEWER
    assert alice is not None
    assert alice.role is Role.OPERATOR
    assert alice.name == "alice"
    instructor = store.authenticate("tok-c")
    assert instructor is not None
    assert instructor.may(Role.OPERATOR)
    assert not viewer.may(Role.OPERATOR)
    assert "tok-" not in repr(store)
    assert "tok-" not in viewer.name


def test_settings_combine_token_sources_and_hide_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUPEX_GROUND_TOKENS", json.dumps({"s3cret-json": "operator:bob"}))
    monkeypatch.setenv("LUPEX_GROUND_VIEWER_TOKEN", "s3cret-viewer")
    monkeypatch.setenv("LUPEX_GROUND_MQTT_PASSWORD", "s3cret-mqtt")
    settings = GroundSettings()
    roles = settings.token_roles()
    assert roles["s3cret-viewer"] is Role.VIEWER
    assert TokenStore(roles).authenticate("s3cret-json") is not None
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert "s3cret" not in shown
    assert "s3cret" not in str(settings.broker())


@pytest.mark.parametrize(
    ("table", "reason"),
    [
        ('{"s3cret-a": "admin"}', "entry 0 has role 'admin'"),
        ('["s3cret-a"]', "must be a JSON object"),
        ('{"s3cret-a": "viewer",', "must be a JSON object"),
    ],
)
def test_bad_token_tables_are_refused_without_echoing_tokens(table: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)) as direct:
        parse_token_table(table)
    assert "s3cret" not in str(direct.value)
    with pytest.raises(ValidationError) as wrapped:
        GroundSettings(tokens=table)
    assert "s3cret" not in str(wrapped.value)
    assert wrapped.value.errors()[0]["loc"] == ("tokens",)


def test_redaction_of_log_text() -> None:
    text = (
        "GET /api/v1/stream?token=abc.DEF-123&x=1 Authorization: Bearer abc.DEF-123 "
        "postgresql://lupex:pa55@db:5432/x"
    )
    cleaned = redact(text)
    assert "abc.DEF-123" not in cleaned
    assert "pa55" not in cleaned
    assert "token=***" in cleaned
    assert "Bearer ***" in cleaned
    assert "lupex:***@db" in cleaned
    record = logging.LogRecord("x", logging.INFO, "f", 1, "hdr %s", ("Bearer zzz9",), None)
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "hdr Bearer ***"


# --------------------------------------------------------------------------------- the app
@pytest.fixture(scope="module")
def tokens() -> GroundTokens:
    return GroundTokens()


@pytest.fixture(scope="module")
def app(
    mosquitto: MosquittoServer, tmp_path_factory: pytest.TempPathFactory, tokens: GroundTokens
) -> FastAPI:
    tmp = tmp_path_factory.mktemp("security")
    return create_app(settings_for(mosquitto, sqlite_url(tmp), tokens, f"sec-{tmp.name}"))


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[httpx.Client]:
    with server_thread(app, app.state.settings.port) as http:
        yield http


def _operations(app: FastAPI) -> list[tuple[str, str]]:
    """Every documented operation (the OpenAPI schema lists the routes of every router)."""
    out: list[tuple[str, str]] = []
    for path, item in app.openapi()["paths"].items():
        if path not in PUBLIC_PATHS:
            out.extend((method.upper(), path) for method in item if method in HTTP_METHODS)
    return out


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "rover.power.battery_soc", path)


def _call(client: httpx.Client, method: str, path: str, headers: dict[str, str]) -> int:
    body: dict[str, object] | None = {} if method in ("POST", "PUT", "PATCH") else None
    response = client.request(method, _concrete(path), headers=headers, json=body)
    status: int = response.status_code
    return status


@integration
def test_every_operation_needs_a_token(client: httpx.Client, app: FastAPI) -> None:
    operations = _operations(app)
    assert len(operations) >= 20  # every API route is covered, not a sample of them
    for method, path in operations:
        response = client.request(method, _concrete(path))
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"].startswith("Bearer"), (method, path)
        assert "token" in response.json()["detail"]
        wrong = client.request(
            method, _concrete(path), headers={"Authorization": "Bearer not-a-token"}
        )
        assert wrong.status_code == 401, (method, path)
        assert wrong.json()["detail"] == "invalid bearer token"
        basic = client.request(method, _concrete(path), headers={"Authorization": "Basic eDp5"})
        assert basic.status_code == 401, (method, path)


@integration
def test_each_role_reaches_what_it_may(
    client: httpx.Client, app: FastAPI, tokens: GroundTokens
) -> None:
    operations = _operations(app)
    assert set(operations) >= OPERATOR_OPERATIONS | INSTRUCTOR_OPERATIONS
    for method, path in operations:
        if (method, path) in INSTRUCTOR_OPERATIONS:
            refused = {"viewer", "operator"}
        elif (method, path) in OPERATOR_OPERATIONS:
            refused = {"viewer"}
        else:
            refused = set()
        for role in ("viewer", "operator", "instructor"):
            status = _call(client, method, path, tokens.header(role))
            if role in refused:
                assert status == 403, (method, path, role, status)
            else:
                # Past authentication: success, or a 404/422 about the request itself.
                assert status not in (401, 403), (method, path, role, status)


@integration
def test_forbidden_names_the_role_needed(client: httpx.Client, tokens: GroundTokens) -> None:
    response = client.post(
        f"{API_PREFIX}/alarms/x@1/acknowledge", headers=tokens.header("viewer"), json={}
    )
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "operator role" in detail
    assert "viewer role" in detail


@integration
def test_liveness_and_metrics_need_no_token(client: httpx.Client) -> None:
    assert client.get(f"{API_PREFIX}/health").json()["status"] == "ok"
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert "lupex_ws_dropped_total" in metrics.text


@integration
def test_metrics_can_require_a_viewer(
    mosquitto: MosquittoServer, tmp_path: Path, tokens: GroundTokens, unique_id: str
) -> None:
    settings = settings_for(
        mosquitto, sqlite_url(tmp_path), tokens, unique_id, metrics_public=False
    )
    with server_thread(create_app(settings), settings.port) as private:
        assert private.get("/metrics").status_code == 401
        assert private.get("/metrics", headers=tokens.header("viewer")).status_code == 200


@integration
def test_tokens_never_reach_the_logs(
    client: httpx.Client, tokens: GroundTokens, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for role in ("viewer", "operator", "instructor"):
        client.get(f"{API_PREFIX}/parameters/latest", headers=tokens.header(role))
        client.post(
            f"{API_PREFIX}/alarms/none@0/acknowledge",
            headers=tokens.header(role),
            json={"comment": "checking"},
        )
    client.get(f"{API_PREFIX}/links", headers={"Authorization": "Bearer wrong-s3cret-token"})
    client.get(f"{API_PREFIX}/links?token={tokens.viewer}")
    # The service's records (the test's own HTTP client logs its URLs; it is not the service).
    records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert any(r.name == "uvicorn.access" for r in records)  # the requests were logged ...
    logged = "".join(f"{r.name} {r.getMessage()}" for r in records)
    for secret in (*tokens.all(), "wrong-s3cret-token"):
        assert secret not in logged  # ... without a token


# --------------------------------------------------------------------------------- WebSocket
@pytest.fixture
async def ws_server(
    mosquitto: MosquittoServer, tmp_path: Path, tokens: GroundTokens, unique_id: str
) -> AsyncIterator[str]:
    settings = settings_for(mosquitto, sqlite_url(tmp_path), tokens, unique_id)
    async with running_server(create_app(settings), settings.port):
        yield f"ws://127.0.0.1:{settings.port}{API_PREFIX}/stream"


async def _close_code(url: str, **kwargs: object) -> int | None:
    async with connect(url, open_timeout=timeout(10), **kwargs) as ws:  # type: ignore[arg-type]
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


@integration
async def test_websocket_refuses_missing_and_unknown_tokens(ws_server: str) -> None:
    assert await _close_code(ws_server) == 4401
    assert await _close_code(f"{ws_server}?token=nope") == 4401
    assert await _close_code(ws_server, additional_headers={"Authorization": "Bearer x"}) == 4401


@integration
async def test_websocket_takes_the_token_from_header_or_query(
    ws_server: str, tokens: GroundTokens, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for kwargs, url in (
        ({"additional_headers": tokens.header("viewer")}, ws_server),
        ({}, f"{ws_server}?token={tokens.operator}"),
    ):
        async with connect(url, open_timeout=timeout(10), **kwargs) as ws:  # type: ignore[arg-type]
            await ws.send(json.dumps({"op": "ping"}))
            reply = json.loads(await ws.recv())
            assert reply["type"] == "pong"
    assert "WebSocket" in caplog.text  # uvicorn logged the connections ...
    assert tokens.viewer not in caplog.text
    assert tokens.operator not in caplog.text

"""The REST client: clear errors for every failure, and no token in anything it shows."""

from __future__ import annotations

import httpx
import pytest

from dashboard.client import (
    ApiClient,
    ForbiddenError,
    GroundUnreachableError,
    RequestRefusedError,
    UnauthorizedError,
    items,
)
from dashboard.settings import DashboardSettings, mask_token
from tests.dashboard.fake_ground import FakeGround
from tests.support.ports import free_port

TOKEN = "secret-token-123456"


def client_answering(status: int, body: object) -> ApiClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    return ApiClient("http://ground.test", TOKEN, transport=httpx.MockTransport(handler))


def test_requests_carry_the_bearer_token_and_decode_json(ground: FakeGround) -> None:
    client = ground.client()
    assert client.clock()["speed"] == 50.0
    assert client.whoami()["role"] == "instructor"
    assert TOKEN not in repr(client)


def test_a_missing_token_is_explained() -> None:
    ground = FakeGround()
    client = ApiClient("http://ground.test", None, transport=ground.transport)
    with pytest.raises(UnauthorizedError, match="no token was given") as caught:
        client.clock()
    assert caught.value.status == 401


def test_a_refused_token_is_explained_without_showing_it() -> None:
    client = client_answering(401, {"detail": "unknown token"})
    with pytest.raises(UnauthorizedError, match="does not accept") as caught:
        client.clock()
    assert TOKEN not in str(caught.value)


def test_a_role_too_low_is_a_forbidden_error() -> None:
    client = client_answering(403, {"detail": "needs the operator role"})
    with pytest.raises(ForbiddenError, match="needs the operator role"):
        client.send_command("rover.obsw.are_you_alive", {})


def test_a_validation_error_names_the_field() -> None:
    body = {"detail": [{"loc": ["body", "args", "distance"], "msg": "must be <= 100"}]}
    client = client_answering(422, body)
    with pytest.raises(RequestRefusedError, match=r"args\.distance: must be <= 100"):
        client.send_command("rover.mobility.drive_distance", {"distance": 500})


def test_an_unreachable_ground_is_a_clear_error() -> None:
    client = ApiClient(f"http://127.0.0.1:{free_port()}", TOKEN, timeout_s=2.0)
    with pytest.raises(GroundUnreachableError, match="cannot reach the ground") as caught:
        client.health()
    assert TOKEN not in str(caught.value)


def test_mission_database_listings_are_memoised(ground: FakeGround) -> None:
    client = ground.client()
    first = client.mdb_commands()
    second = client.mdb_commands()
    assert first == second
    assert [p for _, p, _ in ground.requests].count("/mdb/commands") == 1


def test_commands_come_newest_first_and_events_ask_for_the_newest(ground: FakeGround) -> None:
    client = ground.client()
    client.send_command("lander.obsw.are_you_alive", {})
    assert [c["id"] for c in client.commands()] == ["c-0002", "c-0001"]
    client.events(limit=5)
    request = next(r for r in ground.requests if r[1] == "/events")
    assert request[0] == "GET"


def test_items_accepts_bare_and_wrapped_lists() -> None:
    assert items([{"a": 1}, 2]) == [{"a": 1}]
    assert items({"alarms": [{"id": "x"}]}, "alarms") == [{"id": "x"}]
    assert items({"other": 1}, "alarms") == []


def test_settings_strip_the_api_and_derive_the_stream_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUPEX_DASHBOARD_API", "https://ground.example:8443/api/v1/")
    monkeypatch.setenv("LUPEX_DASHBOARD_TOKEN", TOKEN)
    settings = DashboardSettings()
    assert settings.api == "https://ground.example:8443"
    assert settings.stream_url == "wss://ground.example:8443/api/v1/stream"
    assert TOKEN not in repr(settings)
    assert settings.token_value() == TOKEN
    assert mask_token(TOKEN) == "secr…(19 chars)"
    assert mask_token(None) == "none"

"""A small typed client of the ground's REST API (``/api/v1``), built on httpx.

One :class:`ApiClient` per Streamlit server process (held in ``st.cache_resource``); httpx's
connection pool is safe to share between the sessions' threads. Every failure becomes an
:class:`ApiError` subclass that the pages show as a clear message: the ground unreachable, the
token missing or refused (401), the role too low (403), a request refused (422, naming the field),
or another HTTP error. The token never appears in an error, a log line or ``repr``.

The mission database does not change while the ground runs: its listings are memoised here for
``mdb_ttl_s`` so a page rerun does not fetch them again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote

import httpx

Json = dict[str, Any]

API_PREFIX: Final = "/api/v1"
USER_AGENT: Final = "lupex-dashboard/0.1"
PASSES_TTL_S: Final = 120.0
"""How long a pass prediction is reused (the ground computes it with the full geometry)."""


class ApiError(Exception):
    """A request to the ground failed; ``str()`` is a sentence for the operator."""

    def __init__(self, message: str, *, status: int | None = None, path: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.path = path

    @property
    def title(self) -> str:
        return "Ground service error"


class GroundUnreachableError(ApiError):
    """No answer: the ground is down, the URL is wrong, or the request timed out."""

    @property
    def title(self) -> str:
        return "Ground service unreachable"


class UnauthorizedError(ApiError):
    """401: no token, or a token the ground does not know."""

    @property
    def title(self) -> str:
        return "Not authenticated (401)"


class ForbiddenError(ApiError):
    """403: the token's role may not do this."""

    @property
    def title(self) -> str:
        return "Not allowed for this role (403)"


class RequestRefusedError(ApiError):
    """422 (or 400/404/409): the request itself was refused; the message says why."""

    @property
    def title(self) -> str:
        return "Request refused"


def _detail(response: httpx.Response) -> str:
    """The ``detail`` of a FastAPI error, flattened to one line."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI validation errors: [{"loc": [...], "msg": ...}, ...]
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", []) if p not in {"body", "query"})
                parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    if isinstance(detail, dict):
        field = detail.get("field") or detail.get("argument")
        message = detail.get("message") or detail.get("msg") or detail.get("detail") or detail
        return f"{field}: {message}" if field else str(message)
    return str(detail)


def items(data: Any, *keys: str) -> list[Json]:
    """The list in a response: the body itself, or the first of ``keys`` that holds a list."""
    if isinstance(data, list):
        return [d for d in data if isinstance(d, dict)]
    if isinstance(data, dict):
        for key in keys:
            value = data.get(key)
            if isinstance(value, list):
                return [d for d in value if isinstance(d, dict)]
    return []


class ApiClient:
    """REST calls of the ground service, each with a timeout and a clear error."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        mdb_ttl_s: float = 300.0,
    ) -> None:
        self.base_url: Final = base_url.rstrip("/")
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url + API_PREFIX,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0)),
            transport=transport,
        )
        self._has_token: Final = bool(token)
        self._mdb_ttl_s = mdb_ttl_s
        self._memo: dict[str, tuple[float, Any]] = {}
        self._memo_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ApiClient({self.base_url!r}, token={'set' if self._has_token else 'none'})"

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------------------ plumbing
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """One request; the decoded JSON body, or an :class:`ApiError`."""
        clean = None
        if params is not None:
            clean = {k: v for k, v in params.items() if v is not None and v != ""}
        try:
            response = self._http.request(method, path, params=clean, json=json)
        except httpx.TimeoutException:
            msg = f"the ground at {self.base_url} did not answer {method} {path} in time"
            raise GroundUnreachableError(msg, path=path) from None
        except httpx.TransportError as exc:
            msg = f"cannot reach the ground at {self.base_url} ({type(exc).__name__}: {exc})"
            raise GroundUnreachableError(msg, path=path) from None
        if response.status_code >= 400:
            raise self._error(response, path)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            msg = f"{method} {path}: the ground answered something that is not JSON"
            raise ApiError(msg, status=response.status_code, path=path) from None

    def _error(self, response: httpx.Response, path: str) -> ApiError:
        code = response.status_code
        detail = _detail(response)
        if code == 401:
            hint = (
                "no token was given: start the dashboard with --token or LUPEX_DASHBOARD_TOKEN"
                if not self._has_token
                else "the ground does not accept this dashboard's token"
            )
            return UnauthorizedError(f"{hint} ({detail})", status=code, path=path)
        if code == 403:
            return ForbiddenError(detail, status=code, path=path)
        if code == 404 and detail == "Not Found":  # FastAPI's answer for a route it lacks
            msg = f"this ground service does not offer {API_PREFIX}{path} (404)"
            return RequestRefusedError(msg, status=code, path=path)
        if code in {400, 404, 409, 422}:
            return RequestRefusedError(f"{detail} ({code})", status=code, path=path)
        if code == 503:
            return GroundUnreachableError(f"the ground is not ready ({detail})", status=code)
        return ApiError(f"HTTP {code} on {path}: {detail}", status=code, path=path)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json={} if body is None else body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def _memoised(self, key: str, path: str, ttl_s: float | None = None, **params: Any) -> Any:
        now = time.monotonic()
        ttl = self._mdb_ttl_s if ttl_s is None else ttl_s
        with self._memo_lock:
            hit = self._memo.get(key)
            if hit is not None and now - hit[0] < ttl:
                return hit[1]
        value = self.get(path, **params)
        with self._memo_lock:
            if len(self._memo) > 256:  # bounded: keys are a few listings and searches
                self._memo.clear()
            self._memo[key] = (now, value)
        return value

    # ---------------------------------------------------------------------------- service
    def health(self) -> Json:
        return dict(self.get("/health"))

    def health_details(self) -> Json:
        return dict(self.get("/health/details"))

    def clock(self) -> Json:
        return dict(self.get("/clock"))

    def whoami(self) -> Json:
        return dict(self._memoised("whoami", "/whoami"))

    # --------------------------------------------------------------------- mission database
    def mdb_parameters(
        self, search: str = "", subsystem: str = "", vehicle: str = ""
    ) -> list[Json]:
        key = f"params|{search}|{subsystem}|{vehicle}"
        data = self._memoised(
            key, "/mdb/parameters", search=search, subsystem=subsystem, vehicle=vehicle
        )
        return items(data, "parameters", "items")

    def mdb_parameter(self, name: str) -> Json:
        return dict(self._memoised(f"param|{name}", f"/mdb/parameters/{quote(name)}"))

    def mdb_commands(self) -> list[Json]:
        return items(self._memoised("commands", "/mdb/commands"), "commands", "items")

    def mdb_events(self) -> list[Json]:
        return items(self._memoised("events", "/mdb/events"), "events", "items")

    def mdb_stations(self) -> list[Json]:
        return items(self._memoised("stations", "/mdb/stations"), "stations", "items")

    def units(self) -> dict[str, str]:
        """Parameter name → engineering units, from the mission database."""
        return {p["name"]: str(p.get("units") or "") for p in self.mdb_parameters() if "name" in p}

    # ------------------------------------------------------------------------- parameters
    def latest(self, names: Iterable[str] = (), pattern: str = "") -> dict[str, Json]:
        """Latest values by name (parameters never received are left out)."""
        joined = ",".join(names)
        data = self.get("/parameters/latest", names=joined, pattern=pattern)
        return {v["name"]: v for v in items(data, "values") if "name" in v}

    def history(self, name: str, start: float, end: float, buckets: int = 500) -> Json:
        return dict(
            self.get(f"/parameters/{quote(name)}/history", start=start, end=end, buckets=buckets)
        )

    def samples(self, name: str, start: float, end: float, limit: int = 10_000) -> Json:
        return dict(
            self.get(f"/parameters/{quote(name)}/samples", start=start, end=end, limit=limit)
        )

    # ----------------------------------------------------------------------- events, alarms
    def events(
        self,
        *,
        start: float | None = None,
        end: float | None = None,
        severity: str = "",
        spacecraft: str = "",
        limit: int = 100,
    ) -> list[Json]:
        """The newest ``limit`` events (in the window, severity and vehicle), newest first."""
        data = self.get(
            "/events",
            start=start,
            end=end,
            severity=severity,
            spacecraft=spacecraft,
            limit=limit,
            newest_first="true",
        )
        return items(data, "events", "items")

    def alarms(self, state: str = "") -> list[Json]:
        return items(self.get("/alarms", state=state), "alarms", "items")

    def acknowledge(self, alarm_id: str, comment: str | None = None) -> Json:
        body = {"comment": comment} if comment else {}
        return dict(self.post(f"/alarms/{quote(alarm_id, safe='')}/acknowledge", body))

    # ----------------------------------------------------------------- links and passes
    def links(self) -> list[Json]:
        return items(self.get("/links"), "links", "stations", "items")

    def carrier(self) -> Json:
        """``{"time", "vehicles": [{"vehicle", "station", ...}], "handovers", "stations"}``."""
        data = self.get("/links/carrier")
        return data if isinstance(data, dict) else {"vehicles": items(data)}

    def counters(self) -> Json:
        return dict(self.get("/counters"))

    def passes(self, hours: float = 24.0) -> Json:
        """Predicted passes and the Earth at the site (a heavy computation: kept for a minute)."""
        return dict(self._memoised(f"passes|{hours}", "/passes", PASSES_TTL_S, hours=hours))

    # ----------------------------------------------------------------------- commanding
    def send_command(
        self, name: str, args: Mapping[str, Any], *, confirm: bool = False, bypass: bool = False
    ) -> Json:
        body: dict[str, Any] = {"name": name, "args": dict(args), "confirm": confirm}
        if bypass:
            body["bypass"] = True
        return dict(self.post("/commands", body))

    def commands(self, limit: int = 50) -> list[Json]:
        """The newest ``limit`` commands, newest first (the API lists oldest first)."""
        found = items(self.get("/commands", limit=limit), "commands", "items")
        return sorted(found, key=lambda c: float(c.get("created_at") or 0.0), reverse=True)

    def command(self, command_id: str) -> Json:
        return dict(self.get(f"/commands/{quote(command_id, safe='')}"))

    def link_status(self) -> list[Json]:
        """Command-link status (CLCW and FARM state) per vehicle."""
        return items(self.get("/commands/link-status"), "vehicles", "items")

    def cop1(self, vehicle: str, directive: str, **fields: Any) -> Json:
        """A COP-1 directive to the ground's FOP-1 for ``vehicle`` (operator)."""
        body = {"directive": directive, **fields}
        return dict(self.post(f"/commands/link/{quote(vehicle, safe='')}/cop1", body))

    def cancel_command(self, command_id: str) -> Json:
        return dict(self.delete(f"/commands/{quote(command_id, safe='')}"))

    # --------------------------------------------------------------------- faults, training
    def faults(self) -> list[Json]:
        """The fault catalogue; each fault lists its ``active`` instance ids."""
        return items(self.get("/faults"), "faults", "catalogue", "items")

    def inject_fault(
        self,
        fault_id: str,
        params: Mapping[str, Any] | None = None,
        *,
        duration_s: float | None = None,
        until_cleared: bool = False,
    ) -> Json:
        body: Json = {"params": dict(params or {}), "until_cleared": until_cleared}
        if duration_s is not None:
            body["duration_s"] = duration_s
        return dict(self.post(f"/faults/{quote(fault_id, safe='')}", body))

    def clear_fault(self, fault_id: str) -> Json:
        """Clear every instance of a fault, or one instance (``<fault>#<n>``)."""
        return dict(self.delete(f"/faults/{quote(fault_id, safe='')}"))

    def scenarios(self) -> list[Json]:
        return items(self.get("/training/scenarios"), "scenarios", "items")

    def start_scenario(self, name: str) -> Json:
        return dict(self.post(f"/training/scenarios/{quote(name, safe='')}/start", {}))

    def stop_training(self) -> Json:
        return dict(self.post("/training/stop", {}))

    def training_status(self) -> Json:
        return dict(self.get("/training/status"))

    def debrief(self) -> Json:
        return dict(self.get("/training/debrief"))

"""Access control of the HTTP API and the WebSocket: bearer tokens with ordered roles.

Roles are ordered, each including the ones below it: ``viewer`` (read and stream) < ``operator``
(commands, alarm acknowledgement) < ``instructor`` (faults, scenarios, training). Tokens come from
the settings (``GroundSettings.token_roles``); a token may carry a display name after the role,
``"operator:alice"``, used to record who acknowledged an alarm or sent a command.

Routers protect themselves with the FastAPI dependency ``require(role)``::

    router = APIRouter(dependencies=[Depends(require(Role.VIEWER))])

    @router.post("/commands")
    async def send(principal: Annotated[Principal, Depends(require(Role.OPERATOR))]) -> ...

No or an unknown token → 401 with ``WWW-Authenticate: Bearer``; a known token with too low a
role → 403 naming the role needed. The WebSocket uses ``authenticate_websocket`` (token in the
``Authorization`` header, or a ``token`` query parameter since browsers cannot set headers) and
closes with 4401 or 4403.

Tokens are compared with ``hmac.compare_digest`` against every configured token (no early exit),
and never logged: ``TokenQueryStripper`` removes a ``token`` query parameter from the request
before anything (uvicorn's access log included) can record the URL.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from typing import Annotated, Any, Final, Self
from urllib.parse import parse_qsl, urlencode

from fastapi import Depends, HTTPException, Request, WebSocket, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

log = logging.getLogger("lupex.ground.security")

WS_CLOSE_UNAUTHENTICATED: Final = 4401
WS_CLOSE_FORBIDDEN: Final = 4403
TOKEN_QUERY_PARAMETER: Final = "token"  # noqa: S105 - a parameter name, not a secret
QUERY_TOKEN_SCOPE_KEY: Final = "lupex.query_token"  # noqa: S105 - a dict key
"""Where ``TokenQueryStripper`` keeps the token it removed from the query string."""


class Role(IntEnum):
    """Roles in increasing order of power; a higher role may do everything a lower one may."""

    VIEWER = 1
    OPERATOR = 2
    INSTRUCTOR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: object) -> Self:
        """``"viewer"`` / ``"operator"`` / ``"instructor"`` (any case) → the role."""
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                pass
        msg = f"unknown role {value!r}; expected one of viewer, operator, instructor"
        raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a role and a display name (never the token)."""

    role: Role
    name: str

    def may(self, role: Role) -> bool:
        return self.role >= role


def _fingerprint(token: str) -> str:
    # A short hash to tell anonymous tokens apart in records; it cannot be turned back into the
    # token (the tokens are random and long), unlike a prefix of the token would be.
    return hashlib.sha256(token.encode()).hexdigest()[:8]


class TokenStore:
    """The configured tokens. ``authenticate`` compares in constant time per token."""

    def __init__(self, tokens: Mapping[str, Role | str]) -> None:
        entries: list[tuple[bytes, Principal]] = []
        for token, spec in tokens.items():
            if isinstance(spec, Role):
                role, name = spec, ""
            else:
                role_text, _, name = spec.partition(":")
                role = Role.parse(role_text)
            name = name.strip() or f"{role.label}-{_fingerprint(token)}"
            entries.append((token.encode(), Principal(role, name)))
        self._entries: Final = tuple(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"TokenStore({len(self)} tokens)"

    def authenticate(self, token: str | None) -> Principal | None:
        """The principal of ``token``, or None when it is missing or unknown."""
        if not token:
            return None
        candidate = token.encode()
        found: Principal | None = None
        for secret, principal in self._entries:
            # compare_digest against every token: the time taken does not say which one matched.
            if hmac.compare_digest(candidate, secret) and found is None:
                found = principal
        return found


class AuthError(HTTPException):
    """401 or 403 with the reason in ``detail`` (and ``WWW-Authenticate`` for 401)."""


def unauthenticated(reason: str) -> AuthError:
    return AuthError(
        status.HTTP_401_UNAUTHORIZED,
        detail=reason,
        headers={"WWW-Authenticate": 'Bearer realm="lupex-ground"'},
    )


def forbidden(needed: Role, principal: Principal) -> AuthError:
    return AuthError(
        status.HTTP_403_FORBIDDEN,
        detail=(
            f"this needs the {needed.label} role (or higher); "
            f"the token presented has the {principal.role.label} role"
        ),
    )


_bearer: Final = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A token from the service's settings (LUPEX_GROUND_TOKENS or "
    "LUPEX_GROUND_{VIEWER,OPERATOR,INSTRUCTOR}_TOKEN). Roles: viewer < operator < instructor.",
)


def token_store(connection: HTTPConnection) -> TokenStore:
    store = getattr(connection.app.state, "tokens", None)
    if not isinstance(store, TokenStore):  # create_app always sets it; a bare app does not
        msg = "app.state.tokens is not a TokenStore: build the app with ground.app.create_app"
        raise RuntimeError(msg)
    return store


@cache
def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency: the caller's ``Principal`` if its token has ``role`` or higher.

    Cached per role, so FastAPI runs it once per request however often it is declared.
    """

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None:
            log.info("rejected %s %s: no bearer token", request.method, request.url.path)
            raise unauthenticated("missing bearer token (Authorization: Bearer <token>)")
        principal = token_store(request).authenticate(credentials.credentials)
        if principal is None:
            log.info("rejected %s %s: unknown token", request.method, request.url.path)
            raise unauthenticated("invalid bearer token")
        if not principal.may(role):
            log.info(
                "refused %s %s to %s: needs %s",
                request.method,
                request.url.path,
                principal.name,
                role.label,
            )
            raise forbidden(role, principal)
        return principal

    dependency.__name__ = f"require_{role.label}"
    return dependency


def websocket_token(websocket: WebSocket) -> str | None:
    """The token of a WebSocket request: ``Authorization: Bearer`` or the ``token`` parameter."""
    header = websocket.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    stripped = websocket.scope.get(QUERY_TOKEN_SCOPE_KEY)
    if isinstance(stripped, str) and stripped:
        return stripped
    query = websocket.query_params.get(TOKEN_QUERY_PARAMETER)
    return query or None


async def authenticate_websocket(
    websocket: WebSocket, store: TokenStore, role: Role = Role.VIEWER
) -> Principal | None:
    """Check a WebSocket's token. On failure accept, close with 4401/4403 and return None.

    The connection is accepted before closing because a close before the handshake reaches the
    client as a bare HTTP 403, without the close code and reason a client can act on.
    """
    principal = store.authenticate(websocket_token(websocket))
    if principal is None:
        await websocket.accept()
        log.info("rejected WebSocket %s: missing or invalid token", websocket.url.path)
        await websocket.close(WS_CLOSE_UNAUTHENTICATED, "missing or invalid token")
        return None
    if not principal.may(role):
        await websocket.accept()
        log.info("refused WebSocket %s to %s", websocket.url.path, principal.name)
        await websocket.close(WS_CLOSE_FORBIDDEN, f"this needs the {role.label} role")
        return None
    return principal


class TokenQueryStripper:
    """ASGI middleware: move a ``token`` query parameter out of the URL before it is logged.

    Servers log the request target (uvicorn's access log, its "WebSocket ... [accepted]" line)
    from the connection scope, which is the dict the application receives: the token removed here
    is not in those lines. It is kept under ``scope["lupex.query_token"]`` for the WebSocket's
    authentication. A token in a query parameter is only accepted by the WebSocket.
    """

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") in ("http", "websocket"):
            query: bytes = scope.get("query_string", b"")
            if b"token=" in query:
                pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
                kept = [(k, v) for k, v in pairs if k != TOKEN_QUERY_PARAMETER]
                tokens = [v for k, v in pairs if k == TOKEN_QUERY_PARAMETER]
                if tokens:
                    # Mutate the scope in place: the server's own reference (used for its logs)
                    # must lose the token too.
                    scope["query_string"] = urlencode(kept).encode("latin-1")
                    scope[QUERY_TOKEN_SCOPE_KEY] = tokens[-1]
        await self.app(scope, receive, send)

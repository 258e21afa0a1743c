"""``create_app(settings)``: the ground service as a FastAPI application.

The lifespan builds the parts and runs the background services::

    GroundMetrics ─┐
    load_mdb()  ───┼─> GroundState.from_mdb ─> StreamHub (LiveSink) ─┐
    open_archive() ┘                                                 ├─> IngestService(config, mdb,
                                                                     │     archive, state, hub,
                                                                     │     metrics)
    one asyncio.TaskGroup, in a supervisor task: ingest.run(), hub.run() (gauges), ...

The TaskGroup lives in a task of its own rather than around the lifespan's ``yield``: a service
that dies then cancels its siblings and marks the service failed (``/health`` answers 503 and
``on_fatal`` is called; ``lupex ground`` then exits non-zero) instead of cancelling the server's
lifespan task from under uvicorn. On shutdown (SIGINT/SIGTERM, handled by uvicorn) WebSocket
clients are told goodbye (1001), the TaskGroup is cancelled (ingest commits what it holds) and the
archive is closed.

Routers live in ``ground.api``; each protects itself with ``ground.security.require(role)``.
Later routers (commanding, training) are added with ``app.include_router(..., prefix=API_PREFIX)``
and take what they need from ``app.state.services`` (``GroundServices.extras`` has room for their
own objects); ``extra_routers`` and ``extra_services`` of ``create_app`` do exactly that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ground.api import events as events_api
from ground.api import mdb as mdb_api
from ground.api import parameters as parameters_api
from ground.api import status as status_api
from ground.api import stream as stream_api
from ground.api.deps import GroundServices, service_version
from ground.api.errors import UnhandledErrors
from ground.archive import open_archive
from ground.commanding.wiring import EXTRA_SERVICES as COMMANDING_SERVICES
from ground.commanding.wiring import extra_routers as commanding_routers
from ground.ingest.config import IngestConfig
from ground.ingest.service import IngestService
from ground.logging import configure_logging, install_redaction
from ground.metrics import GroundMetrics
from ground.processing.state import GroundState
from ground.security import Role, TokenQueryStripper, TokenStore, require
from ground.settings import GroundSettings
from ground.stream.encode import ParameterEncoder
from ground.stream.hub import StreamHub
from mission.mdb.database import MissionDatabase
from mission.mdb.loader import load_mdb

log = logging.getLogger("lupex.ground")

API_PREFIX: Final = "/api/v1"

ServiceFactory = Callable[[GroundServices], Coroutine[Any, Any, None]]
"""A background service: a coroutine function of the running parts, run in the TaskGroup."""

DESCRIPTION: Final = """\
Mission control service of the LUPEX ground-segment mock: telemetry ingest over MQTT (CCSDS TM
frames), decoding with the mission database, limits, alarms and events, an archive, and this API.

**Authentication**: every endpoint except `/api/v1/health` needs `Authorization: Bearer <token>`.
Roles: *viewer* (read and stream) < *operator* (alarm acknowledgement, commands) < *instructor*
(faults and scenarios). No or an unknown token → 401; a role too low → 403 naming the role needed.

**Live stream**: WebSocket `/api/v1/stream` (token in the `Authorization` header or a `token`
query parameter; closes 4401/4403 on failure). Send `{"op": "subscribe", "parameters":
["rover.power.*"], "alarms": true, "events": true, "links": true, "commands": true}`, `{"op":
"unsubscribe", ...}` or `{"op": "ping"}`; receive batched `parameters`, `alarms`, `events`,
`links`, `commands` messages, `subscribed` acknowledgements, `stats` (your drop counter), `pong`
and `error` (naming the field). Each client has a bounded queue: when it reads too slowly the
oldest updates are dropped and counted, and nobody else is slowed down.

**Times** are Unix seconds (UTC) in responses; query parameters also take ISO 8601.

**Metrics**: Prometheus text at `/metrics`, without a token (counts only, no telemetry values).
"""

TAGS: Final = [
    {"name": "mission database", "description": "Parameters, packets, commands, events, stations."},
    {"name": "parameters", "description": "Latest values, history in buckets, raw samples."},
    {"name": "export", "description": "CSV export of archived samples."},
    {"name": "events", "description": "On-board events."},
    {"name": "alarms", "description": "Limit alarms and their acknowledgement."},
    {"name": "links", "description": "Ground-station links and ingest counters."},
    {"name": "quarantine", "description": "Messages ingest could not use."},
    {"name": "system", "description": "Health, mission clock, identity, metrics."},
]


# ---------------------------------------------------------------------------------------- wiring
def build_hub(
    mdb: MissionDatabase, state: GroundState, metrics: GroundMetrics, settings: GroundSettings
) -> StreamHub:
    """The stream hub, encoding values with the mission database's types, limits and labels."""
    parameters = mdb.parameters
    encoder = ParameterEncoder(
        eng_types={name: p.type.value for name, p in parameters.items()},
        monitored=[name for name, check in state.limits.items() if check.enabled],
        enumerations={name: p.enumeration for name, p in parameters.items() if p.enumeration},
    )
    return StreamHub(
        parameters=parameters,
        encoder=encoder,
        latest=state.latest.get,
        metrics=metrics,
        queue_size=settings.stream_queue_size,
        min_interval_s=settings.stream_min_interval_s,
        max_values=settings.stream_max_values,
        max_queued_values=settings.stream_queue_values,
    )


async def _run_ingest(services: GroundServices) -> None:
    if services.ingest is None:
        return
    await services.ingest.run()


async def _run_hub(services: GroundServices) -> None:
    await services.hub.run()


DEFAULT_SERVICES: Final[dict[str, ServiceFactory]] = {
    "ingest": _run_ingest,
    "stream-gauges": _run_hub,
}


async def _supervise(
    services: GroundServices,
    factories: dict[str, ServiceFactory],
    on_fatal: Callable[[BaseException], None] | None,
) -> None:
    """Run every background service in one TaskGroup; a failure stops them all and is reported.

    The failure is reported as soon as the service dies (a done callback), not once the TaskGroup
    has unwound: a sibling slow to honour its cancellation must not hide it.
    """

    def report(task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None or services.failure is not None:
            return
        error = task.exception()
        assert error is not None
        services.failure = error
        log.critical(
            "background service %s failed; the ground service cannot continue",
            task.get_name(),
            exc_info=error,
        )
        if on_fatal is not None:
            on_fatal(error)

    with contextlib.suppress(Exception):  # an ExceptionGroup, already reported task by task
        async with asyncio.TaskGroup() as group:
            for name, factory in factories.items():
                task = group.create_task(factory(services), name=name)
                task.add_done_callback(report)
                services.tasks[name] = task


async def _stop(supervisor: asyncio.Task[None], services: GroundServices, grace_s: float) -> None:
    """Cancel the services' TaskGroup and wait for it, at most ``grace_s`` seconds."""
    supervisor.cancel()
    done, _ = await asyncio.wait({supervisor}, timeout=grace_s)
    if not done:
        running = [name for name, state in services.task_states().items() if state == "running"]
        log.error(
            "background service(s) %s did not stop within %.0f s of being cancelled; "
            "closing the archive anyway",
            ", ".join(running) or "?",
            grace_s,
        )


def _startup_banner(settings: GroundSettings, tokens: TokenStore) -> None:
    host = settings.host if settings.host not in ("0.0.0.0", "::") else "127.0.0.1"
    base = f"{host}:{settings.port}"
    log.info(
        "ground service ready: HTTP http://%s%s (docs http://%s/docs), WebSocket ws://%s%s/stream, "
        "metrics http://%s/metrics",
        base,
        API_PREFIX,
        base,
        base,
        API_PREFIX,
        base,
    )
    log.info(
        "broker %s (client id %s%s), archive %s, %d access token(s)",
        settings.broker(),
        settings.mqtt_client_id,
        f", share group {settings.share_group}" if settings.share_group else "",
        settings.redacted_db_url(),
        len(tokens),
    )
    if not len(tokens):
        log.warning(
            "no access tokens configured (LUPEX_GROUND_TOKENS or LUPEX_GROUND_*_TOKEN): "
            "every API call except /api/v1/health will be refused"
        )


def _lifespan(
    factories: dict[str, ServiceFactory],
    on_fatal: Callable[[BaseException], None] | None,
    extra_services: Sequence[tuple[str, ServiceFactory]],
    with_ingest: bool,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings: GroundSettings = app.state.settings
        metrics = GroundMetrics()
        mdb = await asyncio.to_thread(load_mdb, settings.mdb_dir)
        archive = await asyncio.to_thread(open_archive, settings.db_url)
        try:
            state = GroundState.from_mdb(mdb)
            hub = build_hub(mdb, state, metrics, settings)
            ingest = (
                IngestService(
                    IngestConfig.from_settings(settings), mdb, archive, state, hub, metrics
                )
                if with_ingest
                else None
            )
            services = GroundServices(
                settings=settings,
                mdb=mdb,
                archive=archive,
                state=state,
                hub=hub,
                metrics=metrics,
                ingest=ingest,
            )
            app.state.services = services
            app.state.metrics = metrics
            supervisor = asyncio.create_task(
                _supervise(services, {**factories, **dict(extra_services)}, on_fatal),
                name="ground-services",
            )
            _startup_banner(settings, app.state.tokens)
            try:
                yield
            finally:
                log.info("ground service stopping")
                hub.close_all()
                await _stop(supervisor, services, settings.shutdown_grace_s)
                if ingest is not None:
                    await asyncio.to_thread(ingest.close)
                app.state.services = None
        finally:
            await asyncio.to_thread(archive.close)
            log.info("ground service stopped; archive closed")

    return lifespan


# ---------------------------------------------------------------------------------------- OpenAPI
def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """OpenAPI with an example on every schema, FastAPI's own error schemas included."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        components = schema.get("components", {}).get("schemas", {})
        validation_item = {
            "loc": ["query", "buckets"],
            "msg": "buckets must be between 1 and 10000",
            "type": "value_error",
        }
        if "ValidationError" in components:
            components["ValidationError"]["examples"] = [validation_item]
        if "HTTPValidationError" in components:
            components["HTTPValidationError"]["examples"] = [{"detail": [validation_item]}]
        for component in components.values():
            if "examples" not in component and "enum" in component:
                component["examples"] = [component["enum"][0]]
        app.openapi_schema = schema
        return schema

    return build


# ---------------------------------------------------------------------------------------- the app
def create_app(
    settings: GroundSettings,
    *,
    on_fatal: Callable[[BaseException], None] | None = None,
    extra_routers: Sequence[APIRouter] = (),
    extra_services: Sequence[tuple[str, ServiceFactory]] = (),
    with_ingest: bool = True,
    with_commanding: bool | None = None,
) -> FastAPI:
    """The ground service. Nothing starts until the ASGI lifespan does (uvicorn, TestClient).

    ``on_fatal`` is called once if a background service dies. ``extra_routers`` are mounted
    under ``/api/v1``; ``extra_services`` run in the services' TaskGroup. ``with_ingest=False``
    leaves the MQTT ingest out (tools that only read the archive). ``with_commanding`` (default:
    as ``with_ingest``) adds the command link, link tracking, passes and training routers and
    services (``ground.commanding.wiring``).
    """
    if with_commanding is None:
        with_commanding = with_ingest
    if with_commanding:
        given_routers = {id(r) for r in extra_routers}
        given_services = {name for name, _ in extra_services}
        extra_routers = [
            *(r for r in commanding_routers() if id(r) not in given_routers),
            *extra_routers,
        ]
        extra_services = [
            *(s for s in COMMANDING_SERVICES if s[0] not in given_services),
            *extra_services,
        ]
    install_redaction()
    app = FastAPI(
        title="LUPEX ground service",
        version=service_version(),
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=_lifespan(dict(DEFAULT_SERVICES), on_fatal, extra_services, with_ingest),
    )
    app.state.settings = settings
    app.state.tokens = TokenStore(settings.token_roles())
    app.state.services = None

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(status_api.public)
    api.include_router(status_api.viewer)
    api.include_router(mdb_api.router)
    api.include_router(parameters_api.router)
    api.include_router(parameters_api.export_router)
    api.include_router(events_api.router)
    api.include_router(stream_api.router)
    for router in extra_routers:
        api.include_router(router)
    app.include_router(api)

    metrics_dependencies = [] if settings.metrics_public else [Depends(require(Role.VIEWER))]

    @app.get(
        "/metrics",
        tags=["system"],
        summary="Prometheus metrics",
        description="Frames, packets, samples, errors by reason, queue depths, WebSocket clients "
        "and drops, in the Prometheus text format. No token needed unless "
        "LUPEX_GROUND_METRICS_PUBLIC=false (it exposes counts, never telemetry values).",
        response_class=Response,
        dependencies=metrics_dependencies,
        responses={
            200: {
                "content": {"text/plain": {"example": "lupex_frames_total{...} 120345.0\n"}},
                "description": "Prometheus text exposition format.",
            }
        },
    )
    async def metrics(request: Request) -> Response:
        registry_owner: GroundMetrics | None = getattr(request.app.state, "metrics", None)
        body = generate_latest(registry_owner.registry) if registry_owner is not None else b""
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(UnhandledErrors)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(TokenQueryStripper)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app


# ---------------------------------------------------------------------------------------- serving
def serve(settings: GroundSettings) -> int:
    """Run the service with uvicorn until SIGINT/SIGTERM; return the process exit code.

    Logging is configured here (JSON lines unless stderr is a terminal). uvicorn handles the
    signals: it stops accepting, closes connections, runs the lifespan's shutdown and returns.
    A background service that dies stops the server too, with exit code 1.
    """
    configure_logging(json_lines=settings.json_logs(), level=settings.log_level)
    # The event loop thread reads MQTT with several recv() calls per message, each releasing the
    # GIL; with the ingest worker busy, getting it back waits for the switch interval (5 ms by
    # default), which capped the reads near 50 messages/s and gave multi-second latencies at
    # 1,000 packets/s. A shorter interval hands the GIL back sooner (bench.latency: p90 1.8 s
    # -> 19 ms, p99 5.0 s -> 35 ms; docs/performance.md).
    sys.setswitchinterval(settings.gil_switch_interval_s)
    exit_code = 0
    server: uvicorn.Server | None = None

    def on_fatal(_exc: BaseException) -> None:
        nonlocal exit_code
        exit_code = 1
        if server is not None:
            server.should_exit = True

    app = create_app(settings, on_fatal=on_fatal)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=10,
        server_header=False,
    )
    server = uvicorn.Server(config)
    # uvicorn handles SIGINT/SIGTERM (graceful shutdown), then re-raises the signal with the
    # handlers it found in place. Finding these no-op handlers, the process exits with the status
    # below (0 after a clean stop) instead of dying of the signal.
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for stop in (signal.SIGINT, signal.SIGTERM):
            previous[stop] = signal.signal(stop, lambda _sig, _frame: None)
    try:
        server.run()
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)
    if not server.started:
        return 1
    return exit_code


__all__ = ["API_PREFIX", "GroundServices", "create_app", "serve"]

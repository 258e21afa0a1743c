"""Links, counters, quarantine, mission clock, health and the caller's identity."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from ground.api.deps import GroundServices, Services, get_services, in_thread, service_version
from ground.api.errors import responses
from ground.api.schemas import (
    ClockOut,
    ComponentHealth,
    CountersOut,
    HealthDetails,
    HealthOut,
    LinkOut,
    QuarantineEntry,
    QuarantineSummary,
    WhoAmI,
)
from ground.logging import redact
from ground.security import Principal, Role, require
from ground.stream.encode import link_row

viewer = APIRouter(dependencies=[Depends(require(Role.VIEWER))], responses=responses(Role.VIEWER))
public = APIRouter()

QUARANTINE_PAYLOAD_SHOWN = 64


@viewer.get(
    "/links",
    tags=["links"],
    summary="Ground-station links",
    description="Per station: visibility, elevation, Eb/N0, light time, lock, frame counts.",
    response_model=list[LinkOut],
)
async def list_links(services: Services) -> list[LinkOut]:
    return [LinkOut.model_validate(link_row(v)) for v in services.state.links.all()]


@viewer.get(
    "/counters",
    tags=["links"],
    summary="Ingest counters",
    description="Totals since the archive was created: frames, packets, samples, duplicates, "
    "gaps, errors by reason, and counts per station, virtual channel and APID.",
    response_model=CountersOut,
)
async def counters(services: Services) -> CountersOut:
    state = services.state
    return CountersOut.model_validate(state.counters.as_dict(state.links))


@viewer.get(
    "/quarantine",
    tags=["quarantine"],
    summary="Quarantined messages",
    description="Messages ingest could not use (bad CRC, truncated, unknown SCID/APID, wrong "
    "topic, ...), newest first, with the reason and the first octets of the payload.",
    response_model=list[QuarantineEntry],
)
async def list_quarantine(
    services: Services,
    reason: Annotated[
        str | None, Query(max_length=64, description="Only this reason.", examples=["bad_crc"])
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=10_000, description="Most entries returned.", examples=[100])
    ] = 100,
) -> list[QuarantineEntry]:
    records = await in_thread(services.archive.quarantine, limit, reason)
    return [
        QuarantineEntry(
            reception_time=r.reception_time,
            topic=r.topic,
            reason=r.reason,
            detail=r.detail,
            size=len(r.payload),
            payload_hex=r.payload[:QUARANTINE_PAYLOAD_SHOWN].hex(),
        )
        for r in records
    ]


@viewer.get(
    "/quarantine/summary",
    tags=["quarantine"],
    summary="Quarantine counts",
    description="How many messages were quarantined, in all and by reason.",
    response_model=QuarantineSummary,
)
async def quarantine_summary(services: Services) -> QuarantineSummary:
    counts = await in_thread(services.archive.quarantine_counts)
    return QuarantineSummary(total=sum(counts.values()), by_reason=dict(sorted(counts.items())))


@viewer.get(
    "/clock",
    tags=["system"],
    summary="Mission clock",
    description="Mission time now and the simulation's speed factor, as the ground sees them.",
    response_model=ClockOut,
)
async def clock(services: Services) -> ClockOut:
    c = services.state.clock
    return ClockOut(
        mission_time=c.now(), wall_time=time.time(), speed=c.speed, from_sim_status=c.has_status
    )


@viewer.get(
    "/whoami",
    tags=["system"],
    summary="The caller's role",
    description="The name and role of the token presented (any role).",
    response_model=WhoAmI,
)
async def whoami(principal: Annotated[Principal, Depends(require(Role.VIEWER))]) -> WhoAmI:
    return WhoAmI(name=principal.name, role=principal.role.label)


@public.get(
    "/health",
    tags=["system"],
    summary="Liveness",
    description="No token needed. 200 while the service and its background tasks run; 503 "
    "once one of them has died (the process should then be restarted).",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "A background service died."}},
)
async def health(request: Request, response: Response) -> HealthOut:
    services = getattr(request.app.state, "services", None)
    if isinstance(services, GroundServices) and services.failure is not None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return HealthOut(status="failing", version=service_version())
    return HealthOut(status="ok", version=service_version())


def _ingest_health(services: GroundServices) -> tuple[ComponentHealth, ComponentHealth]:
    """The ingest pipeline's and the broker connection's state, from ``IngestService.health``."""
    broker_url = str(services.settings.broker())
    if services.ingest is None:
        off = {"status": "stopped", "detail": "ingest not running in this instance"}
        return ComponentHealth.model_validate(off), ComponentHealth.model_validate(
            {"status": "stopped", "detail": broker_url}
        )
    raw = dict(services.ingest.health())
    running = bool(raw.get("running"))
    connected = bool(raw.get("connected"))
    subscribed = connected and services.ingest.source.subscribed.is_set()
    errors = raw.get("archive_errors") or 0
    ingest = ComponentHealth.model_validate(
        {
            **{k: v for k, v in raw.items() if k not in ("connected", "protocol", "last_error")},
            "status": ("degraded" if errors else "ok") if running else "starting",
            "detail": "running" if running else "starting",
        }
    )
    broker = ComponentHealth.model_validate(
        {
            "status": "ok" if subscribed else "degraded",
            "detail": f"{broker_url} ({'connected' if connected else 'not connected'})",
            "connected": connected,
            "subscribed": subscribed,
            "protocol": raw.get("protocol"),
            "last_error": redact(str(raw["last_error"])) if raw.get("last_error") else None,
        }
    )
    return ingest, broker


_RANK = {"ok": 0, "starting": 1, "degraded": 1, "stopped": 2, "failing": 2, "failed": 2}


@viewer.get(
    "/health/details",
    tags=["system"],
    summary="Health details",
    description="State of ingest, archive, broker connection and stream, and of every "
    "background task. `status` is the worst of them.",
    response_model=HealthDetails,
)
async def health_details(
    services: Annotated[GroundServices, Depends(get_services)],
) -> HealthDetails:
    settings = services.settings
    ingest, broker = _ingest_health(services)
    try:
        stats = await in_thread(services.archive.stats)
        archive = ComponentHealth.model_validate(
            {"status": "ok", "detail": settings.redacted_db_url(), **stats}
        )
    except Exception as exc:  # the archive's own failure is what this endpoint reports
        archive = ComponentHealth(status="failing", detail=f"{type(exc).__name__}")
    hub = services.hub
    stream = ComponentHealth.model_validate(
        {
            "status": "ok",
            "detail": f"{len(hub.sessions)} clients",
            "clients": len(hub.sessions),
            "queued": hub.queued_total(),
            "dropped": sum(s.stats.dropped for s in hub.sessions.values()),
        }
    )
    tasks = services.task_states()
    worst = max(
        [_RANK.get(c.status, 1) for c in (ingest, broker, archive, stream)]
        + [2 if s == "failed" else 0 for s in tasks.values()]
        + [2 if services.failure is not None else 0]
    )
    return HealthDetails(
        status=("ok", "degraded", "failing")[worst],
        version=service_version(),
        uptime_s=round(time.monotonic() - services.started_monotonic, 3),
        ingest=ingest,
        archive=archive,
        broker=broker,
        stream=stream,
        services=tasks,
    )

"""What the routers need, built once by the lifespan and reached through FastAPI dependencies.

``create_app``'s lifespan stores one ``GroundServices`` in ``app.state.services``; an endpoint asks
for it with ``services: Services``. Later routers (commanding, training) take what they need from
the same object, and add their own fields in ``extras``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request, status

from ground.archive import Archive
from ground.ingest.service import IngestService
from ground.metrics import GroundMetrics
from ground.processing.state import GroundState
from ground.settings import GroundSettings
from ground.stream.hub import StreamHub
from mission.mdb.database import MissionDatabase

_T = TypeVar("_T")


@dataclass(eq=False)
class GroundServices:
    """The running service's parts (see ``ground.app``)."""

    settings: GroundSettings
    mdb: MissionDatabase
    archive: Archive
    state: GroundState
    hub: StreamHub
    metrics: GroundMetrics
    ingest: IngestService | None = None
    started_monotonic: float = field(default_factory=time.monotonic)
    tasks: dict[str, asyncio.Task[Any]] = field(default_factory=dict)
    """Background tasks by name (for /health/details)."""
    failure: BaseException | None = None
    """Set when a background service died (``/health`` then answers 503)."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Room for later routers' own objects (command queue, training session...)."""

    def task_states(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, task in self.tasks.items():
            if not task.done():
                out[name] = "running"
            elif task.cancelled():
                out[name] = "stopped"
            elif task.exception() is not None:
                out[name] = "failed"
            else:
                out[name] = "stopped"
        return out


def get_services(request: Request) -> GroundServices:
    services = getattr(request.app.state, "services", None)
    if not isinstance(services, GroundServices):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="service starting")
    return services


Services = Annotated[GroundServices, Depends(get_services)]


@cache
def service_version() -> str:
    """The installed version of the project (``0.0.0+unknown`` from a bare source tree)."""
    try:
        return version("lupex-ground-mock")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def timestamp(moment: datetime) -> float:
    """A datetime as Unix seconds; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


async def in_thread(function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run a blocking call (the archive is synchronous) in a worker thread."""
    return await asyncio.to_thread(function, *args, **kwargs)

"""``/api/v1/parameters/...`` and ``/api/v1/export.csv``: live values, history, samples, CSV."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import io
import logging
import math
import threading
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from ground.api.deps import GroundServices, Services, in_thread, timestamp
from ground.api.errors import invalid, not_found, responses
from ground.api.mdb import ParameterName
from ground.api.schemas import (
    BucketOut,
    HistoryResponse,
    LatestResponse,
    ParameterValueOut,
    SampleOut,
    SamplesResponse,
)
from ground.archive import write_csv
from ground.model import ParameterValue
from ground.security import Role, require
from mission.mdb.models import EngType

log = logging.getLogger("lupex.ground.api")

router = APIRouter(
    tags=["parameters"],
    dependencies=[Depends(require(Role.VIEWER))],
    responses=responses(Role.VIEWER),
)

export_router = APIRouter(
    tags=["export"],
    dependencies=[Depends(require(Role.VIEWER))],
    responses=responses(Role.VIEWER),
)

DEFAULT_WINDOW_S: Final = 3600.0
DEFAULT_BUCKETS: Final = 1000
DEFAULT_SAMPLES: Final = 10_000
CSV_CHUNK: Final = 64 * 1024
CSV_QUEUE_CHUNKS: Final = 16

Start = Annotated[
    datetime | None,
    Query(
        description="Start of the window: ISO 8601 (UTC when no offset) or Unix seconds. "
        "Default: one hour before end.",
        examples=["2026-01-01T00:00:00Z"],
    ),
]
End = Annotated[
    datetime | None,
    Query(
        description="End of the window (exclusive): ISO 8601 or Unix seconds. "
        "Default: now, in mission time.",
        examples=["2026-01-01T01:00:00Z"],
    ),
]


def window(
    services: GroundServices, start: datetime | None, end: datetime | None
) -> tuple[float, float]:
    """``(start, end)`` in Unix seconds; 422 naming ``start`` unless start < end."""
    t1 = timestamp(end) if end is not None else services.state.clock.now()
    t0 = timestamp(start) if start is not None else t1 - DEFAULT_WINDOW_S
    if not t0 < t1:
        invalid(
            ("query", "start"),
            f"start ({t0}) must be before end ({t1}): the time window is empty or inverted",
            start.isoformat() if start is not None else t0,
        )
    return t0, t1


def value_out(value: ParameterValue) -> ParameterValueOut:
    def clean(v: Any) -> Any:
        return None if isinstance(v, float) and not math.isfinite(v) else v

    return ParameterValueOut(
        name=value.name,
        generation_time=value.generation_time,
        reception_time=value.reception_time,
        raw_value=clean(value.raw_value),
        eng_value=clean(value.eng_value),
        monitoring_result=value.monitoring_result.value,
        stale=value.stale,
    )


def split_names(values: Sequence[str] | None) -> list[str]:
    """``["a,b", "c"]`` → ``["a", "b", "c"]`` (repeated and comma-separated forms)."""
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def resolve_parameters(services: GroundServices, entries: Sequence[str], field: str) -> list[str]:
    """Exact names (404 when unknown) and fnmatch patterns → known names, in request order."""
    known = services.mdb.parameters
    out: dict[str, None] = {}
    for entry in entries:
        if any(c in entry for c in "*?["):
            for name in sorted(known):
                if fnmatch.fnmatchcase(name, entry):
                    out[name] = None
        elif entry in known:
            out[entry] = None
        else:
            raise not_found(f"unknown parameter {entry!r} (in {field})")
    return list(out)


def _known(services: GroundServices, name: str) -> None:
    if name not in services.mdb.parameters:
        raise not_found(f"unknown parameter {name!r}")


@router.get(
    "/parameters/latest",
    summary="Latest values",
    description="The newest value of each requested parameter. `names` takes exact names "
    "(repeated or comma-separated); `pattern` an fnmatch pattern such as `rover.power.*`. "
    "With neither, every parameter received so far. An unknown name is a 404 naming it.",
    response_model=LatestResponse,
    responses=responses(Role.VIEWER, not_found_what="parameter"),
)
async def latest(
    services: Services,
    names: Annotated[
        list[str] | None,
        Query(
            description="Parameter names, repeated or comma-separated.",
            examples=["rover.power.battery_soc,rover.thermal.battery_temperature"],
        ),
    ] = None,
    pattern: Annotated[
        str | None,
        Query(max_length=200, description="fnmatch pattern.", examples=["rover.power.*"]),
    ] = None,
) -> LatestResponse:
    requested = split_names(names)
    if pattern:
        requested.append(pattern)
    store = services.state.latest
    if not requested:
        return LatestResponse(values=[value_out(v) for v in store.all()], missing=[])
    wanted = resolve_parameters(services, requested, "names" if names else "pattern")
    values: list[ParameterValueOut] = []
    missing: list[str] = []
    for name in wanted:
        value = store.get(name)
        if value is None:
            missing.append(name)
        else:
            values.append(value_out(value))
    return LatestResponse(values=values, missing=missing)


@router.get(
    "/parameters/{name}/history",
    summary="History in buckets",
    description="Count, min, max and mean of the engineering values in `buckets` equal slices "
    "of [start, end). Buckets without samples are left out. `buckets` must be between 1 and "
    "the service's limit (10,000 by default).",
    response_model=HistoryResponse,
    responses=responses(Role.VIEWER, not_found_what="parameter"),
)
async def history(
    services: Services,
    name: ParameterName,
    start: Start = None,
    end: End = None,
    buckets: Annotated[
        int, Query(description="Number of equal time slices.", examples=[500])
    ] = DEFAULT_BUCKETS,
) -> HistoryResponse:
    _known(services, name)
    limit = services.settings.max_buckets
    if not 1 <= buckets <= limit:
        invalid(("query", "buckets"), f"buckets must be between 1 and {limit}", buckets)
    t0, t1 = window(services, start, end)
    found = await in_thread(services.archive.history, name, t0, t1, buckets)
    return HistoryResponse(
        name=name,
        units=services.mdb.parameters[name].units,
        start=t0,
        end=t1,
        buckets_requested=buckets,
        buckets=[
            BucketOut(start=b.start, end=b.end, count=b.count, min=b.min, max=b.max, mean=b.mean)
            for b in found
        ],
    )


def _eng(eng_type: EngType, table: dict[int, str], value: float) -> Any:
    if not math.isfinite(value):
        return None
    if eng_type is EngType.ENUM:
        return table.get(int(value), str(int(value)))
    if eng_type is EngType.BOOL:
        return bool(value)
    if eng_type is EngType.INT:
        return int(value)
    return value


@router.get(
    "/parameters/{name}/samples",
    summary="Raw samples",
    description="The archived samples of one parameter in [start, end), oldest first, at most "
    "`limit` (`truncated` says when there were more).",
    response_model=SamplesResponse,
    responses=responses(Role.VIEWER, not_found_what="parameter"),
)
async def samples(
    services: Services,
    name: ParameterName,
    start: Start = None,
    end: End = None,
    limit: Annotated[
        int, Query(description="Most samples returned.", examples=[1000])
    ] = DEFAULT_SAMPLES,
) -> SamplesResponse:
    _known(services, name)
    most = services.settings.max_samples
    if not 1 <= limit <= most:
        invalid(("query", "limit"), f"limit must be between 1 and {most}", limit)
    t0, t1 = window(services, start, end)
    rows = await in_thread(services.archive.history_raw, name, t0, t1, limit + 1)
    definition = services.mdb.parameters[name]
    table = definition.enumeration
    out = [
        SampleOut(
            generation_time=r.generation_time,
            reception_time=r.reception_time,
            raw_value=None
            if isinstance(r.raw_value, float) and not math.isfinite(r.raw_value)
            else r.raw_value,
            eng_value=_eng(definition.type, table, r.eng_value),
        )
        for r in rows[:limit]
    ]
    return SamplesResponse(
        name=name, start=t0, end=t1, limit=limit, truncated=len(rows) > limit, samples=out
    )


class _ChunkWriter(io.TextIOBase):
    """A text file that hands chunks of CSV to the event loop (blocking when it lags behind)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
        self._loop = loop
        self._queue = queue
        self._buffer: list[str] = []
        self._size = 0
        self.cancelled = threading.Event()

    def write(self, text: str) -> int:
        if self.cancelled.is_set():
            msg = "the client went away"
            raise OSError(msg)
        self._buffer.append(text)
        self._size += len(text)
        if self._size >= CSV_CHUNK:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            chunk = "".join(self._buffer)
            self._buffer, self._size = [], 0
            self._put(chunk)

    def _put(self, item: str | None) -> None:
        future = asyncio.run_coroutine_threadsafe(self._queue.put(item), self._loop)
        while not self.cancelled.is_set():
            with contextlib.suppress(TimeoutError):
                future.result(timeout=0.5)
                return
        future.cancel()

    def finish(self) -> None:
        self.flush()
        self._put(None)


@export_router.get(
    "/export.csv",
    summary="Export samples as CSV",
    description="Every archived sample of the parameters (names or fnmatch patterns, "
    "comma-separated) in [start, end), streamed as CSV: "
    "`generation_time,parameter,raw_value,eng_value,reception_time` with ISO 8601 UTC times.",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "text/csv": {
                    "example": "generation_time,parameter,raw_value,eng_value,reception_time\n"
                    "2026-01-01T00:00:00.000000Z,rover.power.battery_soc,2871,87.6,"
                    "2026-01-01T00:00:01.281000Z\n"
                }
            },
            "description": "CSV, streamed.",
        },
        **responses(Role.VIEWER, not_found_what="parameter"),
    },
)
async def export_csv(
    services: Services,
    params: Annotated[
        str,
        Query(
            min_length=1,
            max_length=4000,
            description="Comma-separated parameter names or patterns.",
            examples=["rover.power.*,rover.thermal.battery_temperature"],
        ),
    ],
    start: Start = None,
    end: End = None,
) -> StreamingResponse:
    names = resolve_parameters(services, split_names([params]), "params")
    if not names:
        invalid(("query", "params"), "the patterns match no parameter", params)
    t0, t1 = window(services, start, end)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=CSV_QUEUE_CHUNKS)
    writer = _ChunkWriter(loop, queue)

    def produce() -> None:
        try:
            rows = write_csv(services.archive, names, t0, t1, writer)  # type: ignore[arg-type]
            log.info("exported %d samples of %d parameters as CSV", rows, len(names))
        except OSError:
            log.info("CSV export stopped: the client went away")
        except Exception:
            log.exception("CSV export failed")
        finally:
            if not writer.cancelled.is_set():
                writer.finish()

    async def body() -> AsyncIterator[str]:
        producer = asyncio.create_task(asyncio.to_thread(produce))
        try:
            while (chunk := await queue.get()) is not None:
                yield chunk
        finally:
            writer.cancelled.set()
            await producer

    filename = f"lupex-export-{int(t0)}-{int(t1)}.csv"
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

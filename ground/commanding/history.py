"""Command history: filtering the views and the CSV export.

A command's view is :meth:`ground.commanding.model.TrackedCommand.view` (or
:func:`~ground.commanding.model.view_from_record` for an archived one). The CSV has one row per
command, with the mission time at which each stage was first reached (ISO 8601, UTC, with
milliseconds) and the failure code and name of its last stage.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from ground.commanding.model import Stage

STAGE_COLUMNS: Final = (
    Stage.QUEUED,
    Stage.RELEASED,
    Stage.SENT,
    Stage.ACCEPTED,
    Stage.REJECTED,
    Stage.STARTED,
    Stage.COMPLETED,
    Stage.FAILED,
    Stage.TIMEOUT,
    Stage.CANCELLED,
)

CSV_COLUMNS: Final = (
    "id",
    "name",
    "vehicle",
    "args",
    "issued_by",
    "stage",
    "station",
    "request_id",
    "seq_count",
    "frame_seq",
    "created_at",
    *(f"{s.value}_at" for s in STAGE_COLUMNS),
    "failure_code",
    "failure_name",
)


def iso_ms(t: float | None) -> str:
    if t is None:
        return ""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def matches(view: Mapping[str, Any], state: str | None, vehicle: str | None = None) -> bool:
    """Whether a command view is in ``state`` (a stage, or ``pending``/``active``/``final``)."""
    if vehicle is not None and view.get("vehicle") != vehicle:
        return False
    if state is None:
        return True
    stage = view.get("stage")
    if state == "pending":
        return stage == Stage.QUEUED.value
    if state == "active":
        return not view.get("final") and stage != Stage.QUEUED.value
    if state == "final":
        return bool(view.get("final"))
    return stage == state


def merge_views(
    archived: Iterable[Mapping[str, Any]], live: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Archived views updated by the live ones (same id), by creation time then id."""
    merged: dict[str, dict[str, Any]] = {str(v["id"]): dict(v) for v in archived}
    for v in live:
        merged[str(v["id"])] = dict(v)
    return sorted(merged.values(), key=lambda v: (float(v["created_at"]), str(v["id"])))


def _first_times(stages: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for entry in stages:
        stage = str(entry.get("stage"))
        if stage not in out and isinstance(entry.get("time"), int | float):
            out[stage] = float(entry["time"])
    return out


def to_csv(views: Iterable[Mapping[str, Any]]) -> str:
    """The CSV text of ``views`` (header included)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for v in views:
        firsts = _first_times(v.get("stages", []))
        writer.writerow(
            [
                v.get("id"),
                v.get("name"),
                v.get("vehicle"),
                json.dumps(v.get("args", {}), sort_keys=True),
                v.get("issued_by"),
                v.get("stage"),
                v.get("station") or "",
                "" if v.get("request_id") is None else f"0x{int(v['request_id']):08X}",
                "" if v.get("seq_count") is None else v.get("seq_count"),
                "" if v.get("frame_seq") is None else v.get("frame_seq"),
                iso_ms(v.get("created_at")),
                *(iso_ms(firsts.get(s.value)) for s in STAGE_COLUMNS),
                "" if v.get("failure_code") is None else v.get("failure_code"),
                v.get("failure_name") or "",
            ]
        )
    return buffer.getvalue()

"""Events: on-board PUS 5,x reports and the ground's own events, as ``EventView`` and records.

On-board events are decoded with the mission database (``mission.mdb.decode_event_data``) and
rendered with their message template. The ground raises events of its own when ingest sees
something an operator should know: frames or packets missing (sequence counts), frames or packets
received twice, sequence counts running backwards. Ground events carry ids from ``0xFF00`` up
(the on-board event ids are below) and names ``ground.ingest.<what>``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Final

from ground.archive import EventRecord
from ground.model import EventView

GROUND_SPACECRAFT: Final = "ground"

FRAME_GAP: Final = (0xFF01, "ground.ingest.frame_gap", "low")
FRAME_DUPLICATE: Final = (0xFF02, "ground.ingest.frame_duplicate", "info")
PACKET_GAP: Final = (0xFF03, "ground.ingest.packet_gap", "low")
PACKET_DUPLICATE: Final = (0xFF04, "ground.ingest.packet_duplicate", "info")
PACKET_OUT_OF_ORDER: Final = (0xFF05, "ground.ingest.packet_out_of_order", "low")
VC_GAP: Final = (0xFF06, "ground.ingest.vc_gap", "low")

GroundEventKind = tuple[int, str, str]
ArgValue = float | int | str | bool


def ground_event(
    kind: GroundEventKind,
    spacecraft: str,
    message: str,
    time: float,
    args: Mapping[str, ArgValue] | None = None,
) -> EventView:
    """A ground event at ``time`` (the reception time of what triggered it)."""
    event_id, name, severity = kind
    return EventView(
        id=event_id,
        name=name,
        spacecraft=spacecraft,
        severity=severity,
        message=message,
        generation_time=time,
        reception_time=time,
        args=dict(args or {}),
    )


def _json_value(value: ArgValue) -> ArgValue | None:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def event_record(event: EventView) -> EventRecord:
    """The archive record of an event."""
    return EventRecord(
        generation_time=event.generation_time,
        reception_time=event.reception_time,
        spacecraft=event.spacecraft,
        event_id=event.id,
        name=event.name,
        severity=event.severity,
        message=event.message,
        args_json=json.dumps({k: _json_value(v) for k, v in event.args.items()}, sort_keys=True),
    )


def event_view(record: EventRecord) -> EventView:
    """An archived event as the API shows it."""
    try:
        args = json.loads(record.args_json)
    except json.JSONDecodeError:
        args = {}
    return EventView(
        id=record.event_id,
        name=record.name,
        spacecraft=record.spacecraft,
        severity=record.severity,
        message=record.message,
        generation_time=record.generation_time,
        reception_time=record.reception_time,
        args=args if isinstance(args, dict) else {},
    )

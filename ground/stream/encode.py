"""What the stream sends, as JSON-ready values: one encoder per kind of update.

Parameter values are the hot path: ``ParameterEncoder.block_fragment`` turns one ``SampleArrays``
(every value of one parameter in one ingest batch) into a JSON text fragment once; the hub shares
that fragment between every client subscribed to the parameter, so the cost of serialising does
not grow with the number of clients.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any, Final

import numpy as np

from ground.model import (
    AlarmView,
    EventView,
    LinkView,
    MonitoringResult,
    ParameterValue,
    SampleArrays,
)

_MONITORING_CODES: Final = (
    MonitoringResult.IN_LIMITS.value,
    MonitoringResult.WATCH.value,
    MonitoringResult.CRITICAL.value,
)
_DUMPS: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode

ENG_FLOAT: Final = "float"
ENG_INT: Final = "int"
ENG_ENUM: Final = "enum"
ENG_BOOL: Final = "bool"


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _json_scalar(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _json_scalar(value.item())
    return value


class ParameterEncoder:
    """Encodes parameter values with the types, limits and labels of the mission database.

    ``eng_types`` maps a parameter name to ``float``, ``int``, ``enum`` or ``bool``; parameters in
    ``monitored`` have limits (their code 0 is ``in_limits``), the others are ``disabled``.
    """

    def __init__(
        self,
        eng_types: Mapping[str, str],
        monitored: Iterable[str],
        enumerations: Mapping[str, Mapping[int, str]] | None = None,
    ) -> None:
        self.eng_types: Final = dict(eng_types)
        self.monitored: Final = frozenset(monitored)
        self.enumerations: Final = {k: dict(v) for k, v in (enumerations or {}).items()}

    def block_rows(self, block: SampleArrays) -> list[dict[str, Any]]:
        """One dict per sample of ``block``, in the stream's value format."""
        count = len(block.generation_times)
        eng_type = self.eng_types.get(block.name, ENG_FLOAT)
        times = block.generation_times.tolist()
        raws: list[Any] = block.raw_values.tolist()
        engs: list[Any]
        if block.labels is not None:
            engs = list(block.labels)
        elif eng_type == ENG_ENUM:
            table = self.enumerations.get(block.name, {})
            engs = [table.get(int(v), str(int(v))) for v in block.eng_values.tolist()]
        elif eng_type == ENG_BOOL:
            engs = [bool(v) for v in block.eng_values.tolist()]
        elif eng_type == ENG_INT:
            engs = [int(v) if math.isfinite(v) else None for v in block.eng_values.tolist()]
        else:
            engs = block.eng_values.tolist()
            if not np.isfinite(block.eng_values).all():
                engs = [_finite(v) for v in engs]
        if block.raw_values.dtype.kind == "f" and not np.isfinite(block.raw_values).all():
            raws = [_finite(v) for v in raws]
        if block.name in self.monitored:
            codes = block.monitoring.tolist()
            results = [_MONITORING_CODES[min(max(c, 0), 2)] for c in codes]
        else:
            results = [MonitoringResult.DISABLED.value] * count
        reception = block.reception_time
        name = block.name
        return [
            {
                "name": name,
                "generation_time": times[i],
                "reception_time": reception,
                "eng_value": engs[i],
                "raw_value": raws[i],
                "monitoring_result": results[i],
            }
            for i in range(count)
        ]

    def block_fragment(self, block: SampleArrays) -> str:
        """The values of ``block`` as comma-separated JSON objects (no surrounding brackets)."""
        return ",".join(_DUMPS(row) for row in self.block_rows(block))


def value_row(value: ParameterValue) -> dict[str, Any]:
    """One ``ParameterValue`` in the stream's value format."""
    return {
        "name": value.name,
        "generation_time": value.generation_time,
        "reception_time": value.reception_time,
        "eng_value": _json_scalar(value.eng_value),
        "raw_value": _json_scalar(value.raw_value),
        "monitoring_result": str(value.monitoring_result),
    }


def event_row(event: EventView) -> dict[str, Any]:
    row = asdict(event)
    row["args"] = {k: _json_scalar(v) for k, v in event.args.items()}
    return row


def alarm_row(alarm: AlarmView) -> dict[str, Any]:
    row = {k: _json_scalar(v) for k, v in asdict(alarm).items()}
    row["state"] = str(alarm.state)
    return row


def link_row(link: LinkView) -> dict[str, Any]:
    row = asdict(link)
    for key in ("moon_elevation_deg", "earth_elevation_at_site_deg", "light_time_s"):
        row[key] = _json_scalar(row[key])
    row["ebn0_db"] = {k: _json_scalar(v) for k, v in link.ebn0_db.items()}
    return row


def stale_row(value: ParameterValue) -> dict[str, Any]:
    """A parameter that stopped arriving: its name and its last value's times."""
    return {
        "name": value.name,
        "stale": True,
        "generation_time": _json_scalar(value.generation_time),
        "reception_time": _json_scalar(value.reception_time),
    }


def command_row(command: Mapping[str, object]) -> dict[str, Any]:
    return {k: _json_scalar(v) for k, v in command.items()}


def dumps(document: Any) -> str:
    """Compact JSON; NaN and infinities must have been replaced by ``None`` before."""
    return _DUMPS(document)

"""Helpers of the dashboard's unit tests: read charts and texts out of an AppTest."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]  # pyarrow ships no type hints
from streamlit.testing.v1 import AppTest


def chart_specs(app: AppTest) -> list[dict[str, Any]]:
    """The Vega-Lite specifications of the page's charts, with their datasets as row lists."""
    specs = []
    for element in app.get("vega_lite_chart"):
        proto: Any = element.proto
        spec = json.loads(proto.spec)
        data = {}
        for dataset in proto.datasets:
            table = pa.ipc.open_stream(dataset.data.data).read_all()
            data[dataset.name] = table.to_pylist()
        if proto.data.data:
            data[""] = pa.ipc.open_stream(proto.data.data).read_all().to_pylist()
        spec["_rows"] = [row for rows in data.values() for row in rows]
        specs.append(spec)
    return specs


def texts(app: AppTest) -> str:
    """Every markdown, caption, info, warning, error and success text of the page, joined."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title"):
        parts += [str(getattr(e, "value", "")) for e in app.get(kind)]
    return "\n".join(parts)


def values_message(*values: tuple[str, float, Any]) -> dict[str, Any]:
    """A ``parameters`` message of the stream: (name, generation time, eng value) triples."""
    return {
        "type": "parameters",
        "values": [
            {
                "name": name,
                "generation_time": t,
                "reception_time": t + 1.3,
                "eng_value": value,
                "raw_value": value,
                "monitoring_result": "in_limits",
            }
            for name, t, value in values
        ],
    }

"""CSV export of archived samples, streamed chunk by chunk.

Columns: ``generation_time, parameter, raw_value, eng_value, reception_time``; times in ISO 8601
UTC with microseconds (``2026-01-01T00:00:00.123000Z``), numbers as Python prints them (the
shortest text that reads back to the same float). Rows are ordered by generation time, then by
the order of ``parameters``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from typing import Final, TextIO

import numpy as np
from numpy.typing import NDArray

from ground.archive.base import Archive

CSV_COLUMNS: Final = ("generation_time", "parameter", "raw_value", "eng_value", "reception_time")


def iso_times(times: NDArray[np.float64]) -> list[str]:
    """Unix seconds as ISO 8601 UTC strings with microseconds and a ``Z``."""
    micros = np.round(times * 1e6).astype(np.int64).astype("datetime64[us]")
    strings: list[str] = np.datetime_as_string(micros, unit="us", timezone="UTC").tolist()
    return strings


def write_csv(
    archive: Archive,
    parameters: Sequence[str],
    start: float,
    end: float,
    out: TextIO,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the samples of ``parameters`` in [start, end) to ``out``; return the row count.

    ``progress`` is called with the number of rows written so far after each chunk (use
    ``Archive.sample_count`` for the total).
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    total = 0
    for chunk in archive.sample_chunks(parameters, start, end):
        names = np.array(chunk.parameters, dtype=object)[chunk.parameter_index]
        writer.writerows(
            zip(
                iso_times(chunk.generation_times),
                names.tolist(),
                chunk.raw_values.tolist(),
                chunk.eng_values.tolist(),
                iso_times(chunk.reception_times),
                strict=True,
            )
        )
        total += len(chunk)
        if progress is not None:
            progress(total)
    return total

"""Test timeouts as multiples of one unit, scaled for slow machines.

Like websockets' ``MS`` (``WEBSOCKETS_TESTS_TIMEOUT_FACTOR``): every wait in the suite is
``n * UNIT``. Set ``LUPEX_TEST_TIMEOUT_FACTOR`` (a positive number, default 1) to stretch them all
on a slow or loaded machine. These are upper bounds for waiting on real services, never sleeps:
the tests move on as soon as the awaited thing happens.
"""

from __future__ import annotations

import os
from typing import Final

ENV_VAR: Final = "LUPEX_TEST_TIMEOUT_FACTOR"


def _factor() -> float:
    raw = os.environ.get(ENV_VAR, "1")
    try:
        factor = float(raw)
    except ValueError:
        msg = f"{ENV_VAR} must be a positive number, not {raw!r}"
        raise ValueError(msg) from None
    if not factor > 0:
        msg = f"{ENV_VAR} must be a positive number, not {raw!r}"
        raise ValueError(msg)
    return factor


FACTOR: Final[float] = _factor()
"""The scale factor read from ``LUPEX_TEST_TIMEOUT_FACTOR``."""

UNIT: Final[float] = 1.0 * FACTOR
"""One timeout unit, in seconds."""

POLL_INTERVAL: Final[float] = 0.01
"""Interval between two polls of a service's state, in seconds (not scaled)."""


def timeout(units: float = 1.0) -> float:
    """``units`` timeout units, in seconds."""
    return units * UNIT

"""Offline ephemerides and time conversion for the geometry package.

Skyfield reads JPL's DE421 kernel and its built-in time tables from the files that the
``skyfield-data`` package ships, so nothing is ever downloaded. Everything here is loaded once and
cached for the life of the process.

``skyfield-data`` warns that its ``finals2000A.all`` (IERS Earth-orientation data) has expired. The
built-in timescale does not read that file for our purposes (it uses skyfield's own Delta T and
leap-second tables), and the sub-second UT1 error it would fix is far below what station
visibility needs, so that one warning is suppressed here and nowhere else.

Times in the code base are float seconds since the Unix epoch, UTC, leap seconds ignored (POSIX).
:func:`skyfield_time` turns scalars or numpy arrays of them into a skyfield ``Time``.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from skyfield.api import Loader
from skyfield_data import get_skyfield_data_path

__all__ = [
    "DAY_S",
    "J2000_JD",
    "SPEED_OF_LIGHT_KM_S",
    "Ephemeris",
    "FloatArray",
    "as_float_array",
    "load_ephemeris",
    "skyfield_time",
]

FloatArray = npt.NDArray[np.float64]

SPEED_OF_LIGHT_KM_S: Final = 299_792.458
DAY_S: Final = 86_400.0
J2000_JD: Final = 2_451_545.0  # 2000-01-01T12:00 TT (and TDB, to within 2 ms)
EPHEMERIS_FILE: Final = "de421.bsp"
_EXPIRED_WARNING: Final = r"The file finals2000A\.all has expired"


@dataclass(frozen=True, slots=True)
class Ephemeris:
    """The skyfield objects the geometry needs (typed ``Any``: skyfield ships no type hints)."""

    timescale: Any
    kernel: Any
    sun: Any
    earth: Any
    moon: Any


@functools.cache
def load_ephemeris() -> Ephemeris:
    """Load DE421 and the built-in timescale from skyfield-data's files (once, offline)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_EXPIRED_WARNING, category=RuntimeWarning)
        data_path = get_skyfield_data_path()
    loader = Loader(data_path, verbose=False)
    timescale = loader.timescale(builtin=True)
    kernel = loader(EPHEMERIS_FILE)
    return Ephemeris(
        timescale=timescale,
        kernel=kernel,
        sun=kernel["sun"],
        earth=kernel["earth"],
        moon=kernel["moon"],
    )


def as_float_array(t: float | npt.ArrayLike) -> FloatArray:
    """Unix seconds as a float64 array of at least one dimension."""
    return np.atleast_1d(np.asarray(t, dtype=np.float64))


def skyfield_time(t: float | npt.ArrayLike) -> Any:
    """A skyfield ``Time`` for Unix seconds (a scalar gives a scalar Time, an array an array).

    The seconds are split into whole days and the second of day so that skyfield looks up the
    leap-second offset for the right date (passing a huge second count from 1970-01-01 would use
    the 1970 offset).
    """
    seconds = np.asarray(t, dtype=np.float64)
    days, second_of_day = np.divmod(seconds, DAY_S)
    return load_ephemeris().timescale.utc(1970, 1, 1 + days, 0, 0, second_of_day)

"""The Moon's body-fixed orientation from the IAU/WGCCRE rotation model.

No lunar orientation kernel (a binary PCK of the DE421 principal-axis frame) is available offline,
so this module evaluates the IAU model of the Moon's rotation, which approximates the mean-Earth /
polar-axis (ME) frame that lunar maps and landing-site coordinates use, to about 150 m on the
surface (a few thousandths of a degree).

Reference: B. A. Archinal et al., "Report of the IAU Working Group on Cartographic Coordinates and
Rotational Elements: 2009", Celestial Mechanics and Dynamical Astronomy 109, 101-135 (2011),
Table 2, "Moon". The 2015 report (Archinal et al., CMDA 130:22, 2018) keeps the same lunar model.

With d the days and T the Julian centuries (TDB) from J2000.0::

    alpha0 = 269.9949 + 0.0031 T + sum a_k sin E_k      (right ascension of the north pole)
    delta0 =  66.5392 + 0.0130 T + sum b_k cos E_k      (declination of the north pole)
    W      =  38.3213 + 13.17635815 d - 1.4e-12 d^2 + sum w_k sin E_k   (prime meridian)
    E_k    = e0_k + e1_k d                              (k = 1..13, degrees)

The rotation from ICRF to body-fixed axes is Rz(W) Rx(90 deg - delta0) Rz(90 deg + alpha0), with
R_i the frame (passive) rotations. We write this ourselves because skyfield's PlanetaryConstants
needs text/binary PCK files that are not shipped offline.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

from mission.geometry.ephemeris import J2000_JD, FloatArray

__all__ = [
    "latlon_from_vector",
    "moon_fixed_from_icrf",
    "moon_orientation_deg",
    "rotation_icrf_to_moon_fixed",
]

# Periodic arguments E1..E13: constant and rate (degrees, degrees per day).
_E0: Final = np.array(
    [125.045, 250.089, 260.008, 176.625, 357.529, 311.589, 134.963,
     276.617, 34.226, 15.134, 119.743, 239.961, 25.053]
)  # fmt: skip
_E1: Final = np.array(
    [-0.0529921, -0.1059842, 13.0120009, 13.3407154, 0.9856003, 26.4057084, 13.0649930,
     0.3287146, 1.7484877, -0.1589763, 0.0036096, 0.1643573, 12.9590088]
)  # fmt: skip
# Amplitudes of sin(E_k) in alpha0, cos(E_k) in delta0 and sin(E_k) in W (degrees).
_ALPHA_SIN: Final = np.array(
    [-3.8787, -0.1204, 0.0700, -0.0172, 0.0, 0.0072, 0.0,
     0.0, 0.0, -0.0052, 0.0, 0.0, 0.0043]
)  # fmt: skip
_DELTA_COS: Final = np.array(
    [1.5419, 0.0239, -0.0278, 0.0068, 0.0, -0.0029, 0.0009,
     0.0, 0.0, 0.0008, 0.0, 0.0, -0.0009]
)  # fmt: skip
_W_SIN: Final = np.array(
    [3.5610, 0.1208, -0.0642, 0.0158, 0.0252, -0.0066, -0.0047,
     -0.0046, 0.0028, 0.0052, 0.0040, 0.0019, -0.0044]
)  # fmt: skip
_DAYS_PER_CENTURY: Final = 36_525.0


def moon_orientation_deg(
    tdb_jd: float | npt.ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The pole right ascension, pole declination and prime-meridian angle (degrees, ICRF).

    ``tdb_jd`` is a TDB Julian date (scalar or array); the results have its shape.
    """
    d = np.asarray(tdb_jd, dtype=np.float64) - J2000_JD
    t = d / _DAYS_PER_CENTURY
    e = np.deg2rad(_E0.reshape((13,) + (1,) * d.ndim) + _E1.reshape((13,) + (1,) * d.ndim) * d)
    sin_e, cos_e = np.sin(e), np.cos(e)
    alpha0 = 269.9949 + 0.0031 * t + np.tensordot(_ALPHA_SIN, sin_e, axes=1)
    delta0 = 66.5392 + 0.0130 * t + np.tensordot(_DELTA_COS, cos_e, axes=1)
    w = 38.3213 + 13.17635815 * d - 1.4e-12 * d * d + np.tensordot(_W_SIN, sin_e, axes=1)
    return alpha0, delta0, np.mod(w, 360.0)


def rotation_icrf_to_moon_fixed(tdb_jd: float | npt.ArrayLike) -> FloatArray:
    """Rotation matrices from ICRF to the Moon's body-fixed (IAU, ~mean-Earth) axes.

    Shape ``(3, 3)`` for a scalar date, ``(N, 3, 3)`` for N dates; ``v_body = M @ v_icrf``.
    """
    alpha0, delta0, w = moon_orientation_deg(tdb_jd)
    a = np.deg2rad(np.atleast_1d(alpha0))
    d = np.deg2rad(np.atleast_1d(delta0))
    w_rad = np.deg2rad(np.atleast_1d(w))
    # The product Rz(W) Rx(90 - delta0) Rz(90 + alpha0), multiplied out.
    sa, ca = np.sin(a), np.cos(a)
    sd, cd = np.sin(d), np.cos(d)
    sw, cw = np.sin(w_rad), np.cos(w_rad)
    m = np.empty((*a.shape, 3, 3))
    m[:, 0, 0] = -cw * sa - sw * sd * ca
    m[:, 0, 1] = cw * ca - sw * sd * sa
    m[:, 0, 2] = sw * cd
    m[:, 1, 0] = sw * sa - cw * sd * ca
    m[:, 1, 1] = -sw * ca - cw * sd * sa
    m[:, 1, 2] = cw * cd
    m[:, 2, 0] = cd * ca
    m[:, 2, 1] = cd * sa
    m[:, 2, 2] = sd
    if np.ndim(tdb_jd) == 0:
        return np.asarray(m[0], dtype=np.float64)
    return m


def moon_fixed_from_icrf(vectors: npt.ArrayLike, tdb_jd: float | npt.ArrayLike) -> FloatArray:
    """Rotate ICRF vectors into Moon body-fixed axes.

    ``vectors`` is ``(3,)`` or ``(3, N)`` (skyfield's layout); the result has the same shape.
    """
    v = np.asarray(vectors, dtype=np.float64)
    m = rotation_icrf_to_moon_fixed(tdb_jd)
    if m.ndim == 2:
        return np.asarray(m @ v, dtype=np.float64)
    return np.asarray(np.einsum("nij,jn->in", m, v.reshape(3, -1)), dtype=np.float64)


def latlon_from_vector(vectors: Any) -> tuple[FloatArray, FloatArray]:
    """Planetocentric latitude and east longitude (degrees, longitude in (-180, 180])."""
    v = np.asarray(vectors, dtype=np.float64)
    x, y, z = v[0], v[1], v[2]
    lat = np.degrees(np.arctan2(z, np.hypot(x, y)))
    lon = np.degrees(np.arctan2(y, x))
    return lat, lon

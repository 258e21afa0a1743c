"""Raw ↔ engineering conversion, one value at a time and vectorised over numpy arrays.

A :class:`Calibrator` knows the raw domain of its field (from the encoding) and its engineering
type. ``to_raw`` is the inverse used by encoders; it raises :class:`CalibrationError` (a
``ValueError``) with a short reason that codecs turn into ``EncodeError`` naming the field.

The scalar and the array paths perform the same IEEE operations in the same order, so the single
and the batch decoders give bit-identical engineering values.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from mission.mdb.models import EngType, parse_encoding

RawValue = int | float
EngValue = float | int | str | bool

FLOAT32_MAX: Final = 3.4028234663852886e38
_BISECTION_STEPS: Final = 200


class CalibrationError(ValueError):
    """An engineering value has no raw counterpart (wrong type, out of range)."""


class RawDomain:
    """What a raw encoding can hold."""

    __slots__ = ("bits", "encoding", "is_integer", "kind", "max", "min")

    def __init__(self, encoding: str) -> None:
        self.min: int | float
        self.max: int | float
        self.encoding = encoding
        self.kind, self.bits = parse_encoding(encoding)
        self.is_integer = self.kind != "float"
        if self.kind == "uint":
            self.min, self.max = 0, (1 << self.bits) - 1
        elif self.kind == "int":
            self.min, self.max = -(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1
        else:
            limit = FLOAT32_MAX if self.bits == 32 else float(np.finfo(np.float64).max)
            self.min, self.max = -limit, limit

    def check(self, raw: object) -> RawValue:
        """Return ``raw`` if this encoding can hold it, else raise :class:`CalibrationError`."""
        if self.is_integer:
            if isinstance(raw, bool) or not isinstance(raw, int | np.integer):
                msg = f"raw value must be an integer for {self.encoding}"
                raise CalibrationError(msg)
            value = int(raw)
            if not self.min <= value <= self.max:
                msg = f"raw value out of range {self.min}..{self.max} of {self.encoding}"
                raise CalibrationError(msg)
            return value
        if isinstance(raw, bool) or not isinstance(raw, int | float | np.number):
            msg = f"raw value must be a number for {self.encoding}"
            raise CalibrationError(msg)
        value_f = float(raw)
        if math.isinf(value_f) or (not math.isnan(value_f) and abs(value_f) > self.max):
            msg = f"raw value out of the range of {self.encoding}"
            raise CalibrationError(msg)
        return value_f


def _number(eng: object) -> float:
    if isinstance(eng, bool) or not isinstance(eng, int | float | np.number):
        msg = f"expected a number, got {type(eng).__name__}"
        raise CalibrationError(msg)
    return float(eng)


def _integral(eng: object) -> int:
    if isinstance(eng, bool):
        msg = "expected an integer, got bool"
        raise CalibrationError(msg)
    if isinstance(eng, int | np.integer):
        return int(eng)
    if isinstance(eng, float | np.floating) and float(eng).is_integer():
        return int(eng)
    msg = f"expected an integer, got {eng!r}"
    raise CalibrationError(msg)


def horner(coefficients: Sequence[float], x: float) -> float:
    """Σ cᵢ·xⁱ for ascending ``coefficients`` (the same operation order as :func:`horner_array`)."""
    acc = coefficients[-1]
    for c in coefficients[-2::-1]:
        acc = acc * x + c
    return acc


def horner_array(coefficients: Sequence[float], x: NDArray[Any]) -> NDArray[np.float64]:
    """Vectorised :func:`horner` (``x`` int64 or float64; int64 converts exactly below 2**53).

    The first step multiplies ``x`` by the leading coefficient, as the scalar form does (IEEE
    multiplication commutes), then adds in place: no temporary beyond the result.
    """
    acc: NDArray[np.float64] = np.multiply(x, coefficients[-1], dtype=np.float64)
    acc += coefficients[-2]
    for c in coefficients[-3::-1]:
        acc *= x
        acc += c
    return acc


def polynomial_problem(coefficients: Sequence[float], domain: RawDomain) -> str | None:
    """Why a raw→eng polynomial cannot be inverted on the raw range, or ``None`` if it can."""
    degree = len(coefficients) - 1
    while degree > 0 and coefficients[degree] == 0:
        degree -= 1
    if degree < 1:
        return "the polynomial is constant, so it cannot be inverted"
    if not all(math.isfinite(c) for c in coefficients):
        return "coefficients must be finite numbers"
    if not domain.is_integer:
        if degree > 1:
            return f"a {domain.encoding} raw value allows only a linear polynomial"
        return None
    # Monotonic on [min, max] when the derivative has no real root strictly inside the range.
    derivative = [i * c for i, c in enumerate(coefficients)][1 : degree + 1]
    roots = np.roots(list(reversed(derivative))) if len(derivative) > 1 else np.array([])
    for root in roots:
        if abs(root.imag) < 1e-9 and domain.min < root.real < domain.max:
            return (
                f"the polynomial is not monotonic on the raw range {domain.min}..{domain.max} "
                f"(its slope changes sign at raw {root.real:.6g})"
            )
    return None


class Calibrator(ABC):
    """Converts one field between raw and engineering values."""

    __slots__ = ("domain", "eng_type")

    def __init__(self, domain: RawDomain, eng_type: EngType) -> None:
        self.domain = domain
        self.eng_type = eng_type

    @abstractmethod
    def to_eng(self, raw: RawValue) -> EngValue: ...

    @abstractmethod
    def to_raw(self, eng: object) -> RawValue: ...

    @abstractmethod
    def to_eng_array(self, raw: NDArray[np.generic]) -> NDArray[np.generic]: ...

    def describe(self) -> str:
        """One line for the ICD."""
        return "none"


class IdentityCalibrator(Calibrator):
    """Engineering value = raw value (``int`` or ``float`` type)."""

    __slots__ = ()

    def to_eng(self, raw: RawValue) -> EngValue:
        if self.eng_type is EngType.INT:
            return int(raw)
        return float(raw)

    def to_raw(self, eng: object) -> RawValue:
        if self.domain.is_integer:
            value: RawValue = (
                _integral(eng) if self.eng_type is EngType.INT else _integral_float(eng)
            )
        else:
            value = _number(eng)
        try:
            return self.domain.check(value)
        except CalibrationError:
            msg = f"out of range {self.domain.min}..{self.domain.max}"
            raise CalibrationError(msg) from None

    def to_eng_array(self, raw: NDArray[np.generic]) -> NDArray[np.generic]:
        return raw.astype(np.float64)


def _integral_float(eng: object) -> int:
    """A float-typed engineering value stored raw in an integer: round to the nearest."""
    value = _number(eng)
    if not math.isfinite(value):
        msg = f"{value} has no integer raw value"
        raise CalibrationError(msg)
    return round(value)


class PolynomialCalibrator(Calibrator):
    """eng = c0 + c1·raw + c2·raw² + … ; the inverse is exact for degree 1, bisection otherwise."""

    __slots__ = ("coefficients", "eng_max", "eng_min", "increasing")

    def __init__(self, domain: RawDomain, coefficients: Sequence[float]) -> None:
        super().__init__(domain, EngType.FLOAT)
        coeffs = [float(c) for c in coefficients]
        while len(coeffs) > 2 and coeffs[-1] == 0.0:
            coeffs.pop()
        self.coefficients: tuple[float, ...] = tuple(coeffs)
        low, high = horner(self.coefficients, domain.min), horner(self.coefficients, domain.max)
        self.increasing = high >= low
        self.eng_min, self.eng_max = min(low, high), max(low, high)

    def to_eng(self, raw: RawValue) -> EngValue:
        return horner(self.coefficients, raw)

    def to_eng_array(self, raw: NDArray[np.generic]) -> NDArray[np.generic]:
        return horner_array(self.coefficients, raw)

    def _out_of_range(self) -> CalibrationError:
        return CalibrationError(f"out of range {self.eng_min:.6g}..{self.eng_max:.6g}")

    def to_raw(self, eng: object) -> RawValue:
        value = _number(eng)
        if not self.domain.is_integer:
            c0, c1 = self.coefficients[0], self.coefficients[1]
            try:
                return self.domain.check((value - c0) / c1)
            except CalibrationError:
                raise self._out_of_range() from None
        if not math.isfinite(value):
            raise self._out_of_range()
        if len(self.coefficients) == 2:
            c0, c1 = self.coefficients
            estimate = (value - c0) / c1
            if not math.isfinite(estimate):
                raise self._out_of_range()
            raw = round(estimate)
        else:
            raw = self._invert(value)
        if not self.domain.min <= raw <= self.domain.max:
            raise self._out_of_range()
        return raw

    def _invert(self, value: float) -> int:
        lo, hi = float(self.domain.min), float(self.domain.max)
        if not self.eng_min - abs(self.eng_min) * 1e-12 <= value <= self.eng_max * (1 + 1e-12):
            raise self._out_of_range()
        for _ in range(_BISECTION_STEPS):
            mid = (lo + hi) / 2.0
            above = horner(self.coefficients, mid) > value
            if above == self.increasing:
                hi = mid
            else:
                lo = mid
            if hi - lo < 0.25:
                break
        candidates = {math.floor(lo), math.ceil(hi), round((lo + hi) / 2)}
        inside = [c for c in candidates if self.domain.min <= c <= self.domain.max]
        return min(inside, key=lambda c: abs(horner(self.coefficients, c) - value))

    def describe(self) -> str:
        terms = []
        for power, c in enumerate(self.coefficients):
            if c == 0.0:
                continue
            term = f"{c:.10g}"
            if power == 1:
                term += "·raw"
            elif power > 1:
                term += f"·raw^{power}"
            terms.append(term)
        return "eng = " + " + ".join(terms)


class EnumCalibrator(Calibrator):
    """Raw codes ↔ labels. Unknown raw codes decode to ``UNDEFINED_<code>``."""

    __slots__ = ("labels", "raw_of")

    def __init__(self, domain: RawDomain, labels: Mapping[int, str]) -> None:
        super().__init__(domain, EngType.ENUM)
        self.labels: dict[int, str] = dict(sorted(labels.items()))
        self.raw_of: dict[str, int] = {label: raw for raw, label in self.labels.items()}

    def to_eng(self, raw: RawValue) -> EngValue:
        label = self.labels.get(int(raw))
        return label if label is not None else f"UNDEFINED_{int(raw)}"

    def to_raw(self, eng: object) -> RawValue:
        if isinstance(eng, str):
            raw = self.raw_of.get(eng)
            if raw is None:
                msg = f"unknown label, expected one of {', '.join(self.raw_of)}"
                raise CalibrationError(msg)
            return raw
        if isinstance(eng, int | np.integer) and not isinstance(eng, bool):
            if int(eng) not in self.labels:
                msg = f"unknown raw code, expected one of {', '.join(map(str, self.labels))}"
                raise CalibrationError(msg)
            return int(eng)
        msg = f"expected a label, got {type(eng).__name__}"
        raise CalibrationError(msg)

    def to_eng_array(self, raw: NDArray[np.generic]) -> NDArray[np.generic]:
        """Enumerations stay raw codes in arrays; :meth:`label_array` maps them to labels."""
        return raw if raw.dtype == np.int64 else raw.astype(np.int64)

    def label_array(self, raw: NDArray[np.generic]) -> NDArray[np.object_]:
        out = np.empty(raw.shape, dtype=object)
        for i, code in enumerate(raw.tolist()):
            out[i] = self.to_eng(code)
        return out

    def describe(self) -> str:
        return ", ".join(f"{raw}={label}" for raw, label in self.labels.items())


class BoolCalibrator(Calibrator):
    """0 ↔ false, anything else ↔ true (encoded as 1)."""

    __slots__ = ()

    def __init__(self, domain: RawDomain) -> None:
        super().__init__(domain, EngType.BOOL)

    def to_eng(self, raw: RawValue) -> EngValue:
        return raw != 0

    def to_raw(self, eng: object) -> RawValue:
        if isinstance(eng, bool | np.bool_):
            return int(bool(eng))
        if isinstance(eng, int) and eng in (0, 1):
            return eng
        msg = f"expected a boolean, got {eng!r}"
        raise CalibrationError(msg)

    def to_eng_array(self, raw: NDArray[np.generic]) -> NDArray[np.generic]:
        out: NDArray[np.bool_] = raw != 0
        return out

    def describe(self) -> str:
        return "0=false, 1=true"


def make_calibrator(
    encoding: str,
    eng_type: EngType,
    polynomial: Sequence[float] | None = None,
    enumeration: Mapping[int, str] | None = None,
) -> Calibrator:
    """The calibrator for a field; assumes the loader has checked the combination."""
    domain = RawDomain(encoding)
    if eng_type is EngType.ENUM:
        return EnumCalibrator(domain, enumeration or {})
    if eng_type is EngType.BOOL:
        return BoolCalibrator(domain)
    if polynomial is not None:
        return PolynomialCalibrator(domain, polynomial)
    return IdentityCalibrator(domain, eng_type)

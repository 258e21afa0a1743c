"""Telemetry packet production for one vehicle: sequence counters, on-board time, fast encoding.

Every PUS packet the vehicle sends goes through :class:`TmSource`, which keeps the 14-bit
sequence count and the PUS-C message type counter per APID and stamps the on-board time.

Housekeeping is encoded by a compiled per-packet plan rather than ``mission.mdb.encode_tm``:
the simulator makes several packets every simulated second, and the plan turns engineering values
into raw values in one pass, saturating out-of-range values (a simulated sensor saturates instead
of crashing the encoder), then packs them with the MDB's own compiled record codec. The result is
byte-identical to ``encode_tm`` for in-range values (a test checks it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from mission.ccsds.pus import build_tm_packet
from mission.mdb import (
    MissionDatabase,
    VerificationReport,
    encode_are_you_alive_report,
    encode_event,
    encode_verification,
)
from mission.mdb.calibration import (
    FLOAT32_MAX,
    BoolCalibrator,
    CalibrationError,
    Calibrator,
    EnumCalibrator,
    PolynomialCalibrator,
    RawValue,
)

Converter = Callable[[object], RawValue]
_F32: Final = FLOAT32_MAX


def _number(value: object) -> float:
    if isinstance(value, bool):
        return float(value)
    number = float(value)  # type: ignore[arg-type]
    return 0.0 if math.isnan(number) else number


def converter(calibrator: Calibrator) -> Converter:
    """Engineering value -> raw value, saturating at the encoding's range."""
    domain = calibrator.domain
    low, high = domain.min, domain.max
    if isinstance(calibrator, EnumCalibrator):
        raw_of = calibrator.raw_of
        first = next(iter(calibrator.labels))
        return lambda v: raw_of.get(v, first) if isinstance(v, str) else first
    if isinstance(calibrator, BoolCalibrator):
        return lambda v: 1 if v else 0
    if isinstance(calibrator, PolynomialCalibrator):
        coeffs = calibrator.coefficients
        if len(coeffs) == 2 and domain.is_integer:
            c0, c1 = coeffs
            return lambda v: round(min(high, max(low, (_number(v) - c0) / c1)))
        if len(coeffs) == 2:
            c0, c1 = coeffs
            return lambda v: min(_F32, max(-_F32, (_number(v) - c0) / c1))
        eng_min, eng_max = calibrator.eng_min, calibrator.eng_max

        def nonlinear(v: object) -> RawValue:
            value = min(eng_max, max(eng_min, _number(v)))
            try:
                return calibrator.to_raw(value)
            except CalibrationError:
                return low if value <= eng_min else high

        return nonlinear
    if domain.is_integer:
        return lambda v: round(min(high, max(low, _number(v))))
    limit = _F32 if domain.bits == 32 else float(high)
    return lambda v: min(limit, max(-limit, _number(v)))


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one packet's engineering values become raw values.

    Linear integer fields (most of them) go through one comprehension over precomputed
    coefficients; the others (labels, booleans, floats, the odd quadratic calibration) through
    their converters. A non-finite value falls back to the saturating converters.
    """

    size: int
    linear: tuple[tuple[int, str, float, float, int, int], ...]
    other: tuple[tuple[int, str, Converter], ...]
    safe: tuple[tuple[int, str, Converter], ...]

    def raw(self, values: Mapping[str, object]) -> list[RawValue]:
        out: list[RawValue] = [0] * self.size
        try:
            for i, name, c0, c1, low, high in self.linear:
                out[i] = min(high, max(low, round((values[name] - c0) / c1)))  # type: ignore[operator]
        except (ValueError, OverflowError, TypeError):
            for i, name, conv in self.safe:
                out[i] = conv(values[name])
        for i, name, conv in self.other:
            out[i] = conv(values[name])
        return out


def _plan(names: tuple[str, ...], calibrators: tuple[Calibrator, ...]) -> _Plan:
    linear: list[tuple[int, str, float, float, int, int]] = []
    other: list[tuple[int, str, Converter]] = []
    safe: list[tuple[int, str, Converter]] = []
    for i, (name, cal) in enumerate(zip(names, calibrators, strict=True)):
        domain = cal.domain
        simple = (
            isinstance(cal, PolynomialCalibrator) and len(cal.coefficients) == 2
        ) or not isinstance(cal, PolynomialCalibrator | EnumCalibrator | BoolCalibrator)
        if domain.is_integer and simple:
            coeffs = cal.coefficients if isinstance(cal, PolynomialCalibrator) else (0.0, 1.0)
            linear.append((i, name, coeffs[0], coeffs[1], int(domain.min), int(domain.max)))
            safe.append((i, name, converter(cal)))
        else:
            other.append((i, name, converter(cal)))
    return _Plan(len(names), tuple(linear), tuple(other), tuple(safe))


class TmSource:
    """Builds the PUS TM packets of one vehicle."""

    def __init__(self, db: MissionDatabase, vehicle: str) -> None:
        self.db = db
        self.vehicle = vehicle
        self.obsw_apid = db.obsw_apid(vehicle)
        self._seq: dict[int, int] = {}
        self._msg: dict[int, int] = {}
        self._plans: dict[str, _Plan] = {}
        for packet in db.packets_for(vehicle):
            codec = db.codecs[packet.name]
            self._plans[packet.name] = _plan(codec.names, codec.calibrators)

    def reset(self) -> None:
        """Counters restart (after a reboot)."""
        self._seq.clear()
        self._msg.clear()

    def _next(self, apid: int) -> tuple[int, int]:
        seq = self._seq.get(apid, 0)
        msg = self._msg.get(apid, 0)
        self._seq[apid] = (seq + 1) & 0x3FFF
        self._msg[apid] = (msg + 1) & 0xFFFF
        return seq, msg

    def hk(self, packet: str, values: Mapping[str, object], time: float) -> bytes:
        """An HK or science packet from engineering values (KeyError if one is missing)."""
        raw = self._plans[packet].raw(values)
        codec = self.db.codecs[packet]
        definition = codec.packet
        seq, msg = self._next(definition.apid)
        source = codec.record.pack(codec.sid, raw)
        return build_tm_packet(
            definition.apid,
            seq,
            definition.service,
            definition.subtype,
            source,
            time,
            msg_counter=msg,
        )

    def event(self, name: str, args: Mapping[str, object], time: float) -> bytes:
        seq, msg = self._next(self.obsw_apid)
        return encode_event(self.db, name, args, seq, time, msg_counter=msg)

    def verification(self, report: VerificationReport, time: float) -> bytes:
        seq, msg = self._next(self.obsw_apid)
        return encode_verification(self.db, self.vehicle, report, seq, time, msg_counter=msg)

    def are_you_alive(self, time: float) -> bytes:
        seq, msg = self._next(self.obsw_apid)
        return encode_are_you_alive_report(self.db, self.vehicle, seq, time, msg_counter=msg)

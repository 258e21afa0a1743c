"""Compiled codecs for packet source data, command application data and event reports.

A record is a sequence of fields laid out one after the other, most significant bit first:

* byte-aligned ``uint8/16/32``, ``int8/16/32`` and ``float32/64`` fields map to one ``struct``
  item and one big-endian numpy field each;
* every other ``uintN`` field (and any field that does not start on an octet boundary) belongs to
  a *packed group*: a run of fields that starts and ends on an octet boundary, at most 8 octets
  long, read as one unsigned integer and split with shifts and masks.

Each record is compiled once into a ``struct.Struct`` (the single-packet path) and a numpy
structured dtype (the batch path: one ``np.frombuffer`` over many packets of one kind, then
vectorised shifts, masks and calibration). Both give identical results.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from mission.ccsds.errors import EncodeError, HeaderFieldError, LengthMismatchError
from mission.mdb.calibration import (
    CalibrationError,
    Calibrator,
    EngValue,
    EnumCalibrator,
    IdentityCalibrator,
    PolynomialCalibrator,
    RawValue,
    make_calibrator,
)
from mission.mdb.models import ArgumentDef, PacketDef, ParameterDef, parse_encoding

SID_LENGTH: Final = 2
MAX_GROUP_OCTETS: Final = 8

# Batch plan codes: where a field's raw and engineering columns come from.
_RAW_INT, _RAW_FLOAT, _RAW_GROUP = 0, 1, 2
_ENG_LIN, _ENG_ROW, _ENG_CAL = 0, 1, 2

_ALIGNED_STRUCT: Final = {
    "uint8": "B",
    "uint16": "H",
    "uint32": "I",
    "int8": "b",
    "int16": "h",
    "int32": "i",
    "float32": "f",
    "float64": "d",
}
_ALIGNED_NUMPY: Final = {
    "uint8": ">u1",
    "uint16": ">u2",
    "uint32": ">u4",
    "int8": ">i1",
    "int16": ">i2",
    "int32": ">i4",
    "float32": ">f4",
    "float64": ">f8",
}
_GROUP_STRUCT: Final = {1: "B", 2: "H", 4: "I", 8: "Q"}
_GROUP_NUMPY: Final = {1: ">u1", 2: ">u2", 4: ">u4", 8: ">u8"}


class LayoutError(ValueError):
    """A record's bit layout is invalid; ``field`` names the field where it goes wrong."""

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True, slots=True)
class FieldLayout:
    """Where one field sits, counted from the start of the source (or application) data."""

    name: str
    encoding: str
    bits: int
    bit_offset: int
    packed: bool

    @property
    def byte_offset(self) -> int:
        """Octet holding the field's first (most significant) bit."""
        return self.bit_offset // 8

    @property
    def bit_in_byte(self) -> int:
        """Position of the first bit inside its octet, 0 = most significant."""
        return self.bit_offset % 8


@dataclass(frozen=True, slots=True)
class DecodedValue:
    """One decoded parameter value (Yamcs ``ParameterValue`` names)."""

    raw_value: RawValue
    eng_value: EngValue


@dataclass(frozen=True, slots=True)
class _Group:
    octet_offset: int
    octets: int
    fields: tuple[tuple[int, int, int], ...]
    """(field index, right shift, mask) per field of the group."""


def compute_layout(
    fields: Sequence[tuple[str, str]], start_bit: int = 0
) -> tuple[FieldLayout, ...]:
    """Lay ``(name, encoding)`` fields out sequentially; raise :class:`LayoutError` if invalid."""
    pos = start_bit
    out: list[FieldLayout] = []
    group_start: int | None = None
    for name, encoding in fields:
        kind, bits = parse_encoding(encoding)
        packed = encoding not in _ALIGNED_STRUCT or pos % 8 != 0
        if packed and kind != "uint":
            raise LayoutError(
                name,
                f"{encoding} must start on an octet boundary but starts at bit {pos % 8} of "
                f"octet {pos // 8}: the packed fields before it must complete whole octets",
            )
        if packed and group_start is None:
            group_start = pos
        out.append(FieldLayout(name, encoding, bits, pos, packed))
        pos += bits
        if group_start is not None:
            if (pos - group_start) > MAX_GROUP_OCTETS * 8:
                raise LayoutError(
                    name,
                    f"packed fields from bit {group_start} run over {MAX_GROUP_OCTETS} octets "
                    "without reaching an octet boundary",
                )
            if pos % 8 == 0:
                group_start = None
    if pos % 8 != 0:
        last = out[-1].name if out else "<empty>"
        raise LayoutError(
            last,
            f"the layout ends at bit {pos % 8} of octet {pos // 8}: packed sub-octet fields must "
            "complete whole octets",
        )
    return tuple(out)


class RecordCodec:
    """A compiled record: an optional leading u16 (SID, event id, function id) then fields."""

    def __init__(self, fields: Sequence[tuple[str, str]], header: bool) -> None:
        self.header = header
        start = SID_LENGTH * 8 if header else 0
        self.layout = compute_layout(fields, start)
        self.length = (
            (self.layout[-1].bit_offset + self.layout[-1].bits) // 8 if fields else (start // 8)
        )
        fmt = [">"]
        np_fields: list[tuple[str, Any, int]] = []
        if header:
            fmt.append("H")
            np_fields.append(("h", ">u2", 0))
        # plan entries: int = aligned field index; _Group = packed group
        plan: list[int | _Group] = []
        i = 0
        while i < len(self.layout):
            field = self.layout[i]
            if not field.packed:
                fmt.append(_ALIGNED_STRUCT[field.encoding])
                np_fields.append((f"f{i}", _ALIGNED_NUMPY[field.encoding], field.byte_offset))
                plan.append(i)
                i += 1
                continue
            first = field.bit_offset
            members: list[tuple[int, int, int]] = []
            end = first
            while i < len(self.layout) and self.layout[i].packed:
                member = self.layout[i]
                end = member.bit_offset + member.bits
                members.append((i, member.bits, member.bit_offset))
                i += 1
                if end % 8 == 0:
                    break
            octets = (end - first) // 8
            group = _Group(
                octet_offset=first // 8,
                octets=octets,
                fields=tuple(
                    (index, end - (offset + bits), (1 << bits) - 1)
                    for index, bits, offset in members
                ),
            )
            fmt.append(_GROUP_STRUCT.get(octets, f"{octets}s"))
            np_format: Any = _GROUP_NUMPY.get(octets, np.dtype(("u1", (octets,))))
            np_fields.append((f"g{len(plan)}", np_format, group.octet_offset))
            plan.append(group)
        self._plan: tuple[int | _Group, ...] = tuple(plan)
        self._np_fields = tuple(np_fields)
        self._struct = struct.Struct("".join(fmt))
        if self._struct.size != self.length:  # pragma: no cover - guards the layout arithmetic
            msg = f"struct size {self._struct.size} != layout length {self.length}"
            raise AssertionError(msg)
        self._aligned_only = all(isinstance(p, int) for p in plan)
        self._float = tuple(parse_encoding(f.encoding)[0] == "float" for f in self.layout)

    # ------------------------------------------------------------------ single record
    def pack(self, header_value: int | None, raw: Sequence[RawValue]) -> bytes:
        """Pack raw values (already range-checked) in field order."""
        args: list[Any] = [header_value] if self.header else []
        for entry in self._plan:
            if isinstance(entry, int):
                args.append(raw[entry])
                continue
            value = 0
            for index, shift, mask in entry.fields:
                value |= (int(raw[index]) & mask) << shift
            args.append(
                value if entry.octets in _GROUP_STRUCT else value.to_bytes(entry.octets, "big")
            )
        return self._struct.pack(*args)

    def unpack(self, data: bytes | bytearray | memoryview) -> tuple[int | None, list[RawValue]]:
        """Unpack exactly ``self.length`` octets into (header value, raw values in field order)."""
        values = self._struct.unpack(data)
        header: int | None = None
        if self.header:
            header = values[0]
            values = values[1:]
        if self._aligned_only:
            return header, list(values)
        raw: list[RawValue] = [0] * len(self.layout)
        for entry, value in zip(self._plan, values, strict=True):
            if isinstance(entry, int):
                raw[entry] = value
                continue
            word = value if isinstance(value, int) else int.from_bytes(value, "big")
            for index, shift, mask in entry.fields:
                raw[index] = (word >> shift) & mask
        return header, raw

    # ------------------------------------------------------------------ batch
    def numpy_fields(self, base_offset: int = 0) -> list[tuple[str, Any, int]]:
        """(name, format, offset) of this record's numpy fields, shifted by ``base_offset``."""
        return [(name, fmt, offset + base_offset) for name, fmt, offset in self._np_fields]

    def dtype(self, base_offset: int = 0, itemsize: int | None = None) -> np.dtype[np.void]:
        fields = self.numpy_fields(base_offset)
        return np.dtype(
            {
                "names": [f[0] for f in fields],
                "formats": [f[1] for f in fields],
                "offsets": [f[2] for f in fields],
                "itemsize": itemsize if itemsize is not None else base_offset + self.length,
            }
        )

    def unpack_arrays(self, records: NDArray[np.void]) -> list[NDArray[Any]]:
        """Raw arrays (int64 for integers, float64 for floats) in field order."""
        out: list[NDArray[Any]] = [np.empty(0)] * len(self.layout)
        for position, entry in enumerate(self._plan):
            if isinstance(entry, int):
                column = records[f"f{entry}"]
                out[entry] = column.astype(np.float64 if self._float[entry] else np.int64)
                continue
            column = records[f"g{position}"]
            if entry.octets in _GROUP_NUMPY:
                word = column.astype(np.uint64)
            else:
                word = np.zeros(len(records), dtype=np.uint64)
                for k in range(entry.octets):
                    word = (word << np.uint64(8)) | column[:, k].astype(np.uint64)
            for index, shift, mask in entry.fields:
                out[index] = ((word >> np.uint64(shift)) & np.uint64(mask)).astype(np.int64)
        return out

    def header_array(self, records: NDArray[np.void]) -> NDArray[np.int64]:
        return records["h"].astype(np.int64)

    @property
    def aligned_fields(self) -> tuple[int, ...]:
        """Indices of the byte-aligned fields (one struct item and one numpy field each)."""
        return tuple(entry for entry in self._plan if isinstance(entry, int))

    def is_float(self, index: int) -> bool:
        return self._float[index]

    def split_dtypes(
        self, base_offset: int, itemsize: int
    ) -> tuple[np.dtype[np.void], np.dtype[np.void]]:
        """Two views of one record: its aligned fields only; its header and packed groups."""
        fields = self.numpy_fields(base_offset)
        aligned = [f for f in fields if f[0].startswith("f")]
        rest = [f for f in fields if not f[0].startswith("f")]
        return tuple(  # type: ignore[return-value]
            np.dtype(
                {
                    "names": [f[0] for f in part],
                    "formats": [f[1] for f in part],
                    "offsets": [f[2] for f in part],
                    "itemsize": itemsize,
                }
            )
            for part in (aligned, rest)
        )

    def unpack_groups(self, records: NDArray[np.void]) -> dict[int, NDArray[np.int64]]:
        """Raw int64 arrays of the packed fields, by field index."""
        out: dict[int, NDArray[np.int64]] = {}
        for position, entry in enumerate(self._plan):
            if isinstance(entry, int):
                continue
            column = records[f"g{position}"]
            if entry.octets in _GROUP_NUMPY:
                word = column.astype(np.uint64)
            else:
                word = np.zeros(len(records), dtype=np.uint64)
                for k in range(entry.octets):
                    word = (word << np.uint64(8)) | column[:, k].astype(np.uint64)
            for index, shift, mask in entry.fields:
                out[index] = ((word >> np.uint64(shift)) & np.uint64(mask)).astype(np.int64)
        return out


@dataclass(frozen=True, slots=True)
class BatchDecoded:
    """Many packets of one kind, decoded column-wise.

    ``raw[name]`` is int64 (integer encodings) or float64 (float encodings). ``eng[name]`` is
    float64 for ``float`` and ``int`` parameters, bool for ``bool``, and the int64 raw codes for
    ``enum`` parameters, whose labels are in ``enum_labels[name]`` (see :meth:`labels`).
    """

    packet: str
    count: int
    raw: Mapping[str, NDArray[Any]]
    eng: Mapping[str, NDArray[Any]]
    enum_labels: Mapping[str, Mapping[int, str]]

    def labels(self, name: str) -> NDArray[np.object_]:
        """Labels of an enumeration parameter (``UNDEFINED_<code>`` for unknown codes)."""
        mapping = self.enum_labels[name]
        out = np.empty(self.count, dtype=object)
        for i, code in enumerate(self.eng[name].tolist()):
            label = mapping.get(code)
            out[i] = label if label is not None else f"UNDEFINED_{code}"
        return out

    def eng_value(self, name: str, index: int) -> EngValue:
        """The engineering value of one sample, as the single-packet decoder gives it."""
        value = self.eng[name][index].item()
        if name in self.enum_labels:
            label = self.enum_labels[name].get(value)
            return label if label is not None else f"UNDEFINED_{value}"
        return value  # type: ignore[no-any-return]


class PacketCodec:
    """Source data of one housekeeping or science packet: SID (u16) then the parameters."""

    def __init__(self, packet: PacketDef, parameters: Sequence[ParameterDef]) -> None:
        self.packet = packet
        self.name = packet.name
        self.sid = packet.sid
        self.parameters = tuple(parameters)
        self.names = tuple(p.name for p in parameters)
        self.calibrators: tuple[Calibrator, ...] = tuple(
            make_calibrator(
                p.encoding,
                p.type,
                polynomial=p.calibration.polynomial if p.calibration else None,
                enumeration=p.calibration.enumeration if p.calibration else None,
            )
            for p in parameters
        )
        self.record = RecordCodec([(p.name, p.encoding) for p in parameters], header=True)
        self.layout: tuple[FieldLayout, ...] = self.record.layout
        self.source_length: int = self.record.length
        self.dtype = self.record.dtype()
        self._what = f"packet {packet.name}"
        self._enum_labels: dict[str, Mapping[int, str]] = {
            name: cal.labels
            for name, cal in zip(self.names, self.calibrators, strict=True)
            if isinstance(cal, EnumCalibrator)
        }
        self._index = {name: i for i, name in enumerate(self.names)}
        self._compile_batch()

    def _compile_batch(self) -> None:
        """Plan the batch decoder: every aligned field goes through one structured ``astype``
        into a float64 matrix (raw values, exact for these widths); integer rows become int64
        in one step and linear calibrations run on all their rows at once."""
        aligned = self.record.aligned_fields
        self._flat = np.dtype([(f"f{i}", "f8") for i in aligned])
        self._flat_width = len(aligned)
        row_of = {field: row for row, field in enumerate(aligned)}
        int_rows = [row_of[i] for i in aligned if not self.record.is_float(i)]
        int_pos = {row: n for n, row in enumerate(int_rows)}
        linear_cals: dict[int, PolynomialCalibrator] = {}
        for i in aligned:
            cal = self.calibrators[i]
            if isinstance(cal, PolynomialCalibrator) and len(cal.coefficients) == 2:
                linear_cals[row_of[i]] = cal
        linear = list(linear_cals)
        lin_pos = {row: n for n, row in enumerate(linear)}
        self._int_rows = np.asarray(int_rows, dtype=np.intp)
        self._lin_rows = np.asarray(linear, dtype=np.intp)
        coefficients = [linear_cals[row].coefficients for row in linear]
        self._lin_c0 = np.asarray([c[0] for c in coefficients], dtype=np.float64)[:, None]
        self._lin_c1 = np.asarray([c[1] for c in coefficients], dtype=np.float64)[:, None]
        plan: list[tuple[int, int, int, int]] = []
        for i, cal in enumerate(self.calibrators):
            if i not in row_of:
                plan.append((_RAW_GROUP, 0, _ENG_CAL, 0))
                continue
            row = row_of[i]
            raw = (_RAW_INT, int_pos[row]) if row in int_pos else (_RAW_FLOAT, row)
            if row in lin_pos:
                eng = (_ENG_LIN, lin_pos[row])
            elif isinstance(cal, IdentityCalibrator):
                eng = (_ENG_ROW, row)
            else:
                eng = (_ENG_CAL, 0)
            plan.append((*raw, *eng))
        self._batch_plan = tuple(plan)
        self._dtype_cache: dict[tuple[int, int], tuple[np.dtype[np.void], np.dtype[np.void]]] = {}

    # ------------------------------------------------------------------ encode
    def _check_keys(self, values: Mapping[str, object]) -> None:
        if len(values) != len(self.names) or any(name not in values for name in self.names):
            for name in self.names:
                if name not in values:
                    raise EncodeError(self._what, name, None, "missing value")
            for name in values:
                if name not in self._index:
                    raise EncodeError(self._what, name, values[name], "not in this packet")

    def to_raw(self, values: Mapping[str, object]) -> list[RawValue]:
        """Engineering values → raw values, with range checks (``EncodeError``)."""
        self._check_keys(values)
        raw: list[RawValue] = []
        for name, cal in zip(self.names, self.calibrators, strict=True):
            value = values[name]
            try:
                raw.append(cal.to_raw(value))
            except CalibrationError as exc:
                raise EncodeError(self._what, name, value, str(exc)) from None
        return raw

    def encode_source(self, values: Mapping[str, object]) -> bytes:
        """Source data (SID + parameters) from engineering values."""
        return self.record.pack(self.sid, self.to_raw(values))

    def encode_raw_source(self, raw: Mapping[str, object]) -> bytes:
        """Source data from raw values (checked against each encoding's range)."""
        self._check_keys(raw)
        checked: list[RawValue] = []
        for name, cal in zip(self.names, self.calibrators, strict=True):
            try:
                checked.append(cal.domain.check(raw[name]))
            except CalibrationError as exc:
                raise EncodeError(self._what, name, raw[name], str(exc)) from None
        return self.record.pack(self.sid, checked)

    # ------------------------------------------------------------------ decode one
    def _unpack(self, data: bytes | bytearray | memoryview) -> list[RawValue]:
        if len(data) != self.source_length:
            raise LengthMismatchError(f"source data of {self.name}", self.source_length, len(data))
        sid, raw = self.record.unpack(data)
        if sid != self.sid:
            raise HeaderFieldError(self._what, "sid", sid or 0, str(self.sid))
        return raw

    def decode_raw_source(self, data: bytes | bytearray | memoryview) -> dict[str, RawValue]:
        return dict(zip(self.names, self._unpack(data), strict=True))

    def decode_source(self, data: bytes | bytearray | memoryview) -> dict[str, DecodedValue]:
        """Decode one packet's source data (SID included) into raw and engineering values."""
        raw = self._unpack(data)
        return {
            name: DecodedValue(value, cal.to_eng(value))
            for name, cal, value in zip(self.names, self.calibrators, raw, strict=True)
        }

    # ------------------------------------------------------------------ decode many
    def decode_batch(self, sources: bytes | bytearray | memoryview, count: int) -> BatchDecoded:
        """Decode ``count`` concatenated source-data fields of this packet at once."""
        expected = count * self.source_length
        if count < 0 or len(sources) != expected:
            raise LengthMismatchError(
                f"{count} source data fields of {self.name}", expected, len(sources)
            )
        return self.decode_buffer(sources, count)

    def decode_buffer(
        self,
        buf: bytes | bytearray | memoryview,
        count: int,
        base_offset: int = 0,
        itemsize: int | None = None,
    ) -> BatchDecoded:
        """Decode ``count`` records of ``itemsize`` octets whose source data starts at
        ``base_offset`` in each (whole packets: 20 and the packet length)."""
        size = itemsize if itemsize is not None else base_offset + self.source_length
        if count < 0 or size < base_offset + self.source_length or len(buf) != count * size:
            raise LengthMismatchError(f"{count} records of {self.name}", count * size, len(buf))
        dtypes = self._dtype_cache.get((base_offset, size))
        if dtypes is None:
            dtypes = self.record.split_dtypes(base_offset, size)
            self._dtype_cache[(base_offset, size)] = dtypes
        aligned_dtype, rest_dtype = dtypes
        rest = np.frombuffer(buf, dtype=rest_dtype, count=count)
        sids = rest["h"]
        if (sids != self.sid).any():
            first_bad = int(sids[np.flatnonzero(sids != self.sid)[0]])
            raise HeaderFieldError(self._what, "sid", first_bad, str(self.sid))
        raw: dict[str, NDArray[Any]] = {}
        eng: dict[str, NDArray[Any]] = {}
        # Any bit pattern is a valid float (signalling NaN, huge values): no warnings, as the
        # scalar path gives none.
        with np.errstate(all="ignore"):
            groups = self.record.unpack_groups(rest)
            rows = np.empty((0, count))
            ints = rows
            linear = rows
            if self._flat_width:
                matrix = (
                    np.frombuffer(buf, dtype=aligned_dtype, count=count)
                    .astype(self._flat)
                    .view(np.float64)
                    .reshape(count, self._flat_width)
                )
                rows = np.ascontiguousarray(matrix.T)
                if len(self._int_rows):
                    ints = rows[self._int_rows].astype(np.int64)
                if len(self._lin_rows):
                    linear = rows[self._lin_rows] * self._lin_c1 + self._lin_c0
            for i, (name, cal, (raw_kind, raw_at, eng_kind, eng_at)) in enumerate(
                zip(self.names, self.calibrators, self._batch_plan, strict=True)
            ):
                column = (
                    ints[raw_at]
                    if raw_kind == _RAW_INT
                    else rows[raw_at]
                    if raw_kind == _RAW_FLOAT
                    else groups[i]
                )
                raw[name] = column
                if eng_kind == _ENG_LIN:
                    eng[name] = linear[eng_at]
                elif eng_kind == _ENG_ROW:
                    eng[name] = rows[eng_at]
                else:
                    eng[name] = cal.to_eng_array(column)
        return BatchDecoded(self.name, count, raw, eng, self._enum_labels)


class ArgumentCodec:
    """Command application data or event report data: optional u16 id, then typed arguments."""

    def __init__(self, what: str, arguments: Sequence[ArgumentDef], header: bool) -> None:
        self.what = what
        self.arguments = tuple(arguments)
        self.names = tuple(a.name for a in arguments)
        self.calibrators: tuple[Calibrator, ...] = tuple(
            make_calibrator(a.encoding, a.type, enumeration=a.enumeration) for a in arguments
        )
        self.record = RecordCodec([(a.name, a.encoding) for a in arguments], header=header)
        self.layout = self.record.layout
        self.length = self.record.length

    def encode(self, header_value: int | None, values: Mapping[str, object]) -> bytes:
        raw: list[RawValue] = []
        for arg, cal in zip(self.arguments, self.calibrators, strict=True):
            if arg.name not in values:
                raise EncodeError(self.what, arg.name, None, "missing value")
            value = values[arg.name]
            try:
                raw.append(cal.to_raw(value))
            except CalibrationError as exc:
                raise EncodeError(self.what, arg.name, value, str(exc)) from None
        for name in values:
            if name not in self.names:
                raise EncodeError(self.what, name, values[name], "unknown argument")
        return self.record.pack(header_value, raw)

    def decode(
        self, data: bytes | bytearray | memoryview
    ) -> tuple[int | None, dict[str, EngValue]]:
        if len(data) != self.length:
            raise LengthMismatchError(self.what, self.length, len(data))
        header, raw = self.record.unpack(data)
        return header, {
            name: cal.to_eng(value)
            for name, cal, value in zip(self.names, self.calibrators, raw, strict=True)
        }

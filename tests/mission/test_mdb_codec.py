"""Source-data codecs: round trips for every packet, single and batch decoders agree, random bytes
only raise protocol errors, layouts and calibrations behave."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mission.ccsds.errors import EncodeError, HeaderFieldError, LengthMismatchError, ProtocolError
from mission.mdb import (
    EngType,
    LayoutError,
    MonitoringResult,
    PacketCodec,
    ParameterDef,
    check_array,
    check_value,
    load_mdb,
)
from mission.mdb.calibration import PolynomialCalibrator, RawDomain, polynomial_problem
from mission.mdb.codec import RecordCodec, compute_layout

DB = load_mdb()
PACKETS = sorted(DB.packets)


def raw_strategy(p: ParameterDef, defined_enums: bool = True) -> st.SearchStrategy[Any]:
    """Raw values the parameter's encoding can hold (enumerations: defined codes only)."""
    domain = RawDomain(p.encoding)
    if p.type is EngType.ENUM and defined_enums:
        return st.sampled_from(sorted(p.enumeration))
    if domain.is_integer:
        return st.integers(min_value=int(domain.min), max_value=int(domain.max))
    return st.floats(allow_nan=False, allow_infinity=False, width=32 if domain.bits == 32 else 64)


def outcome(call: Callable[[], object]) -> str:
    """``"decoded"`` or the ``reason`` of the ProtocolError; any other exception propagates."""
    try:
        call()
    except ProtocolError as exc:
        return exc.reason
    return "decoded"


def raw_values(data: st.DataObject, codec: PacketCodec) -> dict[str, Any]:
    return {p.name: data.draw(raw_strategy(p), label=p.name) for p in codec.parameters}


@given(data=st.data(), name=st.sampled_from(PACKETS))
def test_raw_round_trip_every_packet(data: st.DataObject, name: str) -> None:
    codec = DB.codecs[name]
    raw = raw_values(data, codec)
    source = codec.encode_raw_source(raw)
    assert len(source) == codec.source_length
    assert source[:2] == struct.pack(">H", codec.sid)
    assert codec.decode_raw_source(source) == raw


@given(data=st.data(), name=st.sampled_from(PACKETS))
def test_engineering_round_trip_every_packet(data: st.DataObject, name: str) -> None:
    codec = DB.codecs[name]
    source = codec.encode_raw_source(raw_values(data, codec))
    decoded = codec.decode_source(source)
    again = codec.encode_source({n: v.eng_value for n, v in decoded.items()})
    assert again == source
    for p in codec.parameters:
        value = decoded[p.name]
        if p.type is EngType.ENUM:
            assert value.eng_value == p.enumeration[int(value.raw_value)]
        elif p.type is EngType.BOOL:
            assert value.eng_value is (value.raw_value == 1)
        elif p.calibration is None:
            assert value.eng_value == value.raw_value


@given(data=st.data(), name=st.sampled_from(PACKETS), count=st.integers(1, 12))
def test_batch_equals_single(data: st.DataObject, name: str, count: int) -> None:
    codec = DB.codecs[name]
    sources = [
        codec.encode_raw_source(
            {p.name: data.draw(raw_strategy(p, defined_enums=False)) for p in codec.parameters}
        )
        for _ in range(count)
    ]
    batch = codec.decode_batch(b"".join(sources), count)
    assert batch.count == count
    for i, source in enumerate(sources):
        single = codec.decode_source(source)
        for p in codec.parameters:
            assert batch.raw[p.name][i].item() == single[p.name].raw_value
            assert batch.eng_value(p.name, i) == single[p.name].eng_value
        for p in codec.parameters:
            if p.type is EngType.ENUM:
                assert batch.labels(p.name)[i] == single[p.name].eng_value


@given(name=st.sampled_from(PACKETS), noise=st.binary(min_size=64, max_size=64))
def test_any_bits_of_the_right_length_decode(name: str, noise: bytes) -> None:
    codec = DB.codecs[name]
    source = struct.pack(">H", codec.sid) + (noise * 4)[: codec.source_length - 2]
    single = codec.decode_source(source)
    batch = codec.decode_batch(source, 1)
    for p in codec.parameters:
        a, b = single[p.name].eng_value, batch.eng_value(p.name, 0)
        assert a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(float(b)))


@given(name=st.sampled_from(PACKETS), blob=st.binary(max_size=80))
def test_random_bytes_raise_only_protocol_errors(name: str, blob: bytes) -> None:
    codec = DB.codecs[name]
    count = max(1, len(blob) // codec.source_length)
    assert outcome(lambda: codec.decode_source(blob))
    assert outcome(lambda: codec.decode_batch(blob, count))


def test_length_and_sid_are_checked() -> None:
    codec = DB.codecs["rover.hk.power"]
    good = codec.encode_raw_source({p.name: 0 for p in codec.parameters})
    with pytest.raises(LengthMismatchError):
        codec.decode_source(good[:-1])
    with pytest.raises(LengthMismatchError):
        codec.decode_batch(good * 2, 3)
    wrong_sid = struct.pack(">H", codec.sid + 1) + good[2:]
    with pytest.raises(HeaderFieldError) as info:
        codec.decode_source(wrong_sid)
    assert info.value.field == "sid"
    with pytest.raises(HeaderFieldError):
        codec.decode_batch(good + wrong_sid, 2)


def test_encode_errors_name_the_parameter() -> None:
    codec = DB.codecs["rover.hk.power"]
    values: dict[str, object] = {p.name: 0.0 for p in codec.parameters}
    values["rover.power.charge_state"] = "CHARGING"
    assert len(codec.encode_source(values)) == codec.source_length
    too_high = {**values, "rover.power.battery_soc": 700.0}
    with pytest.raises(EncodeError) as info:
        codec.encode_source(too_high)
    assert info.value.field == "rover.power.battery_soc"
    assert "out of range" in info.value.detail
    with pytest.raises(EncodeError, match="unknown label"):
        codec.encode_source({**values, "rover.power.charge_state": "EXPLODING"})
    missing = dict(values)
    del missing["rover.power.bus_voltage"]
    with pytest.raises(EncodeError, match="missing"):
        codec.encode_source(missing)
    with pytest.raises(EncodeError, match="not in this packet"):
        codec.encode_source({**values, "rover.drill.depth": 1.0})
    with pytest.raises(EncodeError):
        codec.encode_raw_source({**values, "rover.power.battery_soc": 1 << 16})


def test_known_layout_bits() -> None:
    codec = DB.codecs["rover.hk.mobility"]
    layout = {f.name: f for f in codec.layout}
    hazard = layout["rover.mobility.hazard_detected"]
    state = layout["rover.mobility.drive_state"]
    assert hazard.packed
    assert state.bit_offset == hazard.bit_offset + 3
    assert state.byte_offset == hazard.byte_offset
    values: dict[str, object] = {}
    for p in codec.parameters:
        values[p.name] = {EngType.BOOL: False, EngType.ENUM: p.typical}.get(p.type, 0.0)
    values["rover.mobility.hazard_detected"] = True
    values["rover.mobility.drive_state"] = "STOPPED_FAULT"  # raw 4 = 0b100
    values["rover.mobility.nav_mode"] = "AUTONOMOUS"  # raw 2 = 0b10
    source = codec.encode_source(values)
    # hazard(1) brakes(0) motors(0) drive_state(100) nav_mode(10) -> 0b1001_0010
    assert source[hazard.byte_offset] == 0b1001_0010


def test_compute_layout_rules() -> None:
    assert [f.bit_offset for f in compute_layout([("a", "uint3"), ("b", "uint13")])] == [0, 3]
    assert compute_layout([("a", "uint24"), ("b", "int8")])[1].byte_offset == 3
    with pytest.raises(LayoutError) as info:
        compute_layout([("a", "uint3"), ("b", "int16"), ("c", "uint5")])
    assert info.value.field == "b"
    with pytest.raises(LayoutError, match="complete whole octets"):
        compute_layout([("a", "uint8"), ("b", "uint7")])
    with pytest.raises(LayoutError, match="over 8 octets"):
        compute_layout([("a", "uint1"), ("b", "uint32"), ("c", "uint32"), ("d", "uint7")])


@given(st.integers(0, (1 << 20) - 1), st.integers(0, (1 << 23) - 1), st.integers(0, 255))
def test_odd_sized_group_round_trip(word: int, small: int, tail: int) -> None:
    record = RecordCodec([("w", "uint20"), ("s", "uint23"), ("t", "uint5"), ("u", "uint8")], True)
    raw = [word, small, tail & 0x1F, tail]
    packed = record.pack(7, raw)
    assert len(packed) == 2 + 6 + 1  # a 6-octet packed group, then an aligned uint8
    assert record.unpack(packed) == (7, raw)
    arrays = record.unpack_arrays(np.frombuffer(packed * 2, dtype=record.dtype(), count=2))
    assert [int(a[1]) for a in arrays] == raw


def test_polynomial_inverse_quadratic() -> None:
    cal = PolynomialCalibrator(RawDomain("uint12"), [-150.0, 0.05, 0.000008])
    for raw in (0, 1, 551, 2048, 4095):
        assert cal.to_raw(cal.to_eng(raw)) == raw
    assert polynomial_problem([0.0, 1.0, -0.001], RawDomain("uint12")) is not None
    assert polynomial_problem([5.0], RawDomain("uint8")) is not None
    assert polynomial_problem([1.0, 2.0, 3.0], RawDomain("float32")) is not None
    assert polynomial_problem([1.0, 2.0], RawDomain("int16")) is None


@given(name=st.sampled_from(sorted(DB.parameters)), data=st.data())
def test_limit_checks_scalar_and_vector_agree(name: str, data: st.DataObject) -> None:
    p = DB.parameters[name]
    codec = DB.codecs[DB.packet_of(name).name]
    cal = codec.calibrators[codec.names.index(name)]
    raws = data.draw(st.lists(raw_strategy(p, defined_enums=False), min_size=1, max_size=8))
    column = np.array(raws, dtype=np.float64 if isinstance(raws[0], float) else np.int64)
    vector = check_array(p, cal.to_eng_array(column))
    for raw, result in zip(raws, vector.tolist(), strict=True):
        assert check_value(p, cal.to_eng(raw)) == MonitoringResult(result)


def test_limit_levels() -> None:
    soc = DB.parameters["rover.power.battery_soc"]
    assert check_value(soc, 50.0) is MonitoringResult.IN_LIMITS
    assert check_value(soc, 15.0) is MonitoringResult.WARNING
    assert check_value(soc, 5.0) is MonitoringResult.CRITICAL
    mode = DB.parameters["rover.obsw.mode"]
    assert check_value(mode, "SAFE") is MonitoringResult.WARNING
    assert check_value(mode, "NOMINAL") is MonitoringResult.IN_LIMITS
    jam = DB.parameters["rover.drill.jam_flag"]
    assert check_value(jam, True) is MonitoringResult.CRITICAL
    assert check_array(jam, np.array([False, True])).tolist() == [0, 2]

"""Property tests of the archive's columnar blocks: codecs, merging, bucketing, merge planning."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

from ground.archive import segments as seg

T0 = 1_700_000_000.0
# No Hypothesis deadlines: on a loaded 2-core machine numpy-sized examples take a while, and
# speed is measured in bench/, not here.

times_st = st.floats(T0 - 1e6, T0 + 1e6, allow_nan=False)
any_float = st.floats(allow_nan=True, allow_infinity=True, width=64)
int64s = st.integers(-(2**63), 2**63 - 1)


@st.composite
def sample_arrays(draw: st.DrawFn, min_size: int = 0) -> tuple[NDArray[Any], ...]:
    """``(times, raw, eng, reception)``: random raw kinds, NaN and duplicate times included."""
    n = draw(st.integers(min_size, 40))
    times = draw(hnp.arrays(np.float64, n, elements=times_st))
    kind = draw(st.sampled_from(["int", "float", "int_eq", "float_eq"]))
    eng = draw(hnp.arrays(np.float64, n, elements=any_float))
    raw: NDArray[Any]
    if kind == "int":
        raw = draw(hnp.arrays(np.int64, n, elements=int64s))
    elif kind == "float":
        raw = draw(hnp.arrays(np.float64, n, elements=any_float))
    elif kind == "int_eq":
        raw = draw(hnp.arrays(np.int64, n, elements=st.integers(-(2**53), 2**53)))
        eng = raw.astype(np.float64)
    else:
        raw = eng.copy()
    reception = draw(
        st.one_of(
            st.just(np.full(n, T0 + 5.0)),
            hnp.arrays(np.float64, n, elements=st.sampled_from([T0 + 1.0, T0 + 2.5, T0 + 9.0])),
        )
    )
    return times, raw, eng, reception


def _same(a: NDArray[Any], b: NDArray[Any]) -> bool:
    """Bit-for-bit equality of two arrays of one dtype (NaN, -0.0 included)."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return bool(np.array_equal(a.view(np.uint8), b.view(np.uint8)))


def _stored(arrays: seg.SegmentArrays) -> seg.SegmentArrays:
    encoded = seg.encode_segment(arrays)
    return seg.decode_segment(
        encoded.raw_kind, encoded.times, encoded.eng, encoded.raw, encoded.rtimes
    )


@settings(deadline=None)
@given(sample_arrays(min_size=1))
def test_segment_round_trip_is_exact_and_sorted(data: tuple[NDArray[Any], ...]) -> None:
    times, raw, eng, reception = data
    arrays = seg.make_segment(times, raw, eng, reception)
    order = np.argsort(times, kind="stable")
    assert _same(arrays.times, times[order])
    assert _same(arrays.raw, raw[order])
    assert _same(arrays.eng, eng[order])
    assert _same(arrays.reception, reception[order])
    back = _stored(arrays)
    for name in ("times", "raw", "eng", "reception"):
        assert _same(getattr(back, name), getattr(arrays, name)), name


@settings(deadline=None)
@given(sample_arrays(min_size=1))
def test_segment_summary_ignores_nan(data: tuple[NDArray[Any], ...]) -> None:
    times, raw, eng, reception = data
    encoded = seg.encode_segment(seg.make_segment(times, raw, eng, reception))
    valid = eng[~np.isnan(eng)]
    assert encoded.n == len(times)
    assert encoded.n_valid == len(valid)
    assert encoded.t_start == times.min()
    assert encoded.t_end == times.max()
    assert encoded.r_end == reception.max()
    if len(valid):
        assert encoded.v_min == valid.min()
        assert encoded.v_max == valid.max()
    else:
        assert encoded.v_min is None
        assert encoded.v_max is None
        assert encoded.v_sum is None


@settings(deadline=None)
@given(sample_arrays(min_size=1))
def test_raw_blob_is_left_out_only_when_it_equals_eng(data: tuple[NDArray[Any], ...]) -> None:
    times, raw, eng, reception = data
    encoded = seg.encode_segment(seg.make_segment(times, raw, eng, reception))
    if encoded.raw is None:
        assert np.array_equal(raw.astype(np.float64).view(np.int64), eng.view(np.int64))
    else:
        assert encoded.raw_kind in {seg.RawKind.INT, seg.RawKind.FLOAT}


@settings(deadline=None)
@given(sample_arrays(min_size=1))
def test_last_sample_is_the_last_of_the_decoded_segment(data: tuple[NDArray[Any], ...]) -> None:
    times, raw, eng, reception = data
    arrays = seg.make_segment(times, raw, eng, reception)
    encoded = seg.encode_segment(arrays)
    t, r, e = seg.last_sample(encoded.raw_kind, encoded.times, encoded.eng, encoded.raw)
    assert t == arrays.times[-1]
    assert type(r) is (int if arrays.raw.dtype == np.int64 else float)
    assert _same(np.array([r], dtype=arrays.raw.dtype), arrays.raw[-1:])
    assert _same(np.array([e]), arrays.eng[-1:])


@settings(deadline=None)
@given(st.lists(sample_arrays(min_size=1), min_size=1, max_size=6))
def test_merge_keeps_every_sample_in_stable_time_order(
    parts: list[tuple[NDArray[Any], ...]],
) -> None:
    segments = [seg.make_segment(*p) for p in parts]
    merged = seg.merge_segments([_stored(s) for s in segments])
    times = np.concatenate([s.times for s in segments])
    order = np.argsort(times, kind="stable")
    assert _same(merged.times, times[order])
    assert _same(merged.eng, np.concatenate([s.eng for s in segments])[order])
    assert _same(merged.reception, np.concatenate([s.reception for s in segments])[order])
    raws = [s.raw for s in segments]
    if all(r.dtype == np.int64 for r in raws):
        assert _same(merged.raw, np.concatenate(raws)[order])
    else:
        assert merged.raw.dtype == np.float64
        expected = np.concatenate([r.astype(np.float64) for r in raws])[order]
        assert _same(merged.raw, expected)


def test_reception_time_may_be_any_numpy_scalar() -> None:
    t = np.array([T0 + 1, T0])
    for reception in (T0, np.float64(T0), np.int64(T0), int(T0)):
        arrays = seg.make_segment(t, np.array([1, 2]), np.array([1.0, 2.0]), reception)
        assert arrays.reception.tolist() == [T0, T0]
        assert arrays.raw.tolist() == [2, 1]


def test_make_segment_rejects_bad_input() -> None:
    t = np.array([T0, T0 + 1])
    with pytest.raises(ValueError, match="one length"):
        seg.make_segment(t, np.array([1]), np.array([1.0, 2.0]), T0)
    with pytest.raises(ValueError, match="NaN"):
        seg.make_segment(np.array([T0, math.nan]), np.array([1, 2]), np.array([1.0, 2.0]), T0)
    with pytest.raises(TypeError, match="integers or floats"):
        seg.make_segment(t, np.array(["a", "b"]), np.array([1.0, 2.0]), T0)
    with pytest.raises(ValueError, match="2\\*\\*63"):
        seg.make_segment(t, np.array([0, 2**64 - 1], dtype=np.uint64), np.array([0.0, 1.0]), T0)
    with pytest.raises(ValueError, match="empty"):
        seg.encode_segment(seg.make_segment(np.empty(0), np.empty(0), np.empty(0), T0))


# --- bucketing -----------------------------------------------------------------------------------


def _direct_buckets(
    times: NDArray[np.float64], values: NDArray[np.float64], edges: NDArray[np.float64]
) -> list[tuple[float, float, int, float, float, float]]:
    """The bucket statistics by brute force: one mask per bucket."""
    result = []
    for i in range(len(edges) - 1):
        v = values[(times >= edges[i]) & (times < edges[i + 1])]
        v = v[~np.isnan(v)]
        if len(v):
            result.append((edges[i], edges[i + 1], len(v), v.min(), v.max(), v.mean()))
    return result


def _assert_buckets_equal(
    got: list[tuple[float, float, int, float, float, float]],
    expected: list[tuple[float, float, int, float, float, float]],
) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g[:5] == e[:5]
        assert g[5] == pytest.approx(e[5], rel=1e-9, abs=1e-9)


finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(deadline=None)
@given(
    times=hnp.arrays(np.float64, st.integers(0, 300), elements=st.floats(-10.0, 110.0)),
    data=st.data(),
    buckets=st.integers(1, 40),
    start=st.floats(-5.0, 50.0),
    width=st.floats(0.5, 120.0),
)
def test_buckets_match_a_direct_computation(
    times: NDArray[np.float64], data: st.DataObject, buckets: int, start: float, width: float
) -> None:
    values = data.draw(
        hnp.arrays(np.float64, len(times), elements=st.one_of(finite, st.just(math.nan)))
    )
    edges = seg.bucket_edges(start, start + width, buckets)
    order = np.argsort(times, kind="stable")
    acc = seg.BucketAccumulator(edges)
    acc.add_samples(times[order], values[order])
    _assert_buckets_equal(acc.result(), _direct_buckets(times, values, edges))


@settings(deadline=None)
@given(
    times=hnp.arrays(np.float64, st.integers(1, 300), elements=st.floats(-5.0, 105.0)),
    cuts=st.lists(st.integers(0, 300), max_size=40),
    buckets=st.integers(1, 30),
    nan_every=st.integers(2, 50),
)
def test_block_summaries_give_the_same_buckets_as_samples(
    times: NDArray[np.float64], cuts: list[int], buckets: int, nan_every: int
) -> None:
    times = np.sort(times)
    values = np.sin(times) * 100
    values[::nan_every] = math.nan
    edges = seg.bucket_edges(0.0, 100.0, buckets)
    cut_points = sorted({c % len(times) for c in cuts} - {0})
    pieces = np.split(np.arange(len(times)), cut_points)

    def stat(fn: Any, v: NDArray[np.float64]) -> float:
        valid = v[~np.isnan(v)]
        return float(fn(valid)) if len(valid) else math.nan

    summaries = [
        (
            times[idx[0]],
            times[idx[-1]],
            int(np.count_nonzero(~np.isnan(values[idx]))),
            stat(np.min, values[idx]),
            stat(np.max, values[idx]),
            stat(np.sum, values[idx]),
        )
        for idx in pieces
    ]
    acc = seg.BucketAccumulator(edges)
    t_start, t_end, n_valid, v_min, v_max, v_sum = (
        np.array(c) for c in zip(*summaries, strict=True)
    )
    used = acc.add_summaries(t_start, t_end, n_valid.astype(np.int64), v_min, v_max, v_sum)
    for idx, done in zip(pieces, used.tolist(), strict=True):
        if done:  # the block lies inside one bucket of the window
            k = int(np.searchsorted(edges, times[idx[0]], side="right")) - 1
            assert 0 <= k < buckets
            assert edges[k] <= times[idx[-1]] < edges[k + 1]
        else:
            acc.add_samples(times[idx], values[idx])
    _assert_buckets_equal(acc.result(), _direct_buckets(times, values, edges))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.sampled_from([1, 7, 300, 9_000, 70_000]), min_size=1, max_size=8),
    buckets=st.integers(1, 2_000),
)
def test_parts_are_bucketed_like_their_sorted_union(
    seed: int, sizes: list[int], buckets: int
) -> None:
    rng = np.random.default_rng(seed)
    parts = [(np.sort(rng.uniform(-10, 110, n)), rng.normal(0, 1, n)) for n in sizes]
    edges = seg.bucket_edges(0.0, 100.0, buckets)
    acc = seg.BucketAccumulator(edges)
    acc.add_parts(parts)  # overlapping parts, large ones bucketed alone, small ones merged
    times = np.concatenate([p[0] for p in parts])
    order = np.argsort(times, kind="stable")
    union = seg.BucketAccumulator(edges)
    union.add_samples(times[order], np.concatenate([p[1] for p in parts])[order])
    got, expected = acc.result(), union.result()
    assert [g[:5] for g in got] == [e[:5] for e in expected]
    assert [g[5] for g in got] == pytest.approx([e[5] for e in expected], rel=1e-9, abs=1e-12)


@settings(deadline=None)
@given(st.floats(-1e9, 1e9), st.floats(1e-3, 1e6), st.integers(1, 5000))
def test_bucket_edges_cover_the_window(start: float, width: float, buckets: int) -> None:
    edges = seg.bucket_edges(start, start + width, buckets)
    assert len(edges) == buckets + 1
    assert edges[0] == start
    assert edges[-1] == start + width
    assert bool(np.all(np.diff(edges) >= 0))


@pytest.mark.parametrize(("start", "end", "buckets"), [(0, 0, 1), (1, 0, 1), (0, 1, 0)])
def test_bucket_edges_reject_empty_windows(start: float, end: float, buckets: int) -> None:
    with pytest.raises(ValueError, match=r"need finite|at least"):
        seg.bucket_edges(start, end, buckets)


# --- merge planning ------------------------------------------------------------------------------

block_infos = st.lists(
    st.builds(
        seg.BlockInfo,
        id=st.integers(0, 10**6),
        t_start=st.floats(0, 1e6),
        t_end=st.floats(0, 1e6),
        n=st.integers(1, 40_000),
        group=st.integers(0, 1),
    ),
    max_size=200,
    unique_by=lambda b: b.id,
).map(
    lambda bs: [
        seg.BlockInfo(b.id, min(b.t_start, b.t_end), max(b.t_start, b.t_end), b.n, b.group)
        for b in bs
    ]
)


@settings(max_examples=200, deadline=None)
@given(block_infos, st.booleans())
def test_merge_plans_respect_the_limits(blocks: list[seg.BlockInfo], final: bool) -> None:
    by_id = {b.id: b for b in blocks}
    plan = seg.plan_merges(blocks, final=final)
    seen: set[int] = set()
    for group in plan:
        members = [by_id[i] for i in group]
        assert len(members) >= 2
        assert len(members) <= seg.FANOUT
        assert not seen & set(group)
        seen |= set(group)
        assert len({b.group for b in members}) == 1
        assert len({seg.size_tier(b.n) for b in members}) == 1
        assert sum(b.n for b in members) <= seg.MAX_SEGMENT_SAMPLES
        span = max(b.t_end for b in members) - min(b.t_start for b in members)
        assert span <= seg.MAX_MERGED_SPAN
        assert [(b.t_start, b.id) for b in members] == sorted((b.t_start, b.id) for b in members)


def test_tiered_plan_merges_full_groups_only_unless_final() -> None:
    blocks = [seg.BlockInfo(i, float(i), float(i) + 0.9, 10) for i in range(20)]
    plan = seg.plan_merges(blocks)
    assert plan == [list(range(8)), list(range(8, 16))]
    final = seg.plan_merges(blocks, final=True)
    assert final == [*plan, list(range(16, 20))]


def test_size_tiers_grow_by_the_fanout() -> None:
    assert [seg.size_tier(n) for n in (1, 7, 8, 63, 64, 511, 512, 32_767, 32_768)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        3,
        4,
        5,
    ]


# --- packet blocks -------------------------------------------------------------------------------

packet_rows = st.lists(
    st.tuples(
        times_st,
        times_st,
        st.integers(0, 0x3FFF),
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 63),
        st.sampled_from(["hk_power", "hk_thermal", "event"]),
        st.one_of(st.just(b""), st.binary(min_size=16, max_size=16)),
    ),
    min_size=1,
    max_size=50,
)


def _packet_tuples(block: seg.PacketBlock) -> list[tuple[Any, ...]]:
    rows = block.rows
    return [
        (
            float(rows["generation_time"][i]),
            float(rows["reception_time"][i]),
            int(rows["seq_count"][i]),
            int(rows["service"][i]),
            int(rows["subtype"][i]),
            int(rows["vcid"][i]),
            block.name_of(i),
            block.frame_hash_of(i),
        )
        for i in range(len(block))
    ]


def _block(rows: list[tuple[Any, ...]]) -> seg.PacketBlock:
    columns = list(zip(*rows, strict=True))
    return seg.make_packet_block(*columns)


@settings(deadline=None)
@given(packet_rows)
def test_packet_block_round_trip(rows: list[tuple[Any, ...]]) -> None:
    block = _block(rows)
    expected = sorted(rows, key=lambda r: r[0])  # stable, like the block
    assert _packet_tuples(block) == expected
    stored = seg.packet_block_row(block)
    back = seg.decode_packet_block(*stored[4:])
    assert _packet_tuples(back) == expected
    assert stored[:4] == (expected[0][0], expected[-1][0], max(r[1] for r in rows), len(rows))


@settings(deadline=None)
@given(st.lists(packet_rows, min_size=1, max_size=5))
def test_packet_block_merge_keeps_every_packet(parts: list[list[tuple[Any, ...]]]) -> None:
    merged = seg.merge_packet_blocks([_block(p) for p in parts])
    expected = sorted((r for p in parts for r in sorted(p, key=lambda r: r[0])), key=lambda r: r[0])
    assert _packet_tuples(merged) == expected


def test_packet_block_rejects_out_of_range_fields() -> None:
    row = (T0, T0, 1, 3, 25, 0, "hk", b"")
    with pytest.raises(ValueError, match="seq_count"):
        _block([(T0, T0, 70_000, 3, 25, 0, "hk", b"")])
    with pytest.raises(ValueError, match="16 octets"):
        _block([(*row[:7], b"short")])

"""Columnar blocks of the archive: numpy encode/decode, merging, bucketing and merge planning.

Two kinds of block share one layout idea: one row per series (a parameter, or a packet stream
``(spacecraft, apid)``) and per write, holding numpy arrays as little-endian blobs sorted by
generation time, plus a few summary columns (``t_start``, ``t_end``, ``n`` ...). Compaction merges
the many small blocks that each ingest batch writes into large ones (Yamcs's parameter archive
keeps samples in segments for the same reason): a 24 h query then reads a few dozen rows instead of
tens of thousands.

- **Parameter segments**: generation times (float64), engineering values (float64), raw values
  (int64 or float64; not stored at all when they equal the engineering values exactly), and
  reception times run-length encoded (a batch shares one reception time). Per segment: count,
  NaN-free count, min, max and sum of the engineering values.
- **Packet blocks**: one structured array per block (``PACKET_DTYPE``), packet names and frame
  hashes dictionary-encoded.

Nothing here knows SQL; ``ground.archive.base`` stores and fetches the blobs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

MAX_SEGMENT_SAMPLES: Final = 65_536
"""Compaction never builds a block larger than this many samples (or packets)."""

SMALL_BLOCK: Final = MAX_SEGMENT_SAMPLES // 2
"""Blocks with fewer samples than this are compaction candidates (a partial index covers them)."""

FANOUT: Final = 8
"""Size-tiered compaction merges this many blocks of one size tier at a time."""

MAX_MERGED_SPAN: Final = 7 * 86_400.0
"""Compaction never builds a block spanning more than this many seconds of generation time."""

FRAME_HASH_SIZE: Final = 16
"""Length of a frame hash (blake2b, 16 octets); packet blocks store them at this fixed size."""

_NO_FRAME: Final = 0xFFFF_FFFF
_SMALL_PART: Final = 8_192
_SMALL_RUN: Final = 65_536
_F8: Final = np.dtype("<f8")
_I8: Final = np.dtype("<i8")

Float64Array = NDArray[np.float64]


class RawKind(IntEnum):
    """How a segment stores its raw values."""

    INT = 0
    """int64 blob."""
    FLOAT = 1
    """float64 blob."""
    INT_AS_ENG = 2
    """int64, identical to the engineering values: no blob (decoded from them)."""
    FLOAT_AS_ENG = 3
    """float64, bit-identical to the engineering values: no blob."""


def raw_group(kind: int) -> int:
    """0 for integer raw values, 1 for floats: compaction only merges segments of one group."""
    return kind % 2


@dataclass(frozen=True, slots=True, eq=False)
class SegmentArrays:
    """Decoded samples of one parameter, sorted by generation time (stable for ties)."""

    times: Float64Array
    raw: NDArray[np.int64] | Float64Array
    eng: Float64Array
    reception: Float64Array

    def __len__(self) -> int:
        return len(self.times)


@dataclass(frozen=True, slots=True)
class EncodedSegment:
    """A segment ready to store: summary columns and blobs."""

    t_start: float
    t_end: float
    r_end: float
    n: int
    n_valid: int
    v_min: float | None
    v_max: float | None
    v_sum: float | None
    raw_kind: RawKind
    times: bytes
    eng: bytes
    raw: bytes | None
    rtimes: bytes

    def row(self) -> tuple[Any, ...]:
        """The values in the order of ``SEGMENT_COLUMNS`` (after the series id)."""
        return (
            self.t_start,
            self.t_end,
            self.r_end,
            self.n,
            self.n_valid,
            self.v_min,
            self.v_max,
            self.v_sum,
            int(self.raw_kind),
            self.times,
            self.eng,
            self.raw,
            self.rtimes,
        )


SEGMENT_COLUMNS: Final = (
    "parameter_id",
    *("t_start", "t_end", "r_end", "n", "n_valid", "v_min", "v_max", "v_sum"),
    *("raw_kind", "times", "eng", "raw", "rtimes"),
)
"""Columns of a stored segment, in the order of ``(parameter_id, *EncodedSegment.row())``."""


def make_segment(
    times: NDArray[Any],
    raw: NDArray[Any],
    eng: NDArray[Any],
    reception: float | np.number[Any] | NDArray[Any],
) -> SegmentArrays:
    """Validate and sort one parameter's samples (raw int-like → int64, floats → float64)."""
    t = np.ascontiguousarray(times, dtype=_F8)
    e = np.ascontiguousarray(eng, dtype=_F8)
    r = _as_raw(raw)
    if t.ndim != 1 or e.ndim != 1 or r.ndim != 1 or not len(t) == len(e) == len(r):
        msg = f"sample arrays must be 1-D of one length: {t.shape}, {r.shape}, {e.shape}"
        raise ValueError(msg)
    if np.isnan(t).any():
        msg = "generation times must not be NaN"
        raise ValueError(msg)
    rec = (
        np.full(len(t), reception, dtype=_F8)
        if np.ndim(reception) == 0
        else np.ascontiguousarray(reception, dtype=_F8)
    )
    if rec.shape != t.shape:
        msg = f"reception times {rec.shape} do not match generation times {t.shape}"
        raise ValueError(msg)
    if len(t) > 1 and not bool(np.all(t[1:] >= t[:-1])):
        order = np.argsort(t, kind="stable")
        t, r, e, rec = t[order], r[order], e[order], rec[order]
    return SegmentArrays(t, r, e, rec)


def _as_raw(raw: NDArray[Any]) -> NDArray[np.int64] | Float64Array:
    values = np.asarray(raw)
    if values.dtype.kind in "iub":
        if values.dtype == np.uint64 and len(values) and int(values.max()) > np.iinfo(np.int64).max:
            msg = "raw values above 2**63-1 do not fit the archive's int64"
            raise ValueError(msg)
        return np.ascontiguousarray(values, dtype=_I8)
    if values.dtype.kind == "f":
        return np.ascontiguousarray(values, dtype=_F8)
    msg = f"raw values must be integers or floats, not {values.dtype}"
    raise TypeError(msg)


def encode_segment(seg: SegmentArrays) -> EncodedSegment:
    """Summaries and blobs of ``seg`` (which must be non-empty and sorted)."""
    n = len(seg.times)
    if n == 0:
        msg = "an empty segment is not stored"
        raise ValueError(msg)
    eng = seg.eng
    nan = np.isnan(eng)
    if nan.any():
        valid = eng[~nan]
        n_valid = len(valid)
    else:
        valid, n_valid = eng, n
    v_min = float(valid.min()) if n_valid else None
    v_max = float(valid.max()) if n_valid else None
    with np.errstate(over="ignore", invalid="ignore"):  # a sum past 1.8e308 is inf, as it is
        v_sum = float(valid.sum()) if n_valid else None
    kind, raw_blob = _encode_raw(seg.raw, eng)
    return EncodedSegment(
        t_start=float(seg.times[0]),
        t_end=float(seg.times[-1]),
        r_end=float(np.nanmax(seg.reception)) if not np.isnan(seg.reception).all() else 0.0,
        n=n,
        n_valid=n_valid,
        v_min=v_min,
        v_max=v_max,
        v_sum=v_sum,
        raw_kind=kind,
        times=seg.times.tobytes(),
        eng=eng.tobytes(),
        raw=raw_blob,
        rtimes=_encode_runs(seg.reception),
    )


def _encode_raw(raw: NDArray[Any], eng: Float64Array) -> tuple[RawKind, bytes | None]:
    eng_bits = eng.view(_I8)
    if raw.dtype == _I8:
        as_float = raw.astype(_F8)
        if np.array_equal(as_float.view(_I8), eng_bits):
            with np.errstate(invalid="ignore"):
                exact = np.array_equal(eng.astype(_I8), raw)
            if exact:
                return RawKind.INT_AS_ENG, None
        return RawKind.INT, raw.tobytes()
    if np.array_equal(raw.view(_I8), eng_bits):
        return RawKind.FLOAT_AS_ENG, None
    return RawKind.FLOAT, raw.tobytes()


def _encode_runs(values: Float64Array) -> bytes:
    """Run-length encoding: the run values (float64) then the run lengths (int64)."""
    n = len(values)
    if n and values[0] == values[-1] and bool(np.all(values == values[0])):
        return np.array([values[0]], _F8).tobytes() + np.array([n], _I8).tobytes()
    starts = np.concatenate(([0], np.flatnonzero(values[1:] != values[:-1]) + 1))
    counts = np.diff(np.append(starts, n))
    return values[starts].astype(_F8).tobytes() + counts.astype(_I8).tobytes()


def decode_floats(blob: bytes) -> Float64Array:
    """A float64 blob as a (read-only, zero-copy) array."""
    return np.frombuffer(blob, dtype=_F8)


def decode_segment(
    raw_kind: int, times: bytes, eng: bytes, raw: bytes | None, rtimes: bytes
) -> SegmentArrays:
    """The arrays of a stored segment."""
    t = decode_floats(times)
    e = decode_floats(eng)
    kind = RawKind(raw_kind)
    r: NDArray[np.int64] | Float64Array
    if kind is RawKind.INT:
        r = np.frombuffer(raw or b"", dtype=_I8)
    elif kind is RawKind.FLOAT:
        r = np.frombuffer(raw or b"", dtype=_F8)
    elif kind is RawKind.INT_AS_ENG:
        r = e.astype(_I8)
    else:
        r = e
    k = len(rtimes) // 16
    values = np.frombuffer(rtimes, dtype=_F8, count=k)
    counts = np.frombuffer(rtimes, dtype=_I8, offset=8 * k, count=k)
    rec = np.repeat(values, counts)
    if not len(t) == len(e) == len(r) == len(rec):
        msg = f"corrupt segment: {len(t)} times, {len(e)} eng, {len(r)} raw, {len(rec)} rtimes"
        raise ValueError(msg)
    return SegmentArrays(t, r, e, rec)


def last_sample(
    raw_kind: int, times: bytes, eng: bytes, raw: bytes | None
) -> tuple[float, int | float, float]:
    """``(generation_time, raw, eng)`` of a stored segment's last sample (no full decode)."""
    t = decode_floats(times)
    e = decode_floats(eng)
    i = len(t) - 1
    kind = RawKind(raw_kind)
    value: int | float
    if kind is RawKind.INT:
        value = int(np.frombuffer(raw or b"", dtype=_I8)[i])
    elif kind is RawKind.FLOAT:
        value = float(np.frombuffer(raw or b"", dtype=_F8)[i])
    elif kind is RawKind.INT_AS_ENG:
        value = int(e[i])
    else:
        value = float(e[i])
    return float(t[i]), value, float(e[i])


def merge_segments(parts: Sequence[SegmentArrays]) -> SegmentArrays:
    """One segment holding every sample of ``parts``, sorted by time (stable: ``parts`` order)."""
    if not parts:
        msg = "nothing to merge"
        raise ValueError(msg)
    raw_types = {p.raw.dtype for p in parts}
    raw_dtype = _I8 if raw_types == {_I8} else _F8
    return make_segment(
        np.concatenate([p.times for p in parts]),
        np.concatenate([p.raw.astype(raw_dtype, copy=False) for p in parts]),
        np.concatenate([p.eng for p in parts]),
        np.concatenate([p.reception for p in parts]),
    )


def concat_sorted(
    parts: Sequence[tuple[Float64Array, Float64Array]],
) -> tuple[Float64Array, Float64Array]:
    """Concatenate time-sorted ``(times, values)`` parts in start order; sort if they overlap."""
    kept = [p for p in parts if len(p[0])]
    if not kept:
        return np.empty(0), np.empty(0)
    if len(kept) == 1:
        return kept[0]
    times = np.concatenate([p[0] for p in kept])
    values = np.concatenate([p[1] for p in kept])
    if not all(kept[i][0][0] >= kept[i - 1][0][-1] for i in range(1, len(kept))):
        order = np.argsort(times, kind="stable")
        times, values = times[order], values[order]
    return times, values


def window(arrays: SegmentArrays, start: float, end: float) -> SegmentArrays:
    """The samples of ``arrays`` in [start, end)."""
    lo, hi = np.searchsorted(arrays.times, (start, end), side="left")
    return SegmentArrays(
        arrays.times[lo:hi], arrays.raw[lo:hi], arrays.eng[lo:hi], arrays.reception[lo:hi]
    )


# --- bucketing -----------------------------------------------------------------------------------


def bucket_edges(start: float, end: float, buckets: int) -> Float64Array:
    """``buckets + 1`` edges of equal-width buckets ``[edges[i], edges[i+1])`` over [start, end)."""
    if buckets < 1:
        msg = f"buckets must be at least 1, not {buckets}"
        raise ValueError(msg)
    if not (np.isfinite(start) and np.isfinite(end) and end > start):
        msg = f"need finite start < end, got [{start}, {end})"
        raise ValueError(msg)
    edges = start + (end - start) * (np.arange(buckets + 1, dtype=_F8) / buckets)
    edges[0], edges[-1] = start, end
    return edges


class BucketAccumulator:
    """Count, min, max and sum of values per time bucket, fed by samples or by block summaries.

    NaN engineering values are not counted and do not enter min, max or mean.
    """

    __slots__ = ("counts", "edges", "maxs", "mins", "sums")

    def __init__(self, edges: Float64Array) -> None:
        n = len(edges) - 1
        self.edges = edges
        self.counts = np.zeros(n, dtype=np.int64)
        self.mins = np.full(n, np.nan)
        self.maxs = np.full(n, np.nan)
        self.sums = np.zeros(n)

    def add_summaries(
        self,
        t_start: Float64Array,
        t_end: Float64Array,
        n_valid: NDArray[np.int64],
        v_min: Float64Array,
        v_max: Float64Array,
        v_sum: Float64Array,
    ) -> NDArray[np.bool_]:
        """Add whole blocks from their summaries where a block lies inside one bucket.

        Returns which blocks were added; the others need their samples (``add_samples``).
        A block without valid values (``n_valid`` 0, statistics NaN) inside one bucket is
        simply done.
        """
        edges = self.edges
        k = np.searchsorted(edges, t_start, side="right") - 1
        k_end = np.searchsorted(edges, t_end, side="right") - 1
        inside = (t_start >= edges[0]) & (t_end < edges[-1]) & (k == k_end)
        add = inside & (n_valid > 0)
        kk = k[add]
        np.add.at(self.counts, kk, n_valid[add])
        np.fmin.at(self.mins, kk, v_min[add])
        np.fmax.at(self.maxs, kk, v_max[add])
        with np.errstate(over="ignore", invalid="ignore"):
            np.add.at(self.sums, kk, v_sum[add])
        used: NDArray[np.bool_] = inside
        return used

    def add_samples(self, times: Float64Array, values: Float64Array) -> None:
        """Add samples; ``times`` must be sorted (samples outside the edges are ignored)."""
        edges = self.edges
        lo, hi = np.searchsorted(times, (edges[0], edges[-1]), side="left")
        if hi <= lo:
            return
        t, v = times[lo:hi], values[lo:hi]
        idx = np.searchsorted(t, edges, side="left")
        nonempty = np.flatnonzero(idx[1:] > idx[:-1])
        starts = idx[nonempty]
        nan = np.isnan(v)
        with np.errstate(over="ignore", invalid="ignore"):
            self._add(idx, nonempty, starts, v, nan)

    def _add(
        self,
        idx: NDArray[np.intp],
        nonempty: NDArray[np.intp],
        starts: NDArray[np.intp],
        v: Float64Array,
        nan: NDArray[np.bool_],
    ) -> None:
        if nan.any():
            cum = np.concatenate(([0], np.cumsum(~nan)))
            counts = cum[idx[nonempty + 1]] - cum[starts]
            sums = np.add.reduceat(np.where(nan, 0.0, v), starts)
            mins = np.fmin.reduceat(v, starts)
            maxs = np.fmax.reduceat(v, starts)
        else:
            counts = idx[nonempty + 1] - starts
            sums = np.add.reduceat(v, starts)
            mins = np.minimum.reduceat(v, starts)
            maxs = np.maximum.reduceat(v, starts)
        self.counts[nonempty] += counts
        self.sums[nonempty] += sums
        self.mins[nonempty] = np.fmin(self.mins[nonempty], mins)
        self.maxs[nonempty] = np.fmax(self.maxs[nonempty], maxs)

    def add_parts(self, parts: Sequence[tuple[Float64Array, Float64Array]]) -> None:
        """Add ``(times, values)`` parts, each sorted by time (they may overlap one another).

        Large parts are bucketed one by one (no copy); runs of small parts are concatenated
        first, which costs less than bucketing each one.
        """
        pending: list[tuple[Float64Array, Float64Array]] = []
        size = 0
        for part in parts:
            if len(part[0]) >= _SMALL_PART:
                self.add_samples(*part)
                continue
            pending.append(part)
            size += len(part[0])
            if size >= _SMALL_RUN:
                self.add_samples(*concat_sorted(pending))
                pending, size = [], 0
        if pending:
            self.add_samples(*concat_sorted(pending))

    def result(self) -> list[tuple[float, float, int, float, float, float]]:
        """``(start, end, count, min, max, mean)`` of every bucket with a count; empty omitted."""
        keep = np.flatnonzero(self.counts > 0)
        counts = self.counts[keep]
        with np.errstate(over="ignore", invalid="ignore"):
            means = self.sums[keep] / counts
        return list(
            zip(
                self.edges[keep].tolist(),
                self.edges[keep + 1].tolist(),
                counts.tolist(),
                self.mins[keep].tolist(),
                self.maxs[keep].tolist(),
                means.tolist(),
                strict=True,
            )
        )


# --- compaction planning -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlockInfo:
    """What merge planning needs to know about a stored block."""

    id: int
    t_start: float
    t_end: float
    n: int
    group: int = 0


def size_tier(n: int, fanout: int = FANOUT) -> int:
    """The size tier of a block of ``n`` samples: ``floor(log_fanout(n))``."""
    tier, size = 0, max(n, 1)
    while size >= fanout:
        size //= fanout
        tier += 1
    return tier


def plan_merges(
    blocks: Sequence[BlockInfo],
    *,
    final: bool = False,
    fanout: int = FANOUT,
    max_samples: int = MAX_SEGMENT_SAMPLES,
    max_span: float = MAX_MERGED_SPAN,
) -> list[list[int]]:
    """Groups of block ids to merge, each group time-ordered.

    Size-tiered, like an LSM tree: blocks of one group and one size tier are taken in time order
    and merged ``fanout`` at a time, so every sample is rewritten about log_fanout(max/batch) times
    however often compaction runs (merging a growing block with each new small one would rewrite
    it over and over). A group is cut short when the next block would break ``max_samples`` or
    ``max_span``. With ``final`` the leftover partial groups are merged too (a full compaction).
    """
    lanes: dict[tuple[int, int], list[BlockInfo]] = {}
    for block in sorted(blocks, key=lambda b: (b.t_start, b.id)):
        lanes.setdefault((block.group, size_tier(block.n, fanout)), []).append(block)
    plan: list[list[int]] = []
    for lane in lanes.values():
        current: list[BlockInfo] = []
        total, lo, hi = 0, 0.0, 0.0
        for block in lane:
            if current:
                full = len(current) >= fanout
                fits = (
                    total + block.n <= max_samples
                    and max(hi, block.t_end) - min(lo, block.t_start) <= max_span
                )
                if full or not fits:
                    if len(current) >= 2:
                        plan.append([b.id for b in current])
                    current = []
            if not current:
                total, lo, hi = 0, block.t_start, block.t_end
            current.append(block)
            total += block.n
            lo, hi = min(lo, block.t_start), max(hi, block.t_end)
        if len(current) >= 2 and (len(current) >= fanout or final):
            plan.append([b.id for b in current])
    return plan


# --- packet blocks -------------------------------------------------------------------------------

PACKET_DTYPE: Final = np.dtype(
    [
        ("generation_time", "<f8"),
        ("reception_time", "<f8"),
        ("seq_count", "<u2"),
        ("service", "u1"),
        ("subtype", "u1"),
        ("vcid", "u1"),
        ("name", "<u2"),
        ("frame", "<u4"),
    ]
)
"""One packet of a packet block (27 octets): names and frame hashes index per-block tables."""


@dataclass(frozen=True, slots=True, eq=False)
class PacketBlock:
    """The packets of one stream ``(spacecraft, apid)``, sorted by generation time (stable)."""

    rows: NDArray[np.void]
    names: tuple[str, ...]
    frame_hashes: tuple[bytes, ...]

    def __len__(self) -> int:
        return len(self.rows)

    def name_of(self, i: int) -> str:
        """The packet name of row ``i``."""
        return self.names[int(self.rows["name"][i])]

    def frame_hash_of(self, i: int) -> bytes:
        """The frame hash of row ``i`` (``b""`` when the packet came without one)."""
        index = int(self.rows["frame"][i])
        return b"" if index == _NO_FRAME else self.frame_hashes[index]


def make_packet_blocks(
    spacecraft: Sequence[str],
    apids: Sequence[int],
    generation_times: Sequence[float],
    reception_times: Sequence[float],
    seq_counts: Sequence[int],
    services: Sequence[int],
    subtypes: Sequence[int],
    vcids: Sequence[int],
    names: Sequence[str],
    frame_hashes: Sequence[bytes],
) -> list[tuple[tuple[str, int], PacketBlock]]:
    """One block per stream ``(spacecraft, apid)`` from per-packet columns of one length.

    Vectorised: one pass of Python over the packets (dictionary codes), numpy for the rest.
    """
    n = len(generation_times)
    rows = np.empty(n, dtype=PACKET_DTYPE)
    rows["generation_time"] = generation_times
    rows["reception_time"] = reception_times
    if n and np.isnan(rows["generation_time"]).any():
        msg = "packet generation times must not be NaN"
        raise ValueError(msg)
    for field, values, limit in (
        ("seq_count", seq_counts, 0xFFFF),
        ("service", services, 0xFF),
        ("subtype", subtypes, 0xFF),
        ("vcid", vcids, 0xFF),
    ):
        column = np.asarray(values, dtype=np.int64)
        if column.shape != (n,):
            msg = f"packet column {field} has shape {column.shape}, expected ({n},)"
            raise ValueError(msg)
        if n and (int(column.min()) < 0 or int(column.max()) > limit):
            msg = f"packet {field} out of range 0..{limit}"
            raise ValueError(msg)
        rows[field] = column
    name_table: dict[str, int] = {}
    rows["name"] = [name_table.setdefault(x, len(name_table)) for x in names]
    frame_table: dict[bytes, int] = {}
    rows["frame"] = [frame_table.setdefault(h, len(frame_table)) for h in frame_hashes]
    if any(len(h) not in (0, FRAME_HASH_SIZE) for h in frame_table):
        msg = f"frame hashes must be {FRAME_HASH_SIZE} octets (or empty)"
        raise ValueError(msg)
    stream_table: dict[str, int] = {}
    streams = np.array([stream_table.setdefault(x, len(stream_table)) for x in spacecraft])
    apid = np.asarray(apids, dtype=np.int64)
    if streams.shape != (n,) or apid.shape != (n,):
        msg = f"spacecraft/apid columns have {len(streams)}/{len(apid)} values, expected {n}"
        raise ValueError(msg)
    if n and (int(apid.min()) < 0 or int(apid.max()) > 0x7FFF_FFFF):
        msg = "packet apid out of range 0..2**31-1"
        raise ValueError(msg)
    key = streams.astype(np.int64) << 32 | apid
    order = np.lexsort((rows["generation_time"], key))  # stable: ties keep arrival order
    rows, key = rows[order], key[order]
    cuts = np.flatnonzero(key[1:] != key[:-1]) + 1
    spacecraft_names = list(stream_table)
    name_list, frame_list = list(name_table), list(frame_table)
    empty = frame_table.get(b"", -1)
    blocks = []
    for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), n], strict=True):
        if hi <= lo:
            continue
        part = rows[lo:hi]
        used, part["name"] = np.unique(part["name"], return_inverse=True)
        block_names = tuple(name_list[i] for i in used.tolist())
        used, inverse = np.unique(part["frame"], return_inverse=True)
        keep = used != empty
        position = np.cumsum(keep) - 1
        part["frame"] = np.where(keep[inverse], position[inverse], _NO_FRAME)
        block_frames = tuple(frame_list[i] for i in used[keep].tolist())
        k = int(key[lo])
        stream = (spacecraft_names[k >> 32], k & 0xFFFF_FFFF)
        blocks.append((stream, PacketBlock(part, block_names, block_frames)))
    return blocks


def make_packet_block(
    generation_times: Sequence[float],
    reception_times: Sequence[float],
    seq_counts: Sequence[int],
    services: Sequence[int],
    subtypes: Sequence[int],
    vcids: Sequence[int],
    names: Sequence[str],
    frame_hashes: Sequence[bytes],
) -> PacketBlock:
    """The block of one stream (``make_packet_blocks`` for a single stream)."""
    n = len(generation_times)
    blocks = make_packet_blocks(
        *([""] * n, [0] * n, generation_times, reception_times, seq_counts, services),
        *(subtypes, vcids, names, frame_hashes),
    )
    if not blocks:
        return PacketBlock(np.empty(0, dtype=PACKET_DTYPE), (), ())
    return blocks[0][1]


def _sorted_packets(block: PacketBlock) -> PacketBlock:
    times = block.rows["generation_time"]
    if len(times) > 1 and not bool(np.all(times[1:] >= times[:-1])):
        order = np.argsort(times, kind="stable")
        return PacketBlock(block.rows[order], block.names, block.frame_hashes)
    return block


PACKET_BLOCK_COLUMNS: Final = (
    *("stream_id", "t_start", "t_end", "r_end", "n"),
    *("data", "names", "frame_hashes"),
)
"""Columns of a stored packet block, in the order of ``(stream_id, *packet_block_row(b))``."""


def packet_block_row(block: PacketBlock) -> tuple[Any, ...]:
    """Summary columns and blobs of a non-empty block (``PACKET_BLOCK_COLUMNS`` order)."""
    times = block.rows["generation_time"]
    return (
        float(times[0]),
        float(times[-1]),
        float(np.max(block.rows["reception_time"])),
        len(block),
        block.rows.tobytes(),
        json.dumps(block.names),
        b"".join(block.frame_hashes),
    )


def decode_packet_block(rows: bytes, names: str, frames: bytes) -> PacketBlock:
    """The block whose blobs ``packet_block_row`` made (``data``, ``names``, ``frame_hashes``)."""
    hashes = tuple(frames[i : i + FRAME_HASH_SIZE] for i in range(0, len(frames), FRAME_HASH_SIZE))
    return PacketBlock(np.frombuffer(rows, dtype=PACKET_DTYPE), tuple(json.loads(names)), hashes)


def merge_packet_blocks(parts: Sequence[PacketBlock]) -> PacketBlock:
    """One block holding every packet of ``parts`` (name and frame tables re-indexed)."""
    names: dict[str, int] = {}
    frames: dict[bytes, int] = {}
    pieces = []
    for part in parts:
        rows = part.rows.copy()
        name_map = np.array([names.setdefault(x, len(names)) for x in part.names], dtype=np.int64)
        if len(rows):
            rows["name"] = name_map[rows["name"]] if len(name_map) else rows["name"]
            frame_map = np.array(
                [frames.setdefault(h, len(frames)) for h in part.frame_hashes] + [_NO_FRAME],
                dtype=np.int64,
            )
            index = rows["frame"].astype(np.int64)
            index[index == _NO_FRAME] = len(frame_map) - 1
            rows["frame"] = frame_map[index]
        pieces.append(rows)
    merged = PacketBlock(np.concatenate(pieces), tuple(names), tuple(frames))
    return _sorted_packets(merged)

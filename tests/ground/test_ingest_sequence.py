"""Packet sequence checks per APID: gaps, wrap-around at 2^14, reordering, repeats, restarts."""

from __future__ import annotations

import itertools
import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ground.ingest.sequence import MASK, SequenceResult, SequenceTracker

WINDOW = 16


def feed_all(tracker: SequenceTracker, seqs: list[int], cuts: list[int]) -> SequenceResult:
    total = SequenceResult()
    points = sorted({c % (len(seqs) + 1) for c in cuts} | {0, len(seqs)})
    for a, b in itertools.pairwise(points):
        total.add(tracker.feed(7, np.asarray(seqs[a:b], dtype=np.int64)))
    return total


def runs(flags: list[bool]) -> int:
    return sum(1 for i, f in enumerate(flags) if f and (i == 0 or not flags[i - 1]))


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(0, MASK),
    length=st.integers(WINDOW + 2, 600),
    data=st.data(),
)
def test_dropped_counts_are_missing_exactly_once(
    start: int, length: int, data: st.DataObject
) -> None:
    # Counts start..start+length-1 modulo 2^14 (often across the wrap); drop some, never the first
    # and never the last WINDOW (those are still inside the window, undecided).
    droppable = list(range(1, length - WINDOW))
    dropped = set(data.draw(st.lists(st.sampled_from(droppable), max_size=60, unique=True)))
    seqs = [(start + i) & MASK for i in range(length) if i not in dropped]
    cuts = data.draw(st.lists(st.integers(0, length), max_size=6))
    found = feed_all(SequenceTracker(WINDOW), seqs, cuts)
    flags = [i in dropped for i in range(length)]
    assert found.missing == len(dropped)
    assert found.gaps == runs(flags)
    assert (found.late, found.repeats, found.resets) == (0, 0, 0)


@settings(max_examples=200, deadline=None)
@given(start=st.integers(0, MASK), length=st.integers(1, 500), seed=st.integers(0, 2**32 - 1))
def test_reordering_within_the_window_is_not_a_gap(start: int, length: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    counts = [(start + i) & MASK for i in range(length)]
    shuffled: list[int] = []
    for i in range(0, length, WINDOW // 2):
        chunk = counts[i : i + WINDOW // 2]
        rng.shuffle(chunk)
        shuffled += chunk
    found = feed_all(SequenceTracker(WINDOW), shuffled, [length // 2])
    assert not found.anomalies


def test_the_14_bit_wrap_is_continuous() -> None:
    tracker = SequenceTracker(WINDOW)
    seqs = np.arange(16_300, 16_300 + 200, dtype=np.int64) & MASK
    assert not tracker.feed(1, seqs).anomalies
    assert not tracker.feed(1, np.arange(116, 300, dtype=np.int64)).anomalies


def test_repeats_late_and_restarts() -> None:
    tracker = SequenceTracker(WINDOW)
    assert not tracker.feed(3, np.arange(100, 200, dtype=np.int64)).anomalies
    assert tracker.feed(3, np.array([199, 200], dtype=np.int64)).repeats == 1
    late = tracker.feed(3, np.array([150], dtype=np.int64))  # long decided
    assert (late.late, late.resets) == (1, 0)
    restart = tracker.feed(3, np.array([0, 1, 2, 3], dtype=np.int64))
    assert restart.resets == 1
    assert restart.missing == 0
    assert not tracker.feed(3, np.arange(4, 100, dtype=np.int64)).anomalies


def test_apids_are_independent() -> None:
    tracker = SequenceTracker(WINDOW)
    tracker.feed(1, np.arange(0, 50, dtype=np.int64))
    tracker.feed(2, np.arange(500, 550, dtype=np.int64))
    assert tracker.feed(1, np.arange(50, 100, dtype=np.int64)).missing == 0
    assert tracker.feed(2, np.arange(600, 700, dtype=np.int64)).missing == 50


@settings(max_examples=100, deadline=None)
@given(
    length=st.integers(WINDOW + 2, 400),
    split=st.integers(1, 399),
    data=st.data(),
)
def test_snapshot_and_restore_resume_exactly(length: int, split: int, data: st.DataObject) -> None:
    dropped = set(data.draw(st.lists(st.integers(1, length - 1), max_size=30, unique=True)))
    seqs = [(16_200 + i) & MASK for i in range(length) if i not in dropped]
    split = min(split, len(seqs) - 1)
    whole = SequenceTracker(WINDOW)
    expected = whole.feed(9, np.asarray(seqs, dtype=np.int64))
    first = SequenceTracker(WINDOW)
    got = first.feed(9, np.asarray(seqs[:split], dtype=np.int64))
    second = SequenceTracker(WINDOW)
    second.restore(json.loads(json.dumps(first.snapshot())))
    got.add(second.feed(9, np.asarray(seqs[split:], dtype=np.int64)))
    assert got == expected

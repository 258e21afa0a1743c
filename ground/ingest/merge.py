"""Merging archive batches: when the archive writer falls behind, it commits several batches in
one transaction, with one sample block per parameter (the archive stores one segment per block,
so fewer, larger blocks cost less to write and to compact)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ground.archive import ArchiveBatch, SampleBlock


def merge_samples(blocks: Sequence[SampleBlock]) -> list[SampleBlock]:
    """One block per parameter: the archive stores one segment per block, so fewer, larger
    blocks cost less to write (and to compact) than many small ones."""
    by_name: dict[str, list[SampleBlock]] = {}
    for block in blocks:
        by_name.setdefault(block.parameter, []).append(block)
    merged = []
    for name, parts in by_name.items():
        if len(parts) == 1:
            merged.append(parts[0])
            continue
        raws = [p.raw_values for p in parts]
        if len({r.dtype.kind for r in raws}) > 1:
            raws = [r.astype(np.float64) for r in raws]
        merged.append(
            SampleBlock(
                name,
                np.concatenate([p.generation_times for p in parts]),
                max(p.reception_time for p in parts),
                np.concatenate(raws),
                np.concatenate([p.eng_values for p in parts]),
            )
        )
    return merged


def merge_batches(batches: Iterable[ArchiveBatch]) -> ArchiveBatch:
    """One archive batch holding everything of ``batches`` (one sample block per parameter;
    later state values win)."""
    frames: list[Any] = []
    samples: list[SampleBlock] = []
    packets: list[Any] = []
    events: list[Any] = []
    quarantine: list[Any] = []
    alarms: list[Any] = []
    commands: list[Any] = []
    state: dict[str, bytes] = {}
    for b in batches:
        frames += b.frames
        samples += b.samples
        packets += b.packets
        events += b.events
        quarantine += b.quarantine
        alarms += b.alarms
        commands += b.commands
        state.update(b.state)
    return ArchiveBatch(
        frames, merge_samples(samples), packets, events, quarantine, alarms, commands, state
    )

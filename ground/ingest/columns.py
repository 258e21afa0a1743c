"""The packet index entries of a batch, in columns, until the archive needs them as records.

The archive takes one ``PacketRecord`` per packet. Building 20,000 frozen dataclasses a second
costs about as much as decoding the packets (≈ 3.5 µs each on the reference machine), so ingest
keeps the packet index in numpy columns and turns it into records only where the archive is
written: on the archive writer's thread, or in the archive writer process (``writer.py``), off
the ingest's critical path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ground.archive import PacketRecord


def _empty_f() -> NDArray[np.float64]:
    return np.zeros(0, dtype=np.float64)


def _empty_i() -> NDArray[np.int64]:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, slots=True, eq=False)
class PacketColumns:
    """One row per packet: what a ``PacketRecord`` holds, column by column."""

    generation_time: NDArray[np.float64] = field(default_factory=_empty_f)
    reception_time: NDArray[np.float64] = field(default_factory=_empty_f)
    apid: NDArray[np.int64] = field(default_factory=_empty_i)
    seq_count: NDArray[np.int64] = field(default_factory=_empty_i)
    service: NDArray[np.int64] = field(default_factory=_empty_i)
    subtype: NDArray[np.int64] = field(default_factory=_empty_i)
    vcid: NDArray[np.int64] = field(default_factory=_empty_i)
    spacecraft: Sequence[str] = ()
    packet_name: Sequence[str] = ()
    frame_hash: Sequence[bytes] = ()

    def __len__(self) -> int:
        return len(self.generation_time)

    def records(self) -> list[PacketRecord]:
        """The archive's records, in row order."""
        return [
            PacketRecord(t, r, sc, apid, seq, svc, sub, name, vcid, digest)
            for t, r, sc, apid, seq, svc, sub, name, vcid, digest in zip(
                self.generation_time.tolist(),
                self.reception_time.tolist(),
                self.spacecraft,
                self.apid.tolist(),
                self.seq_count.tolist(),
                self.service.tolist(),
                self.subtype.tolist(),
                self.packet_name,
                self.vcid.tolist(),
                self.frame_hash,
                strict=True,
            )
        ]

    @staticmethod
    def concat(parts: Sequence[PacketColumns]) -> PacketColumns:
        """All rows of ``parts``, in order."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return PacketColumns()
        if len(parts) == 1:
            return parts[0]
        return PacketColumns(
            generation_time=np.concatenate([p.generation_time for p in parts]),
            reception_time=np.concatenate([p.reception_time for p in parts]),
            apid=np.concatenate([p.apid for p in parts]),
            seq_count=np.concatenate([p.seq_count for p in parts]),
            service=np.concatenate([p.service for p in parts]),
            subtype=np.concatenate([p.subtype for p in parts]),
            vcid=np.concatenate([p.vcid for p in parts]),
            spacecraft=[s for p in parts for s in p.spacecraft],
            packet_name=[s for p in parts for s in p.packet_name],
            frame_hash=[h for p in parts for h in p.frame_hash],
        )

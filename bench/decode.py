"""Decode throughput (issue 2): frames → packets → decoded, calibrated values, beside raw
``struct.unpack`` of the same bytes, in the same run.

    python -m bench.decode [--packets N] [--seconds S] [--batch FRAMES]

Traffic: a realistic mix of the mission database's packets (``bench.common.build_traffic``: every
housekeeping and science packet of both vehicles in proportion to its rate, a few events), in TM
frames. Measured on that same traffic, each repeated until ``--seconds`` have passed (best run
kept):

- ``project``: the ground's decode path in batches of ``--batch`` frames: frame checks (length,
  FECF, header), VC demultiplexing and packet extraction (``FrameStage``), then validation (CRC,
  headers), deduplication, sequence checks, grouping and column-wise decoding with calibration
  to engineering values (``PacketStage``; no limit checks, no archive records);
- ``project_with_limits``: the same plus limit checks, alarms and the archive's packet index
  entries, i.e. everything the ingest processor does before the archive;
- ``mdb_batch_decoder``: ``mission.mdb.TmBatchDecoder`` on the packets already extracted
  (validation and decoding only, for comparison);
- ``raw_struct_unpack`` (the baseline): for each packet already cut out of its frame, one
  ``struct.unpack_from`` of the primary and secondary header and one of the source data with a
  precompiled ``struct.Struct`` of its layout; no checks, no calibration.

The result gives packets/s and samples/s of each (from CPU time; wall time beside it) and
``ratio_per_packet`` = project CPU cost per packet / raw unpack CPU cost per packet (target ≤ 3).
"""

from __future__ import annotations

import argparse
import struct
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

from bench.common import build_traffic, emit, log
from ground.ingest.decode import PacketStage
from ground.ingest.frames import FrameStage
from ground.ingest.pipeline import BatchProcessor
from ground.processing.state import GroundState, IngestCounters
from mission.ccsds.framing import TmFrameReader
from mission.mdb import MissionDatabase, TmBatchDecoder, load_mdb

_NUMPY_TO_STRUCT: Final = {
    ">u1": "B",
    ">u2": "H",
    ">u4": "I",
    ">u8": "Q",
    ">i1": "b",
    ">i2": "h",
    ">i4": "i",
    ">f4": "f",
    ">f8": "d",
}
_HEADER: Final = struct.Struct(">HHHBBBHHBHI")  # primary + PUS-C secondary header, 20 octets


def source_structs(mdb: MissionDatabase) -> dict[tuple[int, int, int, int], struct.Struct]:
    """A ``struct.Struct`` per packet definition for its source data (SID + parameters), built
    from the codec's public layout (packed sub-octet fields come out as their integer words)."""
    out: dict[tuple[int, int, int, int], struct.Struct] = {}
    for key, packet in mdb.packet_by_key.items():
        fields = sorted(mdb.codecs[packet.name].record.numpy_fields(0), key=lambda f: f[2])
        fmt = ">"
        for _, np_format, _ in fields:
            if isinstance(np_format, str):
                fmt += _NUMPY_TO_STRUCT[np_format]
            else:  # a packed group that is not 1, 2, 4 or 8 octets: raw bytes
                fmt += f"{np_format.shape[0]}s"
        out[key] = struct.Struct(fmt)
    return out


def raw_unpack(packets: Sequence[bytes], structs: dict[tuple[int, int, int, int], Any]) -> int:
    """The baseline: headers and source data of every packet with ``struct``; returns fields."""
    header = _HEADER.unpack_from
    fields = 0
    for packet in packets:
        word0, _, _, _, service, subtype, _, _, _, _, _ = header(packet)
        sid = (packet[20] << 8) | packet[21] if len(packet) > 22 else 0
        unpacker = structs.get((word0 & 0x7FF, service, subtype, sid))
        if unpacker is not None:
            fields += len(unpacker.unpack_from(packet, 20))
    return fields


Variant = tuple[Callable[[], Any], Callable[[Any], object]]
"""(setup, measured): ``setup()`` prepares fresh state, not timed; ``measured(state)`` is."""


def best_of(variants: dict[str, Variant], seconds: float, minimum: int = 5) -> dict[str, Any]:
    """The shortest CPU time and the shortest wall time of each variant.

    The variants run in turn, round after round, for ``seconds`` (at least ``minimum`` rounds),
    so that all of them meet the same conditions on a shared machine. CPU time
    (``time.process_time``: this process only, the work is single-threaded) is what the ratio
    uses: it leaves out the time other processes hold the CPU.
    """
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    wall: dict[str, list[float]] = {name: [] for name in variants}
    deadline = time.perf_counter() + seconds
    rounds = 0
    while rounds < minimum or time.perf_counter() < deadline:
        for name, (setup, measured) in variants.items():
            state = setup()
            started, started_cpu = time.perf_counter(), time.process_time()
            measured(state)
            cpu[name].append(time.process_time() - started_cpu)
            wall[name].append(time.perf_counter() - started)
        rounds += 1
    return {name: (min(cpu[name]), min(wall[name])) for name in variants}


def run(packets: int = 200_000, seconds: float = 30.0, batch: int = 1000) -> dict[str, Any]:
    """Run the benchmark; return its result (see the module docstring)."""
    mdb = load_mdb()
    log(f"building {packets} packets of traffic")
    traffic = build_traffic(packets, mdb=mdb)
    messages = [(t, frame, 1_000.0 + i * 1e-3) for i, (t, frame) in enumerate(traffic.messages)]
    batches = [messages[i : i + batch] for i in range(0, len(messages), batch)]
    reader = TmFrameReader()
    extracted = [p for _, frame in traffic.messages for p in reader.read(frame).extraction.packets]
    assert len(extracted) == traffic.packets

    def fresh_stages() -> tuple[IngestCounters, FrameStage, PacketStage]:
        counters = IngestCounters()
        return (
            counters,
            FrameStage(mdb, counters, records=False),
            PacketStage(mdb, counters, {}, None, records=False),
        )

    def project(state: tuple[IngestCounters, FrameStage, PacketStage]) -> None:
        counters, frames, stage = state
        for part in batches:
            stage.process(frames.process(part))
        assert counters.packets == traffic.packets, counters.as_dict()
        assert counters.samples == traffic.samples

    def with_limits(processor: BatchProcessor) -> None:
        for part in batches:
            processor.process(part)

    decoder = TmBatchDecoder(mdb)
    chunk = max(1, len(extracted) // len(batches))

    def mdb_batch(_: object) -> None:
        for i in range(0, len(extracted), chunk):
            decoder.decode(extracted[i : i + chunk])

    structs = source_structs(mdb)

    def baseline(_: object) -> None:
        raw_unpack(extracted, structs)

    def nothing() -> None:
        return None

    log("measuring, variants in turn")
    best = best_of(
        {
            "raw": (nothing, baseline),
            "project": (fresh_stages, project),
            "limits": (lambda: BatchProcessor(mdb, GroundState.from_mdb(mdb)), with_limits),
            "mdb": (nothing, mdb_batch),
        },
        seconds,
    )
    t_raw, t_project, t_limits, t_mdb = (best[k] for k in ("raw", "project", "limits", "mdb"))
    n, s = traffic.packets, traffic.samples

    def figures(t: tuple[float, float]) -> dict[str, float]:
        cpu, wall = t
        return {
            "cpu_seconds": round(cpu, 4),
            "wall_seconds": round(wall, 4),
            "packets_per_s": round(n / cpu),
            "samples_per_s": round(s / cpu),
            "us_per_packet": round(cpu / n * 1e6, 3),
        }

    ratio = t_project[0] / t_raw[0]
    return {
        "packets": n,
        "samples": s,
        "frames": traffic.frames,
        "samples_per_packet": round(s / n, 2),
        "batch_frames": batch,
        "project": figures(t_project),
        "project_with_limits": figures(t_limits),
        "mdb_batch_decoder": figures(t_mdb),
        "raw_struct_unpack": figures(t_raw),
        "ratio_per_packet": round(ratio, 2),
        "ratio_with_limits": round(t_limits[0] / t_raw[0], 2),
        "ratio_wall_clock": round(t_project[1] / t_raw[1], 2),
        "target_ratio": 3.0,
        "target_met": ratio <= 3.0,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.decode", description=__doc__)
    parser.add_argument("--packets", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=30.0, help="measuring time, all variants")
    parser.add_argument("--batch", type=int, default=1000, help="frames per batch")
    args = parser.parse_args(argv)
    emit(run(args.packets, args.seconds, args.batch))


if __name__ == "__main__":
    main()

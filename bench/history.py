"""Benchmark of the ground archive (``ground.archive``): history queries and write throughput.

1. **History.** Writes 24 h of one 10 Hz parameter (864,000 samples) into a fresh SQLite archive
   the way ingest does (one ``write`` per 1-s batch), compacts it, then times
   ``history(parameter, day, buckets=1000)`` (median of the runs). The same 864,000 samples in a
   per-sample table (``samples(parameter_id, t, v)``, indexed) answer the same question with a
   plain SQL ``GROUP BY``, timed the same way: the design's baseline.
2. **Writes.** ``write()`` throughput for batches shaped like ingest, on SQLite and on a
   throwaway PostgreSQL cluster (``tests.support.postgres``; fsync off, as in the test suite):
   - ``spec``: 150 parameters x 10 samples + 1,200 frames + 20,000 packet-index rows per batch;
   - ``target``: a tenth of a second at the targets (20,000 packets/s, 400,000 samples/s):
     150 parameters x 267 samples + 120 frames + 2,000 packets per batch.

Wall times stretch on a shared machine; the ``cpu_*`` figures (this thread's CPU time, not a
database server's) hold up better. ``run(seconds)`` returns the figures (``seconds``: time
spent on each write-throughput measurement, default 8); ``main()`` prints them as one JSON line
on stdout, progress on stderr. Run ``python -m bench.history [--seconds N]`` from the
repository root.
"""

from __future__ import annotations

import argparse
import math
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import numpy as np

from bench.common import emit, log
from ground.archive import (
    Archive,
    ArchiveBatch,
    FrameRecord,
    PacketRecord,
    SampleBlock,
    frame_hash,
    open_archive,
)

T0: Final = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DAY: Final = 86_400
RATE_HZ: Final = 10
BUCKETS: Final = 1_000
QUERY_RUNS: Final = 25
PARAMETER: Final = "rover.power.bus_voltage"
DEFAULT_SECONDS: Final = 8
FRAME_SIZE: Final = 1_115


def _median_ms(fn: Callable[[], object], runs: int = QUERY_RUNS) -> dict[str, float]:
    """Wall time of ``fn`` (median, min, max) and this thread's CPU time (median).

    The CPU time holds up on a shared, loaded machine, where wall times stretch; it leaves out
    what a database server process spends.
    """
    fn()  # warm-up: connections, statement cache, page cache
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn()
        cpu.append((time.thread_time() - start_cpu) * 1e3)
        wall.append((time.perf_counter() - start) * 1e3)
    return {
        "median_ms": round(statistics.median(wall), 2),
        "min_ms": round(min(wall), 2),
        "max_ms": round(max(wall), 2),
        "cpu_median_ms": round(statistics.median(cpu), 2),
        "runs": runs,
    }


def _day_of_samples() -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, Any]]:
    k = np.arange(DAY * RATE_HZ, dtype=np.float64)
    return T0 + k / RATE_HZ, np.sin(k / 5_000.0) * 2.0 + 28.0


def bench_history(workdir: Path) -> dict[str, Any]:
    """Columnar history vs a per-sample ``GROUP BY`` over the same day of 10 Hz samples."""
    times, values = _day_of_samples()
    raw = np.round((values - 20.0) * 1000).astype(np.int64)
    result: dict[str, Any] = {"samples": len(times), "buckets": BUCKETS}
    with open_archive(f"sqlite:///{workdir / 'history.db'}") as archive:
        start = time.perf_counter()
        for i in range(0, len(times), RATE_HZ):  # one write per 1-s ingest batch
            t = times[i : i + RATE_HZ]
            archive.write(
                ArchiveBatch(
                    samples=[
                        SampleBlock(
                            PARAMETER,
                            t,
                            float(t[-1]) + 1.3,
                            raw[i : i + RATE_HZ],
                            values[i : i + RATE_HZ],
                        )
                    ]
                )
            )
        elapsed = time.perf_counter() - start
        result["write_1s_batches"] = {
            "batches": DAY,
            "seconds": round(elapsed, 2),
            "batches_per_s": round(DAY / elapsed),
        }
        segments_before = archive.stats()["segments"]
        start = time.perf_counter()
        removed = archive.compact()
        result["compact"] = {
            "seconds": round(time.perf_counter() - start, 2),
            "segments_before": segments_before,
            "segments_after": segments_before - removed,
        }
        buckets = archive.history(PARAMETER, T0, T0 + DAY, BUCKETS)
        result["history_buckets_returned"] = len(buckets)
        result["history_samples_counted"] = sum(b.count for b in buckets)
        result["history"] = _median_ms(lambda: archive.history(PARAMETER, T0, T0 + DAY, BUCKETS))
        result["history_uncompacted_1h"] = _history_uncompacted(workdir, times, values)
        result["archive_bytes"] = archive.stats()["bytes"]
    result["group_by"] = _bench_group_by(workdir / "per_sample.db", times, values)
    result["speedup"] = round(result["group_by"]["median_ms"] / result["history"]["median_ms"], 1)
    return result


def _history_uncompacted(
    workdir: Path,
    times: np.ndarray[Any, np.dtype[np.float64]],
    values: np.ndarray[Any, np.dtype[np.float64]],
) -> dict[str, float]:
    """History over the newest hour before compaction reaches it (3,600 one-second segments)."""
    n = 3_600 * RATE_HZ
    with open_archive(f"sqlite:///{workdir / 'hour.db'}") as archive:
        for i in range(0, n, RATE_HZ):
            t, v = times[i : i + RATE_HZ], values[i : i + RATE_HZ]
            archive.write(ArchiveBatch(samples=[SampleBlock(PARAMETER, t, T0, v, v)]))
        return _median_ms(lambda: archive.history(PARAMETER, T0, T0 + 3_600, BUCKETS), 10)


def _bench_group_by(
    path: Path,
    times: np.ndarray[Any, np.dtype[np.float64]],
    values: np.ndarray[Any, np.dtype[np.float64]],
) -> dict[str, Any]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute(
            "CREATE TABLE samples (parameter_id INTEGER NOT NULL, t REAL NOT NULL, v REAL)"
        )
        conn.execute("CREATE INDEX samples_by_time ON samples (parameter_id, t)")
        rows = list(zip([1] * len(times), times.tolist(), values.tolist(), strict=True))
        start = time.perf_counter()
        for i in range(0, len(rows), RATE_HZ * 60):  # one-minute transactions: kind to SQLite
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO samples VALUES (?, ?, ?)", rows[i : i + RATE_HZ * 60])
            conn.execute("COMMIT")
        insert_s = time.perf_counter() - start
        width = DAY / BUCKETS
        query = (
            "SELECT CAST((t - ?) / ? AS INT) AS b, MIN(v), MAX(v), AVG(v), COUNT(*) FROM samples "
            "WHERE parameter_id = ? AND t >= ? AND t < ? GROUP BY b"
        )
        args = (T0, width, 1, T0, T0 + DAY)
        found = conn.execute(query, args).fetchall()
        timing: dict[str, Any] = _median_ms(lambda: conn.execute(query, args).fetchall())
        timing["buckets_returned"] = len(found)
        timing["samples_counted"] = sum(r[4] for r in found)
        timing["insert_rows_per_s"] = round(len(rows) / insert_s)
        timing["bytes"] = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
        return timing
    finally:
        conn.close()


# --- write throughput ----------------------------------------------------------------------------

SHAPES: Final = {
    "spec": {"parameters": 150, "samples": 10, "frames": 1_200, "packets": 20_000},
    "target": {"parameters": 150, "samples": 267, "frames": 120, "packets": 2_000},
}


def _make_batch(index: int, shape: dict[str, int], rng: np.random.Generator) -> ArchiveBatch:
    """One ingest-like batch covering ``index`` .. ``index + 1`` seconds after T0."""
    base = T0 + index
    n = shape["samples"]
    t = base + np.arange(n, dtype=np.float64) / n
    samples = []
    for p in range(shape["parameters"]):
        counts = rng.integers(0, 4096, n)
        eng = (counts * 0.01 if p % 2 else counts).astype(np.float64)  # calibrated or not
        samples.append(SampleBlock(f"rover.subsystem_{p // 10}.p{p}", t, base + 1.3, counts, eng))
    frames = []
    for f in range(shape["frames"]):
        data = rng.bytes(FRAME_SIZE)
        frames.append(
            FrameRecord(
                base + f / shape["frames"],
                "dss-65",
                "rover",
                0x1A,
                0,
                f % 256,
                f % 256,
                frame_hash(data),
                data,
            )
        )
    per_frame = max(1, shape["packets"] // max(1, shape["frames"]))
    packets = [
        PacketRecord(
            base + k / shape["packets"],
            base + 1.3,
            "rover",
            100 + k % 20,
            (index * shape["packets"] + k) % 16384,
            3,
            25,
            f"rover_hk_{k % 20}",
            0,
            frames[min(k // per_frame, len(frames) - 1)].frame_hash if frames else b"",
        )
        for k in range(shape["packets"])
    ]
    return ArchiveBatch(
        frames=frames, samples=samples, packets=packets, state={"ingest": b"x" * 64}
    )


def bench_writes(archive: Archive, shape: dict[str, int], seconds: float) -> dict[str, Any]:
    """Sustained ``write`` rate for batches of ``shape`` (batches are built beforehand)."""
    rng = np.random.default_rng(1)
    templates = [_make_batch(i, shape, rng) for i in range(8)]
    durations: list[float] = []
    cpu: list[float] = []
    start = time.perf_counter()
    i = 0
    while time.perf_counter() - start < seconds or i < 3:
        batch = templates[i % len(templates)]
        t, t_cpu = time.perf_counter(), time.thread_time()
        archive.write(batch)
        cpu.append(time.thread_time() - t_cpu)
        durations.append(time.perf_counter() - t)
        i += 1
    total = sum(durations)
    samples = shape["parameters"] * shape["samples"]
    durations.sort()
    cpu_total = sum(cpu)
    start = time.perf_counter()
    removed = archive.compact()
    compact_s = time.perf_counter() - start
    return {
        "shape": shape,
        "batches": i,
        "batches_per_s": round(i / total, 1),
        "samples_per_s": round(i * samples / total),
        "packets_per_s": round(i * shape["packets"] / total),
        "frames_per_s": round(i * shape["frames"] / total),
        "write_ms_median": round(durations[len(durations) // 2] * 1e3, 2),
        "cpu_ms_per_batch": round(cpu_total / i * 1e3, 2),
        "samples_per_cpu_s": round(i * samples / cpu_total),
        "packets_per_cpu_s": round(i * shape["packets"] / cpu_total),
        "write_ms_p95": round(
            durations[min(len(durations) - 1, math.ceil(0.95 * len(durations)))] * 1e3, 2
        ),
        "compact_after_s": round(compact_s, 2),
        "compact_removed_rows": removed,
    }


@contextmanager
def _postgres() -> Iterator[Callable[[str], str] | str]:
    """``create_database`` of a throwaway cluster, or why there is none."""
    try:
        from tests.support.postgres import PostgresServer
    except ImportError as exc:
        yield f"tests.support.postgres not importable: {exc}"
        return
    server = PostgresServer()
    try:
        server.start()
    except Exception as exc:  # any failure to start means: no PostgreSQL figures
        server.close()
        yield f"no PostgreSQL cluster: {exc}"
        return
    try:
        yield server.create_database
    finally:
        server.close()


def run(seconds: int | None = None) -> dict[str, Any]:
    """All figures (``seconds``: duration of each write-throughput measurement)."""
    budget = float(DEFAULT_SECONDS if seconds is None else seconds)
    result: dict[str, Any] = {"cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="lupex-archive-bench-") as tmp:
        workdir = Path(tmp)
        log("archive: writing 24 h of a 10 Hz parameter in 1-s batches, then history queries")
        result["history"] = bench_history(workdir)
        writes: dict[str, Any] = {}
        for name, shape in SHAPES.items():
            log(f"archive: SQLite write throughput, {name} batches, {budget:.0f} s")
            with open_archive(f"sqlite:///{workdir / f'writes_{name}.db'}") as archive:
                writes.setdefault("sqlite", {})[name] = bench_writes(archive, shape, budget)
        with _postgres() as create_database:
            if isinstance(create_database, str):
                log(f"archive: PostgreSQL skipped ({create_database})")
                writes["postgresql"] = {"skipped": create_database}
            else:
                pg: dict[str, Any] = {
                    "note": "throwaway cluster: fsync=off, synchronous_commit=off"
                }
                for name, shape in SHAPES.items():
                    log(f"archive: PostgreSQL write throughput, {name} batches, {budget:.0f} s")
                    with open_archive(create_database(f"history_{name}")) as archive:
                        pg[name] = bench_writes(archive, shape, budget)
                writes["postgresql"] = pg
        result["writes"] = writes
    return result


def main() -> None:
    """Run the benchmark and print the figures as one JSON line (what ``lupex bench`` reads)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--seconds",
        type=int,
        default=DEFAULT_SECONDS,
        help="duration of each write-throughput measurement (default %(default)s)",
    )
    emit(run(parser.parse_args().seconds))


if __name__ == "__main__":
    main()

"""The archive against both real backends: SQLite (a file per test) and PostgreSQL (a database per
test on the session cluster). Every test here runs on each."""

from __future__ import annotations

import csv
import io
import math
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from ground.archive import (
    AlarmRecord,
    AlarmSeverity,
    AlarmState,
    Archive,
    ArchiveBatch,
    ArchiveError,
    CommandRecord,
    EventRecord,
    FrameRecord,
    LastValue,
    PacketRecord,
    QuarantineRecord,
    SampleBlock,
    SampleRow,
    frame_hash,
    open_archive,
    write_csv,
)
from ground.archive.segments import bucket_edges
from ground.archive.sqlite import SqliteArchive

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
VOLTAGE = "rover.power.bus_voltage"
MODE = "rover.modes.mode"
TEMP = "lander.thermal.panel_temp"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def archive_url(request: pytest.FixtureRequest, tmp_path: Path, unique_id: str) -> str:
    """The URL of a fresh, empty archive of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.db'}"
    server = request.getfixturevalue("postgres")
    url: str = server.create_database(unique_id)
    return url


@pytest.fixture
def archive(archive_url: str) -> Iterator[Archive]:
    with open_archive(archive_url) as opened:
        yield opened


def _frame(i: int, *, spacecraft: str = "rover", t: float | None = None) -> FrameRecord:
    data = bytes([i % 256]) * 1115 + i.to_bytes(4, "big")
    return FrameRecord(
        reception_time=T0 + i if t is None else t,
        station="dss-65",
        spacecraft=spacecraft,
        scid=0x1A if spacecraft == "rover" else 0x1B,
        vcid=i % 3,
        mc_count=i % 256,
        vc_count=(i * 7) % 256,
        frame_hash=frame_hash(data),
        data=data,
        quality="good" if i % 5 else "bad_crc",
    )


def _block(
    parameter: str, times: NDArray[np.float64], raw: NDArray[Any], eng: NDArray[np.float64]
) -> SampleBlock:
    return SampleBlock(parameter, times, float(times.max()) + 1.25, raw, eng)


def _packet(i: int, apid: int = 100, spacecraft: str = "rover") -> PacketRecord:
    return PacketRecord(
        generation_time=T0 + i * 0.5,
        reception_time=T0 + i * 0.5 + 1.3,
        spacecraft=spacecraft,
        apid=apid,
        seq_count=i % 16384,
        service=3,
        subtype=25,
        packet_name=f"{spacecraft}_hk_{apid}",
        vcid=0,
        frame_hash=frame_hash(i.to_bytes(4, "big")) if i % 4 else b"",
    )


# --- round trips ---------------------------------------------------------------------------------


def test_frames_round_trip_in_reception_order_with_paging(archive: Archive) -> None:
    frames = [_frame(i, spacecraft="rover" if i % 3 else "lander") for i in range(25)]
    archive.write(ArchiveBatch(frames=frames[10:]))
    archive.write(ArchiveBatch(frames=frames[:10]))
    assert list(archive.frames(page=4)) == frames
    assert list(archive.frames(T0 + 3, T0 + 9)) == frames[3:9]
    assert list(archive.frames(T0 + 3, T0 + 9, "lander")) == [frames[3], frames[6]]
    assert archive.frame_count() == 25
    assert archive.frame_count(T0 + 3, T0 + 9) == 6
    assert archive.frame_count(spacecraft="lander") == 9


def test_frames_with_one_reception_time_page_without_loss(archive: Archive) -> None:
    frames = [_frame(i, t=T0) for i in range(7)]
    archive.write(ArchiveBatch(frames=frames))
    assert list(archive.frames(T0, T0 + 1, page=2)) == frames


def test_frame_dedup_helpers(archive: Archive) -> None:
    frames = [_frame(i) for i in range(30)]
    archive.write(ArchiveBatch(frames=frames))
    recent = archive.recent_frame_hashes(10)
    assert recent == {f.frame_hash for f in frames[20:]}
    assert archive.has_frame(frames[0].frame_hash)
    assert not archive.has_frame(frame_hash(b"never received"))


def test_packets_round_trip(archive: Archive) -> None:
    first = [_packet(i, apid=100 + i % 3) for i in range(60)]
    second = [_packet(i, apid=100, spacecraft="lander") for i in range(60, 90)]
    archive.write(ArchiveBatch(packets=first[::-1]))  # out of generation order within a batch
    archive.write(ArchiveBatch(packets=second))
    everything = sorted(first + second, key=lambda p: p.generation_time)
    assert archive.packets() == everything
    assert archive.packets(T0 + 5, T0 + 10) == everything[10:20]
    assert archive.packets(apid=101) == [p for p in first if p.apid == 101]
    assert archive.packets(spacecraft="lander", limit=5) == second[:5]
    assert archive.packet_count() == 90
    assert archive.packet_count("rover") == 60
    assert archive.packet_count("rover", 100) == 20
    assert archive.packet_count(apid=100) == 50
    assert archive.packet_keys("rover", 102) == [
        (p.seq_count, p.generation_time) for p in first if p.apid == 102
    ]
    assert archive.packet_keys("rover", 102, T0, T0 + 10) == [
        (p.seq_count, p.generation_time) for p in first[:20] if p.apid == 102
    ]
    assert archive.packet_keys("rover", 999) == []


def test_events_round_trip_and_filters(archive: Archive) -> None:
    events = [
        EventRecord(
            generation_time=T0 + i,
            reception_time=T0 + i + 1.3,
            spacecraft="rover" if i % 2 else "lander",
            event_id=i,
            name=f"EVT_{i}",
            severity=("info", "low", "medium", "high")[i % 4],
            message=f"event number {i} — ü",
            args_json=f'{{"i": {i}}}',
        )
        for i in range(12)
    ]
    archive.write(ArchiveBatch(events=events[6:]))
    archive.write(ArchiveBatch(events=events[:6]))
    assert archive.events() == events
    assert archive.events(T0 + 2, T0 + 5) == events[2:5]
    assert archive.events(severity="high") == [events[3], events[7], events[11]]
    assert archive.events(spacecraft="rover", severity="high") == [events[3], events[7], events[11]]
    assert archive.events(spacecraft="lander", severity="high") == []
    assert archive.events(limit=3, newest_first=True) == events[:-4:-1]


def test_quarantine_round_trip_and_counts(archive: Archive) -> None:
    records = [
        QuarantineRecord(T0 + i, "lupex/v1/downlink/dss-65/rover", reason, f"detail {i}", bytes(i))
        for i, reason in enumerate(["crc", "truncated", "crc", "unknown_scid", "crc"])
    ]
    archive.write(ArchiveBatch(quarantine=records))
    assert archive.quarantine() == records[::-1]
    assert archive.quarantine(limit=2) == records[:-3:-1]
    assert archive.quarantine(reason="crc") == [records[4], records[2], records[0]]
    assert archive.quarantine_counts() == {"crc": 3, "truncated": 1, "unknown_scid": 1}


def test_alarms_upsert_by_id(archive: Archive) -> None:
    raised = AlarmRecord(
        alarm_id="a1",
        parameter=VOLTAGE,
        severity=AlarmSeverity.YELLOW,
        state=AlarmState.RAISED,
        trigger_value=25.1,
        trigger_time=T0,
        most_severe_value=25.1,
        most_severe_time=T0,
    )
    other = AlarmRecord("a2", TEMP, "red", "raised", -80.0, T0 + 5, -85.0, T0 + 6)
    archive.write(ArchiveBatch(alarms=[raised, other]))
    acknowledged = AlarmRecord(
        *("a1", VOLTAGE, AlarmSeverity.RED, AlarmState.ACKNOWLEDGED, 25.1, T0, 24.0, T0 + 9),
        acknowledged_by="flight director",
        acknowledged_at=T0 + 10,
    )
    archive.write(ArchiveBatch(alarms=[acknowledged]))
    stored = archive.alarm("a1")
    assert stored == acknowledged
    assert stored is not None
    assert type(stored.severity) is str
    assert archive.alarm("nope") is None
    assert archive.alarms() == [acknowledged, other]
    assert archive.alarms(AlarmState.RAISED) == [other]
    assert archive.alarms("cleared") == []


def test_commands_upsert_by_id(archive: Archive) -> None:
    def command(cid: str, stage: str, created: float, updated: float) -> CommandRecord:
        return CommandRecord(
            command_id=cid,
            name="ROVER_DRIVE",
            args_json='{"distance_m": 2.5}',
            vehicle="rover",
            issued_by="operator",
            stages_json=f'[{{"stage": "{stage}", "time": {updated}, "detail": ""}}]',
            stage=stage,
            station="dss-65" if stage != "queued" else None,
            request_id=None if stage == "queued" else 0x1234,
            created_at=created,
            updated_at=updated,
        )

    c1 = command("4b7c0a4e-0000-4000-8000-000000000001", "queued", T0, T0)
    c2 = command("4b7c0a4e-0000-4000-8000-000000000002", "queued", T0 + 1, T0 + 1)
    archive.write(ArchiveBatch(commands=[c1, c2]))
    c1_done = command(c1.command_id, "completed", T0, T0 + 30)
    archive.write(ArchiveBatch(commands=[c1_done]))
    assert archive.command(c1.command_id) == c1_done
    assert archive.command("missing") is None
    assert archive.commands() == [c1_done, c2]
    assert archive.commands(T0 + 0.5, T0 + 2) == [c2]
    assert archive.commands(limit=1, newest_first=True) == [c2]


def test_state_commits_with_its_batch(archive: Archive) -> None:
    assert archive.load_state("extractor") is None
    archive.write(ArchiveBatch(frames=[_frame(0)], state={"extractor": b"\x00snap1"}))
    assert archive.load_state("extractor") == b"\x00snap1"
    archive.write(ArchiveBatch(state={"extractor": b"snap2", "counters": b"{}"}))
    assert archive.load_state("extractor") == b"snap2"
    assert archive.load_state("counters") == b"{}"


# --- samples -------------------------------------------------------------------------------------


def _three_parameter_batches() -> list[ArchiveBatch]:
    """Int raw (calibrated), float raw equal to eng, int raw equal to eng; one NaN."""
    batches = []
    for b in range(4):
        t = T0 + b * 10 + np.arange(10, dtype=np.float64)
        counts = np.arange(10, dtype=np.int64) * 100 + b
        volts = (counts * 0.01).astype(np.float64)
        temps = np.sin(t).astype(np.float64)
        if b == 2:
            temps[3] = math.nan
        modes = np.full(10, b % 3, dtype=np.int64)
        t_temp = t + 0.5
        batches.append(
            ArchiveBatch(
                samples=[
                    _block(VOLTAGE, t, counts, volts),
                    _block(TEMP, t_temp, temps, temps),
                    _block(MODE, t[::5], modes[::5], modes[::5].astype(np.float64)),
                ]
            )
        )
    return batches


def _expected_rows(batches: list[ArchiveBatch], names: list[str]) -> list[SampleRow]:
    rows = [
        SampleRow(t, block.parameter, raw, eng, block.reception_time)
        for batch in batches
        for block in batch.samples
        if block.parameter in names
        for t, raw, eng in zip(
            block.generation_times.tolist(),
            block.raw_values.tolist(),
            block.eng_values.tolist(),
            strict=True,
        )
    ]
    return sorted(rows, key=lambda r: (r.generation_time, names.index(r.parameter)))


def _same_rows(got: list[SampleRow], expected: list[SampleRow]) -> bool:
    """Row equality that treats NaN as equal to NaN."""

    def key(r: SampleRow) -> tuple[Any, ...]:
        eng = "nan" if math.isnan(r.eng_value) else r.eng_value
        raw = "nan" if isinstance(r.raw_value, float) and math.isnan(r.raw_value) else r.raw_value
        return (r.generation_time, r.parameter, raw, type(r.raw_value), eng, r.reception_time)

    return [key(r) for r in got] == [key(r) for r in expected]


def test_samples_round_trip_exactly(archive: Archive) -> None:
    batches = _three_parameter_batches()
    for batch in batches:
        archive.write(batch)
    names = [VOLTAGE, TEMP, MODE]
    expected = _expected_rows(batches, names)
    assert _same_rows(list(archive.samples(names, T0, T0 + 40)), expected)
    expected_mode = [
        r for r in expected if r.parameter == MODE and T0 + 10 <= r.generation_time < T0 + 30
    ]
    assert len(expected_mode) == 4
    assert _same_rows(list(archive.samples([MODE], T0 + 10, T0 + 30)), expected_mode)
    assert archive.sample_count(names, T0, T0 + 40) == len(expected)
    assert archive.sample_count(names, T0 + 3, T0 + 17) == sum(
        1 for r in expected if T0 + 3 <= r.generation_time < T0 + 17
    )
    raw = archive.history_raw(VOLTAGE, T0 + 5, T0 + 15, limit=4)
    assert raw == [r for r in expected if r.parameter == VOLTAGE][5:9]
    assert archive.history_raw("rover.unknown", T0, T0 + 40) == []
    assert sorted(archive.parameter_names()) == sorted(names)


def test_last_values(archive: Archive) -> None:
    assert archive.last_values() == {}
    batches = _three_parameter_batches()
    for batch in batches[::-1]:  # the newest data arrives first
        archive.write(batch)
    last = archive.last_values()
    assert last[VOLTAGE] == LastValue(T0 + 39, 903, 903 * 0.01)
    assert type(last[VOLTAGE].raw_value) is int
    assert last[MODE] == LastValue(T0 + 35, 0, 0.0)
    assert last[TEMP].generation_time == T0 + 39.5
    assert archive.last_values([MODE, "rover.unknown"]) == {MODE: last[MODE]}


def test_empty_sample_blocks_are_skipped(archive: Archive) -> None:
    empty = np.empty(0)
    archive.write(ArchiveBatch(samples=[SampleBlock(VOLTAGE, empty, T0, empty, empty)]))
    assert archive.stats()["segments"] == 0


def _random_batches(
    rng: np.random.Generator, batches: int, parameter: str = VOLTAGE
) -> tuple[list[ArchiveBatch], NDArray[np.float64], NDArray[np.float64]]:
    """Batches of jittered 10 Hz samples with gaps, late arrivals and NaN values."""
    out, all_t, all_v = [], [], []
    for b in range(batches):
        n = int(rng.integers(1, 40))
        t = T0 + b * 3 + np.sort(rng.uniform(0, 4, n))  # batches overlap a little
        if b % 17 == 5:
            t = t - 200  # a late playback block
        v = rng.normal(20, 5, n)
        v[rng.random(n) < 0.02] = math.nan
        out.append(ArchiveBatch(samples=[_block(parameter, t, np.round(v * 100), v)]))
        all_t.append(t)
        all_v.append(v)
    return out, np.concatenate(all_t), np.concatenate(all_v)


def _direct_history(
    times: NDArray[np.float64], values: NDArray[np.float64], start: float, end: float, n: int
) -> list[tuple[float, float, int, float, float, float]]:
    edges = bucket_edges(start, end, n)
    result = []
    for i in range(n):
        v = values[(times >= edges[i]) & (times < edges[i + 1])]
        v = v[~np.isnan(v)]
        if len(v):
            result.append((edges[i], edges[i + 1], len(v), v.min(), v.max(), v.mean()))
    return result


def _check_history(
    archive: Archive, times: NDArray[np.float64], values: NDArray[np.float64]
) -> None:
    for start, end, n in [
        (T0 - 300, T0 + 1000, 50),
        (T0 + 100, T0 + 400, 1000),
        (T0 + 10.05, T0 + 11.3, 7),
        (T0 - 250, T0 + 700, 1),
    ]:
        got = archive.history(VOLTAGE, start, end, n)
        expected = _direct_history(times, values, start, end, n)
        assert [(b.start, b.end, b.count, b.min, b.max) for b in got] == [e[:5] for e in expected]
        assert [b.mean for b in got] == pytest.approx([e[5] for e in expected], rel=1e-12)


def test_history_matches_numpy_before_and_after_compaction(archive: Archive) -> None:
    batches, times, values = _random_batches(np.random.default_rng(7), 300)
    for batch in batches:
        archive.write(batch)
    _check_history(archive, times, values)
    before = list(archive.samples([VOLTAGE], T0 - 1000, T0 + 2000))
    assert len(before) == len(times)
    removed = archive.compact()
    assert removed > 0
    assert archive.stats()["segments"] == 300 - removed
    _check_history(archive, times, values)
    archive.compact(full=True)
    assert archive.stats()["segments"] < 10
    _check_history(archive, times, values)
    assert _same_rows(list(archive.samples([VOLTAGE], T0 - 1000, T0 + 2000)), before)
    assert archive.stats()["samples"] == len(times)


def test_stepped_compaction_visits_every_series_and_equals_a_whole_pass(archive: Archive) -> None:
    """``compact_step`` with a zero budget does one series per step (so a writer can commit in
    between), resumes where it stopped, and ends with what ``compact`` does in one go."""
    series = ("rover.power.battery_voltage", "rover.power.battery_soc", "rover.power.bus_current")
    for b in range(40):
        t = T0 + b + np.arange(10) / 10
        archive.write(
            ArchiveBatch(
                samples=[SampleBlock(name, t, T0 + b, np.arange(10), t - T0) for name in series],
                packets=[_packet(b)],
            )
        )
    steps, removed, finished = 0, 0, False
    while not finished:
        step, finished = archive.compact_step(None, 0.0)
        removed += step
        steps += 1
    assert steps == len(series) + 1  # three parameter series and one packet stream
    stats = archive.stats()
    assert removed > 0
    assert stats["segments"] + stats["packet_blocks"] == 3 * 40 + 40 - removed
    assert archive.compact() == 0  # the stepped pass did everything a whole pass would
    stats = archive.stats()
    assert (stats["samples"], stats["packets"]) == (1200, 40)
    again, finished = archive.compact_step(None, 10.0)  # a new pass finds nothing left
    assert (again, finished) == (0, True)


def test_history_of_an_unknown_parameter_is_empty(archive: Archive) -> None:
    assert archive.history("rover.nothing", T0, T0 + 10, 10) == []
    with pytest.raises(ValueError, match="start < end"):
        archive.history(VOLTAGE, T0, T0, 10)


def test_compaction_respects_older_than_and_merges_packets(archive: Archive) -> None:
    for b in range(40):
        t = T0 + b + np.arange(10) / 10
        archive.write(
            ArchiveBatch(
                samples=[SampleBlock(VOLTAGE, t, T0 + b, np.arange(10), t - T0)],
                packets=[_packet(b * 2), _packet(b * 2 + 1)],
            )
        )
    packets_before = archive.packets()
    # 18 segments (reception T0 + b) and 17 packet blocks (T0 + b + 1.8) are older: 2 groups each
    removed = archive.compact(older_than=T0 + 17.9)
    assert removed == 2 * (16 - 2)
    stats = archive.stats()
    assert (stats["segments"], stats["packet_blocks"]) == (40 - 14, 40 - 14)
    assert archive.compact(older_than=T0 + 17.9) == 0
    archive.compact()
    archive.compact(full=True)
    stats = archive.stats()
    assert (stats["segments"], stats["packet_blocks"]) == (1, 1)
    assert (stats["samples"], stats["packets"]) == (400, 80)
    assert archive.packets() == packets_before
    assert archive.packet_keys("rover", 100) == [
        (p.seq_count, p.generation_time) for p in packets_before
    ]


def test_concurrent_compactions_never_lose_or_double_samples(archive_url: str) -> None:
    with open_archive(archive_url) as writer:
        for b in range(200):
            t = T0 + b + np.arange(5) / 5
            writer.write(ArchiveBatch(samples=[SampleBlock(VOLTAGE, t, T0 + b, np.arange(5), t)]))
        expected = list(writer.samples([VOLTAGE], T0, T0 + 300))
        # Two archive objects on one database: the second compaction loses some races.
        with open_archive(archive_url) as other:
            threads = [
                threading.Thread(target=a.compact, kwargs={"full": True}) for a in (writer, other)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert list(other.samples([VOLTAGE], T0, T0 + 300)) == expected
        assert writer.stats()["samples"] == 1000


# --- atomicity, concurrency, export --------------------------------------------------------------


def test_a_failing_batch_writes_nothing(archive: Archive) -> None:
    t = T0 + np.arange(10, dtype=np.float64)
    good = ArchiveBatch(
        frames=[_frame(1), _frame(2)],
        samples=[SampleBlock(VOLTAGE, t, T0 + 11, np.arange(10), t)],
        packets=[_packet(1), _packet(2)],
        state={"extractor": b"after"},
    )
    bad_event = EventRecord(T0, T0, "rover", 2**70, "TOO_BIG", "info", "id overflows int64")
    with pytest.raises(ArchiveError, match="not stored"):
        archive.write(
            ArchiveBatch(
                good.frames,
                good.samples,
                good.packets,
                events=[bad_event],
                alarms=[AlarmRecord("a", VOLTAGE, "red", "raised", 1.0, T0, 1.0, T0)],
                state=good.state,
            )
        )
    assert archive.frame_count() == 0
    assert archive.packet_count() == 0
    assert archive.history(VOLTAGE, T0, T0 + 20, 4) == []
    assert archive.last_values() == {}
    assert archive.alarms() == []
    assert archive.load_state("extractor") is None
    archive.write(good)  # the archive is still usable, and nothing leaked into it
    assert archive.frame_count() == 2
    assert archive.packet_count() == 2
    assert archive.stats()["samples"] == 10
    assert archive.load_state("extractor") == b"after"


def test_a_batch_with_unstorable_samples_is_rejected_whole(archive: Archive) -> None:
    t = T0 + np.arange(2, dtype=np.float64)
    with pytest.raises(ArchiveError, match="rejected"):
        archive.write(
            ArchiveBatch(
                frames=[_frame(1)],
                samples=[SampleBlock(VOLTAGE, t, T0, np.array(["a", "b"]), t)],
                state={"k": b"v"},
            )
        )
    with pytest.raises(ValueError, match="raw values"):
        SampleBlock(VOLTAGE, t, T0, np.arange(3), t)
    assert archive.frame_count() == 0
    assert archive.load_state("k") is None


def test_reads_during_writes_and_compaction_see_whole_batches(archive: Archive) -> None:
    batches = 120
    done = threading.Event()
    errors: list[BaseException] = []
    seen: list[int] = []

    def write() -> None:
        try:
            for b in range(batches):
                t = T0 + b + np.arange(10) / 10
                archive.write(
                    ArchiveBatch(
                        frames=[_frame(2 * b), _frame(2 * b + 1)],
                        samples=[SampleBlock(VOLTAGE, t, T0 + b, np.arange(10), t - T0)],
                    )
                )
                if b % 30 == 29:
                    archive.compact()
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    def read() -> None:
        try:
            last_total = 0
            while not done.is_set():
                total = sum(b.count for b in archive.history(VOLTAGE, T0, T0 + batches, 37))
                # every batch commits whole, and compaction never shows a sample twice
                assert total % 10 == 0
                assert total >= last_total
                last_total = total
                assert archive.frame_count() % 2 == 0
                values = archive.last_values([VOLTAGE])
                assert not values or values[VOLTAGE].eng_value % 1 == pytest.approx(0.9)
                seen.append(total)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write), *(threading.Thread(target=read) for _ in range(3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert seen
    assert sum(b.count for b in archive.history(VOLTAGE, T0, T0 + batches, 37)) == 10 * batches
    assert archive.frame_count() == 2 * batches


def test_csv_export(archive: Archive) -> None:
    batches = _three_parameter_batches()
    for batch in batches:
        archive.write(batch)
    names = [TEMP, VOLTAGE]
    expected = _expected_rows(batches, names)
    out = io.StringIO()
    progress: list[int] = []
    rows = write_csv(archive, names, T0, T0 + 40, out, progress.append)
    assert rows == len(expected) == 80
    assert progress
    assert progress[-1] == rows
    assert progress == sorted(progress)
    out.seek(0)
    reader = csv.reader(out)
    assert next(reader) == [
        "generation_time",
        "parameter",
        "raw_value",
        "eng_value",
        "reception_time",
    ]
    parsed = list(reader)
    assert len(parsed) == rows
    for line, row in zip(parsed, expected, strict=True):
        assert datetime.fromisoformat(line[0]).timestamp() == pytest.approx(
            row.generation_time, abs=1e-6
        )
        assert line[0].endswith("Z")
        assert line[1] == row.parameter
        assert line[2] == repr(row.raw_value)
        assert line[3] == repr(row.eng_value)
        assert datetime.fromisoformat(line[4]).timestamp() == pytest.approx(
            row.reception_time, abs=1e-6
        )


def test_csv_export_streams_in_several_chunks(archive: Archive) -> None:
    for b in range(5):
        t = T0 + b * 3600 + np.arange(100, dtype=np.float64)
        archive.write(ArchiveBatch(samples=[SampleBlock(VOLTAGE, t, T0, np.arange(100), t)]))
    chunks = list(archive.sample_chunks([VOLTAGE], T0, T0 + 5 * 3600, chunk_samples=50))
    assert len(chunks) > 1
    assert sum(len(c) for c in chunks) == 500
    times = np.concatenate([c.generation_times for c in chunks])
    assert bool(np.all(np.diff(times) > 0))
    progress: list[int] = []
    assert write_csv(archive, [VOLTAGE], T0, T0 + 5 * 3600, io.StringIO(), progress.append) == 500
    assert progress[-1] == 500


def test_a_day_of_10_hz_into_1000_buckets(archive: Archive) -> None:
    day, rate = 86_400, 10
    k = np.arange(day * rate, dtype=np.float64)
    times = T0 + k / rate
    values = np.sin(k / 5_000.0) * 10 + 28
    per_batch = 60 * rate  # one-minute batches: this test checks answers, not ingest speed
    for i in range(0, len(k), per_batch):
        t = times[i : i + per_batch]
        archive.write(
            ArchiveBatch(
                samples=[
                    SampleBlock(
                        VOLTAGE,
                        t,
                        float(t[-1]),
                        values[i : i + per_batch],
                        values[i : i + per_batch],
                    )
                ]
            )
        )
    archive.compact()
    buckets = archive.history(VOLTAGE, T0, T0 + day, 1000)
    expected_counts, _ = np.histogram(times, bins=bucket_edges(T0, T0 + day, 1000))
    assert len(buckets) == 1000
    assert [b.count for b in buckets] == expected_counts.tolist()
    assert sum(b.count for b in buckets) == day * rate
    assert min(b.min for b in buckets) == values.min()
    assert max(b.max for b in buckets) == values.max()
    assert archive.stats()["segments"] < 100


# --- opening -------------------------------------------------------------------------------------


def test_reopening_keeps_the_data(archive_url: str) -> None:
    t = T0 + np.arange(3, dtype=np.float64)
    with open_archive(archive_url) as first:
        first.write(
            ArchiveBatch(
                frames=[_frame(1)],
                samples=[SampleBlock(VOLTAGE, t, T0, np.arange(3), t)],
                state={"k": b"v"},
            )
        )
    with open_archive(archive_url) as second:  # the schema is created idempotently
        assert second.frame_count() == 1
        assert second.last_values()[VOLTAGE] == LastValue(T0 + 2, 2, T0 + 2)
        assert second.load_state("k") == b"v"
        stats = second.stats()
        assert stats["frames"] == 1
        assert stats["bytes"] > 0
    with pytest.raises(ArchiveError, match="closed"):
        second.frame_count()


def test_sqlite_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_archive("sqlite:///var/sub/archive.db") as relative:
        assert isinstance(relative, SqliteArchive)
        assert relative.backend == "sqlite"
    assert (tmp_path / "var" / "sub" / "archive.db").exists()
    with open_archive(f"sqlite:///{tmp_path / 'abs.db'}") as absolute:
        absolute.write(ArchiveBatch(frames=[_frame(1)]))
    assert (tmp_path / "abs.db").exists()
    for url in ("sqlite://:memory:", "sqlite:///:memory:"):
        with open_archive(url) as memory:
            assert isinstance(memory, SqliteArchive)
            assert memory.memory
            memory.write(ArchiveBatch(frames=[_frame(1)]))
            assert memory.frame_count() == 1
            assert list(memory.frames()) == [_frame(1)]
    for bad in ("mysql://x", "sqlite:///", "archive.db"):
        with pytest.raises(ValueError, match="URL"):
            open_archive(bad)

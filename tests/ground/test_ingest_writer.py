"""The archive writer process: commits, survives its child's death, falls back when it cannot
start; and writes the same archive as the in-thread writer."""

from __future__ import annotations

from pathlib import Path

from ground.archive import open_archive
from ground.ingest.pipeline import BatchProcessor
from ground.ingest.writer import Part, ProcessWriter
from ground.processing.state import GroundState
from tests.ground.test_ingest_support import MDB, T0, Downlink


def parts(count: int, start: int = 0) -> list[Part]:
    link = Downlink()
    link.seq = {0x102: start}
    packets = [link.hk("rover.hk.power", T0 + start + i) for i in range(count)]
    processor = BatchProcessor(MDB, GroundState.from_mdb(MDB))
    result = processor.process(link.messages(link.frames(packets), t=T0 + start))
    return [(result.archive, result.packet_columns)]


async def test_commits_in_a_child_and_survives_its_death(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    archive = open_archive(url)
    writer = ProcessWriter(url, archive)
    try:
        await writer.write(parts(50))
        assert archive.packet_count() == 50
        child = writer._process
        assert child is not None
        child.kill()
        child.join(10)
        await writer.write(parts(30, start=50))  # a new child takes over
        assert writer.restarts == 1
        assert not writer.in_process
        assert archive.packet_count() == 80
        assert await writer.compact(T0 + 1e9) >= 0
    finally:
        writer.close()
        archive.close()


async def test_falls_back_to_the_ground_process_when_the_child_cannot_open_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    archive = open_archive(url)
    writer = ProcessWriter("postgresql://nobody@127.0.0.1:1/none", archive)
    try:
        await writer.write(parts(20))
        assert writer.in_process
        assert archive.packet_count() == 20
    finally:
        writer.close()
        archive.close()

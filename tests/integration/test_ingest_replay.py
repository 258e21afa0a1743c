"""Replay through a real broker into a second ground: every archived frame arrives, once, under
the station asked for; and the ``lupex replay`` command does the same with a progress bar."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bench.common import build_traffic
from ground.archive import Archive, open_archive
from ground.ingest.pipeline import BatchProcessor
from ground.processing.state import GroundState
from ground.replay import replay
from lupex.commands.replay import replay as replay_command
from tests.integration.test_ingest_support import MDB, broker_url, ingest, reference
from tests.support.mosquitto import MosquittoServer
from tests.support.timeouts import timeout

pytestmark = pytest.mark.integration

T_RECEIVED = 1_767_225_600.0


@pytest.fixture
def broker() -> Iterator[MosquittoServer]:
    with MosquittoServer() as server:
        yield server


def recorded(path: Path, station: str) -> tuple[Archive, list[tuple[str, bytes]]]:
    """An archive holding some traffic (and one quarantined payload), received 10 ms apart."""
    traffic = build_traffic(3_000, mdb=MDB, station=station, rate=100.0)
    archive = open_archive(f"sqlite:///{path}")
    processor = BatchProcessor(MDB, GroundState.from_mdb(MDB))
    messages = [(t, p, T_RECEIVED + 0.01 * i) for i, (t, p) in enumerate(traffic.messages)]
    messages.insert(3, (traffic.messages[0][0], b"not a frame", T_RECEIVED + 0.025))
    for i in range(0, len(messages), 40):
        archive.write(processor.process(messages[i : i + 40]).archive)
    return archive, traffic.messages


async def test_replay_into_another_ground(
    broker: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    source, sent = recorded(tmp_path / "source.db", "usuda")
    target = open_archive(f"sqlite:///{tmp_path / 'target.db'}")
    seen: list[tuple[int, int]] = []
    try:
        async with ingest(broker, target, unique_id) as service:
            result = await replay(
                source,
                broker_url(broker, "spacecraft"),
                speed=50.0,
                station="training",
                progress=lambda done, total: seen.append((done, total)),
            )
            async with asyncio.timeout(timeout(60)):
                await service.wait_committed(len(sent))
            stations = dict(service.state.counters.per_station)
        assert (result.frames, result.skipped) == (len(sent), 1)
        assert result.first_reception_time == T_RECEIVED
        # recorded span 10 ms × frames, replayed 50 times faster (never faster than that)
        assert result.seconds >= (len(sent) - 1) * 0.01 / 50 * 0.99
        assert stations == {"training": len(sent)}
        assert seen[0] == (0, len(sent) + 1)
        assert seen[-1] == (len(sent) + 1, len(sent) + 1)
        for (vehicle, apid), keys in reference(sent).keys.items():
            assert sorted(target.packet_keys(vehicle, apid)) == sorted(keys)
        assert [f.data for f in target.frames()] == [p for _, p in sent]
    finally:
        source.close()
        target.close()


async def test_lupex_replay_command(
    broker: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    source, sent = recorded(tmp_path / "source.db", "usuda")
    source.close()
    target = open_archive(f"sqlite:///{tmp_path / 'target.db'}")
    app = typer.Typer()
    app.command()(replay_command)
    cred = broker.credential("spacecraft")
    try:
        async with ingest(broker, target, unique_id) as service:
            outcome = await asyncio.to_thread(
                CliRunner().invoke,
                app,
                [
                    "--db", f"sqlite:///{tmp_path / 'source.db'}",
                    "--broker", f"mqtt://{broker.host}:{broker.port}",
                    "--username", cred.username,
                    "--password", cred.password,
                    "--speed", "0",
                    "--start", "2026-01-01T00:00:00",
                    "--end", "2026-01-01T00:00:05",
                    "--station", "replay-station",
                ],
            )  # fmt: skip
            assert outcome.exit_code == 0, outcome.output
            expected = [
                p for i, (_, p) in enumerate(sent) if T_RECEIVED + 0.01 * i < T_RECEIVED + 5
            ]
            assert f"replayed {len(expected)} frame(s)" in outcome.output
            async with asyncio.timeout(timeout(60)):
                await service.wait_committed(len(expected))
            assert dict(service.state.counters.per_station) == {"replay-station": len(expected)}
        assert [f.data for f in target.frames()] == expected
    finally:
        target.close()


def test_replay_command_refuses_bad_options(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(replay_command)
    db = f"sqlite:///{tmp_path / 'a.db'}"
    for extra, message in (
        (["--speed", "-1"], "--speed"),
        (["--start", "yesterday"], "--start"),
        (["--start", "2026-01-02T00:00:00", "--end", "2026-01-01T00:00:00"], "--end"),
        (["--station", "a/b"], "--station"),
    ):
        outcome = CliRunner().invoke(app, ["--db", db, "--broker", "mqtt://127.0.0.1:1", *extra])
        assert outcome.exit_code == 2
        assert message in outcome.output

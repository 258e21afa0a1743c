"""The ground ingest killed with SIGKILL and the broker restarted, both mid-stream: afterwards
every packet sent is in the archive exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.common import build_traffic, publish_messages
from ground.archive import open_archive
from tests.integration.test_ingest_support import MDB, reference
from tests.support.mosquitto import MosquittoServer
from tests.support.timeouts import POLL_INTERVAL, timeout

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]


class IngestProcess:
    """``python -m ground.ingest`` as a child process that can be killed."""

    def __init__(self, broker: MosquittoServer, db: str, client_id: str, log: Path) -> None:
        cred = broker.credential("ground")
        self.argv = [
            sys.executable, "-m", "ground.ingest",
            "--broker", f"mqtt://{cred.username}:{cred.password}@{broker.host}:{broker.port}",
            "--db", db,
            "--client-id", client_id,
            "--batch-max-frames", "50",
            "--log-level", "INFO",
        ]  # fmt: skip
        self.log = log
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        env = dict(os.environ, LUPEX_NO_BACKOFF="1", PYTHONPATH=str(REPO_ROOT))
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                self.argv, stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=REPO_ROOT
            )
        assert self.process.stdout is not None
        ready: list[str] = []
        reader = threading.Thread(target=lambda: ready.append(self.process.stdout.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout(60))
        assert ready == ["ready\n"], self.log.read_text()

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self._reap(10)

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
            self._reap(30)

    def _reap(self, units: float) -> None:
        assert self.process is not None
        self.process.wait(timeout(units))
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None


@pytest.fixture
def broker() -> Iterator[MosquittoServer]:
    with MosquittoServer() as server:
        yield server


def wait_until(condition: Callable[[], bool], units: float, what: str) -> None:
    deadline = time.monotonic() + timeout(units)
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(POLL_INTERVAL * 10)


async def test_kill_and_broker_restart_lose_and_duplicate_nothing(
    broker: MosquittoServer, tmp_path: Path, unique_id: str
) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    traffic = build_traffic(40_000, mdb=MDB, station=unique_id, rate=100.0)
    ref = reference(traffic.messages)
    total = traffic.frames
    ingest = IngestProcess(broker, db, unique_id, tmp_path / "ingest.log")
    ingest.start()
    marks = {total // 3: threading.Event(), 2 * total // 3: threading.Event()}

    def on_sent(n: int) -> None:
        if n in marks:
            marks[n].set()

    cred = broker.credential("spacecraft")
    publisher = asyncio.create_task(
        asyncio.to_thread(
            publish_messages,
            traffic.messages,
            host=broker.host,
            port=broker.port,
            username=cred.username,
            password=cred.password,
            rate=200.0,
            window=100,
            on_sent=on_sent,
        )
    )
    try:
        first, second = (marks[k] for k in sorted(marks))
        assert await asyncio.to_thread(first.wait, timeout(120))
        ingest.kill()  # SIGKILL mid-stream: batches in flight, frames unacknowledged
        ingest.start()
        assert await asyncio.to_thread(second.wait, timeout(120))
        await asyncio.to_thread(broker.restart)  # the broker goes away and comes back
        sent = await publisher
        assert sent.acknowledged == total
        archive = open_archive(db)
        try:
            await asyncio.to_thread(
                wait_until,
                lambda: archive.packet_count() >= traffic.packets,
                120,
                "every packet in the archive",
            )
            assert archive.packet_count() == traffic.packets
            for (vehicle, apid), keys in ref.keys.items():
                assert sorted(archive.packet_keys(vehicle, apid)) == sorted(keys)
            good = [f for f in archive.frames() if f.quality == "good"]
            assert len(good) == total
            assert len({f.frame_hash for f in good}) == total
        finally:
            archive.close()
    finally:
        ingest.stop()
        if not publisher.done():
            publisher.cancel()

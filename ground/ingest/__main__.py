"""``python -m ground.ingest``: the ingest service alone (no HTTP), e.g. to kill it in tests.

    python -m ground.ingest --broker mqtt://ground:secret@127.0.0.1:1883 \
        --db sqlite:///var/archive.db --client-id lupex-ground

It prints ``ready`` on stdout once it has resumed from the archive and started receiving, and
runs until SIGINT/SIGTERM (or SIGKILL: nothing is lost, see ``IngestService``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from ground.archive import open_archive
from ground.ingest.config import DEFAULT_RECEIVE_MAXIMUM, IngestConfig
from ground.ingest.service import IngestService
from ground.metrics import GroundMetrics
from ground.model import NullSink
from ground.processing.state import GroundState
from ground.settings import GroundSettings
from mission.mdb import load_mdb
from mqtt_io import BrokerUrl


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ground.ingest", description=__doc__)
    parser.add_argument("--broker", required=True, help="mqtt://user:password@host:port")
    parser.add_argument("--db", required=True, help="archive URL (sqlite:///... or postgresql://)")
    parser.add_argument("--client-id", default="lupex-ground-ingest")
    parser.add_argument("--share", default=None, help="shared-subscription group")
    parser.add_argument("--receive-maximum", type=int, default=DEFAULT_RECEIVE_MAXIMUM)
    parser.add_argument("--batch-max-frames", type=int, default=1000)
    parser.add_argument("--batch-max-delay", type=float, default=0.005)
    parser.add_argument("--compact-interval", type=float, default=30.0)
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument(
        "--writer-thread",
        action="store_true",
        help="commit on the worker thread instead of an archive writer process",
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    config = IngestConfig(
        broker=BrokerUrl.parse(args.broker),
        client_id=args.client_id,
        shared_group=args.share,
        receive_maximum=args.receive_maximum,
        batch_max_frames=args.batch_max_frames,
        batch_max_delay_s=args.batch_max_delay,
        compact_interval_s=args.compact_interval,
        archive_url=None if args.writer_thread else args.db,
    )
    mdb = load_mdb()
    archive = open_archive(args.db)
    state = GroundState.from_mdb(mdb)
    service = IngestService(config, mdb, archive, state, NullSink(), GroundMetrics())
    task = asyncio.create_task(service.run())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    ready = asyncio.ensure_future(service.source.subscribed.wait())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if ready.done():
        sys.stdout.write("ready\n")
        sys.stdout.flush()
    else:
        ready.cancel()
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        service.close()
        archive.close()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    # As the ground service does (GroundSettings.gil_switch_interval_s; see ground.app.serve).
    sys.setswitchinterval(GroundSettings.model_fields["gil_switch_interval_s"].default)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()

"""``lupex replay``: re-stream archived TM frames onto the downlink topics at a chosen speed.

A thin layer over :func:`ground.replay.replay`. Register it with ``app.command("replay")(replay)``.

    lupex replay --db sqlite:///var/archive.db --broker mqtt://127.0.0.1:1883 --speed 10 \
        --start 2026-01-01T00:00:00 --end 2026-01-01T01:00:00 --station training
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

__all__ = ["replay"]

DEFAULT_USER = "spacecraft"
DEFAULT_PASSWORD = "lupex-spacecraft-demo"  # noqa: S105 - the shipped demo password (deploy/)


def parse_time(text: str | None, option: str) -> float | None:
    """ISO 8601 (UTC unless it says otherwise) → Unix seconds."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 time", param_hint=option) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def replay(
    db: Annotated[str, typer.Option(help="Archive URL: sqlite:///path.db or postgresql://...")],
    broker: Annotated[str, typer.Option(help="MQTT broker, mqtt://[user:password@]host:port.")],
    speed: Annotated[
        float, typer.Option(help="Speed factor (2 = twice as fast; 0 = as fast as possible).")
    ] = 1.0,
    start: Annotated[str | None, typer.Option(help="First reception time, ISO 8601.")] = None,
    end: Annotated[str | None, typer.Option(help="End of the window (excluded), ISO 8601.")] = None,
    station: Annotated[
        str | None, typer.Option(help="Publish as this station (default: the recorded one).")
    ] = None,
    spacecraft: Annotated[str | None, typer.Option(help="Only this spacecraft's frames.")] = None,
    username: Annotated[
        str, typer.Option(help="MQTT user (one allowed to publish downlink).")
    ] = DEFAULT_USER,
    password: Annotated[
        str,
        typer.Option(envvar="LUPEX_REPLAY_PASSWORD", help="MQTT password.", show_default=False),
    ] = DEFAULT_PASSWORD,
) -> None:
    """Re-stream archived frames onto the downlink topics, keeping their timing (÷ speed)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from ground.archive import open_archive
    from ground.replay import replay as run_replay
    from mission.topics import check_level
    from mqtt_io import BrokerUrl

    if speed < 0:
        raise typer.BadParameter(
            "must be 0 (as fast as possible) or positive", param_hint="--speed"
        )
    t0, t1 = parse_time(start, "--start"), parse_time(end, "--end")
    if t0 is not None and t1 is not None and t1 <= t0:
        raise typer.BadParameter("must be after --start", param_hint="--end")
    if station is not None:
        try:
            check_level(station, "station")
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--station") from None
    try:
        url = BrokerUrl.parse(broker, username=username, password=password)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--broker") from None
    archive = open_archive(db)
    try:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        ) as bar:
            task = bar.add_task("replaying frames", total=None)

            def show(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = asyncio.run(
                run_replay(
                    archive,
                    url,
                    speed=speed,
                    start=t0,
                    end=t1,
                    station=station,
                    spacecraft=spacecraft,
                    progress=show,
                )
            )
    finally:
        archive.close()
    typer.echo(
        f"replayed {result.frames} frame(s) in {result.seconds:.1f} s"
        + (f" ({result.skipped} quarantined payload(s) skipped)" if result.skipped else "")
    )

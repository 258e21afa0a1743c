"""The spacecraft mock on a real Mosquitto: frames captured raw from the broker are valid CCSDS
(project decoders and spacepackets), commands come back verified, control injects faults, and a
broker restart loses no frame."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiomqtt
import pytest
from spacepackets.ccsds.tm_frame import TmTransferFrame
from spacepackets.ecss.tm import PusTm
from typer.testing import CliRunner

from mission import topics
from mission.ccsds import TmFrameReader, build_tc_frame, parse_tm_packet
from mission.mdb import (
    MissionDatabase,
    VerificationReportType,
    build_command_packet,
    decode_tm,
    decode_verification,
    load_mdb,
)
from mission.sim_control import InjectFault, SimStatus, control_json
from mqtt_io import BrokerUrl, ClientOptions, make_client
from spacecraft_mock.app import RunOptions, run_service
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.mqtt_adapter import AdapterSettings, MqttAdapter
from spacecraft_mock.runner import RealTimeRunner
from spacecraft_mock.world import World
from tests.spacecraft_mock.exercise import EPOCH
from tests.support.mosquitto import MosquittoServer
from tests.support.timeouts import timeout

pytestmark = pytest.mark.integration


def _url(server: MosquittoServer, user: str) -> BrokerUrl:
    cred = server.credential(user)
    return BrokerUrl("127.0.0.1", server.port, cred.username, cred.password)


@dataclass
class Ground:
    """Captures raw frames and statuses as the ``ground`` user; reconnects after a restart."""

    url: BrokerUrl
    client_id: str
    persistent: bool = False
    frames: list[tuple[str, bytes]] = field(default_factory=list)
    statuses: list[SimStatus] = field(default_factory=list)
    client: aiomqtt.Client | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        options = ClientOptions(
            identifier=self.client_id, persistent=self.persistent, max_queued_incoming=200_000
        )
        while True:
            try:
                async with make_client(self.url, options) as client:
                    self.client = client
                    await client.subscribe(topics.DOWNLINK_ALL, qos=1)
                    await client.subscribe(topics.SIM_STATUS, qos=1)
                    self.ready.set()
                    async for message in client.messages:
                        payload = message.payload
                        assert isinstance(payload, bytes | bytearray)
                        if str(message.topic) == topics.SIM_STATUS:
                            self.statuses.append(SimStatus.model_validate_json(payload))
                        else:
                            self.frames.append((str(message.topic), bytes(payload)))
            except aiomqtt.MqttError:
                self.client = None
                await asyncio.sleep(0.05)

    async def wait_for(self, predicate: Callable[[], bool], units: float = 30.0) -> None:
        """Poll ``predicate`` (messages arrive on another task) until true or the timeout."""
        async with asyncio.timeout(timeout(units)):
            while not predicate():  # noqa: ASYNC110 - the condition is data, not an event
                await asyncio.sleep(0.02)


async def _service(
    server: MosquittoServer, client_id: str, speed: float, duration: float, plan: bool = True
) -> tuple[asyncio.Task[MqttAdapter], asyncio.Event]:
    stop = asyncio.Event()
    options = RunOptions(
        url=_url(server, "spacecraft"),
        speed=speed,
        seed=1,
        epoch=EPOCH,
        duration_s=duration,
        config=WorldConfig(activity_plan=plan),
        client_id=client_id,
    )
    return asyncio.create_task(run_service(options, stop)), stop


@contextlib.asynccontextmanager
async def _ground(
    url: BrokerUrl, client_id: str, persistent: bool = False
) -> AsyncIterator[Ground]:
    ground = Ground(url, client_id, persistent)
    task = asyncio.create_task(ground.run())
    try:
        async with asyncio.timeout(timeout(10)):
            await ground.ready.wait()
        yield ground
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _check_ccsds(db: MissionDatabase, frames: list[tuple[str, bytes]]) -> dict[str, int]:
    """Decode every frame both ways; return frames per spacecraft. Asserts continuity."""
    readers: dict[str, TmFrameReader] = defaultdict(TmFrameReader)
    last_mc: dict[str, int] = {}
    seqs: dict[int, list[int]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for topic, raw in frames:
        station, spacecraft = topics.parse_downlink_topic(topic)
        assert station in db.stations
        result = readers[spacecraft].read(raw)  # FECF and layout checked by the project decoder
        # spacepackets is the independent implementation the frames must also satisfy.
        theirs = TmTransferFrame.unpack(raw, 1115, has_error_control_field=True)
        header = theirs.primary_header
        assert header.master_channel_id.spacecraft_id == db.spacecraft[spacecraft].scid
        assert (header.vc_id, header.master_ch_frame_count) == (
            result.frame.vcid,
            result.frame.mc_count,
        )
        if spacecraft in last_mc:
            assert (result.frame.mc_count - last_mc[spacecraft]) % 256 == 1, "frame counter gap"
        last_mc[spacecraft] = result.frame.mc_count
        assert result.extraction.frame_gap == 0
        assert result.extraction.skipped_octets == 0 or result.frame.vc_count == 0
        counts[spacecraft] += 1
        for packet in result.extraction.packets:
            ours = parse_tm_packet(packet)
            pus = PusTm.unpack(packet, timestamp_len=7)
            assert (pus.apid, pus.seq_count, pus.service) == (
                ours.apid,
                ours.seq_count,
                ours.service,
            )
            seqs[ours.apid].append(ours.seq_count)
            if ours.service == 3:
                decode_tm(db, packet)
    for apid, values in seqs.items():
        ordered = sorted(set(values))
        assert ordered == list(range(ordered[0], ordered[-1] + 1)), f"packet gap on APID {apid}"
    return dict(counts)


async def test_frames_from_the_broker_are_valid_ccsds_with_continuous_counters(
    mosquitto: MosquittoServer, unique_id: str
) -> None:
    db = load_mdb()
    async with _ground(_url(mosquitto, "ground"), f"g-{unique_id}") as ground:
        task, _ = await _service(mosquitto, f"sc-{unique_id}", speed=100.0, duration=600.0)
        adapter = await asyncio.wait_for(task, timeout(60))
        expected = adapter.stats.frames_queued
        await ground.wait_for(lambda: len(ground.frames) >= expected)
        await ground.wait_for(lambda: bool(ground.statuses) and not ground.statuses[-1].running)
    assert adapter.outbox.dropped == 0
    counts = _check_ccsds(db, ground.frames)
    assert set(counts) == {"rover", "lander"}
    assert sum(counts.values()) == expected
    final = ground.statuses[-1]
    assert final.mission_time == EPOCH + 600.0
    assert final.seed == 1


async def test_a_tc_on_the_uplink_topic_comes_back_accepted_and_completed(
    mosquitto: MosquittoServer, unique_id: str
) -> None:
    db = load_mdb()
    async with _ground(_url(mosquitto, "ground"), f"g-{unique_id}") as ground:
        task, stop = await _service(mosquitto, f"sc-{unique_id}", speed=5.0, duration=600.0)
        # Frames flowing: the mock is connected and subscribed (a retained status is not enough).
        await ground.wait_for(lambda: len(ground.frames) > 2 and ground.statuses[-1].running)
        station = ground.statuses[-1].prime_station
        assert station is not None
        packet = build_command_packet(db, "rover.obsw.are_you_alive", {}, seq_count=77)
        frame = build_tc_frame(db.spacecraft["rover"].scid, 0, packet, seq_num=0)
        assert ground.client is not None
        await ground.client.publish(topics.uplink(station, "rover"), frame, qos=1)

        def reports() -> list[VerificationReportType]:
            out = []
            reader = TmFrameReader()
            for topic, raw in ground.frames:
                if topic.endswith("/rover"):
                    for p in reader.read(raw).extraction.packets:
                        tm = parse_tm_packet(p)
                        if tm.service == 1:
                            decoded = decode_verification(db, p)
                            if decoded.report.tc_seq_count == 77:
                                out.append(decoded.report.subtype)
            return out

        await ground.wait_for(lambda: VerificationReportType.COMPLETION_SUCCESS in reports())
        stop.set()
        await asyncio.wait_for(task, timeout(30))
    assert reports() == [
        VerificationReportType.ACCEPTANCE_SUCCESS,
        VerificationReportType.START_SUCCESS,
        VerificationReportType.COMPLETION_SUCCESS,
    ]


async def test_sim_control_injects_a_fault_that_shows_in_telemetry(
    mosquitto: MosquittoServer, unique_id: str
) -> None:
    db = load_mdb()
    async with _ground(_url(mosquitto, "ground"), f"g-{unique_id}") as ground:
        task, stop = await _service(mosquitto, f"sc-{unique_id}", speed=10.0, duration=3600.0)
        await ground.wait_for(lambda: len(ground.frames) > 10)
        message = InjectFault(fault="battery_cell_failure", request_id=unique_id)
        async with make_client(_url(mosquitto, "instructor"), ClientOptions()) as instructor:
            await instructor.publish(topics.SIM_CONTROL, control_json(message), qos=1)

        def acked() -> bool:
            return any(
                s.last_control is not None and s.last_control.request_id == unique_id
                for s in ground.statuses
            )

        await ground.wait_for(acked)
        status = next(
            s for s in ground.statuses if s.last_control and s.last_control.request_id == unique_id
        )
        assert status.last_control is not None
        assert status.last_control.accepted
        assert [f.fault for f in status.active_faults] == ["battery_cell_failure"]

        def charge_fault() -> bool:
            reader = TmFrameReader()
            for topic, raw in list(ground.frames):
                if topic.endswith("/rover"):
                    for p in reader.read(raw).extraction.packets:
                        tm = parse_tm_packet(p)
                        if tm.service == 3 and tm.data[:2] == (102).to_bytes(2, "big"):
                            values = decode_tm(db, p).values
                            if values["rover.power.charge_state"].eng_value == "FAULT":
                                return True
            return False

        await ground.wait_for(charge_fault)
        stop.set()
        await asyncio.wait_for(task, timeout(30))


async def test_a_fault_that_ends_on_its_own_is_announced_at_once(
    mosquitto: MosquittoServer, unique_id: str
) -> None:
    """Statuses go out when a fault begins or ends, not only every ``status_interval_s``: here
    that interval is an hour, so only that can announce the end of a one-minute fault."""
    world = World(1, EPOCH, config=WorldConfig(activity_plan=False))
    runner = RealTimeRunner(world, 100.0, duration_s=3600.0)
    settings = AdapterSettings(
        url=_url(mosquitto, "spacecraft"), client_id=f"sc-{unique_id}", status_interval_s=3600.0
    )
    adapter = MqttAdapter(runner, settings)
    stop = asyncio.Event()
    async with _ground(_url(mosquitto, "ground"), f"g-{unique_id}") as ground:
        task = asyncio.create_task(adapter.run(stop))
        await ground.wait_for(lambda: len(ground.frames) > 3)
        message = InjectFault(fault="drill_jam", duration_s=60.0, request_id=unique_id)
        async with make_client(_url(mosquitto, "instructor"), ClientOptions()) as instructor:
            await instructor.publish(topics.SIM_CONTROL, control_json(message), qos=1)

        def ended() -> bool:
            return any(
                not s.active_faults
                and any(f.fault == "drill_jam" and f.ended for f in s.recent_faults)
                for s in ground.statuses
            )

        await ground.wait_for(ended)
        stop.set()
        await asyncio.wait_for(task, timeout(30))
    late = next(s for s in ground.statuses if not s.active_faults and s.recent_faults)
    assert late.mission_time - EPOCH < 3600.0  # well before an hourly status


async def test_broker_restart_mid_run_loses_no_frame(unique_id: str) -> None:
    with MosquittoServer() as server:
        async with _ground(_url(server, "ground"), f"g-{unique_id}", persistent=True) as ground:
            task, _ = await _service(server, f"sc-{unique_id}", speed=20.0, duration=400.0)
            await ground.wait_for(lambda: len(ground.frames) > 100)
            await asyncio.to_thread(server.restart)
            adapter = await asyncio.wait_for(task, timeout(90))
            expected = adapter.stats.frames_queued

            def unique() -> int:
                return len({raw for _, raw in ground.frames})

            await ground.wait_for(lambda: unique() >= expected, units=60)
    assert adapter.stats.connections >= 2  # it reconnected after the restart
    assert adapter.outbox.dropped == 0
    assert unique() == expected
    # Deduplicated in arrival order, every frame counter follows its predecessor.
    seen: set[bytes] = set()
    ordered = []
    for topic, raw in ground.frames:
        if raw not in seen:
            seen.add(raw)
            ordered.append((topic, raw))
    counts = _check_ccsds(load_mdb(), ordered)
    assert sum(counts.values()) == expected


def test_lupex_spacecraft_runs_for_a_duration_and_exits_0(mosquitto: MosquittoServer) -> None:
    import typer

    from lupex.commands.spacecraft import spacecraft

    app = typer.Typer()
    app.command()(spacecraft)
    result = CliRunner().invoke(
        app,
        [
            "--broker",
            f"mqtt://127.0.0.1:{mosquitto.port}",
            "--speed",
            "100",
            "--duration",
            "60",
            "--epoch",
            "2026-11-22T02:00:00Z",
            "--log-level",
            "WARNING",
        ],
        env={"LUPEX_SPACECRAFT_MQTT_CLIENT_ID": "lupex-cli-test"},
    )
    assert result.exit_code == 0, result.output


async def test_sigterm_stops_the_service_cleanly(
    mosquitto: MosquittoServer, unique_id: str
) -> None:
    import signal
    import sys

    code = "import typer; from lupex.commands.spacecraft import spacecraft; typer.run(spacecraft)"
    env = {
        "LUPEX_SPACECRAFT_MQTT_CLIENT_ID": f"sc-{unique_id}",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(__import__("pathlib").Path(__file__).resolve().parents[2]),
    }
    async with _ground(_url(mosquitto, "ground"), f"g-{unique_id}") as ground:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, "--broker", f"mqtt://127.0.0.1:{mosquitto.port}",
            "--speed", "20", "--epoch", "2026-11-22T02:00:00Z", "--log-level", "INFO",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        await ground.wait_for(lambda: len(ground.frames) > 20)
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(timeout(30)):
            output, _ = await process.communicate()
        await ground.wait_for(lambda: not ground.statuses[-1].running)
    text = output.decode()
    assert process.returncode == 0, text
    assert f"127.0.0.1:{mosquitto.port}" in text
    assert "speed 20" in text
    assert "seed 1" in text
    assert "lupex-spacecraft-demo" not in text  # the password never reaches a log

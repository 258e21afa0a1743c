"""The command service through a real Mosquitto: release, uplink frames, verification, archive.

The spacecraft end is played by the test: it reads the uplink topic as the ``spacecraft`` user
and answers with PUS 1,x reports handed to the service the way ingest hands them (from another
thread). The mission clock is paused and set by the test, so release and time-outs happen at
chosen mission times. The full loop with the real spacecraft mock is in
``tests/integration/test_command_roundtrip.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from ground.archive import open_archive
from ground.archive.base import Archive
from ground.commanding.config import CommandingConfig
from ground.commanding.service import CommandService
from ground.commanding.validation import CommandRequestError
from ground.commanding.verification import TimeoutPolicy
from ground.links.predict import LinkPredictor
from ground.metrics import GroundMetrics
from ground.model import NullSink
from ground.processing.clock import SimStatus
from ground.processing.state import GroundState, ReceivedClcw
from ground.processing.verification import VerificationReport
from mission import topics
from mission.ccsds.pus import parse_tc_packet
from mission.ccsds.tcframe import TcFrame, parse_tc_frame
from mission.geometry import earth_elevation_series
from mission.mdb.database import MissionDatabase
from mission.mdb.loader import load_mdb
from mqtt_io import BrokerUrl
from spacecraft_mock.obsw.farm import Farm
from tests.ground.test_api_support import wait_for, wait_until
from tests.support.mosquitto import MosquittoServer

pytestmark = pytest.mark.integration

IN_VIEW = 1_800_000_000.0  # 2027-01-15T08:00Z: Earth up at the site, five stations in view


@dataclass
class RecordingSink(NullSink):
    batches: list[list[dict[str, object]]] = field(default_factory=list)

    def on_commands(self, commands: Sequence[dict[str, object]]) -> None:
        self.batches.append(list(commands))


@pytest.fixture(scope="module")
def mdb() -> MissionDatabase:
    return load_mdb()


@pytest.fixture(scope="module")
def predictor() -> LinkPredictor:
    return LinkPredictor(lookahead_hours=48.0)


def set_time(state: GroundState, t: float) -> None:
    """Pause the ground's mission clock at ``t``."""
    state.clock.on_status(SimStatus(t, 1.0, paused=True, wall_time=time.time()))


@dataclass
class World:
    service: CommandService
    state: GroundState
    archive: Archive
    sink: RecordingSink
    frames: asyncio.Queue[tuple[str, bytes]]


@contextlib.asynccontextmanager
async def world(
    mosquitto: MosquittoServer,
    mdb: MissionDatabase,
    predictor: LinkPredictor,
    tmp_path: Path,
    unique_id: str,
    timeouts: TimeoutPolicy | None = None,
    tc_mode: str = "bd",
) -> AsyncIterator[World]:
    """The service with the test as the spacecraft. BD mode by default: these tests answer with
    reports and no FARM; the AD (COP-1) tests below play the FARM too."""
    ground = mosquitto.credential("ground")
    config = CommandingConfig(
        broker=BrokerUrl.parse(mosquitto.url, ground.username, ground.password),
        client_id=f"{unique_id}-cmd",
        timeouts=timeouts or TimeoutPolicy(),
        tc_mode=tc_mode,
    )
    state = GroundState.from_mdb(mdb)
    set_time(state, IN_VIEW)
    archive = open_archive(f"sqlite:///{tmp_path / 'archive.db'}")
    sink = RecordingSink()
    service = CommandService(
        config, mdb, archive, state, sink, GroundMetrics(), predictor=predictor
    )
    frames: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    sc = mosquitto.credential("spacecraft")
    async with aiomqtt.Client(
        mosquitto.host, mosquitto.port, username=sc.username, password=sc.password
    ) as spacecraft:
        await spacecraft.subscribe(topics.UPLINK_ALL, qos=1)

        async def listen() -> None:
            async for message in spacecraft.messages:
                assert isinstance(message.payload, bytes)
                await frames.put((str(message.topic), message.payload))

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(service.run()), group.create_task(listen())]
            await wait_for(lambda: service.endpoint.connected, "the uplink connection")
            try:
                yield World(service, state, archive, sink, frames)
            finally:
                for task in tasks:
                    task.cancel()
    archive.close()


def report_for(view: dict[str, Any], subtype: int, code: int | None = None) -> VerificationReport:
    return VerificationReport(
        spacecraft=view["vehicle"],
        apid=view["apid"],
        seq_count=view["seq_count"],
        subtype=subtype,
        generation_time=IN_VIEW,
        reception_time=time.time(),
        failure_code=code,
        station=view["station"],
    )


def from_ingest_thread(service: CommandService, report: VerificationReport) -> None:
    """Deliver a report from another thread, as ingest's worker does."""
    thread = threading.Thread(target=service.on_verification, args=(report,))
    thread.start()
    thread.join()


async def stage_of(world: World, command_id: str, stage: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        view = world.service.live(command_id)
        return view if view is not None and view["stage"] == stage else None

    return await wait_for(check, f"command {command_id} to reach {stage}")


async def test_a_command_is_uplinked_and_verified_through_every_stage(
    mosquitto: MosquittoServer,
    mdb: MissionDatabase,
    predictor: LinkPredictor,
    tmp_path: Path,
    unique_id: str,
) -> None:
    async with world(mosquitto, mdb, predictor, tmp_path, unique_id) as w:
        view = await w.service.submit("rover.mobility.turn", {"angle": 30}, "alice")
        topic, frame_bytes = await asyncio.wait_for(w.frames.get(), 20)
        sent = await stage_of(w, view["id"], "sent")
        station, spacecraft = topics.parse_uplink_topic(topic)
        assert spacecraft == "rover"
        assert station == sent["station"]
        frame = parse_tc_frame(frame_bytes)
        assert frame.scid == mdb.spacecraft["rover"].scid
        assert frame.seq_num == sent["frame_seq"]
        packet = parse_tc_packet(frame.data)
        definition = mdb.commands["rover.mobility.turn"]
        assert (packet.apid, packet.service, packet.subtype) == (definition.apid, 8, 1)
        assert packet.seq_count == sent["seq_count"]
        assert packet.ack_flags == 0b1111

        for subtype in (1, 3, 7):
            from_ingest_thread(w.service, report_for(sent, subtype))
        done = await stage_of(w, view["id"], "completed")
        assert [s["stage"] for s in done["stages"]] == [
            "queued",
            "released",
            "sent",
            "accepted",
            "started",
            "completed",
        ]
        assert done["stages"][2]["station"] == station

        async def archived() -> Any:
            record = await asyncio.to_thread(w.archive.command, view["id"])
            return record if record is not None and record.stage == "completed" else None

        record = await wait_until(archived, "the archive to hold the completed command")
        assert record.station == station
        assert record.request_id == done["request_id"]
        streamed = [c["stage"] for batch in w.sink.batches for c in batch if c["id"] == view["id"]]
        assert streamed[-1] == "completed"
        history = await w.service.history(state="completed")
        assert [c["id"] for c in history] == [view["id"]]


async def test_a_rejection_carries_the_on_board_reason(
    mosquitto: MosquittoServer,
    mdb: MissionDatabase,
    predictor: LinkPredictor,
    tmp_path: Path,
    unique_id: str,
) -> None:
    async with world(mosquitto, mdb, predictor, tmp_path, unique_id) as w:
        view = await w.service.submit("lander.obsw.set_mode", {"mode": "SAFE"}, "bob", confirm=True)
        await asyncio.wait_for(w.frames.get(), 20)
        sent = await stage_of(w, view["id"], "sent")
        code = mdb.failure_codes_by_name["NOT_ALLOWED_IN_MODE"].code
        from_ingest_thread(w.service, report_for(sent, 2, code))
        rejected = await stage_of(w, view["id"], "rejected")
        assert rejected["failure_code"] == code
        assert rejected["failure_name"] == "NOT_ALLOWED_IN_MODE"


async def test_without_a_station_in_view_the_command_waits_for_the_next_aos(
    mosquitto: MosquittoServer,
    mdb: MissionDatabase,
    predictor: LinkPredictor,
    tmp_path: Path,
    unique_id: str,
) -> None:
    # A time when the Earth is below the site's horizon, a few hours before it rises.
    series = earth_elevation_series(IN_VIEW, 24 * 30, step_s=600.0)
    above = (series.elevation_deg >= series.mask_deg).tolist()
    rise = next(k for k in range(1, len(above)) if above[k] and not above[k - 1])
    dark = float(series.times[rise]) - 4 * 3600.0
    async with world(mosquitto, mdb, predictor, tmp_path, unique_id) as w:
        set_time(w.state, dark)
        with pytest.raises(CommandRequestError) as refused:
            await w.service.submit("rover.mobility.stop", {}, "alice", immediate=True)
        assert refused.value.status == 409
        assert "no station in view" in refused.value.message

        view = await w.service.submit("rover.mobility.stop", {}, "alice")
        assert view["stage"] == "queued"
        assert "no station in view of rover" in view["waiting_reason"]
        aos = view["next_aos"]
        assert aos is not None
        assert aos > dark
        assert view["next_aos_station"] in view["waiting_reason"]
        # Still waiting just before the AOS ...
        set_time(w.state, aos - 60.0)
        await w.service.step()
        assert w.service.live(view["id"])["stage"] == "queued"  # type: ignore[index]
        assert w.frames.empty()
        # ... released just after it, through the station that rose.
        set_time(w.state, aos + 60.0)
        sent = await stage_of(w, view["id"], "sent")
        released = next(s for s in sent["stages"] if s["stage"] == "released")
        assert released["time"] == aos + 60.0
        topic, _ = await asyncio.wait_for(w.frames.get(), 20)
        assert topics.parse_uplink_topic(topic)[0] == sent["station"]


async def test_no_report_in_time_is_a_timeout_that_a_late_report_can_follow(
    mosquitto: MosquittoServer,
    mdb: MissionDatabase,
    predictor: LinkPredictor,
    tmp_path: Path,
    unique_id: str,
) -> None:
    policy = TimeoutPolicy(margin_s=5.0, wall_margin_s=0.0)
    async with world(mosquitto, mdb, predictor, tmp_path, unique_id, policy) as w:
        view = await w.service.submit("rover.mobility.stop", {}, "alice")
        await asyncio.wait_for(w.frames.get(), 20)
        sent = await stage_of(w, view["id"], "sent")
        sent_time = next(s["time"] for s in sent["stages"] if s["stage"] == "sent")
        deadline = sent_time + 2 * sent["light_time_s"] + 5.0
        set_time(w.state, deadline - 0.5)
        await w.service.step()
        assert w.service.live(view["id"])["stage"] == "sent"  # type: ignore[index]
        set_time(w.state, deadline + 0.5)
        timed_out = await stage_of(w, view["id"], "timeout")
        assert "acceptance" in timed_out["stages"][-1]["detail"]
        from_ingest_thread(w.service, report_for(sent, 1))
        await stage_of(w, view["id"], "accepted")


async def test_counters_resume_from_the_archive_after_a_restart(
    mosquitto: MosquittoServer,
    mdb: MissionDatabase,
    predictor: LinkPredictor,
    tmp_path: Path,
    unique_id: str,
) -> None:
    async with world(mosquitto, mdb, predictor, tmp_path, unique_id) as w:
        first = await w.service.submit("rover.mobility.stop", {}, "alice")
        await asyncio.wait_for(w.frames.get(), 20)
        sent = await stage_of(w, first["id"], "sent")

        async def archived() -> Any:
            record = await asyncio.to_thread(w.archive.command, first["id"])
            return record if record is not None and record.stage == "sent" else None

        await wait_until(archived, "the sent command in the archive")
    async with world(mosquitto, mdb, predictor, tmp_path, f"{unique_id}b") as w:
        second = await w.service.submit("rover.mobility.stop", {}, "alice")
        again = await stage_of(w, second["id"], "sent")
        assert again["seq_count"] == sent["seq_count"] + 1
        assert again["frame_seq"] == sent["frame_seq"] + 1
        # The restarted service still recognises the first command's reports.
        from_ingest_thread(w.service, report_for(sent, 1))
        await stage_of(w, first["id"], "accepted")


# ---------------------------------------------------------------------------------- COP-1 (AD)
class OnBoardFarm:
    """The rover's FARM-1 (the spacecraft mock's), fed with the uplinked frames; its CLCW goes
    to the ground's state the way ingest puts it there."""

    def __init__(self, w: World, mdb: MissionDatabase) -> None:
        self.w = w
        self.farm = Farm(mdb.spacecraft["rover"].scid, mdb.spacecraft["rover"].tc_max_frame_length)
        self.received: list[TcFrame] = []

    async def take(self, lose: bool = False) -> TcFrame:
        _, raw = await asyncio.wait_for(self.w.frames.get(), 20)
        frame = parse_tc_frame(raw)
        self.received.append(frame)
        if not lose:
            self.farm.receive(raw)
        return frame

    def downlink_clcw(self) -> float:
        """Put the FARM's CLCW where ingest would; returns its reception time."""
        c = self.farm.clcw()
        now = time.time()
        self.w.state.clcw["rover"] = ReceivedClcw(
            vcid=c.vcid, report_value=c.report_value, farm_b_counter=c.farm_b_counter,
            lockout=c.lockout, wait=c.wait, retransmit=c.retransmit,
            reception_time=now, station="dss43", spacecraft="rover",
        )  # fmt: skip
        self.w.service._notify()
        return now

    async def processed(self, reception_time: float) -> None:
        """Until the command service has handed that CLCW to its FOP."""
        await wait_for(
            lambda: self.w.service._clcw_seen.get("rover") == reception_time or None,
            "the CLCW to reach the FOP",
        )


def rover_cop1(w: World) -> dict[str, Any]:
    status = next(s for s in w.service.link_status() if s["vehicle"] == "rover")
    cop1: dict[str, Any] = status["cop1"]
    return cop1


async def cop1_of(w: World, check: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    def rover() -> dict[str, Any] | None:
        cop1 = rover_cop1(w)
        return cop1 if check(cop1) else None

    return await wait_for(rover, what)


async def test_ad_mode_waits_for_a_clcw_then_frames_are_acknowledged_and_lost_ones_resent(
    mosquitto: MosquittoServer,
    mdb: MissionDatabase,
    predictor: LinkPredictor,
    tmp_path: Path,
    unique_id: str,
) -> None:
    async with world(mosquitto, mdb, predictor, tmp_path, unique_id, tc_mode="ad") as w:
        board = OnBoardFarm(w, mdb)
        board.farm.v_r = 17  # where the FARM happens to be: the ground adopts it
        first = await w.service.submit("rover.obsw.are_you_alive", {}, "alice")
        await stage_of(w, first["id"], "released")
        assert w.frames.empty()  # held: no CLCW yet, so no AD service
        board.downlink_clcw()
        frame = await board.take()
        assert not frame.bypass
        assert frame.seq_num == 17
        sent = await stage_of(w, first["id"], "sent")
        assert "Type-AD N(S)=17" in sent["stages"][-1]["detail"]
        board.downlink_clcw()
        await cop1_of(w, lambda c: c["nn_r"] == 18 and c["sent_queue"] == 0, "the acknowledgement")
        # A bypass command meanwhile does not disturb the sequence.
        await w.service.submit("rover.obsw.are_you_alive", {}, "alice", bypass=True)
        assert (await board.take()).bypass
        await board.processed(board.downlink_clcw())
        assert (rover_cop1(w)["fop_state"], rover_cop1(w)["nn_r"]) == ("active", 18)
        assert board.farm.v_r == 18

        # A frame lost on the way up: timer T1 (mission time) sends it again.
        second = await w.service.submit("rover.obsw.are_you_alive", {}, "alice")
        lost = await board.take(lose=True)
        assert lost.seq_num == 18
        set_time(w.state, rover_cop1(w)["timer_deadline"] + 1.0)  # T1 expired
        w.service._notify()
        again = await board.take()
        assert again.seq_num == 18
        assert again.data == lost.data
        board.downlink_clcw()
        status = await cop1_of(w, lambda c: c["nn_r"] == 19, "the retransmitted frame's ack")
        assert status["retransmissions"] == 1
        assert status["fop_state"] == "active"
        assert [f.seq_num for f in board.received if not f.bypass] == [17, 18, 18]
        view = w.service.live(second["id"])
        assert view is not None
        assert [s["stage"] for s in view["stages"]].count("sent") == 1


async def test_ad_mode_alerts_at_the_limit_and_an_operator_initiates_again(
    mosquitto: MosquittoServer,
    mdb: MissionDatabase,
    predictor: LinkPredictor,
    tmp_path: Path,
    unique_id: str,
) -> None:
    async with world(mosquitto, mdb, predictor, tmp_path, unique_id, tc_mode="ad") as w:
        board = OnBoardFarm(w, mdb)
        board.downlink_clcw()
        await cop1_of(w, lambda c: c["fop_state"] == "active", "AD initiated from the CLCW")
        doomed = await w.service.submit("rover.obsw.are_you_alive", {}, "alice")
        for _ in range(rover_cop1(w)["transmission_limit"]):
            await board.take(lose=True)
            set_time(w.state, rover_cop1(w)["timer_deadline"] + 1.0)
            w.service._notify()
        cop1 = await cop1_of(w, lambda c: c["fop_state"] == "initial", "the alert")
        timed_out = await stage_of(w, doomed["id"], "timeout")
        assert "COP-1 alert" in timed_out["stages"][-1]["detail"]
        assert "transmission limit" in cop1["last_alert"]
        refused = await w.service.submit("rover.obsw.are_you_alive", {}, "alice")
        failed = await stage_of(w, refused["id"], "failed")
        assert "not active" in failed["stages"][-1]["detail"]
        urgent = await w.service.submit("rover.obsw.are_you_alive", {}, "alice", bypass=True)
        bd = await board.take()
        assert bd.bypass  # outside COP-1, while AD service is stopped
        assert not bd.control_command
        sent = await stage_of(w, urgent["id"], "sent")
        assert sent["bypass"]
        assert "Type-BD" in sent["stages"][-1]["detail"]

        with pytest.raises(CommandRequestError) as bad:
            await w.service.cop1_directive("rover", "initiate", mode="set_vr", set_vr=300)
        assert bad.value.field == "set_vr"
        status = await w.service.cop1_directive("rover", "initiate", mode="set_vr", set_vr=5)
        assert status["cop1"]["fop_state"] == "initialising_with_bc"
        bc = await board.take()
        assert bc.bypass
        assert bc.control_command
        assert board.farm.v_r == 5
        board.downlink_clcw()
        await cop1_of(w, lambda c: c["fop_state"] == "active", "Set V(R) to complete")
        third = await w.service.submit("rover.obsw.are_you_alive", {}, "alice")
        frame = await board.take()
        assert frame.seq_num == 5
        await stage_of(w, third["id"], "sent")

"""The commanding service: validate → queue → release in view of a station → encode → uplink →
verify from PUS service 1 reports → archive and stream every stage.

``CommandService(config, mdb, archive, state, sink, metrics)``; the lead starts ``run()`` in the
application's task group. ``run()`` keeps the uplink's MQTT connection (its own client id), sends
released commands in order, and every ``config.tick_s`` (or at once when something happens)
releases the queued commands that a station can now reach, checks the time-outs and writes what
changed to the archive (``CommandRecord`` upserts) and the live sink (``on_commands``).

The service registers :meth:`on_verification` with ``GroundState.verification_listeners``.
Ingest may call it from a worker thread, so the service's state is guarded by a lock, and the
listener only updates that state and wakes the event loop; archive and sink see the change in the
next step of the loop.

Times: mission time from ``GroundState.clock`` (``now()`` and the ``speed`` factor); the wall clock
only for the ``wall_time`` of each stage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Final

from ground.archive.base import Archive, ArchiveBatch, CommandRecord
from ground.commanding.clcw import command_link_status
from ground.commanding.config import CommandingConfig
from ground.commanding.fop import (
    Acknowledged,
    Action,
    Alert,
    Fop,
    FopError,
    FopState,
    Initialised,
    InitiateMode,
    TimeoutType,
    Transmit,
)
from ground.commanding.history import matches, merge_views
from ground.commanding.model import (
    FINAL_STAGES,
    Stage,
    StageEntry,
    TrackedCommand,
    view_from_record,
)
from ground.commanding.mqtt import MqttEndpoint
from ground.commanding.queue import CommandQueue, ReleaseDecision, decide_release
from ground.commanding.uplink import SequenceCounters, ad_frame, bc_frame, encode_tc
from ground.commanding.validation import (
    CommandRequestError,
    check_confirmation,
    validate_command,
)
from ground.commanding.verification import apply_report, check_timeout
from ground.links.contact import Contact, NextAos
from ground.links.monitor import MonitorFlags, flags_from_links
from ground.links.predict import LinkPredictor
from ground.metrics import GroundMetrics
from ground.model import LiveSink
from ground.processing.state import GroundState
from ground.processing.verification import VerificationReport
from mission import topics
from mission.ccsds.errors import ProtocolError
from mission.mdb.database import MissionDatabase

log = logging.getLogger("lupex.ground.commanding")

RESTORE_LIMIT: Final = 2_000
FRAMES_OUT_LIMIT: Final = 4_096
"""TC frames waiting for the uplink publisher (AD mode); beyond, a frame is dropped and COP-1
retransmits it, as it would a frame lost on the way."""
NEXT_AOS_REFRESH_S: Final = 3_600.0
"""Mission seconds after which a "no AOS in the look-ahead" answer is computed again."""

CarrierOf = Callable[[str], str | None]
MonitorFlagsOf = Callable[[float, float], Mapping[str, MonitorFlags]]
"""``(mission time, speed) → station → monitor flags`` (``LinkService.monitor_flags``)."""
DEFAULT_MONITOR_WINDOW_S: Final = 300.0


class CommandService:
    """See the module docstring."""

    def __init__(
        self,
        config: CommandingConfig,
        mdb: MissionDatabase,
        archive: Archive | None,
        state: GroundState,
        sink: LiveSink,
        metrics: GroundMetrics | None = None,
        *,
        predictor: LinkPredictor | None = None,
        carrier_of: CarrierOf | None = None,
        monitor_flags: MonitorFlagsOf | None = None,
        endpoint: MqttEndpoint | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.mdb = mdb
        self.archive = archive
        self.state = state
        self.sink = sink
        self.metrics = metrics
        self.predictor = predictor or LinkPredictor()
        self.carrier_of = carrier_of
        self.monitor_flags = monitor_flags
        self.endpoint = endpoint or MqttEndpoint(config.broker, config.client_id)
        self._wall = wall
        self.counters = SequenceCounters()
        self._lock = threading.RLock()
        self._commands: dict[str, TrackedCommand] = {}
        self._by_request: dict[tuple[int, int], str] = {}
        self._queue = CommandQueue()
        self._changed: set[str] = set()
        self._send_queue: asyncio.Queue[str] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next_aos: tuple[float, NextAos | None] | None = None
        self.unmatched_reports = 0
        self.started = asyncio.Event()
        # COP-1 (AD mode): one FOP-1 per vehicle; frames go out in order through one queue.
        self.tc_mode: dict[str, str] = dict.fromkeys(mdb.vehicles, config.tc_mode)
        self.fops: dict[str, Fop] = {v: Fop(config.fop) for v in mdb.vehicles}
        self._auto_initiate: set[str] = set(mdb.vehicles) if config.cop1_auto_initiate else set()
        self._ad_hold: dict[str, list[tuple[str, bytes]]] = {v: [] for v in mdb.vehicles}
        self._ad_station: dict[str, str] = {}
        self._clcw_seen: dict[str, float] = {}
        self._frames_out: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(FRAMES_OUT_LIMIT)
        state.add_verification_listener(self.on_verification)

    # ------------------------------------------------------------------------ requests (API)
    async def submit(
        self,
        name: str,
        args: Mapping[str, Any] | None,
        issued_by: str,
        *,
        confirm: bool = False,
        immediate: bool = False,
        station: str | None = None,
        bypass: bool = False,
    ) -> dict[str, Any]:
        """Validate and queue a command (or release it at once); return its view.

        Raises :class:`CommandRequestError`: 422 for a bad name, argument, station or a missing
        confirmation; 409 when ``immediate`` and no station can reach the vehicle now.
        """
        validated = validate_command(self.mdb, name, args)
        check_confirmation(validated, confirm)
        if station is not None and station not in self.predictor.station_ids:
            raise CommandRequestError(
                "station",
                f"unknown ground station {station!r}; valid ids: "
                + ", ".join(self.predictor.station_ids),
            )
        definition = validated.definition
        now, wall = self.state.clock.now(), self._wall()
        cmd = TrackedCommand(
            id=str(uuid.uuid4()),
            name=definition.name,
            vehicle=definition.vehicle,
            args=validated.args,
            issued_by=issued_by,
            critical=validated.critical,
            apid=definition.apid,
            service=definition.service,
            subtype=definition.subtype,
            app_data=validated.app_data,
            execution_time_s=definition.execution_time,
            created_at=now,
            immediate=immediate,
            preferred_station=station,
            bypass=bypass,
            updated_at=now,
        )
        decision = await self._decide(cmd, now, with_next_aos=immediate)
        if immediate and not decision.release:
            raise CommandRequestError(
                "release", f"cannot release {cmd.name} now: {decision.reason}", status=409
            )
        queued_detail = (
            f"by {issued_by}, release immediate" if immediate else f"by {issued_by}, queued"
        )
        with self._lock:
            self._add(cmd, StageEntry(Stage.QUEUED, now, wall, detail=queued_detail))
            self._commands[cmd.id] = cmd
            if decision.release:
                self._release(cmd, decision, now, wall)
            else:
                self._queue.add(cmd)
        if not decision.release:
            await self._update_waiting(cmd, now)
        log.info("command %s %s by %s: %s", cmd.id, cmd.name, issued_by, cmd.stage.value)
        self._notify()
        with self._lock:
            return cmd.view()

    def cancel(self, command_id: str, by: str) -> dict[str, Any]:
        """Take a queued command off the queue (``KeyError`` if unknown, 409 once released)."""
        with self._lock:
            cmd = self._commands.get(command_id)
            if cmd is None:
                raise KeyError(command_id)
            if cmd.stage is not Stage.QUEUED:
                raise CommandRequestError(
                    "id", f"command {command_id} is {cmd.stage.value}, not queued", status=409
                )
            self._queue.remove(command_id)
            self._add(
                cmd,
                StageEntry(
                    Stage.CANCELLED, self.state.clock.now(), self._wall(), detail=f"by {by}"
                ),
            )
            view = cmd.view()
        self._notify()
        return view

    def live(self, command_id: str) -> dict[str, Any] | None:
        with self._lock:
            cmd = self._commands.get(command_id)
            return None if cmd is None else cmd.view()

    async def get(self, command_id: str) -> dict[str, Any] | None:
        """One command: live if the service holds it, else from the archive."""
        view = self.live(command_id)
        if view is not None or self.archive is None:
            return view
        record = await asyncio.to_thread(self.archive.command, command_id)
        return None if record is None else view_from_record(record)

    async def history(
        self,
        start: float | None = None,
        end: float | None = None,
        state: str | None = None,
        limit: int = 1_000,
        vehicle: str | None = None,
    ) -> list[dict[str, Any]]:
        """Commands created in ``[start, end)`` (mission time), filtered, oldest first."""
        archived: list[dict[str, Any]] = []
        if self.archive is not None:
            # The archive cannot filter by stage: read more and filter here.
            fetch = limit if state is None and vehicle is None else max(limit * 10, 10_000)
            records = await asyncio.to_thread(
                self.archive.commands, start, end, fetch, newest_first=True
            )
            archived = [view_from_record(r) for r in records]
        with self._lock:
            live = [
                c.view()
                for c in self._commands.values()
                if (start is None or c.created_at >= start) and (end is None or c.created_at < end)
            ]
        views = [v for v in merge_views(archived, live) if matches(v, state, vehicle)]
        return views[-limit:] if limit >= 0 else views

    def history_live(self) -> list[dict[str, Any]]:
        """The views of every command the service holds in memory, oldest first."""
        with self._lock:
            cmds = sorted(self._commands.values(), key=lambda c: (c.created_at, c.id))
            return [c.view() for c in cmds]

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [c.view() for c in self._queue.pending()]

    def link_status(self) -> list[dict[str, Any]]:
        """Command-link status per vehicle (CLCW vs the next frame sequence number)."""
        vehicles = self.mdb.vehicles
        with self._lock:
            nxt = {
                v: self.fops[v].v_s if self.tc_mode[v] == "ad" else self.counters.peek_frame(v)
                for v in vehicles
            }
            cop1 = {v: self._cop1_status(v) for v in vehicles}
            modes = dict(self.tc_mode)
        statuses = command_link_status(vehicles, dict(self.state.clcw), nxt)
        return [
            {**s.as_dict(), "tc_mode": modes[s.vehicle], "cop1": cop1[s.vehicle]} for s in statuses
        ]

    def _cop1_status(self, vehicle: str) -> dict[str, Any]:
        fop = self.fops[vehicle]
        return {
            **fop.status(),
            "auto_initiate_pending": vehicle in self._auto_initiate,
            "held": len(self._ad_hold[vehicle]),
            "station": self._ad_station.get(vehicle),
        }

    # ------------------------------------------------------------------------ COP-1 directives
    async def cop1_directive(
        self,
        vehicle: str,
        directive: str,
        *,
        mode: str | None = None,
        set_vr: int | None = None,
        v_s: int | None = None,
        tc_mode: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        station: str | None = None,
        by: str = "",
    ) -> dict[str, Any]:
        """Run a COP-1 directive for ``vehicle``; return its command-link status.

        ``parameters``: for ``set_parameters``, the FOP parameters to change (the others keep
        their values). Raises :class:`CommandRequestError` (422 for a bad value, 409 when the
        FOP's state or the link refuses it) naming the field and the reason.
        """
        if vehicle not in self.fops:
            raise CommandRequestError(
                "vehicle", f"unknown vehicle {vehicle!r}; valid: {', '.join(self.fops)}"
            )
        now = self.state.clock.now()
        fop = self.fops[vehicle]
        try:
            if directive == "initiate":
                try:
                    how = InitiateMode(mode or InitiateMode.WITHOUT_CLCW_CHECK)
                except ValueError:
                    raise CommandRequestError(
                        "mode",
                        f"unknown mode {mode!r}; valid: {', '.join(m.value for m in InitiateMode)}",
                    ) from None
                if self.tc_mode[vehicle] != "ad":
                    raise CommandRequestError(
                        "directive", f"{vehicle} is in BD mode; set tc_mode to ad first", 409
                    )
                if how is InitiateMode.SET_VR and (set_vr is None or not 0 <= set_vr <= 255):
                    raise CommandRequestError(
                        "set_vr", f"Set V(R) needs a value within 0..255, not {set_vr}"
                    )
                if fop.state is not FopState.INITIAL:
                    raise CommandRequestError(
                        "directive", f"the FOP is {fop.state.value}; terminate AD first", 409
                    )
                target = None
                if how in (InitiateMode.UNLOCK, InitiateMode.SET_VR):
                    target = await self._directive_station(vehicle, now, station)
                with self._lock:
                    self._auto_initiate.discard(vehicle)
                    if target is not None:
                        self._ad_station[vehicle] = target
                    actions = fop.initiate(how, now, set_vr)
                    self._apply_fop(vehicle, actions, now)
            elif directive == "terminate":
                with self._lock:
                    self._auto_initiate.discard(vehicle)
                    self._apply_fop(vehicle, fop.terminate(), now)
            elif directive == "resume":
                with self._lock:
                    self._apply_fop(vehicle, fop.resume(now), now)
            elif directive == "set_v_s":
                if v_s is None:
                    raise CommandRequestError("v_s", "set_v_s needs a value within 0..255")
                with self._lock:
                    fop.set_v_s(v_s)
            elif directive == "set_parameters":
                changes = dict(parameters or {})
                if "timeout_type" in changes:
                    changes["timeout_type"] = TimeoutType(changes["timeout_type"])
                with self._lock:
                    fop.set_parameters(replace(fop.parameters, **changes))
            elif directive == "set_tc_mode":
                if tc_mode not in ("ad", "bd"):
                    raise CommandRequestError("tc_mode", f"must be ad or bd, not {tc_mode!r}")
                with self._lock:
                    if tc_mode == "bd" and (fop.sent or fop.waiting or self._ad_hold[vehicle]):
                        raise CommandRequestError(
                            "tc_mode",
                            f"{vehicle} has AD frames outstanding; terminate AD first",
                            409,
                        )
                    self.tc_mode[vehicle] = tc_mode
            else:
                raise CommandRequestError("directive", f"unknown directive {directive!r}")
        except FopError as exc:
            raise CommandRequestError(exc.field, exc.reason, 409 if exc.conflict else 422) from exc
        log.info("COP-1 %s for %s by %s (%s)", directive, vehicle, by, fop.state.value)
        self._notify()
        return next(s for s in self.link_status() if s["vehicle"] == vehicle)

    async def _directive_station(self, vehicle: str, now: float, station: str | None) -> str:
        contacts = await asyncio.to_thread(self._contacts, now)
        decision = decide_release(
            vehicle, contacts, now, preferred=station, carrier=self._carrier(vehicle)
        )
        if not decision.release or decision.station is None:
            raise CommandRequestError(
                "station", f"no station can reach {vehicle} now: {decision.reason}", 409
            )
        return decision.station

    # ------------------------------------------------------------------------ verification
    def on_verification(self, report: VerificationReport) -> None:
        """Listener for PUS 1,x reports (thread-safe; returns at once)."""
        if report.failure_code is not None and report.failure_name is None:
            known = self.mdb.failure_codes.get(report.failure_code)
            if known is not None:
                report = replace(report, failure_name=known.name)
        now, wall = self.state.clock.now(), self._wall()
        with self._lock:
            command_id = self._by_request.get((report.apid, report.seq_count))
            cmd = self._commands.get(command_id) if command_id is not None else None
            if cmd is None:
                self.unmatched_reports += 1
                log.debug(
                    "1,%d report for an unknown request (apid %d, seq %d)",
                    report.subtype,
                    report.apid,
                    report.seq_count,
                )
                return
            before = len(cmd.stages)
            added = apply_report(cmd, report, now, wall)
            for entry in added:
                self._count(entry)
            if len(cmd.stages) != before:
                self._changed.add(cmd.id)
        if added:
            self._notify()

    # ------------------------------------------------------------------------ running
    async def run(self) -> None:
        """Serve until cancelled: the uplink connection, the sender and the release loop."""
        self._loop = asyncio.get_running_loop()
        if self.config.restore and self.archive is not None:
            try:
                await self._restore()
            except Exception:
                log.exception("could not reload commands from the archive")
        self.started.set()
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.endpoint.run(), name="commanding-mqtt")
            tg.create_task(self._sender(), name="commanding-sender")
            tg.create_task(self._frame_publisher(), name="commanding-frames")
            tg.create_task(self._ticker(), name="commanding-ticker")

    async def _ticker(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.tick_s):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.step()
            except Exception:
                log.exception("commanding step failed")

    async def step(self) -> None:
        """One pass: release what can go, check time-outs, write and stream the changes."""
        now, wall, speed = self.state.clock.now(), self._wall(), self.state.clock.speed
        self._cop1_step(now, speed)
        await self._release_ready(now, wall)
        with self._lock:
            for cmd in list(self._commands.values()):
                entry = check_timeout(cmd, self.config.timeouts, now, wall, speed)
                if entry is not None:
                    self._count(entry)
                    self._changed.add(cmd.id)
        await self._flush()

    async def _release_ready(self, now: float, wall: float) -> None:
        with self._lock:
            waiting = self._queue.pending()
        if not waiting:
            return
        contacts = await asyncio.to_thread(self._contacts, now)
        for cmd in waiting:
            decision = decide_release(
                cmd.vehicle,
                contacts,
                now,
                preferred=cmd.preferred_station,
                carrier=self._carrier(cmd.vehicle),
            )
            if decision.release:
                with self._lock:
                    if cmd.id in self._queue:
                        self._release(cmd, decision, now, wall)
            else:
                await self._update_waiting(cmd, now, contacts)

    async def _update_waiting(
        self, cmd: TrackedCommand, now: float, contacts: list[Contact] | None = None
    ) -> None:
        if contacts is None:
            contacts = await asyncio.to_thread(self._contacts, now)
        nxt = await self._next_aos_at(now)
        decision = decide_release(
            cmd.vehicle,
            contacts,
            now,
            preferred=cmd.preferred_station,
            carrier=self._carrier(cmd.vehicle),
            next_aos=nxt,
        )
        if decision.release:
            return
        with self._lock:
            if cmd.stage is not Stage.QUEUED:
                return
            new = (decision.reason, nxt.time if nxt else None, nxt.station if nxt else None)
            if new != (cmd.waiting_reason, cmd.next_aos, cmd.next_aos_station):
                cmd.waiting_reason, cmd.next_aos, cmd.next_aos_station = new
                self._changed.add(cmd.id)

    async def _sender(self) -> None:
        while True:
            command_id = await self._send_queue.get()
            with self._lock:
                cmd = self._commands.get(command_id)
            if cmd is None or cmd.stage is not Stage.RELEASED:
                continue
            try:
                await self._send(cmd)
            except Exception:
                log.exception("sending command %s failed", command_id)

    async def _send(self, cmd: TrackedCommand) -> None:
        if self.tc_mode[cmd.vehicle] == "ad" and not cmd.bypass:
            self._send_ad(cmd)  # its frames go out through the frame publisher, in order
            return
        station = cmd.station or ""
        spacecraft = self.mdb.spacecraft[cmd.vehicle]
        with self._lock:
            frame_seq = self.counters.next_frame(cmd.vehicle)
            try:
                encoded = encode_tc(
                    scid=spacecraft.scid,
                    apid=cmd.apid,
                    service=cmd.service,
                    subtype=cmd.subtype,
                    app_data=cmd.app_data,
                    seq_count=cmd.seq_count or 0,
                    frame_seq=frame_seq,
                    source_id=self.config.source_id,
                    max_frame_length=spacecraft.tc_max_frame_length,
                )
            except ProtocolError as exc:
                self._add(
                    cmd,
                    StageEntry(
                        Stage.FAILED,
                        self.state.clock.now(),
                        self._wall(),
                        detail=f"the ground could not encode the command: {exc}",
                    ),
                )
                self._notify()
                return
            topic = topics.uplink(station, cmd.vehicle)
            cmd.frame_seq = frame_seq
            cmd.publishing = StageEntry(
                Stage.SENT,
                self.state.clock.now(),
                self._wall(),
                detail=f"TC frame Type-BD N(S)={frame_seq}, {len(encoded.frame)} octets, "
                f"on {topic}",
                station=station,
            )
        await self.endpoint.publish(topic, encoded.frame, qos=topics.UPLINK_QOS)
        with self._lock:
            if cmd.publishing is not None:
                self._add(cmd, cmd.publishing)
                cmd.publishing = None
        self._notify()

    # ------------------------------------------------------------------------ COP-1 (AD mode)
    def _send_ad(self, cmd: TrackedCommand) -> None:
        """Hand a released command to its vehicle's FOP-1 (or hold it until AD is initiated)."""
        spacecraft = self.mdb.spacecraft[cmd.vehicle]
        now = self.state.clock.now()
        with self._lock:
            try:
                encoded = encode_tc(
                    scid=spacecraft.scid,
                    apid=cmd.apid,
                    service=cmd.service,
                    subtype=cmd.subtype,
                    app_data=cmd.app_data,
                    seq_count=cmd.seq_count or 0,
                    frame_seq=0,
                    source_id=self.config.source_id,
                    max_frame_length=spacecraft.tc_max_frame_length,
                    bypass=False,
                )
            except ProtocolError as exc:
                self._fail(cmd, f"the ground could not encode the command: {exc}")
                return
            if cmd.station:
                self._ad_station[cmd.vehicle] = cmd.station
            fop = self.fops[cmd.vehicle]
            if not fop.accepting:
                if cmd.vehicle in self._auto_initiate or fop.suspend_state is not None:
                    self._ad_hold[cmd.vehicle].append((cmd.id, encoded.packet))
                    return
                why = f"; last alert: {fop.last_alert}" if fop.last_alert else ""
                self._fail(
                    cmd,
                    f"COP-1 AD service is not active for {cmd.vehicle}{why} "
                    "(initiate AD, or set the TC mode to bd)",
                )
                return
            try:
                actions = fop.request(cmd.id, encoded.packet, now)
            except FopError as exc:
                self._fail(cmd, f"COP-1 refused the command: {exc.reason}")
                return
            self._apply_fop(cmd.vehicle, actions, now)

    def _fail(self, cmd: TrackedCommand, detail: str) -> None:
        entry = StageEntry(Stage.FAILED, self.state.clock.now(), self._wall(), detail=detail)
        self._add(cmd, entry)
        self._notify()

    def _cop1_step(self, now: float, speed: float) -> None:
        """Feed new CLCWs and the timer to each FOP in AD mode; auto-initiate where due."""
        margin = self.config.fop_t1_wall_margin_s * max(speed, 0.0)
        with self._lock:
            for vehicle, fop in self.fops.items():
                if self.tc_mode[vehicle] != "ad":
                    continue
                fop.timer_margin_s = margin
                clcw = self.state.clcw.get(vehicle)
                if clcw is not None and self._clcw_seen.get(vehicle) != clcw.reception_time:
                    self._clcw_seen[vehicle] = clcw.reception_time
                    if vehicle in self._auto_initiate and fop.state is FopState.INITIAL:
                        if not clcw.lockout:
                            self._auto_initiate.discard(vehicle)
                            fop.set_v_s(clcw.report_value)
                            log.info(
                                "COP-1 for %s: AD initiated from the first CLCW (V(S)=%d)",
                                vehicle,
                                clcw.report_value,
                            )
                            self._apply_fop(
                                vehicle, fop.initiate(InitiateMode.WITHOUT_CLCW_CHECK, now), now
                            )
                    else:
                        self._apply_fop(vehicle, fop.on_clcw(clcw, now), now)
                self._apply_fop(vehicle, fop.on_timer(now), now)

    def _apply_fop(self, vehicle: str, actions: list[Action], now: float) -> None:
        """Carry out what the FOP asks (under the lock): frames, acknowledgements, alerts."""
        if not actions:
            return
        spacecraft = self.mdb.spacecraft[vehicle]
        wall = self._wall()
        for action in actions:
            if isinstance(action, Transmit):
                if action.retransmission:
                    # Through whichever station carries the vehicle now (the first may have set).
                    self._ad_station[vehicle] = (
                        self._carrier(vehicle) or self._ad_station.get(vehicle) or ""
                    )
                station = self._ad_station.get(vehicle, "")
                topic = topics.uplink(station, vehicle)
                if action.kind == "bc":
                    frame = bc_frame(spacecraft.scid, action.data, action.seq)
                    log.info("COP-1 BC frame to %s via %s: %s", vehicle, station, action.data.hex())
                else:
                    frame = ad_frame(spacecraft.scid, action.data, action.seq)
                    cmd = self._commands.get(action.ref or "")
                    if cmd is not None and not action.retransmission:
                        cmd.frame_seq = action.seq
                        self._add(
                            cmd,
                            StageEntry(
                                Stage.SENT,
                                now,
                                wall,
                                detail=f"TC frame Type-AD N(S)={action.seq}, {len(frame)} octets, "
                                f"on {topic}",
                                station=station,
                            ),
                        )
                    elif action.retransmission:
                        log.info("COP-1 retransmits N(S)=%d to %s", action.seq, vehicle)
                if self.metrics is not None:
                    kind = "ad_retransmission" if action.retransmission else action.kind
                    self.metrics.cop1_frames.labels(vehicle=vehicle, kind=kind).inc()
                try:
                    self._frames_out.put_nowait((topic, frame))
                except asyncio.QueueFull:
                    log.warning(
                        "uplink queue full: TC frame to %s dropped (COP-1 resends)", vehicle
                    )
            elif isinstance(action, Acknowledged):
                log.debug("COP-1 %s: %d frame(s) acknowledged", vehicle, len(action.refs))
            elif isinstance(action, Alert):
                log.warning("COP-1 alert for %s: %s", vehicle, action.reason)
                if self.metrics is not None:
                    self.metrics.cop1_alerts.labels(vehicle=vehicle).inc()
                self._cop1_alert(action, now, wall)
            elif isinstance(action, Initialised):
                held, self._ad_hold[vehicle] = self._ad_hold[vehicle], []
                for ref, packet in held:
                    try:
                        more = self.fops[vehicle].request(ref, packet, now)
                    except FopError as exc:
                        cmd = self._commands.get(ref)
                        if cmd is not None:
                            self._fail(cmd, f"COP-1 refused the command: {exc.reason}")
                        continue
                    self._apply_fop(vehicle, more, now)

    def _cop1_alert(self, alert: Alert, now: float, wall: float) -> None:
        for ref in alert.waiting:
            cmd = self._commands.get(ref)
            if cmd is not None and not cmd.final:
                self._add(
                    cmd,
                    StageEntry(
                        Stage.FAILED,
                        now,
                        wall,
                        detail=f"COP-1 alert before sending: {alert.reason}",
                    ),
                )
        for ref in alert.sent:
            cmd = self._commands.get(ref)
            if cmd is not None and cmd.stage in (Stage.SENT, Stage.TIMEOUT):
                # Not final: the frame may have arrived and its reports may still come down.
                self._add(
                    cmd,
                    StageEntry(
                        Stage.TIMEOUT,
                        now,
                        wall,
                        detail=f"COP-1 alert: {alert.reason}; no CLCW acknowledged the frame",
                    ),
                )

    async def _frame_publisher(self) -> None:
        while True:
            topic, frame = await self._frames_out.get()
            try:
                await self.endpoint.publish(topic, frame, qos=topics.UPLINK_QOS)
            except Exception:
                log.exception("publishing a TC frame on %s failed", topic)

    async def _flush(self) -> None:
        with self._lock:
            if not self._changed:
                return
            cmds = sorted(
                (self._commands[i] for i in self._changed if i in self._commands),
                key=lambda c: (c.created_at, c.id),
            )
            self._changed.clear()
            records: list[CommandRecord] = [c.record() for c in cmds]
            views = [c.view() for c in cmds]
            self._prune()
        if self.archive is not None and records:
            try:
                await asyncio.to_thread(self.archive.write, ArchiveBatch(commands=records))
            except Exception:
                log.exception("could not archive %d command(s); retrying", len(records))
                with self._lock:
                    self._changed.update(r.command_id for r in records)
        if views:
            self.sink.on_commands(views)

    # ------------------------------------------------------------------------ helpers
    def _notify(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    def _add(self, cmd: TrackedCommand, entry: StageEntry) -> None:
        cmd.add(entry)
        self._changed.add(cmd.id)
        self._count(entry)

    def _count(self, entry: StageEntry) -> None:
        if self.metrics is not None and (
            entry.stage in FINAL_STAGES or entry.stage is Stage.TIMEOUT
        ):
            self.metrics.commands.labels(stage=entry.stage.value).inc()

    def _release(
        self, cmd: TrackedCommand, decision: ReleaseDecision, now: float, wall: float
    ) -> None:
        """Assign the sequence count, record ``released`` and hand it to the sender."""
        self._queue.remove(cmd.id)
        seq = self.counters.next_packet(cmd.apid)
        old = self._by_request.get((cmd.apid, seq))
        if old is not None and old != cmd.id:
            self._by_request.pop((cmd.apid, seq))
        cmd.seq_count = seq
        cmd.station = decision.station
        cmd.light_time_s = decision.light_time_s
        self._by_request[(cmd.apid, seq)] = cmd.id
        self._add(
            cmd,
            StageEntry(Stage.RELEASED, now, wall, detail=decision.reason, station=decision.station),
        )
        self._send_queue.put_nowait(cmd.id)

    def _contacts(self, now: float) -> list[Contact]:
        speed = self.state.clock.speed
        if self.monitor_flags is not None:
            flags = self.monitor_flags(now, speed)
        else:
            links = {view.station: view for view in self.state.links.all()}
            flags = flags_from_links(links, now, DEFAULT_MONITOR_WINDOW_S + 10.0 * speed)
        return self.predictor.contacts(now, flags)

    def _carrier(self, vehicle: str) -> str | None:
        if self.carrier_of is None:
            return None
        try:
            return self.carrier_of(vehicle)
        except Exception:
            log.exception("carrier lookup failed")
            return None

    async def _next_aos_at(self, now: float) -> NextAos | None:
        cached = self._next_aos
        if cached is not None:
            computed_at, nxt = cached
            if computed_at <= now and (
                (nxt is not None and nxt.time > now)
                or (nxt is None and now - computed_at < NEXT_AOS_REFRESH_S)
            ):
                return nxt
        nxt = await asyncio.to_thread(self.predictor.next_aos, now)
        self._next_aos = (now, nxt)
        return nxt

    async def _decide(
        self, cmd: TrackedCommand, now: float, *, with_next_aos: bool
    ) -> ReleaseDecision:
        contacts = await asyncio.to_thread(self._contacts, now)
        nxt = await self._next_aos_at(now) if with_next_aos else None
        return decide_release(
            cmd.vehicle,
            contacts,
            now,
            preferred=cmd.preferred_station,
            carrier=self._carrier(cmd.vehicle),
            next_aos=nxt,
        )

    def _prune(self) -> None:
        finished = [c for c in self._commands.values() if c.final and c.id not in self._changed]
        excess = len(finished) - self.config.memory
        if excess <= 0:
            return
        finished.sort(key=lambda c: c.updated_at)
        for cmd in finished[:excess]:
            del self._commands[cmd.id]
            if (
                cmd.seq_count is not None
                and self._by_request.get((cmd.apid, cmd.seq_count)) == cmd.id
            ):
                del self._by_request[(cmd.apid, cmd.seq_count)]

    async def _restore(self) -> None:
        """Reload unfinished commands and continue the sequence counters after a restart."""
        assert self.archive is not None
        records = await asyncio.to_thread(
            self.archive.commands, None, None, RESTORE_LIMIT, newest_first=True
        )
        records.reverse()
        used = []
        for record in records:
            view = view_from_record(record)
            used.append((view["apid"] or 0, view["seq_count"], record.vehicle, view["frame_seq"]))
            if view["final"]:
                continue
            cmd = self._rebuild(record, view)
            if cmd is None:
                continue
            with self._lock:
                self._commands[cmd.id] = cmd
                if cmd.seq_count is not None:
                    self._by_request[(cmd.apid, cmd.seq_count)] = cmd.id
                if cmd.stage is Stage.QUEUED:
                    self._queue.add(cmd)
                elif cmd.stage is Stage.RELEASED:
                    self._send_queue.put_nowait(cmd.id)
        self.counters.resume([u for u in used if u[0]])
        if used:
            log.info("commanding resumed after %d archived command(s)", len(used))

    def _rebuild(self, record: CommandRecord, view: dict[str, Any]) -> TrackedCommand | None:
        try:
            validated = validate_command(self.mdb, record.name, view["args"])
        except CommandRequestError as exc:
            log.warning("archived command %s no longer valid: %s", record.command_id, exc)
            return None
        d = validated.definition
        cmd = TrackedCommand(
            id=record.command_id,
            name=d.name,
            vehicle=d.vehicle,
            args=validated.args,
            issued_by=record.issued_by,
            critical=validated.critical,
            apid=d.apid,
            service=d.service,
            subtype=d.subtype,
            app_data=validated.app_data,
            execution_time_s=d.execution_time,
            created_at=record.created_at,
            seq_count=view["seq_count"],
            frame_seq=view["frame_seq"],
            station=record.station,
            light_time_s=view["light_time_s"],
            bypass=bool(view.get("bypass", False)),
            updated_at=record.updated_at,
        )
        cmd.stages = [StageEntry.from_dict(s) for s in view["stages"]]
        return cmd

"""One vehicle's on-board software: the hub of housekeeping, events, commands, modes and storage.

Each step it polls running commands, lets the vehicle's FDIR act, turns the physics' events into
PUS 5 reports, generates the housekeeping and science packets that are due, and routes packets:
framed in real time (VC 0 housekeeping/events/reports, VC 1 science) while a link to Earth exists,
written to the packet store otherwise, and played back on VC 2 once the link returns. Partly
filled frames are completed with idle fill at most every ``flush_interval_s``; no idle frames are
sent when there is nothing to send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from mission.ccsds import EncodeError, TmFrameWriter
from mission.mdb import MissionDatabase, VerificationReport
from mission.mdb.calibration import EngValue
from mission.mdb.models import CommandDef
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.obsw.commanding import Commanding, Start
from spacecraft_mock.obsw.farm import Farm, FrameVerdict
from spacecraft_mock.obsw.hk import HkScheduler
from spacecraft_mock.obsw.storage import PacketStore
from spacecraft_mock.obsw.tm import TmSource
from spacecraft_mock.vehicles.events import EventSink

log = logging.getLogger("lupex.spacecraft.obsw")

VC_REALTIME: Final = 0
VC_SCIENCE: Final = 1
VC_PLAYBACK: Final = 2
BOOT_SILENCE_S: Final = 60.0
BOOT_MODE_S: Final = 30.0
NOMINAL_DRIFT_RATE: Final = 5e-9
"""On-board oscillator drift in seconds per second (5 ppb, about 13 ms a month)."""
DRIFT_EVENT_MS: Final = 500.0

Handler = Callable[[CommandDef, dict[str, EngValue]], Start]


class VehicleModel(Protocol):
    """What the on-board software needs from a vehicle's physics and its command handlers."""

    name: str
    events: EventSink

    def telemetry(self, obsw: OnboardSoftware, packet: str) -> dict[str, object]: ...
    def science_enabled(self, packet: str) -> bool: ...
    def handlers(self, obsw: OnboardSoftware) -> Mapping[str, Handler]: ...
    def fdir(self, obsw: OnboardSoftware) -> None: ...
    def on_mode(self, obsw: OnboardSoftware, mode: str) -> None: ...
    def on_reboot(self, obsw: OnboardSoftware) -> None: ...


@dataclass(slots=True)
class OutFrame:
    time: float
    """Mission time at which the frame was completed on board."""
    frame: bytes


class OnboardSoftware:
    def __init__(
        self, db: MissionDatabase, model: VehicleModel, config: WorldConfig, t0: float
    ) -> None:
        self.db = db
        self.model = model
        self.vehicle = model.name
        self.config = config
        sc = db.spacecraft[self.vehicle]
        self.scid = sc.scid
        self.tm = TmSource(db, self.vehicle)
        self.hk = HkScheduler(db, self.vehicle, config, t0)
        self.farm = Farm(sc.scid, sc.tc_max_frame_length)
        self.frame_length = sc.tm_frame_length
        self.writer = TmFrameWriter(sc.scid, sc.tm_frame_length, clcw_source=self.farm.clcw)
        self.store = PacketStore(config.storage_capacity_bytes, self.writer.data_length)
        self.commanding = Commanding(
            db, self.vehicle, {}, report=self._report, event=self.raise_event
        )
        self.now = t0
        self.mode = "NOMINAL"
        self.boot_count = 3
        self.boot_time = t0 - 86400.0 * 12
        self.rebooting_until = 0.0
        self.boot_mode_until = 0.0
        self.clock_offset = 0.0
        self.drift_rate = NOMINAL_DRIFT_RATE
        self.drift_reported = False
        self.time_synchronised = True
        self.fdir_enabled = True
        self.tripped: dict[str, bool] = {}
        self.last_event_id = 0
        self.link_up = False
        self.downlink_rate_bps = 2_000_000.0
        self.uplink_locked = False
        self.store_science = False
        self.hk_storage_enabled = True
        self.safe_since = 0.0
        self.frames_out: list[OutFrame] = []
        self._last_flush = t0
        self._last_stored: dict[str, float] = {}
        self._playback_credit = 0.0
        self._last_play_t = t0
        self._reboot_reason = "WATCHDOG"
        self.encode_errors = 0
        self.packet_tap: Callable[[str, str, float, bytes], None] | None = None
        """Called with (vehicle, packet name, generation time, packet) for every HK packet."""
        self.commanding.handlers = model.handlers(self)

    # ------------------------------------------------------------------ time
    @property
    def onboard_time(self) -> float:
        return self.now + self.clock_offset

    @property
    def uptime(self) -> float:
        return max(0.0, self.now - self.boot_time)

    @property
    def alive(self) -> bool:
        """False while the processor reboots (no telemetry, no telecommands)."""
        return self.now >= self.rebooting_until

    def time_sync(self, utc_time: float) -> float:
        """Set on-board time; returns the correction in ms."""
        correction = (utc_time - self.onboard_time) * 1000.0
        self.clock_offset = utc_time - self.now
        self.time_synchronised = True
        self.drift_reported = False
        return correction

    # ------------------------------------------------------------------ modes
    def set_mode(self, mode: str, cause: str = "COMMANDED") -> None:
        if mode == self.mode:
            return
        previous, self.mode = self.mode, mode
        self.raise_event(f"{self.vehicle}.obsw.mode_changed", {"previous": previous, "mode": mode})
        if mode == "SAFE":
            self.safe_since = self.now
            self.raise_event(f"{self.vehicle}.obsw.safe_mode_entered", {"cause": cause})
            self.commanding.abort_all()
        self.model.on_mode(self, mode)

    def trip(self, unit: str, action: str) -> None:
        """Record an FDIR action on ``unit`` (sets the tripped flag, reports fdir_action)."""
        self.tripped[unit] = True
        self.raise_event(f"{self.vehicle}.obsw.fdir_action", {"action": action, "unit": unit})

    def reboot(self, reason: str) -> None:
        """Restart: silence, then BOOT mode, then SAFE; counters, FARM and framing restart."""
        self.commanding.abort_all()
        if self.link_up and self.config.telemetry:
            # What is already framed (the reboot command's 1,7 among it) still goes out.
            for vcid in (VC_REALTIME, VC_SCIENCE, VC_PLAYBACK):
                self.frames_out.extend(OutFrame(self.now, f) for f in self.writer.flush(vcid))
        self.rebooting_until = self.now + BOOT_SILENCE_S
        self.boot_mode_until = self.rebooting_until + BOOT_MODE_S
        self.boot_time = self.rebooting_until
        self.boot_count += 1
        self.mode = "BOOT"
        self.time_synchronised = False
        self.tripped.clear()
        self.commanding.counters = type(self.commanding.counters)()
        self.farm.reset()
        self.tm.reset()
        self.writer = TmFrameWriter(self.scid, self.frame_length, clcw_source=self.farm.clcw)
        self._reboot_reason = reason
        self.model.on_reboot(self)

    # ------------------------------------------------------------------ reports
    def raise_event(self, name: str, args: Mapping[str, object]) -> None:
        if not self.alive:
            return
        event = self.db.events_by_name[name]
        self.last_event_id = event.id
        try:
            packet = self.tm.event(name, args, self.onboard_time)
        except EncodeError as exc:
            self.encode_errors += 1
            log.warning("event %s not encodable: %s", name, exc)
            return
        self._route(packet, VC_REALTIME, "EVENTS", None)

    def _report(self, report: VerificationReport) -> None:
        self._route(self.tm.verification(report, self.onboard_time), VC_REALTIME, "EVENTS", None)

    def send_are_you_alive(self) -> None:
        self._route(self.tm.are_you_alive(self.onboard_time), VC_REALTIME, "EVENTS", None)

    # ------------------------------------------------------------------ uplink
    def receive_tc_frame(self, raw: bytes) -> FrameVerdict | None:
        """A TC frame arrives on board; None when the processor is rebooting (frame lost)."""
        if not self.alive:
            return None
        result = self.farm.receive(raw)
        if result.verdict is FrameVerdict.ACCEPTED and result.frame is not None:
            self.commanding.receive(result.frame.data, self.now)
        return result.verdict

    # ------------------------------------------------------------------ step
    def step(self, t_prev: float, t: float) -> None:
        self.now = t
        self.clock_offset += self.drift_rate * (t - t_prev)
        if not self.alive:
            return
        # CLCW flags: no RF / no bit lock without an uplink carrier; FARM-1 waits while booting.
        self.farm.no_rf = not self.uplink_locked
        self.farm.wait = self.mode == "BOOT"
        if self.mode == "BOOT" and t >= self.boot_mode_until:
            self.raise_event(
                f"{self.vehicle}.obsw.rebooted",
                {"reason": self._reboot_reason, "boot_count": self.boot_count},
            )
            self.set_mode("SAFE", "WATCHDOG")
        drift_ms = abs(self.clock_offset) * 1000.0
        if drift_ms > DRIFT_EVENT_MS and not self.drift_reported:
            self.drift_reported = True
            self.raise_event(
                f"{self.vehicle}.obsw.clock_drift",
                {"drift": self.clock_offset * 1000.0, "threshold": DRIFT_EVENT_MS},
            )
        self.commanding.poll(t)
        if self.fdir_enabled:
            self.model.fdir(self)
        for occurrence in self.model.events.drain():
            self.raise_event(occurrence.name, occurrence.args)
        for gen_time, packet in self.hk.due(t_prev, t):
            if self.hk.is_science(packet) and not self.model.science_enabled(packet):
                continue
            self._hk(packet, gen_time)
        self._flush_and_play(t)

    def _hk(self, packet: str, gen_time: float) -> None:
        values = self.model.telemetry(self, packet)
        try:
            raw = self.tm.hk(packet, values, gen_time + self.clock_offset)
        except EncodeError as exc:
            self.encode_errors += 1
            log.warning("packet %s not encodable: %s", packet, exc)
            return
        if self.packet_tap is not None:
            self.packet_tap(self.vehicle, packet, gen_time, raw)
        science = self.hk.is_science(packet)
        self._route(raw, self.hk.vcid(packet), "SCIENCE" if science else "HK", packet)

    def _route(self, packet: bytes, vcid: int, store: str, hk_name: str | None) -> None:
        if not self.config.telemetry:
            return
        realtime = self.link_up and not (store == "SCIENCE" and self.store_science)
        if realtime:
            for frame in self.writer.add_packet(vcid, packet):
                self.frames_out.append(OutFrame(self.now, frame))
            return
        if not self.hk_storage_enabled:
            return
        if hk_name is not None and store == "HK":
            last = self._last_stored.get(hk_name, -1e18)
            if self.now - last < self.config.los_hk_interval_s:
                return
            self._last_stored[hk_name] = self.now
        if self.store.add(self.now, store, packet):
            fill = self.store.fill_pct
            self.raise_event(f"{self.vehicle}.comms.storage_full", {"fill": fill})

    def _flush_and_play(self, t: float) -> None:
        if not self.config.telemetry or not self.link_up:
            self._playback_credit = 0.0
            return
        if self.store.playing:
            # At most half the path's capacity (the LGA's 16 kbit/s leaves about 1 frame/s).
            rate = min(self.config.playback_frames_per_s, 0.5 * self.downlink_rate_bps / 8920.0)
            self._playback_credit += rate * (t - self._last_play_t)
            budget = int(self._playback_credit) * self.writer.data_length
            if budget > 0:
                self._playback_credit -= int(self._playback_credit)
                for packet in self.store.take(budget):
                    for frame in self.writer.add_packet(VC_PLAYBACK, packet):
                        self.frames_out.append(OutFrame(t, frame))
                if not self.store.playing:
                    self.raise_event(
                        f"{self.vehicle}.comms.playback_complete",
                        {"store": self.store.play_store, "frames": self.store.frames_played_back},
                    )
        self._last_play_t = t
        if t - self._last_flush >= self.config.flush_interval_s - 1e-9:
            self._last_flush = t
            for vcid in (VC_REALTIME, VC_SCIENCE, VC_PLAYBACK):
                for frame in self.writer.flush(vcid):
                    self.frames_out.append(OutFrame(t, frame))

    def start_playback(self, store: str = "ALL", start: float = 0.0, end: float = 0.0) -> int:
        frames = self.store.start_playback(store, start, end)
        if frames:
            self._last_play_t = self.now
            self.raise_event(
                f"{self.vehicle}.comms.playback_started", {"store": store, "frames": frames}
            )
        return frames

    def set_link(self, up: bool) -> None:
        """The link to Earth came or went; at acquisition, play back what was stored."""
        if up and not self.link_up and self.alive and len(self.store) and not self.store.playing:
            self.link_up = True
            self.start_playback()
        self.link_up = up

    def take_frames(self) -> list[OutFrame]:
        frames, self.frames_out = self.frames_out, []
        return frames

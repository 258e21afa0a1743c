"""Command handlers every vehicle's on-board software has: modes, time, FDIR, reboot, PUS 17,
PUS 3,31 and the packet store (PUS 15).

Subclasses add their vehicle's commands as ``cmd_<subsystem>__<name>`` methods; ``handlers()``
maps them to MDB names ``<vehicle>.<subsystem>.<name>``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from mission.mdb.calibration import EngValue
from mission.mdb.models import CommandDef
from spacecraft_mock.obsw.commanding import Done, Pending, Start
from spacecraft_mock.vehicles.events import EventSink

if TYPE_CHECKING:
    from spacecraft_mock.obsw.onboard import OnboardSoftware

Args = dict[str, EngValue]
Handler = Callable[[CommandDef, Args], Start]
MODE_CODES = {"BOOT": 0, "NOMINAL": 1, "SAFE": 2, "HIBERNATION": 3}


def arg_float(args: Args, name: str) -> float:
    value = args[name]
    assert isinstance(value, int | float)
    return float(value)


def arg_str(args: Args, name: str) -> str:
    return str(args[name])


class Rebootable(Protocol):
    pending_reboot: str | None


class CommonCommands:
    vehicle: str

    def __init__(self, obsw: OnboardSoftware, events: EventSink, model: Rebootable) -> None:
        self.obsw = obsw
        self.events = events
        self._rebootable = model

    def handlers(self) -> dict[str, Handler]:
        out: dict[str, Handler] = {}
        for name in dir(self):
            if name.startswith("cmd_"):
                out[f"{self.vehicle}." + name[4:].replace("__", ".")] = getattr(self, name)
        return out

    def _event(self, name: str, **args: object) -> None:
        self.events.raise_event(f"{self.vehicle}.{name}", **args)

    def _mode(self, *allowed: str) -> Done | None:
        if self.obsw.mode not in allowed:
            return Done("NOT_ALLOWED_IN_MODE", bytes([MODE_CODES.get(self.obsw.mode, 0)]))
        return None

    def _after(self, seconds: float, then: Callable[[], Done] | None = None) -> Pending:
        end = self.obsw.now + seconds

        def check() -> Done | None:
            if self.obsw.now < end:
                return None
            return then() if then is not None else Done()

        return Pending(check)

    # ------------------------------------------------------------------ obsw
    def cmd_obsw__set_mode(self, cmd: CommandDef, args: Args) -> Start:
        self.obsw.set_mode(arg_str(args, "mode"))
        return Done()

    def cmd_obsw__time_sync(self, cmd: CommandDef, args: Args) -> Start:
        correction = self.obsw.time_sync(arg_float(args, "utc_time"))
        self._event("obsw.time_synchronised", correction=correction)
        return Done()

    def cmd_obsw__fdir_enable(self, cmd: CommandDef, args: Args) -> Start:
        self.obsw.fdir_enabled = True
        self.obsw.tripped.clear()
        self._event("obsw.fdir_switched", state="ENABLED")
        return Done()

    def cmd_obsw__fdir_disable(self, cmd: CommandDef, args: Args) -> Start:
        self.obsw.fdir_enabled = False
        self._event("obsw.fdir_switched", state="DISABLED")
        return Done()

    def cmd_obsw__reboot(self, cmd: CommandDef, args: Args) -> Start:
        # 1,7 goes out now; the processor restarts at the next step.
        self._rebootable.pending_reboot = "COMMANDED"
        return Done()

    def cmd_obsw__are_you_alive(self, cmd: CommandDef, args: Args) -> Start:
        self.obsw.send_are_you_alive()
        return Done()

    def cmd_obsw__set_hk_period(self, cmd: CommandDef, args: Args) -> Start:
        sid = int(arg_float(args, "sid"))
        name = self.obsw.hk.by_sid(sid)
        if name is None:
            return Done("UNKNOWN_SID", struct.pack(">H", sid))
        period = arg_float(args, "period")
        self.obsw.hk.set_period(name, period, self.obsw.now)
        self._event("obsw.hk_period_changed", sid=sid, period=period)
        return Done()

    # ------------------------------------------------------------------ storage (PUS 15)
    def cmd_comms__playback_start(self, cmd: CommandDef, args: Args) -> Start:
        if self.obsw.store.playing:
            return Done("RESOURCE_BUSY")
        frames = self.obsw.start_playback(
            arg_str(args, "store"), arg_float(args, "from_time"), arg_float(args, "to_time")
        )
        return Done() if frames else Done("STORE_EMPTY")

    def cmd_comms__playback_stop(self, cmd: CommandDef, args: Args) -> Start:
        store = self.obsw.store
        if store.playing:
            store.stop_playback()
            self._event(
                "comms.playback_complete", store=store.play_store, frames=store.frames_played_back
            )
        return Done()

    def cmd_comms__storage_clear(self, cmd: CommandDef, args: Args) -> Start:
        store = arg_str(args, "store")
        frames = self.obsw.store.clear(store)
        self._event("comms.storage_cleared", store=store, frames=frames)
        return Done() if frames else Done("STORE_EMPTY")

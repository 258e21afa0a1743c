"""Handlers of every lander command of the mission database (beyond the common ones)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mission.mdb.models import CommandDef
from spacecraft_mock.obsw.commanding import Done, Start
from spacecraft_mock.obsw.common_commands import Args, CommonCommands, arg_str
from spacecraft_mock.vehicles.lander import ZONE_NODE

if TYPE_CHECKING:
    from spacecraft_mock.obsw.onboard import OnboardSoftware
    from spacecraft_mock.vehicles.lander_model import LanderModel


class LanderCommands(CommonCommands):
    vehicle = "lander"

    def __init__(self, model: LanderModel, obsw: OnboardSoftware) -> None:
        super().__init__(obsw, model.lander.events, model)
        self.lander = model.lander

    def cmd_comms__relay_on(self, cmd: CommandDef, args: Args) -> Start:
        self.lander.radio.relay_enabled = True
        self._event("comms.relay_switched", state="ON")
        return self._after(20.0)

    def cmd_comms__relay_off(self, cmd: CommandDef, args: Args) -> Start:
        self.lander.radio.relay_enabled = False
        self._event("comms.relay_switched", state="OFF")
        return Done()

    def cmd_comms__set_downlink_rate(self, cmd: CommandDef, args: Args) -> Start:
        self.lander.radio.rate = arg_str(args, "rate")
        return Done()

    def _heater(self, zone: str, on: bool) -> Done:
        heater = self.lander.thermal[ZONE_NODE[zone]].heater
        if heater is not None:
            heater.on = on or heater.stuck_on
        self._event("thermal.heater_switched", zone=zone, state="ON" if on else "OFF")
        return Done()

    def cmd_thermal__heater_on(self, cmd: CommandDef, args: Args) -> Start:
        return self._heater(arg_str(args, "zone"), True)

    def cmd_thermal__heater_off(self, cmd: CommandDef, args: Args) -> Start:
        return self._heater(arg_str(args, "zone"), False)

    def cmd_payload__power_on(self, cmd: CommandDef, args: Args) -> Start:
        if failure := self._mode("NOMINAL"):
            return failure
        name = arg_str(args, "instrument")
        if not self.lander.payload.on[name]:
            self.lander.payload.on[name] = True
            self._event("payload.instrument_on", instrument=name)
        return Done()

    def cmd_payload__power_off(self, cmd: CommandDef, args: Args) -> Start:
        name = arg_str(args, "instrument")
        if self.lander.payload.on[name]:
            self.lander.payload.on[name] = False
            self._event("payload.instrument_off", instrument=name)
        return Done()

    def cmd_seismometer__set_gain(self, cmd: CommandDef, args: Args) -> Start:
        if not self.lander.payload.on["SEISMOMETER"]:
            return Done("PRECONDITION_FAILED")
        self.lander.payload.gain = arg_str(args, "gain")
        return Done()

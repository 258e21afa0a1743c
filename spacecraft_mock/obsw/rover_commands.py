"""Handlers of every rover command of the mission database.

Each handler checks what PUS calls start conditions (mode, resource, power, preconditions) and
returns ``Done`` (finished at once, or a start failure with its code) or ``Pending`` with a check
that reports completion or a completion failure. Ground commands of mobility, drill and payload
put the autonomous activity plan on hold (see :mod:`spacecraft_mock.vehicles.plan`).
"""

from __future__ import annotations

import math
import struct
from typing import TYPE_CHECKING

from mission.mdb.models import CommandDef
from spacecraft_mock.obsw.commanding import Done, Pending, Start
from spacecraft_mock.obsw.common_commands import Args, CommonCommands
from spacecraft_mock.obsw.common_commands import arg_float as _f
from spacecraft_mock.obsw.common_commands import arg_str as _s
from spacecraft_mock.vehicles.drill import DrillStatus
from spacecraft_mock.vehicles.mobility import DriveOutcome, NavMode
from spacecraft_mock.vehicles.rover_thermal import zone_heaters

if TYPE_CHECKING:
    from spacecraft_mock.obsw.onboard import OnboardSoftware
    from spacecraft_mock.vehicles.rover_model import RoverModel

MIN_SOC_ACTIVITY = 25.0


class RoverCommands(CommonCommands):
    vehicle = "rover"

    def __init__(self, model: RoverModel, obsw: OnboardSoftware) -> None:
        super().__init__(obsw, model.rover.events, model)
        self.model = model
        self.rover = model.rover

    # ------------------------------------------------------------------ helpers
    def _power(self) -> Done | None:
        soc = self.rover.soc_pct
        if soc < MIN_SOC_ACTIVITY:
            return Done("INSUFFICIENT_POWER", struct.pack(">H", round(soc * 100)))
        return None

    def _hold_plan(self) -> None:
        self.model.plan.hold(self.obsw.now)

    # ------------------------------------------------------------------ mobility
    def _drive_check(self) -> Done | None:
        m = self.rover.mobility
        if m.busy:
            return None
        if m.outcome is DriveOutcome.COMPLETE:
            return Done()
        code = "HARDWARE_FAILURE" if m.abort_reason == "STALL" else "ABORTED"
        return Done(code)

    def _drive_start_checks(self) -> Done | None:
        rover = self.rover
        if failure := self._mode("NOMINAL"):
            return failure
        if rover.mobility.busy or rover.drill.busy or rover.drill.depth > 0.0:
            return Done("RESOURCE_BUSY")
        return self._power()

    def cmd_mobility__drive_distance(self, cmd: CommandDef, args: Args) -> Start:
        if failure := self._drive_start_checks():
            return failure
        self._hold_plan()
        m = self.rover.mobility
        m.drive_distance(_f(args, "distance"), _f(args, "speed"), self.obsw.now, self.rover.events)
        return Pending(self._drive_check)

    def cmd_mobility__drive_to(self, cmd: CommandDef, args: Args) -> Start:
        if failure := self._drive_start_checks():
            return failure
        self._hold_plan()
        m, nav = self.rover.mobility, self.rover.nav
        # The goal is in the rover's estimated frame: it drives to where it believes it is.
        x = _f(args, "x") + (m.x - nav.est_x)
        y = _f(args, "y") + (m.y - nav.est_y)
        m.drive_to(x, y, _f(args, "speed"), self.obsw.now, self.rover.events)
        return Pending(self._drive_check)

    def cmd_mobility__turn(self, cmd: CommandDef, args: Args) -> Start:
        if failure := self._drive_start_checks():
            return failure
        self._hold_plan()
        self.rover.mobility.turn(_f(args, "angle"), self.obsw.now)
        return Pending(self._drive_check)

    def cmd_mobility__stop(self, cmd: CommandDef, args: Args) -> Start:
        self._hold_plan()
        self.rover.mobility.stop("COMMANDED", self.rover.events)
        return Done()

    def cmd_mobility__set_nav_mode(self, cmd: CommandDef, args: Args) -> Start:
        self.rover.mobility.nav_mode = NavMode(_s(args, "mode"))
        return Done()

    # ------------------------------------------------------------------ navigation
    def cmd_navigation__landmark_match(self, cmd: CommandDef, args: Args) -> Start:
        if failure := self._mode("NOMINAL", "SAFE"):
            return failure
        if self.rover.mobility.busy:
            return Done("RESOURCE_BUSY")

        def match() -> Done:
            r = self.rover
            r.nav.landmark_match(self.obsw.now, r.mobility, r.lit, r.events)
            return Done()

        return self._after(60.0, match)

    def cmd_navigation__set_position(self, cmd: CommandDef, args: Args) -> Start:
        r = self.rover
        x, y, heading = _f(args, "x"), _f(args, "y"), _f(args, "heading")
        r.nav.set_position(x, y, heading, _f(args, "sigma"), r.mobility)
        r.events.raise_event("rover.navigation.position_updated", x=x, y=y, heading=heading)
        return Done()

    # ------------------------------------------------------------------ drill
    def _drill_checks(self) -> Done | None:
        if failure := self._mode("NOMINAL"):
            return failure
        if self.rover.mobility.busy:
            return Done("RESOURCE_BUSY")
        if self.rover.drill.status is DrillStatus.JAMMED:
            return Done("HARDWARE_FAILURE")
        return self._power()

    def cmd_drill__start(self, cmd: CommandDef, args: Args) -> Start:
        if failure := self._drill_checks():
            return failure
        self._hold_plan()
        d = self.rover.drill
        d.start(_f(args, "rotation_speed"), self.rover.events)
        return Pending(lambda: None if d.status is DrillStatus.DEPLOYING else Done())

    def cmd_drill__stop(self, cmd: CommandDef, args: Args) -> Start:
        self._hold_plan()
        self.rover.drill.stop(self.rover.events)
        return Done()

    def cmd_drill__to_depth(self, cmd: CommandDef, args: Args) -> Start:
        if failure := self._drill_checks():
            return failure
        d = self.rover.drill
        depth = _f(args, "depth")
        if depth <= d.depth + 1e-6:
            return Done("PRECONDITION_FAILED")
        self._hold_plan()
        d.to_depth(depth, _f(args, "sample_step"), _f(args, "rotation_speed"), self.rover.events)

        def check() -> Done | None:
            if d.status is DrillStatus.JAMMED:
                return Done("HARDWARE_FAILURE")
            if d.busy:
                return None
            return Done() if d.depth >= d.target_depth - 1e-6 else Done("ABORTED")

        return Pending(check)

    def cmd_drill__retract(self, cmd: CommandDef, args: Args) -> Start:
        d = self.rover.drill
        if d.jam_fault:
            return Done("HARDWARE_FAILURE")
        if d.status is DrillStatus.STOWED:
            return Done()
        self._hold_plan()
        d.retract()
        return Pending(lambda: Done() if d.status is DrillStatus.STOWED else None)

    def cmd_drill__transfer_sample(self, cmd: CommandDef, args: Args) -> Start:
        d = self.rover.drill
        if d.cup is None or d.busy:
            return Done("PRECONDITION_FAILED" if d.cup is None else "RESOURCE_BUSY")
        self._hold_plan()
        d.transfer(_s(args, "destination"))

        def check() -> Done | None:
            if d.status is DrillStatus.TRANSFERRING:
                return None
            if d.delivered is not None:
                self.rover.payload.load_sample(d.delivered)
            return Done()

        return Pending(check)

    # ------------------------------------------------------------------ thermal
    def _heater(self, zone: str, on: bool) -> Done:
        for heater in zone_heaters(self.rover.thermal, zone):
            heater.on = on or heater.stuck_on
        self.rover.events.raise_event(
            "rover.thermal.heater_switched", zone=zone, state="ON" if on else "OFF"
        )
        return Done()

    def cmd_thermal__heater_on(self, cmd: CommandDef, args: Args) -> Start:
        return self._heater(_s(args, "zone"), True)

    def cmd_thermal__heater_off(self, cmd: CommandDef, args: Args) -> Start:
        return self._heater(_s(args, "zone"), False)

    def cmd_thermal__set_thermostat(self, cmd: CommandDef, args: Args) -> Start:
        self.rover.thermal.auto = bool(args["auto"])
        return Done()

    # ------------------------------------------------------------------ comms
    def cmd_comms__hga_point(self, cmd: CommandDef, args: Args) -> Start:
        radio = self.rover.radio
        radio.hga_stowed = False
        radio.hga_fixed = (_f(args, "azimuth"), _f(args, "elevation"))
        return self._after(60.0)

    def cmd_comms__hga_track_earth(self, cmd: CommandDef, args: Args) -> Start:
        radio = self.rover.radio
        radio.hga_stowed, radio.hga_fixed = False, None

        def acquired() -> Done:
            if radio.pointing_error < 0.5:
                self.rover.events.raise_event(
                    "rover.comms.hga_pointing_acquired", error=radio.pointing_error
                )
                return Done()
            return Done(
                "HARDWARE_FAILURE", struct.pack(">HH", 5, round(radio.pointing_error * 100))
            )

        return self._after(60.0, acquired)

    def cmd_comms__hga_stow(self, cmd: CommandDef, args: Args) -> Start:
        self.rover.radio.hga_stowed = True
        return self._after(60.0)

    def cmd_comms__select_antenna(self, cmd: CommandDef, args: Args) -> Start:
        antenna = _s(args, "antenna")
        self.rover.radio.antenna = antenna
        if antenna == "LGA":
            self.rover.radio.rate = "RATE_16K"
        self.rover.events.raise_event("rover.comms.antenna_switched", antenna=antenna)
        return Done()

    def cmd_comms__set_downlink_rate(self, cmd: CommandDef, args: Args) -> Start:
        rate = _s(args, "rate")
        if self.rover.radio.antenna == "LGA" and rate != "RATE_16K":
            return Done("PRECONDITION_FAILED")
        self.rover.radio.rate = rate
        return Done()

    # ------------------------------------------------------------------ payload
    def _instrument_on(self, name: str) -> Done | None:
        if not self.rover.payload.on[name]:
            return Done("PRECONDITION_FAILED")
        return None

    def _measure(self, name: str, seconds: float) -> Start:
        p = self.rover.payload
        p.start_measurement(name, seconds, self.rover.events)
        return Pending(lambda: None if name in p.measuring else Done())

    def cmd_payload__power_on(self, cmd: CommandDef, args: Args) -> Start:
        if failure := self._mode("NOMINAL"):
            return failure
        self.rover.payload.power(_s(args, "instrument"), True, self.rover.events)
        return Done()

    def cmd_payload__power_off(self, cmd: CommandDef, args: Args) -> Start:
        self.rover.payload.power(_s(args, "instrument"), False, self.rover.events)
        return Done()

    def cmd_ns__start_measurement(self, cmd: CommandDef, args: Args) -> Start:
        if failure := self._instrument_on("NS"):
            return failure
        seconds = _f(args, "integration_time")
        self.rover.payload.ns.bin_s = seconds
        return self._measure("NS", seconds)

    def cmd_reiwa__ltga_start(self, cmd: CommandDef, args: Args) -> Start:
        p = self.rover.payload
        if failure := self._instrument_on("LTGA"):
            return failure
        if p.reiwa.sample is None:
            return Done("PRECONDITION_FAILED")
        if p.reiwa.state not in ("OFF", "IDLE"):
            return Done("RESOURCE_BUSY")
        if failure := self._power():
            return failure
        target = _f(args, "target_temperature")
        p.reiwa.oven_target_c = target
        return self._measure("LTGA", (target + 10.0) / (20.0 / 60.0) + 600.0)

    def cmd_reiwa__adore_start(self, cmd: CommandDef, args: Args) -> Start:
        return self._instrument_on("ADORE") or self._measure("ADORE", _f(args, "duration"))

    def cmd_reiwa__triton_scan(self, cmd: CommandDef, args: Args) -> Start:
        span = abs(_f(args, "mz_max") - _f(args, "mz_min")) + 1.0
        return self._instrument_on("TRITON") or self._measure("TRITON", 60.0 + 2.0 * span)

    def cmd_reiwa__isap_measure(self, cmd: CommandDef, args: Args) -> Start:
        return self._instrument_on("ISAP") or self._measure(
            "ISAP", 3.0 * _f(args, "exposure") + 20.0
        )

    def cmd_alis__acquire(self, cmd: CommandDef, args: Args) -> Start:
        if failure := self._instrument_on("ALIS"):
            return failure
        self.rover.payload.alis_exposure_ms = int(_f(args, "exposure_time"))
        return self._measure("ALIS", 20.0)

    def cmd_prathima__deploy_probe(self, cmd: CommandDef, args: Args) -> Start:
        return self._instrument_on("PRATHIMA") or self._measure("PRATHIMA", 600.0)

    def cmd_gpr__start_sounding(self, cmd: CommandDef, args: Args) -> Start:
        if failure := self._instrument_on("GPR"):
            return failure
        self.rover.payload.gpr_stack = int(_f(args, "stack"))
        self.rover.events.raise_event("rover.payload.measurement_started", instrument="GPR")
        return Done()

    def cmd_ems__start_scan(self, cmd: CommandDef, args: Args) -> Start:
        span = abs(_f(args, "mz_max") - _f(args, "mz_min")) + 1.0
        return self._instrument_on("EMS") or self._measure("EMS", 30.0 + math.ceil(span / 2))

    def cmd_mir__acquire(self, cmd: CommandDef, args: Args) -> Start:
        return self._instrument_on("MIR") or self._measure("MIR", 10.0)

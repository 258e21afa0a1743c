"""Exercising one catalogued fault in a stepped world, the way the tests and the docs need it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from mission.faults import Change, FaultDef, RecoveryCommand
from mission.sim_control import ClearFault, InjectFault
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.vehicles.drill import DrillStatus
from spacecraft_mock.world import World
from tests.spacecraft_mock.expectations import Window, check
from tests.spacecraft_mock.probe import GroundProbe, Uplink, run

EPOCH: Final = datetime(2026, 11, 22, 2, 0, tzinfo=UTC).timestamp()
"""Lit season, the Earth up for days and stations in view: every effect can show."""
WARM_UP_S: Final = 300.0
SETTLE_S: Final = 30.0


@dataclass(slots=True)
class FaultRun:
    fault: str
    problems: list[str] = field(default_factory=list)
    injected_at: float = 0.0
    cleared_at: float = 0.0


def _args(command: RecoveryCommand, params: dict[str, Any], now: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in command.args.items():
        if value == "$now":
            out[key] = now
        elif isinstance(value, str) and value.startswith("{") and value.endswith("}"):
            out[key] = params[value[1:-1]]
        else:
            out[key] = value
    return out


def _send(uplink: Uplink, commands: tuple[RecoveryCommand, ...], params: dict[str, Any]) -> None:
    for command in commands:
        name = command.command
        for key, value in params.items():
            name = name.replace("{" + key + "}", str(value))
        # Time synchronisation: the command arrives one light time after it is sent.
        light = uplink.world.link.light_time(uplink.world.link.prime or "dss43")
        uplink.send(name, _args(command, params, uplink.world.t + light))


def _set_up(world: World, probe: GroundProbe, activity: str | None) -> None:
    if activity is None:
        return
    world.rover_model.plan.enabled = True
    world.rover_model.plan.force(activity)
    for _ in range(400):
        run(world, probe, world.t + 5.0)
        if activity == "drive" and world.rover.mobility.speed > 0:
            return
        if activity == "drill" and world.rover.drill.status is DrillStatus.DRILLING:
            return
    msg = f"the rover never started to {activity}"
    raise AssertionError(msg)


def exercise(fault: FaultDef, seed: int = 1, epoch: float = EPOCH) -> FaultRun:
    """Inject ``fault`` with its defaults, check its effects, clear it, check it clears."""
    world = World(seed, epoch, config=WorldConfig(activity_plan=False))
    probe = GroundProbe(world.db)
    uplink = Uplink(world)
    result = FaultRun(fault.id)
    run(world, probe, epoch + WARM_UP_S)
    _set_up(world, probe, fault.setup.activity)
    params: dict[str, Any] = fault.defaults
    station = world.link.prime
    start = world.t
    ack = world.apply_control(InjectFault(fault=fault.id, until_cleared=True))
    if not ack.accepted:
        result.problems.append(f"injection refused: {ack.reason}")
        return result
    instance = next(f for f in world.injector.active.values() if f.fault == fault.id)
    params = dict(instance.params)
    if fault.target.kind.value == "station":
        station = str(params["station"])
    spacecraft = str(params.get("spacecraft", params.get("vehicle", "rover")))
    spacecraft = "rover" if spacecraft == "all" else spacecraft
    result.injected_at = start
    _send(uplink, fault.setup.commands, params)
    effects = [e.resolved(params) for e in fault.effects]
    end = start + max(e.within_s for e in effects) + SETTLE_S
    run(world, probe, end)
    window = Window(start, station, spacecraft)
    for exp in effects:
        problem = check(exp, probe, world, window, end)
        if problem:
            result.problems.append(f"effect: {problem}")
    world.apply_control(ClearFault(fault=fault.id))
    cleared = world.t
    result.cleared_at = cleared
    _send(uplink, fault.recovery_commands, params)
    clears = [e.resolved(params) for e in fault.clears]
    end = cleared + max((e.within_s for e in clears), default=0.0) + SETTLE_S
    run(world, probe, end)
    window = Window(cleared, station, spacecraft)
    for exp in clears:
        if exp.change is Change.STUCK and exp.kind.value == "status":
            continue
        problem = check(exp, probe, world, window, end)
        if problem:
            result.problems.append(f"clears: {problem}")
    return result

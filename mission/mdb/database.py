"""The runtime mission database: validated definitions, indexes and compiled codecs.

Build it with :func:`mission.mdb.load_mdb`; the constructor assumes the loader's checks passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model

from mission.mdb.calibration import RawDomain
from mission.mdb.codec import ArgumentCodec, PacketCodec
from mission.mdb.models import (
    ApidDef,
    ApidRole,
    ArgumentDef,
    CommandDef,
    EngType,
    EventDef,
    FailureCodeDef,
    PacketDef,
    ParameterDef,
    SpacecraftDef,
    StationDef,
)

PacketKey = tuple[int, int, int, int]
"""(apid, service, subtype, sid) of a housekeeping or science packet."""
CommandKey = tuple[int, int, int, int | None]
"""(apid, service, subtype, function id or None) of a telecommand."""

SID_SERVICES: Final = frozenset({3, 128})
"""PUS services whose packets start their source data with a structure id (u16)."""
FUNCTION_SERVICE: Final = (8, 1)
"""PUS 8,1 (perform a function): the application data starts with a function id (u16)."""

_T = TypeVar("_T")


def _frozen(items: Iterable[tuple[Any, _T]]) -> Mapping[Any, _T]:
    return MappingProxyType(dict(items))


class _ArgsBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _argument_field(arg: ArgumentDef) -> tuple[Any, Any]:
    default: Any = ... if arg.default is None else arg.default
    description = arg.description or None
    if arg.type is EngType.ENUM:
        labels = tuple((arg.enumeration or {}).values())
        return Literal[labels], Field(default, description=description)
    if arg.type is EngType.BOOL:
        return bool, Field(default, description=description, strict=True)
    domain = RawDomain(arg.encoding)
    low = arg.min if arg.min is not None else domain.min
    high = arg.max if arg.max is not None else domain.max
    if arg.type is EngType.INT:
        return int, Field(default, description=description, ge=low, le=high, strict=True)
    return float, Field(default, description=description, ge=low, le=high, allow_inf_nan=False)


def build_arguments_model(name: str, arguments: Sequence[ArgumentDef]) -> type[BaseModel]:
    """A pydantic model of a command's arguments (ranges, labels, defaults; extra keys refused).

    Its ``ValidationError`` names the argument and the allowed range, ready for an HTTP 422.
    """
    fields: dict[str, Any] = {arg.name: _argument_field(arg) for arg in arguments}
    model_name = "".join(part.title() for part in name.replace(".", "_").split("_")) + "Args"
    return create_model(model_name, __base__=_ArgsBase, **fields)


class MissionDatabase:
    """Everything the spacecraft sends and the ground understands, indexed for use."""

    def __init__(
        self,
        *,
        spacecraft: Sequence[SpacecraftDef],
        parameters: Sequence[ParameterDef],
        packets: Sequence[PacketDef],
        commands: Sequence[CommandDef],
        events: Sequence[EventDef],
        failure_codes: Sequence[FailureCodeDef],
        stations: Sequence[StationDef],
        source: Path | None = None,
    ) -> None:
        self.source = source
        self.spacecraft: Mapping[str, SpacecraftDef] = _frozen((s.name, s) for s in spacecraft)
        self.spacecraft_by_scid: Mapping[int, SpacecraftDef] = _frozen(
            (s.scid, s) for s in spacecraft
        )
        self.apids: Mapping[int, ApidDef] = _frozen(
            (a.apid, a) for s in spacecraft for a in s.apids
        )
        self.apid_vehicle: Mapping[int, str] = _frozen(
            (a.apid, s.name) for s in spacecraft for a in s.apids
        )
        self.parameters: Mapping[str, ParameterDef] = _frozen((p.name, p) for p in parameters)
        self.packets: Mapping[str, PacketDef] = _frozen((p.name, p) for p in packets)
        self.packet_by_key: Mapping[PacketKey, PacketDef] = _frozen((p.key, p) for p in packets)
        self.codecs: Mapping[str, PacketCodec] = _frozen(
            (p.name, PacketCodec(p, [self.parameters[n] for n in p.parameters])) for p in packets
        )
        self.packet_of_parameter: Mapping[str, PacketDef] = _frozen(
            (n, p) for p in packets for n in p.parameters
        )
        self.commands: Mapping[str, CommandDef] = _frozen((c.name, c) for c in commands)
        self.command_by_key: Mapping[CommandKey, CommandDef] = _frozen((c.key, c) for c in commands)
        self.command_codecs: Mapping[str, ArgumentCodec] = _frozen(
            (
                c.name,
                ArgumentCodec(
                    f"command {c.name}",
                    c.arguments,
                    header=(c.service, c.subtype) == FUNCTION_SERVICE,
                ),
            )
            for c in commands
        )
        self.command_models: Mapping[str, type[BaseModel]] = _frozen(
            (c.name, build_arguments_model(c.name, c.arguments)) for c in commands
        )
        self.events: Mapping[int, EventDef] = _frozen((e.id, e) for e in events)
        self.events_by_name: Mapping[str, EventDef] = _frozen((e.name, e) for e in events)
        self.event_codecs: Mapping[int, ArgumentCodec] = _frozen(
            (e.id, ArgumentCodec(f"event {e.name}", e.arguments, header=True)) for e in events
        )
        self.failure_codes: Mapping[int, FailureCodeDef] = _frozen(
            (f.code, f) for f in failure_codes
        )
        self.failure_codes_by_name: Mapping[str, FailureCodeDef] = _frozen(
            (f.name, f) for f in failure_codes
        )
        self.stations: Mapping[str, StationDef] = _frozen((s.id, s) for s in stations)

    # ------------------------------------------------------------------ helpers
    @property
    def vehicles(self) -> tuple[str, ...]:
        return tuple(self.spacecraft)

    def codec(self, packet_name: str) -> PacketCodec:
        return self.codecs[packet_name]

    def packets_for(self, vehicle: str) -> list[PacketDef]:
        return [p for p in self.packets.values() if p.vehicle == vehicle]

    def parameters_for(self, vehicle: str) -> list[ParameterDef]:
        return [p for p in self.parameters.values() if p.vehicle == vehicle]

    def commands_for(self, vehicle: str) -> list[CommandDef]:
        return [c for c in self.commands.values() if c.vehicle == vehicle]

    def events_for(self, vehicle: str) -> list[EventDef]:
        return [e for e in self.events.values() if e.vehicle == vehicle]

    def packet_of(self, parameter: str) -> PacketDef:
        """The packet that carries ``parameter``."""
        return self.packet_of_parameter[parameter]

    def update_period(self, parameter: str) -> float:
        """Expected update period of a parameter: its packet's default period (s)."""
        return self.packet_of_parameter[parameter].period

    def apid_of(self, vehicle: str, role: ApidRole) -> int:
        """The APID of ``vehicle`` with ``role`` (e.g. the obsw APID for events)."""
        for apid in self.spacecraft[vehicle].apids:
            if apid.role is role:
                return apid.apid
        msg = f"{vehicle} has no {role.value} APID"
        raise KeyError(msg)

    def obsw_apid(self, vehicle: str) -> int:
        """APID of the on-board software: events (5,x), verification (1,x), 17,2."""
        return self.apid_of(vehicle, ApidRole.OBSW)

    def vehicle_of_apid(self, apid: int) -> str:
        return self.apid_vehicle[apid]

    def spacecraft_of_apid(self, apid: int) -> SpacecraftDef:
        return self.spacecraft[self.apid_vehicle[apid]]

    def summary(self) -> dict[str, int]:
        """Counts per kind, for ``lupex mdb check``."""
        return {
            "spacecraft": len(self.spacecraft),
            "apids": len(self.apids),
            "parameters": len(self.parameters),
            "packets": len(self.packets),
            "commands": len(self.commands),
            "events": len(self.events),
            "failure_codes": len(self.failure_codes),
            "stations": len(self.stations),
        }

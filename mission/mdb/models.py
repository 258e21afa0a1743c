"""Pydantic models of the mission database files (``mission/mdb/data/*.yaml``).

These models check the *shape* of each entry (types, required fields, value ranges that need no
other entry). What needs several fields or other entries (calibration against the raw encoding,
limits order, cross references, bit layouts) is checked by :mod:`mission.mdb.loader`, which can
name the file, the entry and the field of every problem.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ENCODING_PATTERN: Final = r"^(uint([1-9]|[12][0-9]|3[0-2])|int(8|16|32)|float(32|64))$"
"""Raw encodings: ``uint1``..``uint32`` (any width), ``int8/16/32``, ``float32/64``; big-endian."""

_ENCODING_RE: Final = re.compile(ENCODING_PATTERN)

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Label = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=48)]
DottedName = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
]
"""``<vehicle>.<subsystem>.<name>``, lower-case snake case."""
Encoding = Annotated[str, StringConstraints(pattern=ENCODING_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
U8 = Annotated[int, Field(ge=0, le=0xFF)]
U16 = Annotated[int, Field(ge=0, le=0xFFFF)]
Apid = Annotated[int, Field(ge=0, le=0x7FE)]  # 0x7FF is the idle APID


def parse_encoding(encoding: str) -> tuple[str, int]:
    """Split a raw encoding into its kind (``uint``, ``int``, ``float``) and its width in bits."""
    match = _ENCODING_RE.match(encoding)
    if match is None:
        msg = f"unknown encoding {encoding!r}"
        raise ValueError(msg)
    kind = encoding.rstrip("0123456789")
    return kind, int(encoding[len(kind) :])


class EngType(StrEnum):
    """Engineering type of a parameter or argument."""

    FLOAT = "float"
    INT = "int"
    ENUM = "enum"
    BOOL = "bool"


class AlarmLevel(StrEnum):
    """Severity of a limit or an alarm state: yellow (warning) or red (critical)."""

    YELLOW = "yellow"
    RED = "red"


class Severity(StrEnum):
    """Event severity; the PUS service 5 subtype follows from it (5,1..5,4)."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def subtype(self) -> int:
        return _SEVERITY_SUBTYPE[self]

    @classmethod
    def from_subtype(cls, subtype: int) -> Severity:
        for severity, value in _SEVERITY_SUBTYPE.items():
            if value == subtype:
                return severity
        msg = f"no event severity for PUS subtype 5,{subtype}"
        raise ValueError(msg)


_SEVERITY_SUBTYPE: Final = {
    Severity.INFO: 1,
    Severity.LOW: 2,
    Severity.MEDIUM: 3,
    Severity.HIGH: 4,
}


class Criticality(StrEnum):
    """``critical`` commands need an explicit confirmation before release."""

    NORMAL = "normal"
    CRITICAL = "critical"


class ApidRole(StrEnum):
    """What an application process does. Events and service 1/17 reports come from ``obsw``."""

    OBSW = "obsw"
    PLATFORM = "platform"
    PAYLOAD = "payload"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------- spacecraft
class VirtualChannelDef(_Model):
    vcid: int = Field(ge=0, le=7)
    name: Identifier
    description: Text


class ApidDef(_Model):
    apid: Apid
    name: Identifier
    role: ApidRole
    description: Text


class SpacecraftDef(_Model):
    name: Identifier
    description: Text
    scid: int = Field(ge=0, le=0x3FF)
    tm_frame_length: int = Field(ge=64, le=2048)
    tc_max_frame_length: int = Field(ge=32, le=1024)
    virtual_channels: tuple[VirtualChannelDef, ...] = Field(min_length=1)
    apids: tuple[ApidDef, ...] = Field(min_length=1)


# ---------------------------------------------------------------------------------- parameters
class Calibration(_Model):
    """Exactly one of: a polynomial raw→eng (``[c0, c1, ...]``, eng = Σ cᵢ·rawⁱ), an enumeration."""

    polynomial: tuple[float, ...] | None = Field(default=None, min_length=2, max_length=6)
    enumeration: dict[int, Label] | None = Field(default=None, min_length=1)


class NumericLimits(_Model):
    """Out of limits when the engineering value is strictly below a low or above a high limit."""

    yellow_low: float | None = None
    yellow_high: float | None = None
    red_low: float | None = None
    red_high: float | None = None


class StateAlarm(_Model):
    """An enumeration label (or a boolean value) that raises an alarm of ``severity``."""

    state: bool | Label
    severity: AlarmLevel


Typical = float | tuple[float, float] | bool | Label


class ParameterDef(_Model):
    name: DottedName
    description: Text
    encoding: Encoding
    type: EngType
    units: str = ""
    calibration: Calibration | None = None
    limits: NumericLimits | None = None
    alarms: tuple[StateAlarm, ...] = ()
    typical: Typical | None = None
    """A nominal value or ``[low, high]`` range: documentation and the simulator's nominal."""

    @property
    def vehicle(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def subsystem(self) -> str:
        return self.name.split(".")[1]

    @property
    def raw_kind(self) -> str:
        return parse_encoding(self.encoding)[0]

    @property
    def bits(self) -> int:
        return parse_encoding(self.encoding)[1]

    @property
    def enumeration(self) -> dict[int, str]:
        """Raw value → label (empty unless the parameter is an enumeration)."""
        if self.calibration is None or self.calibration.enumeration is None:
            return {}
        return dict(self.calibration.enumeration)


# ---------------------------------------------------------------------------------- packets
class PacketDef(_Model):
    name: DottedName
    description: Text
    apid: Apid
    service: U8
    subtype: U8
    sid: U16
    """Structure id: the first two octets of the source data."""
    vcid: int = Field(ge=0, le=7)
    period: float = Field(gt=0, le=86400)
    """Default generation period in seconds (PUS 3,31 and the simulator may change it)."""
    parameters: tuple[DottedName, ...] = Field(min_length=1)

    @property
    def vehicle(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def key(self) -> tuple[int, int, int, int]:
        return (self.apid, self.service, self.subtype, self.sid)


# ---------------------------------------------------------------------------------- arguments
class ArgumentDef(_Model):
    """A typed field of a command's application data or an event's report (no calibration)."""

    name: Identifier
    description: str = ""
    encoding: Encoding
    type: EngType
    units: str = ""
    min: float | None = None
    max: float | None = None
    enumeration: dict[int, Label] | None = Field(default=None, min_length=1)
    default: bool | int | float | Label | None = None

    @property
    def raw_kind(self) -> str:
        return parse_encoding(self.encoding)[0]

    @property
    def bits(self) -> int:
        return parse_encoding(self.encoding)[1]


class CommandEffects(_Model):
    """What the ground should see change once the command has executed (documentation)."""

    parameters: tuple[DottedName, ...] = ()
    events: tuple[DottedName, ...] = ()


class CommandDef(_Model):
    name: DottedName
    description: Text
    apid: Apid
    service: U8
    subtype: U8
    function_id: U16 | None = None
    """PUS 8,1 function id, sent as the first two octets of the application data."""
    criticality: Criticality = Criticality.NORMAL
    execution_time: float = Field(gt=0, le=86400)
    """Longest expected on-board execution time in seconds (verification timeouts)."""
    arguments: tuple[ArgumentDef, ...] = ()
    effects: CommandEffects = CommandEffects()

    @property
    def vehicle(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def key(self) -> tuple[int, int, int, int | None]:
        return (self.apid, self.service, self.subtype, self.function_id)


# ---------------------------------------------------------------------------------- events
class EventDef(_Model):
    id: U16
    name: DottedName
    description: Text
    severity: Severity
    message: Text
    """Template with ``{argument}`` or ``{argument:.1f}`` placeholders."""
    arguments: tuple[ArgumentDef, ...] = ()

    @property
    def vehicle(self) -> str:
        return self.name.split(".", 1)[0]


# ---------------------------------------------------------------------------------- others
class FailureCodeDef(_Model):
    """A PUS service 1 failure code (u16) reported in 1,2 / 1,4 / 1,6 / 1,8."""

    code: int = Field(ge=1, le=0xFFFF)
    name: Label
    description: Text


class StationDef(_Model):
    """A ground station; positions agree with ``seeds/mission_facts.yaml`` (a test checks)."""

    id: Identifier
    name: Text
    agency: Text
    dish_m: float = Field(gt=0)
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(gt=-180, le=180)
    alt_m: float = Field(ge=-500, le=9000)
    elevation_mask_deg: float = Field(ge=0, lt=90)
    band: str = Field(pattern=r"^[A-Za-z]+$")
    uplink_mhz: tuple[float, float]
    downlink_mhz: tuple[float, float]
    g_over_t_dbk: float
    """Figure of merit on a lunar target at zenith (assumed; see the description)."""
    description: Text

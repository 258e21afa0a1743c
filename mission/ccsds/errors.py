"""One error family for every protocol failure.

Each error carries the numbers that explain it, and a short machine-readable ``reason`` that the
ground uses as a counter label and a quarantine reason (in the style of spacepackets'
``BytesTooShortError(expected, actual)``).
"""

from __future__ import annotations

from typing import ClassVar


class ProtocolError(Exception):
    """Base of every error raised while encoding or decoding wire data."""

    reason: ClassVar[str] = "protocol"


class TruncatedError(ProtocolError):
    """Fewer octets than the structure needs."""

    reason: ClassVar[str] = "truncated"

    def __init__(self, what: str, expected: int, actual: int) -> None:
        self.what, self.expected, self.actual = what, expected, actual
        super().__init__(f"{what}: truncated, need {expected} octets, got {actual}")


class LengthMismatchError(ProtocolError):
    """A length field, or a fixed length, disagrees with what is there."""

    reason: ClassVar[str] = "length_mismatch"

    def __init__(self, what: str, expected: int, actual: int) -> None:
        self.what, self.expected, self.actual = what, expected, actual
        super().__init__(f"{what}: length mismatch, expected {expected} octets, got {actual}")


class CrcError(ProtocolError):
    """A CRC (frame FECF or packet PEC) does not match the contents."""

    reason: ClassVar[str] = "crc"

    def __init__(self, what: str, expected: int, computed: int) -> None:
        self.what, self.expected, self.computed = what, expected, computed
        super().__init__(
            f"{what}: CRC mismatch, field says 0x{expected:04X}, contents give 0x{computed:04X}"
        )


class HeaderFieldError(ProtocolError):
    """A header field holds a value the standard or the mission does not allow."""

    reason: ClassVar[str] = "bad_header"

    def __init__(self, what: str, field: str, value: int, expected: str) -> None:
        self.what, self.field, self.value, self.expected = what, field, value, expected
        super().__init__(f"{what}: header field {field}={value} invalid, expected {expected}")


class UnknownSpacecraftError(ProtocolError):
    """A frame names a spacecraft id the mission database does not know."""

    reason: ClassVar[str] = "unknown_scid"

    def __init__(self, scid: int) -> None:
        self.scid = scid
        super().__init__(f"unknown spacecraft id {scid} (0x{scid:03X})")


class UnknownApidError(ProtocolError):
    """A packet carries an APID the mission database does not know."""

    reason: ClassVar[str] = "unknown_apid"

    def __init__(self, apid: int) -> None:
        self.apid = apid
        super().__init__(f"unknown APID {apid} (0x{apid:03X})")


class UnknownPacketError(ProtocolError):
    """The (APID, service, subtype, structure id) does not name a packet in the database."""

    reason: ClassVar[str] = "unknown_packet"

    def __init__(self, apid: int, service: int, subtype: int, sid: int | None) -> None:
        self.apid, self.service, self.subtype, self.sid = apid, service, subtype, sid
        super().__init__(
            f"unknown packet apid={apid} service={service} subtype={subtype} sid={sid}"
        )


class EncodeError(ProtocolError):
    """A value cannot be encoded (out of range, wrong type, too long)."""

    reason: ClassVar[str] = "encode"

    def __init__(self, what: str, field: str, value: object, reason: str) -> None:
        self.what, self.field, self.value, self.detail = what, field, value, reason
        super().__init__(f"{what}: cannot encode {field}={value!r}: {reason}")


class FramingError(ProtocolError):
    """A frame's first header pointer or packet boundaries are inconsistent."""

    reason: ClassVar[str] = "framing"

    def __init__(self, what: str, offset: int, detail: str) -> None:
        self.what, self.offset, self.detail = what, offset, detail
        super().__init__(f"{what}: framing error at offset {offset}: {detail}")


class CommandArgumentError(ProtocolError):
    """A received command carries an argument value outside its definition (range, label)."""

    reason: ClassVar[str] = "bad_argument"

    def __init__(self, command: str, argument: str, value: object, expected: str) -> None:
        self.command, self.argument, self.value, self.expected = command, argument, value, expected
        super().__init__(f"command {command}: argument {argument}={value!r} invalid, {expected}")

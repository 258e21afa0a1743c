"""Telecommand execution with PUS service 1 verification reports.

A TC packet is checked (CRC, type, APID, service/subtype/function id, length, argument ranges):
failures give 1,2 with the MDB's failure code and a ``command_rejected`` event. An accepted
command (1,1) is started by its vehicle's handler: a start failure gives 1,4 (mode, resource,
power, precondition); otherwise 1,3, and 1,7 when it completes (at once for quick commands, later
for drives, drilling and measurements) or 1,8 with the reason (aborted, hardware failure, on-board
time-out after the MDB's execution time). The acknowledgement flags of the TC select which
success reports are sent; failures are always reported.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from mission.ccsds import ProtocolError, TcPacket, parse_tc_packet
from mission.ccsds.errors import (
    CrcError,
    HeaderFieldError,
    LengthMismatchError,
    TruncatedError,
    UnknownApidError,
    UnknownPacketError,
)
from mission.mdb import (
    CommandArgumentError,
    CommandDef,
    MissionDatabase,
    VerificationReport,
    VerificationReportType,
    decode_command,
)
from mission.mdb.calibration import EngValue

ACK_ACCEPTANCE: Final = 0b0001
ACK_START: Final = 0b0010
ACK_COMPLETION: Final = 0b1000


@dataclass(frozen=True, slots=True)
class Done:
    """A finished execution: success, or failure with an MDB failure code name and its data."""

    failure: str | None = None
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class Pending:
    """A started execution; ``check`` returns ``Done`` once it finishes (None while running)."""

    check: Callable[[], Done | None]


Start = Done | Pending


Handler = Callable[[CommandDef, dict[str, EngValue]], Start]


@dataclass(slots=True)
class _Running:
    command: CommandDef
    tc: TcPacket
    deadline: float
    check: Callable[[], Done | None]


@dataclass(slots=True)
class CommandCounters:
    accepted: int = 0
    rejected: int = 0
    executed: int = 0
    last_function_id: int = 0


@dataclass(slots=True)
class Commanding:
    db: MissionDatabase
    vehicle: str
    handlers: Mapping[str, Handler]
    report: Callable[[VerificationReport], None]
    """Sends one 1,x report (the OBSW frames it)."""
    event: Callable[[str, dict[str, object]], None]
    counters: CommandCounters = field(default_factory=CommandCounters)
    running: list[_Running] = field(default_factory=list)
    forced_rejection: str | None = None
    """Fault: reject every TC at acceptance with this failure code name."""

    def _code(self, name: str) -> int:
        return self.db.failure_codes_by_name[name].code

    def _reject(self, apid: int, seq: int, code: str, data: bytes = b"") -> None:
        self.counters.rejected += 1
        self.report(
            VerificationReport(
                VerificationReportType.ACCEPTANCE_FAILURE,
                apid,
                seq,
                failure_code=self._code(code),
                failure_data=data.ljust(4, b"\0")[:4],
            )
        )
        self.event(
            f"{self.vehicle}.obsw.command_rejected",
            {"apid": apid, "seq_count": seq, "code": self._code(code)},
        )

    def receive(self, raw: bytes, now: float) -> None:
        """Check and start one TC packet (the payload of an accepted TC frame)."""
        apid, seq = _peek_request_id(raw)
        try:
            tc = parse_tc_packet(raw)
        except CrcError as exc:
            self._reject(apid, seq, "INVALID_CHECKSUM", struct.pack(">H", exc.computed))
            return
        except (TruncatedError, LengthMismatchError):
            self._reject(apid, seq, "INVALID_LENGTH")
            return
        except ProtocolError:
            self._reject(apid, seq, "ILLEGAL_PACKET_TYPE")
            return
        if self.forced_rejection is not None:
            self._reject(tc.apid, tc.seq_count, self.forced_rejection)
            return
        command, args, failure = self._decode(tc)
        if command is None or args is None:
            self._reject(tc.apid, tc.seq_count, failure[0], failure[1])
            return
        self.counters.accepted += 1
        self._success(tc, VerificationReportType.ACCEPTANCE_SUCCESS, ACK_ACCEPTANCE)
        handler = self.handlers.get(command.name)
        if handler is None:  # pragma: no cover - every MDB command has a handler (tested)
            self._fail(tc, VerificationReportType.START_FAILURE, Done("ILLEGAL_SERVICE"))
            return
        if command.function_id is not None:
            self.counters.last_function_id = command.function_id
        start = handler(command, args)
        if isinstance(start, Done) and start.failure is not None:
            self._fail(tc, VerificationReportType.START_FAILURE, start)
            return
        self._success(tc, VerificationReportType.START_SUCCESS, ACK_START)
        if isinstance(start, Done):
            self._complete(tc, start)
            return
        self.running.append(_Running(command, tc, now + command.execution_time, start.check))

    def _decode(
        self, tc: TcPacket
    ) -> tuple[CommandDef | None, dict[str, EngValue] | None, tuple[str, bytes]]:
        if self.db.apid_vehicle.get(tc.apid) != self.vehicle:
            return None, None, ("ILLEGAL_APID", struct.pack(">H", tc.apid))
        try:
            command, args = decode_command(self.db, tc.apid, tc.service, tc.subtype, tc.data)
        except UnknownApidError:
            return None, None, ("ILLEGAL_APID", struct.pack(">H", tc.apid))
        except UnknownPacketError as exc:
            data = struct.pack(">BBH", tc.service, tc.subtype, exc.sid or 0)
            return None, None, ("ILLEGAL_SERVICE", data)
        except (TruncatedError, LengthMismatchError) as exc:
            return None, None, ("INVALID_LENGTH", struct.pack(">HH", exc.expected, exc.actual))
        except CommandArgumentError as exc:
            names = [a.name for a in self.db.commands[exc.command].arguments]
            index = names.index(exc.argument) if exc.argument in names else 0
            arg = self.db.commands[exc.command].arguments[index]
            code = "ILLEGAL_ARGUMENT" if arg.enumeration else "ARGUMENT_OUT_OF_RANGE"
            return None, None, (code, struct.pack(">HH", index, 0))
        except HeaderFieldError:
            return None, None, ("ILLEGAL_ARGUMENT", b"")
        except ProtocolError:
            return None, None, ("ILLEGAL_SERVICE", b"")
        return command, args, ("", b"")

    def poll(self, now: float) -> None:
        """Finish the running executions that are done or past their on-board time-out."""
        still: list[_Running] = []
        for run in self.running:
            result = run.check()
            if result is None and now > run.deadline:
                elapsed = int(run.command.execution_time)
                result = Done("TIMEOUT_ON_BOARD", struct.pack(">I", elapsed))
            if result is None:
                still.append(run)
            else:
                self._complete(run.tc, result)
        self.running = still

    def abort_all(self, reason: str = "ABORTED") -> None:
        """Fail every running execution (reboot, safe mode)."""
        for run in self.running:
            self._complete(run.tc, Done(reason))
        self.running = []

    def _complete(self, tc: TcPacket, result: Done) -> None:
        if result.failure is not None:
            self._fail(tc, VerificationReportType.COMPLETION_FAILURE, result)
            return
        self.counters.executed += 1
        self._success(tc, VerificationReportType.COMPLETION_SUCCESS, ACK_COMPLETION)

    def _success(self, tc: TcPacket, kind: VerificationReportType, flag: int) -> None:
        if tc.ack_flags & flag:
            self.report(VerificationReport(kind, tc.apid, tc.seq_count))

    def _fail(self, tc: TcPacket, kind: VerificationReportType, result: Done) -> None:
        self.report(
            VerificationReport(
                kind,
                tc.apid,
                tc.seq_count,
                failure_code=self._code(result.failure or "HARDWARE_FAILURE"),
                failure_data=result.data.ljust(4, b"\0")[:4],
            )
        )


def _peek_request_id(raw: bytes) -> tuple[int, int]:
    """APID and sequence count from the first four octets, whatever else is wrong."""
    if len(raw) < 4:
        return 0, 0
    word0, word1 = struct.unpack_from(">HH", raw)
    return word0 & 0x7FF, word1 & 0x3FFF

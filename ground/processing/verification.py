"""PUS service 1 (request verification) reports, handed to whoever verifies commands.

The report data layout is the mission database's (``mission.mdb.decode_verification_data``):
the telecommand's request id (packet id + sequence control), a step id (u8) in progress reports,
and a failure code (u16) plus four octets of failure data in failure reports (even subtypes).
Ingest turns each received 1,x packet into a :class:`VerificationReport` and calls every
listener registered in ``GroundState.verification_listeners``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from mission.mdb.models import FailureCodeDef
from mission.mdb.packets import VerificationReportType, decode_verification_data

VERIFICATION_SERVICE: Final = 1


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """One PUS 1,x report, as the commanding side needs it.

    ``apid`` and ``seq_count`` identify the telecommand (its request id); ``source_apid`` and
    ``source_seq_count`` are the report packet's own. ``failure_code`` is ``None`` for success
    reports; ``failure_name`` is the code's name in the mission database when it has one.
    """

    spacecraft: str
    apid: int
    seq_count: int
    subtype: int
    generation_time: float
    reception_time: float
    failure_code: int | None = None
    failure_name: str | None = None
    step: int | None = None
    failure_data: bytes = b""
    source_apid: int = 0
    source_seq_count: int = 0
    station: str | None = None

    @property
    def success(self) -> bool:
        return self.subtype % 2 == 1

    @property
    def stage(self) -> str:
        """``acceptance``, ``start``, ``progress`` or ``completion``."""
        return VerificationReportType(self.subtype).stage


VerificationListener = Callable[[VerificationReport], None]


def parse_verification(
    data: bytes,
    subtype: int,
    *,
    spacecraft: str,
    generation_time: float,
    reception_time: float,
    source_apid: int = 0,
    source_seq_count: int = 0,
    station: str | None = None,
    failure_codes: Mapping[int, FailureCodeDef] | None = None,
) -> VerificationReport:
    """Decode the source data of a 1,``subtype`` report (``ProtocolError`` if malformed)."""
    report = decode_verification_data(subtype, data)
    code = report.failure_code
    failure = (failure_codes or {}).get(code) if code is not None else None
    return VerificationReport(
        spacecraft=spacecraft,
        apid=report.tc_apid,
        seq_count=report.tc_seq_count,
        subtype=int(report.subtype),
        generation_time=generation_time,
        reception_time=reception_time,
        failure_code=code,
        failure_name=failure.name if failure is not None else None,
        step=report.step,
        failure_data=report.failure_data,
        source_apid=source_apid,
        source_seq_count=source_seq_count,
        station=station,
    )

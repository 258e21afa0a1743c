"""Helpers of the ingest tests (no tests here): packets and frames from the mission database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mission import topics
from mission.ccsds.clcw import Clcw
from mission.ccsds.framing import TmFrameWriter
from mission.mdb import MissionDatabase, encode_tm, load_mdb
from mission.mdb.models import EngType, ParameterDef

MDB = load_mdb()
T0 = 1_767_225_600.0


def nominal(param: ParameterDef, shift: float = 0.0) -> object:
    """A valid engineering value inside the parameter's typical range."""
    typical = param.typical
    if param.type is EngType.BOOL:
        return bool(typical) if isinstance(typical, bool) else False
    if param.type is EngType.ENUM:
        return typical if isinstance(typical, str) else next(iter(param.enumeration.values()))
    if isinstance(typical, tuple):
        low, high = typical
        value = low + (high - low) * (0.25 + 0.5 * (shift % 1.0))
    elif isinstance(typical, int | float) and not isinstance(typical, bool):
        value = float(typical)
    else:
        value = 0.0
    return round(value) if param.type is EngType.INT else value


def values_for(mdb: MissionDatabase, packet: str, shift: float = 0.0) -> dict[str, object]:
    return {n: nominal(mdb.parameters[n], shift) for n in mdb.packets[packet].parameters}


@dataclass
class Downlink:
    """Builds the downlink of one spacecraft through one station, packet by packet."""

    vehicle: str = "rover"
    station: str = "usuda"
    mdb: MissionDatabase = MDB
    clcw: Clcw = field(default_factory=lambda: Clcw(vcid=0, report_value=7))
    seq: dict[int, int] = field(default_factory=dict)
    writer: TmFrameWriter = field(init=False)

    def __post_init__(self) -> None:
        sc = self.mdb.spacecraft[self.vehicle]
        self.writer = TmFrameWriter(sc.scid, sc.tm_frame_length, clcw_source=lambda: self.clcw)

    @property
    def topic(self) -> str:
        return topics.downlink(self.station, self.vehicle)

    def next_seq(self, apid: int) -> int:
        seq = self.seq.get(apid, 0)
        self.seq[apid] = (seq + 1) & 0x3FFF
        return seq

    def hk(self, packet: str, t: float, values: dict[str, object] | None = None) -> bytes:
        definition = self.mdb.packets[packet]
        return encode_tm(
            self.mdb,
            packet,
            values if values is not None else values_for(self.mdb, packet),
            seq_count=self.next_seq(definition.apid),
            time=t,
        )

    def frames(self, packets: Iterable[bytes], vcid: int = 0, flush: bool = True) -> list[bytes]:
        out: list[bytes] = []
        for packet in packets:
            out += self.writer.add_packet(vcid, packet)
        if flush:
            out += self.writer.flush(vcid)
        return out

    def messages(self, frames: Iterable[bytes], t: float = T0) -> list[tuple[str, bytes, float]]:
        return [(self.topic, frame, t + i * 0.001) for i, frame in enumerate(frames)]

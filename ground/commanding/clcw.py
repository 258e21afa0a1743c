"""Command-link status per vehicle, from the CLCW in the downlinked frames' OCF.

The Communications Link Control Word (CCSDS 232.0-B-4 §4.2.1) reports the on-board FARM: lockout,
wait, retransmit, the FARM-B counter (how many bypass frames were accepted, modulo 4) and the
report value N(R), the next frame sequence number the FARM expects. The ground shows it beside the
next frame sequence number N(S) it will send: with Type-AD (sequence-controlled) frames, the
default (the FOP-1 in ``ground.commanding.fop`` reads the same CLCW), the two agree when every
frame was acknowledged. With Type-BD (bypass) frames the FARM does not check N(S); the FARM-B
counter is then the sign that frames arrive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mission.ccsds.clcw import Clcw


@dataclass(frozen=True, slots=True)
class CommandLinkStatus:
    """What the ground knows of one vehicle's command link."""

    vehicle: str
    known: bool
    state: str
    """nominal, lockout, wait, retransmit, no_rf, no_bit_lock or unknown."""
    lockout: bool | None = None
    wait: bool | None = None
    retransmit: bool | None = None
    no_rf_available: bool | None = None
    no_bit_lock: bool | None = None
    farm_b_counter: int | None = None
    vcid: int | None = None
    report_value: int | None = None
    """N(R) from the CLCW."""
    next_frame_seq: int = 0
    """N(S) of the next TC frame the ground will send to this vehicle."""
    in_step: bool | None = None
    """Whether N(R) equals the next N(S)."""
    station: str | None = None
    reception_time: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _state(clcw: Clcw) -> str:
    if clcw.lockout:
        return "lockout"
    if clcw.retransmit:
        return "retransmit"
    if clcw.wait:
        return "wait"
    if clcw.no_rf_available:
        return "no_rf"
    if clcw.no_bit_lock:
        return "no_bit_lock"
    return "nominal"


def command_link_status(
    vehicles: Iterable[str], clcws: Mapping[str, Clcw], next_frame_seq: Mapping[str, int]
) -> list[CommandLinkStatus]:
    """One status per vehicle (``unknown`` until a CLCW of that vehicle has been received)."""
    out = []
    for vehicle in vehicles:
        nxt = next_frame_seq.get(vehicle, 0)
        clcw = clcws.get(vehicle)
        if clcw is None:
            out.append(CommandLinkStatus(vehicle, known=False, state="unknown", next_frame_seq=nxt))
            continue
        station = getattr(clcw, "station", None)
        reception = getattr(clcw, "reception_time", None)
        out.append(
            CommandLinkStatus(
                vehicle=vehicle,
                known=True,
                state=_state(clcw),
                lockout=clcw.lockout,
                wait=clcw.wait,
                retransmit=clcw.retransmit,
                no_rf_available=clcw.no_rf_available,
                no_bit_lock=clcw.no_bit_lock,
                farm_b_counter=clcw.farm_b_counter,
                vcid=clcw.vcid,
                report_value=clcw.report_value,
                next_frame_seq=nxt,
                in_step=clcw.report_value == nxt,
                station=station if isinstance(station, str) and station else None,
                reception_time=float(reception) if isinstance(reception, int | float) else None,
            )
        )
    return out

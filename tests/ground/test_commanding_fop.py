"""FOP-1 (the ground's COP-1 sender) against the spacecraft mock's FARM-1, frame by frame."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from ground.commanding.fop import (
    Acknowledged,
    Action,
    Alert,
    Fop,
    FopError,
    FopParameters,
    FopState,
    Initialised,
    InitiateMode,
    TimeoutType,
    Transmit,
)
from mission.ccsds.tcframe import build_tc_frame
from spacecraft_mock.obsw.farm import Farm, FrameVerdict

SCID = 0x1A5


class Channel:
    """The FOP, the uplink (which may lose frames) and the FARM on board; CLCWs come back."""

    def __init__(self, fop: Fop, lose: Callable[[Transmit], bool] = lambda _: False) -> None:
        self.fop = fop
        self.farm = Farm(SCID, 1024)
        self.lose = lose
        self.accepted: list[bytes] = []
        self.acknowledged: list[str] = []
        self.alerts: list[Alert] = []
        self.initialised: list[InitiateMode] = []
        self.transmitted: list[Transmit] = []
        self.now = 0.0

    def apply(self, actions: Iterable[Action]) -> None:
        for action in actions:
            if isinstance(action, Transmit):
                self.transmitted.append(action)
                if self.lose(action):
                    continue
                frame = build_tc_frame(
                    SCID, 0, action.data, seq_num=action.seq, bypass=action.kind == "bc",
                    control_command=action.kind == "bc",
                )  # fmt: skip
                result = self.farm.receive(frame)
                if result.verdict is FrameVerdict.ACCEPTED:
                    self.accepted.append(action.data)
            elif isinstance(action, Acknowledged):
                self.acknowledged += action.refs
            elif isinstance(action, Alert):
                self.alerts.append(action)
            elif isinstance(action, Initialised):
                self.initialised.append(action.mode)

    def state(self) -> FopState:
        return self.fop.state

    def send(self, count: int, start: int = 0) -> None:
        for i in range(start, start + count):
            self.apply(self.fop.request(f"tc{i}", f"packet {i}".encode(), self.now))

    def clcw(self) -> None:
        """The FARM's CLCW reaches the FOP (a TM frame came down)."""
        self.apply(self.fop.on_clcw(self.farm.clcw(), self.now))

    def tick(self, seconds: float) -> None:
        self.now += seconds
        self.apply(self.fop.on_timer(self.now))


def _active(parameters: FopParameters | None = None, **kw: object) -> Channel:
    channel = Channel(Fop(parameters), **kw)  # type: ignore[arg-type]
    channel.apply(channel.fop.initiate(InitiateMode.WITHOUT_CLCW_CHECK, 0.0))
    return channel


def test_frames_flow_in_a_window_and_are_acknowledged_by_the_clcw() -> None:
    channel = _active(FopParameters(window=4))
    channel.send(10)
    assert [t.seq for t in channel.transmitted] == [0, 1, 2, 3]  # K = 4 outstanding at most
    assert channel.fop.status()["wait_queue"] == 6
    for _ in range(3):
        channel.clcw()
    assert channel.accepted == [f"packet {i}".encode() for i in range(10)]
    assert channel.acknowledged == [f"tc{i}" for i in range(10)]
    assert channel.state() is FopState.ACTIVE
    assert (channel.fop.v_s, channel.fop.nn_r, channel.farm.v_r) == (10, 10, 10)
    assert channel.fop.timer_deadline is None  # nothing outstanding
    assert not any(t.retransmission for t in channel.transmitted)


def test_a_lost_frame_is_sent_again_when_the_farm_sets_retransmit() -> None:
    lost = {2}

    def lose(t: Transmit) -> bool:
        return bool(t.seq in lost and not t.retransmission)

    channel = _active(lose=lose)
    channel.send(6)
    assert channel.farm.retransmit  # frame 3 arrived after a gap
    assert channel.accepted == [b"packet 0", b"packet 1"]
    channel.clcw()  # N(R) = 2, retransmit: go back to N(S) = 2
    assert channel.state() is FopState.RETRANSMIT_WITHOUT_WAIT
    assert [t.seq for t in channel.transmitted if t.retransmission] == [2, 3, 4, 5]
    channel.clcw()
    assert channel.state() is FopState.ACTIVE
    assert channel.accepted == [f"packet {i}".encode() for i in range(6)]  # once each, in order
    assert channel.acknowledged == [f"tc{i}" for i in range(6)]
    assert channel.fop.counters.retransmissions == 4


def test_timer_t1_resends_then_alerts_at_the_transmission_limit() -> None:
    channel = _active(FopParameters(t1_s=5.0, transmission_limit=3), lose=lambda _: True)
    channel.send(2)
    channel.tick(4.9)
    assert channel.fop.counters.retransmissions == 0
    channel.tick(0.2)  # T1 expired: second transmission
    channel.tick(5.0)  # third
    assert [t.seq for t in channel.transmitted] == [0, 1, 0, 1, 0, 1]
    assert channel.alerts == []
    channel.tick(5.0)  # the limit: alert, queues purged
    assert len(channel.alerts) == 1
    assert channel.alerts[0].sent == ("tc0", "tc1")
    assert "transmission limit (3)" in channel.alerts[0].reason
    assert channel.state() is FopState.INITIAL
    with pytest.raises(FopError, match="not active"):
        channel.fop.request("late", b"x", channel.now)


def test_timeout_type_1_suspends_and_resume_carries_on() -> None:
    down = True
    parameters = FopParameters(t1_s=5.0, transmission_limit=2, timeout_type=TimeoutType.SUSPEND)
    channel = _active(parameters, lose=lambda _: down)
    channel.send(3)
    channel.tick(5.0)
    channel.tick(5.0)
    assert channel.state() is FopState.INITIAL
    assert channel.fop.suspend_state is FopState.RETRANSMIT_WITHOUT_WAIT
    assert channel.alerts == []  # suspended, not purged
    assert channel.fop.status()["sent_queue"] == 3
    down = False
    channel.apply(channel.fop.resume(channel.now))
    channel.tick(5.0)  # T1 again: the sent queue goes out
    channel.clcw()
    assert channel.accepted == [b"packet 0", b"packet 1", b"packet 2"]
    assert channel.state() is FopState.ACTIVE
    with pytest.raises(FopError, match="no suspended"):
        channel.fop.resume(channel.now)


def test_lockout_alerts_and_unlock_then_set_vr_recover() -> None:
    channel = Channel(Fop())
    channel.fop.set_v_s(100)  # the ground out of step with the FARM (V(R) = 0)
    channel.apply(channel.fop.initiate(InitiateMode.WITHOUT_CLCW_CHECK, 0.0))
    channel.send(1)
    assert channel.farm.lockout
    channel.clcw()
    assert channel.state() is FopState.INITIAL
    assert "lockout" in channel.alerts[-1].reason
    assert channel.alerts[-1].sent == ("tc0",)
    # Unlock, and adopt the FARM's V(R) so that the CLCW comes back clean.
    channel.fop.set_v_s(channel.farm.v_r)
    channel.apply(channel.fop.initiate(InitiateMode.UNLOCK, channel.now))
    assert channel.transmitted[-1].kind == "bc"
    assert channel.transmitted[-1].data == b"\x00"
    assert not channel.farm.lockout
    assert channel.state() is FopState.INITIALISING_WITH_BC
    channel.clcw()
    assert channel.state() is FopState.ACTIVE
    assert channel.initialised[-1] is InitiateMode.UNLOCK
    # Set V(R): both ends continue from 42.
    channel.apply(channel.fop.terminate())
    channel.apply(channel.fop.initiate(InitiateMode.SET_VR, channel.now, set_vr=42))
    channel.clcw()
    assert channel.farm.v_r == 42
    assert channel.state() is FopState.ACTIVE
    channel.send(2, start=1)
    channel.clcw()
    assert channel.acknowledged == ["tc1", "tc2"]
    assert channel.farm.v_r == 44


def test_initiate_with_clcw_check_waits_for_a_clean_clcw_or_times_out() -> None:
    channel = Channel(Fop(FopParameters(t1_s=5.0, transmission_limit=2)))
    channel.fop.set_v_s(7)  # the FARM expects 0: never clean
    channel.apply(channel.fop.initiate(InitiateMode.WITH_CLCW_CHECK, 0.0))
    channel.clcw()
    assert channel.state() is FopState.INITIALISING_WITHOUT_BC
    channel.tick(5.0)
    channel.tick(5.0)
    assert channel.state() is FopState.INITIAL
    assert "timer T1" in channel.alerts[-1].reason
    channel.fop.set_v_s(0)
    channel.apply(channel.fop.initiate(InitiateMode.WITH_CLCW_CHECK, channel.now))
    channel.clcw()
    assert channel.state() is FopState.ACTIVE


def test_an_impossible_report_value_alerts() -> None:
    channel = _active()
    channel.send(2)
    channel.farm.v_r = 9  # the FARM claims frames the FOP never sent
    channel.clcw()
    assert channel.state() is FopState.INITIAL
    assert "outside" in channel.alerts[-1].reason


def test_bad_directives_and_parameters_name_the_field() -> None:
    with pytest.raises(FopError) as bad:
        FopParameters(window=0)
    assert bad.value.field == "window"
    with pytest.raises(FopError) as bad:
        FopParameters(t1_s=0.0)
    assert bad.value.field == "t1_s"
    fop = Fop()
    with pytest.raises(FopError) as bad:
        fop.initiate(InitiateMode.SET_VR, 0.0)
    assert bad.value.field == "set_vr"
    fop.initiate(InitiateMode.WITHOUT_CLCW_CHECK, 0.0)
    with pytest.raises(FopError, match="terminate AD first"):
        fop.initiate(InitiateMode.WITHOUT_CLCW_CHECK, 0.0)
    with pytest.raises(FopError) as bad:
        fop.set_v_s(3)
    assert bad.value.field == "v_s"


def test_a_busy_farm_holds_new_frames_until_its_wait_flag_clears() -> None:
    channel = _active()
    channel.send(1)
    channel.farm.wait = True  # e.g. the on-board computer booting
    channel.clcw()
    assert channel.acknowledged == ["tc0"]
    channel.send(2, start=1)
    assert [t.seq for t in channel.transmitted] == [0]  # held back
    assert channel.state() is FopState.ACTIVE
    channel.farm.wait = False
    channel.clcw()
    assert [t.seq for t in channel.transmitted] == [0, 1, 2]
    channel.clcw()
    assert channel.acknowledged == ["tc0", "tc1", "tc2"]

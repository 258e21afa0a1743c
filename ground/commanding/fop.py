"""FOP-1: the sending end of COP-1 (CCSDS 232.1-B-2), for one vehicle's TC virtual channel.

Type-AD (sequence-controlled) frames carry N(S) = V(S) and stay in the *sent queue* until a CLCW
from the FARM-1 on board acknowledges them (its report value N(R) passes them). When the CLCW has
the retransmit flag, or when timer T1 expires with frames still unacknowledged, the whole sent
queue is sent again (go-back-N), at most ``transmission_limit`` times; then the FOP raises an
*alert* (timeout type 0) or *suspends* (timeout type 1), purges its queues and goes back to the
initial state, where only a directive can start it again. At most ``window`` (K) frames are
outstanding; the rest wait.

States, as the standard names them::

    S1 active                      frames flow, nothing to retransmit
    S2 retransmit without wait     the sent queue is being sent again
    S3 retransmit with wait        ... but the FARM has no buffer (wait flag): hold
    S4 initialising without BC     Initiate AD with CLCW check: waiting for a clean CLCW
    S5 initialising with BC        Initiate AD with Unlock or Set V(R): a BC frame is out
    S6 initial                     not active; AD requests are refused

Directives: Initiate AD (without CLCW check, with CLCW check, with Unlock, with Set V(R)),
Terminate AD, Resume AD (after a suspension), Set V(S), and the parameters (window, T1,
transmission limit, timeout type).

Three departures from the standard's state table, each on the tolerant side: in S4 and S5 a CLCW
that does not yet show what the initialisation waits for is ignored (T1 and the transmission
limit decide), because with a light time of seconds the CLCWs in flight still describe the FARM
before the BC frame arrived; a wait flag without the retransmit flag (the mock's FARM raises it
while its computer boots) holds new frames back instead of raising an alert; and the wait queue
holds several FDUs (the standard's holds one; the service above feeds it).

Pure logic: time is passed in (mission seconds); the caller transmits what the returned actions
say and calls :meth:`Fop.on_timer` regularly.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Final

from mission.ccsds.clcw import Clcw

SEQ_MODULO: Final = 256
MAX_WINDOW: Final = 255
UNLOCK_DIRECTIVE: Final = b"\x00"
SET_VR_DIRECTIVE: Final = b"\x82\x00"
"""Set V(R) control command; the new value follows in one octet."""


class FopState(StrEnum):
    ACTIVE = "active"
    RETRANSMIT_WITHOUT_WAIT = "retransmit_without_wait"
    RETRANSMIT_WITH_WAIT = "retransmit_with_wait"
    INITIALISING_WITHOUT_BC = "initialising_without_bc"
    INITIALISING_WITH_BC = "initialising_with_bc"
    INITIAL = "initial"


ACTIVE_STATES: Final = frozenset(
    {FopState.ACTIVE, FopState.RETRANSMIT_WITHOUT_WAIT, FopState.RETRANSMIT_WITH_WAIT}
)


class InitiateMode(StrEnum):
    WITHOUT_CLCW_CHECK = "without_clcw_check"
    WITH_CLCW_CHECK = "with_clcw_check"
    UNLOCK = "unlock"
    SET_VR = "set_vr"


class TimeoutType(IntEnum):
    ALERT = 0
    SUSPEND = 1


class FopError(Exception):
    """A directive, a request or a value the FOP cannot take (the reason says why).

    ``conflict``: refused because of the FOP's present state (HTTP 409), not a bad value (422).
    """

    def __init__(self, field: str, reason: str, *, conflict: bool = False) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
        self.conflict = conflict


@dataclass(frozen=True, slots=True)
class FopParameters:
    window: int = 10
    """K, the most AD frames outstanding at once (1..255; keep it below the FARM window W)."""
    t1_s: float = 10.0
    """Timer T1 in mission seconds: longer than the round-trip light time plus a CLCW's way."""
    transmission_limit: int = 3
    """How many times a frame is sent (the first transmission included) before the alert."""
    timeout_type: TimeoutType = TimeoutType.ALERT

    def __post_init__(self) -> None:
        if not 1 <= self.window <= MAX_WINDOW:
            raise FopError("window", f"must be within 1..{MAX_WINDOW}, not {self.window}")
        if not self.t1_s > 0:
            raise FopError("t1_s", f"must be positive, not {self.t1_s}")
        if self.transmission_limit < 1:
            raise FopError(
                "transmission_limit", f"must be at least 1, not {self.transmission_limit}"
            )


# ------------------------------------------------------------------------------------ actions
@dataclass(frozen=True, slots=True)
class Transmit:
    """Send this frame now: an AD frame (``ref`` = the request) or a BC directive."""

    kind: str  # "ad" or "bc"
    seq: int
    data: bytes
    ref: str | None = None
    retransmission: bool = False


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """These requests' frames were acknowledged by the CLCW (they reached the FARM)."""

    refs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Alert:
    """The FOP stopped (S6): ``sent`` were transmitted but never acknowledged, ``waiting`` were
    never transmitted. Both are purged."""

    reason: str
    sent: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Initialised:
    """An Initiate AD directive completed: the FOP is active."""

    mode: InitiateMode


Action = Transmit | Acknowledged | Alert | Initialised


@dataclass(slots=True)
class SentFrame:
    seq: int
    ref: str
    data: bytes
    to_retransmit: bool = False


@dataclass(slots=True)
class FopCounters:
    frames_sent: int = 0
    retransmissions: int = 0
    acknowledged: int = 0
    alerts: int = 0
    bc_frames: int = 0


class Fop:
    """FOP-1 for one virtual channel (see the module docstring)."""

    def __init__(
        self, parameters: FopParameters | None = None, *, vcid: int = 0, wait_limit: int = 1_000
    ) -> None:
        self.parameters = parameters or FopParameters()
        self.vcid = vcid
        self.wait_limit = wait_limit
        self.state = FopState.INITIAL
        self.v_s = 0
        self.nn_r = 0
        self.sent: deque[SentFrame] = deque()
        self.waiting: deque[tuple[str, bytes]] = deque()
        self.transmission_count = 0
        self.timer_deadline: float | None = None
        self.suspend_state: FopState | None = None
        self.initiate_mode: InitiateMode | None = None
        self._bc_frame: bytes | None = None
        self.last_alert: str | None = None
        self.counters = FopCounters()
        self.farm_busy = False
        """The last CLCW had the wait flag: no new AD frame goes out until it clears."""
        self.timer_margin_s = 0.0
        """Added to T1 (the service sets it: its wall margin times the speed factor, so that a
        busy ground at 1000× does not take its own delays for a lost frame)."""

    # ------------------------------------------------------------------ directives
    def initiate(self, mode: InitiateMode, now: float, set_vr: int | None = None) -> list[Action]:
        """Initiate AD service (only from the initial state; Terminate AD first otherwise)."""
        if self.state is not FopState.INITIAL:
            raise FopError(
                "mode", f"the FOP is {self.state.value}; terminate AD first", conflict=True
            )
        if mode is InitiateMode.SET_VR and (set_vr is None or not 0 <= set_vr < SEQ_MODULO):
            raise FopError("set_vr", f"Set V(R) needs a value within 0..255, not {set_vr}")
        self._purge()
        self.suspend_state = None
        self.initiate_mode = mode
        self.transmission_count = 1
        if mode is InitiateMode.WITHOUT_CLCW_CHECK:
            self.nn_r = self.v_s
            self.state = FopState.ACTIVE
            return [Initialised(mode)]
        if mode is InitiateMode.WITH_CLCW_CHECK:
            self.state = FopState.INITIALISING_WITHOUT_BC
            self._start_timer(now)
            return []
        if mode is InitiateMode.UNLOCK:
            self._bc_frame = UNLOCK_DIRECTIVE
        else:
            assert set_vr is not None
            self.v_s = self.nn_r = set_vr
            self._bc_frame = SET_VR_DIRECTIVE + bytes([set_vr])
        self.state = FopState.INITIALISING_WITH_BC
        self._start_timer(now)
        return [self._bc()]

    def terminate(self) -> list[Action]:
        """Terminate AD service: purge both queues and go to the initial state."""
        self.suspend_state = None
        if self.state is FopState.INITIAL and not self.sent and not self.waiting:
            return []
        return [self._alert("terminated by a directive")]

    def resume(self, now: float) -> list[Action]:
        """Resume AD service after a suspension (timeout type 1)."""
        if self.state is not FopState.INITIAL or self.suspend_state is None:
            raise FopError("state", "there is no suspended AD service to resume", conflict=True)
        self.state, self.suspend_state = self.suspend_state, None
        self.transmission_count = 1  # a fresh round of ``transmission_limit`` attempts
        self._start_timer(now)
        return self._look_for_fdu(now)

    def set_v_s(self, value: int) -> None:
        """Set V(S) (and NN(R)) while the FOP is initial with empty queues."""
        if self.state is not FopState.INITIAL or self.sent or self.waiting:
            raise FopError(
                "v_s", "V(S) can be set only in the initial state with empty queues", conflict=True
            )
        if not 0 <= value < SEQ_MODULO:
            raise FopError("v_s", f"must be within 0..255, not {value}")
        self.v_s = self.nn_r = value
        self.suspend_state = None

    def set_parameters(self, parameters: FopParameters) -> None:
        if parameters.window < len(self.sent):
            raise FopError(
                "window",
                f"{len(self.sent)} frames are outstanding; the window cannot be smaller",
                conflict=True,
            )
        self.parameters = parameters

    # ------------------------------------------------------------------ requests
    @property
    def accepting(self) -> bool:
        """Whether AD requests are taken (active, retransmitting or initialising)."""
        return self.state is not FopState.INITIAL

    def request(self, ref: str, data: bytes, now: float) -> list[Action]:
        """Transfer a frame data unit (a TC packet) by AD service; ``ref`` names it."""
        if not self.accepting:
            raise FopError("state", "AD service is not active (initiate AD first)", conflict=True)
        if len(self.waiting) >= self.wait_limit:
            raise FopError(
                "state", f"{len(self.waiting)} requests are already waiting", conflict=True
            )
        self.waiting.append((ref, data))
        return self._look_for_fdu(now)

    # ------------------------------------------------------------------ CLCW
    def on_clcw(self, clcw: Clcw, now: float) -> list[Action]:
        """Process a CLCW of this virtual channel."""
        if clcw.cop_in_effect != 1 or clcw.vcid != self.vcid or self.state is FopState.INITIAL:
            return []
        if self.state is FopState.INITIALISING_WITHOUT_BC:
            return self._initialised(now) if self._clean(clcw, self.v_s) else []
        if self.state is FopState.INITIALISING_WITH_BC:
            return self._initialised(now) if self._clean(clcw, self.v_s) else []
        if clcw.lockout:
            return [self._alert("lockout: the FARM refuses AD frames (initiate AD with Unlock)")]
        n_r = clcw.report_value
        outstanding = (self.v_s - self.nn_r) % SEQ_MODULO
        if (n_r - self.nn_r) % SEQ_MODULO > outstanding:
            return [self._alert(f"N(R)={n_r} is outside NN(R)={self.nn_r}..V(S)={self.v_s}")]
        actions: list[Action] = []
        acked = self._acknowledge(n_r)
        if acked:
            actions.append(Acknowledged(acked))
            self.transmission_count = 1
        self.farm_busy = clcw.wait
        if not clcw.retransmit:
            if not self.sent:
                self.timer_deadline = None
            elif acked:
                self._start_timer(now)
            self.state = FopState.ACTIVE
            actions += self._retransmit_flagged()  # held back while the FARM had no buffer
            actions += self._look_for_fdu(now)
            return actions
        # Retransmit flag: the FARM saw a gap.
        if not self.sent:
            actions.append(self._alert("retransmit flag with no frame outstanding"))
            return actions
        if acked or self.state is FopState.ACTIVE:
            if not acked and self.transmission_count >= self.parameters.transmission_limit:
                actions += self._limit_reached("retransmit flag")
                return actions
            if not acked:
                self.transmission_count += 1
            self.state = (
                FopState.RETRANSMIT_WITH_WAIT if clcw.wait else FopState.RETRANSMIT_WITHOUT_WAIT
            )
            self._start_timer(now)
            actions += self._initiate_retransmission()
            return actions
        if self.state is FopState.RETRANSMIT_WITH_WAIT and not clcw.wait:
            self.state = FopState.RETRANSMIT_WITHOUT_WAIT
            actions += self._retransmit_flagged()
        elif self.state is FopState.RETRANSMIT_WITHOUT_WAIT and clcw.wait:
            self.state = FopState.RETRANSMIT_WITH_WAIT
        return actions

    # ------------------------------------------------------------------ timer
    def on_timer(self, now: float) -> list[Action]:
        """Call regularly: acts when timer T1 has expired."""
        if self.timer_deadline is None or now < self.timer_deadline:
            return []
        if self.transmission_count >= self.parameters.transmission_limit:
            return self._limit_reached("timer T1 expired")
        self.transmission_count += 1
        self._start_timer(now)
        if self.state is FopState.INITIALISING_WITH_BC:
            return [self._bc(retransmission=True)]
        if self.state in (FopState.ACTIVE, FopState.RETRANSMIT_WITHOUT_WAIT):
            self.state = FopState.RETRANSMIT_WITHOUT_WAIT
            return self._initiate_retransmission()
        return []  # S3 waits for the FARM's buffer; S4 waits for a clean CLCW

    # ------------------------------------------------------------------ status
    def status(self) -> dict[str, object]:
        return {
            "fop_state": self.state.value,
            "v_s": self.v_s,
            "nn_r": self.nn_r,
            "sent_queue": len(self.sent),
            "wait_queue": len(self.waiting),
            "transmission_count": self.transmission_count,
            "timer_deadline": self.timer_deadline,
            "suspended_state": None if self.suspend_state is None else self.suspend_state.value,
            "last_alert": self.last_alert,
            "window": self.parameters.window,
            "t1_s": self.parameters.t1_s,
            "transmission_limit": self.parameters.transmission_limit,
            "timeout_type": int(self.parameters.timeout_type),
            "frames_sent": self.counters.frames_sent,
            "retransmissions": self.counters.retransmissions,
            "acknowledged": self.counters.acknowledged,
            "alerts": self.counters.alerts,
            "bc_frames": self.counters.bc_frames,
        }

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _clean(clcw: Clcw, expected: int) -> bool:
        return (
            not clcw.lockout
            and not clcw.wait
            and not clcw.retransmit
            and clcw.report_value == expected
        )

    def _initialised(self, now: float) -> list[Action]:
        mode = self.initiate_mode or InitiateMode.WITH_CLCW_CHECK
        self.nn_r = self.v_s
        self.state = FopState.ACTIVE
        self.timer_deadline = None
        self.transmission_count = 1
        self._bc_frame = None
        return [Initialised(mode), *self._look_for_fdu(now)]

    def _start_timer(self, now: float) -> None:
        self.timer_deadline = now + self.parameters.t1_s + self.timer_margin_s

    def _bc(self, retransmission: bool = False) -> Transmit:
        assert self._bc_frame is not None
        self.counters.bc_frames += 1
        return Transmit("bc", self.v_s, self._bc_frame, retransmission=retransmission)

    def _look_for_fdu(self, now: float) -> list[Action]:
        if self.state is not FopState.ACTIVE or self.farm_busy:
            return []
        out: list[Action] = []
        while self.waiting and len(self.sent) < self.parameters.window:
            ref, data = self.waiting.popleft()
            if not self.sent:
                self.transmission_count = 1
                self._start_timer(now)
            frame = SentFrame(self.v_s, ref, data)
            self.sent.append(frame)
            self.v_s = (self.v_s + 1) % SEQ_MODULO
            self.counters.frames_sent += 1
            out.append(Transmit("ad", frame.seq, data, ref))
        return out

    def _acknowledge(self, n_r: int) -> tuple[str, ...]:
        refs: list[str] = []
        while self.sent and self.nn_r != n_r:
            frame = self.sent.popleft()
            refs.append(frame.ref)
            self.nn_r = (self.nn_r + 1) % SEQ_MODULO
        self.nn_r = n_r
        self.counters.acknowledged += len(refs)
        return tuple(refs)

    def _initiate_retransmission(self) -> list[Action]:
        for frame in self.sent:
            frame.to_retransmit = True
        if self.state is FopState.RETRANSMIT_WITH_WAIT:
            return []
        return self._retransmit_flagged()

    def _retransmit_flagged(self) -> list[Action]:
        out: list[Action] = []
        for frame in self.sent:
            if frame.to_retransmit:
                frame.to_retransmit = False
                self.counters.retransmissions += 1
                out.append(Transmit("ad", frame.seq, frame.data, frame.ref, retransmission=True))
        return out

    def _limit_reached(self, why: str) -> list[Action]:
        reason = f"{why} and the transmission limit ({self.parameters.transmission_limit}) reached"
        if self.parameters.timeout_type is TimeoutType.SUSPEND and self.state in ACTIVE_STATES:
            self.suspend_state = self.state
            self.state = FopState.INITIAL
            self.timer_deadline = None
            self.last_alert = f"suspended: {reason}"
            return []
        return [self._alert(reason)]

    def _alert(self, reason: str) -> Alert:
        alert = Alert(
            reason,
            sent=tuple(f.ref for f in self.sent),
            waiting=tuple(ref for ref, _ in self.waiting),
        )
        self._purge()
        self.state = FopState.INITIAL
        self.timer_deadline = None
        self._bc_frame = None
        self.last_alert = reason
        self.counters.alerts += 1
        return alert

    def _purge(self) -> None:
        self.sent.clear()
        self.waiting.clear()


@dataclass(slots=True)
class FopRegistry:
    """One FOP per vehicle, with the same parameters to start with."""

    parameters: FopParameters = field(default_factory=FopParameters)
    fops: dict[str, Fop] = field(default_factory=dict)

    def of(self, vehicle: str) -> Fop:
        fop = self.fops.get(vehicle)
        if fop is None:
            fop = self.fops[vehicle] = Fop(self.parameters)
        return fop

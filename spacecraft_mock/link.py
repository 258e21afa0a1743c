"""The space link: stations in view, the prime station, light time, frame errors, the uplink.

A station can talk to the site when it sees the Moon above its mask and the Earth is above the
site's mask (mission.geometry), and it is not in an outage (fault). One prime station (the
highest Moon elevation, with hysteresis) carries the downlink of both vehicles; every station in
view publishes monitor data. The lander transmits direct to Earth; the rover uses its HGA, or the
relay through the lander, or its LGA (in that order of preference, as available).

Downlink frames are delivered one light time after they leave the vehicle (relayed frames a
little later), at the path's data rate, or lost / corrupted as the Eb/N0 of the link budget
(with fading and fault losses) makes them. Uplink frames reach the vehicle one light time after
the station radiates them, only if the station is in view (and the vehicle can hear it); others
are lost and counted.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Final

from mission.facts import MissionFacts
from mission.geometry import GroundStation, LinkParameters, frame_error_rate, ground_stations
from spacecraft_mock.config import WorldConfig
from spacecraft_mock.environment import EnvSample
from spacecraft_mock.link_model import (
    LOST_SHARE,
    Budget,
    Emitter,
    Fading,
    corrupt,
    eirps,
    evaluate,
)
from spacecraft_mock.rng import RandomStreams
from spacecraft_mock.vehicles.comms import RATES_BPS, pointing_loss_db

SPACECRAFT: Final = ("rover", "lander")
MAX_TX_BACKLOG_S: Final = 60.0
CLEAR_SKY_REFRESH_S: Final = 10.0
LGA_RATE_BPS: Final = 16_000.0


@dataclass(frozen=True, slots=True)
class FrameDelivery:
    """A frame arriving at a station (publish it on downlink/{station}/{spacecraft})."""

    time: float
    station: str
    spacecraft: str
    frame: bytes
    seq: int


@dataclass(frozen=True, slots=True)
class SpacecraftLink:
    """One spacecraft's view of one station, for the monitor record."""

    ebn0_db: float | None
    carrier_lock: bool
    bit_lock: bool
    frame_lock: bool
    data_rate_bps: int
    path: str | None
    prime: bool


@dataclass(frozen=True, slots=True)
class StationMonitor:
    time: float
    station: str
    in_view: bool
    outage: bool
    moon_elevation_deg: float
    moon_azimuth_deg: float
    earth_elevation_site_deg: float
    range_km: float
    light_time_s: float
    prime: bool
    spacecraft: dict[str, SpacecraftLink]
    uplink_frames: int
    uplink_lost: int


@dataclass(frozen=True, slots=True)
class LinkEvent:
    time: float
    kind: str  # "handover", "aos", "los"
    detail: dict[str, object]


@dataclass(slots=True)
class PathState:
    path: str | None = None
    emitter: Emitter | None = None
    extra_loss_db: float = 0.0
    budget: Budget | None = None
    tx_free_at: float = 0.0


@dataclass(slots=True)
class LinkFaults:
    outages: set[str] = field(default_factory=set)
    ebn0_ceiling_db: dict[str, float] = field(default_factory=dict)
    """Interference: Eb/N0 cannot exceed this (bit-error burst)."""
    loss_fraction: dict[str, float] = field(default_factory=dict)
    uplink_corruption: dict[str, float] = field(default_factory=dict)


class SpaceLink:
    def __init__(self, facts: MissionFacts, config: WorldConfig, streams: RandomStreams) -> None:
        self.config = config
        self.params = LinkParameters.from_facts(facts)
        self.stations: dict[str, GroundStation] = {s.id: s for s in ground_stations(facts)}
        self.eirp = eirps(facts)
        self.fading = Fading(streams.stream("link.fading"))
        self.rng = streams.stream("link.errors")
        self.uplink_rng = streams.stream("link.uplink")
        self.faults = LinkFaults()
        self.prime: str | None = None
        self.paths: dict[str, PathState] = {sc: PathState() for sc in SPACECRAFT}
        self.env: EnvSample | None = None
        self._queue: list[tuple[float, int, FrameDelivery]] = []
        self._uplink: list[tuple[float, int, str, str, bytes]] = []
        self._seq = 0
        self.uplink_frames: dict[str, int] = dict.fromkeys(self.stations, 0)
        self.uplink_lost: dict[str, int] = dict.fromkeys(self.stations, 0)
        self.frames_sent: dict[str, int] = dict.fromkeys(SPACECRAFT, 0)
        self.frames_lost: dict[str, int] = dict.fromkeys(SPACECRAFT, 0)
        self.frames_corrupted: dict[str, int] = dict.fromkeys(SPACECRAFT, 0)
        self.events: list[LinkEvent] = []
        self._fades: dict[tuple[str, str], float] = {}
        self._clear_sky: dict[tuple[str, float, float], tuple[int, float, float]] = {}

    # ------------------------------------------------------------------ geometry
    def in_view(self, env: EnvSample) -> list[str]:
        """Stations that see the Moon above their mask while the Earth is above the site's."""
        if env.earth_el < env.earth_mask_deg:
            return []
        return [
            v.station_id
            for v in env.geometry.stations
            if v.moon_el_deg >= self.stations[v.station_id].elevation_mask_deg
        ]

    def available(self, env: EnvSample) -> list[str]:
        """Stations that can talk to the site now (in view and not in an outage)."""
        return [s for s in self.in_view(env) if s not in self.faults.outages]

    def stations_in_view_or_first(self) -> str:
        """The station seeing the Moon highest now (for faults aimed at 'the prime station')."""
        assert self.env is not None
        return max(
            self.env.geometry.stations, key=lambda v: (v.moon_el_deg, v.station_id)
        ).station_id

    def update(self, env: EnvSample, dt: float) -> None:
        """Choose the prime station for this step and advance the fading processes."""
        self.env = env
        views = {v.station_id: v for v in env.geometry.stations}
        up = self.available(env)
        previous = self.prime
        if up:
            best = max(up, key=lambda s: (views[s].moon_el_deg, s))
            if self.prime not in up or (
                views[best].moon_el_deg
                > views[self.prime].moon_el_deg + self.config.prime_hysteresis_deg
            ):
                self.prime = best
        else:
            self.prime = None
        if self.prime != previous:
            kind = "handover" if previous and self.prime else ("aos" if self.prime else "los")
            self.events.append(LinkEvent(env.t, kind, {"from": previous, "to": self.prime}))
        for station in up:
            for sc in SPACECRAFT:
                key = (station, sc)
                self._fades[key] = self.fading.step(key, views[station].moon_el_deg, dt)

    def set_path(
        self, spacecraft: str, path: str | None, emitter: Emitter | None, loss_db: float
    ) -> None:
        state = self.paths[spacecraft]
        state.path, state.emitter, state.extra_loss_db = path, emitter, loss_db
        state.budget = None
        if path is not None and emitter is not None and self.prime is not None:
            state.budget = self.budget(self.prime, spacecraft)

    def budget(self, station: str, spacecraft: str) -> Budget | None:
        state = self.paths[spacecraft]
        if self.env is None or state.emitter is None:
            return None
        emitter = state.emitter
        window = int(self.env.t // CLEAR_SKY_REFRESH_S)
        key = (station, emitter.eirp_dbw, emitter.rate_bps)
        cached = self._clear_sky.get(key)
        if cached is None or cached[0] != window:
            # The clear-sky budget changes slowly (range, elevation): computed once per window;
            # losses (pointing, fading, faults) shift Eb/N0 and C/N0 dB for dB on top of it.
            view = self.env.geometry.station(station)
            clear = evaluate(
                view.range_km, self.stations[station].dish_m, view.moon_el_deg, emitter, 0.0,
                self.params,
            )  # fmt: skip
            cached = (window, clear.ebn0_db, clear.cn0_dbhz)
            self._clear_sky[key] = cached
        loss = state.extra_loss_db + self._fades.get((station, spacecraft), 0.0)
        ebn0 = cached[1] - loss
        budget = Budget(ebn0, cached[2] - loss, frame_error_rate(ebn0, params=self.params))
        ceiling = self.faults.ebn0_ceiling_db.get(spacecraft)
        if ceiling is not None and budget.ebn0_db > ceiling:
            drop = budget.ebn0_db - ceiling
            fer = frame_error_rate(ceiling, params=self.params)
            budget = Budget(ceiling, budget.cn0_dbhz - drop, fer)
        return budget

    def light_time(self, station: str) -> float:
        assert self.env is not None
        return self.env.geometry.station(station).light_time_s

    # ------------------------------------------------------------------ paths
    def rover_emitter(
        self, path: str | None, rate: str, pointing_error: float
    ) -> tuple[Emitter | None, float]:
        if path == "hga":
            return Emitter(self.eirp["rover_hga"], RATES_BPS[rate]), pointing_loss_db(
                pointing_error
            )
        if path == "lga":
            return Emitter(self.eirp["rover_lga"], LGA_RATE_BPS), 0.0
        if path == "relay":
            return self.lander_emitter(RATES_BPS["RATE_2M"]), 0.0
        return None, 0.0

    def lander_emitter(self, rate_bps: float) -> Emitter:
        return Emitter(self.eirp["lander_hga"], rate_bps)

    # ------------------------------------------------------------------ downlink
    def transmit(self, spacecraft: str, frame: bytes, t: float) -> bool:
        """Send one frame from ``spacecraft`` at mission time ``t``; False when it went nowhere."""
        state = self.paths[spacecraft]
        station = self.prime
        if station is None or state.path is None or state.emitter is None:
            return False
        self.frames_sent[spacecraft] += 1
        frame_time = len(frame) * 8.0 / state.emitter.rate_bps
        start = max(t, state.tx_free_at)
        if start - t > MAX_TX_BACKLOG_S:
            self.frames_lost[spacecraft] += 1
            return True
        state.tx_free_at = start + frame_time
        budget = state.budget or self.budget(station, spacecraft)
        lost_share = self.faults.loss_fraction.get(spacecraft, 0.0)
        if lost_share and float(self.rng.random()) < lost_share:
            self.frames_lost[spacecraft] += 1
            return True
        errors = self.config.frame_errors and budget is not None and budget.fer > 0.0
        if errors and budget is not None and float(self.rng.random()) < budget.fer:
            if float(self.rng.random()) < LOST_SHARE:
                self.frames_lost[spacecraft] += 1
                return True
            frame = corrupt(frame, self.rng)
            self.frames_corrupted[spacecraft] += 1
        delay = self.light_time(station) + (
            self.config.relay_delay_s if state.path == "relay" else 0.0
        )
        arrival = start + frame_time + delay
        self._seq += 1
        delivery = FrameDelivery(arrival, station, spacecraft, frame, self._seq)
        heapq.heappush(self._queue, (arrival, self._seq, delivery))
        return True

    def due(self, t: float) -> list[FrameDelivery]:
        """Frames that have reached their station by ``t``, in arrival order."""
        out = []
        while self._queue and self._queue[0][0] <= t:
            out.append(heapq.heappop(self._queue)[2])
        return out

    @property
    def in_flight(self) -> int:
        return len(self._queue)

    # ------------------------------------------------------------------ uplink
    def uplink(self, station: str, spacecraft: str, frame: bytes, t: float, can_hear: bool) -> bool:
        """A station radiates a TC frame at ``t``; True when it will reach the vehicle."""
        if station not in self.stations or self.env is None:
            return False
        self.uplink_frames[station] += 1
        if station not in self.available(self.env) or not can_hear:
            self.uplink_lost[station] += 1
            return False
        flip = self.faults.uplink_corruption.get(spacecraft, 0.0)
        if flip and float(self.uplink_rng.random()) < flip:
            frame = corrupt(frame, self.uplink_rng)
        self._seq += 1
        heapq.heappush(
            self._uplink, (t + self.light_time(station), self._seq, station, spacecraft, frame)
        )
        return True

    def next_uplink_time(self) -> float:
        return self._uplink[0][0] if self._uplink else math.inf

    def pop_uplink(self) -> tuple[float, str, str, bytes]:
        arrival, _, station, spacecraft, frame = heapq.heappop(self._uplink)
        return arrival, station, spacecraft, frame

    # ------------------------------------------------------------------ monitor
    def monitors(self, env: EnvSample) -> list[StationMonitor]:
        out = []
        visible = set(self.in_view(env))
        for view in env.geometry.stations:
            sid = view.station_id
            outage = sid in self.faults.outages
            in_view = sid in visible
            links: dict[str, SpacecraftLink] = {}
            for sc in SPACECRAFT:
                state = self.paths[sc]
                budget = self.budget(sid, sc) if in_view and not outage and state.path else None
                prime = sid == self.prime and state.path is not None
                carrier = budget is not None and budget.carrier_lock
                locked = carrier and prime and budget is not None and budget.fer < 0.5
                rate = int(state.emitter.rate_bps) if state.emitter is not None and carrier else 0
                links[sc] = SpacecraftLink(
                    ebn0_db=round(budget.ebn0_db, 2) if budget is not None else None,
                    carrier_lock=carrier,
                    bit_lock=locked,
                    frame_lock=locked,
                    data_rate_bps=rate,
                    path=state.path if prime else None,
                    prime=prime,
                )
            out.append(
                StationMonitor(
                    time=env.t,
                    station=sid,
                    in_view=in_view,
                    outage=outage,
                    moon_elevation_deg=view.moon_el_deg,
                    moon_azimuth_deg=view.moon_az_deg,
                    earth_elevation_site_deg=env.earth_el,
                    range_km=view.range_km,
                    light_time_s=view.light_time_s,
                    prime=sid == self.prime,
                    spacecraft=links,
                    uplink_frames=self.uplink_frames[sid],
                    uplink_lost=self.uplink_lost[sid],
                )
            )
        return out

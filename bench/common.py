"""Shared helpers of the benchmarks: JSON results, CPU/RSS sampling, traffic from the MDB.

Traffic is built from the mission database the way the spacecraft send it: every housekeeping and
science packet of both vehicles, chosen in proportion to its generation rate (1/period), with
values drawn inside each parameter's ``typical`` range, a sprinkle of event reports (5,x), PUS
sequence counts per APID, CDS times advancing at the chosen packet rate, and fixed-length TM
frames (``TmFrameWriter``) on each packet's virtual channel, spanning packets across frames.
"""

from __future__ import annotations

import json
import os
import random
import struct
import sys
import threading
import time
from binascii import crc_hqx
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import psutil
from numpy.typing import NDArray

from mission import topics
from mission.ccsds.crc import CRC_INIT
from mission.ccsds.errors import EncodeError
from mission.ccsds.framing import TmFrameWriter
from mission.ccsds.timecode import CDS_UNIX_DAY_OFFSET, MS_PER_DAY
from mission.mdb import MissionDatabase, load_mdb
from mission.mdb.models import EngType, EventDef, PacketDef, ParameterDef
from mission.mdb.packets import encode_event_data

DEFAULT_START: Final = 1_767_225_600.0  # 2026-01-01T00:00:00Z
VARIANTS: Final = 8
_PKT_HEADER: Final = struct.Struct(">HHHBBBHHBHI")


def emit(result: dict[str, Any]) -> None:
    """Print one benchmark result as a single JSON line on stdout (what `lupex bench` reads)."""
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    """Progress on stderr (stdout carries only the JSON result)."""
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------------- resources
@dataclass
class ResourceSample:
    cpu_percent_mean: float
    cpu_percent_max: float
    rss_peak_mib: float
    rss_last_mib: float
    samples: int
    rss_timeline_mib: list[float] = field(default_factory=list)
    """RSS at regular intervals over the run (at most 20 points), to see whether it levels."""
    main_rss_peak_mib: float = 0.0
    """Peak RSS of the main process alone (the rest: its children)."""


class ResourceMonitor:
    """Samples a process's CPU share and RSS in a background thread (psutil), its child
    processes included (the ground's archive writer process, for one)."""

    def __init__(self, pid: int | None = None, interval: float = 0.5) -> None:
        self.process = psutil.Process(pid or os.getpid())
        self.interval = interval
        self._cpu: list[float] = []
        self._rss: list[float] = []
        self._main_rss: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _family(self) -> list[psutil.Process]:
        try:
            return [self.process, *self.process.children(recursive=True)]
        except psutil.Error:
            return []

    def _run(self) -> None:
        known: dict[int, psutil.Process] = {}
        while not self._stop.wait(self.interval):
            cpu = rss = main = 0.0
            alive = False
            for process in self._family():
                tracked = known.setdefault(process.pid, process)
                try:
                    with tracked.oneshot():
                        cpu += float(tracked.cpu_percent(None))
                        used = tracked.memory_info().rss / 2**20
                    rss += used
                    if tracked.pid == self.process.pid:
                        main = used
                    alive = True
                except psutil.Error:
                    continue
            if not alive:
                return
            self._cpu.append(cpu)
            self._rss.append(rss)
            self._main_rss.append(main)

    def start(self) -> ResourceMonitor:
        self._thread.start()
        return self

    def stop(self) -> ResourceSample:
        self._stop.set()
        self._thread.join()
        cpu = self._cpu or [0.0]
        rss = self._rss or [self.process.memory_info().rss / 2**20]
        step = max(1, len(rss) // 20)
        return ResourceSample(
            cpu_percent_mean=round(sum(cpu) / len(cpu), 1),
            cpu_percent_max=round(max(cpu), 1),
            rss_peak_mib=round(max(rss), 1),
            rss_last_mib=round(rss[-1], 1),
            samples=len(self._cpu),
            rss_timeline_mib=[round(x, 1) for x in rss[::step]],
            main_rss_peak_mib=round(max(self._main_rss or [0.0]), 1),
        )

    def reset(self) -> None:
        self._cpu.clear()
        self._rss.clear()


def rss_mib(pid: int | None = None) -> float:
    return float(psutil.Process(pid or os.getpid()).memory_info().rss) / 2**20


# ---------------------------------------------------------------------------------- values
def _typical_value(param: ParameterDef, rng: random.Random) -> object:
    typical = param.typical
    if param.type is EngType.BOOL:
        return typical if isinstance(typical, bool) else rng.random() < 0.5
    if param.type is EngType.ENUM:
        labels = list(param.enumeration.values())
        if isinstance(typical, str) and rng.random() < 0.9:
            return typical
        return rng.choice(labels)
    if isinstance(typical, tuple):
        low, high = typical
        value = rng.uniform(low, high)
    elif isinstance(typical, int | float) and not isinstance(typical, bool):
        value = float(typical) * rng.uniform(0.95, 1.05)
    else:
        value = 0.0
    return round(value) if param.type is EngType.INT else value


def _source_variants(mdb: MissionDatabase, packet: PacketDef, rng: random.Random) -> list[bytes]:
    codec = mdb.codecs[packet.name]
    params = [mdb.parameters[n] for n in packet.parameters]
    out: list[bytes] = []
    for _ in range(VARIANTS):
        values = {p.name: _typical_value(p, rng) for p in params}
        try:
            out.append(codec.encode_source(values))
        except EncodeError:
            raw: dict[str, object] = {}
            for p, cal in zip(params, codec.calibrators, strict=True):
                domain = cal.domain
                raw[p.name] = 0 if domain.is_integer else 0.0
            out.append(codec.encode_raw_source(raw))
    return out


def _event_args(event: EventDef) -> dict[str, object]:
    args: dict[str, object] = {}
    for arg in event.arguments:
        if arg.type is EngType.ENUM:
            args[arg.name] = next(iter((arg.enumeration or {}).values()))
        elif arg.type is EngType.BOOL:
            args[arg.name] = False
        elif arg.type is EngType.INT:
            args[arg.name] = int(arg.min) if arg.min is not None else 0
        else:
            args[arg.name] = float(arg.min) if arg.min is not None else 0.0
    return args


# ---------------------------------------------------------------------------------- traffic
@dataclass
class Traffic:
    """Pre-built downlink traffic and what it contains, for checking the archive afterwards."""

    messages: list[tuple[str, bytes]]
    """``(topic, frame)`` in sending order."""
    packets: int
    samples: int
    events: int
    start: float
    end: float
    keys: dict[tuple[str, int], NDArray[np.int64]] = field(default_factory=dict)
    """(spacecraft, APID) → sorted keys ``generation_time_ms × 16384 + seq_count``."""

    @property
    def frames(self) -> int:
        return len(self.messages)

    def payload_bytes(self) -> int:
        return sum(len(p) for _, p in self.messages)


def packet_key(generation_time: float, seq_count: int) -> int:
    """The key ``Traffic.keys`` holds for one packet."""
    return round(generation_time * 1000) * 16384 + seq_count


class PacketSource:
    """An endless, seeded stream of realistic TM packets ``(vehicle, vcid, bytes, samples)``."""

    def __init__(
        self,
        mdb: MissionDatabase,
        *,
        vehicles: Sequence[str] = ("rover", "lander"),
        rate: float = 25_000.0,
        start: float = DEFAULT_START,
        seed: int = 1,
        event_fraction: float = 0.002,
    ) -> None:
        self.mdb = mdb
        self.rng = random.Random(seed)
        self.rate = rate
        self.start = start
        self.event_fraction = event_fraction
        self.defs = [p for v in vehicles for p in mdb.packets_for(v)]
        self.weights = [1.0 / p.period for p in self.defs]
        self.variants = {p.name: _source_variants(mdb, p, self.rng) for p in self.defs}
        self.events = [(e, mdb.obsw_apid(e.vehicle)) for v in vehicles for e in mdb.events_for(v)]
        self.seq: dict[int, int] = {}
        self.count = 0

    def _packet(self, apid: int, service: int, subtype: int, source: bytes, t: float) -> bytes:
        seq = self.seq.get(apid, 0)
        self.seq[apid] = (seq + 1) & 0x3FFF
        ms_total = round(t * 1000) + CDS_UNIX_DAY_OFFSET * MS_PER_DAY
        day, ms = divmod(ms_total, MS_PER_DAY)
        body = (
            _PKT_HEADER.pack(
                0x0800 | apid,
                0xC000 | seq,
                len(source) + 15,  # octets after the primary header, minus one
                0x20,
                service,
                subtype,
                self.count & 0xFFFF,
                0,
                0x40,
                day,
                ms,
            )
            + source
        )
        return body + crc_hqx(body, CRC_INIT).to_bytes(2, "big")

    def __iter__(self) -> Iterator[tuple[str, int, bytes, int]]:
        rng = self.rng
        while True:
            t = self.start + self.count / self.rate
            self.count += 1
            if self.events and rng.random() < self.event_fraction:
                event, apid = rng.choice(self.events)
                try:
                    _, subtype, data = encode_event_data(self.mdb, event.name, _event_args(event))
                except EncodeError:
                    continue
                yield event.vehicle, 0, self._packet(apid, 5, subtype, data, t), 0
                continue
            (packet,) = rng.choices(self.defs, self.weights)
            source = rng.choice(self.variants[packet.name])
            yield (
                packet.vehicle,
                packet.vcid,
                self._packet(packet.apid, packet.service, packet.subtype, source, t),
                len(packet.parameters),
            )


def build_traffic(
    packets: int,
    *,
    mdb: MissionDatabase | None = None,
    station: str = "bench",
    rate: float = 25_000.0,
    start: float = DEFAULT_START,
    seed: int = 1,
    event_fraction: float = 0.002,
    vehicles: Sequence[str] = ("rover", "lander"),
) -> Traffic:
    """``packets`` realistic packets in TM frames (see the module docstring)."""
    mdb = mdb or load_mdb()
    source = PacketSource(
        mdb, vehicles=vehicles, rate=rate, start=start, seed=seed, event_fraction=event_fraction
    )
    writers = {
        v: TmFrameWriter(mdb.spacecraft[v].scid, mdb.spacecraft[v].tm_frame_length)
        for v in vehicles
    }
    topic_of = {v: topics.downlink(station, v) for v in vehicles}
    messages: list[tuple[str, bytes]] = []
    keys: dict[tuple[str, int], list[int]] = {}
    samples = events = 0
    produced = 0
    for vehicle, vcid, packet, n_samples in source:
        if produced >= packets:
            break
        produced += 1
        samples += n_samples
        events += n_samples == 0
        apid = ((packet[0] & 0x07) << 8) | packet[1]
        seq = ((packet[2] & 0x3F) << 8) | packet[3]
        day = int.from_bytes(packet[14:16], "big")
        ms = int.from_bytes(packet[16:20], "big")
        gen_ms = (day - CDS_UNIX_DAY_OFFSET) * MS_PER_DAY + ms
        keys.setdefault((vehicle, apid), []).append(gen_ms * 16384 + seq)
        for frame in writers[vehicle].add_packet(vcid, packet):
            messages.append((topic_of[vehicle], frame))
    for vehicle, writer in writers.items():
        for vcid in (0, 1, 2):
            for frame in writer.flush(vcid):
                messages.append((topic_of[vehicle], frame))
    return Traffic(
        messages=messages,
        packets=produced,
        samples=samples,
        events=events,
        start=start,
        end=start + produced / rate,
        keys={k: np.sort(np.asarray(v, dtype=np.int64)) for k, v in keys.items()},
    )


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


# ---------------------------------------------------------------------------------- publishing
@dataclass
class PublishResult:
    sent: int
    acknowledged: int
    seconds: float
    reconnects: int

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def publish_messages(
    messages: Sequence[tuple[str, bytes]],
    *,
    host: str,
    port: int,
    username: str,
    password: str,
    rate: float | None = None,
    window: int = 2000,
    client_id: str | None = None,
    timeout: float = 600.0,
    deadline: float | None = None,
    on_sent: Callable[[int], None] | None = None,
) -> PublishResult:
    """Publish ``messages`` at QoS 1 (paho, persistent MQTT 5 session) and wait for every PUBACK.

    ``rate`` paces the sending (messages/s; None: as fast as the broker acknowledges, at most
    ``window`` unacknowledged). Survives broker restarts: paho reconnects and resends what was not
    acknowledged (a resent copy may reach subscribers twice; they deduplicate). Stops early at
    ``deadline`` (``time.monotonic()``) when given; ``on_sent(n)`` is called after each publish.
    """
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    acked = 0
    reconnects = -1
    cond = threading.Condition()

    def on_publish(*_: object) -> None:
        nonlocal acked
        with cond:
            acked += 1
            cond.notify_all()

    def on_connect(*_: object) -> None:
        nonlocal reconnects
        reconnects += 1

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id or f"bench-pub-{os.getpid()}-{time.monotonic_ns()}",
        protocol=mqtt.MQTTv5,
    )
    client.username_pw_set(username, password)
    client.max_inflight_messages_set(window)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(1, 2)
    client.on_publish = on_publish
    client.on_connect = on_connect
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600
    client.connect(host, port, keepalive=30, clean_start=False, properties=props)
    client.loop_start()
    started = time.monotonic()
    sent = 0
    try:
        for topic, payload in messages:
            if deadline is not None and time.monotonic() >= deadline:
                break
            if rate is not None:
                ahead = started + sent / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            with cond:
                while sent - acked >= window:
                    cond.wait(1.0)
            client.publish(topic, payload, qos=1)
            sent += 1
            if on_sent is not None:
                on_sent(sent)
        end = time.monotonic() + timeout
        with cond:
            while acked < sent and time.monotonic() < end:
                cond.wait(1.0)
        seconds = time.monotonic() - started
    finally:
        client.loop_stop()
        client.disconnect()
    return PublishResult(sent, acked, seconds, max(reconnects, 0))

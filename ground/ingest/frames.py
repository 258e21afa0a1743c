"""The frame stage: topic, frame checks, deduplication, sequence checks, CLCW, VC demux, extraction.

For each received downlink message, in order of reception:

1. the topic must be ``lupex/v1/downlink/{station}/{spacecraft}`` with a known spacecraft;
2. a byte-identical frame seen before (blake2b hash, the archive's ``frame_hash``) is a redelivery
   or a second station's copy: it is counted and dropped, nothing of it is stored again;
3. length, FECF (CRC-16) and header checks (``mission.ccsds.parse_tm_frame``), SCID known and
   equal to the topic's spacecraft;
4. sequence checks: the master-channel count per spacecraft (frames missing → a ``frame_gap``
   event, counted per link), the virtual-channel count per (spacecraft, VC) (a different frame
   with the count just seen → ``duplicate_frame_count``, quarantined);
5. the CLCW of the OCF is kept per spacecraft (the command link status);
6. the frame's data field goes to the packet extractor of its (spacecraft, VC), which reassembles
   packets that span frames and reports the octets it had to skip, with the reason.

Every message gets a ``FrameRecord`` (``quality`` "good" or the rejection reason), so that the
frame hashes the archive returns at start cover bad payloads too: a redelivered bad payload is
not quarantined twice, even across a restart. Bad messages also get a ``QuarantineRecord``.
"""

from __future__ import annotations

import json
import struct
from binascii import crc_hqx  # CRC-16-CCITT in C, as mission.ccsds.crc uses
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ground.archive import FrameRecord, QuarantineRecord, frame_hash
from ground.ingest import quarantine
from ground.ingest.extract import FastExtractor
from ground.model import EventView
from ground.processing import events as ev
from ground.processing.state import IngestCounters, ReceivedClcw
from mission.ccsds.clcw import CLCW_LEN, Clcw
from mission.ccsds.crc import CRC_INIT
from mission.ccsds.errors import (
    CrcError,
    HeaderFieldError,
    LengthMismatchError,
    ProtocolError,
    TruncatedError,
    UnknownSpacecraftError,
)
from mission.ccsds.tmframe import FECF_LEN, TM_PRIMARY_HEADER_LEN
from mission.mdb.database import MissionDatabase
from mission.mdb.models import SpacecraftDef
from mission.topics import parse_downlink_topic

GOOD: Final = "good"
TOPIC_CACHE_SIZE: Final = 4096
_CLCW_FIELDS: Final = tuple(Clcw.__dataclass_fields__)
_TM_HEADER: Final = struct.Struct(">HBBH")


class RecentHashes:
    """The last ``capacity`` frame hashes, for O(1) duplicate checks."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._set: set[bytes] = set()
        self._order: deque[bytes] = deque()

    def __contains__(self, digest: object) -> bool:
        return digest in self._set

    def __len__(self) -> int:
        return len(self._set)

    def add(self, digest: bytes) -> None:
        if digest in self._set:
            return
        self._set.add(digest)
        self._order.append(digest)
        if len(self._order) > self.capacity:
            self._set.discard(self._order.popleft())

    def update(self, digests: Iterable[bytes]) -> None:
        for digest in digests:
            self.add(digest)


@dataclass(slots=True)
class FrameMeta:
    """An accepted frame, as the packet stage needs it."""

    topic: str
    station: str
    spacecraft: str
    vcid: int
    reception_time: float
    frame_hash: bytes


@dataclass(slots=True)
class FrameOutput:
    """What the frame stage produced from one batch of messages."""

    frames: list[FrameRecord] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    metas: list[FrameMeta] = field(default_factory=list)
    packets: list[bytes] = field(default_factory=list)
    packet_frames: list[int] = field(default_factory=list)
    """Index in ``metas`` of the frame each packet completed in."""
    events: list[EventView] = field(default_factory=list)
    clcw: dict[str, ReceivedClcw] = field(default_factory=dict)
    clcw_words: dict[str, tuple[bytes, int, float, str]] = field(default_factory=dict)
    """The last OCF per spacecraft: (frame, offset, reception time, station)."""
    duplicates: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    """Octets the extractors could not place in a packet, by reason."""


@dataclass(slots=True)
class _StationCounts:
    frames: int = 0
    bad: int = 0
    gaps: int = 0
    duplicates: int = 0
    last: float | None = None


def header_numbers(payload: bytes) -> tuple[int, int, int, int]:
    """SCID, VCID, MC and VC counts from a payload's first octets (zeros when too short)."""
    if len(payload) < 4:
        return 0, 0, 0, 0
    word0 = (payload[0] << 8) | payload[1]
    return (word0 >> 4) & 0x3FF, (word0 >> 1) & 0b111, payload[2], payload[3]


class FrameStage:
    """Per-spacecraft and per-VC state of the frame checks, across batches."""

    def __init__(
        self,
        mdb: MissionDatabase,
        counters: IngestCounters,
        recent_hashes: int = 200_000,
        *,
        records: bool = True,
    ) -> None:
        self.mdb = mdb
        self.records = records
        """Build the archive's frame records of good frames (off: decoding only, benchmarks)."""
        self.counters = counters
        self.hashes = RecentHashes(recent_hashes)
        self.extractors: dict[tuple[str, int], FastExtractor] = {}
        self.mc_last: dict[str, int] = {}
        self._topics: dict[str, tuple[str, SpacecraftDef] | tuple[str, str]] = {}
        self.station_counts: dict[str, _StationCounts] = {}

    # ------------------------------------------------------------------ state for restarts
    def snapshot(self) -> dict[str, Any]:
        """JSON-able state: extractor snapshots and last master-channel counts."""
        extractors = {}
        for (spacecraft, vcid), extractor in self.extractors.items():
            partial, last_vc = extractor.snapshot()
            extractors[f"{spacecraft}/{vcid}"] = [partial.hex(), last_vc]
        return {"extractors": extractors, "mc_last": dict(self.mc_last)}

    def restore(self, saved: Mapping[str, Any]) -> None:
        """Reload what ``snapshot`` returned (from the archive's state)."""
        for key, (partial_hex, last_vc) in dict(saved.get("extractors", {})).items():
            spacecraft, _, vcid = str(key).rpartition("/")
            extractor = FastExtractor()
            extractor.restore(bytes.fromhex(partial_hex), last_vc)
            self.extractors[(spacecraft, int(vcid))] = extractor
        self.mc_last = {str(k): int(v) for k, v in dict(saved.get("mc_last", {})).items()}

    # ------------------------------------------------------------------ topics
    def _topic(self, topic: str) -> tuple[str, SpacecraftDef] | tuple[str, str]:
        """(station, spacecraft definition), or (reason, detail) for a bad topic."""
        cached = self._topics.get(topic)
        if cached is not None:
            return cached
        result: tuple[str, SpacecraftDef] | tuple[str, str]
        try:
            station, name = parse_downlink_topic(topic)
        except (ValueError, TypeError) as exc:
            result = (quarantine.BAD_TOPIC, str(exc))
        else:
            sc = self.mdb.spacecraft.get(name)
            if sc is None:
                result = (
                    quarantine.UNKNOWN_SPACECRAFT,
                    f"unknown spacecraft {name!r} in topic "
                    f"(known: {', '.join(self.mdb.spacecraft)})",
                )
            else:
                result = (station, sc)
        if len(self._topics) >= TOPIC_CACHE_SIZE:
            self._topics.clear()
        self._topics[topic] = result
        return result

    # ------------------------------------------------------------------ the stage
    def process(self, messages: Iterable[tuple[str, bytes, float]]) -> FrameOutput:
        """Check and demultiplex a batch of ``(topic, payload, reception_time)``."""
        out = FrameOutput()
        counters = self.counters
        hashes = self.hashes
        stations = self.station_counts
        for topic, payload, reception_time in messages:
            counters.frames += 1
            digest = frame_hash(payload)
            resolved = self._topic(topic)
            sc_def = resolved[1]
            station = resolved[0] if isinstance(sc_def, SpacecraftDef) else ""
            counts = stations.get(station)
            if counts is None:
                counts = stations[station] = _StationCounts()
            counts.frames += 1
            counters.per_station[station] += 1
            if digest in hashes:
                out.duplicates += 1
                counts.duplicates += 1
                counters.duplicates += 1
                continue
            hashes.add(digest)
            if not isinstance(sc_def, SpacecraftDef):
                self._reject(
                    out, counts, topic, payload, reception_time, digest, "", "", resolved[0], sc_def
                )
                continue
            self._frame(out, counts, topic, station, sc_def, payload, reception_time, digest)
        self.finish(out)
        return out

    def _reject(
        self,
        out: FrameOutput,
        counts: _StationCounts,
        topic: str,
        payload: bytes,
        reception_time: float,
        digest: bytes,
        station: str,
        spacecraft: str,
        reason: str,
        detail: str,
    ) -> None:
        counts.bad += 1
        self.counters.errors[reason] += 1
        self.counters.quarantined += 1
        scid, vcid, mc, vc = header_numbers(payload)
        out.frames.append(
            FrameRecord(
                reception_time, station, spacecraft, scid, vcid, mc, vc, digest, payload, reason
            )
        )
        out.quarantine.append(quarantine.record(reception_time, topic, reason, detail, payload))

    def _frame(
        self,
        out: FrameOutput,
        counts: _StationCounts,
        topic: str,
        station: str,
        sc: SpacecraftDef,
        payload: bytes,
        reception_time: float,
        digest: bytes,
    ) -> None:
        spacecraft = sc.name
        try:
            # The checks of mission.ccsds.parse_tm_frame, without building a TmFrame and a Clcw
            # per frame (frozen dataclasses cost more than everything else here).
            n = len(payload)
            if n != sc.tm_frame_length:
                if n < sc.tm_frame_length:
                    raise TruncatedError("tm_frame", sc.tm_frame_length, n)
                raise LengthMismatchError("tm_frame", sc.tm_frame_length, n)
            if crc_hqx(payload, CRC_INIT) != 0:
                field_value = int.from_bytes(payload[-FECF_LEN:], "big")
                raise CrcError("tm_frame", field_value, crc_hqx(payload[:-FECF_LEN], CRC_INIT))
            word0, mc_count, vc_count, status = _TM_HEADER.unpack_from(payload)
            if word0 >> 14:
                raise HeaderFieldError("tm_frame", "version", word0 >> 14, "0 (TM transfer frame)")
            if status >> 15:
                raise HeaderFieldError("tm_frame", "sec_header_flag", 1, "0 (no secondary header)")
            end = n - FECF_LEN
            ocf = word0 & 1
            if ocf:
                end -= CLCW_LEN
                if payload[end] >> 7:
                    raise HeaderFieldError("clcw", "control_word_type", 1, "0 (CLCW)")
            scid = (word0 >> 4) & 0x3FF
            if scid != sc.scid:
                known = self.mdb.spacecraft_by_scid.get(scid)
                if known is None:
                    raise UnknownSpacecraftError(scid)
                self._reject(
                    out, counts, topic, payload, reception_time, digest, station, spacecraft,
                    quarantine.SPACECRAFT_MISMATCH,
                    f"frame SCID {scid} is {known.name}'s, topic says {spacecraft}",
                )  # fmt: skip
                return
        except ProtocolError as exc:
            self._reject(
                out, counts, topic, payload, reception_time, digest, station, spacecraft,
                exc.reason, str(exc),
            )  # fmt: skip
            return
        vcid = (word0 >> 1) & 0b111
        key = (spacecraft, vcid)
        extractor = self.extractors.get(key)
        if extractor is None:
            extractor = self.extractors[key] = FastExtractor()
        if extractor.last_vc_count == vc_count:
            self._duplicate_count(
                out,
                counts,
                topic,
                payload,
                reception_time,
                digest,
                station,
                spacecraft,
                vcid,
                vc_count,
            )
            return
        # Master-channel count: frames missing across all virtual channels.
        mc_last = self.mc_last.get(spacecraft)
        if mc_last is not None:
            gap = (mc_count - mc_last - 1) & 0xFF
            if gap:
                counts.gaps += 1
                self.counters.frame_gaps += 1
                self.counters.frame_gap_frames += gap
                out.events.append(
                    ev.ground_event(
                        ev.FRAME_GAP,
                        spacecraft,
                        f"{spacecraft}: {gap} frame(s) missing before MC count {mc_count} "
                        f"(via {station})",
                        reception_time,
                        {"station": station, "missing": gap, "mc_count": mc_count},
                    )
                )
        self.mc_last[spacecraft] = mc_count
        counts.last = reception_time
        self.counters.frames_accepted += 1
        self.counters.per_vc[f"{spacecraft}/{vcid}"] += 1
        if self.records:
            out.frames.append(
                FrameRecord(
                    reception_time,
                    station,
                    spacecraft,
                    scid,
                    vcid,
                    mc_count,
                    vc_count,
                    digest,
                    payload,
                    GOOD,
                )
            )
        if ocf:
            out.clcw_words[spacecraft] = (payload, end, reception_time, station)
        extraction = extractor.feed(payload[TM_PRIMARY_HEADER_LEN:end], status & 0x7FF, vc_count)
        if extraction.frame_gap:
            out.events.append(
                ev.ground_event(
                    ev.VC_GAP,
                    spacecraft,
                    f"{spacecraft}: {extraction.frame_gap} frame(s) missing on VC {vcid} before "
                    f"count {vc_count} (via {station})",
                    reception_time,
                    {"station": station, "vcid": vcid, "missing": extraction.frame_gap},
                )
            )
            self.counters.vc_gaps += 1
            self.counters.vc_gap_frames += extraction.frame_gap
        if extraction.skipped:
            for skipped in extraction.skipped:
                self.counters.skipped_octets[skipped.reason] += skipped.octets
                out.skipped[skipped.reason] = out.skipped.get(skipped.reason, 0) + skipped.octets
        if extraction.idle_packets:
            self.counters.idle_packets += extraction.idle_packets
        if extraction.packets:
            index = len(out.metas)
            out.metas.append(FrameMeta(topic, station, spacecraft, vcid, reception_time, digest))
            out.packets += extraction.packets
            out.packet_frames += [index] * len(extraction.packets)

    def _duplicate_count(
        self,
        out: FrameOutput,
        counts: _StationCounts,
        topic: str,
        payload: bytes,
        reception_time: float,
        digest: bytes,
        station: str,
        spacecraft: str,
        vcid: int,
        vc_count: int,
    ) -> None:
        self._reject(
            out, counts, topic, payload, reception_time, digest, station, spacecraft,
            quarantine.DUPLICATE_FRAME_COUNT,
            f"{spacecraft} VC {vcid} count {vc_count} repeated by a different frame",
        )  # fmt: skip
        out.events.append(
            ev.ground_event(
                ev.FRAME_DUPLICATE,
                spacecraft,
                f"{spacecraft}: VC {vcid} frame count {vc_count} received twice with different "
                f"contents (via {station})",
                reception_time,
                {"station": station, "vcid": vcid, "vc_count": vc_count},
            )
        )

    @staticmethod
    def finish(out: FrameOutput) -> None:
        """Decode the last CLCW of each spacecraft in the batch (once, not per frame)."""
        for spacecraft, (payload, offset, reception_time, station) in out.clcw_words.items():
            clcw = Clcw.unpack(payload, offset)
            out.clcw[spacecraft] = ReceivedClcw(
                **{name: getattr(clcw, name) for name in _CLCW_FIELDS},
                reception_time=reception_time,
                station=station,
                spacecraft=spacecraft,
            )

    def drain_station_counts(self) -> dict[str, _StationCounts]:
        """Per-station counts since the last call (for the link table)."""
        counts, self.station_counts = self.station_counts, {}
        return counts


def dumps_state(state: Mapping[str, Any]) -> bytes:
    return json.dumps(state, separators=(",", ":"), sort_keys=True).encode()


def loads_state(blob: bytes | None) -> dict[str, Any]:
    if not blob:
        return {}
    try:
        value = json.loads(blob)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}

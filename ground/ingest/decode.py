"""The packet stage: validation, deduplication, sequence checks and batch decoding, vectorised.

The per-packet Python work is kept to three C-level calls (``len``, ``binascii.crc_hqx`` and one
``b"".join`` per group); everything else runs on numpy arrays over whole groups of packets:

1. packets are grouped by length, each group joined into one buffer and viewed with a structured
   dtype of the PUS-C TM header, so every header check (version, type, secondary header flag,
   PUS version, time P-field, millisecond of day, known APID) is one vectorised comparison;
2. deduplication on (APID, sequence count, generation time), the key the architecture names: a
   table per APID of the generation time last seen at each of the 16,384 sequence counts (a
   played-back copy of a packet already received in real time is dropped);
3. sequence checks per (APID, VC) in reception order, modulo 2¹⁴: a jump forward of up to 8,192 is a
   gap (packets missing), more is a count running backwards; a repeated count with a different
   time is a sequence duplicate. Each raises at most one ground event per batch and stream;
4. housekeeping and science packets are grouped by definition (APID, service, subtype, SID) and
   decoded with the mission database's compiled codecs (``PacketCodec.decode_buffer``) over
   one buffer of whole packets per group; calibration and limit checks are vectorised too;
5. events (5,x), verification reports (1,x) and are-you-alive reports (17,2) are few and decoded
   one by one with ``mission.mdb``.

A bad packet never stops the stage: its ``ProtocolError`` (from the project's own parsers, for the
exact reason and numbers) goes to the quarantine with the packet's bytes.
"""

from __future__ import annotations

import operator
from binascii import crc_hqx
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from ground.archive import QuarantineRecord
from ground.ingest import quarantine
from ground.ingest.columns import PacketColumns
from ground.ingest.frames import FrameOutput
from ground.ingest.sequence import DEFAULT_WINDOW, SequenceTracker
from ground.model import EventView, SampleArrays
from ground.processing import events as ev
from ground.processing.alarms import AlarmManager
from ground.processing.limits import LimitCheck
from ground.processing.state import IngestCounters
from ground.processing.verification import VerificationReport, parse_verification
from mission.ccsds.crc import CRC_INIT
from mission.ccsds.errors import (
    HeaderFieldError,
    LengthMismatchError,
    ProtocolError,
    UnknownApidError,
    UnknownPacketError,
)
from mission.ccsds.pus import PEC_LEN, TM_DATA_OFFSET, TM_HEADER_LEN, TM_MIN_LEN, parse_tm_packet
from mission.ccsds.timecode import CDS_UNIX_DAY_OFFSET, MS_PER_DAY
from mission.mdb.codec import SID_LENGTH, PacketCodec
from mission.mdb.database import SID_SERVICES, MissionDatabase
from mission.mdb.models import EngType
from mission.mdb.packets import decode_event_data, render_message

SEQ_MODULO: Final = 1 << 14
SEQ_MASK: Final = SEQ_MODULO - 1
PLAYBACK_VC: Final = "playback"
EVENT_SERVICE: Final = 5
VERIFICATION_SERVICE: Final = 1
ARE_YOU_ALIVE_REPORT: Final = (17, 2)
NO_TIME: Final = np.iinfo(np.int64).min
_MIN_SID_LEN: Final = TM_MIN_LEN + SID_LENGTH

_HEADER_FIELDS: Final = (
    ("w0", ">u2", 0),
    ("psc", ">u2", 2),
    ("plen", ">u2", 4),
    ("vt", "u1", 6),
    ("svc", "u1", 7),
    ("sub", "u1", 8),
    ("pf", "u1", 13),
    ("day", ">u2", 14),
    ("ms", ">u4", 16),
)


def _header_dtype(length: int) -> np.dtype[np.void]:
    fields = list(_HEADER_FIELDS)
    if length >= _MIN_SID_LEN:
        fields.append(("sid", ">u2", TM_DATA_OFFSET))
    return np.dtype(
        {
            "names": [f[0] for f in fields],
            "formats": [f[1] for f in fields],
            "offsets": [f[2] for f in fields],
            "itemsize": length,
        }
    )


def _packet_key(apid: int, service: int, subtype: int, sid: int) -> int:
    return (apid << 40) | (service << 32) | (subtype << 24) | sid


class EnumLabels(Sequence[str]):
    """The labels of enumerated samples, computed when read (no Python object per sample)."""

    __slots__ = ("_codes", "_labels")

    def __init__(self, codes: NDArray[np.int64], labels: Mapping[int, str]) -> None:
        self._codes = codes
        self._labels = labels

    def _label(self, code: int) -> str:
        label = self._labels.get(code)
        return label if label is not None else f"UNDEFINED_{code}"

    def __len__(self) -> int:
        return len(self._codes)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._label(c) for c in self._codes[index].tolist()]
        return self._label(int(self._codes[index]))

    def __iter__(self) -> Iterator[str]:
        label = self._label
        return (label(c) for c in self._codes.tolist())


@dataclass(frozen=True, slots=True)
class _Entry:
    codec: PacketCodec
    length: int
    spacecraft: str
    names: tuple[str, ...]
    types: tuple[EngType, ...]
    limits: tuple[LimitCheck | None, ...]
    labels: tuple[Mapping[int, str] | None, ...]


@dataclass(slots=True)
class PacketOutput:
    """What the packet stage produced from one batch."""

    samples: list[SampleArrays] = field(default_factory=list)
    packets: PacketColumns = field(default_factory=PacketColumns)
    """The archive's packet index entries of the accepted packets."""
    events: list[EventView] = field(default_factory=list)
    verifications: list[VerificationReport] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    sample_count: int = 0
    newest_generation_time: float | None = None


@dataclass(slots=True)
class _Group:
    """Packets of one length: their joined bytes and positions in the batch."""

    length: int
    positions: NDArray[np.intp]
    buffer: bytes
    header: NDArray[np.void]


class PacketStage:
    """Validation, deduplication, sequence checks and decoding of a batch's packets."""

    def __init__(
        self,
        mdb: MissionDatabase,
        counters: IngestCounters,
        limits: Mapping[str, LimitCheck],
        alarms: AlarmManager | None = None,
        sequence_window: int = DEFAULT_WINDOW,
        *,
        records: bool = True,
    ) -> None:
        self.mdb = mdb
        self.records = records
        """Build the archive's packet index columns (off: decoding only, e.g. benchmarks)."""
        self.counters = counters
        self.alarms = alarms
        self._known_apid = np.zeros(0x800, dtype=bool)
        for apid in mdb.apids:
            self._known_apid[apid] = True
        self._entries: dict[int, _Entry] = {}
        for (apid, service, subtype, sid), packet in mdb.packet_by_key.items():
            codec = mdb.codecs[packet.name]
            length = TM_HEADER_LEN + codec.source_length + PEC_LEN
            params = codec.parameters
            self._entries[_packet_key(apid, service, subtype, sid)] = _Entry(
                codec=codec,
                length=length,
                spacecraft=mdb.apid_vehicle.get(apid, packet.vehicle),
                names=codec.names,
                types=tuple(p.type for p in params),
                limits=tuple(
                    lim if (lim := limits.get(p.name)) is not None and lim.enabled else None
                    for p in params
                ),
                labels=tuple(p.enumeration if p.type is EngType.ENUM else None for p in params),
            )
        self._header_dtypes: dict[int, np.dtype[np.void]] = {}
        self.seen: dict[int, NDArray[np.int64]] = {}
        """APID → generation time (ms) last seen at each sequence count."""
        self.sequences = SequenceTracker(sequence_window)
        self._playback = frozenset(
            (sc.name, vc.vcid)
            for sc in mdb.spacecraft.values()
            for vc in sc.virtual_channels
            if vc.name == PLAYBACK_VC
        )

    # ------------------------------------------------------------------ state for restarts
    def snapshot(self) -> dict[str, Any]:
        return {"sequences": self.sequences.snapshot()}

    def restore(self, saved: Mapping[str, Any]) -> None:
        sequences = saved.get("sequences", {})
        if isinstance(sequences, dict):
            self.sequences.restore(sequences)

    # ------------------------------------------------------------------ helpers
    def _dtype(self, length: int) -> np.dtype[np.void]:
        dtype = self._header_dtypes.get(length)
        if dtype is None:
            dtype = self._header_dtypes[length] = _header_dtype(length)
        return dtype

    def _explain(self, packet: bytes) -> ProtocolError:
        """The exact error of a packet the vectorised checks refused (rare path)."""
        try:
            tm = parse_tm_packet(packet)
        except ProtocolError as exc:
            return exc
        if not self._known_apid[tm.apid]:
            return UnknownApidError(tm.apid)
        return HeaderFieldError("pus_tm", "header", 0, "a valid PUS-C TM header")

    def _reject(
        self,
        out: PacketOutput,
        frames: FrameOutput,
        position: int,
        error: ProtocolError,
        extra: str = "",
    ) -> None:
        meta = frames.metas[frames.packet_frames[position]]
        reason = quarantine.packet_reason(error)
        self.counters.errors[reason] += 1
        self.counters.quarantined += 1
        detail = f"{error} (in frame {meta.frame_hash.hex()}, VC {meta.vcid}{extra})"
        out.quarantine.append(
            quarantine.record(
                meta.reception_time, meta.topic, reason, detail, frames.packets[position]
            )
        )

    # ------------------------------------------------------------------ the stage
    def process(self, frames: FrameOutput) -> PacketOutput:
        out = PacketOutput()
        packets = frames.packets
        n = len(packets)
        if n == 0:
            return out
        counters = self.counters
        lengths = np.fromiter(map(len, packets), dtype=np.int64, count=n)
        crcs = np.fromiter(map(crc_hqx, packets, repeat(CRC_INIT, n)), dtype=np.int64, count=n)
        frame_of = np.asarray(frames.packet_frames, dtype=np.intp)
        frame_vc = np.fromiter((m.vcid for m in frames.metas), dtype=np.int64)
        frame_rt = np.fromiter((m.reception_time for m in frames.metas), dtype=np.float64)
        vc_all = frame_vc[frame_of]
        apid_all = np.zeros(n, dtype=np.int64)
        seq_all = np.zeros(n, dtype=np.int64)
        gen_all = np.zeros(n, dtype=np.int64)
        svc_all = np.zeros(n, dtype=np.int64)
        sub_all = np.zeros(n, dtype=np.int64)
        sid_all = np.full(n, -1, dtype=np.int64)
        ok_all = np.zeros(n, dtype=bool)
        group_all = np.zeros(n, dtype=np.intp)
        groups: list[_Group] = []

        order = np.argsort(lengths, kind="stable")
        sorted_lengths = lengths[order]
        bounds = np.flatnonzero(sorted_lengths[1:] != sorted_lengths[:-1]) + 1
        for positions in np.split(order, bounds):
            length = int(lengths[positions[0]])
            if length < TM_MIN_LEN:
                continue  # all refused below (truncated)
            picked = operator.itemgetter(*positions.tolist())(packets)
            buffer = b"".join(picked) if len(positions) > 1 else picked
            header = np.frombuffer(buffer, dtype=self._dtype(length))
            w0 = header["w0"].astype(np.int64)
            apid = w0 & 0x7FF
            ok = (
                ((w0 >> 11) == 1)
                & (header["plen"].astype(np.int64) + 7 == length)
                & (crcs[positions] == 0)
                & ((header["vt"] >> 4) == 2)
                & (header["pf"] == 0x40)
                & (header["ms"] < MS_PER_DAY)
                & self._known_apid[apid]
            )
            apid_all[positions] = apid
            seq_all[positions] = header["psc"] & SEQ_MASK
            gen_all[positions] = (
                header["day"].astype(np.int64) - CDS_UNIX_DAY_OFFSET
            ) * MS_PER_DAY + header["ms"].astype(np.int64)
            svc_all[positions] = header["svc"]
            sub_all[positions] = header["sub"]
            if length >= _MIN_SID_LEN:
                sid_all[positions] = header["sid"]
            ok_all[positions] = ok
            group_all[positions] = len(groups)
            groups.append(_Group(length, positions, buffer, header))

        for position in np.flatnonzero(~ok_all).tolist():
            self._reject(out, frames, position, self._explain(packets[position]))

        checked = np.fromiter(
            ((m.spacecraft, m.vcid) not in self._playback for m in frames.metas), dtype=bool
        )
        self._dedup_and_sequence(out, frames, ok_all, apid_all, seq_all, gen_all, checked[frame_of])
        accepted = np.flatnonzero(ok_all)
        if not len(accepted):
            return out

        # Housekeeping and science: group by definition and decode column-wise.
        sid_service = np.zeros(n, dtype=bool)
        for service in SID_SERVICES:
            sid_service |= svc_all == service
        sid_service &= sid_all >= 0
        decodable = ok_all & sid_service
        keys = (apid_all << 40) | (svc_all << 32) | (sub_all << 24) | np.maximum(sid_all, 0)
        record_rows: list[tuple[NDArray[np.intp], str]] = []
        candidates = np.flatnonzero(decodable)
        by_key = candidates[np.argsort(keys[candidates], kind="stable")]
        sorted_keys = keys[by_key]
        cuts = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
        for same_key in np.split(by_key, cuts) if len(by_key) else ():
            members = same_key
            key = int(keys[members[0]])
            entry = self._entries.get(key)
            if entry is None:
                for position in members.tolist():
                    error = UnknownPacketError(
                        int(apid_all[position]),
                        int(svc_all[position]),
                        int(sub_all[position]),
                        int(sid_all[position]),
                    )
                    self._reject(out, frames, position, error)
                ok_all[members] = False
                continue
            wrong = lengths[members] != entry.length
            if wrong.any():
                for position in members[wrong].tolist():
                    mismatch = LengthMismatchError(
                        f"packet {entry.codec.name}", entry.length, int(lengths[position])
                    )
                    self._reject(out, frames, position, mismatch)
                ok_all[members[wrong]] = False
                members = members[~wrong]
                if not len(members):
                    continue
            times_ms = gen_all[members]
            if len(members) > 1 and not bool(np.all(times_ms[1:] >= times_ms[:-1])):
                by_time = np.argsort(times_ms, kind="stable")
                members, times_ms = members[by_time], times_ms[by_time]
            group = groups[int(group_all[members[0]])]
            if len(members) == len(group.positions) and np.array_equal(members, group.positions):
                buffer = group.buffer  # the whole length group, in order: no copy
            elif len(members) == 1:
                buffer = packets[int(members[0])]
            else:
                buffer = b"".join(operator.itemgetter(*members.tolist())(packets))
            self._decode_group(out, entry, buffer, times_ms / 1000.0, members, frame_of, frame_rt)
            record_rows.append((members, entry.codec.name))

        # Events, verification reports, are-you-alive reports: few, one by one.
        for position in np.flatnonzero(ok_all & ~sid_service).tolist():
            if not self._other(
                out,
                frames,
                position,
                int(svc_all[position]),
                int(sub_all[position]),
                int(apid_all[position]),
                int(seq_all[position]),
                int(gen_all[position]) / 1000.0,
            ):
                ok_all[position] = False

        accepted = np.flatnonzero(ok_all)
        counters.packets += len(accepted)
        counters.samples += out.sample_count
        if len(accepted):
            newest = int(gen_all[accepted].max())
            out.newest_generation_time = newest / 1000.0
            for apid, count in zip(*np.unique(apid_all[accepted], return_counts=True), strict=True):
                counters.per_apid[str(int(apid))] += int(count)
        if self.records:
            self._packet_columns(
                out,
                frames,
                accepted,
                apid_all,
                seq_all,
                gen_all,
                svc_all,
                sub_all,
                vc_all,
                frame_of,
                frame_rt,
                record_rows,
            )
        return out

    # ------------------------------------------------------------------ steps
    def _dedup_and_sequence(
        self,
        out: PacketOutput,
        frames: FrameOutput,
        ok_all: NDArray[np.bool_],
        apid_all: NDArray[np.int64],
        seq_all: NDArray[np.int64],
        gen_all: NDArray[np.int64],
        checked_all: NDArray[np.bool_],
    ) -> None:
        counters = self.counters
        candidates = np.flatnonzero(ok_all)
        if not len(candidates):
            return
        apids = apid_all[candidates]
        for apid in np.unique(apids).tolist():
            positions = candidates[apids == apid]
            seqs = seq_all[positions]
            gens = gen_all[positions]
            seen = self.seen.get(apid)
            if seen is None:
                seen = self.seen[apid] = np.full(SEQ_MODULO, NO_TIME, dtype=np.int64)
            duplicate = seen[seqs] == gens
            if int(np.bincount(seqs, minlength=SEQ_MODULO).max()) > 1:
                # A count twice in this batch (rare): the same time too is a duplicate.
                keys = gens * SEQ_MODULO + seqs
                _, first = np.unique(keys, return_index=True)
                within = np.ones(len(keys), dtype=bool)
                within[first] = False
                duplicate |= within
            seen[seqs] = gens
            if duplicate.any():
                dropped = int(duplicate.sum())
                counters.packet_duplicates += dropped
                ok_all[positions[duplicate]] = False
                meta = frames.metas[frames.packet_frames[int(positions[duplicate][0])]]
                out.events.append(
                    ev.ground_event(
                        ev.PACKET_DUPLICATE,
                        self.mdb.apid_vehicle.get(apid, meta.spacecraft),
                        f"{dropped} packet(s) of APID {apid} received again (same sequence count "
                        "and time) and dropped",
                        meta.reception_time,
                        {"apid": apid, "count": dropped},
                    )
                )
                positions = positions[~duplicate]
            if len(positions):
                self._sequence(out, frames, apid, positions, seq_all, checked_all)

    def _sequence(
        self,
        out: PacketOutput,
        frames: FrameOutput,
        apid: int,
        positions: NDArray[np.intp],
        seq_all: NDArray[np.int64],
        checked_all: NDArray[np.bool_],
    ) -> None:
        members = positions[checked_all[positions]]
        if not len(members):
            return
        found = self.sequences.feed(apid, seq_all[members])
        if not found.anomalies:
            return
        counters = self.counters
        spacecraft = self.mdb.apid_vehicle.get(apid, "")
        meta = frames.metas[frames.packet_frames[int(members[-1])]]
        if found.missing:
            counters.packet_gaps += found.gaps
            counters.packet_gap_packets += found.missing
            out.events.append(
                ev.ground_event(
                    ev.PACKET_GAP,
                    spacecraft,
                    f"{found.missing} packet(s) missing on APID {apid} "
                    f"({found.gaps} gap(s) in the sequence count)",
                    meta.reception_time,
                    {"apid": apid, "missing": found.missing, "gaps": found.gaps},
                )
            )
        odd = found.late + found.repeats + found.resets
        if odd:
            counters.packet_out_of_order += odd
            out.events.append(
                ev.ground_event(
                    ev.PACKET_OUT_OF_ORDER,
                    spacecraft,
                    f"sequence count of APID {apid}: {found.late} late, {found.repeats} "
                    f"repeated, {found.resets} restart(s)",
                    meta.reception_time,
                    {
                        "apid": apid,
                        "late": found.late,
                        "repeats": found.repeats,
                        "resets": found.resets,
                    },
                )
            )

    def _decode_group(
        self,
        out: PacketOutput,
        entry: _Entry,
        buffer: bytes,
        times: NDArray[np.float64],
        members: NDArray[np.intp],
        frame_of: NDArray[np.intp],
        frame_rt: NDArray[np.float64],
    ) -> None:
        count = len(members)
        decoded = entry.codec.decode_buffer(buffer, count, TM_DATA_OFFSET, entry.length)
        reception = float(frame_rt[frame_of[members]].max())
        zeros = np.zeros(count, dtype=np.int8)
        alarms = self.alarms
        samples = out.samples
        spacecraft = entry.spacecraft
        raw_map, eng_map = decoded.raw, decoded.eng
        for name, eng_type, limit, labels in zip(
            entry.names, entry.types, entry.limits, entry.labels, strict=True
        ):
            raw = raw_map[name]
            eng = eng_map[name]
            if eng.dtype != np.float64:
                eng = eng.astype(np.float64)
            codes = limit.check(eng, raw) if limit is not None else zeros
            samples.append(
                SampleArrays(
                    name=name,
                    spacecraft=spacecraft,
                    generation_times=times,
                    reception_time=reception,
                    raw_values=raw,
                    eng_values=eng,
                    monitoring=codes,
                    labels=EnumLabels(raw, labels) if labels is not None else None,
                )
            )
            if alarms is not None and ((limit is not None and codes.any()) or alarms.is_open(name)):
                alarms.update(
                    name, spacecraft, times, codes, _value_getter(eng_type, raw, eng, labels)
                )
        out.sample_count += count * len(entry.names)

    def _other(
        self,
        out: PacketOutput,
        frames: FrameOutput,
        position: int,
        service: int,
        subtype: int,
        apid: int,
        seq_count: int,
        generation_time: float,
    ) -> bool:
        """Decode one event, verification or are-you-alive packet; False if refused."""
        packet = frames.packets[position]
        meta = frames.metas[frames.packet_frames[position]]
        data = packet[TM_DATA_OFFSET:-PEC_LEN]
        spacecraft = self.mdb.apid_vehicle.get(apid, meta.spacecraft)
        try:
            if service == EVENT_SERVICE:
                event, args = decode_event_data(self.mdb, apid, subtype, data)
                out.events.append(
                    EventView(
                        id=event.id,
                        name=event.name,
                        spacecraft=spacecraft,
                        severity=str(event.severity),
                        message=render_message(event, args),
                        generation_time=generation_time,
                        reception_time=meta.reception_time,
                        args=dict(args),
                    )
                )
                self.counters.events += 1
            elif service == VERIFICATION_SERVICE:
                out.verifications.append(
                    parse_verification(
                        data,
                        subtype,
                        spacecraft=spacecraft,
                        generation_time=generation_time,
                        reception_time=meta.reception_time,
                        source_apid=apid,
                        source_seq_count=seq_count,
                        station=meta.station,
                        failure_codes=self.mdb.failure_codes,
                    )
                )
                self.counters.verification_reports += 1
            elif (service, subtype) != ARE_YOU_ALIVE_REPORT:
                raise UnknownPacketError(apid, service, subtype, None)
        except ProtocolError as exc:
            self._reject(out, frames, position, exc)
            return False
        return True

    def _packet_columns(
        self,
        out: PacketOutput,
        frames: FrameOutput,
        accepted: NDArray[np.intp],
        apid_all: NDArray[np.int64],
        seq_all: NDArray[np.int64],
        gen_all: NDArray[np.int64],
        svc_all: NDArray[np.int64],
        sub_all: NDArray[np.int64],
        vc_all: NDArray[np.int64],
        frame_of: NDArray[np.intp],
        frame_rt: NDArray[np.float64],
        record_rows: list[tuple[NDArray[np.intp], str]],
    ) -> None:
        names = np.empty(len(frames.packets), dtype=object)
        for members, name in record_rows:
            names[members] = name
        apids = apid_all[accepted]
        services, subtypes = svc_all[accepted], sub_all[accepted]
        vehicle = self.mdb.apid_vehicle
        spacecraft = [vehicle.get(a, "") for a in apids.tolist()]
        packet_names = names[accepted].tolist()
        for i in [i for i, name in enumerate(packet_names) if name is None]:
            packet_names[i] = f"{spacecraft[i]}.pus.{services[i]}_{subtypes[i]}"
        hashes = [m.frame_hash for m in frames.metas]
        frames_of = frame_of[accepted]
        out.packets = PacketColumns(
            generation_time=gen_all[accepted] / 1000.0,
            reception_time=frame_rt[frames_of],
            apid=apids,
            seq_count=seq_all[accepted],
            service=services,
            subtype=subtypes,
            vcid=vc_all[accepted],
            spacecraft=spacecraft,
            packet_name=packet_names,
            frame_hash=[hashes[f] for f in frames_of.tolist()],
        )


def _value_getter(
    eng_type: EngType,
    raw: NDArray[Any],
    eng: NDArray[np.float64],
    labels: Mapping[int, str] | None,
) -> Callable[[int], float | int | str | bool]:
    """The engineering value of sample ``i`` as the API shows it (label, bool, int or float)."""
    if labels is not None:

        def label(i: int) -> str:
            code = int(raw[i])
            found = labels.get(code)
            return found if found is not None else f"UNDEFINED_{code}"

        return label
    if eng_type is EngType.BOOL:
        return lambda i: bool(eng[i])
    if eng_type is EngType.INT:
        return lambda i: int(eng[i])
    return lambda i: float(eng[i])

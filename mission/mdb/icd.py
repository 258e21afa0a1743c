"""Render the Interface Control Document (``docs/icd.md``) from the mission database.

The output is deterministic: definitions keep their database order where the order means
something (packet layouts, arguments) and are sorted otherwise. ``lupex mdb docs`` writes it and a
test fails when the committed copy drifts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mission import topics
from mission.ccsds.clcw import CLCW_LEN
from mission.ccsds.pus import PEC_LEN, TC_HEADER_LEN, TM_HEADER_LEN
from mission.ccsds.tcframe import TC_FECF_LEN, TC_MAX_FRAME_LEN, TC_PRIMARY_HEADER_LEN
from mission.ccsds.tmframe import DEFAULT_FRAME_LEN, FECF_LEN, TM_PRIMARY_HEADER_LEN
from mission.mdb.calibration import make_calibrator
from mission.mdb.codec import ArgumentCodec, PacketCodec
from mission.mdb.database import MissionDatabase
from mission.mdb.models import ArgumentDef, EngType, ParameterDef, Severity


def _cell(value: object) -> str:
    text = str(value).replace("|", "\\|").replace("\n", " ").strip()
    return text if text else "–"


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _num(value: float) -> str:
    return f"{value:g}"


def _hex(value: int, width: int = 3) -> str:
    return f"0x{value:0{width}X}"


def _offset(byte_offset: int, bit_in_byte: int, bits: int) -> str:
    if bit_in_byte == 0 and bits % 8 == 0:
        return str(byte_offset)
    return f"{byte_offset}.{bit_in_byte}"


def _limits(p: ParameterDef) -> str:
    parts: list[str] = []
    if p.limits is not None:
        lim = p.limits
        for label, low, high in (
            ("yellow", lim.yellow_low, lim.yellow_high),
            ("red", lim.red_low, lim.red_high),
        ):
            bounds = [f"<{_num(low)}"] if low is not None else []
            bounds += [f">{_num(high)}"] if high is not None else []
            if bounds:
                parts.append(f"{label} {' or '.join(bounds)}")
    parts += [
        f"{str(a.state).lower() if isinstance(a.state, bool) else a.state}→{a.severity.value}"
        for a in p.alarms
    ]
    return "; ".join(parts)


def _typical(p: ParameterDef) -> str:
    t = p.typical
    if t is None:
        return ""
    if isinstance(t, tuple):
        return f"{_num(t[0])}…{_num(t[1])}"
    if isinstance(t, bool):
        return str(t).lower()
    if isinstance(t, float):
        return _num(t)
    return t


def _calibration(p: ParameterDef) -> str:
    cal = make_calibrator(
        p.encoding,
        p.type,
        polynomial=p.calibration.polynomial if p.calibration else None,
        enumeration=p.calibration.enumeration if p.calibration else None,
    )
    return cal.describe()


def _argument_range(arg: ArgumentDef) -> str:
    if arg.type is EngType.ENUM:
        return ", ".join(f"{raw}={label}" for raw, label in (arg.enumeration or {}).items())
    if arg.type is EngType.BOOL:
        return "true / false"
    low = _num(arg.min) if arg.min is not None else "encoding min"
    high = _num(arg.max) if arg.max is not None else "encoding max"
    return f"{low}…{high}"


def _default(arg: ArgumentDef) -> str:
    if arg.default is None:
        return "required"
    if isinstance(arg.default, bool):
        return str(arg.default).lower()
    if isinstance(arg.default, float):
        return _num(arg.default)
    return str(arg.default)


def _argument_rows(codec: ArgumentCodec) -> list[list[object]]:
    return [
        [
            _offset(f.byte_offset, f.bit_in_byte, f.bits),
            f"`{arg.name}`",
            arg.encoding,
            arg.type.value,
            arg.units,
            _argument_range(arg),
            _default(arg),
            arg.description,
        ]
        for f, arg in zip(codec.layout, codec.arguments, strict=True)
    ]


def _intro() -> list[str]:
    return [
        "# LUPEX ground-segment mock: Interface Control Document",
        "",
        "> Generated from the mission database (`mission/mdb/data/*.yaml`) by `lupex mdb docs`.",
        "> Do not edit by hand: change the database and regenerate; a test fails on drift.",
        "",
        "This document describes every interface between the simulated spacecraft (rover and "
        "lander), the MQTT broker and the ground: topics and payloads, transfer frames, packets, "
        "and every packet, parameter, command and event of the mission database. All multi-octet "
        "fields are big-endian; bit 0 is the most significant bit of an octet. Times inside the "
        "code base are seconds since the Unix epoch (UTC); on the wire they are CCSDS CDS short "
        "(whole milliseconds).",
        "",
        "Contents: 1 MQTT · 2 Space link · 3 Packets · 4 Spacecraft and APIDs · 5 Services · "
        "6 Telemetry packets · 7 Parameters · 8 Commands · 9 Events · 10 Verification and "
        "failure codes · 11 Ground stations",
        "",
    ]


def _mqtt() -> list[str]:
    root = topics.ROOT
    out = ["## 1. MQTT topics and payloads", ""]
    out += _table(
        ["topic", "publisher → subscriber", "QoS", "retained", "payload"],
        [
            [
                f"`{root}/downlink/{{station}}/{{spacecraft}}`",
                "spacecraft mock → ground",
                topics.DOWNLINK_QOS,
                "no",
                "one TM transfer frame (binary, fixed length per spacecraft)",
            ],
            [
                f"`{root}/uplink/{{station}}/{{spacecraft}}`",
                "ground → spacecraft mock",
                topics.UPLINK_QOS,
                "no",
                "one TC transfer frame (binary) carrying one PUS-C TC packet",
            ],
            [
                f"`{root}/link/{{station}}`",
                "spacecraft mock → ground, dashboards",
                1,
                "yes" if topics.LINK_RETAINED else "no",
                "station monitor data, JSON (which spacecraft the station tracks, elevation, "
                "link state, data rates, light time)",
            ],
            [
                f"`{topics.SIM_CONTROL}`",
                "instructor (or the ground for one) → spacecraft mock",
                1,
                "no",
                "fault injection and scenario control, JSON",
            ],
            [
                f"`{topics.SIM_STATUS}`",
                "spacecraft mock → anyone",
                1,
                "yes" if topics.SIM_STATUS_RETAINED else "no",
                "simulation clock, speed factor, active faults and scenario, JSON",
            ],
            [
                f"`{root}/params/{{parameter}}`",
                "ground → anyone (optional)",
                0,
                "no",
                "one decoded parameter, JSON: `parameter`, `generation_time`, `reception_time`, "
                "`raw_value`, `eng_value`, `monitoring_result`",
            ],
        ],
    )
    out += [
        "`{station}` is a ground station id (section 11), `{spacecraft}` a spacecraft name "
        "(`rover`, `lander`), `{parameter}` a parameter name (section 7). A topic level holds "
        "only `A-Z a-z 0-9 _ . -`. Ground ingest workers may share the downlink with the MQTT 5 "
        f"shared subscription `$share/ground/{root}/downlink/#`.",
        "",
    ]
    return out


def _space_link(db: MissionDatabase) -> list[str]:
    data_len = DEFAULT_FRAME_LEN - TM_PRIMARY_HEADER_LEN - CLCW_LEN - FECF_LEN
    out = ["## 2. Space link", "", "### 2.1 TM transfer frame (CCSDS 132.0-B-3)", ""]
    out += _table(
        ["octets", "length", "field", "content"],
        [
            [
                "0–1",
                2,
                "version (2 bits) · SCID (10) · VCID (3) · OCF flag (1)",
                "version 0, OCF 1",
            ],
            ["2", 1, "master channel frame count", "mod 256"],
            ["3", 1, "virtual channel frame count", "mod 256"],
            [
                "4–5",
                2,
                "secondary header flag (1) · sync flag (1) · packet order (1) · segment length id "
                "(2) · first header pointer (11)",
                "0, 0, 0, 0b11; FHP 0x7FF: no packet starts here; 0x7FE: idle frame",
            ],
            [
                f"6–{6 + data_len - 1}",
                data_len,
                "data field",
                "space packets (may span frames); idle packets (APID 0x7FF) fill",
            ],
            [
                f"{6 + data_len}–{6 + data_len + CLCW_LEN - 1}",
                CLCW_LEN,
                "operational control field",
                "CLCW (command link control word)",
            ],
            [
                f"{DEFAULT_FRAME_LEN - FECF_LEN}–{DEFAULT_FRAME_LEN - 1}",
                FECF_LEN,
                "frame error control field",
                "CRC-16-CCITT, polynomial 0x1021, initial 0xFFFF",
            ],
        ],
    )
    out += [f"Total: {DEFAULT_FRAME_LEN} octets.", "", "### 2.2 CLCW (CCSDS 232.0-B-4)", ""]
    out += _table(
        ["bits", "field"],
        [
            ["0", "control word type (0)"],
            ["1–2", "CLCW version (0)"],
            ["3–5", "status field"],
            ["6–7", "COP in effect (1)"],
            ["8–13", "virtual channel id"],
            ["14–15", "spare"],
            ["16", "no RF available"],
            ["17", "no bit lock"],
            ["18", "lockout"],
            ["19", "wait"],
            ["20", "retransmit"],
            ["21–22", "FARM-B counter"],
            ["23", "spare"],
            ["24–31", "report value N(R)"],
        ],
    )
    out += ["### 2.3 TC transfer frame (CCSDS 232.0-B-4)", ""]
    out += _table(
        ["octets", "length", "field"],
        [
            [
                "0–1",
                2,
                "version (2) · bypass flag (1) · control command flag (1) · spare (2) · SCID (10)",
            ],
            ["2–3", 2, "VCID (6) · frame length − 1 (10)"],
            ["4", 1, "frame sequence number N(S)"],
            [f"{TC_PRIMARY_HEADER_LEN}–", "n", "data field: one PUS-C TC packet"],
            ["last 2", TC_FECF_LEN, "FECF, CRC-16-CCITT"],
        ],
    )
    out += [
        f"At most {TC_MAX_FRAME_LEN} octets. Type-BD frames (bypass, data) are used; the FARM "
        "state comes back in the CLCW.",
        "",
        "### 2.4 Spacecraft and virtual channels",
        "",
    ]
    rows = []
    for sc in sorted(db.spacecraft.values(), key=lambda s: s.name):
        for vc in sorted(sc.virtual_channels, key=lambda v: v.vcid):
            rows.append(
                [
                    sc.name,
                    f"{sc.scid} ({_hex(sc.scid)})",
                    sc.tm_frame_length,
                    vc.vcid,
                    vc.name,
                    vc.description,
                ]
            )
    out += _table(["spacecraft", "SCID", "TM frame octets", "VCID", "name", "content"], rows)
    return out


def _packets_section() -> list[str]:
    out = ["## 3. Packets", "", "### 3.1 Space packet primary header (CCSDS 133.0-B-2)", ""]
    out += _table(
        ["octets", "field"],
        [
            [
                "0–1",
                "version (3 bits, 0) · type (1: 0 TM, 1 TC) · secondary header flag (1) · "
                "APID (11)",
            ],
            ["2–3", "sequence flags (2, 0b11 unsegmented) · sequence count (14)"],
            ["4–5", "packet data length = octets after the primary header − 1"],
        ],
    )
    out += ["### 3.2 PUS-C TM packet (ECSS-E-ST-70-41C)", ""]
    out += _table(
        ["octets", "length", "field"],
        [
            ["0–5", 6, "primary header (type 0)"],
            ["6", 1, "PUS version (4 bits, 2) · time reference status (4)"],
            ["7", 1, "service type"],
            ["8", 1, "service subtype"],
            ["9–10", 2, "message type counter"],
            ["11–12", 2, "destination id"],
            ["13", 1, "time P-field 0x40 (CDS, epoch 1958-01-01, 16-bit day, ms of day)"],
            ["14–15", 2, "CDS day since 1958-01-01"],
            ["16–19", 4, "millisecond of day"],
            [f"{TM_HEADER_LEN}–", "n", "source data (HK and science: SID u16 first)"],
            ["last 2", PEC_LEN, "packet error control, CRC-16-CCITT over the whole packet"],
        ],
    )
    out += [
        "CDS day 4383 is 1970-01-01. A receiver can check the CRC by running it over the whole "
        "packet, PEC included: the result is 0.",
        "",
        "### 3.3 PUS-C TC packet",
        "",
    ]
    out += _table(
        ["octets", "length", "field"],
        [
            ["0–5", 6, "primary header (type 1)"],
            [
                "6",
                1,
                "PUS version (4 bits, 2) · acknowledgement flags (4: acceptance, start, "
                "progress, completion)",
            ],
            ["7", 1, "service type"],
            ["8", 1, "service subtype"],
            ["9–10", 2, "source id"],
            [f"{TC_HEADER_LEN}–", "n", "application data (PUS 8,1: function id u16 first)"],
            ["last 2", PEC_LEN, "packet error control, CRC-16-CCITT"],
        ],
    )
    return out


def _apids(db: MissionDatabase) -> list[str]:
    out = ["## 4. Spacecraft and APIDs", ""]
    out += _table(
        ["spacecraft", "SCID", "TC max frame", "description"],
        [
            [s.name, _hex(s.scid), s.tc_max_frame_length, s.description]
            for s in sorted(db.spacecraft.values(), key=lambda s: s.name)
        ],
    )
    out += _table(
        ["APID", "name", "spacecraft", "role", "description"],
        [
            [
                f"{a.apid} ({_hex(a.apid)})",
                a.name,
                db.vehicle_of_apid(a.apid),
                a.role.value,
                a.description,
            ]
            for a in sorted(db.apids.values(), key=lambda a: a.apid)
        ],
    )
    out += ["APID 2047 (0x7FF) is the idle packet.", ""]
    return out


def _services() -> list[str]:
    out = ["## 5. PUS services", ""]
    out += _table(
        ["service", "subtype", "direction", "meaning"],
        [
            [1, "1 / 2", "TM", "acceptance success / failure"],
            [1, "3 / 4", "TM", "execution start success / failure"],
            [1, "5 / 6", "TM", "execution progress success / failure (step u8)"],
            [1, "7 / 8", "TM", "execution completion success / failure"],
            [3, 25, "TM", "housekeeping report (SID u16 + parameters)"],
            [3, 31, "TC", "modify the generation period of a structure"],
            [5, "1 / 2 / 3 / 4", "TM", "event report, severity info / low / medium / high"],
            [8, 1, "TC", "perform a function (function id u16 + arguments)"],
            [15, 9, "TC", "start by-time-range retrieval of a packet store (playback on VC 2)"],
            [15, 11, "TC", "delete packet store content"],
            [15, 17, "TC", "abort retrievals"],
            [17, 1, "TC", "are-you-alive connection test"],
            [17, 2, "TM", "are-you-alive report (no data)"],
            [128, 1, "TM", "science report, mission specific (SID u16 + parameters)"],
        ],
    )
    return out


def _packet_table(db: MissionDatabase, codec: PacketCodec) -> list[str]:
    pkt = codec.packet
    total = TM_HEADER_LEN + codec.source_length + PEC_LEN
    out = [
        f"### `{pkt.name}`",
        "",
        pkt.description,
        "",
        f"APID {pkt.apid} ({_hex(pkt.apid)}) · PUS {pkt.service},{pkt.subtype} · SID {pkt.sid} · "
        f"VC {pkt.vcid} · period {_num(pkt.period)} s · source data {codec.source_length} octets "
        f"· packet {total} octets",
        "",
    ]
    rows: list[list[object]] = [["0", 16, "SID", "uint16", "", "", f"= {pkt.sid}"]]
    for field, p in zip(codec.layout, codec.parameters, strict=True):
        rows.append(
            [
                _offset(field.byte_offset, field.bit_in_byte, field.bits),
                field.bits,
                f"`{p.name}`",
                p.encoding,
                p.type.value,
                p.units,
                _calibration(p) if p.type is not EngType.FLOAT or p.calibration else "",
            ]
        )
    out += _table(
        ["octet[.bit]", "bits", "parameter", "encoding", "type", "units", "calibration"], rows
    )
    return out


def _telemetry(db: MissionDatabase) -> list[str]:
    out = [
        "## 6. Telemetry packets",
        "",
        "Offsets count from the start of the source data (octet 20 of the packet); `n.b` means "
        "bit b (0 = most significant) of octet n. Fields follow each other without padding; "
        "sub-octet fields are packed most significant bit first.",
        "",
    ]
    out += _table(
        ["packet", "APID", "service", "SID", "VC", "period s", "octets"],
        [
            [
                f"`{p.name}`",
                _hex(p.apid),
                f"{p.service},{p.subtype}",
                p.sid,
                p.vcid,
                _num(p.period),
                TM_HEADER_LEN + db.codecs[p.name].source_length + PEC_LEN,
            ]
            for p in sorted(db.packets.values(), key=lambda p: (p.apid, p.sid))
        ],
    )
    for packet in sorted(db.packets.values(), key=lambda p: (p.apid, p.sid)):
        out += _packet_table(db, db.codecs[packet.name])
    return out


def _parameters(db: MissionDatabase) -> list[str]:
    out = [
        "## 7. Parameters",
        "",
        "Limits are in engineering units: `yellow <a or >b` means out of limits (warning) below a "
        "or above b; red limits are critical. `typical` is the nominal value or range (the "
        "simulator's nominal). The period is the default period of the packet.",
        "",
    ]
    by_group: dict[tuple[str, str], list[ParameterDef]] = {}
    for p in db.parameters.values():
        by_group.setdefault((p.vehicle, p.subsystem), []).append(p)
    for (vehicle, subsystem), params in sorted(by_group.items()):
        out += [f"### {vehicle}.{subsystem}", ""]
        out += _table(
            [
                "parameter",
                "type",
                "encoding",
                "units",
                "calibration",
                "limits / alarms",
                "typical",
                "packet",
                "period s",
                "description",
            ],
            [
                [
                    f"`{p.name}`",
                    p.type.value,
                    p.encoding,
                    p.units,
                    _calibration(p),
                    _limits(p),
                    _typical(p),
                    db.packet_of(p.name).name,
                    _num(db.update_period(p.name)),
                    p.description,
                ]
                for p in sorted(params, key=lambda p: p.name)
            ],
        )
    return out


def _commands(db: MissionDatabase) -> list[str]:
    out = [
        "## 8. Commands",
        "",
        "Application data offsets count from the start of the application data (octet 11 of the "
        "TC packet). Critical commands need an explicit confirmation before the ground releases "
        "them. The execution time is the longest expected on board (verification time-out).",
        "",
    ]
    out += _table(
        ["command", "APID", "service", "function id", "criticality", "execution s"],
        [
            [
                f"`{c.name}`",
                _hex(c.apid),
                f"{c.service},{c.subtype}",
                _hex(c.function_id, 4) if c.function_id is not None else "",
                c.criticality.value,
                _num(c.execution_time),
            ]
            for c in sorted(db.commands.values(), key=lambda c: c.name)
        ],
    )
    for c in sorted(db.commands.values(), key=lambda c: c.name):
        codec = db.command_codecs[c.name]
        out += [
            f"### `{c.name}`",
            "",
            c.description,
            "",
            f"APID {c.apid} ({_hex(c.apid)}) · PUS {c.service},{c.subtype}"
            + (f" · function id {_hex(c.function_id, 4)}" if c.function_id is not None else "")
            + f" · {c.criticality.value} · execution ≤ {_num(c.execution_time)} s · application "
            f"data {codec.length} octets",
            "",
        ]
        if c.arguments:
            rows = _argument_rows(codec)
            if c.function_id is not None:
                rows.insert(0, ["0", "function id", "uint16", "", "", f"= {c.function_id}", "", ""])
            out += _table(
                [
                    "octet[.bit]",
                    "argument",
                    "encoding",
                    "type",
                    "units",
                    "range / values",
                    "default",
                    "description",
                ],
                rows,
            )
        else:
            out += [
                "No arguments"
                + (
                    f" (application data: function id {c.function_id})."
                    if c.function_id is not None
                    else "."
                ),
                "",
            ]
        if c.effects.parameters or c.effects.events:
            effects = [f"`{n}`" for n in (*c.effects.parameters, *c.effects.events)]
            out += ["Expect changes in: " + ", ".join(effects) + ".", ""]
    return out


def _events(db: MissionDatabase) -> list[str]:
    out = [
        "## 9. Events",
        "",
        "Event reports are PUS 5,x on the vehicle's obsw APID; the subtype is the severity "
        "(" + ", ".join(f"{s.value} 5,{s.subtype}" for s in Severity) + "). The report data is "
        "the event id (u16) followed by the arguments in order, without padding.",
        "",
    ]
    rows = []
    for e in sorted(db.events.values(), key=lambda e: e.id):
        args = ", ".join(
            f"{a.name}: {a.encoding}"
            + (
                f" ({', '.join(f'{k}={v}' for k, v in a.enumeration.items())})"
                if a.enumeration
                else ""
            )
            + (f" [{a.units}]" if a.units else "")
            for a in e.arguments
        )
        rows.append(
            [
                _hex(e.id, 4),
                f"`{e.name}`",
                f"{e.severity.value} (5,{e.severity.subtype})",
                f"`{e.message}`",
                args,
                e.description,
            ]
        )
    out += _table(["id", "event", "severity", "message", "arguments", "description"], rows)
    return out


def _verification(db: MissionDatabase) -> list[str]:
    out = [
        "## 10. Request verification (PUS 1) and failure codes",
        "",
        "Each report starts with the request id of the TC: its packet id (u16: version, type, "
        "secondary header flag, APID) and packet sequence control (u16: flags, sequence count).",
        "",
    ]
    out += _table(
        ["subtype", "report", "data after the request id"],
        [
            ["1,1", "acceptance success", "–"],
            ["1,2", "acceptance failure", "failure code u16 · failure data 4 octets"],
            ["1,3", "start success", "–"],
            ["1,4", "start failure", "failure code u16 · failure data 4 octets"],
            ["1,5", "progress success", "step u8"],
            ["1,6", "progress failure", "step u8 · failure code u16 · failure data 4 octets"],
            ["1,7", "completion success", "–"],
            ["1,8", "completion failure", "failure code u16 · failure data 4 octets"],
        ],
    )
    out += _table(
        ["code", "name", "description"],
        [
            [f.code, f.name, f.description]
            for f in sorted(db.failure_codes.values(), key=lambda f: f.code)
        ],
    )
    return out


def _stations(db: MissionDatabase) -> list[str]:
    out = [
        "## 11. Ground stations",
        "",
        "Station ids are the `{station}` level of the MQTT topics. Positions are geodetic "
        "(WGS-84 latitude, east longitude, height).",
        "",
    ]
    out += _table(
        [
            "id",
            "name",
            "agency",
            "dish m",
            "lat °",
            "lon °",
            "alt m",
            "mask °",
            "band",
            "uplink MHz",
            "downlink MHz",
            "G/T dB/K",
            "description",
        ],
        [
            [
                s.id,
                s.name,
                s.agency,
                _num(s.dish_m),
                f"{s.lat_deg:.4f}",
                f"{s.lon_deg:.4f}",
                _num(s.alt_m),
                _num(s.elevation_mask_deg),
                s.band,
                f"{_num(s.uplink_mhz[0])}–{_num(s.uplink_mhz[1])}",
                f"{_num(s.downlink_mhz[0])}–{_num(s.downlink_mhz[1])}",
                _num(s.g_over_t_dbk),
                s.description,
            ]
            for s in sorted(db.stations.values(), key=lambda s: s.id)
        ],
    )
    return out


def _summary(db: MissionDatabase) -> list[str]:
    counts = db.summary()
    return [
        "Database summary: "
        + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
        + ".",
        "",
    ]


def render_icd(db: MissionDatabase) -> str:
    """The whole ICD as Markdown."""
    lines = [
        *_intro(),
        *_summary(db),
        *_mqtt(),
        *_space_link(db),
        *_packets_section(),
        *_apids(db),
        *_services(),
        *_telemetry(db),
        *_parameters(db),
        *_commands(db),
        *_events(db),
        *_verification(db),
        *_stations(db),
    ]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"

"""The MQTT topic scheme shared by the spacecraft mock and the ground (names only, no MQTT code).

=========================================================  ========================================
Topic                                                       Payload
=========================================================  ========================================
``lupex/v1/downlink/{station}/{spacecraft}``                one TM transfer frame, binary, QoS 1
``lupex/v1/uplink/{station}/{spacecraft}``                  one TC transfer frame, binary, QoS 1
``lupex/v1/link/{station}``                                 station monitor data, JSON, retained
``lupex/v1/sim/control``                                    fault injection command, JSON
``lupex/v1/sim/status``                                     sim clock, speed, faults, scenario,
                                                            JSON, retained
``lupex/v1/params/{parameter}``                             a decoded value (optional republish)
=========================================================  ========================================

Each variable part is one topic level made of ``A-Z a-z 0-9 _ . -``, starting with a letter or a
digit; builders and parsers raise ``ValueError`` with the reason for anything else, so a name
can never smuggle in a level separator or a wildcard.
"""

from __future__ import annotations

import re
from typing import Final

ROOT: Final = "lupex/v1"
"""Prefix of every topic; the version changes when a payload changes incompatibly."""

DOWNLINK_QOS: Final = 1
UPLINK_QOS: Final = 1
LINK_RETAINED: Final = True
SIM_STATUS_RETAINED: Final = True

SIM_CONTROL: Final = f"{ROOT}/sim/control"
SIM_STATUS: Final = f"{ROOT}/sim/status"

DOWNLINK_ALL: Final = f"{ROOT}/downlink/+/+"
UPLINK_ALL: Final = f"{ROOT}/uplink/+/+"
LINK_ALL: Final = f"{ROOT}/link/+"
PARAMS_ALL: Final = f"{ROOT}/params/+"
SIM_ALL: Final = f"{ROOT}/sim/+"

SHARE_PREFIX: Final = "$share"

LEVEL_PATTERN: Final = r"[A-Za-z0-9][A-Za-z0-9_.\-]*"
"""What a variable topic level (station, spacecraft, parameter, share group) may contain."""

_LEVEL_RE: Final = re.compile(LEVEL_PATTERN)
MAX_LEVEL_LENGTH: Final = 128


def check_level(value: str, what: str) -> str:
    """Return ``value`` if it is a valid variable topic level, else raise ``ValueError``."""
    if not isinstance(value, str):
        msg = f"{what} must be a string, not {type(value).__name__}"
        raise TypeError(msg)
    if not value:
        msg = f"{what} is empty"
        raise ValueError(msg)
    if len(value) > MAX_LEVEL_LENGTH:
        msg = f"{what} is {len(value)} characters long, more than {MAX_LEVEL_LENGTH}"
        raise ValueError(msg)
    if _LEVEL_RE.fullmatch(value) is None:
        msg = (
            f"{what} {value!r} is not a valid topic level: use letters, digits, '_', '.', '-', "
            "starting with a letter or a digit"
        )
        raise ValueError(msg)
    return value


def downlink(station: str, spacecraft: str) -> str:
    """``lupex/v1/downlink/{station}/{spacecraft}``: TM frames received by ``station``."""
    return (
        f"{ROOT}/downlink/{check_level(station, 'station')}/{check_level(spacecraft, 'spacecraft')}"
    )


def uplink(station: str, spacecraft: str) -> str:
    """``lupex/v1/uplink/{station}/{spacecraft}``: TC frames radiated by ``station``."""
    return (
        f"{ROOT}/uplink/{check_level(station, 'station')}/{check_level(spacecraft, 'spacecraft')}"
    )


def link(station: str) -> str:
    """``lupex/v1/link/{station}``: retained station monitor data (JSON)."""
    return f"{ROOT}/link/{check_level(station, 'station')}"


def params(parameter: str) -> str:
    """``lupex/v1/params/{parameter}``: one decoded parameter, e.g. ``rover.power.battery_soc``."""
    return f"{ROOT}/params/{check_level(parameter, 'parameter')}"


def downlink_station(station: str) -> str:
    """Filter for every spacecraft's downlink through one station."""
    return f"{ROOT}/downlink/{check_level(station, 'station')}/+"


def downlink_spacecraft(spacecraft: str) -> str:
    """Filter for one spacecraft's downlink through every station."""
    return f"{ROOT}/downlink/+/{check_level(spacecraft, 'spacecraft')}"


def shared(topic: str, group: str) -> str:
    """The MQTT 5 shared-subscription form ``$share/{group}/{topic}`` of a topic filter.

    Subscribers of one group split the messages between them (each goes to one member).
    """
    check_level(group, "share group")
    if not topic:
        msg = "topic filter is empty"
        raise ValueError(msg)
    if topic.startswith("$"):
        msg = f"topic filter {topic!r} starts with '$'; shared subscriptions do not nest"
        raise ValueError(msg)
    return f"{SHARE_PREFIX}/{group}/{topic}"


def _parse(topic: str, kind: str, names: tuple[str, ...]) -> tuple[str, ...]:
    template = "/".join((ROOT, kind, *(f"{{{name}}}" for name in names)))
    article = "an" if kind[0] in "aeiou" else "a"
    if not isinstance(topic, str):
        msg = f"{article} {kind} topic must be a string, not {type(topic).__name__}"
        raise TypeError(msg)
    prefix = f"{ROOT}/{kind}/"
    if not topic.startswith(prefix):
        msg = (
            f"{topic!r} is not {article} {kind} topic: it does not start with {prefix!r} "
            f"({template})"
        )
        raise ValueError(msg)
    levels = topic[len(prefix) :].split("/")
    if len(levels) != len(names):
        msg = (
            f"{topic!r} is not {article} {kind} topic: {len(levels)} level(s) after {prefix!r}, "
            f"expected {len(names)} ({template})"
        )
        raise ValueError(msg)
    for level, name in zip(levels, names, strict=True):
        check_level(level, f"{name} in {topic!r}")
    return tuple(levels)


def parse_downlink_topic(topic: str) -> tuple[str, str]:
    """``(station, spacecraft)`` of a downlink topic; ``ValueError`` saying why otherwise."""
    station, spacecraft = _parse(topic, "downlink", ("station", "spacecraft"))
    return station, spacecraft


def parse_uplink_topic(topic: str) -> tuple[str, str]:
    """``(station, spacecraft)`` of an uplink topic; ``ValueError`` saying why otherwise."""
    station, spacecraft = _parse(topic, "uplink", ("station", "spacecraft"))
    return station, spacecraft


def parse_link_topic(topic: str) -> str:
    """The station of a link topic; ``ValueError`` saying why otherwise."""
    (station,) = _parse(topic, "link", ("station",))
    return station


def parse_params_topic(topic: str) -> str:
    """The parameter name of a params topic; ``ValueError`` saying why otherwise."""
    (parameter,) = _parse(topic, "params", ("parameter",))
    return parameter

"""The MQTT topic scheme: builders, parsers, wildcards and shared subscriptions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt.client import topic_matches_sub

from mission import topics

# Valid levels, generated from the documented rule rather than from the module's own regex.
_FIRST = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_REST = _FIRST + "_.-"
levels = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(_FIRST),
    st.text(alphabet=_REST, max_size=40),
)


@given(station=levels, spacecraft=levels)
def test_downlink_round_trip(station: str, spacecraft: str) -> None:
    topic = topics.downlink(station, spacecraft)
    assert topic == f"lupex/v1/downlink/{station}/{spacecraft}"
    assert topics.parse_downlink_topic(topic) == (station, spacecraft)


@given(station=levels, spacecraft=levels)
def test_uplink_round_trip(station: str, spacecraft: str) -> None:
    topic = topics.uplink(station, spacecraft)
    assert topic == f"lupex/v1/uplink/{station}/{spacecraft}"
    assert topics.parse_uplink_topic(topic) == (station, spacecraft)


@given(station=levels)
def test_link_round_trip(station: str) -> None:
    topic = topics.link(station)
    assert topic == f"lupex/v1/link/{station}"
    assert topics.parse_link_topic(topic) == station


@given(parameter=levels)
def test_params_round_trip(parameter: str) -> None:
    topic = topics.params(parameter)
    assert topic == f"lupex/v1/params/{parameter}"
    assert topics.parse_params_topic(topic) == parameter


def test_parameter_names_of_the_conventions_are_valid() -> None:
    assert topics.params("rover.power.battery_soc") == "lupex/v1/params/rover.power.battery_soc"


def test_fixed_topics() -> None:
    assert topics.SIM_CONTROL == "lupex/v1/sim/control"
    assert topics.SIM_STATUS == "lupex/v1/sim/status"


# paho-mqtt's topic_matches_sub is an independent implementation of MQTT filter matching.
@given(station=levels, spacecraft=levels)
def test_wildcards_match_what_the_builders_make(station: str, spacecraft: str) -> None:
    assert topic_matches_sub(topics.DOWNLINK_ALL, topics.downlink(station, spacecraft))
    assert topic_matches_sub(topics.UPLINK_ALL, topics.uplink(station, spacecraft))
    assert topic_matches_sub(topics.LINK_ALL, topics.link(station))
    assert topic_matches_sub(topics.PARAMS_ALL, topics.params(station))
    assert topic_matches_sub(topics.downlink_station(station), topics.downlink(station, spacecraft))
    assert topic_matches_sub(
        topics.downlink_spacecraft(spacecraft), topics.downlink(station, spacecraft)
    )
    assert not topic_matches_sub(topics.DOWNLINK_ALL, topics.uplink(station, spacecraft))
    assert not topic_matches_sub(topics.UPLINK_ALL, topics.downlink(station, spacecraft))


def test_sim_wildcard() -> None:
    assert topic_matches_sub(topics.SIM_ALL, topics.SIM_CONTROL)
    assert topic_matches_sub(topics.SIM_ALL, topics.SIM_STATUS)
    assert topics.DOWNLINK_ALL == "lupex/v1/downlink/+/+"


@given(group=levels)
def test_shared(group: str) -> None:
    assert topics.shared(topics.DOWNLINK_ALL, group) == f"$share/{group}/lupex/v1/downlink/+/+"


@pytest.mark.parametrize("group", ["", "a/b", "+", "#", "gr oup", "-x"])
def test_shared_rejects_bad_groups(group: str) -> None:
    with pytest.raises(ValueError, match="share group"):
        topics.shared(topics.DOWNLINK_ALL, group)


@pytest.mark.parametrize("topic", ["", "$share/g/lupex/v1/downlink/+/+", "$SYS/#"])
def test_shared_rejects_bad_filters(topic: str) -> None:
    with pytest.raises(ValueError, match="topic filter"):
        topics.shared(topic, "ground")


BAD_LEVELS = ["", "a/b", "+", "#", "a+", "x#", "with space", "-leading", ".hidden", "é", "a\x00b"]


@pytest.mark.parametrize("bad", BAD_LEVELS)
@pytest.mark.parametrize(
    "build",
    [
        lambda bad: topics.downlink(bad, "rover"),
        lambda bad: topics.downlink("usuda", bad),
        lambda bad: topics.uplink(bad, "lander"),
        lambda bad: topics.uplink("usuda", bad),
        topics.link,
        topics.params,
        topics.downlink_station,
        topics.downlink_spacecraft,
    ],
)
def test_builders_reject_bad_levels(build: Callable[[str], str], bad: str) -> None:
    with pytest.raises(ValueError, match=r"empty|not a valid topic level"):
        build(bad)


def test_levels_have_a_maximum_length() -> None:
    assert topics.link("s" * topics.MAX_LEVEL_LENGTH)
    with pytest.raises(ValueError, match="characters long"):
        topics.link("s" * (topics.MAX_LEVEL_LENGTH + 1))


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("lupex/v1/uplink/usuda/rover", "does not start with 'lupex/v1/downlink/'"),
        ("lupex/v2/downlink/usuda/rover", "does not start with"),
        ("lupex/v1/downlink", "does not start with"),
        ("lupex/v1/downlink/usuda", "1 level"),
        ("lupex/v1/downlink/usuda/rover/extra", "3 level"),
        ("lupex/v1/downlink/usuda/", r"not a valid topic level|empty"),
        ("lupex/v1/downlink//rover", "empty"),
        ("lupex/v1/downlink/+/+", "not a valid topic level"),
        ("lupex/v1/downlink/usuda/#", "not a valid topic level"),
        ("$share/ground/lupex/v1/downlink/usuda/rover", "does not start with"),
        ("", "does not start with"),
    ],
)
def test_parse_downlink_topic_says_why(topic: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        topics.parse_downlink_topic(topic)


@given(st.text(max_size=60))
def test_parse_downlink_topic_accepts_only_what_downlink_builds(text: str) -> None:
    try:
        station, spacecraft = topics.parse_downlink_topic(text)
    except ValueError:
        return
    assert topics.downlink(station, spacecraft) == text


def test_parsers_reject_each_others_topics() -> None:
    with pytest.raises(ValueError, match="not an uplink topic"):
        topics.parse_uplink_topic(topics.downlink("usuda", "rover"))
    with pytest.raises(ValueError, match="not a link topic"):
        topics.parse_link_topic(topics.params("rover.power.battery_soc"))
    with pytest.raises(ValueError, match="not a params topic"):
        topics.parse_params_topic(topics.link("usuda"))

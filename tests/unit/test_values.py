"""sgnet.core.values: protocols, ports, actions and integers read in one place."""

import pytest

from sgnet.core import values
from sgnet.core.values import ValueProblem


@pytest.mark.parametrize("text, number", [
    ("tcp", 6), ("TCP", 6), (" udp ", 17), ("icmp", 1), ("icmpv6", 58), ("gre", 47),
    ("47", 47), (47, 47), (0, 0), ("255", 255), ("all", None), ("ANY", None), ("-1", None),
])
def test_protocols(text, number):
    assert values.parse_protocol(text) == number


@pytest.mark.parametrize("value, problem, allowed", [
    ("256", "protocol number out of range", "0-255"),
    (-1, "protocol number out of range", "0-255"),
    ("9" * 5000, "protocol number out of range", "0-255"),
    ("٦", "unknown protocol", values.PROTOCOL_ALLOWED),
    ("esp", "unknown protocol", values.PROTOCOL_ALLOWED),
    (True, "unknown protocol", values.PROTOCOL_ALLOWED),
    (None, "unknown protocol", values.PROTOCOL_ALLOWED),
    ([6], "unknown protocol", values.PROTOCOL_ALLOWED),
])
def test_bad_protocols(value, problem, allowed):
    with pytest.raises(ValueProblem) as e:
        values.parse_protocol(value)
    assert (e.value.problem, e.value.allowed, e.value.shown) == (problem, allowed,
                                                                   values.THE_VALUE)
    assert isinstance(e.value, ValueError)


def test_protocol_tables_of_exports_and_of_all_words():
    assert values.parse_protocol("ESP", names=values.EXPORT_PROTOCOLS) == 50
    assert values.parse_protocol("ipv6-icmp", names=values.EXPORT_PROTOCOLS) == 58
    assert values.parse_protocol("", all_words=("", "all")) is None
    with pytest.raises(ValueProblem):
        values.parse_protocol("all", all_words=())
    # what sgnet writes, it reads back
    for number in list(values.PROTOCOL_NAMES) + [None, 132]:
        assert values.parse_protocol(values.protocol_name(number)) == number
    assert values.protocol_name(132) == "132"
    assert values.PORTED_PROTOCOLS == (values.TCP, values.UDP)


@pytest.mark.parametrize("value, ports", [
    ("22", ((22, 22),)), (22, ((22, 22),)), ("22,80,8000-8080", ((22, 22), (80, 80), (8000, 8080))),
    ([80, "22", "22"], ((22, 22), (80, 80))), ("22/22", ((22, 22),)), (" 1 - 2 ", ((1, 2),)),
    ("-1/-1", None), ("all", None), ([22, "any"], None), ("1-65535", None),
    ("1-65535,22", ((1, 65535), (22, 22))),
])
def test_ports(value, ports):
    assert values.parse_ports(value) == ports


@pytest.mark.parametrize("value, problem", [
    (True, "not a port"), ("http", "bad port or port range"), (2.5, "bad port or port range"),
    ("0", "bad port range"), ("65536", "bad port range"), ("9-8", "bad port range"),
    (10 ** 30, "bad port range"), ("٢٢", "bad port or port range"), ([], "empty port list"),
])
def test_bad_ports(value, problem):
    with pytest.raises(ValueProblem) as e:
        values.parse_ports(value)
    assert e.value.problem == problem


def test_ports_bound_shows_the_count():
    assert len(values.parse_ports(list(range(1, 1001)), most=1000)) == 1000
    for value in (list(range(1, 1002)), ",".join(map(str, range(1, 1002)))):
        with pytest.raises(ValueProblem) as e:
            values.parse_ports(value, most=1000)
        assert (e.value.problem, e.value.allowed, e.value.shown) == \
            ("too many ports and port ranges", "at most 1,000", 1001)


def test_ports_text_round_trips():
    for text in ("22", "22,80,8000-8080", "all"):
        assert values.ports_text(values.parse_ports(text)) == text


def test_words():
    assert [values.parse_action(a) for a in ("allow", "Accept", "DENY", "drop")] == \
        ["allow", "allow", "deny", "deny"]
    assert values.parse_direction("Ingress") == "ingress"
    assert (values.parse_family("IPv4"), values.parse_family("ipv6")) == (4, 6)
    for parse, bad in ((values.parse_action, "permit"), (values.parse_direction, 3),
                       (values.parse_family, "IPv5")):
        with pytest.raises(ValueProblem):
            parse(bad)


@pytest.mark.parametrize("value, expected", [
    (5, 5), ("5", 5), (" 7 ", 7), (True, None), ("²", None), ("٢٢", None), ("-1", None),
    ("9" * 5000, 10 ** values.MAX_INT_DIGITS), (2.0, None),
])
def test_ascii_int(value, expected):
    assert values.ascii_int(value) == expected


def test_bounded_int():
    assert values.bounded_int("100", 1, 100) == 100
    assert values.bounded_int("101", 1, 100) is None
    assert values.bounded_int("5", 1, 100, strings=False) is None

"""The values of a rule and a flow, named and read in one place (core: pure).

Protocols, port lists, actions, directions, ethertypes and the integers a user types are
read here and nowhere else: the lab file, the importers, the command line and the kernel's
conntrack reader all call these functions. A bad value raises ValueProblem (a ValueError)
saying what is wrong and what is allowed; each caller turns it into its own error naming
the file, field or argument and the value (labspec: FieldError; session: LabError).

API
  Tables:   PROTOCOLS (name -> number, the names sgnet writes), EXPORT_PROTOCOLS (the
            names cloud exports and Terraform use too: ipv6-icmp, esp, sctp, ...),
            PROTOCOL_NAMES (number -> name), PORTED_PROTOCOLS (tcp, udp),
            TCP UDP ICMP ICMPV6 GRE, ALL_WORDS (what means "every protocol"),
            ACTIONS, DIRECTIONS (what a user may write -> the model's word),
            ALL_PORTS_WORDS, MIN_PORT, MAX_PORT, MAX_INT_DIGITS.
  Integers: ascii_int(value, strings=True) -> int | None   (None: not an integer)
            bounded_int(value, lo, hi, strings=True) -> int | None
  Parsing:  parse_protocol(value, names=PROTOCOLS, all_words=ALL_WORDS) -> int | None
            parse_ports(value, most=None) -> ((lo, hi), ...) | None   (None: all ports)
            parse_action(value) -> "allow" | "deny"
            parse_direction(value) -> "ingress" | "egress"
            parse_family(value) -> 4 | 6   (an ethertype: IPv4, IPv6, any case)
  Writing:  protocol_name(number | None) -> "tcp", "all", "47"
            ports_text(ports | None) -> "22,8000-8080", "all"
  Errors:   ValueProblem(problem, allowed=None, shown=THE_VALUE): .problem, .allowed, and
            .shown, what a message shows instead of the value when it is not THE_VALUE
            (a count: "too many ports and port ranges (got 1,001)").
"""

from __future__ import annotations

import re
from typing import Optional

TCP, UDP, ICMP, ICMPV6, GRE = 6, 17, 1, 58, 47
PROTOCOLS = {"tcp": TCP, "udp": UDP, "icmp": ICMP, "icmpv6": ICMPV6, "gre": GRE}
EXPORT_PROTOCOLS = dict(PROTOCOLS, **{"ipv6-icmp": ICMPV6, "icmp6": ICMPV6, "esp": 50,
                                      "ah": 51, "sctp": 132, "igmp": 2, "vrrp": 112})
PROTOCOL_NAMES = {v: k for k, v in PROTOCOLS.items()}
PORTED_PROTOCOLS = (TCP, UDP)
ALL_WORDS = ("all", "any", "-1")
PROTOCOL_ALLOWED = "tcp, udp, icmp, icmpv6, gre, all or 0-255"

ACTIONS = {"allow": "allow", "accept": "allow", "deny": "deny", "drop": "deny"}
DIRECTIONS = {"ingress": "ingress", "egress": "egress"}
FAMILIES = {"ipv4": 4, "ipv6": 6}

MIN_PORT, MAX_PORT = 1, 65535
ALL_PORTS_WORDS = ("-1/-1", "-1", "all", "any")
PORTS_ALLOWED = "1-65535, lists and ranges like '22,80,8000-8080' or '22/22'"
_PORT_RANGE = re.compile(r"([0-9]+)(?:\s*[-/]\s*([0-9]+))?")  # ASCII digits only

MAX_INT_DIGITS = 20  # digits read of an integer: every field's range fits in far fewer

THE_VALUE = object()  # ValueProblem.shown: show the value itself


class ValueProblem(ValueError):
    """A value that cannot be read: what is wrong, what is allowed (None: not said), and
    what to show in place of the value (THE_VALUE: the value itself)."""

    def __init__(self, problem: str, allowed: Optional[str] = None, shown=THE_VALUE):
        super().__init__(problem)
        self.problem = problem
        self.allowed = allowed
        self.shown = shown


# -- integers ----------------------------------------------------------------------------------
def ascii_int(value, strings: bool = True):
    """An integer a user wrote: a YAML or JSON integer (never a bool) or, with strings, a
    string of ASCII digits (blanks around them allowed); None for anything else. Python's
    int() and str.isdigit() take '²' and '٢٢' as digits: this does not. A string of more than
    MAX_INT_DIGITS digits reads as 10**MAX_INT_DIGITS, beyond every field's range, without
    being converted (int() refuses 4,300 digits, and would take time quadratic in them)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if strings and isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit():
            return int(text) if len(text) <= MAX_INT_DIGITS else 10 ** MAX_INT_DIGITS
    return None


def bounded_int(value, lo: int, hi: int, strings: bool = True):
    """ascii_int(value) if it lies in lo..hi, else None."""
    n = ascii_int(value, strings)
    return n if n is not None and lo <= n <= hi else None


# -- protocols ---------------------------------------------------------------------------------
def protocol_name(proto: Optional[int]) -> str:
    if proto is None:
        return "all"
    return PROTOCOL_NAMES.get(proto, str(proto))


def parse_protocol(value, names: dict = PROTOCOLS, all_words: tuple = ALL_WORDS):
    """A protocol: a name of `names` (any case, blanks around it allowed), a number 0-255
    (an integer or ASCII digits) or a word of all_words (None: every protocol)."""
    if isinstance(value, str):
        v = value.strip().lower()
        if v in all_words:
            return None
        if v in names:
            return names[v]
    n = ascii_int(value)
    if n is not None:
        if not 0 <= n <= 255:
            raise ValueProblem("protocol number out of range", "0-255")
        return n
    raise ValueProblem("unknown protocol", PROTOCOL_ALLOWED)


# -- ports -------------------------------------------------------------------------------------
def ports_text(ports: Optional[tuple]) -> str:
    if ports is None:
        return "all"
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ports)


def _too_many(n: int, most: Optional[int]):
    if most is not None and n > most:
        raise ValueProblem("too many ports and port ranges", f"at most {most:,}", shown=n)


def parse_ports(value, most: Optional[int] = None):
    """'22', 22, '22,80,8000-8080', [22, '80-90'], alibaba '22/22', '-1/-1' (all): sorted
    distinct (lo, hi) ranges, or None for every port (an all word, or exactly 1-65535).
    At most `most` ports and ranges (None: no bound)."""
    items = value if isinstance(value, list) else [value]
    ranges = []
    for item in items:
        if isinstance(item, bool):
            raise ValueProblem("not a port")
        if isinstance(item, int):
            parts = [str(item) if abs(item) < 10 ** MAX_INT_DIGITS else "0"]
        elif isinstance(item, str):
            if most is not None and len(ranges) + item.count(",") >= most:
                _too_many(len(ranges) + item.count(",") + 1, most)
            parts = item.split(",")
        else:
            raise ValueProblem("bad port or port range", PORTS_ALLOWED)
        for part in parts:
            text = part.strip()
            if text in ALL_PORTS_WORDS:
                return None
            m = _PORT_RANGE.fullmatch(text)
            if not m:
                raise ValueProblem("bad port or port range", PORTS_ALLOWED)
            lo = ascii_int(m.group(1))
            hi = ascii_int(m.group(2)) if m.group(2) else lo
            if not (MIN_PORT <= lo <= MAX_PORT and MIN_PORT <= hi <= MAX_PORT) or lo > hi:
                raise ValueProblem("bad port range", "ports 1-65535, start <= end")
            ranges.append((lo, hi))
            _too_many(len(ranges), most)
    if not ranges:
        raise ValueProblem("empty port list")
    if ranges == [(MIN_PORT, MAX_PORT)]:
        return None
    return tuple(sorted(set(ranges)))


# -- words -------------------------------------------------------------------------------------
def _word(value, table: dict, problem: str, allowed: str):
    if not isinstance(value, str) or value.lower() not in table:
        raise ValueProblem(problem, allowed)
    return table[value.lower()]


def parse_action(value) -> str:
    return _word(value, ACTIONS, "unknown action", "allow, deny (or accept, drop)")


def parse_direction(value) -> str:
    return _word(value, DIRECTIONS, "unknown direction", "ingress, egress")


def parse_family(value) -> int:
    """An ethertype (IPv4, IPv6, any case) as the address family 4 or 6."""
    return _word(value, FAMILIES, "unknown ethertype", "IPv4, IPv6")

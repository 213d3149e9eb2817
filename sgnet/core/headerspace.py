"""Header-space classes (core: pure): the whole traffic space of an ENI's direction, cut
into classes on which the provider's decision is constant.

A direction's decision list (sgnet.providers.base.DecisionList: first match wins, then
the default) is all that decides a new connection, so the space is cut where the list's
entries begin and end, never by enumerating packets:

- family x protocol: each protocol an entry names (and tcp, udp, icmp/icmpv6 always), and
  "every other protocol number" as one class (protocol None);
- ports (tcp and udp): split at every entry's port boundary, 1-65535;
- remote addresses (the source of an ingress flow, the destination of an egress one):
  split at every CIDR, prefix-list entry and group member address of the entries that can
  match there; the rest of the address space is a class of its own.

Each elementary cell takes the first entry that covers it ("painting": entries laid down
from the last to the first, so the first is on top), then equal neighbours merge. Several
lists can be painted over the same cuts at once (the lab and another reading of the
documents, a lab before and after a change): a cell then has one decision per list, so
one partition answers "what does the change do" and "where does the reading matter".

Results are shared between ENIs with the same lists (a lab's instances mostly share a few
group combinations): a 1,000-instance lab is analysed once per distinct list.
"""

from __future__ import annotations

import bisect
import ipaddress
from dataclasses import dataclass
from typing import Optional

from sgnet.core.values import ICMP, ICMPV6, MAX_PORT, MIN_PORT, PORTED_PROTOCOLS, TCP, UDP

SPACE = {4: (1 << 32) - 1, 6: (1 << 128) - 1}
ALL_PORTS = (MIN_PORT, MAX_PORT)
# A protocol number no entry names stands for "every other protocol" in a probe; these
# are real IP payloads a kernel answers (protocol unreachable) and no IPv6 extension header.
OTHER_CANDIDATES = (47, 132, 136, 4, 41, 50, 51, 103, 112, 115)


@dataclass(frozen=True)
class Decided:
    """A cell's decision under one list: the verdict and what decided it (an entry of the
    list: its group and rule; None: the list's default)."""

    verdict: str
    group: Optional[str]
    rule: Optional[int]
    why: str

    def to_dict(self, direction: str) -> dict:
        return {"direction": direction, "group": self.group, "rule": self.rule,
                "why": self.why}


@dataclass(frozen=True)
class Cell:
    """Traffic on which every list painted decides alike: one protocol (None: every
    protocol number not in `others_of`), one port range (tcp/udp; else None), address
    ranges of the remote end ((lo, hi) integers, inclusive), a decision per list."""

    family: int
    protocol: Optional[int]
    ports: Optional[tuple]
    ranges: tuple
    decisions: tuple  # Decided, one per list
    named: tuple = ()  # the protocols that have cells of their own (for protocol None)


def protocols_of(entries, family: int) -> list:
    """The protocols with cells of their own: those the entries name, and the usual ones."""
    base = {TCP, UDP, ICMP if family == 4 else ICMPV6}
    return sorted(base | {e.protocol for e in entries
                          if e.family == family and e.protocol is not None})


def other_protocol(named) -> int:
    """A protocol number that stands for "every other protocol" (not in `named`)."""
    return next(p for p in OTHER_CANDIDATES + tuple(range(143, 253)) if p not in named)


def merge(ivs: list) -> list:
    out = []
    for lo, hi in sorted(ivs):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


class Remotes:
    """The address ranges (integers) of a rule's remote end in one lab, made once each."""

    def __init__(self, lab):
        self.lab = lab
        self._cache = {}

    def ranges(self, remote, family: int) -> tuple:
        key = (remote, family)
        got = self._cache.get(key)
        if got is None:
            got = self._cache[key] = tuple(self._ranges(remote, family))
        return got

    def _ranges(self, remote, family: int) -> list:
        if remote.kind == "any":
            return [(0, SPACE[family])]
        if remote.kind == "cidr":
            net = ipaddress.ip_network(remote.value)
            return [span(net)] if net.version == family else []
        if remote.kind == "group":
            return merge([(int(a), int(a)) for a in self.lab.members(remote.value, family)])
        if remote.kind == "prefix_list":
            return merge([span(n) for n in self.lab.prefix_lists[remote.value].networks(family)])
        raise ValueError(remote.kind)


def span(net) -> tuple:
    return int(net.network_address), int(net.broadcast_address)


def _decided(entry, dl) -> Decided:
    if entry is None:
        return Decided(dl.default, None, None, dl.default_why)
    return Decided(entry.action, entry.group, entry.rule, entry.why)


def _applies(entry, family: int, protocol: Optional[int], ported: bool) -> bool:
    """Can the entry match some packet of this family and protocol (None: one it does
    not name)? An entry with ports matches only packets that have ports."""
    if entry.family != family:
        return False
    if protocol is None:
        if entry.protocol is not None:
            return False
    elif entry.protocol is not None and entry.protocol != protocol:
        return False
    return entry.ports is None or ported


def _covers(entry, lo: int, hi: int) -> bool:
    """Does the entry match the whole port range lo-hi (which no boundary of it cuts)?"""
    return entry.ports is None or any(a <= lo and hi <= b for a, b in entry.ports)


def _paint(subs: tuple, ranges: list, family: int) -> tuple:
    """((lo, hi, (entry index or -1 per list)), ...): the remote address space cut where
    the entries' ranges begin and end, each piece owned by each list's first entry
    covering it (`subs`: per list the indices of the entries that can match, in order;
    `ranges`: per list, per entry its address ranges), equal neighbours merged."""
    cuts = {0, SPACE[family] + 1}
    for sub, rs in zip(subs, ranges):
        for i in sub:
            for lo, hi in rs[i]:
                cuts.add(lo)
                cuts.add(hi + 1)
    edges = sorted(cuts)
    n = len(edges) - 1
    owners = []
    for sub, rs in zip(subs, ranges):
        own = [-1] * n
        for i in reversed(sub):  # the first entry is laid down last: it stays on top
            for lo, hi in rs[i]:
                a = bisect.bisect_left(edges, lo)
                b = bisect.bisect_left(edges, hi + 1, a)
                own[a:b] = [i] * (b - a)
        owners.append(own)
    keys = list(zip(*owners))
    out = []
    for k in range(n):
        key = keys[k]
        if out and out[-1][2] == key:
            out[-1] = (out[-1][0], edges[k + 1] - 1, key)
        else:
            out.append((edges[k], edges[k + 1] - 1, key))
    return tuple(out)


def cells(lists: list, remotes: list, family: int) -> list:
    """The cells of the traffic space of one family for the decision lists `lists`
    (each judged with its lab's Remotes, `remotes`), every cell with a decision per list;
    neighbouring port ranges with the same address pieces are one cell."""
    entries = [e for dl in lists for e in dl.entries]
    named = protocols_of(entries, family)
    ranges = [[rem.ranges(e.remote, family) if e.family == family else () for e in dl.entries]
              for dl, rem in zip(lists, remotes)]
    decided = [[_decided(e, dl) for e in dl.entries] + [_decided(None, dl)] for dl in lists]
    painted = {}
    out = []
    for protocol in named + [None]:
        ported = protocol in PORTED_PROTOCOLS
        apply = [[i for i, e in enumerate(dl.entries) if _applies(e, family, protocol, ported)]
                 for dl in lists]
        if ported:
            cuts = {ALL_PORTS[0], ALL_PORTS[1] + 1}
            for dl, sub in zip(lists, apply):
                for i in sub:
                    for lo, hi in dl.entries[i].ports or ():
                        cuts.add(max(lo, ALL_PORTS[0]))
                        cuts.add(min(hi, ALL_PORTS[1]) + 1)
            edges = sorted(cuts)
            spans = [(edges[k], edges[k + 1] - 1) for k in range(len(edges) - 1)]
        else:
            spans = [None]
        rows = []  # (port span, painting)
        for span in spans:
            subs = tuple(tuple(i for i in sub if span is None or _covers(dl.entries[i], *span))
                         for dl, sub in zip(lists, apply))
            got = painted.get(subs)
            if got is None:
                got = painted[subs] = _paint(subs, ranges, family)
            if rows and (rows[-1][1] is got or rows[-1][1] == got):
                rows[-1] = ((rows[-1][0][0], span[1]), got)
            else:
                rows.append((span, got))
        for span, pieces in rows:
            by_owner = {}
            for lo, hi, key in pieces:
                by_owner.setdefault(key, []).append((lo, hi))
            for key, rs in by_owner.items():
                out.append(Cell(family, protocol, span, tuple(rs),
                                tuple(d[i] for i, d in zip(key, decided)),
                                tuple(named) if protocol is None else ()))
    return out


# -- addresses of a cell: as text, and a representative a probe can be sent from --------------
def cidrs(ranges, family: int) -> list:
    """The ranges as the fewest CIDRs, as text."""
    cls = ipaddress.IPv4Address if family == 4 else ipaddress.IPv6Address
    return [str(n) for lo, hi in ranges
            for n in ipaddress.summarize_address_range(cls(lo), cls(hi))]


# Addresses no probe may use: no host sends from or answers on them (loopback, multicast,
# "this network", link-local: the lab's own links use 169.254.0.1 and fe80::1).
UNUSABLE = {4: [span(ipaddress.ip_network(n)) for n in
                ("0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/3")],
            6: [span(ipaddress.ip_network(n)) for n in
                ("::/96", "::ffff:0:0/96", "fe80::/10", "ff00::/8")]}
# Where an address may be chosen freely, the documentation ranges come first (RFC 5737,
# RFC 3849): a lab's hosts and its outside world use them unless a user's file says other.
PREFERRED = {4: [span(ipaddress.ip_network(n)) for n in
                 ("203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24")],
             6: [span(ipaddress.ip_network("2001:db8::/32"))]}


def complement(ranges, family: int) -> list:
    """The rest of the family's address space."""
    return subtract([(0, SPACE[family])], ranges)


def subtract(ranges, holes) -> list:
    out = []
    for lo, hi in ranges:
        pieces = [(lo, hi)]
        for a, b in holes:
            nxt = []
            for x, y in pieces:
                if b < x or a > y:
                    nxt.append((x, y))
                    continue
                if x < a:
                    nxt.append((x, a - 1))
                if b < y:
                    nxt.append((b + 1, y))
            pieces = nxt
        out += pieces
    return out


def representatives(ranges, family: int, avoid=(), limit: int = 1) -> list:
    """Up to `limit` addresses of the ranges (integers) a probe can use: in a
    documentation range if the ranges reach one, never an unusable one, and not one of
    `avoid` (integer ranges: addresses that are someone's) unless nothing else is left."""
    usable = subtract(ranges, UNUSABLE[family])
    for pool in (subtract(usable, avoid), usable):
        out = []
        for a, b in PREFERRED[family]:
            for lo, hi in pool:
                lo, hi = max(lo, a), min(hi, b)
                if lo <= hi:
                    out.append(_pick(lo, hi, family))
                    if len(out) >= limit:
                        return out
        for lo, hi in pool:
            out.append(_pick(lo, hi, family))
            if len(out) >= limit:
                return out
        if out:
            return out
    return []


def _pick(lo: int, hi: int, family: int) -> int:
    """An address of lo-hi, not the first of a block of several (often a network's own
    address) when there is another."""
    return lo + 1 if hi - lo >= 2 else lo


def as_address(value: int, family: int) -> str:
    return str(ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value))

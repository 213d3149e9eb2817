"""A lab's traffic classes (core: pure): per ENI and direction, the header-space cells of
sgnet.core.headerspace with the lab's decision, the readings of the documents under which
it would differ, and the lab's hosts inside each; the classes a change of groups turns
around (diff); a representative probe for each class.

A class is the security group's view: what the ENI's groups decide for a new connection of
that protocol, port range and remote address range (the source of what comes in, the
destination of what goes out). Whether a flow between two lab hosts passes also depends on
the other end's groups and on routing (VPCs are isolated); the evaluator judges those
(sgnet.core.evaluator), and the confirming probe of a class is sent so that no other group
decides it first: from the outside world where it can be (sgnet.core.wiring's world).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Optional

from sgnet.core import headerspace as hs
from sgnet.core.values import PORTED_PROTOCOLS, protocol_name

DIRECTIONS = ("ingress", "egress")


@dataclass
class TrafficClass:
    """One class of one ENI's direction, under one or two labs (before, after a change)."""

    instance: str
    eni: int
    ifname: str
    direction: str
    family: int
    protocol: Optional[int]  # None: every protocol number not in `named`
    ports: Optional[tuple]  # (lo, hi) for tcp and udp
    ranges: list  # remote address ranges, integers (lo, hi)
    decisions: tuple  # headerspace.Decided per list (the lab; or before and after)
    named: tuple = ()
    readings: list = field(default_factory=list)  # [(setting, value, lab_value, Decided)]
    # traffic judged end to end (from an instance: its egress, routing, then this ENI):
    # where the decision was taken, and the instance it comes from
    decided_at: Optional[str] = None
    end_to_end: bool = False
    sender: Optional[str] = None

    @property
    def decision(self) -> hs.Decided:
        return self.decisions[-1]

    def protocol_text(self) -> str:
        return "other" if self.protocol is None else protocol_name(self.protocol)

    def ports_text(self) -> Optional[str]:
        if self.ports is None:
            return None
        lo, hi = self.ports
        return str(lo) if lo == hi else f"{lo}-{hi}"


def _has_address(eni, family: int) -> bool:
    return eni.address(family) is not None


class Analysis:
    """The classes of one lab (its evaluator: its decision lists and readings), made once
    per distinct decision list."""

    def __init__(self, evaluator):
        self.evaluator = evaluator
        self.lab = evaluator.lab
        self.remotes = hs.Remotes(self.lab)
        self._memo = {}
        self._holders = None
        self._order = {n: k for k, n in enumerate(  # hosts in lab order
            [i.name for i in self.lab.instances] + [x.name for x in self.lab.externals])}
        self._avoided = {}  # (VPC, family) -> addresses a class's packet is better not sent at

    def lists(self, eni, direction: str) -> tuple:
        """(the lab's decision list, [(other reading, its list)] where it differs)."""
        ev = self.evaluator
        mine = ev.decision_list(eni, direction)
        others = [(o, o.evaluator.decision_list(eni, direction)) for o in ev.others()
                  if o.diff(ev, eni, direction) is not None]
        return mine, others

    def eni_classes(self, eni, direction: str, family: int) -> list:
        """Every class of the ENI's direction in the family ([] if the ENI has no address
        of the family: no such traffic reaches it)."""
        if not _has_address(eni, family):
            return []
        mine, others = self.lists(eni, direction)
        lists = [mine] + [dl for _, dl in others]
        key = (family, tuple((tuple(dl.entries), dl.default, dl.default_why) for dl in lists))
        got = self._memo.get(key)
        if got is None:
            got = self._memo[key] = hs.cells(lists, [self.remotes] * len(lists), family)
        out = []
        for c in got:
            readings = [(o.setting, o.value, o.lab_value, d)
                        for (o, _), d in zip(others, c.decisions[1:])
                        if d.verdict != c.decisions[0].verdict]
            out.append(TrafficClass(eni.instance, eni.index, eni.ifname, direction, family,
                                    c.protocol, c.ports, list(c.ranges), c.decisions[:1],
                                    c.named, readings))
        return out

    def instance_classes(self, instance, families=(4, 6), directions=DIRECTIONS) -> list:
        return [c for eni in instance.enis for d in directions for f in families
                for c in self.eni_classes(eni, d, f)]

    def all_classes(self, families=(4, 6)) -> list:
        return [c for inst in self.lab.instances for c in self.instance_classes(inst, families)]

    # -- who is where ---------------------------------------------------------------------
    def holders(self) -> dict:
        """{family: (sorted [(address int, endpoint name, kind)], their addresses)}: every
        lab host's addresses (ENIs' primaries and secondary blocks, externals)."""
        if self._holders is None:
            out = {4: [], 6: []}
            for inst in self.lab.instances:
                for eni in inst.enis:
                    for f in (4, 6):
                        for a in eni.addresses(f):
                            out[f].append((int(a), inst.name, "instance"))
            for x in self.lab.externals:
                for f in (4, 6):
                    a = x.address(f)
                    if a is not None:
                        out[f].append((int(a), x.name, "external"))
            self._holders = {}
            for f, held in out.items():
                held.sort()
                self._holders[f] = (held, [a for a, _, _ in held])
        return self._holders

    def hosts_in(self, ranges, family: int) -> list:
        """The names of the lab's hosts with an address in the ranges, in lab order."""
        held, keys = self.holders()[family]
        names = set()
        for lo, hi in ranges:
            i = bisect.bisect_left(keys, lo)
            while i < len(held) and held[i][0] <= hi:
                names.add(held[i][1])
                i += 1
        return sorted(names, key=self._order.__getitem__)

    def held_ranges(self, family: int) -> list:
        return [(a, a) for a in self.holders()[family][1]]

    def holder_of(self, address: int, family: int):
        """(name, kind) of the lab host holding the address, or None."""
        return self.lab.host_by_address(hs.as_address(address, family))


# -- a change: the classes it turns around -----------------------------------------------------
def changes(before: Analysis, after: Analysis, families=(4, 6), protocols=None) -> list:
    """The classes whose verdict differs between two labs with the same instances (their
    groups changed): TrafficClass with decisions (before, after) and the readings of the
    documents under which the verdict after would differ, neighbours with the same change
    merged (same verdicts, the same deciding rule after, the same readings). `protocols`:
    only {family: [(protocol, port or None)]} (a narrowed diff), else everything."""
    out, memo = [], {}
    for inst in after.lab.instances:
        old = before.lab.instance(inst.name)
        if old is None:
            continue
        for eni in inst.enis:
            if eni.index >= len(old.enis):
                continue
            prev = old.enis[eni.index]
            for d in DIRECTIONS:
                was = before.evaluator.decision_list(prev, d)
                mine, others = after.lists(eni, d)
                lists = [was, mine] + [dl for _, dl in others]
                for f in families:
                    if not _has_address(eni, f) or _alike(before, after, was, mine, f):
                        continue
                    key = (f, tuple((tuple(dl.entries), dl.default, dl.default_why)
                                    for dl in lists))
                    if key not in memo:
                        got = hs.cells(lists, [before.remotes] + [after.remotes] *
                                       (len(lists) - 1), f)
                        memo[key] = [_reading_cell(c, others) for c in got
                                     if c.decisions[0].verdict != c.decisions[1].verdict]
                    out += _merged(eni, d, f, memo[key],
                                   None if protocols is None else protocols.get(f, []))
    return out


def _alike(before: Analysis, after: Analysis, was, mine, family: int) -> bool:
    """Do two decision lists decide every packet of the family alike, by being the same
    entries over the same addresses (a group's members may have changed)?"""
    if was.default != mine.default or was.entries != mine.entries:
        return False
    return all(before.remotes.ranges(e.remote, family) == after.remotes.ranges(e.remote, family)
               for e in mine.entries if e.family == family and e.remote.kind == "group")


def _reading_cell(cell, others):
    """(cell, its readings): the other readings under which the verdict after differs."""
    after = cell.decisions[1]
    return cell, tuple((o.setting, o.value, o.lab_value, d)
                       for (o, _), d in zip(others, cell.decisions[2:])
                       if d.verdict != after.verdict)


def _narrowed(cell, protocols):
    """The cell's part that `protocols` asks about: the port span, or None if none."""
    if protocols is None:
        return cell.ports
    for proto, port in protocols:
        if cell.protocol is None:
            if proto not in cell.named:
                return None  # any protocol not named: this cell (its port: none)
        elif proto == cell.protocol:
            if cell.ports is None:
                return None
            if port is not None and cell.ports[0] <= port <= cell.ports[1]:
                return (port, port)
    return False


def _merged(eni, direction, family, cells, protocols) -> list:
    """Cells of the same change (verdicts before and after, the deciding rule after, the
    readings), one per port span with their address ranges together, then neighbouring
    spans with the same ranges as one. `cells`: [(cell, readings)]."""
    groups, before_of = {}, {}
    for c, readings in cells:
        span = _narrowed(c, protocols)
        if span is False:
            continue
        key = (c.protocol, c.decisions[0].verdict, c.decisions[1], c.named, readings)
        groups.setdefault(key, {}).setdefault(span, []).extend(c.ranges)
        before_of.setdefault(key, c.decisions[0])
    out = []
    for key, spans in groups.items():
        protocol, _, after, named, readings = key
        rows = []
        for span in sorted(spans, key=lambda s: s or (0, 0)):
            ranges = hs.merge(spans[span])
            if rows and span is not None and rows[-1][0] is not None and \
                    rows[-1][0][1] + 1 == span[0] and rows[-1][1] == ranges:
                rows[-1] = ((rows[-1][0][0], span[1]), ranges)
            else:
                rows.append((span, ranges))
        for span, ranges in rows:
            out.append(TrafficClass(eni.instance, eni.index, eni.ifname, direction, family,
                                    protocol, span, ranges, (before_of[key], after), named,
                                    list(readings)))
    return out


# -- a probe for a class -----------------------------------------------------------------------
@dataclass
class Point:
    """One packet of a class: from `src` to `dst` (addresses), which end is the class's
    ENI, and who sends it (an endpoint name, or None: the lab's outside world)."""

    src: str
    dst: str
    protocol: int
    port: Optional[int]
    family: int
    sender: Optional[str]  # instance or external name; None: the outside world
    receiver: Optional[str]  # instance or external holding dst; None: the outside world


def point(analysis: Analysis, cls: TrafficClass, where: str = "first",
          nth: int = 0) -> Optional[Point]:
    """A representative packet of the class (None: no address of it can carry one): the
    first port of its range (`where` "last": the last), a protocol that stands for it, a
    remote address that no lab host holds where the class has one (so that the packet
    meets the class's ENI and nothing else that judges), else a host's; `nth`: the nth
    such address (another packet of the same class)."""
    lab, f = analysis.lab, cls.family
    eni = lab.instance(cls.instance).enis[cls.eni]
    avoid = avoided(analysis, cls)
    ranges = usable_ranges(lab, cls)
    picks = hs.representatives(ranges, f, avoid, limit=nth + 1) if where == "first" \
        else _last(ranges, f, avoid, limit=nth + 1)
    if len(picks) <= nth:
        return None
    remote = picks[nth]
    proto = cls.protocol if cls.protocol is not None else hs.other_protocol(cls.named)
    port = None
    if proto in PORTED_PROTOCOLS:
        port = cls.ports[0] if where == "first" else cls.ports[1]
    holder = (cls.sender, "instance") if cls.sender else analysis.holder_of(remote, f)
    me = str(eni.address(f))
    other = hs.as_address(remote, f)
    if cls.direction == "ingress":
        return Point(other, me, proto, port, f, holder[0] if holder else None, cls.instance)
    return Point(me, other, proto, port, f, cls.instance, holder[0] if holder else None)


def usable_ranges(lab, cls: TrafficClass) -> list:
    """The class's remote ranges without the instance's own addresses: its packets to
    itself never cross its ENI."""
    own = [(int(a), int(a)) for e in lab.instance(cls.instance).enis
           for a in e.addresses(cls.family)]
    return hs.subtract(cls.ranges, own)


def avoided(analysis: Analysis, cls: TrafficClass) -> list:
    """Addresses a class's packet is better not sent from or to: held ones (the packet
    would meet their groups too), the gateway's, and another VPC's (the answer would not
    cross back: VPCs are isolated)."""
    lab, f = analysis.lab, cls.family
    eni = lab.instance(cls.instance).enis[cls.eni]
    key = (lab.vpc_of(eni.subnet).name, f)  # the same for every class of a VPC: made once
    got = analysis._avoided.get(key)
    if got is None:
        got = analysis._avoided[key] = hs.merge(
            analysis.held_ranges(f) + _lab_own(lab, f) + _other_vpcs(lab, eni, f))
    return got


def _last(ranges, family, avoid, limit: int = 1) -> list:
    """The last usable addresses of the ranges (a class's boundary), avoiding held ones."""
    usable = hs.subtract(ranges, hs.UNUSABLE[family])
    for pool in (hs.subtract(usable, avoid), usable):
        out = []
        for lo, hi in reversed(pool):
            a = hi - 1 if hi - lo >= 2 else hi
            while a >= lo and len(out) < limit:
                out.append(a)
                a -= 1
            if len(out) >= limit:
                break
        if out:
            return out
    return []


def _other_vpcs(lab, eni, family: int) -> list:
    mine = lab.vpc_of(eni.subnet).name
    return [hs.span(n) for v in lab.vpcs if v.name != mine
            for n in (v.cidr, v.ipv6_cidr) if n is not None and n.version == family]


def _lab_own(lab, family: int) -> list:
    """Addresses of each subnet that are the gateway's (its first host address; the
    subnet's own address, the IPv6 subnet-router anycast one; the IPv4 broadcast address):
    no probe pretends to be it."""
    out = []
    for s in lab.subnets:
        net = s.cidr if family == 4 else s.ipv6_cidr
        if net is None:
            continue
        first = int(net.network_address)
        out.append((first, first + 1))
        if family == 4:
            last = int(net.broadcast_address)
            out.append((last, last))
    return out

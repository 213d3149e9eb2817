"""First-match rule lists -> few set lookups, with the same verdict for every packet.

A decision list is evaluated in order and the first match decides. Two entries may swap
places when they have the same action, or when no packet matches both. So entries are
stacked into layers of one action each: an entry goes into the first layer of its action
that comes after every earlier entry of the other action that it overlaps (or into a new
layer at the end). A list of thousands of rules with a few deny rules interleaved becomes a
handful of layers, and each layer is one or two lookups in sets of concatenated intervals
(address . protocol . port): the cost of a packet no longer grows with the rules.

Entries whose remote is a group stay rules of their own (one hash-set lookup each), since
their members change live; for overlap they count as any address.

The kernel also reports *which* entry decided (sgnet.core.witness), so the layers keep the
first match exact, not only the verdict: an entry never goes into a layer before one of an
earlier entry it overlaps (of either action), and within a layer the sets a packet is looked
up in come in an order where the earlier entry is met first (disjoint_sets).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

ALL4 = (0, (1 << 32) - 1)
ALL6 = (0, (1 << 128) - 1)


def _intervals(lab, entry):
    """Address intervals (as integer pairs) of an entry's remote; None = any (or a group)."""
    r = entry.remote
    if r.kind == "any":
        return None
    if r.kind == "cidr":
        nets = [ipaddress.ip_network(r.value)]
    elif r.kind == "prefix_list":
        nets = lab.prefix_lists[r.value].networks(entry.family)
    else:
        return None
    out = []
    for n in nets:
        if n.prefixlen == 0:
            return None
        out.append((int(n.network_address), int(n.broadcast_address)))
    return out


def _overlap_ranges(a, b):
    if a is None or b is None:
        return True
    return any(lo1 <= hi2 and lo2 <= hi1 for lo1, hi1 in a for lo2, hi2 in b)


def overlaps(lab, a, b) -> bool:
    """Can one packet match both entries?"""
    if a.family != b.family:
        return False
    if a.protocol is not None and b.protocol is not None and a.protocol != b.protocol:
        return False
    if a.ports is not None and b.ports is not None and not _overlap_ranges(a.ports, b.ports):
        return False
    return _overlap_ranges(_intervals(lab, a), _intervals(lab, b))


@dataclass
class Layer:
    action: str
    entries: list = field(default_factory=list)


def layer(lab, entries) -> list:
    """Stack a decision list's entries, [(index, entry)] in order, into single-action
    layers (each Layer's entries: (index, entry) in order): an entry goes after every layer
    of an earlier entry of the other action that it overlaps, and no earlier than the layer
    of an earlier overlapping entry of its own action (so that entry is still met first)."""
    layers = []
    placed = []  # (layer index, entry), in order
    for i, e in entries:
        first = 0
        for idx, o in reversed(placed):
            need = idx + 1 if o.action != e.action else idx
            if need > first and overlaps(lab, e, o):
                first = need
        target = next((k for k in range(first, len(layers))
                       if layers[k].action == e.action), None)
        if target is None:
            layers.append(Layer(e.action))
            target = len(layers) - 1
        layers[target].entries.append((i, e))
        placed.append((target, e))
    return layers


TCP_UDP = ((6, 6), (17, 17))
OTHER_PROTOCOLS = ((0, 5), (7, 16), (18, 255))  # every protocol but TCP and UDP


def boxes(lab, entry):
    """The entry as elements of the two set kinds, [(kind, box)]: ported (address . proto
    . port) for TCP and UDP, unported (address . proto) for every other protocol. A TCP or
    UDP packet is only ever looked up among ported boxes, any other among unported ones, so
    the order of lookups is never split between the kinds."""
    addrs = _intervals(lab, entry) or [ALL4 if entry.family == 4 else ALL6]
    ports = entry.ports if entry.ports is not None else [(0, 65535)]
    if entry.protocol in (6, 17):
        protos, others = [(entry.protocol, entry.protocol)], []
    elif entry.protocol is None:
        protos, others = list(TCP_UDP), list(OTHER_PROTOCOLS)
    else:
        protos, others = [], [(entry.protocol, entry.protocol)]
    return ([("ported", (a, pr, p)) for a in addrs for pr in protos for p in ports]
            + [("unported", (a, pr, None)) for a in addrs for pr in others])


def _addr_overlap(a, addrs):
    return any(a[0] <= o[1] and o[0] <= a[1] for o in addrs)


class _Packing:
    """Boxes of one set, indexed so that an overlap check costs what overlaps, not the
    set's size: by protocol range, then by port range (sorted, for ported boxes)."""

    def __init__(self):
        self.boxes = []
        self.by_key = {}  # (proto range, port range or None) -> [address intervals]
        self.ports = {}  # proto range -> sorted distinct port ranges
        self.widest = 0

    def _candidates(self, proto, q):
        for key_proto in list(self.ports) if proto == (0, 255) else \
                [k for k in self.ports if k[0] <= proto[1] and proto[0] <= k[1]]:
            qs = self.ports[key_proto]
            if q is None:
                yield from ((key_proto, x) for x in qs)
                continue
            import bisect
            i = bisect.bisect_left(qs, (q[0] - self.widest, -1))
            while i < len(qs) and qs[i][0] <= q[1]:
                if qs[i][1] is None or qs[i][1] >= q[0]:
                    yield key_proto, qs[i]
                i += 1

    def fits(self, box) -> bool:
        a, proto, q = box
        if q is None:
            for (kp, kq), addrs in self.by_key.items():
                if kp[0] <= proto[1] and proto[0] <= kp[1] and _addr_overlap(a, addrs):
                    return False
            return True
        for kp, kq in self._candidates(proto, q):
            if _addr_overlap(a, self.by_key[(kp, kq)]):
                return False
        return True

    def add(self, box):
        import bisect
        a, proto, q = box
        key = (proto, q)
        if key not in self.by_key:
            self.by_key[key] = []
            if q is not None:
                bisect.insort(self.ports.setdefault(proto, []), q)
                self.widest = max(self.widest, q[1] - q[0])
            else:
                self.ports.setdefault(proto, [])
        self.by_key[key].append(a)
        self.boxes.append(box)


def disjoint_sets(box_list):
    """Split the boxes of one kind (in the order of their entries) into groups without
    overlapping members (a set of concatenated intervals refuses overlapping elements). A
    box goes into the first group after the last one holding a box it overlaps, so where
    boxes overlap, the groups, looked up in order, meet the earlier entry's first."""
    packs = []
    for b in box_list:
        last = -1
        for k in range(len(packs) - 1, -1, -1):
            if not packs[k].fits(b):
                last = k
                break
        if last + 1 == len(packs):
            packs.append(_Packing())
        packs[last + 1].add(b)
    return [pk.boxes for pk in packs]

"""Least-privilege and consistency findings on a lab's groups (pure, no kernel).

The source documents advise: follow least privilege (SSH from specific addresses, not
0.0.0.0/0), keep rules simple and clear, keep internal services (MySQL, Redis) off groups
reachable from the Internet. Each finding names the group and rule and has a severity:
error (a service attackers look for, or every protocol, open to the world: the services and
their sources are sgnet.core.exposed_ports), warning (a service only a public server of its
kind opens, a rule that never decides, duplicates and contradictions, near a provider limit),
info (unused groups, egress to every address on every port, rules without a description).
Findings are sorted (severity, group, rule) and each says a thing once: one exposure finding
per rule and severity, one egress and one description finding per group.
"""

from __future__ import annotations

import bisect
import ipaddress
from functools import partial

from sgnet.core import exposed_ports, readings
from sgnet.core.labspec import building
from sgnet.core.model import Lab, Rule
from sgnet.core.values import PORTED_PROTOCOLS
from sgnet.providers import get_profile
from sgnet.providers.base import rule_sort_key

SEVERITIES = ["info", "warning", "error"]
NAMED = 10  # services named in one finding; the rest are counted ("and 5 more")
LISTED = 12  # rule index ranges listed in one finding


def _finding(severity, group, rule, message):
    return {"severity": severity, "group": group, "rule": rule, "message": message}


def _world(lab: Lab, rule: Rule) -> bool:
    """Does the rule's remote include every address of its family?"""
    r = rule.remote
    if r.kind == "any":
        return True
    if r.kind == "cidr":
        return ipaddress.ip_network(r.value).prefixlen == 0
    if r.kind == "prefix_list":
        return any(n.prefixlen == 0 for n in lab.prefix_lists[r.value].networks(rule.family))
    return False


def _covers_ports(outer, inner) -> bool:
    if outer is None:
        return True
    if inner is None:
        return outer == ((1, 65535),)
    return all(any(lo <= a and b <= hi for lo, hi in outer) for a, b in inner)


def _covers_remote(lab: Lab, outer: Rule, inner: Rule) -> bool:
    o, i = outer.remote, inner.remote
    if _world(lab, outer):
        return True
    if o == i:
        return True
    if o.kind == "cidr" and i.kind == "cidr":
        a, b = ipaddress.ip_network(o.value), ipaddress.ip_network(i.value)
        return a.version == b.version and b.subnet_of(a)
    if o.kind == "cidr" and i.kind == "prefix_list":
        a = ipaddress.ip_network(o.value)
        nets = lab.prefix_lists[i.value].networks(inner.family)
        return bool(nets) and all(n.version == a.version and n.subnet_of(a) for n in nets)
    return False


def covers(lab: Lab, outer: Rule, inner: Rule) -> bool:
    """Does every packet that `inner` matches also match `outer`?"""
    return (outer.direction == inner.direction and outer.family == inner.family
            and (outer.protocol is None or outer.protocol == inner.protocol)
            and (outer.protocol not in (6, 17) or _covers_ports(outer.ports, inner.ports))
            and _covers_remote(lab, outer, inner))


def _bounded(names: list, most: int = NAMED) -> str:
    """'a, b, c' or 'a, b, ... j and 4 more': a list that stays readable."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])} and {len(names) - most} more"


def _exposure(name: str, idx: int, where: str, rule: Rule, closed) -> list:
    """The findings of an inbound allow rule open to every address of its family, that no
    earlier deny of its group closes: one per severity, naming the services of
    sgnet.core.exposed_ports it opens (tcp and udp each as the rule's protocol allows).
    closed(protocol, first, last): does an earlier deny of the group close those ports to
    the world? Such a service is not named (Alibaba Cloud Config's risky-ports check: "If the
    access from the high-risk ports is denied by an inbound rule with a higher priority, the
    evaluation result is Compliant", alibabacloud.com/help/en/cloud-config/latest/
    ecs-security-group-risky-ports-check-with-protocol)."""
    everyone = f"every IPv{rule.family} address"
    found = []
    for e, protocols in exposed_ports.hits(rule.protocol, rule.ports):
        protocols = tuple(p for p in protocols if not closed(p, e.first, e.last))
        if protocols:
            found.append((e, protocols))
    if rule.protocol is None:
        shown = f", exposing {_bounded([e.label(p) for e, p in found])}" if found else ""
        return [_finding("error", name, idx, f"{where}: every protocol and port is open to "
                         f"{everyone}{shown}")]
    out = []
    for severity in ("error", "warning"):
        mine = [(e, p) for e, p in found if e.severity == severity]
        if not mine:
            continue
        kinds = [c for c in exposed_ports.CATEGORIES if any(e.category == c for e, _ in mine)]
        what = f"{', '.join(kinds)} port{'s' if len(mine) > 1 else ''}"
        advice = ("allow only specific addresses (least privilege)" if severity == "error"
                  else "needed only on a public server of that kind: make sure this is one, "
                  "or allow only specific addresses")
        out.append(_finding(severity, name, idx, f"{where}: opens "
                            f"{_bounded([e.label(p) for e, p in mine])} to {everyone}: {what}"
                            f"; {advice}"))
    return out


def _closed(denies, pos: int, rule: Rule, protocol: int, first: int, last: int) -> bool:
    """Does a deny before position `pos` close ports first-last of `protocol` to the remote
    of `rule`?"""
    probe = Rule("ingress", "allow", rule.priority, rule.family, protocol, ((first, last),),
                 rule.remote)
    return denies.first(probe, pos) is not None


def _egress(name: str, ordered: list, world) -> list:
    """Info: the group lets its members reach every address of a family on every protocol
    and port (an allow-all egress rule that no earlier egress deny of the group narrows).
    Both providers' default groups do this by design (Huawei: "Default Security Groups and
    Rules", shared/seeds/000_...; Alibaba's advanced console groups); said once a group."""
    rules, denied = [], set()
    for idx, rule in ordered:
        if rule.direction != "egress":
            continue
        if rule.action == "deny":
            denied.add(rule.family)
        elif rule.protocol is None and rule.family not in denied and world(rule) and \
                rule.family not in {r.family for _, r in rules}:
            rules.append((idx, rule))
    if not rules:
        return []
    rules.sort(key=lambda t: t[0])
    which = ", ".join(f"rule {idx} (IPv{r.family})" for idx, r in rules)
    return [_finding("info", name, rules[0][0], f"{which}: egress allows every protocol and "
                     "port to every address, as the providers' default rules do by design; "
                     "restrict it if these instances should reach only known destinations")]


def _spans(indexes: list) -> list:
    """[0, 1, 2, 5, 7, 8] -> ['0-2', '5', '7-8']"""
    out, start = [], None
    for i, n in enumerate(indexes):
        if start is None:
            start = n
        if i + 1 == len(indexes) or indexes[i + 1] != n + 1:
            out.append(str(start) if start == n else f"{start}-{n}")
            start = None
    return out


def _undescribed(name: str, group) -> list:
    """Info: the rules of a group without a description, in one finding (a group the provider
    creates is not the user's to describe)."""
    if group.builtin:
        return []
    missing = [i for i, r in enumerate(group.rules) if not r.description.strip()]
    if not missing:
        return []
    n = len(missing)
    return [_finding("info", name, None, f"{n} of {len(group.rules)} rules "
                     f"{'have' if n > 1 else 'has'} no description (rule{'s' if n > 1 else ''} "
                     f"{_bounded(_spans(missing), LISTED)}): say what each one is for")]


# -- finding the first rule that covers another, without comparing every pair ------------------
# A group's rules in evaluation order; for each, the first rule (lowest position) that covers
# it, as `covers` decides. Comparing every earlier rule made a group of 4,000 rules take
# seconds. Instead, the rules are indexed by what `covers` compares exactly:
#   direction and family: equal;
#   remote: a world remote covers every remote; otherwise an equal remote does, and a CIDR
#     covers the CIDRs (and prefix lists) inside it: the keys to look up are the inner
#     remote's own, WORLD, and its supernets at each prefix length the group's CIDRs use;
#   protocol: all protocols covers every protocol; otherwise an equal one does;
#   ports (tcp and udp): all ports covers every port list; for explicit ranges, every
#     range of the inner rule must lie inside one range of the outer rule: a range tree
#     answers "the first rule with a range holding [a, b]".
# The first covering rule of a rule is found in O(log^2 n) when it has one port range; with
# several, the candidates holding all of its ranges are checked from the first possible one.
WORLD = ("world",)
PORTED = PORTED_PROTOCOLS  # tcp, udp
_SMALL = 16  # below this many ranges, a scan is quicker than a range tree


class _Ranges:
    """Port ranges (lo, hi) of rules at positions: the first position whose rule has a range
    holding [a, b]. A merge tree: the ranges sorted by lo, each node its ranges' hi sorted,
    with the least position at or after each."""

    def __init__(self, elems):
        self.elems = sorted(elems)  # (lo, hi, position)
        self.tree = None

    def _build(self):
        elems, size = self.elems, 1
        while size < len(elems):
            size *= 2
        nodes = [[] for _ in range(2 * size)]
        for i, (_, hi, pos) in enumerate(elems):
            nodes[size + i] = [(hi, pos)]
        for i in range(size - 1, 0, -1):
            nodes[i] = sorted(nodes[2 * i] + nodes[2 * i + 1])
        his, least = [], []
        for node in nodes:
            his.append([h for h, _ in node])
            m, out = None, [0] * len(node)
            for j in range(len(node) - 1, -1, -1):
                m = node[j][1] if m is None or node[j][1] < m else m
                out[j] = m
            least.append(out)
        self.los = [e[0] for e in elems]
        self.size, self.tree = size, (his, least)

    def first(self, a, b):
        if len(self.elems) <= _SMALL:
            return min((pos for lo, hi, pos in self.elems if lo <= a and hi >= b), default=None)
        if self.tree is None:
            self._build()
        his, least = self.tree
        best = None
        lo, hi = self.size, self.size + bisect.bisect_right(self.los, a)
        while lo < hi:  # the nodes covering the ranges with lo <= a
            for node in ((lo,) if lo & 1 else ()) + ((hi - 1,) if hi & 1 else ()):
                j = bisect.bisect_left(his[node], b)
                if j < len(his[node]) and (best is None or least[node][j] < best):
                    best = least[node][j]
            lo, hi = (lo + 1) >> 1, hi >> 1
        return best


class _Bucket:
    """The rules of one direction, family and remote key."""

    def __init__(self):
        self.any_protocol = None  # first position of a rule of every protocol
        self.protocol = {}  # protocol -> first position (protocols without ports)
        self.all_ports = {}  # tcp/udp -> first position of a rule of every port
        self.full = {}  # tcp/udp -> first position of a rule of exactly ports 1-65535
        self.explicit = {}  # tcp/udp -> [(lo, hi, position)] of rules with port ranges
        self.positions = {}  # tcp/udp -> [position] of those rules, ascending
        self.ranges = {}  # tcp/udp -> _Ranges

    def add(self, pos, rule):
        p = rule.protocol
        if p is None:
            if self.any_protocol is None:
                self.any_protocol = pos
        elif p not in PORTED:
            self.protocol.setdefault(p, pos)
        elif rule.ports is None:
            self.all_ports.setdefault(p, pos)
        else:
            if rule.ports == ((1, 65535),):
                self.full.setdefault(p, pos)
            self.explicit.setdefault(p, []).extend((lo, hi, pos) for lo, hi in rule.ports)
            self.positions.setdefault(p, []).append(pos)


class _CoverIndex:
    """Rules (position, rule) of a group, for `first`: the least position of an indexed rule
    that covers a given rule, exactly as `covers` decides."""

    def __init__(self, lab: Lab, items, world):
        self.lab, self.world = lab, world
        self.spans = {}
        self.rules = dict(items)
        self.buckets = {}  # (direction, family, remote key) -> _Bucket
        lengths = {}  # (direction, family) -> prefix lengths of the CIDR remotes
        for pos, rule in items:
            key = self._key(rule)
            self.buckets.setdefault((rule.direction, rule.family, key), _Bucket()).add(pos, rule)
            if key[0] == "cidr":
                lengths.setdefault((rule.direction, rule.family), set()).add(key[1])
        self.lengths = {k: sorted(v) for k, v in lengths.items()}

    def _key(self, rule):
        r = rule.remote
        if self.world(rule):
            return WORLD
        if r.kind == "cidr":
            lo, _, length = self._span(rule)
            return ("cidr", length, lo >> ((32 if rule.family == 4 else 128) - length))
        return (r.kind, r.value)

    def _span(self, rule):
        """(first, last, prefix length): a CIDR remote's addresses; a prefix list's, from its
        lowest to its highest address of the rule's family, and its longest prefix (None if
        it has none of that family). Once per remote and family."""
        key = (rule.remote, rule.family)
        if key not in self.spans:
            r = rule.remote
            nets = [ipaddress.ip_network(r.value)] if r.kind == "cidr" else \
                self.lab.prefix_lists[r.value].networks(rule.family)
            self.spans[key] = (min(int(n.network_address) for n in nets),
                               max(int(n.broadcast_address) for n in nets),
                               min(n.prefixlen for n in nets)) if nets else None
        return self.spans[key]

    def _remote_keys(self, rule):
        """The remote keys of every rule that can cover `rule`'s remote: WORLD; the same
        remote (a CIDR is found among its supernets); the CIDRs holding all of a CIDR's or a
        prefix list's addresses."""
        keys = [WORLD]
        if self.world(rule):
            return keys
        r = rule.remote
        if r.kind != "cidr":
            keys.append((r.kind, r.value))
        span = self._span(rule) if r.kind in ("cidr", "prefix_list") else None
        if span is not None:
            lo, hi, most = span
            bits = 32 if rule.family == 4 else 128
            for length in self.lengths.get((rule.direction, rule.family), ()):
                if length > most:
                    break
                if lo >> (bits - length) == hi >> (bits - length):
                    keys.append(("cidr", length, lo >> (bits - length)))
        return keys

    def first(self, rule, before):
        """The least position below `before` of an indexed rule covering `rule`, or None."""
        best = before
        p = rule.protocol
        for key in self._remote_keys(rule):
            b = self.buckets.get((rule.direction, rule.family, key))
            if b is None:
                continue
            for pos in (b.any_protocol,
                        None if p is None or p in PORTED else b.protocol.get(p),
                        b.all_ports.get(p) if p in PORTED else None,
                        b.full.get(p) if p in PORTED and rule.ports is None else None):
                if pos is not None and pos < best:
                    best = pos
            if p in PORTED and rule.ports is not None and p in b.explicit:
                best = self._explicit(b, p, rule.ports, best)
        return best if best < before else None

    def _explicit(self, b, p, ports, best):
        if p not in b.ranges:
            b.ranges[p] = _Ranges(b.explicit[p])
        ranges = b.ranges[p]
        start = 0
        for a, z in ports:  # each range must lie inside one range of the covering rule
            pos = ranges.first(a, z)
            if pos is None or pos >= best:
                return best
            start = max(start, pos)
        if len(ports) == 1:
            return start
        positions = b.positions[p]
        for i in range(bisect.bisect_left(positions, start), len(positions)):
            pos = positions[i]
            if pos >= best:
                break
            if _covers_ports(self.rules[pos].ports, ports):
                return pos
        return best


def lint(lab: Lab) -> list:
    with building():  # the indexes of a large group are many small objects, none a cycle
        return _lint(lab)


def _lint(lab: Lab) -> list:
    findings = []
    profile = get_profile(lab.provider)
    used = {g for eni in lab.enis for g in eni.groups}
    worlds = {}

    def world(rule):  # _world, once per remote and family
        key = (rule.remote, rule.family)
        if key not in worlds:
            worlds[key] = _world(lab, rule)
        return worlds[key]

    for name, group in lab.groups.items():
        if group.builtin and name not in used:
            continue  # the provider's own groups exist in every lab: judged when used
        ordered = sorted(enumerate(group.rules), key=rule_sort_key)
        everything = _CoverIndex(lab, [(pos, rule) for pos, (_, rule) in enumerate(ordered)],
                                 world)
        denies = _CoverIndex(lab, [(pos, rule) for pos, (_, rule) in enumerate(ordered)
                                   if rule.action == "deny"], world)
        for pos, (idx, rule) in enumerate(ordered):
            where = f"rule {idx} ({rule.text()})"
            if rule.direction == "ingress" and rule.action == "allow" and world(rule) and \
                    denies.first(rule, pos) is None:  # exposed: no earlier deny covers it
                findings += _exposure(name, idx, where, rule, partial(
                    _closed, denies, pos, rule))
            first = everything.first(rule, pos)
            if first is not None:
                eidx, e = ordered[first]
                if e.action == rule.action and e.priority == rule.priority and \
                        e.protocol == rule.protocol and e.ports == rule.ports and \
                        e.remote == rule.remote:
                    findings.append(_finding("warning", name, idx,
                                             f"{where} duplicates rule {eidx}"))
                elif e.action != rule.action and e.protocol == rule.protocol and \
                        e.ports == rule.ports and e.remote == rule.remote:
                    findings.append(_finding(
                        "warning", name, idx, f"{where} contradicts rule {eidx} "
                        f"({e.action} wins: it comes first)"))
                else:
                    findings.append(_finding(
                        "warning", name, idx, f"{where} is shadowed by rule {eidx} "
                        f"({e.text()}): it never decides anything"))
        if name not in used and not group.builtin:
            findings.append(_finding("info", name, None, "no instance or ENI is in this group"))
        findings += _egress(name, ordered, world) + _undescribed(name, group)
    findings += _near_limits(lab, profile)
    findings += readings.notes(lab)  # where a limit's documents disagree: the reading used
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (-order[f["severity"]], f["group"] or "",
                                           f["rule"] if f["rule"] is not None else -1))


def _near_limits(lab: Lab, profile) -> list:
    out, limits = [], profile.limits
    if not limits:
        return out
    private = dict.fromkeys(lab.groups, 0)  # len(lab.members(g, 4)), in one pass
    for eni in lab.enis:
        n = (eni.ip is not None) + (int(eni.secondary[1]) - int(eni.secondary[0]) + 1
                                    if eni.secondary else 0)
        for g in set(eni.groups):
            private[g] = private.get(g, 0) + n
    for name, g in lab.groups.items():
        limit = profile.private_ip_limit(g)
        if limit is None:
            continue
        what, most = limit
        n = private[name]
        if n >= 0.8 * most:
            out.append(_finding("warning", name, None, f"holds {n} private IP addresses, "
                                f"{n * 100 // most}% of the {what} limit ({most})"))
    for eni in lab.enis:
        n = len(eni.groups)
        if n >= 0.8 * limits["groups_per_eni"]:
            out.append(_finding("warning", eni.groups[-1], None,
                                f"{eni.instance}/{eni.ifname} is in {n} groups (limit "
                                f"{limits['groups_per_eni']})"))
        rules = sum(len(lab.groups[g].rules) for g in eni.groups)
        if rules >= 0.8 * limits["rules_per_eni"]:
            out.append(_finding("warning", eni.groups[0], None,
                                f"{eni.instance}/{eni.ifname}: its groups hold {rules} rules "
                                f"(limit {limits['rules_per_eni']} across one ENI's groups)"))
    return out


def at_or_above(findings: list, severity: str) -> list:
    floor = SEVERITIES.index(severity)
    return [f for f in findings if SEVERITIES.index(f["severity"]) >= floor]


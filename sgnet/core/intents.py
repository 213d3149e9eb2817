"""Intents (core: pure): invariants over the whole traffic space, read from a file and
checked against a lab's classes (sgnet.core.classes).

    intents:
      - name: no-db-from-internet
        from: internet      # an instance, an external, group:NAME, a CIDR, or any
        to: db1             # an instance, group:NAME, or any
        traffic: all        # all | tcp | udp | icmp | icmpv6 | tcp/22 | tcp/8000-8080 | udp/53,123
        expect: deny        # allow: all of `traffic` passes; deny: none of it does;
                            # only: `traffic` passes and nothing else does

What "passes" means depends on where traffic comes from. From an instance (or the members
of a group): end to end, as the datapath meets it, the source's egress, routing between
VPCs, the destination's ingress. From an external, a CIDR or any: what the destination's
groups admit from those addresses (the outside world has no groups). A violation is a
class of traffic (its ports and addresses) with the rule that decides it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from typing import Optional

from sgnet.core import headerspace as hs
from sgnet.core.classes import TrafficClass
from sgnet.core.errors import FieldError
from sgnet.core.values import (ICMP, ICMPV6, PORTED_PROTOCOLS, ValueProblem, parse_ports,
                               parse_protocol)

EXPECT = ("allow", "deny", "only")
FIELDS = ("name", "from", "to", "traffic", "expect", "description")
MAX_INTENTS = 10_000


@dataclass(frozen=True)
class Intent:
    name: str
    src: str  # as written: a name, group:NAME, a CIDR, any
    dst: str
    traffic: tuple  # ((protocol or None: all, ports ((lo, hi), ...) or None), ...)
    traffic_text: str
    expect: str


def _fail(source, path, problem, value=None, allowed=None):
    raise FieldError(source, path, problem, value, allowed)


def parse_traffic(text) -> tuple:
    """'all', 'tcp', 'tcp/22', 'tcp/8000-8080', 'udp/53,123', 'icmp' (also several,
    separated by ';' or spaces: 'tcp/22 udp/53') -> ((protocol or None, ports or None), ...).
    Raises ValueProblem."""
    if not isinstance(text, str) or not text.strip():
        raise ValueProblem("not a traffic description",
                           "all, tcp, udp, icmp, icmpv6, tcp/22, tcp/8000-8080, udp/53,123")
    out = []
    for part in text.replace(";", " ").split():
        name, slash, ports = part.partition("/")
        proto = parse_protocol(name)
        if proto is None and slash:
            raise ValueProblem("all protocols have no ports", "all, or tcp/PORTS, udp/PORTS")
        if slash and proto not in PORTED_PROTOCOLS:
            raise ValueProblem(f"{name} has no ports", "ports for tcp and udp only")
        out.append((proto, parse_ports(ports, 1000) if slash else None))
    return tuple(out)


def parse(data, source: str, lab) -> list:
    """The intents of a parsed YAML document, checked against the lab (names, groups);
    FieldError naming the file, the field and the value otherwise."""
    if not isinstance(data, dict) or "intents" not in data:
        _fail(source, "intents", "is required: a list of intents", data if not
              isinstance(data, dict) else None)
    items = data["intents"]
    if not isinstance(items, list) or not items:
        _fail(source, "intents", "must be a non-empty list", items)
    if len(items) > MAX_INTENTS:
        _fail(source, "intents", f"too many intents (at most {MAX_INTENTS:,})", len(items))
    out, names = [], set()
    for k, it in enumerate(items):
        path = f"intents[{k}]"
        if not isinstance(it, dict):
            _fail(source, path, "must be a mapping", it)
        for key in it:
            if key not in FIELDS:
                _fail(source, f"{path}.{key}", "unknown field", key, ", ".join(FIELDS))
        for key in ("name", "from", "to", "traffic", "expect"):
            if key not in it:
                _fail(source, f"{path}.{key}", "is required")
        name = it["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            _fail(source, f"{path}.name", "must be a text of 1-200 characters", name)
        if name in names:
            _fail(source, f"{path}.name", "names another intent too", name)
        names.add(name)
        src, dst = it["from"], it["to"]
        problem = _end_problem(lab, src, True)
        if problem:
            _fail(source, f"{path}.from", problem, src,
                  "an instance, an external, group:NAME, a CIDR, or any")
        problem = _end_problem(lab, dst, False)
        if problem:
            _fail(source, f"{path}.to", problem, dst, "an instance, group:NAME, or any")
        try:
            traffic = parse_traffic(it["traffic"])
        except ValueProblem as e:
            _fail(source, f"{path}.traffic", e.problem, it["traffic"], e.allowed)
        if it["expect"] not in EXPECT:
            _fail(source, f"{path}.expect", "unknown expectation", it["expect"],
                  ", ".join(EXPECT))
        out.append(Intent(name, str(src), str(dst), traffic, it["traffic"], it["expect"]))
    return out


def _end_problem(lab, value, source: bool) -> Optional[str]:
    if not isinstance(value, str) or not value:
        return "must be a text"
    if value == "any":
        return None
    if value.startswith("group:"):
        g = value[len("group:"):]
        return None if g in lab.groups else f"no group {g!r} in the lab"
    if lab.instance(value) is not None:
        return None
    if lab.external(value) is not None:
        return None if source else "an external has no groups: name an instance or a group"
    if source:
        try:
            ipaddress.ip_network(value, strict=False)
            return None
        except ValueError:
            pass
    return "not an instance" + (", external, group or CIDR" if source else " or group") + \
        " of the lab"


# -- checking ------------------------------------------------------------------------------------
def _families(intent: Intent) -> list:
    protos = {p for p, _ in intent.traffic}
    fams = {4} if protos == {ICMP} else {6} if protos == {ICMPV6} else {4, 6}
    try:
        net = ipaddress.ip_network(intent.src, strict=False)
        fams &= {net.version}
    except ValueError:
        pass
    return sorted(fams)


def _destinations(lab, intent: Intent) -> list:
    if intent.dst == "any":
        return list(lab.enis)
    if intent.dst.startswith("group:"):
        return lab.enis_in(intent.dst[len("group:"):])
    return list(lab.instance(intent.dst).enis)


def _source_instances(lab, intent: Intent) -> Optional[list]:
    """The instances traffic comes from (judged end to end), or None: addresses."""
    if intent.src.startswith("group:"):
        g = intent.src[len("group:"):]
        return [i for i in lab.instances if any(g in e.groups for e in i.enis)]
    inst = lab.instance(intent.src)
    return [inst] if inst is not None else None


def _source_ranges(lab, intent: Intent, family: int) -> list:
    if intent.src == "any":
        return [(0, hs.SPACE[family])]
    x = lab.external(intent.src)
    if x is not None:
        a = x.address(family)
        return [] if a is None else [(int(a), int(a))]
    net = ipaddress.ip_network(intent.src, strict=False)
    return [hs.span(net)] if net.version == family else []


def _in_traffic(intent: Intent, protocol, named, span) -> list:
    """The parts of a class's port span (None: a class without ports) that `traffic`
    names: [span or None]; [] if none."""
    out = []
    for proto, ports in intent.traffic:
        if proto is None:
            return [span]
        if protocol is None:
            if proto not in named:
                return [span]
            continue
        if proto != protocol and not (proto == ICMP and protocol == ICMPV6):
            continue
        if span is None or ports is None:
            return [span]
        out += [(max(lo, span[0]), min(hi, span[1])) for lo, hi in ports
                if lo <= span[1] and hi >= span[0]]
    return hs.merge(out) if out and span is not None else out


def _outside_traffic(intent, protocol, named, span) -> list:
    inside = _in_traffic(intent, protocol, named, span)
    if not inside:
        return [span]
    if span is None or inside == [span]:
        return []
    return hs.subtract([span], inside)


def check(analysis, intent: Intent) -> list:
    """The violating classes of one intent (TrafficClass, the ENI's ingress, ranges cut to
    the intent's sources and ports cut to its traffic); [] when it holds."""
    lab = analysis.lab
    out = []
    srcs = _source_instances(lab, intent)
    for f in _families(intent):
        for eni in _destinations(lab, intent):
            if eni.address(f) is None:
                continue
            if srcs is None:
                cells = _admitted(analysis, eni, f, _source_ranges(lab, intent, f))
            else:
                cells = [c for inst in srcs if inst.name != eni.instance
                         for c in _end_to_end(analysis, inst, eni, f)]
            out += _violations(intent, cells)
    return out


def _admitted(analysis, eni, family, ranges) -> list:
    """The ENI's ingress classes cut to the source ranges."""
    out = []
    for c in analysis.eni_classes(eni, "ingress", family):
        cut = _intersect(c.ranges, ranges)
        if cut:
            out.append(_with(c, ranges=cut))
    return out


def _intersect(a, b) -> list:
    out = []
    for lo, hi in a:
        for x, y in b:
            lo2, hi2 = max(lo, x), min(hi, y)
            if lo2 <= hi2:
                out.append((lo2, hi2))
    return hs.merge(out)


def _with(c: TrafficClass, **kw) -> TrafficClass:
    return dataclasses.replace(c, **kw)


def _end_to_end(analysis, src_inst, dst_eni, family) -> list:
    """Traffic from an instance to an ENI, judged as the datapath meets it: per address of
    the source, the egress classes of the ENI it leaves by that hold the destination,
    against the ingress classes that hold the source; classes of the destination ENI whose
    ranges are that one source address, decided by the first step that denies."""
    ev, lab = analysis.evaluator, analysis.lab
    dst_addr = dst_eni.address(family)
    dst_i = int(dst_addr)
    ep = ev.resolve(src_inst.name, family)
    if ep.address is None:
        return []
    src_eni = ev.egress_eni(ep, dst_addr)
    src_addr = src_eni.address(family)
    if src_addr is None:
        return []
    src_i = int(src_addr)
    same_vpc = lab.vpc_of(src_eni.subnet).name == lab.vpc_of(dst_eni.subnet).name
    outs = [c for c in analysis.eni_classes(src_eni, "egress", family)
            if any(lo <= dst_i <= hi for lo, hi in c.ranges)]
    ins = [c for c in analysis.eni_classes(dst_eni, "ingress", family)
           if any(lo <= src_i <= hi for lo, hi in c.ranges)]
    cells = []
    for o in outs:
        for i in ins:
            if o.protocol != i.protocol:
                continue
            span = o.ports
            if span is not None:
                lo, hi = max(o.ports[0], i.ports[0]), min(o.ports[1], i.ports[1])
                if lo > hi:
                    continue
                span = (lo, hi)
            if o.decision.verdict == "deny":
                d, at = o.decision, "egress"
            elif not same_vpc:
                d = hs.Decided("deny", None, None,
                               f"{lab.vpc_of(src_eni.subnet).name} and "
                               f"{lab.vpc_of(dst_eni.subnet).name} are different VPCs: "
                               "no route between them")
                at = "route"
            else:
                d, at = i.decision, "ingress"
            cells.append(TrafficClass(dst_eni.instance, dst_eni.index, dst_eni.ifname,
                                      "ingress", family, i.protocol, span, [(src_i, src_i)],
                                      (d,), i.named, decided_at=at, end_to_end=True,
                                      sender=src_inst.name))
    return cells


def _violations(intent: Intent, cells: list) -> list:
    out = []
    for c in cells:
        allowed = c.decision.verdict == "allow"
        if intent.expect in ("allow", "only"):
            if not allowed:
                out += [_with(c, ports=s) for s in _in_traffic(intent, c.protocol, c.named,
                                                               c.ports)]
        if intent.expect == "deny" and allowed:
            out += [_with(c, ports=s) for s in _in_traffic(intent, c.protocol, c.named,
                                                           c.ports)]
        if intent.expect == "only" and allowed:
            out += [_with(c, ports=s) for s in _outside_traffic(intent, c.protocol, c.named,
                                                                c.ports)]
    return out


def summary(results: list) -> dict:
    held = sum(1 for r in results if r["holds"])
    return {"intents": len(results), "hold": held, "violated": len(results) - held,
            "violations": sum(len(r["violations"]) for r in results)}


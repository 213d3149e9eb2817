"""Header-space classes (pure): every class is decided alike at every point, and the classes
cover the whole space exactly once; a change's classes are exactly where the verdict moved.
The reference is the evaluator's own first-match judging (Evaluator.judge), point by point."""

import ipaddress
import random

from hypothesis import HealthCheck, given, settings, strategies as st

from sgnet import labgen
from sgnet.core import classes, headerspace as hs, labspec
from sgnet.core.evaluator import Evaluator
from sgnet.core.values import ICMP, ICMPV6, TCP, UDP

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _addr(value, family):
    return ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value)


def _points(cls, rng):
    """Points inside the class: both ends of each range and port span, and random ones."""
    out = []
    ports = [None] if cls.ports is None else \
        sorted({cls.ports[0], cls.ports[1], rng.randint(*cls.ports)})
    for lo, hi in cls.ranges:
        for a in {lo, hi, rng.randint(lo, hi)}:
            for p in ports:
                out.append((a, p))
    return out


def _protocols(cls, rng):
    if cls.protocol is not None:
        return [cls.protocol]
    pool = [p for p in range(256) if p not in cls.named]
    return [hs.other_protocol(cls.named), rng.choice(pool)]


def _judged(ev, eni, direction, family, proto, port, addr):
    return ev.judge(eni, direction, family, proto, port, _addr(addr, family))


def _check_lab(raw, seed):
    lab = labspec.parse(raw, "<hyp>")
    ev = Evaluator(lab)
    an = classes.Analysis(ev)
    rng = random.Random(seed)
    for inst in lab.instances:
        for eni in inst.enis:
            for direction in classes.DIRECTIONS:
                for family in (4, 6):
                    cls_list = an.eni_classes(eni, direction, family)
                    if eni.address(family) is None:
                        assert cls_list == []
                        continue
                    _covers_once(cls_list, family)
                    for c in cls_list:
                        for proto in _protocols(c, rng):
                            for a, port in _points(c, rng):
                                d = _judged(ev, eni, direction, family, proto, port, a)
                                assert (d.verdict, d.group, d.rule) == \
                                    (c.decision.verdict, c.decision.group, c.decision.rule), \
                                    (inst.name, eni.index, direction, family, proto, port,
                                     _addr(a, family), c)
                        _readings_agree(ev, eni, direction, family, c, rng)


def _readings_agree(ev, eni, direction, family, c, rng):
    """A class names the readings under which it is decided otherwise, and only those."""
    named = {(s, v): d for s, v, _, d in c.readings}
    for other in ev.others():
        proto = c.protocol if c.protocol is not None else hs.other_protocol(c.named)
        port = None if c.ports is None else c.ports[0]
        a = c.ranges[0][0]
        d = other.evaluator.judge(eni, direction, family, proto, port, _addr(a, family))
        if (other.setting, other.value) in named:
            assert d.verdict == named[(other.setting, other.value)].verdict != c.decision.verdict
        else:
            assert d.verdict == c.decision.verdict


def _covers_once(cls_list, family):
    """Per protocol, the classes' (port span x address range) boxes tile the space."""
    by_proto = {}
    for c in cls_list:
        by_proto.setdefault(c.protocol, []).append(c)
    assert {TCP, UDP, ICMP if family == 4 else ICMPV6, None} <= set(by_proto)
    for proto, cs in by_proto.items():
        spans = sorted({c.ports for c in cs}, key=lambda s: s or (0, 0))
        if proto in (TCP, UDP):
            # every span's classes tile the address space; spans tile 1-65535
            edges = sorted({s for s in spans})
            assert edges[0][0] == 1 and edges[-1][1] == 65535
            for x, y in zip(edges, edges[1:]):
                assert x[1] + 1 == y[0]
        for span in spans:
            ranges = sorted(r for c in cs if c.ports == span for r in c.ranges)
            assert ranges[0][0] == 0 and ranges[-1][1] == hs.SPACE[family]
            for (a, b), (x, y) in zip(ranges, ranges[1:]):
                assert b + 1 == x


@SETTINGS
@given(raw=labgen.labs("huawei"), seed=st.integers(0, 1000))
def test_classes_agree_with_the_evaluator_huawei(raw, seed):
    _check_lab(raw, seed)


@SETTINGS
@given(raw=labgen.labs("alibaba"), seed=st.integers(0, 1000))
def test_classes_agree_with_the_evaluator_alibaba(raw, seed):
    _check_lab(raw, seed)


def _with_rules_of(before, other):
    """`before` with its groups' rules taken from another lab's groups (references to
    groups it does not have left out): the same instances, other rules."""
    import copy
    after = copy.deepcopy(before)
    names = {g["name"] for g in after["security_groups"]} | set(labgen.BUILTIN["huawei"]) | {"self"}
    pool = other["security_groups"]
    for k, g in enumerate(after["security_groups"]):
        g["rules"] = [copy.deepcopy(r) for r in pool[k % len(pool)]["rules"]
                      if r.get("remote_group", "self") in names]
        g["default_rules"] = pool[k % len(pool)].get("default_rules", False)
    return after


@SETTINGS
@given(before=labgen.labs("huawei"), after=labgen.labs("huawei"), seed=st.integers(0, 1000))
def test_changes_are_exactly_where_the_verdict_moved(before, after, seed):
    """Two labs with the same instances: the change's classes hold every point whose
    verdict differs, and only those (checked at the classes' points and at random points
    of every ENI's space)."""
    after = _with_rules_of(before, after)
    a_lab, b_lab = labspec.parse(before, "<a>"), labspec.parse(after, "<b>")
    a_ev, b_ev = Evaluator(a_lab), Evaluator(b_lab)
    moved = classes.changes(classes.Analysis(a_ev), classes.Analysis(b_ev))
    rng = random.Random(seed)
    for c in moved:
        eni_a = a_lab.instance(c.instance).enis[c.eni]
        eni_b = b_lab.instance(c.instance).enis[c.eni]
        for proto in _protocols(c, rng):
            for a, port in _points(c, rng):
                da = _judged(a_ev, eni_a, c.direction, c.family, proto, port, a)
                db = _judged(b_ev, eni_b, c.direction, c.family, proto, port, a)
                assert da.verdict == c.decisions[0].verdict
                assert (db.verdict, db.group, db.rule) == \
                    (c.decisions[1].verdict, c.decisions[1].group, c.decisions[1].rule)
                assert da.verdict != db.verdict
    # random points: a moved verdict lies in a class
    for _ in range(200):
        inst = rng.choice(b_lab.instances)
        eni = rng.choice(inst.enis)
        family = rng.choice([4, 6])
        if eni.address(family) is None:
            continue
        direction = rng.choice(classes.DIRECTIONS)
        proto = rng.choice([TCP, UDP, ICMP if family == 4 else ICMPV6, 47])
        port = rng.choice([22, 53, 80, 25, 8080, 65535]) if proto in (TCP, UDP) else None
        pool = [int(ipaddress.ip_network(c, strict=False).network_address) + rng.randint(0, 3)
                for c in labgen.CIDRS[family]] + [rng.randint(0, hs.SPACE[family])]
        a = rng.choice(pool)
        prev = a_lab.instance(inst.name).enis[eni.index]
        va = _judged(a_ev, prev, direction, family, proto, port, a).verdict
        vb = _judged(b_ev, eni, direction, family, proto, port, a).verdict
        inside = any(c.instance == inst.name and c.eni == eni.index and
                     c.direction == direction and c.family == family and
                     (c.protocol == proto or (c.protocol is None and proto not in c.named)) and
                     (c.ports is None or c.ports[0] <= port <= c.ports[1]) and
                     any(lo <= a <= hi for lo, hi in c.ranges) for c in moved)
        assert inside == (va != vb), (inst.name, eni.index, direction, family, proto, port,
                                      _addr(a, family))


def test_the_issue_example_is_found():
    """Redis opened to the world, udp/1000-2000 to 100.64.0.0/10, HTTPS narrowed to one /24:
    three changes, with their ports and ranges as a reviewer reads them."""
    base = {"name": "ex", "provider": "huawei",
            "vpcs": [{"name": "v", "cidr": "10.0.0.0/16",
                      "subnets": [{"name": "s", "cidr": "10.0.1.0/24"}]}],
            "security_groups": [
                {"name": "web", "rules": [{"direction": "ingress", "action": "allow", "protocol": "tcp",
                                           "ports": "443", "remote": "0.0.0.0/0"}]},
                {"name": "db", "rules": []}],
            "instances": [{"name": "web1", "subnet": "s", "security_groups": ["web"]},
                          {"name": "db1", "subnet": "s", "security_groups": ["db"]}],
            "externals": [{"name": "internet", "ip": "203.0.113.10"}]}
    import copy
    changed = copy.deepcopy(base)
    changed["security_groups"][0]["rules"][0]["remote"] = "198.51.100.0/24"
    changed["security_groups"][1]["rules"] = [
        {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "6379", "remote": "0.0.0.0/0"},
        {"direction": "ingress", "action": "allow", "protocol": "udp", "ports": "1000-2000",
         "remote": "100.64.0.0/10"}]
    a, b = (classes.Analysis(Evaluator(labspec.parse(x, "<x>"))) for x in (base, changed))
    moved = classes.changes(a, b, families=(4,))
    got = sorted((c.instance, c.protocol_text(), c.ports_text(), c.decisions[0].verdict,
                  c.decisions[1].verdict, tuple(hs.cidrs(hs.complement(c.ranges, 4), 4)))
                 for c in moved)
    # db1's own group already let its members in (Huawei's default rules): all but db1
    db1 = str(b.lab.instance("db1").primary.ip) + "/32"
    web1 = str(b.lab.instance("web1").primary.ip) + "/32"
    assert got == [("db1", "tcp", "6379", "deny", "allow", (db1,)),
                   ("db1", "udp", "1000-2000", "deny", "allow",
                    tuple(hs.cidrs(hs.complement([hs.span(
                        __import__("ipaddress").ip_network("100.64.0.0/10"))], 4), 4))),
                   ("web1", "tcp", "443", "allow", "deny", (web1, "198.51.100.0/24"))]


def test_representatives_prefer_documentation_ranges_and_avoid_the_unusable():
    world = [(0, hs.SPACE[4])]
    a = hs.representatives(world, 4)
    assert ipaddress.IPv4Address(a[0]) in ipaddress.ip_network("203.0.113.0/24")
    lo, hi = hs.span(ipaddress.ip_network("100.64.0.0/10"))
    assert ipaddress.IPv4Address(hs.representatives([(lo, hi)], 4)[0]) in \
        ipaddress.ip_network("100.64.0.0/10")
    lo, hi = hs.span(ipaddress.ip_network("127.0.0.0/8"))
    assert hs.representatives([(lo, hi)], 4) == []
    held = int(ipaddress.IPv4Address("10.0.1.5"))
    assert hs.representatives([(held, held + 1)], 4, avoid=[(held, held)]) == [held + 1]
    assert hs.representatives([(held, held)], 4, avoid=[(held, held)]) == [held]

"""What the kernel says, pure: rule marks, NFLOG messages, a logged probe's key, the
verdict judged from an answer and the rules' reports, and layers that keep the first
match (not only the verdict) exact."""

import ipaddress
import struct

from hypothesis import HealthCheck, given, settings, strategies as st

from sgnet.core import layering, witness
from sgnet.core.compiler import Compiler
from sgnet.core.evaluator import Evaluator, entry_matches
from sgnet.core.labspec import parse
from sgnet.core.model import Remote
from sgnet.providers.base import Entry
from sgnet.core.probes import ProbeSpec
from sgnet.labgen import labs



def _lab():
    return parse({
        "name": "twu", "provider": "huawei",
        "vpcs": [{"name": "v", "cidr": "10.0.0.0/16", "subnets": [
            {"name": "s", "cidr": "10.0.1.0/24"}]}],
        "security_groups": [{"name": "web", "default_rules": False, "rules": [
            {"direction": "ingress", "action": "deny", "protocol": "tcp", "ports": "22",
             "remote": "10.0.1.0/24"},
            {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "22-80",
             "remote": "10.0.0.0/16", "priority": 2},
            {"direction": "egress", "action": "allow", "protocol": "all"}]}],
        "instances": [{"name": "a", "subnet": "s", "security_groups": ["web"]},
                      {"name": "b", "subnet": "s", "security_groups": ["web"]}],
        "externals": [{"name": "out", "ip": "203.0.113.9"}]}, "twu.yaml")


def test_marks_round_trip_and_name_the_rule_of_the_lab_file():
    lab = _lab()
    ev = Evaluator(lab)
    m = witness.entry_mark("ingress", 0, 1)
    w = witness.report("twu-b", 1, m, "sgnet+")
    assert (w.direction, w.verdict, w.eni_index, w.code) == ("ingress", "allow", 0, 2)
    d = w.to_decision(lab, ev, "b")
    entry = ev.decision_list(lab.instance("b").primary, "ingress").entries[1]
    assert (d["group"], d["rule"], d["why"]) == (entry.group, entry.rule, entry.why)
    default = witness.report("twu-b", 1, witness.mark("ingress", 0, witness.DEFAULT), "sgnet-")
    assert default.verdict == "deny"
    assert default.to_decision(lab, ev, "b")["why"] == \
        ev.decision_list(lab.instance("b").primary, "ingress").default_why
    route = witness.report("twu--gw", 2, witness.mark("route", witness.ANY_ENI,
                                                     witness.ROUTE), "sgnet-")
    assert route.direction == "route" and route.to_decision(lab, ev, None)["direction"] == "route"
    stateful = witness.report("twu-a", 3, witness.mark("egress", witness.ANY_ENI,
                                                      witness.STATEFUL), "sgnet-")
    assert stateful.to_decision(lab, ev, "a")["why"] == witness.STATEFUL_WHY
    assert witness.report("x", 1, 0x1234, "sgnet+") is None  # not a mark of sgnet's
    assert witness.report("x", 1, m, "other") is None  # not a log of sgnet's
    # a mark naming no entry says so (a ruleset older than the lab file)
    stale = witness.report("twu-b", 1, witness.entry_mark("ingress", 0, 99), "sgnet+")
    assert "unknown rule" in stale.to_decision(lab, ev, "b")["why"]


def _nflog(hook, mark, prefix, payload, pad_attrs=()):
    def attr(t, body):
        a = struct.pack("=HH", 4 + len(body), t) + body
        return a + b"\0" * (-len(a) % 4)
    attrs = attr(witness.NFULA_PACKET_HDR, struct.pack("!HBx", 0x0800, hook))
    attrs += attr(witness.NFULA_MARK, struct.pack("!I", mark))
    for t, body in pad_attrs:
        attrs += attr(t, body)
    attrs += attr(witness.NFULA_PREFIX, prefix.encode() + b"\0")
    attrs += attr(witness.NFULA_PAYLOAD, payload)
    body = struct.pack("=BBH", 2, 0, 0) + attrs
    return struct.pack("=IHHII", 16 + len(body), witness.NFULNL_MSG_PACKET, 0, 0, 0) + body


def _tcp4(src, dst, sport, dport):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0,
                     ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed)
    return ip + struct.pack("!HHIIBBHHH", sport, dport, 0, 0, 0x50, 2, 0, 0, 0)


def test_nflog_messages_are_read_whatever_else_they_carry():
    p = _tcp4("10.0.1.2", "10.0.1.3", 40001, 22)
    data = _nflog(1, 0xC0000002, "sgnet+", p, [(4, b"\0\0\0\3"), (11, b"\0\0\0\0")]) + \
        _nflog(3, 0x83FFFFFF, "sgnet-", p)
    assert witness.parse_messages(data) == [(1, 0xC0000002, "sgnet+", p),
                                            (3, 0x83FFFFFF, "sgnet-", p)]
    assert witness.parse_messages(b"") == [] and witness.parse_messages(b"\0" * 15) == []


def test_a_logged_probe_is_known_by_its_source_and_tag():
    assert witness.packet_key(_tcp4("10.0.1.2", "10.0.1.3", 40001, 22)) == (4, "10.0.1.2",
                                                                           40001)
    icmp = bytearray(_tcp4("10.0.1.2", "10.0.1.3", 0, 0))
    icmp[9] = 1
    struct.pack_into("!BBHHH", icmp, 20, 8, 0, 0, 4242, 1)
    assert witness.packet_key(bytes(icmp)) == (4, "10.0.1.2", 4242)
    gre = bytearray(_tcp4("10.0.1.2", "10.0.1.3", 0, 0))
    gre[9] = 47
    struct.pack_into("!H", gre, 4, 31337)  # the tag rides in the IPv4 id
    assert witness.packet_key(bytes(gre)) == (4, "10.0.1.2", 31337)
    v6 = struct.pack("!IHBB16s16s", (6 << 28) | 777, 20, 17, 64,
                     ipaddress.ip_address("fd00::2").packed,
                     ipaddress.ip_address("fd00::3").packed) + struct.pack("!HHHH", 50000, 53, 8, 0)
    assert witness.packet_key(v6) == (6, "fd00::2", 50000)
    other6 = bytearray(v6)
    other6[6] = 47
    assert witness.packet_key(bytes(other6)) == (6, "fd00::2", 777)  # the flow label
    assert witness.packet_key(b"") is None and witness.packet_key(b"\x45" + b"\0" * 10) is None


def _spec(**kw):
    base = dict(ns="twu-a", src_ip="10.0.1.2", dst_ip="10.0.1.3", protocol=6, port=22,
                family=4, tag=40001, dst_ns="twu-b", src_rules=True, dst_rules=True)
    return ProbeSpec(**dict(base, **kw))


def test_the_verdict_is_what_the_rules_reported():
    lab = _lab()
    judge = witness.Judge(lab, Evaluator(lab))
    out = witness.entry_mark("egress", 0, 0)
    let_out = ["twu-a", 3, out, "sgnet+"]
    dropped = ["twu-b", 1, witness.entry_mark("ingress", 0, 0), "sgnet-"]
    r = judge.judge(_spec(), None, [let_out, dropped], ("a", "b"))
    assert (r.observed, r.detail, r.observed_by["rule"]) == ("deny", "filtered", 0)
    let_in = ["twu-b", 1, witness.entry_mark("ingress", 0, 1), "sgnet+"]
    r = judge.judge(_spec(), ("tcp", "10.0.1.3", 0x14), [let_out, let_in], ("a", "b"))
    assert (r.observed, r.detail, r.observed_by["direction"], r.observed_by["rule"]) == \
        ("allow", "refused", "ingress", 1)
    # to an outside host: the source's egress rule is the one that let it through
    r = judge.judge(_spec(dst_ip="203.0.113.9", dst_ns="twu-out", dst_rules=False),
                    ("tcp", "203.0.113.9", 0x12), [let_out], ("a", "out"))
    assert (r.observed, r.detail, r.observed_by["direction"]) == ("allow", "open", "egress")
    # nothing answered, nothing dropped it: lost, with what is known
    r = judge.judge(_spec(), None, [let_out], ("a", "b"))
    assert r.observed == "lost" and r.observed_by is None
    assert "let through at egress: web rule 2" in r.answer
    r = judge.judge(_spec(), None, [], ("a", "b"))
    assert r.observed == "lost" and "no lab rule reported it" in r.answer
    # an ICMP error from a router is no answer of the destination's
    r = judge.judge(_spec(), ("error", "10.0.1.1", 3), [let_out], ("a", "b"))
    assert r.observed == "lost" and "10.0.1.1" in r.answer
    r = judge.judge(_spec(), ["unsent", "Network is unreachable", 0], [], ("a", "b"))
    assert r.observed == "lost" and "not sent: Network is unreachable" in r.answer


def _first_match(lab, entries, family, protocol, port, peer):
    return next((i for i, e in enumerate(entries)
                 if entry_matches(lab, e, family, protocol, port, peer)), None)


def _layered_first(lab, entries, family, protocol, port, peer, merge_min):
    """The entry a packet meets first in the layered form: the compiler's order (layers;
    within one, runs of merged entries between group-remote rules, each run's packs in
    order), found by the same layering functions the compiler uses."""
    numbered = list(enumerate(entries))
    for lay in layering.layer(lab, numbered):
        mergeable = [(i, e) for i, e in lay.entries if e.remote.kind != "group"]
        runs, run = [], []
        for i, e in lay.entries + [(None, None)]:
            if e is not None and e.remote.kind != "group":
                run.append((i, e))
                continue
            if run:
                runs.append(("merged" if len(run) >= merge_min and len(mergeable) >= merge_min
                             else "single", run))
            run = []
            if e is not None:
                runs.append(("single", [(i, e)]))
        for kind, items in runs:
            if kind == "single":
                for i, e in items:
                    if entry_matches(lab, e, family, protocol, port, peer):
                        return i
                continue
            owners = {}
            for i, e in items:
                for k, b in layering.boxes(lab, e):
                    owners.setdefault((e.family, k), {}).setdefault(b, i)
            key = "ported" if protocol in (6, 17) else "unported"
            for group in layering.disjoint_sets(list(owners.get((family, key), {}))):
                for a, p, q in group:
                    if a[0] <= int(peer) <= a[1] and p[0] <= protocol <= p[1] and \
                            (q is None or q[0] <= (port or 0) <= q[1]):
                        return owners[(family, key)][(a, p, q)]
    return None


def _check_layers(lab, entries, merge_min, peers):
    for protocol, port in ((6, 22), (6, 80), (6, 443), (17, 53), (1, None), (47, None)):
        for peer in peers:
            want = _first_match(lab, entries, 4, protocol, port, peer)
            got = _layered_first(lab, entries, 4, protocol, port, peer, merge_min)
            assert got == want, (protocol, port, str(peer), want, got)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(labs("huawei", name="twly"), st.integers(1, 4))
def test_layers_meet_the_first_matching_entry_first(raw, merge_min):
    """Not only the verdict: the entry the layered form meets first is the list's first
    match, for packets from every address of the lab and a few outside ones."""
    lab = parse(raw, "generated.yaml")
    ev = Evaluator(lab)
    peers = [a for eni in lab.enis for a in eni.addresses(4)] + \
        [ipaddress.ip_address("203.0.113.7"), ipaddress.ip_address("10.255.0.1")]
    for eni in lab.enis:
        for direction in ("ingress", "egress"):
            entries = [e for e in ev.decision_list(eni, direction).entries if e.family == 4]
            _check_layers(lab, entries, merge_min, peers)


NETS = ["0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/16", "10.0.1.0/24", "10.0.1.0/25",
        "10.0.1.128/25", "10.0.1.2/32", "203.0.113.0/24"]
PORTS = [None, ((22, 22),), ((20, 30),), ((22, 80),), ((80, 80), (443, 443)), ((1, 1000),)]


@st.composite
def overlapping_entries(draw):
    """Decision lists made to overlap: a few nested networks, port ranges that cross,
    both actions, the any remote and a group's."""
    out = []
    for k in range(draw(st.integers(1, 14))):
        remote = draw(st.sampled_from([Remote("cidr", n) for n in NETS] +
                                      [Remote("any"), Remote("group", "web")]))
        protocol = draw(st.sampled_from([None, 6, 17, 1]))
        ports = draw(st.sampled_from(PORTS)) if protocol in (6, 17) else None
        out.append(Entry(draw(st.sampled_from(["allow", "deny"])), 4, protocol, ports,
                         remote, "g", k, f"g rule {k}"))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(overlapping_entries(), st.integers(1, 3))
def test_layers_of_overlapping_rules_meet_the_first_match_first(entries, merge_min):
    lab = _lab()
    peers = [ipaddress.ip_address(a) for a in ("10.0.1.2", "10.0.1.3", "10.0.1.200",
                                               "10.0.9.9", "10.200.0.1", "203.0.113.5",
                                               "198.51.100.1")]
    _check_layers(lab, entries, merge_min, peers)


def test_the_compiled_rules_carry_their_marks():
    lab = _lab()
    rs = Compiler(lab).compile_instance(lab.instance("b"))
    rules = [c["add"]["rule"] for c in rs["nftables"] if "rule" in c.get("add", {})]
    marks = [x["mangle"]["value"] for r in rules for x in r["expr"]
             if "mangle" in x and x["mangle"]["key"] == {"meta": {"key": "mark"}}]
    assert witness.entry_mark("ingress", 0, 0) in marks
    assert witness.mark("ingress", 0, witness.DEFAULT) in marks
    logs = [x["log"] for r in rules for x in r["expr"] if "log" in x]
    assert logs and all(x["group"] == witness.LOG_GROUP for x in logs)
    # an accepting rule keeps its mark on the session it admits; the stateful shortcut
    # reports itself but leaves the session's own mark alone
    def keeps(r):
        return any("mangle" in x and x["mangle"]["key"] == {"ct": {"key": "mark"}}
                   for x in r["expr"])
    accepts = [r for r in rules if {"accept": None} in r["expr"] and
               any("log" in x for x in r["expr"]) and r["chain"] not in ("input", "output")]
    assert accepts and all(keeps(r) for r in accepts)
    shortcut = [r for r in rules if r["comment"] == "stateful: a tracked session's packets pass"]
    assert len(shortcut) == 2 and not any(keeps(r) for r in shortcut)
    assert witness.mark("ingress", witness.ANY_ENI, witness.ESTABLISHED) in marks


def test_tags_are_unique_per_source_and_do_not_repeat_the_last_run():
    from sgnet.core.probes import TAGS, assign_tags
    specs = [ProbeSpec(f"ns{k % 3}", "10.0.1.2", "10.0.1.3", 6, 22, 4) for k in range(30)]
    nxt = assign_tags(specs, 100)
    assert nxt == 110  # each source sent 10
    for ns in ("ns0", "ns1", "ns2"):
        tags = [s.tag for s in specs if s.ns == ns]
        assert sorted(tags) == list(range(TAGS[0] + 100, TAGS[0] + 110))
    first = {s.tag for s in specs}
    assign_tags(specs, nxt)
    assert not first & {s.tag for s in specs}  # the next run's tags are others
    span = TAGS[1] - TAGS[0]
    assert assign_tags(specs[:1], span - 1) == 0 and specs[0].tag == TAGS[1] - 1  # wraps


def _template(spec):
    """A probe template as scapy builds one (tag 1), by hand: the IP header, then 8 bytes
    of the probe's own header (ports, or an echo's type/code/checksum/id/seq)."""
    src, dst = (ipaddress.ip_address(a).packed for a in (spec.src_ip, spec.dst_ip))
    if spec.protocol in (6, 17):
        l4 = struct.pack("!HHI", 1, spec.port or 0, 0) + (b"\0" * 12 if spec.protocol == 6
                                                            else b"")
    elif spec.protocol in (1, 58):
        l4 = struct.pack("!BBHHH", 8 if spec.family == 4 else 128, 0, 0, 1, 1)
    else:
        l4 = b"\0" * 16
    if spec.family == 4:
        return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, spec.protocol,
                           0, src, dst) + l4
    return struct.pack("!IHBB16s16s", 6 << 28, len(l4), spec.protocol, 64, src, dst) + l4


def test_a_logged_probe_is_read_with_the_tag_it_was_stamped_with():
    """Whatever the protocol and family (protocol 58 over IPv4 too, which the stamper
    tags in its echo id), the report of a probe names the probe: one reader of a tag."""
    from sgnet.core.probes import Stamper, probe_tag
    stamps = Stamper(_template)
    for family, src, dst in ((4, "10.0.1.2", "10.0.1.3"), (6, "fd00::2", "fd00::3")):
        for protocol in (6, 17, 1, 58, 47, 132):
            spec = ProbeSpec("twu-a", src, dst, protocol, 22 if protocol in (6, 17) else None,
                             family)
            packet = stamps.build(spec, 43210)
            assert witness.packet_key(packet) == (family, src, 43210), (family, protocol)
            assert probe_tag(packet, family) == 43210

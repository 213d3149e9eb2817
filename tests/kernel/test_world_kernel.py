"""The outside world on the real kernel (sgnet.core.wiring): probes from any address outside
the lab's hosts are answered, or dropped by the groups with their report; instances reach
any address and hear the world's answers; an unheld address of another VPC stays behind the
gateway's isolation (ROUTE); externals and instance-to-instance flows are as before."""

import ipaddress
import subprocess

import pytest

from sgnet.core import names, witness
from sgnet.core.probes import ProbeSpec, assign_tags
from sgnet.kernel.probe import witnessed

pytestmark = pytest.mark.kernel
TCP, UDP, ICMP, ICMPV6 = 6, 17, 1, 58
RST = 0x04


def _lab():
    """VPC va (dual-stack; subnets sa1, sa2) and vb. a1 (sa1) allows tcp/22, udp/53 and
    echo from anywhere; a2 (sa2) only tcp/22 from its VPC; b1 in vb. An external."""
    anywhere = [{"direction": "ingress", "action": "allow", "protocol": p, **extra,
                 "remote": r, "ethertype": e}
                for r, e in (("0.0.0.0/0", "IPv4"), ("::/0", "IPv6"))
                for p, extra in (("tcp", {"ports": "22"}), ("udp", {"ports": "53"}),
                                 ("icmp" if e == "IPv4" else "icmpv6", {}))]
    out = [{"direction": "egress", "action": "allow", "protocol": "all", "remote": r,
            "ethertype": e} for r, e in (("0.0.0.0/0", "IPv4"), ("::/0", "IPv6"))]
    return {
        "name": "twld", "provider": "huawei",
        "vpcs": [{"name": "va", "cidr": "10.30.0.0/16", "ipv6_cidr": "fd00:30::/48",
                  "subnets": [{"name": "sa1", "cidr": "10.30.1.0/24",
                               "ipv6_cidr": "fd00:30:0:1::/64"},
                              {"name": "sa2", "cidr": "10.30.2.0/24"}]},
                 {"name": "vb", "cidr": "10.31.0.0/16",
                  "subnets": [{"name": "sb1", "cidr": "10.31.1.0/24"}]}],
        "security_groups": [
            {"name": "open", "default_rules": False, "rules": anywhere + out},
            {"name": "shut", "default_rules": False, "rules": [
                {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "22",
                 "remote": "10.30.0.0/16"}] + out}],
        "instances": [{"name": "a1", "subnet": "sa1", "ip": "10.30.1.10",
                       "security_groups": ["open"]},
                      {"name": "a2", "subnet": "sa2", "ip": "10.30.2.10",
                       "security_groups": ["shut"]},
                      {"name": "b1", "subnet": "sb1", "ip": "10.31.1.10",
                       "security_groups": ["open"]}],
        "externals": [{"name": "inet", "ip": "203.0.113.10"}]}


def _proto(name, family):
    if name == "icmp":
        return (ICMP if family == 4 else ICMPV6), None
    p, port = name.split("/")
    return (TCP if p == "tcp" else UDP), int(port)


def _family(ip):
    return ipaddress.ip_address(ip).version


def _run(lab, probes):
    """probes: (src ns, src ip, dst ip, proto, dst ns or None) -> per probe (answer,
    [(namespace, witnessed)]) heard in every namespace with lab rules (and the gateway)."""
    s, specs = lab.session, []
    instances = {s.ns_of(i.name) for i in lab.lab.instances}
    for src_ns, src, dst, proto, dst_ns in probes:
        fam = _family(dst)
        p, port = _proto(proto, fam)
        specs.append(ProbeSpec(src_ns, src, dst, p, port, fam, dst_ns=dst_ns,
                               src_rules=src_ns in instances, dst_rules=dst_ns in instances))
    assign_tags(specs)
    watch = sorted(instances | {names.gw_ns(lab.name)})
    got = witnessed.run(specs, list(range(len(specs))), watch, timeout=1.0)
    return [(a, [(ns, witness.decode(ns, mark, hook), prefix) for ns, hook, mark, prefix in r])
            for a, r in zip(got["answers"], got["reports"])]


def _host_view() -> dict:
    """The host's own links, routes, rules and nftables tables (read only)."""
    return {cmd: subprocess.run(cmd.split(), capture_output=True, text=True).stdout
            for cmd in ("ip -o link", "ip rule", "ip -6 rule", "ip route show table all",
                        "ip -6 route show table all", "nft list tables")}


@pytest.fixture(scope="module")
def lab():
    """One lab for the module (up once: every test only probes it), taken down after; the
    host's namespace is the same with it up, and nothing of it is left after."""
    from sgnet.core import placement
    from sgnet.kernel import netns
    from sgnet.pytest_plugin import LabHandle
    from sgnet.session import LabSession
    import tempfile
    import yaml
    before = _host_view()
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="sgnet-lab-") as f:
        yaml.safe_dump(_lab(), f, sort_keys=False)
        f.flush()
        handle = LabHandle(LabSession.up(f.name))
    try:
        assert _host_view() == before
        yield handle
    finally:
        gone = LabSession.down(handle.name)
    every = placement.lab_namespaces(handle.lab)
    assert names.world_ns(handle.name) in every and set(every) <= set(gone)
    assert not [n for n in every if netns.exists(n)]


def _answered_by(answer, dst, proto):
    """The answer a host at `dst` gives to `proto` with nothing listening: a reset, a
    port-unreachable, an echo reply, from `dst` itself."""
    assert answer is not None, f"no answer from {dst}"
    kind, src, extra = answer
    assert ipaddress.ip_address(src) == ipaddress.ip_address(dst), answer
    if proto.startswith("tcp"):
        assert kind == "tcp" and extra & RST, answer
    elif proto.startswith("udp"):
        assert kind == "error" and extra in (3, 1), answer  # port unreachable
    else:
        assert kind == "echo", answer


def _reported(reports, ns, direction, prefix):
    return [w for n, w, p in reports
            if n == ns and w is not None and w.direction == direction and p == prefix]


WORLD_SOURCES = ["100.64.1.1", "203.0.113.200", "192.0.2.9",
                 "10.30.1.77",  # unheld, in a1's own subnet
                 "10.30.2.99"]  # unheld, in another subnet of its VPC


def test_the_world_is_there_with_anyip(lab):
    w = names.world_ns(lab.name)
    rules = subprocess.run(["ip", "-n", w, "rule"], capture_output=True, text=True).stdout
    assert "100:\tfrom all iif lo lookup main" in rules and "200:\tfrom all lookup local" in rules
    assert "0:\tfrom all lookup local" not in rules.replace("200:", "")
    local = subprocess.run(["ip", "-n", w, "route", "show", "table", "local"],
                           capture_output=True, text=True).stdout
    assert "local default dev lo" in local
    local6 = subprocess.run(["ip", "-n", w, "-6", "route", "show", "table", "local"],
                            capture_output=True, text=True).stdout
    assert "local default dev lo" in local6


@pytest.mark.parametrize("src", WORLD_SOURCES + ["2001:db8:ffff::1"])
def test_from_any_address_of_the_world_an_allowed_probe_is_answered(lab, src):
    s, world = lab.session, names.world_ns(lab.name)
    a1 = lab.lab.instance("a1").primary
    dst = str(a1.ip if _family(src) == 4 else a1.ipv6)
    protos = ["tcp/22", "udp/53", "icmp"]
    got = _run(lab, [(world, src, dst, p, s.ns_of("a1")) for p in protos])
    for proto, (answer, reports) in zip(protos, got):
        _answered_by(answer, dst, proto)
        assert _reported(reports, s.ns_of("a1"), "ingress", "sgnet+"), (proto, reports)


@pytest.mark.parametrize("src", WORLD_SOURCES)
def test_from_the_world_a_denied_probe_is_dropped_with_its_report(lab, src):
    s, world = lab.session, names.world_ns(lab.name)
    dst = str(lab.lab.instance("a2").primary.ip)
    expect_allowed = ipaddress.ip_address(src) in ipaddress.ip_network("10.30.0.0/16")
    got = _run(lab, [(world, src, dst, "tcp/22", s.ns_of("a2")),
                     (world, src, dst, "udp/53", s.ns_of("a2"))])
    (ssh, ssh_reports), (dns, dns_reports) = got
    if expect_allowed:  # a2 allows tcp/22 from its VPC: an unheld address of it too
        _answered_by(ssh, dst, "tcp/22")
    else:
        assert ssh is None and _reported(ssh_reports, s.ns_of("a2"), "ingress", "sgnet-")
    assert dns is None and _reported(dns_reports, s.ns_of("a2"), "ingress", "sgnet-")


@pytest.mark.parametrize("dst", ["198.51.100.77", "100.64.0.5", "2001:db8:beef::9",
                                 "10.30.1.200",  # unheld, in a1's own subnet
                                 "10.30.2.200",  # unheld, in another subnet of its VPC
                                 "fd00:30:0:1::99"])  # unheld, IPv6, its own subnet
def test_an_instance_reaches_any_address_and_hears_the_world(lab, dst):
    s = lab.session
    a1 = lab.lab.instance("a1").primary
    src = str(a1.ip if _family(dst) == 4 else a1.ipv6)
    protos = ["tcp/80", "udp/53", "icmp"]
    got = _run(lab, [(s.ns_of("a1"), src, dst, p, None) for p in protos])
    for proto, (answer, reports) in zip(protos, got):
        _answered_by(answer, dst, proto)
        assert _reported(reports, s.ns_of("a1"), "egress", "sgnet+"), (proto, reports)
        assert not [w for _, w, _ in reports if w is not None and w.code == witness.ROUTE]


def test_an_unheld_address_of_another_vpc_is_dropped_by_the_gateway(lab):
    s, gw = lab.session, names.gw_ns(lab.name)
    a1, b1 = (str(lab.lab.instance(n).primary.ip) for n in ("a1", "b1"))
    got = _run(lab, [(s.ns_of("a1"), a1, "10.31.1.200", "tcp/22", None),  # unheld in vb
                     (s.ns_of("a1"), a1, "10.31.200.1", "icmp", None),    # vb, no subnet
                     (s.ns_of("b1"), b1, "10.30.1.200", "udp/53", None),  # unheld in va
                     (s.ns_of("a1"), a1, b1, "tcp/22", s.ns_of("b1"))])   # held: as before
    for answer, reports in got:
        assert answer is None, answer
        assert [w for n, w, p in reports if n == gw and w is not None
                and w.code == witness.ROUTE and p == "sgnet-"], reports


def test_externals_and_instances_behave_as_before(lab):
    s, world = lab.session, names.world_ns(lab.name)
    a1, a2 = (str(lab.lab.instance(n).primary.ip) for n in ("a1", "a2"))
    inet = str(lab.lab.externals[0].ip)
    got = _run(lab, [(s.ns_of("inet"), inet, a1, "tcp/22", s.ns_of("a1")),
                     (s.ns_of("inet"), inet, a2, "tcp/22", s.ns_of("a2")),
                     (s.ns_of("a1"), a1, inet, "udp/53", None),
                     (s.ns_of("a1"), a1, a2, "tcp/22", s.ns_of("a2")),
                     (s.ns_of("a2"), a2, a1, "icmp", s.ns_of("a1")),
                     (world, "100.64.1.1", inet, "icmp", None)])  # the world reaches it
    (to_a1, r1), (to_a2, r2), (out, r3), (a1a2, r4), (a2a1, r5), (wx, _) = got
    _answered_by(to_a1, a1, "tcp/22")
    assert _reported(r1, s.ns_of("a1"), "ingress", "sgnet+")
    assert to_a2 is None and _reported(r2, s.ns_of("a2"), "ingress", "sgnet-")
    _answered_by(out, inet, "udp/53")
    _answered_by(a1a2, a2, "tcp/22")
    assert _reported(r4, s.ns_of("a2"), "ingress", "sgnet+")
    _answered_by(a2a1, a1, "icmp")
    assert _reported(r5, s.ns_of("a1"), "ingress", "sgnet+")
    _answered_by(wx, inet, "icmp")


def test_the_world_has_no_link_to_the_host(lab):
    w = names.world_ns(lab.name)
    links = subprocess.run(["ip", "-n", w, "-o", "link"], capture_output=True,
                           text=True).stdout
    ends = [line.split(":")[1].strip() for line in links.splitlines()]
    assert sorted(e.split("@")[0] for e in ends) == ["eth0", "lo"]


def test_down_removes_the_world_after_a_crash_that_lost_the_state():
    """The state gone, and (a crash during a teardown) everything but the world: the world
    alone says whose it is (a lab's own namespace), and `down` removes it."""
    import shutil
    import tempfile
    import yaml
    from sgnet import state
    from sgnet.kernel import build, netns
    from sgnet.session import LabSession
    raw = dict(_lab(), name="twlc")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="sgnet-lab-") as f:
        yaml.safe_dump(raw, f, sort_keys=False)
        f.flush()
        LabSession.up(f.name)
    try:
        world = names.world_ns("twlc")
        assert netns.exists(world)
        shutil.rmtree(state.lab_dir("twlc"))
        build.teardown("twlc", only=[n for n in build.namespaces_of("twlc") if n != world])
        assert build.namespaces_of("twlc") == [world] == build.leftovers("twlc")
        assert LabSession.down("twlc") == [world]
        assert not netns.exists(world) and not build.leftovers("twlc")
    finally:
        LabSession.down("twlc")

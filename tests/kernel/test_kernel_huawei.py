"""Huawei semantics on the real kernel: namespaces, nftables, scapy packets (needs root)."""

import sys
import textwrap
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.kernel
LABS = Path(__file__).parents[1] / "labs"
ROOT = Path(__file__).parents[2]


def observed(lab, src, dst, proto, family=4):
    v = lab.probe(src, dst, proto, family)
    assert v.match, f"kernel and evaluator disagree: {dict(v)}"
    return v.observed


def vpcx():
    raw = yaml.safe_load((ROOT / "examples" / "vpcx.yaml").read_text())
    raw["name"] = "tvpcx"  # the document's example, under a test name
    return raw


ECS = ["ecs-a01", "ecs-a02", "ecs-b01", "ecs-b02"]


@pytest.mark.parametrize("family", [4, 6])
def test_vpcx_default_group_matrix(sgnet_lab, family):
    lab = sgnet_lab(vpcx())
    m = lab.matrix(["tcp/22", "tcp/3389", "udp/53", "icmp"], family=family)
    assert m["summary"]["wrong"] == 0, [r for r in m["results"] if not r.match]
    assert m["summary"]["total"] == (4 * 3 + 4 + 4) * 4  # ordered pairs of ECSs, to and from nat-gw
    for r in m["results"]:
        if r.src in ECS and r.dst in ECS:  # members reach each other, across subnets too
            assert r.observed == "allow" and r.detail in ("refused", "open"), r
            assert r.decided_by["group"] == "default"
        elif r.src == "nat-gw":  # the NAT gateway reaches none of them: silently dropped
            assert (r.observed, r.detail) == ("deny", "filtered"), r
        else:  # they reach the NAT gateway, and its replies come back
            assert r.dst == "nat-gw" and r.observed == "allow", r
    cross = [r for r in m["results"] if r.src == "ecs-a01" and r.dst == "ecs-b02"]
    assert {r.observed for r in cross} == {"allow"}


def test_sys_webserver(sgnet_lab):
    lab = sgnet_lab(str(LABS / "webserver.yaml"))
    for port in (22, 80, 443, 3389):
        assert observed(lab, "internet", "web1", f"tcp/{port}") == "allow"
    assert observed(lab, "internet", "web1", "icmp") == "allow"
    for proto in ("tcp/8080", "tcp/21", "udp/53", "udp/161", "gre"):
        v = lab.probe("internet", "web1", proto)
        assert (v.observed, v.detail, v.match) == ("deny", "filtered", True), dict(v)
    # members reach each other on any port, IPv4 and IPv6
    for proto in ("tcp/8080", "udp/53", "icmp"):
        assert observed(lab, "web1", "web2", proto) == "allow"
        assert observed(lab, "web2", "web1", proto, 6) == "allow"
    # IPv6 from outside is dropped: Table 2 allows the outside over IPv4 only
    for proto in ("tcp/80", "tcp/22", "icmp"):
        assert observed(lab, "internet", "web1", proto, 6) == "deny"
    # outbound is open
    assert observed(lab, "web1", "internet", "udp/53") == "allow"
    assert observed(lab, "web1", "internet", "tcp/443", 6) == "allow"


def test_sys_fullaccess(sgnet_lab):
    lab = sgnet_lab(str(LABS / "fullaccess.yaml"))
    for family in (4, 6):
        m = lab.matrix(["tcp/22", "tcp/8080", "udp/5000", "icmp"], family=family)
        assert m["summary"]["wrong"] == 0
        inbound = [r for r in m["results"] if r.dst.startswith("open")]
        assert inbound and all(r.observed == "allow" for r in inbound)


def test_priorities_and_deny_wins(sgnet_lab):
    lab = sgnet_lab(str(LABS / "priorities.yaml"))
    v = lab.probe("internet", "srv", "tcp/22")  # deny priority 1 beats allow priority 50
    assert (v.observed, v.decided_by["rule"]) == ("deny", 1)
    v = lab.probe("internet", "srv", "tcp/80")  # equal priority: deny wins
    assert (v.observed, v.decided_by["rule"]) == ("deny", 3) and v.match
    v = lab.probe("internet", "srv", "tcp/443")  # allow priority 5 beats deny priority 60
    assert (v.observed, v.decided_by["rule"]) == ("allow", 5) and v.match
    assert observed(lab, "internet", "srv", "tcp/8050") == "allow"
    assert observed(lab, "other", "srv", "tcp/8050") == "deny"
    assert observed(lab, "internet", "srv", "tcp/8101") == "deny"
    m = lab.matrix(["tcp/22", "tcp/80", "tcp/443", "tcp/8000", "tcp/8100", "udp/53", "icmp"])
    assert m["summary"]["wrong"] == 0


ECHO_SERVER = textwrap.dedent("""
    import socket, sys
    fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", 80)); s.listen(8)
    print("ready", flush=True)
    while True:
        c, _ = s.accept()
        data = c.recv(65536)
        c.sendall(data.upper()); c.close()
""")
ECHO_CLIENT = textwrap.dedent("""
    import socket, sys
    fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
    c = socket.socket(fam, socket.SOCK_STREAM); c.settimeout(2)
    try:
        c.connect((sys.argv[1], 80))
    except OSError as e:
        print("connect failed:", e); sys.exit(1)
    c.sendall(b"hello through the groups" * 100)
    c.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        d = c.recv(65536)
        if not d: break
        got += d
    print(got[:24].decode(), len(got))
""")


@pytest.mark.parametrize("family", [4, 6])
def test_stateful_replies_pass_but_the_server_cannot_open_back(sgnet_lab, family):
    lab = sgnet_lab(str(LABS / "stateful.yaml"))
    server = lab.lab.instance("server").primary.address(family)
    client = lab.lab.instance("client").primary.address(family)
    srv = lab.popen("server", [sys.executable, "-c", ECHO_SERVER, str(family)],
                    stdout=__import__("subprocess").PIPE, text=True)
    try:
        assert srv.stdout.readline().strip() == "ready"
        # a real connection with data both ways: the server has no egress rule at all,
        # its replies pass because the flow is tracked
        out = lab.exec("client", [sys.executable, "-c", ECHO_CLIENT, str(server)])
        assert out.returncode == 0 and out.stdout.split() == \
            ["HELLO", "THROUGH", "THE", "GROUPS", "2400"], out.stdout + out.stderr
        v = lab.probe("client", "server", "tcp/80", family)
        assert (v.observed, v.detail, v.match) == ("allow", "open", True)
        assert observed(lab, "client", "server", "icmp", family) == "allow"
        # the server cannot open a connection back: the client allows nothing inbound
        for proto in ("tcp/80", "tcp/22", "icmp"):
            v = lab.probe("server", "client", proto, family)
            assert (v.observed, v.match) == ("deny", True), dict(v)
            assert v.decided_by["direction"] in ("egress", "ingress")
        back = lab.exec("server", [sys.executable, "-c",
                                   ECHO_CLIENT.replace("80))", "22))"), str(client)])
        assert back.returncode == 1 and "connect failed" in back.stdout
    finally:
        srv.kill()
        srv.wait()


def test_secondary_eni_gets_its_own_groups(sgnet_lab):
    lab = sgnet_lab({
        "name": "teni", "provider": "huawei",
        "vpcs": [{"name": "v", "cidr": "10.34.0.0/16", "subnets": [
            {"name": "front", "cidr": "10.34.1.0/24"}, {"name": "back", "cidr": "10.34.2.0/24"}]}],
        "instances": [
            {"name": "dual", "subnet": "front", "ip": "10.34.1.10",
             "security_groups": ["default"],
             "secondary_enis": [{"subnet": "back", "ip": "10.34.2.10",
                                 "security_groups": ["Sys-FullAccess"]}]},
            {"name": "peer", "subnet": "back", "ip": "10.34.2.20",
             "security_groups": ["Sys-WebServer"]}],
        "externals": [{"name": "internet", "ip": "203.0.113.10"}],
    })
    assert observed(lab, "internet", "dual", "tcp/8080") == "deny"  # eth0: default
    assert observed(lab, "internet", "10.34.2.10", "tcp/8080") == "allow"  # eth1: FullAccess
    assert observed(lab, "peer", "10.34.2.10", "udp/99") == "allow"
    assert observed(lab, "peer", "10.34.1.10", "udp/99") == "deny"
    # from its secondary ENI's subnet the instance sends through eth1 (FullAccess egress)
    v = lab.probe("dual", "peer", "tcp/80")
    assert v.src_ip == "10.34.2.10" and v.observed == "allow" and v.match
    m = lab.matrix(["tcp/22", "tcp/8080", "udp/53", "icmp"])
    assert m["summary"]["wrong"] == 0


def test_vpc_default_when_no_vpc_is_declared(sgnet_lab):
    lab = sgnet_lab({"name": "tnovpc", "provider": "huawei",
                     "instances": [{"name": "vm1"}, {"name": "vm2"}],
                     "externals": [{"name": "internet", "ip": "203.0.113.10"}]})
    assert lab.lab.vpcs[0].name == "vpc-default"
    assert str(lab.lab.instance("vm1").primary.ip) == "192.168.0.2"
    assert observed(lab, "vm1", "vm2", "tcp/22") == "allow"
    assert observed(lab, "internet", "vm2", "tcp/22") == "deny"


def test_two_vpcs_are_isolated(sgnet_lab):
    lab = sgnet_lab({
        "name": "t2vpc", "provider": "huawei",
        "vpcs": [{"name": "v1", "cidr": "10.35.0.0/16", "subnets": [{"name": "a", "cidr": "10.35.1.0/24"}]},
                 {"name": "v2", "cidr": "10.36.0.0/16", "subnets": [{"name": "b", "cidr": "10.36.1.0/24"}]}],
        "instances": [{"name": "x", "subnet": "a", "security_groups": ["Sys-FullAccess"]},
                      {"name": "y", "subnet": "b", "security_groups": ["Sys-FullAccess"]}],
        "externals": [{"name": "internet", "ip": "203.0.113.10"}],
    })
    v = lab.probe("x", "y", "tcp/22")
    assert (v.expected, v.observed) == ("deny", "deny")
    assert observed(lab, "internet", "y", "tcp/22") == "allow"


def test_batched_probes_give_the_verdicts_of_one_at_a_time_probes(sgnet_lab):
    from sgnet.core.probes import ProbeSpec
    from sgnet.kernel.probe import send
    lab = sgnet_lab(str(LABS / "webserver.yaml"))
    flows = [(s, d, p, port, fam) for fam in (4, 6)
             for s, d in (("internet", "web1"), ("web1", "web2"), ("web2", "internet"))
             for p, port in ((6, 22), (6, 8080), (17, 53), (1 if fam == 4 else 58, None))]
    batched = lab.session.verdicts(flows)
    for f, rec in zip(flows, batched):
        exp = lab.session.evaluator.evaluate(*f)
        spec = ProbeSpec(lab.session.ns_of(exp.flow.src), exp.flow.src_ip,
                         exp.flow.dst_ip, exp.flow.protocol, exp.flow.port, f[4])
        single = send.one_at_a_time(spec, timeout=0.5)
        assert (single.observed, single.detail) == (rec["observed"], rec["detail"]), (f, rec)
    assert {r["observed"] for r in batched} == {"allow", "deny"}


def test_a_users_deny_at_priority_50_overrides_the_default_groups_rules(sgnet_lab):
    """The rules Huawei creates carry priority 100 (VPC API v3 examples), so a deny of SSH
    from the VPC at priority 50 in `default` is matched before its allow-members rule:
    members no longer reach each other's SSH; other ports, and IPv6 (the deny is IPv4),
    still pass by the default rules."""
    lab = sgnet_lab({
        "name": "h13p1", "provider": "huawei",
        "vpcs": [{"name": "v", "cidr": "10.13.0.0/16", "ipv6_cidr": "fd00:13::/48",
                  "subnets": [
                      {"name": "a", "cidr": "10.13.1.0/24", "ipv6_cidr": "fd00:13:0:1::/64"},
                      {"name": "b", "cidr": "10.13.2.0/24", "ipv6_cidr": "fd00:13:0:2::/64"}]}],
        "security_groups": [{"name": "default", "rules": [
            {"direction": "ingress", "action": "deny", "priority": 50, "protocol": "tcp",
             "ports": "22", "remote": "10.13.0.0/16", "description": "no SSH inside the VPC"}]}],
        "instances": [{"name": "vm1", "subnet": "a"}, {"name": "vm2", "subnet": "b"},
                      {"name": "vm3", "subnet": "a"}],
        "externals": [{"name": "internet", "ip": "203.0.113.10", "ipv6": "2001:db8::10"}],
    })
    for src, dst in (("vm1", "vm2"), ("vm2", "vm1"), ("vm1", "vm3")):
        v = lab.probe(src, dst, "tcp/22")
        assert (v.expected, v.observed, v.detail) == ("deny", "deny", "filtered"), dict(v)
        assert (v.decided_by["group"], v.decided_by["rule"]) == ("default", 4)
        for proto in ("tcp/80", "udp/53", "icmp"):
            v = lab.probe(src, dst, proto)
            assert (v.expected, v.observed) == ("allow", "allow"), dict(v)
            assert (v.decided_by["group"], v.decided_by["rule"]) == ("default", 0)
        assert observed(lab, src, dst, "tcp/22", 6) == "allow"
    assert observed(lab, "internet", "vm1", "tcp/22") == "deny"
    for family in (4, 6):
        m = lab.matrix(["tcp/22", "tcp/80", "udp/53", "icmp"], family=family)
        assert m["summary"]["wrong"] == 0, [r for r in m["results"] if not r.match]

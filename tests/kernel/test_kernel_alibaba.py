"""Alibaba Cloud semantics on the real kernel (needs root)."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sgnet.kernel import netns

pytestmark = pytest.mark.kernel
LAB = Path(__file__).parents[1] / "labs" / "alibaba.yaml"


@pytest.fixture(scope="module")
def lab():
    from sgnet.pytest_plugin import LabHandle
    from sgnet.session import LabSession
    handle = LabHandle(LabSession.up(str(LAB)))
    yield handle
    LabSession.down("tali")


def check(lab, src, dst, proto, verdict, family=4):
    v = lab.probe(src, dst, proto, family)
    assert (v.expected, v.observed) == (verdict, verdict), dict(v)
    return v


def test_basic_members_reach_each_other_despite_a_drop_all_rule(lab):
    for proto in ("tcp/80", "tcp/5555", "udp/53", "icmp"):
        v = check(lab, "web1", "web2", proto, "allow")
        assert "inner access accept" in v.decided_by["why"]
        check(lab, "web2", "web1", proto, "allow", 6)
    check(lab, "internet", "web1", "tcp/80", "deny")  # drop priority 1 beats accept 50
    check(lab, "internet", "web1", "icmp", "deny", 6)
    check(lab, "iso1", "web1", "tcp/80", "deny")  # different basic groups are isolated


def test_inner_drop_isolates_members_except_where_a_rule_allows(lab):
    check(lab, "iso1", "iso2", "tcp/22", "allow")
    v = check(lab, "iso1", "iso2", "tcp/80", "deny")
    assert "inner access drop" in v.decided_by["why"]
    check(lab, "iso2", "iso1", "icmp", "deny")
    check(lab, "internet", "iso1", "tcp/22", "deny")


def test_advanced_members_are_isolated_and_cannot_reach_out(lab):
    for proto in ("tcp/22", "udp/53", "icmp"):
        check(lab, "adv1", "adv2", proto, "deny")
        check(lab, "adv1", "internet", proto, "deny")
        check(lab, "internet", "adv1", proto, "deny")
    check(lab, "adv1", "adv2", "icmp", "deny", 6)


def test_console_created_advanced_group(lab):
    for proto in ("tcp/22", "tcp/80", "tcp/443", "tcp/3389", "icmp"):
        check(lab, "internet", "con1", proto, "allow")
    check(lab, "internet", "con1", "tcp/8080", "deny")
    check(lab, "con1", "internet", "tcp/8080", "allow")  # advanced console: outbound all


def test_two_groups_resolve_by_priority_and_drop_wins(lab):
    v = check(lab, "internet", "multi", "tcp/8080", "allow")  # accept 5 (hi) beats drop 10 (lo)
    assert v.decided_by["group"] == "hi"
    v = check(lab, "internet", "multi", "tcp/9090", "deny")  # both priority 5: drop wins
    assert v.decided_by["group"] == "lo"


def test_secondary_eni_gets_its_groups_rules_on_its_own_address(lab):
    check(lab, "internet", "dual", "tcp/22", "allow")  # eth0: the default group
    check(lab, "internet", "dual", "tcp/80", "deny")
    v = check(lab, "internet", "10.40.2.100", "tcp/80", "allow")  # eth1: group `second`
    assert v.decided_by["group"] == "second"


def test_default_group(lab):
    for proto in ("tcp/22", "tcp/3389", "icmp"):
        check(lab, "internet", "dflt", proto, "allow")
    for proto in ("tcp/80", "tcp/443", "udp/53"):
        check(lab, "internet", "dflt", proto, "deny")
    check(lab, "internet", "dflt", "tcp/22", "deny", 6)  # the default rules are IPv4
    check(lab, "dflt", "internet", "udp/53", "allow")  # basic: outbound allowed


@pytest.mark.parametrize("family", [4, 6])
def test_full_matrix_matches_the_evaluator(lab, family):
    m = lab.matrix(["tcp/22", "tcp/80", "tcp/8080", "tcp/9090", "udp/53", "icmp"],
                   family=family)
    assert m["summary"]["wrong"] == 0, [r for r in m["results"] if not r.match]
    assert m["summary"]["total"] > 300


def _refused(tmp_path, raw, field, text):
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    r = subprocess.run([sys.executable, "-m", "sgnet.cli", "up", str(p)], capture_output=True,
                       text=True)
    assert r.returncode == 2, r.stderr
    assert field in r.stderr and text in r.stderr, r.stderr
    assert netns.list_names(f"{raw['name']}-") == []


def _base(name):
    return {"name": name, "provider": "alibaba",
            "vpcs": [{"name": "v", "cidr": "10.41.0.0/16",
                      "subnets": [{"name": "s", "cidr": "10.41.0.0/20"}]}],
            "security_groups": [{"name": "b"}, {"name": "a", "type": "advanced"}],
            "instances": [{"name": "vm", "security_groups": ["b"]}]}


def test_mixing_basic_and_advanced_is_refused(tmp_path):
    raw = _base("tmix")
    raw["instances"][0]["security_groups"] = ["b", "a"]
    _refused(tmp_path, raw, "instances[0].security_groups", "basic and an advanced group")
    raw = _base("tmix")
    raw["instances"][0]["secondary_enis"] = [{"subnet": "s", "security_groups": ["a", "b"]}]
    _refused(tmp_path, raw, "instances[0].secondary_enis[0].security_groups", "basic and an")


def test_referencing_an_advanced_group_is_refused(tmp_path):
    raw = _base("tref")
    raw["security_groups"][0]["rules"] = [{"direction": "ingress", "action": "accept",
                                           "protocol": "tcp", "ports": "22",
                                           "remote_group": "a"}]
    _refused(tmp_path, raw, "security_groups[0].rules[0].remote_group", "advanced group")


def test_limits_are_refused(tmp_path):
    raw = _base("tlim")
    raw["security_groups"] = [{"name": f"g{i}"} for i in range(11)]
    raw["instances"][0]["security_groups"] = [f"g{i}" for i in range(11)]
    _refused(tmp_path, raw, "instances[0].security_groups", "at most 10")
    raw = _base("tlim")
    raw["security_groups"][0]["rules"] = [
        {"direction": "ingress", "action": "accept", "protocol": "tcp", "ports": str(p)}
        for p in range(1, 1002)]
    _refused(tmp_path, raw, "instances[0].security_groups", "at most 1000")
    raw = _base("tlim")
    raw["vpcs"][0]["subnets"][0]["cidr"] = "10.41.0.0/20"
    raw["instances"] = [{"name": f"vm{i}", "security_groups": ["b"]} for i in range(2001)]
    _refused(tmp_path, raw, "security_groups[0].name", "at most 2000")

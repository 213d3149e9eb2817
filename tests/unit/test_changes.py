"""Live changes, pure: the lab-file edits and the incremental nftables transactions."""

import pytest

from sgnet.core import changes
from sgnet.core.compiler import Compiler, diff_rulesets
from sgnet.core.errors import LabError
from sgnet.core.labspec import parse

RAW = {
    "name": "tchg", "provider": "huawei",
    "vpcs": [{"name": "v", "cidr": "10.70.0.0/16", "subnets": [
        {"name": "s1", "cidr": "10.70.1.0/24"}, {"name": "s2", "cidr": "10.70.2.0/24"}]}],
    "security_groups": [
        {"name": "web", "rules": [{"direction": "ingress", "action": "allow",
                                   "protocol": "tcp", "ports": "80"}]},
        {"name": "db", "default_rules": False, "rules": [
            {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "5432",
             "remote_group": "web"}]}],
    "instances": [{"name": "w1", "subnet": "s1", "security_groups": ["web"]},
                  {"name": "w2", "subnet": "s1", "security_groups": ["web"]},
                  {"name": "d1", "subnet": "s2", "security_groups": ["db"]},
                  {"name": "x", "subnet": "s2"}],
}


def lab(raw=RAW):
    return parse(raw, "lab.yaml")


def test_rule_add_appends_to_the_group_and_declares_provider_groups():
    new = parse(changes.rule_add(RAW, lab(), "web", {"direction": "ingress", "action": "deny",
                                                       "protocol": "tcp", "ports": "22"}))
    assert new.groups["web"].rules[-1].ports == ((22, 22),)
    new = parse(changes.rule_add(RAW, lab(), "Sys-WebServer", {
        "direction": "ingress", "action": "allow", "protocol": "udp", "ports": "53"}))
    g = new.groups["Sys-WebServer"]
    assert len(g.rules) == 10 and g.rules[-1].protocol == 17  # Table 2's nine, plus one
    with pytest.raises(LabError):
        changes.rule_add(RAW, lab(), "nosuch", {"direction": "ingress"})


def test_rule_delete_removes_exactly_one_matching_rule():
    raw, idx = changes.rule_delete(RAW, lab(), "web", {"protocol": "tcp", "ports": "80"})
    assert idx == 4 and len(parse(raw).groups["web"].rules) == 4
    with pytest.raises(LabError, match="no rule"):
        changes.rule_delete(RAW, lab(), "web", {"protocol": "tcp", "ports": "81"})
    with pytest.raises(LabError, match="rules of web match"):
        changes.rule_delete(RAW, lab(), "web", {"direction": "ingress"})


def test_deleting_a_provider_default_rule_keeps_the_others_in_order():
    raw, idx = changes.rule_delete(RAW, lab(), "default", {"direction": "ingress",
                                                            "ethertype": "IPv6"})
    g = parse(raw).groups["default"]
    assert idx == 1
    assert [(r.direction, r.family) for r in g.rules] == [("ingress", 4), ("egress", 4),
                                                          ("egress", 6)]


def test_attach_detach():
    raw = changes.attach(RAW, lab(), "x", "web")
    assert parse(raw).instance("x").groups == ["default", "web"]
    raw = changes.detach(raw, parse(raw), "x", "default")
    assert parse(raw).instance("x").groups == ["web"]
    with pytest.raises(LabError, match="at least one"):
        changes.detach(raw, parse(raw), "x", "web")
    with pytest.raises(LabError, match="already"):
        changes.attach(RAW, lab(), "w1", "web")


def test_managed_groups_cannot_be_changed():
    raw = {"name": "tm", "provider": "alibaba",
           "security_groups": [{"name": "m", "managed": True}, {"name": "b"}],
           "instances": [{"name": "vm", "security_groups": ["m"]}]}
    lab_ = parse(raw)
    for fn in (lambda: changes.rule_add(raw, lab_, "m", {"direction": "ingress",
                                                          "action": "accept"}),
               lambda: changes.detach(raw, lab_, "vm", "m"),
               lambda: changes.attach(raw, lab_, "vm", "m")):
        with pytest.raises(LabError, match="managed"):
            fn()


def _compile(raw, name):
    l_ = parse(raw)
    return Compiler(l_).compile_instance(l_.instance(name))


def test_membership_change_touches_only_sets_elsewhere():
    raw = changes.attach(RAW, lab(), "x", "web")
    before, after = _compile(RAW, "d1"), _compile(raw, "d1")
    cmds = diff_rulesets(before, after, "tchg")["nftables"]
    # d1 references web: only its member set changes, no chain is rebuilt
    assert cmds == [{"add": {"element": {"family": "inet", "table": "tchg", "name": "g4_web",
                                         "elem": [str(parse(raw).instance("x").primary.ip)]}}}]
    cmds = diff_rulesets(_compile(RAW, "w1"), _compile(raw, "w1"), "tchg")["nftables"]
    assert [list(c)[0] for c in cmds] == ["add"] and "element" in cmds[0]["add"]


def test_rule_change_flushes_only_the_changed_chains():
    raw = changes.rule_add(RAW, lab(), "web", {"direction": "ingress", "action": "deny",
                                                 "protocol": "tcp", "ports": "22"})
    cmds = diff_rulesets(_compile(RAW, "w1"), _compile(raw, "w1"), "tchg")["nftables"]
    flushed = [c["flush"]["chain"]["name"] for c in cmds if "flush" in c]
    assert flushed == ["in_eth0"]
    assert all("table" not in c.get("add", {}) and "delete" not in c for c in cmds)
    assert diff_rulesets(_compile(RAW, "d1"), _compile(raw, "d1"), "tchg") == {"nftables": []}


def test_unused_set_is_deleted_after_its_chain_is_refilled():
    raw, _ = changes.rule_delete(RAW, lab(), "db", {"remote_group": "web"})
    cmds = diff_rulesets(_compile(RAW, "d1"), _compile(raw, "d1"), "tchg")["nftables"]
    kinds = [(list(c)[0], list(list(c.values())[0])[0]) for c in cmds]
    assert kinds[0] == ("flush", "chain") and kinds[-1] == ("delete", "set")

"""Huawei profile and reference evaluator, pure (no kernel)."""

import pytest

from sgnet.core.evaluator import Evaluator
from sgnet.core.labspec import parse
from sgnet.core.model import Remote

BASE = {
    "name": "thw",
    "provider": "huawei",
    "vpcs": [{"name": "vpc-x", "cidr": "10.1.0.0/16", "ipv6_cidr": "fd00:1::/48",
              "subnets": [{"name": "a", "cidr": "10.1.1.0/24", "ipv6_cidr": "fd00:1:0:1::/64"},
                          {"name": "b", "cidr": "10.1.2.0/24"}]}],
    "externals": [{"name": "internet", "ip": "203.0.113.10", "ipv6": "2001:db8::10"}],
}


def lab_with(groups=(), instances=()):
    raw = dict(BASE, security_groups=list(groups), instances=list(instances))
    return parse(raw, "test.yaml")


def rows(group):
    return [(r.direction, r.action, r.family, r.protocol, r.ports, r.remote)
            for r in group.rules]


def test_default_group_is_table_1():
    g = lab_with().groups["default"]
    assert rows(g) == [
        ("ingress", "allow", 4, None, None, Remote("group", "default")),
        ("ingress", "allow", 6, None, None, Remote("group", "default")),
        ("egress", "allow", 4, None, None, Remote("cidr", "0.0.0.0/0")),
        ("egress", "allow", 6, None, None, Remote("cidr", "::/0")),
    ]


def test_sys_webserver_is_table_2():
    g = lab_with().groups["Sys-WebServer"]
    me = Remote("group", "Sys-WebServer")
    any4 = Remote("cidr", "0.0.0.0/0")
    assert rows(g) == [
        ("ingress", "allow", 4, 1, None, any4),
        ("ingress", "allow", 4, None, None, me),
        ("ingress", "allow", 4, 6, ((443, 443),), any4),
        ("ingress", "allow", 4, 6, ((80, 80),), any4),
        ("ingress", "allow", 4, 6, ((22, 22),), any4),
        ("ingress", "allow", 4, 6, ((3389, 3389),), any4),
        ("ingress", "allow", 6, None, None, me),
        ("egress", "allow", 4, None, None, any4),
        ("egress", "allow", 6, None, None, Remote("cidr", "::/0")),
    ]


def test_sys_fullaccess_is_table_3():
    g = lab_with().groups["Sys-FullAccess"]
    me = Remote("group", "Sys-FullAccess")
    assert rows(g) == [
        ("ingress", "allow", 4, None, None, me),
        ("ingress", "allow", 6, None, None, me),
        ("ingress", "allow", 4, None, None, Remote("cidr", "0.0.0.0/0")),
        ("ingress", "allow", 6, None, None, Remote("cidr", "::/0")),
        ("egress", "allow", 4, None, None, Remote("cidr", "0.0.0.0/0")),
        ("egress", "allow", 6, None, None, Remote("cidr", "::/0")),
    ]


def test_provider_groups_exist_without_declaration_and_default_is_used():
    lab = lab_with(instances=[{"name": "vm1", "subnet": "a"}])
    assert {"default", "Sys-WebServer", "Sys-FullAccess"} <= set(lab.groups)
    assert lab.instances[0].groups == ["default"]


def test_new_custom_group_gets_self_and_outbound_rules():
    lab = lab_with(groups=[{"name": "app"}])
    assert rows(lab.groups["app"]) == [
        ("ingress", "allow", 4, None, None, Remote("group", "app")),
        ("ingress", "allow", 6, None, None, Remote("group", "app")),
        ("egress", "allow", 4, None, None, Remote("cidr", "0.0.0.0/0")),
        ("egress", "allow", 6, None, None, Remote("cidr", "::/0")),
    ]
    bare = lab_with(groups=[{"name": "app", "default_rules": False}])
    assert bare.groups["app"].rules == []


def test_declaring_default_adds_rules_to_it_and_can_replace_them():
    lab = lab_with(groups=[{"name": "default", "rules": [
        {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "22",
         "remote": "203.0.113.0/24"}]}])
    g = lab.groups["default"]
    assert len(g.rules) == 5 and g.rules[4].ports == ((22, 22),)
    lab = lab_with(groups=[{"name": "default", "default_rules": False}])
    assert lab.groups["default"].rules == []


def _eval(groups, instances, src, dst, proto, port=None, family=4):
    ev = Evaluator(lab_with(groups, instances))
    return ev.evaluate(src, dst, proto, port, family)


VMS = [{"name": "vm1", "subnet": "a"}, {"name": "vm2", "subnet": "b"},
       {"name": "vm3", "subnet": "a", "security_groups": ["g"]}]


def test_default_members_reach_each_other_outside_cannot():
    e = _eval([], VMS[:2], "vm1", "vm2", 6, 22)
    assert (e.verdict, e.decided_by.group, e.decided_by.rule) == ("allow", "default", 0)
    e = _eval([], VMS[:2], "internet", "vm1", 6, 22)
    assert e.verdict == "deny" and e.decided_by.group is None
    assert e.decided_by.direction == "ingress"
    e = _eval([], VMS[:2], "vm1", "internet", 17, 53)
    assert e.verdict == "allow" and e.decided_by.direction == "egress"


def test_ipv6_flow_needs_addresses():
    with pytest.raises(KeyError):
        _eval([], VMS[:2], "vm1", "vm2", 58, None, 6)
    e = _eval([], [{"name": "v1", "subnet": "a"}, {"name": "v2", "subnet": "a"}],
              "v1", "v2", 58, None, 6)
    assert e.verdict == "allow" and e.decided_by.rule == 1


def _group(rules, name="g"):
    return {"name": name, "default_rules": False, "rules": rules}


def _r(action, priority, ports="22", direction="ingress", **kw):
    return dict(direction=direction, action=action, priority=priority, protocol="tcp",
                ports=ports, **kw)


@pytest.mark.parametrize("rules,port,verdict,rule", [
    ([_r("allow", 50), _r("deny", 1)], 22, "deny", 1),      # higher-priority deny wins
    ([_r("allow", 10), _r("deny", 10)], 22, "deny", 1),     # equal priority: deny first
    ([_r("deny", 10), _r("allow", 10)], 22, "deny", 0),
    ([_r("deny", 50), _r("allow", 1)], 22, "allow", 1),     # higher-priority allow wins
    ([_r("allow", 1, "20-30")], 25, "allow", 0),
    ([_r("allow", 1, "20,30")], 25, "deny", None),
])
def test_priorities_and_deny_first(rules, port, verdict, rule):
    e = _eval([_group(rules)], VMS, "internet", "vm3", 6, port)
    assert (e.verdict, e.decided_by.rule) == (verdict, rule)


def test_groups_in_attachment_order_then_priority():
    g1 = _group([_r("allow", 100)], "first")
    g2 = _group([_r("deny", 1)], "second")
    inst = [{"name": "vm", "subnet": "a", "security_groups": ["first", "second"]}]
    e = _eval([g1, g2], inst, "internet", "vm", 6, 22)
    assert (e.verdict, e.decided_by.group) == ("allow", "first")
    inst = [{"name": "vm", "subnet": "a", "security_groups": ["second", "first"]}]
    e = _eval([g1, g2], inst, "internet", "vm", 6, 22)
    assert (e.verdict, e.decided_by.group) == ("deny", "second")


def test_egress_is_judged_at_the_source():
    out_only = _group([{"direction": "egress", "action": "allow", "protocol": "tcp",
                        "ports": "80", "remote": "0.0.0.0/0"}], "out")
    inst = [{"name": "c", "subnet": "a", "security_groups": ["out"]},
            {"name": "s", "subnet": "a", "security_groups": ["Sys-FullAccess"]}]
    assert _eval([out_only], inst, "c", "s", 6, 80).verdict == "allow"
    e = _eval([out_only], inst, "c", "s", 6, 81)
    assert (e.verdict, e.decided_by.direction) == ("deny", "egress")
    e = _eval([out_only], inst, "s", "c", 6, 80)  # stateful: no inbound rule on c
    assert (e.verdict, e.decided_by.direction) == ("deny", "ingress")


def test_remote_group_prefix_list_and_cidr():
    raw_groups = [
        _group([_r("allow", 1, "5432", remote_group="app")], "db"),
        _group([_r("allow", 1, "443", remote_prefix_list="office")], "web"),
    ]
    raw = dict(BASE, security_groups=raw_groups,
               prefix_lists=[{"name": "office", "entries": ["203.0.113.0/24", "2001:db8::/64"]}],
               instances=[{"name": "app1", "subnet": "a", "security_groups": ["app"]},
                          {"name": "db1", "subnet": "a", "security_groups": ["db"]},
                          {"name": "web1", "subnet": "a", "security_groups": ["web"]},
                          {"name": "other", "subnet": "b"}])
    raw["security_groups"].append({"name": "app"})
    ev = Evaluator(parse(raw, "t.yaml"))
    assert ev.evaluate("app1", "db1", 6, 5432).verdict == "allow"
    assert ev.evaluate("other", "db1", 6, 5432).verdict == "deny"
    assert ev.evaluate("internet", "web1", 6, 443).verdict == "allow"
    assert ev.evaluate("internet", "web1", 6, 443, 6).verdict == "deny"  # rule is IPv4
    assert ev.evaluate("other", "web1", 6, 443).verdict == "deny"


def test_secondary_eni_uses_its_own_groups():
    inst = [{"name": "vm", "subnet": "a", "security_groups": ["default"],
             "secondary_enis": [{"subnet": "b", "ip": "10.1.2.50",
                                 "security_groups": ["Sys-FullAccess"]}]}]
    ev = Evaluator(lab_with([], inst))
    assert ev.evaluate("internet", "vm", 6, 8080).verdict == "deny"
    e = ev.evaluate("internet", "10.1.2.50", 6, 8080)
    assert (e.verdict, e.decided_by.group) == ("allow", "Sys-FullAccess")


# -- the priority of the rules Huawei Cloud creates (issue 13, item 5) -------------------------
# The VPC API v3 response examples (CreateSecurityGroup, ShowSecurityGroup) give a new group's
# rules priority 100; a rule a user adds without a priority gets 1.

def test_rules_the_cloud_creates_have_priority_100():
    lab = lab_with(groups=[{"name": "app"}, {"name": "default", "rules": [
        {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "22",
         "remote": "203.0.113.0/24"}]}])
    for name in ("Sys-WebServer", "Sys-FullAccess", "app"):
        assert {r.priority for r in lab.groups[name].rules} == {100}, name
    assert [r.priority for r in lab.groups["default"].rules] == [100, 100, 100, 100, 1]


def _default_with_ssh_deny(priority):
    return {"name": "default", "rules": [
        {"direction": "ingress", "action": "deny", "priority": priority, "protocol": "tcp",
         "ports": "22", "remote": "10.1.0.0/16", "description": "no SSH inside the VPC"}]}


def test_a_users_deny_before_priority_100_overrides_the_default_rules():
    """`default` plus a deny of SSH from the VPC at priority 50: members no longer reach each
    other's SSH (in the cloud the deny comes before the default rules' priority 100), other
    ports still pass by the default rule."""
    e = _eval([_default_with_ssh_deny(50)], VMS[:2], "vm1", "vm2", 6, 22)
    assert (e.verdict, e.decided_by.group, e.decided_by.rule) == ("deny", "default", 4)
    e = _eval([_default_with_ssh_deny(50)], VMS[:2], "vm1", "vm2", 6, 80)
    assert (e.verdict, e.decided_by.group, e.decided_by.rule) == ("allow", "default", 0)
    e = _eval([_default_with_ssh_deny(50)], VMS[:2], "vm1", "vm2", 17, 53)
    assert e.verdict == "allow"


def test_at_priority_100_a_users_deny_still_wins_over_the_default_allow():
    e = _eval([_default_with_ssh_deny(100)], VMS[:2], "vm1", "vm2", 6, 22)
    assert (e.verdict, e.decided_by.rule) == ("deny", 4)  # deny first at equal priority


def test_a_custom_groups_created_rules_yield_to_its_users_rules():
    app = {"name": "app", "rules": [_r("deny", 99, remote="10.1.0.0/16")]}
    inst = [{"name": "a1", "subnet": "a", "security_groups": ["app"]},
            {"name": "a2", "subnet": "b", "security_groups": ["app"]}]
    assert _eval([app], inst, "a1", "a2", 6, 22).verdict == "deny"
    assert _eval([app], inst, "a1", "a2", 6, 443).verdict == "allow"


def test_the_api_documents_example_group_is_what_sgnet_creates():
    """The VPC API v3 ShowSecurityGroup example (tests/exports/semantics, a real public
    sample): a group as the cloud creates it has four rules, all priority 100, and they are
    the rules sgnet gives a new group (in another order)."""
    from pathlib import Path

    from sgnet.io.importers.files import import_files
    sample = Path(__file__).parents[1] / "exports" / "semantics" / \
        "huawei_v3_show_security_group_doc_example.json"
    result = import_files("huawei", [str(sample)], "t13")
    imported = parse(result.lab, "x").groups["security_group_1"]
    created = lab_with(groups=[{"name": "security_group_1"}]).groups["security_group_1"]

    def key(r):  # no remote (the example's egress rules) is 0.0.0.0/0 or ::/0 (sgnet's)
        everywhere = r.remote in (Remote("cidr", "0.0.0.0/0"), Remote("cidr", "::/0"))
        return (r.direction, r.action, r.priority, r.family, r.protocol, r.ports,
                Remote("any") if everywhere else r.remote)
    assert {r.priority for r in imported.rules} == {100}
    assert sorted(map(key, imported.rules), key=str) == sorted(map(key, created.rules), key=str)

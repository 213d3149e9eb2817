"""Alibaba profile and evaluator, pure (no kernel)."""

import pytest

from sgnet.core.errors import FieldError
from sgnet.core.evaluator import Evaluator
from sgnet.core.labspec import parse


def lab(groups=(), instances=None, **extra):
    raw = {"name": "tal", "provider": "alibaba",
           "vpcs": [{"name": "v", "cidr": "10.50.0.0/16", "ipv6_cidr": "fd00:50::/48",
                     "subnets": [{"name": "s", "cidr": "10.50.1.0/24",
                                  "ipv6_cidr": "fd00:50:0:1::/64"}]}],
           "security_groups": list(groups),
           "instances": instances or [{"name": "vm"}],
           "externals": [{"name": "internet", "ip": "203.0.113.10", "ipv6": "2001:db8::10"}]}
    raw.update(extra)
    return parse(raw, "ali.yaml")


def summary(group):
    return [(r.direction, r.action, r.priority, r.family, r.protocol, r.ports, r.remote.value)
            for r in group.rules]


def test_default_group_rules_priority_100():
    g = lab().groups["default"]
    assert g.extras.type == "basic" and g.builtin
    assert summary(g) == [("ingress", "allow", 100, 4, 6, ((22, 22),), "0.0.0.0/0"),
                          ("ingress", "allow", 100, 4, 6, ((3389, 3389),), "0.0.0.0/0"),
                          ("ingress", "allow", 100, 4, 1, None, "0.0.0.0/0")]
    assert lab().instances[0].groups == ["default"]


def test_default_group_with_http_https_and_legacy_priority():
    g = lab([{"name": "default", "http_https": True}]).groups["default"]
    assert [r.ports for r in g.rules] == [((22, 22),), ((3389, 3389),), None, ((80, 80),),
                                          ((443, 443),)]
    g = lab([{"name": "default", "legacy_priority": True}]).groups["default"]
    assert {r.priority for r in g.rules} == {110}


def test_legacy_priority_loses_to_any_custom_rule():
    drop22 = {"name": "d", "rules": [{"direction": "ingress", "action": "accept",
                                      "priority": 100, "protocol": "tcp", "ports": "22"}]}
    for legacy, group in ((False, "default"), (True, "d")):
        ev = Evaluator(lab([{"name": "default", "legacy_priority": legacy}, drop22],
                           [{"name": "vm", "security_groups": ["default", "d"]}]))
        e = ev.evaluate("internet", "vm", 6, 22)
        assert e.verdict == "allow"
        # at equal priority 100 the default group comes first in attachment order;
        # at 110 the custom rule decides
        assert e.decided_by.group == group


def test_console_and_api_groups():
    g = lab([{"name": "c", "created_by": "console"}]).groups["c"]
    assert [(r.direction, r.protocol, r.ports) for r in g.rules] == [
        ("ingress", 6, ((80, 80),)), ("ingress", 6, ((443, 443),)), ("ingress", 6, ((22, 22),)),
        ("ingress", 6, ((3389, 3389),)), ("ingress", 1, None)]
    g = lab([{"name": "c", "type": "advanced", "created_by": "console"}]).groups["c"]
    assert [(r.direction, r.family) for r in g.rules][-2:] == [("egress", 4), ("egress", 6)]
    assert lab([{"name": "c"}]).groups["c"].rules == []
    assert lab([{"name": "c", "created_by": "api"}]).groups["c"].rules == []


def test_provider_rule_syntax():
    g = lab([{"name": "c", "rules": [
        {"direction": "ingress", "action": "Accept", "protocol": "TCP", "ports": "22/22"},
        {"direction": "ingress", "action": "DROP", "protocol": "ALL", "ports": "-1/-1"}]}]).groups["c"]
    assert summary(g) == [("ingress", "allow", 1, 4, 6, ((22, 22),), None),
                          ("ingress", "deny", 1, 4, None, None, None)]


@pytest.mark.parametrize("groups,instances,field", [
    ([{"name": "a", "type": "advanced", "inner_access": "accept"}], None,
     "security_groups[0].inner_access"),
    ([{"name": "default", "type": "advanced"}], None, "security_groups[0].type"),
    ([{"name": "x", "legacy_priority": True}], None, "security_groups[0].legacy_priority"),
    ([{"name": "default", "created_by": "console"}], None, "security_groups[0].created_by"),
    ([{"name": "x", "created_by": "terraform"}], None, "security_groups[0].created_by"),
    ([{"name": "a", "type": "advanced"}, {"name": "b"}],
     [{"name": "vm", "security_groups": ["a", "b"]}], "instances[0].security_groups"),
    ([{"name": "a", "type": "advanced"},
      {"name": "b", "rules": [{"direction": "egress", "action": "accept", "remote_group": "a"}]}],
     None, "security_groups[1].rules[0].remote_group"),
])
def test_refused(groups, instances, field):
    with pytest.raises(FieldError) as e:
        lab(groups, instances)
    assert e.value.path == field


# -- what advanced groups' rules may reference (issue 13, item 6) -------------------------------
# AuthorizeSecurityGroup: "You cannot reference security groups as sources or destinations in
# the rules of advanced security groups" (https://www.alibabacloud.com/help/en/ecs/
# api-authorizesecuritygroup), itself included.

def _advanced(rules, name="a", **kw):
    return dict(name=name, type="advanced", rules=rules, **kw)


@pytest.mark.parametrize("remote,shown", [("self", "self"), ("a", "a"), ("b", "b"),
                                          ("default", "default")])
def test_an_advanced_groups_rules_reference_no_group(remote, shown):
    rules = [{"direction": "ingress", "action": "accept", "protocol": "tcp", "ports": "22",
              "remote": "10.50.0.0/16"},
             {"direction": "ingress", "action": "accept", "remote_group": remote}]
    with pytest.raises(FieldError) as e:
        lab([_advanced(rules), {"name": "b"}],
            [{"name": "x", "security_groups": ["a"]}, {"name": "y", "security_groups": ["a"]}])
    assert e.value.path == "security_groups[0].rules[1].remote_group"
    assert f"(got '{shown}')" in str(e.value) and "advanced group" in str(e.value)
    assert str(e.value).startswith("ali.yaml: ")


def test_an_advanced_groups_egress_rule_references_no_group_either():
    rules = [{"direction": "egress", "action": "accept", "remote_group": "self"}]
    with pytest.raises(FieldError) as e:
        lab([_advanced(rules, created_by="console")])
    # the console's rules come first in the group; the path is the file's rule
    assert e.value.path == "security_groups[0].rules[0].remote_group"


def test_an_advanced_group_with_cidr_and_prefix_list_rules_is_accepted():
    g = lab([_advanced([
        {"direction": "ingress", "action": "accept", "protocol": "tcp", "ports": "22",
         "remote": "10.50.1.0/24"},
        {"direction": "ingress", "action": "accept", "protocol": "tcp", "ports": "443",
         "remote_prefix_list": "office"}])],
        [{"name": "x", "security_groups": ["a"]}, {"name": "y", "security_groups": ["a"]}],
        prefix_lists=[{"name": "office", "entries": ["198.51.100.0/24"]}])
    ev = Evaluator(g)
    assert ev.evaluate("x", "y", 6, 22).verdict == "deny"  # outbound still denied
    assert ev.evaluate("x", "y", 6, 80).verdict == "deny"  # members isolated


def test_a_basic_group_may_still_reference_itself_and_other_basic_groups():
    g = lab([{"name": "b", "inner_access": "drop", "rules": [
        {"direction": "ingress", "action": "accept", "protocol": "tcp", "ports": "22",
         "remote_group": "self"},
        {"direction": "ingress", "action": "accept", "protocol": "tcp", "ports": "80",
         "remote_group": "default"}]}],
        [{"name": "x", "security_groups": ["b"]}, {"name": "y", "security_groups": ["b"]}])
    assert Evaluator(g).evaluate("x", "y", 6, 22).verdict == "allow"


# -- prefix lists hold one address family (issue 13, item 7) ------------------------------------
# CreatePrefixList: "You cannot combine IPv4 and IPv6 CIDR blocks in a single prefix list"
# (https://www.alibabacloud.com/help/en/ecs/developer-reference/
# api-ecs-2014-05-26-createprefixlist).

@pytest.mark.parametrize("entries,bad,value", [
    (["198.51.100.0/24", "2001:db8:1::/48"], 1, "2001:db8:1::/48"),
    (["2001:db8:1::/48", "2001:db8:2::/48", "203.0.113.7"], 2, "203.0.113.7"),
])
def test_a_mixed_prefix_list_is_refused(entries, bad, value):
    with pytest.raises(FieldError) as e:
        lab(prefix_lists=[{"name": "v6", "entries": ["2001:db8::/64"]},
                          {"name": "office", "entries": entries}])
    assert e.value.path == f"prefix_lists[1].entries[{bad}]"
    assert f"(got '{value}')" in str(e.value) and "one address family" in str(e.value)


def test_single_family_and_empty_prefix_lists_are_accepted():
    g = lab(prefix_lists=[{"name": "v4", "entries": ["198.51.100.0/24", "203.0.113.0/24"]},
                          {"name": "v6", "entries": ["2001:db8:1::/48"]},
                          {"name": "none", "entries": []}])
    assert set(g.prefix_lists) == {"v4", "v6", "none"}


def test_huawei_address_groups_may_still_mix_families():
    """Huawei's CreateAddressGroup documents ip_set entries of both families (its
    ip_version notwithstanding): kept as they were."""
    raw = {"name": "thw", "provider": "huawei",
           "prefix_lists": [{"name": "office", "entries": ["198.51.100.0/24",
                                                           "2001:db8:1::/48"]}]}
    assert len(parse(raw, "h.yaml").prefix_lists["office"].entries) == 2


def test_huawei_refuses_alibaba_keys():
    raw = {"name": "thw", "provider": "huawei",
           "security_groups": [{"name": "x", "inner_access": "drop"}]}
    with pytest.raises(FieldError) as e:
        parse(raw, "h.yaml")
    assert e.value.path == "security_groups[0].inner_access"


def test_managed_group_is_enforced():
    g = lab([{"name": "m", "managed": True, "rules": [
        {"direction": "ingress", "action": "accept", "protocol": "tcp", "ports": "443"}]}],
        [{"name": "vm", "security_groups": ["m"]}])
    assert g.groups["m"].extras.managed
    assert Evaluator(g).evaluate("internet", "vm", 6, 443).verdict == "allow"
    assert Evaluator(g).evaluate("internet", "vm", 6, 444).verdict == "deny"


def test_merged_rules_order_across_groups():
    g = lab([{"name": "a", "rules": [{"direction": "ingress", "action": "accept",
                                      "priority": 20, "protocol": "tcp", "ports": "80"}]},
             {"name": "b", "rules": [{"direction": "ingress", "action": "drop",
                                      "priority": 30, "protocol": "tcp", "ports": "80"},
                                     {"direction": "ingress", "action": "drop",
                                      "priority": 20, "protocol": "tcp", "ports": "81"}]}],
            [{"name": "vm", "security_groups": ["b", "a"]}])
    ev = Evaluator(g)
    e = ev.evaluate("internet", "vm", 6, 80)
    assert (e.verdict, e.decided_by.group) == ("allow", "a")  # priority, not attachment order
    entries = ev.decision_list(g.instance("vm").primary, "ingress").entries
    # inner accept of both groups (IPv4, IPv6) first, then the merged rules
    assert [(x.group, x.rule) for x in entries] == [("b", None)] * 2 + [("a", None)] * 2 + [
        ("b", 1), ("a", 0), ("b", 0)]

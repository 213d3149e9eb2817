"""`sgnet import` of the providers' own documented API responses (tests/exports/api_samples/,
SOURCES.md says where each comes from and that nothing was changed): the lab each makes, its
warnings, and verdicts of the reference evaluator. Inputs written here are hand-written and
say so (a rule that names a documented prefix list / address group, whose doc example names
none)."""

from pathlib import Path

import pytest

from sgnet.core import labspec
from sgnet.core.errors import LabError
from sgnet.core.evaluator import Evaluator
from helpers.imports import warned, write
from sgnet.io.importers.files import import_files

SAMPLES = Path(__file__).parents[1] / "exports" / "api_samples"
TCP = 6


def run(kind, *files, externals=None):
    result = import_files(kind, [str(f if Path(f).is_absolute() else SAMPLES / f)
                                 for f in files], "t")
    lab = dict(result.lab)
    if externals:
        lab["externals"] = lab.get("externals", []) + externals
    return result, labspec.parse(lab, "x")


def group(result, name):
    return next(g for g in result.lab["security_groups"] if g["name"] == name)


def prefix_list(result, name):
    return next(p for p in result.lab["prefix_lists"] if p["name"] == name)


# -- Alibaba -------------------------------------------------------------------------------

def test_alibaba_describe_security_group_attribute_doc_example():
    result, lab = run("alibaba", "alibaba_describe_security_group_attribute.json")
    g = group(result, "FinanceJoshua")
    assert g["inner_access"] == "accept" and g["description"] == "testDescription1"
    assert [(r["protocol"], r.get("ports"), r["remote"]) for r in g["rules"]] == [
        ("tcp", "22", "10.0.0.0/8"), ("tcp", "443", "0.0.0.0/0"), ("tcp", "80", "0.0.0.0/0"),
        ("icmp", None, "10.0.0.0/8")]
    assert {(r["action"], r["priority"]) for r in g["rules"]} == {("allow", 1)}
    # ICMP PortRange -1/-1 and SourcePortRange -1/-1 are "all": nothing to warn about
    assert result.warnings == ["no DescribeSecurityGroups export given: the group types "
                               "are unknown, every group is taken as a basic group"]
    ev = Evaluator(lab)
    assert ev.evaluate("internet", "vm-FinanceJoshua", TCP, 443, 4).verdict == "allow"
    assert ev.evaluate("internet", "vm-FinanceJoshua", TCP, 22, 4).verdict == "deny"


def _ali_rule_naming_the_list(tmp_path):
    # hand-written: a DescribeSecurityGroupAttribute whose rule names the documented list
    return write(tmp_path, "rule.json", {
        "SecurityGroupId": "sg-1", "SecurityGroupName": "web", "InnerAccessPolicy": "Accept",
        "Permissions": {"Permission": [{
            "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22",
            "SourcePrefixListId": "pl-x1j1k5ykzqlixdcy****", "Policy": "Accept",
            "Priority": 1}]}})


def test_alibaba_prefix_list_entries_are_read(tmp_path):
    """DescribePrefixListAttributes (doc example) gives the entries of the list a rule names:
    before, the file was refused and the list had no entries (the rule matched nothing)."""
    result, lab = run("alibaba", _ali_rule_naming_the_list(tmp_path),
                      "alibaba_describe_prefix_list_attributes.json",
                      externals=[{"name": "office", "ip": "192.168.1.7"}])
    assert prefix_list(result, "pl-x1j1k5ykzqlixdcy")["entries"] == ["192.168.1.0/24"]
    assert group(result, "web")["rules"][0]["remote_prefix_list"] == "pl-x1j1k5ykzqlixdcy"
    assert not warned(result, "entries of prefix list")
    ev = Evaluator(lab)
    assert ev.evaluate("office", "vm-web", TCP, 22, 4).verdict == "allow"
    assert ev.evaluate("internet", "vm-web", TCP, 22, 4).verdict == "deny"


def test_alibaba_prefix_list_file_order_does_not_matter(tmp_path):
    result, _ = run("alibaba", "alibaba_describe_prefix_list_attributes.json",
                    _ali_rule_naming_the_list(tmp_path))
    assert prefix_list(result, "pl-x1j1k5ykzqlixdcy")["entries"] == ["192.168.1.0/24"]


def test_alibaba_prefix_list_alone_has_no_groups():
    with pytest.raises(LabError, match="no security groups found"):
        run("alibaba", "alibaba_describe_prefix_list_attributes.json")


def test_alibaba_security_group_references_is_read_and_said_to_hold_no_rules():
    result, _ = run("alibaba", "alibaba_describe_security_group_attribute.json",
                    "alibaba_describe_security_group_references.json")
    assert warned(result, "alibaba_describe_security_group_references.json",
                  "DescribeSecurityGroupReferences", "nothing imported")
    assert [g["name"] for g in result.lab["security_groups"]] == ["FinanceJoshua"]


def test_alibaba_error_response_is_named(tmp_path):
    # hand-written: the documented shape of an ECS error body
    path = write(tmp_path, "err.json", {"RequestId": "x", "HostId": "ecs.aliyuncs.com",
                                        "Code": "InvalidSecurityGroupId.NotFound",
                                        "Message": "The specified SecurityGroupId does not exist."})
    with pytest.raises(LabError, match="error response of the alibaba API.*"
                                       "InvalidSecurityGroupId.NotFound"):
        run("alibaba", path)


# -- Huawei: v3 address groups -------------------------------------------------------------

def _hw_rule_naming_the_group(tmp_path):
    # hand-written: a v3 rule whose remote is the documented address group
    return write(tmp_path, "rule.json", {"security_group_rules": [{
        "id": "r1", "security_group_id": "sg1", "direction": "ingress", "protocol": "tcp",
        "ethertype": "IPv4", "multiport": "22", "action": "allow", "priority": 1,
        "remote_address_group_id": "dd18a501-fcd5-4adc-acfe-b0e2384baf08"}]})


AG = "dd18a501-fcd5-4adc-acfe-b0e2384baf08"


@pytest.mark.parametrize("sample", ["huawei_v3_show_address_group.json",
                                    "huawei_v3_list_address_groups.json"])
def test_huawei_address_group_entries_are_read(tmp_path, sample):
    """ShowAddressGroup / ListAddressGroups: ip_set (a CIDR, a range, addresses) becomes the
    prefix list; before, the file was refused and the group had no entries."""
    result, lab = run("huawei", _hw_rule_naming_the_group(tmp_path), sample,
                      externals=[{"name": "in-range", "ip": "192.168.3.50"},
                                 {"name": "past-range", "ip": "192.168.3.101"}])
    entries = prefix_list(result, AG)["entries"]
    assert entries[0] == "192.168.5.0/24" and "192.168.3.2/32" in entries
    assert len(entries) == len(set(entries))  # ip_set and ip_extra_set: each entry once
    assert not warned(result, "entries of prefix list")
    ev = Evaluator(lab)
    assert ev.evaluate("in-range", "vm-sg1", TCP, 22, 4).verdict == "allow"
    assert ev.evaluate("past-range", "vm-sg1", TCP, 22, 4).verdict == "deny"


def test_huawei_address_groups_of_two_pages_that_disagree_are_warned(tmp_path):
    # the Chinese page's ListAddressGroups example lists 192.168.3.41-43 too
    result, _ = run("huawei", _hw_rule_naming_the_group(tmp_path),
                    "huawei_v3_show_address_group.json", "huawei_v3_list_address_groups_cn.json")
    assert warned(result, "huawei_v3_list_address_groups_cn.json", "differ from another file")
    assert "192.168.3.41/32" not in prefix_list(result, AG)["entries"]


def test_huawei_dry_run_error_response_is_named():
    with pytest.raises(LabError, match="error response of the huawei API.*SYS.0202"):
        run("huawei", "huawei_v3_dry_run_error.json")


# -- Huawei: v3 groups and rules -----------------------------------------------------------

def test_huawei_v3_list_security_group_rules_multiport_number():
    result, _ = run("huawei", "huawei_v3_list_security_group_rules.json")
    (rule,) = result.lab["security_groups"][0]["rules"]
    assert rule == {"direction": "ingress", "action": "allow", "priority": 1,
                    "ethertype": "IPv4", "protocol": "tcp", "ports": "333",
                    "remote": "10.10.0.0/16", "description": "security group rule description"}


def test_huawei_v3_list_groups_with_rules_and_names():
    result, _ = run("huawei", "huawei_v3_list_security_groups.json",
                    "huawei_v3_list_security_group_rules.json")
    assert group(result, "sg-test")["rules"][0]["ports"] == "333"
    assert not warned(result, "sg-test", "rules are not in the export")
    assert warned(result, "test-sg", "rules are not in the export")


def test_huawei_v3_create_security_group_default_rules():
    result, lab = run("huawei", "huawei_v3_create_security_group.json")
    g = group(result, "security_group_1")
    assert len(g["rules"]) == 4 and {r["priority"] for r in g["rules"]} == {100}
    assert sum(1 for r in g["rules"] if r.get("remote_group") == "security_group_1") == 2
    assert result.warnings == []


# -- Huawei: v2.0 Neutron and v1 listings (no action, no priority: allow) ------------------

def test_huawei_neutron_v2_rules_allow_with_remote_groups():
    result, _ = run("huawei", "huawei_neutron_v2_list_security_group_rules.json")
    rules = [r for g in result.lab["security_groups"] for r in g["rules"]]
    assert rules and {(r["action"], r["priority"]) for r in rules} == {("allow", 1)}
    assert any(r.get("remote_group") for r in rules)


def test_huawei_neutron_v2_rule_with_two_remotes_keeps_the_group():
    # the doc example gives remote_group_id and remote_address_group_id (exclusive fields)
    for sample in ("huawei_neutron_v2_list_security_groups.json",
                   "huawei_neutron_v2_show_security_group.json"):
        result, _ = run("huawei", sample)
        rules = group(result, "sg-ad3f")["rules"]
        assert rules[0]["remote_group"] == "sg-ad3f" and "remote_prefix_list" not in rules[0]
        assert warned(result, "names several remotes", "only group")


def test_huawei_v1_embedded_rules_of_another_group_are_warned():
    """The v1 ListSecurityGroups example lists under group 'qq' rules whose
    security_group_id is another group's: kept in that group, and said so (before: silent)."""
    result, _ = run("huawei", "huawei_v1_list_security_groups.json")
    assert group(result, "qq")["rules"] == []
    assert warned(result, "'qq'", "its security_group_id is 69c999ad")
    assert len(group(result, "69c999ad-d9ef-4d79-94fd-35e6ceb75325")["rules"]) == 4


def test_huawei_v1_rules_listing():
    result, _ = run("huawei", "huawei_v1_list_security_group_rules.json")
    rules = result.lab["security_groups"][0]["rules"]
    assert {(r["action"], r["priority"]) for r in rules} == {("allow", 1)}
    assert len(rules) == 4 and {r["protocol"] for r in rules} == {"all"}
    assert [r["direction"] for r in rules if r.get("remote_group")] == ["ingress", "ingress"]


def test_huawei_v1_show_rule_ports_and_remote_group_placeholder():
    result, lab = run("huawei", "huawei_v1_show_security_group_rule.json")
    (rule,) = group(result, "a7734e61-b545-452d-a3cd-0189cbd9747a")["rules"]
    assert rule == {"direction": "ingress", "action": "allow", "priority": 1,
                    "ethertype": "IPv4", "protocol": "tcp", "ports": "80",
                    "remote_group": "85cc3048-abc3-43cc-89b3-377341426ac5"}
    assert warned(result, "remote group 85cc3048", "placeholder")
    dst = "vm-a7734e61-b545-452d-a3cd-0189cbd9747a"
    assert Evaluator(lab).evaluate("internet", dst, TCP, 80, 4).verdict == "deny"


def test_huawei_neutron_v2_show_rule_egress_all():
    result, _ = run("huawei", "huawei_neutron_v2_show_security_group_rule.json")
    assert result.lab["security_groups"][0]["rules"] == [
        {"direction": "egress", "action": "allow", "priority": 1, "ethertype": "IPv4",
         "protocol": "all"}]

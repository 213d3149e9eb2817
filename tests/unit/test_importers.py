"""`sgnet import`: cloud exports -> lab files (sgnet.io.importers).

The samples in tests/exports/ are written as the APIs and `terraform show -json` return them
(fake ids, documentation and private addresses only). Every import is parsed by the lab file
parser, and its groups' rules are compared with what the export says.
"""

import json
from pathlib import Path

import pytest
import yaml

from sgnet.io import labfile
from sgnet.core import labspec
from sgnet.core.errors import LabError
from helpers.imports import warned, write
from sgnet.io.importers.files import import_files

EXPORTS = Path(__file__).parents[1] / "exports"
ALI_WEB = "alibaba_describe_security_group_attribute_web.json"
ALI_DB = "alibaba_describe_security_group_attribute_db.json"
ALI_OPS = "alibaba_describe_security_group_attribute_ops.json"
ALI_CLASSIC = "alibaba_describe_security_group_attribute_classic.json"
ALI_GROUPS = "alibaba_describe_security_groups.json"
ALI_ALL = [ALI_WEB, ALI_DB, ALI_OPS, ALI_CLASSIC, ALI_GROUPS]
HW_V3_RULES = "huawei_v3_list_security_group_rules.json"
HW_V3_GROUPS = "huawei_v3_list_security_groups.json"
HW_V2 = "huawei_v2_security_group_rules.json"
TF_ALI = "terraform_alicloud_state.json"
TF_HW = "terraform_huaweicloud_plan.json"

SAMPLE_SETS = {
    "alibaba": ("alibaba", ALI_ALL),
    "huawei-v3": ("huawei", [HW_V3_GROUPS, HW_V3_RULES]),
    "huawei-v2": ("huawei", [HW_V2]),
    "terraform-alicloud": ("terraform", [TF_ALI]),
    "terraform-huaweicloud": ("terraform", [TF_HW]),
}

ANY = "any:"
WORLD = "cidr:0.0.0.0/0"
TCP, UDP, ICMP, ICMP6, GRE = 6, 17, 1, 58, 47


# -- helpers ------------------------------------------------------------------------------

def run(kind, files, name="t"):
    """Import, and check the result is a valid lab file. Returns (result, parsed lab)."""
    paths = [f if Path(f).is_absolute() else str(EXPORTS / f) for f in files]
    result = import_files(kind, paths, name)
    lab = labspec.parse(result.lab, "x")
    return result, lab


def rules(lab, group):
    """The parsed rules of a group as (direction, action, priority, family, protocol, ports,
    remote) tuples, remote as 'kind:value'."""
    return [(r.direction, r.action, r.priority, r.family, r.protocol, r.ports,
             f"{r.remote.kind}:{r.remote.value or ''}") for r in lab.groups[group].rules]


def ali_perm(**fields):
    p = {"SecurityGroupRuleId": "sgr-bp1test000000000001", "Direction": "ingress",
         "IpProtocol": "TCP", "PortRange": "22/22", "Priority": "1", "Policy": "Accept",
         "NicType": "intranet", "Description": "", "SourceCidrIp": "", "DestCidrIp": "",
         "Ipv6SourceCidrIp": "", "Ipv6DestCidrIp": "", "SourceGroupId": "", "DestGroupId": "",
         "SourcePrefixListId": "", "DestPrefixListId": "", "SourcePortRange": ""}
    p.update(fields)
    return p


def ali_attr(perms, gid="sg-bp1test0000000000001", name="test", inner="Accept"):
    return {"RequestId": "0F1E2D3C-4B5A-4968-8776-A5B4C3D2E1F0", "RegionId": "cn-hangzhou",
            "SecurityGroupId": gid, "SecurityGroupName": name, "Description": "",
            "VpcId": "vpc-bp1test00000000000001", "InnerAccessPolicy": inner,
            "Permissions": {"Permission": perms}}


def ali_one(tmp_path, **fields):
    """Import one Alibaba group holding one rule; returns (result, lab, that rule's tuple).
    A rule given no authorization object gets 0.0.0.0/0 (the API requires one)."""
    there = "Source" if fields.get("Direction", "ingress").lower() == "ingress" else "Dest"
    if not any(fields.get(f"{pre}{there}{what}") for pre in ("", "Ipv6")
               for what in ("CidrIp", "GroupId", "PrefixListId")):
        fields = dict(fields, **{f"{there}CidrIp": "0.0.0.0/0"})
    path = write(tmp_path, "attr.json", ali_attr([ali_perm(**fields)]))
    result, lab = run("alibaba", [path])
    got = rules(lab, "test")
    return result, lab, (got[0] if got else None)


def hw_rule(**fields):
    r = {"id": "2b1f0a3c-4d5e-4f60-8172-93a4b5c6d7e8", "project_id": "0a1b2c3d4e5f4071",
         "security_group_id": "11111111-2222-4333-8444-555555555555", "direction": "ingress",
         "protocol": "tcp", "description": "", "ethertype": "IPv4", "remote_ip_prefix": None,
         "multiport": "22", "remote_address_group_id": None, "action": "allow",
         "priority": 1, "remote_group_id": None, "enabled": True,
         "created_at": "2024-05-06T09:12:44Z", "updated_at": "2024-05-06T09:12:44Z"}
    r.update(fields)
    return r


def hw_one(tmp_path, **fields):
    path = write(tmp_path, "rules.json", {"security_group_rules": [hw_rule(**fields)]})
    result, lab = run("huawei", [path])
    got = rules(lab, "11111111-2222-4333-8444-555555555555")
    return result, lab, (got[0] if got else None)


# -- every sample set: valid, round trip, generated lab -----------------------------------

@pytest.mark.parametrize("sample", list(SAMPLE_SETS))
def test_sample_round_trips_through_yaml(sample):
    kind, files = SAMPLE_SETS[sample]
    result, lab = run(kind, files)
    text = yaml.safe_dump(result.lab)
    again = labfile.parse_text(text, "round-trip.yaml")
    assert list(again.groups) == list(lab.groups)
    for name in lab.groups:
        assert again.groups[name].rules == lab.groups[name].rules
    # to_yaml(): the warnings as comments, then the same lab
    assert labfile.parse_text(result.to_yaml(), "x").groups.keys() == lab.groups.keys()
    assert yaml.safe_load(result.to_yaml()) == result.lab
    assert all(line.startswith("# warning: ") for line in
               result.to_yaml().splitlines()[:len(result.warnings)])


@pytest.mark.parametrize("sample", ["alibaba", "huawei-v3", "huawei-v2"])
def test_api_exports_get_a_generated_lab(sample):
    kind, files = SAMPLE_SETS[sample]
    result, lab = run(kind, files, name="imp1")
    assert result.lab["name"] == "imp1"
    assert result.lab["provider"] == kind
    [vpc] = result.lab["vpcs"]
    assert (vpc["cidr"], vpc["ipv6_cidr"]) == ("10.0.0.0/16", "fd00:100::/48")
    assert [s["cidr"] for s in vpc["subnets"]] == ["10.0.1.0/24"]
    declared = [g["name"] for g in result.lab["security_groups"]]
    assert [(i["name"], i["security_groups"]) for i in result.lab["instances"]] == \
        [(f"vm-{g}", [g]) for g in declared]
    assert result.lab["externals"] == [{"name": "internet", "ip": "203.0.113.10",
                                        "ipv6": "2001:db8::10"}]
    assert all(g["default_rules"] is False for g in result.lab["security_groups"])


def test_generated_lab_is_ipv4_only_without_ipv6_rules(tmp_path):
    result, lab = ali_one(tmp_path, SourceCidrIp="192.0.2.0/24")[:2]
    [vpc] = result.lab["vpcs"]
    assert "ipv6_cidr" not in vpc and "ipv6_cidr" not in vpc["subnets"][0]
    assert result.lab["externals"] == [{"name": "internet", "ip": "203.0.113.10"}]
    assert lab.instance("vm-test").primary.ipv6 is None


# -- Alibaba ------------------------------------------------------------------------------

def test_alibaba_web_group_rules_exactly():
    result, lab = run("alibaba", ALI_ALL)
    assert rules(lab, "web") == [
        ("ingress", "allow", 1, 4, TCP, ((443, 443),), "cidr:0.0.0.0/0"),
        ("ingress", "allow", 1, 4, TCP, ((80, 80),), "cidr:0.0.0.0/0"),
        ("ingress", "allow", 10, 4, TCP, ((22, 22),), "prefix_list:pl-bp1office7x3y5z7a9b"),
        ("ingress", "deny", 100, 4, TCP, ((22, 22),), "cidr:0.0.0.0/0"),
        ("ingress", "allow", 50, 4, ICMP, None, "cidr:198.51.100.0/24"),
        ("ingress", "allow", 1, 6, TCP, ((443, 443),), "cidr:::/0"),
        ("ingress", "allow", 2, 6, ICMP6, None, "cidr:2001:db8:100::/48"),
        ("ingress", "allow", 20, 4, TCP, ((8000, 8080),), "cidr:10.0.0.0/8"),
        ("egress", "allow", 1, 4, TCP, ((3306, 3306),), "group:db"),
        ("egress", "allow", 100, 4, None, None, "cidr:0.0.0.0/0"),
        ("egress", "allow", 100, 6, None, None, "cidr:::/0"),
    ]
    assert [r.description for r in lab.groups["web"].rules][:2] == ["HTTPS", "HTTP"]


def test_alibaba_db_group_rules_exactly():
    result, lab = run("alibaba", ALI_ALL)
    assert rules(lab, "db") == [
        ("ingress", "allow", 1, 4, TCP, ((3306, 3306),), "group:web"),
        ("ingress", "deny", 5, 4, TCP, ((3306, 3306),), "cidr:10.0.0.0/8"),
        ("ingress", "allow", 1, 4, TCP, ((5432, 5432),), "group:db"),
        ("ingress", "allow", 1, 4, UDP, ((53, 53),), "group:sg-bp1partner0r2t4u6w8y"),
        ("ingress", "allow", 1, 4, GRE, None, "cidr:192.168.20.0/24"),
        ("ingress", "allow", 1, 4, TCP, ((22, 22),), "cidr:192.168.10.0/24"),
        ("egress", "allow", 1, 4, TCP, ((443, 443),), "cidr:203.0.113.0/24"),
        ("egress", "deny", 100, 4, None, None, "cidr:0.0.0.0/0"),
    ]


def test_alibaba_group_types_inner_access_and_managed():
    result, lab = run("alibaba", ALI_ALL)
    g = lab.groups
    assert (g["web"].extras.type, g["web"].extras.inner_access) == ("basic", "accept")
    assert (g["db"].extras.type, g["db"].extras.inner_access) == ("basic", "drop")
    assert (g["ops-bastion"].extras.type, g["ops-bastion"].extras.inner_access) == \
        ("advanced", "drop")
    managed = g["alb-managed-sg"]
    assert managed.extras.managed and managed.rules == []
    assert warned(result, ALI_GROUPS, "alb-managed-sg", "rules are not in the export")
    # the classic group has no DescribeSecurityGroups entry: basic, reported
    assert g["legacy-classic"].extras.type == "basic"
    assert warned(result, "legacy classic", "type is unknown", "basic")


def test_alibaba_without_describe_security_groups_warns_once_about_types():
    result, lab = run("alibaba", [ALI_WEB, ALI_DB])
    assert all(g.extras.type == "basic" for g in lab.groups.values())
    assert sum("no DescribeSecurityGroups export" in w for w in result.warnings) == 1
    assert lab.groups["db"].extras.inner_access == "drop"  # from the attribute response


def test_alibaba_group_references_and_placeholders():
    result, lab = run("alibaba", [ALI_WEB, ALI_DB])
    # SourceGroupId / DestGroupId between the two files become group names
    assert ("egress", "allow", 1, 4, TCP, ((3306, 3306),), "group:db") in rules(lab, "web")
    assert ("ingress", "allow", 1, 4, TCP, ((3306, 3306),), "group:web") in rules(lab, "db")
    # a group of another account: an empty placeholder named after its id, reported
    assert lab.groups["sg-bp1partner0r2t4u6w8y"].rules == []
    assert warned(result, ALI_DB, "sgr-bp1d00000000000004", "sg-bp1partner0r2t4u6w8y",
                  "placeholder")
    assert warned(result, "sgr-bp1d00000000000004", "account 1234567890123456")
    # a prefix list: declared empty, reported
    assert lab.prefix_lists["pl-bp1office7x3y5z7a9b"].entries == []
    assert warned(result, ALI_WEB, "sgr-bp1w00000000000003", "pl-bp1office7x3y5z7a9b",
                  "not in the export")


@pytest.mark.parametrize("fields, expected", [
    # Priority as the API's string, and as a number
    ({"Priority": "7", "SourceCidrIp": "192.0.2.0/24"},
     ("ingress", "allow", 7, 4, TCP, ((22, 22),), "cidr:192.0.2.0/24")),
    ({"Priority": 7, "SourceCidrIp": "192.0.2.0/24"},
     ("ingress", "allow", 7, 4, TCP, ((22, 22),), "cidr:192.0.2.0/24")),
    # Policy in any case
    ({"Policy": "Accept"}, ("ingress", "allow", 1, 4, TCP, ((22, 22),), WORLD)),
    ({"Policy": "accept"}, ("ingress", "allow", 1, 4, TCP, ((22, 22),), WORLD)),
    ({"Policy": "ACCEPT"}, ("ingress", "allow", 1, 4, TCP, ((22, 22),), WORLD)),
    ({"Policy": "Drop"}, ("ingress", "deny", 1, 4, TCP, ((22, 22),), WORLD)),
    ({"Policy": "drop"}, ("ingress", "deny", 1, 4, TCP, ((22, 22),), WORLD)),
    ({"Policy": "DROP"}, ("ingress", "deny", 1, 4, TCP, ((22, 22),), WORLD)),
    # PortRange
    ({"PortRange": "8000/8080"}, ("ingress", "allow", 1, 4, TCP, ((8000, 8080),), WORLD)),
    ({"PortRange": "1/65535"}, ("ingress", "allow", 1, 4, TCP, None, WORLD)),
    ({"PortRange": "-1/-1"}, ("ingress", "allow", 1, 4, TCP, None, WORLD)),
    ({"IpProtocol": "UDP", "PortRange": "53/53"},
     ("ingress", "allow", 1, 4, UDP, ((53, 53),), WORLD)),
    # protocols, any case; ALL and -1/-1
    ({"IpProtocol": "ALL", "PortRange": "-1/-1"}, ("ingress", "allow", 1, 4, None, None, WORLD)),
    ({"IpProtocol": "all", "PortRange": "-1/-1"}, ("ingress", "allow", 1, 4, None, None, WORLD)),
    ({"IpProtocol": "ICMP", "PortRange": "-1/-1"}, ("ingress", "allow", 1, 4, ICMP, None, WORLD)),
    ({"IpProtocol": "GRE", "PortRange": "-1/-1"}, ("ingress", "allow", 1, 4, GRE, None, WORLD)),
    ({"IpProtocol": "ICMPv6", "PortRange": "-1/-1", "Ipv6SourceCidrIp": "::/0"},
     ("ingress", "allow", 1, 6, ICMP6, None, "cidr:::/0")),
    # remotes: ingress uses the Source* fields, egress the Dest* fields
    ({"Ipv6SourceCidrIp": "2001:db8:1::/48"},
     ("ingress", "allow", 1, 6, TCP, ((22, 22),), "cidr:2001:db8:1::/48")),
    ({"SourceGroupId": "sg-bp1test0000000000001"},
     ("ingress", "allow", 1, 4, TCP, ((22, 22),), "group:test")),
    ({"SourcePrefixListId": "pl-bp1test00000000000001"},
     ("ingress", "allow", 1, 4, TCP, ((22, 22),), "prefix_list:pl-bp1test00000000000001")),
    ({"Direction": "egress", "DestCidrIp": "203.0.113.0/24"},
     ("egress", "allow", 1, 4, TCP, ((22, 22),), "cidr:203.0.113.0/24")),
    ({"Direction": "egress", "Ipv6DestCidrIp": "2001:db8:2::/48"},
     ("egress", "allow", 1, 6, TCP, ((22, 22),), "cidr:2001:db8:2::/48")),
    ({"Direction": "egress", "DestGroupId": "sg-bp1test0000000000001"},
     ("egress", "allow", 1, 4, TCP, ((22, 22),), "group:test")),
    ({"Direction": "egress", "DestPrefixListId": "pl-bp1test00000000000002"},
     ("egress", "allow", 1, 4, TCP, ((22, 22),), "prefix_list:pl-bp1test00000000000002")),
    ({"SourceCidrIp": "198.51.100.7"},
     ("ingress", "allow", 1, 4, TCP, ((22, 22),), "cidr:198.51.100.7/32")),
])
def test_alibaba_field_variants(tmp_path, fields, expected):
    result, lab, got = ali_one(tmp_path, **fields)
    assert got == expected


@pytest.mark.parametrize("rule_id, fragment, expected", [
    # NicType internet: a VPC group's rule is intranet in the cloud: kept, warned
    ("sgr-bp1l00000000000001", "kept as an intranet rule",
     ("ingress", "allow", 1, 4, TCP, ((80, 80),), "cidr:0.0.0.0/0")),
    # Alibaba's legacy priority 110: clamped
    ("sgr-bp1l00000000000002", "priority 110",
     ("ingress", "allow", 100, 4, TCP, ((3389, 3389),), "cidr:0.0.0.0/0")),
    # CIDR and group: the CIDR prevails, as Alibaba documents
    ("sgr-bp1l00000000000003", "only cidr 192.168.40.0/24 is kept",
     ("ingress", "allow", 1, 4, TCP, ((8443, 8443),), "cidr:192.168.40.0/24")),
    # a source port range: lifted
    ("sgr-bp1o00000000000002", "SourcePortRange 1024/65535",
     ("ingress", "allow", 1, 4, UDP, ((161, 161),), "cidr:192.168.30.0/24")),
    # a port list: all ports
    ("sgr-bp1o00000000000003", "port list prl-bp1adm4n5p6q7r8s9t",
     ("ingress", "allow", 1, 4, TCP, None, "cidr:198.51.100.0/24")),
    # DestCidrIp on an ingress rule restricts the local address: lifted
    ("sgr-bp1o00000000000004", "DestCidrIp 10.0.1.5/32",
     ("ingress", "allow", 1, 4, TCP, ((9100, 9100),), "cidr:192.168.30.0/24")),
])
def test_alibaba_unrepresentable_fields_are_reported(rule_id, fragment, expected):
    result, lab = run("alibaba", ALI_ALL)
    assert warned(result, rule_id, fragment)
    group = "legacy-classic" if "sgr-bp1l" in rule_id else "ops-bastion"
    descriptions = {"sgr-bp1l00000000000001": "public HTTP (classic)",
                    "sgr-bp1l00000000000002": "RDP, made before 2020",
                    "sgr-bp1l00000000000003": "CIDR and group",
                    "sgr-bp1o00000000000002": "SNMP polls from high ports",
                    "sgr-bp1o00000000000003": "admin ports (port list)",
                    "sgr-bp1o00000000000004": "node exporter on one host"}
    got = [t for t, r in zip(rules(lab, group), lab.groups[group].rules)
           if r.description == descriptions[rule_id]]
    assert got == ([expected] if expected else [])


def test_alibaba_icmp_port_range_is_widened(tmp_path):
    result, lab, got = ali_one(tmp_path, IpProtocol="ICMP", PortRange="8/0",
                               SourceCidrIp="0.0.0.0/0")
    assert got == ("ingress", "allow", 1, 4, ICMP, None, "cidr:0.0.0.0/0")
    assert warned(result, "ICMP PortRange 8/0")


def test_alibaba_egress_source_cidr_is_a_local_restriction(tmp_path):
    result, lab, got = ali_one(tmp_path, Direction="egress", SourceCidrIp="10.0.1.5",
                               DestCidrIp="0.0.0.0/0")
    assert got == ("egress", "allow", 1, 4, TCP, ((22, 22),), "cidr:0.0.0.0/0")
    assert warned(result, "SourceCidrIp 10.0.1.5", "every member")


def test_alibaba_advanced_group_as_remote_is_dropped(tmp_path):
    adv = ali_attr([], gid="sg-bp1adv00000000000001", name="adv", inner="Drop")
    user = ali_attr([ali_perm(SourceGroupId="sg-bp1adv00000000000001")])
    listing = {"SecurityGroups": {"SecurityGroup": [
        {"SecurityGroupId": "sg-bp1adv00000000000001", "SecurityGroupName": "adv",
         "SecurityGroupType": "enterprise", "ServiceManaged": False},
        {"SecurityGroupId": "sg-bp1test0000000000001", "SecurityGroupName": "test",
         "SecurityGroupType": "normal", "ServiceManaged": False}]}}
    paths = [write(tmp_path, "adv.json", adv), write(tmp_path, "user.json", user),
             write(tmp_path, "groups.json", listing)]
    result, lab = run("alibaba", paths)
    assert rules(lab, "test") == []
    assert warned(result, "sgr-bp1test000000000001", "advanced group")


def test_alibaba_pages_in_one_file_and_repeated_rules(tmp_path):
    first = ali_attr([ali_perm(SourceCidrIp="192.0.2.0/24")])
    second = ali_attr([ali_perm(SourceCidrIp="192.0.2.0/24"),  # the same rule id again
                       ali_perm(SecurityGroupRuleId="sgr-bp1test000000000002",
                                PortRange="443/443", SourceCidrIp="0.0.0.0/0")])
    result, lab = run("alibaba", [write(tmp_path, "pages.json", [first, second])])
    assert rules(lab, "test") == [
        ("ingress", "allow", 1, 4, TCP, ((22, 22),), "cidr:192.0.2.0/24"),
        ("ingress", "allow", 1, 4, TCP, ((443, 443),), "cidr:0.0.0.0/0")]


def test_alibaba_advanced_group_named_default_is_renamed(tmp_path):
    attr = ali_attr([], gid="sg-bp1dflt0000000000001", name="default", inner="Drop")
    listing = {"SecurityGroups": {"SecurityGroup": [
        {"SecurityGroupId": "sg-bp1dflt0000000000001", "SecurityGroupName": "default",
         "SecurityGroupType": "enterprise"}]}}
    result, lab = run("alibaba", [write(tmp_path, "a.json", attr),
                                  write(tmp_path, "g.json", listing)])
    assert lab.groups["default-sg-bp1dflt0000000000001"].extras.type == "advanced"
    assert lab.groups["default"].builtin and lab.groups["default"].extras.type == "basic"
    assert warned(result, "name 'default'", "default-sg-bp1dflt0000000000001")


# -- Huawei v3 ----------------------------------------------------------------------------

WEB_ID = "5f2c7a1e-3b4d-4c6e-9f80-1a2b3c4d5e6f"
ADDR_ID = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
GONE_ID = "e7f8a9b0-c1d2-4e3f-a4b5-c6d7e8f9a0b1"


def test_huawei_v3_rules_exactly():
    result, lab = run("huawei", [HW_V3_GROUPS, HW_V3_RULES])
    assert rules(lab, "web-prod") == [
        ("ingress", "allow", 1, 4, TCP, ((80, 80), (443, 443)), "cidr:0.0.0.0/0"),
        ("ingress", "allow", 10, 4, TCP, ((22, 22),), f"prefix_list:{ADDR_ID}"),
        ("ingress", "deny", 100, 4, TCP, ((22, 22),), "cidr:0.0.0.0/0"),
        ("ingress", "allow", 1, 6, TCP, ((443, 443),), "cidr:::/0"),
        ("ingress", "allow", 1, 4, GRE, None, "cidr:192.168.20.0/24"),
        ("ingress", "allow", 1, 4, ICMP, None, "cidr:0.0.0.0/0"),
        ("egress", "allow", 100, 4, None, None, "cidr:0.0.0.0/0"),
        ("egress", "allow", 100, 6, None, None, "cidr:::/0"),
    ]
    # "数据库-prod" is not a valid sgnet name: sanitised, reported
    assert warned(result, "数据库-prod", "named 'prod'")
    assert rules(lab, "prod") == [
        ("ingress", "allow", 1, 4, TCP, ((3306, 3306),), "group:web-prod"),
        ("ingress", "deny", 50, 4, TCP, ((8000, 8080),), "cidr:10.0.0.0/8"),
        ("ingress", "allow", 1, 4, TCP, ((3306, 3306),), f"group:{GONE_ID}"),
        ("ingress", "allow", 1, 4, UDP, ((53, 53), (123, 123)), "cidr:198.51.100.0/24"),
        ("ingress", "allow", 1, 6, ICMP6, None, "cidr:2001:db8:100::/48"),
        ("egress", "allow", 100, 4, None, None, "cidr:0.0.0.0/0"),
    ]


def test_huawei_v3_default_group_replaces_the_builtin_one():
    result, lab = run("huawei", [HW_V3_GROUPS, HW_V3_RULES])
    assert rules(lab, "default") == [
        ("ingress", "allow", 1, 4, None, None, "group:default"),
        ("ingress", "allow", 1, 6, None, None, "group:default"),
        ("egress", "allow", 100, 4, None, None, "cidr:0.0.0.0/0"),
        ("egress", "allow", 100, 6, None, None, "cidr:::/0"),
    ]
    assert lab.groups["default"].builtin
    assert result.lab["security_groups"][0]["default_rules"] is False


def test_huawei_v3_reports_what_it_cannot_represent():
    result, lab = run("huawei", [HW_V3_GROUPS, HW_V3_RULES])
    assert warned(result, HW_V3_RULES, "disabled (enabled: false)")
    assert not any(r.description == "disabled for maintenance" for r in lab.groups["prod"].rules)
    assert lab.groups[GONE_ID].rules == []
    assert warned(result, HW_V3_RULES, GONE_ID, "placeholder")
    assert lab.prefix_lists[ADDR_ID].entries == []
    assert warned(result, HW_V3_RULES, ADDR_ID, "entries", "not in the export")


def test_huawei_v3_rules_without_the_group_list_are_named_by_id():
    result, lab = run("huawei", [HW_V3_RULES])
    assert WEB_ID in lab.groups
    assert warned(result, WEB_ID, "name is not in the export")


@pytest.mark.parametrize("fields, expected", [
    # protocol names, numbers as strings and as numbers, null/empty = all
    ({"protocol": "tcp"}, ("ingress", "allow", 1, 4, TCP, ((22, 22),), ANY)),
    ({"protocol": "TCP"}, ("ingress", "allow", 1, 4, TCP, ((22, 22),), ANY)),
    ({"protocol": "6"}, ("ingress", "allow", 1, 4, TCP, ((22, 22),), ANY)),
    ({"protocol": "17", "multiport": "53"}, ("ingress", "allow", 1, 4, UDP, ((53, 53),), ANY)),
    ({"protocol": "47", "multiport": None}, ("ingress", "allow", 1, 4, GRE, None, ANY)),
    ({"protocol": 47, "multiport": None}, ("ingress", "allow", 1, 4, GRE, None, ANY)),
    ({"protocol": "132", "multiport": None}, ("ingress", "allow", 1, 4, 132, None, ANY)),
    ({"protocol": None, "multiport": None}, ("ingress", "allow", 1, 4, None, None, ANY)),
    ({"protocol": "", "multiport": ""}, ("ingress", "allow", 1, 4, None, None, ANY)),
    ({"protocol": "icmpv6", "multiport": None, "ethertype": "IPv6"},
     ("ingress", "allow", 1, 6, ICMP6, None, ANY)),
    # multiport
    ({"multiport": "22,80-90"}, ("ingress", "allow", 1, 4, TCP, ((22, 22), (80, 90)), ANY)),
    ({"multiport": "22, 3389, 80"},
     ("ingress", "allow", 1, 4, TCP, ((22, 22), (80, 80), (3389, 3389)), ANY)),
    ({"multiport": "1-65535"}, ("ingress", "allow", 1, 4, TCP, None, ANY)),
    ({"multiport": None}, ("ingress", "allow", 1, 4, TCP, None, ANY)),
    # action and priority
    ({"action": "deny", "priority": 42}, ("ingress", "deny", 42, 4, TCP, ((22, 22),), ANY)),
    ({"action": "allow", "priority": 100}, ("ingress", "allow", 100, 4, TCP, ((22, 22),), ANY)),
    ({"direction": "egress"}, ("egress", "allow", 1, 4, TCP, ((22, 22),), ANY)),
    # ethertype and remotes
    ({"ethertype": "IPv6", "remote_ip_prefix": "2001:db8::/32"},
     ("ingress", "allow", 1, 6, TCP, ((22, 22),), "cidr:2001:db8::/32")),
    ({"ethertype": "IPv6"}, ("ingress", "allow", 1, 6, TCP, ((22, 22),), ANY)),
    ({"remote_ip_prefix": "192.0.2.0/24"},
     ("ingress", "allow", 1, 4, TCP, ((22, 22),), "cidr:192.0.2.0/24")),
    ({"remote_group_id": "11111111-2222-4333-8444-555555555555"},
     ("ingress", "allow", 1, 4, TCP, ((22, 22),), "group:11111111-2222-4333-8444-555555555555")),
    ({"remote_address_group_id": ADDR_ID},
     ("ingress", "allow", 1, 4, TCP, ((22, 22),), f"prefix_list:{ADDR_ID}")),
])
def test_huawei_v3_field_variants(tmp_path, fields, expected):
    result, lab, got = hw_one(tmp_path, **fields)
    assert got == expected


def test_huawei_rule_without_ethertype_takes_the_cidr_family(tmp_path):
    result, lab, got = hw_one(tmp_path, ethertype=None, remote_ip_prefix="2001:db8::/32")
    assert got == ("ingress", "allow", 1, 6, TCP, ((22, 22),), "cidr:2001:db8::/32")
    result, lab, got = hw_one(tmp_path, ethertype=None)
    assert got == ("ingress", "allow", 1, 4, TCP, ((22, 22),), ANY)


def test_huawei_show_security_group_shape(tmp_path):
    doc = {"request_id": "x", "security_group": {
        "id": "11111111-2222-4333-8444-555555555555", "name": "app", "description": "",
        "security_group_rules": [hw_rule(remote_ip_prefix="192.0.2.0/24")]}}
    result, lab = run("huawei", [write(tmp_path, "show.json", doc)])
    assert rules(lab, "app") == [("ingress", "allow", 1, 4, TCP, ((22, 22),),
                                  "cidr:192.0.2.0/24")]


# -- Huawei v2.0 --------------------------------------------------------------------------

APP_ID = "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a"
JUMP_ID = "4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7b"


def test_huawei_v2_rules_exactly():
    result, lab = run("huawei", [HW_V2])
    assert rules(lab, APP_ID) == [
        ("ingress", "allow", 1, 4, TCP, ((22, 22),), "cidr:192.168.1.0/24"),
        ("ingress", "allow", 1, 4, TCP, ((8000, 8080),), "cidr:0.0.0.0/0"),
        ("ingress", "allow", 1, 4, None, None, f"group:{APP_ID}"),
        ("ingress", "allow", 1, 4, None, None, f"group:{JUMP_ID}"),
        ("ingress", "allow", 1, 4, ICMP, None, "cidr:0.0.0.0/0"),
        ("ingress", "allow", 1, 4, UDP, ((53, 53),), "cidr:10.0.0.0/8"),
        ("ingress", "allow", 1, 6, TCP, ((443, 443),), "cidr:2001:db8::/32"),
        ("egress", "allow", 1, 4, None, None, ANY),
        ("egress", "allow", 1, 6, None, None, ANY),
    ]
    assert rules(lab, JUMP_ID) == [
        ("ingress", "allow", 1, 4, TCP, None, "cidr:172.16.0.0/12"),
        ("ingress", "allow", 1, 4, ICMP, None, "cidr:0.0.0.0/0"),
        ("egress", "allow", 1, 4, TCP, ((22, 22),), f"group:{APP_ID}"),
    ]
    # ICMP type 8 code 0 (port_range_min/max of an ICMP rule): widened, reported
    assert warned(result, HW_V2, "ICMP type/code 8/0", "widened")
    assert warned(result, APP_ID, "name is not in the export")


@pytest.mark.parametrize("lo, hi, expected_ports", [
    (22, 22, ((22, 22),)), (8000, 8080, ((8000, 8080),)), (1, 65535, None), (None, None, None),
    (443, None, ((443, 443),)),
])
def test_huawei_v2_port_range_variants(tmp_path, lo, hi, expected_ports):
    rule = {"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "security_group_id": APP_ID,
            "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
            "port_range_min": lo, "port_range_max": hi, "remote_ip_prefix": "192.0.2.0/24",
            "remote_group_id": None, "tenant_id": "0a1b2c3d4e5f4071", "description": ""}
    result, lab = run("huawei", [write(tmp_path, "v2.json", {"security_group_rules": [rule]})])
    assert rules(lab, APP_ID) == [("ingress", "allow", 1, 4, TCP, expected_ports,
                                   "cidr:192.0.2.0/24")]


def test_huawei_v2_groups_list_and_v3_record_of_the_same_rule(tmp_path):
    v2_rule = {"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "security_group_id": APP_ID,
               "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
               "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0",
               "remote_group_id": None, "description": ""}
    groups = {"security_groups": [{"id": APP_ID, "name": "app", "description": "",
                                   "tenant_id": "0a1b", "security_group_rules": [v2_rule]}]}
    v3 = {"security_group_rules": [hw_rule(id=v2_rule["id"], security_group_id=APP_ID,
                                           action="deny", priority=9,
                                           remote_ip_prefix="0.0.0.0/0")]}
    result, lab = run("huawei", [write(tmp_path, "g.json", groups), write(tmp_path, "r.json", v3)])
    # one rule, with the v3 record's action and priority
    assert rules(lab, "app") == [("ingress", "deny", 9, 4, TCP, ((22, 22),), "cidr:0.0.0.0/0")]


# -- the shared normaliser (through small exports) ---------------------------------------

@pytest.mark.parametrize("fields, fragment, expected", [
    ({"protocol": "icmp", "multiport": None, "ethertype": "IPv6"}, "taken as icmpv6",
     ("ingress", "allow", 1, 6, ICMP6, None, ANY)),
    ({"protocol": "icmpv6", "multiport": None, "ethertype": "IPv4"}, "taken as icmp",
     ("ingress", "allow", 1, 4, ICMP, None, ANY)),
    ({"remote_ip_prefix": "192.0.2.77/24"}, "host bits set",
     ("ingress", "allow", 1, 4, TCP, ((22, 22),), "cidr:192.0.2.0/24")),
    ({"protocol": "47", "multiport": "22"}, "widened to the whole protocol",
     ("ingress", "allow", 1, 4, GRE, None, ANY)),
    ({"protocol": "icmp", "multiport": "8"}, "ICMP type/code",
     ("ingress", "allow", 1, 4, ICMP, None, ANY)),
    ({"priority": 0}, "outside 1-100", ("ingress", "allow", 1, 4, TCP, ((22, 22),), ANY)),
    ({"remote_ip_prefix": "0.0.0.0/0", "remote_group_id": APP_ID}, "several remotes",
     ("ingress", "allow", 1, 4, TCP, ((22, 22),), "cidr:0.0.0.0/0")),
    ({"ethertype": "IPv6", "remote_ip_prefix": "192.0.2.0/24"},
     "is an IPv4 CIDR but the rule's ethertype is IPv6", None),
    ({"protocol": "carrier-pigeon"}, "unknown protocol", None),
    ({"protocol": "300"}, "unknown protocol", None),
    ({"action": "maybe"}, "unknown action", None),
    ({"direction": "sideways"}, "unknown direction", None),
    ({"multiport": "22-"}, "cannot be read", None),
    ({"multiport": "0-80"}, "outside 1-65535", None),
    ({"remote_ip_prefix": "not-an-address"}, "not an IP address", None),
    ({"ethertype": "IPX"}, "unknown ethertype", None),
])
def test_normaliser_reports_every_change(tmp_path, fields, fragment, expected):
    result, lab, got = hw_one(tmp_path, **fields)
    assert got == expected
    assert warned(result, "rules.json", "2b1f0a3c-4d5e-4f60-8172-93a4b5c6d7e8", fragment)


def test_group_names_are_made_valid_and_unique(tmp_path):
    groups = {"security_groups": [
        {"id": "aaaaaaaa-0000-4000-8000-000000000001", "name": "web"},
        {"id": "aaaaaaaa-0000-4000-8000-000000000002", "name": "web"},
        {"id": "aaaaaaaa-0000-4000-8000-000000000003", "name": "self"},
        {"id": "aaaaaaaa-0000-4000-8000-000000000004", "name": "my group (old)"}]}
    rule_list = {"security_group_rules": [
        hw_rule(id=f"bbbbbbbb-0000-4000-8000-00000000000{i}",
                security_group_id=f"aaaaaaaa-0000-4000-8000-00000000000{i}",
                remote_group_id="aaaaaaaa-0000-4000-8000-000000000003") for i in range(1, 5)]}
    result, lab = run("huawei", [write(tmp_path, "g.json", groups),
                                 write(tmp_path, "r.json", rule_list)])
    names = [g["name"] for g in result.lab["security_groups"]]
    assert names == ["web", "web-aaaaaaaa-0000-4000-8000-000000000002",
                     "self-aaaaaaaa-0000-4000-8000-000000000003", "my-group-old"]
    # the group named "self" is not confused with `remote_group: self`
    assert rules(lab, "web")[0][-1] == "group:self-aaaaaaaa-0000-4000-8000-000000000003"
    assert sum("is not usable in a lab" in w for w in result.warnings) == 3


# -- Terraform ----------------------------------------------------------------------------

def test_terraform_alicloud_state_topology():
    result, lab = run("terraform", [TF_ALI])
    assert lab.provider == "alibaba"
    [vpc] = lab.vpcs
    assert (vpc.name, str(vpc.cidr), str(vpc.ipv6_cidr)) == \
        ("vpc-shop", "10.10.0.0/16", "2001:db8:a00::/56")
    assert [(s.name, str(s.cidr), s.ipv6_cidr and str(s.ipv6_cidr)) for s in vpc.subnets] == \
        [("vsw-db", "10.10.2.0/24", None), ("vsw-web", "10.10.1.0/24", "2001:db8:a00:1::/64")]
    assert [(i.name, i.primary.subnet, str(i.primary.ip), i.primary.ipv6 and str(i.primary.ipv6),
             i.groups) for i in lab.instances] == [
        ("web-01", "vsw-web", "10.10.1.10", "2001:db8:a00:1::10", ["web"]),
        ("web-02", "vsw-web", "10.10.1.11", "2001:db8:a00:1::11", ["web"]),
        ("db-01", "vsw-db", "10.10.2.20", None, ["db"])]
    assert warned(result, TF_ALI, "alicloud_eip_address x1")


def test_terraform_alicloud_state_groups_and_rules():
    result, lab = run("terraform", [TF_ALI])
    assert (lab.groups["db"].extras.inner_access, lab.groups["web"].extras.inner_access) == \
        ("drop", "accept")
    assert rules(lab, "web") == [
        ("ingress", "deny", 100, 4, None, None, "cidr:0.0.0.0/0"),
        ("ingress", "allow", 1, 4, TCP, ((443, 443),), "cidr:0.0.0.0/0"),
        ("ingress", "allow", 1, 6, TCP, ((443, 443),), "cidr:::/0"),
        ("ingress", "allow", 5, 4, TCP, ((22, 22),), "prefix_list:pl-bp1tfoffice8d0f2h4"),
        ("egress", "allow", 1, 4, TCP, ((3306, 3306),), "group:db"),
    ]
    assert rules(lab, "db") == [
        ("ingress", "deny", 10, 4, TCP, ((22, 22),), "cidr:0.0.0.0/0"),
        ("egress", "allow", 1, 4, UDP, ((53, 53),), "cidr:10.10.0.0/16"),
        ("ingress", "allow", 1, 4, TCP, ((3306, 3306),), "group:web"),
        ("egress", "deny", 100, 4, None, None, "cidr:0.0.0.0/0"),
    ]
    # the prefix list is a resource of the state: its entries are known
    assert [str(n) for n in lab.prefix_lists["pl-bp1tfoffice8d0f2h4"].entries] == \
        ["198.51.100.0/24", "203.0.113.0/24"]
    assert not warned(result, "pl-bp1tfoffice8d0f2h4")


def test_terraform_huaweicloud_plan_follows_configuration_references():
    result, lab = run("terraform", [TF_HW])
    assert lab.provider == "huawei"
    assert rules(lab, "web") == [
        ("ingress", "allow", 1, 4, TCP, ((80, 80), (443, 443)), "cidr:0.0.0.0/0"),
        ("ingress", "allow", 5, 4, TCP, ((22, 22),), "prefix_list:office"),
        ("ingress", "deny", 100, 4, TCP, ((22, 22),), "cidr:0.0.0.0/0"),
        ("ingress", "allow", 1, 4, ICMP, None, "cidr:0.0.0.0/0"),
        ("egress", "allow", 100, 4, None, None, "cidr:0.0.0.0/0"),
    ]
    # delete_default_rules = false: Huawei's default rules are written out, then the plan's
    assert rules(lab, "db") == [
        ("ingress", "allow", 100, 4, None, None, "group:db"),
        ("ingress", "allow", 100, 6, None, None, "group:db"),
        ("egress", "allow", 100, 4, None, None, "cidr:0.0.0.0/0"),
        ("egress", "allow", 100, 6, None, None, "cidr:::/0"),
        ("ingress", "allow", 1, 4, TCP, ((3306, 3306),), "group:web"),
        ("ingress", "allow", 1, 6, TCP, ((3306, 3306),), "cidr:2001:db8:200::/48"),
        ("ingress", "allow", 1, 4, GRE, None, "cidr:192.168.20.0/24"),
    ]
    assert warned(result, "huaweicloud_networking_secgroup_rule.web_ping", "ICMP type/code 8/any")
    assert warned(result, TF_HW, "huaweicloud_vpc_eip x1")
    # the address group's range 203.0.113.10-203.0.113.20 becomes CIDRs
    assert [str(n) for n in lab.prefix_lists["office"].entries] == [
        "198.51.100.0/24", "203.0.113.10/31", "203.0.113.12/30", "203.0.113.16/30",
        "203.0.113.20/32"]


def test_terraform_huaweicloud_plan_topology():
    result, lab = run("terraform", [TF_HW])
    assert [(s.name, str(s.cidr)) for s in lab.subnets] == \
        [("subnet-app", "192.168.1.0/24"), ("subnet-db", "192.168.2.0/24")]
    web, db = lab.instances
    assert [(e.subnet, e.groups) for e in web.enis] == \
        [("subnet-app", ["web"]), ("subnet-db", ["web"])]
    assert str(web.primary.ip) == "192.168.1.10"
    assert (db.primary.subnet, str(db.primary.ip), db.groups) == ("subnet-db", "192.168.2.20",
                                                                  ["db"])


def tf_state(resources, provider="huaweicloud"):
    return {"format_version": "1.0", "terraform_version": "1.6.6", "values": {"root_module": {
        "resources": [{"address": f"{t}.{n}", "mode": "managed", "type": t, "name": n,
                       "provider_name": f"registry.terraform.io/{provider}/{provider}",
                       "schema_version": 0, "values": v} for t, n, v in resources]}}}


def test_terraform_huaweicloud_state_rules_attribute_and_rule_resources(tmp_path):
    sg = "6d7e8f90-a1b2-4c3d-8e4f-5a6b7c8d9e0f"
    group = {"id": sg, "name": "app", "description": "", "delete_default_rules": False,
             "rules": [
                 {"id": "r-default-1", "direction": "egress", "ethertype": "IPv4", "protocol": "",
                  "ports": "", "port_range_min": 0, "port_range_max": 0,
                  "remote_ip_prefix": "0.0.0.0/0", "remote_group_id": "",
                  "remote_address_group_id": "", "action": "allow", "priority": 100,
                  "description": ""},
                 {"id": "r-ssh", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
                  "ports": "22", "port_range_min": 22, "port_range_max": 22,
                  "remote_ip_prefix": "192.0.2.0/24", "remote_group_id": "",
                  "remote_address_group_id": "", "action": "allow", "priority": 1,
                  "description": "ssh"}]}
    ssh = {"id": "r-ssh", "security_group_id": sg, "direction": "ingress", "ethertype": "IPv4",
           "protocol": "tcp", "ports": "22", "port_range_min": 0, "port_range_max": 0,
           "remote_ip_prefix": "192.0.2.0/24", "remote_group_id": "",
           "remote_address_group_id": "", "action": "allow", "priority": 1, "description": "ssh"}
    web = dict(ssh, id="r-web", ports="", port_range_min=80, port_range_max=443,
               remote_ip_prefix="", action="deny", priority=7, description="")
    path = write(tmp_path, "state.json", tf_state([
        ("huaweicloud_networking_secgroup_rule", "ssh", ssh),
        ("huaweicloud_networking_secgroup", "app", group),
        ("huaweicloud_networking_secgroup_rule", "web", web)]))
    result, lab = run("terraform", [path])
    assert rules(lab, "app") == [
        ("egress", "allow", 100, 4, None, None, "cidr:0.0.0.0/0"),
        ("ingress", "allow", 1, 4, TCP, ((22, 22),), "cidr:192.0.2.0/24"),  # once
        ("ingress", "deny", 7, 4, TCP, ((80, 443),), ANY),
    ]


def test_terraform_network_that_cannot_be_a_lab_falls_back_to_a_generated_one(tmp_path):
    path = write(tmp_path, "state.json", tf_state([
        ("alicloud_vpc", "pub", {"id": "vpc-1", "vpc_name": "pub", "cidr_block": "100.64.0.0/16"}),
        ("alicloud_vswitch", "pub", {"id": "vsw-1", "vswitch_name": "pub", "vpc_id": "vpc-1",
                                     "cidr_block": "100.64.1.0/24"}),
        ("alicloud_security_group", "g", {"id": "sg-1", "security_group_name": "g"}),
        ("alicloud_security_group_rule", "r", {
            "security_group_id": "sg-1", "type": "ingress", "ip_protocol": "tcp",
            "port_range": "22/22", "priority": 1, "policy": "accept", "cidr_ip": "0.0.0.0/0",
            "nic_type": "intranet"}),
        ("alicloud_instance", "vm", {"instance_name": "vm", "vswitch_id": "vsw-1",
                                     "private_ip": "100.64.1.10", "security_groups": ["sg-1"]}),
    ], provider="aliyun"))
    result, lab = run("terraform", [path])
    assert warned(result, "cannot be built as a lab", "private IPv4 range")
    assert [str(v.cidr) for v in lab.vpcs] == ["10.0.0.0/16"]
    assert [i.name for i in lab.instances] == ["vm-g"]
    assert rules(lab, "g") == [("ingress", "allow", 1, 4, TCP, ((22, 22),), "cidr:0.0.0.0/0")]


def test_terraform_instance_addresses_that_do_not_fit_are_reported(tmp_path):
    path = write(tmp_path, "state.json", tf_state([
        ("alicloud_vpc", "v", {"id": "vpc-1", "vpc_name": "v", "cidr_block": "10.1.0.0/16"}),
        ("alicloud_vswitch", "s", {"id": "vsw-1", "vswitch_name": "s", "vpc_id": "vpc-1",
                                   "cidr_block": "10.1.1.0/24"}),
        ("alicloud_security_group", "g", {"id": "sg-1", "security_group_name": "g"}),
        ("alicloud_instance", "a", {"instance_name": "a", "vswitch_id": "vsw-1",
                                    "private_ip": "10.1.2.5", "security_groups": ["sg-1"]}),
        ("alicloud_instance", "b", {"instance_name": "b", "vswitch_id": "vsw-9",
                                    "private_ip": "10.9.1.5", "security_groups": ["sg-9"]}),
    ], provider="aliyun"))
    result, lab = run("terraform", [path])
    assert str(lab.instance("a").primary.ip) == "10.1.1.2"  # the next free address
    assert warned(result, "alicloud_instance.a", "10.1.2.5", "outside its subnet")
    assert warned(result, "alicloud_instance.b", "vsw-9", "not in the export")
    assert warned(result, "alicloud_instance.b", "sg-9", "placeholder")
    assert lab.instance("b").groups == ["sg-9"]
    assert not warned(result, "export has no instances")


@pytest.mark.parametrize("resources, message", [
    ([("alicloud_security_group", "a", {"id": "sg-1", "security_group_name": "a"}),
      ("huaweicloud_networking_secgroup", "b", {"id": "x", "name": "b"})], "both"),
    ([("alicloud_vpc", "v", {"id": "vpc-1", "cidr_block": "10.0.0.0/16"})],
     "no alicloud_security_group"),
])
def test_terraform_provider_detection_errors(tmp_path, resources, message):
    path = write(tmp_path, "state.json", tf_state(resources))
    with pytest.raises(LabError, match=message) as e:
        import_files("terraform", [path])
    assert path in str(e.value)


# -- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["alibaba", "huawei", "terraform"])
def test_invalid_json_names_the_file(tmp_path, kind):
    path = write(tmp_path, "broken.json", '{"Permissions": {"Permission": [}')
    with pytest.raises(LabError, match="not valid JSON") as e:
        import_files(kind, [path])
    assert path in str(e.value) and "line 1" in str(e.value)


@pytest.mark.parametrize("kind, data", [
    ("alibaba", {"security_group_rules": []}),
    ("alibaba", [1, 2]),
    ("huawei", {"Permissions": {"Permission": []}, "SecurityGroupId": "sg-1"}),
    ("huawei", ["not", "an", "export"]),
    ("terraform", {"security_group_rules": []}),
    ("terraform", {"values": {"root_module": {}}}),  # no format_version: not terraform show
    ("alibaba", 5), ("huawei", None), ("terraform", 1.5), ("alibaba", 10 ** 30),
])
def test_unknown_shape_names_the_file(tmp_path, kind, data):
    path = write(tmp_path, "export.json", data)
    with pytest.raises(LabError, match=f"not a recognised {kind} export") as e:
        import_files(kind, [path])
    assert path in str(e.value)


def test_unreadable_file_and_bad_arguments(tmp_path):
    missing = str(tmp_path / "missing.json")
    with pytest.raises(LabError, match="cannot read") as e:
        import_files("alibaba", [missing])
    assert missing in str(e.value)
    good = str(EXPORTS / ALI_WEB)
    with pytest.raises(LabError, match="unknown export kind"):
        import_files("aws", [good])
    with pytest.raises(LabError, match="lab name"):
        import_files("alibaba", [good], name="Too-Long-Name")
    with pytest.raises(LabError, match="no export files"):
        import_files("alibaba", [])
    with pytest.raises(LabError, match="no security groups"):
        import_files("huawei", [write(tmp_path, "empty.json", {"security_group_rules": []})])


def test_terraform_prefix_list_family_gives_the_rule_its_ethertype(tmp_path):
    path = write(tmp_path, "state.json", tf_state([
        ("alicloud_security_group", "g", {"id": "sg-1", "security_group_name": "g"}),
        ("alicloud_ecs_prefix_list", "v6", {"id": "pl-6", "prefix_list_name": "v6",
                                            "address_family": "IPv6",
                                            "entry": [{"cidr": "2001:db8:5::/48"}]}),
        ("alicloud_security_group_rule", "r", {
            "security_group_id": "sg-1", "type": "ingress", "ip_protocol": "tcp",
            "port_range": "443/443", "priority": 1, "policy": "accept", "cidr_ip": "",
            "ipv6_cidr_ip": "", "prefix_list_id": "pl-6", "nic_type": "intranet"}),
    ], provider="aliyun"))
    result, lab = run("terraform", [path])
    assert rules(lab, "g") == [("ingress", "allow", 1, 6, TCP, ((443, 443),), "prefix_list:pl-6")]
    assert "ipv6_cidr" in result.lab["vpcs"][0]


def test_terraform_module_instances_resolve_their_own_references(tmp_path):
    def module(i):
        return {"address": f"module.app[{i}]", "resources": [
            {"address": f"module.app[{i}].huaweicloud_networking_secgroup.sg", "mode": "managed",
             "type": "huaweicloud_networking_secgroup", "name": "sg", "index": None,
             "values": {"name": f"app{i}", "delete_default_rules": True}},
            {"address": f"module.app[{i}].huaweicloud_networking_secgroup_rule.ssh",
             "mode": "managed", "type": "huaweicloud_networking_secgroup_rule", "name": "ssh",
             "values": {"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
                        "ports": str(22 + i), "action": "allow", "priority": 1,
                        "remote_ip_prefix": "192.0.2.0/24"}}]}
    ref = {"references": ["huaweicloud_networking_secgroup.sg.id",
                          "huaweicloud_networking_secgroup.sg"]}
    plan = {"format_version": "1.2", "planned_values": {"root_module": {
        "child_modules": [module(0), module(1)]}},
        "configuration": {"root_module": {"module_calls": {"app": {"module": {"resources": [
            {"address": "huaweicloud_networking_secgroup.sg", "expressions": {}},
            {"address": "huaweicloud_networking_secgroup_rule.ssh",
             "expressions": {"security_group_id": ref}}]}}}}}}
    result, lab = run("terraform", [write(tmp_path, "plan.json", plan)])
    assert rules(lab, "app0") == [("ingress", "allow", 1, 4, TCP, ((22, 22),), "cidr:192.0.2.0/24")]
    assert rules(lab, "app1") == [("ingress", "allow", 1, 4, TCP, ((23, 23),), "cidr:192.0.2.0/24")]


def test_alibaba_inner_access_from_the_listing_and_advanced_accept(tmp_path):
    listing = {"SecurityGroups": {"SecurityGroup": [
        {"SecurityGroupId": "sg-bp1basic000000000001", "SecurityGroupName": "b",
         "SecurityGroupType": "normal", "InnerAccessPolicy": "Drop"},
        {"SecurityGroupId": "sg-bp1advan000000000001", "SecurityGroupName": "a",
         "SecurityGroupType": "enterprise"}]}}
    attr = ali_attr([], gid="sg-bp1advan000000000001", name="a", inner="Accept")
    result, lab = run("alibaba", [write(tmp_path, "g.json", listing),
                                  write(tmp_path, "a.json", attr)])
    assert lab.groups["b"].extras.inner_access == "drop"
    assert (lab.groups["a"].extras.type, lab.groups["a"].extras.inner_access) == \
        ("advanced", "drop")
    assert warned(result, "a.json", "advanced group with inner access policy Accept")
    assert warned(result, "g.json", "group 'b'", "rules are not in the export")


def test_terraform_alicloud_instance_in_basic_and_advanced_groups(tmp_path):
    path = write(tmp_path, "state.json", tf_state([
        ("alicloud_vpc", "v", {"id": "vpc-1", "vpc_name": "v", "cidr_block": "10.1.0.0/16"}),
        ("alicloud_vswitch", "s", {"id": "vsw-1", "vswitch_name": "s", "vpc_id": "vpc-1",
                                   "cidr_block": "10.1.1.0/24"}),
        ("alicloud_security_group", "b", {"id": "sg-b", "security_group_name": "b"}),
        ("alicloud_security_group", "a", {"id": "sg-a", "security_group_name": "a",
                                          "security_group_type": "enterprise"}),
        ("alicloud_instance", "vm", {"instance_name": "vm", "vswitch_id": "vsw-1",
                                     "private_ip": "10.1.1.9",
                                     "security_groups": ["sg-b", "sg-a"]}),
    ], provider="aliyun"))
    result, lab = run("terraform", [path])
    assert lab.instance("vm").groups == ["b"]
    assert warned(result, "alicloud_instance.vm", "basic and advanced", "['a']")


def test_terraform_huaweicloud_instance_naming_its_groups(tmp_path):
    path = write(tmp_path, "state.json", tf_state([
        ("huaweicloud_vpc", "v", {"id": "v-1", "name": "v", "cidr": "192.168.0.0/16"}),
        ("huaweicloud_vpc_subnet", "s", {"id": "n-1", "subnet_id": "s-1", "name": "s",
                                         "vpc_id": "v-1", "cidr": "192.168.5.0/24"}),
        ("huaweicloud_networking_secgroup", "g", {"id": "g-1", "name": "web", "rules": []}),
        ("huaweicloud_compute_instance", "vm", {
            "name": "vm-01", "security_groups": ["web", "ops"], "security_group_ids": [],
            "network": [{"uuid": "n-1", "fixed_ip_v4": "192.168.5.20", "fixed_ip_v6": ""}]}),
    ]))
    result, lab = run("terraform", [path])
    vm = lab.instance("vm-01")
    assert (vm.primary.subnet, str(vm.primary.ip), vm.groups) == ("s", "192.168.5.20", ["web"])
    assert warned(result, "huaweicloud_compute_instance.vm", "'ops'", "not in the export")
    assert lab.groups["web"].rules == []  # the state's rule list is empty: no rules, no warning
    assert not warned(result, "rules are not in the export")


def test_cli_import_writes_a_lab_that_reads_back(tmp_path, capsys):
    from sgnet import cli
    from sgnet.io.labfile import load_file
    out = tmp_path / "imported.yaml"
    files = [str(EXPORTS / n) for n in ("huawei_v3_list_security_group_rules.json",
                                        "huawei_v3_list_security_groups.json")]
    assert cli.main(["import", "--from", "huawei", *files, "-o", str(out), "--name", "hw"]) == 0
    lab = load_file(str(out))
    assert lab.provider == "huawei" and lab.name == "hw" and lab.instances
    assert cli.main(["import", "--from", "huawei", str(tmp_path / "nope.json"), "-o",
                     str(out)]) == 2


# -- malformed exports: exit 2 naming file, field and value; never a traceback -------------
# tests/exports/bad/ holds one minimal export per crash class the mutation run
# (tests/helpers/mutate.py) found; cases.json gives each one's kind, exit code, the
# fragments its message (exit 2) or its lab file and warnings (exit 0) must hold, and what
# sgnet did with it before.

BAD = EXPORTS / "bad"
BAD_CASES = json.loads((BAD / "cases.json").read_text())


def cli_import(capsys, kind, files, out):
    from sgnet import cli
    rc = cli.main(["import", "--from", kind, *map(str, files), "-o", str(out), "--name", "bad"])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


@pytest.mark.parametrize("case", BAD_CASES, ids=[c["file"] for c in BAD_CASES])
def test_bad_export_corpus(tmp_path, capsys, case):
    from sgnet import cli
    path, out = BAD / case["file"], tmp_path / "out.yaml"
    rc, _, err = cli_import(capsys, case["kind"], [path], out)
    assert rc == case["exit"], err
    assert "Traceback" not in err
    if rc == 2:
        [line] = err.strip().splitlines()  # one line, of a readable length
        assert line.startswith(f"sgnet: error: {path}: ") and len(line) < 600, line
        for fragment in case["fragments"]:
            assert fragment in line
        assert not out.exists()
        return
    text = out.read_text(encoding="utf-8")
    for fragment in case["fragments"]:
        assert fragment in text
    assert cli.main(["lint", str(out)]) in (0, 1), capsys.readouterr().err
    lab = labfile.load_file(str(out))
    assert [k for k in yaml.safe_load(text)] == ["name", "provider", "vpcs", "security_groups",
                                                 "instances", "externals"]
    assert lab.name == "bad"


def test_names_and_descriptions_from_the_export_are_made_safe(tmp_path):
    result, lab = run("alibaba", [BAD / "alibaba-nul-in-names-and-ids.json"])
    names = [g["name"] for g in result.lab["security_groups"]]
    assert names == ["web", "sg--peer"]  # NUL is no name character: sanitised, never refused
    assert lab.groups["web"].rules[0].description == "a\\x00b"  # visible, not dropped
    result, lab = run("alibaba", [BAD / "alibaba-lone-surrogate.json"])
    assert [g["name"] for g in result.lab["security_groups"]] == ["web"]
    assert lab.groups["web"].rules[0].description == "\\udfff"
    result, lab = run("alibaba", [BAD / "alibaba-line-break-injection.json"])
    text = result.to_yaml()
    assert "hosts" not in yaml.safe_load(text)
    assert all(line.startswith("# warning: ") for line in text.splitlines()[:len(result.warnings)])
    assert len(text.splitlines()[0]) < 400
    assert warned(result, "DestCidrIp 10.0.0.5/32\\nhosts")
    assert [g["name"] for g in result.lab["security_groups"]] == ["x-y"]


def test_numbers_are_ascii_digits(tmp_path):
    result, lab = run("huawei", [BAD / "huawei-unicode-digits.json"])
    assert rules(lab, "3c1d0a2b-0000-4000-8000-0000000000aa") == []
    assert warned(result, "port range '٢٢' cannot be read")
    assert warned(result, "priority '٣' is not a number")
    # an integer multiport is its port, not "no ports" (which allowed every port)
    result, lab = run("huawei", [BAD / "huawei-multiport-integer.json"])
    assert rules(lab, "3c1d0a2b-0000-4000-8000-0000000000aa") == [
        ("ingress", "allow", 1, 4, TCP, ((22, 22),), "cidr:192.0.2.0/24")]


@pytest.mark.parametrize("text, fragment", [
    ('{"Permissions": ' + "[" * 3000 + "]" * 3000 + "}",
     "line 1, column 116: JSON nested deeper than 100 levels"),
    ('{"SecurityGroupId": "s", "Permissions": [' + '{"a": ' * 100 + "1" + "}" * 100 + "]}",
     "Permissions[0].a.a.a"),
    ('{"SecurityGroupId": "s", "Permissions": [' + "9" * 5000 + "]}",
     "Permissions[0]: must be an object (got a number of 5000 digits)"),
    ('{"Permissions": 1, "SecurityGroupId": "sg-1"}', "Permissions: must be a list (got 1)"),
    ('{"Permissions": [], "SecurityGroupId": ["sg-1"]}',
     "SecurityGroupId: must be a string (got a list of 1 item)"),
    ('{"Permissions": [], "SecurityGroupId": " "}', "SecurityGroupId: is required"),
    ('{"Permissions": [{"Direction": "\\u2028' + "x" * 9000 + '"}], "SecurityGroupId": "s"}',
     "Permissions[0].Direction: is longer than 4096 characters (got '\\u2028xxx"),
])
def test_alibaba_structure_errors_name_the_field(tmp_path, text, fragment):
    path = write(tmp_path, "attr.json", text)
    with pytest.raises(LabError) as e:
        import_files("alibaba", [path])
    assert str(e.value).startswith(path + ": ") and fragment in str(e.value), str(e.value)
    assert len(str(e.value)) < 500


def test_terraform_network_values_that_are_no_networks(tmp_path):
    path = write(tmp_path, "state.json", tf_state([
        ("alicloud_vpc", "v", {"id": "vpc-1", "vpc_name": "v", "cidr_block": "10.1.0.0/16",
                               "ipv6_cidr_block": "10.9.0.0/16"}),
        ("alicloud_vswitch", "s", {"id": "vsw-1", "vswitch_name": "s", "vpc_id": "vpc-1",
                                   "cidr_block": "999.1.1.0/24"}),
        ("alicloud_vswitch", "t", {"id": "vsw-2", "vswitch_name": "t", "vpc_id": "vpc-1",
                                   "cidr_block": "10.1.2.0/24",
                                   "ipv6_cidr_block": "fe80::%eth0/64"}),
        ("alicloud_security_group", "g", {"id": "sg-1", "security_group_name": "g"}),
        ("alicloud_ecs_prefix_list", "p", {"id": "pl-1", "prefix_list_name": "p", "entry": [
            {"cidr": "198.51.100.7/24"}, {"cidr": "not-a-cidr"}]}),
        ("alicloud_instance", "vm", {"instance_name": "vm", "vswitch_id": "vsw-2",
                                     "private_ip": "10.1.2.0010", "security_groups": ["sg-1"]}),
    ], provider="aliyun"))
    result, lab = run("terraform", [path])
    assert warned(result, "alicloud_vswitch.s", "cidr_block '999.1.1.0/24' is not an IPv4 CIDR")
    assert warned(result, "alicloud_vpc.v", "ipv6_cidr_block '10.9.0.0/16' is not an IPv6 CIDR")
    assert warned(result, "alicloud_vswitch.t", "ipv6_cidr_block 'fe80::%eth0/64'")
    assert warned(result, "'not-a-cidr' cannot be read")
    assert result.lab["prefix_lists"] == [{"name": "pl-1", "entries": ["198.51.100.0/24"]}]
    assert [s.name for s in lab.vpcs[0].subnets] == ["t"]
    assert warned(result, "alicloud_instance.vm", "'10.1.2.0010' is not an IP address")


def test_terraform_vpc_covering_every_external_address_falls_back(tmp_path):
    path = write(tmp_path, "state.json", tf_state([
        ("huaweicloud_vpc", "v", {"id": "v-1", "name": "v", "cidr": "0.0.0.0/0"}),
        ("huaweicloud_vpc_subnet", "s", {"id": "s-1", "name": "s", "vpc_id": "v-1",
                                         "cidr": "203.0.113.0/24"}),
        ("huaweicloud_networking_secgroup", "g", {"id": "g-1", "name": "g", "rules": []}),
    ]))
    result, lab = run("terraform", [path])
    assert warned(result, "cannot be built as a lab")
    assert result.lab["vpcs"][0]["name"] == "vpc-imported"


def test_many_groups_get_a_subnet_that_holds_them(tmp_path):
    listing = {"SecurityGroups": {"SecurityGroup": [
        {"SecurityGroupId": f"sg-{i:04d}", "SecurityGroupName": "same"} for i in range(600)]}}
    result, lab = run("alibaba", [write(tmp_path, "g.json", listing)])
    assert result.lab["vpcs"][0]["subnets"][0]["cidr"] == "10.0.0.0/22"
    assert len(lab.instances) == 600 and len(lab.groups) >= 600


def test_name_allocation_is_unique_valid_and_linear():
    from sgnet.io.importers.normaliser import Names
    names = Names()
    got = [names.take("", "x" * 70) for _ in range(2000)]  # every fallback the same
    assert len(set(got)) == 2000
    assert all(labspec.OBJECT_NAME.fullmatch(n) for n in got)  # <= 64 characters past -999
    assert got[:3] == ["x" * 64, "x" * 62 + "-2", "x" * 62 + "-3"]


@pytest.mark.parametrize("address", [
    "a.b", "a.b[0]", 'a.b["k"]', 'module.m[1].a.b["x[y"]', "a.b[", "a]b]", "[[[", "a[0]b[1]c",
    "[" * 5000 + "]", "a" + "[" * 5000,
])
def test_terraform_address_indexes_without_backtracking(address):
    import re
    from sgnet.io.importers.terraform import strip_index, without_indexes
    assert strip_index(address) == re.sub(r"\[[^\]]*\]$", "", address)
    assert without_indexes(address) == re.sub(r"\[[^\]]*\]", "", address)


def test_terraform_deeply_nested_modules_within_the_bound(tmp_path):
    module = {"resources": [{"address": "huaweicloud_networking_secgroup.g", "mode": "managed",
                             "type": "huaweicloud_networking_secgroup", "name": "g",
                             "values": {"id": "g-1", "name": "deep", "rules": []}}]}
    for i in range(40):  # 80 levels of JSON
        module = {"child_modules": [module]}
    path = write(tmp_path, "state.json", {"format_version": "1.0",
                                          "values": {"root_module": module}})
    result, lab = run("terraform", [path])
    assert "deep" in lab.groups
    for i in range(20):
        module = {"child_modules": [module]}
    path = write(tmp_path, "state.json", {"format_version": "1.0",
                                          "values": {"root_module": module}})
    with pytest.raises(LabError, match=r"values\.root_module\.child_modules\[0\]\.child_modules"
                                       r".*nested deeper than 100 levels"):
        import_files("terraform", [path])


def test_address_group_ranges_are_bounded_as_they_expand(tmp_path):
    # one IPv6 range is 254 CIDRs: 200,000 of them (9 MB of JSON) were 50 million strings
    wide = "::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"
    path = write(tmp_path, "state.json", tf_state([
        ("huaweicloud_networking_secgroup", "g", {"id": "g-1", "name": "g", "rules": []}),
        ("huaweicloud_vpc_address_group", "a", {"id": "ag-1", "name": "a",
                                                "addresses": [wide] * 200_000}),
    ]))
    with pytest.raises(LabError, match=r"resources\[1\]\.values\.addresses\[3\]: the entries up "
                                       r"to this one make more than 1,000 CIDRs"):
        import_files("terraform", [path])


def _mutations_sample():
    from helpers import mutate
    for kind, files in mutate.EXPORT_SETS:
        for index, name in enumerate(files):
            for m in mutate.sample(mutate.seed_text(name), 6, rng_seed=index):
                yield pytest.param(kind, files, index, m, id=f"{name}:{m.label[:60]}")


@pytest.mark.parametrize("kind, files, index, mutation", list(_mutations_sample()))
def test_mutated_exports_import_or_are_refused(tmp_path, capsys, kind, files, index, mutation):
    """A sample of tests/helpers/mutate.py over every sample export (the full run is ~160,000
    mutations): exit 0 with a lab file `sgnet lint` reads, or exit 2 naming the file."""
    from sgnet import cli
    paths = []
    for i, name in enumerate(files):
        text = mutation.text if i == index else (EXPORTS / name).read_text()
        paths.append(tmp_path / name)
        paths[-1].write_text(text, encoding="utf-8", errors="surrogatepass")
    out = tmp_path / "out.yaml"
    rc, _, err = cli_import(capsys, kind, paths, out)
    assert rc in (0, 2) and "Traceback" not in err
    if rc == 2:
        assert str(paths[index]) in err and len(err) < 2000 and not out.exists()
    else:
        assert cli.main(["lint", str(out)]) in (0, 1), capsys.readouterr().err


def test_alibaba_mixed_prefix_list_keeps_one_family_reported(tmp_path):
    """Alibaba prefix lists hold one address family (CreatePrefixList); a hand-written state
    mixing them keeps the first entry's family, and says what it left out."""
    state = {"format_version": "1.0", "values": {"root_module": {"resources": [
        {"address": "alicloud_security_group.g", "mode": "managed",
         "type": "alicloud_security_group", "name": "g",
         "values": {"id": "sg-1", "security_group_name": "web"}},
        {"address": "alicloud_ecs_prefix_list.p", "mode": "managed",
         "type": "alicloud_ecs_prefix_list", "name": "p",
         "values": {"id": "pl-1", "entry": [{"cidr": "198.51.100.0/24"},
                                            {"cidr": "2001:db8::/32"}]}},
        {"address": "alicloud_security_group_rule.r", "mode": "managed",
         "type": "alicloud_security_group_rule", "name": "r",
         "values": {"id": "r1", "security_group_id": "sg-1", "type": "ingress",
                    "ip_protocol": "tcp", "port_range": "22/22", "prefix_list_id": "pl-1",
                    "policy": "accept", "priority": 1}}]}}}
    result, lab = run("terraform", [write(tmp_path, "state.json", state)])
    assert result.lab["prefix_lists"] == [{"name": "pl-1", "entries": ["198.51.100.0/24"]}]
    assert warned(result, "mixes IPv4 and IPv6", "kept the IPv4 entries", "2001:db8::/32")
    assert rules(lab, "web") == [("ingress", "allow", 1, 4, 6, ((22, 22),),
                                  "prefix_list:pl-1")]


def test_alibaba_rule_without_authorization_object_is_dropped_and_reported(tmp_path):
    """AuthorizeSecurityGroup requires a CIDR, a group or a prefix list: a rule with none
    (a hand-written Terraform file can have one) is no rule of the cloud, never 'any'."""
    path = write(tmp_path, "attr.json", ali_attr([ali_perm()]))
    result, lab = run("alibaba", [path])
    assert rules(lab, "test") == []
    assert warned(result, "no authorization object", "rule dropped")


def test_terraform_states_keep_the_enis_cloud_ids(tmp_path):
    """The ids a state holds of ENIs (a Huawei network's `port`, an attached interface's
    `port_id`; an Alibaba ENI resource's `id`) are kept as `eni_id`: flow logs name the
    ENI by it (sgnet replay)."""
    hw = write(tmp_path, "hw.json", tf_state([
        ("huaweicloud_vpc", "v", {"id": "v-1", "name": "v", "cidr": "192.168.0.0/16"}),
        ("huaweicloud_vpc_subnet", "s", {"id": "n-1", "subnet_id": "s-1", "name": "s",
                                         "vpc_id": "v-1", "cidr": "192.168.5.0/24"}),
        ("huaweicloud_networking_secgroup", "g", {"id": "g-1", "name": "web", "rules": []}),
        ("huaweicloud_compute_instance", "vm", {
            "id": "i-1", "name": "vm-01", "security_group_ids": ["g-1"],
            "network": [{"uuid": "n-1", "fixed_ip_v4": "192.168.5.20", "fixed_ip_v6": "",
                         "port": "0b1e8a3c-7f7d-4c5e-9a3b-2f6d1c0e9a11"}]}),
        ("huaweicloud_compute_interface_attach", "second", {
            "instance_id": "i-1", "network_id": "n-1", "fixed_ip": "192.168.5.21",
            "port_id": "5c2d9e4f-1a0b-4c3d-8e7f-6a5b4c3d2e1f"}),
    ]))
    result, lab = run("terraform", [hw])
    vm = lab.instance("vm-01")
    assert [e.eni_id for e in vm.enis] == ["0b1e8a3c-7f7d-4c5e-9a3b-2f6d1c0e9a11",
                                           "5c2d9e4f-1a0b-4c3d-8e7f-6a5b4c3d2e1f"]
    ali = write(tmp_path, "ali.json", tf_state([
        ("alicloud_vpc", "v", {"id": "vpc-1", "vpc_name": "v", "cidr_block": "10.1.0.0/16"}),
        ("alicloud_vswitch", "s", {"id": "vsw-1", "vswitch_name": "s", "vpc_id": "vpc-1",
                                   "cidr_block": "10.1.1.0/24"}),
        ("alicloud_security_group", "b", {"id": "sg-b", "security_group_name": "b"}),
        ("alicloud_instance", "vm", {"id": "i-vm", "instance_name": "vm",
                                     "vswitch_id": "vsw-1", "private_ip": "10.1.1.9",
                                     "security_groups": ["sg-b"]}),
        ("alicloud_ecs_network_interface", "e", {
            "id": "eni-2ze0123456789abcdef", "vswitch_id": "vsw-1",
            "primary_ip_address": "10.1.1.10", "security_group_ids": ["sg-b"]}),
        ("alicloud_ecs_network_interface_attachment", "a", {
            "instance_id": "i-vm", "network_interface_id": "eni-2ze0123456789abcdef"}),
    ], provider="aliyun"))
    result, lab = run("terraform", [ali])
    vm = lab.instance("vm")
    # the primary ENI's id is not in an alicloud_instance's state: by address it is found
    assert [e.eni_id for e in vm.enis] == [None, "eni-2ze0123456789abcdef"]
    assert str(lab.eni_by_id("eni-2ze0123456789abcdef").ip) == "10.1.1.10"

"""`sgnet import` of API topologies (instances, ENIs, subnets) with the groups, and no silent
widening (sgnet.io.importers: alibaba_topology, huawei_topology, api_topology).

The files in tests/exports/api_topology/ are the providers' own documented response examples
(SOURCES.md says where each comes from); the inputs written here are hand-written and say so.
"""

from pathlib import Path

import pytest

from sgnet.core import labspec
from sgnet.core.errors import LabError
from sgnet.core.lint import lint
from helpers.imports import warned, write
from sgnet.io.importers.files import import_files

EXPORTS = Path(__file__).parents[1] / "exports"
TOPO = EXPORTS / "api_topology"
TCP = 6


def run(kind, files, name="t"):
    paths = [str(f if Path(f).is_absolute() else EXPORTS / f) for f in files]
    result = import_files(kind, paths, name)
    return result, labspec.parse(result.lab, "x")


def instances(result):
    return {i["name"]: i for i in result.lab["instances"]}


def lints(result):
    lab = labspec.parse(result.lab, "x")
    return lint(lab)


# -- Huawei: the ECS API reference's ListServersDetails example -------------------------

HW_GROUPS = ["huawei_v3_list_security_groups.json", "huawei_v3_list_security_group_rules.json"]


def test_huawei_servers_give_the_real_instances_addresses_enis_and_memberships():
    result, lab = run("huawei", [*HW_GROUPS, TOPO / "huawei_list_servers_details.json"])
    got = instances(result)
    assert list(got) == ["ecs-5e70", "ecs-f680", "ecs-3993", "ecs-1f30"]
    # two NICs in one VPC: the primary and a secondary ENI, each its real address
    assert got["ecs-5e70"]["ip"] == "192.168.0.206"
    assert [e["ip"] for e in got["ecs-5e70"]["secondary_enis"]] == ["192.168.0.8"]
    # each keeps its port id: a Huawei flow log's interface-id (sgnet replay maps by it)
    assert got["ecs-5e70"]["eni_id"] == "7b5d615c-186d-4646-9cb8-444addfe9b92"
    assert got["ecs-5e70"]["secondary_enis"][0]["eni_id"] == \
        "dda2027b-2f03-497b-8d42-620da2baacc3"
    assert lab.eni_by_id("cfa2e055-54fb-427a-bde4-128bda47ae5c").instance == "ecs-1f30"
    assert got["ecs-f680"]["ip"] == "192.168.0.218"
    assert got["ecs-3993"]["ip"] == "192.168.20.83"
    assert got["ecs-1f30"]["ip"] == "192.168.20.197"
    # two groups by id (Sys-FullAccess, default): a multi-group membership
    assert got["ecs-5e70"]["security_groups"][0] == "Sys-FullAccess"
    assert len(got["ecs-5e70"]["security_groups"]) == 2
    assert len(next(i for i in lab.instances if i.name == "ecs-5e70").enis) == 2
    # by name only: 'test' is not in the export (placeholder), 'default' is two groups there
    assert warned(result, "ecs-f680", "'test'", "placeholder")
    assert warned(result, "ecs-3993", "'default'", "2 groups", "first")
    assert got["ecs-3993"]["security_groups"] == ["test", "default"]
    # no ListSubnets: a subnet per VPC holding the real addresses, named in a warning
    assert warned(result, "164489f6", "taken as 192.168.0.0/24", "192.168.0.206")
    assert warned(result, "00159d7d", "taken as 192.168.20.0/24")
    assert sorted(str(s.cidr) for s in lab.subnets) == ["192.168.0.0/24", "192.168.20.0/24"]
    lints(result)  # the lab is one `sgnet lint` reads


def test_huawei_show_server_and_a_subnet_listing(tmp_path):
    server = TOPO / "huawei_show_server.json"
    # hand-written ListSubnets of the server's VPC (the documented fields)
    subnets = write(tmp_path, "subnets.json", {"subnets": [
        {"id": "8fc3ec87-5b4c-4ac6-9e75-1ee8dd54b3d3", "name": "subnet-web",
         "cidr": "192.168.1.0/24", "vpc_id": "0431c5e5-bc94-4a44-8263-15da2a642435",
         "neutron_subnet_id": "5d4e3c2b-1a09-4f8e-9d7c-6b5a49382716"}]})
    vpcs = write(tmp_path, "vpcs.json", {"vpcs": [
        {"id": "0431c5e5-bc94-4a44-8263-15da2a642435", "name": "vpc-web",
         "cidr": "192.168.0.0/16"}]})
    result, lab = run("huawei", [*HW_GROUPS, server, subnets, vpcs])
    got = instances(result)["ecs-2ecf"]
    assert got["ip"] == "192.168.1.99" and got["subnet"] == "subnet-web"
    assert got["security_groups"] == ["sg-95ec"]  # by id: a placeholder named after it
    assert [v["name"] for v in result.lab["vpcs"]] == ["vpc-web"]
    assert result.lab["vpcs"][0]["cidr"] == "192.168.0.0/16"
    assert not warned(result, "its CIDR is not in the export")


# -- Alibaba: the ECS API reference's examples and a hand-written topology --------------

def test_alibaba_doc_examples_import_with_their_masked_addresses_reported():
    result, lab = run("alibaba", [
        "alibaba_describe_security_group_attribute_web.json",
        TOPO / "alibaba_describe_security_groups.json",
        TOPO / "alibaba_describe_instances.json",
        TOPO / "alibaba_describe_network_interfaces.json"])
    got = instances(result)
    assert got["InstanceNameTest"]["security_groups"] == ["SGTestName"]
    assert "i-wz91t9p4j9xsw2pn" in got  # known from the ENI listing only: named after its id
    assert warned(result, "is not in a DescribeInstances export")
    # the documentation masks its addresses ('172.17.**.**'): reported, never invented
    assert warned(result, "'172.17.**.***'", "not an IP address")
    assert warned(result, "vsw-2zeh0r1pabwtg6wcs", "a free /24")
    lints(result)


def ali_topology(tmp_path):
    """Hand-written DescribeInstances + DescribeNetworkInterfaces of two instances: web-1 with
    two groups and a secondary ENI in a group of its own; db-1 in one group."""
    instances_ = {"Instances": {"Instance": [
        {"InstanceId": "i-web1", "InstanceName": "web-1", "InstanceNetworkType": "vpc",
         "VpcAttributes": {"VpcId": "vpc-1", "VSwitchId": "vsw-web",
                           "PrivateIpAddress": {"IpAddress": ["172.16.1.10"]}},
         "SecurityGroupIds": {"SecurityGroupId": ["sg-web", "sg-ops"]},
         "NetworkInterfaces": {"NetworkInterface": [
             {"NetworkInterfaceId": "eni-web1a", "Type": "Primary",
              "PrimaryIpAddress": "172.16.1.10"},
             {"NetworkInterfaceId": "eni-web1b", "Type": "Secondary",
              "PrimaryIpAddress": "172.16.2.20"}]}},
        {"InstanceId": "i-db1", "InstanceName": "db-1", "InstanceNetworkType": "vpc",
         "VpcAttributes": {"VpcId": "vpc-1", "VSwitchId": "vsw-db",
                           "PrivateIpAddress": {"IpAddress": ["172.16.2.30"]}},
         "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}}]}}
    enis = {"NetworkInterfaceSets": {"NetworkInterfaceSet": [
        {"NetworkInterfaceId": "eni-web1b", "InstanceId": "i-web1", "Type": "Secondary",
         "VSwitchId": "vsw-db", "VpcId": "vpc-1", "PrivateIpAddress": "172.16.2.20",
         "PrivateIpSets": {"PrivateIpSet": [
             {"PrivateIpAddress": "172.16.2.20", "Primary": True},
             {"PrivateIpAddress": "172.16.2.21", "Primary": False}]},
         "SecurityGroupIds": {"SecurityGroupId": ["sg-db"]}}]}}
    groups = [{"SecurityGroupId": g, "SecurityGroupName": g[3:], "SecurityGroupType": "normal",
               "VpcId": "vpc-1"} for g in ("sg-web", "sg-ops", "sg-db")]  # a bare list
    attr = {"SecurityGroupId": "sg-web", "SecurityGroupName": "web", "InnerAccessPolicy":
            "Accept", "Permissions": {"Permission": [
                {"Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22",
                 "SourceCidrIp": "0.0.0.0/0", "Policy": "Accept", "Priority": "1",
                 "NicType": "internet", "SecurityGroupRuleId": "sgr-ssh"}]}}
    return [write(tmp_path, "groups.json", groups), write(tmp_path, "attr.json", attr),
            write(tmp_path, "instances.json", instances_), write(tmp_path, "enis.json", enis)]


def test_alibaba_instances_and_enis_in_one_import(tmp_path):
    result, lab = run("alibaba", ali_topology(tmp_path))
    got = instances(result)
    assert list(got) == ["web-1", "db-1"]
    web = got["web-1"]
    assert web["ip"] == "172.16.1.10" and web["subnet"] == "vsw-web"
    assert web["security_groups"] == ["web", "ops"]
    # the secondary ENI: its own vswitch, address and group (DescribeNetworkInterfaces)
    assert web["secondary_enis"] == [{"subnet": "vsw-db", "ip": "172.16.2.20",
                                      "security_groups": ["db"], "secondary_ips": 1,
                                      "eni_id": "eni-web1b"}]
    # the ENIs keep their ids (flow logs name them by it); db-1's export lists none
    assert web["eni_id"] == "eni-web1a" and "eni_id" not in got["db-1"]
    assert (lab.eni_by_id("eni-web1b").instance, lab.eni_by_id("eni-web1b").index) == \
        ("web-1", 1)
    assert lab.eni_by_id("eni-nope") is None
    assert warned(result, "eni-web1b", "172.16.2.21", "of its own choosing")
    assert got["db-1"]["ip"] == "172.16.2.30"
    # no DescribeVSwitches / DescribeVpcs: inferred around the real addresses, warned
    assert warned(result, "vswitch vsw-web", "taken as 172.16.1.0/24", "172.16.1.10")
    assert warned(result, "vswitch vsw-db", "taken as 172.16.2.0/24")
    assert warned(result, "VPC vpc-1", "taken as 172.16.0.0/16")
    members = {e.instance for e in lab.enis if "db" in e.groups}
    assert members == {"web-1", "db-1"}
    lints(result)


def test_alibaba_vswitch_listing_gives_the_real_cidrs(tmp_path):
    files = ali_topology(tmp_path)
    vsw = write(tmp_path, "vsw.json", {"VSwitches": {"VSwitch": [
        {"VSwitchId": "vsw-web", "VpcId": "vpc-1", "CidrBlock": "172.16.0.0/23",
         "VSwitchName": "web-a"},
        {"VSwitchId": "vsw-db", "VpcId": "vpc-1", "CidrBlock": "172.16.2.0/24"}]}})
    vpcs = write(tmp_path, "vpcs.json", {"Vpcs": {"Vpc": [
        {"VpcId": "vpc-1", "VpcName": "prod", "CidrBlock": "172.16.0.0/12"}]}})
    result, lab = run("alibaba", [*files, vsw, vpcs])
    assert result.lab["vpcs"][0]["name"] == "prod"
    assert result.lab["vpcs"][0]["cidr"] == "172.16.0.0/12"
    assert {s["name"]: s["cidr"] for s in result.lab["vpcs"][0]["subnets"]} == \
        {"web-a": "172.16.0.0/23", "vsw-db": "172.16.2.0/24"}
    assert instances(result)["web-1"]["subnet"] == "web-a"
    assert not warned(result, "its CIDR is not in the export")


def test_alibaba_nic_type_internet_is_kept_as_intranet(tmp_path):
    result, lab = run("alibaba", ali_topology(tmp_path))
    rules = lab.groups["web"].rules
    assert [(r.direction, r.protocol, r.ports, r.remote.value) for r in rules] == \
        [("ingress", TCP, ((22, 22),), "0.0.0.0/0")]
    assert warned(result, "sgr-ssh", "NicType internet", "kept as an intranet rule")


# -- refusals name the file and the shapes expected --------------------------------------

@pytest.mark.parametrize("kind,data,names", [
    ("alibaba", {"Foo": 1}, ["DescribeInstances", "DescribeNetworkInterfaces",
                             "DescribeVSwitches", "DescribeSecurityGroups"]),
    ("alibaba", [{"Bar": []}], ["DescribeSecurityGroupAttribute", "DescribeVpcs"]),
    ("huawei", {"Foo": 1}, ["ShowServer", "ListServersDetails", "ListSubnets",
                            "ListSecurityGroupRules"]),
])
def test_refusal_names_the_file_and_the_expected_shapes(tmp_path, kind, data, names):
    path = write(tmp_path, "odd.json", data)
    with pytest.raises(LabError) as e:
        import_files(kind, [path], "t")
    assert str(e.value).startswith(f"{path}: not a recognised {kind} export")
    assert all(n in str(e.value) for n in names)


# -- no silent widening ------------------------------------------------------------------

def test_huawei_multiport_number_333_is_port_333():
    result, lab = run("huawei", [TOPO / "huawei_v3_show_security_group_rule.json"])
    (rule,) = lab.groups["0552091e-b83a-49dd-88a7-4a5c86fd9ec3"].rules
    assert (rule.protocol, rule.ports, rule.remote.value) == (TCP, ((333, 333),),
                                                              "10.10.0.0/16")


@pytest.mark.parametrize("ports,expected", [
    ("22,", ((22, 22),)), ("22,,80", ((22, 22), (80, 80))), (" ,443", ((443, 443),))])
def test_empty_port_list_item_never_widens(tmp_path, ports, expected):
    rule = {"id": "r1", "security_group_id": "g1", "direction": "ingress", "protocol": "tcp",
            "ethertype": "IPv4", "multiport": ports, "action": "allow", "priority": 1,
            "remote_ip_prefix": "0.0.0.0/0"}  # hand-written v3 rule
    result, lab = run("huawei", [write(tmp_path, "r.json", {"security_group_rule": rule})])
    assert lab.groups["g1"].rules[0].ports == expected
    assert warned(result, "empty item", "ignored")


def test_port_list_of_only_empty_items_is_dropped_and_reported(tmp_path):
    rule = {"id": "r1", "security_group_id": "g1", "direction": "ingress", "protocol": "tcp",
            "multiport": ",", "action": "allow", "priority": 1}
    result, lab = run("huawei", [write(tmp_path, "r.json", {"security_group_rule": rule})])
    assert lab.groups["g1"].rules == []
    assert warned(result, "port range ','", "rule dropped")


def test_alibaba_tcp_rule_without_port_range_is_reported(tmp_path):
    attr = {"SecurityGroupId": "sg-1", "SecurityGroupName": "a", "Permissions": {
        "Permission": [{"Direction": "ingress", "IpProtocol": "TCP", "Policy": "Accept",
                        "SourceCidrIp": "10.0.0.0/8", "SecurityGroupRuleId": "sgr-1"}]}}
    result, lab = run("alibaba", [write(tmp_path, "a.json", attr)])
    assert lab.groups["a"].rules[0].ports is None
    assert warned(result, "sgr-1", "no PortRange", "all ports")


def test_huawei_own_groups_known_only_by_membership_get_their_documented_rules():
    """A server in Sys-FullAccess whose rules the export lacks: Huawei creates that group
    with documented rules (seed 000, Table 3), so the lab gets them, warned; not an empty,
    deny-everything group."""
    result, lab = run("huawei", ["api_topology/huawei_v3_show_security_group.json",
                                 TOPO / "huawei_list_servers_details.json"])
    full = next(g for g in result.lab["security_groups"] if g["name"] == "Sys-FullAccess")
    assert full == {"name": "Sys-FullAccess", "default_rules": True, "rules": []}
    assert warned(result, "Sys-FullAccess", "given the rules Huawei documents")
    rules = lab.groups["Sys-FullAccess"].rules
    assert len(rules) == 6 and {r.priority for r in rules} == {100}
    # everything inbound from everywhere (Table 3): the outside world reaches RDP
    from sgnet.core.evaluator import Evaluator
    assert Evaluator(lab).evaluate("internet", "ecs-5e70", 6, 3389, 4).verdict == "allow"

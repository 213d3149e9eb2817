"""Labs imported from real exports (tests/exports/, SOURCES.md) run on the kernel: the real
instances, ENIs and memberships of API and Terraform files, and the kernel agrees with the
evaluator on every flow."""

from pathlib import Path

import pytest

from sgnet.io.importers.files import import_files

EXPORTS = Path(__file__).parents[2] / "tests" / "exports"
PORTS = ["tcp/22", "tcp/80", "tcp/3389", "udp/53", "icmp"]

CASES = {
    # Huawei ListServersDetails (4 servers, one with two NICs and two groups) with the v3
    # ShowSecurityGroup example (default rules at priority 100)
    "huawei-servers": ("huawei", ["api_topology/huawei_v3_show_security_group.json",
                                  "api_topology/huawei_list_servers_details.json"]),
    # Alibaba DescribeInstances + DescribeNetworkInterfaces + DescribeSecurityGroups
    "alibaba-api": ("alibaba", ["alibaba_describe_security_group_attribute_web.json",
                                "api_topology/alibaba_describe_security_groups.json",
                                "api_topology/alibaba_describe_instances.json",
                                "api_topology/alibaba_describe_network_interfaces.json"]),
    # Terraform HCL: an Alibaba security-group module's example (local modules, for/flatten)
    "tf-ali-module": ("terraform", ["terraform_hcl/ali_sg_module/examples/http"]),
    # Terraform HCL: Huawei ECS with an attached second interface
    "tf-hw-attach": ("terraform", ["terraform_hcl/hw_attached_interface"]),
    # Terraform HCL: the Alibaba ecs-instance module's example (13 instances, two VPCs that
    # overlap: one left out)
    "tf-ali-ecs": ("terraform", ["terraform_hcl/ali_ecs_module/examples/basic"]),
    # Terraform HCL: a Huawei project's network (default rules at priority 100 + its own)
    "tf-hw-network": ("terraform", ["terraform_hcl/hw_tg_network/env/dev/network"]),
    # Terraform HCL: the Alibaba vpc-ecs-eip module's example
    "tf-ali-eip": ("terraform", ["terraform_hcl/ali_vpc_ecs_eip/examples/complete"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_imported_lab_matrix_agrees(sgnet_lab, case):
    kind, files = CASES[case]
    paths = [EXPORTS / f for f in files]
    missing = [str(p) for p in paths if not p.exists()]
    assert not missing, missing
    result = import_files(kind, [str(p) for p in paths], name="timp")
    raw = result.lab
    assert raw["instances"], result.warnings
    lab = sgnet_lab(raw)
    for family in (4, 6):
        m = lab.matrix(PORTS, family=family)
        if family == 4:
            assert m["summary"]["total"] > 0
        assert m["summary"]["wrong"] == 0, [r for r in m["results"] if not r.match]


def test_huawei_servers_keep_their_real_addresses_and_groups(sgnet_lab):
    result = import_files("huawei", [str(EXPORTS / f) for f in CASES["huawei-servers"][1]],
                          name="timp")
    by_name = {i["name"]: i for i in result.lab["instances"]}
    two = by_name["ecs-5e70"]
    assert two["ip"] == "192.168.0.206" and len(two["security_groups"]) == 2
    assert two["secondary_enis"][0]["ip"] == "192.168.0.8"
    lab = sgnet_lab(result.lab)
    # the instance in two groups: each group's members reach it as the groups say
    for other in by_name:
        if other != "ecs-5e70":
            v = lab.probe(other, "ecs-5e70", "tcp/22")
            assert v.match, dict(v)

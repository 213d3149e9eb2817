"""`sgnet import --from terraform` on Terraform HCL (.tf files and directories):
sgnet.io.importers.hcl and the readers it feeds. The samples in tests/exports/terraform_hcl/
are real public files (SOURCES.md says where each came from), except `handwritten/`.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from sgnet.core.errors import LabError
from sgnet.io.importers import hcl
from sgnet.io.importers.files import import_files

HCL = Path(__file__).parents[1] / "exports" / "terraform_hcl"


def run(sample, variables=(), var_files=()):
    res = import_files("terraform", [str(HCL / sample)], "t", list(variables), list(var_files))
    return res.lab, res.warnings


def group(lab, name):
    return next(g for g in lab["security_groups"] if g["name"] == name)


def instance(lab, name):
    return next(i for i in lab["instances"] if i["name"] == name)


def subnets(lab):
    return {s["name"]: s["cidr"] for v in lab["vpcs"] for s in v["subnets"]}


def test_huawei_secgroup_example():
    lab, warnings = run("hw_secgroup")
    g = group(lab, "secgroup-basic")
    rules = g["rules"]
    assert [(r["protocol"], r.get("ports")) for r in rules if r["direction"] == "ingress"
            and r.get("remote") == "0.0.0.0/0"] == [("icmp", None), ("tcp", "443")]


def test_huawei_rules_from_tfvars_with_count_and_lookup():
    lab, warnings = run("hw_security_group")
    g = group(lab, "tf_test_security_group")  # terraform.tfvars in the directory
    assert len(g["rules"]) == 4
    tcp = next(r for r in g["rules"] if r["protocol"] == "tcp")
    assert tcp["ports"] == "22-23,443,3389,30100-30130" and tcp["remote"] == "0.0.0.0/0"
    assert {(r["direction"], r["ethertype"]) for r in g["rules"]} == {
        ("ingress", "IPv4"), ("egress", "IPv4"), ("egress", "IPv6")}
    assert warnings == []


def test_huawei_instance_subnet_cidr_from_functions():
    lab, _ = run("hw_ecs_basic")  # cidrsubnet(huaweicloud_vpc.test.cidr, 8, 0)
    assert subnets(lab) == {"tf_test_subnet": "192.168.0.0/24"}
    i = instance(lab, "tf_test_instance")
    assert i["subnet"] == "tf_test_subnet" and i["security_groups"] == ["tf_test_security_group"]
    assert [r["direction"] for r in group(lab, "tf_test_security_group")["rules"]] == ["egress"]


def test_huawei_attached_interface_is_a_secondary_eni():
    lab, _ = run("hw_attached_interface")  # count = length(var...), try(coalesce(...))
    assert sorted(subnets(lab).values()) == ["192.168.0.0/24", "192.168.1.0/24"]
    (i,) = lab["instances"]
    assert i["subnet"] == "tf_test_main"
    assert [e["subnet"] for e in i["secondary_enis"]] == ["tf_test_standby"]


def test_huawei_undeclared_group_is_named_after_the_reference():
    lab, warnings = run("hw_secgroup_rule_doc")  # security_group_id = var.security_group_id
    g = group(lab, "var.security_group_id")
    assert [(r["protocol"], r["ports"]) for r in g["rules"]] == [("tcp", "8080")]
    assert any("security_group_id = var.security_group_id cannot be evaluated" in w and
               "named after the reference" in w for w in warnings)
    lab, _ = run("hw_secgroup_rule_doc", ["security_group_id=sg-web"])
    assert group(lab, "sg-web")["rules"][0]["ports"] == "8080"


def test_heredoc_with_indented_closing_marker_parses():
    _, doc, warnings = hcl.plan_document([str(HCL / "hw_vpcep_heredoc")])
    (res,) = doc.value["planned_values"]["root_module"]["resources"]
    assert '"Version": "5.0"' in res["values"]["policy_document"]
    assert res["values"]["policy_document"].rstrip().endswith("}")
    assert any("var.vpc_id has no default" in w for w in warnings)


def test_alicloud_example_rules_and_unnamed_group():
    lab, warnings = run("ali_security_group")
    (g,) = lab["security_groups"]
    assert sorted(r["ports"] for r in g["rules"]) == ["22", "80"]
    assert all(r["remote"] == "0.0.0.0/0" and r["priority"] == 1 for r in g["rules"])
    # the example sets vpc_name on the group (not a group argument): the group has no name
    assert any("its name is not in the export" in w for w in warnings)


def test_alicloud_ecs_new_vpc_instances_by_count_and_format():
    lab, warnings = run("ali_ecs_new_vpc")
    assert sorted(i["name"] for i in lab["instances"]) == ["TF-ECS-Instance-01",
                                                           "TF-ECS-Instance-02"]
    assert subnets(lab) == {"TF_VSwitch": "172.16.0.0/16"}
    g = group(lab, "TF_Security_Group")
    assert all(i["security_groups"] == ["TF_Security_Group"] for i in lab["instances"])
    assert g["rules"] == []  # ip_protocols defaults to []: count = 0
    lab, _ = run("ali_ecs_new_vpc", ['ip_protocols=["tcp","udp"]',
                                     'port_ranges=["22/22","53/53"]', 'priorities=[5]'])
    rules = group(lab, "TF_Security_Group")["rules"]
    assert [(r["protocol"], r["ports"], r["priority"], r["remote"]) for r in rules] == [
        ("tcp", "22", 5, "0.0.0.0/0"), ("udp", "53", 1, "0.0.0.0/0")]


def test_alicloud_eni_attachment_doc_example():
    lab, _ = run("ali_eni_attachment")  # count = var.number, element(...*.id, count.index)
    assert len(lab["instances"]) == 2
    for i in lab["instances"]:
        (eni,) = i["secondary_enis"]
        assert eni["subnet"] == i["subnet"]
        assert eni.get("security_groups", i["security_groups"]) == i["security_groups"]


def test_alicloud_module_with_local_modules_and_data_source():
    lab, warnings = run("ali_sg_module/examples/http")
    names = [g["name"] for g in lab["security_groups"]]
    assert names == ["http-sg", "http-mysql-1", "http-mysql-2", "http-with-egress-minimal",
                     "http-with-egress"]
    assert [(r["ports"], r["remote"]) for r in group(lab, "http-mysql-1")["rules"]] == [
        ("80", "0.0.0.0/0"), ("3306", "0.0.0.0/0")]
    egress = group(lab, "http-with-egress")["rules"]
    assert [(r["direction"], r["protocol"], r["remote"]) for r in egress] == [
        ("egress", "all", "10.10.10.0/28")]
    # ingress_cidr_blocks = [data.alicloud_vpcs.default.vpcs[0].cidr_block]: warned, dropped
    assert group(lab, "http-mysql-2")["rules"] == []
    assert any("http_mysql_2_sg.module.sg.alicloud_security_group_rule.ingress_rules[0]: "
               "cidr_ip" in w and "data source data.alicloud_vpcs.default" in w
               for w in warnings)


def test_handwritten_configuration():
    lab, warnings = run("handwritten", ['open_ports=["22","8080"]'])
    assert subnets(lab) == {"prod-sw-0": "10.20.1.0/24", "prod-sw-1": "10.20.2.0/24"}
    web = group(lab, "prod-web")  # env from terraform.tfvars, name from a local
    # a description's line break is written escaped (normaliser: printable)
    assert web["description"] == "web tier of prod\\nmanaged by terraform"
    assert [(r["ports"], r["priority"]) for r in web["rules"] if r["protocol"] == "tcp"] == [
        ("22", 10), ("8080", 10)]
    assert [r["remote_group"] for r in group(lab, "db")["rules"]] == ["prod-web"]
    assert group(lab, "var.sg_id")["rules"][0]["ports"] == "443"
    app1 = instance(lab, "app-1")
    assert (app1["subnet"], app1["ip"], app1["security_groups"]) == (
        "prod-sw-1", "10.20.2.10", ["prod-web", "db"])
    assert any("alicloud_security_group_rule.zones: count = length(data.alicloud_zones.z.zones)"
               " cannot be evaluated" in w and "one instance assumed" in w for w in warnings)


def test_var_file_and_var_override(tmp_path):
    extra = tmp_path / "x.tfvars"
    extra.write_text('env = "stage"\nopen_ports = ["25"]\n')
    lab, _ = run("handwritten", ["env=dev"], [str(extra)])
    web = group(lab, "dev-web")  # --var wins over --var-file, which wins over tfvars
    assert [r["ports"] for r in web["rules"] if r["protocol"] == "tcp"] == ["25"]


@pytest.mark.parametrize("arg, message", [
    ("novalue", "expected NAME=VALUE"), ("nope=1", "no variable 'nope' is declared"),
    ("open_ports=[1,", "not a valid HCL literal")])
def test_bad_var_is_refused(arg, message):
    with pytest.raises(LabError, match=message):
        run("handwritten", [arg])


def test_invalid_hcl_names_file_and_line(tmp_path):
    bad = tmp_path / "main.tf"
    bad.write_text('resource "alicloud_security_group" "g" {\n  name = \n}\n')
    with pytest.raises(LabError, match=r"main.tf: not valid HCL \(line 2"):
        import_files("terraform", [str(bad)], "t")


def test_cli_var_options(tmp_path):
    out = tmp_path / "lab.yaml"
    cmd = [sys.executable, "-m", "sgnet", "import", "--from", "terraform",
           str(HCL / "hw_secgroup_rule_doc"), "-o", str(out), "--var", "security_group_id=sg-x"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "name: sg-x" in out.read_text()
    bad = subprocess.run(cmd[:-1] + ["oops"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "expected NAME=VALUE" in bad.stderr


# -- further real files (SOURCES.md): provider docs, module repositories, projects ----------

def rules_of(lab, name):
    return [(r["direction"], r["action"], r["priority"], r["ethertype"], r["protocol"],
             r.get("ports"), r.get("remote") or r.get("remote_group")
             or r.get("remote_prefix_list")) for r in group(lab, name)["rules"]]


def test_alicloud_rule_doc_example():
    lab, warnings = run("ali_sgrule_doc")  # port_range 1/65535: every TCP port
    assert rules_of(lab, "default") == [("ingress", "allow", 1, "IPv4", "tcp", None,
                                         "0.0.0.0/0")]
    assert warnings == []


def test_alicloud_rules_old_interpolation_syntax_default_priority():
    lab, warnings = run("ali_hashicorp_sgrule")  # "${...}" references, variables.tf default
    assert rules_of(lab, "default-sg") == [
        ("ingress", "allow", 1, "IPv4", "tcp", "80", "0.0.0.0/0"),
        ("ingress", "allow", 1, "IPv4", "tcp", "22", "0.0.0.0/0")]
    assert all("nic_type internet" in w for w in warnings) and len(warnings) == 2


def test_alicloud_rules_of_an_undeclared_group_no_priority():
    lab, warnings = run("ali_fullfastfail_sg")  # priority omitted: the documented 1
    g = lab["security_groups"][0]
    assert [(r["priority"], r["ports"]) for r in g["rules"]] == [(1, "1-100"), (1, "101-65535")]
    assert any("alicloud_security_group.default is not declared" in w for w in warnings)


def test_alicloud_instance_doc_splat_membership():
    lab, _ = run("ali_instance_doc")  # security_groups = alicloud_security_group.group.*.id
    i = instance(lab, "terraform-example")
    assert i["security_groups"] == ["terraform-example"]
    assert subnets(lab) == {"terraform-example": "172.16.0.0/24"}


def test_alicloud_eni_doc_unattached_eni_is_warned():
    lab, warnings = run("ali_ecs_eni_doc")
    assert subnets(lab) == {"tf-example": "192.168.0.0/24"}
    assert any("alicloud_ecs_network_interface.default: is attached to no instance" in w
               for w in warnings)


def test_alicloud_vpc_ecs_eip_module_example():
    lab, _ = run("ali_vpc_ecs_eip/examples/complete")
    assert subnets(lab) == {"tf-vpc-ecs-eip": "172.16.0.0/18"}
    assert instance(lab, "tf-vpc-ecs-eip")["security_groups"] == ["tf-vpc-ecs-eip"]


def test_alicloud_element_of_unknown_list_and_instance_network_interfaces():
    """element(distinct(compact(concat([var.vswitch_id], var.vswitch_ids))), count.index)
    with an apply-time vswitch id still names the vswitch; network_interfaces {
    network_interface_id } attaches the ENI to the instance (alicloud_instance docs)."""
    from sgnet.io.importers.files import import_files as imp_files
    res = imp_files("terraform", [str(HCL / "ali_ecs_module/examples/basic")], "t", [], [])
    assert not any("is attached to no instance" in w for w in res.warnings)
    # the example's two VPCs are both 172.16.0.0/12 (the cloud allows it, a lab cannot hold
    # it): the second is left out, warned, and only its one instance is moved; the other
    # twelve keep their vswitch
    assert [w for w in res.warnings if "overlaps" in w] and all(
        "alicloud_vpc.ipv6" in w for w in res.warnings if "overlaps" in w)
    moved = [w for w in res.warnings if "its subnet" in w and "is not in the export" in w]
    assert len(moved) == 1 and "ecs_with_ipv6_address" in moved[0]
    exported = {i["name"]: i for i in res.lab["instances"]}
    assert exported["example-normal"]["subnet"] == "default"
    assert len(exported) == 13


def test_huawei_module_group_gets_default_rules():
    lab, warnings = run("hw_tg_network/env/dev/network")  # no delete_default_rules
    rules = rules_of(lab, "dev-secgroup")
    assert rules[:4] == [
        ("ingress", "allow", 100, "IPv4", "all", None, "dev-secgroup"),
        ("ingress", "allow", 100, "IPv6", "all", None, "dev-secgroup"),
        ("egress", "allow", 100, "IPv4", "all", None, "0.0.0.0/0"),
        ("egress", "allow", 100, "IPv6", "all", None, "::/0")]
    assert rules[4:] == [("ingress", "allow", 1, "IPv4", "tcp", "80", "0.0.0.0/0"),
                         ("ingress", "allow", 1, "IPv4", "tcp", "22", "0.0.0.0/0"),
                         ("egress", "allow", 1, "IPv4", "tcp", None, "0.0.0.0/0")]


def test_huawei_v2_module_count_lookup_rules():
    lab, warnings = run("hw_sg_module/examples/sg_basic")  # delete_default_rules default true
    assert rules_of(lab, "testSG") == [
        ("ingress", "allow", 1, "IPv4", "tcp", "22", "0.0.0.0/0"),
        ("ingress", "allow", 1, "IPv4", "tcp", "443", "0.0.0.0/0")]
    assert warnings == []


def test_huawei_rule_doc_ports_priority_address_group():
    lab, _ = run("hw_rule_address_group_doc", ["group_name=ag", "security_group_id=sg-1"])
    assert rules_of(lab, "sg-1") == [("ingress", "allow", 5, "IPv4", "tcp", "80,500,600-800",
                                      "ag")]
    pl = next(p for p in lab["prefix_lists"] if p["name"] == "ag")
    assert pl["entries"][0] == "192.168.10.12/32" and pl["entries"][-1] == "192.168.11.240/32"


def test_huawei_walrus_secgroup_ports_list():
    lab, _ = run("hw_walrus_secgroup", ["secgroup_name=web"])
    rules = rules_of(lab, "web")
    assert ("ingress", "allow", 1, "IPv4", "tcp", "22,80,443,3389", "0.0.0.0/0") in rules
    assert ("egress", "allow", 1, "IPv6", "all", None, None) in rules


def test_huawei_json_var_file_and_optional_attribute_defaults():
    """--var-file variables.json (JSON, as terraform -var-file reads it) and the module's
    list(object({... optional(string, "ingress") ...})) defaults (Terraform type
    constraints): priority 0 means unset (the module passes null): the provider's 1."""
    d = "hw_vpc_module/examples/simple_security_group_rules"
    lab, warnings = run(d, var_files=[str(HCL / d / "variables.json")])
    assert rules_of(lab, "demo") == [
        ("ingress", "allow", 1, "IPv4", "all", None, "demo"),
        ("ingress", "deny", 100, "IPv6", "tcp", "22", "::/0"),
        ("ingress", "allow", 100, "IPv4", "tcp", "30000", "0.0.0.0/0"),
        ("ingress", "allow", 1, "IPv4", "icmp", None, "0.0.0.0/0")]
    assert warnings == []


def test_json_var_file_errors(tmp_path):
    bad = tmp_path / "v.json"
    bad.write_text("[1]")
    with pytest.raises(LabError, match="v.json: a .tfvars.json file holds one JSON object"):
        run("hw_walrus_secgroup", var_files=[str(bad)])
    bad.write_text("{")
    with pytest.raises(LabError, match="v.json: not valid JSON"):
        run("hw_walrus_secgroup", var_files=[str(bad)])


def test_auto_tfvars_json_and_optional_without_default(tmp_path):
    """Hand-written (not a real file): terraform.tfvars.json is loaded like terraform.tfvars;
    optional(string) with no default is null (the rule's remote then is every address)."""
    (tmp_path / "main.tf").write_text('''
variable "name" {}
variable "rules" {
  type = list(object({ port = number, cidr = optional(string) }))
}
resource "huaweicloud_networking_secgroup" "g" {
  name                 = var.name
  delete_default_rules = true
}
resource "huaweicloud_networking_secgroup_rule" "r" {
  count             = length(var.rules)
  security_group_id = huaweicloud_networking_secgroup.g.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  ports             = var.rules[count.index].port
  remote_ip_prefix  = var.rules[count.index].cidr
}
''')
    (tmp_path / "terraform.tfvars.json").write_text(
        '{"name": "web", "rules": [{"port": 22, "cidr": "10.0.0.0/8", "extra": 1}, '
        '{"port": "443"}]}')
    res = import_files("terraform", [str(tmp_path)], "t", [], [])
    assert [(r["ports"], r.get("remote")) for r in group(res.lab, "web")["rules"]] == [
        ("22", "10.0.0.0/8"), ("443", None)]
    assert res.warnings == []


def test_huawei_two_vpcs_rules_from_tfvars_objects_with_null_ports():
    lab, _ = run("hw_nat_vpc_peering")  # no delete_default_rules: Huawei's 4 default rules
    rules = rules_of(lab, "secgroup-example")
    assert len(rules) == 7 and all(r[2] == 100 for r in rules[:4])
    assert rules[4:] == [("ingress", "allow", 1, "IPv4", "tcp", "22", "1.2.3.4/32"),
                         ("ingress", "allow", 1, "IPv4", "tcp", "80,443", "0.0.0.0/0"),
                         ("ingress", "allow", 1, "IPv4", "icmp", None, "0.0.0.0/0")]
    assert subnets(lab) == {"my-subnet-one": "192.168.1.0/24",
                            "my-subnet-other": "10.0.2.0/24"}
    assert instance(lab, "my-instance-other")["security_groups"] == ["secgroup-example"]


def test_huawei_dnat_backend_port_range_from_variables():
    lab, _ = run("hw_nat_dnat")  # delete_default_rules = true
    assert rules_of(lab, "sg-dnat-backend") == [
        ("ingress", "allow", 1, "IPv4", "tcp", "2288", "192.168.0.0/16"),
        ("egress", "allow", 1, "IPv4", "all", None, "0.0.0.0/0")]
    assert instance(lab, "ecs-dnat-backend")["subnet"] == "subnet-dnat-basic"

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

"""A third provider is its own module and one registration line (README, Layout).

The profile below stands for one (AWS-like: allow rules only, an ENI's groups a union,
deny by default). Registered in PROFILES and nowhere else, it is a `provider:` value of the
lab file, its rules are validated by its own check, and the evaluator, the compiler, lint and
the report work from it unchanged.
"""

import pytest

from sgnet import providers
from sgnet.core import labspec
from sgnet.core.compiler import Compiler
from sgnet.core.errors import FieldError
from sgnet.core.evaluator import Evaluator
from sgnet.core.lint import lint
from sgnet.core.model import Group
from sgnet.io.report.page import render
from sgnet.providers.base import DecisionList, Profile, entry_from_rule


class AllowOnlyProfile(Profile):
    """Allow rules only; every rule of every group of the ENI counts (a union, so order
    does not matter); what no rule allows is denied."""

    def __init__(self):
        super().__init__(name="allowonly", default_group="default", default_priority=1,
                         default_rules=False)

    def builtin_groups(self):
        return [Group("default", rules=[], builtin=True, description="the provider's own")]

    def new_group_rules(self, group):
        return []

    def decision_list(self, lab, eni, direction):
        entries = [entry_from_rule(lab.groups[g], i, r) for g in eni.groups
                   for i, r in enumerate(lab.groups[g].rules) if r.direction == direction]
        return DecisionList(entries, "deny", f"no {direction} rule allowed it: denied")

    def validate(self, lab, raw, fail):
        for gi, g in enumerate(raw.get("security_groups") or []):
            for ri, r in enumerate(g.get("rules") or []):
                if r.get("action", "allow") != "allow":
                    fail(f"security_groups[{gi}].rules[{ri}].action",
                         "this provider's groups hold allow rules only", r.get("action"))


LAB = {
    "name": "tthird",
    "provider": "allowonly",
    "vpcs": [{"name": "v", "cidr": "10.7.0.0/16",
              "subnets": [{"name": "s", "cidr": "10.7.1.0/24"}]}],
    "externals": [{"name": "office", "ip": "203.0.113.7"},
                  {"name": "internet", "ip": "198.51.100.9"}],
    "security_groups": [
        {"name": "ssh", "rules": [
            {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": 22,
             "remote": "203.0.113.0/24"}]},
        {"name": "web", "rules": [
            {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": 443,
             "remote": "0.0.0.0/0"},
            {"direction": "egress", "action": "allow", "protocol": "all",
             "remote": "0.0.0.0/0"}]},
    ],
    "instances": [{"name": "web1", "subnet": "s", "security_groups": ["ssh", "web"]}],
}


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(providers.PROFILES, "allowonly", AllowOnlyProfile)


def test_the_registration_line_is_all_it_takes(registered):
    lab = labspec.parse(LAB, "third.yaml")
    ev = Evaluator(lab)
    assert ev.evaluate("office", "web1", 6, 22).verdict == "allow"
    assert ev.evaluate("internet", "web1", 6, 22).verdict == "deny"
    assert ev.evaluate("internet", "web1", 6, 443).verdict == "allow"
    assert ev.evaluate("office", "web1", 17, 53).verdict == "deny"
    ruleset = Compiler(lab).compile_instance(lab.instance("web1"))
    comments = [c["add"]["rule"].get("comment", "") for c in ruleset["nftables"]
                if "rule" in c.get("add", {})]
    assert any("ssh rule 0" in c for c in comments) and any("web rule 0" in c for c in comments)
    assert isinstance(lint(lab), list)
    matrix = {"family": 4, "results": [], "summary": {"total": 0, "wrong": 0}}
    assert "tthird" in render(lab, matrix)


def test_its_own_check_refuses_in_the_words_of_the_file(registered):
    bad = dict(LAB, security_groups=[{"name": "x", "rules": [
        {"direction": "ingress", "action": "deny", "protocol": "tcp", "ports": 22,
         "remote": "0.0.0.0/0"}]}], instances=[])
    with pytest.raises(FieldError) as e:
        labspec.parse(bad, "third.yaml")
    assert str(e.value).startswith("third.yaml: security_groups[0].rules[0].action: this "
                                   "provider's groups hold allow rules only")


def test_unregistered_it_is_an_unknown_provider():
    with pytest.raises(FieldError, match=r"third.yaml: provider: .*allowonly"):
        labspec.parse(LAB, "third.yaml")

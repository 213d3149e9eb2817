"""Change planning (sgnet.core.changeplan), without the kernel: which namespaces a live
change touches and how, and which tracked sessions it cuts."""

import copy
from pathlib import Path

import yaml

from sgnet.core import changeplan, changes
from sgnet.core.compiler import Compiler, set_name
from sgnet.core.ctentry import CtEntry
from sgnet.core.evaluator import Evaluator
from sgnet.core import labspec

GOLDEN = Path(__file__).parents[1] / "labs" / "golden.yaml"


def _lab(raw):
    return labspec.parse(copy.deepcopy(raw), "golden.yaml")


def _raw():
    return yaml.safe_load(GOLDEN.read_text())


def test_no_change_no_transaction():
    lab = _lab(_raw())
    assert changeplan.plan(lab, _lab(_raw())) == {}


def test_a_new_rule_recompiles_exactly_the_members_of_its_group():
    old = _lab(_raw())
    raw = changes.rule_add(_raw(), old, "db", {"direction": "ingress", "action": "allow",
                                                 "protocol": "tcp", "ports": "6379",
                                                 "remote": "10.20.0.0/16"})
    new = _lab(raw)
    plan = changeplan.plan(old, new)
    assert sorted(plan) == ["db1", "web1"]  # web1's second ENI is in db
    for name, tx in plan.items():
        # a diff of the two compiled rulesets, in the lab's table: it mentions the new port
        assert "6379" in str(tx)
        assert tx != Compiler(new).compile_instance(new.instance(name))


def test_joining_a_group_updates_the_member_set_of_those_who_reference_it():
    old = _lab(_raw())
    new = _lab(changes.attach(_raw(), old, "db1", "web"))
    plan = changeplan.plan(old, new)
    # db1 itself is recompiled; web1 (whose db ENI admits members of web) only sees the
    # set of web's members grow by db1's address
    assert "db1" in plan and "nftables" in plan["web1"]
    assert plan["web1"]["nftables"] == [{"add": {"element": {
        "family": "inet", "table": "tgold", "name": set_name("g", "web", 4),
        "elem": ["10.20.2.20"]}}}]


def test_leaving_a_group_deletes_the_address_from_the_set():
    raw = _raw()
    raw["instances"][1]["security_groups"] = ["db", "web"]
    old = _lab(raw)
    new = _lab(changes.detach(copy.deepcopy(raw), old, "db1", "web"))
    cmds = changeplan.plan(old, new)["web1"]["nftables"]
    assert [list(c) for c in cmds] == [["delete"]]
    assert cmds[0]["delete"]["element"]["elem"] == ["10.20.2.20"]


def _entry(src, dst, dport, protocol=6):
    return CtEntry(family=4, protocol=protocol, src=src, dst=dst, sport=40000, dport=dport)


def test_sessions_now_denied_are_cut_the_others_kept():
    lab = _lab(_raw())
    ev = Evaluator(lab)
    db1 = lab.instance("db1")
    from_web = _entry("10.20.1.10", "10.20.2.20", 5432)  # web1 (in web) -> db: allowed
    from_db = _entry("10.20.2.10", "10.20.2.20", 5432)  # web1's db ENI: not in web
    elsewhere = _entry("10.9.9.9", "10.9.9.8", 5432)  # neither end is db1's
    cut = changeplan.sessions_to_cut(ev, db1, [from_web, from_db, elsewhere])
    assert cut == [from_db]


def test_huawei_rechecks_ingress_only():
    lab = _lab(_raw())
    ev = Evaluator(lab)
    assert ev.profile.recheck == ("ingress",)
    # db1 starting a session the egress rules would now deny (outside 10.20/16): kept,
    # as Huawei re-checks only the direction that admitted a connection
    out = _entry("10.20.2.20", "192.0.2.1", 443)
    assert changeplan.sessions_to_cut(ev, lab.instance("db1"), [out]) == []

"""Where the documents disagree (sgnet.core.readings): the readings as data, their settings
checked, the evaluator judging a flow under each, and explain, matrix, diff and report
saying when a verdict depends on the reading. Hand-written labs (not real samples)."""

import copy
import json

import pytest

from sgnet import cli_format
from sgnet.core.probes import ProbeResult
from sgnet.core import classes, classview, flows, labspec, lint, readings
from sgnet.core.compiler import Compiler
from sgnet.core.errors import FieldError, LabError
from sgnet.core.evaluator import Evaluator
from sgnet.io.report.matrix import cell_title, matrix_html

from helpers.reading_labs import alibaba_raw, huawei_raw

TCP = 6


def parse(raw):
    return labspec.parse(copy.deepcopy(raw), "lab.yaml")


# -- the data ---------------------------------------------------------------------------------
def test_every_reading_has_values_with_sources_and_a_default():
    for r in readings.READINGS:
        assert r.provider in ("huawei", "alibaba")
        assert len(r.values) >= 2 and r.default == r.values[0].name
        for v in r.values:
            assert v.meaning and v.sources
            assert all(s.url and s.title and s.says for s in v.sources)
    assert readings.settings("huawei") == ["huawei_group_order"]
    assert readings.settings("alibaba") == ["alibaba_tcp25_outbound"]
    assert readings.BY_SETTING["huawei_group_order"].default == "sequential"
    assert readings.BY_SETTING["alibaba_tcp25_outbound"].default == "blocked"


def test_the_readme_table_is_written_from_the_data():
    table = readings.readme_table()
    for r in readings.READINGS:
        assert r.question in table
        for v in r.values:
            assert f"`{v.name}`" in table
            assert all(s.url in table for s in v.sources)
    assert len(table.splitlines()) == 2 + len(readings.READINGS)


# -- the settings -----------------------------------------------------------------------------
def test_a_setting_takes_its_values_and_defaults_to_the_best_supported():
    assert parse(huawei_raw()).settings == {}
    assert readings.value(parse(huawei_raw()), "huawei_group_order") == "sequential"
    for order in ("sequential", "aggregated"):
        assert readings.value(parse(huawei_raw(order)), "huawei_group_order") == order
    assert readings.value(parse(alibaba_raw("open")), "alibaba_tcp25_outbound") == "open"


def test_a_bad_reading_is_refused_naming_file_field_value_and_the_allowed():
    with pytest.raises(FieldError) as e:
        parse(huawei_raw("parallel"))
    text = str(e.value)
    assert text.startswith("lab.yaml: settings.huawei_group_order: ")
    assert "'parallel'" in text and "sequential, aggregated" in text
    assert isinstance(e.value, LabError)  # exit code 2


def test_a_setting_of_another_provider_is_refused_not_ignored():
    raw = alibaba_raw()
    raw["settings"] = {"huawei_group_order": "aggregated"}
    with pytest.raises(FieldError, match=r"settings.huawei_group_order: applies to provider "
                                         r"huawei only; this lab's provider is alibaba"):
        parse(raw)
    raw = huawei_raw()
    raw["settings"] = {"alibaba_tcp25_outbound": "open"}
    with pytest.raises(FieldError, match=r"settings.alibaba_tcp25_outbound: applies to "
                                         r"provider alibaba only"):
        parse(raw)


# -- huawei: group by group, or all together --------------------------------------------------
def test_huawei_the_two_readings_give_another_verdict_and_each_names_the_other():
    seq = Evaluator(parse(huawei_raw()))
    agg = Evaluator(parse(huawei_raw("aggregated")))
    a, b = seq.evaluate("net", "vm1", TCP, 22), agg.evaluate("net", "vm1", TCP, 22)
    assert (a.verdict, a.decided_by.group) == ("allow", "open")
    assert (b.verdict, b.decided_by.group) == ("deny", "closed")
    [other] = a.readings
    assert (other.setting, other.value, other.lab_value, other.verdict) == \
        ("huawei_group_order", "aggregated", "sequential", "deny")
    assert other.decided_by.group == "closed"
    [other] = b.readings
    assert (other.value, other.lab_value, other.verdict) == ("sequential", "aggregated",
                                                            "allow")
    # one group (vm2), or a port no rule of `closed` names: the readings agree
    for ev in (seq, agg):
        assert ev.evaluate("net", "vm2", TCP, 22).readings == []
        assert ev.evaluate("net", "vm1", TCP, 80).readings == []
        assert ev.evaluate("vm1", "net", TCP, 22).readings == []


def test_huawei_aggregated_sorts_every_rule_of_the_eni_by_priority_then_deny():
    lab = parse(huawei_raw("aggregated"))
    ev = Evaluator(lab)
    dl = ev.decision_list(lab.instance("vm1").primary, "ingress")
    assert [(e.group, e.action) for e in dl.entries] == [("closed", "deny"), ("open", "allow")]
    lab = parse(huawei_raw())
    dl = Evaluator(lab).decision_list(lab.instance("vm1").primary, "ingress")
    assert [(e.group, e.action) for e in dl.entries] == [("open", "allow"), ("closed", "deny")]


def test_the_compiler_follows_the_reading_the_evaluator_uses():
    for order, first in (("sequential", "open rule 0"), ("aggregated", "closed rule 0")):
        lab = parse(huawei_raw(order))
        rules = [c["add"]["rule"] for c in Compiler(lab).compile_instance(
            lab.instance("vm1"))["nftables"] if "rule" in c.get("add", {})]
        chain = [r["comment"] for r in rules if r["chain"].startswith("in_")]
        assert chain[0] == first


def test_the_other_readings_cost_nothing_where_they_cannot_differ():
    raw = huawei_raw()
    raw["instances"][0]["security_groups"] = ["open"]
    ev = Evaluator(parse(raw))
    assert ev.others() == []  # no ENI in two groups: no other lab, no other lists
    ev = Evaluator(parse(huawei_raw()))
    ev.evaluate("net", "vm2", TCP, 22)
    [other] = ev.others()
    assert other.diffs == {("vm2", 0, "ingress"): None}  # one group: its list not even made
    assert other.evaluator._lists == {}


# -- alibaba: outbound TCP 25 -----------------------------------------------------------------
def test_alibaba_tcp25_outbound_blocked_by_default_open_as_a_reading():
    blocked, opened = Evaluator(parse(alibaba_raw())), Evaluator(parse(alibaba_raw("open")))
    a = blocked.evaluate("vm1", "net", TCP, 25)
    assert a.verdict == "deny" and a.decided_by.group is None
    assert "alibaba_tcp25_outbound: blocked" in a.decided_by.why
    [other] = a.readings
    assert (other.value, other.lab_value, other.verdict) == ("open", "blocked", "allow")
    b = opened.evaluate("vm1", "net", TCP, 25)
    assert b.verdict == "allow" and b.readings[0].verdict == "deny"
    for ev in (blocked, opened):
        assert ev.evaluate("vm1", "net", TCP, 587).readings == []  # other ports
        assert ev.evaluate("vm1", "vm2", TCP, 25).verdict == "allow"  # inside the VPC
        assert ev.evaluate("vm1", "vm2", TCP, 25).readings == []
        assert ev.evaluate("net", "vm1", TCP, 25).readings == []  # inbound


def test_alibaba_tcp25_block_is_one_entry_per_external_address_before_the_groups():
    lab = parse(alibaba_raw())
    dl = Evaluator(lab).decision_list(lab.instance("vm1").primary, "egress")
    inner = 2  # then the basic group's members reach each other, IPv4 and IPv6
    assert [(e.action, e.protocol, e.ports, e.remote.value, e.group)
            for e in dl.entries[:-inner]] == \
        [("deny", TCP, ((25, 25),), "203.0.113.10/32", None),
         ("deny", TCP, ((25, 25),), "2001:db8::10/128", None)]
    lab = parse(alibaba_raw("open"))
    assert len(Evaluator(lab).decision_list(lab.instance("vm1").primary, "egress").entries) \
        == inner


# -- what the product says ------------------------------------------------------------------------
def _records(ev, flow_list, observed=None):
    exps = [flows.expectation(ev, *f) for f in flow_list]
    return [flows.verdict_record(e, ProbeResult(observed or e.verdict, "test", "",
                                                e.decided_by.to_dict()), ev.lab)
            for e in exps]


def test_explain_says_the_verdict_depends_on_the_reading():
    ev = Evaluator(parse(huawei_raw()))
    e = flows.explanation(flows.expectation(ev, "net", "vm1", TCP, 22, 4))
    [r] = e["readings"]
    assert r["setting"] == "huawei_group_order" and r["value"] == "aggregated"
    assert r["verdict"] == "deny" and r["decided_by"]["group"] == "closed"
    assert r["sources"] == readings.source_urls("huawei_group_order", "aggregated")
    json.dumps(e)
    text = cli_format.format_explain(e)
    assert "depends on the reading: with huawei_group_order: aggregated (this lab: " \
           "sequential) it would be deny" in text
    plain = flows.explanation(flows.expectation(ev, "net", "vm2", TCP, 22, 4))
    assert "readings" not in plain and "depends on" not in cli_format.format_explain(plain)


def test_matrix_marks_the_flows_that_depend_on_the_reading():
    lab = parse(huawei_raw())
    ev = Evaluator(lab)
    records = _records(ev, flows.matrix_flows(lab, ["tcp/22"], 4))
    m = flows.matrix_result(lab.name, records)
    assert m["summary"]["reading_dependent"] == 2
    marked = [r for r in records if r.get("readings")]
    assert [(r["src"], r["dst"]) for r in marked] == [("vm2", "vm1"), ("net", "vm1")]
    text = cli_format.format_matrix(m)
    assert "allow*" in text and "X* = the documents can be read another way" in text
    assert "verdicts that depend on the reading (2):" in text
    assert "net -> vm1 tcp/22: expected allow; depends on the reading" in text
    plain = flows.matrix_result("x", [r for r in records if not r.get("readings")])
    assert "reading_dependent" not in plain["summary"]
    assert "*" not in cli_format.format_matrix(plain)


def test_a_probe_without_syn_depends_on_no_reading():
    ev = Evaluator(parse(huawei_raw()))
    exp = flows.with_tcp_flags(flows.expectation(ev, "net", "vm1", TCP, 22, 4), "A")
    assert exp.verdict == "deny" and exp.readings == []


def test_report_marks_the_cell_and_has_a_legend():
    lab = parse(huawei_raw())
    records = _records(Evaluator(lab), flows.matrix_flows(lab, ["tcp/22"], 4))
    html = matrix_html(lab, flows.matrix_result(lab.name, records))
    assert html.count('class="cell allow reading"') == 2 and "✓*" in html
    assert 'id="readings-legend"' in html and "huawei_group_order" in html
    dep = next(r for r in records if r.get("readings"))
    assert "* with huawei_group_order: aggregated (this lab: sequential): deny" in \
        cell_title(dep)
    plain = [r for r in records if not r.get("readings")]
    assert "readings-legend" not in matrix_html(lab, flows.matrix_result(lab.name, plain))


def test_diff_rows_carry_the_readings_of_the_new_groups():
    old = huawei_raw()
    old["instances"][0]["security_groups"] = ["closed"]  # before: denied, one group
    after = classes.Analysis(Evaluator(parse(huawei_raw())))  # after: allowed by `open`
    moved = classes.changes(classes.Analysis(Evaluator(parse(old))), after, (4,))
    records = [classview.record(after, c, ("before", "after")) for c in moved]
    d = classview.diff_result("h13ou", "new.yaml", None, records, (4,), None)
    [row] = [r for r in d["gained"] if r["protocol"] == "tcp" and r["ports"] == "22"]
    assert row["dst"] == "vm1" and "net" in row["src"]
    assert row["readings"][0]["value"] == "aggregated" and \
        row["readings"][0]["verdict"] == "deny"
    assert d["summary"]["reading_dependent"] >= 1
    assert "depends on the reading: huawei_group_order=aggregated gives deny" in \
        cli_format.format_diff(d)


# -- limits: lint says which reading it used -------------------------------------------------------
def test_lint_says_when_an_eni_is_between_the_default_and_the_raised_group_quota():
    raw = alibaba_raw()
    raw["security_groups"] = [{"name": f"g{k}"} for k in range(6)]
    raw["instances"][0]["security_groups"] = [f"g{k}" for k in range(6)]
    raw["instances"][1]["security_groups"] = ["g0"]
    found = [f for f in lint.lint(parse(raw)) if "alibaba_groups_per_eni" in f["message"]]
    assert [(f["severity"], f["group"]) for f in found] == [("info", "g5")]
    assert "vm1/eth0 is in 6 groups" in found[0]["message"]
    raw["instances"][0]["security_groups"] = [f"g{k}" for k in range(5)]
    assert not [f for f in lint.lint(parse(raw)) if "alibaba_groups_per_eni" in f["message"]]


def test_lint_says_when_an_instance_mixes_basic_and_advanced_across_its_enis():
    raw = alibaba_raw()
    raw["vpcs"][0]["subnets"].append({"name": "t", "cidr": "10.0.2.0/24"})
    raw["instances"][0]["subnet"] = raw["instances"][1]["subnet"] = "s"
    raw["security_groups"].append({"name": "adv", "type": "advanced"})
    raw["instances"][0]["secondary_enis"] = [{"subnet": "t", "security_groups": ["adv"]}]
    found = [f for f in lint.lint(parse(raw))
             if "alibaba_mixed_types_across_enis" in f["message"]]
    assert [(f["severity"], f["group"]) for f in found] == [("info", "adv")]
    assert "instance vm1 has ENIs in basic (web) and advanced (adv) groups" in \
        found[0]["message"]


def test_the_readme_shows_the_table_as_the_data_writes_it():
    from pathlib import Path
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert readings.readme_table() in readme

"""Flows and records (sgnet.core.flows), without the kernel: which flows a matrix probes,
what is expected of them, the records the session answers with, and diff's comparison."""

import copy
from pathlib import Path

import pytest
import yaml

from sgnet.core import classes, classview, flows
from sgnet.core.errors import LabError
from sgnet.core.evaluator import Evaluator
from sgnet.core import labspec
from sgnet.core.probes import ProbeResult
from sgnet.core.witness import STATEFUL_WHY

LABS = Path(__file__).parents[1] / "labs"


def _raw(name="golden.yaml"):
    return yaml.safe_load((LABS / name).read_text())


def _lab(raw, source="lab.yaml"):
    return labspec.parse(copy.deepcopy(raw), source)


def test_parse_proto():
    assert flows.parse_proto("tcp/22", 4) == (6, 22)
    assert flows.parse_proto(" UDP/53 ", 4) == (17, 53)
    assert flows.parse_proto("icmp", 6) == (58, None)  # ping over IPv6 is ICMPv6
    assert flows.parse_proto("47", 4) == (47, None)
    for bad, words in (("tcp", "needs a port"), ("icmp/3", "has no ports"),
                       ("icmpv6", "needs -6"), ("tcp/٢٢", "ASCII"), ("all", "unknown"),
                       ("300", "unknown")):
        with pytest.raises(LabError, match=words) as e:
            flows.parse_proto(bad, 4, "--ports")
        assert str(e.value).startswith("--ports ")


def test_matrix_flows_every_pair_but_self_and_external_to_external():
    raw = _raw()
    raw["externals"].append({"name": "office2", "ip": "203.0.113.6"})
    lab = _lab(raw)
    got = flows.matrix_flows(lab, ["tcp/22", "icmp"], 4)
    names = ["web1", "db1", "office1", "office2"]
    assert flows.endpoints(lab, 4) == names
    pairs = [(s, d) for s in names for d in names
             if s != d and not {s, d} <= {"office1", "office2"}]
    assert got == [(s, d, p, port, 4) for s, d in pairs for p, port in ((6, 22), (1, None))]
    assert flows.matrix_flows(lab, None, 4, ["web1"], ["db1"]) == [
        ("web1", "db1", p, port, 4) for p, port in map(
            lambda t: flows.parse_proto(t, 4), flows.DEFAULT_PORTS)]
    # only endpoints with an address of the family: db1 has no IPv6
    assert "db1" not in flows.endpoints(lab, 6)


def test_a_tcp_segment_without_syn_is_expected_denied_whatever_the_rules():
    lab = _lab(_raw())
    ev = Evaluator(lab)
    syn = flows.expectation(ev, "office1", "web1", 6, 80, 4)
    assert syn.verdict == "allow"
    assert flows.with_tcp_flags(syn, "S") is syn
    ack = flows.with_tcp_flags(syn, "A")
    # office1 is an external: web1's ingress drops the segment (from an instance, its own
    # egress would), and says it is the stateful rule, as the kernel reports it
    assert ack.verdict == "deny" and ack.decided_by.why == STATEFUL_WHY
    assert ack.decided_by.direction == "ingress" and ack.decided_by.group is None
    from_instance = flows.with_tcp_flags(flows.expectation(ev, "web1", "db1", 6, 5432, 4), "A")
    assert from_instance.decided_by.direction == "egress"
    assert syn.verdict == "allow"  # the evaluator's answer is not changed
    udp = flows.expectation(ev, "office1", "web1", 17, 53, 4)
    assert flows.with_tcp_flags(udp, "A") is udp


def test_expectation_names_the_wrong_end():
    ev = Evaluator(_lab(_raw()))
    with pytest.raises(LabError, match="^DST 'nosuch': not an instance"):
        flows.expectation(ev, "web1", "nosuch", 6, 22, 4)
    with pytest.raises(LabError, match="^DST 'db1': has no IPv6 address"):
        flows.expectation(ev, "web1", "db1", 6, 22, 6)


def test_verdict_and_matrix_records():
    lab = _lab(_raw())
    exp = flows.expectation(Evaluator(lab), "office1", "web1", 6, 22, 4)
    rule = exp.decided_by.to_dict()
    rec = flows.verdict_record(exp, ProbeResult(exp.verdict, "refused", "", rule), lab)
    assert list(rec) == ["src", "dst", "src_ip", "dst_ip", "protocol", "port", "family",
                         "expected", "observed", "detail", "match", "decided_by",
                         "observed_by"]
    assert rec["protocol"] == "tcp" and rec["family"] == "ipv4" and rec["match"] is True
    assert rec["observed_by"] == rec["decided_by"]
    other = "deny" if exp.verdict == "allow" else "allow"
    wrong = flows.verdict_record(exp, ProbeResult(other, "filtered", "", rule), lab)
    assert wrong["match"] is False and wrong["mismatch"] == "verdict"
    # the same verdict for another rule's reason is a mismatch too, told apart
    elsewhere = dict(rule, rule=(rule["rule"] or 0) + 7)
    by_rule = flows.verdict_record(exp, ProbeResult(exp.verdict, "refused", "", elsewhere), lab)
    assert by_rule["match"] is False and by_rule["mismatch"] == "rule"
    lost = flows.verdict_record(exp, ProbeResult("lost", "lost", "no answer; nothing"), lab)
    assert lost["match"] is False and "mismatch" not in lost
    assert lost["lost"] == "no answer; nothing"
    m = flows.matrix_result("tgold", [rec, wrong, by_rule, lost])
    assert m["summary"] == {"total": 4, "correct": 1, "wrong": 2, "lost": 1,
                            "rule_mismatches": 1}
    e = flows.explanation(exp)
    assert e["expected"] == exp.verdict and e["steps"] and "observed" not in e


def test_rule_key_tells_implicit_entries_apart_by_their_text():
    a = {"direction": "ingress", "group": None, "rule": None, "why": "default: deny"}
    b = dict(a, why="inner accept")
    assert flows.rule_key(a) != flows.rule_key(b)
    assert flows.rule_key(a) == flows.rule_key(dict(a))
    route = {"direction": "route", "group": None, "rule": None, "why": "x"}
    assert flows.rule_key(route) == flows.rule_key(dict(route, why="y"))
    assert flows.rule_key(None) == flows.rule_key(
        {"direction": "none", "group": None, "rule": None, "why": "between externals"})


def test_diff_takes_the_groups_of_the_other_file_and_compares():
    raw, changed = _raw(), _raw()
    changed["security_groups"][0]["rules"][1]["ports"] = "22,8000-8080"  # web: 80 closed
    changed["security_groups"][1]["rules"][0]["ports"] = 5433  # db: 5432 -> 5433
    changed["instances"][1]["security_groups"] = ["db", "default"]
    # web1's ENI on db1's subnet, where its packets to db1 leave, joins web
    changed["instances"][0]["secondary_enis"][0]["security_groups"] = ["db", "web"]
    merged = flows.with_groups_of(copy.deepcopy(raw), changed)
    assert merged["security_groups"] == changed["security_groups"]
    assert merged["instances"][1]["security_groups"] == ["db", "default"]
    assert merged["instances"][0]["secondary_enis"][0]["security_groups"] == ["db", "web"]
    assert merged["instances"][0]["subnet"] == raw["instances"][0]["subnet"]
    before, after = Evaluator(_lab(raw)), Evaluator(_lab(merged))
    moved = classes.changes(classes.Analysis(before), classes.Analysis(after), (4,))
    an = classes.Analysis(after)
    records = [classview.record(an, c, ("before", "after")) for c in moved]
    # each flow of the lab's hosts lies in a changed class exactly when its verdict moved
    fl = [("web1", "db1", 6, 5432, 4), ("web1", "db1", 6, 5433, 4),
          ("office1", "web1", 6, 80, 4), ("office1", "web1", 6, 8000, 4)]
    moved_flows = 0
    for f in fl:
        a, b = before.evaluate(*f), after.evaluate(*f)
        eni = b.decided_by.eni.split("/")[1]
        inside = [r for r in records if r["direction"] == b.decided_by.direction and
                  r["eni"] == eni and
                  r["protocol"] == "tcp" and f[1 if r["direction"] == "ingress" else 0] in
                  (r["dst"] if r["direction"] == "ingress" else r["src"]) and
                  _in_ports(r["ports"], f[3]) and
                  (f[0] if r["direction"] == "ingress" else f[1]) in
                  (r["src"] if r["direction"] == "ingress" else r["dst"])]
        assert bool(inside) == (a.verdict != b.verdict), f
        moved_flows += a.verdict != b.verdict
    assert moved_flows == 2
    d = classview.diff_result("tgold", "changed.yaml", None, records, (4,), None)
    assert d["summary"]["classes"] == len(records) == d["summary"]["gained"] + \
        d["summary"]["lost"]
    assert d["scope"] == {"families": [4], "ports": "all"}


def _in_ports(text, port):
    lo, _, hi = text.partition("-")
    return int(lo) <= port <= int(hi or lo)


def test_rule_hits_add_up_per_rule_and_instance():
    lab = _lab(_raw())
    counters = {"web1": [["input", "x", 9, 9], ["web_in", "web rule 1", 3, 300],
                         ["web_in", "no connection: drop", 1, 40]],
                "db1": [["db_in", "db rule 0", 2, 200], ["db_in", "web rule 1", 1, 100]]}
    rows = flows.rule_hits(lab, counters)
    assert [(r["group"], r["rule"]) for r in rows] == [
        ("(implicit)", "no connection: drop"), ("db", 0), ("web", 1)]
    web = rows[2]
    assert (web["packets"], web["bytes"], web["instances"]) == (4, 400, {"web1": 3, "db1": 1})
    assert web["text"] == lab.groups["web"].rules[1].text() and "text" not in rows[0]


def test_status_record():
    lab = _lab(_raw())
    st = flows.status_record(lab, Evaluator(lab), lambda n: f"tgold-{n}",
                             {"web1": True, "db1": False, "office1": True}, {"web1": 7}, {})
    web1, db1 = st["instances"]
    assert (web1["up"], web1["conntrack_entries"], db1["conntrack_entries"]) == (True, 7, None)
    assert [e["groups"] for e in web1["enis"]] == [["web", "default"], ["db"]]
    assert st["externals"][0]["namespace"] == "tgold-office1" and "hosts" not in st
    assert "host" not in web1
    assert st["groups"]["db"]["members"] == ["web1/eth1", "db1/eth0"]


def test_run_options():
    bounds = {"probe_timeout": 60, "jobs": 1024}
    flows.check_run(0.5, None, bounds)
    for timeout, jobs in ((0, None), (float("nan"), None), (True, None), (1, 0), (1, 2.0)):
        with pytest.raises(LabError):
            flows.check_run(timeout, jobs, bounds)


def test_a_tracked_session_names_the_rule_that_admitted_it():
    from sgnet.core import witness
    from sgnet.core.ctentry import parse_line
    lab = _lab(_raw())
    ev = Evaluator(lab)
    web1 = lab.instance("web1")
    entry = ev.decision_list(web1.primary, "ingress").entries[0]
    mark = witness.entry_mark("ingress", 0, 0)
    line = (f"tcp      6 431999 ESTABLISHED src=203.0.113.10 dst={web1.primary.ip} "
            f"sport=40000 dport=22 src={web1.primary.ip} dst=203.0.113.10 sport=22 "
            f"dport=40000 [ASSURED] mark={mark} use=1")
    e = parse_line(line, 4)
    assert e.mark == mark
    rec = flows.session_record(lab, ev, web1, e)
    assert rec["state"] == "ESTABLISHED" and rec["dport"] == 22
    assert (rec["admitted_by"]["group"], rec["admitted_by"]["rule"]) == (entry.group,
                                                                         entry.rule)
    unmarked = parse_line(line.replace(f"mark={mark}", "mark=0"), 4)
    assert flows.session_record(lab, ev, web1, unmarked)["admitted_by"] is None

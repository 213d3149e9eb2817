"""The command line's text output (sgnet.cli_format, pure): each verb's result dict as the
lines a person reads, byte for byte as before the formatting left cli.py (the expected texts
were produced by the code before the move)."""

from sgnet import cli_format as fmt

REC_OK = {"src": "web1", "src_ip": "10.0.1.10", "dst": "db1", "dst_ip": "10.0.2.10",
          "protocol": "tcp", "port": 3306, "family": "ipv4", "expected": "allow",
          "observed": "allow", "detail": "refused", "match": True,
          "decided_by": {"direction": "ingress", "group": "db", "rule": 0,
                         "why": "group db rule 0 allows tcp/3306 from web"},
          "observed_by": {"direction": "ingress", "group": "db", "rule": 0,
                          "why": "group db rule 0 allows tcp/3306 from web"}}
REC_BAD = {"src": "internet", "src_ip": "203.0.113.10", "dst": "web1", "dst_ip": "10.0.1.10",
           "protocol": "icmp", "port": None, "family": "ipv4", "expected": "deny",
           "observed": "allow", "detail": "echo reply", "match": False, "mismatch": "verdict",
           "decided_by": {"direction": "ingress", "group": None, "rule": None,
                          "why": "no rule allows it (the default)"},
           "observed_by": {"direction": "ingress", "group": "web", "rule": 4,
                           "why": "web rule 4: ingress allow icmp from 0.0.0.0/0"}}
REC_RULE = dict(REC_OK, src="ops1", src_ip="10.0.3.10", match=False, mismatch="rule",
                observed_by={"direction": "ingress", "group": "db", "rule": 2,
                             "why": "db rule 2: ingress allow tcp/3306 from 10.0.0.0/8"})
REC_LOST = dict(REC_OK, src="ops1", src_ip="10.0.3.10", protocol="udp", port=53,
                observed="lost", detail="lost", match=False, observed_by=None,
                lost="no answer; let through at egress: web rule 3")
MATRIX = {"lab": "fmt", "results": [REC_OK, REC_BAD, dict(REC_OK, src="db1", dst="web1",
          src_ip="10.0.2.10", dst_ip="10.0.1.10", observed="deny", expected="deny",
          detail="filtered"), REC_RULE, REC_LOST],
          "summary": {"total": 5, "correct": 2, "wrong": 2, "lost": 1, "rule_mismatches": 1}}
STATUS = {"lab": "fmt", "provider": "huawei",
          "hosts": [{"name": "hv1", "simulated": True, "address": None, "transport": "local",
                     "instances": 1},
                    {"name": "hv2", "simulated": False, "address": "192.0.2.5",
                     "transport": "ssh", "instances": 0}],
          "instances": [{"name": "web1", "up": True, "namespace": "fmt-web1", "host": "hv1",
                         "conntrack_entries": 2,
                         "enis": [{"ifname": "eth0", "subnet": "front", "ip": "10.0.1.10",
                                   "ipv6": "fd00::10", "groups": ["web", "default"],
                                   "rules": {"ingress": 3, "egress": 1}},
                                  {"ifname": "eth1", "subnet": "back", "ip": "10.0.2.11",
                                   "ipv6": None, "groups": ["db"],
                                   "rules": {"ingress": 2, "egress": 0}}]}],
          "externals": [{"name": "internet", "up": False, "ip": "203.0.113.10",
                         "ipv6": None}]}
HITS = {"lab": "fmt", "rules": [
    {"rule": 0, "group": "web", "text": "ingress allow tcp/80 from 0.0.0.0/0", "packets": 12,
     "instances": {"web2": 5, "web1": 7}},
    {"rule": "default", "group": "web", "packets": 0, "instances": {}}]}
_DB = {"direction": "ingress", "group": "db", "rule": 0, "why": "db rule 0: ..."}
DIFF = {"lab": "fmt", "changed": "new.yaml", "clone": "dfmt",
        "scope": {"families": [4, 6], "ports": "all"},
        "summary": {"classes": 2, "gained": 1, "lost": 1, "confirmed": 1, "unconfirmed": 0,
                    "clone_mismatches": 1},
        "gained": [{"direction": "ingress", "src": ["0.0.0.0/0"], "dst": "db1", "eni": "eth0",
                    "family": 4, "protocol": "tcp", "ports": "6379",
                    "remote": {"hosts": [], "cidrs": ["0.0.0.0/0"]}, "before": "deny",
                    "after": "allow", "decided_by": _DB, "confirmed": True}],
        "lost": [{"direction": "ingress", "src": ["internet", "0.0.0.0/1", "128.0.0.0/1"],
                  "dst": "web1", "eni": "eth0", "family": 4, "protocol": "tcp",
                  "ports": "443",
                  "remote": {"hosts": ["internet"], "cidrs": ["0.0.0.0/1", "128.0.0.0/1"],
                             "all_except": ["198.51.100.0/24"]},
                  "before": "allow", "after": "deny",
                  "decided_by": {"direction": "ingress", "group": None, "rule": None,
                                 "why": "no rule allows it (the default)"},
                  "confirmed": False}]}
CHANGES = [{"lab": "fmt", "change": "rule add web ingress allow udp/53", "sessions_cut": 0,
            "instances_updated": ["web1", "web2"]},
           {"lab": "fmt", "change": "detach web2 web", "sessions_cut": 3,
            "instances_updated": []}]
EXPLAIN = {"src": "internet", "src_ip": "203.0.113.10", "dst": "web1", "dst_ip": "10.0.1.10",
           "protocol": "tcp", "port": 80, "family": "ipv4", "expected": "allow",
           "steps": [{"direction": "egress", "verdict": "allow", "why": "externals send anything"},
                     {"direction": "ingress", "eni": "eth0", "verdict": "allow",
                      "why": "group web rule 0 allows tcp/80 from 0.0.0.0/0"}]}
FINDINGS = [{"severity": "error", "group": "web", "rule": 2, "message": "open to the world"},
            {"severity": "info", "group": "db", "rule": None, "message": "no members"}]

# -- the texts (golden) ----------------------------------------------------------------
RECORD_OK = (
    'web1 (10.0.1.10) -> db1 (10.0.2.10) tcp/3306: observed allow (refused), expected allow\n'
    '  decided by: ingress: group db rule 0 allows tcp/3306 from web\n'
    '  kernel: the same rule')
RECORD_MISMATCH = (
    'internet (203.0.113.10) -> web1 (10.0.1.10) icmp: observed allow (echo reply), expected deny   <-- MISMATCH\n'
    '  decided by: ingress: no rule allows it (the default)\n'
    '  kernel: ingress: web rule 4: ingress allow icmp from 0.0.0.0/0')
MATRIX_TEXT = (
    'lab fmt, IPv4: 5 flows, 2 as expected (verdict and rule), 2 wrong (1 by rule only), 1 LOST\n'
    '\n'
    'tcp/3306        web1       db1   (rows: source)\n'
    'web1               ·     allow\n'
    'db1             deny         ·\n'
    'internet           ·         ·\n'
    'ops1               ·    allow~\n'
    '\n'
    'icmp            web1       db1   (rows: source)\n'
    'web1               ·         ·\n'
    'db1                ·         ·\n'
    'internet      allow!         ·\n'
    'ops1               ·         ·\n'
    '\n'
    'udp/53          web1       db1   (rows: source)\n'
    'web1               ·         ·\n'
    'db1                ·         ·\n'
    'internet           ·         ·\n'
    'ops1               ·     lost?\n'
    '\n'
    "allow = the destination answered; deny = a lab rule dropped it; X! = observed X, the provider's rules say otherwise; X~ = the expected verdict, but the kernel reports another rule deciding\n"
    'lost? = neither answered nor dropped by any lab rule: a fault of the lab (or the machine), not a verdict\n'
    '\n'
    'mismatches:\n'
    '  internet (203.0.113.10) -> web1 (10.0.1.10) icmp: observed allow (echo reply), expected deny   <-- MISMATCH\n'
    '    decided by: ingress: no rule allows it (the default)\n'
    '    kernel: ingress: web rule 4: ingress allow icmp from 0.0.0.0/0\n'
    '  ops1 (10.0.3.10) -> db1 (10.0.2.10) tcp/3306: observed allow (refused), expected allow   <-- RULE MISMATCH (same verdict, another rule)\n'
    '    decided by: ingress: group db rule 0 allows tcp/3306 from web\n'
    '    kernel: ingress: db rule 2: ingress allow tcp/3306 from 10.0.0.0/8\n'
    '  ops1 (10.0.3.10) -> db1 (10.0.2.10) udp/53: observed lost (lost), expected allow   <-- LOST (a lab fault, not a verdict)\n'
    '    decided by: ingress: group db rule 0 allows tcp/3306 from web\n'
    '    lost: no answer; let through at egress: web rule 3')
EMPTY_MATRIX = 'lab fmt: no flows to probe'
STATUS_TEXT = (
    'lab fmt (huawei)\n'
    '  host hv1 (simulated, local): 1 instances\n'
    '  host hv2 (192.0.2.5, ssh): 0 instances\n'
    '  web1  [up] namespace fmt-web1 on hv1, conntrack entries 2\n'
    '    eth0 front 10.0.1.10 fd00::10 groups web, default (rules in 3, out 1)\n'
    '    eth1 back 10.0.2.11 groups db (rules in 2, out 0)\n'
    '  internet  [DOWN] external 203.0.113.10')
HITS_TEXT = (
    'lab fmt: packets matched per rule (new connections; replies pass as established)\n'
    '        12  web rule 0: ingress allow tcp/80 from 0.0.0.0/0  [web1 7, web2 5]\n'
    '         0  web default:   []')
DIFF_TEXT = (
    'lab fmt with the groups of new.yaml (both families, every protocol and port): 2 classes of traffic change, 1 gained, 1 lost (on clone dfmt: 1 confirmed, 1 disagree, 0 not testable)\n'
    '  gained db1/eth0 ingress tcp/6379 from any: deny -> allow (db rule 0)\n'
    '  lost   web1/eth0 ingress tcp/443 from any except 198.51.100.0/24 (internet): allow -> deny (no rule allows it (the default))  CLONE DISAGREES')
CHANGE_TEXT = (
    'lab fmt: rule add web ingress allow udp/53: applied; instances updated: web1, web2; '
    'tracked sessions cut: 0')
NO_CHANGE_TEXT = (
    'lab fmt: detach web2 web: applied; instances updated: none (no ruleset changed); tracked '
    'sessions cut: 3')
EXPLAIN_TEXT = (
    'internet (203.0.113.10) -> web1 (10.0.1.10) tcp/80 ipv4: expected allow\n'
    '  egress: allow - externals send anything\n'
    '  ingress on eth0: allow - group web rule 0 allows tcp/80 from 0.0.0.0/0\n'
    '  replies of an allowed flow pass whatever the reverse rules say (stateful)')


def test_a_record_names_both_verdicts_and_marks_a_mismatch():
    assert fmt.format_record(REC_OK) == RECORD_OK
    assert fmt.format_record(REC_BAD) == RECORD_MISMATCH


def test_matrix_grids_per_port_then_the_mismatches():
    assert fmt.format_matrix(MATRIX) == MATRIX_TEXT
    assert fmt.format_matrix({"lab": "fmt", "results": [], "summary": {}}) == EMPTY_MATRIX


def test_status_and_rule_hits():
    assert fmt.format_status(STATUS) == STATUS_TEXT
    assert fmt.format_hits(HITS) == HITS_TEXT


def test_diff_change_and_explain():
    assert fmt.format_diff(DIFF) == DIFF_TEXT
    assert [fmt.format_change(c) for c in CHANGES] == [CHANGE_TEXT, NO_CHANGE_TEXT]
    assert fmt.format_explain(EXPLAIN) == EXPLAIN_TEXT


def test_one_line_summaries():
    assert fmt.format_findings(FINDINGS) == ("error   web rule 2: open to the world\n"
                                             "info    db: no members")
    assert fmt.format_findings([]) == "no findings"
    assert fmt.format_removed({"a": ["a-x", "a--gw"], "b": []}) == (
        "lab a: removed 2 namespaces\nlab b: removed 0 namespaces")
    assert fmt.format_removed({}) == "no lab to remove"
    assert fmt.format_import({"output": "x.yaml", "groups": 3, "instances": 0,
                              "warnings": ["w"]}) == ("wrote x.yaml: 3 groups, 0 instances, "
                                                      "1 warnings")
    assert fmt.format_report({"output": "r.html", "summary": {"total": 9, "wrong": 2}}) == (
        "wrote r.html: 9 flows, 2 wrong")


def test_sessions_cuts_and_the_kernel_in_explain():
    admitted = {"direction": "ingress", "group": "db", "rule": 0, "why": "db rule 0: ..."}
    st = dict(STATUS, instances=[dict(STATUS["instances"][0], sessions=[
        {"family": "ipv4", "protocol": "tcp", "src": "10.0.1.10", "dst": "10.0.2.10",
         "sport": 40000, "dport": 3306, "state": "ESTABLISHED", "admitted_by": admitted},
        {"family": "ipv4", "protocol": "icmp", "src": "10.0.1.10", "dst": "10.0.2.10",
         "sport": None, "dport": None, "admitted_by": None}])])
    text = fmt.format_status(st)
    assert ("    session tcp 10.0.1.10:40000 -> 10.0.2.10:3306 ESTABLISHED, admitted by "
            "ingress: db rule 0: ...") in text
    assert "    session icmp 10.0.1.10 -> 10.0.2.10, admitted by no lab rule's mark" in text
    cut = dict(CHANGES[1], cut=[{"instance": "db1", "protocol": "tcp", "src": "10.0.1.10",
                                 "dst": "10.0.2.10", "sport": 40000, "dport": 3306,
                                 "decided_by": {"why": "nothing lets it in"},
                                 "observed": "deny", "match": True,
                                 "observed_by": {"direction": "ingress", "why": "x"}}])
    assert fmt.format_change(cut).splitlines()[1] == (
        "  cut on db1: tcp 10.0.1.10:40000 -> 10.0.2.10:3306 - nothing lets it in; the "
        "kernel: the same rule")
    seen = dict(EXPLAIN, kernel={"observed": "allow", "detail": "refused", "match": True,
                                 "observed_by": {"direction": "ingress", "why": "web rule 0"}})
    assert fmt.format_explain(seen).splitlines()[-1] == (
        "the kernel: allow (refused) - ingress: web rule 0  (as expected)")
    lost = dict(EXPLAIN, kernel={"observed": "lost", "detail": "lost", "match": False,
                                 "observed_by": None, "lost": "no answer"})
    assert fmt.format_explain(lost).splitlines()[-1] == (
        "the kernel: LOST (a lab fault, not a verdict): no answer")

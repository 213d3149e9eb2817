"""lint and the ports attackers use (issue 13, item 4): every listed service at the edges of
its range, tcp and udp, IPv6, a real public file (hand-converted), bounded messages, the
egress and description findings, and exit codes that info findings leave alone."""

import re
from pathlib import Path

import pytest

from sgnet import cli
from sgnet.core.exposed_ports import CATEGORIES, EXPOSED_PORTS, TCP, UDP, hits
from sgnet.core.labspec import parse
from sgnet.core.lint import lint
from sgnet.io.labfile import load_file

ROOT = Path(__file__).resolve().parents[2]
LABEL = re.compile(r"(?:opens |exposing |, )(?P<label>[A-Za-z][\w .]*? "
                   r"\((?:tcp|udp)(?:,udp)?/\d+(?:-\d+)?\))")


def one_rule(protocol, ports=None, remote="0.0.0.0/0", family=4, provider="huawei", **kw):
    rule = {"direction": "ingress", "action": "allow", "priority": 1, "protocol": protocol,
            "ethertype": f"IPv{family}", "remote": remote, "description": "under test", **kw}
    if ports is not None:
        rule["ports"] = ports
    return parse({"name": "tports", "provider": provider, "security_groups": [
        {"name": "g", "default_rules": False, "rules": [rule]}],
        "instances": [{"name": "vm", "security_groups": ["g"]}]}, "ports.yaml")


def named(findings, rule=0):
    """{label: severity} of the services the exposure findings of `rule` name."""
    out = {}
    for f in findings:
        if f["rule"] == rule and f["severity"] != "info":
            for m in LABEL.finditer(f["message"].split(": ", 1)[1]):
                out[m.group("label")] = f["severity"]
    return out


def test_the_list_is_data_with_a_reason_for_each_port():
    assert len(EXPOSED_PORTS) >= 40
    labels = [e.label() for e in EXPOSED_PORTS]
    assert len(set(labels)) == len(labels)  # no entry twice
    for e in EXPOSED_PORTS:
        assert 1 <= e.first <= e.last <= 65535 and e.protocols and set(e.protocols) <= {TCP, UDP}
        assert e.category in CATEGORIES and e.severity in ("error", "warning") and e.reason
    services = {e.service for e in EXPOSED_PORTS}
    # the services the issue found silent, each now listed
    assert {"FTP", "Telnet", "SMTP", "NetBIOS", "SMB", "SQL Server", "Oracle", "Docker",
            "Kubernetes API", "etcd", "VNC", "Elasticsearch", "Memcached",
            "HDFS NameNode web UI", "SNMP"} <= services


CASES = [pytest.param(e, p, id=f"{e.service}-{'tcp' if p == TCP else 'udp'}/{e.first}")
         for e in EXPOSED_PORTS for p in e.protocols]


@pytest.mark.parametrize("entry,protocol", CASES)
def test_each_range_at_its_edges(entry, protocol):
    """The first and the last port of a listed range name the service, with its severity;
    the ports just outside do not; the other protocol does not unless listed."""
    proto = "tcp" if protocol == TCP else "udp"
    label = entry.label((protocol,))
    for port in (entry.first, entry.last):
        assert named(lint(one_rule(proto, str(port))))[label] == entry.severity, (label, port)
    for port in (entry.first - 1, entry.last + 1):
        if 1 <= port <= 65535:
            assert label not in named(lint(one_rule(proto, str(port)))), (label, port)
    other = UDP if protocol == TCP else TCP
    found = named(lint(one_rule("udp" if protocol == TCP else "tcp", str(entry.first))))
    assert (entry.label((other,)) in found) == (other in entry.protocols)


def test_a_range_names_every_service_it_touches_once():
    f = lint(one_rule("tcp", "9250-11211"))
    assert named(f) == {"Elasticsearch (tcp/9200-9300)": "error",
                        "Elasticsearch transport (tcp/9301-9400)": "error",
                        "kubelet (tcp/10250)": "error", "Memcached (tcp/11211)": "error"}
    assert len([x for x in f if x["rule"] == 0]) == 1  # one finding per rule and severity
    assert "opens Elasticsearch (tcp/9200-9300), " in f[0]["message"]


def test_udp_and_ipv6():
    f = lint(one_rule("udp", "1-65535", remote="::/0", family=6))
    udp_only = {e.label((UDP,)): e.severity for e in EXPOSED_PORTS if UDP in e.protocols}
    assert named(f) == udp_only and "SNMP (udp/161)" in udp_only
    assert all("every IPv6 address" in x["message"] for x in f if x["rule"] == 0)
    f = lint(one_rule("tcp", "6443", remote="::/0", family=6))
    assert named(f) == {"Kubernetes API (tcp/6443)": "error"}
    assert not named(lint(one_rule("tcp", "6443", remote="2001:db8::/32", family=6)))
    assert not named(lint(one_rule("icmp")))  # no ports, no service


def test_all_protocols_and_ports_is_one_bounded_finding():
    f = [x for x in lint(one_rule("all")) if x["rule"] == 0]
    assert len(f) == 1 and f[0]["severity"] == "error"
    msg = f[0]["message"]
    assert "every protocol and port is open to every IPv4 address, exposing FTP (tcp/20-21), " \
           "SSH (tcp/22)" in msg
    assert msg.endswith(f" and {len(EXPOSED_PORTS) - 10} more") and len(msg) < 600
    f = [x for x in lint(one_rule("tcp")) if x["rule"] == 0]  # every tcp port
    tcp = [e for e in EXPOSED_PORTS if TCP in e.protocols]
    errors = len([e for e in tcp if e.severity == "error"])
    assert [x["severity"] for x in f] == ["error", "warning"]
    msg = f[0]["message"]
    assert msg.count(" (tcp/") == 10 and f"and {errors - 10} more to" in msg


def test_an_earlier_deny_closes_the_services_it_covers():
    lab = parse({"name": "tports", "security_groups": [{"name": "g", "default_rules": False,
                 "rules": [{"direction": "ingress", "action": "deny", "priority": 1,
                            "protocol": "tcp", "ports": "22", "remote": "0.0.0.0/0"},
                           {"direction": "ingress", "action": "deny", "priority": 1,
                            "protocol": "tcp", "ports": "23", "remote": "10.0.0.0/8"},
                           {"direction": "ingress", "action": "allow", "priority": 2,
                            "protocol": "tcp", "ports": "20-25", "remote": "0.0.0.0/0"}]}],
                 "instances": [{"name": "vm", "security_groups": ["g"]}]}, "ports.yaml")
    # SSH is denied to the world first; Telnet only to 10/8: the rest of the world reaches it
    assert named(lint(lab), 2) == {"FTP (tcp/20-21)": "error", "Telnet (tcp/23)": "error",
                                   "SMTP (tcp/25)": "warning"}


REAL = ROOT / "tests" / "exports" / "lint" / "checkov_alicloud_unrestricted_ingress.yaml"


def test_a_real_file_opening_many_ports_to_the_world():
    """checkov's alicloud fixture (hand-converted, tests/exports/lint/SOURCES.md): 18 rules
    open ports to 0.0.0.0/0; before, only SSH, RDP, SQL Server, MySQL, Oracle and PostgreSQL
    were named."""
    f = lint(load_file(str(REAL)))
    expected = {
        1: {"FTP (tcp/20-21)": "error", "SSH (tcp/22)": "error", "Telnet (tcp/23)": "error",
            "SMTP (tcp/25)": "warning", "DNS (tcp/53)": "warning"},
        3: {"DNS (tcp/53)": "warning"}, 4: {},  # HTTP: meant to be public
        5: {"FTP (tcp/20-21)": "error"}, 6: {"FTP (tcp/20-21)": "error"},
        7: {"SQL Server Browser (tcp/1434)": "error"}, 8: {"SQL Server (tcp/1433)": "error"},
        9: {"MySQL (tcp/3306)": "error"}, 10: {"Oracle (tcp/1521-1522)": "error"},
        11: {"PostgreSQL (tcp/5432)": "error"}, 12: {"RDP (tcp/3389)": "error"},
        13: {"SMTP (tcp/25)": "warning"}, 14: {"SSH (tcp/22)": "error"},
        15: {"Telnet (tcp/23)": "error"}, 16: {"VNC listener (tcp/5500)": "error"},
        17: {"VNC (tcp/5900)": "error"}}
    for rule, services in expected.items():
        assert named(f, rule) == services, rule
    # the two wide rules: every tcp service, then those above 100, bounded
    tcp = [e for e in EXPOSED_PORTS if TCP in e.protocols]
    above = [e for e in tcp if e.first > 100]
    for rule, entries in ((0, tcp), (2, above)):
        errors = [x for x in f if x["rule"] == rule and x["severity"] == "error"
                  and "opens" in x["message"]]
        n = len([e for e in entries if e.severity == "error"])
        assert len(errors) == 1 and f"and {n - 10} more to every IPv4" in errors[0]["message"]
    assert named(f, 2) and "SSH (tcp/22)" not in named(f, 2)
    assert [x["message"] for x in f if x["severity"] == "info"] == [
        "18 of 18 rules have no description (rules 0-17): say what each one is for"]
    assert cli.main(["lint", str(REAL)]) == 1


def test_the_real_terraform_file_imported_gives_the_same_findings():
    """The same checkov fixture as the .tf file it is, through `sgnet import`: every rule is
    kept (the nic_type internet ones as intranet, warned; the one with no cidr_ip dropped,
    as the API refuses it), and lint names the same services, rule by rule, as for the hand
    conversion: the rule that opens SSH to the world no longer disappears."""
    from sgnet.io.importers.files import import_files
    result = import_files("terraform", [str(REAL.with_suffix(".tf"))], "tports")
    assert sum("kept as an intranet rule" in w for w in result.warnings) == 19
    assert any("allow_all_tcp2" in w and "rule dropped" in w for w in result.warnings)
    (group,) = [g for g in result.lab["security_groups"]]
    assert len(group["rules"]) == 18
    imported, by_hand = lint(parse(result.lab, "imported")), lint(load_file(str(REAL)))
    for rule in range(18):
        assert named(imported, rule) == named(by_hand, rule), rule
    assert named(imported, 14) == {"SSH (tcp/22)": "error"}


def test_unrestricted_egress_is_one_info_finding_per_group():
    lab = parse({"name": "tports", "provider": "huawei", "security_groups": [
        {"name": "web"},  # a new custom group: its provider rules allow all egress
        {"name": "tight", "default_rules": False, "rules": [
            {"direction": "egress", "action": "deny", "priority": 1, "protocol": "tcp",
             "ports": "25", "remote": "0.0.0.0/0", "description": "no mail"},
            {"direction": "egress", "action": "allow", "priority": 2, "protocol": "all",
             "remote": "0.0.0.0/0", "description": "the rest"},
            {"direction": "egress", "action": "allow", "priority": 2, "protocol": "tcp",
             "remote": "::/0", "description": "every tcp port only"}]}],
        "instances": [{"name": "vm", "security_groups": ["web", "tight"]}]}, "ports.yaml")
    egress = [x for x in lint(lab) if "egress allows" in x["message"]]
    assert egress == [{"severity": "info", "group": "web", "rule": 2, "message":
                       "rule 2 (IPv4), rule 3 (IPv6): egress allows every protocol and port "
                       "to every address, as the providers' default rules do by design; "
                       "restrict it if these instances should reach only known destinations"}]
    ali = parse({"name": "tports", "provider": "alibaba", "security_groups": [
        {"name": "adv", "type": "advanced", "created_by": "console"}],
        "instances": [{"name": "vm", "security_groups": ["adv"]}]}, "ports.yaml")
    assert [x["rule"] for x in lint(ali) if "egress allows" in x["message"]] == [5]


def test_rules_without_a_description_one_finding_per_group():
    rules = [{"direction": "ingress", "action": "allow", "priority": 1, "protocol": "tcp",
              "ports": str(1000 + i), "remote": "10.0.0.0/8",
              **({"description": "kept"} if i % 2 else {})} for i in range(40)]
    lab = parse({"name": "tports", "provider": "huawei", "security_groups": [
        {"name": "g", "default_rules": False, "rules": rules}],
        "instances": [{"name": "vm", "security_groups": ["g", "Sys-WebServer"]}]}, "ports.yaml")
    f = [x for x in lint(lab) if "description" in x["message"]]
    spans = ", ".join(str(i) for i in range(0, 24, 2))
    assert f == [{"severity": "info", "group": "g", "rule": None, "message":
                  f"20 of 40 rules have no description (rules {spans} and 8 more): say what "
                  "each one is for"}]  # and nothing on Sys-WebServer, the provider's group


def test_info_findings_leave_the_exit_code_alone(tmp_path, capsys):
    p = tmp_path / "lab.yaml"
    p.write_text("name: tports\nprovider: huawei\nsecurity_groups:\n- name: g\n"
                 "instances:\n- {name: vm, security_groups: [g]}\n")
    assert cli.main(["lint", str(p)]) == 0
    assert cli.main(["lint", str(p), "--fail-on", "warning"]) == 0
    assert cli.main(["lint", str(p), "--fail-on", "info"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("info    g rule 2: rule 2 (IPv4), rule 3 (IPv6): egress allows")


def test_findings_are_deterministic_and_said_once():
    lab = load_file(str(REAL))
    f = lint(lab)
    assert f == lint(load_file(str(REAL)))
    keys = [(x["severity"], x["group"], x["rule"], x["message"]) for x in f]
    assert len(keys) == len(set(keys))
    exposure = [(x["rule"], x["severity"]) for x in f if ": opens " in x["message"]]
    assert len(exposure) == len(set(exposure))  # one per rule and severity


def test_hits_is_in_port_order():
    found = [e.first for e, _ in hits(None, None)]
    assert found == sorted(found) and len(found) == len(EXPOSED_PORTS)

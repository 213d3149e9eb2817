"""sgnet lint, pure: each kind of finding, with the group and rule it names."""

import json

from sgnet import cli
from sgnet.labfile import parse
from sgnet.lint import at_or_above, lint


def lab(groups, provider="huawei", instances=None):
    return parse({"name": "tlint", "provider": provider, "security_groups": groups,
                  "instances": instances or [{"name": "vm", "security_groups":
                                              [g["name"] for g in groups][:1] or None}]},
                 "lint.yaml")


def r(action="allow", ports=None, remote=None, priority=1, protocol="tcp", **kw):
    d = {"direction": "ingress", "action": action, "priority": priority, "protocol": protocol}
    if ports is not None:
        d["ports"] = ports
    if remote is not None:
        d["remote"] = remote
    d.update(kw)
    return d


def find(findings, group, rule, text):
    return [f for f in findings if f["group"] == group and f["rule"] == rule
            and text in f["message"]]


def test_admin_and_database_ports_open_to_the_world():
    f = lint(lab([{"name": "g", "default_rules": False, "rules": [
        r(ports="22", remote="0.0.0.0/0"), r(ports="3306"), r(ports="6379", remote="::/0",
                                                              ethertype="IPv6"),
        r(ports="5432", remote="10.0.0.0/8"), r(ports="8000-28000", remote="0.0.0.0/0")]}]))
    assert find(f, "g", 0, "SSH (tcp/22)") and f[0]["severity"] == "error"
    assert find(f, "g", 1, "MySQL (tcp/3306)")
    assert find(f, "g", 2, "Redis (tcp/6379)") and "IPv6" in find(f, "g", 2, "Redis")[0]["message"]
    assert not find(f, "g", 3, "PostgreSQL")  # from a private range only
    assert find(f, "g", 4, "MongoDB (tcp/27017)")  # inside a wide range
    everything = lint(lab([{"name": "g", "default_rules": False, "rules": [
        r(protocol="all", remote="0.0.0.0/0")]}]))
    assert find(everything, "g", 0, "every protocol and port is open")


def test_a_higher_priority_deny_closes_the_exposure():
    f = lint(lab([{"name": "g", "default_rules": False, "rules": [
        r(ports="22", priority=50), r("deny", ports="22", priority=1)]}]))
    assert not find(f, "g", 0, "SSH")


def test_shadowed_duplicate_and_contradictory_rules():
    f = lint(lab([{"name": "g", "default_rules": False, "rules": [
        r(ports="1-1024", remote="10.0.0.0/8"),
        r(ports="80", remote="10.1.0.0/16"),          # inside rule 0: never decides
        r(ports="1-1024", remote="10.0.0.0/8"),       # duplicate of 0
        r("deny", ports="8080", remote="10.0.0.0/8", priority=5),
        r("allow", ports="8080", remote="10.0.0.0/8", priority=5)]}]))  # contradicts 3
    assert find(f, "g", 1, "shadowed by rule 0")
    assert find(f, "g", 2, "duplicates rule 0")
    assert find(f, "g", 4, "contradicts rule 3") and "deny wins" in find(
        f, "g", 4, "contradicts")[0]["message"]


def test_provider_defaults_are_linted_too():
    f = lint(lab([], instances=[{"name": "vm", "security_groups": ["Sys-WebServer"]}]))
    assert find(f, "Sys-WebServer", 4, "SSH") and find(f, "Sys-WebServer", 5, "RDP")
    f = lint(lab([], provider="alibaba", instances=[{"name": "vm"}]))
    assert find(f, "default", 0, "SSH") and find(f, "default", 1, "RDP")


def test_near_a_provider_limit_and_unused_groups():
    groups = [{"name": f"g{i}"} for i in range(9)]
    f = lint(lab(groups, provider="alibaba",
                 instances=[{"name": "vm", "security_groups": [g["name"] for g in groups[:8]]}]))
    assert any("is in 8 groups (limit 10)" in x["message"] for x in f)
    assert find(f, "g8", None, "no instance")
    assert {x["severity"] for x in at_or_above(f, "warning")} <= {"warning", "error"}


def test_cli_lint_exit_codes_and_json(tmp_path, capsys):
    import yaml
    p = tmp_path / "lab.yaml"
    p.write_text(yaml.safe_dump({"name": "tlint", "provider": "huawei", "security_groups": [
        {"name": "g", "default_rules": False, "rules": [r(ports="80", remote="10.0.0.0/8"),
                                                        r(ports="80", remote="10.1.0.0/16")]}],
        "instances": [{"name": "vm", "security_groups": ["g"]}]}))
    assert cli.main(["lint", str(p)]) == 0  # warnings only: below the default `error`
    assert cli.main(["lint", str(p), "--fail-on", "warning"]) == 1
    capsys.readouterr()
    assert cli.main(["lint", str(p), "--json", "--fail-on", "warning"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["findings"][0]["group"] == "g" and out["findings"][0]["rule"] == 1
    assert set(out["findings"][0]) == {"severity", "group", "rule", "message"}
    p.write_text(yaml.safe_dump({"name": "tlint", "instances": [{"name": "vm", "security_groups":
                                                                  ["Sys-FullAccess"]}]}))
    assert cli.main(["lint", str(p)]) == 1  # everything open to the world: errors

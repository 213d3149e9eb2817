"""Complete answers on the real kernel (needs root): diff over the whole space, an instance's
access table, intents, each class confirmed by packets (sent from the lab's outside world
where no lab host holds the address)."""

import copy
import json
import xml.etree.ElementTree as ET

import pytest
import yaml

from helpers.cli import lab_up, sgnet as cli
from sgnet.kernel import netns

pytestmark = pytest.mark.kernel

LAB = {"name": "tcom", "provider": "huawei",
       "vpcs": [{"name": "v", "cidr": "10.44.0.0/16", "ipv6_cidr": "fd00:44::/48",
                 "subnets": [{"name": "web", "cidr": "10.44.1.0/24",
                              "ipv6_cidr": "fd00:44:0:1::/64"},
                             {"name": "data", "cidr": "10.44.2.0/24",
                              "ipv6_cidr": "fd00:44:0:2::/64"}]}],
       "security_groups": [
           {"name": "web", "default_rules": False, "rules": [
               {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "443",
                "remote": "0.0.0.0/0"},
               {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "443",
                "ethertype": "IPv6", "remote": "::/0"},
               {"direction": "egress", "action": "allow", "protocol": "all",
                "remote": "0.0.0.0/0"}]},
           {"name": "db", "default_rules": False, "rules": [
               {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "5432",
                "remote_group": "web"},
               {"direction": "egress", "action": "allow", "protocol": "all",
                "remote": "0.0.0.0/0"}]}],
       "instances": [{"name": "web1", "subnet": "web", "security_groups": ["web"]},
                     {"name": "db1", "subnet": "data", "security_groups": ["db"]}],
       "externals": [{"name": "internet", "ip": "203.0.113.10", "ipv6": "2001:db8::10"}]}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with lab_up(tmp_path_factory.mktemp("com"), LAB) as p:
        yield p


def _the_issue_change():
    """Redis opened to the world on db1, udp/1000-2000 to 100.64.0.0/10, HTTPS on the web
    tier narrowed from the world to one /24."""
    changed = copy.deepcopy(LAB)
    web, db = changed["security_groups"]
    web["rules"][0]["remote"] = "198.51.100.0/24"
    db["rules"] += [{"direction": "ingress", "action": "allow", "protocol": "tcp",
                     "ports": "6379", "remote": "0.0.0.0/0"},
                    {"direction": "ingress", "action": "allow", "protocol": "udp",
                     "ports": "1000-2000", "remote": "100.64.0.0/10"}]
    return changed


def test_diff_finds_every_class_the_change_turns_and_confirms_each(lab, tmp_path):
    p = tmp_path / "changed.yaml"
    p.write_text(yaml.safe_dump(_the_issue_change()))
    before = {n: cli("exec", "tcom", n, "--", "nft", "-s", "list", "ruleset").stdout
              for n in ("web1", "db1")}
    junit = tmp_path / "d.xml"
    r = cli("diff", "tcom", p, "--json", "--junit", junit)
    assert r.returncode == 0, r.stdout + r.stderr
    d = json.loads(r.stdout)
    rows = {(x["dst"], x["protocol"], x["ports"], x["family"], x["before"], x["after"])
            for x in d["gained"] + d["lost"]}
    assert rows == {("db1", "tcp", "6379", 4, "deny", "allow"),
                    ("db1", "udp", "1000-2000", 4, "deny", "allow"),
                    ("web1", "tcp", "443", 4, "allow", "deny")}
    redis = next(x for x in d["gained"] if x["ports"] == "6379")
    assert redis["src"] == ["web1", "internet", "0.0.0.0/0"]
    assert redis["decided_by"]["group"] == "db" and redis["decided_by"]["rule"] == 2
    cgnat = next(x for x in d["gained"] if x["ports"] == "1000-2000")
    assert cgnat["remote"]["cidrs"] == ["100.64.0.0/10"] and cgnat["remote"]["hosts"] == []
    https = d["lost"][0]
    assert "198.51.100.0/24" in https["remote"]["all_except"]
    # every class confirmed by real packets on the clone: its first and last port and address
    for x in d["gained"] + d["lost"]:
        assert x["confirmed"] is True, x
        assert len(x["probes"]) == 2 and all(p["confirmed"] for p in x["probes"])
        for pr in x["probes"]:
            assert pr["observed"] == x["after"]
            assert (pr["observed_by"]["group"], pr["observed_by"]["rule"]) == \
                (x["decided_by"]["group"], x["decided_by"]["rule"])
    # the probes of 100.64.0.0/10 came from the outside world, with an address in it
    assert all(pr["from"] == "world" and pr["src"].startswith("100.") for pr in cgnat["probes"])
    assert {pr["port"] for pr in cgnat["probes"]} == {1000, 2000}
    assert d["summary"]["clone_mismatches"] == 0 and d["summary"]["classes"] == 3
    # the running lab untouched, the clone gone, a JUnit case per class
    assert {n: cli("exec", "tcom", n, "--", "nft", "-s", "list", "ruleset").stdout
            for n in ("web1", "db1")} == before
    assert netns.list_names(d["clone"] + "-") == []
    assert len(ET.parse(junit).getroot().findall(".//testcase")) == 3
    text = cli("diff", "tcom", p)
    assert text.returncode == 0
    assert "db1/eth0 ingress udp/1000-2000 from 100.64.0.0/10: deny -> allow (db rule 3)" \
        in text.stdout


def test_diff_with_ports_narrows(lab, tmp_path):
    p = tmp_path / "changed.yaml"
    p.write_text(yaml.safe_dump(_the_issue_change()))
    r = cli("diff", "tcom", p, "--ports", "tcp/6379,tcp/22", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert [(x["dst"], x["ports"]) for x in d["gained"] + d["lost"]] == [("db1", "6379")]
    assert d["scope"] == {"families": [4], "ports": ["tcp/6379", "tcp/22"]}


def test_access_table_of_an_instance(lab):
    r = cli("explain", "tcom", "db1", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    t = json.loads(r.stdout)
    [eth0] = t["enis"]
    allowed = [(x["family"], x["protocol"], x["ports"], x["src"]) for x in eth0["ingress"]
               if x["verdict"] == "allow"]
    assert allowed == [(4, "tcp", "5432", ["web1", "10.44.1.2/32"])] or \
        [a[:3] for a in allowed] == [(4, "tcp", "5432")]
    # what it sends: everything over IPv4, nothing over IPv6 (no IPv6 egress rule)
    out = {(x["family"], x["protocol"], x["verdict"]) for x in eth0["egress"]}
    assert (4, "tcp", "allow") in out and (6, "tcp", "deny") in out
    assert t["summary"]["disagree"] == 0 and t["summary"]["confirmed"] == t["summary"]["classes"]
    text = cli("explain", "tcom", "db1").stdout
    assert "accepts:" in text and "db1/eth0 ingress tcp/5432 from 10.44.1.2/32 (web1): allow" \
        in text


def test_verify_intents(lab, tmp_path):
    intents = {"intents": [
        {"name": "no-db-from-internet", "from": "internet", "to": "db1", "traffic": "all",
         "expect": "deny"},
        {"name": "web-reaches-db", "from": "web1", "to": "db1", "traffic": "tcp/5432",
         "expect": "allow"},
        {"name": "only-https-on-web", "from": "any", "to": "web1", "traffic": "tcp/443",
         "expect": "only"},
        {"name": "no-ssh-anywhere", "from": "0.0.0.0/0", "to": "any", "traffic": "tcp/22",
         "expect": "deny"}]}
    p = tmp_path / "i.yaml"
    p.write_text(yaml.safe_dump(intents))
    junit = tmp_path / "v.xml"
    r = cli("verify", "tcom", p, "--json", "--junit", junit)
    assert r.returncode == 1, r.stdout + r.stderr
    v = json.loads(r.stdout)
    assert [i["holds"] for i in v["intents"]] == [True, False, True, True]
    # web1 reaches db1 over IPv4 only: both groups' rules are IPv4 (their ethertype's
    # default); over IPv6 web1's own egress stops it, end to end
    bad = v["intents"][1]["violations"]
    assert [(x["family"], x["protocol"], x["ports"], x["verdict"], x["decided_by"]["direction"])
            for x in bad] == [(6, "tcp", "5432", "deny", "egress")]
    assert bad[0]["src"][0] == "web1" and bad[0]["dst"] == "db1"
    assert bad[0]["confirmed"] is True and bad[0]["probes"][0]["from"] == "web1"
    assert v["summary"]["violated"] == 1 and v["summary"]["disagree"] == 0
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert len(cases) == 4 and len(ET.parse(junit).getroot().findall(".//failure")) == 1
    # from anywhere: db1 admits tcp/5432 from web1 only; every other source is a class
    intents["intents"] = [{"name": "db-from-everywhere", "from": "any", "to": "db1",
                           "traffic": "tcp/5432", "expect": "allow"}]
    p.write_text(yaml.safe_dump(intents))
    r = cli("verify", "tcom", p, "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    v = json.loads(r.stdout)
    bad = v["intents"][0]["violations"]
    assert {x["family"] for x in bad} == {4, 6}
    for x in bad:
        assert x["verdict"] == "deny" and x["confirmed"] is True, x
    four = next(x for x in bad if x["family"] == 4)
    assert four["remote"]["all_except"] == ["10.44.1.2/32"]
    text = cli("verify", "tcom", p).stdout
    assert "db-from-everywhere: VIOLATED" in text
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text(yaml.safe_dump({"intents": [{"name": "x", "from": "nobody",
                                                      "to": "db1", "traffic": "all",
                                                      "expect": "deny"}]}))
    r = cli("verify", "tcom", bad_file)
    assert r.returncode == 2 and "intents[0].from" in r.stderr and "nobody" in r.stderr
    assert "Traceback" not in r.stderr


def test_report_has_access_tables_the_diff_and_the_intents(lab, tmp_path):
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(_the_issue_change()))
    intents = tmp_path / "i.yaml"
    intents.write_text(yaml.safe_dump({"intents": [
        {"name": "no-db-from-internet", "from": "internet", "to": "db1", "traffic": "all",
         "expect": "deny"}]}))
    out = tmp_path / "r.html"
    r = cli("report", "tcom", "-o", out, "--diff", changed, "--verify", intents, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    page = out.read_text()
    assert page.count('<details class="access"') == 2  # web1, db1
    assert 'id="diff"' in page and "3 classes of traffic change" in page
    assert 'data-intent="no-db-from-internet"' in page and 'class="ok">holds' in page
    assert "the kernel disagrees" not in page and "<b>violated</b>" not in page

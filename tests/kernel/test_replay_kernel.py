"""sgnet replay on the real kernel (needs root): the flow-log samples of tests/exports/flowlogs/
(shaped as the providers' documents describe them) replayed on a lab holding their
addresses, and against a change on a clone."""

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from helpers.cli import lab_up, sgnet as cli

pytestmark = pytest.mark.kernel
LOGS = Path(__file__).parents[1] / "exports" / "flowlogs"

# the Alibaba samples' instance: 172.16.1.21 and 2001:db8:a:1::21 (one ENI, with the id the
# samples' records name, as an imported lab keeps it)
LAB = {"name": "trep", "provider": "alibaba",
       "vpcs": [{"name": "v", "cidr": "172.16.0.0/16", "ipv6_cidr": "2001:db8:a::/48",
                 "subnets": [{"name": "s", "cidr": "172.16.1.0/24",
                              "ipv6_cidr": "2001:db8:a:1::/64"}]}],
       "security_groups": [{"name": "web", "rules": [
           {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "22",
            "remote": "0.0.0.0/0"},
           {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "443",
            "ethertype": "IPv6", "remote": "::/0"},
           {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "8080",
            "remote": "10.0.0.0/8"}]}],
       "instances": [{"name": "web1", "subnet": "s", "security_groups": ["web"],
                      "ip": "172.16.1.21", "ipv6": "2001:db8:a:1::21",
                      "eni_id": "eni-bp1e8s0fj7dtsfkbgdqx"}],
       "externals": []}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with lab_up(tmp_path_factory.mktemp("rep"), LAB) as p:
        yield p


def test_replay_agrees_with_what_production_logged(lab, tmp_path):
    junit = tmp_path / "r.xml"
    r = cli("replay", "trep", LOGS / "alibaba_flows.jsonl", "--json", "--junit", junit)
    assert r.returncode == 0, r.stdout + r.stderr
    d = json.loads(r.stdout)
    rows = {(x["src"], x["dst"], x["port"], x["direction"]): x for x in d["flows"]}
    # SSH from the internet: logged ACCEPT at the ENI's ingress, allowed now by web rule 0,
    # sent from the outside world (203.0.113.10 is no host of the lab)
    ssh = rows[("203.0.113.10", "172.16.1.21", 22, "ingress")]
    assert ssh["logged"] == {"accept": 1} and ssh["now"]["observed"] == "allow"
    assert ssh["now"]["decided_by"]["rule"] == 0 and ssh["disagree"] == []
    assert ssh["now"]["observed_by"]["rule"] == 0
    # MySQL rejected in production and denied by the lab: the same
    mysql = rows[("198.51.100.7", "172.16.1.21", 3306, "ingress")]
    assert mysql["logged"] == {"reject": 1} and mysql["now"]["observed"] == "deny"
    # the answer of the SSH connection (22 -> 51514) is folded, not a flow of its own
    assert d["summary"]["replies"] == 1
    assert ("172.16.1.21", "203.0.113.10", 51514, "egress") not in rows
    # ICMP out to the world: egress allowed by Alibaba's default egress
    assert rows[("172.16.1.21", "198.51.100.53", None, "egress")]["now"]["observed"] == "allow"
    assert d["summary"]["records"] == 4 and d["summary"]["disagree"] == 0
    usage = {(u["group"], u["rule"]): u for u in d["rules"]}
    assert usage[("web", 0)]["records"] == 1 and usage[("web", 1)]["records"] == 1
    assert usage[("web", 2)]["unused"] and usage[("web", 2)]["records"] == 0
    assert len(ET.parse(junit).getroot().findall(".//testcase")) == len(d["flows"])
    text = cli("replay", "trep", LOGS / "alibaba_flows.jsonl").stdout
    assert "candidates for removal" in text and "web rule 2" in text


def test_replay_names_the_records_production_and_the_lab_disagree_on(lab, tmp_path):
    r = cli("replay", "trep", LOGS / "huawei_flows.jsonl", "--json")
    # Huawei's sample addresses (192.168.1.11) are no host of this lab: nothing to replay
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["summary"]["outside_the_lab"] == 3
    lines = [json.loads(x) for x in (LOGS / "alibaba_flows.jsonl").read_text().splitlines()
             if x.strip()]
    lines[2]["action"] = "ACCEPT"  # production let MySQL in: the lab does not
    p = tmp_path / "flows.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    r = cli("replay", "trep", p, "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    d = json.loads(r.stdout)
    bad = [x for x in d["flows"] if x["disagree"]]
    assert [(x["port"], x["disagree"], x["now"]["observed"]) for x in bad] == \
        [(3306, ["accept"], "deny")]
    assert bad[0]["now"]["decided_by"]["group"] is None  # the default decides it
    assert d["summary"]["disagree"] == 1


def test_an_echo_reply_logged_alone_and_a_record_of_another_eni(lab, tmp_path):
    """The reply of the samples' ICMP echo out, logged coming in on its own: no ports say
    it is a reply; the lab's ingress lets no ICMP in as a new connection, but the echo went
    through, so it is that echo's answer (a reply), not a disagreement. A record naming
    another ENI id from the instance's address is another ENI of the cloud: outside."""
    lines = [json.loads(x) for x in (LOGS / "alibaba_flows.jsonl").read_text().splitlines()
             if x.strip()]
    echo = next(x for x in lines if x["protocol"] == "1")
    reply = dict(echo, srcaddr=echo["dstaddr"], dstaddr=echo["srcaddr"], direction="in")
    other = dict(lines[0], **{"eni-id": "eni-bp1aaaaaaaaaaaaaaaaa", "dstport": "3306"})
    p = tmp_path / "flows.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in lines + [reply, other]) + "\n")
    r = cli("replay", "trep", p, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    d = json.loads(r.stdout)
    assert d["summary"]["replies"] == 2  # the SSH answer and the echo's reply
    assert d["summary"]["disagree"] == 0 and d["summary"]["outside_the_lab"] == 1
    assert not [x for x in d["flows"] if x["src"] == "198.51.100.53"]
    # the reply, sent as a new connection, is what the lab denies (so it was folded)
    alone = p.with_name("reply.jsonl")
    alone.write_text(json.dumps(reply) + "\n")
    r = cli("replay", "trep", alone, "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["summary"]["disagree"] == 1


def test_replay_against_a_change_says_what_it_cuts(lab, tmp_path):
    changed = copy.deepcopy(LAB)
    changed["security_groups"][0]["rules"][0]["remote"] = "10.0.0.0/8"  # SSH: VPN only
    p = tmp_path / "changed.yaml"
    p.write_text(yaml.safe_dump(changed))
    before = cli("exec", "trep", "web1", "--", "nft", "-s", "list", "ruleset").stdout
    r = cli("replay", "trep", LOGS / "alibaba_flows.jsonl", "--against", p, "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    d = json.loads(r.stdout)
    cut = [x for x in d["flows"] if x.get("cut")]
    assert [(x["src"], x["port"]) for x in cut] == [("203.0.113.10", 22)]
    assert cut[0]["after"]["observed"] == "deny" and cut[0]["after"]["decided_by"]["group"] \
        is None
    assert d["summary"]["cut"] == 1 and d["summary"]["opened"] == 0
    assert cli("exec", "trep", "web1", "--", "nft", "-s", "list", "ruleset").stdout == before


def test_a_file_that_is_no_flow_log_is_refused(lab, tmp_path):
    r = cli("replay", "trep", lab)  # the lab file itself
    assert r.returncode == 2 and str(lab) in r.stderr and "Traceback" not in r.stderr


def test_report_shows_the_replay_and_each_rules_use(lab, tmp_path):
    out = tmp_path / "r.html"
    r = cli("report", "trep", "-o", out, "--replay", LOGS / "alibaba_flows.jsonl")
    assert r.returncode == 0, r.stdout + r.stderr
    page = out.read_text()
    assert 'id="replay"' in page and 'id="rule-usage"' in page
    assert 'data-rule="web/2"' in page and "candidate for removal" in page
    assert "4 records of" in page and "0 records disagree" in page


def test_points_are_probed_in_runs_and_agree_with_one_run(lab, monkeypatch):
    """classprobe.probe_points sends at most CHUNK points a run (a source's tags must stay
    distinct): split into runs of two, the replay's verdicts are those of one run."""
    from sgnet import classprobe, replaying
    from sgnet.session import LabSession
    sess = LabSession.attach("trep")
    one = replaying.replay(sess, [str(LOGS / "alibaba_flows.jsonl")])
    monkeypatch.setattr(classprobe, "CHUNK", 2)
    runs = replaying.replay(sess, [str(LOGS / "alibaba_flows.jsonl")])
    assert len(one["flows"]) > 2  # more points than one run of two holds

    def seen(r):
        return [(x["src"], x["dst"], x["port"], x["now"]["observed"], x["now"]["observed_by"])
                for x in r["flows"]]
    assert seen(runs) == seen(one) and runs["summary"] == one["summary"]

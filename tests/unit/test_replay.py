"""Replay (pure): records mapped onto a lab, folded into distinct flows, answers folded
into the connection they answer, the logging ENI found, rule usage counted."""

import copy
import dataclasses
import ipaddress

from sgnet.core import labspec, replay
from sgnet.core.evaluator import Evaluator
from sgnet.core.flowrecords import FlowRecord

LAB = {"name": "rp", "provider": "huawei",
       "vpcs": [{"name": "v", "cidr": "10.9.0.0/16",
                 "subnets": [{"name": "s", "cidr": "10.9.1.0/24"}]}],
       "security_groups": [{"name": "web", "default_rules": False, "rules": [
           {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "22",
            "remote": "0.0.0.0/0"},
           {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "80",
            "remote": "0.0.0.0/0"}]}],
       "instances": [{"name": "a", "subnet": "s", "security_groups": ["web"]},
                     {"name": "b", "subnet": "s", "security_groups": ["web"]}],
       "externals": []}


def rec(src, sport, dst, dport, action="accept", direction=None, proto=6, line=1):
    return FlowRecord("huawei", "eni-x", ipaddress.ip_address(src), ipaddress.ip_address(dst),
                      sport, dport, proto, 1, 60, 0, 60, action, direction, "OK", line, "f")


def _lab():
    return labspec.parse(copy.deepcopy(LAB), "<rp>")


def test_records_fold_into_flows_and_answers_into_their_connection():
    lab = _lab()
    a, b = (str(i.primary.ip) for i in lab.instances)
    rp = replay.Replay(lab)
    for k in range(5):  # five connections from the world to a's SSH, and their answers
        rp.add(rec("203.0.113.9", 40000 + k, a, 22, line=2 * k))
        rp.add(rec(a, 22, "203.0.113.9", 40000 + k, line=2 * k + 1))
    rp.add(rec(b, 51000, a, 80))   # instance to instance: logged at a (ingress)
    rp.add(rec("198.51.100.1", 1, "198.51.100.2", 2))  # nothing of the lab
    flows = rp.distinct()
    assert sorted((f.src, f.dst, f.port, f.records) for f in flows) == sorted(
        [("203.0.113.9", a, 22, 5), (b, a, 80, 1)])
    assert rp.replies == 5 and rp.outside == 1 and rp.records == 6
    ssh = next(f for f in flows if f.port == 22)
    assert ssh.logged == {("a/eth0", "ingress"): {"accept": 5}}


def test_the_logging_eni_and_direction():
    lab = _lab()
    a = str(lab.instances[0].primary.ip)
    eni, d = replay.logged_at(lab, rec(a, 1234, "203.0.113.9", 443))
    assert (eni.instance, d) == ("a", "egress")
    eni, d = replay.logged_at(lab, rec("203.0.113.9", 1234, a, 443, direction="ingress"))
    assert (eni.instance, d) == ("a", "ingress")
    assert replay.logged_at(lab, rec("203.0.113.9", 1, "198.51.100.1", 2)) is None


def test_an_imported_lab_maps_records_by_the_eni_id_they_name():
    """A lab whose ENIs keep the cloud's ids (import): a record is the ENI's its id names,
    its direction read from which end the ENI holds; a record naming another id, from an
    address an ENI of the lab holds under another id, is another ENI of the cloud (another
    VPC reusing the private range): not the lab's."""
    raw = copy.deepcopy(LAB)
    raw["instances"][0]["eni_id"] = "eni-a0"
    raw["instances"][0]["secondary_enis"] = [{"subnet": "s", "eni_id": "eni-a1"}]
    lab = labspec.parse(raw, "<rp>")
    a = lab.instance("a")
    a0, a1, b = str(a.primary.ip), str(a.enis[1].ip), str(lab.instance("b").primary.ip)

    def named(eni_id, src, dst, direction=None):
        return dataclasses.replace(rec(src, 40000, dst, 22, direction=direction), eni=eni_id)
    eni, d = replay.logged_at(lab, named("eni-a1", "203.0.113.9", a1))
    assert (eni.instance, eni.index, d) == ("a", 1, "ingress")
    eni, d = replay.logged_at(lab, named("eni-a1", a1, "203.0.113.9"))
    assert (eni.index, d) == (1, "egress")
    eni, d = replay.logged_at(lab, named("eni-a0", "203.0.113.9", a0))
    assert (eni.index, d) == (0, "ingress")
    assert replay.logged_at(lab, named("eni-elsewhere", "203.0.113.9", a0)) is None
    # an ENI the lab keeps no id for (b's) is still found by its address
    eni, d = replay.logged_at(lab, named("eni-unknown", "203.0.113.9", b))
    assert (eni.instance, d) == ("b", "ingress")
    rp = replay.Replay(lab)
    rp.add(named("eni-elsewhere", "203.0.113.9", a0))
    assert rp.outside == 1 and rp.records == 0


def test_rows_compare_the_logged_action_with_the_lab_there_and_count_rule_usage():
    lab = _lab()
    ev = Evaluator(lab)
    a = str(lab.instances[0].primary.ip)
    rp = replay.Replay(lab)
    rp.add(rec("203.0.113.9", 40000, a, 22))
    rp.add(rec("203.0.113.9", 40001, a, 3306, action="accept"))
    rows = []
    for f in rp.distinct():
        # what the kernel said: as the model (22 allowed by rule 0, 3306 by the default)
        d = replay.step_decision(ev, lab, f, next(iter(f.logged)))
        now = {"observed": d.verdict, "observed_by": d.to_dict()}
        rows += replay.flow_record(lab, ev, f, now)
    by_port = {r["port"]: r for r in rows}
    assert by_port[22]["disagree"] == [] and by_port[3306]["disagree"] == ["accept"]
    s = replay.summary(rows, 2, 0, 1)
    assert (s["records"], s["disagree"], s["skipped"], s["malformed"]) == (2, 1, 2, 1)
    usage = {(u["group"], u["rule"]): u for u in replay.rule_usage(lab, rows)}
    assert usage[("web", 0)]["records"] == 1 and not usage[("web", 0)]["unused"]
    assert usage[("web", 1)]["unused"]


def test_the_kernel_at_the_logging_direction():
    assert replay.observed_at({"observed": "allow"}, "ingress") == "allow"
    dropped_in = {"observed": "deny", "observed_by": {"direction": "ingress"}}
    assert replay.observed_at(dropped_in, "ingress") == "deny"
    assert replay.observed_at(dropped_in, "egress") == "allow"  # it left the source
    dropped_out = {"observed": "deny", "observed_by": {"direction": "egress"}}
    assert replay.observed_at(dropped_out, "ingress") is None  # never got there
    assert replay.observed_at({"observed": "lost"}, "ingress") is None


def test_an_echo_reply_logged_alone_is_the_answer_of_the_echo_that_went_through():
    """ICMP has no ports to tell a reply from a request: a flow is the answer of its
    reverse when the reverse went through the lab and it, as a new connection, did not,
    and production accepted it. Not when production rejected some of it, nor when the
    reverse did not go through, nor for TCP (its answers fold by ports)."""
    lab = _lab()
    a = str(lab.instances[0].primary.ip)
    rp = replay.Replay(lab)
    rp.add(rec(a, None, "198.51.100.53", None, proto=1))  # the echo, out
    rp.add(rec("198.51.100.53", None, a, None, proto=1))  # its reply, in
    rp.add(rec(a, None, "198.51.100.54", None, proto=1, action="reject"))
    rp.add(rec("198.51.100.54", None, a, None, proto=1))  # the reverse was rejected
    rp.add(rec(a, None, "198.51.100.55", None, proto=1))
    rp.add(rec("198.51.100.55", None, a, None, proto=1, action="reject"))
    flows = rp.distinct()
    by = {(f.src, f.dst): k for k, f in enumerate(flows)}
    now = [{"observed": "allow" if f.src == a and not f.dst.endswith(".54") else "deny"}
           for f in flows]
    assert replay.answers_alone(flows, now) == {by[("198.51.100.53", a)]}
    tcp = [replay.Flow(6, "198.51.100.53", a, 22, 4, 1, {("a/eth0", "ingress"): {"accept": 1}}),
           replay.Flow(6, a, "198.51.100.53", 22, 4, 1, {("a/eth0", "egress"): {"accept": 1}})]
    assert replay.answers_alone(tcp, [{"observed": "deny"}, {"observed": "allow"}]) == set()

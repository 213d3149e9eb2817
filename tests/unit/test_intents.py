"""Intents (pure): read with clear errors, checked over the whole space; end to end from an
instance, as the evaluator judges each flow."""

import copy

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from sgnet import labgen
from sgnet.core import classes, headerspace as hs, intents, labspec
from sgnet.core.errors import FieldError
from sgnet.core.evaluator import Evaluator

LAB = {"name": "it", "provider": "huawei",
       "vpcs": [{"name": "v", "cidr": "10.0.0.0/16", "ipv6_cidr": "fd00:9::/48",
                 "subnets": [{"name": "s", "cidr": "10.0.1.0/24",
                              "ipv6_cidr": "fd00:9:0:1::/64"}]}],
       "security_groups": [
           {"name": "web", "default_rules": False, "rules": [
               {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "443",
                "remote": "0.0.0.0/0"},
               {"direction": "egress", "action": "allow", "protocol": "tcp",
                "ports": "3306", "remote_group": "db"}]},
           {"name": "db", "default_rules": False, "rules": [
               {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "3306",
                "remote_group": "web"},
               {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "6379",
                "remote": "0.0.0.0/0"}]}],
       "instances": [{"name": "web1", "subnet": "s", "security_groups": ["web"]},
                     {"name": "db1", "subnet": "s", "security_groups": ["db"]}],
       "externals": [{"name": "internet", "ip": "203.0.113.10", "ipv6": "2001:db8::10"}]}


def _analysis(raw):
    return classes.Analysis(Evaluator(labspec.parse(copy.deepcopy(raw), "<it>")))


def _check(raw, **intent):
    an = _analysis(raw)
    it = intents.parse({"intents": [dict({"name": "x"}, **intent)]}, "i.yaml", an.lab)[0]
    return intents.check(an, it)


def test_no_db_from_the_internet_is_violated_by_redis():
    bad = _check(LAB, **{"from": "internet", "to": "db1", "traffic": "all", "expect": "deny"})
    assert [(c.protocol_text(), c.ports_text(), c.family) for c in bad] == [("tcp", "6379", 4)]
    assert bad[0].ranges == [(hs.span(__import__("ipaddress").ip_network("203.0.113.10")))]
    assert (bad[0].decision.group, bad[0].decision.rule) == ("db", 1)


def test_only_https_from_anywhere_holds_on_web():
    ok = _check(LAB, **{"from": "any", "to": "web1", "traffic": "tcp/443", "expect": "only"})
    # IPv6: nothing is open, so tcp/443 from ::/0 is a violation (denied) of `only`
    assert {(c.family, c.decision.verdict) for c in ok} == {(6, "deny")}
    ok4 = _check(LAB, **{"from": "0.0.0.0/0", "to": "web1", "traffic": "tcp/443",
                         "expect": "only"})
    assert ok4 == []


def test_end_to_end_from_an_instance_needs_its_egress_too():
    # web's egress rule is IPv4 (its ethertype's default): over IPv6 web1 sends nothing
    bad6 = _check(LAB, **{"from": "web1", "to": "db1", "traffic": "tcp/3306",
                          "expect": "allow"})
    assert [(c.family, c.decided_at, c.decision.group) for c in bad6] == [(6, "egress", None)]
    bad = [c for c in _check(LAB, **{"from": "web1", "to": "db1", "traffic": "tcp/6379",
                                     "expect": "allow"}) if c.family == 4]
    # db1 admits 6379 from anywhere, but web1's egress lets only 3306 out
    assert bad and all(c.decided_at == "egress" for c in bad)
    assert {c.ports_text() for c in bad} == {"6379"}


def test_only_reports_what_else_passes():
    bad = _check(LAB, **{"from": "internet", "to": "db1", "traffic": "tcp/3306",
                         "expect": "only"})
    texts = {(c.protocol_text(), c.ports_text(), c.decision.verdict) for c in bad}
    assert ("tcp", "6379", "allow") in texts  # passes though not named
    assert ("tcp", "3306", "deny") in texts   # named, but does not pass


@pytest.mark.parametrize("intent,field,shown", [
    ({"from": "nobody", "to": "db1", "traffic": "all", "expect": "deny"}, "from", "nobody"),
    ({"from": "any", "to": "internet", "traffic": "all", "expect": "deny"}, "to", "internet"),
    ({"from": "any", "to": "db1", "traffic": "tcp/99999", "expect": "deny"}, "traffic",
     "tcp/99999"),
    ({"from": "any", "to": "db1", "traffic": "icmp/3", "expect": "deny"}, "traffic", "icmp/3"),
    ({"from": "any", "to": "db1", "traffic": "all", "expect": "maybe"}, "expect", "maybe"),
    ({"from": "group:nope", "to": "db1", "traffic": "all", "expect": "deny"}, "from",
     "group:nope"),
    ({"to": "db1", "traffic": "all", "expect": "deny"}, "from", None),
])
def test_bad_intents_name_the_file_the_field_and_the_value(intent, field, shown):
    lab = labspec.parse(copy.deepcopy(LAB), "<it>")
    with pytest.raises(FieldError) as e:
        intents.parse({"intents": [dict({"name": "n"}, **intent)]}, "i.yaml", lab)
    msg = str(e.value)
    assert msg.startswith("i.yaml: intents[0].") and field in msg
    if shown:
        assert shown in msg


def test_a_file_that_is_no_intents_file_is_refused():
    lab = labspec.parse(copy.deepcopy(LAB), "<it>")
    for doc in (None, [], {"intent": []}, {"intents": []}, {"intents": "x"}):
        with pytest.raises(FieldError) as e:
            intents.parse(doc, "i.yaml", lab)
        assert "i.yaml: intents" in str(e.value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=labgen.labs("huawei"), data=st.data())
def test_end_to_end_intents_agree_with_the_evaluator(raw, data):
    """From one instance to another, for one probe kind: an intent holds exactly when the
    evaluator judges that flow as expected, in every family both ends have."""
    lab = labspec.parse(copy.deepcopy(raw), "<hyp>")
    ev = Evaluator(lab)
    an = classes.Analysis(ev)
    a, b = data.draw(st.sampled_from(lab.instances)), data.draw(st.sampled_from(lab.instances))
    if a.name == b.name:
        return
    proto, port = data.draw(st.sampled_from(labgen.PROBES))
    expect = data.draw(st.sampled_from(["allow", "deny"]))
    text = "icmp" if proto == "icmp" else f"{'tcp' if proto == 6 else 'udp'}/{port}"
    it = intents.parse({"intents": [{"name": "p", "from": a.name, "to": b.name,
                                     "traffic": text, "expect": expect}]}, "i", lab)[0]
    bad = intents.check(an, it)
    families = [4] if proto == "icmp" else [4, 6]
    want = True
    for f in families:
        p = (1 if f == 4 else 58) if proto == "icmp" else proto
        for eni in b.enis:
            if eni.address(f) is None or a.primary.address(f) is None:
                continue
            v = ev.evaluate(a.name, str(eni.address(f)), p, port, f).verdict
            want &= v == expect
    assert (not bad) == want, (a.name, b.name, text, expect, bad)

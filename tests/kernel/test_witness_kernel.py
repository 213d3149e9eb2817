"""Witnessed verdicts on the real kernel: every probe's verdict is what a lab rule reported
(NFLOG, the rule's mark), matched against the evaluator rule by rule; a probe nobody
accounts for is `lost`, never a deny; sessions carry the rule that admitted them."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sgnet.kernel import netns

STREAMS = str(Path(__file__).parents[1] / "helpers" / "streams.py")


def witness_lab(name, provider="huawei"):
    """Two VPCs. In the first: web1 (tcp/22 denied from the ops subnet by a rule that
    comes first, allowed from the VPC by a later one; tcp/80 from anywhere), db1 (5432
    from group web only), ops1 in the ops subnet; in the second, far1. An outside host."""
    web = [{"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "80",
            "priority": 1, "remote": "0.0.0.0/0"},
           {"direction": "ingress", "action": "deny", "protocol": "tcp", "ports": "22",
            "priority": 1, "remote": "10.0.2.0/24"},
           {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "22",
            "priority": 2, "remote": "10.0.0.0/16"},
           {"direction": "egress", "action": "allow", "protocol": "all"}]
    own = {"default_rules": False} if provider == "huawei" else {"inner_access": "drop"}
    return {"name": name, "provider": provider,
            "vpcs": [{"name": "v1", "cidr": "10.0.0.0/16", "subnets": [
                {"name": "app", "cidr": "10.0.1.0/24"}, {"name": "ops", "cidr": "10.0.2.0/24"}]},
                {"name": "v2", "cidr": "10.9.0.0/16", "subnets": [
                    {"name": "far", "cidr": "10.9.1.0/24"}]}],
            "security_groups": [
                dict(own, name="web", rules=web),
                dict(own, name="db", rules=[
                    {"direction": "ingress", "action": "allow", "protocol": "tcp",
                     "ports": "5432", "priority": 1, "remote_group": "web"},
                    {"direction": "egress", "action": "allow", "protocol": "all"}])],
            "instances": [{"name": "web1", "subnet": "app", "security_groups": ["web"]},
                          {"name": "db1", "subnet": "app", "security_groups": ["db"]},
                          {"name": "ops1", "subnet": "ops", "security_groups": ["db"]},
                          {"name": "far1", "subnet": "far", "security_groups": ["web"]}],
            "externals": [{"name": "internet", "ip": "203.0.113.10"}]}


PORTS = ["tcp/22", "tcp/80", "tcp/5432", "udp/53", "icmp"]


@pytest.mark.parametrize("provider", ["huawei", "alibaba"])
def test_every_verdict_is_the_rule_the_kernel_reported(sgnet_lab, provider):
    lab = sgnet_lab(witness_lab("twit" + provider[0], provider))
    m = lab.matrix(ports=PORTS)
    res = m["results"]
    assert m["summary"]["wrong"] == 0 and "lost" not in m["summary"], \
        [r for r in res if not r["match"]][:3]
    assert all(r["match"] for r in res)
    by = {(r["src"], r["dst"], r["protocol"], r["port"]): r for r in res}
    # the deny rule that comes first, reported by the kernel, not only modelled
    r = by[("ops1", "web1", "tcp", 22)]
    assert r["observed"] == "deny"
    assert (r["observed_by"]["group"], r["observed_by"]["rule"],
            r["observed_by"]["direction"]) == ("web", 1, "ingress")
    r = by[("db1", "web1", "tcp", 22)]
    assert r["observed"] == "allow" and r["observed_by"]["rule"] == 2
    r = by[("web1", "db1", "tcp", 5432)]
    assert r["observed"] == "allow"
    assert (r["observed_by"]["group"], r["observed_by"]["rule"]) == ("db", 0)
    # the provider's own entry (Huawei: nothing matched; Alibaba: inner access drop), in
    # its own words
    r = by[("ops1", "db1", "tcp", 5432)]
    assert r["observed"] == "deny" and r["observed_by"]["rule"] is None
    assert r["observed_by"] == r["decided_by"]
    # between VPCs the gateway drops it: no group's rule, and the kernel says so
    r = by[("web1", "far1", "tcp", 80)]
    assert r["observed"] == "deny" and r["observed_by"]["direction"] == "route"
    # to the outside world: the source's egress rule let it out
    r = by[("web1", "internet", "tcp", 80)]
    assert r["observed"] == "allow" and r["observed_by"]["direction"] == "egress"
    assert r["observed_by"]["group"] == "web"


def test_layered_lists_report_the_entry_that_decides(sgnet_lab, monkeypatch):
    """Long lists compile into maps of boxes whose value is the deciding entry's mark:
    the first match is still the rule the kernel names."""
    from sgnet.core import compiler
    monkeypatch.setattr(compiler, "LAYER_MIN", 1)
    monkeypatch.setattr(compiler, "MERGE_MIN", 1)
    lab = sgnet_lab(witness_lab("twil"))
    table = lab.exec("web1", ["nft", "list", "chain", "inet", "twil", "in_eth0"]).stdout
    assert "map @" in table, table  # the merged form is the one running
    m = lab.matrix(ports=PORTS)
    assert m["summary"]["wrong"] == 0, [r for r in m["results"] if not r["match"]][:3]
    r = next(r for r in m["results"] if (r["src"], r["dst"], r["port"]) == ("ops1", "web1", 22))
    assert (r["observed"], r["observed_by"]["rule"]) == ("deny", 1)


def test_a_segment_of_no_connection_is_reported_by_the_stateful_rule(sgnet_lab):
    lab = sgnet_lab(witness_lab("twis"))
    v = lab.session.probe("db1", "web1", "tcp/80", tcp_flags="A")
    assert (v["expected"], v["observed"], v["match"]) == ("deny", "deny", True)
    assert v["observed_by"]["direction"] == "egress"  # db1's own tracking drops it
    assert v["observed_by"]["why"].startswith("stateful")


def test_a_denied_probe_does_not_wait_for_the_timeout(sgnet_lab):
    """The drop is reported: a minute's timeout is never waited for (a silence-based
    probe would take it whole)."""
    lab = sgnet_lab(witness_lab("twiw"))
    t = time.monotonic()
    recs = lab.session.verdicts([("ops1", "web1", 6, 22, 4), ("ops1", "db1", 6, 5432, 4)],
                                timeout=60.0)
    assert [r["observed"] for r in recs] == ["deny", "deny"]
    assert time.monotonic() - t < 30


def _link_down(lab, name):
    ns = lab.session.ns_of(name)
    netns.run(ns, lambda ipr: ipr.link("set", index=ipr.link_lookup(ifname="eth0")[0],
                                       state="down"))


def test_a_packet_lost_outside_the_groups_is_lost_not_denied(sgnet_lab):
    """db1's link goes down: web1's probe leaves (its egress rule reports it), but no
    rule drops it and nothing answers. That is a lab fault, `lost`, with what is known;
    the CLI exits 3."""
    lab = sgnet_lab(witness_lab("twlo"))
    ok = lab.probe("web1", "db1", "tcp/5432")  # the plugin's verdict: rules as attributes
    assert ok.observed == "allow" and (ok.observed_by.group, ok.observed_by.rule) == ("db", 0)
    _link_down(lab, "db1")
    v = lab.session.probe("web1", "db1", "tcp/5432", timeout=1.0)
    assert v["observed"] == "lost" and v["match"] is False and "mismatch" not in v
    assert "egress" in v["lost"] and "web rule 3" in v["lost"], v["lost"]
    # a flow the groups deny is still a deny: reported by its rule, not lost
    d = lab.session.probe("ops1", "web1", "tcp/22")
    assert (d["observed"], d["match"]) == ("deny", True)
    r = subprocess.run([sys.executable, "-m", "sgnet.cli", "probe", "twlo", "web1", "db1",
                        "tcp/5432", "--timeout", "0.5"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "LOST" in r.stdout
    m = subprocess.run([sys.executable, "-m", "sgnet.cli", "matrix", "twlo", "--ports",
                        "tcp/5432", "--timeout", "0.5", "--json"], capture_output=True,
                       text=True, timeout=120)
    assert m.returncode == 3
    summary = yaml.safe_load(m.stdout)["summary"]
    assert summary["lost"] >= 1 and summary["wrong"] == 0


def _start(lab, name, *args):
    p = lab.popen(name, [sys.executable, STREAMS, *map(str, args)], stdout=subprocess.PIPE,
                  text=True)
    assert p.stdout.readline().strip() in ("ready", "started")
    return p


def test_status_lists_sessions_with_the_rule_that_admitted_them_and_a_cut_names_its_rule(
        sgnet_lab):
    lab = sgnet_lab(witness_lab("twst"))
    db = str(lab.lab.instance("db1").primary.ip)
    server = _start(lab, "db1", "tcp_echo_server", db, 5432)
    client = lab.popen("web1", [sys.executable, STREAMS, "tcp_idle_client", db, 5432, "30"],
                       stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            st = lab.session.status()
            db1 = next(i for i in st["instances"] if i["name"] == "db1")
            ours = [s for s in db1["sessions"] if s["dport"] == 5432 and s["dst"] == db]
            if ours or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert ours, db1["sessions"]
        admitted = ours[0]["admitted_by"]
        assert (admitted["direction"], admitted["group"], admitted["rule"]) == \
            ("ingress", "db", 0)
        web1 = next(i for i in st["instances"] if i["name"] == "web1")
        out = [s for s in web1["sessions"] if s["dport"] == 5432]
        assert out and out[0]["admitted_by"]["direction"] == "egress"
        assert out[0]["admitted_by"]["group"] == "web"
        # the rule goes: Huawei re-checks inbound sessions, the kernel names the new rule
        res = lab.session.rule_delete("db", direction="ingress", action="allow",
                                      protocol="tcp", ports="5432", remote_group="web",
                                      priority=1)
        assert res["sessions_cut"] >= 1
        cut = [c for c in res["cut"] if c["dport"] == 5432]
        assert cut and cut[0]["instance"] == "db1"
        assert cut[0]["decided_by"]["group"] is None  # nothing lets it in: the default
        assert cut[0]["observed"] == "deny" and cut[0]["match"] is True
        assert cut[0]["observed_by"]["why"] == cut[0]["decided_by"]["why"]
    finally:
        for p in (client, server):
            p.kill()
            p.wait()


class _Gate:
    def __init__(self):
        self.said = []

    def say(self, step, reached=()):
        self.said.append(step)

    def wait(self, word):
        self.said.append(word)
        return []


def test_a_gated_run_says_every_step_even_when_its_workers_ended_first():
    """Over several hosts the controller waits for each host's "ready" and "sent": a host
    whose probes all settled before it looked (its workers ended) still says both (a
    single cross-host probe once ended its host's run without "sent")."""
    from sgnet.kernel.probe import witnessed
    shared = witnessed._Shared(1, 1)
    shared.progress(0, 1, 1, 1, 1, time.monotonic())  # ready, and everything settled
    gate = _Gate()
    assert witnessed._gated(shared, gate, lambda: ["done"], [], [], []) == ["done"]
    assert gate.said == ["ready", "go", "sent", "stop"]

    def broken():
        raise RuntimeError("a socket failed")
    gate = _Gate()
    with pytest.raises(RuntimeError):
        witnessed._gated(witnessed._Shared(1, 1), gate, broken, [], [], [])
    assert gate.said == []  # the answer says what went wrong


class _ThreadRun:
    """One "host" of a gated run in a thread of this process: witnessed.run with a gate
    that speaks to the controller (sgnet.hosts.driver._gated_probe) through queues, as an
    agent does through its standard input and output."""

    def __init__(self, specs, sent, watch):
        import queue
        import threading
        self.up, self.down, self.out = queue.Queue(), queue.Queue(), {}
        run = self

        class Gate:
            def say(self, step, reached=()):
                run.up.put({"step": step, "reached": list(reached)})

            def wait(self, word):  # as sgnet.hosts.agent.StdioGate reads its input
                due = []
                while True:
                    said, _, probes = run.down.get().partition(" ")
                    if said == word:
                        return due
                    assert said == "due"
                    due += json.loads(probes)

        from sgnet.kernel.probe import witnessed
        self.thread = threading.Thread(target=lambda: self.out.update(
            witnessed.run(specs, sent, watch, timeout=1.0, gate=Gate())))
        self.thread.start()

    def expect(self, step):
        said = self.up.get(timeout=30)
        assert said["step"] == step
        return said

    def tell(self, word):
        self.down.put(word)

    def answer(self):
        self.thread.join(30)
        return self.out

    def kill(self):
        pass


def test_a_destination_on_another_host_is_heard_though_its_kernel_holds_the_report(
        sgnet_lab, monkeypatch):
    """Over several hosts the sender's host settles a probe on its answer and says "sent";
    the destination's host must still hear the report of the rule that let the probe in,
    which its kernel may hold for a while (nflog.FLUSH; here 100 ms, as a loaded machine
    might). A run once stopped listening there on the controller's stop, and the verdict
    lost the rule that decided (once in a full run of the multi-host tests)."""
    from sgnet.core import witness
    from sgnet.core.probes import ProbeSpec
    from sgnet.hosts.driver import _gated_probe
    from sgnet.kernel import nflog
    lab = sgnet_lab(witness_lab("twgd"))
    s = lab.session
    web1, db1 = (lab.lab.instance(n) for n in ("web1", "db1"))
    spec = ProbeSpec(s.ns_of("web1"), str(web1.primary.ip), str(db1.primary.ip), 6, 5432,
                     4, "S", tag=41234, dst_ns=s.ns_of("db1"), src_rules=True,
                     dst_rules=True)
    opened = nflog.open_here

    def slow_at_the_destination(ns):  # the kernel's batching, set on db1's listener only
        monkeypatch.setattr(nflog, "FLUSH", 10 if ns == s.ns_of("db1") else 1)
        return opened(ns)
    monkeypatch.setattr(nflog, "open_here", slow_at_the_destination)
    runs = {"one": _ThreadRun([spec], [0], [s.ns_of("web1")]),  # sends, hears web1
            "two": _ThreadRun([spec], [], [s.ns_of("db1")])}  # hears db1 only
    got = _gated_probe(runs, {"one": [0], "two": [0]}, ["two"])
    answer, reports = got["one"]["answers"][0], got["one"]["reports"][0] + \
        got["two"]["reports"][0]
    assert answer is not None and answer[0] == "tcp"  # db1's reset: nothing listens
    assert any(ns == s.ns_of("db1") for ns, *_ in reports), reports  # heard, late
    rec = witness.Judge(lab.lab, s.evaluator).judge(spec, answer, reports, ("web1", "db1"))
    assert rec.observed == "allow"
    assert rec.observed_by["direction"] == "ingress" and rec.observed_by["group"] == "db"


def _snmp(ns):
    def read():
        lines = [ln.split() for ln in open("/proc/thread-self/net/snmp")]
        return {a + b: int(v) for names, values in zip(lines[::2], lines[1::2])
                for a, b, v in zip([names[0]] * len(names), names[1:], values[1:])}
    return netns.call(ns, read)


def test_no_icmp_error_is_rate_limited_in_a_lab(sgnet_lab):
    """A port-unreachable refused by a rate limiter is an answer lost: in a fresh namespace
    the kernel's global ICMP token bucket once refused an external's very first one (its
    first UDP probe then looked lost). No ICMP type is rate-limited in a lab namespace, and
    the kernel's own counters say none was."""
    lab = sgnet_lab(witness_lab("twrl"))
    for name in ("internet", "web1"):
        assert lab.exec(name, ["cat", "/proc/sys/net/ipv4/icmp_ratemask"]).stdout.strip() == "0"
        assert lab.exec(name, ["cat", "/proc/sys/net/ipv6/icmp/ratemask"]).stdout.strip() == ""
    m = lab.matrix(ports=[f"udp/{p}" for p in range(5300, 5340)])
    assert m["summary"]["wrong"] == 0 and "lost" not in m["summary"]
    counters = _snmp(lab.session.ns_of("internet"))  # every instance's UDP reaches it
    assert counters["Icmp:OutDestUnreachs"] >= 40 * 4
    assert counters["Icmp:OutRateLimitGlobal"] == 0 and counters["Icmp:OutRateLimitHost"] == 0


def test_a_probe_on_a_tracked_sessions_tuple_is_witnessed_as_the_stateful_shortcut(sgnet_lab):
    """The same ICMP echo twice (the same tag) while conntrack remembers the first: the
    second passes as part of the first's session, and the kernel says so: the stateful
    shortcut, not the rule. (sgnet's own runs do not reuse each other's tags:
    state.next_tags.)"""
    from sgnet.core import witness
    from sgnet.core.probes import ProbeSpec
    from sgnet.kernel.probe import witnessed
    lab = sgnet_lab({
        "name": "twse", "provider": "huawei",
        "vpcs": [{"name": "v", "cidr": "10.0.0.0/16", "subnets": [
            {"name": "s", "cidr": "10.0.1.0/24"}]}],
        "security_groups": [{"name": "g", "default_rules": False, "rules": [
            {"direction": "ingress", "action": "allow", "protocol": "icmp",
             "remote": "10.0.0.0/8"},
            {"direction": "egress", "action": "allow", "protocol": "all"}]}],
        "instances": [{"name": "a", "subnet": "s", "security_groups": ["g"]},
                      {"name": "b", "subnet": "s", "security_groups": ["g"]}]})
    s = lab.session
    a, b = (str(lab.lab.instance(n).primary.ip) for n in ("a", "b"))
    spec = ProbeSpec(s.ns_of("a"), a, b, 1, None, 4, "S", tag=45678, dst_ns=s.ns_of("b"),
                     src_rules=True, dst_rules=True)
    watch = sorted({s.ns_of("a"), s.ns_of("b")})
    judge = witness.Judge(lab.lab, s.evaluator)
    seen = []
    for _ in range(2):
        got = witnessed.run([spec], [0], watch, timeout=1.0)
        seen.append(judge.judge(spec, got["answers"][0], got["reports"][0], ("a", "b")))
    first, second = seen
    assert (first.observed, first.observed_by["group"], first.observed_by["rule"]) == \
        ("allow", "g", 0)
    assert second.observed == "allow" and second.observed_by["group"] is None
    assert second.observed_by["why"] == witness.ESTABLISHED_WHY
    assert second.observed_by["direction"] == "ingress"

#!/usr/bin/env python3
"""Probing benchmark: witnessed probing (every verdict reported by the rule that decided,
sgnet.kernel.probe.witnessed) against the timeout-based probing it replaced
(sgnet.kernel.probe.send: a denied flow is silence, waited for), in the same run, as
ratios (the machines are shared and noisy):

- a 40-instance matrix whose flows are all denied, against the same matrix with every flow
  allowed (target: within 1.3x, witnessed; the timeout-based probing pays a timeout window);
- a full 100-instance matrix (39,600 verdicts, about 40% denied): verdicts/s of both
  (target: 20,000 verdicts/s witnessed), and their ratio;
- a sample of flows probed one at a time with scapy's sr1: the same verdicts.

Rounds alternate the two probings (medians are reported).

    sudo .venv/bin/python -m scripts.bench.probe [--rounds 3] [--json OUT]
"""

import argparse
import json
import random
import statistics
import time

import yaml

from scripts.bench.common import machine, wait_quiet
from scripts.bench.labs import probe_lab

from sgnet.core import flows
from sgnet.core.probes import ProbeResult, ProbeSpec
from sgnet.kernel.probe import send
from sgnet.core.labspec import building
from sgnet.session import LabSession

PORTS = ["tcp/22", "tcp/80", "udp/53", "icmp"]


def timeout_matrix(sess, timeout):
    """The matrix as sgnet probed it before witnessing: the same flows, expectations and
    records, the probes sent by one forked child per source that waits out the timeout
    for whatever did not answer (sgnet.kernel.probe.send.run)."""
    with building():  # no garbage collection, as sgnet's own runs: probing is compared
        return _timeout_matrix(sess, timeout)


def _timeout_matrix(sess, timeout):
    flow_list = flows.matrix_flows(sess.lab, PORTS, 4)
    exps = [flows.expectation(sess.evaluator, *f) for f in flow_list]
    specs = [ProbeSpec(sess.ns_of(e.flow.src), e.flow.src_ip, e.flow.dst_ip, e.flow.protocol,
                       e.flow.port, e.flow.family) for e in exps]
    results = send.run(specs, timeout=timeout)
    records = [flows.verdict_record(e, ProbeResult(r.observed, r.detail, r.answer,
                                                   e.decided_by.to_dict()), sess.lab)
               for e, r in zip(exps, results)]
    return flows.matrix_result(sess.lab.name, records)


def witnessed_matrix(sess, timeout):
    return sess.matrix(PORTS, timeout=timeout)


def forget_sessions(sess):
    """Empty every instance's connection tracking (untimed): the timeout-based probing
    picks its tags at random, and a witnessed probe on a tuple one of its probes left
    tracked would pass as part of that session (sgnet's own runs never reuse each other's
    tags: sgnet.state.next_tags)."""
    for inst in sess.lab.instances:
        sess.exec(inst.name, ["conntrack", "-F"], capture_output=True)


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def one_at_a_time(sess, records, timeout):
    same = 0
    for r in records:
        spec = ProbeSpec(sess.ns_of(r["src"]), r["src_ip"], r["dst_ip"],
                         flows.parse_proto(f"{r['protocol']}/{r['port']}" if r["port"]
                                           else r["protocol"], 4)[0], r["port"], 4)
        same += send.one_at_a_time(spec, timeout).observed == r["observed"]
    return same


def summary(m):
    res = m["results"]
    return {"verdicts": len(res), "denied": sum(r["observed"] == "deny" for r in res),
            "lost": m["summary"].get("lost", 0), "wrong": m["summary"]["wrong"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sample", type=int, default=40)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--json")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    out = {"benchmark": "probe", "machine": machine(), "rounds": args.rounds,
           "timeout_s": args.timeout}
    # 1. all denied against all allowed, 40 instances
    times = {}
    for flows_kind in ("open", "closed"):
        raw = probe_lab(40, name="bpr" + flows_kind[0], flows=flows_kind)
        wait_quiet()
        sess = LabSession.up_from_text(yaml.safe_dump(raw, sort_keys=False), "<bench>")
        try:
            witnessed_matrix(sess, args.timeout)  # warm: scapy loaded, caches filled
            for k in range(args.rounds):
                for name, fn in (("witnessed", witnessed_matrix), ("timeout", timeout_matrix)):
                    s, m = timed(fn, sess, args.timeout)
                    times.setdefault((flows_kind, name), []).append(s)
                    times[(flows_kind, name, "summary")] = summary(m)
                    forget_sessions(sess)
        finally:
            LabSession.down(raw["name"])
    denied = {}
    for name in ("witnessed", "timeout"):
        o = statistics.median(times[("open", name)])
        c = statistics.median(times[("closed", name)])
        denied[name] = {"all_allowed_s": round(o, 3), "all_denied_s": round(c, 3),
                        "ratio": round(c / o, 2),
                        "allowed": times[("open", name, "summary")],
                        "denied": times[("closed", name, "summary")]}
        print(f"40 instances, {name}: all allowed {o:.2f} s, all denied {c:.2f} s: "
              f"{c / o:.2f}x")
    out["all_denied_vs_all_allowed"] = denied
    # 2. the 100-instance matrix
    raw = probe_lab(100, name="bprm")
    wait_quiet()
    sess = LabSession.up_from_text(yaml.safe_dump(raw, sort_keys=False), "<bench>")
    try:
        witnessed_matrix(sess, args.timeout)
        big = {}
        for k in range(args.rounds):
            for name, fn in (("witnessed", witnessed_matrix), ("timeout", timeout_matrix)):
                s, m = timed(fn, sess, args.timeout)
                forget_sessions(sess)
                big.setdefault(name, []).append(s)
                big[name + "_summary"] = summary(m)
                if name == "witnessed":
                    last = m
        rates = {}
        for name in ("witnessed", "timeout"):
            s = statistics.median(big[name])
            n = big[name + "_summary"]["verdicts"]
            rates[name] = {"s": round(s, 3), "verdicts_per_s": round(n / s),
                           **big[name + "_summary"]}
            print(f"100 instances, {name}: {n} verdicts in {s:.2f} s = {n / s:.0f} verdicts/s "
                  f"({big[name + '_summary']})")
        rates["speedup"] = round(rates["timeout"]["s"] / rates["witnessed"]["s"], 2)
        print(f"witnessed against timeout-based: {rates['speedup']:.2f}x as fast")
        sample = random.Random(7).sample(last["results"], args.sample)
        rates["sample"] = args.sample
        rates["sample_same_verdicts"] = one_at_a_time(sess, sample, args.timeout)
        print(f"one at a time with sr1: {rates['sample_same_verdicts']}/{args.sample} "
              "the same verdicts")
    finally:
        LabSession.down(raw["name"])
    out["matrix_100"] = rates
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()

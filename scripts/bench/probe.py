#!/usr/bin/env python3
"""Probing benchmark: a full matrix of 50 instances x 4 ports (9,800 verdicts, about half
denied) with sgnet's batched probes, against a baseline that probes one flow at a time with
scapy's sr1 from inside the source namespace (measured on a sample of the same flows, in
the same run, and scaled to the matrix: a denied flow costs sr1 its whole timeout). Also the
rate for permitted flows alone, and a check that both probes give the same verdicts.

    sudo .venv/bin/python scripts/bench/probe.py [--sample 60] [--json OUT]
"""

import argparse
import json
import os
import random
import time

import yaml

from scripts.bench.common import machine, wait_quiet
from scripts.bench.labs import probe_lab

from sgnet.core.probes import ProbeSpec
from sgnet.kernel.probe import send
from sgnet.session import LabSession

PORTS = ["tcp/22", "tcp/80", "udp/53", "icmp"]


def one_at_a_time(sess, flows, timeout):
    """The baseline: each flow on its own, sr1 from inside the source namespace."""
    out = []
    for f in flows:
        exp = sess.evaluator.evaluate(*f)
        spec = ProbeSpec(sess.ns_of(exp.flow.src), exp.flow.src_ip, exp.flow.dst_ip,
                         exp.flow.protocol, exp.flow.port, exp.flow.family)
        t = time.perf_counter()
        verdict = send.one_at_a_time(spec, timeout).observed
        out.append((verdict, time.perf_counter() - t))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=60)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--json")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    raw = probe_lab()
    wait_quiet()
    sess = LabSession.up_from_text(yaml.safe_dump(raw, sort_keys=False), "<bench>")
    try:
        t = time.perf_counter()
        m = sess.matrix(PORTS, timeout=args.timeout)
        batch_s = time.perf_counter() - t
        res = m["results"]
        n, denied = len(res), sum(r["observed"] == "deny" for r in res)
        print(f"batched matrix: {n} verdicts ({denied} denied) in {batch_s:.2f} s "
              f"= {n / batch_s:.0f} verdicts/s; wrong: {m['summary']['wrong']}")
        allowed_flows = [(r["src"], r["dst"], *_proto(r)) for r in res
                         if r["expected"] == "allow"]
        t = time.perf_counter()
        recs = sess.verdicts(allowed_flows, timeout=args.timeout)
        allow_s = time.perf_counter() - t
        print(f"permitted flows only: {len(recs)} verdicts in {allow_s:.2f} s = "
              f"{len(recs) / allow_s:.0f} verdicts/s")
        rng = random.Random(7)
        sample = rng.sample(res, args.sample)
        base = one_at_a_time(sess, [(r["src"], r["dst"], *_proto(r)) for r in sample],
                             args.timeout)
        same = sum(b[0] == r["observed"] for b, r in zip(base, sample))
        t_allow = [b[1] for b, r in zip(base, sample) if r["observed"] == "allow"]
        t_deny = [b[1] for b, r in zip(base, sample) if r["observed"] == "deny"]
        per_allow = sum(t_allow) / max(1, len(t_allow))
        per_deny = sum(t_deny) / max(1, len(t_deny))
        base_s = (n - denied) * per_allow + denied * per_deny
        print(f"one at a time (sample of {len(sample)}): {per_allow * 1000:.1f} ms per "
              f"permitted flow, {per_deny * 1000:.0f} ms per denied flow; the matrix would "
              f"take {base_s:.0f} s; same verdicts on the sample: {same}/{len(sample)}")
        print(f"speed-up: {base_s / batch_s:.0f}x")
    finally:
        LabSession.down(raw["name"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": "probe", "machine": machine(), "verdicts": n,
                       "denied": denied, "batch_s": round(batch_s, 3),
                       "verdicts_per_s": round(n / batch_s),
                       "permitted_verdicts_per_s": round(len(recs) / allow_s),
                       "baseline_ms_per_permitted": round(per_allow * 1000, 2),
                       "baseline_ms_per_denied": round(per_deny * 1000, 1),
                       "baseline_matrix_s": round(base_s, 1),
                       "speedup": round(base_s / batch_s, 1),
                       "sample": len(sample), "sample_same_verdicts": same,
                       "wrong": m["summary"]["wrong"]}, f, indent=1)


def _proto(r):
    from sgnet.core.values import PROTOCOLS
    return PROTOCOLS[r["protocol"]], r["port"], int(r["family"][-1])


if __name__ == "__main__":
    main()

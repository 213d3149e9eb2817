#!/usr/bin/env python3
"""Complete answers benchmark: header-space classes and a complete diff on an estate of
1,000 instances and 200 groups (scripts.bench.labs.estate_lab), against enumerating, in the
same run, as ratios (the machines are shared and noisy):

- classes: every ENI's classes, both directions and families (sgnet.core.classes), against
  the evaluator judging every TCP and UDP port of one remote address per ENI, measured on a
  sample of ENIs and scaled to all (the baseline would also need every address: it is a
  lower bound of enumerating);
- a complete diff of a one-rule change (one group opens tcp/6379 to the world), with every
  changed class confirmed by packets on a clone brought up for it (target: 30 s), against
  probing every TCP and UDP port of every pair of the lab's hosts, at the verdicts/s the
  same prober reaches on a matrix of this lab in this run (projected: it would take years).

    sudo .venv/bin/python -m scripts.bench.classes [--rounds 3] [--json OUT]
"""

import argparse
import copy
import json
import random
import statistics
import tempfile
import time

import yaml

from scripts.bench.common import machine, wait_quiet
from scripts.bench.labs import estate_lab

from sgnet.core import classes, labspec
from sgnet.core.evaluator import Evaluator
from sgnet.session import LabSession

PORTS = 2 * 65535  # every TCP and UDP port


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def enumerate_ports(ev, enis, family=4):
    """The baseline: the evaluator judges every TCP and UDP port of one remote address."""
    peer = __import__("ipaddress").ip_address("203.0.113.77")
    n = 0
    for eni in enis:
        for proto in (6, 17):
            for port in range(1, 65536):
                ev.judge(eni, "ingress", family, proto, port, peer)
                n += 1
    return n


def one_rule_change(raw):
    changed = copy.deepcopy(raw)
    changed["security_groups"][7]["rules"].append(
        {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "6379",
         "remote": "0.0.0.0/0"})
    return changed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--groups", type=int, default=200)
    ap.add_argument("--sample", type=int, default=4, help="ENIs the baseline enumerates")
    ap.add_argument("--json")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    out = {"benchmark": "classes", "machine": machine(), "rounds": args.rounds,
           "instances": args.instances, "groups": args.groups}
    raw = estate_lab(args.instances, args.groups, name="bcls")
    lab = labspec.parse(copy.deepcopy(raw), "<bench>")
    # 1. classes against enumerating ports
    mine, base = [], []
    sample = random.Random(3).sample(lab.enis, args.sample)
    for _ in range(args.rounds):
        s, cls = timed(lambda: classes.Analysis(Evaluator(lab)).all_classes())
        mine.append(s)
        s, n = timed(enumerate_ports, Evaluator(lab), sample)
        base.append(s * len(lab.enis) / len(sample))
    m, b = statistics.median(mine), statistics.median(base)
    out["classes"] = {"s": round(m, 3), "classes": len(cls), "enis": len(lab.enis),
                      "baseline_projected_s": round(b, 1), "speedup": round(b / m, 1)}
    print(f"classes: {len(cls)} of {len(lab.enis)} ENIs in {m:.2f} s; enumerating every "
          f"port of one address per ENI: {b:.0f} s projected: {b / m:.0f}x")
    # 2. a complete diff of a one-rule change, confirmed on a clone
    wait_quiet()
    sess = LabSession.up_from_text(yaml.safe_dump(raw, sort_keys=False), "<bench>")
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            f.write(yaml.safe_dump(one_rule_change(raw)))
            f.flush()
            times, d = [], None
            for _ in range(args.rounds):
                wait_quiet()
                s, d = timed(sess.diff, f.name)
                times.append(s)
        # the baseline's rate: the same prober on rows of this lab's matrix
        srcs = [i.name for i in lab.instances[:10]]
        s, mx = timed(lambda: sess.matrix(["tcp/22", "udp/53"], sources=srcs))
        rate = len(mx["results"]) / s
    finally:
        LabSession.down(raw["name"])
    hosts = len(lab.instances) + len(lab.externals)
    pairs = hosts * (hosts - 1)
    projected = pairs * PORTS / rate
    t = statistics.median(times)
    out["diff"] = {"s": round(t, 2), "classes": d["summary"]["classes"],
                   "confirmed": d["summary"]["confirmed"],
                   "clone_mismatches": d["summary"]["clone_mismatches"],
                   "unconfirmed": d["summary"]["unconfirmed"],
                   "target_s": 30, "met": t <= 30,
                   "baseline_rate_verdicts_per_s": round(rate),
                   "baseline_projected_s": round(projected), "speedup": round(projected / t)}
    print(f"complete diff of a one-rule change: {t:.1f} s ({d['summary']['classes']} classes, "
          f"{d['summary']['confirmed']} confirmed, {d['summary']['clone_mismatches']} "
          f"disagree); every port of every pair at {rate:.0f} verdicts/s: "
          f"{projected / 86400 / 365:.1f} years projected")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Large-group benchmark: applying a group of 65,536 members to an instance, and one
instance joining and leaving that group while 20 other instances reference it: the time
each referencing instance's update takes, against the same with a 100-member group (the
baseline, in the same run): it should not grow with the group.

    sudo .venv/bin/python -m scripts.bench.groups [--json OUT]
"""

import argparse
import json
import statistics
import time

import yaml

from scripts.bench.common import machine, wait_quiet
from scripts.bench.labs import group_lab
from sgnet.core.compiler import Compiler
from sgnet.kernel import nft
from sgnet.session import LabSession


def run(members, watchers, rounds):
    raw = group_lab(members, watchers)
    sess = LabSession.up_from_text(yaml.safe_dump(raw, sort_keys=False), "<bench>")
    timings = {}
    real_apply = nft.apply

    def timed_apply(ns, ruleset, dry_run=False):
        t = time.perf_counter()
        try:
            return real_apply(ns, ruleset, dry_run)
        finally:
            timings.setdefault(ns, []).append(time.perf_counter() - t)

    try:
        # (1) applying a watcher's whole ruleset, with the group's set, to its namespace
        w0 = sess.lab.instance("w0")
        t = time.perf_counter()
        rs = Compiler(sess.lab).compile_instance(w0)
        compile_s = time.perf_counter() - t
        t = time.perf_counter()
        nft.apply(sess.ns_of("w0"), rs)
        apply_s = time.perf_counter() - t
        # (2) the mover joins and leaves the group
        nft.apply = timed_apply
        per_ref, totals = [], []
        for _ in range(rounds):
            for verb in (sess.attach_group, sess.detach_group):
                timings.clear()
                t = time.perf_counter()
                res = verb("mover", "big")
                totals.append(time.perf_counter() - t)
                refs = [ns for ns in timings if not ns.endswith("-mover")]
                assert len(refs) >= watchers, res
                per_ref += [timings[ns][0] for ns in refs]
        v = sess.probe("w0", "w1", "tcp/80")  # still a working lab
        assert v["match"]
    finally:
        nft.apply = real_apply
        LabSession.down(raw["name"])
    return {"members": members, "compile_s": round(compile_s, 3),
            "apply_s": round(apply_s, 3),
            "per_referencing_instance_ms": round(statistics.median(per_ref) * 1000, 3),
            "change_total_s": round(statistics.median(totals), 3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--watchers", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    rows = []
    for members in (100, 65536):
        wait_quiet()
        r = run(members, args.watchers, args.rounds)
        rows.append(r)
        print(f"group of {members:6d}: apply one instance's ruleset {r['apply_s']:.3f} s "
              f"(compile {r['compile_s']:.3f} s); join/leave: {r['per_referencing_instance_ms']:.2f}"
              f" ms per referencing instance, {r['change_total_s']:.2f} s in all", flush=True)
    ratio = rows[1]["per_referencing_instance_ms"] / rows[0]["per_referencing_instance_ms"]
    print(f"per-referencing-instance cost, 65,536 members / 100 members: {ratio:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": "groups", "machine": machine(), "rows": rows,
                       "growth": round(ratio, 2)}, f, indent=1)


if __name__ == "__main__":
    main()

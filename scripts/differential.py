#!/usr/bin/env python3
"""Differential testing at scale: many random labs per provider, every flow of each probed
with real packets and compared with the reference evaluator, verdict and deciding rule (the
rule the kernel reported must be the one the evaluator names). Needs root.

    sudo .venv/bin/python -m scripts.differential --examples 200 [--provider huawei]
                                                     [--layered | --hosts 3 | --classes]

--classes: instead of the matrix's flows, every header-space class of every ENI (both
directions and families), its boundaries and random points inside it, sent from the lab's
outside world where no host holds the address (tests/kernel/test_classes_differential.py).

Prints, per provider, how many labs and flows were checked; on a mismatch, hypothesis
shrinks the lab and the script prints it as a lab file (exit 1).
"""

import argparse
import sys
import time

import yaml
from hypothesis import HealthCheck, given, settings

from sgnet.core.labspec import parse
from sgnet.labgen import flows_of, labs, labs_over_hosts
from sgnet.session import LabSession


def run_classes(provider, examples, seed):
    from hypothesis import strategies as st
    from tests.kernel.test_classes_differential import check_lab
    stats = {"labs": 0, "flows": 0}

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), derandomize=seed is not None)
    @given(labs(provider, "tdcls" + provider[0]), st.integers(0, 10_000))
    def check(raw, k):
        wrong, sent = check_lab(raw, k)
        stats["labs"] += 1
        stats["flows"] += sent
        assert not wrong, (f"{len(wrong)} disagree, first {wrong[:2]}\nlab file:\n"
                           + yaml.safe_dump(raw, sort_keys=False))

    check()
    return stats


def run(provider, examples, seed, hosts=0):
    stats = {"labs": 0, "flows": 0}
    name = "tdiff" + provider[0]
    strategy = labs_over_hosts(provider, name, hosts) if hosts else labs(provider, name)

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), derandomize=seed is not None)
    @given(strategy)
    def check(raw):
        text = yaml.safe_dump(raw, sort_keys=False)
        sess = LabSession.up_from_text(text, "generated.yaml")
        try:
            records = sess.verdicts(flows_of(parse(raw, "generated.yaml")))
        finally:
            LabSession.down(raw["name"])
        wrong = [r for r in records if not r["match"]]
        stats["labs"] += 1
        stats["flows"] += len(records)
        assert not wrong, f"{len(wrong)} mismatches, first {wrong[:3]}\nlab file:\n{text}"

    check()
    return stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=100, help="random labs per provider")
    ap.add_argument("--provider", choices=["huawei", "alibaba"], action="append")
    ap.add_argument("--seed", type=int, default=None, help="deterministic run")
    ap.add_argument("--layered", action="store_true", help="compile every decision list into "
                    "layers of merged set lookups (the form long lists get)")
    ap.add_argument("--hosts", type=int, default=0, help="spread each lab over this many "
                    "simulated hosts joined by VXLAN, placing instances at random")
    ap.add_argument("--classes", action="store_true", help="every class of every ENI, its "
                    "boundaries and random points, instead of the matrix's flows")
    args = ap.parse_args()
    if args.layered and args.hosts:
        ap.error("--layered applies to this process only; hosts compile in their agents")
    if args.layered:
        from sgnet.core import compiler
        compiler.LAYER_MIN = compiler.MERGE_MIN = 1
    ok = True
    for provider in args.provider or ["huawei", "alibaba"]:
        t = time.monotonic()
        try:
            s = run_classes(provider, args.examples, args.seed) if args.classes else \
                run(provider, args.examples, args.seed, args.hosts)
            what = "packets of classes" if args.classes else "flows"
            print(f"{provider}: {s['labs']} labs, {s['flows']} {what}, 0 mismatches "
                  f"({time.monotonic() - t:.0f} s)")
        except AssertionError as e:
            ok = False
            print(f"{provider}: MISMATCH\n{e}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

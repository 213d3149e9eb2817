#!/usr/bin/env python3
"""Lint benchmark: reading, validating and linting lab files as they grow, pure (no root,
no kernel). Validate + lint of a lab of 1,000 and of 10,000 instances (the bring-up
benchmark's lab: 10 subnets, a group per subnet referencing the previous one), the ratio
of the two in the same run, and of one group of 4,000 rules, in two shapes: `distinct`
(each rule its own port and remote, few shadowing each other: every rule is compared with
many) and `mixed` (random rules of both families, all protocols, ports, CIDRs, groups and
prefix lists: many shadowed, duplicated, contradicted). Each time is the best of --repeat
runs; validate + lint of the two labs is measured in turns, so that a busy spell of the
shared machine weighs on both sizes alike.

    .venv/bin/python -m scripts.bench.lint [--repeat 10] [--json OUT]

Goals (issue 11): validate + lint of 10,000 instances within 12x of 1,000 and under 3 s;
a 4,000-rule group under 1 s.
"""

import argparse
import gc
import json
import os
import random
import tempfile
import time

import yaml

from scripts.bench.common import machine, wait_quiet
from scripts.bench.labs import bringup_lab
from sgnet.io import labfile
from sgnet.core import labspec
from sgnet.core.lint import lint

GOAL_RATIO, GOAL_BIG_S, GOAL_GROUP_S = 12.0, 3.0, 1.0


def distinct_rules(n):
    """n inbound rules of one group, priorities spread over 1-100, each its own tcp port from
    one of 64 /16s; one in 100 a deny of a 100-port range from a wider range, overlapping
    some of them (the datapath benchmark's 10,000-rule group, cut to n)."""
    rules = []
    for r in range(n):
        k, prio = r // 100, 1 + r * 99 // n
        if r % 100 == 50:
            rules.append({"direction": "ingress", "action": "deny", "priority": prio,
                          "protocol": "tcp", "ports": f"{20000 + k * 100}-{20000 + k * 100 + 99}",
                          "remote": "10.64.0.0/10"})
        else:
            rules.append({"direction": "ingress", "action": "allow", "priority": prio,
                          "protocol": "tcp", "ports": str(20000 + r),
                          "remote": f"10.{64 + k % 64}.0.0/16"})
    return rules


def mixed_rules(n, seed=11):
    """n random rules (seeded): both directions and families, allow and deny, tcp, udp,
    icmp, all; one port, a range or a list; a CIDR of a small pool, the group itself or a
    prefix list."""
    rnd = random.Random(seed)
    cidrs = {4: ["0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32",
                 "192.168.0.0/16", "203.0.113.0/24"] + [f"10.{k}.0.0/16" for k in range(2, 40)],
             6: ["::/0", "fd00::/8", "fd00:1::/48", "2001:db8::/32", "2001:db8::5/128"]}
    rules = []
    for _ in range(n):
        fam = 6 if rnd.random() < 0.2 else 4
        proto = rnd.choice(["tcp", "tcp", "tcp", "udp", "all", "icmp" if fam == 4 else "icmpv6"])
        r = {"direction": rnd.choice(["ingress", "ingress", "egress"]),
             "action": "deny" if rnd.random() < 0.1 else "allow",
             "priority": rnd.randint(1, 100), "ethertype": f"IPv{fam}", "protocol": proto}
        if proto in ("tcp", "udp"):
            k = rnd.random()
            if k < 0.6:
                r["ports"] = str(rnd.randint(1, 65535))
            elif k < 0.85:
                lo = rnd.randint(1, 65000)
                r["ports"] = f"{lo}-{lo + rnd.randint(0, 500)}"
            elif k < 0.95:
                r["ports"] = ",".join(str(rnd.randint(1, 65535)) for _ in range(rnd.randint(2, 4)))
        k = rnd.random()
        if k < 0.7:
            r["remote"] = rnd.choice(cidrs[fam])
        elif k < 0.8:
            r["remote_group"] = "self"
        elif k < 0.85:
            r["remote_prefix_list"] = "office"
        rules.append(r)
    return rules


def group_lab(rules, name="blint"):
    return {"name": name, "provider": "huawei",
            "prefix_lists": [{"name": "office", "entries": ["203.0.113.0/24", "10.1.2.0/25",
                                                            "2001:db8::/64"]}],
            "security_groups": [{"name": "big", "default_rules": False, "rules": rules}],
            "instances": [{"name": "vm", "security_groups": ["big"]}]}


def best(repeat, f):
    """The least wall-clock and CPU seconds of `repeat` runs of f, and its last result."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        gc.collect()  # no run pays for the garbage of the one before
        w, c = time.perf_counter(), time.process_time()
        out = f()
        wall, cpu = min(wall, time.perf_counter() - w), min(cpu, time.process_time() - c)
    return wall, cpu, out


def interleaved(docs, rounds):
    """Validate + lint of each document, in turns (the small one 10 times, the big one once,
    and again), the best of each: a busy spell of the shared machine falls on both alike.
    {n: (wall, cpu)}."""
    out = {n: (float("inf"), float("inf")) for n in docs}
    for _ in range(rounds):
        for n, doc in docs.items():
            wall, cpu, _ = best(10 if n == min(docs) else 1,
                                lambda: lint(labspec.parse(doc, "<bench>")))
            out[n] = (min(out[n][0], wall), min(out[n][1], cpu))
    return out


def measure(raw, repeat):
    """Times of one lab file: read + YAML, validate, lint, validate + lint (once the
    machine is quiet: the benchmark shares it)."""
    wait_quiet(limit=60)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(yaml.safe_dump(raw, sort_keys=False))
    try:
        load_s, _, doc = best(repeat, lambda: labfile.load_yaml(labfile.read_text(f.name),
                                                                f.name))
        size = os.path.getsize(f.name)
    finally:
        os.unlink(f.name)
    validate_s, _, lab = best(repeat, lambda: labspec.parse(doc, "<bench>"))
    lint_s, _, findings = best(repeat, lambda: lint(lab))
    both_s, both_cpu, _ = best(repeat, lambda: lint(labspec.parse(doc, "<bench>")))
    return {"file_bytes": size, "read_yaml_s": round(load_s, 4),
            "validate_s": round(validate_s, 4), "lint_s": round(lint_s, 4),
            "validate_lint_s": round(both_s, 4), "validate_lint_cpu_s": round(both_cpu, 4),
            "findings": len(findings), "doc": doc}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10,
                    help="runs of each step, the best counted (the small lab: 10 times more)")
    ap.add_argument("--json")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    rows = {}
    for n in (1000, 10000):
        # the small lab's times are a few milliseconds: more runs to find its best
        repeat = args.repeat * (10 if n == 1000 else 1)
        rows[f"instances_{n}"] = measure(bringup_lab(n, name="blint"), repeat)
    wait_quiet(limit=60)
    turns = interleaved({n: rows[f"instances_{n}"]["doc"] for n in (1000, 10000)},
                        2 * args.repeat)
    for n in (1000, 10000):
        r = rows[f"instances_{n}"]
        r["validate_lint_s"], r["validate_lint_cpu_s"] = (round(x, 4) for x in turns[n])
        print(f"{n:6d} instances ({r['file_bytes'] / 1e6:.2f} MB): validate + lint "
              f"{r['validate_lint_s']:.3f} s (validate {r['validate_s']:.3f} s, lint "
              f"{r['lint_s']:.3f} s; read + YAML {r['read_yaml_s']:.3f} s)", flush=True)
    for shape, rules in (("distinct", distinct_rules(4000)), ("mixed", mixed_rules(4000))):
        r = rows[f"rules_4000_{shape}"] = measure(group_lab(rules), args.repeat)
        print(f"one group of 4,000 rules ({shape}): validate + lint {r['validate_lint_s']:.3f} s "
              f"(validate {r['validate_s']:.3f} s, lint {r['lint_s']:.3f} s; read + YAML "
              f"{r['read_yaml_s']:.3f} s), {r['findings']} findings", flush=True)
    small, big = rows["instances_1000"], rows["instances_10000"]
    ratio = big["validate_lint_s"] / small["validate_lint_s"]
    cpu_ratio = big["validate_lint_cpu_s"] / small["validate_lint_cpu_s"]
    group_s = max(rows["rules_4000_distinct"]["validate_lint_s"],
                  rows["rules_4000_mixed"]["validate_lint_s"])
    goals = {"ratio_10000_to_1000": round(ratio, 2), "cpu_ratio": round(cpu_ratio, 2),
             "ratio_met": ratio <= GOAL_RATIO, "big_met": big["validate_lint_s"] < GOAL_BIG_S,
             "group_met": group_s < GOAL_GROUP_S}
    print(f"validate + lint, 10,000 / 1,000 instances: {ratio:.2f}x (goal <= {GOAL_RATIO:g}x: "
          f"{'met' if goals['ratio_met'] else 'NOT met'}; CPU time {cpu_ratio:.2f}x); "
          f"10,000 instances "
          f"{big['validate_lint_s']:.3f} s (goal < {GOAL_BIG_S:g} s: "
          f"{'met' if goals['big_met'] else 'NOT met'}); 4,000-rule group {group_s:.3f} s "
          f"(goal < {GOAL_GROUP_S:g} s: {'met' if goals['group_met'] else 'NOT met'})")
    read_ratio = big["read_yaml_s"] / small["read_yaml_s"]
    print(f"read + YAML, 10,000 / 1,000 instances: {read_ratio:.2f}x")
    for r in rows.values():
        del r["doc"]
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": "lint", "machine": machine(), "rows": rows,
                       "goals": goals, "read_yaml_ratio": round(read_ratio, 2)}, f, indent=1)


if __name__ == "__main__":
    main()

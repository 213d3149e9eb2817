#!/usr/bin/env python3
"""Bring-up benchmark: N instances over 10 subnets with groups that reference each other,
built by sgnet, against a baseline shell loop of `ip` commands building the same namespaces,
veths and addresses (no groups), in the same run. Prints times, per-instance times, the
ratio, teardown times and sgnet's own peak RSS (building and probing the largest lab).

    sudo .venv/bin/python -m scripts.bench.bringup [--sizes 100,200,500,1000] [--json OUT]
"""

import argparse
import json
import os
import subprocess
import tempfile
import time

import yaml

from scripts.bench.common import machine, peak_rss_mb, wait_quiet
from scripts.bench.labs import bringup_lab
from sgnet.kernel import netns
from sgnet.session import LabSession

BASE = "blin"  # the baseline's namespaces: blin--gw, blin-vmN


def baseline_script(n, subnets=10):
    per = -(-n // subnets)
    prefix = 24 if per < 250 else 20
    lines = ["set -e", f"ip netns add {BASE}--gw"]
    for s in range(subnets):
        lines += [f"ip -n {BASE}--gw link add {BASE}b{s} type bridge",
                  f"ip -n {BASE}--gw addr add 10.{s}.0.1/{prefix} dev {BASE}b{s}",
                  f"ip -n {BASE}--gw link set {BASE}b{s} up"]
    for i in range(n):
        s, h = i % subnets, i // subnets + 2
        ns = f"{BASE}-vm{i}"
        lines += [f"ip netns add {ns}",
                  f"ip -n {BASE}--gw link add {BASE}i{i}e0 type veth peer name eth0 netns {ns}",
                  f"ip -n {BASE}--gw link set {BASE}i{i}e0 master {BASE}b{s} up",
                  f"ip -n {ns} link set lo up",
                  f"ip -n {ns} link set eth0 up",
                  f"ip -n {ns} addr add 10.{s}.{h // 256}.{h % 256}/{prefix} dev eth0",
                  f"ip -n {ns} route add default via 10.{s}.0.1"]
    return "\n".join(lines) + "\n"


def run_baseline(n):
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write(baseline_script(n))
    t = time.monotonic()
    subprocess.run(["bash", f.name], check=True)
    up = time.monotonic() - t
    os.unlink(f.name)
    t = time.monotonic()
    for name in netns.list_names(f"{BASE}-"):
        netns.remove(name, pids={})
    return up, time.monotonic() - t


def run_sgnet(n, probe=False):
    raw = bringup_lab(n)
    t = time.monotonic()
    sess = LabSession.up_from_text(yaml.safe_dump(raw, sort_keys=False), "<bench>")
    up = time.monotonic() - t
    probed = None
    try:
        if probe:  # build and probe: a tier-to-tier row of the matrix, for memory
            t = time.monotonic()
            srcs = [i.name for i in sess.lab.instances[:10]]
            m = sess.matrix(["tcp/80", "tcp/22"], sources=srcs)
            probed = (m["summary"], time.monotonic() - t)
    finally:
        t = time.monotonic()
        LabSession.down(raw["name"])
        down = time.monotonic() - t
    return up, down, probed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,200,500,1000")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    print(f"machine: {machine()}")
    rows = []
    for n in sizes:
        wait_quiet()
        b_up, b_down = run_baseline(n)
        wait_quiet()
        s_up, s_down, probed = run_sgnet(n, probe=(n == max(sizes)))
        row = {"n": n, "baseline_up_s": round(b_up, 3), "sgnet_up_s": round(s_up, 3),
               "ratio": round(b_up / s_up, 2), "sgnet_down_s": round(s_down, 3),
               "baseline_down_s": round(b_down, 3),
               "sgnet_ms_per_instance": round(s_up / n * 1000, 2),
               "baseline_ms_per_instance": round(b_up / n * 1000, 2)}
        if probed:
            row["probe_summary"], row["probe_s"] = probed[0], round(probed[1], 2)
        rows.append(row)
        print(f"N={n:5d}  baseline ip loop {b_up:7.2f} s  sgnet (with groups) {s_up:6.2f} s  "
              f"ratio {b_up / s_up:5.1f}x  sgnet {s_up / n * 1000:5.2f} ms/instance  "
              f"down {s_down:5.2f} s", flush=True)
    wait_quiet()
    per = {r["n"]: r["sgnet_ms_per_instance"] for r in rows}
    growth = per[max(per)] / per[min(per)]
    rss = peak_rss_mb()
    print(f"per-instance time at N={max(per)} / at N={min(per)}: {growth:.2f}")
    print(f"sgnet peak RSS (building and probing N={max(sizes)}): {rss:.0f} MB")
    result = {"benchmark": "bringup", "machine": machine(), "rows": rows,
              "per_instance_growth": round(growth, 2), "peak_rss_mb": round(rss)}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()

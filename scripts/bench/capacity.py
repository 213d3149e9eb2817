#!/usr/bin/env python3
"""What limits a lab on one host: bring-up time and kernel memory per instance as N grows,
the cost of large rule sets, and the connection-tracking table every namespace shares.
Writes JSON for docs/scale.md (scripts/bench/scale_doc.py).

    sudo .venv/bin/python scripts/bench/capacity.py [--sizes 1000,2000,3000] [--json OUT]
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import machine, wait_quiet  # noqa: E402
from labs import bringup_lab  # noqa: E402

import yaml  # noqa: E402

from sgnet import netns, nft, rtnl  # noqa: E402
from sgnet.session import LabSession  # noqa: E402

PHASES = {"sysctls": (netns, "sysctl"), "nftables load": (nft, "apply_here"),
          "link up": (rtnl.Rtnl, "up"), "veth": (rtnl.Rtnl, "veth"),
          "routes": (rtnl.Rtnl, "route"), "addresses": (rtnl.Rtnl, "addr")}


def timed_phases():
    """Wrap the per-instance steps of a bring-up with timers (jobs=1: one process)."""
    acc = {k: 0.0 for k in PHASES}
    for key, (obj, name) in PHASES.items():
        f = getattr(obj, name)

        def w(*a, _f=f, _k=key, **kw):
            t = time.perf_counter()
            try:
                return _f(*a, **kw)
            finally:
                acc[_k] += time.perf_counter() - t
        setattr(obj, name, w)
    return acc


def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":")
            out[k] = int(v.split()[0]) * 1024
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,2000,3000")
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = []
    acc = timed_phases()
    for n in (int(x) for x in args.sizes.split(",")):
        wait_quiet()
        raw = bringup_lab(n, name="bcap")
        text = yaml.safe_dump(raw, sort_keys=False)
        before = meminfo()
        t = time.monotonic()
        LabSession.up_from_text(text, "<bench>", jobs=1)  # one process: timers see it all
        up = time.monotonic() - t
        after = meminfo()
        used = before["MemAvailable"] - after["MemAvailable"]
        slab = after["Slab"] - before["Slab"]
        t = time.monotonic()
        LabSession.down("bcap")
        down = time.monotonic() - t
        phases = {k: round(v / n * 1000, 3) for k, v in acc.items()}
        for k in acc:
            acc[k] = 0.0
        rows.append({"n": n, "up_s": round(up, 2), "down_s": round(down, 2),
                     "phases_ms_per_instance": phases,
                     "kernel_mb": round(used / 2**20), "kernel_kb_per_instance":
                     round(used / n / 1024), "slab_mb": round(slab / 2**20)})
        print(f"N={n}: up {up:.2f} s (one process), down {down:.2f} s, memory "
              f"{used / 2**20:.0f} MB ({used / n / 1024:.0f} KiB per instance; slab "
              f"{slab / 2**20:.0f} MB); ms per instance: {phases}", flush=True)
    with open("/proc/sys/net/netfilter/nf_conntrack_max") as f:
        ct_max = int(f.read())
    total = meminfo()["MemTotal"]
    result = {"benchmark": "capacity", "machine": machine(), "rows": rows,
              "conntrack_max": ct_max, "mem_total_mb": round(total / 2**20)}
    print(f"nf_conntrack_max (one table, shared by every namespace): {ct_max}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()

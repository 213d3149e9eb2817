#!/usr/bin/env python3
"""What limits a lab on one host: bring-up time and kernel memory per instance as N grows,
the cost of large rule sets, and the connection-tracking table every namespace shares.
Writes JSON for docs/scale.md (scripts/bench/scale_doc.py).

    sudo .venv/bin/python -m scripts.bench.capacity [--sizes 1000,2000,3000] [--json OUT]
"""

import argparse
import json
import os
import subprocess
import sys
import time

import yaml

from scripts.bench.common import machine, wait_quiet
from scripts.bench.labs import bringup_lab
from sgnet.kernel import netns, nft, rtnl
from sgnet.session import LabSession

HERE = os.path.dirname(os.path.abspath(__file__))  # ctfill.py, run by path in a namespace

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


def ct_count(ns):
    return netns.call(ns, lambda: int(open("/proc/sys/net/netfilter/nf_conntrack_count")
                                      .read()))


def conntrack_capacity(per_ns: int) -> dict:
    """Two clients each send `per_ns` UDP flows to their own server: four namespaces, each
    tracking per_ns sessions, together more than nf_conntrack_max when per_ns > max/4. Is
    the limit per namespace or for the sum, and what does an entry cost?"""
    allow_out = {"direction": "egress", "action": "allow", "protocol": "all"}
    allow_udp = {"direction": "ingress", "action": "allow", "protocol": "udp",
                 "remote": "10.0.0.0/8"}
    raw = {"name": "bct", "provider": "huawei",
           "vpcs": [{"name": "v", "cidr": "10.9.0.0/16",
                     "subnets": [{"name": "s", "cidr": "10.9.1.0/24"}]}],
           "security_groups": [{"name": "c", "default_rules": False, "rules": [allow_out]},
                               {"name": "s", "default_rules": False,
                                "rules": [allow_udp, allow_out]}],
           "instances": [{"name": n, "security_groups": [g]}
                         for n, g in (("c1", "c"), ("c2", "c"), ("s1", "s"), ("s2", "s"))]}
    wait_quiet()
    sess = LabSession.up_from_text(yaml.safe_dump(raw, sort_keys=False), "<bench>")
    try:
        before = meminfo()
        t = time.monotonic()
        procs = [sess.popen(c, [sys.executable, os.path.join(HERE, "ctfill.py"),
                                str(sess.lab.instance(s).primary.ip), "9", str(per_ns)],
                            stdout=subprocess.PIPE, text=True)
                 for c, s in (("c1", "s1"), ("c2", "s2"))]
        sent = sum(int(p.communicate()[0]) for p in procs)
        took = time.monotonic() - t
        counts = {n: ct_count(sess.ns_of(n)) for n in ("c1", "c2", "s1", "s2")}
        after = meminfo()
    finally:
        LabSession.down("bct")
    total = sum(counts.values())
    used = before["MemAvailable"] - after["MemAvailable"]
    return {"per_namespace_sent": per_ns, "sent": sent, "tracked": counts,
            "tracked_total": total, "bytes_per_entry": round(used / max(1, total)),
            "entries_per_s": round(total / took)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,2000,3000")
    ap.add_argument("--ct-entries", type=int, default=150000,
                    help="UDP flows per namespace for the conntrack measurement (0: skip)")
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
    print(f"nf_conntrack_max: {ct_max}")
    if args.ct_entries:
        ct = conntrack_capacity(args.ct_entries)
        result["conntrack"] = ct
        print(f"conntrack: {ct['tracked_total']} entries in 4 namespaces "
              f"({ct['tracked']}), {ct['bytes_per_entry']} bytes each, "
              f"{ct['entries_per_s']} new entries/s", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()

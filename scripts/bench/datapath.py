#!/usr/bin/env python3
"""Datapath benchmark: between two instances, new TCP connections per second and iperf3
throughput with (a) no group, (b) a one-rule group, (c) a 10,000-rule group (1% deny rules
interleaved by priority, the permitting rule last), (d) a rule whose remote is a group of
65,536 members; plus (c) compiled rule by rule (the linear form) for comparison. All in one
run, cases interleaved over several rounds (medians), ratios against (b).

    sudo .venv/bin/python -m scripts.bench.datapath [--rounds 3] [--json OUT]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import yaml

from scripts.bench.common import machine, wait_quiet
from scripts.bench.labs import datapath_lab
from sgnet.core import compiler
from sgnet.kernel import nft
from sgnet.session import LabSession

HERE = os.path.dirname(os.path.abspath(__file__))  # conn.py, run by path in a namespace

CASES = ["none", "one", "many", "biggroup", "many-linear"]


def measure(case, seconds):
    lab_case = "many" if case == "many-linear" else case
    raw = datapath_lab(lab_case)
    saved = compiler.LAYER_MIN
    if case == "many-linear":
        compiler.LAYER_MIN = 10 ** 9  # one kernel rule per entry
    try:
        t = time.monotonic()
        sess = LabSession.up_from_text(yaml.safe_dump(raw, sort_keys=False), "<bench>")
        up = time.monotonic() - t
    finally:
        compiler.LAYER_MIN = saved
    procs = []
    try:
        if case == "none":
            for inst in ("client", "server"):
                nft.apply(sess.ns_of(inst), {"nftables": [{"delete": {"table": {
                    "family": "inet", "name": raw["name"]}}}]})
        server_ip = str(sess.lab.instance("server").primary.ip)
        srv = sess.popen("server", [sys.executable, os.path.join(HERE, "conn.py"), "server",
                                    "5001"], stdout=subprocess.PIPE, text=True)
        procs.append(srv)
        assert srv.stdout.readline().strip() == "ready"
        procs.append(sess.popen("server", ["iperf3", "-s", "-p", "5201"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.3)
        out = sess.exec("client", [sys.executable, os.path.join(HERE, "conn.py"), "client",
                                   server_ip, "5001", str(seconds)],
                        capture_output=True, text=True).stdout.split()
        rate, fails = float(out[0]), int(out[1])
        ip3 = sess.exec("client", ["iperf3", "-c", server_ip, "-p", "5201", "-t",
                                   str(seconds), "-J"], capture_output=True, text=True)
        gbps = json.loads(ip3.stdout)["end"]["sum_received"]["bits_per_second"] / 1e9
    finally:
        for p in procs:
            p.kill()
            p.wait()
        LabSession.down(raw["name"])
    return {"conn_per_s": rate, "conn_failures": fails, "gbit_s": gbps, "up_s": up}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    runs = {c: [] for c in CASES}
    for r in range(args.rounds):
        for case in CASES:
            wait_quiet()
            m = measure(case, args.seconds)
            runs[case].append(m)
            print(f"round {r + 1} {case:12s} {m['conn_per_s']:8.0f} conn/s "
                  f"{m['gbit_s']:6.2f} Gbit/s  (up {m['up_s']:.2f} s)", flush=True)
    med = {c: {k: statistics.median(x[k] for x in v) for k in ("conn_per_s", "gbit_s", "up_s")}
           for c, v in runs.items()}
    base = med["one"]
    print("\nmedians, ratio to (b) one-rule group:")
    rows = []
    for case, label in (("none", "(a) no group"), ("one", "(b) one rule"),
                        ("many", "(c) 10,000 rules"), ("biggroup", "(d) 65,536-member group"),
                        ("many-linear", "(c) compiled linearly")):
        m = med[case]
        row = {"case": case, "label": label, **{k: round(v, 3) for k, v in m.items()},
               "conn_ratio": round(m["conn_per_s"] / base["conn_per_s"], 3),
               "throughput_ratio": round(m["gbit_s"] / base["gbit_s"], 3)}
        rows.append(row)
        print(f"  {label:28s} {m['conn_per_s']:8.0f} conn/s ({row['conn_ratio']:.2f}x)  "
              f"{m['gbit_s']:6.2f} Gbit/s ({row['throughput_ratio']:.2f}x)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": "datapath", "machine": machine(), "rounds": args.rounds,
                       "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()

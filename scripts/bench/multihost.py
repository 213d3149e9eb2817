#!/usr/bin/env python3
"""Multi-host labs, measured on one machine with simulated hosts: (1) bring-up and down of
an N-instance lab on one host against the same lab over H simulated hosts (each built by
its own agent; ratios to one host in the same run); (2) the datapath between two instances
on the same host against two on different hosts (VXLAN): new TCP connections per second
and iperf3 throughput, ratio far/near.

Simulated hosts share this machine's CPUs, so (1) measures what the agents and the overlay
cost (static forwarding and neighbour entries grow with the instances on the other hosts),
not the speed-up separate machines would give.

    sudo .venv/bin/python -m scripts.bench.multihost [--sizes 200,1000] [--hosts 2,4]
                                                     [--rounds 3] [--json OUT]
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
from scripts.bench.labs import bringup_lab
from sgnet.core import placement, wiring
from sgnet.io import labfile
from sgnet.session import LabSession

HERE = os.path.dirname(os.path.abspath(__file__))


def spread(raw, hosts):
    if hosts > 1:
        raw = dict(raw, hosts=[{"name": f"h{k}", "simulated": True} for k in range(hosts)],
                   placement="round-robin")
    return raw


def static_entries(raw) -> int:
    """Static entries the overlay gives the busiest host's gateway, read from the wiring
    plan (sgnet.core.wiring): every forwarding entry, and every neighbour entry for an
    interface of another host (a remote ENI)."""
    lab = labfile.parse(raw, "<bench>")
    mtu = placement.overlay_mtu(placement.SIMULATED_MTU)
    out = 0
    for h in lab.hosts:
        plan = wiring.plan(lab, h.name, mtu)
        local = {m for ns in plan.namespaces for link in ns.links
                 for m in (link.mac, link.peer_mac) if m}
        gw = plan.gateway
        out = max(out, len(gw.fdb) + sum(n.mac not in local for n in gw.neighbours))
    return out


def bringup(n, hosts):
    raw = spread(bringup_lab(n, name="bmh"), hosts)
    text = yaml.safe_dump(raw, sort_keys=False)
    wait_quiet()
    t = time.monotonic()
    LabSession.up_from_text(text, "<bench>")
    up = time.monotonic() - t
    t = time.monotonic()
    LabSession.down("bmh")
    down = time.monotonic() - t
    return {"up_s": up, "down_s": down, "static_entries": static_entries(raw)}


def datapath_lab():
    clients = {"name": "clients", "default_rules": False, "rules": [
        {"direction": "egress", "action": "allow", "protocol": "all"}]}
    servers = {"name": "servers", "default_rules": False, "rules": [
        {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "5001,5201",
         "remote": "10.2.0.0/16"}]}
    return {"name": "bmd", "provider": "huawei",
            "hosts": [{"name": "h1", "simulated": True}, {"name": "h2", "simulated": True}],
            "vpcs": [{"name": "v", "cidr": "10.2.0.0/16",
                      "subnets": [{"name": "s", "cidr": "10.2.1.0/24"}]}],
            "security_groups": [clients, servers],
            "instances": [{"name": "client", "security_groups": ["clients"], "host": "h1"},
                          {"name": "near", "security_groups": ["servers"], "host": "h1"},
                          {"name": "far", "security_groups": ["servers"], "host": "h2"}]}


def datapath(rounds, seconds):
    sess = LabSession.up_from_text(yaml.safe_dump(datapath_lab(), sort_keys=False), "<bench>")
    procs, runs = [], {"near": [], "far": []}
    try:
        for server in ("near", "far"):
            srv = sess.popen(server, [sys.executable, os.path.join(HERE, "conn.py"), "server",
                                      "5001"], stdout=subprocess.PIPE, text=True)
            procs.append(srv)
            assert srv.stdout.readline().strip() == "ready"
            procs.append(sess.popen(server, ["iperf3", "-s", "-p", "5201"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)
        for r in range(rounds):
            for server in ("near", "far"):
                wait_quiet()
                ip = str(sess.lab.instance(server).primary.ip)
                out = sess.exec("client", [sys.executable, os.path.join(HERE, "conn.py"),
                                           "client", ip, "5001", str(seconds)],
                                capture_output=True, text=True).stdout.split()
                ip3 = sess.exec("client", ["iperf3", "-c", ip, "-p", "5201", "-t",
                                           str(seconds), "-J"], capture_output=True, text=True)
                gbps = json.loads(ip3.stdout)["end"]["sum_received"]["bits_per_second"] / 1e9
                runs[server].append({"conn_per_s": float(out[0]), "gbit_s": gbps})
                print(f"round {r + 1} {server:4s} {float(out[0]):8.0f} conn/s "
                      f"{gbps:6.2f} Gbit/s", flush=True)
    finally:
        for p in procs:
            p.kill()
            p.wait()
        LabSession.down("bmd")
    med = {s: {k: statistics.median(x[k] for x in v) for k in ("conn_per_s", "gbit_s")}
           for s, v in runs.items()}
    return {"near": med["near"], "far": med["far"],
            "conn_ratio": round(med["far"]["conn_per_s"] / med["near"]["conn_per_s"], 3),
            "throughput_ratio": round(med["far"]["gbit_s"] / med["near"]["gbit_s"], 3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="200,1000")
    ap.add_argument("--hosts", default="2,4")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    layouts = [1] + [int(h) for h in args.hosts.split(",")]
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        runs = {h: [] for h in layouts}
        for r in range(args.rounds):
            for h in layouts:  # interleaved: the machine's noise hits every layout alike
                m = bringup(n, h)
                runs[h].append(m)
                print(f"N={n} hosts={h} round {r + 1}: up {m['up_s']:.2f} s, "
                      f"down {m['down_s']:.2f} s", flush=True)
        base = statistics.median(x["up_s"] for x in runs[1])
        for h in layouts:
            up = statistics.median(x["up_s"] for x in runs[h])
            down = statistics.median(x["down_s"] for x in runs[h])
            rows.append({"n": n, "hosts": h, "up_s": round(up, 2), "down_s": round(down, 2),
                         "up_ratio_to_one_host": round(up / base, 2),
                         "static_entries_per_host": runs[h][0]["static_entries"]})
            print(f"  N={n} hosts={h}: up {up:.2f} s ({up / base:.2f}x one host), "
                  f"down {down:.2f} s", flush=True)
    dp = datapath(args.rounds, args.seconds)
    print(f"datapath far/near: connections {dp['conn_ratio']:.2f}x, "
          f"throughput {dp['throughput_ratio']:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": "multihost", "machine": machine(), "rounds": args.rounds,
                       "bringup": rows, "datapath": dp}, f, indent=1)


if __name__ == "__main__":
    main()

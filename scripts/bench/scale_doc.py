#!/usr/bin/env python3
"""docs/scale.md from the capacity, bring-up and multi-host results (docs/bench/*.json)."""

import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load(name):
    with open(os.path.join(ROOT, "docs", "bench", f"{name}.json")) as f:
        return json.load(f)


def load_optional(name):
    try:
        return load(name)
    except FileNotFoundError:
        return None


def _rules():
    d = load_optional("datapath")
    if not d:
        return []
    rows = {r["case"]: r for r in d["rows"]}
    many, one = rows["many"], rows["one"]
    return [f"- Rules: a 10,000-rule group costs a new connection {many['conn_ratio']:.2f}x and "
            f"throughput {many['throughput_ratio']:.2f}x a one-rule group (layered set "
            "lookups, docs/benchmarks.md), so the datapath does not bound the rules; building "
            f"a lab whose two instances carry it took {many['up_s']:.1f} s against "
            f"{one['up_s']:.2f} s with one rule (compiling and loading it): thousands of "
            "instances with such groups are bounded by that load time."]


def _conntrack(cap):
    ct = cap.get("conntrack")
    if not ct:
        return [f"- Connection tracking: `nf_conntrack_max` is {cap['conntrack_max']} "
                "(not measured in this run: `capacity.py --ct-entries`)."]
    per = ct["per_namespace_sent"]
    counts = ", ".join(f"{n} {c}" for n, c in ct["tracked"].items())
    over = ct["tracked_total"] > cap["conntrack_max"]
    return [f"- Connection tracking (measured): two clients each opened {per} UDP flows to "
            f"their own server; the four namespaces then tracked {counts} sessions, "
            f"{ct['tracked_total']} in all, "
            + (f"more than `nf_conntrack_max` ({cap['conntrack_max']}): the limit holds for "
               "each namespace, not for their sum. " if over else
               f"(`nf_conntrack_max` is {cap['conntrack_max']}). ")
            + f"An entry costs about {ct['bytes_per_entry']} bytes of kernel memory; "
            f"{ct['entries_per_s']} new entries/s were tracked. What bounds the sessions of a "
            "lab is memory, and each instance's own limit (a host setting sgnet never "
            "changes), not the number of instances."]


def _neighbours(bup):
    big = max(bup["rows"], key=lambda r: r["n"])
    ps = big.get("probe_summary")
    line = ("- Neighbour entries (ARP, NDP): the kernel keeps one neighbour table per family "
            "for every namespace of a host, with at most 1,024 dynamic entries by default "
            "(`gc_thresh3`, a host setting). A matrix of a few hundred instances used to "
            "overflow it (`table_fulls` in `ip -s ntable`), and allowed flows then looked "
            "filtered. sgnet now resolves nothing dynamically: ENIs reach their subnet "
            "through the gateway, every neighbour entry is written at bring-up and "
            "permanent, and permanent entries do not count against the limit "
            "(tests/test_neighbours_kernel.py).")
    if ps:
        line += (f" Probing ten sources' rows of the {big['n']}-instance lab: {ps['total']} "
                 f"verdicts, {ps['wrong']} wrong.")
    return [line]


def _hosts_needed(per_ms, kib):
    out = ["", "## A 10,000-instance lab", "",
           "Keeping each host in the range where time per instance is flat (about 1,000 to "
           "2,000 instances) and letting the hosts build their parts in parallel:", "",
           "| instances per host | hosts | expected bring-up (in parallel) | kernel memory "
           "per host | static overlay entries per host |", "|---|---|---|---|---|"]
    for per_host in (1000, 2000):
        hosts = -(-10000 // per_host)
        t = per_ms.get(per_host, per_ms[max(per_ms)]) * per_host / 1000
        out.append(f"| {per_host} | {hosts} | about {t:.0f} s | about "
                   f"{kib * per_host / 1024:.0f} MB | about {2 * (10000 - per_host)} |")
    m = load_optional("multihost")
    out += ["", "On one host, 10,000 instances would take minutes to build (time per instance "
            "keeps growing) and about " f"{kib * 10000 / 2**20:.1f} GB of kernel memory: "
            "possible, but spreading the lab over 5 to 10 hosts joined by VXLAN (`hosts:` in "
            "the lab file) keeps bring-up near the one-host speed. Each host's gateway holds "
            "a forwarding and a neighbour entry for every ENI on the other hosts (about "
            "2 x 9,000 on 10 hosts), written once at bring-up."]
    if m:
        rows = [r for r in m["bringup"] if r["hosts"] > 1]
        dp = m["datapath"]
        out += ["", "Measured with simulated hosts on this one machine (docs/benchmarks.md, "
                "section 5): "
                + "; ".join(f"{r['n']} instances over {r['hosts']} hosts came up in "
                            f"{r['up_s']:.2f} s, {r['up_ratio_to_one_host']:.2f}x the one-host "
                            f"time, with {r['static_entries_per_host']} static overlay entries "
                            "on the busiest host" for r in rows)
                + ". The simulated hosts share this machine's two CPUs, so these ratios are "
                "what the agents and the overlay add, an upper bound; on separate machines "
                "each host builds only its part. Between hosts, the VXLAN path gave "
                f"{dp['conn_ratio']:.2f}x the new connections and {dp['throughput_ratio']:.2f}x "
                "the throughput of two instances on one host."]
    return out


def main():
    cap, bup = load("capacity"), load("bringup")
    rows = cap["rows"]
    per_ms = {r["n"]: r["up_s"] / r["n"] * 1000 for r in rows}
    kib = max(r["kernel_kb_per_instance"] for r in rows)
    out = ["# Scale: what one host holds, and how many a large lab needs", "",
           "Generated by `scripts/bench/scale_doc.py` from the results of",
           "`scripts/bench/capacity.py`, `bringup.py`, `datapath.py` and `multihost.py`",
           "(`docs/bench/`).", "",
           f"Machine: {cap['machine']}.", "",
           "## Measured on one host", "",
           "One build process (`--jobs 1`), so that per-step timers see every instance.", "",
           "| instances | up | down (command) | per instance | kernel memory | per instance |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['n']} | {r['up_s']:.2f} s | {r['down_s']:.2f} s | "
                   f"{per_ms[r['n']]:.1f} ms | {r['kernel_mb']} MB | "
                   f"{r['kernel_kb_per_instance']} KiB |")
    steps = list(rows[0]["phases_ms_per_instance"])
    out += ["", "Where an instance's time goes (ms per instance, timed per step):", "",
            "| instances | " + " | ".join(steps) + " |", "|---|" + "---|" * len(steps)]
    for r in rows:
        out.append(f"| {r['n']} | " + " | ".join(
            f"{r['phases_ms_per_instance'][k]:.2f}" for k in steps) + " |")
    small = min(b["n"] for b in bup["rows"])
    out += ["",
            f"- Time per instance is flat from {small} to 1,000 instances "
            f"(ratio {bup['per_instance_growth']:.2f}, docs/benchmarks.md) and grows beyond: "
            + ", ".join(f"{per_ms[n]:.1f} ms at {n}" for n in sorted(per_ms)) + ". The "
            "step timers above show where: writing a namespace's sysctls, bringing its links "
            "up (which registers the device's per-namespace /proc/sys/net entries) and loading "
            "its ruleset grow with the number of namespaces already there, while creating the "
            "namespace and its veth stay flat. Every namespace's /proc/sys/net entries share "
            "one tree in the kernel, which would explain the first two (not yet confirmed "
            "with a kernel profile).",
            f"- Kernel memory: about {kib} KiB per instance (namespace, veth pair, routes, "
            f"nftables table), mostly slab; {cap['mem_total_mb']} MB of RAM would hold far "
            "more instances than the bring-up time makes practical.",
            ] + _rules() + _conntrack(cap) + _neighbours(bup) + _hosts_needed(per_ms, kib)
    text = "\n".join(out) + "\n"
    with open(os.path.join(ROOT, "docs", "scale.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()

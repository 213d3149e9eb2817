#!/usr/bin/env python3
"""Flow-log replay benchmark: a million Huawei flow-log records (a realistic week of a small
estate: a few thousand distinct flows, each logged many times, answers included) replayed
on a 50-instance lab, against replaying every record as a packet of its own, in the same
run, as ratios (the machines are shared and noisy):

- parsing: records/s read (streaming, sgnet.io.flowlogs);
- the whole replay (read, fold into distinct flows, probe each once, judge): seconds
  (target: 1,000,000 records in under a minute) and flows/s;
- the baseline: a packet per record, at the rate the same prober reaches on a sample of
  records sent one packet each, projected to every record.

    sudo .venv/bin/python -m scripts.bench.replay [--records 1000000] [--json OUT]
"""

import argparse
import json
import os
import random
import tempfile
import time

import yaml

from scripts.bench.common import machine, wait_quiet
from scripts.bench.labs import probe_lab

from sgnet import classprobe, replaying
from sgnet.core import replay as core
from sgnet.session import LabSession


def write_log(path, lab, n, flows=4000, seed=9):
    """n Huawei records over `flows` distinct flows from outside addresses to the lab's
    instances (and one answer record per ten)."""
    rng = random.Random(seed)
    ips = [str(i.primary.ip) for i in lab.instances]
    kinds = [(6, 22), (6, 80), (6, 443), (17, 53), (6, 3306), (6, 8080)]
    pool = [(f"203.0.113.{rng.randrange(1, 255)}" if rng.random() < 0.5 else
             f"198.51.100.{rng.randrange(1, 255)}", rng.choice(ips), *rng.choice(kinds))
            for _ in range(flows)]
    with open(path, "w") as f:
        sport = 40000
        for k in range(n):
            src, dst, proto, port = pool[k % flows]
            if k % 10 == 9:  # the answer of the connection before
                src, dst, proto, port = pool[(k - 1) % flows]
                f.write(f"1 p eni-1 {dst} {src} {port} {sport} {proto} 3 180 1700000000 "
                        "1700000060 ACCEPT OK\n")
            else:
                sport = 32768 + rng.randrange(28000)
                f.write(f"1 p eni-1 {src} {dst} {sport} {port} {proto} 3 180 1700000000 "
                        "1700000060 ACCEPT OK\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--sample", type=int, default=20_000)
    ap.add_argument("--json")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    raw = probe_lab(50, name="brep")
    wait_quiet()
    sess = LabSession.up_from_text(yaml.safe_dump(raw, sort_keys=False), "<bench>")
    out = {"benchmark": "replay", "machine": machine(), "records": args.records}
    try:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "flows.log")
            write_log(path, sess.lab, args.records)
            t = time.perf_counter()
            rep, _, _ = replaying.read(sess.lab, [path])
            parse_s = time.perf_counter() - t
            t = time.perf_counter()
            r = replaying.replay(sess, [path])
            total_s = time.perf_counter() - t
            flows = r["summary"]["flows"]
            # the baseline: a packet per record, on a sample of records
            sample = []
            for f in rep.distinct():
                sample += [core.point_of(sess.lab, f)] * min(f.records, 50)
                if len(sample) >= args.sample:
                    break
            sample = sample[:args.sample]
            t = time.perf_counter()
            classprobe.probe_points(sess, sample)
            rate = len(sample) / (time.perf_counter() - t)
    finally:
        LabSession.down(raw["name"])
    projected = args.records / rate
    out.update({"parse_s": round(parse_s, 2), "records_per_s": round(args.records / parse_s),
                "replay_s": round(total_s, 2), "flows": flows,
                "flows_per_s": round(flows / max(total_s - parse_s, 1e-9)),
                "disagree": r["summary"]["disagree"], "replies": r["summary"]["replies"],
                "target_s": 60, "met": total_s < 60,
                "baseline_packets_per_s": round(rate), "baseline_projected_s": round(projected),
                "speedup": round(projected / total_s, 1)})
    print(f"parsed {args.records:,} records in {parse_s:.1f} s ({args.records / parse_s:,.0f}/s); "
          f"replayed as {flows:,} flows, {r['summary']['replies']:,} answers folded, in "
          f"{total_s:.1f} s in all (target 60 s); a packet per record at {rate:,.0f}/s: "
          f"{projected:.0f} s projected, {projected / total_s:.1f}x")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()

"""Replay against the model on random labs (needs root): flow-log records written from what
the model says each logging ENI does (so production and the model agree by construction),
replayed on the real kernel; every record must agree, and where the kernel saw the packet at
the logging ENI, its verdict must be the model's there. A failing example shrinks to a lab
file."""

import ipaddress
import os
import random

import pytest
import yaml
from hypothesis import HealthCheck, given, note, settings, strategies as st

from sgnet.core.evaluator import Evaluator
from sgnet.core.flowrecords import FlowRecord
from sgnet.core.labspec import parse
from sgnet.labgen import PROBES, labs

EXAMPLES = int(os.environ.get("SGNET_DIFF_EXAMPLES", "8"))
pytestmark = pytest.mark.kernel
OUTSIDE = {4: ["203.0.113.77", "198.51.100.9", "192.0.2.200", "100.64.3.4"],
           6: ["2001:db8:77::1", "2001:db8:ffff::9"]}


def _records(lab, rng, path):
    """Huawei-style records (no direction: read from the addresses) of flows from outside
    addresses and from other instances into each ENI, and out of each ENI to the outside,
    each with the action the model gives at the logging ENI."""
    ev = Evaluator(lab)
    lines = []
    for inst in lab.instances:
        for eni in inst.enis:
            for f in (4, 6):
                me = eni.address(f)
                if me is None:
                    continue
                peers = [ipaddress.ip_address(a) for a in OUTSIDE[f]]
                peers += [o.primary.address(f) for o in lab.instances
                          if o.name != inst.name and o.primary.address(f) is not None]
                for proto, port in PROBES:
                    p = (1 if f == 4 else 58) if proto == "icmp" else proto
                    peer = rng.choice(peers)
                    d = ev.judge(eni, "ingress", f, p, port, peer)
                    lines.append((peer, me, p, port, d.verdict))
                    out = ipaddress.ip_address(rng.choice(OUTSIDE[f]))
                    d = ev.judge(eni, "egress", f, p, port, out)
                    lines.append((me, out, p, port, d.verdict))
    with open(path, "w") as fh:
        for k, (src, dst, p, port, verdict) in enumerate(lines):
            sport, dport = (40000 + k, port) if port else ("-", "-")
            action = "ACCEPT" if verdict == "allow" else "REJECT"
            fh.write(f"1 p eni-{k} {src} {dst} {sport} {dport} {p} 1 60 1700000000 "
                     f"1700000060 {action} OK\n")
    return len(lines)


def check_lab(raw, seed, tmp):
    from sgnet.replaying import replay
    from sgnet.session import LabSession
    lab = parse(raw, "generated.yaml")
    path = os.path.join(tmp, "flows.log")
    n = _records(lab, random.Random(seed), path)
    sess = LabSession.up_from_text(yaml.safe_dump(raw, sort_keys=False), "generated.yaml")
    try:
        r = replay(sess, [path], "huawei")
    finally:
        LabSession.down(raw["name"])
    wrong = [x for x in r["flows"] if x["disagree"] or
             (x["now"]["observed"] is not None and x["now"]["observed"] != x["now"]["expected"])]
    return wrong, n, r["summary"]


@pytest.mark.parametrize("provider", ["huawei", "alibaba"])
def test_replayed_records_agree_with_the_model(provider, tmp_path):
    @settings(max_examples=max(2, EXAMPLES // 2), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(labs(provider, name="trpd" + provider[0]), st.integers(0, 10_000))
    def run(raw, seed):
        note("lab file:\n" + yaml.safe_dump(raw, sort_keys=False))
        wrong, n, summary = check_lab(raw, seed, str(tmp_path))
        assert n > 0 and summary.get("lost", 0) == 0, summary
        assert not wrong, (f"{len(wrong)} flows disagree; first: {wrong[:2]}\nlab file:\n"
                           + yaml.safe_dump(raw, sort_keys=False))
    run()

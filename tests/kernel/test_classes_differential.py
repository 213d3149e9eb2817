"""Property-based differential testing of the header-space classes against the real kernel.

Hypothesis generates random labs for both providers (sgnet.labgen), builds each one, and for
every class of every instance's ENI (both directions, both families) sends packets: the
class's boundaries (its first port and address, its last port and address) and random points
inside it (a random port of its range, a random address of a random one of its ranges), each
from the lab's outside world where no lab host holds the address. Every packet must do what
the model says of it, verdict and rule (the kernel reports the rule: witnessed probing). A
failing example shrinks to a small lab file. CI runs SGNET_DIFF_EXAMPLES per provider;
`python -m scripts.differential --classes` many more.
"""

import os
import random

import pytest
import yaml
from hypothesis import HealthCheck, given, note, settings, strategies as st

from sgnet.core import classes, classview, headerspace as hs
from sgnet.labgen import labs

EXAMPLES = int(os.environ.get("SGNET_DIFF_EXAMPLES", "8"))
pytestmark = pytest.mark.kernel


def random_points(analysis, cls, rng, k=2) -> list:
    """k packets at random inside the class (a port of its range, an address of one of its
    ranges, not held by a host where the class has others)."""
    out = []
    lab, f = analysis.lab, cls.family
    eni = lab.instance(cls.instance).enis[cls.eni]
    pool = hs.subtract(hs.subtract(classes.usable_ranges(lab, cls), hs.UNUSABLE[f]),
                       classes.avoided(analysis, cls))
    if not pool:
        return out
    for _ in range(k):
        lo, hi = rng.choice(pool)
        remote = rng.randint(lo, hi)
        proto = cls.protocol if cls.protocol is not None else hs.other_protocol(cls.named)
        port = rng.randint(*cls.ports) if cls.ports else None
        me, other = str(eni.address(f)), hs.as_address(remote, f)
        if cls.direction == "ingress":
            out.append(classes.Point(other, me, proto, port, f, None, cls.instance))
        else:
            out.append(classes.Point(me, other, proto, port, f, cls.instance, None))
    return out


def check_lab(raw, seed):
    """Every class of the lab confirmed by its boundaries and by random points: the
    disagreements, and the number of packets sent."""
    from sgnet import classprobe
    from sgnet.session import LabSession
    sess = LabSession.up_from_text(yaml.safe_dump(raw, sort_keys=False), "generated.yaml")
    try:
        analysis = classes.Analysis(sess.evaluator)
        cls_list = analysis.all_classes()
        records = [classview.record(analysis, c) for c in cls_list]
        classprobe.confirm(sess, analysis, records, cls_list)
        wrong = [r for r in records if r["confirmed"] is False or
                 any(p["observed"] == "lost" for p in r["probes"])]
        sent = sum(len(r["probes"]) for r in records)
        # random points inside the classes: one run, several per class (protocols tracked
        # by their addresses alone: one packet per pair of addresses, as confirm does)
        rng = random.Random(seed)
        pts, owners, pairs = [], [], set()
        for c in cls_list:
            for p in random_points(analysis, c, rng):
                if classprobe.tracked_by_addresses(p.protocol):
                    key = (p.family, p.protocol, frozenset((p.src, p.dst)))
                    if key in pairs:
                        continue
                    pairs.add(key)
                pts.append(p)
                owners.append(c)
        results = classprobe.probe_points(sess, pts)
        for c, p, r in zip(owners, pts, results):
            ok, _ = classview.confirmation(c, classview.point_expectation(sess.evaluator, p), r)
            if ok is False or r["observed"] == "lost":
                wrong.append({"class": classview.record(analysis, c), "packet": vars(p),
                              "kernel": r})
        sent += len(pts)
    finally:
        LabSession.down(raw["name"])
    return wrong, sent


@pytest.mark.parametrize("provider", ["huawei", "alibaba"])
def test_every_class_agrees_with_the_kernel(provider):
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(labs(provider, name="tcls" + provider[0]), st.integers(0, 10_000))
    def run(raw, seed):
        note("lab file:\n" + yaml.safe_dump(raw, sort_keys=False))
        wrong, sent = check_lab(raw, seed)
        assert sent > 0
        assert not wrong, (f"{len(wrong)} classes or packets disagree; first: {wrong[:2]}\n"
                           "lab file:\n" + yaml.safe_dump(raw, sort_keys=False))
    run()

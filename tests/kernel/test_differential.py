"""Property-based differential testing: the real kernel against the reference evaluator.

Hypothesis generates random labs for both providers (groups with random rules: allow/deny,
priorities with ties, tcp/udp/icmp/all, single ports, ranges and lists, CIDR, group and
prefix-list remotes, IPv4 and IPv6; instances in one to three groups; secondary ENIs), builds
each one, probes every flow of its matrix with real packets, and requires every observed
verdict to equal the evaluator's. A failing example shrinks to a small lab file, printed so
that `sgnet up` replays it. CI runs a bounded number (SGNET_DIFF_EXAMPLES, default 10 per
provider); scripts/differential.py runs many more. That the generator makes valid labs is
tests/unit/test_labgen.py.
"""

import os

import pytest
import yaml
from hypothesis import HealthCheck, given, note, settings

from sgnet.core.labspec import parse
from sgnet.labgen import flows_of, labs, labs_over_hosts

EXAMPLES = int(os.environ.get("SGNET_DIFF_EXAMPLES", "8"))


def check_lab(raw):
    """Build the lab, probe all its flows, return the mismatches (and the flow count)."""
    from sgnet.session import LabSession
    lab = parse(raw, "generated.yaml")
    flows = flows_of(lab)
    sess = LabSession.up_from_text(yaml.safe_dump(raw, sort_keys=False), "generated.yaml")
    try:
        records = sess.verdicts(flows)
    finally:
        LabSession.down(raw["name"])
    return [r for r in records if not r["match"]], len(records)


@pytest.mark.parametrize("provider", ["huawei", "alibaba"])
@pytest.mark.parametrize("layered", [False, True], ids=["rules", "layered"])
def test_kernel_agrees_with_the_evaluator(provider, layered, monkeypatch):
    """`layered`: every decision list compiled into layers of set lookups, every layer
    merged into sets (what long lists get), to check that form against the kernel too."""
    if layered:
        from sgnet.core import compiler
        monkeypatch.setattr(compiler, "LAYER_MIN", 1)
        monkeypatch.setattr(compiler, "MERGE_MIN", 1)

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(labs(provider, name="thyp" + provider[0]))
    def run(raw):
        assert_kernel_agrees(raw)
    run()


def assert_kernel_agrees(raw):
    note("lab file:\n" + yaml.safe_dump(raw, sort_keys=False))
    wrong, total = check_lab(raw)
    assert total > 0
    assert not wrong, (f"{len(wrong)} of {total} flows differ; first: {wrong[:3]}\n"
                       "lab file:\n" + yaml.safe_dump(raw, sort_keys=False))


@pytest.mark.parametrize("provider", ["huawei", "alibaba"])
def test_kernel_agrees_with_the_evaluator_over_hosts(provider):
    """The same random labs, their instances and externals placed at random on three
    simulated hosts joined by VXLAN: every flow, wherever its ends run, as the evaluator
    says. (Each host's agent compiles its own part: the rule-by-rule form.)"""
    @settings(max_examples=max(2, EXAMPLES // 2), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(labs_over_hosts(provider, name="thost" + provider[0]))
    def run(raw):
        assert_kernel_agrees(raw)
    run()

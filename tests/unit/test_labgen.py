"""The random lab generator of the differential tests (sgnet.labgen), without a kernel: it
only makes valid labs, and the evaluator judges every flow of them. The kernel against the
evaluator is tests/kernel/test_differential.py."""

import copy

import pytest
from hypothesis import given, settings

from sgnet.core.evaluator import Evaluator
from sgnet.core.labspec import parse
from sgnet import labgen
from sgnet.labgen import flows_of, labs, labs_over_hosts


@pytest.mark.parametrize("provider", ["huawei", "alibaba"])
def test_generated_labs_parse_and_evaluate(provider):
    @settings(max_examples=200, deadline=None, database=None)
    @given(labs(provider))
    def run(raw):
        lab = parse(raw, "generated.yaml")
        ev = Evaluator(lab)
        for f in flows_of(lab):
            assert ev.evaluate(*f).verdict in ("allow", "deny")
    run()


def test_labs_over_hosts_leave_the_shared_tables_alone():
    # labs_over_hosts adds "host" to its externals: on shared dicts that leaked into every
    # later lab of `labs` (seen when the pure test ran after the kernel differential test)
    before = copy.deepcopy(labgen.EXTERNALS)

    @settings(max_examples=20, deadline=None, database=None)
    @given(labs_over_hosts("huawei"))
    def run(raw):
        assert all("host" in x for x in raw["externals"])
    run()
    assert labgen.EXTERNALS == before

"""The random lab generator of the differential tests (sgnet.labgen), without a kernel: it
only makes valid labs, and the evaluator judges every flow of them. The kernel against the
evaluator is tests/kernel/test_differential.py."""

import pytest
from hypothesis import given, settings

from sgnet.core.evaluator import Evaluator
from sgnet.core.labspec import parse
from sgnet.labgen import flows_of, labs


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

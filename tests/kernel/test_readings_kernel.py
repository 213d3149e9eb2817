"""Where the documents disagree, on the real kernel (needs root): the kernel follows the
reading a lab's settings choose, as the evaluator does, and every probed verdict that
another reading would change says so. Hand-written labs (tests/helpers/reading_labs.py)."""

import pytest
import yaml

from helpers.reading_labs import alibaba_raw, huawei_raw

pytestmark = pytest.mark.kernel


def _up(raw, name, cleanup):
    from sgnet.session import LabSession
    raw = dict(raw, name=name)
    cleanup.append(name)
    return LabSession.up_from_text(yaml.safe_dump(raw, sort_keys=False), f"{name}.yaml")


@pytest.mark.parametrize("order,name,verdict,other", [
    ("sequential", "h13oa", "allow", "deny"),  # `open` is attached first: it decides
    ("aggregated", "h13ob", "deny", "allow"),  # the deny at priority 1 comes first
])
def test_huawei_group_order_the_kernel_follows_the_setting(order, name, verdict, other,
                                                           cleanup):
    sess = _up(huawei_raw(order), name, cleanup)
    for src in ("net", "vm2"):
        r = sess.probe(src, "vm1", "tcp/22")
        assert (r["expected"], r["observed"]) == (verdict, verdict), r
        [alt] = r["readings"]
        assert alt["setting"] == "huawei_group_order" and alt["verdict"] == other
    # vm2 is in one group: both readings agree, and nothing is marked
    r = sess.probe("vm1", "vm2", "tcp/22")
    assert (r["expected"], r["observed"]) == ("allow", "allow") and "readings" not in r
    m = sess.matrix(["tcp/22"])
    assert m["summary"]["wrong"] == 0 and m["summary"]["reading_dependent"] == 2


@pytest.mark.parametrize("tcp25,name,verdict", [
    (None, "h13oc", "deny"),  # the default: blocked
    ("open", "h13od", "allow"),
])
def test_alibaba_tcp25_outbound_the_kernel_follows_the_setting(tcp25, name, verdict,
                                                               cleanup):
    sess = _up(alibaba_raw(tcp25), name, cleanup)
    r = sess.probe("vm1", "net", "tcp/25")
    assert (r["expected"], r["observed"]) == (verdict, verdict), r
    assert r["readings"][0]["setting"] == "alibaba_tcp25_outbound"
    for src, dst, proto in (("vm1", "net", "tcp/587"), ("vm1", "vm2", "tcp/25")):
        r = sess.probe(src, dst, proto)
        assert (r["expected"], r["observed"]) == ("allow", "allow") and "readings" not in r

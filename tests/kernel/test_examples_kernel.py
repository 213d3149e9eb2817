"""Every example under examples/ builds, and the kernel agrees with the evaluator."""

from pathlib import Path

import pytest
import yaml

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))
PORTS = ["tcp/22", "tcp/80", "tcp/3306", "tcp/8080", "udp/53", "icmp"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_matrix_has_no_mismatch(sgnet_lab, path):
    raw = yaml.safe_load(path.read_text())
    raw["name"] = ("tx" + raw["name"])[:8]
    lab = sgnet_lab(raw)
    for family in (4, 6):
        m = lab.matrix(PORTS, family=family)
        assert m["summary"]["total"] > 0
        assert m["summary"]["wrong"] == 0, [r for r in m["results"] if not r.match]


def test_webtier_database_rules(sgnet_lab):
    raw = yaml.safe_load((Path(__file__).parents[2] / "examples" / "webtier.yaml").read_text())
    raw["name"] = "twt"
    lab = sgnet_lab(raw)
    expect = {("app1", "tcp/3306"): "allow", ("web1", "tcp/3306"): "deny",
              ("admin", "tcp/3306"): "deny", ("admin", "tcp/5432"): "allow",
              ("office", "tcp/22"): "allow", ("internet", "tcp/22"): "deny",
              ("web1", "icmp"): "allow", ("internet", "icmp"): "deny"}
    for (src, proto), verdict in expect.items():
        v = lab.probe(src, "db1", proto)
        assert (v.expected, v.observed) == (verdict, verdict), dict(v)
    assert lab.probe("web1", "app1", "tcp/8080").observed == "allow"
    assert lab.probe("internet", "app1", "tcp/8080").observed == "deny"

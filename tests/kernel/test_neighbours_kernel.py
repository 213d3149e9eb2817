"""Nothing in a lab resolves addresses dynamically (needs root). The kernel keeps one
neighbour table for all namespaces of a host (1,024 dynamic entries by default, a host
setting sgnet leaves alone): a matrix of a few hundred instances used to overflow it, and
allowed flows then looked filtered. Every ENI now reaches its subnet through the gateway,
and every neighbour entry is written in advance, permanent (sgnet.core.names)."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from scripts.bench.labs import bringup_lab
from sgnet.kernel import netns
from sgnet.session import LabSession


pytestmark = pytest.mark.kernel


def neighbours(ns):
    out = subprocess.run(["ip", "-j", "-n", ns, "neigh", "show"], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out or "[]")


def test_a_300_instance_matrix_is_right_and_resolves_nothing():
    raw = bringup_lab(300, name="tnb")
    sess = LabSession.up_from_text(yaml.safe_dump(raw, sort_keys=False), "<neighbours>")
    try:
        sources = [i.name for i in sess.lab.instances[:10]]
        m = sess.matrix(["tcp/80", "tcp/22"], sources=sources)
        assert m["summary"]["total"] == 10 * 300 * 2  # 299 others and the external, 2 ports
        assert m["summary"]["wrong"] == 0, [r for r in m["results"] if not r["match"]][:3]
        allowed = sum(r["observed"] == "allow" for r in m["results"])
        assert allowed > 3000  # most flows are answered: the check has teeth
        for ns in ["tnb--gw", "tnb-vm0", "tnb-vm150", "tnb-internet"]:
            entries = neighbours(ns)
            assert entries, ns
            dynamic = [e for e in entries if "PERMANENT" not in e.get("state", [])
                       and "NOARP" not in e.get("state", [])]
            assert dynamic == [], (ns, dynamic[:3])
        assert len(neighbours("tnb--gw")) >= 300  # one per ENI, written at bring-up
    finally:
        LabSession.down("tnb")
    assert not netns.list_names("tnb-")

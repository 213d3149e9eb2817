"""The naming scheme `down` relies on (issue 11 §2), pure: `owner` reads which lab, if any,
a namespace name belongs to, and inverts every name sgnet gives, so that `down` removes
exactly one lab's namespaces. What `down` does on the kernel is
tests/kernel/test_down_safety.py."""

import pytest

from helpers.cli import LABS
from sgnet.core import names, placement
from sgnet.io import labfile


@pytest.mark.parametrize("ns, owner", [
    ("rpfx-a", ("rpfx", "endpoint")), ("rpfx-a-b", ("rpfx", "endpoint")),
    ("rp-x", ("rp", "endpoint")), ("rpfx--gw", ("rpfx", "lab")), ("rpfx--ul", ("rpfx", "lab")),
    ("rpfx--gw-hv1", ("rpfx", "lab")), ("rpfx--h-hv2", ("rpfx", "lab")),
    ("rpfx--world", ("rpfx", "lab")), ("rpfx--world-x", None), ("rpfx--worlds", None),
    ("rpfx-ecs.a_1:x", ("rpfx", "endpoint")),
    ("rpfx", None), ("rpfx-", None), ("rpfx--", None), ("rpfx--h", None), ("rpfx--gw-", None),
    ("rpfx--zz", None), ("rpfx--gw-HV", None), ("rpfx--h-hv1-x", None), ("rpfx-_a", None),
    ("RP-a", None), ("toolongname-a", None), ("-a", None), ("a b-c", None),
])
def test_owner_reads_the_naming_scheme(ns, owner):
    assert names.owner(ns) == owner


def test_owner_inverts_every_name_sgnet_gives():
    for f in ("webserver.yaml", "multihost.yaml"):
        lab = labfile.load_file(str(LABS / f))
        given = placement.lab_namespaces(lab)
        assert given
        for n in given:
            assert names.owner(n) is not None and names.owner(n)[0] == lab.name, n
        own = {n for n in given if names.owner(n)[1] == "lab"}
        assert own, f"{f}: a lab always has a namespace of its own"

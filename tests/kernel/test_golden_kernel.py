"""The golden rulesets (tests/golden/, checked pure in tests/unit/test_compiler.py) load into
the kernel as they are, and the kernel holds what was compiled."""

from pathlib import Path

from sgnet.core.compiler import Compiler
from sgnet.io.labfile import load_file
from sgnet.core.names import ns_name
from sgnet.kernel import nft

HERE = Path(__file__).parents[1]
LAB = load_file(str(HERE / "labs" / "golden.yaml"))


def _rules(ruleset, chain):
    return [c["add"]["rule"] for c in ruleset["nftables"]
            if "rule" in c.get("add", {}) and c["add"]["rule"]["chain"] == chain]


def test_golden_rulesets_apply_in_the_kernel(sgnet_lab):
    """The compiled rulesets load as they are, and the kernel holds what was compiled."""
    lab = sgnet_lab(str(HERE / "labs" / "golden.yaml"))
    for inst in LAB.instances:
        compiled = Compiler(LAB).compile_instance(inst)
        listing = nft.list_table(ns_name(LAB.name, inst.name), LAB.name)
        items = listing["nftables"]
        kernel_chains = sorted(i["chain"]["name"] for i in items if "chain" in i)
        want_chains = sorted(c["add"]["chain"]["name"] for c in compiled["nftables"]
                             if "chain" in c.get("add", {}))
        assert kernel_chains == want_chains
        for chain in want_chains:
            kernel = [i["rule"].get("comment") for i in items
                      if "rule" in i and i["rule"]["chain"] == chain]
            assert kernel == [r["comment"] for r in _rules(compiled, chain)]
        sets = {i["set"]["name"]: i["set"].get("elem", []) for i in items if "set" in i}
        assert sets == {c["add"]["set"]["name"]: c["add"]["set"].get("elem", [])
                        for c in compiled["nftables"] if "set" in c.get("add", {})}
    # applying the same ruleset again is one atomic replacement, not an addition
    ns = ns_name(LAB.name, "web1")
    before = nft.list_table(ns, LAB.name)["nftables"]
    nft.apply(ns, Compiler(LAB).compile_instance(LAB.instance("web1")))
    again = nft.list_table(ns, LAB.name)["nftables"]
    assert sum(1 for i in again if "rule" in i) == sum(1 for i in before if "rule" in i)
    assert lab.probe("office1", "web1", "tcp/8080").observed == "allow"
    assert lab.probe("office1", "web1", "tcp/22").observed == "deny"

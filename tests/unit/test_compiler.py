"""The compiler, pure: golden rulesets for representative groups, and their structure."""

import json
import os
from pathlib import Path

import pytest

from sgnet.core.compiler import Compiler
from sgnet.io.labfile import load_file

HERE = Path(__file__).parents[1]
LAB = load_file(str(HERE / "labs" / "golden.yaml"))


def _golden(name, data):
    path = HERE / "golden" / f"{name}.json"
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    if os.environ.get("SGNET_REGEN_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"no golden file {path}: run with SGNET_REGEN_GOLDEN=1 and review it"
    assert text == path.read_text(), f"compiled ruleset differs from {path}"


@pytest.mark.parametrize("name", ["web1", "db1"])
def test_golden_instance_rulesets(name):
    _golden(f"{LAB.name}-{name}", Compiler(LAB).compile_instance(LAB.instance(name)))


def test_golden_gateway():
    _golden(f"{LAB.name}--gw", Compiler(LAB).compile_gateway())


def _rules(ruleset, chain):
    return [c["add"]["rule"] for c in ruleset["nftables"]
            if "rule" in c.get("add", {}) and c["add"]["rule"]["chain"] == chain]


def test_structure_established_first_then_invalid_nd_loopback_dispatch():
    rs = Compiler(LAB).compile_instance(LAB.instance("web1"))
    cmds = rs["nftables"]
    # atomic replacement: add, delete, add the table in the same batch
    assert [list(c) for c in cmds[:3]] == [["add"], ["delete"], ["add"]]
    for base in ("input", "output"):
        rules = _rules(rs, base)
        assert [r["comment"] for r in rules] == ["stateful: replies pass",
                                                 "stateful: a tracked session's packets pass",
                                                 "no connection: drop",
                                                 "IPv6 neighbour discovery", "loopback",
                                                 "per-ENI dispatch"]
        vmap = rules[-1]["expr"][0]["vmap"]["data"]["set"]
        prefix = "in_" if base == "input" else "out_"
        assert vmap == [["eth0", {"jump": {"target": prefix + "eth0"}}],
                        ["eth1", {"jump": {"target": prefix + "eth1"}}]]
    chains = [c["add"]["chain"] for c in cmds if "chain" in c.get("add", {})]
    base = {c["name"]: c for c in chains if "hook" in c}
    assert base["input"]["policy"] == base["output"]["policy"] == "drop"


def test_eni_chain_order_follows_the_evaluation_order():
    rs = Compiler(LAB).compile_instance(LAB.instance("web1"))
    comments = [r["comment"] for r in _rules(rs, "in_eth0")]
    # group web first (attachment order): the file's rules 4-8 and its API default rules
    # 0-3 (priority 100, as Huawei creates them), by priority, deny before allow at equal
    # priority; then default
    assert comments == ["web rule 4", "web rule 5", "web rule 6", "web rule 7",
                        "web rule 0", "web rule 1", "default rule 0", "default rule 1",
                        "default: deny"]
    assert [r["comment"] for r in _rules(rs, "in_eth1")] == ["db rule 0", "default: deny"]
    assert [r["comment"] for r in _rules(rs, "out_eth1")] == ["db rule 1", "default: deny"]


def test_sets_hold_group_members_and_prefix_lists_per_family():
    rs = Compiler(LAB).compile_instance(LAB.instance("db1"))
    sets = {c["add"]["set"]["name"]: c["add"]["set"] for c in rs["nftables"]
            if "set" in c.get("add", {})}
    assert sets["g4_web"]["elem"] == ["10.20.1.10"]
    rs = Compiler(LAB).compile_instance(LAB.instance("web1"))
    sets = {c["add"]["set"]["name"]: c["add"]["set"] for c in rs["nftables"]
            if "set" in c.get("add", {})}
    assert sets["p4_office"]["flags"] == ["interval"]
    assert sets["p4_office"]["elem"] == [{"prefix": {"addr": "203.0.113.0", "len": 24}}]
    assert "p6_office" not in sets  # the only rule using it is IPv4 (mixed list: IPv4)
    # the default group's members of each family, for its self-referencing rules
    assert sets["g4_default"]["elem"] == ["10.20.1.10"]
    assert sets["g6_default"]["elem"] == [str(LAB.instance("web1").primary.ipv6)]


def test_set_names_are_valid_and_distinct():
    from sgnet.core.compiler import set_name
    a, b = set_name("g", "Sys-WebServer", 4), set_name("g", "Sys_WebServer", 4)
    assert a != b and all(ch.isalnum() or ch == "_" for ch in a)


def test_gateway_keeps_vpcs_apart_at_addresses_nobody_holds():
    """With an outside world, an unheld address of another VPC is routed to the world link,
    not to a bridge: the isolation also matches the other VPCs' ranges there, and reports
    it as the route's drop."""
    from sgnet.core import witness
    from test_wiring import _world_lab
    lab = _world_lab()
    rules = _rules(Compiler(lab).compile_gateway(), "forward")
    ranges = {}
    for r in rules:
        m = {json.dumps(e["match"]["left"]): e["match"]["right"] for e in r["expr"]
             if "match" in e}
        if m.get('{"meta": {"key": "oifname"}}') != "tww":
            continue
        assert {"drop": None} in r["expr"]
        assert {"mangle": {"key": {"meta": {"key": "mark"}},
                           "value": witness.mark("route", witness.ANY_ENI, witness.ROUTE)}} \
            in r["expr"]
        (key, value), = [(k, v) for k, v in m.items() if "daddr" in k]
        ranges.setdefault(tuple(m['{"meta": {"key": "iifname"}}']["set"]), []).append(
            (json.loads(key)["payload"]["protocol"], value["set"]))
    assert ranges == {
        ("twb0", "twb1"): [("ip", [{"prefix": {"addr": "10.41.0.0",
                                                                     "len": 16}}])],
        ("twb2",): [("ip", [{"prefix": {"addr": "10.40.0.0", "len": 16}}]),
                    ("ip6", [{"prefix": {"addr": "fd00:40::", "len": 48}}])]}


def test_world_rewrites_only_its_icmpv6_errors():
    (rule,) = _rules(Compiler(LAB).compile_world(), "output")
    assert rule["expr"][0]["match"]["right"]["set"] == [
        "destination-unreachable", "time-exceeded", "parameter-problem"]
    assert rule["expr"][1]["mangle"]["value"] == {
        "payload": {"base": "th", "offset": 256, "len": 128}}

"""The wiring plan, pure (sgnet.core.wiring): golden plans of two labs (one host; over three
simulated hosts, per host and the simulated hosts), and properties every plan has.

Regenerate the golden files with SGNET_REGEN_GOLDEN=1 and review the diff."""

import ipaddress
import json
import os
from pathlib import Path

import pytest
import yaml

from sgnet.core import names, placement, wiring
from sgnet.io import labfile
from sgnet.core import labspec

HERE = Path(__file__).parents[1]
GOLDEN = HERE / "golden" / "wiring"


def _load(name):
    return labfile.load_file(str(HERE / "labs" / name))


def _golden(name, data):
    path = GOLDEN / f"{name}.json"
    text = json.dumps(data, indent=1) + "\n"
    if os.environ.get("SGNET_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {path}: run with SGNET_REGEN_GOLDEN=1 and review it"
    assert json.loads(path.read_text()) == json.loads(text), f"{path} differs"


def _multihost_plans(lab):
    mtu = placement.overlay_mtu(placement.SIMULATED_MTU)
    return {h.name: wiring.plan(lab, h.name, mtu) for h in lab.hosts}


def test_golden_one_host():
    lab = _load("golden.yaml")
    _golden(lab.name, wiring.as_json(wiring.plan(lab)))


def test_golden_multihost_per_host():
    lab = _load("multihost.yaml")
    for host, p in _multihost_plans(lab).items():
        _golden(f"{lab.name}-{host}", wiring.as_json(p))
    _golden(f"{lab.name}-simulated", [wiring.as_json(n) for n in wiring.simulated(lab)])


def test_plans_are_json_and_deterministic():
    lab = _load("multihost.yaml")
    a = json.dumps(wiring.as_json(wiring.plan(lab, "hv2", 1450)))
    b = json.dumps(wiring.as_json(wiring.plan(_load("multihost.yaml"), "hv2", 1450)))
    assert a == b


def _every_plan():
    """(label, namespaces of one machine's part) for the test labs, plus the namespaces of
    every part of the lab together (a remote ENI's MAC is on another host)."""
    out = []
    for f in ("golden.yaml", "webserver.yaml", "alibaba.yaml", "stateful.yaml"):
        lab = _load(f)
        out.append((f, lab, wiring.plan(lab).namespaces))
    for f, name in (("multihost.yaml", "mh"), ("multihost.yaml", "abcdefgh")):
        raw = dict(yaml.safe_load((HERE / "labs" / f).read_text()), name=name)
        lab = labspec.parse(raw, f)
        parts = [n for p in _multihost_plans(lab).values() for n in p.namespaces]
        out.append((f"{f} as {name}", lab, tuple(parts) + wiring.simulated(lab)))
    return out


PLANS = _every_plan()


@pytest.mark.parametrize("label, lab, spaces", PLANS, ids=[p[0] for p in PLANS])
def test_every_neighbour_is_an_interface_of_the_plan(label, lab, spaces):
    macs = {m for ns in spaces for link in ns.links for m in (link.mac, link.peer_mac) if m}
    for ns in spaces:
        for n in ns.neighbours:
            assert n.mac in macs, (ns.name, n)
        for f in ns.fdb:
            assert f.mac == wiring.FLOOD_MAC or f.mac in macs, (ns.name, f)


def _on_link(ns, route) -> bool:
    """The route's gateway is reachable on its device: inside a subnet of one of the
    device's addresses, link-local, or declared on-link with a permanent neighbour entry."""
    gw = ipaddress.ip_address(route.gateway)
    nets = [ipaddress.ip_interface(f"{a.address}/{a.prefixlen}").network
            for a in ns.addresses if a.dev == route.dev]
    if any(gw in net for net in nets) or gw.is_link_local and gw.version == 6:
        return True
    return route.onlink and any(n.dev == route.dev and n.address == route.gateway
                                for n in ns.neighbours)


@pytest.mark.parametrize("label, lab, spaces", PLANS, ids=[p[0] for p in PLANS])
def test_every_route_is_through_a_connected_gateway(label, lab, spaces):
    for ns in spaces:
        devs = {link.name for link in ns.links}
        for r in ns.routes:
            assert r.dev in devs, (ns.name, r)
            if r.gateway is not None:
                assert _on_link(ns, r), (ns.name, r)


@pytest.mark.parametrize("label, lab, spaces", PLANS, ids=[p[0] for p in PLANS])
def test_names_are_unique_short_and_the_labs(label, lab, spaces):
    ns_names = [ns.name for ns in spaces]
    assert len(ns_names) == len(set(ns_names))
    assert set(ns_names) == set(placement.lab_namespaces(lab))
    for ns in spaces:
        assert names.owner(ns.name) is not None and names.owner(ns.name)[0] == lab.name
        ifnames = [link.name for link in ns.links]
        assert len(ifnames) == len(set(ifnames)), ns.name
        assert all(len(n) <= 15 for n in ifnames), ns.name
        for link in ns.links:  # a veth's two ends agree, each named where it is
            if link.kind == "veth":
                other = next(o for o in spaces if o.name == link.peer_ns)
                peer = next(p for p in other.links if p.name == link.peer)
                assert (peer.peer, peer.peer_ns) == (link.name, ns.name)
                assert link.made_in in ("", other.name) and (link.made_in == "") != \
                    (peer.made_in == "")
        if ns.name.startswith(names.gw_ns(lab.name)):
            # in the lab's gateways every interface but lo carries the lab's name
            assert all(n.startswith(lab.name) for n in ifnames if n != "lo"), ns.name
    macs = [m for ns in spaces for link in ns.links for m in (link.mac,) if m]
    anycast = {names.gateway_mac(s) for s in lab.subnets}
    assert len({m for m in macs if m not in anycast}) == len([m for m in macs
                                                              if m not in anycast])


def test_instance_routes_and_rules():
    lab = _load("golden.yaml")
    web1 = next(ns for ns in wiring.plan(lab).instances if ns.name == "tgold-web1")
    main_defaults = [r for r in web1.routes if r.table == wiring.MAIN
                     and r.dst in ("0.0.0.0/0", "::/0")]
    assert [r.dev for r in main_defaults] == ["eth0"] * len(main_defaults)
    assert {r.table for r in web1.rules} == {100, 101}  # each ENI answers through itself


# -- the outside world ----------------------------------------------------------------------
def _world_lab():
    """Two VPCs (one dual-stack), an ENI with a block of secondary addresses, an external."""
    return labspec.parse({
        "name": "tw", "provider": "huawei",
        "vpcs": [{"name": "a", "cidr": "10.40.0.0/16", "ipv6_cidr": "fd00:40::/48",
                  "subnets": [{"name": "a1", "cidr": "10.40.1.0/24",
                               "ipv6_cidr": "fd00:40:0:1::/64"},
                              {"name": "a2", "cidr": "10.40.2.0/24"}]},
                 {"name": "b", "cidr": "10.41.0.0/16",
                  "subnets": [{"name": "b1", "cidr": "10.41.1.0/24"}]}],
        "security_groups": [{"name": "g", "rules": []}],
        "instances": [{"name": "x", "subnet": "a1", "ip": "10.40.1.10", "security_groups": ["g"],
                       "secondary_ips": 6},
                      {"name": "y", "subnet": "b1", "ip": "10.41.1.10", "security_groups": ["g"]}],
        "externals": [{"name": "net", "ip": "203.0.113.7", "ipv6": "2001:db8:7::7"}]}, "<test>")


def test_only_labs_on_one_machine_have_a_world():
    assert wiring.has_world(_load("golden.yaml"))
    multi = _load("multihost.yaml")
    assert not wiring.has_world(multi)
    for p in _multihost_plans(multi).values():
        assert p.world is None
        assert not any(a.noprefixroute for a in p.gateway.addresses)
        assert names.world_ns(multi.name) not in {n.name for n in p.namespaces}
    assert names.world_ns(multi.name) not in placement.lab_namespaces(multi)


def test_the_world_holds_every_address_and_sends_into_the_lab():
    lab = _world_lab()
    w = wiring.plan(lab).world
    assert w.name == names.world_ns("tw") == "tw--world" and names.owner(w.name) == ("tw", "lab")
    assert w.name in placement.lab_namespaces(lab)
    eth0 = next(link for link in w.links if link.name == "eth0")
    assert (eth0.peer, eth0.peer_ns, eth0.made_in) == ("tww", "tw--gw", "")
    assert (eth0.mac, eth0.peer_mac) == (names.world_mac(), names.world_link_mac())
    # AnyIP: everything is local, for both families
    local = {(r.dst, r.dev) for r in w.routes if r.type == "local" and r.table == wiring.LOCAL}
    assert local == {("0.0.0.0/0", "lo"), ("::/0", "lo")}
    # what it sends itself: main first (iif lo), then the local table, moved from 0
    by_family = {f: sorted((r.priority, r.iif, r.table) for r in w.rules if r.family == f)
                 for f in (4, 6)}
    for f in (4, 6):
        assert by_family[f] == [(wiring.WORLD_OWN_RULE, "lo", wiring.MAIN),
                                (wiring.WORLD_LOCAL_RULE, None, wiring.LOCAL)]
    assert {(r.priority, r.table, r.family) for r in w.removed_rules} == \
        {(0, wiring.LOCAL, 4), (0, wiring.LOCAL, 6)}
    main = {r.dst: r for r in w.routes if r.table == wiring.MAIN}
    assert set(main) == {"10.40.0.0/16", "fd00:40::/48", "10.41.0.0/16", "203.0.113.7/32",
                         "2001:db8:7::7/128"}
    assert all(r.dev == "eth0" and r.gateway in (wiring.GW_LINK4, wiring.GW_LINK6)
               for r in main.values())
    assert w.sysctls["net.ipv4.conf.all.accept_local"] == 1
    assert eth0.sysctls == {"net.ipv4.conf.eth0.accept_local": 1,
                            "net.ipv4.conf.eth0.rp_filter": 0}
    assert {(n.address, n.mac) for n in w.neighbours} == \
        {(wiring.GW_LINK4, names.world_link_mac()), (wiring.GW_LINK6, names.world_link_mac())}
    json.dumps(wiring.as_json(wiring.plan(lab)))


def test_the_gateway_routes_only_held_addresses_to_bridges():
    lab = _world_lab()
    gw = wiring.plan(lab).gateway
    bridges = {names.bridge_name(lab, s) for s in lab.subnets}
    assert all(a.noprefixroute for a in gw.addresses if a.dev in bridges)
    on_bridges = {(r.dst, r.dev) for r in gw.routes if r.dev in bridges}
    x = lab.instance("x").primary
    assert on_bridges == {("10.40.1.10/32", "twb0"), (f"{x.ipv6}/128", "twb0"),
                          ("10.41.1.10/32", "twb2"),
                          *{(str(n), "twb0") for n in ipaddress.summarize_address_range(
                              *x.secondary)}}
    to_world = {r.dst: r.gateway for r in gw.routes if r.dev == "tww"}
    assert to_world == {"0.0.0.0/0": wiring.WORLD_LINK4, "::/0": wiring.WORLD_LINK6,
                        "10.40.1.0/24": wiring.WORLD_LINK4, "fd00:40:0:1::/64": wiring.WORLD_LINK6,
                        "10.40.2.0/24": wiring.WORLD_LINK4, "10.41.1.0/24": wiring.WORLD_LINK4}
    # externals keep their own, more specific routes
    assert ("203.0.113.7/32", "twx0") in {(r.dst, r.dev) for r in gw.routes}

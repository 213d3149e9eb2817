"""A lab's wiring as data (pure: sgnet.core): per namespace, its links, addresses,
neighbour and forwarding entries, routes, rules and sysctls. sgnet.kernel.build only
executes such a plan; the golden files under tests/golden/wiring/ are plans.

The design (names and MACs: sgnet.core.names; hosts and numbers: sgnet.core.placement):
- The gateway namespace holds one bridge per subnet with the subnet's gateway addresses
  and a fixed MAC (over several hosts the same on every host: an anycast gateway), routes
  between subnets, and a point-to-point link to every external (169.254.0.1, fe80::1).
- As on a cloud's virtual switch, an ENI reaches its whole subnet through the subnet's
  gateway: its address is a /32 (/128), its routes go on-link through the gateway, whose
  MAC is a permanent neighbour, and the gateway holds a permanent entry for every ENI and
  external: nothing is resolved dynamically. Subnet routes per ENI, lower ENI number
  wins; the default route through the primary ENI; source routing so each ENI answers
  through itself (table 100 + ENI number).
- Over several hosts each gateway also has a VXLAN device per subnet (a bridge port,
  unicast, no learning): static forwarding entries send each remote ENI's MAC to its
  host's VTEP, and broadcast and unknown frames to every other host with members of the
  subnet; a remote ENI's permanent neighbour entry is the only way to reach it (its answer
  to this gateway's ARP would reach its own host's gateway, same MAC). Externals are
  attached on one host; the other gateways route to them over the transit segment.
- The outside world (one-host labs: has_world) is a namespace behind the gateway holding
  every address no ENI or external holds: the gateway's default routes lead to it, and so
  does the rest of each subnet (the bridges' addresses make no subnet route; each held
  address has its own). Every packet coming into it is local there (AnyIP: a local route
  for 0.0.0.0/0 and ::/0), so its raw sockets hear answers to any address and its kernel
  answers like a host at any address; what it sends itself is routed by the main table
  (a rule for iif lo before the local table's), which holds the lab's space.

Order is deterministic (the lab's order); every value is JSON-serialisable (as_json).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field
from typing import Optional

from sgnet.core import names, placement
from sgnet.core.model import Lab

GW_LINK4 = "169.254.0.1"  # the gateway's side of every external's point-to-point link
GW_LINK6 = "fe80::1"
WORLD_LINK4 = "169.254.0.2"  # the world's side of its link
WORLD_LINK6 = "fe80::2"
FLOOD_MAC = "00:00:00:00:00:00"  # a VXLAN forwarding entry for every broadcast and unknown
UNDERLAY = "<underlay>"  # Link.made_in: from the namespace the host's agent runs in
KERNEL = "<kernel>"      # Link.made_in: there with the namespace (lo)
MAIN, LOCAL = 254, 255   # routing tables
ENI_TABLE, ENI_RULE = 100, 1000  # ENI k's source-routing table and rule priority: + k
# In the world: what it sends itself is looked up in main (WORLD_OWN_RULE), everything else
# in local (moved from the kernel's own rule, priority 0, to WORLD_LOCAL_RULE).
KERNEL_LOCAL_RULE, WORLD_OWN_RULE, WORLD_LOCAL_RULE = 0, 100, 200

COMMON_SYSCTLS = {
    "net.ipv4.conf.all.rp_filter": 0, "net.ipv4.conf.default.rp_filter": 0,
    "net.ipv6.conf.all.accept_ra": 0, "net.ipv6.conf.default.accept_ra": 0,
    "net.ipv6.conf.all.accept_dad": 0, "net.ipv6.conf.default.accept_dad": 0,
    # ICMP errors are rate-limited per destination: a burst of UDP probes to closed ports
    # would get only some port-unreachables back, which looks like a silent drop.
    "net.ipv4.icmp_ratelimit": 0, "net.ipv6.icmp.ratelimit": 0,
    # ... and by a token bucket per namespace (icmp_global_allow), which in a fresh
    # namespace can refuse the very first error (seen: OutRateLimitGlobal 1 on an external,
    # its first UDP probe lost). No ICMP type is rate-limited at all (the ratemasks empty).
    "net.ipv4.icmp_ratemask": 0, "net.ipv6.icmp.ratemask": "",
    "net.ipv4.ping_group_range": "0 2147483647",
}
HOST_SYSCTLS = {  # instances and externals are hosts, not routers
    "net.ipv4.ip_forward": 0, "net.ipv6.conf.all.forwarding": 0,
    # An ENI answers ARP only for its own address: otherwise eth0 could answer for eth1's
    # address and packets for one ENI would be judged by another ENI's groups. (The device's
    # own value counts, with `all` as a floor: an ENI with a block of secondary addresses,
    # held as a local route, lowers its own to 0 to answer for them.)
    "net.ipv4.conf.all.arp_ignore": 0, "net.ipv4.conf.default.arp_ignore": 1,
    "net.ipv4.conf.all.arp_announce": 2, "net.ipv4.conf.default.arp_announce": 2,
}
GW_SYSCTLS = {"net.ipv4.ip_forward": 1, "net.ipv6.conf.all.forwarding": 1,
              # Traffic within a subnet is routed back out of the bridge it came from: no
              # redirects (instances would then resolve each other's addresses themselves).
              "net.ipv4.conf.all.send_redirects": 0, "net.ipv4.conf.default.send_redirects": 0}
# Set in the gateway once its bridges exist: links made from then on (the bridge ports: ENI
# peers, VXLAN devices) carry no IPv6 of their own (a port with IPv6 multicasts its reports
# to every other port as it comes up). Links that route IPv6 turn it back on (Link.sysctls).
GW_LATE_SYSCTLS = {"net.ipv6.conf.default.disable_ipv6": 1}
# Every packet into the world is local there, its source too (AnyIP): accepted as such
# (accept_local, the device's or all's: IN_DEV_ORCONF), with no reverse-path filter.
# IPv6 has neither check.
WORLD_SYSCTLS = {"net.ipv4.conf.all.accept_local": 1}


@dataclass(frozen=True)
class Link:
    """An interface of a namespace. made_in: where its create request is sent from ("": this
    namespace; a namespace name: the other end of a veth made there; UNDERLAY: a VXLAN
    device whose socket stays in the host's namespace; KERNEL: lo). sysctls are written once
    it exists, before it is brought up (with its master, if any)."""
    name: str
    kind: str  # loopback | veth | bridge | vxlan
    made_in: str = ""
    mac: Optional[str] = None  # None: the kernel's
    mtu: int = 0  # 0: the kernel's
    master: Optional[str] = None
    peer: Optional[str] = None  # veth: the other end's name, namespace and (made here) MAC
    peer_ns: Optional[str] = None
    peer_mac: Optional[str] = None
    vni: Optional[int] = None  # vxlan: its VNI, local VTEP address and UDP port
    local: Optional[str] = None
    port: Optional[int] = None
    sysctls: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Address:
    dev: str
    address: str
    prefixlen: int
    nodad: bool = False
    noprefixroute: bool = False  # no route to the address's subnet (IFA_F_NOPREFIXROUTE)


@dataclass(frozen=True)
class Neighbour:
    """A permanent ARP/NDP entry: `address` is at `mac` on `dev`."""
    dev: str
    address: str
    mac: str


@dataclass(frozen=True)
class Fdb:
    """A VXLAN device's static forwarding entry: frames for `mac` go to the VTEP `dst`."""
    dev: str
    mac: str
    dst: str


@dataclass(frozen=True)
class Route:
    dst: str
    dev: str
    gateway: Optional[str] = None
    table: int = MAIN
    priority: int = 0
    scope: str = "universe"  # universe | link | host
    type: str = "unicast"    # unicast | local
    onlink: bool = False     # the gateway is on this link, whatever the addresses say


@dataclass(frozen=True)
class Rule:
    """Policy routing: packets from `src` (an address or CIDR; None: any, of `family`)
    that came in on `iif` (None: any; "lo": sent by this namespace itself) use `table`."""
    src: Optional[str]
    table: int
    priority: int
    iif: Optional[str] = None
    family: int = 0  # 4 or 6, for a rule without src

    @property
    def version(self) -> int:
        return self.family or ipaddress.ip_network(self.src).version


@dataclass(frozen=True)
class Namespace:
    name: str
    links: tuple = ()
    addresses: tuple = ()
    neighbours: tuple = ()
    routes: tuple = ()
    rules: tuple = ()
    fdb: tuple = ()
    sysctls: dict = field(default_factory=dict)       # first, in a new namespace
    late_sysctls: dict = field(default_factory=dict)  # once the links made here exist
    removed_rules: tuple = ()  # the kernel's own rules replaced by `rules` (removed first)


@dataclass(frozen=True)
class Wiring:
    """One host's part of a lab (host None: the whole lab on one machine)."""
    lab: str
    host: Optional[str]
    gateway: Namespace
    instances: tuple  # in the order of the lab's instances (on this host)
    externals: tuple
    world: Optional[Namespace] = None  # has_world

    @property
    def namespaces(self) -> tuple:
        return (self.gateway, *self.instances, *self.externals,
                *((self.world,) if self.world else ()))


has_world = placement.has_world  # whether a lab has an outside world (one-host labs)


def plan(lab: Lab, host: str = None, mtu: int = 0) -> Wiring:
    """The wiring of the lab, or over several hosts of `host`'s part of it, with `mtu` on
    the lab's links (0: the kernel's; over several hosts the overlay's, which depends on
    the underlay device: placement.overlay_mtu)."""
    instances, externals = lab.instances, lab.externals
    if host is not None:
        instances = placement.instances_on(lab, host)
        externals = placement.externals_on(lab, host)
    gw = names.gw_ns(lab.name, host)
    return Wiring(lab.name, host, _gateway(lab, host, mtu, instances, externals),
                  tuple(_instance(lab, i, gw, mtu) for i in instances),
                  tuple(_external(lab, x, gw, mtu) for x in externals),
                  _world(lab, gw, mtu) if has_world(lab) else None)


def _lo():
    return Link("lo", "loopback", made_in=KERNEL)


def _gateway(lab: Lab, host, mtu: int, instances, externals) -> Namespace:
    world = has_world(lab)
    parts = [_bridges(lab, mtu, world), _ports(lab, instances, externals)]
    if world:
        parts.append(_world_link(lab, instances))
    if host is not None:
        parts += [_overlay(lab, lab.host(host), mtu), _transit(lab, lab.host(host), mtu)]
    return Namespace(names.gw_ns(lab.name, host), (_lo(), *_cat(parts, "links")),
                     *(_cat(parts, k) for k in ("addresses", "neighbours", "routes",
                                                "rules", "fdb")),
                     sysctls={**COMMON_SYSCTLS, **GW_SYSCTLS}, late_sysctls=GW_LATE_SYSCTLS)


def _cat(parts, key) -> tuple:
    return tuple(x for p in parts for x in p.get(key, ()))


def _bridges(lab: Lab, mtu: int, world: bool) -> dict:
    """A bridge per subnet with the subnet's gateway addresses and fixed MAC; with a world,
    the addresses make no subnet route (_world_link routes each held address)."""
    links, addresses = [], []
    for s in lab.subnets:
        br = names.bridge_name(lab, s)
        links.append(Link(br, "bridge", mac=names.gateway_mac(s), mtu=mtu))
        addresses.append(Address(br, str(s.gateway), s.cidr.prefixlen, noprefixroute=world))
        if s.ipv6_cidr:
            addresses.append(Address(br, str(s.gateway6), s.ipv6_cidr.prefixlen, nodad=True,
                                     noprefixroute=world))
    return {"links": links, "addresses": addresses}


def _ports(lab: Lab, instances, externals) -> dict:
    """The gateway's ends of the ENIs' veths, on their subnets' bridges, and the links to
    the externals, each with the permanent entries of what is at their other end."""
    out = {"links": [], "addresses": [], "neighbours": [], "routes": []}
    for inst in instances:
        ns = names.ns_name(lab.name, inst.name)
        for eni in inst.enis:
            br = names.bridge_name(lab, lab.subnet(eni.subnet))
            out["links"].append(Link(names.eni_peer_name(lab, inst, eni), "veth", made_in=ns,
                                     master=br, peer=eni.ifname, peer_ns=ns))
            mac = names.eni_mac(inst, eni)
            out["neighbours"] += [Neighbour(br, str(a), mac) for a in (eni.ip, eni.ipv6) if a]
    for x in externals:
        ns, link = names.ns_name(lab.name, x.name), names.external_link_name(lab, x)
        out["links"].append(Link(link, "veth", made_in=ns, mac=names.external_link_mac(x),
                                 peer=names.EXTERNAL_IFNAME, peer_ns=ns,
                                 sysctls=_ipv6_on(link)))
        out["addresses"].append(Address(link, GW_LINK4, 32))
        out["routes"].append(Route(f"{x.ip}/32", link, scope="link"))
        out["neighbours"].append(Neighbour(link, str(x.ip), names.external_mac(x)))
        if x.ipv6:
            out["addresses"].append(Address(link, GW_LINK6, 64, nodad=True))
            out["routes"].append(Route(f"{x.ipv6}/128", link))
            out["neighbours"].append(Neighbour(link, str(x.ipv6), names.external_mac(x)))
    return out


def _world_link(lab: Lab, instances) -> dict:
    """The gateway's link to the world, with its defaults, each subnet, and routes on the
    bridges for only what the ENIs hold: an address nobody holds goes to the world."""
    link, wns = names.world_link_name(lab), names.world_ns(lab.name)
    mac = names.world_mac()
    out = {"links": [Link(link, "veth", made_in=wns, mac=names.world_link_mac(),
                          peer=names.WORLD_IFNAME, peer_ns=wns, sysctls=_ipv6_on(link))],
           "addresses": [Address(link, GW_LINK4, 32), Address(link, GW_LINK6, 64, nodad=True)],
           "neighbours": [Neighbour(link, WORLD_LINK4, mac), Neighbour(link, WORLD_LINK6, mac)],
           "routes": [Route("0.0.0.0/0", link, WORLD_LINK4, onlink=True),
                      Route("::/0", link, WORLD_LINK6)]}
    for s in lab.subnets:
        out["routes"].append(Route(str(s.cidr), link, WORLD_LINK4, onlink=True))
        if s.ipv6_cidr:
            out["routes"].append(Route(str(s.ipv6_cidr), link, WORLD_LINK6))
    for inst in instances:
        for eni in inst.enis:
            br = names.bridge_name(lab, lab.subnet(eni.subnet))
            out["routes"].append(Route(f"{eni.ip}/32", br, scope="link"))
            out["routes"] += [Route(str(n), br, scope="link") for n in _blocks(eni)]
            if eni.ipv6:
                out["routes"].append(Route(f"{eni.ipv6}/128", br))
    return out


def _ipv6_on(ifname: str) -> dict:
    return {f"net.ipv6.conf.{ifname}.disable_ipv6": 0}


def _overlay(lab: Lab, host, mtu: int) -> dict:
    """A subnet's VXLAN device on its bridge: broadcast and unknown frames only to the
    hosts with members of the subnet (the others' gateways route to it by unicast), each
    remote ENI's MAC to its host with a permanent neighbour entry on the bridge."""
    out = {"links": [], "neighbours": [], "fdb": []}
    local, others = placement.underlay_ip(host), [h for h in lab.hosts if h is not host]
    for s in lab.subnets:
        dev, br = names.vxlan_name(lab, s), names.bridge_name(lab, s)
        out["links"].append(Link(dev, "vxlan", made_in=UNDERLAY, mtu=mtu, master=br,
                                 vni=placement.vni(lab, s), local=local,
                                 port=placement.VXLAN_PORT))
        members = {i.host for i in lab.instances for e in i.enis if e.subnet == s.name}
        out["fdb"] += [Fdb(dev, FLOOD_MAC, placement.underlay_ip(h)) for h in others
                       if h.name in members]
        for inst in lab.instances:
            if inst.host == host.name:
                continue
            vtep = placement.underlay_ip(lab.host(inst.host))
            for eni in (e for e in inst.enis if e.subnet == s.name):
                mac = names.eni_mac(inst, eni)
                out["fdb"].append(Fdb(dev, mac, vtep))
                out["neighbours"] += [Neighbour(br, str(a), mac) for a in (eni.ip, eni.ipv6)
                                      if a is not None]
    return out


def _transit(lab: Lab, host, mtu: int) -> dict:
    """The segment between the hosts' gateways, with routes to the other hosts' externals."""
    dev, others = names.transit_name(lab), [h for h in lab.hosts if h is not host]
    link = Link(dev, "vxlan", made_in=UNDERLAY, mac=names.transit_mac(host), mtu=mtu,
                vni=placement.transit_vni(lab), local=placement.underlay_ip(host),
                port=placement.VXLAN_PORT, sysctls=_ipv6_on(dev))
    addresses = [Address(dev, placement.transit_ip(host), placement.TRANSIT_NET.prefixlen),
                 Address(dev, placement.transit_ip(host, 6), placement.TRANSIT_PREFIX6,
                         nodad=True)]
    fdb = [f for h in others for f in (Fdb(dev, FLOOD_MAC, placement.underlay_ip(h)),
                                       Fdb(dev, names.transit_mac(h), placement.underlay_ip(h)))]
    routes = []
    for x in lab.externals:
        if x.host != host.name:
            h = lab.host(x.host)
            routes.append(Route(f"{x.ip}/32", dev, placement.transit_ip(h)))
            if x.ipv6:
                routes.append(Route(f"{x.ipv6}/128", dev, placement.transit_ip(h, 6)))
    return {"links": [link], "addresses": addresses, "fdb": fdb, "routes": routes}


def _instance(lab: Lab, inst, gw: str, mtu: int) -> Namespace:
    """An ENI per veth (its peer made straight in the gateway), each answering through
    itself; see the module's opening comment."""
    out = {"links": [_lo()], "addresses": [], "neighbours": [], "routes": [], "rules": []}
    v6_default = None
    for eni in inst.enis:
        _eni(lab, inst, eni, gw, mtu, out)
        s = lab.subnet(eni.subnet)
        if eni.ipv6 and v6_default is None:
            v6_default = Route("::/0", eni.ifname, str(s.gateway6), onlink=True)
    if v6_default is not None:
        out["routes"].append(v6_default)
    return Namespace(names.ns_name(lab.name, inst.name),
                     *(tuple(out[k]) for k in ("links", "addresses", "neighbours", "routes",
                                               "rules")),
                     sysctls={**COMMON_SYSCTLS, **HOST_SYSCTLS})


def _eni(lab: Lab, inst, eni, gw: str, mtu: int, out: dict):
    s, dev = lab.subnet(eni.subnet), eni.ifname
    gw_mac, table, prio = names.gateway_mac(s), ENI_TABLE + eni.index, ENI_RULE + eni.index
    blocks = _blocks(eni)
    out["links"].append(Link(dev, "veth", mac=names.eni_mac(inst, eni), mtu=mtu,
                             peer=names.eni_peer_name(lab, inst, eni), peer_ns=gw,
                             sysctls={f"net.ipv4.conf.{dev}.arp_ignore": 0} if blocks else {}))
    gw4 = str(s.gateway)
    out["addresses"].append(Address(dev, str(eni.ip), 32))
    out["neighbours"].append(Neighbour(dev, gw4, gw_mac))
    out["routes"] += [Route("0.0.0.0/0", dev, gw4, table=table, onlink=True),
                      Route(str(s.cidr), dev, gw4, table=table, onlink=True),
                      Route(str(s.cidr), dev, gw4, priority=eni.index, onlink=True)]
    out["rules"].append(Rule(f"{eni.ip}/32", table, prio))
    if eni.index == 0:
        out["routes"].append(Route("0.0.0.0/0", dev, gw4, onlink=True))
    # A block of secondary addresses is the ENI's own: one local route per CIDR of it.
    out["routes"] += [Route(str(n), "lo", table=LOCAL, scope="host", type="local")
                      for n in blocks]
    out["rules"] += [Rule(str(n), table, prio) for n in blocks]
    if eni.ipv6:
        gw6 = str(s.gateway6)
        out["addresses"].append(Address(dev, str(eni.ipv6), 128, nodad=True))
        out["neighbours"].append(Neighbour(dev, gw6, gw_mac))
        out["routes"] += [
            Route(str(s.ipv6_cidr), dev, gw6, priority=100 + eni.index, onlink=True),
            Route(str(s.ipv6_cidr), dev, gw6, table=table, onlink=True),
            Route("::/0", dev, gw6, table=table, onlink=True)]
        out["rules"].append(Rule(f"{eni.ipv6}/128", table, prio))


def _blocks(eni) -> list:
    """The CIDRs of an ENI's block of secondary addresses."""
    return list(ipaddress.summarize_address_range(*eni.secondary)) if eni.secondary else []


def _external(lab: Lab, x, gw: str, mtu: int) -> Namespace:
    dev, link_mac = names.EXTERNAL_IFNAME, names.external_link_mac(x)
    addresses = [Address(dev, str(x.ip), 32)]
    neighbours = [Neighbour(dev, GW_LINK4, link_mac)]
    routes = [Route("0.0.0.0/0", dev, GW_LINK4, onlink=True)]
    if x.ipv6:
        addresses.append(Address(dev, str(x.ipv6), 128, nodad=True))
        neighbours.append(Neighbour(dev, GW_LINK6, link_mac))
        routes.append(Route("::/0", dev, GW_LINK6))
    link = Link(dev, "veth", mac=names.external_mac(x), mtu=mtu,
                peer=names.external_link_name(lab, x), peer_ns=gw, peer_mac=link_mac)
    return Namespace(names.ns_name(lab.name, x.name), (_lo(), link), tuple(addresses),
                     tuple(neighbours), tuple(routes),
                     sysctls={**COMMON_SYSCTLS, **HOST_SYSCTLS})


def _world(lab: Lab, gw: str, mtu: int) -> Namespace:
    """The outside world (see the module's opening comment): AnyIP for both families (a
    local route for everything: ip-route(8) `local`), the lab's space in main for what it
    sends itself, through the gateway."""
    dev, link_mac = names.WORLD_IFNAME, names.world_link_mac()
    link = Link(dev, "veth", mac=names.world_mac(), mtu=mtu, peer=names.world_link_name(lab),
                peer_ns=gw, peer_mac=link_mac,
                sysctls={f"net.ipv4.conf.{dev}.accept_local": 1,
                         f"net.ipv4.conf.{dev}.rp_filter": 0})
    # An on-link gateway must not be a local address (fib_check_nh: inet_addr_type_dev_table
    # in the local table), which under 0.0.0.0/0 it would be: the gateway's side stays
    # unicast there.
    routes = [Route(f"{GW_LINK4}/32", dev, table=LOCAL, scope="link")]
    for net in _lab_space(lab):
        routes.append(Route(str(net), dev, GW_LINK4, onlink=True) if net.version == 4
                      else Route(str(net), dev, GW_LINK6))
    routes += [Route(dst, "lo", table=LOCAL, scope="host", type="local")
               for dst in ("0.0.0.0/0", "::/0")]
    rules = [Rule(None, MAIN, WORLD_OWN_RULE, iif="lo", family=f) for f in (4, 6)]
    rules += [Rule(None, LOCAL, WORLD_LOCAL_RULE, family=f) for f in (4, 6)]
    return Namespace(
        names.world_ns(lab.name), (_lo(), link),
        (Address(dev, WORLD_LINK4, 32), Address(dev, WORLD_LINK6, 64, nodad=True)),
        (Neighbour(dev, GW_LINK4, link_mac), Neighbour(dev, GW_LINK6, link_mac)),
        tuple(routes), tuple(rules),
        sysctls={**COMMON_SYSCTLS, **HOST_SYSCTLS, **WORLD_SYSCTLS},
        removed_rules=tuple(Rule(None, LOCAL, KERNEL_LOCAL_RULE, family=f) for f in (4, 6)))


def _lab_space(lab: Lab) -> list:
    """Every address a host of the lab may hold: the VPCs' CIDRs (their subnets are inside:
    labspec) and the externals' addresses."""
    out = [n for v in lab.vpcs for n in (v.cidr, v.ipv6_cidr) if n is not None]
    for x in lab.externals:
        out += [ipaddress.ip_network(a) for a in (x.ip, x.ipv6) if a is not None]
    return out


def simulated(lab: Lab) -> tuple:
    """The simulated hypervisors' namespaces (each with its underlay address and a route
    to every other host's: all on-link), and the underlay switch they are plugged into,
    first. Empty for a lab on real hosts or on one machine."""
    if not placement.simulated_namespaces(lab):
        return ()
    sw = names.switch_ns(lab.name)
    ports, hosts = [], []
    for h in lab.hosts:
        port, hns = names.switch_port_name(lab, h), names.host_ns(lab.name, h.name)
        ports.append(Link(port, "veth", made_in=hns, master=names.SWITCH_BRIDGE,
                          peer=names.UNDERLAY_IFNAME, peer_ns=hns))
        mine = ipaddress.ip_address(placement.underlay_ip(h))
        dev = names.UNDERLAY_IFNAME
        routes = tuple(Route(f"{placement.underlay_ip(p)}/{mine.max_prefixlen}", dev,
                             scope="link") for p in lab.hosts if p is not h)
        hosts.append(Namespace(hns, (_lo(), Link(dev, "veth", mtu=placement.SIMULATED_MTU,
                                                 peer=port, peer_ns=sw)),
                               (Address(dev, str(mine), mine.max_prefixlen, nodad=True),),
                               routes=routes))
    switch = Namespace(sw, (_lo(), Link(names.SWITCH_BRIDGE, "bridge"), *ports))
    return (switch, *hosts)


def as_json(value):
    """A plan (or any part of it) as JSON values, leaving out what is unset (None, 0,
    False, empty)."""
    if isinstance(value, Wiring):
        return {"lab": value.lab, "host": value.host,
                "namespaces": [as_json(n) for n in value.namespaces]}
    if dataclasses.is_dataclass(value):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if v not in (None, 0, False, "", (), {}) or f.name in ("table", "prefixlen"):
                out[f.name] = as_json(v)
        return out
    if isinstance(value, (tuple, list)):
        return [as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    return value

"""Labs over several hosts: which namespaces live where, and the VXLAN overlay joining them.

Every host has the lab's gateway namespace (<lab>--gw-<host>) with every subnet's bridge,
holding the subnet's gateway address and MAC, the same on every host (an anycast gateway:
an instance's first hop is always on its own host, where the packet is routed once), and a
VXLAN device per subnet (one VNI each) as a bridge port. The VXLAN devices are unicast and
do not learn: static forwarding entries send each remote ENI's MAC (fixed by sgnet) to its
host's VTEP, and broadcast and unknown frames to every other host with members of the
subnet. Externals are attached
on one host; the other gateways route to them over a transit VXLAN segment between the
gateways (169.254.1.0/24, fe80::2:0/112). Instances' links have their MTU lowered by the
VXLAN overhead, so no packet is ever fragmented on the underlay (DF is set outside too).

The underlay is the host's own network: the VXLAN sockets live in the namespace the host's
agent runs in (a real host's root namespace; the devices themselves are created straight
into the gateway namespace and never appear there). A simulated host is a namespace
<lab>--h-<host> standing for a hypervisor's root namespace, plugged into an underlay switch
namespace <lab>--ul (198.18.0.0/24, the benchmarking range): its agent runs inside it.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import threading
import zlib

from sgnet.core.macs import eni_mac, transit_mac
from sgnet.core.model import Host, Lab

VXLAN_PORT = 4789
VXLAN_OVERHEAD = {4: 50, 6: 70}  # outer IP + UDP + VXLAN + inner Ethernet
SIMULATED_MTU = 1500
UNDERLAY_NET = ipaddress.ip_network("198.18.0.0/24")
TRANSIT_NET = ipaddress.ip_network("169.254.1.0/24")
FLOOD_MAC = "00:00:00:00:00:00"


# -- names and numbers (pure) ----------------------------------------------------------------
def gw_ns(lab_name: str, host: str) -> str:
    return f"{lab_name}--gw-{host}"


def host_ns(lab_name: str, host: str) -> str:
    """A simulated host: the namespace standing for the hypervisor's own."""
    return f"{lab_name}--h-{host}"


def switch_ns(lab_name: str) -> str:
    """The underlay switch every simulated host is plugged into."""
    return f"{lab_name}--ul"


def _lab_bits(lab: Lab) -> int:
    return (zlib.crc32(lab.name.encode()) & 0xFFFF) or 1


def vni(lab: Lab, subnet) -> int:
    """One VNI per subnet; labs sharing real hosts get different VNIs (16 bits of the
    lab's name, 8 of the subnet: 0 is the transit segment)."""
    return (_lab_bits(lab) << 8) | (subnet.index + 1)


def transit_vni(lab: Lab) -> int:
    return _lab_bits(lab) << 8


def vxlan_name(lab: Lab, subnet) -> str:
    return f"{lab.name}v{subnet.index}"


def transit_name(lab: Lab) -> str:
    return f"{lab.name}vt"


def transit_ip(host: Host, family: int = 4) -> str:
    if family == 4:
        return str(TRANSIT_NET.network_address + host.index + 1)
    return f"fe80::2:{host.index + 1:x}"


def underlay_ip(host: Host) -> str:
    """The host's VTEP address: its address; a simulated host without one gets
    198.18.0.N on the simulated underlay."""
    if host.address:
        return host.address
    return str(UNDERLAY_NET.network_address + host.index + 1)


def instances_on(lab: Lab, host: str) -> list:
    return [i for i in lab.instances if i.host == host]


def externals_on(lab: Lab, host: str) -> list:
    return [x for x in lab.externals if x.host == host]


def host_namespaces(lab: Lab, host: str) -> list:
    """The namespaces a host's agent creates for the lab (not the simulated host's own)."""
    from sgnet.kernel.topology import ns_name
    return ([gw_ns(lab.name, host)] + [ns_name(lab.name, i.name) for i in instances_on(lab, host)]
            + [ns_name(lab.name, x.name) for x in externals_on(lab, host)])


def simulated_namespaces(lab: Lab) -> list:
    """The simulated hypervisors and their underlay switch (made by the controller)."""
    if not lab.hosts or not lab.hosts[0].simulated:
        return []
    return [switch_ns(lab.name)] + [host_ns(lab.name, h.name) for h in lab.hosts]


def overlay_mtu(underlay_mtu: int, family: int = 4) -> int:
    return underlay_mtu - VXLAN_OVERHEAD[family]


# -- the kernel ------------------------------------------------------------------------------
def local_addresses() -> dict:
    """This process's namespace's own addresses, each with the MTU of the link holding it
    (read only)."""
    out = subprocess.run(["ip", "-j", "addr", "show"], capture_output=True, text=True,
                         check=True).stdout
    return {a["local"]: int(link["mtu"]) for link in json.loads(out or "[]")
            for a in link.get("addr_info", []) if "local" in a}


def underlay_mtu(address: str) -> int:
    """The MTU of the device holding the underlay address, in this process's namespace."""
    mtu = local_addresses().get(address)
    if mtu is None:
        raise LookupError(f"no interface of this host has the address {address}: a host's "
                          "address must be its own (the VXLAN underlay)")
    return mtu


def build_simulated(lab: Lab):
    """Create the simulated hypervisors: one namespace per host, plugged into the underlay
    switch namespace with its underlay address. Run by the controller, before any agent."""
    from sgnet.kernel import netns, rtnl
    sw = switch_ns(lab.name)

    def switch(r):
        r.up(1)
        r.bridge("sw")
        r.up(r.index("sw"))
    netns.create(sw, then=switch, lean=True)
    sw_fd = netns.open_fd(sw)
    try:
        for h in lab.hosts:
            def hypervisor(r, h=h):
                r.up(1)
                r.veth("ul0", f"{lab.name}u{h.index}", sw_fd, mtu=SIMULATED_MTU)
                i = r.index("ul0")
                mine = ipaddress.ip_address(underlay_ip(h))
                r.addr(i, mine, mine.max_prefixlen, nodad=True)
                r.up(i)
                for peer in lab.hosts:  # any addresses: each peer is on-link
                    if peer is not h:
                        r.route(f"{underlay_ip(peer)}/{mine.max_prefixlen}", i,
                                scope=rtnl.SCOPE_LINK)
            netns.create(host_ns(lab.name, h.name), then=hypervisor, lean=True)
    finally:
        os.close(sw_fd)

    def ports(r):
        br = r.index("sw")
        for h in lab.hosts:
            r.up(r.index(f"{lab.name}u{h.index}"), master=br)
    netns.run(sw, ports, lean=True)


def attach_overlay(lab: Lab, host: Host, gw: str, mtu: int):
    """Give this host's gateway its VXLAN devices (sockets in this process's namespace, the
    underlay), their static forwarding entries, and the transit segment to the gateways of
    the other hosts with routes to their externals."""
    from sgnet.kernel import netns, rtnl
    local = underlay_ip(host)
    others = [h for h in lab.hosts if h.name != host.name]
    gw_fd = netns.open_fd(gw)
    errors = []

    def create():  # a fresh thread of this (the host's) namespace: the one request made here
        r = rtnl.Rtnl(host_ok=True)
        try:
            for s in lab.subnets:
                r.vxlan(vxlan_name(lab, s), vni(lab, s), local, VXLAN_PORT, gw_fd, mtu=mtu)
            r.vxlan(transit_name(lab), transit_vni(lab), local, VXLAN_PORT, gw_fd, mtu=mtu,
                    mac=transit_mac(host))
        except BaseException as e:
            errors.append(e)
        finally:
            r.close()
    t = threading.Thread(target=create)
    t.start()
    t.join()
    os.close(gw_fd)
    if errors:
        raise errors[0]

    def wire(r):
        from sgnet.core.compiler import bridge_name
        for s in lab.subnets:
            i, br = r.index(vxlan_name(lab, s)), r.index(bridge_name(lab, s))
            r.up(i, master=br)
            # Broadcast and unknown frames only to the hosts with members of the subnet; the
            # others' gateways route to it by unicast (the entries below).
            members = {inst.host for inst in lab.instances for e in inst.enis
                       if e.subnet == s.name}
            for h in others:
                if h.name in members:
                    r.fdb(i, FLOOD_MAC, underlay_ip(h))
            for inst in lab.instances:
                if inst.host == host.name:
                    continue
                vtep = underlay_ip(lab.host(inst.host))
                for eni in inst.enis:
                    if eni.subnet != s.name:
                        continue
                    mac = eni_mac(inst, eni)
                    r.fdb(i, mac, vtep)
                    # A permanent neighbour, as for local ENIs (sgnet.core.macs); here it is also
                    # the only way: a remote ENI's answer to this gateway's ARP or NDP
                    # request would reach its own host's gateway (same MAC), never this one.
                    for a in (eni.ip, eni.ipv6):
                        if a is not None:
                            r.neigh(br, a, mac)
        t = r.index(transit_name(lab))
        netns.enable_ipv6(transit_name(lab))
        r.up(t)
        r.addr(t, transit_ip(host), TRANSIT_NET.prefixlen)
        r.addr(t, transit_ip(host, 6), 112, nodad=True)
        for h in others:
            r.fdb(t, FLOOD_MAC, underlay_ip(h))
            r.fdb(t, transit_mac(h), underlay_ip(h))
        for x in lab.externals:
            if x.host != host.name:
                h = lab.host(x.host)
                r.route(f"{x.ip}/32", t, transit_ip(h))
                if x.ipv6:
                    r.route(f"{x.ipv6}/128", t, transit_ip(h, 6))
    netns.run(gw, wire, lean=True)

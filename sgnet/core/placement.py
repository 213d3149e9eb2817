"""Where a lab's parts live and how its hosts are numbered (pure: sgnet.core).

One host: every namespace is on this machine. Over several hosts (`hosts:`): each instance
and external is on its host (model: `host`), every host has the lab's gateway, and the
hosts are joined by a VXLAN overlay: one VNI per subnet plus a transit segment between the
gateways (169.254.1.0/24, fe80::2:0/112), each host's VTEP at its underlay address. A
simulated host without an address gets 198.18.0.N (the benchmarking range) on the
simulated underlay. The overlay's MTU is the underlay's less the VXLAN overhead, so no
packet is ever fragmented on the underlay.
"""

from __future__ import annotations

import ipaddress
import zlib

from sgnet.core.model import Host, Lab
from sgnet.core.names import gw_ns, host_ns, ns_name, switch_ns, world_ns

VXLAN_PORT = 4789
VXLAN_OVERHEAD = {4: 50, 6: 70}  # outer IP + UDP + VXLAN + inner Ethernet
SIMULATED_MTU = 1500
UNDERLAY_NET = ipaddress.ip_network("198.18.0.0/24")
TRANSIT_NET = ipaddress.ip_network("169.254.1.0/24")
TRANSIT_PREFIX6 = 112


def _lab_bits(lab: Lab) -> int:
    return (zlib.crc32(lab.name.encode()) & 0xFFFF) or 1


def vni(lab: Lab, subnet) -> int:
    """One VNI per subnet; labs sharing real hosts get different VNIs (16 bits of the
    lab's name, 8 of the subnet: 0 is the transit segment)."""
    return (_lab_bits(lab) << 8) | (subnet.index + 1)


def transit_vni(lab: Lab) -> int:
    return _lab_bits(lab) << 8


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


def overlay_mtu(underlay_mtu: int, family: int = 4) -> int:
    return underlay_mtu - VXLAN_OVERHEAD[family]


def instances_on(lab: Lab, host: str) -> list:
    return [i for i in lab.instances if i.host == host]


def externals_on(lab: Lab, host: str) -> list:
    return [x for x in lab.externals if x.host == host]


def has_world(lab: Lab) -> bool:
    """Whether the lab has an outside world (sgnet.core.wiring): a lab on one machine
    does; over several hosts, not (yet): each host's gateway would need a way to it.
    Re-exported as wiring.has_world."""
    return not lab.hosts


def host_namespaces(lab: Lab, host: str) -> list:
    """The namespaces a host's agent creates for the lab (not the simulated host's own)."""
    return ([gw_ns(lab.name, host)] + [ns_name(lab.name, i.name) for i in instances_on(lab, host)]
            + [ns_name(lab.name, x.name) for x in externals_on(lab, host)])


def simulated_namespaces(lab: Lab) -> list:
    """The simulated hypervisors and their underlay switch (made by the controller)."""
    if not lab.hosts or not lab.hosts[0].simulated:
        return []
    return [switch_ns(lab.name)] + [host_ns(lab.name, h.name) for h in lab.hosts]


def lab_namespaces(lab: Lab) -> list:
    """Every namespace of the lab; over several hosts, those of every host."""
    if lab.hosts:
        return (simulated_namespaces(lab)
                + [n for h in lab.hosts for n in host_namespaces(lab, h.name)])
    return ([gw_ns(lab.name)] + [ns_name(lab.name, i.name) for i in lab.instances]
            + [ns_name(lab.name, x.name) for x in lab.externals]
            + ([world_ns(lab.name)] if has_world(lab) else []))

"""The name of every kernel object of a lab, and the link-layer addresses of its interfaces
(pure: sgnet.core).

Namespaces (every one starts with the lab's name, which has no '-'):
  <lab>-<endpoint>   an instance's or external's (ns_name)
  <lab>--gw          the lab's gateway; over several hosts <lab>--gw-<host> on each (gw_ns)
  <lab>--h-<host>    a simulated host, standing for a hypervisor's root namespace (host_ns)
  <lab>--ul          the underlay switch the simulated hosts are plugged into (switch_ns)
  <lab>--world       the outside world: every address no host of the lab holds (world_ns)
Interfaces (at most 15 characters: a lab name has at most 8), in the gateway:
  <lab>b<subnet#> a subnet's bridge, <lab>i<instance#>e<eni#> an ENI's peer, <lab>x<ext#>
  an external's link, <lab>v<subnet#> a subnet's VXLAN device, <lab>vt the transit segment,
  <lab>w the link to the outside world; in the underlay switch <lab>u<host#>, a simulated
  host's port. Inside an instance, ENI k is eth<k> (model.Eni.ifname); inside an external
  and the world eth0, inside a simulated host ul0.

MACs are fixed rather than random (locally administered unicast), so that every neighbour
entry can be written in advance: the lab's gateways hold a permanent ARP/NDP entry for
every ENI and external, and each ENI and external one for its gateway. Nothing in a lab ever
resolves an address dynamically: the kernel keeps one neighbour table for all namespaces of
a host, 1,024 dynamic entries by default (gc_thresh3, a host setting), which a matrix of a
few hundred instances would overflow (packets then dropped: wrong verdicts). Permanent
entries do not count.
"""

from __future__ import annotations

from sgnet.core.labspec import HOST_NAME, LAB_NAME, OBJECT_NAME

EXTERNAL_IFNAME = "eth0"  # an external's end of its link to the gateway
WORLD_IFNAME = "eth0"     # the world's end of its link to the gateway
UNDERLAY_IFNAME = "ul0"   # a simulated host's link to the underlay switch
SWITCH_BRIDGE = "sw"      # the underlay switch's bridge (in its own namespace)


# -- namespaces ------------------------------------------------------------------------------
def ns_name(lab_name: str, endpoint: str) -> str:
    return f"{lab_name}-{endpoint}"


def gw_ns(lab_name: str, host: str = None) -> str:
    """The lab's gateway; over several hosts, the gateway on `host`."""
    return f"{lab_name}--gw-{host}" if host else f"{lab_name}--gw"


def host_ns(lab_name: str, host: str) -> str:
    """A simulated host: the namespace standing for the hypervisor's own."""
    return f"{lab_name}--h-{host}"


def switch_ns(lab_name: str) -> str:
    """The underlay switch every simulated host is plugged into."""
    return f"{lab_name}--ul"


def world_ns(lab_name: str) -> str:
    """The outside world: answers for every address outside the lab's hosts."""
    return f"{lab_name}--world"


def owner(ns: str):
    """(lab, kind) of a namespace named as sgnet names them: kind "endpoint" for an
    instance's or external's (ns_name), "lab" for the lab's own after "<lab>--": the gateway
    (gw_ns, one per host over several hosts), a simulated host (host_ns), the underlay
    switch (switch_ns) and the outside world (world_ns). None for any other name. A lab
    name has no '-', so what comes before the first '-' is the only lab a name can belong
    to: lab rp has rp-x, never rpfx-x."""
    if not isinstance(ns, str):  # from a state file, which can say anything
        return None
    lab, dash, rest = ns.partition("-")
    if not dash or not LAB_NAME.fullmatch(lab):
        return None
    if not rest.startswith("-"):
        return (lab, "endpoint") if OBJECT_NAME.fullmatch(rest) else None
    own = rest[1:]
    kind, _, host = own.partition("-")
    if own in ("gw", "ul", "world") or (kind in ("gw", "h") and HOST_NAME.fullmatch(host)):
        return lab, "lab"
    return None


# -- interfaces ------------------------------------------------------------------------------
def bridge_name(lab, subnet) -> str:
    return f"{lab.name}b{subnet.index}"


def eni_peer_name(lab, inst, eni) -> str:
    """The gateway's end of an ENI's veth (a port of its subnet's bridge)."""
    return f"{lab.name}i{inst.index}e{eni.index}"


def external_link_name(lab, x) -> str:
    """The gateway's end of an external's point-to-point link."""
    return f"{lab.name}x{x.index}"


def vxlan_name(lab, subnet) -> str:
    return f"{lab.name}v{subnet.index}"


def transit_name(lab) -> str:
    return f"{lab.name}vt"


def world_link_name(lab) -> str:
    """The gateway's end of the link to the outside world."""
    return f"{lab.name}w"


def switch_port_name(lab, host) -> str:
    """A simulated host's port on the underlay switch."""
    return f"{lab.name}u{host.index}"


# -- link-layer addresses --------------------------------------------------------------------
def _mac(kind: int, value: int, low: int = 0) -> str:
    v = value & 0xFFFFFF
    return f"02:{kind:02x}:{v >> 16:02x}:{(v >> 8) & 255:02x}:{v & 255:02x}:{low:02x}"


def eni_mac(inst, eni) -> str:
    return _mac(0x73, inst.index, eni.index)


def gateway_mac(subnet) -> str:
    """A subnet's gateway (its bridge in the gateway namespace; the same on every host)."""
    return _mac(0x67, subnet.index)


def external_mac(x) -> str:
    return _mac(0x78, x.index)


def external_link_mac(x) -> str:
    """The gateway's end of an external's point-to-point link."""
    return _mac(0x79, x.index)


def transit_mac(host) -> str:
    return _mac(0x74, host.index + 1)


def world_mac() -> str:
    """The world's end of its link (one world per lab, alone on its link)."""
    return _mac(0x77, 0)


def world_link_mac() -> str:
    """The gateway's end of the link to the world."""
    return _mac(0x77, 0, 1)

"""The link-layer addresses sgnet gives the lab's interfaces (locally administered unicast).

Fixed rather than random, so that every neighbour entry can be written in advance: the
lab's gateways hold a permanent ARP/NDP entry for every ENI and external, and each ENI
and external one for its gateway. Nothing in a lab ever resolves an address dynamically:
the kernel keeps one neighbour table for all namespaces of a host, 1,024 dynamic entries
by default (gc_thresh3, a host setting), which a matrix of a few hundred instances would
overflow (packets then dropped: wrong verdicts). Permanent entries do not count.
"""


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

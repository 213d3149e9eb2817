"""Probe packets as scapy builds and reads them (kernel layer: scapy, loaded once).

scapy crafts one template per kind of probe, which sgnet.core.probes.Stamper stamps into
every probe of a matrix; the reference probe (send.one_at_a_time) sends scapy's packet
itself and has scapy's answer classified here.
"""

from __future__ import annotations

import random

from sgnet.core.probes import ProbeResult, ProbeSpec, Stamper
from sgnet.core.values import ICMP, ICMPV6, TCP, UDP

_loaded = set()


def load_scapy(full: bool = False):
    """Once, before forking: the scapy layers that build and read probes (about 0.3 s), or
    with `full` all of scapy (sr1, the reference probe's; about 0.6 s)."""
    what = "all" if full else "layers"
    if what not in _loaded:
        if full:
            import scapy.all  # noqa: F401
        else:
            import scapy.layers.inet  # noqa: F401
            import scapy.layers.inet6  # noqa: F401
        _loaded.add(what)


def build(spec: ProbeSpec, tag: int, seq: int = None):
    """The probe as scapy builds it."""
    from scapy.layers.inet import ICMP as ICMP4, IP, TCP as TCPL, UDP as UDPL
    from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
    from scapy.packet import Raw
    ip = IP(src=spec.src_ip, dst=spec.dst_ip) if spec.family == 4 else \
        IPv6(src=spec.src_ip, dst=spec.dst_ip)
    if spec.protocol == TCP:
        seq = random.randrange(1 << 32) if seq is None else seq
        return ip / TCPL(sport=tag, dport=spec.port, flags=spec.tcp_flags, seq=seq, ack=seq)
    if spec.protocol == UDP:
        return ip / UDPL(sport=tag, dport=spec.port) / Raw(b"sgnet probe")
    if spec.protocol == ICMP and spec.family == 4:
        return ip / ICMP4(type=8, id=tag, seq=1) / Raw(b"sgnet probe")
    if spec.protocol in (ICMP, ICMPV6) and spec.family == 6:
        return ip / ICMPv6EchoRequest(id=tag, seq=1, data=b"sgnet probe")
    if spec.family == 4:
        ip.proto, ip.id = spec.protocol, tag
    else:
        ip.nh, ip.fl = spec.protocol, tag
    return ip / Raw(b"\x00" * 16)


def stamper() -> Stamper:
    """A Stamper whose templates scapy builds (tag 1, sequence number 0)."""
    return Stamper(lambda spec: bytes(build(spec, 1, 0)))


def classify(spec: ProbeSpec, reply) -> ProbeResult:
    """The verdict of scapy's answer (sr1's) to a probe: the rule of sgnet.core.probes."""
    if reply is None:
        return ProbeResult("deny", "filtered")
    from scapy.layers.inet import ICMP as ICMP4, TCP as TCPL
    from scapy.layers.inet6 import ICMPv6EchoReply
    src = reply.src
    summary = reply.summary()
    if src != spec.dst_ip:
        # An ICMP error from a router, not the destination: the flow did not get through.
        return ProbeResult("deny", "filtered", summary)
    if reply.haslayer(TCPL) and not reply.haslayer("IPerror") and \
            not reply.haslayer("IPerror6"):
        flags = int(reply[TCPL].flags)
        if flags & 0x12 == 0x12:
            return ProbeResult("allow", "open", summary)
        if flags & 0x04:
            return ProbeResult("allow", "refused", summary)
    if reply.haslayer(ICMP4) and reply[ICMP4].type == 0:
        return ProbeResult("allow", "open", summary)
    if reply.haslayer(ICMPv6EchoReply):
        return ProbeResult("allow", "open", summary)
    if reply.haslayer("IPerror") or reply.haslayer("IPerror6"):
        return ProbeResult("allow", "refused", summary)  # port/protocol unreachable
    return ProbeResult("allow", "open", summary)  # a UDP reply, or anything else

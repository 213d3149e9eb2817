"""Probes as data (core: pure): what a probe is, its bytes, and what its answer means.

sgnet.kernel.probe sends the probes and reads what comes back; everything about the bytes
that needs no socket is here: a ProbeSpec, the Stamper that turns one template packet per
kind of probe (crafted by scapy, in sgnet.kernel.probe.packets) into each probe, the parser
that matches an answer to the probe it answers (by its tag), and the verdict rule.

What came back decides (contract §3): a SYN-ACK, a UDP reply or an echo reply is `open`; a
RST or an ICMP error from the destination is `refused` (the packet crossed the groups but
nothing listened); silence within the timeout is `filtered`, i.e. denied.
"""

from __future__ import annotations

import ipaddress
import random
import struct
from dataclasses import dataclass
from typing import Callable, Optional

from sgnet.core.values import ICMP, ICMPV6, TCP, UDP


@dataclass
class ProbeSpec:
    ns: str  # namespace the probe is sent from
    src_ip: str
    dst_ip: str
    protocol: int
    port: Optional[int]
    family: int
    tcp_flags: str = "S"  # a SYN opens a connection; anything else belongs to none
    tag: Optional[int] = None  # source port, echo id or IP id/flow label (assign_tags)
    dst_ns: Optional[str] = None  # the destination's namespace
    src_rules: bool = False  # the source is an instance: its egress rules report
    dst_rules: bool = False  # the destination is an instance: its ingress rules report


@dataclass
class ProbeResult:
    observed: str  # allow | deny | lost (sgnet.core.witness.judge)
    detail: str  # open | refused | filtered, or for lost what is known
    answer: str = ""  # what came back, in scapy's summary form
    observed_by: Optional[dict] = None  # the rule the kernel reported (decided_by's shape)


TAGS = (20000, 65000)  # tags are source ports: above the well-known and registered ones


def assign_tags(specs: list, start: int = None, rng=random) -> int:
    """Give each probe a tag unique among the probes of its source namespace and family,
    so an answer, and a rule's report of the probe, tell which probe they are about. Each
    source's tags are the next ones from `start` (in a random order), so that a run does
    not reuse the tags, hence the connections, of the runs just before it: a probe on a
    tuple conntrack still tracks would pass as part of that session (random start if
    None). -> where the next run should start."""
    span = TAGS[1] - TAGS[0]
    start = rng.randrange(span) if start is None else start % span
    by_source = {}
    for s in specs:
        by_source.setdefault((s.ns, s.family), []).append(s)
    most = max((len(g) for g in by_source.values()), default=0)
    if most > span:
        raise ValueError(f"{most} probes from one source: at most {span} per source and "
                         "family")
    for group in by_source.values():
        offsets = list(range(len(group)))
        rng.shuffle(offsets)
        for s, k in zip(group, offsets):
            s.tag = TAGS[0] + (start + k) % span
    return (start + most) % span


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ip_checksum(b: bytearray):
    """The IPv4 header's own checksum, as scapy fills it."""
    struct.pack_into("!H", b, 10, 0)
    struct.pack_into("!H", b, 10, checksum(bytes(b[:20])))


class Stamper:
    """Probes at the rate a matrix needs: `template(spec)` (scapy, with tag 1 and sequence
    number 0) gives one packet per kind of probe, and each probe is that template stamped
    with its addresses, ports and tag, checksums recomputed (byte for byte what
    scapy builds: tests/kernel/test_probe_packets.py)."""

    def __init__(self, template: Callable[[ProbeSpec], bytes]):
        self.template = template
        self.templates = {}
        self.packed = {}  # address -> its bytes

    def _packed(self, ip: str) -> bytes:
        out = self.packed.get(ip)
        if out is None:
            out = self.packed[ip] = ipaddress.ip_address(ip).packed
        return out

    def build(self, spec: ProbeSpec, tag: int, seq: int = None) -> bytes:
        # one template per kind of probe (scapy builds each slowly): both addresses stamped
        key = (spec.family, spec.protocol, spec.tcp_flags)
        if key not in self.templates:
            self.templates[key] = (self.template(spec), 20 if spec.family == 4 else 40)
        raw, hl = self.templates[key]
        b = bytearray(raw)
        src, dst = self._packed(spec.src_ip), self._packed(spec.dst_ip)
        if spec.family == 4:
            b[12:16], b[16:20] = src, dst
        else:
            b[8:24], b[24:40] = src, dst
        proto = b[9] if spec.family == 4 else b[6]
        if proto in (TCP, UDP):
            struct.pack_into("!HH", b, hl, tag, spec.port)
            if proto == TCP:
                seq = random.randrange(1 << 32) if seq is None else seq
                struct.pack_into("!II", b, hl + 4, seq, seq)
            where = hl + (16 if proto == TCP else 6)
        elif proto in (ICMP, ICMPV6):
            struct.pack_into("!H", b, hl + 4, tag)
            where = hl + 2
        else:  # any other protocol: the tag rides in the IPv4 id or the IPv6 flow label
            if spec.family == 4:
                struct.pack_into("!H", b, 4, tag)
                _ip_checksum(b)
            else:
                first = struct.unpack_from("!I", b, 0)[0]
                struct.pack_into("!I", b, 0, (first & ~0xFFFFF) | tag)
            return bytes(b)
        struct.pack_into("!H", b, where, 0)
        l4 = bytes(b[hl:])
        if proto == ICMP:
            pseudo = b""
        elif spec.family == 4:
            pseudo = bytes(src) + dst + struct.pack("!BBH", 0, proto, len(l4))
        else:
            pseudo = bytes(src) + dst + struct.pack("!IxxxB", len(l4), proto)
        csum = checksum(pseudo + l4)
        if proto == UDP and csum == 0:
            csum = 0xFFFF
        struct.pack_into("!H", b, where, csum)
        if spec.family == 4:
            _ip_checksum(b)
        return bytes(b)


def _address(packed: bytes) -> str:
    if len(packed) == 4:
        return "%d.%d.%d.%d" % tuple(packed)
    return str(ipaddress.IPv6Address(packed))


def parse_answer(data: bytes, family: int):
    """(tag, kind, source, extra) of an answer to one of our probes, or None.
    kind: tcp (extra: flags), udp, echo, or error (an ICMP error quoting our probe)."""
    if family == 4:
        if len(data) < 20 or data[0] >> 4 != 4:
            return None
        hl = (data[0] & 0x0F) * 4
        proto, src = data[9], _address(data[12:16])
    else:
        if len(data) < 40 or data[0] >> 4 != 6:
            return None
        hl, proto = 40, data[6]
        src = _address(data[8:24])
    return parse_l4(data[hl:], proto, src, family)


def parse_l4(l4: bytes, proto: int, src: str, family: int):
    """parse_answer's part after the IP header (what an IPv6 raw socket gives, with the
    source address beside it)."""
    if proto in (TCP, UDP) and len(l4) >= 8:
        dport = struct.unpack_from("!H", l4, 2)[0]
        return (dport, "tcp" if proto == TCP else "udp", src, l4[13] if proto == TCP else 0)
    if (family == 4 and proto == ICMP) or (family == 6 and proto == ICMPV6):
        if len(l4) < 8:
            return None
        typ = l4[0]
        if (family == 4 and typ == 0) or (family == 6 and typ == 129):
            return (struct.unpack_from("!H", l4, 4)[0], "echo", src, 0)
        if (family == 4 and typ in (3, 11, 12)) or (family == 6 and typ in (1, 2, 3, 4)):
            return _quoted_tag(l4[8:], family) + ("error", src, typ)
    return None


def probe_tag(data: bytes, family: int):
    """The tag of one of our probes, from its own header (as it leaves, as a rule logs it,
    as an ICMP error quotes it), or None: the source port (TCP, UDP), the echo id (ICMP,
    ICMPv6), else the IPv4 id or the IPv6 flow label, where Stamper.build puts it. The
    one reader of a tag."""
    if family == 4:
        if len(data) < 20:
            return None
        hl, proto, ident = (data[0] & 0x0F) * 4, data[9], (data[4] << 8) | data[5]
    else:
        if len(data) < 40:
            return None
        hl, proto = 40, data[6]
        ident = int.from_bytes(data[1:4], "big") & 0xFFFFF  # flow label
    if proto in (TCP, UDP) and len(data) >= hl + 2:
        return (data[hl] << 8) | data[hl + 1]  # our source port
    if proto in (ICMP, ICMPV6) and len(data) >= hl + 6:
        return (data[hl + 4] << 8) | data[hl + 5]  # our echo id
    return ident


def _quoted_tag(inner: bytes, family: int):
    """The tag of the probe an ICMP error quotes."""
    return (probe_tag(inner, family),)


def classify_answer(spec: ProbeSpec, answer) -> ProbeResult:
    """What came back decides: see the module's docstring."""
    if answer is None:
        return ProbeResult("deny", "filtered")
    kind, src, extra = answer
    if src != spec.dst_ip and ipaddress.ip_address(src) != ipaddress.ip_address(spec.dst_ip):
        return ProbeResult("deny", "filtered", f"ICMP {extra} from {src}")
    if kind == "tcp":
        if extra & 0x12 == 0x12:
            return ProbeResult("allow", "open", f"SYN-ACK from {src}")
        if extra & 0x04:
            return ProbeResult("allow", "refused", f"RST from {src}")
        return ProbeResult("allow", "open", f"TCP flags {extra:#x} from {src}")
    if kind == "error":
        return ProbeResult("allow", "refused", f"ICMP error type {extra} from {src}")
    return ProbeResult("allow", "open", f"{kind} reply from {src}")

"""Real packets: scapy probes sent from inside the source's namespace.

Each source namespace gets a forked child that enters it and sends all its probes at once
with scapy's raw IP socket (L3RawSocket / L3RawSocket6), which, unlike scapy's default
AF_PACKET layer-3 socket, passes the sender's own OUTPUT hook: its egress rules see the
probe. Children run in parallel, so a whole matrix costs about one timeout window.

What came back decides (contract §3): a SYN-ACK, a UDP reply or an echo reply is `open`; a
RST or an ICMP error from the destination is `refused` (the packet crossed the groups but
nothing listened); silence within the timeout is `filtered`, i.e. denied.
"""

from __future__ import annotations

import ctypes
import json
import os
import random
import select
import socket
from dataclasses import dataclass
from typing import Optional

from . import netns

TCP, UDP, ICMP, ICMP6 = 6, 17, 1, 58


@dataclass
class ProbeSpec:
    ns: str  # namespace the probe is sent from
    src_ip: str
    dst_ip: str
    protocol: int
    port: Optional[int]
    family: int
    tcp_flags: str = "S"  # a SYN opens a connection; anything else belongs to none


@dataclass
class ProbeResult:
    observed: str  # allow | deny
    detail: str  # open | refused | filtered
    answer: str = ""  # what came back, in scapy's summary form


_scapy_loaded = False


def _load_scapy():
    global _scapy_loaded
    if not _scapy_loaded:
        import scapy.all  # noqa: F401  (about 1 s: once, before forking)
        _scapy_loaded = True


def _build(spec: ProbeSpec, tag: int):
    from scapy.all import (ICMP as ICMP4, IP, TCP as TCPL, UDP as UDPL, ICMPv6EchoRequest,
                           IPv6, Raw)
    ip = IP(src=spec.src_ip, dst=spec.dst_ip) if spec.family == 4 else \
        IPv6(src=spec.src_ip, dst=spec.dst_ip)
    if spec.protocol == TCP:
        return ip / TCPL(sport=tag, dport=spec.port, flags=spec.tcp_flags,
                         seq=random.randrange(1 << 32), ack=random.randrange(1 << 32))
    if spec.protocol == UDP:
        return ip / UDPL(sport=tag, dport=spec.port) / Raw(b"sgnet probe")
    if spec.protocol == ICMP and spec.family == 4:
        return ip / ICMP4(type=8, id=tag, seq=1) / Raw(b"sgnet probe")
    if spec.protocol in (ICMP, ICMP6) and spec.family == 6:
        return ip / ICMPv6EchoRequest(id=tag, seq=1, data=b"sgnet probe")
    if spec.family == 4:
        ip.proto, ip.id = spec.protocol, tag
    else:
        ip.nh, ip.fl = spec.protocol, tag
    return ip / Raw(b"\x00" * 16)


def classify(spec: ProbeSpec, reply) -> ProbeResult:
    if reply is None:
        return ProbeResult("deny", "filtered")
    from scapy.all import ICMP as ICMP4, TCP as TCPL, UDP as UDPL, ICMPv6EchoReply
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
    if reply.haslayer(UDPL):
        return ProbeResult("allow", "open", summary)
    return ProbeResult("allow", "open", summary)


def _child(ns: str, specs: list, timeout: float) -> list:
    fd = os.open(netns.path(ns), os.O_RDONLY)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, netns.CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), f"setns {ns}")
    os.close(fd)
    netns.assert_not_host()
    import logging
    from scapy.all import conf
    from scapy.supersocket import L3RawSocket, L3RawSocket6
    conf.verb = 0
    # A probe dropped by the sender's own egress rules fails sendto() with EPERM, which scapy
    # logs as an error: here it is an expected outcome (no answer: filtered).
    logging.getLogger("scapy.runtime").setLevel(logging.CRITICAL)
    results = [None] * len(specs)
    for family, sockcls in ((4, L3RawSocket), (6, L3RawSocket6)):
        idx = [i for i, s in enumerate(specs) if s.family == family]
        if not idx:
            continue
        tags = random.sample(range(20000, 65000), len(idx))
        pkts, by_tag = [], {}
        for i, tag in zip(idx, tags):
            pkts.append(_build(specs[i], tag))
            by_tag[tag] = i
        sock = sockcls()
        # All probes are sent before the answers are read (scapy's threaded mode races its
        # own sniffer when every probe is answered): the receive buffer holds the answers.
        sock.ins.setsockopt(socket.SOL_SOCKET, 33, 1 << 24)  # SO_RCVBUFFORCE (root)
        try:
            answered, _ = sock.sr(pkts, timeout=timeout, verbose=0, multi=False,
                                  threaded=False)
        finally:
            sock.close()
        got = {}
        for sent, recv in answered:
            got[_tag_of(sent)] = recv
        for tag, i in by_tag.items():
            r = classify(specs[i], got.get(tag))
            results[i] = [r.observed, r.detail, r.answer]
    return results


def _tag_of(pkt) -> int:
    from scapy.all import ICMP as ICMP4, TCP as TCPL, UDP as UDPL, ICMPv6EchoRequest, IP
    for layer in (TCPL, UDPL):
        if pkt.haslayer(layer):
            return pkt[layer].sport
    if pkt.haslayer(ICMP4):
        return pkt[ICMP4].id
    if pkt.haslayer(ICMPv6EchoRequest):
        return pkt[ICMPv6EchoRequest].id
    return pkt[IP].id if pkt.haslayer(IP) else pkt.fl


def run(specs: list, timeout: float = 1.0, jobs: Optional[int] = None,
        progress=None) -> list:
    """Send every probe, in parallel per source namespace; results in the order given.
    Every source's child runs at once (up to `jobs`), so the denied probes of all of them
    share one timeout window. `progress(n)` is told of each source's n finished probes."""
    _load_scapy()
    jobs = jobs or 64
    by_ns = {}
    for i, s in enumerate(specs):
        by_ns.setdefault(s.ns, []).append(i)
    pending = list(by_ns.items())
    running = {}  # read fd -> (pid, ns, indices, buffer)
    results = [None] * len(specs)
    while pending or running:
        while pending and len(running) < jobs:
            ns, indices = pending.pop()
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # child: probe from inside ns, report as JSON, never return
                code = 0
                try:
                    os.close(r)
                    out = _child(ns, [specs[i] for i in indices], timeout)
                    payload = json.dumps({"ok": out}).encode()
                except BaseException as e:  # reported to the parent
                    payload = json.dumps({"error": f"{type(e).__name__}: {e}"}).encode()
                    code = 1
                try:
                    view = memoryview(payload)
                    while view:
                        n = os.write(w, view)
                        view = view[n:]
                finally:
                    os._exit(code)
            os.close(w)
            running[r] = (pid, ns, indices, [])
        ready, _, _ = select.select(list(running), [], [], 30)
        for r in ready:
            chunk = os.read(r, 1 << 16)
            if chunk:
                running[r][3].append(chunk)
                continue
            pid, ns, indices, buf = running.pop(r)
            os.close(r)
            os.waitpid(pid, 0)
            data = json.loads(b"".join(buf) or b'{"error": "probe child died"}')
            if "error" in data:
                raise RuntimeError(f"probing from {ns} failed: {data['error']}")
            for i, res in zip(indices, data["ok"]):
                results[i] = ProbeResult(*res)
            if progress:
                progress(len(indices))
    return results

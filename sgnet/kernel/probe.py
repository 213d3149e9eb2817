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
import ipaddress
import json
import os
import random
import select
import socket
import struct
import time
from dataclasses import dataclass
from typing import Optional

from sgnet.kernel import netns
from sgnet.core.errors import EnvError

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


def _build(spec: ProbeSpec, tag: int, seq: int = None):
    """The probe as scapy builds it."""
    from scapy.all import (ICMP as ICMP4, IP, TCP as TCPL, UDP as UDPL, ICMPv6EchoRequest,
                           IPv6, Raw)
    ip = IP(src=spec.src_ip, dst=spec.dst_ip) if spec.family == 4 else \
        IPv6(src=spec.src_ip, dst=spec.dst_ip)
    if spec.protocol == TCP:
        seq = random.randrange(1 << 32) if seq is None else seq
        return ip / TCPL(sport=tag, dport=spec.port, flags=spec.tcp_flags, seq=seq, ack=seq)
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


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class Stamper:
    """Probes at the rate a matrix needs: scapy crafts one template per kind of probe and
    source, and each probe is that template stamped with its destination, ports and tag,
    checksums recomputed (byte for byte what scapy builds: tests/test_probe.py)."""

    def __init__(self):
        self.templates = {}

    def build(self, spec: ProbeSpec, tag: int, seq: int = None) -> bytes:
        key = (spec.family, spec.protocol, spec.tcp_flags, spec.src_ip)
        if key not in self.templates:
            raw = bytes(_build(spec, 1, 0))
            self.templates[key] = (raw, 20 if spec.family == 4 else 40)
        raw, hl = self.templates[key]
        b = bytearray(raw)
        fam = socket.AF_INET if spec.family == 4 else socket.AF_INET6
        dst = socket.inet_pton(fam, spec.dst_ip)
        src = b[12:16] if spec.family == 4 else b[8:24]
        if spec.family == 4:
            b[16:20] = dst
        else:
            b[24:40] = dst
        proto = b[9] if spec.family == 4 else b[6]
        if proto in (TCP, UDP):
            struct.pack_into("!HH", b, hl, tag, spec.port)
            if proto == TCP:
                seq = random.randrange(1 << 32) if seq is None else seq
                struct.pack_into("!II", b, hl + 4, seq, seq)
            where = hl + (16 if proto == TCP else 6)
        elif proto in (ICMP, ICMP6):
            struct.pack_into("!H", b, hl + 4, tag)
            where = hl + 2
        else:  # any other protocol: the tag rides in the IPv4 id or the IPv6 flow label
            if spec.family == 4:
                struct.pack_into("!H", b, 4, tag)
                struct.pack_into("!H", b, 10, 0)
                struct.pack_into("!H", b, 10, _checksum(bytes(b[:20])))
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
        csum = _checksum(pseudo + l4)
        if proto == UDP and csum == 0:
            csum = 0xFFFF
        struct.pack_into("!H", b, where, csum)
        if spec.family == 4:  # and the IPv4 header's own checksum, as scapy fills it
            struct.pack_into("!H", b, 10, 0)
            struct.pack_into("!H", b, 10, _checksum(bytes(b[:20])))
        return bytes(b)


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


def _child(ns: str, specs: list, timeout: float, capture: bool = False):
    """In a forked child: enter `ns`, send every probe, read the answers until `timeout`
    after the last one was sent (or until all are answered), classify each."""
    fd = os.open(netns.path(ns), os.O_RDONLY)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, netns.CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), f"setns {ns}")
    os.close(fd)
    netns.assert_not_host()
    results = [None] * len(specs)
    packets = []
    for family in (4, 6):
        idx = [i for i, s in enumerate(specs) if s.family == family]
        if not idx:
            continue
        by_tag = dict(zip(random.sample(range(20000, 65000), len(idx)), idx))
        answers = _exchange(family, [(specs[i], tag) for tag, i in by_tag.items()], timeout,
                            packets if capture else None)
        for tag, i in by_tag.items():
            r = classify_answer(specs[i], answers.get(tag))
            results[i] = [r.observed, r.detail, r.answer]
    return {"results": results, "packets": [[t, d.hex()] for t, d in packets]}


ETH_P_IP, ETH_P_IPV6, ETH_P_ALL = 0x0800, 0x86DD, 0x0003
PACKET_OUTGOING = 4
SO_RCVBUFFORCE = 33


def _exchange(family: int, probes: list, timeout: float, capture=None) -> dict:
    """Send the probes (crafted by scapy) on a raw IP socket, which passes this namespace's
    OUTPUT hook, so its egress rules see them; collect what comes back on a packet socket,
    opened first so that no answer is missed. tag -> (kind, source, details)."""
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    out = socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_RAW)
    if family == 4:
        out.setsockopt(socket.SOL_IP, socket.IP_HDRINCL, 1)
    # SOCK_DGRAM: the packet without its link-layer header, i.e. from the IP header on;
    # ETH_P_ALL, as only such a tap also sees what leaves (for --pcap)
    ethertype = ETH_P_IP if family == 4 else ETH_P_IPV6
    ins = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    ins.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 1 << 24)
    ins.setblocking(False)
    answers = {}
    try:
        tags = {tag for _, tag in probes}
        stamper = Stamper()
        for spec, tag in probes:
            try:
                out.sendto(stamper.build(spec, tag), (spec.dst_ip, 0))
            except PermissionError:
                pass  # dropped by this instance's own egress rules: no answer will come
        deadline = time.monotonic() + timeout
        if capture is not None:
            deadline += 0.05  # let the packet socket see our own probes go out, too
        while len(answers) < len(tags) or capture is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not select.select([ins], [], [], left)[0]:
                break
            while True:
                try:
                    data, addr = ins.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[1] != ethertype:
                    continue
                if addr[2] == PACKET_OUTGOING:
                    if capture is not None and _probe_tag(data, family) in tags:
                        capture.append((time.time(), data))  # a probe, after our OUTPUT hook
                    continue
                hit = parse_answer(data, family)
                if hit is not None and hit[0] in tags and hit[0] not in answers:
                    answers[hit[0]] = hit[1:]
                    if capture is not None:
                        capture.append((time.time(), data))
    finally:
        out.close()
        ins.close()
    return answers


def parse_answer(data: bytes, family: int):
    """(tag, kind, source, extra) of an answer to one of our probes, or None.
    kind: tcp (extra: flags), udp, echo, or error (an ICMP error quoting our probe)."""
    if family == 4:
        if len(data) < 20 or data[0] >> 4 != 4:
            return None
        hl = (data[0] & 0x0F) * 4
        proto, src = data[9], socket.inet_ntop(socket.AF_INET, data[12:16])
    else:
        if len(data) < 40 or data[0] >> 4 != 6:
            return None
        hl, proto = 40, data[6]
        src = socket.inet_ntop(socket.AF_INET6, data[8:24])
    l4 = data[hl:]
    if proto in (6, 17) and len(l4) >= 8:
        dport = struct.unpack_from("!H", l4, 2)[0]
        return (dport, "tcp" if proto == 6 else "udp", src, l4[13] if proto == 6 else 0)
    if (family == 4 and proto == 1) or (family == 6 and proto == 58):
        if len(l4) < 8:
            return None
        typ = l4[0]
        if (family == 4 and typ == 0) or (family == 6 and typ == 129):
            return (struct.unpack_from("!H", l4, 4)[0], "echo", src, 0)
        if (family == 4 and typ in (3, 11, 12)) or (family == 6 and typ in (1, 2, 3, 4)):
            return _quoted_tag(l4[8:], family) + ("error", src, typ)
    return None


def _probe_tag(data: bytes, family: int):
    """The tag of one of our own probes (as it leaves), or None."""
    try:
        return _quoted_tag(data, family)[0]
    except (struct.error, IndexError):
        return None


def _quoted_tag(inner: bytes, family: int):
    """The tag of the probe an ICMP error quotes."""
    if family == 4:
        if len(inner) < 20:
            return (None,)
        hl = (inner[0] & 0x0F) * 4
        proto, ident = inner[9], struct.unpack_from("!H", inner, 4)[0]
    else:
        if len(inner) < 40:
            return (None,)
        hl, proto = 40, inner[6]
        ident = struct.unpack_from("!I", inner, 0)[0] & 0xFFFFF  # flow label
    l4 = inner[hl:]
    if proto in (6, 17) and len(l4) >= 2:
        return (struct.unpack_from("!H", l4, 0)[0],)  # our source port
    if proto in (1, 58) and len(l4) >= 6:
        return (struct.unpack_from("!H", l4, 4)[0],)  # our echo id
    return (ident,)


def classify_answer(spec: ProbeSpec, answer) -> ProbeResult:
    """What came back decides: see the module's docstring."""
    if answer is None:
        return ProbeResult("deny", "filtered")
    kind, src, extra = answer
    if ipaddress.ip_address(src) != ipaddress.ip_address(spec.dst_ip):
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


def one_at_a_time(spec: ProbeSpec, timeout: float = 1.0) -> ProbeResult:
    """The reference probe: one flow, scapy's sr1 (its own matching of the answer), from a
    child inside the source namespace. Slow (a denied flow costs the whole timeout); the
    batched probe must give the same verdicts (tests, scripts/bench/probe.py)."""
    _load_scapy()
    r, w = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            netns.die_with_parent(parent)
            os.close(r)
            fd = os.open(netns.path(spec.ns), os.O_RDONLY)
            if ctypes.CDLL(None, use_errno=True).setns(fd, netns.CLONE_NEWNET) == 0:
                netns.assert_not_host()
                from scapy.all import conf
                from scapy.supersocket import L3RawSocket, L3RawSocket6
                conf.verb = 0
                sock = (L3RawSocket if spec.family == 4 else L3RawSocket6)()
                ans = sock.sr1(_build(spec, random.randrange(20000, 65000)), timeout=timeout,
                               verbose=0)
                res = classify(spec, ans)
                os.write(w, json.dumps([res.observed, res.detail, res.answer]).encode())
                code = 0
        finally:
            os._exit(code)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return ProbeResult(*json.loads(data))


def write_pcap(path: str, packets: list):
    """Packets (timestamp, raw IP bytes) as a pcap file (link type RAW: IP, no link layer),
    readable by tshark, Wireshark and scapy."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for ts, data in sorted(packets):
            sec = int(ts)
            f.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(data), len(data)))
            f.write(data)


def run(specs: list, timeout: float = 1.0, jobs: Optional[int] = None,
        progress=None, pcap: str = None, packets: list = None) -> list:
    """Send every probe, in parallel per source namespace; results in the order given.
    Every source's child runs at once (up to `jobs`), so the denied probes of all of them
    share one timeout window. `progress(n)` is told of each source's n finished probes.
    What was sent and received is written to `pcap`, or appended to `packets`."""
    _load_scapy()
    jobs = jobs or 64
    by_ns = {}
    for i, s in enumerate(specs):
        by_ns.setdefault(s.ns, []).append(i)
    pending = list(by_ns.items())
    running = {}  # read fd -> (pid, ns, indices, buffer)
    parent = os.getpid()
    results = [None] * len(specs)
    captured = []
    while pending or running:
        while pending and len(running) < jobs:
            ns, indices = pending.pop()
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # child: probe from inside ns, report as JSON, never return
                code = 0
                try:
                    netns.die_with_parent(parent)  # killed with the command, by any signal
                    os.close(r)
                    out = _child(ns, [specs[i] for i in indices], timeout,
                                 pcap is not None or packets is not None)
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
            if "error" in data:  # the namespace, scapy or a socket failed: not a verdict
                raise EnvError(f"probing from {ns} failed: {data['error']}")
            for i, res in zip(indices, data["ok"]["results"]):
                results[i] = ProbeResult(*res)
            captured += [(t, bytes.fromhex(d)) for t, d in data["ok"]["packets"]]
            if progress:
                progress(len(indices))
    if pcap:
        try:
            write_pcap(pcap, captured)
        except OSError as e:  # checked before probing; the disk may still fill up
            raise EnvError(f"--pcap {pcap}: cannot write: {e.strerror or e}") from None
    if packets is not None:
        packets += captured
    return results

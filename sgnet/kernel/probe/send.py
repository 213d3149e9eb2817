"""Timeout-based probing (kernel layer): the baseline witnessed probing replaced.

sgnet probes with sgnet.kernel.probe.witnessed, where each verdict is reported by the rule
that decided. This module is how it probed before, kept as the baseline
scripts/bench/probe.py measures against in the same run, and for the reference probe
(one_at_a_time, scapy's sr1) and the pcap writer:

Each source namespace gets a forked child (sgnet.kernel.workers) that enters it and sends
all its probes at once on a raw IP socket, which, unlike scapy's default AF_PACKET layer-3
socket, passes the sender's own OUTPUT hook: its egress rules see the probe. Children run
in parallel, so a whole matrix costs about one timeout window. The packets are stamped and
the answers read and judged by sgnet.core.probes (pure); scapy crafts the templates.
"""

from __future__ import annotations

import random
import select
import socket
import struct
import time
from typing import Optional

from sgnet.core.errors import EnvError
from sgnet.core.probes import ProbeResult, ProbeSpec, classify_answer, parse_answer, probe_tag
from sgnet.kernel import workers
from sgnet.kernel.probe.packets import build, classify, load_scapy, stamper

ETH_P_IP, ETH_P_IPV6, ETH_P_ALL = 0x0800, 0x86DD, 0x0003
PACKET_OUTGOING = 4
SO_RCVBUFFORCE = 33
DEFAULT_JOBS = 64  # sources probing at once: their denied probes share one timeout window


def _probe_here(specs: list, timeout: float, capture: bool = False) -> dict:
    """In a child inside the source namespace: send every probe, read the answers until
    `timeout` after the last one was sent (or until all are answered), judge each."""
    results = [None] * len(specs)
    captured = []
    for family in (4, 6):
        idx = [i for i, s in enumerate(specs) if s.family == family]
        if not idx:
            continue
        by_tag = dict(zip(random.sample(range(20000, 65000), len(idx)), idx))
        answers = _exchange(family, [(specs[i], tag) for tag, i in by_tag.items()], timeout,
                            captured if capture else None)
        for tag, i in by_tag.items():
            r = classify_answer(specs[i], answers.get(tag))
            results[i] = [r.observed, r.detail, r.answer]
    return {"results": results, "packets": [[t, d.hex()] for t, d in captured]}


def _exchange(family: int, probes: list, timeout: float, capture=None) -> dict:
    """Send the probes (stamped from scapy's templates) on a raw IP socket, which passes
    this namespace's OUTPUT hook, so its egress rules see them; collect what comes back on
    a packet socket, opened first so that no answer is missed. tag -> (kind, source,
    details)."""
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    out = socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_RAW)
    if family == 4:
        out.setsockopt(socket.SOL_IP, socket.IP_HDRINCL, 1)
    # SOCK_DGRAM: the packet without its link-layer header, i.e. from the IP header on;
    # ETH_P_ALL, as only such a tap also sees what leaves (for --pcap)
    ins = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    ins.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 1 << 24)
    ins.setblocking(False)
    answers = {}
    try:
        tags = {tag for _, tag in probes}
        stamps = stamper()
        for spec, tag in probes:
            try:
                out.sendto(stamps.build(spec, tag), (spec.dst_ip, 0))
            except PermissionError:
                pass  # dropped by this instance's own egress rules: no answer will come
        deadline = time.monotonic() + timeout
        if capture is not None:
            deadline += 0.05  # let the packet socket see our own probes go out, too
        _collect(ins, deadline, family, tags, answers, capture)
    finally:
        out.close()
        ins.close()
    return answers


def _collect(ins, deadline: float, family: int, tags: set, answers: dict, capture):
    """Read answers until all are in or `deadline` (time.monotonic) has passed. What is
    queued on the socket is always read before giving up: on a loaded machine this child
    may run again only after the deadline, with answers that came in time waiting."""
    ethertype = ETH_P_IP if family == 4 else ETH_P_IPV6
    while True:
        _receive(ins, family, ethertype, tags, answers, capture)
        if len(answers) == len(tags) and capture is None:
            return
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([ins], [], [], left)[0]:
            _receive(ins, family, ethertype, tags, answers, capture)
            return


def _receive(ins, family: int, ethertype: int, tags: set, answers: dict, capture):
    """Read every packet waiting on the packet socket: answers to our probes go in
    `answers` (the first one per tag), our probes and their answers in `capture`."""
    while True:
        try:
            data, addr = ins.recvfrom(65535)
        except BlockingIOError:
            return
        if addr[1] != ethertype:
            continue
        if addr[2] == PACKET_OUTGOING:
            if capture is not None and probe_tag(data, family) in tags:
                capture.append((time.time(), data))  # a probe, after our OUTPUT hook
            continue
        hit = parse_answer(data, family)
        if hit is not None and hit[0] in tags and hit[0] not in answers:
            answers[hit[0]] = hit[1:]
            if capture is not None:
                capture.append((time.time(), data))


def one_at_a_time(spec: ProbeSpec, timeout: float = 1.0) -> ProbeResult:
    """The reference probe: one flow, scapy's sr1 (its own matching of the answer), from a
    child inside the source namespace. Slow (a denied flow costs the whole timeout); the
    batched probe must give the same verdicts (tests, scripts/bench/probe.py)."""
    load_scapy(full=True)

    def probe(spec, report):
        from scapy.all import conf
        from scapy.supersocket import L3RawSocket, L3RawSocket6
        conf.verb = 0
        sock = (L3RawSocket if spec.family == 4 else L3RawSocket6)()
        ans = sock.sr1(build(spec, random.randrange(20000, 65000)), timeout=timeout,
                       verbose=0)
        res = classify(spec, ans)
        return [res.observed, res.detail, res.answer]

    outcome, = workers.in_children([spec], probe, 1, enter=lambda s: s.ns)
    if outcome.error is not None:
        raise EnvError(f"probing from {spec.ns} failed: {outcome.error}")
    return ProbeResult(*outcome.result)


def write_pcap(path: str, captured: list):
    """Packets (timestamp, raw IP bytes) as a pcap file (link type RAW: IP, no link layer),
    readable by tshark, Wireshark and scapy."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for ts, data in sorted(captured):
            sec = int(ts)
            f.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(data), len(data)))
            f.write(data)


def run(specs: list, timeout: float = 1.0, jobs: Optional[int] = None,
        progress=None, pcap: str = None, packets: list = None) -> list:
    """Send every probe, in parallel per source namespace; results in the order given.
    Every source's child runs at once (up to `jobs`), so the denied probes of all of them
    share one timeout window. `progress(n)` is told of each source's n finished probes.
    What was sent and received is written to `pcap`, or appended to `packets`."""
    load_scapy()
    capture = pcap is not None or packets is not None
    by_ns = {}
    for i, s in enumerate(specs):
        by_ns.setdefault(s.ns, []).append(i)
    sources = list(by_ns.items())

    def probe(source, report):
        out = _probe_here([specs[i] for i in source[1]], timeout, capture)
        report(len(source[1]))
        return out

    outcomes = workers.in_children(sources, probe, jobs or DEFAULT_JOBS, progress,
                                   enter=lambda source: source[0])
    results = [None] * len(specs)
    captured = []
    for (ns, indices), o in zip(sources, outcomes):
        if o.error is not None:  # the namespace, scapy or a socket failed: not a verdict
            raise EnvError(f"probing from {ns} failed: {o.error}")
        for i, res in zip(indices, o.result["results"]):
            results[i] = ProbeResult(*res)
        captured += [(t, bytes.fromhex(d)) for t, d in o.result["packets"]]
    if pcap:
        try:
            write_pcap(pcap, captured)
        except OSError as e:  # checked before probing; the disk may still fill up
            raise EnvError(f"--pcap {pcap}: cannot write: {e.strerror or e}") from None
    if packets is not None:
        packets += captured
    return results

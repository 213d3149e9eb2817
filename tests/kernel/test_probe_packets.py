"""Probe packets against scapy itself: the fast stamped probes are byte for byte what scapy
builds, and answers scapy builds are parsed back to the probe they answer. (Here, not in
tests/unit, because scapy is the shell's: tests/unit/test_probe.py checks the same code
against golden bytes, without it.)"""

import random

import pytest

from sgnet.core import probes
from sgnet.core.probes import ProbeSpec
from sgnet.kernel.probe import packets

SPECS = [
    ProbeSpec("x", "10.0.0.2", "10.0.1.3", 6, 22, 4),
    ProbeSpec("x", "10.0.0.2", "203.0.113.9", 6, 8080, 4, "A"),
    ProbeSpec("x", "10.0.0.2", "10.0.1.3", 17, 53, 4),
    ProbeSpec("x", "10.0.0.2", "10.0.1.3", 1, None, 4),
    ProbeSpec("x", "10.0.0.2", "10.0.1.3", 47, None, 4),
    ProbeSpec("x", "fd00::2", "fd00:1::3", 6, 443, 6),
    ProbeSpec("x", "fd00::2", "2001:db8::10", 17, 5353, 6),
    ProbeSpec("x", "fd00::2", "fd00:1::3", 58, None, 6),
    ProbeSpec("x", "fd00::2", "fd00:1::3", 47, None, 6),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"v{s.family}-{s.protocol}")
def test_stamped_probe_is_what_scapy_builds(spec):
    stamper = packets.stamper()
    for _ in range(20):
        tag, seq = random.randrange(20000, 65000), random.randrange(1 << 32)
        assert stamper.build(spec, tag, seq) == bytes(packets.build(spec, tag, seq))


def test_answers_scapy_builds_are_matched_to_their_probe():
    from scapy.all import ICMP, IP, TCP, ICMPv6DestUnreach, ICMPv6EchoReply, IPv6
    rst = IP(src="10.0.1.3", dst="10.0.0.2") / TCP(sport=22, dport=40000, flags="RA")
    assert probes.parse_answer(bytes(rst), 4) == (40000, "tcp", "10.0.1.3", 0x14)
    unreach = IP(src="10.0.1.3", dst="10.0.0.2") / ICMP(type=3, code=3) / bytes(
        packets.build(SPECS[2], 41000))[:28]
    assert probes.parse_answer(bytes(unreach), 4) == (41000, "error", "10.0.1.3", 3)
    echo6 = IPv6(src="fd00:1::3", dst="fd00::2") / ICMPv6EchoReply(id=42000, seq=1)
    assert probes.parse_answer(bytes(echo6), 6) == (42000, "echo", "fd00:1::3", 0)
    err6 = IPv6(src="fd00:1::3", dst="fd00::2") / ICMPv6DestUnreach(code=4) / bytes(
        packets.build(SPECS[6], 43000))[:48]
    assert probes.parse_answer(bytes(err6), 6)[:2] == (43000, "error")


def test_scapy_and_the_answer_parser_judge_answers_alike():
    """The reference probe (sr1, judged by packets.classify) and the batched one (parsed and
    judged by sgnet.core.probes) must agree on every kind of answer."""
    from scapy.all import ICMP, IP, TCP, ICMPv6EchoReply, IPv6
    v4, v6 = dict(src="10.0.1.3", dst="10.0.0.2"), dict(src="fd00:1::3", dst="fd00::2")
    answers = [
        (SPECS[0], IP(**v4) / TCP(sport=22, dport=40000, flags="SA"), ("allow", "open")),
        (SPECS[0], IP(**v4) / TCP(sport=22, dport=40000, flags="RA"), ("allow", "refused")),
        (SPECS[2], IP(**v4) / ICMP(type=3, code=3) / bytes(packets.build(SPECS[2], 40000))[:28],
         ("allow", "refused")),
        (SPECS[3], IP(**v4) / ICMP(type=0, id=40000, seq=1), ("allow", "open")),
        (SPECS[7], IPv6(**v6) / ICMPv6EchoReply(id=40000, seq=1), ("allow", "open")),
    ]
    for spec, reply, expected in answers:
        scapy_says = packets.classify(spec, IP(bytes(reply)) if spec.family == 4
                                      else IPv6(bytes(reply)))
        hit = probes.parse_answer(bytes(reply), spec.family)
        parser_says = probes.classify_answer(spec, hit[1:])
        assert (scapy_says.observed, scapy_says.detail) == expected, reply.summary()
        assert (parser_says.observed, parser_says.detail) == expected, reply.summary()
    assert packets.classify(SPECS[0], None).observed == "deny"


def test_one_stamper_serves_every_source_byte_for_byte():
    """A worker's one stamper holds one template per kind of probe, whatever the source:
    probes from other sources, in any order, are still what scapy builds for each."""
    stamper = packets.stamper()
    sources = {4: ["10.0.0.2", "10.0.7.200", "172.16.1.21"],
               6: ["fd00::2", "fd00:7::c8", "2001:db8:a:1::21"]}
    for _ in range(3):
        for spec in SPECS:
            for src in sources[spec.family]:
                s = ProbeSpec("x", src, spec.dst_ip, spec.protocol, spec.port, spec.family,
                              spec.tcp_flags)
                tag, seq = random.randrange(20000, 65000), random.randrange(1 << 32)
                assert stamper.build(s, tag, seq) == bytes(packets.build(s, tag, seq))
    assert len(stamper.templates) == len({(s.family, s.protocol, s.tcp_flags) for s in SPECS})

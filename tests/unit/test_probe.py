"""Probe packets and answers, pure: the fast stamped probes are byte for byte scapy's, and
answers are parsed back to the probe they answer."""

import random

import pytest

from sgnet.kernel import probe

SPECS = [
    probe.ProbeSpec("x", "10.0.0.2", "10.0.1.3", 6, 22, 4),
    probe.ProbeSpec("x", "10.0.0.2", "203.0.113.9", 6, 8080, 4, "A"),
    probe.ProbeSpec("x", "10.0.0.2", "10.0.1.3", 17, 53, 4),
    probe.ProbeSpec("x", "10.0.0.2", "10.0.1.3", 1, None, 4),
    probe.ProbeSpec("x", "10.0.0.2", "10.0.1.3", 47, None, 4),
    probe.ProbeSpec("x", "fd00::2", "fd00:1::3", 6, 443, 6),
    probe.ProbeSpec("x", "fd00::2", "2001:db8::10", 17, 5353, 6),
    probe.ProbeSpec("x", "fd00::2", "fd00:1::3", 58, None, 6),
    probe.ProbeSpec("x", "fd00::2", "fd00:1::3", 47, None, 6),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"v{s.family}-{s.protocol}")
def test_stamped_probe_is_what_scapy_builds(spec):
    stamper = probe.Stamper()
    for _ in range(20):
        tag, seq = random.randrange(20000, 65000), random.randrange(1 << 32)
        assert stamper.build(spec, tag, seq) == bytes(probe._build(spec, tag, seq))


def test_answers_are_matched_to_their_probe():
    from scapy.all import ICMP, IP, TCP, ICMPv6DestUnreach, ICMPv6EchoReply, IPv6
    syn = probe._build(SPECS[0], 40000, 1)
    rst = IP(src="10.0.1.3", dst="10.0.0.2") / TCP(sport=22, dport=40000, flags="RA")
    assert probe.parse_answer(bytes(rst), 4) == (40000, "tcp", "10.0.1.3", 0x14)
    unreach = IP(src="10.0.1.3", dst="10.0.0.2") / ICMP(type=3, code=3) / bytes(
        probe._build(SPECS[2], 41000))[:28]
    assert probe.parse_answer(bytes(unreach), 4) == (41000, "error", "10.0.1.3", 3)
    echo6 = IPv6(src="fd00:1::3", dst="fd00::2") / ICMPv6EchoReply(id=42000, seq=1)
    assert probe.parse_answer(bytes(echo6), 6) == (42000, "echo", "fd00:1::3", 0)
    err6 = IPv6(src="fd00:1::3", dst="fd00::2") / ICMPv6DestUnreach(code=4) / bytes(
        probe._build(SPECS[6], 43000))[:48]
    assert probe.parse_answer(bytes(err6), 6)[:2] == (43000, "error")
    r = probe.classify_answer(SPECS[0], ("tcp", "10.0.1.3", 0x12))
    assert (r.observed, r.detail) == ("allow", "open")
    r = probe.classify_answer(SPECS[0], ("error", "10.0.0.1", 3))  # from a router
    assert (r.observed, r.detail) == ("deny", "filtered")
    assert probe.classify_answer(SPECS[0], None).observed == "deny"
    assert syn

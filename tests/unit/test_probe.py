"""Probe packets and answers, pure: stamped probes are byte for byte what scapy builds
(golden bytes, made by scapy: tests/kernel/test_probe_packets.py checks the same against
scapy itself), answers are parsed back to the probe they answer, and judged by contract §3."""

import random
import struct

import pytest

from sgnet.core.probes import ProbeSpec, Stamper, checksum, classify_answer, parse_answer, \
    probe_tag

# spec, scapy's template (tag 1, seq 0), a tag and a seq, and scapy's probe with them
GOLDEN = [
    (ProbeSpec("x", "10.0.0.2", "10.0.1.3", 6, 22, 4),
     "4500002800010000400665cb0a0000020a000103000100160000000000000000500220007ac70000",
     51101, 1502316763,
     "4500002800010000400665cb0a0000020a000103c79d0016598b88db598b88db50022000ee5c0000"),
    (ProbeSpec("x", "10.0.0.2", "203.0.113.9", 6, 8080, 4, "A"),
     "4500002800010000400634c40a000002cb00710900011f900000000000000000501020002a380000",
     45011, 1609558289,
     "4500002800010000400634c40a000002cb007109afd31f905fefe9115fefe91150102000e8620000"),
    (ProbeSpec("x", "10.0.0.2", "10.0.1.3", 17, 53, 4),
     "4500002700010000401165c10a0000020a0001030001003500134fcb73676e65742070726f6265",
     37960, 2681059809,
     "4500002700010000401165c10a0000020a000103944800350013bb8373676e65742070726f6265"),
    (ProbeSpec("x", "10.0.0.2", "10.0.1.3", 1, None, 4),
     "4500002700010000400165d10a0000020a00010308005d3b0001000173676e65742070726f6265",
     48839, 1579067768,
     "4500002700010000400165d10a0000020a00010308009e74bec7000173676e65742070726f6265"),
    (ProbeSpec("x", "10.0.0.2", "10.0.1.3", 47, None, 4),
     "4500002400010000402f65a60a0000020a00010300000000000000000000000000000000",
     42261, 3891124327,
     "45000024a5150000402fc0910a0000020a00010300000000000000000000000000000000"),
    (ProbeSpec("x", "fd00::2", "fd00:1::3", 6, 443, 6),
     "6000000000140640fd000000000000000000000000000002fd000001000000000000000000000003"
     "000101bb000000000000000050022000941f0000",
     23855, 857419699,
     "6000000000140640fd000000000000000000000000000002fd000001000000000000000000000003"
     "5d2f01bb331b2fb3331b2fb35002200071540000"),
    (ProbeSpec("x", "fd00::2", "2001:db8::10", 17, 5353, 6),
     "6000000000131140fd00000000000000000000000000000220010db8000000000000000000000010"
     "000114e90013255073676e65742070726f6265",
     53654, 3618094942,
     "6000000000131140fd00000000000000000000000000000220010db8000000000000000000000010"
     "d19614e9001353ba73676e65742070726f6265"),
    (ProbeSpec("x", "fd00::2", "fd00:1::3", 58, None, 6),
     "6000000000133a40fd000000000000000000000000000002fd000001000000000000000000000003"
     "8000eae50001000173676e65742070726f6265",
     21219, 3946674291,
     "6000000000133a40fd000000000000000000000000000002fd000001000000000000000000000003"
     "8000980352e3000173676e65742070726f6265"),
    (ProbeSpec("x", "fd00::2", "fd00:1::3", 47, None, 6),
     "6000000100102f40fd000000000000000000000000000002fd000001000000000000000000000003"
     "00000000000000000000000000000000",
     63387, 2185820163,
     "6000f79b00102f40fd000000000000000000000000000002fd000001000000000000000000000003"
     "00000000000000000000000000000000"),
]
TEMPLATES = {(s.family, s.protocol, s.tcp_flags, s.src_ip): bytes.fromhex(t)
             for s, t, *_ in GOLDEN}


def _stamper():
    return Stamper(lambda s: TEMPLATES[(s.family, s.protocol, s.tcp_flags, s.src_ip)])


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda g: f"v{g[0].family}-{g[0].protocol}")
def test_stamped_probe_is_what_scapy_builds(golden):
    spec, _, tag, seq, expected = golden
    assert _stamper().build(spec, tag, seq).hex() == expected


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda g: f"v{g[0].family}-{g[0].protocol}")
def test_every_stamped_probe_carries_its_tag_and_sound_checksums(golden):
    spec = golden[0]
    stamper = _stamper()
    for _ in range(50):
        tag = random.randrange(20000, 65000)
        b = stamper.build(spec, tag)
        assert probe_tag(b, spec.family) == tag
        if spec.family == 4:
            assert checksum(b[:20]) == 0  # a header with its checksum sums to all ones
            hl, l4 = 20, b[20:]
            pseudo = b[12:20] + struct.pack("!BBH", 0, b[9], len(l4))
        else:
            hl, l4 = 40, b[40:]
            pseudo = b[8:40] + struct.pack("!IxxxB", len(l4), b[6])
        if spec.protocol in (6, 17, 58):
            assert checksum(pseudo + l4) == 0
        elif spec.protocol == 1:
            assert checksum(l4) == 0
        assert len(b) == hl + len(l4) == len(TEMPLATES[(spec.family, spec.protocol,
                                                         spec.tcp_flags, spec.src_ip)])


def test_the_internet_checksum():
    assert checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D  # RFC 1071's example
    assert checksum(b"\x01") == 0xFEFF  # an odd length is padded with a zero byte


# scapy's answers: a RST to tag 40000; a port unreachable quoting the UDP probe with tag 41000;
# an ICMPv6 echo reply to 42000; an ICMPv6 port unreachable quoting the UDP probe tagged 43000
RST = "4500002800010000400665cb0a0001030a00000200169c40000000000000000050142000de750000"
UNREACH = ("4500003800010000400165c00a0001030a0000020303ace8000000004500002700010000401165c1"
           "0a0000020a000103a02800350013afa3")
ECHO6 = ("6000000000083a40fd000001000000000000000000000003fd000000000000000000000000000002"
         "8100e0a3a4100001")
ERR6 = ("6000000000383a40fd000001000000000000000000000003fd000000000000000000000000000002"
        "01042e15000000006000000000131140fd00000000000000000000000000000220010db800000000"
        "0000000000000010a7f814e900137d58")


def test_answers_are_matched_to_their_probe():
    assert parse_answer(bytes.fromhex(RST), 4) == (40000, "tcp", "10.0.1.3", 0x14)
    assert parse_answer(bytes.fromhex(UNREACH), 4) == (41000, "error", "10.0.1.3", 3)
    assert parse_answer(bytes.fromhex(ECHO6), 6) == (42000, "echo", "fd00:1::3", 0)
    assert parse_answer(bytes.fromhex(ERR6), 6) == (43000, "error", "fd00:1::3", 1)
    assert parse_answer(bytes.fromhex(RST), 6) is None  # not an IPv6 packet
    assert parse_answer(bytes.fromhex(RST)[:19], 4) is None  # cut short


def test_what_came_back_decides():
    spec = GOLDEN[0][0]
    cases = [
        (("tcp", "10.0.1.3", 0x12), ("allow", "open", "SYN-ACK from 10.0.1.3")),
        (("tcp", "10.0.1.3", 0x14), ("allow", "refused", "RST from 10.0.1.3")),
        (("tcp", "10.0.1.3", 0x10), ("allow", "open", "TCP flags 0x10 from 10.0.1.3")),
        (("error", "10.0.1.3", 3), ("allow", "refused", "ICMP error type 3 from 10.0.1.3")),
        (("udp", "10.0.1.3", 0), ("allow", "open", "udp reply from 10.0.1.3")),
        (("error", "10.0.0.1", 3), ("deny", "filtered", "ICMP 3 from 10.0.0.1")),  # a router
        (None, ("deny", "filtered", "")),  # silence
    ]
    for answer, expected in cases:
        r = classify_answer(spec, answer)
        assert (r.observed, r.detail, r.answer) == expected, answer
    r = classify_answer(GOLDEN[7][0], ("echo", "fd00:1:0::3", 0))  # the same address, written
    assert (r.observed, r.detail) == ("allow", "open")  # otherwise

"""Conntrack entries, pure: `conntrack -L` lines read, entries written back as the tool's
deletion arguments, and carried through JSON unchanged."""

import dataclasses
import json

from sgnet.core.ctentry import CtEntry, delete_args, parse_line

TCP_LINE = ("tcp      6 431999 ESTABLISHED src=10.0.0.2 dst=10.0.1.3 sport=40000 dport=22 "
            "src=10.0.1.3 dst=10.0.0.2 sport=22 dport=40000 [ASSURED] mark=0 use=1")
ICMP6_LINE = ("icmpv6   58 29 src=fd00::2 dst=fd00:1::3 type=128 code=0 id=77 src=fd00:1::3 "
              "dst=fd00::2 type=129 code=0 id=77 mark=0 use=1")


def test_lines_are_read_in_their_original_direction():
    assert parse_line(TCP_LINE, 4) == CtEntry(4, 6, "10.0.0.2", "10.0.1.3", 40000, 22, (),
                                              "ESTABLISHED")
    assert parse_line(ICMP6_LINE, 6) == CtEntry(6, 58, "fd00::2", "fd00:1::3", None, None,
                                                (128, 0, 77))
    assert parse_line("gre      47 179 src=10.0.0.2 dst=10.0.1.3 srckey=0x0 dstkey=0x0", 4) \
        is None  # not a re-checked protocol
    assert parse_line("conntrack v1.4.7 (conntrack-tools): 2 flow entries", 4) is None


def test_entries_become_the_tools_deletion_arguments():
    assert delete_args(parse_line(TCP_LINE, 4)) == [
        "-D", "-f", "ipv4", "-p", "6", "-s", "10.0.0.2", "-d", "10.0.1.3",
        "--sport", "40000", "--dport", "22"]
    assert delete_args(parse_line(ICMP6_LINE, 6)) == [
        "-D", "-f", "ipv6", "-p", "icmpv6", "-s", "fd00::2", "-d", "fd00:1::3",
        "--icmpv6-type", "128", "--icmpv6-code", "0", "--icmpv6-id", "77"]


def test_entries_cross_json_unchanged():
    for e in (parse_line(TCP_LINE, 4), parse_line(ICMP6_LINE, 6)):
        assert CtEntry.from_dict(json.loads(json.dumps(dataclasses.asdict(e)))) == e

"""Lab file validation: every malformed input is refused before anything touches the kernel.

The issue's requirement: "validated before anything touches the kernel: every field in the
contract, with a clear error (file, field path, bad value, what is allowed), exit code 2, and
nothing created, for every malformed input".

Each case below is a small change to one valid lab (BASE). For each, `sgnet up FILE` must
return 2, name the file, the field path and the offending value on stderr, and create no
namespace. The second half parses valid labs (pure, no root) and checks the defaults.
"""

from __future__ import annotations

import copy
import ipaddress
import os
import re

import pytest
import yaml

from sgnet import cli
from sgnet.io import labfile
from sgnet.kernel import netns, topology
from sgnet.core.errors import LabError
from sgnet.core.model import Remote

LAB = "terr"  # this module's lab name: no namespace "terr-..." may ever appear

BASE = {
    "name": LAB,
    "provider": "huawei",
    "vpcs": [
        {"name": "vpc-a", "cidr": "10.10.0.0/16", "ipv6_cidr": "fd00:10::/48",
         "subnets": [
             {"name": "subnet-a", "cidr": "10.10.1.0/24", "ipv6_cidr": "fd00:10:0:1::/64"},
             {"name": "subnet-b", "cidr": "10.10.2.0/24"},
         ]},
        {"name": "vpc-b", "cidr": "10.20.0.0/16",
         "subnets": [{"name": "subnet-c", "cidr": "10.20.1.0/24"}]},
    ],
    "prefix_lists": [{"name": "office", "entries": ["203.0.113.0/24", "2001:db8:1::/48"]}],
    "security_groups": [
        {"name": "web", "rules": [
            {"direction": "ingress", "action": "allow", "priority": 1, "ethertype": "IPv4",
             "protocol": "tcp", "ports": "22,80,8000-8080", "remote": "0.0.0.0/0",
             "description": "web from anywhere"},
            {"direction": "ingress", "action": "allow", "protocol": "icmp",
             "remote_prefix_list": "office"},
        ]},
        {"name": "app", "rules": [
            {"direction": "ingress", "action": "allow", "priority": 10, "protocol": "tcp",
             "ports": 8080, "remote_group": "web"},
            {"direction": "egress", "action": "deny", "priority": 50, "protocol": "udp",
             "ports": "53", "remote": "10.20.0.0/16"},
        ]},
    ],
    "instances": [
        {"name": "web1", "subnet": "subnet-a", "ip": "10.10.1.11", "security_groups": ["web"],
         "secondary_enis": [{"subnet": "subnet-b", "security_groups": ["app"]}]},
        {"name": "app1", "subnet": "subnet-b", "ip": "10.10.2.20",
         "security_groups": ["app", "default"]},
        {"name": "db1", "subnet": "subnet-c"},
    ],
    "externals": [{"name": "internet", "ip": "198.51.100.10", "ipv6": "2001:db8::10"}],
}


# -- mutations ------------------------------------------------------------------------------
_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _split(path):
    """'vpcs[0].subnets[1].cidr' -> ['vpcs', 0, 'subnets', 1, 'cidr']"""
    return [name if name else int(index) for name, index in _TOKEN.findall(path)]


def _parent(doc, path):
    *head, last = _split(path)
    for step in head:
        doc = doc[step]
    return doc, last


def set_(path, value):
    def mutate(doc):
        parent, last = _parent(doc, path)
        parent[last] = value
    return mutate


def delete(path):
    def mutate(doc):
        parent, last = _parent(doc, path)
        del parent[last]
    return mutate


def append(path, item):
    def mutate(doc):
        parent, last = _parent(doc, path)
        parent[last].append(item)
    return mutate


def both(*mutations):
    def mutate(doc):
        for m in mutations:
            m(doc)
    return mutate


def text(raw):
    """Replace the whole file (YAML syntax errors and the like)."""
    return lambda doc: raw


def _fill_subnet_c(doc):
    """subnet-c as a /29 (5 host addresses) holding 6 instances."""
    doc["vpcs"][1]["subnets"][0]["cidr"] = "10.20.1.0/29"
    doc["instances"] += [{"name": f"db{n}", "subnet": "subnet-c"} for n in range(2, 7)]


def _hosts(hosts=None, placement=None, instance_host=None, external_host=None):
    def mutate(doc):
        doc["hosts"] = hosts if hosts is not None else [{"name": "hv1", "simulated": True},
                                                       {"name": "hv2", "simulated": True}]
        if placement is not None:
            doc["placement"] = placement
        if instance_host is not None:
            doc["instances"][0]["host"] = instance_host
        if external_host is not None:
            doc["externals"][0]["host"] = external_host
    return mutate


def _too_many_enis(doc):
    doc["instances"][0]["secondary_enis"] = [{"subnet": "subnet-b"} for _ in range(10)]


G0R0 = "security_groups[0].rules[0]"  # web: tcp 22,80,8000-8080 from 0.0.0.0/0
G0R1 = "security_groups[0].rules[1]"  # web: icmp from prefix list office
G1R0 = "security_groups[1].rules[0]"  # app: tcp 8080 from group web
G1R1 = "security_groups[1].rules[1]"  # app: egress deny udp 53 to 10.20.0.0/16


def case(id, mutate, field, value, allowed=None, marks=()):
    """field: the field path the message must name (or 'line N' for YAML errors);
    value: text the message must contain (the offending value, or the problem);
    allowed: text describing what is allowed, where the message must give it."""
    return pytest.param(mutate, field, value, allowed, id=id, marks=marks)


CASES = [
    # -- unknown keys, at every level ----------------------------------------------------------
    case("unknown-key-top", set_("colour", "red"), "colour", "colour", "provider"),
    case("unknown-key-vpc", set_("vpcs[0].region", "cn-1"), "vpcs[0].region", "region",
         "ipv6_cidr"),
    case("unknown-key-subnet", set_("vpcs[0].subnets[1].zone", "az1"),
         "vpcs[0].subnets[1].zone", "zone", "cidr"),
    case("unknown-key-group", set_("security_groups[1].colour", "red"),
         "security_groups[1].colour", "colour", "rules"),
    case("unknown-key-rule", set_(f"{G1R0}.port", "22"), f"{G1R0}.port", "port",
         "remote_prefix_list"),
    case("unknown-key-instance", set_("instances[0].flavor", "s6.large"),
         "instances[0].flavor", "flavor", "secondary_enis"),
    case("unknown-key-secondary-eni", set_("instances[0].secondary_enis[0].mac", "aa:bb"),
         "instances[0].secondary_enis[0].mac", "mac", "subnet"),
    case("unknown-key-external", set_("externals[0].port", 80), "externals[0].port", "port",
         "ipv6"),
    case("unknown-key-prefix-list", set_("prefix_lists[0].entry", "10.0.0.0/8"),
         "prefix_lists[0].entry", "entry", "entries"),
    case("unknown-key-settings", set_("settings", {"speed": 1}), "settings.speed", "speed"),
    # -- required keys -------------------------------------------------------------------------
    case("missing-lab-name", delete("name"), "name", "is required"),
    case("missing-vpc-cidr", delete("vpcs[1].cidr"), "vpcs[1].cidr", "is required"),
    case("missing-rule-direction", delete(f"{G1R0}.direction"), f"{G1R0}.direction",
         "is required"),
    case("missing-external-ip", delete("externals[0].ip"), "externals[0].ip", "is required"),
    case("vpc-without-subnets", set_("vpcs[1].subnets", []), "vpcs[1].subnets",
         "at least one subnet"),
    # -- CIDRs -----------------------------------------------------------------------------------
    case("vpc-cidr-not-a-cidr", set_("vpcs[0].cidr", "not-a-cidr"), "vpcs[0].cidr",
         "not-a-cidr"),
    case("vpc-cidr-bad-mask", set_("vpcs[0].cidr", "10.10.0.0/33"), "vpcs[0].cidr",
         "10.10.0.0/33"),
    case("vpc-cidr-not-a-string", set_("vpcs[0].cidr", 10), "vpcs[0].cidr", "10"),
    case("vpc-cidr-public", set_("vpcs[0].cidr", "8.8.0.0/16"), "vpcs[0].cidr", "8.8.0.0/16",
         "10.0.0.0/8"),
    # Python's is_private is wider than the three ranges the message allows: 169.254/16 is
    # the gateway's own link range (169.254.0.1), 203.0.113/24 a documentation range.
    case("vpc-cidr-link-local", both(set_("vpcs[1].cidr", "169.254.0.0/16"),
                                     set_("vpcs[1].subnets[0].cidr", "169.254.1.0/24")),
         "vpcs[1].cidr", "169.254.0.0/16", "10.0.0.0/8"),
    case("vpc-cidr-documentation-range", both(set_("vpcs[1].cidr", "203.0.113.0/24"),
                                              set_("vpcs[1].subnets[0].cidr", "203.0.113.0/25")),
         "vpcs[1].cidr", "203.0.113.0/24", "10.0.0.0/8"),
    case("subnet-cidr-host-bits", set_("vpcs[0].subnets[0].cidr", "10.10.1.5/24"),
         "vpcs[0].subnets[0].cidr", "10.10.1.5/24", "10.10.1.0/24"),
    case("subnet-cidr-ipv6-in-ipv4-field", set_("vpcs[0].subnets[1].cidr", "fd00:10:0:2::/64"),
         "vpcs[0].subnets[1].cidr", "fd00:10:0:2::/64"),
    case("vpc-ipv6-cidr-ipv4-value", set_("vpcs[0].ipv6_cidr", "10.0.0.0/8"),
         "vpcs[0].ipv6_cidr", "10.0.0.0/8"),
    case("subnet-ipv6-cidr-host-bits", set_("vpcs[0].subnets[0].ipv6_cidr", "fd00:10:0:1::1/64"),
         "vpcs[0].subnets[0].ipv6_cidr", "fd00:10:0:1::1/64"),
    case("subnet-too-small", set_("vpcs[0].subnets[1].cidr", "10.10.2.0/30"),
         "vpcs[0].subnets[1].cidr", "10.10.2.0/30"),
    case("subnet-ipv6-too-large", set_("vpcs[0].subnets[0].ipv6_cidr", "fd00:10::/56"),
         "vpcs[0].subnets[0].ipv6_cidr", "fd00:10::/56", "/64 to /120"),
    case("prefix-list-entry-host-bits", set_("prefix_lists[0].entries[1]", "2001:db8:1::1/48"),
         "prefix_lists[0].entries[1]", "2001:db8:1::1/48"),
    case("prefix-list-entry-not-a-cidr", set_("prefix_lists[0].entries[0]", "office-net"),
         "prefix_lists[0].entries[0]", "office-net"),
    case("rule-remote-bad-cidr", set_(f"{G0R0}.remote", "10.0.0.0/99"), f"{G0R0}.remote",
         "10.0.0.0/99"),
    case("rule-remote-not-an-address", set_(f"{G0R0}.remote", "anywhere"), f"{G0R0}.remote",
         "anywhere"),
    # -- subnets and VPCs against each other -----------------------------------------------------
    case("overlapping-subnets", set_("vpcs[0].subnets[1].cidr", "10.10.1.128/25"),
         "vpcs[0].subnets[1].cidr", "10.10.1.128/25"),
    case("subnet-outside-its-vpc", set_("vpcs[1].subnets[0].cidr", "10.30.1.0/24"),
         "vpcs[1].subnets[0].cidr", "10.30.1.0/24"),
    case("subnet-ipv6-without-vpc-ipv6", set_("vpcs[1].subnets[0].ipv6_cidr", "fd00:20:0:1::/64"),
         "vpcs[1].subnets[0].ipv6_cidr", "fd00:20:0:1::/64"),
    case("subnet-ipv6-outside-vpc-ipv6", set_("vpcs[0].subnets[0].ipv6_cidr", "fd00:99:0:1::/64"),
         "vpcs[0].subnets[0].ipv6_cidr", "fd00:99:0:1::/64"),
    case("overlapping-vpcs", set_("vpcs[1].cidr", "10.10.128.0/17"), "vpcs[1].cidr",
         "10.10.128.0/17"),
    case("overlapping-vpc-ipv6", both(set_("vpcs[1].ipv6_cidr", "fd00:10::/48"),
                                      set_("vpcs[1].subnets[0].ipv6_cidr", "fd00:10:0:1::/64")),
         "vpcs[1].ipv6_cidr", "fd00:10::/48"),
    # -- addresses -------------------------------------------------------------------------------
    case("instance-ip-not-an-address", set_("instances[0].ip", "10.10.1.300"),
         "instances[0].ip", "10.10.1.300"),
    case("instance-ip-is-ipv6", set_("instances[0].ip", "fd00:10:0:1::5"), "instances[0].ip",
         "fd00:10:0:1::5"),
    case("instance-ipv6-is-ipv4", set_("instances[0].ipv6", "10.10.1.5"), "instances[0].ipv6",
         "10.10.1.5"),
    case("instance-ip-not-a-string", set_("instances[0].ip", 168430091), "instances[0].ip",
         "168430091"),
    case("instance-ip-outside-subnet", set_("instances[0].ip", "10.10.2.11"), "instances[0].ip",
         "10.10.2.11"),
    case("instance-ip-network-address", set_("instances[0].ip", "10.10.1.0"), "instances[0].ip",
         "10.10.1.0"),
    case("instance-ip-gateway-address", set_("instances[0].ip", "10.10.1.1"), "instances[0].ip",
         "10.10.1.1"),
    case("instance-ip-broadcast-address", set_("instances[0].ip", "10.10.1.255"),
         "instances[0].ip", "10.10.1.255"),
    case("instance-ipv6-gateway-address", set_("instances[0].ipv6", "fd00:10:0:1::1"),
         "instances[0].ipv6", "fd00:10:0:1::1"),
    case("instance-ipv6-outside-subnet", set_("instances[0].ipv6", "fd00:10:0:2::5"),
         "instances[0].ipv6", "fd00:10:0:2::5"),
    case("instance-ipv6-subnet-without-ipv6", set_("instances[1].ipv6", "fd00:10:0:2::5"),
         "instances[1].ipv6", "fd00:10:0:2::5"),
    case("duplicate-address", both(set_("instances[1].subnet", "subnet-a"),
                                   set_("instances[1].ip", "10.10.1.11")),
         "instances[1].ip", "10.10.1.11"),
    case("duplicate-address-secondary-eni", set_("instances[0].secondary_enis[0].ip",
                                                 "10.10.2.20"),
         "instances[1].ip", "10.10.2.20"),
    case("secondary-eni-ip-outside-subnet", set_("instances[0].secondary_enis[0].ip",
                                                 "10.10.1.50"),
         "instances[0].secondary_enis[0].ip", "10.10.1.50"),
    case("subnet-full", _fill_subnet_c, "instances[7].subnet", "subnet-c"),
    case("external-ip-not-an-address", set_("externals[0].ip", "999.1.1.1"), "externals[0].ip",
         "999.1.1.1"),
    case("external-ip-loopback", set_("externals[0].ip", "127.0.0.1"), "externals[0].ip",
         "127.0.0.1"),
    case("external-inside-vpc", set_("externals[0].ip", "10.20.5.5"), "externals[0].ip",
         "10.20.5.5"),
    case("external-ipv6-inside-vpc", set_("externals[0].ipv6", "fd00:10:0:9::5"),
         "externals[0].ipv6", "fd00:10:0:9::5"),
    case("external-duplicate-address", append("externals", {"name": "nat", "ip": "198.51.100.10"}),
         "externals[1].ip", "198.51.100.10"),
    # -- duplicate names --------------------------------------------------------------------------
    case("duplicate-vpc-name", set_("vpcs[1].name", "vpc-a"), "vpcs[1].name", "vpc-a"),
    case("duplicate-subnet-name", set_("vpcs[1].subnets[0].name", "subnet-a"),
         "vpcs[1].subnets[0].name", "subnet-a"),
    case("duplicate-group-name", set_("security_groups[1].name", "web"),
         "security_groups[1].name", "web"),
    case("duplicate-instance-name", set_("instances[2].name", "web1"), "instances[2].name",
         "web1"),
    case("external-named-like-instance", set_("externals[0].name", "db1"), "externals[0].name",
         "db1"),
    case("duplicate-prefix-list-name", append("prefix_lists", {"name": "office", "entries": []}),
         "prefix_lists[1].name", "office"),
    case("bad-object-name", set_("instances[0].name", "web 1"), "instances[0].name", "web 1"),
    case("object-name-trailing-newline", set_("instances[0].name", "web1\n"),
         "instances[0].name", r"web1\n"),
    # -- unknown references -----------------------------------------------------------------------
    case("unknown-subnet", set_("instances[2].subnet", "subnet-z"), "instances[2].subnet",
         "subnet-z", "subnet-a"),
    case("unknown-group-on-instance", set_("instances[0].security_groups", ["web", "nope"]),
         "instances[0].security_groups[1]", "nope", "Sys-WebServer"),
    case("unknown-group-on-secondary-eni", set_("instances[0].secondary_enis[0].security_groups",
                                                ["ghost"]),
         "instances[0].secondary_enis[0].security_groups[0]", "ghost"),
    case("unknown-subnet-on-secondary-eni", set_("instances[0].secondary_enis[0].subnet",
                                                 "subnet-z"),
         "instances[0].secondary_enis[0].subnet", "subnet-z"),
    case("unknown-remote-group", set_(f"{G1R0}.remote_group", "ghost"), f"{G1R0}.remote_group",
         "ghost", "self"),
    case("unknown-remote-prefix-list", set_(f"{G0R1}.remote_prefix_list", "home"),
         f"{G0R1}.remote_prefix_list", "home", "office"),
    # -- priority ---------------------------------------------------------------------------------
    case("priority-0", set_(f"{G1R0}.priority", 0), f"{G1R0}.priority", "0", "1-100"),
    case("priority-101", set_(f"{G1R0}.priority", 101), f"{G1R0}.priority", "101", "1-100"),
    case("priority-word", set_(f"{G1R0}.priority", "high"), f"{G1R0}.priority", "high",
         "1-100"),
    case("priority-bool", set_(f"{G1R0}.priority", True), f"{G1R0}.priority", "True", "1-100"),
    case("priority-negative", set_(f"{G1R0}.priority", "-1"), f"{G1R0}.priority", "-1"),
    # -- ports ------------------------------------------------------------------------------------
    case("port-0", set_(f"{G0R0}.ports", 0), f"{G0R0}.ports", "0", "1-65535"),
    case("port-70000", set_(f"{G0R0}.ports", 70000), f"{G0R0}.ports", "70000", "1-65535"),
    case("port-range-reversed", set_(f"{G0R0}.ports", "90-80"), f"{G0R0}.ports", "90-80"),
    case("port-word", set_(f"{G0R0}.ports", "abc"), f"{G0R0}.ports", "abc", "1-65535"),
    case("port-in-list-out-of-range", set_(f"{G0R0}.ports", "22,80,99999"), f"{G0R0}.ports",
         "22,80,99999"),
    case("ports-empty-list", set_(f"{G0R0}.ports", []), f"{G0R0}.ports", "empty port list"),
    case("ports-on-icmp", set_(f"{G0R1}.ports", "22"), f"{G0R1}.ports", "22", "tcp or udp"),
    case("ports-on-all", set_(f"{G0R0}.protocol", "all"), f"{G0R0}.ports", "22,80,8000-8080"),
    case("ports-on-gre", both(set_(f"{G0R0}.protocol", "gre"), set_(f"{G0R0}.ports", "22")),
         f"{G0R0}.ports", "22"),
    # -- protocol, ethertype, remote ---------------------------------------------------------------
    case("icmp-with-ethertype-ipv6", set_(f"{G0R1}.ethertype", "IPv6"), f"{G0R1}.protocol",
         "icmp"),
    case("icmpv6-with-ethertype-ipv4", both(set_(f"{G0R1}.protocol", "icmpv6"),
                                            set_(f"{G0R1}.ethertype", "IPv4")),
         f"{G0R1}.protocol", "icmpv6"),
    case("icmpv6-with-ipv4-remote", set_(f"{G1R1}.protocol", "icmpv6"), f"{G1R1}.protocol",
         "icmpv6"),
    case("ethertype-ipv6-with-ipv4-remote", set_(f"{G0R0}.ethertype", "IPv6"),
         f"{G0R0}.remote", "0.0.0.0/0"),
    case("ethertype-ipv4-with-ipv6-remote", set_(f"{G0R0}.remote", "::/0"), f"{G0R0}.remote",
         "::/0"),
    case("ethertype-unknown", set_(f"{G0R0}.ethertype", "IPv5"), f"{G0R0}.ethertype", "IPv5",
         "IPv4, IPv6"),
    case("remote-and-remote-group", set_(f"{G0R0}.remote_group", "app"), G0R0,
         "remote, remote_group", "exactly one"),
    case("remote-and-prefix-list", set_(f"{G0R0}.remote_prefix_list", "office"), G0R0,
         "remote, remote_prefix_list"),
    case("remote-group-and-prefix-list", set_(f"{G1R0}.remote_prefix_list", "office"), G1R0,
         "remote_group, remote_prefix_list"),
    case("direction-unknown", set_(f"{G1R0}.direction", "inbound"), f"{G1R0}.direction",
         "inbound", "ingress, egress"),
    case("action-unknown", set_(f"{G1R0}.action", "permit"), f"{G1R0}.action", "permit",
         "allow, deny"),
    case("protocol-unknown-name", set_(f"{G1R0}.protocol", "tcpp"), f"{G1R0}.protocol", "tcpp",
         "icmpv6"),
    case("protocol-number-256", set_(f"{G1R0}.protocol", 256), f"{G1R0}.protocol", "256",
         "0-255"),
    case("protocol-bool", set_(f"{G1R0}.protocol", True), f"{G1R0}.protocol", "True"),
    case("rule-description-not-a-string", set_(f"{G1R0}.description", 42),
         f"{G1R0}.description", "42"),
    # -- lab name and provider ---------------------------------------------------------------------
    case("lab-name-too-long", set_("name", "terrterrt"), "name", "terrterrt", "1-8"),
    case("lab-name-uppercase", set_("name", "TERR"), "name", "TERR", "[a-z0-9]"),
    case("lab-name-dash", set_("name", "te-rr"), "name", "te-rr", "[a-z0-9]"),
    case("lab-name-empty", set_("name", ""), "name", "''"),
    case("lab-name-trailing-newline", set_("name", "terr\n"), "name", r"terr\n"),
    case("provider-unknown", set_("provider", "aws"), "provider", "aws", "huawei"),
    case("provider-not-a-string", set_("provider", ["huawei"]), "provider", "huawei"),
    # -- instances ---------------------------------------------------------------------------------
    case("secondary-eni-other-vpc", set_("instances[0].secondary_enis[0].subnet", "subnet-c"),
         "instances[0].secondary_enis[0].subnet", "subnet-c"),
    case("group-listed-twice", set_("instances[1].security_groups", ["app", "app"]),
         "instances[1].security_groups[1]", "app"),
    case("too-many-enis", _too_many_enis, "instances[0].secondary_enis", "10"),
    case("instance-on-a-host", set_("instances[0].host", "hv1"), "instances[0].host", "hv1"),
    # -- hosts and placement ---------------------------------------------------------------------
    case("placement-without-hosts", set_("placement", "round-robin"), "placement",
         "round-robin"),
    case("placement-unknown", _hosts(placement="spread"), "placement", "spread",
         "round-robin"),
    case("hosts-empty", set_("hosts", []), "hosts", "is empty"),
    case("host-bad-name", _hosts(hosts=[{"name": "HV_1", "simulated": True}]),
         "hosts[0].name", "HV_1", "[a-z0-9]"),
    case("host-duplicate", _hosts(hosts=[{"name": "hv1", "simulated": True}] * 2),
         "hosts[1].name", "hv1"),
    case("host-real-without-address", _hosts(hosts=[{"name": "hv1"}]), "hosts[0].address",
         "simulated"),
    case("host-bad-address", _hosts(hosts=[{"name": "hv1", "address": "hv1.example"}]),
         "hosts[0].address", "hv1.example"),
    case("host-shared-address", _hosts(hosts=[{"name": "hv1", "address": "192.0.2.1"},
                                              {"name": "hv2", "address": "192.0.2.1"}]),
         "hosts[1].address", "192.0.2.1"),
    case("host-unknown-transport", _hosts(hosts=[{"name": "hv1", "simulated": True,
                                                  "transport": "telnet"}]),
         "hosts[0].transport", "telnet", "ssh, local"),
    case("host-real-local-transport", _hosts(hosts=[{"name": "hv1", "address": "192.0.2.1",
                                                     "transport": "local"}]),
         "hosts[0].transport", "local", "ssh"),
    case("host-bad-ssh-host", _hosts(hosts=[{"name": "hv1", "simulated": True,
                                             "transport": "ssh", "ssh_host": "a b"}]),
         "hosts[0].ssh_host", "a b"),
    case("host-simulated-shared-address", _hosts(hosts=[
        {"name": "hv1", "simulated": True, "address": "10.255.0.1"},
        {"name": "hv2", "simulated": True, "address": "10.255.0.1"}]),
        "hosts[1].address", "10.255.0.1"),
    case("host-bad-port", _hosts(hosts=[{"name": "hv1", "simulated": True,
                                         "ssh_port": 70000}]), "hosts[0].ssh_port", "70000"),
    case("host-bad-user", _hosts(hosts=[{"name": "hv1", "simulated": True,
                                         "ssh_user": "root; rm"}]), "hosts[0].ssh_user",
         "root; rm"),
    case("host-unknown-key", _hosts(hosts=[{"name": "hv1", "simulated": True, "zone": 1}]),
         "hosts[0].zone", "zone"),
    case("instance-unknown-host", _hosts(instance_host="hv9"), "instances[0].host", "hv9",
         "hv1"),
    case("external-unknown-host", _hosts(external_host="hv9"), "externals[0].host", "hv9",
         "hv1"),
    # -- groups ------------------------------------------------------------------------------------
    case("huawei-group-type-advanced", set_("security_groups[0].type", "advanced"),
         "security_groups[0].type", "advanced"),
    case("huawei-group-inner-access", set_("security_groups[0].inner_access", "drop"),
         "security_groups[0].inner_access", "drop"),
    case("group-type-unknown", set_("security_groups[0].type", "premium"),
         "security_groups[0].type", "premium", "basic, advanced"),
    case("group-default-rules-not-bool", set_("security_groups[1].default_rules", "yes"),
         "security_groups[1].default_rules", "yes"),
    # -- the file itself ---------------------------------------------------------------------------
    case("yaml-syntax-error", text("name: terr\nprovider: huawei\ninstances: - name: web1\n"),
         "line 3", "YAML syntax error"),
    case("yaml-unclosed-flow-mapping",
         text("name: terr\nvpcs:\n  - {name: vpc-a, cidr: 10.0.0.0/16\ninstances: []\n"),
         "line 4", "YAML syntax error"),
    case("yaml-duplicate-key-top", text("name: terr\nprovider: huawei\nname: other\n"),
         "line 3", "duplicate key 'name'"),
    case("yaml-duplicate-key-nested",
         text("name: terr\nsecurity_groups:\n  - name: web\n    rules:\n"
              "      - direction: ingress\n        action: allow\n        direction: egress\n"),
         "line 7", "duplicate key 'direction'"),
    case("yaml-unhashable-key", text("name: terr\n? [a, b]\n: 1\n"), "line 2", "unhashable"),
    case("yaml-python-tag", text("name: terr\nx: !!python/object/apply:os.system [ls]\n"),
         "line 2", "YAML syntax error"),
    case("empty-file", text(""), "(top)", "empty"),
    case("comments-only-file", text("# nothing here\n"), "(top)", "empty"),
    case("top-level-list", text("- name: terr\n"), "(top)", "must be a mapping"),
    # -- numbers: ASCII digits within the field's range (issue 11) --------------------------------
    # Python's int() and str.isdigit() take these as digits: '²' raised ValueError, '٢٢' was 22.
    case("priority-superscript-digit", set_(f"{G1R0}.priority", "²"), f"{G1R0}.priority",
         "'²'", "1-100"),
    case("priority-arabic-indic-digits", set_(f"{G1R0}.priority", "٢٢"), f"{G1R0}.priority",
         "'٢٢'", "1-100"),
    case("priority-fullwidth-digits", set_(f"{G1R0}.priority", "２２"), f"{G1R0}.priority",
         "'２２'"),
    case("priority-5000-digits", set_(f"{G1R0}.priority", "9" * 5000), f"{G1R0}.priority",
         "(5,000 characters)", "1-100"),
    case("port-arabic-indic-digits", set_(f"{G0R0}.ports", "٢٢"), f"{G0R0}.ports", "'٢٢'",
         "1-65535"),
    case("port-range-unicode-digits", set_(f"{G0R0}.ports", "1000-٢٠٠٠"), f"{G0R0}.ports",
         "1000-٢٠٠٠"),
    case("port-5000-digits", set_(f"{G0R0}.ports", "8" * 5000), f"{G0R0}.ports",
         "(5,000 characters)", "1-65535"),
    case("port-list-item-mapping", set_(f"{G0R0}.ports", [22, {"from": 80}]), f"{G0R0}.ports",
         "22", "1-65535"),
    case("protocol-unicode-digit", set_(f"{G1R0}.protocol", "٦"), f"{G1R0}.protocol", "'٦'",
         "0-255"),
    case("protocol-5000-digits", set_(f"{G1R0}.protocol", "6" * 5000), f"{G1R0}.protocol",
         "(5,000 characters)", "0-255"),
    case("secondary-ips-string", set_("instances[2].secondary_ips", "٢"),
         "instances[2].secondary_ips", "'٢'", "whole number"),
    case("ssh-port-superscript", _hosts(hosts=[{"name": "hv1", "simulated": True,
                                                "ssh_port": "²²"}]), "hosts[0].ssh_port",
         "'²²'", "1-65535"),
    case("conntrack-timeout-unicode", set_("settings", {"conntrack_timeout": "٥"}),
         "settings.conntrack_timeout", "'٥'", "1-432000"),
    case("yaml-integer-5000-digits", text("name: terr\nsettings: {conntrack_timeout: "
                                          + "9" * 5000 + "}\n"), "line 2", "too long"),
    # -- counts a user sets: bounded (labfile.BOUNDS) ----------------------------------------------
    case("secondary-ips-over-bound", set_("instances[2].secondary_ips", 65536),
         "instances[2].secondary_ips", "65536", "at most 65,535"),
    case("secondary-ips-16-million", set_("instances[2].secondary_ips", 16_000_000),
         "instances[2].secondary_ips", "16000000", "at most 65,535"),
    case("private-addresses-of-the-lab", both(
        set_("instances[0].secondary_ips", 65535),
        set_("instances[0].secondary_enis[0].secondary_ips", 65535),
        set_("instances[1].secondary_ips", 65535), set_("instances[2].secondary_ips", 65535),
        append("instances", {"name": "db2", "subnet": "subnet-c", "secondary_ips": 1})),
        "instances[3].secondary_ips", "262,146", "at most 262,144"),
    # -- control characters in names and free text ---------------------------------------------
    case("instance-name-nul", set_("instances[0].name", "web\x001"), "instances[0].name",
         "NUL (U+0000)"),
    case("group-name-escape", set_("security_groups[1].name", "app\x1b[31m"),
         "security_groups[1].name", "U+001B"),
    case("rule-description-nul", set_(f"{G0R0}.description", "web\x00"),
         f"{G0R0}.description", "NUL (U+0000)", "printable"),
    case("rule-description-carriage-return", set_(f"{G0R0}.description", "a\rb"),
         f"{G0R0}.description", "U+000D"),
    case("rule-description-too-long", set_(f"{G0R0}.description", "d" * 2000),
         f"{G0R0}.description", "2,000 characters", "1,024"),
    case("group-description-escape", set_("security_groups[0].description", "x\x1by"),
         "security_groups[0].description", "U+001B"),
    case("group-description-a-list", set_("security_groups[0].description", ["a", "b"]),
         "security_groups[0].description", "must be a string"),
    case("host-command-nul", _hosts(hosts=[{"name": "hv1", "simulated": True,
                                            "command": "sgnet\x00x"}]), "hosts[0].command",
         "NUL (U+0000)"),
    case("host-identity-newline", _hosts(hosts=[{"name": "hv1", "simulated": True,
                                                 "ssh_identity": "/root/key\nx"}]),
         "hosts[0].ssh_identity", "U+000A"),
    case("host-ssh-option-nul", _hosts(hosts=[{"name": "hv1", "simulated": True,
                                               "ssh_options": ["ProxyJump=a\x00b"]}]),
         "hosts[0].ssh_options[0]", "NUL (U+0000)"),
    case("yaml-nul-byte", text("name: terr\nprovider: hua\x00wei\n"), "line 2",
         "NUL (U+0000)"),
    # -- YAML: nesting, aliases ----------------------------------------------------------------
    case("yaml-nested-500-levels", text("name: terr\nvpcs: " + "[" * 500 + "]" * 500 + "\n"),
         "line 2", "nested deeper than 64 levels"),
    case("yaml-nested-mappings-500-levels",
         text("name: terr\nx:\n" + "".join("  " * k + f"  k{k}:\n" for k in range(500))),
         "line 66", "nested deeper than 64 levels"),
    case("yaml-alias-nests-too-deep",
         text("name: terr\na: &a " + "[" * 40 + "]" * 40 + "\nb: &b " + "[" * 30 + "*a"
              + "]" * 30 + "\n"), "line 3", "nests deeper than 64 levels"),
    case("yaml-recursive-alias", text("name: terr\ninstances: &i [*i]\n"), "line 2",
         "recursive"),
    case("yaml-alias-bomb", text(
        "name: terr\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"{chr(98 + k)}: &{chr(98 + k)} [{', '.join([f'*{chr(97 + k)}'] * 10)}]\n"
                  for k in range(8))
        + "instances: *i\n"), "line 7", "aliases expand to more than 1,000,000 nodes"),
]


# -- the parametrized test ------------------------------------------------------------------------
def _lab_namespaces():
    if not os.path.isdir(netns.NETNS_DIR):
        return []
    return sorted(n for n in os.listdir(netns.NETNS_DIR) if n.startswith(LAB + "-"))


@pytest.fixture
def no_kernel(monkeypatch):
    """Fail loudly if `sgnet up` gets as far as building anything."""
    def refuse(*args, **kwargs):
        raise AssertionError("sgnet up touched the kernel for a malformed lab file")
    monkeypatch.setattr(netns, "create", refuse)
    monkeypatch.setattr(topology, "build", refuse)
    before = _lab_namespaces()
    assert before == [], f"namespaces of lab {LAB} exist before the test: {before}"
    yield
    assert _lab_namespaces() == []


def write_lab(tmp_path, mutate):
    doc = copy.deepcopy(BASE)
    result = mutate(doc)
    if result is not None and not isinstance(result, (str, bytes)):
        doc = result
    path = tmp_path / "lab.yaml"
    if isinstance(result, bytes):
        path.write_bytes(result)
    elif isinstance(result, str):
        path.write_text(result, encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_base_lab_is_valid(tmp_path):
    labfile.load_file(str(write_lab(tmp_path, lambda doc: None)))


def test_case_ids_are_unique():
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("mutate, field, value, allowed", CASES)
def test_malformed_lab_is_refused(tmp_path, capsys, no_kernel, mutate, field, value, allowed):
    path = write_lab(tmp_path, mutate)
    # The validator alone must refuse it (checked first, so that a lab file the validator
    # wrongly accepts is never handed to `sgnet up`).
    with pytest.raises(LabError):
        labfile.load_file(str(path))

    assert cli.main(["up", str(path)]) == 2
    err = capsys.readouterr().err
    assert re.search(re.escape(f"{path}: {field}") + r"[:,]", err), \
        f"expected '{path}: {field}:' in: {err}"
    assert value in err, f"expected the value {value!r} in: {err}"
    if allowed is not None:
        assert "allowed" in err and allowed in err, f"expected allowed {allowed!r} in: {err}"
    assert "Traceback" not in err


def test_json_error_output(tmp_path, capsys, no_kernel):
    import json
    path = write_lab(tmp_path, set_(f"{G1R0}.priority", 0))
    assert cli.main(["up", "--json", str(path)]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["exit_code"] == 2
    assert f"{G1R0}.priority" in out["error"]


def test_missing_file_is_refused(tmp_path, capsys, no_kernel):
    path = tmp_path / "nope.yaml"
    assert cli.main(["up", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "cannot read" in err


def test_directory_instead_of_file_is_refused(tmp_path, capsys, no_kernel):
    assert cli.main(["up", str(tmp_path)]) == 2
    assert str(tmp_path) in capsys.readouterr().err


def test_non_utf8_file_is_refused(tmp_path, capsys, no_kernel):
    path = write_lab(tmp_path, text(b"name: t\xe9rr\n"))
    assert cli.main(["up", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "utf-8" in err.lower()


# -- valid labs: the parse and its defaults (pure, no root) ------------------------------------------
def parse(doc):
    return labfile.parse_text(yaml.safe_dump(doc, sort_keys=False), "lab.yaml")


def test_base_parses():
    lab = parse(BASE)
    assert lab.name == LAB and lab.provider == "huawei"
    assert [v.name for v in lab.vpcs] == ["vpc-a", "vpc-b"]
    assert [s.name for s in lab.subnets] == ["subnet-a", "subnet-b", "subnet-c"]
    web1, app1, db1 = lab.instances
    assert str(web1.primary.ip) == "10.10.1.11"
    assert str(web1.primary.ipv6) == "fd00:10:0:1::2"
    assert web1.primary.groups == ["web"]
    assert web1.enis[1].subnet == "subnet-b" and web1.enis[1].groups == ["app"]
    assert str(web1.enis[1].ip) == "10.10.2.2" and web1.enis[1].ipv6 is None
    assert app1.groups == ["app", "default"]
    assert db1.groups == ["default"] and str(db1.primary.ip) == "10.20.1.2"
    assert str(lab.externals[0].ipv6) == "2001:db8::10"
    assert {"default", "Sys-WebServer", "Sys-FullAccess", "web", "app"} <= set(lab.groups)
    # huawei: a declared group starts from the API's rules, the file's rules come after
    web_rules = lab.groups["web"].rules[-2:]
    assert web_rules[0].ports == ((22, 22), (80, 80), (8000, 8080))
    assert web_rules[1].remote == Remote("prefix_list", "office")


def test_parse_accepts_a_dict():
    lab = labfile.parse(copy.deepcopy(BASE), "lab.yaml")
    assert lab.source == "lab.yaml" and len(lab.instances) == 3


def test_instance_without_groups_is_in_default():
    lab = parse({"name": LAB, "instances": [{"name": "a"}, {"name": "b",
                                                             "security_groups": []}]})
    assert [i.groups for i in lab.instances] == [["default"], ["default"]]


def test_lab_without_vpcs_gets_the_default_vpc():
    lab = parse({"name": LAB, "instances": [{"name": "a"}]})
    (vpc,) = lab.vpcs
    assert vpc.name == "vpc-default" and vpc.cidr == ipaddress.ip_network("192.168.0.0/16")
    (subnet,) = vpc.subnets
    assert subnet.name == "subnet-default"
    assert subnet.cidr == ipaddress.ip_network("192.168.0.0/24")
    assert lab.instances[0].primary.subnet == "subnet-default"
    assert str(lab.instances[0].primary.ip) == "192.168.0.2"
    assert lab.provider == "huawei"


def test_addresses_are_auto_assigned():
    lab = parse({
        "name": LAB,
        "vpcs": [{"name": "v", "cidr": "10.0.0.0/16", "ipv6_cidr": "fd00:1::/48", "subnets": [
            {"name": "s1", "cidr": "10.0.1.0/24", "ipv6_cidr": "fd00:1:0:1::/64"},
            {"name": "s2", "cidr": "10.0.2.0/24"}]}],
        "instances": [
            {"name": "a", "subnet": "s1"},
            {"name": "b", "subnet": "s1", "ip": "10.0.1.2", "ipv6": "fd00:1:0:1::3"},
            {"name": "c", "subnet": "s1"},
            {"name": "d", "subnet": "s1", "ip": "10.0.1.4"},  # given later, still skipped
            {"name": "e", "subnet": "s2", "secondary_enis": [{"subnet": "s1"}]},
        ],
    })
    ips = {i.name: [(str(e.ip), e.ipv6 and str(e.ipv6)) for e in i.enis] for i in lab.instances}
    assert ips == {
        "a": [("10.0.1.3", "fd00:1:0:1::2")],
        "b": [("10.0.1.2", "fd00:1:0:1::3")],
        "c": [("10.0.1.5", "fd00:1:0:1::4")],
        "d": [("10.0.1.4", "fd00:1:0:1::5")],
        "e": [("10.0.2.2", None), ("10.0.1.6", "fd00:1:0:1::6")],
    }


def _rules(*rules, **group):
    doc = {"name": LAB, "prefix_lists": [{"name": "v6only", "entries": ["2001:db8::/32"]}],
           "security_groups": [{"name": "web", "default_rules": False, "rules": list(rules),
                                **group}]}
    return parse(doc).groups["web"].rules


def test_alibaba_style_rule_syntax():
    r = _rules(
        {"direction": "ingress", "action": "Accept", "protocol": "TCP", "ports": "22/22"},
        {"direction": "ingress", "action": "DROP", "protocol": "tcp", "ports": "-1/-1"},
        {"direction": "egress", "action": "drop", "protocol": "udp", "ports": "8000/8080"},
        {"direction": "egress", "action": "accept", "protocol": "Udp", "ports": "1-65535"},
        {"direction": "Ingress", "action": "allow", "protocol": "6", "ports": [22, "80-81"]},
    )
    assert [x.action for x in r] == ["allow", "deny", "deny", "allow", "allow"]
    assert [x.protocol for x in r] == [6, 6, 17, 17, 6]
    assert [x.ports for x in r] == [((22, 22),), None, ((8000, 8080),), None,
                                    ((22, 22), (80, 81))]
    assert r[4].direction == "ingress"


def test_protocol_all_and_numbers():
    r = _rules({"direction": "ingress", "action": "allow"},
               {"direction": "ingress", "action": "allow", "protocol": "-1"},
               {"direction": "ingress", "action": "allow", "protocol": "gre"},
               {"direction": "ingress", "action": "allow", "protocol": 255})
    assert [x.protocol for x in r] == [None, None, 47, 255]


def test_remote_group_self():
    (r,) = _rules({"direction": "ingress", "action": "allow", "remote_group": "self"})
    assert r.remote == Remote("group", "web")


def test_remote_single_ip_becomes_host_network():
    r = _rules({"direction": "ingress", "action": "allow", "remote": "10.1.2.3"},
               {"direction": "ingress", "action": "allow", "remote": "2001:db8::5"})
    assert r[0].remote == Remote("cidr", "10.1.2.3/32") and r[0].family == 4
    assert r[1].remote == Remote("cidr", "2001:db8::5/128") and r[1].family == 6


def test_ethertype_defaults_from_the_remote():
    r = _rules({"direction": "ingress", "action": "allow", "remote": "::/0"},
               {"direction": "ingress", "action": "allow", "remote": "10.0.0.0/8"},
               {"direction": "ingress", "action": "allow"},
               {"direction": "ingress", "action": "allow", "protocol": "icmpv6"},
               {"direction": "ingress", "action": "allow", "remote_prefix_list": "v6only"},
               {"direction": "ingress", "action": "allow", "ethertype": "ipv6"})
    assert [x.family for x in r] == [6, 4, 4, 6, 6, 6]


def test_priority_default_and_string():
    r = _rules({"direction": "ingress", "action": "allow"},
               {"direction": "ingress", "action": "allow", "priority": "100"})
    assert [x.priority for x in r] == [1, 100]


@pytest.mark.parametrize("hosts, value", [
    ([{"name": "hv1", "address": "192.0.2.11", "ssh_user": "root"},
      {"name": "hv2", "simulated": True}], "hv2"),  # the contract's own example
    ([{"name": "hv1", "address": "192.0.2.1"}, {"name": "hv2", "address": "2001:db8::2"}],
     "2001:db8::2"),
    ([{"name": "hv1", "simulated": True}, {"name": "hv2", "simulated": True,
                                           "address": "198.18.0.1"}], "198.18.0.1"),
], ids=["simulated-and-real", "ipv4-and-ipv6", "default-address-taken"])
def test_hosts_one_lab_cannot_be_built_on(tmp_path, capsys, no_kernel, hosts, value):
    """A valid lab file (the pure verbs take it) that no lab can be built from: `up`
    refuses it, exit 2, naming the file, the field and the value, and builds nothing."""
    path = write_lab(tmp_path, _hosts(hosts=hosts))
    lab = labfile.load_file(str(path))
    assert [h.name for h in lab.hosts] == ["hv1", "hv2"]
    assert cli.main(["lint", str(path)]) in (0, 1)  # judged, not refused
    capsys.readouterr()
    assert cli.main(["up", str(path)]) == 2
    err = capsys.readouterr().err
    assert re.search(re.escape(f"{path}: hosts") + r"(\[\d\]\.address)?: ", err), err
    assert value in err and "Traceback" not in err


# -- reading: regular files only, of bounded size (issue 11) ---------------------------------------
@pytest.fixture
def alarm():
    """Fail a test that blocks (a FIFO without a writer) instead of hanging the suite."""
    import signal

    def hung(signum, frame):
        raise AssertionError("blocked reading the input")
    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("make, kind", [
    (lambda tmp: "/dev/zero", "a character device"),
    (lambda tmp: (os.mkfifo(tmp / "lab.fifo"), str(tmp / "lab.fifo"))[1], "a FIFO (named pipe)"),
    (lambda tmp: str(tmp), "a directory"),
], ids=["dev-zero", "fifo", "directory"])
def test_only_regular_files_are_read(tmp_path, capsys, no_kernel, alarm, make, kind):
    """/dev/zero read until MemoryError, a FIFO without a writer hung: refused, exit 2."""
    path = make(tmp_path)
    for verb in ("up", "lint"):
        assert cli.main([verb, path]) == 2
        err = capsys.readouterr().err
        assert f"{path}: cannot read the lab file: it is {kind}, not a regular file" in err
        assert "Traceback" not in err


def test_input_size_is_bounded_and_the_bound_can_be_raised(tmp_path, capsys, no_kernel,
                                                           monkeypatch):
    path = write_lab(tmp_path, lambda doc: None)
    size = path.stat().st_size
    monkeypatch.setenv("SGNET_MAX_INPUT_BYTES", str(size - 1))
    assert cli.main(["lint", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: the lab file is larger than {size - 1:,} bytes" in err
    assert "SGNET_MAX_INPUT_BYTES" in err
    monkeypatch.setenv("SGNET_MAX_INPUT_BYTES", str(size))
    assert labfile.load_file(str(path)).name == LAB
    monkeypatch.setenv("SGNET_MAX_INPUT_BYTES", "²")
    assert cli.main(["lint", str(path)]) == 2
    assert "SGNET_MAX_INPUT_BYTES: not a number of bytes (got '²')" in capsys.readouterr().err
    monkeypatch.delenv("SGNET_MAX_INPUT_BYTES")
    assert labfile.input_limit() == labfile.MAX_INPUT_BYTES == 16 * 2**20


def test_a_large_file_is_read_no_further_than_the_bound(tmp_path, monkeypatch):
    """A file growing without end (or /proc, whose sizes are 0) is read up to the bound + 1."""
    monkeypatch.setenv("SGNET_MAX_INPUT_BYTES", "1000")
    reads = []
    real = os.read
    monkeypatch.setattr(labfile.os, "read", lambda fd, n: reads.append(n) or real(fd, n))
    path = tmp_path / "big.yaml"
    path.write_text("#" * 100_000)
    with pytest.raises(LabError, match="larger than 1,000 bytes"):
        labfile.read_text(str(path))
    assert sum(reads) <= 1001


def test_a_nul_in_the_path_is_refused():
    with pytest.raises(LabError, match="NUL byte"):
        labfile.read_text("lab\x00.yaml")


# -- YAML: both loaders (libyaml's and Python's) refuse alike ----------------------------------
YAML_REFUSALS = [
    ("name: terr\nprovider: huawei\nname: other\n", "line 3, column 1", "duplicate key 'name'"),
    ("name: terr\nvpcs: " + "[" * 500 + "]" * 500 + "\n", "line 2", "nested deeper than 64"),
    ("a: " + "[" * 100_000 + "\n", "line 1", "nested deeper than 64"),
    ("a: &a [*a]\n", "line 1", "recursive"),
    ("x: " + "9" * 5000 + "\n", "line 1, column 4", "integer of 5,000 characters"),
    ("a: b\n\x07\n", "line 2, column 1", "U+0007"),
    ("a: 'é\x00'\n", "line 1, column 6", "NUL (U+0000)"),
    ("k: 1\nx: *" + "a" * 100_000 + "\n", "line 2", "found undefined alias"),
]


@pytest.mark.parametrize("loader", labfile._LOADERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("doc, where, problem", YAML_REFUSALS,
                         ids=[f"refusal{i}" for i in range(len(YAML_REFUSALS))])
def test_yaml_refusals(loader, doc, where, problem):
    with pytest.raises(LabError) as e:
        labfile.load_yaml(doc, "lab.yaml", loader=loader)
    msg = str(e.value)
    assert msg.startswith(f"lab.yaml: {where}") and problem in msg, msg
    assert len(msg) < 500


@pytest.mark.parametrize("loader", labfile._LOADERS, ids=lambda c: c.__name__)
def test_yaml_loaders_agree(loader):
    text = yaml.safe_dump(BASE, sort_keys=False)
    shared = "common: &rules [{direction: ingress, action: allow}]\n"
    assert labfile.load_yaml(text, "lab.yaml", loader=loader) == BASE
    assert labfile.load_yaml(shared + "g: [*rules, *rules]\n", "x", loader=loader)["g"] == \
        [[{"direction": "ingress", "action": "allow"}]] * 2


def test_alias_bomb_is_refused_in_bounded_time_and_message(tmp_path, capsys, no_kernel):
    """The "billion laughs": 10^9 nodes once expanded; messages printed the whole value
    (722 MB). Refused while composing, before anything walks it."""
    import time
    lines = ["name: terr", "a: &a [" + ", ".join(["lol"] * 10) + "]"]
    for k in range(1, 9):
        prev, cur = chr(96 + k), chr(97 + k)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    lines.append("provider: *i")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    t = time.monotonic()
    assert cli.main(["lint", str(path)]) == 2
    assert time.monotonic() - t < 10
    err = capsys.readouterr().err
    assert "alias bomb" in err and len(err) < 500


def test_values_in_messages_are_cut(tmp_path, capsys, no_kernel):
    """A bad value of any size is shown cut (a readable prefix, its length), in time bounded
    by that cut: not its whole repr."""
    cases = [set_("provider", ["huawei"] * 1_000_000), set_("vpcs[0].cidr", "1" * 1_000_000),
             set_("k" * 100_000, 1), set_("instances[0].name", {"a" * 1000: list(range(10**5))})]
    for mutate in cases:
        path = write_lab(tmp_path, mutate)
        assert cli.main(["up", str(path)]) == 2
        err = capsys.readouterr().err
        assert len(err) < 500 + len(str(path)), err[:1000]
        assert "Traceback" not in err


def test_short():
    assert labfile.short("web1") == "'web1'"
    assert labfile.short("x" * 100) == "'" + "x" * 59 + "... (100 characters)"
    assert len(labfile.short(list(range(10**6)))) <= 63
    assert len(labfile.short({"a": [[[[1]]]]})) <= 63
    deep = []
    for _ in range(10**5):
        deep = [deep]
    assert labfile.short(deep).startswith("[[")


# -- integers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    (22, 22), ("22", 22), (" 22 ", 22), ("0022", 22), (-1, -1), (True, None), (False, None),
    ("²", None), ("٢٢", None), ("２２", None), ("-1", None), ("+1", None), ("", None),
    ("1_000", None), (22.0, None), (None, None), ([22], None), ("9" * 5000, 10**20),
])
def test_ascii_int(value, expected):
    assert labfile.ascii_int(value) == expected


def test_bounded_int():
    assert labfile.bounded_int("100", 1, 100) == 100
    assert labfile.bounded_int("101", 1, 100) is None
    assert labfile.bounded_int("9" * 5000, 1, 100) is None
    assert labfile.bounded_int("5", 1, 100, strings=False) is None
    assert labfile.bounded_int(5, 1, 100, strings=False) == 5


# -- every count a user sets has its bound, checked before anything is built -------------------
def _port_rules(n):
    return [{"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": str(p + 1)}
            for p in range(n)]


@pytest.mark.parametrize("bound, most, mutate, field", [
    ("instances", 3, append("instances", {"name": "db2", "subnet": "subnet-c"}), "instances"),
    ("secondary_enis", 1, set_("instances[0].secondary_enis", [{"subnet": "subnet-b"}] * 2),
     "instances[0].secondary_enis"),
    ("secondary_ips", 10, set_("instances[2].secondary_ips", 11), "instances[2].secondary_ips"),
    ("private_ipv4", 20, both(set_("instances[1].secondary_ips", 10),
                              set_("instances[2].secondary_ips", 10)),
     "instances[2].secondary_ips"),
    ("externals", 1, append("externals", {"name": "nat", "ip": "198.51.100.11"}), "externals"),
    ("vpcs", 1, lambda doc: None, "vpcs"),
    ("subnets", 2, lambda doc: None, "vpcs[1].subnets"),
    ("security_groups", 1, lambda doc: None, "security_groups"),
    ("rules_per_group", 3, set_("security_groups[1].rules", _port_rules(4)),
     "security_groups[1].rules"),
    ("rules", 5, set_("security_groups[1].rules", _port_rules(4)), "security_groups[1].rules"),
    ("ports_per_rule", 3, set_(f"{G0R0}.ports", "22,80,443,8080"), f"{G0R0}.ports"),
    ("ports_per_rule", 3, set_(f"{G0R0}.ports", [22, "80,443", 8080]), f"{G0R0}.ports"),
    ("prefix_lists", 1, append("prefix_lists", {"name": "home", "entries": []}), "prefix_lists"),
    ("prefix_list_entries", 1, lambda doc: None, "prefix_lists[0].entries"),
    ("hosts", 1, _hosts(), "hosts"),
    ("host_subnets", 2, _hosts(), "vpcs"),
    ("ssh_options", 1, _hosts(hosts=[{"name": "hv1", "simulated": True,
                                      "ssh_options": ["A=b", "C=d"]}]), "hosts[0].ssh_options"),
])
def test_counts_are_bounded(tmp_path, capsys, no_kernel, monkeypatch, bound, most, mutate,
                            field):
    """Each bound of labfile.BOUNDS, lowered so that the base lab crosses it: refused, exit 2,
    naming the field and the bound, before anything is built."""
    monkeypatch.setitem(labfile.BOUNDS, bound, most)
    path = write_lab(tmp_path, mutate)
    assert cli.main(["up", str(path)]) == 2
    err = capsys.readouterr().err
    assert re.search(re.escape(f"{path}: {field}") + r":", err), err
    assert f"at most {most:,}" in err and "Traceback" not in err


def test_bounds_are_what_the_readme_says():
    """The bounds are data in one place; these are the documented values."""
    assert labfile.BOUNDS["instances"] == 10_000 and labfile.BOUNDS["secondary_ips"] == 65_535
    assert labfile.BOUNDS["private_ipv4"] == 4 * 65_536
    assert labfile.MAX_SECONDARY_ENIS == labfile.BOUNDS["secondary_enis"] == 9
    assert labfile.MAX_HOSTS == labfile.BOUNDS["hosts"] == 250
    # the interface name of ENI 9 of the last instance of an 8-character lab fits IFNAMSIZ
    last = labfile.BOUNDS["instances"] - 1
    assert len(f"abcdefgh" f"i{last}e{labfile.MAX_SECONDARY_ENIS}") <= 15


def test_the_largest_counts_are_accepted():
    """At the bounds themselves: 10,000 instances, 65,535 secondary addresses on one ENI."""
    lab = parse({"name": LAB, "vpcs": [{"name": "v", "cidr": "10.0.0.0/8", "subnets": [
        {"name": "s", "cidr": "10.0.0.0/12"}]}],
        "instances": [{"name": "big", "secondary_ips": 65535}]
        + [{"name": f"i{k}"} for k in range(9_999)]})
    assert len(lab.instances) == 10_000
    # after every primary address (10.0.0.2 to 10.0.39.17): 65,535 from 10.0.39.18
    assert lab.instances[0].primary.secondary == (ipaddress.ip_address("10.0.39.18"),
                                                  ipaddress.ip_address("10.1.39.16"))


# -- free text ---------------------------------------------------------------------------------
def test_descriptions_keep_tabs_and_newlines():
    doc = copy.deepcopy(BASE)
    doc["security_groups"][0]["description"] = "web tier\n\tpublic\n"
    doc["security_groups"][0]["rules"][0]["description"] = "line one\nline two\n"
    lab = parse(doc)
    assert lab.groups["web"].description == "web tier\n\tpublic\n"
    assert lab.groups["web"].rules[-2].description == "line one\nline two\n"


def test_a_lone_surrogate_in_a_description_is_refused():
    """Python's YAML reads "\\ud800" as a lone surrogate, which no file or terminal takes."""
    doc = copy.deepcopy(BASE)
    doc["security_groups"][0]["rules"][0]["description"] = "a\ud800b"
    with pytest.raises(LabError, match=re.escape("U+D800")):
        labfile.parse(doc, "lab.yaml")


# -- addresses: the allocator hands out what it did, in time linear in the lab -----------------
def test_secondary_blocks_are_first_fit():
    lab = parse({"name": LAB, "vpcs": [{"name": "v", "cidr": "10.0.0.0/16", "subnets": [
        {"name": "s", "cidr": "10.0.0.0/27"}]}], "instances": [
        {"name": "a", "secondary_ips": 2}, {"name": "x", "ip": "10.0.0.5", "secondary_ips": 5},
        {"name": "b", "secondary_ips": 1}, {"name": "y", "ip": "10.0.0.9"},
        {"name": "c", "secondary_ips": 1}]})
    got = {i.name: (str(i.primary.ip), i.primary.secondary and
                    tuple(str(a) for a in i.primary.secondary)) for i in lab.instances}
    assert got == {"a": ("10.0.0.2", ("10.0.0.6", "10.0.0.7")),
                   "x": ("10.0.0.5", ("10.0.0.10", "10.0.0.14")),
                   "b": ("10.0.0.3", ("10.0.0.8", "10.0.0.8")),
                   "y": ("10.0.0.9", None), "c": ("10.0.0.4", ("10.0.0.15", "10.0.0.15"))}
    with pytest.raises(LabError, match="no block of 20 free addresses"):
        parse({"name": LAB, "vpcs": [{"name": "v", "cidr": "10.0.0.0/16", "subnets": [
            {"name": "s", "cidr": "10.0.0.0/27"}]}], "instances": [
            {"name": "a", "ip": "10.0.0.12", "secondary_ips": 20}]})


def test_ten_thousand_instances_in_one_subnet_parse_in_linear_time():
    """The free-address allocator rescanned the subnet for every instance: 10,000 instances
    in one subnet took over a minute. Now about 0.1 s; the bound is generous for a shared
    machine and still far below the quadratic time."""
    import time
    raw = {"name": LAB, "vpcs": [{"name": "v", "cidr": "10.0.0.0/16", "subnets": [
        {"name": "s", "cidr": "10.0.0.0/16"}]}],
        "instances": [{"name": f"i{k}", "secondary_ips": k % 3} for k in range(10_000)]}
    t = time.process_time()
    lab = labfile.parse(raw, "lab.yaml")
    assert time.process_time() - t < 5
    assert str(lab.instances[-1].primary.ip) == "10.0.39.17"
    assert len({a for i in lab.instances for a in i.primary.addresses(4)}) == 19_999


@pytest.mark.parametrize("loader", labfile._LOADERS, ids=lambda c: c.__name__)
def test_values_of_a_file_are_bounded(loader, monkeypatch):
    """Each YAML value costs Python time and memory whatever its length: a file of 16 MiB
    of `1,` would be 8 million of them (minutes, gigabytes)."""
    monkeypatch.setattr(labfile, "MAX_NODES", 1000)
    # the mapping, its key, the list and 997 numbers: 1,000 values
    labfile.load_yaml("x: [" + "1," * 996 + "1]\n", "lab.yaml", loader=loader)
    with pytest.raises(LabError, match="line 1, column 1999: YAML refused: more than 1,000 "
                                       "values"):
        labfile.load_yaml("x: [" + "1," * 997 + "1]\n", "lab.yaml", loader=loader)


def test_building_restores_the_garbage_collector():
    import gc
    assert gc.isenabled()
    with pytest.raises(LabError):
        labfile.parse_text("name: terr\ninstances: 7\n")
    assert gc.isenabled()
    gc.disable()
    try:
        labfile.parse_text("name: terr\n")
        assert not gc.isenabled()
    finally:
        gc.enable()

"""Malformed lab files: one valid lab (BASE) and the cases that each break one field of it.

Shared by tests/unit/test_labfile_errors.py (the validator and `sgnet lint` refuse each case,
naming the file, the field and the value) and tests/kernel/test_up_refuses.py (`sgnet up`
refuses the same, before anything is built).
"""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from helpers.netns_dir import namespaces


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
    case("eni-id-not-an-id", set_("instances[0].eni_id", "eni 1/2"), "instances[0].eni_id",
         "eni 1/2", "letters, digits"),
    case("eni-id-not-a-string", set_("instances[0].secondary_enis[0].eni_id", 12),
         "instances[0].secondary_enis[0].eni_id", "12", "letters, digits"),
    case("eni-id-twice", both(set_("instances[0].eni_id", "eni-1"),
                              set_("instances[0].secondary_enis[0].eni_id", "eni-1")),
         "instances[0].secondary_enis[0].eni_id", "eni-1"),
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
    # Alibaba (issue 13): a prefix list of one family (CreatePrefixList); an advanced group's
    # rules reference no group, itself included (AuthorizeSecurityGroup)
    case("alibaba-prefix-list-mixed-families", set_("provider", "alibaba"),
         "prefix_lists[0].entries[1]", "2001:db8:1::/48", "IPv4 CIDR blocks only"),
    case("alibaba-advanced-group-references-a-group",
         both(set_("provider", "alibaba"), set_("prefix_lists[0].entries", ["203.0.113.0/24"]),
              set_("security_groups[1].type", "advanced")),
         "security_groups[1].rules[0].remote_group", "web", "a CIDR block or a prefix list"),
    case("alibaba-advanced-group-references-itself",
         both(set_("provider", "alibaba"), set_("prefix_lists[0].entries", ["203.0.113.0/24"]),
              set_("security_groups[1].type", "advanced"),
              set_(f"{G1R0}.remote_group", "self")),
         "security_groups[1].rules[0].remote_group", "self", "a CIDR block or a prefix list"),
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
    # -- counts a user sets: bounded (labspec.BOUNDS) ----------------------------------------------
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


def lab_namespaces() -> list:
    """This module's lab's namespaces (read from the directory: no kernel module imported)."""
    return namespaces(LAB + "-")


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


def assert_names_the_field(err: str, path, field: str, value: str, allowed) -> None:
    """The refusal on stderr names the file and the field path, shows the value, says what
    is allowed (when the case says), and is no traceback."""
    assert re.search(re.escape(f"{path}: {field}") + r"[:,]", err), \
        f"expected '{path}: {field}:' in: {err}"
    assert value in err, f"expected the value {value!r} in: {err}"
    if allowed is not None:
        assert "allowed" in err and allowed in err, f"expected allowed {allowed!r} in: {err}"
    assert "Traceback" not in err

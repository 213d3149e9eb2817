"""Random labs for differential testing (hypothesis strategies; used by tests and scripts).

A generated lab is a plain lab-file dict, so a failing example prints as a file that
`sgnet up` replays. Rules draw their ports, addresses and priorities from small pools, so
that ties, overlaps, shadowing and deny/allow conflicts are common and probes hit them.
"""

from __future__ import annotations

from hypothesis import strategies as st

from sgnet.providers import PROFILES, get_profile

SUBNETS = [
    {"name": "s1", "cidr": "10.60.1.0/24", "ipv6_cidr": "fd00:60:0:1::/64"},
    {"name": "s2", "cidr": "10.60.2.0/24", "ipv6_cidr": "fd00:60:0:2::/64"},
]
EXTERNALS = [
    {"name": "internet", "ip": "203.0.113.10", "ipv6": "2001:db8::10"},
    {"name": "nat-gw", "ip": "198.51.100.7", "ipv6": "2001:db8:1::7"},
]
PREFIX_LISTS = [{"name": "pl", "entries": ["203.0.113.0/24", "10.60.2.0/25",
                                           "2001:db8::/64", "fd00:60:0:1::/64"]}]
# Alibaba's prefix lists hold one address family (CreatePrefixList): the same entries, split.
PREFIX_LISTS_BY_FAMILY = [{"name": "pl4", "entries": ["203.0.113.0/24", "10.60.2.0/25"]},
                          {"name": "pl6", "entries": ["2001:db8::/64", "fd00:60:0:1::/64"]}]
CIDRS = {4: ["0.0.0.0/0", "10.60.0.0/16", "10.60.1.0/24", "10.60.2.0/25", "10.60.2.128/25",
             "203.0.113.10", "198.51.100.0/24", "10.60.1.2", "10.60.2.3"],
         6: ["::/0", "fd00:60::/48", "fd00:60:0:1::/64", "fd00:60:0:2::/64",
             "2001:db8::10", "2001:db8:1::/48", "fd00:60:0:1::2"]}
PORTS = [None, "22", "80", "53", "8080", "20-30", "50-90", "22,80", "1-65535", "-1/-1"]
PRIORITIES = [1, 1, 2, 50, 100]
PROBES = [(6, 22), (6, 80), (17, 53), ("icmp", None)]
# Each provider's own groups, by name (a generated lab may put instances in them).
BUILTIN = {name: [g.name for g in get_profile(name).builtin_groups()] for name in PROFILES}


@st.composite
def rules(draw, group_names, referable, split_prefix_lists=False):
    family = draw(st.sampled_from([4, 6]))
    protocol = draw(st.sampled_from(["tcp", "udp", "all", "icmp" if family == 4 else "icmpv6"]))
    r = {"direction": draw(st.sampled_from(["ingress", "egress"])),
         "action": draw(st.sampled_from(["allow", "deny"])),
         "priority": draw(st.sampled_from(PRIORITIES)),
         "ethertype": f"IPv{family}", "protocol": protocol}
    if protocol in ("tcp", "udp"):
        ports = draw(st.sampled_from(PORTS))
        if ports is not None:
            r["ports"] = ports
    kind = draw(st.sampled_from(["any", "cidr", "cidr", "group", "prefix_list"]))
    if kind == "cidr":
        r["remote"] = draw(st.sampled_from(CIDRS[family]))
    elif kind == "group" and referable:
        r["remote_group"] = draw(st.sampled_from(referable + ["self"]))
    elif kind == "prefix_list":
        r["remote_prefix_list"] = f"pl{family}" if split_prefix_lists else "pl"
    return r


@st.composite
def labs(draw, provider, name="thyp"):
    n_groups = draw(st.integers(1, 4))
    groups = []
    for i in range(n_groups):
        g = {"name": f"g{i}"}
        if provider == "alibaba":
            g["type"] = draw(st.sampled_from(["basic", "basic", "advanced"]))
            if g["type"] == "basic":
                g["inner_access"] = draw(st.sampled_from(["accept", "drop"]))
            if draw(st.booleans()):
                g["created_by"] = "console"
        else:
            g["default_rules"] = draw(st.booleans())
        groups.append(g)
    names = [g["name"] for g in groups]
    types = {g["name"]: g.get("type", "basic") for g in groups}
    for b in BUILTIN[provider]:
        types[b] = "basic"
    referable = [n for n in names + BUILTIN[provider] if types[n] != "advanced"]
    alibaba = provider == "alibaba"
    for g in groups:
        # an Alibaba advanced group's rules reference no group (AuthorizeSecurityGroup)
        refs = [] if types[g["name"]] == "advanced" else referable
        g["rules"] = draw(st.lists(rules(names, refs, alibaba), max_size=5))

    def group_choice():
        pool = names + BUILTIN[provider]
        if provider == "alibaba":  # an ENI is either all basic or all advanced
            kind = draw(st.sampled_from(["basic", "advanced"]))
            pool = [n for n in pool if types[n] == kind] or \
                [n for n in pool if types[n] == "basic"]
        return draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))

    instances = []
    for i in range(draw(st.integers(2, 5))):
        subnet = draw(st.sampled_from(["s1", "s2"]))
        inst = {"name": f"vm{i}", "subnet": subnet, "security_groups": group_choice()}
        if draw(st.integers(0, 3)) == 0:
            inst["secondary_enis"] = [{"subnet": "s2" if subnet == "s1" else "s1",
                                       "security_groups": group_choice()}]
        instances.append(inst)
    # copies: labs_over_hosts adds "host" to them
    externals = [dict(x) for x in EXTERNALS[:draw(st.integers(1, 2))]]
    return {"name": name, "provider": provider,
            "vpcs": [{"name": "vpc-h", "cidr": "10.60.0.0/16", "ipv6_cidr": "fd00:60::/48",
                      "subnets": SUBNETS}],
            "prefix_lists": PREFIX_LISTS_BY_FAMILY if alibaba else PREFIX_LISTS,
            "security_groups": groups,
            "instances": instances, "externals": externals}


@st.composite
def labs_over_hosts(draw, provider, name="thyp", hosts=3):
    """The labs of `labs`, spread over simulated hosts hv1..hvN: each instance and external
    on a host drawn at random."""
    raw = draw(labs(provider, name))
    names = [f"hv{k + 1}" for k in range(hosts)]
    raw["hosts"] = [{"name": h, "simulated": True} for h in names]
    for item in raw["instances"] + raw["externals"]:
        item["host"] = draw(st.sampled_from(names), label=f"host of {item['name']}")
    return raw


def flows_of(lab):
    """Every source (instance or external) x every destination (instance, secondary ENI
    address, external) x the probe set x both families; never an instance to itself, nor
    an external to an external."""
    out = []
    externals = [x.name for x in lab.externals]
    sources = [(i.name, i.name) for i in lab.instances] + [(x, x) for x in externals]
    for family in (4, 6):
        dsts = sources + [(i.name, str(e.address(family)))
                          for i in lab.instances for e in i.enis[1:]]
        for src_owner, src in sources:
            for dst_owner, dst in dsts:
                if src_owner == dst_owner or (src in externals and dst_owner in externals):
                    continue
                for proto, port in PROBES:
                    p = (1 if family == 4 else 58) if proto == "icmp" else proto
                    out.append((src, dst, p, port, family))
    return out

"""Lab files for the benchmarks (plain dicts, like any lab file)."""


def bringup_lab(n, name="bup", subnets=10):
    """N instances over `subnets` subnets; one group per subnet, each referencing the
    previous group and itself, so membership sets are shared across the lab."""
    groups = []
    for s in range(subnets):
        groups.append({"name": f"tier{s}", "rules": [
            {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "80",
             "remote_group": f"tier{(s - 1) % subnets}"},
            {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "22",
             "remote": "10.0.0.0/8"},
            {"direction": "ingress", "action": "deny", "priority": 50, "protocol": "udp",
             "remote": "203.0.113.0/24"}]})
    per = -(-n // subnets)
    prefix = 24 if per < 250 else 20
    return {
        "name": name, "provider": "huawei",
        "vpcs": [{"name": "vpc", "cidr": "10.0.0.0/8", "subnets": [
            {"name": f"s{s}", "cidr": f"10.{s}.0.0/{prefix}"} for s in range(subnets)]}],
        "security_groups": groups,
        "instances": [{"name": f"vm{i}", "subnet": f"s{i % subnets}",
                       "security_groups": [f"tier{i % subnets}"]} for i in range(n)],
        "externals": [{"name": "internet", "ip": "203.0.113.10"}],
    }


def datapath_lab(case="one", name="bdp", hosts=()):
    """Two instances, client and server. `case`: none | one | many | biggroup.
    none: the same lab, whose tables the benchmark deletes (no group at all).
    many: the server's group holds 10,000 rules: 1% deny rules interleaved by priority
    among allow rules, the one that lets the benchmark's traffic in last in priority order.
    biggroup: the server lets in members of a group of 65,536 private addresses (the
    client, with 65,535 secondary addresses).
    hosts: two simulated hosts' names (the multi-host benchmark): the client and a server
    `near` on the first, a server `far` in the same group on the second, instead of
    `server`."""
    client_group = {"name": "clients", "default_rules": False, "rules": [
        {"direction": "egress", "action": "allow", "protocol": "all"}]}
    permit = {"direction": "ingress", "action": "allow", "priority": 100, "protocol": "tcp",
              "ports": "5001,5201", "remote": "10.2.0.0/15"}
    server_rules = [permit]
    client = {"name": "client", "subnet": "s", "security_groups": ["clients"]}
    if case == "many":
        server_rules = []
        n = 10000
        for r in range(n - 1):
            k = r // 100
            prio = 1 + r * 99 // n
            if r % 100 == 50:  # a deny among allow rules, overlapping some of them
                server_rules.append({"direction": "ingress", "action": "deny", "priority": prio,
                                     "protocol": "tcp", "ports": f"{20000 + k * 100}-"
                                     f"{20000 + k * 100 + 99}", "remote": "10.64.0.0/10"})
            else:
                server_rules.append({"direction": "ingress", "action": "allow",
                                     "priority": prio, "protocol": "tcp",
                                     "ports": str(20000 + r),
                                     "remote": f"10.{64 + k % 64}.0.0/16"})
        server_rules.append(permit)
    elif case == "biggroup":
        server_rules = [dict(permit, remote=None, remote_group="clients")]
        del server_rules[0]["remote"]
        client["secondary_ips"] = 65535
    lab = {
        "name": name, "provider": "huawei",
        "vpcs": [{"name": "vpc", "cidr": "10.0.0.0/8", "subnets": [
            {"name": "s", "cidr": "10.2.0.0/15"}]}],
        "security_groups": [client_group, {"name": "server", "default_rules": False,
                                           "rules": server_rules}],
        "instances": [client, {"name": "server", "subnet": "s", "ip": "10.3.255.250",
                               "security_groups": ["server"]}],
    }
    if hosts:
        near, far = hosts
        lab["hosts"] = [{"name": h, "simulated": True} for h in hosts]
        lab["instances"] = [dict(client, host=near),
                            {"name": "near", "subnet": "s", "security_groups": ["server"],
                             "host": near},
                            {"name": "far", "subnet": "s", "security_groups": ["server"],
                             "host": far}]
    return lab


def group_lab(members, watchers=20, name="bgr"):
    """A group `big` of `members` private addresses (one instance with secondary
    addresses), `watchers` instances whose group lets `big` in, and a `mover` that joins
    and leaves `big`."""
    return {
        "name": name, "provider": "huawei",
        "vpcs": [{"name": "vpc", "cidr": "10.0.0.0/8", "subnets": [
            {"name": "s", "cidr": "10.2.0.0/15"}]}],
        "security_groups": [
            {"name": "big", "default_rules": False, "rules": [
                {"direction": "egress", "action": "allow", "protocol": "all"}]},
            {"name": "watch", "default_rules": False, "rules": [
                {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "80",
                 "remote_group": "big"}]}],
        "instances": ([{"name": "big0", "subnet": "s", "security_groups": ["big"],
                        "secondary_ips": members - 1},
                       {"name": "mover", "subnet": "s"}]
                      + [{"name": f"w{i}", "subnet": "s", "security_groups": ["watch"]}
                         for i in range(watchers)]),
    }


def probe_lab(n=50, name="bpr", flows="mixed"):
    """`n` instances in 5 groups. `flows`: mixed: tcp/22 open to the VPC, tcp/80 only within
    a group, udp/53 open to the VPC, ICMP only within a group (about half of a tcp/22,
    tcp/80, udp/53, icmp matrix is denied); open: all four open to the VPC (none denied);
    closed: nothing lets anything in (all denied)."""
    mixed = [
        {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "22",
         "remote": "10.0.0.0/8"},
        {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "80",
         "remote_group": "self"},
        {"direction": "ingress", "action": "allow", "protocol": "udp", "ports": "53",
         "remote": "10.0.0.0/8"},
        {"direction": "ingress", "action": "allow", "protocol": "icmp", "remote_group": "self"}]
    ingress = {"mixed": mixed, "closed": [],
               "open": [dict(r, remote="10.0.0.0/8") for r in mixed]}[flows]
    for r in ingress:
        if "remote_group" in r and "remote" in r:
            del r["remote_group"]
    groups = [{"name": f"g{k}", "default_rules": False, "rules": ingress + [
        {"direction": "egress", "action": "allow", "protocol": "all"}]} for k in range(5)]
    return {
        "name": name, "provider": "huawei",
        "vpcs": [{"name": "vpc", "cidr": "10.0.0.0/8", "subnets": [
            {"name": f"s{s}", "cidr": f"10.{s}.0.0/24"} for s in range(5)]}],
        "security_groups": groups,
        "instances": [{"name": f"vm{i}", "subnet": f"s{i % 5}",
                       "security_groups": [f"g{(i // 5) % 5}"]} for i in range(n)],
    }


def estate_lab(n=1000, groups=200, name="best", seed=5, provider="huawei"):
    """An estate: `n` instances over 20 subnets, `groups` groups of 4-12 rules each drawn
    from what real groups hold (a service port or range to the VPC, to the world, to one
    /24, to another group; a few denies; egress to the world), each instance in 1-3 groups.
    The same seed gives the same lab."""
    import random
    rng = random.Random(seed)
    subnets = [{"name": f"s{k}", "cidr": f"10.{k // 10}.{k % 10}.0/24",
                "ipv6_cidr": f"fd00:1:0:{k:x}::/64"} for k in range(20)]
    services = ["22", "80", "443", "3306", "5432", "6379", "8000-8999", "9200-9300",
                "27017", "53", "123", "1000-2000", "30000-32767"]
    remotes = [{"remote": "0.0.0.0/0"}, {"remote": "10.0.0.0/8"},
               {"remote": "203.0.113.0/24"}, {"remote": "198.51.100.0/24"},
               {"remote": "100.64.0.0/10"}, {"remote": "::/0", "ethertype": "IPv6"},
               {"remote": "2001:db8::/32", "ethertype": "IPv6"}]
    out = []
    for g in range(groups):
        rules = []
        for _ in range(rng.randint(4, 12)):
            r = {"direction": "ingress" if rng.random() < 0.8 else "egress",
                 "action": "deny" if rng.random() < 0.1 else "allow",
                 "priority": rng.choice([1, 1, 1, 10, 50, 100]),
                 "protocol": rng.choice(["tcp", "tcp", "tcp", "udp", "icmp"])}
            if r["protocol"] != "icmp":
                r["ports"] = rng.choice(services)
            if rng.random() < 0.25:
                r["remote_group"] = f"g{rng.randrange(groups)}"
            else:
                rem = rng.choice(remotes)
                if r["protocol"] == "icmp" and rem.get("ethertype") == "IPv6":
                    r["protocol"] = "icmpv6"
                r.update(rem)
            rules.append(r)
        out.append({"name": f"g{g}", "rules": rules})
    instances = [{"name": f"i{k}", "subnet": f"s{k % 20}",
                  "security_groups": rng.sample([f"g{g}" for g in range(groups)],
                                                rng.randint(1, 3))} for k in range(n)]
    return {"name": name, "provider": provider,
            "vpcs": [{"name": "v", "cidr": "10.0.0.0/14", "ipv6_cidr": "fd00:1::/48",
                      "subnets": subnets}],
            "security_groups": out, "instances": instances,
            "externals": [{"name": "internet", "ip": "203.0.113.10", "ipv6": "2001:db8::10"}]}

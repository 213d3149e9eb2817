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

"""Least-privilege and consistency findings on a lab's groups (pure, no kernel).

The source documents advise: follow least privilege (SSH from specific addresses, not
0.0.0.0/0), keep rules simple and clear, keep internal services (MySQL, Redis) off groups
reachable from the Internet. Each finding names the group and rule and has a severity:
error (exposed to the world), warning (a rule that never decides, duplicates and
contradictions, near a provider limit), info (unused groups).
"""

from __future__ import annotations

import ipaddress

from .model import Lab, Rule
from .providers import get_profile
from .providers.base import rule_sort_key

SEVERITIES = ["info", "warning", "error"]
ADMIN_PORTS = {22: "SSH", 3389: "RDP"}
DATA_PORTS = {3306: "MySQL", 5432: "PostgreSQL", 6379: "Redis", 27017: "MongoDB",
              1433: "SQL Server", 1521: "Oracle", 9200: "Elasticsearch", 11211: "memcached",
              5984: "CouchDB", 9042: "Cassandra", 2379: "etcd", 5601: "Kibana"}


def _finding(severity, group, rule, message):
    return {"severity": severity, "group": group, "rule": rule, "message": message}


def _world(lab: Lab, rule: Rule) -> bool:
    """Does the rule's remote include every address of its family?"""
    r = rule.remote
    if r.kind == "any":
        return True
    if r.kind == "cidr":
        return ipaddress.ip_network(r.value).prefixlen == 0
    if r.kind == "prefix_list":
        return any(n.prefixlen == 0 for n in lab.prefix_lists[r.value].networks(rule.family))
    return False


def _covers_ports(outer, inner) -> bool:
    if outer is None:
        return True
    if inner is None:
        return outer == ((1, 65535),)
    return all(any(lo <= a and b <= hi for lo, hi in outer) for a, b in inner)


def _covers_remote(lab: Lab, outer: Rule, inner: Rule) -> bool:
    o, i = outer.remote, inner.remote
    if _world(lab, outer):
        return True
    if o == i:
        return True
    if o.kind == "cidr" and i.kind == "cidr":
        a, b = ipaddress.ip_network(o.value), ipaddress.ip_network(i.value)
        return a.version == b.version and b.subnet_of(a)
    if o.kind == "cidr" and i.kind == "prefix_list":
        a = ipaddress.ip_network(o.value)
        nets = lab.prefix_lists[i.value].networks(inner.family)
        return bool(nets) and all(n.version == a.version and n.subnet_of(a) for n in nets)
    return False


def covers(lab: Lab, outer: Rule, inner: Rule) -> bool:
    """Does every packet that `inner` matches also match `outer`?"""
    return (outer.direction == inner.direction and outer.family == inner.family
            and (outer.protocol is None or outer.protocol == inner.protocol)
            and (outer.protocol not in (6, 17) or _covers_ports(outer.ports, inner.ports))
            and _covers_remote(lab, outer, inner))


def _port_hits(rule: Rule, ports: dict) -> list:
    if rule.protocol not in (None, 6):
        return []
    if rule.ports is None:
        return list(ports)
    return [p for p in ports if any(lo <= p <= hi for lo, hi in rule.ports)]


def lint(lab: Lab) -> list:
    findings = []
    profile = get_profile(lab.provider)
    used = {g for eni in lab.enis for g in eni.groups}
    for name, group in lab.groups.items():
        if group.builtin and name not in used:
            continue  # the provider's own groups exist in every lab: judged when used
        ordered = sorted(enumerate(group.rules), key=rule_sort_key)
        earlier = []
        for idx, rule in ordered:
            where = f"rule {idx} ({rule.text()})"
            if rule.direction == "ingress" and rule.action == "allow" and _world(lab, rule):
                # exposed unless an earlier deny of this group covers it
                denied = [e for e in earlier if e[1].action == "deny" and covers(lab, e[1], rule)]
                if not denied and rule.protocol is None:
                    findings.append(_finding(
                        "error", name, idx, f"{where}: every protocol and port is open to "
                        f"every IPv{rule.family} address, administrative and database ports "
                        "included"))
                elif not denied:
                    hits = _port_hits(rule, {**ADMIN_PORTS, **DATA_PORTS})
                    admin = [f"{ADMIN_PORTS[p]} (tcp/{p})" for p in sorted(hits)
                             if p in ADMIN_PORTS]
                    data = [f"{DATA_PORTS[p]} (tcp/{p})" for p in sorted(hits) if p in DATA_PORTS]
                    for kind, names in (("administrative", admin), ("database or cache", data)):
                        if names:
                            findings.append(_finding(
                                "error", name, idx, f"{where}: {', '.join(names)}: "
                                f"{kind} port{'s' if len(names) > 1 else ''} open to every "
                                f"IPv{rule.family} address; allow only specific addresses "
                                "(least privilege)"))
            for eidx, e in earlier:
                if covers(lab, e, rule):
                    if e.action == rule.action and e.priority == rule.priority and \
                            e.protocol == rule.protocol and e.ports == rule.ports and \
                            e.remote == rule.remote:
                        findings.append(_finding("warning", name, idx,
                                                 f"{where} duplicates rule {eidx}"))
                    elif e.action != rule.action and e.protocol == rule.protocol and \
                            e.ports == rule.ports and e.remote == rule.remote:
                        findings.append(_finding(
                            "warning", name, idx, f"{where} contradicts rule {eidx} "
                            f"({e.action} wins: it comes first)"))
                    else:
                        findings.append(_finding(
                            "warning", name, idx, f"{where} is shadowed by rule {eidx} "
                            f"({e.text()}): it never decides anything"))
                    break
            earlier.append((idx, rule))
        if name not in used and not group.builtin:
            findings.append(_finding("info", name, None, "no instance or ENI is in this group"))
    findings += _near_limits(lab, profile)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (-order[f["severity"]], f["group"] or "",
                                           f["rule"] if f["rule"] is not None else -1))


def _near_limits(lab: Lab, profile) -> list:
    out, limits = [], profile.limits
    if not limits:
        return out
    for name, g in lab.groups.items():
        key = "private_ips_per_advanced_group" if g.type == "advanced" \
            else "private_ips_per_basic_group"
        n, limit = len(lab.members(name, 4)), limits[key]
        if n >= 0.8 * limit:
            out.append(_finding("warning", name, None, f"holds {n} private IP addresses, "
                                f"{n * 100 // limit}% of the {g.type} group limit ({limit})"))
    for eni in lab.enis:
        n = len(eni.groups)
        if n >= 0.8 * limits["groups_per_eni"]:
            out.append(_finding("warning", eni.groups[-1], None,
                                f"{eni.instance}/{eni.ifname} is in {n} groups (limit "
                                f"{limits['groups_per_eni']})"))
        rules = sum(len(lab.groups[g].rules) for g in eni.groups)
        if rules >= 0.8 * limits["rules_per_eni"]:
            out.append(_finding("warning", eni.groups[0], None,
                                f"{eni.instance}/{eni.ifname}: its groups hold {rules} rules "
                                f"(limit {limits['rules_per_eni']} across one ENI's groups)"))
    return out


def at_or_above(findings: list, severity: str) -> list:
    floor = SEVERITIES.index(severity)
    return [f for f in findings if SEVERITIES.index(f["severity"]) >= floor]


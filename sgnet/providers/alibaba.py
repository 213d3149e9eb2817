"""Alibaba Cloud ECS security groups.

Source: ECS "Security groups" overview (shared/seeds/004_...), and the field notes.
- Basic groups (default type): members reach each other over the internal network; with
  inner access `accept` this intra-group access takes precedence over every custom rule;
  with `drop` it has the lowest precedence (members are isolated unless a custom rule allows
  them). Different basic groups are isolated. Inbound is denied and outbound allowed unless
  a rule says otherwise.
- Advanced groups: members isolated; everything denied, both ways, unless a rule allows it;
  an advanced group cannot be the authorization object (remote) of another group's rule.
- The rules of all the groups on an ENI are merged and sorted by priority (1-100, 1 highest),
  drop first at equal priority; no session is established until an allow rule matches.
- Stateful, sessions last at most 910 s.
"""

from __future__ import annotations

from dataclasses import dataclass

from sgnet.core.readings import value
from sgnet.core.model import Group, Remote, Rule
from .base import DecisionList, Entry, Profile, entry_from_rule, rule_sort_key

ANY4 = Remote("cidr", "0.0.0.0/0")
TCP, ICMP = 6, 1
DEFAULT_GROUP = "default"
LEGACY_PRIORITY = 110  # default group rules created before 2020-05-27

LIMITS = {
    "private_ips_per_basic_group": 2000,      # VPC, basic group (source document)
    "private_ips_per_advanced_group": 65536,  # VPC, advanced group
    "groups_per_eni": 10,
    "rules_per_eni": 1000,                    # across all the groups of one ENI
}


@dataclass(frozen=True)
class AlibabaGroup:
    """An Alibaba group's own fields (its Group.extras), read from the lab file's KEYS."""

    KEYS = ("type", "inner_access", "managed", "created_by", "legacy_priority", "http_https")

    type: str = "basic"  # basic | advanced
    inner_access: str = "accept"  # basic groups: accept | drop (advanced: always drop)
    managed: bool = False  # managed groups: enforced, never changed
    created_by: str = "api"  # console groups start with the console's rules
    legacy_priority: bool = False  # the default group, created before 2020-05-27
    http_https: bool = False  # the default group: ports 80/443 chosen at creation

    @classmethod
    def read(cls, p, g: dict, path: str) -> "AlibabaGroup":
        """The fields of the declaration g, each checked (p: the lab file's field reader)."""
        if "type" in g and g["type"] not in ("basic", "advanced"):
            p.fail(f"{path}.type", "unknown group type", g["type"], "basic, advanced")
        kind = g.get("type", "basic")
        if "inner_access" in g and g["inner_access"] not in ("accept", "drop"):
            p.fail(f"{path}.inner_access", "unknown inner access policy", g["inner_access"],
                   "accept, drop")
        inner = g.get("inner_access", "accept" if kind == "basic" else "drop")
        flags = {key: p.boolean(g[key], f"{path}.{key}")
                 for key in ("managed", "legacy_priority", "http_https") if key in g}
        if "created_by" in g and g["created_by"] not in ("console", "api"):
            p.fail(f"{path}.created_by", "unknown creator", g["created_by"], "console, api")
        return cls(kind, inner, created_by=g.get("created_by", "api"), **flags)


def _tcp_in(port, priority, what):
    return Rule("ingress", "allow", priority, 4, TCP, ((port, port),), ANY4,
                f"{what} from all IPv4 addresses")


def default_group_rules(priority=100, http_https=False):
    """The default group: TCP 22 and 3389 and ICMPv4 from everywhere (80/443 if chosen)."""
    rules = [_tcp_in(22, priority, "SSH"), _tcp_in(3389, priority, "RDP"),
             Rule("ingress", "allow", priority, 4, ICMP, None, ANY4,
                  "ICMPv4 from all IPv4 addresses")]
    if http_https:
        rules += [_tcp_in(80, priority, "HTTP"), _tcp_in(443, priority, "HTTPS")]
    return rules


def console_group_rules(group_type, priority=100):
    """A group created in the ECS console: inbound TCP 80/443/22/3389 and ICMPv4 from all
    addresses; an advanced group also gets outbound allow-all."""
    rules = [_tcp_in(80, priority, "HTTP"), _tcp_in(443, priority, "HTTPS"),
             _tcp_in(22, priority, "SSH"), _tcp_in(3389, priority, "RDP"),
             Rule("ingress", "allow", priority, 4, ICMP, None, ANY4,
                  "ICMPv4 from all IPv4 addresses")]
    if group_type == "advanced":
        rules += [Rule("egress", "allow", priority, 4, None, None, ANY4,
                       "all outbound IPv4 traffic"),
                  Rule("egress", "allow", priority, 6, None, None, Remote("cidr", "::/0"),
                       "all outbound IPv6 traffic")]
    return rules


class AlibabaProfile(Profile):
    def __init__(self):
        super().__init__(name="alibaba", default_group=DEFAULT_GROUP, default_priority=1,
                         default_rules=False, limits=dict(LIMITS),
                         # "The maximum session timeout period for a security group is 910 s."
                         conntrack_timeout=910,
                         # A change of rules or of the groups of an ENI keeps the sessions whose
                         # verdict the change leaves alone and ends the others, both ways.
                         recheck=("ingress", "egress"))

    group_fields = AlibabaGroup
    mixed_prefix_lists = False  # CreatePrefixList: one address family (_check_prefix_lists)

    def builtin_groups(self):
        return [Group(DEFAULT_GROUP, rules=default_group_rules(), builtin=True,
                      description="default security group created by Alibaba Cloud",
                      extras=AlibabaGroup())]

    def wants_default_rules(self, group, declared):
        if declared is not None:
            return declared
        return group.builtin or group.extras.created_by == "console"

    def new_group_rules(self, group):
        if group.builtin and group.name == DEFAULT_GROUP:
            return default_group_rules(LEGACY_PRIORITY if group.extras.legacy_priority
                                       else 100, group.extras.http_https)
        return console_group_rules(group.extras.type)

    def managed(self, group):
        return group.extras.managed

    def group_tags(self, group):
        kind = group.extras.type
        return [kind + (f", inner access {group.extras.inner_access}" if kind == "basic" else "")]

    def private_ip_limit(self, group):
        kind = group.extras.type
        return f"{kind} group", self.limits[f"private_ips_per_{kind}_group"]

    def decision_list(self, lab, eni, direction):
        groups = [lab.groups[g] for g in eni.groups]
        inner_accept, inner_drop = [], []
        for g in groups:
            if g.extras.type == "basic":
                target = inner_accept if g.extras.inner_access == "accept" else inner_drop
                target += [Entry("allow" if target is inner_accept else "deny", fam, None,
                                 None, Remote("group", g.name), g.name, None,
                                 f"{g.name}: basic group, inner access {g.extras.inner_access}: "
                                 f"members {'reach' if target is inner_accept else 'do not reach'}"
                                 " each other")
                           for fam in (4, 6)]
        merged = []
        for gi, g in enumerate(groups):
            for i, r in enumerate(g.rules):
                if r.direction == direction:
                    merged.append((gi, i, r))
        merged.sort(key=lambda t: (rule_sort_key((t[1], t[2]))[:2], t[0], t[1]))
        entries = inner_accept + [entry_from_rule(groups[gi], i, r) for gi, i, r in merged]
        names = ", ".join(eni.groups)
        if direction == "ingress":
            # Inner access drop has the lowest precedence: only custom rules may let members in.
            entries += inner_drop
            return DecisionList(entries, "deny", f"no inbound rule of {names} allowed it: "
                                "inbound is denied by default")
        entries = smtp_restriction(lab, eni) + entries  # before every group's rule
        if all(g.extras.type == "basic" for g in groups):
            return DecisionList(entries, "allow", f"no outbound rule of {names} matched: "
                                "basic groups allow outbound by default")
        return DecisionList(entries, "deny", f"no outbound rule of {names} allowed it: "
                            "advanced groups deny outbound by default")

    def validate(self, lab, raw, fail):
        declared = {g.get("name"): i for i, g in enumerate(raw.get("security_groups") or [])
                    if isinstance(g, dict)}

        def gpath(name, key):
            return f"security_groups[{declared[name]}].{key}"

        for name, g in lab.groups.items():
            if g.extras.type == "advanced":
                if g.builtin:
                    fail(gpath(name, "type"), "the default group is a basic group", "advanced")
                if g.extras.inner_access != "drop" and "inner_access" in \
                        (raw["security_groups"][declared[name]]):
                    fail(gpath(name, "inner_access"), "an advanced group isolates its "
                         "members; its inner access cannot be changed", g.extras.inner_access,
                         "drop")
            _check_group_remotes(lab, raw, declared, name, fail)
            raw_g = raw["security_groups"][declared[name]] if name in declared else {}
            if not g.builtin and ("legacy_priority" in raw_g or "http_https" in raw_g):
                key = "legacy_priority" if "legacy_priority" in raw_g else "http_https"
                fail(gpath(name, key), f"'{key}' applies to the default group only", raw_g[key])
            if g.builtin and "created_by" in raw_g:
                fail(gpath(name, "created_by"), "the default group is created by Alibaba "
                     "Cloud itself", raw_g["created_by"])
        _check_prefix_lists(lab, raw, fail)
        for inst in lab.instances:
            ii = inst.index  # its place in the file's instances (a search made this quadratic)
            for eni in inst.enis:
                path = f"instances[{ii}]" + ("" if eni.index == 0 else
                                             f".secondary_enis[{eni.index - 1}]")
                types = {lab.groups[g].extras.type for g in eni.groups}
                if len(types) > 1:
                    fail(f"{path}.security_groups", "an instance or ENI cannot be in a basic "
                         "and an advanced group at the same time", eni.groups)
                if len(eni.groups) > LIMITS["groups_per_eni"]:
                    fail(f"{path}.security_groups", "too many groups on one ENI",
                         len(eni.groups), f"at most {LIMITS['groups_per_eni']}")
                n = sum(len(lab.groups[g].rules) for g in eni.groups)
                if n > LIMITS["rules_per_eni"]:
                    fail(f"{path}.security_groups", f"the groups of this ENI hold {n} rules",
                         n, f"at most {LIMITS['rules_per_eni']} across one ENI's groups")
        private = dict.fromkeys(lab.groups, 0)  # len(lab.members(name, 4)), in one pass
        for eni in lab.enis:
            for name in set(eni.groups):
                private[name] += 1 + (int(eni.secondary[1]) - int(eni.secondary[0]) + 1
                                      if eni.secondary else 0)
        for name, g in lab.groups.items():
            n, kind = private[name], g.extras.type
            limit = LIMITS["private_ips_per_advanced_group" if kind == "advanced"
                           else "private_ips_per_basic_group"]
            if n > limit:
                fail(gpath(name, "name") if name in declared else "instances",
                     f"{kind} group {name} holds {n} private IP addresses", n,
                     f"at most {limit} in a {kind} group")


def _declared_rules(raw, declared, name):
    return raw["security_groups"][declared[name]].get("rules") or []


def _check_group_remotes(lab, raw, declared, name, fail):
    """The group remotes of group `name`'s rules. An advanced group's rules reference no
    group at all, itself included ("You cannot reference security groups as sources or
    destinations in the rules of advanced security groups", AuthorizeSecurityGroup,
    https://www.alibabacloud.com/help/en/ecs/api-authorizesecuritygroup; "Rules cannot use a
    security group as the authorization object. An advanced security group also cannot serve
    as an authorization object in other groups' rules", ECS "Basic and advanced security
    groups", https://www.alibabacloud.com/help/en/ecs/user-guide/
    basic-security-groups-and-advanced-security-groups), and no group's rule references
    another, advanced, group."""
    g = lab.groups[name]
    file_rules = _declared_rules(raw, declared, name) if name in declared else []
    first = len(g.rules) - len(file_rules)  # the provider's own rules come first
    for i, r in enumerate(g.rules):
        if r.remote.kind != "group":
            continue
        path = f"security_groups[{declared.get(name)}].rules[{i - first}].remote_group"
        shown = file_rules[i - first].get("remote_group", r.remote.value) if i >= first \
            else r.remote.value
        if g.extras.type == "advanced":
            fail(path, "the rules of an advanced group cannot reference a security group "
                 "(itself included)", shown, "a CIDR block or a prefix list")
        if r.remote.value != name and lab.groups[r.remote.value].extras.type == "advanced":
            fail(path, "an advanced group cannot be the remote (authorization object) of "
                 "another group's rule", shown, "a basic group, a CIDR or a prefix list")


def _check_prefix_lists(lab, raw, fail):
    """Each prefix list holds one address family: "You cannot combine IPv4 and IPv6 CIDR
    blocks in a single prefix list" (CreatePrefixList, whose AddressFamily is IPv4 or IPv6,
    https://www.alibabacloud.com/help/en/ecs/developer-reference/
    api-ecs-2014-05-26-createprefixlist)."""
    for i, pl in enumerate(lab.prefix_lists.values()):  # the file's order
        families = [net.version for net in pl.entries]
        for j, fam in enumerate(families):
            if fam != families[0]:
                fail(f"prefix_lists[{i}].entries[{j}]", "an Alibaba prefix list holds one "
                     f"address family; {pl.name} starts with IPv{families[0]} (entries[0])",
                     raw["prefix_lists"][i]["entries"][j], f"IPv{families[0]} CIDR blocks "
                     f"only (the IPv{fam} ones in a prefix list of their own)")


def smtp_restriction(lab, eni) -> list:
    """Outbound TCP 25 to outside the VPC, dropped by the cloud whatever the groups say,
    under the reading alibaba_tcp25_outbound: blocked (the default; sgnet.core.readings:
    "TCP port 25 is restricted by default for security reasons", ECS "Security group
    rules", https://www.alibabacloud.com/help/en/ecs/user-guide/security-group-rules).
    Outside the VPC, a lab has its external hosts only: one entry per external address."""
    if value(lab, "alibaba_tcp25_outbound") != "blocked":
        return []
    why = ("Alibaba Cloud restricts outbound TCP 25 by default (setting "
           "alibaba_tcp25_outbound: blocked): dropped whatever the groups say")
    return [Entry("deny", a.version, TCP, ((25, 25),), Remote("cidr", f"{a}/{a.max_prefixlen}"),
                  None, None, why)
            for x in lab.externals for a in (x.ip, x.ipv6) if a is not None]

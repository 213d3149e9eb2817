"""Huawei Cloud ECS security groups.

Source: ECS user guide, "Default Security Groups and Rules" (shared/seeds/000_...), and the
field notes: the groups of an instance are evaluated one after another in attachment order,
each by priority (1-100, 1 highest) with deny before allow at equal priority; the first
matching rule decides and nothing matched means deny.

The rules the cloud creates itself (the `default` group's, a new group's, Sys-WebServer's and
Sys-FullAccess's) carry priority 100, the lowest, while a rule a user adds without a priority
gets 1: the VPC v3 API's response examples (CreateSecurityGroup, ShowSecurityGroup,
UpdateSecurityGroup) give the created group's rules `"action": "allow", "priority": 100`:
CreateSecurityGroup, POST /v3/{project_id}/vpc/security-groups
(https://support.huaweicloud.com/intl/en-us/api-vpc/vpc_apiv3_0010.html; its response
example: https://huaweicloud.com/guide/productsdesc-bms_11ec3840ed761bdb9315d86dee88cb9esupport1),
and ShowSecurityGroup's example, kept in tests/exports/semantics/. So a user's deny at
priority 1-99 in the same group overrides them.
"""

from __future__ import annotations

from sgnet.core.readings import value
from sgnet.core.model import Group, Remote, Rule
from .base import DecisionList, Profile, entry_from_rule, rule_sort_key

ANY4 = Remote("cidr", "0.0.0.0/0")
ANY6 = Remote("cidr", "::/0")
TCP = 6
ICMP = 1
CREATED_PRIORITY = 100  # the rules Huawei Cloud creates (VPC API v3 examples, see above)


def _in(family, protocol=None, ports=None, remote=None, description=""):
    return Rule("ingress", "allow", CREATED_PRIORITY, family, protocol, ports, remote,
                description)


def _out(family, remote, description=""):
    return Rule("egress", "allow", CREATED_PRIORITY, family, None, None, remote, description)


def _self(name):
    return Remote("group", name)


def _outbound_all():
    return [
        _out(4, ANY4, "Allows all traffic to any IPv4 address over any port."),
        _out(6, ANY6, "Allows all traffic to any IPv6 address over any port."),
    ]


def default_group_rules(name="default"):
    """Table 1: members talk to each other (IPv4, IPv6), everything outbound is allowed."""
    return [
        _in(4, remote=_self(name), description="Allows IPv4 instances in the security group to "
            "communicate with each other using any protocol over any port."),
        _in(6, remote=_self(name), description="Allows IPv6 instances in the security group to "
            "communicate with each other using any protocol over any port."),
    ] + _outbound_all()


def webserver_rules(name="Sys-WebServer"):
    """Table 2, in the document's order."""
    return [
        _in(4, ICMP, None, ANY4, "Allows the use of the ping command over IPv4."),
        _in(4, None, None, _self(name), "Allows instances in the security group to communicate "
            "with each other over IPv4 protocols."),
        _in(4, TCP, ((443, 443),), ANY4, "HTTPS from all IPv4 addresses."),
        _in(4, TCP, ((80, 80),), ANY4, "HTTP from all IPv4 addresses."),
        _in(4, TCP, ((22, 22),), ANY4, "SSH from all IPv4 addresses."),
        _in(4, TCP, ((3389, 3389),), ANY4, "RDP from all IPv4 addresses."),
        _in(6, None, None, _self(name), "Allows instances in the security group to communicate "
            "with each other over IPv6 protocols."),
    ] + _outbound_all()


def fullaccess_rules(name="Sys-FullAccess"):
    """Table 3, in the document's order."""
    return [
        _in(4, None, None, _self(name), "Members communicate with each other over IPv4."),
        _in(6, None, None, _self(name), "Members communicate with each other over IPv6."),
        _in(4, None, None, ANY4, "Allows all inbound IPv4 packets."),
        _in(6, None, None, ANY6, "Allows all inbound IPv6 packets."),
    ] + _outbound_all()


BUILTIN_RULES = {
    "default": default_group_rules,
    "Sys-WebServer": webserver_rules,
    "Sys-FullAccess": fullaccess_rules,
}


class HuaweiProfile(Profile):
    def __init__(self):
        super().__init__(name="huawei", default_group="default", default_priority=1,
                         default_rules=True,
                         limits={},
                         # Changed inbound rules or membership: the inbound sessions are
                         # re-checked; outbound persistent connections keep their verdict.
                         recheck=("ingress",))

    def builtin_groups(self):
        return [Group(name, rules=make(name), builtin=True,
                      description="created by Huawei Cloud")
                for name, make in BUILTIN_RULES.items()]

    def new_group_rules(self, group):
        if group.name in BUILTIN_RULES:
            return BUILTIN_RULES[group.name](group.name)
        # A new custom group: inbound from itself (IPv4, IPv6), outbound allow-all.
        return default_group_rules(group.name)

    def decision_list(self, lab, eni, direction):
        """The pages read two ways (sgnet.core.readings, setting huawei_group_order):
        sequential (the default), group by group in association order, each by priority
        with deny before allow; aggregated, every rule of the ENI's groups together by
        priority, deny before allow, association order only breaking ties."""
        aggregated = value(lab, "huawei_group_order") == "aggregated"
        items = []
        for gi, gname in enumerate(eni.groups):  # attachment order
            group = lab.groups[gname]
            for i, r in enumerate(group.rules):
                if r.direction == direction:
                    prio, deny, _ = rule_sort_key((i, r))
                    key = (prio, deny, gi, i) if aggregated else (gi, prio, deny, i)
                    items.append((key, group, i, r))
        items.sort(key=lambda t: t[0])
        entries = [entry_from_rule(group, i, r) for _, group, i, r in items]
        return DecisionList(entries, "deny", f"no {direction} rule of "
                            f"{', '.join(eni.groups)} matched: denied")

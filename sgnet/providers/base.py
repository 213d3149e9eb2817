"""What a provider profile is (core: pure): data (its own groups, defaults, limits, its own
fields of a group) plus the few rules that turn an ENI's groups into one ordered decision
list per direction. A provider is one module of sgnet/providers and one line of its
__init__.py's PROFILES.

The evaluator walks that list to say what should happen; the compiler emits the same list
as nftables rules. Keeping one list for both is what makes them agree by construction, and
the differential tests check the rest (matching, sets, the kernel).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from sgnet.core.model import Group, Lab, Remote, Rule, Eni


@dataclass(frozen=True)
class Entry:
    """One line of an ENI's decision list: a match, a verdict and where it came from."""

    action: str  # allow | deny
    family: int
    protocol: Optional[int]
    ports: Optional[tuple]
    remote: Remote
    group: Optional[str]  # deciding group (None for the provider's implicit behaviour)
    rule: Optional[int]  # index of the rule in its group's rule list (None if implicit)
    why: str


@dataclass
class DecisionList:
    entries: list
    default: str  # verdict when nothing matches: allow | deny
    default_why: str


def entry_from_rule(group: Group, index: int, rule: Rule) -> Entry:
    return Entry(rule.action, rule.family, rule.protocol, rule.ports, rule.remote,
                 group.name, index, f"{group.name} rule {index}: {rule.text()}"
                 + (f" ({rule.description})" if rule.description else ""))


def rule_sort_key(item):
    """Priority first (1 is highest), deny before allow at equal priority, then file order."""
    index, rule = item
    return (rule.priority, 0 if rule.action == "deny" else 1, index)


@dataclass
class Profile:
    name: str
    default_group: str
    default_priority: int
    default_rules: bool  # does a declared group start from the API's default rules?
    limits: dict = field(default_factory=dict)
    # Idle timeout of an established session, seconds (None: the kernel's defaults).
    conntrack_timeout: Optional[int] = None
    # What a change does to tracked sessions: they are re-checked against the new rules in
    # these directions (a session the new rules deny is cut; others are kept).
    recheck: tuple = ("ingress", "egress")
    # The provider's own fields of a group: a frozen dataclass with KEYS (the lab file's keys
    # it reads) and read(reader, declaration, path) -> an instance, checking their values
    # with the lab file's field reader (sgnet.core.labspec.FieldReader). It becomes
    # Group.extras. None: the provider's groups have no fields of their own.
    group_fields = None
    # May one prefix list hold IPv4 and IPv6 entries together? (Alibaba: no; its validate
    # refuses a mixed one, and an importer keeps one family's entries and warns of the rest.)
    mixed_prefix_lists = True

    def builtin_groups(self) -> list:
        """Groups the provider creates by itself, with their documented rules."""
        raise NotImplementedError

    def wants_default_rules(self, group: Group, declared) -> bool:
        """Does this group start from the provider's default rules? `declared` is the
        file's `default_rules` (None when not given)."""
        return self.default_rules if declared is None else declared

    def new_group_rules(self, group: Group) -> list:
        """The rules the provider's API gives a newly created group of this kind."""
        raise NotImplementedError

    def decision_list(self, lab: Lab, eni: Eni, direction: str) -> DecisionList:
        raise NotImplementedError

    def managed(self, group: Group) -> bool:
        """Is the group enforced but managed by a cloud service (never changed by a user)?"""
        return False

    def group_tags(self, group: Group) -> list:
        """Words that tell the group's own fields apart (the report shows them): none."""
        return []

    def private_ip_limit(self, group: Group):
        """(what the limit is called, how many private addresses the group may hold), or
        None where the provider documents no such limit (lint warns near it)."""
        return None

    def validate(self, lab: Lab, raw: dict, fail) -> None:
        """Provider-specific checks on a parsed lab; `fail(path, problem, value)` raises."""

"""Live changes as edits of the lab file (pure): rule add/delete, attach/detach.

Each function takes the running lab's file as a dict and its model, and returns the edited
dict; the caller validates the result with the same parser as `up` (a change that would be
refused in a file is refused live, with exit 2 and nothing changed) and applies it.
"""

from __future__ import annotations

import copy

from .errors import LabError
from .labfile import ACTIONS, DIRECTIONS, _Parser, parse_ports, parse_protocol
from .model import Lab, Remote, Rule

RULE_FIELDS = ("direction", "action", "priority", "ethertype", "protocol", "ports", "remote",
               "remote_group", "remote_prefix_list", "description")


def _group_decl(raw: dict, lab: Lab, group: str) -> dict:
    """The file's declaration of `group`, added if the group is one the provider made."""
    if group not in lab.groups:
        raise LabError(f"no security group {group!r} in lab {lab.name} "
                       f"(groups: {', '.join(lab.groups)})")
    if lab.groups[group].managed:
        raise LabError(f"security group {group!r} is a managed group: it is enforced, but a "
                       "cloud service manages it and it cannot be changed")
    decls = raw.setdefault("security_groups", None) or []
    raw["security_groups"] = decls
    for d in decls:
        if d.get("name") == group:
            return d
    d = {"name": group}
    decls.append(d)
    return d


def rule_add(raw: dict, lab: Lab, group: str, fields: dict) -> dict:
    raw = copy.deepcopy(raw)
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise LabError(f"unknown rule field(s): {', '.join(sorted(unknown))}")
    d = _group_decl(raw, lab, group)
    d["rules"] = list(d.get("rules") or []) + [dict(fields)]
    return raw


def _matches(rule: Rule, fields: dict, group: str, lab: Lab) -> bool:
    """Does `rule` agree with every field the user gave?"""
    p = _Parser("(command line)")
    f = fields
    if "direction" in f and DIRECTIONS.get(str(f["direction"]).lower()) != rule.direction:
        return False
    if "action" in f and ACTIONS.get(str(f["action"]).lower()) != rule.action:
        return False
    if "priority" in f and int(f["priority"]) != rule.priority:
        return False
    if "ethertype" in f and str(f["ethertype"]).lower() != f"ipv{rule.family}":
        return False
    if "protocol" in f and parse_protocol(p, f["protocol"], "protocol") != rule.protocol:
        return False
    if "ports" in f and parse_ports(p, f["ports"], "ports") != rule.ports:
        return False
    if "remote" in f:
        import ipaddress
        try:
            net = ipaddress.ip_network(str(f["remote"]), strict=False)
        except ValueError:
            raise LabError(f"--remote: not an IP address or CIDR: {f['remote']!r}") from None
        if rule.remote != Remote("cidr", str(net)):
            return False
    if "remote_group" in f:
        target = group if f["remote_group"] == "self" else f["remote_group"]
        if rule.remote != Remote("group", target):
            return False
    if "remote_prefix_list" in f and rule.remote != Remote("prefix_list",
                                                          f["remote_prefix_list"]):
        return False
    if "description" in f and f["description"] != rule.description:
        return False
    return True


def rule_delete(raw: dict, lab: Lab, group: str, fields: dict):
    """Remove the one rule of `group` that agrees with every given field; returns the new
    file and the index of the removed rule."""
    raw = copy.deepcopy(raw)
    if not fields:
        raise LabError("rule delete: give the fields of the rule to delete (--direction, ...)")
    d = _group_decl(raw, lab, group)
    rules = lab.groups[group].rules
    hits = [i for i, r in enumerate(rules) if _matches(r, fields, group, lab)]
    if not hits:
        raise LabError(f"rule delete: no rule of {group} is equal to those fields")
    if len(hits) > 1:
        raise LabError(f"rule delete: {len(hits)} rules of {group} match (rules "
                       f"{', '.join(map(str, hits))}): give more fields")
    index = hits[0]
    declared = list(d.get("rules") or [])
    n_defaults = len(rules) - len(declared)
    if index >= n_defaults:
        del declared[index - n_defaults]
        d["rules"] = declared
    else:
        # One of the provider's default rules: the group no longer starts from the defaults,
        # it lists what remains explicitly (same order, same indices after the removed one).
        kept = [r.to_dict() for i, r in enumerate(rules[:n_defaults]) if i != index]
        d["default_rules"] = False
        d["rules"] = kept + declared
    return raw, index


def _group_list(raw: dict, lab: Lab, instance: str, eni: int):
    inst = lab.instance(instance)
    if inst is None:
        raise LabError(f"no instance {instance!r} in lab {lab.name}")
    if not 0 <= eni < len(inst.enis):
        raise LabError(f"instance {instance} has no ENI {eni} (it has {len(inst.enis)})")
    decl = next(x for x in raw["instances"] if x.get("name") == instance)
    if eni > 0:
        decl = decl["secondary_enis"][eni - 1]
    decl["security_groups"] = list(inst.enis[eni].groups)
    return decl["security_groups"]


def _check_group(lab: Lab, group: str):
    if group not in lab.groups:
        raise LabError(f"no security group {group!r} in lab {lab.name} "
                       f"(groups: {', '.join(lab.groups)})")
    if lab.groups[group].managed:
        raise LabError(f"security group {group!r} is a managed group: it cannot be changed")


def attach(raw: dict, lab: Lab, instance: str, group: str, eni: int = 0) -> dict:
    raw = copy.deepcopy(raw)
    _check_group(lab, group)
    groups = _group_list(raw, lab, instance, eni)
    if group in groups:
        raise LabError(f"{instance} (ENI {eni}) is already in {group}")
    groups.append(group)
    return raw


def detach(raw: dict, lab: Lab, instance: str, group: str, eni: int = 0) -> dict:
    raw = copy.deepcopy(raw)
    _check_group(lab, group)
    groups = _group_list(raw, lab, instance, eni)
    if group not in groups:
        raise LabError(f"{instance} (ENI {eni}) is not in {group}")
    if len(groups) == 1:
        raise LabError(f"{instance} (ENI {eni}) must stay in at least one security group: "
                       f"attach another before detaching {group}")
    groups.remove(group)
    return raw

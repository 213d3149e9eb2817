"""Live changes as edits of the lab file (pure): rule add/delete, attach/detach.

Each function takes the running lab's file as a dict and its model, and returns the edited
dict; the caller validates the result with the same parser as `up` (a change that would be
refused in a file is refused live, with exit 2 and nothing changed) and applies it. A rule's
fields are checked first, by the lab file's rule parser, and a refusal names what the user
typed (--priority, INSTANCE), never a path in the file (security_groups[1].rules[7]).
"""

from __future__ import annotations

import copy

from sgnet.core.errors import _NO_VALUE, FieldError, LabError
from sgnet.core.errors import short as shown
from sgnet.core.labspec import RULE_FIELDS, FieldReader, parse_rule
from sgnet.core.model import Lab, Rule
from sgnet.providers import get_profile

FLAGS = {k: "--" + k.replace("_", "-") for k in RULE_FIELDS}  # as `sgnet rule` spells them
# what each field is compared on when a rule to delete is looked for
_ATTRIBUTE = dict({k: k for k in RULE_FIELDS}, ethertype="family", remote_group="remote",
                  remote_prefix_list="remote")
_RULE = "rule"  # the path a rule from flags is parsed under, then named by its flags


def _names(names, most: int = 10) -> str:
    names = list(names)
    more = f", ... ({len(names)} in all)" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def in_words(e: LabError, places) -> str:
    """A refusal in the words of the command (--priority, group web, instance vm1), not a
    path inside a file the user never wrote (security_groups[1].rules[7].priority).
    places: [(path prefix, words)], most specific first; other errors are kept as they are."""
    if not isinstance(e, FieldError):
        return str(e)
    for prefix, words in places:
        if e.path == prefix or e.path.startswith((prefix + ".", prefix + "[")):
            rest = e.path[len(prefix):].lstrip(".")
            where = f"{words}: {rest}" if rest and not words.startswith("--") else words
            got = "" if e.value is _NO_VALUE else f" (got {shown(e.value)})"
            allowed = f"; allowed: {e.allowed}" if e.allowed else ""
            return f"{where}: {e.problem}{got}{allowed}"
    return str(e)


def _rule_places(prefix: str, words: str) -> list:
    return [(f"{prefix}.{k}", FLAGS[k]) for k in RULE_FIELDS] + [(prefix, words)]


def rule_from_flags(lab: Lab, group: str, fields: dict) -> Rule:
    """The rule these fields describe, checked by the lab file's own rule parser; a bad value
    is refused naming its flag."""
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise LabError(f"unknown rule field(s): {_names(map(shown, sorted(map(str, unknown))))}"
                       f"; known: {', '.join(RULE_FIELDS)}")
    try:
        return parse_rule(FieldReader("command line"), dict(fields), _RULE, group, lab.groups,
                          lab.prefix_lists, get_profile(lab.provider))
    except FieldError as e:
        raise LabError(in_words(e, _rule_places(_RULE, "the rule's flags"))) from None


def places(raw: dict, group: str = None, instance: str = None, eni: int = 0,
           added: bool = False) -> list:
    """Where, in the edited file `raw`, a change put what the user named: the group (and,
    `added`, its new last rule), the instance's ENI. For in_words."""
    out = []
    decls = raw.get("security_groups") or []
    gi = next((i for i, d in enumerate(decls) if isinstance(d, dict) and d.get("name") == group),
              None) if group is not None else None
    if gi is not None:
        if added and decls[gi].get("rules"):
            out += _rule_places(f"security_groups[{gi}].rules[{len(decls[gi]['rules']) - 1}]",
                                "the new rule")
        out.append((f"security_groups[{gi}]", f"group {group}"))
    insts = raw.get("instances") or []
    ii = next((i for i, d in enumerate(insts) if isinstance(d, dict) and
               d.get("name") == instance), None) if instance is not None else None
    if ii is not None:
        path = f"instances[{ii}]" + (f".secondary_enis[{eni - 1}]" if eni else "")
        out.append((path, f"instance {instance}" + (f" ENI {eni}" if eni else "")))
    return out


def _check_group(lab: Lab, group: str):
    if group not in lab.groups:
        raise LabError(f"GROUP {shown(group)}: no such security group in lab {lab.name} "
                       f"(groups: {_names(lab.groups)})")
    if get_profile(lab.provider).managed(lab.groups[group]):
        raise LabError(f"security group {group!r} is a managed group: it is enforced, but a "
                       "cloud service manages it and it cannot be changed")


def _group_decl(raw: dict, lab: Lab, group: str) -> dict:
    """The file's declaration of `group`, added if the group is one the provider made."""
    _check_group(lab, group)
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
    _check_group(lab, group)
    rule = rule_from_flags(lab, group, fields)  # each value checked, and named as typed
    fields = dict(fields)
    if "priority" in fields:  # a number in the file, however it was typed
        fields["priority"] = rule.priority
    d = _group_decl(raw, lab, group)
    d["rules"] = list(d.get("rules") or []) + [fields]
    return raw


def rule_delete(raw: dict, lab: Lab, group: str, fields: dict):
    """Remove the one rule of `group` that agrees with every given field; returns the new
    file and the index of the removed rule."""
    raw = copy.deepcopy(raw)
    if not fields:
        raise LabError("rule delete: give the fields of the rule to delete (--direction, ...)")
    _check_group(lab, group)
    # The given fields, checked and normalised by the rule parser: what they leave out is
    # filled in only to make a whole rule, and never compared.
    whole = dict(fields)
    whole.setdefault("direction", "ingress")
    whole.setdefault("action", "allow")
    if "ports" in fields and "protocol" not in fields:
        whole["protocol"] = "tcp"
    want = rule_from_flags(lab, group, whole)
    d = _group_decl(raw, lab, group)
    rules = lab.groups[group].rules
    hits = [i for i, r in enumerate(rules)
            if all(getattr(r, _ATTRIBUTE[k]) == getattr(want, _ATTRIBUTE[k]) for k in fields)]
    if not hits:
        raise LabError(f"rule delete: no rule of {group} is equal to those fields")
    if len(hits) > 1:
        raise LabError(f"rule delete: {len(hits)} rules of {group} match (rules "
                       f"{_names(map(str, hits))}): give more fields")
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
        raise LabError(f"INSTANCE {shown(instance)}: no such instance in lab {lab.name}")
    if isinstance(eni, bool) or not isinstance(eni, int) or not 0 <= eni < len(inst.enis):
        raise LabError(f"--eni {shown(eni)}: instance {instance} has no such ENI (it has "
                       f"{len(inst.enis)}: 0 is the primary)")
    decl = next(x for x in raw["instances"] if x.get("name") == instance)
    if eni > 0:
        decl = decl["secondary_enis"][eni - 1]
    decl["security_groups"] = list(inst.enis[eni].groups)
    return decl["security_groups"]


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

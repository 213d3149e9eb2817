"""What a live change does to a running lab, decided without the kernel (core: pure).

plan(old, new) -> instance -> the nftables transaction bringing its namespace from the
old lab's rules to the new one's (sgnet.core.compiler's rulesets, diffed; or, for an
instance that only sees a group's members come and go, set elements added and deleted).
sessions_to_cut(evaluator, instance, entries) -> the tracked sessions a change ends, in the
directions the provider re-checks. The session applies both through the lab's drivers.
"""

from __future__ import annotations

from ipaddress import ip_address

from sgnet.core.compiler import Compiler, diff_rulesets, set_name
from sgnet.core.model import Lab
from sgnet.providers import get_profile


def _definition(g):
    return (g.rules, g.extras)


def _changed_groups(old: Lab, new: Lab) -> set:
    """Groups added, removed, or whose definition changed."""
    return {n for n in set(old.groups) | set(new.groups)
            if n not in old.groups or n not in new.groups
            or _definition(old.groups[n]) != _definition(new.groups[n])}


def _moved_enis(old: Lab, new: Lab) -> dict:
    """(instance, ENI index) -> (groups before, groups after), for ENIs whose groups changed."""
    moved = {}
    for inst in new.instances:
        for eni in inst.enis:
            before = old.instance(inst.name).enis[eni.index].groups
            if before != eni.groups:
                moved[(inst.name, eni.index)] = (set(before), set(eni.groups))
    return moved


def _member_deltas(new: Lab, moved: dict) -> dict:
    """(group, family) -> {"add": [addresses], "delete": [addresses]}: how each group's
    member sets change when ENIs join or leave it."""
    delta = {}
    for (iname, idx), (before, after) in moved.items():
        eni = new.instance(iname).enis[idx]
        for fam in (4, 6):
            addrs = [str(a) for a in eni.addresses(fam)]
            for g, op in [(g, "add") for g in after - before] + \
                    [(g, "delete") for g in before - after]:
                if addrs:
                    delta.setdefault((g, fam), {"add": [], "delete": []})[op] += addrs
    return delta


def _set_updates(new: Lab, inst, delta: dict) -> list:
    """The element commands updating the member sets `inst`'s rules reference."""
    profile = get_profile(new.provider)
    refs = {(e.remote.value, e.family) for eni in inst.enis for d in ("ingress", "egress")
            for e in profile.decision_list(new, eni, d).entries if e.remote.kind == "group"}
    cmds = []
    for (g, fam) in sorted(refs & set(delta)):
        for op in ("delete", "add"):
            if delta[(g, fam)][op]:
                cmds.append({op: {"element": {
                    "family": "inet", "table": new.name,
                    "name": set_name("g", g, fam), "elem": delta[(g, fam)][op]}}})
    return cmds


def plan(old: Lab, new: Lab) -> dict:
    """instance name -> the nftables transaction that brings it from `old` to `new`.

    Instances with an ENI in a group whose definition changed, or whose own groups
    changed, are recompiled and diffed. Every other instance can only see member
    addresses come and go in the sets of the groups it references: those elements are
    added or deleted directly, at a cost that does not grow with the groups' size."""
    changed, moved = _changed_groups(old, new), _moved_enis(old, new)
    full = {i.name for i in new.instances
            if any(set(e.groups) & changed or (i.name, e.index) in moved for e in i.enis)}
    out = {}
    old_c, new_c = Compiler(old), Compiler(new)
    for inst in new.instances:
        if inst.name in full:
            before = old_c.compile_instance(old.instance(inst.name))
            after = new_c.compile_instance(inst)
            if before != after:
                out[inst.name] = diff_rulesets(before, after, new.name)
    delta = _member_deltas(new, moved)
    if delta:
        for inst in new.instances:
            if inst.name not in full:
                cmds = _set_updates(new, inst, delta)
                if cmds:
                    out[inst.name] = {"nftables": cmds}
    return out


def sessions_to_cut(evaluator, inst, entries) -> list:
    """The tracked sessions of instance `inst` (conntrack entries: src, dst, family,
    protocol, dport) that the current rules (`evaluator`'s lab) deny, judged in the
    directions the provider re-checks; the others are kept. A session cut is deleted: its
    next packet is not a new connection, so it is dropped."""
    return [e for e, _ in cuts_with_rules(evaluator, inst, entries)]


def cuts_with_rules(evaluator, inst, entries) -> list:
    """sessions_to_cut, each with the rule that now denies it: [(entry, Decision)]."""
    directions = evaluator.profile.recheck
    doomed = []
    for e in entries:
        src, dst = ip_address(e.src), ip_address(e.dst)
        to_me = next((eni for eni in inst.enis if eni.owns(dst)), None)
        from_me = next((eni for eni in inst.enis if eni.owns(src)), None)
        if to_me and "ingress" in directions:
            d = evaluator.judge(to_me, "ingress", e.family, e.protocol, e.dport, src)
        elif from_me and "egress" in directions:
            d = evaluator.judge(from_me, "egress", e.family, e.protocol, e.dport, dst)
        else:
            continue
        if d.verdict == "deny":
            doomed.append((e, d))
    return doomed


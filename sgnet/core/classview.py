"""Classes as the user reads them (core: pure): a class's record (diff, explain, verify), what
the model says its representative packet does, and whether the kernel confirmed it.

A record names the class's ENI (`instance`, `eni`) and its other end as the lab's hosts
inside it and its CIDRs: for traffic coming in, `src` is that list and `dst` the
instance; going out, the other way round. Ports are ranges as text ("1000-2000",
"6379"); `protocol` "other" is every protocol number the lab's rules do not name.
"""

from __future__ import annotations

import ipaddress
from typing import Optional

from sgnet.core import headerspace as hs
from sgnet.core.evaluator import Decision
from sgnet.core.flows import rule_key
from sgnet.core.values import protocol_name

EXCEPT_MAX = 8  # a class that is the whole space but a few CIDRs is said so


def remote_fields(analysis, cls) -> dict:
    """The class's other end: hosts, CIDRs and, where shorter, the whole space except a few."""
    cidrs = hs.cidrs(cls.ranges, cls.family)
    # the instance itself is no other end: its packets to itself never cross its ENI
    hosts = [h for h in analysis.hosts_in(cls.ranges, cls.family) if h != cls.instance]
    out = {"hosts": hosts, "cidrs": cidrs}
    rest = hs.complement(cls.ranges, cls.family)
    rest_cidrs = hs.cidrs(rest, cls.family)
    if rest and len(rest_cidrs) <= EXCEPT_MAX and len(rest_cidrs) < len(cidrs):
        out["all_except"] = rest_cidrs
    return out


def remote_text(remote: dict, family: int) -> str:
    """The other end in a line: 'any except 10.0.1.5/32', '203.0.113.0/24 (internet)'."""
    if "all_except" in remote:
        text = ("any" if family == 4 else "any IPv6") + " except " + \
            ", ".join(remote["all_except"])
    elif remote["cidrs"] in (["0.0.0.0/0"], ["::/0"]):
        text = "any"
    else:
        cidrs = remote["cidrs"]
        text = ", ".join(cidrs[:6]) + (f" (+{len(cidrs) - 6} more)" if len(cidrs) > 6 else "")
    hosts = remote["hosts"]
    if hosts:
        text += " (" + ", ".join(hosts[:6]) + (f", +{len(hosts) - 6}" if len(hosts) > 6
                                               else "") + ")"
    return text


def _decided(cls, d) -> dict:
    return d.to_dict(cls.decided_at or cls.direction)


def record(analysis, cls, decisions_named=("verdict",)) -> dict:
    """A class as a record: its ends, traffic, and each decision (the last: the lab's, or
    after the change) with the rule that decides it; readings under which it differs."""
    remote = remote_fields(analysis, cls)
    me = cls.instance
    ends = ({"src": remote["hosts"] + remote["cidrs"], "dst": me} if cls.direction == "ingress"
            else {"src": me, "dst": remote["hosts"] + remote["cidrs"]})
    out = {"direction": cls.direction, **ends, "eni": cls.ifname, "family": cls.family,
           "protocol": cls.protocol_text(), "ports": cls.ports_text(), "remote": remote}
    if cls.protocol is None:
        out["protocols_not"] = [protocol_name(p) for p in cls.named]
    for name, d in zip(decisions_named, cls.decisions):
        out[name] = d.verdict
    out["decided_by"] = _decided(cls, cls.decisions[-1])
    if len(cls.decisions) > 1:
        out["decided_by_before"] = _decided(cls, cls.decisions[0])
    if cls.readings:
        out["readings"] = [{"setting": s, "value": v, "lab_value": lv, "verdict": d.verdict,
                            "decided_by": _decided(cls, d)} for s, v, lv, d in cls.readings]
    return out


def line(rec: dict) -> str:
    """One line per class: 'db1/eth0 ingress tcp/6379 from any: deny -> allow (db rule 0)'."""
    proto = rec["protocol"] + (f"/{rec['ports']}" if rec["ports"] else "")
    fam = "" if rec["family"] == 4 else " IPv6"
    where = rec["dst"] if rec["direction"] == "ingress" else rec["src"]
    other = remote_text(rec["remote"], rec["family"])
    way = "from" if rec["direction"] == "ingress" else "to"
    d = rec["decided_by"]
    rule = f"{d['group']} rule {d['rule']}" if d["group"] is not None else d["why"]
    verdicts = f"{rec['before']} -> {rec['after']}" if "before" in rec else rec["verdict"]
    out = f"{where}/{rec['eni']} {rec['direction']}{fam} {proto} {way} {other}: {verdicts} ({rule})"
    if rec.get("confirmed") is False:
        out += "  CLONE DISAGREES" if "before" in rec else "  KERNEL DISAGREES"
    elif rec.get("confirmed") is None and "confirmed" in rec:
        out += f"  (not confirmed: {rec.get('unconfirmed', 'no packet')})"
    if rec.get("readings"):
        out += "  [depends on the reading: " + ", ".join(
            f"{r['setting']}={r['value']} gives {r['verdict']}" for r in rec["readings"]) + "]"
    return out


# -- the representative packet: what the model says, what the kernel said ---------------------
def point_expectation(evaluator, pt) -> tuple:
    """(verdict, Decision) the lab's model gives the packet `pt` (classes.Point): the
    sender's egress if it is an instance, routing between VPCs, the receiver's ingress if it
    is an instance; as the datapath meets them (sgnet.core.evaluator.judge_ends)."""
    lab = evaluator.lab
    f = pt.family
    src_addr, dst_addr = ipaddress.ip_address(pt.src), ipaddress.ip_address(pt.dst)
    src_eni = dst_eni = None
    src_vpc = dst_vpc = None
    if pt.sender is not None and lab.instance(pt.sender) is not None:
        ep = evaluator.resolve(pt.sender, f)
        src_eni = evaluator.egress_eni(ep, dst_addr)
        src_vpc = lab.vpc_of(src_eni.subnet).name
    if pt.receiver is not None and lab.instance(pt.receiver) is not None:
        dst_eni = lab.eni_by_address(dst_addr)
        dst_vpc = lab.vpc_of(dst_eni.subnet).name
    elif src_eni is not None:
        dst_vpc = _vpc_holding(lab, dst_addr)
    if src_eni is not None and dst_vpc is not None and src_vpc != dst_vpc:
        out = evaluator.judge(src_eni, "egress", f, pt.protocol, pt.port, dst_addr)
        if out.verdict == "deny":
            return "deny", out
        return "deny", Decision("route", "deny", None, None,
                                f"{src_vpc} and {dst_vpc} are different VPCs: no route")
    verdict, d, _ = evaluator.judge_ends(src_eni, dst_eni, f, pt.protocol, pt.port,
                                         src_addr, dst_addr)
    return verdict, d


def _vpc_holding(lab, addr) -> Optional[str]:
    for v in lab.vpcs:
        net = v.cidr if addr.version == 4 else v.ipv6_cidr
        if net is not None and addr in net:
            return v.name
    return None


def exercised(cls, decision: Decision) -> bool:
    """Does the packet's verdict come from the class's own ENI and direction (or, for a
    class judged end to end, from anywhere on its way)?"""
    return cls.end_to_end or decision.direction == cls.direction and \
        decision.eni == f"{cls.instance}/{cls.ifname}"


def confirmation(cls, expected: tuple, result: dict) -> tuple:
    """(confirmed True/False/None, why None): the kernel's verdict and rule against the
    model's for the class's packet. None: the packet could not test the class (another
    group or routing decides it first) or was lost (a lab fault, said as such)."""
    verdict, d = expected
    if result["observed"] == "lost":
        return None, f"probe lost: {result.get('detail', '')}"
    same = result["observed"] == verdict and \
        rule_key(d.to_dict()) == rule_key(result.get("observed_by"))
    if not exercised(cls, d):
        if not same:
            return False, None
        return None, f"decided before the class's ENI: {d.why}"
    return same, None


# -- answers ---------------------------------------------------------------------------------
def diff_result(lab: str, changed: str, clone, records: list, families, ports) -> dict:
    """`diff`'s answer: the changed classes (records with their confirmation on the
    clone), gained (allowed after) and lost, and the scope looked at."""
    gained = [r for r in records if r["after"] == "allow"]
    lost = [r for r in records if r["after"] != "allow"]
    lost_probes = sum(1 for r in records for p in r.get("probes", ())
                      if p["observed"] == "lost")
    summary = {"classes": len(records), "gained": len(gained), "lost": len(lost),
               "confirmed": sum(1 for r in records if r.get("confirmed") is True),
               "unconfirmed": sum(1 for r in records if r.get("confirmed") is None),
               "clone_mismatches": sum(1 for r in records if r.get("confirmed") is False)}
    if lost_probes:
        summary["clone_lost"] = lost_probes  # a lab fault (exit 3)
    dependent = sum(1 for r in records if r.get("readings"))
    if dependent:
        summary["reading_dependent"] = dependent
    return {"lab": lab, "changed": changed, "clone": clone,
            "scope": {"families": list(families), "ports": ports or "all"},
            "gained": gained, "lost": lost, "summary": summary}


def confirmed_summary(records: list) -> dict:
    out = {"classes": len(records),
           "allowed": sum(1 for r in records if r.get("verdict", r.get("after")) == "allow"),
           "confirmed": sum(1 for r in records if r.get("confirmed") is True),
           "disagree": sum(1 for r in records if r.get("confirmed") is False),
           "unconfirmed": sum(1 for r in records if r.get("confirmed") is None)}
    lost = sum(1 for r in records for p in r.get("probes", ()) if p["observed"] == "lost")
    if lost:
        out["lost"] = lost
    return out

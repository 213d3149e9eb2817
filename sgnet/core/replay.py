"""Replaying flow logs (core: pure): production's records mapped onto a lab, each distinct
flow once, and what the lab (and a change) does with it against what was logged.

A record is what one ENI's groups did with a flow in one direction (a cloud logs each ENI
it crosses): Alibaba says the direction; for Huawei it is read from the addresses (the ENI
holding the destination logged it coming in, else the one holding the source, going
out). A flow is replayed as a new connection's first packet (protocol, source, destination,
destination port), from the lab host holding the source or, for an address no host holds,
from the lab's outside world, to the host holding the destination or the world. What the
lab did is read at the logging ENI's direction: the kernel's verdict and the rule it
reported when the packet got there, the model's decision there always.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Optional

from sgnet.core.classes import Point
from sgnet.core.values import ICMP, ICMPV6, PORTED_PROTOCOLS

MAX_EXAMPLES = 20  # records kept per flow for the answer (the count is kept for all)


@dataclass
class Flow:
    """One distinct flow of the logs, with the records that logged it."""

    protocol: int
    src: str
    dst: str
    port: Optional[int]
    family: int
    records: int = 0
    # per (logging ENI as "instance/ethN", direction): {action: count}
    logged: dict = field(default_factory=dict)
    lines: list = field(default_factory=list)  # (file, line) of the first records
    sports: set = field(default_factory=set)  # the source ports its records name


_NONE = Flow(0, "", "", None, 4)


def logged_at(lab, rec) -> Optional[tuple]:
    """(ENI, direction) that logged the record: by its ENI id where the lab knows it,
    else by its direction and addresses; None if no ENI of the lab logged it: neither end
    is the lab's, or the ENI holding the address has another id than the record names
    (another ENI of the cloud on the same private address, in another VPC)."""
    if rec.eni:
        eni = lab.eni_by_id(rec.eni)
        if eni is not None:
            return eni, rec.direction or ("ingress" if eni.owns(rec.dst) else "egress")
    at = _by_address(lab, rec)
    if at is not None and rec.eni and at[0].eni_id and at[0].eni_id != rec.eni:
        return None
    return at


def _by_address(lab, rec) -> Optional[tuple]:
    """logged_at by the record's direction (Huawei's records have none: the destination's
    ENI if the lab holds it, logging it coming in, else the source's) and addresses."""
    src, dst = rec.src, rec.dst
    if rec.direction != "egress":
        eni = lab.eni_by_address(dst)
        if eni is not None:
            return eni, "ingress"
    if rec.direction != "ingress":
        eni = lab.eni_by_address(src)
        if eni is not None:
            return eni, "egress"
    return None


class Replay:
    """The distinct flows of a stream of records, mapped onto one lab."""

    def __init__(self, lab):
        self.lab = lab
        self.flows = {}
        self.records = 0  # mapped onto the lab
        self.outside = 0  # neither end is the lab's: nothing of the lab logged it
        self.replies = 0  # records of a logged flow's answers (folded into it)

    def add(self, rec):
        at = logged_at(self.lab, rec)
        if at is None:
            self.outside += 1
            return
        eni, direction = at
        proto = rec.protocol
        if proto == ICMP and rec.src.version == 6:
            proto = ICMPV6
        port = rec.dport if proto in PORTED_PROTOCOLS else None
        key = (proto, rec.src, rec.dst, port)  # (address objects: hashed, not printed)
        f = self.flows.get(key)
        if f is None:
            f = self.flows[key] = Flow(proto, str(rec.src), str(rec.dst), port, rec.src.version)
        f.records += 1
        where = (f"{eni.instance}/{eni.ifname}", direction)
        counts = f.logged.setdefault(where, {})
        counts[rec.action] = counts.get(rec.action, 0) + 1
        if len(f.lines) < MAX_EXAMPLES:
            f.lines.append((rec.source, rec.line))
        if rec.sport is not None:
            f.sports.add(rec.sport)
        self.records += 1

    def distinct(self) -> list:
        """The flows to replay: a cloud logs a connection's answers too (from the server's
        port to the client's), which are no connection of their own but the replies a
        stateful group lets back: a TCP or UDP flow each of whose records is the reverse
        of a logged flow's (ports included) is folded into it (counted in `replies`); of
        two flows that are each other's reverse, the answer is the one sent to the higher
        port (the client's ephemeral one, RFC 6335: the server's is the lower)."""
        out = []
        for (proto, src, dst, port), f in self.flows.items():
            if proto in PORTED_PROTOCOLS and f.sports and port > max(f.sports) and all(
                    port in self.flows.get((proto, dst, src, sp), _NONE).sports
                    for sp in f.sports):
                self.replies += f.records
                self.records -= f.records
                continue
            out.append(f)
        return out


def point_of(lab, flow: Flow) -> Point:
    """The flow's packet, from and to the lab hosts holding its ends (None: the world)."""
    src, dst = lab.host_by_address(flow.src), lab.host_by_address(flow.dst)
    return Point(flow.src, flow.dst, flow.protocol, flow.port, flow.family,
                 src[0] if src else None, dst[0] if dst else None)


def step_decision(evaluator, lab, flow: Flow, where: tuple):
    """The model's decision at the ENI and direction that logged the flow."""
    name, ifname = where[0].split("/")
    eni = next(e for e in lab.instance(name).enis if e.ifname == ifname)
    direction = where[1]
    peer = ipaddress.ip_address(flow.src if direction == "ingress" else flow.dst)
    return evaluator.judge(eni, direction, flow.family, flow.protocol, flow.port, peer)


def _leaves_by(evaluator, lab, flow: Flow, where: tuple) -> Optional[str]:
    """For a flow logged going out of an ENI that the lab's routes do not send it out of
    (an instance's other ENI: the routes pick by destination, sgnet.core.evaluator.
    egress_eni), the ENI they use; else None."""
    if where[1] != "egress":
        return None
    name, ifname = where[0].split("/")
    out = evaluator.egress_eni(evaluator.resolve(name, flow.family),
                               ipaddress.ip_address(flow.dst))
    return None if out.ifname == ifname else out.ifname


def observed_at(result: dict, direction: str) -> Optional[str]:
    """What the kernel did at the logging direction, from the probe's verdict and the rule
    it reported: None if the packet never got there (dropped before) or was lost."""
    if result["observed"] == "lost":
        return None
    by = (result.get("observed_by") or {}).get("direction")
    if result["observed"] == "allow":
        return "allow"
    if by == direction:
        return "deny"
    if direction == "egress" and by in ("ingress", "route"):
        return "allow"  # it left: a later step dropped it
    return None  # dropped at the source's egress: it never reached this ingress


ACTION = {"accept": "allow", "reject": "deny"}


def answers_alone(flows: list, now: list) -> set:
    """The indices of the flows (replayed: `now`, their verdicts in the lab) that are the
    answers of another logged flow although nothing in their records says so: a cloud logs
    an echo's reply as a flow of its own, and ICMP, like every protocol without ports, has
    none to tell a reply from a request (Replay.distinct folds TCP and UDP answers by
    them). A flow of such a protocol is taken for the answer of its reverse when the
    reverse is logged and went through the lab end to end, while it did not as a new
    connection, and production accepted every record of it: the lab's state admits it as
    that answer, as production's did."""
    through = {(f.protocol, f.src, f.dst) for f, r in zip(flows, now)
               if r["observed"] == "allow"}
    return {k for k, (f, r) in enumerate(zip(flows, now))
            if f.protocol not in PORTED_PROTOCOLS and r["observed"] != "allow"
            and (f.protocol, f.dst, f.src) in through
            and all(set(counts) == {"accept"} for counts in f.logged.values())}


def flow_record(lab, evaluator, flow: Flow, now: dict, after: Optional[dict] = None,
                after_evaluator=None) -> list:
    """The answer's rows for one flow: one per logging ENI and direction, with the
    records' actions, the lab's verdict there now (observed by the kernel, expected by the
    model, the deciding rule) and after the change."""
    rows = []
    for where, counts in flow.logged.items():
        d = step_decision(evaluator, lab, flow, where)
        other = _leaves_by(evaluator, lab, flow, where)
        seen = None if other else observed_at(now, where[1])
        row = {"protocol": flow.protocol, "src": flow.src, "dst": flow.dst, "port": flow.port,
               "family": flow.family, "logged_at": where[0], "direction": where[1],
               "logged": {a: n for a, n in sorted(counts.items())}, "records": sum(counts.values()),
               "lines": [f"{s}:{n}" for s, n in flow.lines[:5]],
               "now": {"observed": seen, "expected": d.verdict, "decided_by": d.to_dict(),
                       "observed_by": now.get("observed_by"), "kernel": now["observed"]}}
        if other:
            row["now"]["not_seen"] = f"the lab's routes send it out of {other}"
        verdict = seen or d.verdict
        # production's action against the lab's verdict there (the kernel's where it saw)
        row["disagree"] = sorted(a for a in counts if ACTION.get(a) != verdict)
        if after is not None:
            ad = step_decision(after_evaluator, lab, flow, where)
            aseen = None if other else observed_at(after, where[1])
            row["after"] = {"observed": aseen, "expected": ad.verdict,
                            "decided_by": ad.to_dict(), "observed_by": after.get("observed_by"),
                            "kernel": after["observed"]}
            averdict = aseen or ad.verdict
            row["cut"] = verdict == "allow" and averdict == "deny"
            row["opened"] = verdict == "deny" and averdict == "allow"
        rows.append(row)
    return rows


def summary(rows: list, skipped: int, outside: int, malformed: int) -> dict:
    def records(pred):
        return sum(r["records"] for r in rows if pred(r))
    out = {"records": sum(r["records"] for r in rows), "flows": len(rows),
           "skipped": skipped, "malformed": malformed, "outside_the_lab": outside,
           "disagree": records(lambda r: r["disagree"])}
    if rows and "after" in rows[0]:
        out["cut"] = records(lambda r: r.get("cut"))
        out["opened"] = records(lambda r: r.get("opened"))
    return out


def rule_usage(lab, rows: list) -> list:
    """Per group rule, the logged records it decided (the model's rule at the logging ENI
    and direction); a rule that decided none is a candidate for removal."""
    used = {}
    for r in rows:
        d = r["now"]["decided_by"]
        if d.get("group") is not None:
            key = (d["group"], d["rule"])
            used[key] = used.get(key, 0) + r["records"]
    out = []
    for name, g in lab.groups.items():
        members = lab.enis_in(name)
        for k, rule in enumerate(g.rules):
            n = used.get((name, k), 0)
            out.append({"group": name, "rule": k, "text": rule.text(), "records": n,
                        "unused": n == 0 and bool(members)})
    return out

"""Flows, their verdicts and the other records a session answers with (core: pure).

What `probe`, `matrix`, `explain`, `diff` and `status` say, computed without the kernel:
which flows a matrix probes, what the provider expects of each (the evaluator, plus what
TCP flags other than a SYN mean), the verdict records of contract §3 once the kernel's
observations are in, the comparison of two labs' expectations behind `diff`, and the
status and rule-hit records. The session supplies the observations (sgnet.hosts.driver
sends the probes, reads the counters).
"""

from __future__ import annotations

import dataclasses

from sgnet.core.errors import LabError, short
from sgnet.core.evaluator import Decision, Expectation
from sgnet.core import witness
from sgnet.core.witness import STATEFUL_WHY
from sgnet.core.values import ICMP, ICMPV6, PORTED_PROTOCOLS, PROTOCOLS, TCP, bounded_int
from sgnet.core.values import MAX_PORT, MIN_PORT, protocol_name

DEFAULT_PORTS = ["tcp/22", "tcp/80", "udp/53", "icmp"]


def parse_proto(text: str, family: int, what: str = "PROTO") -> tuple:
    """'tcp/22', 'udp/53', 'icmp', 'icmpv6', 'gre', '47' -> (protocol number, port).
    Errors name `what` (the argument it came from: PROTO, --ports) and the text."""
    where = f"{what} {short(text)}"
    name, _, port = str(text).strip().partition("/")
    name = name.lower()
    number = bounded_int(name, 0, 255)  # ASCII digits: not '٦'
    if number is not None:
        proto = number
    elif name in PROTOCOLS:
        proto = PROTOCOLS[name]
    else:
        raise LabError(f"{where}: unknown protocol: use tcp/PORT, udp/PORT, icmp, icmpv6, gre "
                       "or a protocol number 0-255")
    if proto == ICMP and family == 6:
        proto = ICMPV6  # ping over IPv6 is ICMPv6
    if proto == ICMPV6 and family == 4:
        raise LabError(f"{where}: icmpv6 needs -6")
    if proto in PORTED_PROTOCOLS:
        number = bounded_int(port, MIN_PORT, MAX_PORT)
        if number is None:
            raise LabError(f"{where}: {name} needs a port 1-65535 in ASCII digits, "
                           f"e.g. {name}/22")
        return proto, number
    if port:
        raise LabError(f"{where}: {name} has no ports")
    return proto, None


def check_run(timeout, jobs, bounds: dict):
    """A probe run's options, checked for the plugin's and other Python callers as the CLI
    checks them (a jobs of -1 never let a probe start, a nan timeout never ended); bounds:
    the lab file's RUN_BOUNDS."""
    t_max, j_max = bounds["probe_timeout"], bounds["jobs"]
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or not 0 < timeout <= t_max:
        raise LabError(f"timeout {short(timeout)}: allowed: seconds, more than 0 and at "
                       f"most {t_max:g}")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int)
                             or not 1 <= jobs <= j_max):
        raise LabError(f"jobs {short(jobs)}: allowed: 1-{j_max}")


# -- which flows -------------------------------------------------------------------------------
def endpoints(lab, family: int) -> list:
    """The instances and externals with an address of this family, in the lab's order."""
    out = [i.name for i in lab.instances if i.primary.address(family) is not None]
    out += [x.name for x in lab.externals if x.address(family) is not None]
    return out


def matrix_flows(lab, ports=None, family: int = 4, sources=None, destinations=None) -> list:
    """Every source x destination x port (texts, DEFAULT_PORTS if none) as (src, dst,
    protocol, port, family): instances and externals, never an endpoint to itself nor an
    external to an external."""
    specs = [parse_proto(p, family, "ports") for p in (ports or DEFAULT_PORTS)]
    names = endpoints(lab, family)
    externals = {x.name for x in lab.externals}
    return [(s, d, p, port, family)
            for s in sources or names for d in destinations or names
            if s != d and not (s in externals and d in externals)
            for p, port in specs]


# -- what is expected --------------------------------------------------------------------------
def expectation(evaluator, src: str, dst: str, protocol: int, port, family: int) -> Expectation:
    """The evaluator's verdict on a flow; a flow it cannot judge is refused saying which
    end is wrong, as the user typed it."""
    return _refusing(evaluator.evaluate, evaluator, src, dst, protocol, port, family)


def flow_of(evaluator, src: str, dst: str, protocol: int, port, family: int):
    """The flow (its ends' addresses) as expectation() would judge it, refused alike."""
    return _refusing(evaluator.flow, evaluator, src, dst, protocol, port, family)


def _refusing(call, evaluator, src, dst, protocol, port, family):
    try:
        return call(src, dst, protocol, port, family)
    except KeyError as e:
        why = e.args[0]
    lab_name = evaluator.lab.name
    for what, end in (("SRC", src), ("DST", dst)):
        try:
            address = evaluator.resolve(end, family).address
        except KeyError:
            raise LabError(f"{what} {short(end)}: not an instance, external or address of "
                           f"lab {lab_name}") from None
        if address is None:
            raise LabError(f"{what} {short(end)}: has no IPv{family} address")
    raise LabError(f"cannot probe {short(src)} -> {short(dst)} over IPv{family}: "
                   f"{short(why)}")


def with_tcp_flags(exp: Expectation, tcp_flags: str) -> Expectation:
    """The expectation of a probe sent with these TCP flags. A segment without SYN (a bare
    ACK, a RST, a SYN-ACK out of the blue) belongs to no connection: groups never let it
    through, whatever the rules."""
    if tcp_flags.upper() == "S" or exp.flow.protocol != TCP:
        return exp
    # dropped by the first end that tracks connections: the source, if it is an instance
    where = "egress" if any(d.direction == "egress" for d in exp.steps) else "ingress"
    return dataclasses.replace(exp, verdict="deny", readings=[], decided_by=Decision(
        where, "deny", None, None, STATEFUL_WHY))


def _flow_fields(flow) -> dict:
    return {"src": flow.src, "dst": flow.dst, "src_ip": flow.src_ip, "dst_ip": flow.dst_ip,
            "protocol": protocol_name(flow.protocol), "port": flow.port,
            "family": f"ipv{flow.family}"}


def _readings(exp: Expectation) -> dict:
    """{"readings": [...]} where another reading of the documents (sgnet.core.readings)
    gives the flow another verdict: the setting, that reading, the lab's, the verdict and
    rule there, the reading's sources; {} where every reading agrees."""
    return {"readings": [r.to_dict() for r in exp.readings]} if exp.readings else {}


def explanation(exp: Expectation) -> dict:
    """`explain`'s answer: the flow, the verdict, the deciding rule and every step (and
    the other readings that would decide otherwise)."""
    return dict(_flow_fields(exp.flow), expected=exp.verdict,
                decided_by=exp.decided_by.to_dict(),
                steps=[dict(d.to_dict(), verdict=d.verdict, eni=d.eni) for d in exp.steps],
                **_readings(exp))


# -- what was observed -------------------------------------------------------------------------
def rule_key(d) -> tuple:
    """What two `decided_by`/`observed_by` must share to name the same rule: the direction,
    group and rule index; for the provider's own entries and defaults (no group), their
    text; at the gateway (`route`) and between externals (`none`), the direction alone."""
    if d is None:
        return ("none", None, None, None)
    same_text = d["direction"] in ("ingress", "egress") and d["group"] is None
    return (d["direction"], d["group"], d["rule"], d["why"] if same_text else None)


def verdict_record(exp: Expectation, result, lab) -> dict:
    """A verdict record (contract §3) of a probe's ProbeResult (sgnet.core.witness.judge):
    `match` when the kernel's verdict and the rule it reported are the evaluator's;
    otherwise `mismatch` says which differs (`verdict` or `rule`). A `lost` probe (no answer,
    no lab rule dropped it) is a lab fault, neither: `lost` says what is known. Over several
    hosts, where each end runs."""
    decided = exp.decided_by.to_dict()
    out = dict(_flow_fields(exp.flow), expected=exp.verdict, observed=result.observed,
               detail=result.detail, match=False, decided_by=decided,
               observed_by=result.observed_by, **_readings(exp))
    if result.observed == "lost":
        out["lost"] = result.answer
    elif exp.verdict != result.observed:
        out["mismatch"] = "verdict"
    elif rule_key(decided) != rule_key(result.observed_by):
        out["mismatch"] = "rule"
    else:
        out["match"] = True
    if lab.hosts:  # externals too
        out["src_host"] = lab.host_of(exp.flow.src)
        out["dst_host"] = lab.host_of(exp.flow.dst)
    return out


def matrix_result(lab_name: str, records: list) -> dict:
    """A matrix run's answer; `summary.reading_dependent` (only when some are) counts the
    flows whose verdict another reading of the documents would change."""
    lost = sum(1 for r in records if r["observed"] == "lost")
    wrong = sum(1 for r in records if not r["match"]) - lost
    summary = {"total": len(records), "correct": len(records) - wrong - lost, "wrong": wrong}
    if lost:
        summary["lost"] = lost  # lab faults: not verdicts at all (exit 3)
    rule_level = sum(1 for r in records if r.get("mismatch") == "rule")
    if rule_level:
        summary["rule_mismatches"] = rule_level  # among `wrong`: same verdict, other rule
    dependent = sum(1 for r in records if r.get("readings"))
    if dependent:
        summary["reading_dependent"] = dependent
    return {"lab": lab_name, "results": records, "summary": summary}


# -- the lab itself ---------------------------------------------------------------------------
def session_record(lab, evaluator, inst, e) -> dict:
    """One tracked session of an instance (a CtEntry) with the rule that admitted it, as
    the kernel kept it on the session (its ct mark: sgnet.core.witness)."""
    out = {"family": f"ipv{e.family}", "protocol": protocol_name(e.protocol), "src": e.src,
           "dst": e.dst, "sport": e.sport, "dport": e.dport}
    if e.state:
        out["state"] = e.state
    w = witness.decode("", e.mark, None)
    if w is None or w.code in (witness.ROUTE, witness.STATEFUL):
        out["admitted_by"] = None  # before sgnet marked sessions, or not by a lab rule
    else:
        out["admitted_by"] = dataclasses.replace(w, verdict="allow").to_decision(
            lab, evaluator, inst.name)
    return out


def status_record(lab, evaluator, ns_of, up: dict, counts: dict, transports: dict,
                  sessions: dict = None) -> dict:
    """`status`'s answer: each instance (its ENIs, groups and rule counts) and external, with
    what the kernel says (up: endpoint -> its namespace exists; counts: instance -> tracked
    sessions; sessions: instance -> its CtEntries; transports: host -> how its agent is
    reached), every group, and the hosts."""
    sessions = sessions or {}
    on_host = (lambda e: {"host": e.host}) if lab.hosts else (lambda e: {})
    instances = []
    for inst in lab.instances:
        enis = [{"ifname": eni.ifname, "subnet": eni.subnet, "ip": str(eni.ip),
                 "ipv6": str(eni.ipv6) if eni.ipv6 else None, "groups": list(eni.groups),
                 "rules": {d: len(evaluator.decision_list(eni, d).entries)
                           for d in ("ingress", "egress")}} for eni in inst.enis]
        listed = [session_record(lab, evaluator, inst, e) for e in sessions.get(inst.name, [])]
        instances.append(dict({"name": inst.name, "namespace": ns_of(inst.name),
                               "up": up[inst.name], "enis": enis,
                               "conntrack_entries": counts.get(inst.name),
                               "sessions": listed}, **on_host(inst)))
    externals = [dict({"name": x.name, "ip": str(x.ip), "ipv6": str(x.ipv6) if x.ipv6 else None,
                       "namespace": ns_of(x.name), "up": up[x.name]}, **on_host(x))
                 for x in lab.externals]
    groups = {g.name: {"rules": len(g.rules), "builtin": g.builtin,
                       "members": [f"{e.instance}/{e.ifname}" for e in lab.enis_in(g.name)]}
              for g in lab.groups.values()}
    out = {"lab": lab.name, "provider": lab.provider, "instances": instances,
           "externals": externals, "groups": groups}
    if lab.hosts:
        out["hosts"] = [{"name": h.name, "address": h.address, "simulated": h.simulated,
                         "transport": transports[h.name],
                         "instances": sum(1 for i in lab.instances if i.host == h.name)}
                        for h in lab.hosts]
    return out


def rule_hits(lab, counters: dict) -> list:
    """instance -> the kernel's (chain, comment, packets, bytes) of each of its rules ->
    one row per group rule (or implicit rule): packets and bytes, packets per instance,
    and the rule's text."""
    rows = {}
    for inst in lab.instances:
        for chain, comment, packets, nbytes in counters[inst.name]:
            if chain in ("input", "output"):
                continue
            group, _, idx = comment.rpartition(" rule ")
            key = (group, int(idx)) if group and idx.isdigit() else ("(implicit)", comment)
            row = rows.setdefault(key, {"group": key[0], "rule": key[1], "packets": 0,
                                        "bytes": 0, "instances": {}})
            row["packets"] += packets
            row["bytes"] += nbytes
            row["instances"][inst.name] = row["instances"].get(inst.name, 0) + packets
    out = []
    for (group, idx), row in sorted(rows.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        if group in lab.groups and isinstance(idx, int):
            row["text"] = lab.groups[group].rules[idx].text()
        out.append(row)
    return out


# -- diff: two labs' expectations --------------------------------------------------------------
def with_groups_of(raw: dict, changed: dict) -> dict:
    """The lab file `raw` (parsed YAML) with the groups, prefix lists and memberships of
    `changed` (another lab file's YAML): what `diff` compares the lab with. `raw` is
    changed in place and returned."""
    raw["security_groups"] = changed.get("security_groups") or []
    if "prefix_lists" in changed:
        raw["prefix_lists"] = changed["prefix_lists"]
    members = {i.get("name"): i for i in changed.get("instances") or [] if isinstance(i, dict)}
    for inst in raw.get("instances") or []:
        other = members.get(inst.get("name"))
        if other is None:
            continue
        if "security_groups" in other:
            inst["security_groups"] = other["security_groups"]
        for mine, theirs in zip(inst.get("secondary_enis") or [],
                                other.get("secondary_enis") or []):
            if "security_groups" in theirs:
                mine["security_groups"] = theirs["security_groups"]
    return raw

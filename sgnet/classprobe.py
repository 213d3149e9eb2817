"""Confirming traffic classes with real packets on a running lab (shell: it probes).

Each class (sgnet.core.classes) gets representative packets: its first port and an
address inside it, and its last port and last address (the class's boundaries). A
packet whose source no lab host holds is sent from the lab's outside world
(sgnet.core.names.world_ns), which answers on every address no host holds too. The
kernel's verdict and the rule it reports (witnessed probing) are set against what the
lab's model says of that packet (sgnet.core.classview).
"""

from __future__ import annotations

import hashlib

import yaml

from sgnet import state
from sgnet.core import classes, classview, flows, labspec, witness
from sgnet.core.errors import LabError
from sgnet.core.evaluator import Evaluator
from sgnet.io import labfile
from sgnet.core.names import world_ns
from sgnet.core.placement import has_world
from sgnet.core.probes import ProbeSpec, assign_tags
from sgnet.core.values import ICMP, ICMPV6, TCP, UDP, protocol_name

WORLD = "<world>"  # the sender or receiver of a packet that no lab host holds


def _forget_earlier(sess, points: list):
    """Sessions an earlier run's probes left between an instance and an outside-world
    address, for protocols tracked by their addresses alone: forgotten in the instance,
    or this run's probe would pass as part of them. (The world's addresses are sgnet's
    own: no user's session is between them.)"""
    by_inst = {}
    for p in points:
        if not tracked_by_addresses(p.protocol) or (p.sender and p.receiver):
            continue
        pairs = by_inst.setdefault(p.sender or p.receiver, set())
        pairs.add((p.family, p.protocol, p.src, p.dst))
        pairs.add((p.family, p.protocol, p.dst, p.src))
    for inst, pairs in by_inst.items():
        driver, ns = sess.drivers.of(inst), sess.ns_of(inst)
        stale = [e for e in driver.ct_entries([ns])[0]  # (one look, usually at nothing)
                 if (e.family, e.protocol, e.src, e.dst) in pairs]
        if stale:
            driver.ct_delete(ns, stale)


CHUNK = 20_000  # points per probe run: every source's tags stay distinct (probes.TAGS)


def probe_points(sess, points: list, timeout: float = 1.0) -> list:
    """Send each classes.Point on the running lab: per point {observed, detail, answer,
    observed_by} (the shape of a verdict record's fields), judged as every probe is
    (sgnet.core.witness.Judge), in runs of at most CHUNK points. What earlier runs left
    that these points would ride is forgotten first (_forget_earlier)."""
    out = []
    for k in range(0, len(points), CHUNK):
        out += _probe_run(sess, points[k:k + CHUNK], timeout)
    return out


def _probe_run(sess, points: list, timeout: float) -> list:
    lab = sess.lab
    _forget_earlier(sess, points)
    ns_world = world_ns(lab.name)
    specs, ends = [], []
    for p in points:
        src_ns = sess.ns_of(p.sender) if p.sender else ns_world
        dst_ns = sess.ns_of(p.receiver) if p.receiver else ns_world
        specs.append(ProbeSpec(src_ns, p.src, p.dst, p.protocol, p.port, p.family, "S",
                               dst_ns=dst_ns, src_rules=lab.instance(p.sender or "") is not None,
                               dst_rules=lab.instance(p.receiver or "") is not None))
        ends.append((p.sender or WORLD, p.receiver or WORLD))
    if not specs:
        return []
    with state.locked(lab.name), labspec.building():
        state.next_tags(lab.name, lambda start: assign_tags(specs, start))
        facts = sess.drivers.probe(specs, ends, timeout)
    judge = witness.Judge(lab, sess.evaluator)
    out = []
    for s, (answer, reports), end in zip(specs, facts, ends):
        r = judge.judge(s, answer, reports, end)
        out.append({"observed": r.observed, "detail": r.detail, "answer": r.answer,
                    "observed_by": r.observed_by})
    return out


def _probe_record(pt, result: dict) -> dict:
    return {"src": pt.src, "dst": pt.dst, "protocol": protocol_name(pt.protocol),
            "port": pt.port, "family": pt.family, "from": pt.sender or "world",
            "to": pt.receiver or "world", **result}


# Protocols whose connection tracking has no ports nor ids: a probe is tracked by its two
# addresses alone, so two probes between the same addresses (either way) are one session.
def tracked_by_addresses(protocol: int) -> bool:
    return protocol not in (TCP, UDP, ICMP, ICMPV6)


def confirm(sess, analysis, records: list, cls_list: list, timeout: float = 1.0):
    """Probe each class's first and last packet on the running lab `sess` (whose model is
    `analysis`) and write into its record `confirmed` (True: the kernel did what the model
    says, verdict and rule; False: it did not; None: no packet could test it, with
    `unconfirmed` saying why) and `probes` (each packet with what the kernel said)."""
    points, owners, pairs = [], [], set()
    world = has_world(sess.lab)
    for k, c in enumerate(cls_list):
        seen = set()
        for where in ("first", "last"):
            for nth in range(8):
                pt = classes.point(analysis, c, where, nth)
                if pt is None or not tracked_by_addresses(pt.protocol):
                    break
                pair = (pt.family, pt.protocol, frozenset((pt.src, pt.dst)))
                if pair not in pairs:  # another packet between these two would be its session
                    pairs.add(pair)
                    break
            if pt is None or (pt.src, pt.dst, pt.protocol, pt.port) in seen:
                continue
            if not world and (pt.sender is None or pt.receiver is None):
                continue  # (a lab over several hosts has no outside world to send from)
            seen.add((pt.src, pt.dst, pt.protocol, pt.port))
            points.append(pt)
            owners.append(k)
    results = probe_points(sess, points, timeout)
    per = [[] for _ in cls_list]
    for k, pt, r in zip(owners, points, results):
        per[k].append((pt, r))
    for rec, c, got in zip(records, cls_list, per):
        rec["probes"] = []
        verdicts, why = [], None
        for pt, r in got:
            exp = classview.point_expectation(analysis.evaluator, pt)
            ok, reason = classview.confirmation(c, exp, r)
            verdicts.append(ok)
            why = why or reason
            rec["probes"].append(dict(_probe_record(pt, r), expected=exp[0],
                                      expected_by=exp[1].to_dict(), confirmed=ok))
        # one packet the kernel contradicts is a disagreement; one that tested the class
        # and agreed confirms it; none that could test it: unconfirmed, and why
        if False in verdicts:
            rec["confirmed"] = False
        elif True in verdicts:
            rec["confirmed"] = True
        else:
            rec["confirmed"] = None
            rec["unconfirmed"] = why or "no address of the class can carry a packet"
    return records


def clone_of(sess, changed_path: str) -> tuple:
    """(the lab file of a clone of the running lab with the groups, prefix lists and
    memberships of another file, its model): what diff and replay --against probe on.
    A bad file is refused (exit 2), nothing touched."""
    changed = labfile.load_yaml(labfile.read_text(changed_path), changed_path) or {}
    if not isinstance(changed, dict):
        raise LabError(f"{changed_path}: not a lab file")
    raw = flows.with_groups_of(yaml.safe_load(state.load(sess.lab.name)["text"]), changed)
    new = labspec.parse(raw, changed_path)
    clone = dict(raw, name="d" + hashlib.sha1(
        (sess.lab.name + yaml.safe_dump(raw)).encode()).hexdigest()[:7])
    return clone, new


def changed_classes(sess, new, ports=None, family: int = None) -> tuple:
    """What `diff` confirms: (the classes of traffic whose verdict the changed groups
    (the lab `new`) would turn, their records, the families looked at). Every class of
    both families, every protocol, port and address; `ports`: only those, in `family`."""
    families = (family,) if family else (4, 6)
    protocols = None if ports is None else \
        {f: [flows.parse_proto(p, f, "--ports") for p in ports] for f in families}
    before, after = classes.Analysis(sess.evaluator), classes.Analysis(Evaluator(new))
    moved = classes.changes(before, after, families, protocols)
    records = [classview.record(after, c, ("before", "after")) for c in moved]
    return moved, records, families


def access(sess, name: str, timeout: float = 1.0) -> dict:
    """`explain LAB DST`: the complete access table of an instance, every class of what
    each ENI accepts and sends out, both families, with the deciding rule, each class
    confirmed by packets on the running lab."""
    if sess.lab.instance(name) is None:
        raise LabError(f"DST {name!r}: not an instance of lab {sess.lab.name} (the access "
                       "table is an instance's)")
    return access_tables(sess, [name], timeout)[0]


def access_tables(sess, names: list, timeout: float = 1.0) -> list:
    """The access tables of these instances, all their classes probed in one run."""
    analysis = classes.Analysis(sess.evaluator)
    per, all_cls, all_recs = [], [], []
    for name in names:
        cls_list = analysis.instance_classes(sess.lab.instance(name))
        recs = [classview.record(analysis, c) for c in cls_list]
        per.append((name, cls_list, recs))
        all_cls += cls_list
        all_recs += recs
    confirm(sess, analysis, all_recs, all_cls, timeout)
    out = []
    for name, cls_list, records in per:
        enis = []
        for eni in sess.lab.instance(name).enis:
            mine = [r for r, c in zip(records, cls_list) if c.eni == eni.index]
            enis.append({"eni": eni.ifname, "subnet": eni.subnet,
                         "addresses": _addresses(eni),
                         "groups": list(eni.groups),
                         "ingress": [r for r in mine if r["direction"] == "ingress"],
                         "egress": [r for r in mine if r["direction"] == "egress"]})
        out.append({"lab": sess.lab.name, "instance": name, "enis": enis,
                    "summary": classview.confirmed_summary(records)})
    return out


def _addresses(eni) -> list:
    """The ENI's addresses as text: a block of secondary ones as its first-last."""
    out = [str(eni.ip)]
    if eni.secondary:
        out.append(f"{eni.secondary[0]}-{eni.secondary[1]}")
    return out + ([str(eni.ipv6)] if eni.ipv6 else [])


def verify(sess, intents, timeout: float = 1.0) -> dict:
    """`verify LAB INTENTS.yaml`: each intent checked over the whole traffic space; each
    violation a class with the rule that decides it, confirmed by packets on the running
    lab. `intents`: a file's path, or its content (a list of intents, or the document)."""
    from sgnet.core import intents as intents_mod
    if isinstance(intents, str):
        path = intents
        data = labfile.load_yaml(labfile.read_text(path, "the intents file"), path)
    else:
        path = "<intents>"
        data = intents if isinstance(intents, dict) else {"intents": intents}
    wanted = intents_mod.parse(data, path, sess.lab)
    analysis = classes.Analysis(sess.evaluator)
    results, all_cls, all_recs = [], [], []
    for it in wanted:
        bad = intents_mod.check(analysis, it)
        recs = [classview.record(analysis, c) for c in bad]
        all_cls += bad
        all_recs += recs
        results.append({"name": it.name, "from": it.src, "to": it.dst,
                        "traffic": it.traffic_text, "expect": it.expect,
                        "holds": not bad, "violations": recs})
    confirm(sess, analysis, all_recs, all_cls, timeout)
    summary = intents_mod.summary(results)
    summary.update({k: v for k, v in classview.confirmed_summary(all_recs).items()
                    if k in ("confirmed", "disagree", "unconfirmed", "lost")})
    return {"lab": sess.lab.name, "intents_file": path, "intents": results, "summary": summary}

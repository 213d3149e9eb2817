"""Replaying production's flow logs on a running lab (shell: it reads files and probes).

The records are read as a stream (sgnet.io.flowlogs), mapped onto the lab and folded into
distinct flows (sgnet.core.replay); each flow is sent once, as a new connection's first
packet, on the running lab and, with a change, on a clone carrying the changed groups
(the running lab untouched). What was logged is set against what the lab did there.
"""

from __future__ import annotations

from sgnet import classprobe
from sgnet.core import replay as core
from sgnet.core.evaluator import Evaluator
from sgnet.core.placement import has_world
from sgnet.io.flowlogs import open_flowlog

def read(lab, logs: list, fmt=None) -> tuple:
    """(the Replay of every record of the files, skips: {status or "malformed": count},
    the first problems, as messages)."""
    rep = core.Replay(lab)
    skipped, messages = {}, []
    for path in logs:
        log = open_flowlog(path, fmt)  # refused here: exit 2, nothing probed
        for rec in log.records():
            rep.add(rec)
        for key, n in log.skips.counts.items():
            skipped[key] = skipped.get(key, 0) + n
        messages += log.skips.messages
        if log.skips.more:
            messages.append(f"{path}: ... and {log.skips.more:,} more malformed rows")
    return rep, skipped, messages


def replay(sess, logs: list, fmt=None, against: str = None, timeout: float = 1.0) -> dict:
    lab = sess.lab
    rep, skipped, messages = read(lab, logs, fmt)
    flows, unsendable = [], 0
    for f in rep.distinct():
        p = core.point_of(lab, f)
        if p.sender == p.receiver and p.sender is not None:
            unsendable += f.records  # an instance to itself never crosses its ENI
        elif not has_world(lab) and (p.sender is None or p.receiver is None):
            unsendable += f.records  # (a lab over several hosts has no outside world)
        else:
            flows.append((f, p))
    points = [p for _, p in flows]
    now = classprobe.probe_points(sess, points, timeout)
    after = after_ev = None
    if against:
        clone, new = classprobe.clone_of(sess, against)
        after_ev = Evaluator(new)
        after = sess.on_clone(clone, against, lambda c: classprobe.probe_points(c, points, timeout))
    rows = []
    answers = core.answers_alone([f for f, _ in flows], now)
    for k, (f, _) in enumerate(flows):
        if k in answers:  # an echo's reply, logged alone: counted with the replies
            rep.replies += f.records
            continue
        rows += core.flow_record(lab, sess.evaluator, f, now[k],
                                 after[k] if after else None, after_ev)
    malformed = skipped.get("malformed", 0)
    summary = core.summary(rows, sum(skipped.values()), rep.outside, malformed)
    summary["not_replayed"] = unsendable
    summary["replies"] = rep.replies  # answers of logged flows, not replayed on their own
    lost = sum(1 for r in now + (after or []) if r["observed"] == "lost")
    if lost:
        summary["lost"] = lost
    return {"lab": lab.name, "logs": list(logs), "against": against, "flows": rows,
            "rules": core.rule_usage(lab, rows), "skips": messages, "summary": summary}

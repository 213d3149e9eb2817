"""The command line's text output (pure): each verb's result, the same dict `--json`
prints, as the lines a person reads. Used by `sgnet.cli` only."""

from __future__ import annotations

from sgnet.core.flows import rule_key as flows_rule_key
from sgnet.core.values import protocol_name


MAX_LISTED = 20  # flows listed under a matrix whose verdict depends on a reading


def _port(r) -> str:
    return f"/{r['port']}" if r["port"] is not None else ""


def format_readings(r) -> list:
    """The other readings of the documents under which the flow's verdict differs."""
    return [f"depends on the reading: with {o['setting']}: {o['value']} (this lab: "
            f"{o['lab_value']}) it would be {o['verdict']} - {o['decided_by']['why']}"
            for o in r.get("readings", [])]


def _rule(d) -> str:
    if d is None:
        return "no rule (no group applies)"
    return f"{d['direction']}: {d['why']}"


def format_record(r) -> str:
    """One probed flow: both verdicts, the rule the provider's documents say decides and the
    rule the kernel reported."""
    mark = "" if r["match"] else "   <-- RULE MISMATCH (same verdict, another rule)" \
        if r.get("mismatch") == "rule" else "   <-- MISMATCH"
    if r["observed"] == "lost":
        mark = "   <-- LOST (a lab fault, not a verdict)"
    lines = [f"{r['src']} ({r['src_ip']}) -> {r['dst']} ({r['dst_ip']}) "
             f"{r['protocol']}{_port(r)}: observed {r['observed']} ({r['detail']}),"
             f" expected {r['expected']}{mark}",
             f"decided by: {_rule(r['decided_by'])}"]
    if r["observed"] == "lost":
        lines.append(f"lost: {r['lost']}")
    elif "observed_by" in r:
        same = flows_rule_key(r["observed_by"]) == flows_rule_key(r["decided_by"])
        lines.append("kernel: " + ("the same rule" if same else _rule(r["observed_by"])))
    return "\n  ".join(lines + format_readings(r))


def _cell(r) -> str:
    """A grid cell: the verdict observed; ! a verdict mismatch, ~ the same verdict for
    another rule's reason, * a verdict that depends on the reading; `lost?` a lab fault."""
    if r["observed"] == "lost":
        return "lost?"
    flag = "" if r["match"] else {"rule": "~"}.get(r.get("mismatch"), "!")
    return r["observed"] + flag + ("*" if r.get("readings") else "")


def _grids(results: list) -> list:
    """A grid per protocol/port, rows the sources, columns the destinations."""
    names = list(dict.fromkeys(n for r in results for n in (r["src"], r["dst"])))
    keys = list(dict.fromkeys(r["protocol"] + _port(r) for r in results))
    cells = {(r["protocol"] + _port(r), r["src"], r["dst"]): _cell(r) for r in results}
    w = max(8, max(len(n) for n in names) + 2)
    srcs = [n for n in names if any(r["src"] == n for r in results)]
    dsts = [n for n in names if any(r["dst"] == n for r in results)]
    lines = []
    for key in keys:
        lines.append(f"{key:<{w}}" + "".join(f"{d:>{w}}" for d in dsts) + "   (rows: source)")
        for s in srcs:
            row = "".join(f"{cells.get((key, s, d), '·'):>{w}}" for d in dsts)
            lines.append(f"{s:<{w}}{row}")
        lines.append("")
    return lines


def format_matrix(m) -> str:
    results = m["results"]
    if not results:
        return f"lab {m['lab']}: no flows to probe"
    fam = results[0]["family"].replace("ipv", "IPv")
    summary = m["summary"]
    lost = f", {summary['lost']} LOST" if summary.get("lost") else ""
    by_rule = f" ({summary['rule_mismatches']} by rule only)" \
        if summary.get("rule_mismatches") else ""
    lines = [f"lab {m['lab']}, {fam}: {summary['total']} flows, "
             f"{summary['correct']} as expected (verdict and rule), {summary['wrong']} "
             f"wrong{by_rule}{lost}", ""]
    lines += _grids(results)
    lines.append("allow = the destination answered; deny = a lab rule dropped it; "
                 "X! = observed X, the provider's rules say otherwise; X~ = the expected "
                 "verdict, but the kernel reports another rule deciding")
    if lost:
        lines.append("lost? = neither answered nor dropped by any lab rule: a fault of the "
                     "lab (or the machine), not a verdict")
    dependent = [r for r in results if r.get("readings")]
    if dependent:
        lines.append("X* = the documents can be read another way, and that reading gives "
                     "this flow another verdict (README: Where the documents disagree)")
    wrong = [r for r in results if not r["match"]]
    if wrong:
        lines.append("\nmismatches:")
        lines += ["  " + format_record(r).replace("\n", "\n  ") for r in wrong]
    if dependent:
        lines.append(f"\nverdicts that depend on the reading ({len(dependent)}):")
        for r in dependent[:MAX_LISTED]:
            lines.append(f"  {r['src']} -> {r['dst']} {r['protocol']}{_port(r)}: expected "
                         f"{r['expected']}; " + "; ".join(format_readings(r)))
        if len(dependent) > MAX_LISTED:
            lines.append(f"  ... and {len(dependent) - MAX_LISTED} more (--json lists all)")
    return "\n".join(lines)


MAX_SESSIONS = 20  # tracked sessions listed per instance (--json has them all)


def _session_flow(se) -> str:
    ports = f":{se['sport']} -> {se['dst']}:{se['dport']}" if se["sport"] is not None \
        else f" -> {se['dst']}"
    state = f" {se['state']}" if se.get("state") else ""
    return f"{se['protocol']} {se['src']}{ports}{state}"


def _session(se) -> str:
    a = se["admitted_by"]
    who = f"{a['direction']}: {a['why']}" if a else "no lab rule's mark"
    return f"{_session_flow(se)}, admitted by {who}"


def format_status(st) -> str:
    lines = [f"lab {st['lab']} ({st['provider']})"]
    for h in st.get("hosts", []):
        where = "simulated" if h["simulated"] else h["address"]
        lines.append(f"  host {h['name']} ({where}, {h['transport']}): "
                     f"{h['instances']} instances")
    for i in st["instances"]:
        on = f" on {i['host']}" if "host" in i else ""
        lines.append(f"  {i['name']}  [{'up' if i['up'] else 'DOWN'}] namespace {i['namespace']}"
                     f"{on}, conntrack entries {i['conntrack_entries']}")
        for e in i["enis"]:
            v6 = f" {e['ipv6']}" if e["ipv6"] else ""
            lines.append(f"    {e['ifname']} {e['subnet']} {e['ip']}{v6} groups "
                         f"{', '.join(e['groups'])} (rules in {e['rules']['ingress']}, "
                         f"out {e['rules']['egress']})")
        listed = i.get("sessions", [])
        for se in listed[:MAX_SESSIONS]:
            lines.append(f"    session {_session(se)}")
        if len(listed) > MAX_SESSIONS:
            lines.append(f"    ... and {len(listed) - MAX_SESSIONS} more sessions "
                         "(--json lists all)")
    for x in st["externals"]:
        v6 = f" {x['ipv6']}" if x["ipv6"] else ""
        on = f" on {x['host']}" if "host" in x else ""
        lines.append(f"  {x['name']}  [{'up' if x['up'] else 'DOWN'}] external {x['ip']}{v6}"
                     f"{on}")
    return "\n".join(lines)


def format_diff(d) -> str:
    """One line per changed class of traffic (sgnet.core.classview.line)."""
    from sgnet.core.classview import line
    s = d["summary"]
    scope = "both families" if len(d["scope"]["families"]) == 2 else \
        f"IPv{d['scope']['families'][0]}"
    ports = "every protocol and port" if d["scope"]["ports"] == "all" else \
        ",".join(d["scope"]["ports"])
    head = (f"lab {d['lab']} with the groups of {d['changed']} ({scope}, {ports}): "
            f"{s['classes']} classes of traffic change, {s['gained']} gained, {s['lost']} lost")
    if d["clone"]:
        head += (f" (on clone {d['clone']}: {s['confirmed']} confirmed, "
                 f"{s['clone_mismatches']} disagree, {s['unconfirmed']} not testable"
                 + (f", {s['clone_lost']} probes LOST" if s.get("clone_lost") else "") + ")")
    lines = [head]
    for title, rows in (("gained", d["gained"]), ("lost", d["lost"])):
        for r in rows:
            lines.append(f"  {title:6s} {line(r)}")
    return "\n".join(lines)


def format_access(t) -> str:
    """explain LAB DST: per ENI, what it accepts (ingress) and sends (egress), one line
    per class, allowed classes first."""
    from sgnet.core.classview import line
    s = t["summary"]
    lines = [f"{t['instance']} (lab {t['lab']}): {s['classes']} classes of traffic, "
             f"{s['allowed']} allowed; {s['confirmed']} confirmed by packets, "
             f"{s['disagree']} where the kernel disagrees, {s['unconfirmed']} not testable"]
    for e in t["enis"]:
        lines.append(f"  {e['eni']} ({e['subnet']}; {', '.join(e['addresses'])}; groups "
                     f"{', '.join(e['groups'])})")
        for title, key in (("accepts", "ingress"), ("sends", "egress")):
            rows = sorted(e[key], key=lambda r: r["verdict"] != "allow")
            lines.append(f"    {title}:")
            lines += [f"      {line(r)}" for r in rows]
    return "\n".join(lines)


def format_verify(v) -> str:
    from sgnet.core.classview import line
    s = v["summary"]
    lines = [f"lab {v['lab']}: {s['hold']} of {s['intents']} intents hold, {s['violated']} "
             f"violated ({s['violations']} classes of traffic)"]
    for it in v["intents"]:
        mark = "holds" if it["holds"] else "VIOLATED"
        lines.append(f"  {it['name']}: {mark} (from {it['from']} to {it['to']}, "
                     f"{it['traffic']}: expect {it['expect']})")
        lines += [f"    {line(r)}" for r in it["violations"]]
    return "\n".join(lines)


def _replay_line(r) -> str:
    port = f"/{r['port']}" if r["port"] is not None else ""
    now = r["now"]
    said = now["observed"] or f"not reached ({now['kernel']})"
    d = now["decided_by"]
    rule = f"{d['group']} rule {d['rule']}" if d["group"] is not None else d["why"]
    logged = ", ".join(f"{n} {a}" for a, n in r["logged"].items())
    out = (f"{r['src']} -> {r['dst']} {protocol_name(r['protocol'])}{port} at "
           f"{r['logged_at']} {r['direction']}: logged {logged}; now {said} ({rule})")
    if "after" in r:
        a = r["after"]
        out += f"; after {a['observed'] or a['expected']}"
    marks = [m for m, on in (("DISAGREES", r["disagree"]), ("CUT", r.get("cut")),
                             ("OPENED", r.get("opened"))) if on]
    return out + (f"  <-- {', '.join(marks)}" if marks else "")


def format_replay(r) -> str:
    s = r["summary"]
    head = (f"lab {r['lab']}: {s['records']:,} records replayed as {s['flows']:,} flows; "
            f"{s['disagree']:,} records disagree with the lab")
    if "cut" in s:
        head += f"; with {r['against']}: {s['cut']:,} cut, {s['opened']:,} opened"
    head += (f" ({s['skipped']:,} rows skipped, {s['outside_the_lab']:,} outside the lab, "
             f"{s['not_replayed']:,} not replayable)")
    lines = [head]
    shown = [x for x in r["flows"] if x["disagree"] or x.get("cut") or x.get("opened")]
    lines += [f"  {_replay_line(x)}" for x in shown[:50]]
    if len(shown) > 50:
        lines.append(f"  ... and {len(shown) - 50} more (--json lists all)")
    unused = [u for u in r["rules"] if u["unused"]]
    if unused:
        lines.append("rules that decided no logged flow (candidates for removal):")
        lines += [f"  {u['group']} rule {u['rule']}: {u['text']}" for u in unused]
    lines += [f"  {m}" for m in r["skips"][:10]]
    return "\n".join(lines)


def format_change(res) -> str:
    inst = ", ".join(res["instances_updated"]) or "none (no ruleset changed)"
    lines = [f"lab {res['lab']}: {res['change']}: applied; instances updated: {inst}; "
             f"tracked sessions cut: {res['sessions_cut']}"]
    for c in res.get("cut", [])[:MAX_SESSIONS]:
        said = c.get("observed_by")
        kernel = "" if "observed" not in c else (
            "; the kernel: the same rule" if c["match"] else
            f"; the kernel: {c['observed']} - {_rule(said)}  <-- MISMATCH")
        lines.append(f"  cut on {c['instance']}: {_session_flow(c)} - "
                     f"{c['decided_by']['why']}{kernel}")
    if len(res.get("cut", [])) > MAX_SESSIONS:
        lines.append(f"  ... and {len(res['cut']) - MAX_SESSIONS} more (--json lists all)")
    return "\n".join(lines)


def format_hits(h) -> str:
    lines = [f"lab {h['lab']}: packets matched per rule (new connections; replies pass as "
             "established)"]
    for r in h["rules"]:
        rule = f"rule {r['rule']}" if isinstance(r["rule"], int) else r["rule"]
        per = ", ".join(f"{k} {v}" for k, v in sorted(r["instances"].items()))
        lines.append(f"  {r['packets']:>8}  {r['group']} {rule}: {r.get('text', '')}  [{per}]")
    return "\n".join(lines)


def format_explain(e) -> str:
    lines = [f"{e['src']} ({e['src_ip']}) -> {e['dst']} ({e['dst_ip']}) {e['protocol']}"
             f"{_port(e)} {e['family']}: expected {e['expected']}"]
    for s in e["steps"]:
        where = f" on {s['eni']}" if s.get("eni") else ""
        lines.append(f"  {s['direction']}{where}: {s['verdict']} - {s['why']}")
    lines += [f"  {line}" for line in format_readings(e)]
    lines.append("  replies of an allowed flow pass whatever the reverse rules say (stateful)")
    k = e.get("kernel")
    if k is not None:
        if k["observed"] == "lost":
            lines.append(f"the kernel: LOST (a lab fault, not a verdict): {k.get('lost', '')}")
        else:
            verdict = {"verdict": "  <-- MISMATCH", "rule": "  <-- RULE MISMATCH"}.get(
                k.get("mismatch"), "  (as expected)")
            lines.append(f"the kernel: {k['observed']} ({k['detail']}) - "
                         f"{_rule(k['observed_by'])}{verdict}")
    return "\n".join(lines)


def format_findings(findings: list) -> str:
    """lint's findings, one a line."""
    return "\n".join(f"{f['severity']:7s} {f['group']}"
                     + (f" rule {f['rule']}" if f["rule"] is not None else "")
                     + f": {f['message']}" for f in findings) or "no findings"


def format_removed(removed: dict) -> str:
    """down: lab -> the namespaces removed."""
    return "\n".join(f"lab {lab}: removed {len(ns)} namespaces"
                     for lab, ns in removed.items()) or "no lab to remove"


def format_import(res: dict) -> str:
    return (f"wrote {res['output']}: {res['groups']} groups, {res['instances']} instances, "
            f"{len(res['warnings'])} warnings")


def format_report(res: dict) -> str:
    return (f"wrote {res['output']}: {res['summary']['total']} flows, "
            f"{res['summary']['wrong']} wrong")

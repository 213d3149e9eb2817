"""The report's classes of traffic (pure): each instance's access table (what every ENI
accepts and sends, class by class), and the classes a diff changes or an intent's
violations, each with the rule that decides it and whether packets confirmed it."""

from __future__ import annotations

from html import escape

from sgnet.core.classview import remote_text
from sgnet.io.report.style import attr

CSS = """
table.classes { border-collapse: collapse; font-size: 12px; margin: 4px 0 12px; }
table.classes td, table.classes th { border: 1px solid #ddd; padding: 3px 6px; text-align: left;
  vertical-align: top; }
table.classes tr.allow td.verdict { background: #dff1e4; }
table.classes tr.deny td.verdict { background: #eef1f5; }
table.classes tr.disagree { box-shadow: inset 0 0 0 2px #f57c00; }
table.classes td.remote { max-width: 420px; }
"""


def _confirmed(r: dict) -> str:
    c = r.get("confirmed", "")
    if c is True:
        return '<span class="ok">confirmed</span>'
    if c is False:
        return "<b>the kernel disagrees</b>"
    if c is None:
        return f'<span class="muted">not testable: {escape(r.get("unconfirmed", ""))}</span>'
    return ""


def _rows(records: list, changed: bool) -> list:
    head = ["direction", "family", "traffic", "other end", "before", "after"] if changed \
        else ["direction", "family", "traffic", "other end", "verdict"]
    out = ['<table class="classes"><tr>' + "".join(f"<th>{h}</th>" for h in head)
           + "<th>decided by</th><th>packets</th></tr>"]
    for r in records:
        proto = r["protocol"] + (f"/{r['ports']}" if r["ports"] else "")
        d = r["decided_by"]
        rule = f"{d['group']} rule {d['rule']}" if d["group"] is not None else d["why"]
        verdict = r["after"] if changed else r["verdict"]
        cls = f"{verdict}{' disagree' if r.get('confirmed') is False else ''}"
        cells = [r["direction"], f"IPv{r['family']}", proto,
                 remote_text(r["remote"], r["family"])]
        cells += [r["before"], r["after"]] if changed else [r["verdict"]]
        out.append(f'<tr class="{attr(cls)}">' + "".join(
            f'<td{" class=remote" if k == 3 else ""}>{escape(str(c))}</td>'
            for k, c in enumerate(cells[:-1])) +
            f'<td class="verdict">{escape(cells[-1])}</td>'
            f"<td title=\"{attr(d['why'])}\">{escape(rule)}</td><td>{_confirmed(r)}</td></tr>")
    out.append("</table>")
    return out


def access_html(tables: list) -> str:
    """Per instance (sgnet.classprobe.access answers), per ENI, its classes, allowed first."""
    out = ['<div id="access">']
    for t in tables:
        s = t["summary"]
        out.append(f'<details class="access" data-instance="{attr(t["instance"])}"><summary>'
                   f'<b>{escape(t["instance"])}</b> <span class="muted">{s["classes"]} classes, '
                   f'{s["allowed"]} allowed; {s["confirmed"]} confirmed by packets'
                   + (f', <b>{s["disagree"]} where the kernel disagrees</b>' if s["disagree"]
                      else "") + "</span></summary>")
        for e in t["enis"]:
            out.append(f"<h3>{escape(e['eni'])} <span class=\"muted\">{escape(e['subnet'])}; "
                       f"{escape(', '.join(e['addresses']))}; groups "
                       f"{escape(', '.join(e['groups']))}</span></h3>")
            rows = sorted(e["ingress"] + e["egress"],
                          key=lambda r: (r["direction"], r["verdict"] != "allow"))
            out += _rows(rows, changed=False)
        out.append("</details>")
    out.append("</div>")
    return "\n".join(out)


def diff_html(d: dict) -> str:
    """The classes a diff changes (sgnet.core.classview.diff_result)."""
    s = d["summary"]
    out = [f'<div id="diff"><p class="meta">with the groups of <b>{escape(d["changed"])}</b>: '
           f'{s["classes"]} classes of traffic change, {s["gained"]} gained, {s["lost"]} lost; '
           f'{s["confirmed"]} confirmed on a clone, {s["clone_mismatches"]} where it '
           "disagrees</p>"]
    out += _rows(d["gained"] + d["lost"], changed=True)
    out.append("</div>")
    return "\n".join(out)


def verify_html(v: dict) -> str:
    """Each intent (sgnet.classprobe.verify), with its violating classes."""
    out = ['<div id="verify">']
    for it in v["intents"]:
        mark = '<span class="ok">holds</span>' if it["holds"] else "<b>violated</b>"
        out.append(f'<h3 data-intent="{attr(it["name"])}">{escape(it["name"])}: {mark} '
                   f'<span class="muted">from {escape(it["from"])} to {escape(it["to"])}, '
                   f'{escape(str(it["traffic"]))}: expect {escape(it["expect"])}</span></h3>')
        if it["violations"]:
            out += _rows(it["violations"], changed=False)
    out.append("</div>")
    return "\n".join(out)


def replay_html(r: dict) -> str:
    """Flow logs replayed (sgnet.replaying): the flows where production and the lab
    disagree, and each rule's use in the logs (the unused ones: candidates for removal)."""
    s = r["summary"]
    out = [f'<div id="replay"><p class="meta">{s["records"]:,} records of '
           f'{escape(", ".join(r["logs"]))} replayed as {s["flows"]:,} flows: '
           f'{s["disagree"]:,} records disagree with the lab</p>']
    bad = [x for x in r["flows"] if x["disagree"]]
    if bad:
        out.append('<table class="classes"><tr><th>flow</th><th>logged at</th><th>logged</th>'
                   "<th>the lab now</th><th>decided by</th></tr>")
        for x in bad:
            port = f"/{x['port']}" if x["port"] is not None else ""
            now = x["now"]
            out.append(f'<tr class="disagree"><td>{escape(x["src"])} &rarr; '
                       f'{escape(x["dst"])} {x["protocol"]}{escape(port)}</td>'
                       f'<td>{escape(x["logged_at"])} {escape(x["direction"])}</td>'
                       f'<td>{escape(", ".join(x["disagree"]))}</td>'
                       f'<td>{escape(str(now["observed"] or now["expected"]))}</td>'
                       f'<td>{escape(now["decided_by"]["why"])}</td></tr>')
        out.append("</table>")
    out.append('<table class="classes" id="rule-usage"><tr><th>group</th><th>rule</th>'
               "<th>logged records it decided</th><th></th></tr>")
    for u in r["rules"]:
        mark = "<b>unused: a candidate for removal</b>" if u["unused"] else ""
        out.append(f'<tr data-rule="{attr(u["group"])}/{u["rule"]}"><td>{escape(u["group"])}'
                   f'</td><td title="{attr(u["text"])}">{u["rule"]}</td>'
                   f'<td>{u["records"]:,}</td><td>{mark}</td></tr>')
    out.append("</table></div>")
    return "\n".join(out)

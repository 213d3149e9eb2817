"""The report's reachability grids (pure): one `<table class="matrix">` per family and
protocol/port, rows the sources, columns the destinations, each cell coloured by what the
kernel did and marked where that differs from the provider's rules (!) and where another
reading of the documents gives another verdict (*, with a legend); then the mismatches and
the flows that depend on a reading."""

from __future__ import annotations

from html import escape

from sgnet.core.model import Lab
from sgnet.io.report.style import attr


def _key(r) -> str:
    return r["protocol"] + (f"/{r['port']}" if r.get("port") is not None else "")


def _decided(r) -> str:
    d = r.get("decided_by") or {}
    head = d.get("direction") or "?"
    if d.get("group") is not None:
        head += f", group {d['group']}"
        if d.get("rule") is not None:
            head += f", rule {d['rule']}"
    else:
        head += ", no rule (the default)"
    return f"decided by: {head}\n{d.get('why', '')}".rstrip()


def cell_title(r) -> str:
    """The hover text of a grid cell: the flow, both verdicts, the deciding rule."""
    src = r["src"] + (f" ({r['src_ip']})" if r.get("src_ip") else "")
    dst = r["dst"] + (f" ({r['dst_ip']})" if r.get("dst_ip") else "")
    lines = [f"{src} → {dst} {_key(r)}",
             f"expected: {r['expected']}",
             f"observed: {r['observed']}" + (f" ({r['detail']})" if r.get("detail") else "")]
    if r["observed"] == "lost":
        lines.append(f"LOST (a lab fault, not a verdict): {r.get('lost', '')}")
    elif r.get("mismatch") == "rule":
        lines.append("RULE MISMATCH: the expected verdict, but the kernel reports another "
                     "rule deciding")
    elif not r["match"]:
        lines.append("MISMATCH: the kernel did not do what the provider's rules say")
    lines.append(_decided(r))
    if r.get("observed_by") is not None and r.get("mismatch") == "rule":
        lines.append("the kernel: " + _decided({"decided_by": r["observed_by"]})
                     .replace("decided by: ", "", 1))
    lines += [_other(o) for o in r.get("readings", [])]
    return "\n".join(lines)


def _other(o) -> str:
    return (f"* with {o['setting']}: {o['value']} (this lab: {o['lab_value']}): "
            f"{o['verdict']} - {o['decided_by'].get('why', '')}")


def _order(lab: Lab, names) -> list:
    known = [i.name for i in lab.instances] + [x.name for x in lab.externals]
    return [n for n in known if n in names] + [n for n in names if n not in known]


def _ext(name: str, externals: set) -> str:
    return " ext" if name in externals else ""


def _cell(s: str, d: str, r) -> str:
    if r is None:
        return f'<td class="cell none" data-src="{attr(s)}" data-dst="{attr(d)}"></td>'
    allowed = r["observed"] == "allow"
    kind = "lost" if r["observed"] == "lost" else \
        None if r["match"] else r.get("mismatch", "verdict")
    # a verdict mismatch (!), a rule-level one (~: the verdict expected, another rule),
    # a lost probe (?: neither answered nor dropped by any lab rule)
    cls = ["cell", "allow" if allowed else "lost" if kind == "lost" else "deny"] \
        + ({"verdict": ["mismatch"], "rule": ["mismatch", "rule-mismatch"],
            "lost": ["mismatch"]}.get(kind, [])) + (["reading"] if r.get("readings") else [])
    mark = ("?" if kind == "lost" else "✓" if allowed else "✕") \
        + {"verdict": "!", "rule": "~"}.get(kind, "") + ("*" if r.get("readings") else "")
    return (f'<td class="{" ".join(cls)}" data-src="{attr(s)}" data-dst="{attr(d)}" '
            f'data-expected="{attr(r["expected"])}" data-observed="{attr(r["observed"])}" '
            f'title="{attr(cell_title(r))}">{mark}</td>')


def _grid(family: str, key: str, cells: dict, srcs: list, dsts: list, externals: set) -> list:
    """One table: (source, destination) -> record."""
    fam = family.replace("ipv", "IPv")
    wrong = sum(1 for r in cells.values() if not r["match"])
    out = [f'<section class="grid"><h3>{escape(key)} <span class="muted">'
           f"{escape(fam)}, {len(cells)} flows, "
           f'{"all as expected" if not wrong else f"{wrong} wrong"}</span></h3>',
           f'<table class="matrix" data-port="{attr(key)}" data-family="{attr(family)}">',
           '<thead><tr><th class="corner">source ↓ / destination →</th>'
           + "".join(f'<th class="dst{_ext(d, externals)}" scope="col">'
                     f"<span>{escape(d)}</span></th>" for d in dsts)
           + "</tr></thead><tbody>"]
    for s in srcs:
        out.append(f'<tr><th class="src{_ext(s, externals)}" scope="row">{escape(s)}</th>'
                   + "".join(_cell(s, d, cells.get((s, d))) for d in dsts) + "</tr>")
    out.append("</tbody></table></section>")
    return out


def _mismatches(results: list) -> list:
    wrong = [r for r in results if not r["match"]]
    out = ['<h3>Mismatches</h3>']
    if not wrong:
        return out + ['<p class="ok" id="no-mismatch">none: every flow did what the '
                      "provider's rules say</p>"]
    out.append('<table class="mismatches"><thead><tr><th>source</th><th>destination</th>'
               "<th>flow</th><th>expected</th><th>observed</th><th>deciding rule</th>"
               "<th>the kernel reports</th></tr></thead><tbody>")
    for r in wrong:
        d = r.get("decided_by") or {}
        out.append(f'<tr data-src="{attr(r["src"])}" data-dst="{attr(r["dst"])}" '
                   f'data-port="{attr(_key(r))}"><td>{escape(r["src"])}</td>'
                   f'<td>{escape(r["dst"])}</td><td>{escape(_key(r))}</td>'
                   f'<td>{escape(r["expected"])}</td>'
                   f'<td>{escape(r["observed"])}'
                   + (f" ({escape(r['detail'])})" if r.get("detail") else "")
                   + f'</td><td>{escape(d.get("direction") or "")}: '
                   f'{escape(d.get("why", ""))}</td><td class="observed-by">'
                   f'{escape(_kernel_said(r))}</td></tr>')
    out.append("</tbody></table>")
    return out


def _kernel_said(r) -> str:
    if r["observed"] == "lost":
        return "lost: " + r.get("lost", "")
    o = r.get("observed_by")
    if o is None:
        return "no rule"
    return ("same verdict, another rule: " if r.get("mismatch") == "rule" else "") + \
        f"{o.get('direction') or ''}: {o.get('why', '')}"


def _dependent(results: list) -> list:
    """The legend of the * mark and the flows it marks (nothing if none is marked)."""
    marked = [r for r in results if r.get("readings")]
    if not marked:
        return []
    out = ['<h3>Verdicts that depend on the reading</h3>',
           '<p class="muted" id="readings-legend">* the providers\' documents can be read '
           "two ways here, and the other reading gives the flow another verdict (the lab "
           "file's <code>settings</code> choose the reading; README: Where the documents "
           "disagree)</p>",
           '<table class="readings"><thead><tr><th>source</th><th>destination</th>'
           "<th>flow</th><th>expected</th><th>other reading</th><th>there</th>"
           "<th>sources</th></tr></thead><tbody>"]
    for r in marked:
        for o in r["readings"]:
            links = " ".join(f'<a href="{attr(u)}">{escape(u)}</a>' for u in o["sources"])
            out.append(f'<tr data-src="{attr(r["src"])}" data-dst="{attr(r["dst"])}" '
                       f'data-port="{attr(_key(r))}"><td>{escape(r["src"])}</td>'
                       f'<td>{escape(r["dst"])}</td><td>{escape(_key(r))}</td>'
                       f'<td>{escape(r["expected"])}</td>'
                       f'<td>{escape(o["setting"])}: {escape(o["value"])} (this lab: '
                       f'{escape(o["lab_value"])})</td>'
                       f'<td>{escape(o["verdict"])}: {escape(o["decided_by"].get("why", ""))}'
                       f"</td><td>{links}</td></tr>")
    out.append("</tbody></table>")
    return out


def matrix_html(lab: Lab, matrix: dict) -> str:
    """The grids of a matrix run, then its mismatches and the flows that depend on a
    reading of the documents."""
    results = matrix.get("results") or []
    if not results:
        return '<p class="muted" id="no-flows">no flows were probed</p>'
    externals = {x.name for x in lab.externals}
    srcs = _order(lab, {r["src"] for r in results})
    dsts = _order(lab, {r["dst"] for r in results})
    tables = {}
    for r in results:
        tables.setdefault((r.get("family", "ipv4"), _key(r)), {})[(r["src"], r["dst"])] = r
    out = ['<div class="grids">']
    for (family, key), cells in tables.items():
        out += _grid(family, key, cells, srcs, dsts, externals)
    out.append("</div>")
    return "\n".join(out + _mismatches(results) + _dependent(results))

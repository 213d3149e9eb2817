"""The report's page (pure): one self-contained HTML document, header, topology picture,
groups legend and reachability grids, with its CSS inline; `write` puts it in a file."""

from __future__ import annotations

from html import escape
from typing import Optional

from sgnet.core.model import Lab
from sgnet.io.report import classes as class_html
from sgnet.io.report.groups import groups_html
from sgnet.io.report.matrix import matrix_html
from sgnet.io.report.style import SANS, group_colours
from sgnet.io.report.topology import topology_svg

CSS = """
body { font-family: %(sans)s; color: #222; margin: 24px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.muted { color: #666; font-weight: normal; font-size: 13px; }
.meta { color: #444; font-size: 14px; margin-bottom: 10px; }
.summary { display: flex; gap: 12px; margin: 10px 0; }
.summary div { border-radius: 6px; padding: 8px 14px; font-size: 14px; background: #eef1f5; }
.summary b { font-size: 20px; display: block; }
.summary .correct { background: #dff1e4; }
.summary .wrong { background: #eef1f5; }
.summary .wrong.some { background: #ffe3c2; box-shadow: inset 0 0 0 2px #f57c00; }
.picture { overflow-x: auto; }
svg#topology text { white-space: pre; }
.legend { display: flex; flex-direction: column; gap: 4px; margin-top: 8px; font-size: 13px; }
.swatch { display: inline-block; border-radius: 9px; padding: 1px 9px; font-size: 12px; }
.legend summary { cursor: pointer; }
.rules { margin: 4px 0 8px; font-size: 12px; }
.rules li.deny code { color: #a12; }
.key { font-size: 13px; margin: 6px 0 10px; }
.key span.cell { display: inline-block; width: 28px; height: 22px; line-height: 22px;
  vertical-align: middle; text-align: center; margin: 0 4px 0 12px; }
.grids { display: flex; flex-wrap: wrap; gap: 8px 36px; align-items: flex-start; }
table.matrix { border-collapse: separate; border-spacing: 2px; font-size: 13px; }
table.matrix th { font-weight: normal; padding: 2px 6px; }
table.matrix th.dst { vertical-align: bottom; height: 20px; }
table.matrix th.dst span { writing-mode: vertical-rl; transform: rotate(180deg);
  white-space: nowrap; }
table.matrix th.src { text-align: right; white-space: nowrap; }
table.matrix th.ext, table.matrix th.ext span { font-style: italic; color: #8a4b12; }
table.matrix th.corner { font-size: 11px; color: #666; text-align: left; vertical-align: bottom; }
.cell { width: 30px; height: 24px; text-align: center; font-weight: bold; border-radius: 3px; }
.cell.allow { background: #3c9d5b; color: #fff; }
.cell.deny { background: #d9dce1; color: #7a7f87; }
.cell.none { background: #f6f6f6; }
.cell.mismatch { box-shadow: inset 0 0 0 3px #f57c00; color: #000; }
.cell.allow.mismatch { background: #3c9d5b; color: #fff; text-shadow: 0 0 2px #000; }
.cell.deny.mismatch { background: #f3b9b9; }
.cell.rule-mismatch { box-shadow: inset 0 0 0 3px #7b1fa2; }
.cell.lost { background: #fff59d; color: #000; }
td.cell:hover { outline: 2px solid #1d3f6e; }
table.mismatches { border-collapse: collapse; font-size: 13px; }
table.mismatches td, table.mismatches th { border: 1px solid #ddd; padding: 4px 8px;
  text-align: left; }
table.mismatches tr { background: #fff3e6; }
.ok { color: #2d7a45; }
footer { margin-top: 30px; font-size: 12px; color: #888; }
""" % {"sans": SANS}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _header(lab: Lab, title: str, results: list, summary: dict) -> str:
    """The title, what the lab holds and the matrix summary."""
    total = summary.get("total", len(results))
    wrong = summary.get("wrong", sum(1 for r in results if not r["match"]))
    correct = summary.get("correct", total - wrong)
    families = sorted({r.get("family", "ipv4").replace("ipv", "IPv") for r in results})
    return (f'<header><h1>{escape(title)}</h1>'
            f'<div class="meta">lab <b id="lab-name">{escape(lab.name)}</b>, provider '
            f'<b id="provider">{escape(lab.provider)}</b>; {_plural(len(lab.vpcs), "VPC")}, '
            f'{_plural(len(lab.subnets), "subnet")}, '
            f'{len(lab.instances)} instances ({len(lab.enis)} ENIs), '
            f'{len(lab.externals)} externals, {len(lab.groups)} groups'
            + (f"; matrix over {escape(', '.join(families))}" if families else "") + "</div>\n"
            '<div class="summary" id="summary">'
            f'<div class="total">flows<b>{total}</b></div>'
            f'<div class="correct">as expected<b>{correct}</b></div>'
            f'<div class="wrong{" some" if wrong else ""}">wrong<b>{wrong}</b></div></div>'
            "</header>")


def render(lab: Lab, matrix: dict, title: Optional[str] = None, access: list = None,
           diff: dict = None, verify: dict = None, replay: dict = None) -> str:
    """One self-contained HTML document: header, topology picture, reachability grid; the
    instances' access tables (sgnet.classprobe.access answers), a diff's changed classes
    and intents with their violations, flow logs replayed (sgnet.replaying), when given."""
    matrix = matrix or {"lab": lab.name, "results": []}
    title = title or f"sgnet report: lab {lab.name}"
    colours = group_colours(lab)
    body = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}{class_html.CSS}</style></head><body>",
        _header(lab, title, matrix.get("results") or [], matrix.get("summary") or {}),
        "<h2>Topology</h2>",
        '<div class="picture">' + topology_svg(lab, colours) + "</div>",
        '<p class="key">Boxes: VPC (blue), subnet (dashed), instance (its primary ENI), '
        "secondary ENI (grey, dashed line to its instance), external hosts (brown, through "
        "the VPC gateway). Chips: security groups.</p>",
        "<h3>Security groups</h3>",
        groups_html(lab, colours),
        "<h2>Reachability</h2>",
        '<p class="key">Rows: source, columns: destination. Colour: what the kernel did '
        '<span class="cell allow">✓</span>allow (the destination answered)'
        '<span class="cell deny">✕</span>deny (a lab rule dropped it); '
        '<span class="cell allow mismatch">✓!</span><span class="cell deny mismatch">✕!</span>'
        "the provider's rules say otherwise; "
        '<span class="cell allow mismatch rule-mismatch">✓~</span>'
        '<span class="cell deny mismatch rule-mismatch">✕~</span>'
        "the expected verdict, but the kernel reports another rule deciding; "
        '<span class="cell lost mismatch">?</span>lost: neither answered nor dropped by any '
        "lab rule (a lab fault). Hover over a cell for the expected and observed verdicts, "
        "the rule that decides the flow and the rule the kernel reported.</p>",
        matrix_html(lab, matrix),
        *_class_sections(access, diff, verify),
        *(["<h2>Flow logs replayed</h2>", class_html.replay_html(replay)] if replay else []),
        f"<footer>generated by sgnet from {escape(str(lab.source))}</footer>",
        "</body></html>",
    ]
    return "\n".join(body) + "\n"


def _class_sections(access, diff, verify) -> list:
    out = []
    if diff is not None:
        out += ["<h2>What the change does</h2>", class_html.diff_html(diff)]
    if verify is not None:
        out += ["<h2>Intents</h2>", class_html.verify_html(verify)]
    if access:
        out += ["<h2>Access tables</h2>",
                '<p class="key">Every class of traffic each instance accepts and sends, from '
                "the decision lists, each class tried with packets (its first and last port "
                "and address).</p>", class_html.access_html(access)]
    return out


def write(path: str, html: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(html)

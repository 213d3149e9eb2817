"""The report's legend of security groups (pure): each group's colour, members and rules,
as `<details>` that open for groups with members."""

from __future__ import annotations

from html import escape

from sgnet.core.model import Lab
from sgnet.providers import get_profile
from sgnet.io.report.style import attr, ink


def _summary(lab: Lab, name: str, g, bg: str) -> str:
    members = [f"{e.instance}/{e.ifname}" for e in lab.enis_in(name)]
    tags = []
    if g.builtin:
        tags.append("provider's own")
    tags += get_profile(lab.provider).group_tags(g)
    return (f'<details class="group" data-group="{attr(name)}"'
            f'{" open" if members and not g.builtin else ""}><summary>'
            f'<span class="swatch" style="background:{bg};color:{ink(bg)}">'
            f"{escape(name)}</span> "
            f'<span class="muted">{len(g.rules)} rule{"s" if len(g.rules) != 1 else ""}'
            f'{"; " + escape("; ".join(tags)) if tags else ""}; members: '
            f'{escape(", ".join(members)) if members else "none"}</span></summary>')


def _rules(g) -> list:
    if not g.rules:
        return ['<p class="muted">no rules: only the provider\'s implicit behaviour applies</p>']
    out = ['<ol start="0" class="rules">']
    for r in g.rules:
        desc = f' <span class="muted">({escape(r.description)})</span>' if r.description else ""
        out.append(f'<li class="rule {attr(r.action)}"><code>{escape(r.text())}</code>'
                   f"{desc}</li>")
    out.append("</ol>")
    return out


def groups_html(lab: Lab, colours: dict) -> str:
    """Every group of the lab, in its order, with its colour as in the picture."""
    out = ['<div class="legend" id="groups">']
    for name, g in lab.groups.items():
        out.append(_summary(lab, name, g, colours[name]))
        out += _rules(g)
        out.append("</details>")
    out.append("</div>")
    return "\n".join(out)

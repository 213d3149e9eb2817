"""`sgnet report`: one self-contained HTML page for a lab and a matrix run.

The page has three parts, all inline (CSS and SVG, no script, no external resource):

- a header: lab name, provider, address family and the matrix summary;
- the topology, an inline SVG (`<svg id="topology">`): each VPC a box with its CIDRs,
  each subnet a box inside it, each instance a node inside the subnet of its primary ENI
  with its address and its groups as colour chips; a secondary ENI is a small node in its
  own subnet, joined to its instance by a dashed line; externals stand outside, joined to
  each VPC's gateway. A legend of the groups, with their rules, follows the picture;
- the reachability grid: for each protocol/port a `<table class="matrix">`, rows the
  sources, columns the destinations, each `<td class="cell ...">` coloured by what the
  kernel did (allow green, deny grey), framed in orange with a "!" where that differs from
  the provider's rules, with the expected and observed verdicts and the deciding rule in
  its `title` (shown on hover). The mismatches are listed again below the grids.

`render(lab, matrix)` is pure: same input, same page. The matrix is the dict of
`LabSession.matrix()` (contract §3): {"lab", "results": [records], "summary"}.
"""

from __future__ import annotations

import colorsys
from html import escape
from typing import Optional

from sgnet.core.model import Lab

__all__ = ["render", "write", "group_colours"]

# -- text metrics --------------------------------------------------------------------
# The picture is laid out here, before any browser sees it, so text widths are estimated
# from the advance widths (in em) of DejaVu Sans, the first font asked for and wider than
# most a browser falls back to, plus a margin: boxes are a little generous, never short.
SANS = "'DejaVu Sans', Verdana, 'Liberation Sans', Arial, sans-serif"
MONO = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace"
_ADVANCE = {}
for _chars, _em in (("il.,:;'|!j", 0.30), (" ", 0.32), ("/()[]-", 0.39), ("ftI", 0.40),
                    ("r", 0.42), ("szc", 0.56), ("kvxyJ", 0.60), ("abdeghnopqu", 0.64),
                    ("0123456789_·", 0.64), ("w", 0.82), ("mMW", 1.0)):
    for _c in _chars:
        _ADVANCE[_c] = _em
_WIDE = 0.76  # capitals and anything else
_BOLD = 1.12  # DejaVu Sans Bold against Book
MONO_EM = 0.61


def _tw(text: str, size: float, kind: str = "sans") -> float:
    if kind == "mono":
        return len(text) * size * MONO_EM
    em = sum(_ADVANCE.get(c, _WIDE) for c in text) * 1.05
    return em * size * (_BOLD if kind == "bold" else 1.0)


# Tableau 10, then golden-angle hues for labs with more groups.
_PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
            "#ff9da7", "#9c755f", "#bab0ac"]


def _colour(i: int) -> str:
    if i < len(_PALETTE):
        return _PALETTE[i]
    h = (i * 137.508) % 360 / 360
    r, g, b = colorsys.hls_to_rgb(h, 0.55, 0.55)
    return "#%02x%02x%02x" % (round(r * 255), round(g * 255), round(b * 255))


def _ink(bg: str) -> str:
    """Black or white text, whichever reads better on the background colour."""
    r, g, b = (int(bg[i:i + 2], 16) / 255 for i in (1, 3, 5))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#111" if lum > 0.5 else "#fff"


def group_colours(lab: Lab) -> dict:
    """group name -> colour, in the lab's group order (stable for one lab file)."""
    return {name: _colour(i) for i, name in enumerate(lab.groups)}


def _a(value) -> str:
    return escape(str(value), quote=True)


# -- the topology picture --------------------------------------------------------------
M = 20  # outer margin
NODE_PAD = 8  # inside a node
SUB_PAD = 10  # inside a subnet, around its nodes
NODE_GAP = 10  # between nodes
CHIP_H = 17
CHIP_GAP = 4
FS_NAME, FS_ADDR, FS_SMALL, FS_CHIP, FS_TITLE = 13, 11, 10.5, 10.5, 14
LINE = 15  # a line of small text
WIDTH_BUDGET = 1340  # the picture's width on a common screen; wider ones scale down


class _Box:
    """A node of the picture: its lines of text and group chips, then its size."""

    def __init__(self, kind, title, lines, groups, data):
        self.kind, self.title, self.lines, self.groups, self.data = kind, title, lines, groups, data
        self.x = self.y = self.w = self.h = 0.0
        self.chip_rows = []

    def need_width(self) -> float:
        w = _tw(self.title, FS_NAME, "bold")
        for text, kind in self.lines:
            w = max(w, _tw(text, FS_ADDR if kind == "mono" else FS_SMALL, kind))
        for g in self.groups:
            w = max(w, self._chip_w(g))
        return w + 2 * NODE_PAD

    @staticmethod
    def _chip_w(g) -> float:
        return _tw(g, FS_CHIP) + 14

    def fit(self, width: float):
        """Lay the chips out in rows at this width; set the height."""
        self.w = width
        inner = width - 2 * NODE_PAD
        rows, row, used = [], [], 0.0
        for g in self.groups:
            cw = self._chip_w(g)
            if row and used + CHIP_GAP + cw > inner:
                rows.append(row)
                row, used = [], 0.0
            used += (CHIP_GAP if row else 0) + cw
            row.append((g, cw))
        if row:
            rows.append(row)
        self.chip_rows = rows
        self.h = (NODE_PAD + FS_NAME + 4 + LINE * len(self.lines)
                  + (len(rows) * (CHIP_H + CHIP_GAP) + 2 if rows else 0) + NODE_PAD - 2)


def _address_lines(eni) -> list:
    """An ENI's addresses: the primary, IPv6, and its block of secondary addresses."""
    lines = [(f"{eni.ifname} {eni.ip}", "mono")]
    if eni.ipv6 is not None:
        lines.append((f"     {eni.ipv6}", "mono"))
    if eni.secondary:
        lo, hi = eni.secondary
        lines.append((f"   + {lo}-{hi}" if lo != hi else f"   + {lo}", "mono"))
    return lines


def _instance_box(inst) -> _Box:
    eni = inst.primary
    lines = _address_lines(eni)
    for other in inst.enis[1:]:
        lines.append((f"{other.ifname} in {other.subnet} (dashed line)", "sans"))
    data = {"name": inst.name, "subnet": eni.subnet, "ip": str(eni.ip)}
    if inst.host is not None:  # a multi-host lab: where it runs
        lines.append((f"on host {inst.host}", "sans"))
        data["host"] = inst.host
    return _Box("instance", inst.name, lines, list(eni.groups), data)


def _eni_box(eni) -> _Box:
    lines = _address_lines(eni)
    return _Box("eni", f"{eni.instance} · {eni.ifname}", lines, list(eni.groups),
                {"instance": eni.instance, "eni": eni.ifname, "subnet": eni.subnet,
                 "ip": str(eni.ip)})


def _external_box(x) -> _Box:
    lines = [(str(x.ip), "mono")]
    if x.ipv6 is not None:
        lines.append((str(x.ipv6), "mono"))
    return _Box("external", x.name, lines, [], {"name": x.name, "ip": str(x.ip)})


def _text(x, y, s, size, kind="sans", cls=None, fill="#222", anchor=None) -> str:
    attrs = [f'x="{x:.1f}"', f'y="{y:.1f}"', f'font-size="{size}"']
    if kind == "mono":
        attrs.append('font-family="' + _a(MONO) + '"')
    if kind == "bold":
        attrs.append('font-weight="bold"')
    if cls:
        attrs.append(f'class="{cls}"')
    if fill != "#222":
        attrs.append(f'fill="{fill}"')
    if anchor:
        attrs.append(f'text-anchor="{anchor}"')
    return f"<text {' '.join(attrs)}>{escape(s)}</text>"


def _draw_box(b: _Box, colours, stroke, fill, tip) -> list:
    data = " ".join(f'data-{k}="{_a(v)}"' for k, v in b.data.items())
    out = [f'<g class="box {b.kind}" {data}>', f"<title>{escape(tip)}</title>",
           f'<rect class="frame" x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" '
           f'height="{b.h:.1f}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>']
    y = b.y + NODE_PAD + FS_NAME
    out.append(_text(b.x + NODE_PAD, y, b.title, FS_NAME, "bold", "name"))
    y += 4
    for text, kind in b.lines:
        y += LINE
        out.append(_text(b.x + NODE_PAD, y - 3, text, FS_ADDR if kind == "mono" else FS_SMALL,
                         kind, "addr" if kind == "mono" else "note",
                         "#222" if kind == "mono" else "#555"))
    y += 4
    for row in b.chip_rows:
        x = b.x + NODE_PAD
        for g, cw in row:
            bg = colours.get(g, "#888")
            out.append(f'<g class="chip" data-group="{_a(g)}">'
                       f'<rect x="{x:.1f}" y="{y:.1f}" width="{cw:.1f}" height="{CHIP_H}" '
                       f'rx="8" fill="{bg}"/>'
                       + _text(x + 7, y + CHIP_H - 4.5, g, FS_CHIP, fill=_ink(bg)) + "</g>")
            x += cw + CHIP_GAP
        y += CHIP_H + CHIP_GAP
    out.append("</g>")
    return out


def topology_svg(lab: Lab, colours: Optional[dict] = None) -> str:
    """The lab drawn as an inline SVG document fragment (`<svg id="topology">`)."""
    colours = colours or group_colours(lab)
    externals = [_external_box(x) for x in lab.externals]
    ext_w = max([150.0] + [b.need_width() for b in externals]) if externals else 0.0
    for b in externals:
        b.fit(ext_w)
    bus_x = M + ext_w + 36 if externals else None
    vpc_x = bus_x + 64 if externals else M
    gw_w, gw_h = 80.0, 26.0

    parts, links_svg, ext_svg = [], [], []
    width, y = vpc_x, M
    gateways = []
    for vpc in lab.vpcs:
        names = [s.name for s in vpc.subnets]
        members = {n: [] for n in names}
        for inst in lab.instances:
            if inst.primary.subnet in members:
                members[inst.primary.subnet].append(_instance_box(inst))
        seconds = [(inst, eni) for inst in lab.instances for eni in inst.enis[1:]
                   if eni.subnet in members]
        stubs = {}
        for inst, eni in seconds:
            b = _eni_box(eni)
            members[eni.subnet].append(b)
            stubs[(inst.name, eni.index)] = b
        nlinks = len(seconds)
        gap = max(40.0, 16 + 7 * nlinks)
        chan = max(22.0, 14 + 7 * nlinks)

        def sub_header(s):
            lines = [(s.name, FS_NAME, "bold"), (str(s.cidr), FS_ADDR, "mono")]
            if s.ipv6_cidr is not None:
                lines.append((str(s.ipv6_cidr), FS_ADDR, "mono"))
            return lines

        col_w = 220.0
        for s in vpc.subnets:
            for text, size, kind in sub_header(s):
                col_w = max(col_w, _tw(text, size, kind) + 2 * SUB_PAD)
            for b in members[s.name]:
                col_w = max(col_w, b.need_width() + 2 * SUB_PAD)
        # as many columns as fit a page about 1350 pixels wide, at most 4
        fit = int((WIDTH_BUDGET - vpc_x - gap) // (col_w + gap))
        ncols = max(1, min(len(vpc.subnets), 4, fit))

        title = f"{vpc.name}  {vpc.cidr}" + (f"  {vpc.ipv6_cidr}" if vpc.ipv6_cidr else "")
        head_h = 48.0
        title_x = vpc_x + (gw_w / 2 + 12 if externals else 14)
        # subnet geometry, row by row
        rows = [vpc.subnets[i:i + ncols] for i in range(0, len(vpc.subnets), ncols)]
        sub_geo = {}
        row_bottoms = []
        ry = y + head_h
        for r_i, row in enumerate(rows):
            heights = []
            for c_i, s in enumerate(row):
                hh = SUB_PAD + len(sub_header(s)) * 16 + 6
                for b in members[s.name]:
                    b.fit(col_w - 2 * SUB_PAD)
                    hh += b.h + NODE_GAP
                if not members[s.name]:
                    hh += 20
                heights.append(hh + SUB_PAD - (NODE_GAP if members[s.name] else 0))
            rh = max(heights)
            for c_i, s in enumerate(row):
                sx = vpc_x + gap + c_i * (col_w + gap)
                sub_geo[s.name] = (sx, ry, col_w, rh, r_i, c_i)
            row_bottoms.append(ry + rh)
            ry += rh + chan
        vpc_w = gap + ncols * (col_w + gap)
        cidrs = str(vpc.cidr) + (f"  {vpc.ipv6_cidr}" if vpc.ipv6_cidr else "")
        vpc_w = max(vpc_w, title_x - vpc_x + 20 + max(_tw(vpc.name, FS_TITLE, "bold"),
                                                      _tw(cidrs, FS_ADDR, "mono")))
        vpc_h = ry - y + (gap - chan if gap > chan else 0)
        if not vpc.subnets:
            vpc_h = head_h + 20
        parts.append(f'<g class="vpc" data-name="{_a(vpc.name)}">')
        parts.append(f"<title>{escape(title)}</title>")
        parts.append(f'<rect class="frame" x="{vpc_x:.1f}" y="{y:.1f}" width="{vpc_w:.1f}" '
                     f'height="{vpc_h:.1f}" rx="10" fill="#f3f6fb" stroke="#4e79a7" '
                     f'stroke-width="2"/>')
        parts.append(_text(title_x, y + 20, vpc.name, FS_TITLE, "bold", "name", "#1d3f6e"))
        parts.append(_text(title_x, y + 38, cidrs, FS_ADDR, "mono", "addr", "#1d3f6e"))
        for s in vpc.subnets:
            sx, sy, sw, sh, _, _ = sub_geo[s.name]
            parts.append(f'<g class="subnet" data-name="{_a(s.name)}" data-cidr="{_a(s.cidr)}">')
            parts.append(f"<title>subnet {escape(s.name)} {escape(str(s.cidr))}"
                         + (f" {escape(str(s.ipv6_cidr))}" if s.ipv6_cidr else "") + "</title>")
            parts.append(f'<rect class="frame" x="{sx:.1f}" y="{sy:.1f}" width="{sw:.1f}" '
                         f'height="{sh:.1f}" rx="8" fill="#ffffff" stroke="#8aa1c1" '
                         f'stroke-width="1.2" stroke-dasharray="5 3"/>')
            ty = sy + SUB_PAD
            for text, size, kind in sub_header(s):
                ty += 16
                parts.append(_text(sx + SUB_PAD, ty - 2, text, size, kind,
                                   "name" if kind == "bold" else "addr", "#333"))
            ny = ty + 6
            if not members[s.name]:
                parts.append(_text(sx + SUB_PAD, ny + 13, "(no instances)", FS_SMALL,
                                   cls="note", fill="#888"))
            for b in members[s.name]:
                b.x, b.y = sx + SUB_PAD, ny
                ny += b.h + NODE_GAP
            for b in members[s.name]:
                if b.kind == "instance":
                    inst = lab.instance(b.data["name"])
                    tip = "\n".join(
                        [f"instance {inst.name}"]
                        + [f"{e.ifname}: {e.subnet} {e.ip}"
                           + (f" {e.ipv6}" if e.ipv6 else "")
                           + f" groups {', '.join(e.groups)}" for e in inst.enis])
                    parts += _draw_box(b, colours, "#555", "#fdfdfd", tip)
                else:
                    tip = (f"secondary ENI {b.data['eni']} of {b.data['instance']} in "
                           f"{b.data['subnet']}: {b.data['ip']}, groups {', '.join(b.groups)}")
                    parts += _draw_box(b, colours, "#777", "#f7f7f7", tip)
            parts.append("</g>")
        # secondary ENIs: dashed lines from the instance to its ENI, along the gaps
        for k, (inst, eni) in enumerate(seconds):
            src = next((b for bs in members.values() for b in bs
                        if b.kind == "instance" and b.data["name"] == inst.name), None)
            dst = stubs[(inst.name, eni.index)]
            if src is None:
                continue
            lane = 8 + 7 * k
            s_geo, t_geo = sub_geo[inst.primary.subnet], sub_geo[eni.subnet]
            sx0 = src.x + src.w
            sy0 = src.y + 14 + (k % 3) * 4
            gx1 = s_geo[0] + s_geo[2] + lane  # the gap right of the source's column
            gx2 = t_geo[0] - gap + lane  # the gap left of the target's column
            ty0 = dst.y + 14
            if abs(gx1 - gx2) < 0.5:
                d = f"M{sx0:.1f},{sy0:.1f} H{gx1:.1f} V{ty0:.1f} H{dst.x:.1f}"
            else:
                cy = row_bottoms[t_geo[4]] + 6 + 7 * k
                d = (f"M{sx0:.1f},{sy0:.1f} H{gx1:.1f} V{cy:.1f} H{gx2:.1f} V{ty0:.1f} "
                     f"H{dst.x:.1f}")
            links_svg.append(
                f'<path class="eni-link" data-instance="{_a(inst.name)}" '
                f'data-eni="{_a(eni.ifname)}" d="{d}" fill="none" stroke="#6b6b6b" '
                f'stroke-width="1.6" stroke-dasharray="6 4"/>'
                f'<circle cx="{sx0:.1f}" cy="{sy0:.1f}" r="3" fill="#6b6b6b"/>'
                f'<circle cx="{dst.x:.1f}" cy="{ty0:.1f}" r="3" fill="#6b6b6b"/>')
        parts.append("</g>")
        if externals:
            gy = y + 10
            gateways.append((vpc, gy + gw_h / 2))
            parts.append(f'<g class="gateway" data-vpc="{_a(vpc.name)}">'
                         f"<title>{escape(vpc.name)} gateway: how externals reach the VPC"
                         "</title>"
                         f'<rect class="frame" x="{vpc_x - gw_w / 2:.1f}" y="{gy:.1f}" '
                         f'width="{gw_w}" height="{gw_h}" rx="13" fill="#1d3f6e"/>'
                         + _text(vpc_x, gy + 17.5, "gateway", 12, "bold", "name", "#fff",
                                 "middle") + "</g>")
        width = max(width, vpc_x + vpc_w)
        y += vpc_h + 30
    height = y - 30 + M

    if externals:
        ey = M + 22
        ext_svg.append(_text(M, M + 10, "outside the VPC", FS_SMALL, cls="note", fill="#555"))
        joins = []
        for b in externals:
            b.x, b.y = M, ey
            ext_svg += _draw_box(b, colours, "#b5651d", "#fff8ef",
                                 f"external {b.title} {' '.join(t for t, _ in b.lines)}")
            joins.append(b.y + b.h / 2)
            ext_svg.append(f'<line class="uplink" x1="{b.x + b.w:.1f}" y1="{joins[-1]:.1f}" '
                           f'x2="{bus_x:.1f}" y2="{joins[-1]:.1f}" stroke="#b5651d" '
                           f'stroke-width="2"/>')
            ey += b.h + 12
        for vpc, gy in gateways:
            joins.append(gy)
            ext_svg.append(f'<line class="uplink" x1="{bus_x:.1f}" y1="{gy:.1f}" '
                           f'x2="{vpc_x - gw_w / 2:.1f}" y2="{gy:.1f}" stroke="#b5651d" '
                           f'stroke-width="2"/>')
        ext_svg.append(f'<line class="bus" x1="{bus_x:.1f}" y1="{min(joins):.1f}" '
                       f'x2="{bus_x:.1f}" y2="{max(joins):.1f}" stroke="#b5651d" '
                       f'stroke-width="3"/>')
        height = max(height, ey - 12 + M)
    width += M
    return (f'<svg id="topology" role="img" '
            f'aria-label="topology of lab {_a(lab.name)}" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'style="max-width:100%;height:auto" '
            f'font-family="{_a(SANS)}">'
            + "".join(ext_svg) + "".join(parts) + "".join(links_svg) + "</svg>")


# -- groups legend --------------------------------------------------------------------
def groups_html(lab: Lab, colours: dict) -> str:
    out = ['<div class="legend" id="groups">']
    for name, g in lab.groups.items():
        members = [f"{e.instance}/{e.ifname}" for e in lab.enis_in(name)]
        bg = colours[name]
        tags = []
        if g.builtin:
            tags.append("provider's own")
        if lab.provider == "alibaba":
            tags.append(g.type + (f", inner access {g.inner_access}" if g.type == "basic"
                                  else ""))
        out.append(f'<details class="group" data-group="{_a(name)}"'
                   f'{" open" if members and not g.builtin else ""}><summary>'
                   f'<span class="swatch" style="background:{bg};color:{_ink(bg)}">'
                   f"{escape(name)}</span> "
                   f'<span class="muted">{len(g.rules)} rule{"s" if len(g.rules) != 1 else ""}'
                   f'{"; " + escape("; ".join(tags)) if tags else ""}; members: '
                   f'{escape(", ".join(members)) if members else "none"}</span></summary>')
        if g.rules:
            out.append('<ol start="0" class="rules">')
            for r in g.rules:
                desc = f' <span class="muted">({escape(r.description)})</span>' \
                    if r.description else ""
                out.append(f'<li class="rule {_a(r.action)}"><code>{escape(r.text())}</code>'
                           f"{desc}</li>")
            out.append("</ol>")
        else:
            out.append('<p class="muted">no rules: only the provider\'s implicit '
                       "behaviour applies</p>")
        out.append("</details>")
    out.append("</div>")
    return "\n".join(out)


# -- the reachability grid ------------------------------------------------------------
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
    if not r["match"]:
        lines.append("MISMATCH: the kernel did not do what the provider's rules say")
    lines.append(_decided(r))
    return "\n".join(lines)


def _order(lab: Lab, names) -> list:
    known = [i.name for i in lab.instances] + [x.name for x in lab.externals]
    return [n for n in known if n in names] + [n for n in names if n not in known]


def matrix_html(lab: Lab, matrix: dict) -> str:
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
        fam = family.replace("ipv", "IPv")
        wrong = sum(1 for r in cells.values() if not r["match"])
        out.append(f'<section class="grid"><h3>{escape(key)} <span class="muted">'
                   f"{escape(fam)}, {len(cells)} flows, "
                   f'{"all as expected" if not wrong else f"{wrong} wrong"}</span></h3>')
        out.append(f'<table class="matrix" data-port="{_a(key)}" data-family="{_a(family)}">')
        out.append('<thead><tr><th class="corner">source ↓ / destination →</th>'
                   + "".join(f'<th class="dst{" ext" if d in externals else ""}" '
                             f'scope="col"><span>{escape(d)}</span></th>' for d in dsts)
                   + "</tr></thead><tbody>")
        for s in srcs:
            row = [f'<tr><th class="src{" ext" if s in externals else ""}" scope="row">'
                   f"{escape(s)}</th>"]
            for d in dsts:
                r = cells.get((s, d))
                if r is None:
                    row.append(f'<td class="cell none" data-src="{_a(s)}" data-dst="{_a(d)}">'
                               "</td>")
                    continue
                cls = ["cell", "allow" if r["observed"] == "allow" else "deny"]
                if not r["match"]:
                    cls.append("mismatch")
                mark = ("✓" if r["observed"] == "allow" else "✕") + ("!" if not r["match"]
                                                                     else "")
                row.append(f'<td class="{" ".join(cls)}" data-src="{_a(s)}" data-dst="{_a(d)}" '
                           f'data-expected="{_a(r["expected"])}" '
                           f'data-observed="{_a(r["observed"])}" '
                           f'title="{_a(cell_title(r))}">{mark}</td>')
            out.append("".join(row) + "</tr>")
        out.append("</tbody></table></section>")
    out.append("</div>")
    wrong = [r for r in results if not r["match"]]
    out.append('<h3>Mismatches</h3>')
    if not wrong:
        out.append('<p class="ok" id="no-mismatch">none: every flow did what the provider\'s '
                   "rules say</p>")
    else:
        out.append('<table class="mismatches"><thead><tr><th>source</th><th>destination</th>'
                   "<th>flow</th><th>expected</th><th>observed</th><th>deciding rule</th>"
                   "</tr></thead><tbody>")
        for r in wrong:
            d = r.get("decided_by") or {}
            out.append(f'<tr data-src="{_a(r["src"])}" data-dst="{_a(r["dst"])}" '
                       f'data-port="{_a(_key(r))}"><td>{escape(r["src"])}</td>'
                       f'<td>{escape(r["dst"])}</td><td>{escape(_key(r))}</td>'
                       f'<td>{escape(r["expected"])}</td>'
                       f'<td>{escape(r["observed"])}'
                       + (f" ({escape(r['detail'])})" if r.get("detail") else "")
                       + f'</td><td>{escape(d.get("direction") or "")}: '
                       f'{escape(d.get("why", ""))}</td></tr>')
        out.append("</tbody></table>")
    return "\n".join(out)


# -- the page ---------------------------------------------------------------------------
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
td.cell:hover { outline: 2px solid #1d3f6e; }
table.mismatches { border-collapse: collapse; font-size: 13px; }
table.mismatches td, table.mismatches th { border: 1px solid #ddd; padding: 4px 8px;
  text-align: left; }
table.mismatches tr { background: #fff3e6; }
.ok { color: #2d7a45; }
footer { margin-top: 30px; font-size: 12px; color: #888; }
""" % {"sans": SANS}


def render(lab: Lab, matrix: dict, title: Optional[str] = None) -> str:
    """One self-contained HTML document: header, topology picture, reachability grid."""
    matrix = matrix or {"lab": lab.name, "results": []}
    results = matrix.get("results") or []
    summary = matrix.get("summary") or {}
    total = summary.get("total", len(results))
    wrong = summary.get("wrong", sum(1 for r in results if not r["match"]))
    correct = summary.get("correct", total - wrong)
    families = sorted({r.get("family", "ipv4").replace("ipv", "IPv") for r in results})
    title = title or f"sgnet report: lab {lab.name}"
    colours = group_colours(lab)
    nsub = len(lab.subnets)
    nenis = len(lab.enis)
    body = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f'<header><h1>{escape(title)}</h1>'
        f'<div class="meta">lab <b id="lab-name">{escape(lab.name)}</b>, provider '
        f'<b id="provider">{escape(lab.provider)}</b>; {len(lab.vpcs)} VPC'
        f'{"s" if len(lab.vpcs) != 1 else ""}, {nsub} subnet{"s" if nsub != 1 else ""}, '
        f'{len(lab.instances)} instances ({nenis} ENIs), {len(lab.externals)} externals, '
        f'{len(lab.groups)} groups'
        + (f"; matrix over {escape(', '.join(families))}" if families else "") + "</div>",
        '<div class="summary" id="summary">'
        f'<div class="total">flows<b>{total}</b></div>'
        f'<div class="correct">as expected<b>{correct}</b></div>'
        f'<div class="wrong{" some" if wrong else ""}">wrong<b>{wrong}</b></div></div>'
        "</header>",
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
        '<span class="cell deny">✕</span>deny (silence); '
        '<span class="cell allow mismatch">✓!</span><span class="cell deny mismatch">✕!</span>'
        "the provider's rules say otherwise. Hover over a cell for the expected and observed "
        "verdicts and the rule that decides the flow.</p>",
        matrix_html(lab, matrix),
        f"<footer>generated by sgnet from {escape(str(lab.source))}</footer>",
        "</body></html>",
    ]
    return "\n".join(body) + "\n"


def write(path: str, html: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(html)

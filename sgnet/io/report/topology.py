"""The report's topology picture, an inline SVG (pure): each VPC a box with its subnets in
columns, each instance a node in the subnet of its primary ENI, a secondary ENI a small node
in its own subnet joined by a dashed line, the externals outside, wired to each VPC's
gateway. Laid out here, from estimated text widths (`style.text_width`)."""

from __future__ import annotations

from html import escape
from typing import Optional

from sgnet.core.model import Lab
from sgnet.io.report.style import MONO, SANS, attr, group_colours, ink, text_width

M = 20  # outer margin
NODE_PAD = 8  # inside a node
SUB_PAD = 10  # inside a subnet, around its nodes
NODE_GAP = 10  # between nodes
CHIP_H = 17
CHIP_GAP = 4
FS_NAME, FS_ADDR, FS_SMALL, FS_CHIP, FS_TITLE = 13, 11, 10.5, 10.5, 14
LINE = 15  # a line of small text
WIDTH_BUDGET = 1340  # the picture's width on a common screen; wider ones scale down
GW_W, GW_H = 80.0, 26.0  # a VPC's gateway, on its left edge
HEAD_H = 48.0  # a VPC's title and CIDRs, above its subnets
MIN_COLUMN = 220.0  # a subnet's width at least
MAX_COLUMNS = 4


class _Box:
    """A node of the picture: its lines of text and group chips, then its size."""

    def __init__(self, kind, title, lines, groups, data):
        self.kind, self.title, self.lines, self.groups, self.data = kind, title, lines, groups, data
        self.x = self.y = self.w = self.h = 0.0
        self.chip_rows = []

    def need_width(self) -> float:
        w = text_width(self.title, FS_NAME, "bold")
        for text, kind in self.lines:
            w = max(w, text_width(text, FS_ADDR if kind == "mono" else FS_SMALL, kind))
        for g in self.groups:
            w = max(w, self._chip_w(g))
        return w + 2 * NODE_PAD

    @staticmethod
    def _chip_w(g) -> float:
        return text_width(g, FS_CHIP) + 14

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
        attrs.append('font-family="' + attr(MONO) + '"')
    if kind == "bold":
        attrs.append('font-weight="bold"')
    if cls:
        attrs.append(f'class="{cls}"')
    if fill != "#222":
        attrs.append(f'fill="{fill}"')
    if anchor:
        attrs.append(f'text-anchor="{anchor}"')
    return f"<text {' '.join(attrs)}>{escape(s)}</text>"


def _draw_chips(b: _Box, colours, y: float) -> list:
    out = []
    for row in b.chip_rows:
        x = b.x + NODE_PAD
        for g, cw in row:
            bg = colours.get(g, "#888")
            out.append(f'<g class="chip" data-group="{attr(g)}">'
                       f'<rect x="{x:.1f}" y="{y:.1f}" width="{cw:.1f}" height="{CHIP_H}" '
                       f'rx="8" fill="{bg}"/>'
                       + _text(x + 7, y + CHIP_H - 4.5, g, FS_CHIP, fill=ink(bg)) + "</g>")
            x += cw + CHIP_GAP
        y += CHIP_H + CHIP_GAP
    return out


def _draw_box(b: _Box, colours, stroke, fill, tip) -> list:
    data = " ".join(f'data-{k}="{attr(v)}"' for k, v in b.data.items())
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
    out += _draw_chips(b, colours, y)
    out.append("</g>")
    return out


def _instance_tip(inst) -> str:
    return "\n".join([f"instance {inst.name}"]
                     + [f"{e.ifname}: {e.subnet} {e.ip}" + (f" {e.ipv6}" if e.ipv6 else "")
                        + f" groups {', '.join(e.groups)}" for e in inst.enis])


def _eni_tip(b: _Box) -> str:
    return (f"secondary ENI {b.data['eni']} of {b.data['instance']} in "
            f"{b.data['subnet']}: {b.data['ip']}, groups {', '.join(b.groups)}")


def _subnet_header(s) -> list:
    """(text, size, kind) of a subnet's title lines: its name and CIDRs."""
    lines = [(s.name, FS_NAME, "bold"), (str(s.cidr), FS_ADDR, "mono")]
    if s.ipv6_cidr is not None:
        lines.append((str(s.ipv6_cidr), FS_ADDR, "mono"))
    return lines


class _VpcLayout:
    """One VPC laid out at (x, y): its subnets in rows of columns, the nodes in each, the
    lanes between columns that the lines to secondary ENIs follow; then drawn."""

    def __init__(self, lab: Lab, vpc, x: float, y: float, gateway: bool):
        self.lab, self.vpc, self.x, self.y = lab, vpc, x, y
        self._collect_members()
        n = len(self.seconds)  # each line to a secondary ENI takes a lane in the gaps
        self.gap = max(40.0, 16 + 7 * n)
        self.chan = max(22.0, 14 + 7 * n)
        self.col_w = self._column_width()
        # as many columns as fit a page about 1350 pixels wide, at most 4
        fit = int((WIDTH_BUDGET - x - self.gap) // (self.col_w + self.gap))
        self.ncols = max(1, min(len(vpc.subnets), MAX_COLUMNS, fit))
        self.title_x = x + (GW_W / 2 + 12 if gateway else 14)
        self.cidrs = str(vpc.cidr) + (f"  {vpc.ipv6_cidr}" if vpc.ipv6_cidr else "")
        self._place_subnets()
        self.w = max(self.gap + self.ncols * (self.col_w + self.gap),
                     self.title_x - x + 20 + max(text_width(vpc.name, FS_TITLE, "bold"),
                                                 text_width(self.cidrs, FS_ADDR, "mono")))
        self.h = self.bottom - y + (self.gap - self.chan if self.gap > self.chan else 0)
        if not vpc.subnets:
            self.h = HEAD_H + 20

    def _collect_members(self):
        """subnet -> its nodes: instances by their primary ENI, then secondary ENIs."""
        self.members = {s.name: [] for s in self.vpc.subnets}
        for inst in self.lab.instances:
            if inst.primary.subnet in self.members:
                self.members[inst.primary.subnet].append(_instance_box(inst))
        self.seconds = [(inst, eni) for inst in self.lab.instances for eni in inst.enis[1:]
                        if eni.subnet in self.members]
        self.stubs = {}
        for inst, eni in self.seconds:
            b = _eni_box(eni)
            self.members[eni.subnet].append(b)
            self.stubs[(inst.name, eni.index)] = b

    def _column_width(self) -> float:
        col_w = MIN_COLUMN
        for s in self.vpc.subnets:
            for text, size, kind in _subnet_header(s):
                col_w = max(col_w, text_width(text, size, kind) + 2 * SUB_PAD)
            for b in self.members[s.name]:
                col_w = max(col_w, b.need_width() + 2 * SUB_PAD)
        return col_w

    def _fit_subnet(self, s) -> float:
        """Fit the subnet's nodes to the column; its height."""
        nodes = self.members[s.name]
        hh = SUB_PAD + len(_subnet_header(s)) * 16 + 6
        for b in nodes:
            b.fit(self.col_w - 2 * SUB_PAD)
            hh += b.h + NODE_GAP
        if not nodes:
            hh += 20
        return hh + SUB_PAD - (NODE_GAP if nodes else 0)

    def _place_subnets(self):
        """subnet -> (x, y, w, h, row, column), row by row; the bottom of each row."""
        subnets, ncols = self.vpc.subnets, self.ncols
        self.geo, self.row_bottoms = {}, []
        ry = self.y + HEAD_H
        for r_i, row in enumerate(subnets[i:i + ncols] for i in range(0, len(subnets), ncols)):
            rh = max(self._fit_subnet(s) for s in row)
            for c_i, s in enumerate(row):
                sx = self.x + self.gap + c_i * (self.col_w + self.gap)
                self.geo[s.name] = (sx, ry, self.col_w, rh, r_i, c_i)
            self.row_bottoms.append(ry + rh)
            ry += rh + self.chan
        self.bottom = ry

    def draw(self, colours: dict) -> list:
        """The VPC's group: frame, title, subnets and their nodes (placing the nodes)."""
        vpc = self.vpc
        title = f"{vpc.name}  {vpc.cidr}" + (f"  {vpc.ipv6_cidr}" if vpc.ipv6_cidr else "")
        out = [f'<g class="vpc" data-name="{attr(vpc.name)}">', f"<title>{escape(title)}</title>",
               f'<rect class="frame" x="{self.x:.1f}" y="{self.y:.1f}" width="{self.w:.1f}" '
               f'height="{self.h:.1f}" rx="10" fill="#f3f6fb" stroke="#4e79a7" '
               f'stroke-width="2"/>',
               _text(self.title_x, self.y + 20, vpc.name, FS_TITLE, "bold", "name", "#1d3f6e"),
               _text(self.title_x, self.y + 38, self.cidrs, FS_ADDR, "mono", "addr", "#1d3f6e")]
        for s in vpc.subnets:
            out += self._draw_subnet(s, colours)
        out.append("</g>")
        return out

    def _draw_subnet(self, s, colours: dict) -> list:
        sx, sy, sw, sh, _, _ = self.geo[s.name]
        out = [f'<g class="subnet" data-name="{attr(s.name)}" data-cidr="{attr(s.cidr)}">',
               f"<title>subnet {escape(s.name)} {escape(str(s.cidr))}"
               + (f" {escape(str(s.ipv6_cidr))}" if s.ipv6_cidr else "") + "</title>",
               f'<rect class="frame" x="{sx:.1f}" y="{sy:.1f}" width="{sw:.1f}" '
               f'height="{sh:.1f}" rx="8" fill="#ffffff" stroke="#8aa1c1" '
               f'stroke-width="1.2" stroke-dasharray="5 3"/>']
        ty = sy + SUB_PAD
        for text, size, kind in _subnet_header(s):
            ty += 16
            out.append(_text(sx + SUB_PAD, ty - 2, text, size, kind,
                             "name" if kind == "bold" else "addr", "#333"))
        ny = ty + 6
        nodes = self.members[s.name]
        if not nodes:
            out.append(_text(sx + SUB_PAD, ny + 13, "(no instances)", FS_SMALL,
                             cls="note", fill="#888"))
        for b in nodes:
            b.x, b.y = sx + SUB_PAD, ny
            ny += b.h + NODE_GAP
        for b in nodes:
            if b.kind == "instance":
                out += _draw_box(b, colours, "#555", "#fdfdfd",
                                 _instance_tip(self.lab.instance(b.data["name"])))
            else:
                out += _draw_box(b, colours, "#777", "#f7f7f7", _eni_tip(b))
        out.append("</g>")
        return out

    def eni_links(self) -> list:
        """Dashed lines from each instance to its secondary ENIs, along the gaps (after
        `draw`, which places the nodes)."""
        out = []
        for k, (inst, eni) in enumerate(self.seconds):
            src = next((b for bs in self.members.values() for b in bs
                        if b.kind == "instance" and b.data["name"] == inst.name), None)
            dst = self.stubs[(inst.name, eni.index)]
            if src is None:
                continue
            sx0, sy0 = src.x + src.w, src.y + 14 + (k % 3) * 4
            ty0 = dst.y + 14
            out.append(
                f'<path class="eni-link" data-instance="{attr(inst.name)}" '
                f'data-eni="{attr(eni.ifname)}" d="{self._link_path(k, inst, eni, src, dst)}" '
                f'fill="none" stroke="#6b6b6b" stroke-width="1.6" stroke-dasharray="6 4"/>'
                f'<circle cx="{sx0:.1f}" cy="{sy0:.1f}" r="3" fill="#6b6b6b"/>'
                f'<circle cx="{dst.x:.1f}" cy="{ty0:.1f}" r="3" fill="#6b6b6b"/>')
        return out

    def _link_path(self, k: int, inst, eni, src: _Box, dst: _Box) -> str:
        """The k-th line's path: right of the source's column, down its own lane (and along
        the channel under the target's row when the columns differ), into the target."""
        lane = 8 + 7 * k
        s_geo, t_geo = self.geo[inst.primary.subnet], self.geo[eni.subnet]
        sx0 = src.x + src.w
        sy0 = src.y + 14 + (k % 3) * 4
        gx1 = s_geo[0] + s_geo[2] + lane  # the gap right of the source's column
        gx2 = t_geo[0] - self.gap + lane  # the gap left of the target's column
        ty0 = dst.y + 14
        if abs(gx1 - gx2) < 0.5:
            return f"M{sx0:.1f},{sy0:.1f} H{gx1:.1f} V{ty0:.1f} H{dst.x:.1f}"
        cy = self.row_bottoms[t_geo[4]] + 6 + 7 * k
        return (f"M{sx0:.1f},{sy0:.1f} H{gx1:.1f} V{cy:.1f} H{gx2:.1f} V{ty0:.1f} "
                f"H{dst.x:.1f}")


def _gateway(vpc, vpc_x: float, gy: float) -> str:
    return (f'<g class="gateway" data-vpc="{attr(vpc.name)}">'
            f"<title>{escape(vpc.name)} gateway: how externals reach the VPC</title>"
            f'<rect class="frame" x="{vpc_x - GW_W / 2:.1f}" y="{gy:.1f}" '
            f'width="{GW_W}" height="{GW_H}" rx="13" fill="#1d3f6e"/>'
            + _text(vpc_x, gy + 17.5, "gateway", 12, "bold", "name", "#fff", "middle") + "</g>")


def _uplink(x1: float, x2: float, y: float) -> str:
    return (f'<line class="uplink" x1="{x1:.1f}" y1="{y:.1f}" x2="{x2:.1f}" y2="{y:.1f}" '
            f'stroke="#b5651d" stroke-width="2"/>')


def _externals(boxes: list, gateways: list, bus_x: float, vpc_x: float, colours) -> tuple:
    """The externals in a column on the left, a bus joining them to every VPC's gateway
    (gateways: the height of each); (the SVG, the bottom of the column)."""
    ey = M + 22
    out = [_text(M, M + 10, "outside the VPC", FS_SMALL, cls="note", fill="#555")]
    joins = []
    for b in boxes:
        b.x, b.y = M, ey
        out += _draw_box(b, colours, "#b5651d", "#fff8ef",
                         f"external {b.title} {' '.join(t for t, _ in b.lines)}")
        joins.append(b.y + b.h / 2)
        out.append(_uplink(b.x + b.w, bus_x, joins[-1]))
        ey += b.h + 12
    for gy in gateways:
        joins.append(gy)
        out.append(_uplink(bus_x, vpc_x - GW_W / 2, gy))
    out.append(f'<line class="bus" x1="{bus_x:.1f}" y1="{min(joins):.1f}" '
               f'x2="{bus_x:.1f}" y2="{max(joins):.1f}" stroke="#b5651d" stroke-width="3"/>')
    return out, ey - 12 + M


def topology_svg(lab: Lab, colours: Optional[dict] = None) -> str:
    """The lab drawn as an inline SVG document fragment (`<svg id="topology">`)."""
    colours = colours or group_colours(lab)
    externals = [_external_box(x) for x in lab.externals]
    ext_w = max([150.0] + [b.need_width() for b in externals]) if externals else 0.0
    for b in externals:
        b.fit(ext_w)
    bus_x = M + ext_w + 36 if externals else None
    vpc_x = bus_x + 64 if externals else M
    parts, links, gateways = [], [], []
    width, y = vpc_x, M
    for vpc in lab.vpcs:
        layout = _VpcLayout(lab, vpc, vpc_x, y, gateway=bool(externals))
        parts += layout.draw(colours)
        links += layout.eni_links()
        if externals:
            gateways.append(y + 10 + GW_H / 2)
            parts.append(_gateway(vpc, vpc_x, y + 10))
        width = max(width, vpc_x + layout.w)
        y += layout.h + 30
    height = y - 30 + M
    outside = []
    if externals:
        outside, bottom = _externals(externals, gateways, bus_x, vpc_x, colours)
        height = max(height, bottom)
    width += M
    return (f'<svg id="topology" role="img" '
            f'aria-label="topology of lab {attr(lab.name)}" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'style="max-width:100%;height:auto" '
            f'font-family="{attr(SANS)}">'
            + "".join(outside + parts + links) + "</svg>")

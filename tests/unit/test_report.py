"""`sgnet report`: the HTML page (pure tests) and the page as a real browser renders it.

The browser test drives Debian's `chromium` headless: it must be installed (the install
script does); a machine without it fails the test, it is never skipped.
"""

import html
import json
import os
import re
import shutil
import struct
import subprocess
import time
import zlib
from html.parser import HTMLParser

import pytest

from sgnet.io import labfile
from sgnet.core import labspec
from sgnet.io.report.page import render, write
from sgnet.io.report.style import group_colours
from sgnet.core.evaluator import Evaluator
from sgnet.core.values import protocol_name

LAB = {
    "name": "rpt",
    "provider": "huawei",
    "vpcs": [{
        "name": "vpc-shop", "cidr": "10.10.0.0/16", "ipv6_cidr": "fd00:77::/48",
        "subnets": [
            {"name": "front", "cidr": "10.10.1.0/24", "ipv6_cidr": "fd00:77:0:1::/64"},
            {"name": "middle", "cidr": "10.10.2.0/24"},
            {"name": "back", "cidr": "10.10.3.0/24"},
        ]}],
    "prefix_lists": [{"name": "office", "entries": ["198.51.100.0/24"]}],
    "security_groups": [
        {"name": "web", "rules": [
            {"direction": "ingress", "action": "allow", "priority": 1, "protocol": "tcp",
             "ports": "80", "remote": "0.0.0.0/0", "description": "HTTP from anywhere"},
            {"direction": "ingress", "action": "allow", "priority": 1, "protocol": "tcp",
             "ports": "22", "remote_prefix_list": "office", "description": "SSH <office>"}]},
        {"name": "app", "rules": [
            {"direction": "ingress", "action": "allow", "priority": 10, "protocol": "tcp",
             "ports": "8080", "remote_group": "web", "description": "web calls app"}]},
        {"name": "db", "default_rules": False, "rules": [
            {"direction": "ingress", "action": "allow", "priority": 10, "protocol": "tcp",
             "ports": "3306", "remote_group": "app", "description": "MySQL from app"},
            {"direction": "ingress", "action": "allow", "priority": 20, "protocol": "icmp",
             "remote": "10.10.0.0/16"},
            {"direction": "egress", "action": "allow", "priority": 1, "protocol": "all",
             "remote": "10.10.0.0/16"}]},
    ],
    "instances": [
        {"name": "web1", "subnet": "front", "security_groups": ["web"]},
        {"name": "web2", "subnet": "front", "security_groups": ["web", "default"]},
        {"name": "app1", "subnet": "middle", "security_groups": ["app"],
         "secondary_enis": [{"subnet": "back", "security_groups": ["db"]}]},
        {"name": "db1", "subnet": "back", "ip": "10.10.3.10", "security_groups": ["db"]},
        {"name": "bastion", "subnet": "middle", "security_groups": ["Sys-FullAccess"]},
    ],
    "externals": [
        {"name": "internet", "ip": "203.0.113.10"},
        {"name": "office", "ip": "198.51.100.20", "ipv6": "2001:db8:1::20"},
    ],
}

PORTS = [(6, 22), (6, 80), (6, 3306), (1, None)]
# Deliberate disagreements between the "kernel" and the provider's rules.
FLIPPED = {("internet", "db1", "tcp/22"), ("web1", "web2", "tcp/80")}


def key(proto, port):
    return protocol_name(proto) + (f"/{port}" if port is not None else "")


def make_lab():
    return labspec.parse(LAB, "x")


def make_matrix(lab, family=4, ports=PORTS, flipped=FLIPPED):
    """A matrix result as LabSession.matrix() builds it; the observed side is the expected
    one, except for the `flipped` flows."""
    ev = Evaluator(lab)
    names = [i.name for i in lab.instances if i.primary.address(family) is not None]
    names += [x.name for x in lab.externals if x.address(family) is not None]
    externals = {x.name for x in lab.externals}
    results = []
    for s in names:
        for d in names:
            if s == d or (s in externals and d in externals):
                continue
            for proto, port in ports:
                e = ev.evaluate(s, d, proto, port, family)
                observed = e.verdict
                if (s, d, key(proto, port)) in flipped:
                    observed = "deny" if e.verdict == "allow" else "allow"
                detail = "filtered" if observed == "deny" else (
                    "refused" if port in (80, 3306) else "open")
                results.append({
                    "src": e.flow.src, "dst": e.flow.dst, "src_ip": e.flow.src_ip,
                    "dst_ip": e.flow.dst_ip, "protocol": protocol_name(e.flow.protocol),
                    "port": e.flow.port, "family": f"ipv{e.flow.family}",
                    "expected": e.verdict, "observed": observed, "detail": detail,
                    "match": e.verdict == observed, "decided_by": e.decided_by.to_dict()})
    wrong = sum(1 for r in results if not r["match"])
    return {"lab": lab.name, "results": results,
            "summary": {"total": len(results), "correct": len(results) - wrong,
                        "wrong": wrong}}


@pytest.fixture(scope="module")
def lab():
    return make_lab()


@pytest.fixture(scope="module")
def matrix(lab):
    return make_matrix(lab)


@pytest.fixture(scope="module")
def page(lab, matrix):
    return render(lab, matrix)


class Elements(HTMLParser):
    """Every element as (tag, attributes, text directly inside it up to the next tag)."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.current = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.current = [tag, dict(attrs), ""]
        self.elements.append(self.current)

    def handle_startendtag(self, tag, attrs):
        self.elements.append([tag, dict(attrs), ""])
        self.current = None

    def handle_endtag(self, tag):
        self.current = None

    def handle_data(self, data):
        if self.current is not None:
            self.current[2] += data

    def find(self, tag=None, cls=None, **attrs):
        out = []
        for t, a, text in self.elements:
            if tag and t != tag:
                continue
            if cls and not set(cls.split()) <= set((a.get("class") or "").split()):
                continue
            if any(a.get(k.replace("_", "-")) != v for k, v in attrs.items()):
                continue
            out.append((t, a, text))
        return out


# -- pure tests -------------------------------------------------------------------------
def test_matrix_has_the_deliberate_mismatches(matrix):
    wrong = {(r["src"], r["dst"], key(6 if r["protocol"] == "tcp" else 1, r["port"]))
             for r in matrix["results"] if not r["match"]}
    assert wrong == FLIPPED
    assert matrix["summary"]["wrong"] == 2


def test_page_is_one_self_contained_document(page):
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<html") == 1 and page.rstrip().endswith("</html>")
    assert not re.search(r"https?:", page, re.I), "the page must reference nothing outside"
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", page, re.I)
    assert not re.search(r"url\(|@import|\ssrc=", page, re.I)
    assert "<style>" in page and '<svg id="topology"' in page


def test_header_names_lab_provider_and_summary(page, matrix):
    doc = Elements(page)
    assert doc.find("b", id="lab-name")[0][2] == "rpt"
    assert doc.find("b", id="provider")[0][2] == "huawei"
    s = matrix["summary"]
    summary = page[page.index('id="summary"'):page.index("</header>")]
    assert re.findall(r"<b>(\d+)</b>", summary) == [str(s["total"]), str(s["correct"]), "2"]
    assert doc.find("div", cls="wrong some")


def test_topology_shows_every_vpc_subnet_instance_external_and_group(lab, page):
    svg = page[page.index('<svg id="topology"'):page.index("</svg>")]
    doc = Elements(svg)
    texts = [html.unescape(t) for _, _, t in doc.elements]
    assert doc.find("g", cls="vpc", data_name="vpc-shop")
    assert "10.10.0.0/16  fd00:77::/48" in texts
    for s in lab.subnets:
        assert doc.find("g", cls="subnet", data_name=s.name, data_cidr=str(s.cidr))
        assert s.name in texts and str(s.cidr) in texts
    assert "fd00:77:0:1::/64" in texts
    for inst in lab.instances:
        node = doc.find("g", cls="box instance", data_name=inst.name)
        assert node and node[0][1]["data-ip"] == str(inst.primary.ip)
        assert f"eth0 {inst.primary.ip}" in texts
    for x in lab.externals:
        assert doc.find("g", cls="box external", data_name=x.name)
        assert str(x.ip) in texts
    assert "2001:db8:1::20" in texts
    assert doc.find("g", cls="gateway", data_vpc="vpc-shop")
    assert len(doc.find("line", cls="uplink")) == 3  # two externals and one gateway
    # every group an ENI is in appears as a chip of that ENI, in the group's colour
    colours = group_colours(lab)
    chips = doc.find("g", cls="chip")
    assert {a["data-group"] for _, a, _ in chips} == {g for e in lab.enis for g in e.groups}
    assert len(chips) == sum(len(e.groups) for e in lab.enis)
    for g in ("web", "app", "db", "default", "Sys-FullAccess"):
        assert f'data-group="{g}"><rect' in svg and colours[g] in svg
    assert len(set(colours.values())) == len(colours)


def test_secondary_eni_is_a_node_in_its_subnet_joined_by_a_line(lab, page):
    svg = page[page.index('<svg id="topology"'):page.index("</svg>")]
    doc = Elements(svg)
    eni = doc.find("g", cls="box eni", data_instance="app1", data_eni="eth1")
    assert eni and eni[0][1]["data-subnet"] == "back"
    assert eni[0][1]["data-ip"] == str(lab.instance("app1").enis[1].ip)
    assert doc.find("path", cls="eni-link", data_instance="app1", data_eni="eth1")
    assert "app1 · eth1" in [html.unescape(t) for _, _, t in doc.elements]
    # the ENI is drawn inside the subnet "back": its group precedes the next subnet's
    back = svg.index('data-name="back"')
    assert back < svg.index('data-instance="app1" data-eni="eth1"')


def test_groups_legend_lists_every_group_with_its_rules(lab, page):
    legend = page[page.index('id="groups"'):page.index("<h2>Reachability")]
    doc = Elements(legend)
    for name, g in lab.groups.items():
        assert doc.find("details", data_group=name), name
        for r in g.rules:
            assert html.escape(r.text()) in legend
    assert "SSH &lt;office&gt;" in legend  # descriptions are escaped, not markup
    assert "<office>" not in page


def test_a_grid_per_port_with_a_cell_per_flow(lab, matrix, page):
    doc = Elements(page)
    tables = doc.find("table", cls="matrix")
    assert [a["data-port"] for _, a, _ in tables] == [key(p, n) for p, n in PORTS]
    assert all(a["data-family"] == "ipv4" for _, a, _ in tables)
    cells = doc.find("td", cls="cell")
    flows = [c for c in cells if "none" not in c[1]["class"]]
    assert len(flows) == matrix["summary"]["total"]
    n = len(lab.instances) + len(lab.externals)
    assert len(cells) == len(PORTS) * n * n  # every source row has every destination
    for _, a, text in flows:
        verdict = "allow" if "allow" in a["class"].split() else "deny"
        assert verdict == a["data-observed"]
        assert text.startswith("✓" if verdict == "allow" else "✕")


def test_mismatched_cells_are_marked_and_only_those(page):
    doc = Elements(page)
    marked = set()
    for table_start in [m.start() for m in re.finditer(r'<table class="matrix"', page)]:
        end = page.index("</table>", table_start)
        t = Elements(page[table_start:end])
        port = t.find("table")[0][1]["data-port"]
        for _, a, text in t.find("td", cls="cell mismatch"):
            marked.add((a["data-src"], a["data-dst"], port))
            assert text.endswith("!")
            assert a["data-expected"] != a["data-observed"]
    assert marked == FLIPPED
    rows = doc.find("tr", data_src="internet", data_dst="db1", data_port="tcp/22")
    assert rows, "the mismatch list names each mismatch"


def test_cell_titles_tell_expected_observed_and_the_deciding_rule(matrix, page):
    doc = Elements(page)
    by_flow = {(r["src"], r["dst"], key(6 if r["protocol"] == "tcp" else 1, r["port"])): r
               for r in matrix["results"]}
    for table_start in [m.start() for m in re.finditer(r'<table class="matrix"', page)]:
        t = Elements(page[table_start:page.index("</table>", table_start)])
        port = t.find("table")[0][1]["data-port"]
        for _, a, _ in t.find("td", cls="cell"):
            r = by_flow.get((a["data-src"], a["data-dst"], port))
            if r is None:
                assert "none" in a["class"] and "title" not in a
                continue
            title = a["title"]
            assert f"expected: {r['expected']}" in title
            assert f"observed: {r['observed']} ({r['detail']})" in title
            assert r["decided_by"]["why"] in title
            assert ("MISMATCH" in title) == (not r["match"])
    # concrete cells: the web group's HTTP rule (priority 1, before the API's own rules at
    # priority 100) decides web1 -> web2 (observed: denied) ...
    cell = doc.find("td", data_src="web1", data_dst="web2", data_expected="allow",
                    data_observed="deny")[0][1]
    assert "web rule 4: ingress allow IPv4 tcp/80 from 0.0.0.0/0 priority 1 (HTTP from " \
        "anywhere)" in cell["title"]
    assert "decided by: ingress, group web, rule 4" in cell["title"]
    assert "MISMATCH" in cell["title"] and "web1 (10.10.1.2) → web2 (10.10.1.3) tcp/80" in \
        cell["title"]
    # ... SSH from the office is the prefix-list rule (its description escaped in the page)
    ssh = re.search(r'<td [^>]*data-src="office" data-dst="web1"[^>]*title="([^"]*)"',
                    page[page.index('data-port="tcp/22"'):]).group(1)
    assert "prefix-list:office priority 1 (SSH &lt;office&gt;)" in ssh
    # ... and app1 reaches db1 from its ENI in db1's subnet, which is not in group app
    cell = doc.find("td", data_src="app1", data_dst="db1", data_expected="deny")[2][1]
    assert "app1 (10.10.3.2) → db1 (10.10.3.10) tcp/3306" in cell["title"]
    assert "no rule (the default)\nno ingress rule of db matched" in cell["title"]


def test_render_is_deterministic_and_titles_the_page(lab, matrix):
    a = render(lab, matrix, title="Shop <lab>")
    assert a == render(lab, matrix, title="Shop <lab>")
    assert "<title>Shop &lt;lab&gt;</title>" in a


def test_no_matrix_and_no_externals(lab):
    raw = dict(LAB, externals=[])
    bare = labspec.parse(raw, "x")
    page = render(bare, {"lab": "rpt", "results": [],
                                "summary": {"total": 0, "correct": 0, "wrong": 0}})
    assert 'id="no-flows"' in page and '<svg id="topology"' in page
    assert "gateway" not in page.split('<svg id="topology"')[1].split("</svg>")[0]


def test_write(tmp_path, lab, matrix):
    path = tmp_path / "r.html"
    write(str(path), render(lab, matrix))
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# -- the page in a real browser -------------------------------------------------------------
# Injected into a copy of the page (the report itself has no script): measures the layout
# as the browser drew it, with its fonts, and the styles it applied.
PROBE_JS = r"""
<script>
(function () {
  const out = {problems: [], counts: {}, styles: {}};
  const bad = text => out.problems.push(text);
  try {
  const svg = document.getElementById('topology');
  const box = el => el.getBBox();
  const inside = (a, b, slack) => a.x >= b.x - slack && a.y >= b.y - slack &&
      a.x + a.width <= b.x + b.width + slack && a.y + a.height <= b.y + b.height + slack;
  const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width &&
      a.y < b.y + b.height && b.y < a.y + a.height;
  const frame = g => g.querySelector(':scope > rect.frame');
  const name = g => g.getAttribute('class') + ' ' + (g.dataset.name || g.dataset.instance || '');
  // every text inside the frame of the box (or chip) that holds it
  for (const g of svg.querySelectorAll('g.box, g.subnet, g.vpc, g.gateway')) {
    const f = box(frame(g));
    for (const t of g.querySelectorAll(':scope > text')) {
      if (!inside(box(t), f, 1)) bad('text "' + t.textContent + '" overflows ' + name(g));
    }
    for (const c of g.querySelectorAll(':scope > g.chip')) {
      const r = box(c.querySelector('rect')), t = box(c.querySelector('text'));
      if (!inside(t, r, 1)) bad('chip text overflows: ' + c.dataset.group);
      if (!inside(r, f, 1)) bad('chip outside its box: ' + c.dataset.group + ' in ' + name(g));
    }
  }
  // siblings never overlap; children stay inside their parent
  const levels = [[svg, 'g.external, g.vpc'],
                  ...[...svg.querySelectorAll('g.vpc')].map(v => [v, 'g.subnet']),
                  ...[...svg.querySelectorAll('g.subnet')].map(s => [s, 'g.box'])];
  for (const [parent, sel] of levels) {
    const kids = [...parent.querySelectorAll(':scope > ' + sel.split(', ').join(', :scope > '))];
    const pf = parent !== svg ? box(frame(parent)) :
        {x: 0, y: 0, width: svg.width.baseVal.value, height: svg.height.baseVal.value};
    kids.forEach((k, i) => {
      if (!inside(box(frame(k)), pf, 0.5))
        bad(name(k) + ' outside ' + (parent === svg ? 'the picture' : name(parent)));
      kids.slice(i + 1).forEach(o => {
        if (overlap(box(frame(k)), box(frame(o)))) bad(name(k) + ' overlaps ' + name(o));
      });
    });
  }
  out.counts.boxes = svg.querySelectorAll('g.box').length;
  out.counts.links = svg.querySelectorAll('path.eni-link').length;
  out.svg = {width: svg.getBoundingClientRect().width, height: svg.getBoundingClientRect().height};
  const style = sel => { const e = document.querySelector(sel); const s = getComputedStyle(e);
    return {bg: s.backgroundColor, shadow: s.boxShadow, w: e.getBoundingClientRect().width}; };
  out.styles.allow = style('td.cell.allow:not(.mismatch)');
  out.styles.deny = style('td.cell.deny:not(.mismatch)');
  out.styles.mismatch = style('td.cell.mismatch');
  } catch (e) { bad('probe failed: ' + e); }
  const pre = document.createElement('pre');
  pre.id = 'layout-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def _chromium():
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("the report's browser test needs Chromium: apt-get install chromium "
                    "(Debian's package; scripts/install.sh installs it)")
    return exe


def _run_chromium(exe, profile, *args):
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
           "--force-device-scale-factor=1", f"--user-data-dir={profile}", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, HOME=str(profile)))
    assert p.returncode == 0, f"chromium failed ({p.returncode}): {p.stderr[-2000:]}"
    return p.stdout


def png_pixels(data):
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB/RGBA PNG, without PIL."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if typ == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0, ihdr
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def test_report_in_a_real_browser(tmp_path, lab, matrix):
    exe = _chromium()
    started = time.monotonic()
    page = render(lab, matrix)
    path = tmp_path / "report.html"
    write(str(path), page)
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE_JS + "</body>"), encoding="utf-8")
    profile = tmp_path / "profile"
    profile.mkdir()
    shot = tmp_path / "shot.png"

    _run_chromium(exe, profile, f"--screenshot={shot}", "--window-size=1400,1800",
                  path.as_uri())
    dom = _run_chromium(exe, profile, "--dump-dom", "--window-size=1400,1800", probed.as_uri())
    keep = os.environ.get("SGNET_REPORT_SHOT")  # to look at the page: copy it somewhere
    if keep:
        shutil.copy(shot, keep)
        shutil.copy(path, os.path.splitext(keep)[0] + ".html")

    # the rendered DOM: the picture and the grids with the expected cells
    doc = Elements(dom)
    assert doc.find("svg", id="topology")
    for inst in lab.instances:
        assert doc.find("g", cls="box instance", data_name=inst.name)
    assert [a["data-port"] for _, a, _ in doc.find("table", cls="matrix")] == \
        [key(p, n) for p, n in PORTS]
    mism = doc.find("td", cls="cell mismatch")
    assert {(a["data-src"], a["data-dst"]) for _, a, _ in mism} == \
        {(s, d) for s, d, _ in FLIPPED}
    assert len(doc.find("td", cls="cell allow")) + len(doc.find("td", cls="cell deny")) == \
        matrix["summary"]["total"]
    titles = [a["title"] for _, a, _ in mism]
    assert any("web rule 4: ingress allow IPv4 tcp/80 from 0.0.0.0/0" in t for t in titles)
    assert all("MISMATCH" in t and "expected: " in t and "observed: " in t for t in titles)
    # ... and the browser's own measurements of it
    check = json.loads(html.unescape(re.search(r'<pre id="layout-check">(.*?)</pre>', dom,
                                               re.S).group(1)))
    assert check["problems"] == [], "layout problems:\n" + "\n".join(check["problems"])
    assert check["counts"] == {"boxes": len(lab.instances) + 1 + len(lab.externals),
                               "links": 1}
    assert 600 < check["svg"]["width"] <= 1400 - 48, "the picture fits the window"
    assert check["styles"]["allow"]["bg"] == "rgb(60, 157, 91)"
    assert check["styles"]["deny"]["bg"] == "rgb(217, 220, 225)"
    assert "rgb(245, 124, 0)" in check["styles"]["mismatch"]["shadow"]
    assert check["styles"]["allow"]["w"] >= 24

    # the screenshot: a real picture of the page, with the grid's colours in it
    data = shot.read_bytes()
    assert len(data) > 30_000, f"screenshot suspiciously small: {len(data)} bytes"
    w, h, bpp, rows = png_pixels(data)
    assert (w, h) == (1400, 1800)
    colours = {}
    for row in rows[::3]:
        for i in range(0, len(row), bpp * 3):
            px = row[i:i + 3]
            colours[px] = colours.get(px, 0) + 1
    assert len(colours) > 50, "the screenshot is nearly blank"
    white = colours.get(b"\xff\xff\xff", 0) / sum(colours.values())
    assert white < 0.97, "the screenshot is nearly blank"
    for name, rgb in (("allow green", (60, 157, 91)), ("deny grey", (217, 220, 225)),
                      ("mismatch orange", (245, 124, 0)), ("VPC blue", (0x4e, 0x79, 0xa7))):
        assert colours.get(bytes(rgb), 0) > 20, f"no {name} in the screenshot"
    assert time.monotonic() - started < 30


HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB_FILES = sorted(
    [os.path.join(HERE, "labs", f) for f in os.listdir(os.path.join(HERE, "labs"))
     if f.endswith(".yaml")]
    + [os.path.join(HERE, "..", "examples", f)
       for f in os.listdir(os.path.join(HERE, "..", "examples")) if f.endswith(".yaml")])


@pytest.mark.parametrize("path", LAB_FILES, ids=os.path.basename)
@pytest.mark.parametrize("family", [4, 6])
def test_every_shipped_lab_renders(path, family):
    lab = labfile.load_file(path)
    ping = 1 if family == 4 else 58
    m = make_matrix(lab, family, [(6, 22), (17, 53), (ping, None)], flipped=())
    page = render(lab, m)
    assert not re.search(r"https?:", page)
    for inst in lab.instances:
        assert f'data-name="{html.escape(inst.name)}"' in page
    for name in lab.groups:
        assert f'data-group="{html.escape(name)}"' in page
    assert page.count('<table class="matrix"') == (3 if m["results"] else 0)
    assert 'id="no-mismatch"' in page or not m["results"]


def test_instances_of_a_multi_host_lab_show_their_host():
    from pathlib import Path
    text = (Path(__file__).parents[1] / "labs" / "multihost.yaml").read_text()
    lab = labfile.parse_text(text, "multihost.yaml")
    page = render(lab, {"lab": lab.name, "results": [],
                               "summary": {"total": 0, "correct": 0, "wrong": 0}})
    for inst in lab.instances:
        assert re.search(rf'class="box instance"[^>]*data-name="{inst.name}"[^>]*'
                         rf'data-host="{inst.host}"', page), inst.name
    assert page.count("on host hv1") == sum(i.host == "hv1" for i in lab.instances)


def test_access_tables_diff_and_intents_are_sections_of_the_page(lab, matrix):
    """The classes of traffic: each instance's access table, a diff's changed classes and
    intents with their violations, with the rule and what the packets said."""
    import copy as _copy
    from sgnet.core import classes, classview
    an = classes.Analysis(Evaluator(lab))
    tables = []
    for inst in lab.instances:
        cls = an.instance_classes(inst)
        recs = [dict(classview.record(an, c), confirmed=True) for c in cls]
        recs[0]["confirmed"] = False
        tables.append({"lab": lab.name, "instance": inst.name, "enis": [
            {"eni": e.ifname, "subnet": e.subnet, "addresses": [str(e.ip)], "groups": e.groups,
             "ingress": [r for r, c in zip(recs, cls) if c.eni == e.index and
                         r["direction"] == "ingress"],
             "egress": [r for r, c in zip(recs, cls) if c.eni == e.index and
                        r["direction"] == "egress"]} for e in inst.enis],
            "summary": classview.confirmed_summary(recs)})
    raw = _copy.deepcopy(LAB)
    raw["security_groups"][0]["rules"] = []
    moved = classes.changes(an, classes.Analysis(Evaluator(labspec.parse(raw, "y"))))
    d = classview.diff_result(lab.name, "y.yaml", None,
                              [classview.record(an, c, ("before", "after")) for c in moved],
                              (4, 6), None)
    v = {"intents": [{"name": "no-ssh", "from": "any", "to": "web1", "traffic": "tcp/22",
                      "expect": "deny", "holds": False,
                      "violations": tables[0]["enis"][0]["ingress"][:1]}]}
    page = render(lab, matrix, access=tables, diff=d, verify=v)
    assert page.count('<details class="access"') == len(lab.instances)
    assert 'id="diff"' in page and f'{d["summary"]["classes"]} classes of traffic change' in page
    assert d["summary"]["classes"] > 0 and page.count("<tr class=") >= d["summary"]["classes"]
    assert 'data-intent="no-ssh"' in page and "<b>violated</b>" in page
    assert "the kernel disagrees" in page and 'class="ok">confirmed' in page
    assert render(lab, matrix) .count('id="access"') == 0

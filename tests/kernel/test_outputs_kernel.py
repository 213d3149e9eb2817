"""diff, --junit and --pcap on the real kernel (needs root)."""

import json
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from sgnet.kernel import netns
from sgnet import state

pytestmark = pytest.mark.kernel
LABS = Path(__file__).parents[1] / "labs"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "sgnet.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def web(tmp_path):
    raw = yaml.safe_load((LABS / "webserver.yaml").read_text())
    raw["name"] = "tout"
    p = tmp_path / "lab.yaml"
    p.write_text(yaml.safe_dump(raw))
    assert cli("up", p).returncode == 0
    yield raw
    cli("down", "tout")
    assert netns.list_names("tout-") == []


def test_diff_reports_gained_and_lost_classes_confirmed_on_a_clone(web, tmp_path):
    changed = {"name": "whatever", "security_groups": [
        {"name": "locked", "default_rules": False, "rules": [
            {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "8080"},
            {"direction": "egress", "action": "allow", "protocol": "all"}]}],
        "instances": [{"name": "web1", "security_groups": ["locked"]}]}
    p = tmp_path / "changed.yaml"
    p.write_text(yaml.safe_dump(changed))
    before = {n: cli("exec", "tout", n, "--", "nft", "-s", "list", "ruleset").stdout
              for n in ("web1", "web2")}
    text_before = state.load("tout")["text"]
    junit = tmp_path / "diff.xml"
    r = cli("diff", "tout", p, "--ports", "tcp/22,tcp/8080,icmp", "--json", "--junit", junit)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    # classes of traffic: web1's ingress gains tcp/8080 and loses tcp/22 and icmp (the
    # internet and web2 among their sources); only the ports asked for, IPv4
    gained = {(h, x["dst"], x["protocol"], x["ports"]) for x in d["gained"]
              for h in x["remote"]["hosts"]}
    lost = {(h, x["dst"], x["protocol"], x["ports"]) for x in d["lost"]
            for h in x["remote"]["hosts"]}
    assert ("internet", "web1", "tcp", "8080") in gained
    assert ("internet", "web1", "tcp", "22") in lost and ("web2", "web1", "icmp", None) in lost
    assert {x["ports"] for x in d["gained"] + d["lost"]} <= {"22", "8080", None}
    assert {x["family"] for x in d["gained"] + d["lost"]} == {4}
    assert all(x["confirmed"] for x in d["gained"] + d["lost"])
    assert d["summary"]["clone_mismatches"] == 0
    # the running lab is exactly as it was, and the clone is gone
    assert {n: cli("exec", "tout", n, "--", "nft", "-s", "list", "ruleset").stdout
            for n in ("web1", "web2")} == before
    assert state.load("tout")["text"] == text_before
    assert netns.list_names(d["clone"] + "-") == []
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert len(cases) == len(d["gained"]) + len(d["lost"]) and not ET.parse(junit).getroot().findall(
        ".//failure")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"security_groups": [{"name": "x", "rules": [
        {"direction": "ingress", "action": "allow", "priority": 0}]}]}))
    r = cli("diff", "tout", bad)
    assert r.returncode == 2 and "priority" in r.stderr


def test_matrix_junit_and_pcap(web, tmp_path):
    junit, pcap = tmp_path / "m.xml", tmp_path / "m.pcap"
    r = cli("matrix", "tout", "--ports", "tcp/22,tcp/8080", "--junit", junit, "--pcap", pcap)
    assert r.returncode == 0, r.stderr
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert suite.get("tests") == "12" and suite.get("failures") == "0"
    names = {(c.get("classname"), c.get("name")) for c in root.iter("testcase")}
    assert ("internet->web1", "tcp/22 ipv4") in names
    from scapy.all import IP, TCP
    pkts = read_pcap(pcap)
    syns = [p for p in pkts if p[TCP].flags == "S"]
    answers = [p for p in pkts if p[TCP].flags & 0x04]
    assert len(syns) == 12  # every probe, as it left its namespace
    assert len({(p[IP].src, p[TCP].sport) for p in syns}) == 12
    # answered: internet -> web1, web2 on tcp/22 (2), web1 <-> web2 on both ports (4), and
    # web1, web2 -> internet on both ports (4); tcp/8080 from the internet is dropped
    assert len(answers) == 10 and len(pkts) == 22
    assert all(answers_syn(a, syns) for a in answers)
    unanswered = [s for s in syns if not any(answers_syn(a, [s]) for a in answers)]
    assert sorted((s[IP].src, s[IP].dst, s[TCP].dport) for s in unanswered) == [
        ("203.0.113.10", "10.30.1.2", 8080), ("203.0.113.10", "10.30.2.2", 8080)]
    r = cli("probe", "tout", "internet", "web1", "tcp/443", "--pcap", tmp_path / "p.pcap")
    assert r.returncode == 0
    syn, rst = read_pcap(tmp_path / "p.pcap")
    assert (syn[IP].src, syn[TCP].dport, syn[TCP].flags) == ("203.0.113.10", 443, "S")
    assert answers_syn(rst, [syn])  # SYN, then its RST


def read_pcap(path) -> list:
    """The packets of a pcap file, checked as strictly as a reader such as tshark reads it
    (so that no tshark is needed): the classic pcap header with link type RAW (101: IPv4 or
    IPv6, no link layer), whole records (captured length = original length, within the snap
    length), nothing after the last one, times in order; each packet one whole IPv4/TCP
    datagram whose IP and TCP checksums are right."""
    from scapy.all import IP, TCP
    data = Path(path).read_bytes()
    magic, major, minor, _, _, snaplen, linktype = struct.unpack_from("<IHHiIII", data)
    assert (magic, major, minor, linktype) == (0xA1B2C3D4, 2, 4, 101)
    off, last, pkts = 24, 0.0, []
    while off < len(data):
        assert off + 16 <= len(data), "a record header cut short"
        sec, usec, caplen, origlen = struct.unpack_from("<IIII", data, off)
        off += 16
        assert usec < 1_000_000 and caplen == origlen <= snaplen and off + caplen <= len(data)
        assert sec + usec / 1e6 >= last
        last = sec + usec / 1e6
        raw = data[off:off + caplen]
        off += caplen
        p = IP(raw)
        p.time = sec + usec / 1e6
        assert TCP in p and p.len == len(raw) and p.ihl == 5, p.summary()
        again = p.copy()
        del again.chksum, again[TCP].chksum  # recomputed as scapy builds it anew
        again = IP(bytes(again))
        assert (p.chksum, p[TCP].chksum) == (again.chksum, again[TCP].chksum), p.summary()
        pkts.append(p)
    assert off == len(data)
    return pkts


def answers_syn(answer, syns) -> bool:
    """`answer` (an RST or SYN-ACK) is the reply to one of these SYNs: the reversed
    addresses and ports, acknowledging the SYN's sequence number, later in the capture."""
    from scapy.all import IP, TCP
    return any((answer[IP].src, answer[IP].dst, answer[TCP].sport, answer[TCP].dport)
               == (s[IP].dst, s[IP].src, s[TCP].dport, s[TCP].sport)
               and answer[TCP].ack == (s[TCP].seq + 1) % 2**32 and answer.time >= s.time
               for s in syns)


def test_report_of_a_running_lab(web, tmp_path):
    out = tmp_path / "report.html"
    r = cli("report", "tout", "-o", out, "--ports", "tcp/22,tcp/80,icmp")
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    assert '<svg id="topology"' in html and 'data-port="tcp/22"' in html
    for name in ("web1", "web2", "internet", "Sys-WebServer", "10.30.1.0/24"):
        assert name in html
    assert 'class="cell allow"' in html and 'class="cell deny"' in html
    import re
    cells = re.findall(r'<td class="cell ([a-z ]+)" data-src', html)
    assert cells and not [c for c in cells if "mismatch" in c]  # a healthy lab


@pytest.mark.parametrize("kind,files", [
    ("terraform", ["terraform_alicloud_state.json"]),
    ("huawei", ["huawei_v3_list_security_group_rules.json",
                "huawei_v3_list_security_groups.json"]),
])
def test_an_imported_lab_comes_up_and_agrees_with_the_kernel(sgnet_lab, tmp_path, kind, files):
    exports = Path(__file__).parents[1] / "exports"
    out = tmp_path / "imported.yaml"
    r = cli("import", "--from", kind, *[exports / f for f in files], "-o", out,
            "--name", "timp" + kind[0])
    assert r.returncode == 0, r.stderr
    lab = sgnet_lab(str(out))
    m = lab.matrix(["tcp/22", "tcp/80", "tcp/3306", "icmp"])
    assert m["summary"]["total"] > 0 and m["summary"]["wrong"] == 0, \
        [x for x in m["results"] if not x.match][:3]

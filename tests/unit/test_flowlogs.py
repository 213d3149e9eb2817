"""Flow-log readers (pure, no root): the samples of tests/exports/flowlogs/ (see its
SOURCES.md), skip counts and messages, gzip, detection, refusals, streaming, IPv6."""

import gzip
import inspect
import json
from ipaddress import ip_address
from pathlib import Path

import pytest

from sgnet.core.errors import LabError
from sgnet.core.flowrecords import FlowRecord, RowProblem, huawei_line
from sgnet.io import flowlogs
from sgnet.io.flowlogs import MAX_MESSAGES, open_flowlog, read_flowlog

SAMPLES = Path(__file__).resolve().parent.parent / "exports" / "flowlogs"
HW_PROJECT = "5f67944957444bd6bb4fe3b367de8f3d"
HW_DOC_NIC = "1d515d18-1b36-47dc-a983-bd6512aed4bd"
HW_NIC = "7c1d8e3a-55a4-4b59-9d0e-2f6a1c3b9e70"
ALI_ENI = "eni-bp1e8s0fj7dtsfkbgdqx"


def read(name, provider=None):
    log = open_flowlog(str(SAMPLES / name), provider)
    return log, list(log.records())


def hw(src, dst, sport, dport, proto, packets, nbytes, start, end, action, line, name,
       eni=HW_NIC):
    return FlowRecord("huawei", eni, ip_address(src), ip_address(dst), sport, dport, proto,
                      packets, nbytes, start, end, action, None, "OK", line,
                      str(SAMPLES / name))


HUAWEI_NODATA_RECORDS = [  # huawei_nodata.log: (line, fields)
    (1, ("203.0.113.10", "192.168.1.11", 51514, 22, 6, 12, 2048, 1700000000, 1700000600,
         "accept")),
    (2, ("198.51.100.7", "192.168.1.11", 40022, 3306, 6, 3, 180, 1700000000, 1700000600,
         "reject")),
    (4, ("192.168.1.11", "203.0.113.53", 33012, 53, 17, 2, 140, 1700000600, 1700001200,
         "accept")),
    (6, ("203.0.113.10", "192.168.1.11", None, None, 1, 4, 336, 1700001200, 1700001800,
         "accept")),
]


# -- Huawei ------------------------------------------------------------------------------------
def test_huawei_documentation_example():
    log, records = read("huawei_doc_example.log")
    assert (log.provider, log.shape) == ("huawei", "lines")
    # Huawei's example 1: UDP 192.168.0.154:38929 -> 192.168.3.25:53, 1 packet, 96 bytes
    assert records == [hw("192.168.0.154", "192.168.3.25", 38929, 53, 17, 1, 96, 1548752136,
                          1548752736, "accept", 1, "huawei_doc_example.log", HW_DOC_NIC)]
    assert log.skips.counts == {"NODATA": 1, "SKIPDATA": 1, "malformed": 0}
    assert log.skips.status_lines == {"NODATA": [2], "SKIPDATA": [3]}
    assert log.skips.messages == []


def test_huawei_nodata_and_skipdata_rows_are_skipped_and_counted():
    log, records = read("huawei_nodata.log")
    expected = [hw(*f[:9], f[9], n, "huawei_nodata.log") for n, f in HUAWEI_NODATA_RECORDS]
    assert records == expected
    assert records[3].sport is None and records[3].dport is None  # ICMP: "-" ports
    assert all(r.direction is None for r in records)
    assert log.skips.counts == {"NODATA": 2, "SKIPDATA": 1, "malformed": 0}
    assert log.skips.status_lines == {"NODATA": [3, 7], "SKIPDATA": [5]}


def test_huawei_malformed_lines_are_reported_with_line_numbers():
    log, records = read("huawei_malformed.log")
    path = str(SAMPLES / "huawei_malformed.log")
    assert [r.line for r in records] == [1, 6, 11, 12, 13, 14, 15, 16]
    assert records[1].action == "reject" and records[1].dport == 443
    assert log.skips.counts == {"NODATA": 0, "SKIPDATA": 0, "malformed": 7}
    assert log.skips.messages == [
        f"{path}:2: srcaddr: not an IP address (got '10.0.0.x')",
        f"{path}:3: expected 14 space-separated fields (version project-id interface-id "
        "srcaddr dstaddr srcport dstport protocol packets bytes start end action "
        "log-status), got 13",
        f"{path}:5: dstport: not a port (0-65535 or '-') (got '70000')",
        f"{path}:7: protocol: protocol number out of range (an IANA number 0-255) "
        "(got '300')",
        f"{path}:8: action: not ACCEPT or REJECT (got 'ALLOW')",
        f"{path}:9: end: before start (1700000600) (got '1700000000')",
        f"{path}:10: log-status: not OK, NODATA or SKIPDATA (got 'BUSY')",
    ]
    assert log.skips.summary()[0] == "skipped 7 rows: 0 NODATA, 0 SKIPDATA, 7 malformed"


def test_huawei_csv_jsonl_and_lts_content_give_the_same_records():
    by_line = {n: f for n, f in HUAWEI_NODATA_RECORDS}
    for name, shape in (("huawei_flows.csv", "csv"), ("huawei_flows.jsonl", "jsonl"),
                        ("huawei_lts_content.jsonl", "jsonl")):
        log, records = read(name)
        assert (log.provider, log.shape) == ("huawei", shape), name
        lines = [1, 2] if name == "huawei_lts_content.jsonl" else [1, 2, 4]
        # the CSV's header is line 1: its records are one line further down
        offset = 1 if shape == "csv" else 0
        assert records == [hw(*by_line[n][:9], by_line[n][9], n + offset, name)
                           for n in lines], name
        assert log.skips.counts["NODATA"] == 1, name
        assert log.skips.status_lines["NODATA"] == [3 + offset], name


def test_huawei_gzip_reads_like_the_plain_file():
    plain = [r.__class__(**{**{f: getattr(r, f) for f in r.__dataclass_fields__},
                            "source": "x"}) for r in read("huawei_nodata.log")[1]]
    log, records = read("huawei_nodata.log.gz")
    assert log.shape == "lines"
    assert [r.__class__(**{**{f: getattr(r, f) for f in r.__dataclass_fields__},
                           "source": "x"}) for r in records] == plain
    assert log.skips.counts == {"NODATA": 2, "SKIPDATA": 1, "malformed": 0}


def test_huawei_ipv6_records():
    _, records = read("huawei_ipv6.log")
    assert records[0].src == ip_address("2001:db8::10")
    assert records[0].dst == ip_address("fd00:a:0:1::11")
    assert (records[0].protocol, records[0].dport) == (6, 22)
    assert records[1].src.version == 6 and records[1].protocol == 58
    assert (records[1].sport, records[1].dport, records[1].action) == (None, None, "reject")


# -- Alibaba -----------------------------------------------------------------------------------
def ali(src, sport, dst, dport, proto, direction, packets, nbytes, action, line, name):
    return FlowRecord("alibaba", ALI_ENI, ip_address(src), ip_address(dst), sport, dport,
                      proto, packets, nbytes, 1700000000, 1700000600, action, direction, "OK",
                      line, str(SAMPLES / name))


ALI_FLOWS = [
    ("203.0.113.10", 51514, "172.16.1.21", 22, 6, "ingress", 12, 2048, "accept"),
    ("172.16.1.21", 22, "203.0.113.10", 51514, 6, "egress", 10, 1900, "accept"),
    ("198.51.100.7", 40022, "172.16.1.21", 3306, 6, "ingress", 3, 180, "reject"),
    ("2001:db8::10", 50022, "2001:db8:a:1::21", 443, 6, "ingress", 8, 1200, "accept"),
    ("172.16.1.21", None, "198.51.100.53", None, 1, "egress", 2, 168, "accept"),
]


@pytest.mark.parametrize("name,shape,offset", [("alibaba_flows.jsonl", "jsonl", 0),
                                                ("alibaba_flows.jsonl.gz", "jsonl", 0),
                                                ("alibaba_flows.csv", "csv", 1)])
def test_alibaba_jsonl_csv_and_gzip(name, shape, offset):
    log, records = read(name)
    assert (log.provider, log.shape) == ("alibaba", shape)
    assert records == [ali(*f, n + offset, name) for n, f in enumerate(ALI_FLOWS, 1)]
    assert records[3].src.version == 6 and records[3].dst == ip_address("2001:db8:a:1::21")
    assert log.skips.total == 0


def test_alibaba_nodata_and_skipdata():
    log, records = read("alibaba_nodata.jsonl")
    assert records == [ali(*ALI_FLOWS[0], 1, "alibaba_nodata.jsonl"),
                       ali(*ALI_FLOWS[2], 3, "alibaba_nodata.jsonl")]
    assert log.skips.counts == {"NODATA": 1, "SKIPDATA": 1, "malformed": 0}
    assert log.skips.status_lines == {"NODATA": [2], "SKIPDATA": [4]}


def test_alibaba_malformed_rows():
    log, records = read("alibaba_malformed.jsonl")
    path = str(SAMPLES / "alibaba_malformed.jsonl")
    assert [r.line for r in records] == [1, 4, 7, 8, 9]
    assert [r.direction for r in records] == ["ingress", "egress", "ingress", "egress",
                                              "egress"]
    assert log.skips.messages == [
        f"{path}:2: srcaddr: not an IP address (got '10.0.0.x')",
        f"{path}:3: not a JSON object (got '{{\"srcaddr\": \"203.0.113.10\", \"truncated')",
        f"{path}:5: eni-id: missing",
        f"{path}:6: direction: not in or out (got 'inbound')",
    ]


def test_sls_query_json_getlogs_array_and_getlogsv2_object():
    log, records = read("alibaba_getlogs.json")
    assert (log.provider, log.shape) == ("alibaba", "json")
    assert records == [ali(*f, n, "alibaba_getlogs.json") for n, f in
                       enumerate(ALI_FLOWS[:3], 1)]
    log, records = read("alibaba_getlogsv2.json")
    assert log.shape == "json"
    assert records == [ali(*ALI_FLOWS[0], 1, "alibaba_getlogsv2.json"),
                       ali(*ALI_FLOWS[2], 3, "alibaba_getlogsv2.json")]
    assert log.skips.status_lines["NODATA"] == [2]


def test_sls_pulllogs_loggrouplist_and_a_bad_record(tmp_path):
    rows = [json.loads(line) for line in (SAMPLES / "alibaba_flows.jsonl").open()][:2]
    rows[1]["dstport"] = "http"
    doc = {"logGroupList": [{"Topic": "flow_log", "Source": "", "Logs": [
        {"Time": 1700000600, "Contents": [{"Key": k, "Value": v} for k, v in r.items()]}
        for r in rows]}]}
    path = tmp_path / "pull.json"
    path.write_text(json.dumps(doc))
    log = open_flowlog(str(path))
    records = list(log.records())
    assert [r.src for r in records] == [ip_address("203.0.113.10")]
    assert log.skips.messages == [f"{path}: record 2: dstport: not a port (0-65535 or '-') "
                                  "(got 'http')"]


def test_underscore_field_names_are_accepted(tmp_path):
    row = json.loads((SAMPLES / "alibaba_flows.jsonl").open().readline())
    row = {k.replace("-", "_"): v for k, v in row.items()}  # eni_id, log_status, ...
    path = tmp_path / "flows.jsonl"
    path.write_text(json.dumps(row) + "\n")
    log = open_flowlog(str(path))
    assert log.provider == "alibaba"
    [record] = log.records()
    assert (record.eni, record.dport, record.direction) == (ALI_ENI, 22, "ingress")
    # Huawei's, as LTS structures them (project_id, interface_id, log_status)
    row = json.loads((SAMPLES / "huawei_flows.jsonl").open().readline())
    path.write_text(json.dumps({k.replace("-", "_"): v for k, v in row.items()}) + "\n")
    log = open_flowlog(str(path))
    assert log.provider == "huawei"
    [record] = log.records()
    assert (record.eni, record.dport) == (row["interface-id"], 22)


# -- detection and refusal ---------------------------------------------------------------------
def test_format_is_detected_or_given():
    assert open_flowlog(str(SAMPLES / "huawei_flows.jsonl")).provider == "huawei"
    assert open_flowlog(str(SAMPLES / "alibaba_flows.csv")).provider == "alibaba"
    assert open_flowlog(str(SAMPLES / "huawei_doc_example.log"), "huawei").shape == "lines"
    with pytest.raises(LabError, match="not an Alibaba Cloud VPC flow log: plain-text lines"):
        open_flowlog(str(SAMPLES / "huawei_doc_example.log"), "alibaba")
    # Huawei's rows read as Alibaba's miss their direction (its NODATA row passes): refused
    with pytest.raises(LabError, match=r"not an Alibaba Cloud VPC flow log \(jsonl\): 1 of "
                       r"its first 4 rows are records; the first problem: .*:1: "
                       r"direction: missing"):
        open_flowlog(str(SAMPLES / "huawei_flows.jsonl"), "alibaba")
    with pytest.raises(LabError, match="--format: unknown flow-log format.*huawei, alibaba"):
        open_flowlog(str(SAMPLES / "huawei_flows.jsonl"), "aws")


def lab_error(path) -> str:
    with pytest.raises(LabError) as e:
        open_flowlog(str(path))
    assert e.value.exit_code == 2
    assert str(path) in str(e.value)
    return str(e.value)


def test_files_that_are_no_flow_log_are_refused(tmp_path):
    repo = SAMPLES.parent.parent.parent
    assert "0 of its first 20 rows are records" in lab_error(repo / "examples" / "vpcx.yaml")
    empty = tmp_path / "empty.log"
    empty.write_text("\n  \n")
    assert "the file is empty" in lab_error(empty)
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    assert "a binary file" in lab_error(binary)
    latin = tmp_path / "latin.log"
    latin.write_bytes("caf\xe9 au lait\n".encode("latin-1") * 3)
    assert "not UTF-8 text" in lab_error(latin)
    text = tmp_path / "words.txt"
    text.write_text("the quick brown fox\njumps over\nthe lazy dog\n")
    assert "not a Huawei Cloud VPC flow log (lines): 0 of its first 3" in lab_error(text)
    other = SAMPLES.parent / "huawei_v3_list_security_group_rules.json"
    assert "a JSON document without log records" in lab_error(other)
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps([{"name": "web", "id": 1}]))
    assert "are neither Huawei's" in lab_error(listing)
    nothing = tmp_path / "none.json"
    nothing.write_text('{"meta": {"count": 0}, "data": []}')
    assert "a JSON document with no records" in lab_error(nothing)
    bad = tmp_path / "bad.json"
    bad.write_text("[{]")
    assert "not valid JSON" in lab_error(bad)
    assert "not a regular file" in lab_error(tmp_path)
    assert "cannot read the flow log" in lab_error(tmp_path / "missing.log")
    zipped_yaml = tmp_path / "lab.yaml.gz"
    zipped_yaml.write_bytes(gzip.compress((repo / "examples" / "vpcx.yaml").read_bytes()))
    assert "rows are records" in lab_error(zipped_yaml)


def test_a_mostly_broken_file_is_refused_from_its_head(tmp_path):
    good = (SAMPLES / "huawei_doc_example.log").read_text().splitlines()[0]
    path = tmp_path / "flows.log"
    path.write_text("\n".join([good] * 9 + ["garbage line"] * 11 + [good] * 100) + "\n")
    message = lab_error(path)
    assert "9 of its first 20 rows are records" in message
    assert f"{path}:10: expected 14 space-separated fields" in message


# -- bounds, damage, streaming -----------------------------------------------------------------
def test_messages_are_bounded_and_the_rest_counted(tmp_path):
    good = (SAMPLES / "huawei_doc_example.log").read_text().splitlines()[0]
    bad = good.replace("192.168.0.154", "192.168.0.999")
    path = tmp_path / "flows.log"
    path.write_text("\n".join([good] * 20 + [bad] * 150) + "\n")
    log = open_flowlog(str(path))
    assert sum(1 for _ in log.records()) == 20
    assert log.skips.counts["malformed"] == 150
    assert len(log.skips.messages) == MAX_MESSAGES
    assert log.skips.more == 50
    assert log.skips.messages[0] == f"{path}:21: srcaddr: not an IP address " \
                                    "(got '192.168.0.999')"
    assert log.skips.summary()[-1] == "... and 50 more malformed rows"


def test_long_lines_bad_utf8_and_a_cut_gzip_are_skipped_not_fatal(tmp_path):
    good = (SAMPLES / "huawei_doc_example.log").read_text().splitlines()[0].encode()
    path = tmp_path / "flows.log"
    path.write_bytes(b"\n".join([good] * 5 + [b"x" * (flowlogs.MAX_LINE + 10),
                                              b"caf\xe9 " + good, good]) + b"\n")
    log = open_flowlog(str(path))
    assert [r.line for r in log.records()] == [1, 2, 3, 4, 5, 8]
    assert log.skips.messages == [f"{path}:6: line longer than 65,536 bytes",
                                  f"{path}:7: not UTF-8 text (byte 3)"]
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(gzip.compress(b"\n".join([good] * 2000) + b"\n")[:-200])
    log = open_flowlog(str(cut))
    n = sum(1 for _ in log.records())
    assert 0 < n < 2000
    assert "the gzip stream is damaged or cut short" in log.skips.messages[-1]


def test_records_are_streamed_by_a_generator(tmp_path):
    log = open_flowlog(str(SAMPLES / "huawei_nodata.log"))
    assert inspect.isgenerator(log.records())
    assert inspect.isgenerator(read_flowlog(str(SAMPLES / "alibaba_flows.jsonl")))
    # a large input: consumed one record at a time, never as a list
    line = (SAMPLES / "huawei_doc_example.log").read_text().splitlines()[0]
    path = tmp_path / "big.log.gz"
    with gzip.open(path, "wt") as f:
        for _ in range(50_000):
            f.write(line + "\n")
    records = open_flowlog(str(path)).records()
    first = next(records)
    assert first.line == 1 and first.bytes == 96
    count = 1
    for record in records:
        count += 1
    assert count == 50_000 and record.line == 50_000


def test_huawei_line_is_pure_and_raises_row_problems():
    record = huawei_line(f"1 {HW_PROJECT} {HW_DOC_NIC} 2001:db8::1 2001:db8::2 1 2 6 3 4 "
                         "10 20 REJECT OK", 7, "x.log")
    assert (record.src, record.line, record.source, record.action) == \
        (ip_address("2001:db8::1"), 7, "x.log", "reject")
    assert huawei_line(f"1 {HW_PROJECT} {HW_DOC_NIC} - - - - - - - 10 20 - NODATA", 1,
                       "x") == "NODATA"
    with pytest.raises(RowProblem, match="dstaddr: not an IPv4 address like srcaddr"):
        huawei_line(f"1 p {HW_DOC_NIC} 10.0.0.1 2001:db8::2 1 2 6 3 4 10 20 ACCEPT OK", 1, "x")

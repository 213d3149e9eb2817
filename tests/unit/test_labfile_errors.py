"""Lab file validation: every malformed input is refused before anything touches the kernel.

The issue's requirement: "validated before anything touches the kernel: every field in the
contract, with a clear error (file, field path, bad value, what is allowed), exit code 2, and
nothing created, for every malformed input".

Each case (tests/helpers/bad_labfiles.py) is a small change to one valid lab (BASE). For
each, the validator refuses it and `sgnet lint FILE` returns 2, naming the file, the field
path and the offending value on stderr. `sgnet up` refuses the very same before building
anything: tests/kernel/test_up_refuses.py (it needs the session, so it runs in the kernel
half). The second half parses valid labs (pure, no root) and checks the defaults.
"""

from __future__ import annotations

import copy
import ipaddress
import os
import re

import pytest
import yaml

from helpers.bad_labfiles import (BASE, CASES, G0R0, G1R0, LAB, _hosts, append,
                                  assert_names_the_field, both, lab_namespaces, set_, text,
                                  write_lab)
from sgnet import cli
from sgnet.io import labfile
from sgnet.core import labspec
from sgnet.core.errors import LabError, short
from sgnet.core import values
from sgnet.core.model import Remote

# -- the parametrized test ------------------------------------------------------------------------
@pytest.fixture
def no_kernel():
    """Nothing of this module's lab may appear in the kernel (the lab-file verbs run here
    never reach it: `lint` imports nothing of the shell)."""
    before = lab_namespaces()
    assert before == [], f"namespaces of lab {LAB} exist before the test: {before}"
    yield
    assert lab_namespaces() == []


def test_base_lab_is_valid(tmp_path):
    labfile.load_file(str(write_lab(tmp_path, lambda doc: None)))


def test_case_ids_are_unique():
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("mutate, field, value, allowed", CASES)
def test_malformed_lab_is_refused(tmp_path, capsys, no_kernel, mutate, field, value, allowed):
    path = write_lab(tmp_path, mutate)
    # The validator alone must refuse it (checked first, so that a lab file the validator
    # wrongly accepts is never handed to the CLI).
    with pytest.raises(LabError):
        labfile.load_file(str(path))

    assert cli.main(["lint", str(path)]) == 2
    assert_names_the_field(capsys.readouterr().err, path, field, value, allowed)


def test_json_error_output(tmp_path, capsys, no_kernel):
    import json
    path = write_lab(tmp_path, set_(f"{G1R0}.priority", 0))
    assert cli.main(["lint", "--json", str(path)]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["exit_code"] == 2
    assert f"{G1R0}.priority" in out["error"]


def test_missing_file_is_refused(tmp_path, capsys, no_kernel):
    path = tmp_path / "nope.yaml"
    assert cli.main(["lint", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "cannot read" in err


def test_directory_instead_of_file_is_refused(tmp_path, capsys, no_kernel):
    assert cli.main(["lint", str(tmp_path)]) == 2
    assert str(tmp_path) in capsys.readouterr().err


def test_non_utf8_file_is_refused(tmp_path, capsys, no_kernel):
    path = write_lab(tmp_path, text(b"name: t\xe9rr\n"))
    assert cli.main(["lint", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "utf-8" in err.lower()


# -- valid labs: the parse and its defaults (pure, no root) ------------------------------------------
def parse(doc):
    return labfile.parse_text(yaml.safe_dump(doc, sort_keys=False), "lab.yaml")


def test_base_parses():
    lab = parse(BASE)
    assert lab.name == LAB and lab.provider == "huawei"
    assert [v.name for v in lab.vpcs] == ["vpc-a", "vpc-b"]
    assert [s.name for s in lab.subnets] == ["subnet-a", "subnet-b", "subnet-c"]
    web1, app1, db1 = lab.instances
    assert str(web1.primary.ip) == "10.10.1.11"
    assert str(web1.primary.ipv6) == "fd00:10:0:1::2"
    assert web1.primary.groups == ["web"]
    assert web1.enis[1].subnet == "subnet-b" and web1.enis[1].groups == ["app"]
    assert str(web1.enis[1].ip) == "10.10.2.2" and web1.enis[1].ipv6 is None
    assert app1.groups == ["app", "default"]
    assert db1.groups == ["default"] and str(db1.primary.ip) == "10.20.1.2"
    assert str(lab.externals[0].ipv6) == "2001:db8::10"
    assert {"default", "Sys-WebServer", "Sys-FullAccess", "web", "app"} <= set(lab.groups)
    # huawei: a declared group starts from the API's rules, the file's rules come after
    web_rules = lab.groups["web"].rules[-2:]
    assert web_rules[0].ports == ((22, 22), (80, 80), (8000, 8080))
    assert web_rules[1].remote == Remote("prefix_list", "office")


def test_parse_accepts_a_dict():
    lab = labspec.parse(copy.deepcopy(BASE), "lab.yaml")
    assert lab.source == "lab.yaml" and len(lab.instances) == 3


def test_instance_without_groups_is_in_default():
    lab = parse({"name": LAB, "instances": [{"name": "a"}, {"name": "b",
                                                             "security_groups": []}]})
    assert [i.groups for i in lab.instances] == [["default"], ["default"]]


def test_lab_without_vpcs_gets_the_default_vpc():
    lab = parse({"name": LAB, "instances": [{"name": "a"}]})
    (vpc,) = lab.vpcs
    assert vpc.name == "vpc-default" and vpc.cidr == ipaddress.ip_network("192.168.0.0/16")
    (subnet,) = vpc.subnets
    assert subnet.name == "subnet-default"
    assert subnet.cidr == ipaddress.ip_network("192.168.0.0/24")
    assert lab.instances[0].primary.subnet == "subnet-default"
    assert str(lab.instances[0].primary.ip) == "192.168.0.2"
    assert lab.provider == "huawei"


def test_addresses_are_auto_assigned():
    lab = parse({
        "name": LAB,
        "vpcs": [{"name": "v", "cidr": "10.0.0.0/16", "ipv6_cidr": "fd00:1::/48", "subnets": [
            {"name": "s1", "cidr": "10.0.1.0/24", "ipv6_cidr": "fd00:1:0:1::/64"},
            {"name": "s2", "cidr": "10.0.2.0/24"}]}],
        "instances": [
            {"name": "a", "subnet": "s1"},
            {"name": "b", "subnet": "s1", "ip": "10.0.1.2", "ipv6": "fd00:1:0:1::3"},
            {"name": "c", "subnet": "s1"},
            {"name": "d", "subnet": "s1", "ip": "10.0.1.4"},  # given later, still skipped
            {"name": "e", "subnet": "s2", "secondary_enis": [{"subnet": "s1"}]},
        ],
    })
    ips = {i.name: [(str(e.ip), e.ipv6 and str(e.ipv6)) for e in i.enis] for i in lab.instances}
    assert ips == {
        "a": [("10.0.1.3", "fd00:1:0:1::2")],
        "b": [("10.0.1.2", "fd00:1:0:1::3")],
        "c": [("10.0.1.5", "fd00:1:0:1::4")],
        "d": [("10.0.1.4", "fd00:1:0:1::5")],
        "e": [("10.0.2.2", None), ("10.0.1.6", "fd00:1:0:1::6")],
    }


def _rules(*rules, **group):
    doc = {"name": LAB, "prefix_lists": [{"name": "v6only", "entries": ["2001:db8::/32"]}],
           "security_groups": [{"name": "web", "default_rules": False, "rules": list(rules),
                                **group}]}
    return parse(doc).groups["web"].rules


def test_alibaba_style_rule_syntax():
    r = _rules(
        {"direction": "ingress", "action": "Accept", "protocol": "TCP", "ports": "22/22"},
        {"direction": "ingress", "action": "DROP", "protocol": "tcp", "ports": "-1/-1"},
        {"direction": "egress", "action": "drop", "protocol": "udp", "ports": "8000/8080"},
        {"direction": "egress", "action": "accept", "protocol": "Udp", "ports": "1-65535"},
        {"direction": "Ingress", "action": "allow", "protocol": "6", "ports": [22, "80-81"]},
    )
    assert [x.action for x in r] == ["allow", "deny", "deny", "allow", "allow"]
    assert [x.protocol for x in r] == [6, 6, 17, 17, 6]
    assert [x.ports for x in r] == [((22, 22),), None, ((8000, 8080),), None,
                                    ((22, 22), (80, 81))]
    assert r[4].direction == "ingress"


def test_protocol_all_and_numbers():
    r = _rules({"direction": "ingress", "action": "allow"},
               {"direction": "ingress", "action": "allow", "protocol": "-1"},
               {"direction": "ingress", "action": "allow", "protocol": "gre"},
               {"direction": "ingress", "action": "allow", "protocol": 255})
    assert [x.protocol for x in r] == [None, None, 47, 255]


def test_remote_group_self():
    (r,) = _rules({"direction": "ingress", "action": "allow", "remote_group": "self"})
    assert r.remote == Remote("group", "web")


def test_remote_single_ip_becomes_host_network():
    r = _rules({"direction": "ingress", "action": "allow", "remote": "10.1.2.3"},
               {"direction": "ingress", "action": "allow", "remote": "2001:db8::5"})
    assert r[0].remote == Remote("cidr", "10.1.2.3/32") and r[0].family == 4
    assert r[1].remote == Remote("cidr", "2001:db8::5/128") and r[1].family == 6


def test_ethertype_defaults_from_the_remote():
    r = _rules({"direction": "ingress", "action": "allow", "remote": "::/0"},
               {"direction": "ingress", "action": "allow", "remote": "10.0.0.0/8"},
               {"direction": "ingress", "action": "allow"},
               {"direction": "ingress", "action": "allow", "protocol": "icmpv6"},
               {"direction": "ingress", "action": "allow", "remote_prefix_list": "v6only"},
               {"direction": "ingress", "action": "allow", "ethertype": "ipv6"})
    assert [x.family for x in r] == [6, 4, 4, 6, 6, 6]


def test_priority_default_and_string():
    r = _rules({"direction": "ingress", "action": "allow"},
               {"direction": "ingress", "action": "allow", "priority": "100"})
    assert [x.priority for x in r] == [1, 100]


# -- reading: regular files only, of bounded size (issue 11) ---------------------------------------
@pytest.fixture
def alarm():
    """Fail a test that blocks (a FIFO without a writer) instead of hanging the suite."""
    import signal

    def hung(signum, frame):
        raise AssertionError("blocked reading the input")
    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("make, kind", [
    (lambda tmp: "/dev/zero", "a character device"),
    (lambda tmp: (os.mkfifo(tmp / "lab.fifo"), str(tmp / "lab.fifo"))[1], "a FIFO (named pipe)"),
    (lambda tmp: str(tmp), "a directory"),
], ids=["dev-zero", "fifo", "directory"])
def test_only_regular_files_are_read(tmp_path, capsys, no_kernel, alarm, make, kind):
    """/dev/zero read until MemoryError, a FIFO without a writer hung: refused, exit 2."""
    path = make(tmp_path)
    assert cli.main(["lint", path]) == 2
    err = capsys.readouterr().err
    assert f"{path}: cannot read the lab file: it is {kind}, not a regular file" in err
    assert "Traceback" not in err


def test_input_size_is_bounded_and_the_bound_can_be_raised(tmp_path, capsys, no_kernel,
                                                           monkeypatch):
    path = write_lab(tmp_path, lambda doc: None)
    size = path.stat().st_size
    monkeypatch.setenv("SGNET_MAX_INPUT_BYTES", str(size - 1))
    assert cli.main(["lint", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: the lab file is larger than {size - 1:,} bytes" in err
    assert "SGNET_MAX_INPUT_BYTES" in err
    monkeypatch.setenv("SGNET_MAX_INPUT_BYTES", str(size))
    assert labfile.load_file(str(path)).name == LAB
    monkeypatch.setenv("SGNET_MAX_INPUT_BYTES", "²")
    assert cli.main(["lint", str(path)]) == 2
    assert "SGNET_MAX_INPUT_BYTES: not a number of bytes (got '²')" in capsys.readouterr().err
    monkeypatch.delenv("SGNET_MAX_INPUT_BYTES")
    assert labfile.input_limit() == labfile.MAX_INPUT_BYTES == 16 * 2**20


def test_a_large_file_is_read_no_further_than_the_bound(tmp_path, monkeypatch):
    """A file growing without end (or /proc, whose sizes are 0) is read up to the bound + 1."""
    monkeypatch.setenv("SGNET_MAX_INPUT_BYTES", "1000")
    reads = []
    real = os.read
    monkeypatch.setattr(labfile.os, "read", lambda fd, n: reads.append(n) or real(fd, n))
    path = tmp_path / "big.yaml"
    path.write_text("#" * 100_000)
    with pytest.raises(LabError, match="larger than 1,000 bytes"):
        labfile.read_text(str(path))
    assert sum(reads) <= 1001


def test_a_nul_in_the_path_is_refused():
    with pytest.raises(LabError, match="NUL byte"):
        labfile.read_text("lab\x00.yaml")


# -- YAML: both loaders (libyaml's and Python's) refuse alike ----------------------------------
YAML_REFUSALS = [
    ("name: terr\nprovider: huawei\nname: other\n", "line 3, column 1", "duplicate key 'name'"),
    ("name: terr\nvpcs: " + "[" * 500 + "]" * 500 + "\n", "line 2", "nested deeper than 64"),
    ("a: " + "[" * 100_000 + "\n", "line 1", "nested deeper than 64"),
    ("a: &a [*a]\n", "line 1", "recursive"),
    ("x: " + "9" * 5000 + "\n", "line 1, column 4", "integer of 5,000 characters"),
    ("a: b\n\x07\n", "line 2, column 1", "U+0007"),
    ("a: 'é\x00'\n", "line 1, column 6", "NUL (U+0000)"),
    ("k: 1\nx: *" + "a" * 100_000 + "\n", "line 2", "found undefined alias"),
]


@pytest.mark.parametrize("loader", labfile._LOADERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("doc, where, problem", YAML_REFUSALS,
                         ids=[f"refusal{i}" for i in range(len(YAML_REFUSALS))])
def test_yaml_refusals(loader, doc, where, problem):
    with pytest.raises(LabError) as e:
        labfile.load_yaml(doc, "lab.yaml", loader=loader)
    msg = str(e.value)
    assert msg.startswith(f"lab.yaml: {where}") and problem in msg, msg
    assert len(msg) < 500


@pytest.mark.parametrize("loader", labfile._LOADERS, ids=lambda c: c.__name__)
def test_yaml_loaders_agree(loader):
    text = yaml.safe_dump(BASE, sort_keys=False)
    shared = "common: &rules [{direction: ingress, action: allow}]\n"
    assert labfile.load_yaml(text, "lab.yaml", loader=loader) == BASE
    assert labfile.load_yaml(shared + "g: [*rules, *rules]\n", "x", loader=loader)["g"] == \
        [[{"direction": "ingress", "action": "allow"}]] * 2


def test_alias_bomb_is_refused_in_bounded_time_and_message(tmp_path, capsys, no_kernel):
    """The "billion laughs": 10^9 nodes once expanded; messages printed the whole value
    (722 MB). Refused while composing, before anything walks it."""
    import time
    lines = ["name: terr", "a: &a [" + ", ".join(["lol"] * 10) + "]"]
    for k in range(1, 9):
        prev, cur = chr(96 + k), chr(97 + k)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    lines.append("provider: *i")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    t = time.monotonic()
    assert cli.main(["lint", str(path)]) == 2
    assert time.monotonic() - t < 10
    err = capsys.readouterr().err
    assert "alias bomb" in err and len(err) < 500


def test_values_in_messages_are_cut(tmp_path, capsys, no_kernel):
    """A bad value of any size is shown cut (a readable prefix, its length), in time bounded
    by that cut: not its whole repr."""
    cases = [set_("provider", ["huawei"] * 1_000_000), set_("vpcs[0].cidr", "1" * 1_000_000),
             set_("k" * 100_000, 1), set_("instances[0].name", {"a" * 1000: list(range(10**5))})]
    for mutate in cases:
        path = write_lab(tmp_path, mutate)
        assert cli.main(["lint", str(path)]) == 2
        err = capsys.readouterr().err
        assert len(err) < 500 + len(str(path)), err[:1000]
        assert "Traceback" not in err


def test_short():
    assert short("web1") == "'web1'"
    assert short("x" * 100) == "'" + "x" * 59 + "... (100 characters)"
    assert len(short(list(range(10**6)))) <= 63
    assert len(short({"a": [[[[1]]]]})) <= 63
    deep = []
    for _ in range(10**5):
        deep = [deep]
    assert short(deep).startswith("[[")


# -- integers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    (22, 22), ("22", 22), (" 22 ", 22), ("0022", 22), (-1, -1), (True, None), (False, None),
    ("²", None), ("٢٢", None), ("２２", None), ("-1", None), ("+1", None), ("", None),
    ("1_000", None), (22.0, None), (None, None), ([22], None), ("9" * 5000, 10**20),
])
def test_ascii_int(value, expected):
    assert values.ascii_int(value) == expected


def test_bounded_int():
    assert values.bounded_int("100", 1, 100) == 100
    assert values.bounded_int("101", 1, 100) is None
    assert values.bounded_int("9" * 5000, 1, 100) is None
    assert values.bounded_int("5", 1, 100, strings=False) is None
    assert values.bounded_int(5, 1, 100, strings=False) == 5


# -- every count a user sets has its bound, checked before anything is built -------------------
def _port_rules(n):
    return [{"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": str(p + 1)}
            for p in range(n)]


@pytest.mark.parametrize("bound, most, mutate, field", [
    ("instances", 3, append("instances", {"name": "db2", "subnet": "subnet-c"}), "instances"),
    ("secondary_enis", 1, set_("instances[0].secondary_enis", [{"subnet": "subnet-b"}] * 2),
     "instances[0].secondary_enis"),
    ("secondary_ips", 10, set_("instances[2].secondary_ips", 11), "instances[2].secondary_ips"),
    ("private_ipv4", 20, both(set_("instances[1].secondary_ips", 10),
                              set_("instances[2].secondary_ips", 10)),
     "instances[2].secondary_ips"),
    ("externals", 1, append("externals", {"name": "nat", "ip": "198.51.100.11"}), "externals"),
    ("vpcs", 1, lambda doc: None, "vpcs"),
    ("subnets", 2, lambda doc: None, "vpcs[1].subnets"),
    ("security_groups", 1, lambda doc: None, "security_groups"),
    ("rules_per_group", 3, set_("security_groups[1].rules", _port_rules(4)),
     "security_groups[1].rules"),
    ("rules", 5, set_("security_groups[1].rules", _port_rules(4)), "security_groups[1].rules"),
    ("ports_per_rule", 3, set_(f"{G0R0}.ports", "22,80,443,8080"), f"{G0R0}.ports"),
    ("ports_per_rule", 3, set_(f"{G0R0}.ports", [22, "80,443", 8080]), f"{G0R0}.ports"),
    ("prefix_lists", 1, append("prefix_lists", {"name": "home", "entries": []}), "prefix_lists"),
    ("prefix_list_entries", 1, lambda doc: None, "prefix_lists[0].entries"),
    ("hosts", 1, _hosts(), "hosts"),
    ("host_subnets", 2, _hosts(), "vpcs"),
    ("ssh_options", 1, _hosts(hosts=[{"name": "hv1", "simulated": True,
                                      "ssh_options": ["A=b", "C=d"]}]), "hosts[0].ssh_options"),
])
def test_counts_are_bounded(tmp_path, capsys, no_kernel, monkeypatch, bound, most, mutate,
                            field):
    """Each bound of labspec.BOUNDS, lowered so that the base lab crosses it: refused, exit 2,
    naming the field and the bound, before anything is built."""
    monkeypatch.setitem(labspec.BOUNDS, bound, most)
    path = write_lab(tmp_path, mutate)
    assert cli.main(["lint", str(path)]) == 2
    err = capsys.readouterr().err
    assert re.search(re.escape(f"{path}: {field}") + r":", err), err
    assert f"at most {most:,}" in err and "Traceback" not in err


def test_bounds_are_what_the_readme_says():
    """The bounds are data in one place; these are the documented values."""
    assert labspec.BOUNDS["instances"] == 10_000 and labspec.BOUNDS["secondary_ips"] == 65_535
    assert labspec.BOUNDS["private_ipv4"] == 4 * 65_536
    assert labspec.MAX_SECONDARY_ENIS == labspec.BOUNDS["secondary_enis"] == 9
    assert labspec.MAX_HOSTS == labspec.BOUNDS["hosts"] == 250
    # the interface name of ENI 9 of the last instance of an 8-character lab fits IFNAMSIZ
    last = labspec.BOUNDS["instances"] - 1
    assert len(f"abcdefgh" f"i{last}e{labspec.MAX_SECONDARY_ENIS}") <= 15


def test_the_largest_counts_are_accepted():
    """At the bounds themselves: 10,000 instances, 65,535 secondary addresses on one ENI."""
    lab = parse({"name": LAB, "vpcs": [{"name": "v", "cidr": "10.0.0.0/8", "subnets": [
        {"name": "s", "cidr": "10.0.0.0/12"}]}],
        "instances": [{"name": "big", "secondary_ips": 65535}]
        + [{"name": f"i{k}"} for k in range(9_999)]})
    assert len(lab.instances) == 10_000
    # after every primary address (10.0.0.2 to 10.0.39.17): 65,535 from 10.0.39.18
    assert lab.instances[0].primary.secondary == (ipaddress.ip_address("10.0.39.18"),
                                                  ipaddress.ip_address("10.1.39.16"))


# -- free text ---------------------------------------------------------------------------------
def test_descriptions_keep_tabs_and_newlines():
    doc = copy.deepcopy(BASE)
    doc["security_groups"][0]["description"] = "web tier\n\tpublic\n"
    doc["security_groups"][0]["rules"][0]["description"] = "line one\nline two\n"
    lab = parse(doc)
    assert lab.groups["web"].description == "web tier\n\tpublic\n"
    assert lab.groups["web"].rules[-2].description == "line one\nline two\n"


def test_a_lone_surrogate_in_a_description_is_refused():
    """Python's YAML reads "\\ud800" as a lone surrogate, which no file or terminal takes."""
    doc = copy.deepcopy(BASE)
    doc["security_groups"][0]["rules"][0]["description"] = "a\ud800b"
    with pytest.raises(LabError, match=re.escape("U+D800")):
        labspec.parse(doc, "lab.yaml")


# -- addresses: the allocator hands out what it did, in time linear in the lab -----------------
def test_secondary_blocks_are_first_fit():
    lab = parse({"name": LAB, "vpcs": [{"name": "v", "cidr": "10.0.0.0/16", "subnets": [
        {"name": "s", "cidr": "10.0.0.0/27"}]}], "instances": [
        {"name": "a", "secondary_ips": 2}, {"name": "x", "ip": "10.0.0.5", "secondary_ips": 5},
        {"name": "b", "secondary_ips": 1}, {"name": "y", "ip": "10.0.0.9"},
        {"name": "c", "secondary_ips": 1}]})
    got = {i.name: (str(i.primary.ip), i.primary.secondary and
                    tuple(str(a) for a in i.primary.secondary)) for i in lab.instances}
    assert got == {"a": ("10.0.0.2", ("10.0.0.6", "10.0.0.7")),
                   "x": ("10.0.0.5", ("10.0.0.10", "10.0.0.14")),
                   "b": ("10.0.0.3", ("10.0.0.8", "10.0.0.8")),
                   "y": ("10.0.0.9", None), "c": ("10.0.0.4", ("10.0.0.15", "10.0.0.15"))}
    with pytest.raises(LabError, match="no block of 20 free addresses"):
        parse({"name": LAB, "vpcs": [{"name": "v", "cidr": "10.0.0.0/16", "subnets": [
            {"name": "s", "cidr": "10.0.0.0/27"}]}], "instances": [
            {"name": "a", "ip": "10.0.0.12", "secondary_ips": 20}]})


def test_ten_thousand_instances_in_one_subnet_parse_in_linear_time():
    """The free-address allocator rescanned the subnet for every instance: 10,000 instances
    in one subnet took over a minute. Now about 0.1 s; the bound is generous for a shared
    machine and still far below the quadratic time."""
    import time
    raw = {"name": LAB, "vpcs": [{"name": "v", "cidr": "10.0.0.0/16", "subnets": [
        {"name": "s", "cidr": "10.0.0.0/16"}]}],
        "instances": [{"name": f"i{k}", "secondary_ips": k % 3} for k in range(10_000)]}
    t = time.process_time()
    lab = labspec.parse(raw, "lab.yaml")
    assert time.process_time() - t < 5
    assert str(lab.instances[-1].primary.ip) == "10.0.39.17"
    assert len({a for i in lab.instances for a in i.primary.addresses(4)}) == 19_999


@pytest.mark.parametrize("loader", labfile._LOADERS, ids=lambda c: c.__name__)
def test_values_of_a_file_are_bounded(loader, monkeypatch):
    """Each YAML value costs Python time and memory whatever its length: a file of 16 MiB
    of `1,` would be 8 million of them (minutes, gigabytes)."""
    monkeypatch.setattr(labfile, "MAX_NODES", 1000)
    # the mapping, its key, the list and 997 numbers: 1,000 values
    labfile.load_yaml("x: [" + "1," * 996 + "1]\n", "lab.yaml", loader=loader)
    with pytest.raises(LabError, match="line 1, column 1999: YAML refused: more than 1,000 "
                                       "values"):
        labfile.load_yaml("x: [" + "1," * 997 + "1]\n", "lab.yaml", loader=loader)


def test_building_restores_the_garbage_collector():
    import gc
    assert gc.isenabled()
    with pytest.raises(LabError):
        labfile.parse_text("name: terr\ninstances: 7\n")
    assert gc.isenabled()
    gc.disable()
    try:
        labfile.parse_text("name: terr\n")
        assert not gc.isenabled()
    finally:
        gc.enable()

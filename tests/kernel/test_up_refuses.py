"""`sgnet up` refuses every malformed lab file as `sgnet lint` does (tests/unit/
test_labfile_errors.py), before anything is built: exit 2, the file, the field and the
value on stderr, no namespace, and the builder never called. Also the files only `up`
refuses: valid lab files that no lab can be built from."""

import re

import pytest

from helpers.bad_labfiles import (CASES, LAB, _hosts, assert_names_the_field, lab_namespaces,
                                  set_, text, write_lab)
from sgnet import cli
from sgnet.io import labfile
from sgnet.kernel import build, netns


@pytest.fixture
def no_kernel(monkeypatch):
    """Fail loudly if `sgnet up` gets as far as building anything."""
    def refuse(*args, **kwargs):
        raise AssertionError("sgnet up touched the kernel for a malformed lab file")
    monkeypatch.setattr(netns, "create", refuse)
    monkeypatch.setattr(build, "build", refuse)
    before = lab_namespaces()
    assert before == [], f"namespaces of lab {LAB} exist before the test: {before}"
    yield
    assert lab_namespaces() == []


@pytest.mark.parametrize("mutate, field, value, allowed", CASES)
def test_up_refuses_a_malformed_lab(tmp_path, capsys, no_kernel, mutate, field, value, allowed):
    path = write_lab(tmp_path, mutate)
    assert cli.main(["lint", str(path)]) == 2
    refused_by_lint = capsys.readouterr().err
    assert cli.main(["up", str(path)]) == 2
    err = capsys.readouterr().err
    assert_names_the_field(err, path, field, value, allowed)
    assert err == refused_by_lint


@pytest.mark.parametrize("make", [
    lambda tmp: str(tmp / "nope.yaml"),
    lambda tmp: str(tmp),
    lambda tmp: "/dev/zero",
    lambda tmp: (tmp / "lab.yaml").write_bytes(b"name: \xff\xfe\n") and str(tmp / "lab.yaml"),
    lambda tmp: str(write_lab(tmp, text("name: [unclosed\n"))),
], ids=["missing", "directory", "dev-zero", "not-utf8", "not-yaml"])
def test_up_refuses_an_unreadable_file_as_lint_does(tmp_path, capsys, no_kernel, make):
    path = make(tmp_path)
    assert cli.main(["lint", path]) == 2
    refused_by_lint = capsys.readouterr().err
    assert cli.main(["up", path]) == 2
    err = capsys.readouterr().err
    assert err == refused_by_lint and path in err and "Traceback" not in err


def test_up_json_error_output(tmp_path, capsys, no_kernel):
    import json
    path = write_lab(tmp_path, set_("security_groups[1].rules[0].priority", 0))
    assert cli.main(["up", "--json", str(path)]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["exit_code"] == 2
    assert "security_groups[1].rules[0].priority" in out["error"]


@pytest.mark.parametrize("hosts, value", [
    ([{"name": "hv1", "address": "192.0.2.11", "ssh_user": "root"},
      {"name": "hv2", "simulated": True}], "hv2"),  # the contract's own example
    ([{"name": "hv1", "address": "192.0.2.1"}, {"name": "hv2", "address": "2001:db8::2"}],
     "2001:db8::2"),
    ([{"name": "hv1", "simulated": True}, {"name": "hv2", "simulated": True,
                                           "address": "198.18.0.1"}], "198.18.0.1"),
], ids=["simulated-and-real", "ipv4-and-ipv6", "default-address-taken"])
def test_hosts_one_lab_cannot_be_built_on(tmp_path, capsys, no_kernel, hosts, value):
    """A valid lab file (the pure verbs take it) that no lab can be built from: `up`
    refuses it, exit 2, naming the file, the field and the value, and builds nothing."""
    path = write_lab(tmp_path, _hosts(hosts=hosts))
    lab = labfile.load_file(str(path))
    assert [h.name for h in lab.hosts] == ["hv1", "hv2"]
    assert cli.main(["lint", str(path)]) in (0, 1)  # judged, not refused
    capsys.readouterr()
    assert cli.main(["up", str(path)]) == 2
    err = capsys.readouterr().err
    assert re.search(re.escape(f"{path}: hosts") + r"(\[\d\]\.address)?: ", err), err
    assert value in err and "Traceback" not in err

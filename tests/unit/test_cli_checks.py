"""The command line's own checks, without a kernel (issue 11, section 3): numbers, output
paths, the corpus of bad command lines itself, and live edits refused in the words of the
flags rather than of paths in the lab file. The corpus run against the kernel is
tests/kernel/test_cli_errors.py."""

import os

import pytest

from helpers.cli import load_corpus
from sgnet import cli
from sgnet.core import changes
from sgnet.core.errors import LabError
from sgnet.core.flows import check_run, parse_proto
from sgnet.core.labspec import RUN_BOUNDS, parse

CASES = load_corpus()


def test_corpus_is_large_and_every_verb_is_in_it():
    verbs = {c.args[0] if c.args[:1] != ["rule"] else " ".join(c.args[:2])
             for c in CASES if c.args}
    assert len(CASES) >= 200
    assert {"up", "down", "status", "rule add", "rule delete", "attach", "detach", "probe",
            "explain", "matrix", "diff", "report", "import", "lint", "exec"} <= verbs


def test_numbers_are_ascii_digits_within_range():
    jobs = cli._integer(1, 1024)
    assert jobs("1") == 1 and jobs("1024") == 1024
    for bad in ("0", "-1", "1025", "٢", "²", "1.0", "", "+2", "0x1", "9" * 5000, "1_0",
                "nan"):
        with pytest.raises(Exception, match="ASCII digits"):
            jobs(bad)
    assert cli._seconds("0.5") == 0.5 and cli._seconds("60") == 60 and cli._seconds(".2")
    for bad in ("nan", "inf", "-inf", "0", "0.0", "-1", "61", "1e9", "1e-3", "٢", "", "1_0",
                "0x1", "1" * 5000):
        with pytest.raises(Exception, match="seconds"):
            cli._seconds(bad)


def test_output_paths_are_checked_up_front(tmp_path):
    cli.check_output("-o", str(tmp_path / "new.html"))
    (tmp_path / "old.html").write_text("x")
    cli.check_output("-o", str(tmp_path / "old.html"))
    os.symlink(tmp_path / "new2.html", tmp_path / "link.html")  # dangling: its target's dir
    cli.check_output("-o", str(tmp_path / "link.html"))
    os.symlink(tmp_path / "nodir" / "x", tmp_path / "bad.html")
    for path, why in ((tmp_path / "missing" / "x.xml", "no such directory"),
                      (tmp_path, "is a directory"), ("", "not a usable"),
                      (tmp_path / "a\0b", "not a usable"), ("x" * 5000, "not a usable"),
                      (tmp_path / "bad.html", "no such directory"),
                      (tmp_path / "old.html" / "x", "no such directory")):
        with pytest.raises(LabError, match=why) as e:
            cli.check_output("--junit", str(path))
        assert str(e.value).startswith("--junit ") and len(str(e.value)) < 300


RAW = {
    "name": "h5chg", "provider": "alibaba",
    "security_groups": [{"name": "adv", "type": "advanced"}, {"name": "web"}],
    "instances": [{"name": "vm", "security_groups": ["web"]},
                  {"name": "vm2", "security_groups": ["adv"]}],
}


def _refusal(raw, lab, edit, where):
    """What `_change` says when the edited file does not parse, or the edit is refused."""
    try:
        new = edit(raw, lab)
    except LabError as e:
        return str(e)
    new = new[0] if isinstance(new, tuple) else new
    with pytest.raises(LabError) as e:
        parse(new, "lab.yaml")
    return changes.in_words(e.value, where(new))


def test_live_refusals_name_the_flags_not_paths_in_the_file():
    lab = parse(RAW, "lab.yaml")
    cases = [
        (lambda r, l: changes.rule_add(r, l, "web", {"direction": "ingress", "action": "allow",
                                                      "priority": 0}), "--priority"),
        (lambda r, l: changes.rule_add(r, l, "web", {"direction": "ingress", "action": "allow",
                                                      "protocol": "icmp", "ports": "22"}),
         "--ports"),
        (lambda r, l: changes.rule_add(r, l, "web", {"direction": "up", "action": "allow"}),
         "--direction"),
        (lambda r, l: changes.rule_add(r, l, "web", {"action": "allow"}), "--direction"),
        # refused by the provider's checks of the whole file, not by the rule's parser
        (lambda r, l: changes.rule_add(r, l, "web", {"direction": "ingress", "action": "accept",
                                                      "remote_group": "adv"}),
         "--remote-group"),
        (lambda r, l: changes.rule_delete(r, l, "web", {"priority": 101}), "--priority"),
        (lambda r, l: changes.rule_delete(r, l, "web", {"ports": "x"}), "--ports"),
        (lambda r, l: changes.rule_delete(r, l, "web", {"remote": "10.0.0.0/33"}), "--remote"),
        (lambda r, l: changes.attach(r, l, "vm", "adv"), "instance vm"),
        (lambda r, l: changes.attach(r, l, "vm", "web", 3), "--eni"),
        (lambda r, l: changes.attach(r, l, "nosuch", "web"), "INSTANCE"),
        (lambda r, l: changes.detach(r, l, "vm", "x" * 10_000), "GROUP"),
    ]
    for edit, flag in cases:
        why = _refusal(RAW, lab, edit, lambda new: changes.places(
            new, group="web", instance="vm", added=True))
        assert flag in why and "security_groups[" not in why and "instances[" not in why, why
        assert len(why) < 400, why


def test_rule_delete_compares_only_the_given_fields():
    lab = parse(RAW, "lab.yaml")
    raw = changes.rule_add(RAW, lab, "web", {"direction": "ingress", "action": "accept",
                                              "protocol": "udp", "ports": "53"})
    new = parse(raw, "lab.yaml")
    for fields in ({"ports": "53"}, {"protocol": "udp"}, {"ports": 53, "direction": "ingress"},
                   {"priority": 1, "protocol": "UDP"}):
        out, idx = changes.rule_delete(raw, new, "web", fields)
        assert idx == 0 and parse(out, "lab.yaml").groups["web"].rules == []
    with pytest.raises(LabError, match="no rule"):
        changes.rule_delete(raw, new, "web", {"ports": "54"})


def test_proto_is_ascii_and_named_by_its_argument():
    assert parse_proto("tcp/22", 4) == (6, 22) and parse_proto("ICMP", 6) == (58, None)
    assert parse_proto("47", 4) == (47, None) and parse_proto("udp/65535", 4) == (17, 65535)
    for bad in ("tcp/٢٢", "tcp/99999", "tcp/0", "tcp/", "tcp", "٦/22", "256", "", "tcp/²",
                "icmp/1", "icmpv6", "x" * 100_000, "tcp/" + "9" * 5000, "tcp/2\x002"):
        with pytest.raises(LabError) as e:
            parse_proto(bad, 4, "--ports")
        assert str(e.value).startswith("--ports ") and len(str(e.value)) < 300


@pytest.mark.parametrize("timeout,jobs", [(float("nan"), None), (float("inf"), None), (0, None),
                                          (-1, None), (61, None), (True, None), ("1", None),
                                          (1.0, -1), (1.0, 0), (1.0, 1025), (1.0, 2.5)])
def test_session_checks_run_options_for_python_callers(timeout, jobs):
    # the pytest plugin calls LabSession directly: matrix(jobs=-1) used to loop for ever
    with pytest.raises(LabError):
        check_run(timeout, jobs, RUN_BOUNDS)
    check_run(1.0, None, RUN_BOUNDS)
    check_run(60, 1024, RUN_BOUNDS)

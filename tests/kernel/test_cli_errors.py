"""Bad command lines: a clear error, exit 2, bounded time and memory, never a traceback, and
nothing created or changed (issue 11, section 3).

The corpus is tests/fuzz/cli_cases.txt (plus, below, arguments no shell can pass: NUL,
undecodable names). Each case runs in a process of its own with a memory limit and a time
limit: forked from this one and entering sgnet.cli.main (an exception main lets escape is
printed there as the traceback `python -m sgnet` would print), and a sample of them through
`python -m sgnet` itself. After each case: no new namespace, nothing new or changed under the
sandbox (the state directory, the output directory and their parents) and, for the cases
against the running lab, its rulesets (`nft -s list ruleset` in each of its namespaces) and
its state on disk as they were. The runners are tests/helpers/cli.py; the checks that need
no kernel, tests/unit/test_cli_checks.py.
"""

import contextlib
import dataclasses
import os
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers.cli import (MAX_STDERR, TIMEOUT, Case, load_corpus, run_entry_point,
                         run_forked, sgnet)
from sgnet.kernel import netns
from sgnet.session import require_environment

HERE = Path(__file__).parents[1]
EXPORT = HERE / "exports" / "huawei_v3_list_security_groups.json"
LAB = "h5cli"

LAB_FILE = {
    "name": LAB, "provider": "huawei",
    "vpcs": [{"name": "v", "cidr": "10.251.0.0/16", "subnets": [
        {"name": "s1", "cidr": "10.251.1.0/24"}, {"name": "s2", "cidr": "10.251.2.0/24"}]}],
    "prefix_lists": [{"name": "office", "entries": ["203.0.113.0/24"]}],
    "security_groups": [{"name": "web", "rules": [
        {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "80"},
        {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "22",
         "remote_prefix_list": "office"}]}],
    "instances": [
        {"name": "web1", "subnet": "s1", "security_groups": ["web"],
         "secondary_enis": [{"subnet": "s2", "security_groups": ["default"]}]},
        {"name": "web2", "subnet": "s2", "security_groups": ["default"]}],
    "externals": [{"name": "ext", "ip": "203.0.113.10"}],
}


CASES = load_corpus()
# What no shell can pass (execve refuses a NUL), for callers of sgnet.cli.main: in-process only.
IN_PROCESS = [Case(0, {2}, a, e) for a, e in [
    (["probe", "{lab}", "web1", "web2", "tcp/2\x002"], "PROTO"),
    (["probe", "{lab}", "web1\x00", "web2", "tcp/22"], "SRC"),
    (["explain", "{lab}", "web1", "\x00", "tcp/22"], "DST"),
    (["rule", "add", "{lab}", "web", "--direction", "ingress", "--action", "allow",
      "--protocol", "tcp", "--ports", "2\x002"], "--ports"),
    (["rule", "add", "{lab}", "web", "--direction", "ingress", "--action", "allow",
      "--protocol", "t\x00cp"], "--protocol"),
    (["rule", "add", "{lab}", "web", "--direction", "ingress", "--action", "allow",
      "--protocol", "tcp", "--priority", "2\x00"], "--priority"),
    (["attach", "{lab}", "web1\x00", "web"], "INSTANCE"),
    (["exec", "{lab}", "web1", "--", "true\x00"], "cannot run"),
    (["matrix", "{lab}", "--junit", "{tmp}/j\x00.xml"], "--junit"),
    (["matrix", "{lab}", "--ports", "tcp/22,\x00"], "--ports"),
    (["report", "{lab}", "-o", "{missing}/\udcff.html"], "-o"),
    (["import", "--from", "huawei", "{export}", "-o", "{tmp}/x\x00.yaml"], "-o"),
    (["import", "--from", "huawei", "{export}", "-o", "{tmp}/\ud800.yaml"], "-o"),
    (["lint", "{other}\x00"], ""),
    (["up", "{other}\x00"], ""),
    (["down", "h5\x00x"], ""),
    (["status", "h5\x00"], ""),
]]
# A sample of the corpus, also run as `python -m sgnet` (the entry point, a fresh interpreter).
SAMPLE = CASES[::20]


# -- the sandbox: state directory, outputs, input files ------------------------------------
@dataclasses.dataclass
class Sandbox:
    root: Path
    env: dict
    places: dict

    def argv(self, case: Case) -> list:
        out = []
        for a in case.args:
            for k, v in self.places.items():
                a = a.replace("{" + k + "}", v)
            out.append(a)
        return out

    def snapshot(self) -> dict:
        """Every path under the sandbox, with what would show a change."""
        seen = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            for n in dirnames + filenames:
                p = os.path.join(dirpath, n)
                st = os.lstat(p)
                seen[p] = (st.st_mode, st.st_size, st.st_mtime_ns)
        return seen


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    # deep enough that a name climbing out of the state directory (../../x) lands inside
    root = tmp_path_factory.mktemp("h5cli")
    state = root / "a" / "b" / "state"
    state.mkdir(parents=True)
    (root / "out").mkdir()
    files = root / "files"
    files.mkdir()
    lab_yaml = files / "h5cli.yaml"
    lab_yaml.write_text(yaml.safe_dump(LAB_FILE, sort_keys=False))
    (files / "other.yaml").write_text(yaml.safe_dump(dict(LAB_FILE, name="h5oth"),
                                                     sort_keys=False))
    conflict = dict(LAB_FILE, externals=[{"name": "ext2", "ip": "203.0.113.11"}])
    (files / "conflict.yaml").write_text(yaml.safe_dump(conflict, sort_keys=False))
    bad = yaml.safe_load(lab_yaml.read_text())
    bad["name"] = "h5bad"
    bad["security_groups"][0]["rules"][0]["priority"] = "²"
    (files / "badprio.yaml").write_text(yaml.safe_dump(bad, sort_keys=False,
                                                       allow_unicode=True))
    (files / "badname.yaml").write_text(yaml.safe_dump(dict(LAB_FILE, name="h" * 300)))
    os.mkfifo(files / "fifo")
    places = {"lab": LAB, "tmp": str(root / "out"), "missing": str(root / "missing"),
              "other": str(files / "other.yaml"), "conflict": str(files / "conflict.yaml"),
              "badprio": str(files / "badprio.yaml"), "badname": str(files / "badname.yaml"),
              "export": str(EXPORT), "fifo": str(files / "fifo"), "x300": "x" * 300,
              "x100k": "x" * 100_000, "d5000": "9" * 5000, "labfile": str(lab_yaml)}
    box = Sandbox(root, {"SGNET_STATE_DIR": str(state)}, places)
    # what every case would import again (pyroute2: 0.3 s) is imported once, here
    with contextlib.suppress(Exception):
        require_environment()
    yield box
    # a case that wrongly built a lab: take it down (reported by its own test already)
    for name in sorted({n.split("-")[0] for n in netns.list_names("h5")} - {LAB}):
        sgnet("down", name, env=box.env)


def lab_namespaces() -> list:
    return netns.list_names(f"{LAB}-")


@pytest.fixture(scope="module")
def running_lab(sandbox):
    r = sgnet("up", sandbox.places["labfile"], env=sandbox.env)
    assert r.returncode == 0, r.stderr
    try:
        yield LAB
    finally:
        r = sgnet("down", LAB, env=sandbox.env)
        assert r.returncode == 0, r.stderr
        assert lab_namespaces() == []


def rulesets() -> dict:
    """namespace -> its nftables ruleset, without counters (packets may pass meanwhile)."""
    out = {}
    for ns in lab_namespaces():
        r = subprocess.run(["ip", "netns", "exec", ns, "nft", "-j", "-s", "list", "ruleset"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, (ns, r.stderr)
        out[ns] = r.stdout
    return out


# -- running one case ----------------------------------------------------------------------
def check(case: Case, box: Sandbox, run=run_forked, lab: bool = False):
    argv = box.argv(case)
    before_ns = set(netns.list_names())
    before_files = box.snapshot()
    before_rules = rulesets() if lab else None
    o = run(argv, box.env)
    problems = []
    if o.timed_out:
        problems.append(f"still running after {TIMEOUT:g} s (killed)")
    if o.stray:
        problems.append("left processes running")
    if "Traceback" in o.stderr:
        problems.append("a traceback")
    if o.code not in case.codes:
        problems.append(f"exit {o.code}, want {'|'.join(map(str, sorted(case.codes)))}")
    if o.code != 0 and "error" not in o.stderr:
        problems.append("no error message")
    if case.expect and case.expect not in o.stderr:
        problems.append(f"the message does not name {case.expect!r}")
    if len(o.stderr) > MAX_STDERR:
        problems.append(f"{len(o.stderr)} characters of messages")
    made = sorted(n for n in set(netns.list_names()) - before_ns
                  if n.startswith("h5") or any(len(a) > 2 and n.startswith(a) for a in argv))
    if made:
        problems.append(f"created namespaces {made}")
    after_files = box.snapshot()
    changed = sorted(p for p in set(before_files) | set(after_files)
                     if before_files.get(p) != after_files.get(p))
    if changed:
        problems.append(f"created or changed {changed[:5]}")
    if lab:
        after = rulesets()
        if after != before_rules:
            problems.append("changed the running lab's rulesets: " + ", ".join(
                ns for ns in sorted(set(after) | set(before_rules))
                if after.get(ns) != before_rules.get(ns)))
    assert not problems, (f"sgnet {shlex.join(a[:200] for a in argv)[:400]}\n"
                          f"  {'; '.join(problems)}\n  exit {o.code} in {o.seconds:.2f} s\n"
                          f"  stderr: {o.stderr[-1500:]}")


# -- the corpus ----------------------------------------------------------------------------
@pytest.mark.parametrize("case", [c for c in CASES if not c.needs_lab], ids=lambda c: c.id)
def test_refused(case, sandbox):
    check(case, sandbox)


@pytest.mark.parametrize("case", [c for c in CASES + IN_PROCESS if c.needs_lab],
                         ids=lambda c: c.id)
def test_refused_by_running_lab(case, sandbox, running_lab):
    check(case, sandbox, lab=True)


@pytest.mark.parametrize("case", [c for c in IN_PROCESS if not c.needs_lab],
                         ids=lambda c: c.id)
def test_refused_in_process(case, sandbox):
    check(case, sandbox)


@pytest.mark.parametrize("case", SAMPLE, ids=lambda c: c.id)
def test_entry_point_refuses(case, sandbox, running_lab):
    check(case, sandbox, run=run_entry_point, lab=case.needs_lab)

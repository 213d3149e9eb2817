"""Bad command lines: a clear error, exit 2, bounded time and memory, never a traceback, and
nothing created or changed (issue 11, section 3).

The corpus is tests/fuzz/cli_cases.txt (plus, below, arguments no shell can pass: NUL,
undecodable names). Each case runs in a process of its own with a memory limit and a time
limit: forked from this one and entering sgnet.cli.main (an exception main lets escape is
printed there as the traceback `python -m sgnet` would print), and a sample of them through
`python -m sgnet` itself. After each case: no new namespace, nothing new or changed under the
sandbox (the state directory, the output directory and their parents) and, for the cases
against the running lab, its rulesets (`nft -s list ruleset` in each of its namespaces) and
its state on disk as they were.
"""

import contextlib
import dataclasses
import os
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import pytest
import yaml

from sgnet.core import changes
from sgnet import cli
from sgnet.kernel import netns
from sgnet.core.errors import LabError
from sgnet.io.labfile import parse
from sgnet.session import parse_proto, require_environment

HERE = Path(__file__).parents[1]
CORPUS = HERE / "fuzz" / "cli_cases.txt"
EXPORT = HERE / "exports" / "huawei_v3_list_security_groups.json"
LAB = "h5cli"
TIMEOUT = 20.0  # seconds a case may take
MEMORY = 1 << 30  # bytes of address space a case may use
MAX_STDERR = 4096  # characters: a value is quoted cut, never whole

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


@dataclasses.dataclass
class Case:
    line: int
    codes: set
    args: list  # with placeholders
    expect: str = ""  # stderr must contain this

    @property
    def needs_lab(self) -> bool:
        return any("{lab}" in a or "{conflict}" in a for a in self.args)

    @property
    def id(self) -> str:
        text = ascii(" ".join(self.args))[1:-1] or "(no arguments)"
        return f"L{self.line}:{text[:70]}"


def load_corpus() -> list:
    cases = []
    for n, raw in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        line, _, expect = raw.partition(" => ")
        codes, _, rest = line.strip().partition(" ")
        cases.append(Case(n, {int(c) for c in codes.split("|")}, shlex.split(rest),
                          expect.strip()))
    return cases


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
        sgnet_cmd(box, "down", name)


def sgnet_cmd(box, *args):
    return subprocess.run([sys.executable, "-m", "sgnet", *args], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, **box.env))


def lab_namespaces() -> list:
    return netns.list_names(f"{LAB}-")


@pytest.fixture(scope="module")
def running_lab(sandbox):
    r = sgnet_cmd(sandbox, "up", sandbox.places["labfile"])
    assert r.returncode == 0, r.stderr
    try:
        yield LAB
    finally:
        r = sgnet_cmd(sandbox, "down", LAB)
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
@dataclasses.dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    stray: bool = False  # processes of the case still alive after it ended


def _wait(pid: int, started: float) -> tuple:
    """(exit code, timed out, stray processes): the case's whole process group is killed
    at the time limit, and after the case if anything of it is left."""
    timed_out = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() - started > TIMEOUT:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.003)
    stray = False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, 0)
        stray = True
        os.killpg(pid, signal.SIGKILL)
    return os.waitstatus_to_exitcode(status), timed_out, stray


def _limit():
    os.setpgid(0, 0)
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_forked(argv: list, env: dict) -> Outcome:
    """sgnet.cli.main(argv) in a forked child: its own process group, memory limit, stdin
    /dev/null; an exception that escapes main is printed as Python would (a traceback)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 70
            try:
                _limit()
                os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.stdin = open(0, closefd=False)
                sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
                sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace",
                                  closefd=False)
                os.environ.update(env)
                try:
                    code = cli.main(list(argv))
                except SystemExit as e:  # argparse's usage errors
                    code = e.code if isinstance(e.code, int) else 1
            except BaseException:
                traceback.print_exc()
                code = 70
            finally:
                with contextlib.suppress(BaseException):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code if isinstance(code, int) else 1)
        code, timed_out, stray = _wait(pid, started)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return Outcome(code, out.read().decode(errors="replace"),
                       err.read().decode(errors="replace"), seconds, timed_out, stray)


def run_entry_point(argv: list, env: dict) -> Outcome:
    """`python -m sgnet ARGS` with the same limits."""
    started = time.monotonic()
    p = subprocess.Popen([sys.executable, "-m", "sgnet", *argv], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=dict(os.environ, **env), preexec_fn=_limit)
    timed_out = False
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
    stray = False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, 0)
        stray = True
        os.killpg(p.pid, signal.SIGKILL)
    return Outcome(p.returncode, out.decode(errors="replace"), err.decode(errors="replace"),
                   time.monotonic() - started, timed_out, stray)


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
@pytest.mark.kernel
@pytest.mark.parametrize("case", [c for c in CASES if not c.needs_lab], ids=lambda c: c.id)
def test_refused(case, sandbox):
    check(case, sandbox)


@pytest.mark.kernel
@pytest.mark.parametrize("case", [c for c in CASES + IN_PROCESS if c.needs_lab],
                         ids=lambda c: c.id)
def test_refused_by_running_lab(case, sandbox, running_lab):
    check(case, sandbox, lab=True)


@pytest.mark.kernel
@pytest.mark.parametrize("case", [c for c in IN_PROCESS if not c.needs_lab],
                         ids=lambda c: c.id)
def test_refused_in_process(case, sandbox):
    check(case, sandbox)


@pytest.mark.kernel
@pytest.mark.parametrize("case", SAMPLE, ids=lambda c: c.id)
def test_entry_point_refuses(case, sandbox, running_lab):
    check(case, sandbox, run=run_entry_point, lab=case.needs_lab)


def test_corpus_is_large_and_every_verb_is_in_it():
    verbs = {c.args[0] if c.args[:1] != ["rule"] else " ".join(c.args[:2])
             for c in CASES if c.args}
    assert len(CASES) >= 200
    assert {"up", "down", "status", "rule add", "rule delete", "attach", "detach", "probe",
            "explain", "matrix", "diff", "report", "import", "lint", "exec"} <= verbs


# -- the checks themselves, without a kernel -----------------------------------------------
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


def test_proto_is_ascii_and_named_by_its_argument():
    assert parse_proto("tcp/22", 4) == (6, 22) and parse_proto("ICMP", 6) == (58, None)
    assert parse_proto("47", 4) == (47, None) and parse_proto("udp/65535", 4) == (17, 65535)
    for bad in ("tcp/٢٢", "tcp/99999", "tcp/0", "tcp/", "tcp", "٦/22", "256", "", "tcp/²",
                "icmp/1", "icmpv6", "x" * 100_000, "tcp/" + "9" * 5000, "tcp/2\x002"):
        with pytest.raises(LabError) as e:
            parse_proto(bad, 4, "--ports")
        assert str(e.value).startswith("--ports ") and len(str(e.value)) < 300


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


@pytest.mark.parametrize("timeout,jobs", [(float("nan"), None), (float("inf"), None), (0, None),
                                          (-1, None), (61, None), (True, None), ("1", None),
                                          (1.0, -1), (1.0, 0), (1.0, 1025), (1.0, 2.5)])
def test_session_checks_run_options_for_python_callers(timeout, jobs):
    # the pytest plugin calls LabSession directly: matrix(jobs=-1) used to loop for ever
    from sgnet.session import _check_run
    with pytest.raises(LabError):
        _check_run(timeout, jobs)
    _check_run(1.0, None)
    _check_run(60, 1024)

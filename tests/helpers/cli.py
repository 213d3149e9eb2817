"""Running sgnet's command line from the tests: `sgnet(...)` as a subprocess, `run_forked`
(sgnet.cli.main in a forked child) and `run_entry_point` (`python -m sgnet`) under a memory
and a time limit, taking a test's labs down afterwards, and the corpus of bad command lines
(tests/fuzz/cli_cases.txt).

Imports nothing of sgnet's shell (the pure tests use it too): sgnet.cli imports the session
only when a verb runs, and namespaces are read from /run/netns directly.
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

import yaml

from helpers.netns_dir import namespaces
from sgnet import cli

TIMEOUT = 20.0  # seconds a limited case may take
MEMORY = 1 << 30  # bytes of address space a limited case may use
MAX_STDERR = 4096  # characters: a value is quoted cut, never whole
RUN = Path("/run/sgnet")  # the default state directory
CORPUS = Path(__file__).parents[1] / "fuzz" / "cli_cases.txt"
LABS = Path(__file__).parents[1] / "labs"
# LAB arguments every verb must refuse before it does anything (h2x: a lab of the tests')
BAD_NAMES = ["../../tmp/x", "..", "r;id", "a" * 300, "", "UPPER", "h2x-a", "h2x-", "/etc",
             "h2x\n"]


@dataclasses.dataclass
class Case:
    """A line of the corpus: `CODES ARGS [=> TEXT]` (exit codes, the command line with
    placeholders, what stderr must contain)."""
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


def sgnet(*args, env=None, timeout=300, **kw):
    """`python -m sgnet.cli ARGS` to its end: stdout and stderr as text."""
    return subprocess.run([sys.executable, "-m", "sgnet.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})), **kw)


def lab_file(tmp_path, raw, name="lab.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    return p


def small_lab(name, instances, closed=False):
    """webserver.yaml's network with these instances; `closed`: in a group without rules
    (nothing in or out), so that every probe waits for its whole timeout."""
    raw = yaml.safe_load((LABS / "webserver.yaml").read_text())
    raw["name"] = name
    raw["instances"] = [{"name": n, "subnet": "s1"} for n in instances]
    if closed:
        raw["security_groups"] = [{"name": "closed", "default_rules": False, "rules": []}]
        for i in raw["instances"]:
            i["security_groups"] = ["closed"]
    return raw


@contextlib.contextmanager
def lab_up(directory, raw):
    """A lab brought up with `sgnet up` from `raw` (written in `directory`) for a block: a
    module's fixture; taken down after (take_down)."""
    p = lab_file(directory, raw)
    r = sgnet("up", p)
    assert r.returncode == 0, r.stderr
    try:
        yield p
    finally:
        take_down([raw["name"]])


def take_down(labs):
    """`down` every lab named (a test's cleanup): none of its namespaces, nothing of it in
    the state directory left."""
    for lab in labs:
        sgnet("down", lab)
        assert namespaces(f"{lab}-") == [] and not (RUN / lab).exists(), lab


# -- limited runs --------------------------------------------------------------------------
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
    return os.waitstatus_to_exitcode(status), timed_out, _kill_strays(pid)


def _kill_strays(pgid: int) -> bool:
    """Whether anything of the process group was left (it is killed)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    return True


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
            _child(argv, env, out, err)
        code, timed_out, stray = _wait(pid, started)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return Outcome(code, out.read().decode(errors="replace"),
                       err.read().decode(errors="replace"), seconds, timed_out, stray)


def _child(argv, env, out, err):
    code = 70
    try:
        _limit()
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
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
    stray = _kill_strays(p.pid)
    return Outcome(p.returncode, out.decode(errors="replace"), err.decode(errors="replace"),
                   time.monotonic() - started, timed_out, stray)

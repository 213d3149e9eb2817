"""`down` and the state directory never reach beyond the lab (issue 11 §2): lab names from
the command line are checked before anything is done, `down` removes exactly one lab's
namespaces and leaves nothing of it on disk, and a killed `up` or `matrix` takes its forked
workers with it."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from sgnet.io import labfile
from sgnet.kernel import netns, topology
from sgnet import state

LABS = Path(__file__).parents[1] / "labs"
RUN = Path("/run/sgnet")
BAD_NAMES = ["../../tmp/x", "..", "r;id", "a" * 300, "", "UPPER", "h2x-a", "h2x-", "/etc",
             "h2x\n"]


def sgnet(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "sgnet.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


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


# -- the naming scheme (pure) ---------------------------------------------------------------
@pytest.mark.parametrize("ns, owner", [
    ("rpfx-a", ("rpfx", "endpoint")), ("rpfx-a-b", ("rpfx", "endpoint")),
    ("rp-x", ("rp", "endpoint")), ("rpfx--gw", ("rpfx", "lab")), ("rpfx--ul", ("rpfx", "lab")),
    ("rpfx--gw-hv1", ("rpfx", "lab")), ("rpfx--h-hv2", ("rpfx", "lab")),
    ("rpfx-ecs.a_1:x", ("rpfx", "endpoint")),
    ("rpfx", None), ("rpfx-", None), ("rpfx--", None), ("rpfx--h", None), ("rpfx--gw-", None),
    ("rpfx--zz", None), ("rpfx--gw-HV", None), ("rpfx--h-hv1-x", None), ("rpfx-_a", None),
    ("RP-a", None), ("toolongname-a", None), ("-a", None), ("a b-c", None),
])
def test_owner_reads_the_naming_scheme(ns, owner):
    assert topology.owner(ns) == owner


def test_owner_inverts_every_name_sgnet_gives():
    for f in ("webserver.yaml", "multihost.yaml"):
        lab = labfile.load_file(str(LABS / f))
        names = topology.lab_namespaces(lab)
        assert names
        for n in names:
            assert topology.owner(n) is not None and topology.owner(n)[0] == lab.name, n
        own = {n for n in names if topology.owner(n)[1] == "lab"}
        assert own, f"{f}: a lab always has a namespace of its own"


# -- names from the command line (no kernel: refused before anything is looked at) ----------
VERBS = [
    ["down", "{}"], ["status", "{}"], ["status", "{}", "--rules"],
    ["probe", "{}", "a", "b", "tcp/22"], ["explain", "{}", "a", "b", "icmp"],
    ["matrix", "{}"], ["diff", "{}", "changed.yaml"], ["report", "{}", "-o", "r.html"],
    ["exec", "{}", "a", "--", "true"], ["attach", "{}", "a", "g"], ["detach", "{}", "a", "g"],
    ["rule", "add", "{}", "g", "--direction", "ingress", "--action", "allow",
     "--protocol", "tcp"],
    ["rule", "delete", "{}", "g", "--protocol", "tcp"],
]


def _nothing_created(tmp_path, before_tmp):
    assert not (tmp_path / "state").exists()
    assert not Path("/tmp/x").exists() or "/tmp/x" in before_tmp
    for bad in ("r;id", "UPPER", "h2x-a", "h2x-", "h2x\n"):
        assert not (RUN / bad).exists(), bad
    assert not (tmp_path / "r.html").exists()


def _refused(r, name):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    assert "LAB" in r.stderr and "not a lab name" in r.stderr
    assert "1-8 characters [a-z0-9]" in r.stderr
    assert len(r.stderr) < 400, "the value is cut to a readable length"


@pytest.mark.parametrize("name", BAD_NAMES)
def test_down_refuses_a_bad_name_creating_nothing(tmp_path, name):
    before_tmp = {"/tmp/x"} if Path("/tmp/x").exists() else set()
    env = {"SGNET_STATE_DIR": str(tmp_path / "state")}
    _refused(sgnet("down", name, env=env), name)
    _refused(sgnet("down", name, "--json", env=env), name)
    # the default state directory too: ../../tmp/x from /run/sgnet is /tmp/x
    _refused(sgnet("down", name), name)
    _refused(sgnet("down", "--all", name, env=env), name)
    _nothing_created(tmp_path, before_tmp)


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: "-".join(w for w in v if w != "{}")[:20])
def test_every_verb_refuses_a_bad_lab_name(tmp_path, verb):
    before_tmp = {"/tmp/x"} if Path("/tmp/x").exists() else set()
    env = {"SGNET_STATE_DIR": str(tmp_path / "state")}
    (tmp_path / "changed.yaml").write_text(yaml.safe_dump(small_lab("h2c", ["a"])))
    for name in ("../../tmp/x", "r;id", "a" * 300):
        argv = [w.format(name) if w == "{}" else w for w in verb]
        r = subprocess.run([sys.executable, "-m", "sgnet.cli", *argv], capture_output=True,
                           text=True, timeout=60, cwd=tmp_path, env=dict(os.environ, **env))
        _refused(r, name)
    _nothing_created(tmp_path, before_tmp)


def test_state_refuses_a_bad_name_itself(tmp_path, monkeypatch):
    """The API's way in (LabSession.down, attach, the plugin) goes through the same check."""
    from sgnet.core.errors import LabError
    monkeypatch.setenv("SGNET_STATE_DIR", str(tmp_path / "state"))
    for bad in BAD_NAMES + [None, 7]:
        with pytest.raises(LabError, match="not a lab name"):
            state.lab_dir(bad)
        with pytest.raises(LabError):
            with state.locked(bad):
                pass
    assert not (tmp_path / "state").exists()
    (tmp_path / "state" / "r;id").mkdir(parents=True)  # made by an earlier sgnet
    (tmp_path / "state" / "r;id" / "state.json").write_text("{}")
    assert state.known_labs() == []


# -- the lock and the directory (no kernel) ------------------------------------------------
def test_the_directory_goes_with_the_state_and_a_waiter_starts_again(tmp_path, monkeypatch):
    monkeypatch.setenv("SGNET_STATE_DIR", str(tmp_path / "state"))
    d = tmp_path / "state" / "h2l"
    with state.locked("h2l"):
        assert (d / "lock").exists()
        state.save("h2l", "x.yaml", "name: h2l\n", "up", ["h2l--gw"])
    assert (d / "lock").exists() and state.has("h2l"), "a lab with a state keeps its lock"

    holding, waited = threading.Event(), {}

    def waiter():
        holding.wait()
        with state.locked("h2l"):
            # the file it holds is the lab's lock, where the next command will look for it
            waited["lock"] = (d / "lock").exists()
            waited["state"] = state.has("h2l")

    t = threading.Thread(target=waiter)
    t.start()
    with state.locked("h2l"):  # a `down`
        holding.set()
        time.sleep(0.3)  # the waiter is now blocked on this lock file
        (d / "lab.yaml.tmp123").write_text("left by a killed save")
        state.forget("h2l")
    t.join(10)
    assert waited == {"lock": True, "state": False}
    assert not d.exists(), "nothing of the lab remains on disk"
    assert os.listdir(tmp_path / "state") == []


# -- the kernel ----------------------------------------------------------------------------
def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _children(pid: int) -> list:
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(p))
            except (FileNotFoundError, ProcessLookupError):
                pass
    return out


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def _processes_running(marker: bytes) -> list:
    return [int(p) for p in os.listdir("/proc")
            if p.isdigit() and marker in _cmdline(int(p)) and not _gone(int(p))]


@pytest.fixture
def cleanup():
    names = []
    yield names
    for n in names:
        sgnet("down", n)
        assert topology.namespaces_of(n) == [] and not (RUN / n).exists()


@pytest.mark.kernel
def test_down_removes_exactly_one_lab(tmp_path, cleanup):
    """Lab h2x has instances a and a-b: `down h2x-a` must not take a-b (nor anything), nor
    must `down h2` (a prefix of h2x); `down h2x` takes all, and its state directory."""
    cleanup.append("h2x")
    f = lab_file(tmp_path, small_lab("h2x", ["a", "a-b"]))
    r = sgnet("up", f)
    assert r.returncode == 0, r.stderr
    before = netns.list_names("h2x-")
    assert before == ["h2x--gw", "h2x-a", "h2x-a-b", "h2x-internet"]
    assert (RUN / "h2x" / "lock").exists()
    for name in ("h2x-a", "h2x-", "h2x-a-b"):
        r = sgnet("down", name)
        assert r.returncode == 2 and "not a lab name" in r.stderr, r.stderr
    for name in ("h2", "h2xa", "h2y"):
        r = sgnet("down", name)
        assert r.returncode == 2 and f"no lab {name}: nothing removed" in r.stderr, r.stderr
        assert "h2x" in r.stderr  # the labs there are
        assert not (RUN / name).exists()
    assert netns.list_names("h2x-") == before
    assert sgnet("status", "h2x").returncode == 0
    r = sgnet("down", "h2x", "--json")
    assert r.returncode == 0, r.stderr
    assert sorted(json.loads(r.stdout)["removed"]["h2x"]) == before
    assert netns.list_names("h2x-") == []
    assert not (RUN / "h2x").exists(), "nothing of the lab remains on disk (lock included)"
    r = sgnet("down", "h2x")
    assert r.returncode == 2 and "no lab h2x" in r.stderr
    assert not (RUN / "h2x").exists()


@pytest.mark.kernel
def test_without_a_state_only_what_is_named_as_the_labs_goes():
    """No state: namespaces `h2f-...` alone may be anyone's (`down h2f` is then no lab, and
    touches them not); with the lab's own gateway beside them, they are a crashed lab's,
    removed by the exact scheme, and a name outside it (h2f--zz) stays."""
    made = []
    try:
        for n in ("h2f-web", "h2f--zz"):
            netns.create(n)
            made.append(n)
        r = sgnet("down", "h2f")
        assert r.returncode == 2 and "no lab h2f" in r.stderr, r.stderr
        assert netns.list_names("h2f") == ["h2f--zz", "h2f-web"]
        assert not (RUN / "h2f").exists()
        netns.create("h2f--gw")
        made.append("h2f--gw")
        r = sgnet("down", "h2f", "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["removed"] == {"h2f": ["h2f--gw", "h2f-web"]}
        assert netns.list_names("h2f") == ["h2f--zz"]
        assert not (RUN / "h2f").exists()
    finally:
        for n in made:
            netns.remove(n)
        netns.wait_gone(made)


def _kill_mid_build(tmp_path, lab, by_group):
    raw = small_lab(lab, [f"vm{i}" for i in range(120)])  # 120 // 50: 2 workers
    f = lab_file(tmp_path, raw, f"{lab}.yaml")
    err = open(tmp_path / "stderr", "w+")
    p = subprocess.Popen([sys.executable, "-m", "sgnet.cli", "up", str(f), "--jobs", "2"],
                         stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(netns.list_names(f"{lab}-vm")) < 20 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert p.poll() is None, "the build should still be running"
        workers = [c for c in _children(p.pid) if _cmdline(c) == _cmdline(p.pid)]
        assert len(workers) == 2, "killed while both build workers run"
        if by_group:
            os.killpg(p.pid, signal.SIGKILL)
        else:
            os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    # the kernel kills them as their parent dies (PR_SET_PDEATHSIG): no wait for them
    deadline = time.monotonic() + 2
    while not all(_gone(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert all(_gone(w) for w in workers), "a build worker outlived the killed `up`"
    assert _processes_running(str(f).encode()) == []
    left = netns.list_names(f"{lab}-")
    assert 20 <= len([n for n in left if n.startswith(f"{lab}-vm")]) < 120
    time.sleep(0.3)  # nothing is still creating or removing namespaces behind our back
    assert netns.list_names(f"{lab}-") == left
    err.seek(0)
    text = err.read()
    assert "Traceback" not in text and "BrokenPipe" not in text, text
    r = sgnet("down", lab)
    assert r.returncode == 0, r.stderr
    assert netns.list_names(f"{lab}-") == [] and not (RUN / lab).exists()


@pytest.mark.kernel
def test_a_killed_up_takes_its_workers_with_it(tmp_path, cleanup):
    cleanup.append("h2k")
    _kill_mid_build(tmp_path, "h2k", by_group=False)


@pytest.mark.kernel
def test_a_killed_up_group_leaves_only_what_down_removes(tmp_path, cleanup):
    cleanup.append("h2g")
    _kill_mid_build(tmp_path, "h2g", by_group=True)


@pytest.mark.kernel
def test_a_killed_matrix_takes_its_probes_with_it(tmp_path, cleanup):
    """Probe children live as long as the probe's timeout: killed with the command at once,
    they no longer hold the lab's lock (inherited) for that long after it."""
    cleanup.append("h2m")
    f = lab_file(tmp_path, small_lab("h2m", ["a", "b", "c"], closed=True))
    assert sgnet("up", f).returncode == 0
    err = open(tmp_path / "stderr", "w+")
    p = subprocess.Popen([sys.executable, "-m", "sgnet.cli", "matrix", "h2m", "--timeout", "20",
                          "--ports", "tcp/9"], stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 30
        probes = []
        while len(probes) < 3 and time.monotonic() < deadline:
            probes = [c for c in _children(p.pid) if _cmdline(c) == _cmdline(p.pid)]
            time.sleep(0.01)
        assert len(probes) >= 3, "killed while probes wait for their answers"
        p.kill()
        p.wait(10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    deadline = time.monotonic() + 2
    while not all(_gone(c) for c in probes) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert all(_gone(c) for c in probes), "a probe outlived the killed `matrix`"
    err.seek(0)
    assert "Traceback" not in err.read()
    t = time.monotonic()
    r = sgnet("down", "h2m")
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t < 15, "down waited for the lock of dead probes"
    assert netns.list_names("h2m-") == [] and not (RUN / "h2m").exists()

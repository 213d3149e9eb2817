"""`down` and the state directory never reach beyond the lab (issue 11 §2): the state
refuses a bad lab name and goes with its lock, `down` removes exactly one lab's namespaces
and leaves nothing of it on disk, and a killed `up` or `matrix` takes its forked workers
with it. The naming scheme and the names on the command line, checked without a kernel:
tests/unit/test_down_naming.py and tests/unit/test_lab_names_cli.py."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from helpers.cli import BAD_NAMES, RUN, lab_file, sgnet, small_lab
from sgnet import state
from sgnet.core.errors import LabError
from sgnet.kernel import netns


# -- names given to the state (no kernel, but of sgnet.state; the naming scheme and the
# names on the command line: tests/unit/test_down_naming.py, test_lab_names_cli.py)
def test_state_refuses_a_bad_name_itself(tmp_path, monkeypatch):
    """The API's way in (LabSession.down, attach, the plugin) goes through the same check."""
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


# -- the lock and the directory (no kernel, but of sgnet.state) ---------------------------
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


def test_down_removes_exactly_one_lab(tmp_path, cleanup):
    """Lab h2x has instances a and a-b: `down h2x-a` must not take a-b (nor anything), nor
    must `down h2` (a prefix of h2x); `down h2x` takes all, and its state directory."""
    cleanup.append("h2x")
    f = lab_file(tmp_path, small_lab("h2x", ["a", "a-b"]))
    r = sgnet("up", f)
    assert r.returncode == 0, r.stderr
    before = netns.list_names("h2x-")
    assert before == ["h2x--gw", "h2x--world", "h2x-a", "h2x-a-b", "h2x-internet"]
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


def test_a_killed_up_takes_its_workers_with_it(tmp_path, cleanup):
    cleanup.append("h2k")
    _kill_mid_build(tmp_path, "h2k", by_group=False)


def test_a_killed_up_group_leaves_only_what_down_removes(tmp_path, cleanup):
    cleanup.append("h2g")
    _kill_mid_build(tmp_path, "h2g", by_group=True)


WORKERS = min(os.cpu_count() or 1, 3)  # probe workers: one per CPU, at most one per source


def test_a_killed_matrix_takes_its_probes_with_it(tmp_path, cleanup):
    """Probe workers wait as long as the probe's timeout for probes nobody accounts for
    (here every probe: each destination's link is down, so each is lost): killed with the
    command at once, they no longer hold the lab's lock (inherited) for that long after
    it."""
    cleanup.append("h2m")
    f = lab_file(tmp_path, small_lab("h2m", ["a", "b", "c"], closed=True))
    assert sgnet("up", f).returncode == 0
    for name in ("a", "b", "c"):
        netns.run(f"h2m-{name}", lambda ipr: ipr.link(
            "set", index=ipr.link_lookup(ifname="eth0")[0], state="down"))
    err = open(tmp_path / "stderr", "w+")
    p = subprocess.Popen([sys.executable, "-m", "sgnet.cli", "matrix", "h2m", "--timeout", "20",
                          "--ports", "tcp/9"], stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 30
        probes = []
        while len(probes) < WORKERS and time.monotonic() < deadline:
            probes = [c for c in _children(p.pid) if _cmdline(c) == _cmdline(p.pid)]
            time.sleep(0.01)
        assert len(probes) >= WORKERS, "killed while probes wait for their answers"
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

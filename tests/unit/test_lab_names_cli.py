"""Lab names from the command line are checked before anything is done (issue 11 §2): every
verb refuses a bad LAB with exit 2 and a short message, creating nothing (no state
directory, no file outside it, no output). No kernel: refused before anything is looked at.
What `down` does to a lab that is there is tests/kernel/test_down_safety.py."""

from pathlib import Path

import pytest
import yaml

from helpers.cli import BAD_NAMES, RUN, sgnet, small_lab

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
        _refused(sgnet(*argv, env=env, timeout=60, cwd=tmp_path), name)
    _nothing_created(tmp_path, before_tmp)

"""Mutated lab files (issue 11, section 3): every lab file of tests/labs/ and examples/,
mutated at every path with hostile values of every type (tests/helpers/mutate.py: wrong
types, huge and Unicode-digit numbers, NUL and line breaks, lone surrogates, very long
strings, deep nesting, deleted keys), is linted in a process of its own under a memory and a
time limit. `lint` must answer 0, 1 or 2, never a traceback, with a short message; a file
`lint` refuses must be refused by `up` too, with exit 2 and nothing created in the kernel.

A JSON document is a YAML document, so the mutations are written as they come. The sample is
drawn reproducibly (the same files every run): a failure names its mutation and shrinks to
one file under tmp_path. The hand-written regressions are tests/test_labfile_errors.py.
"""

import json
import os

import pytest
import yaml

from helpers import mutate
from sgnet.kernel import netns
from test_cli_errors import MAX_STDERR, run_forked

ROOT = mutate.EXPORTS.parent.parent
SEEDS = sorted((ROOT / "tests" / "labs").glob("*.yaml")) + sorted((ROOT / "examples").glob("*.yaml"))
PER_SEED = 40  # mutations drawn from each lab file's few thousand


def _mutations():
    for seed in SEEDS:
        doc = yaml.safe_load(seed.read_text(encoding="utf-8"))
        for m in mutate.sample(json.loads(json.dumps(doc, default=str)), PER_SEED,
                               rng_seed=11):
            yield pytest.param(m.text, id=f"{seed.stem}:{m.label}"[:120])


MUTATIONS = list(_mutations())


def test_every_lab_file_is_a_seed():
    assert len(SEEDS) >= 9 and len(MUTATIONS) >= 9 * PER_SEED - 40


@pytest.mark.parametrize("text", MUTATIONS)
def test_mutated_lab_file(text, tmp_path):
    path = tmp_path / "lab.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    env = {"SGNET_STATE_DIR": str(tmp_path / "state")}
    out = run_forked(["lint", str(path)], env)
    assert not out.timed_out and not out.stray, out
    assert "Traceback" not in out.stderr, out.stderr
    assert out.code in (0, 1, 2), out
    assert len(out.stderr) <= MAX_STDERR, out.stderr[:500]
    if out.code == 2:
        assert str(path) in out.stderr, out.stderr  # the file is named
        if os.geteuid() == 0:  # up refuses what lint refuses, before the kernel
            before = set(netns.list_names())
            up = run_forked(["up", str(path)], env)
            assert up.code == 2 and "Traceback" not in up.stderr, up
            assert set(netns.list_names()) == before
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").iterdir())

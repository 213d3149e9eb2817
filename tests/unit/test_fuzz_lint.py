"""Mutated lab files (issue 11, section 3): every lab file of tests/labs/ and examples/,
mutated at every path with hostile values of every type (tests/helpers/mutate.py: wrong
types, huge and Unicode-digit numbers, NUL and line breaks, lone surrogates, very long
strings, deep nesting, deleted keys), is linted in a process of its own under a memory and a
time limit. `lint` must answer 0, 1 or 2, never a traceback, with a short message that names
the file it refuses. That `up` refuses the same files before the kernel is
tests/kernel/test_fuzz_labfiles.py.

The sample is drawn reproducibly (the same files every run): a failure names its mutation
and shrinks to one file under tmp_path. The hand-written regressions are
tests/unit/test_labfile_errors.py.
"""

import pytest

from helpers.cli import MAX_STDERR, run_forked
from helpers.lab_mutations import PER_SEED, SEEDS, lab_mutations, write

MUTATIONS = [pytest.param(text, id=label) for label, text in lab_mutations()]


def test_every_lab_file_is_a_seed():
    assert len(SEEDS) >= 9 and len(MUTATIONS) >= 9 * PER_SEED - 40


@pytest.mark.parametrize("text", MUTATIONS)
def test_mutated_lab_file(text, tmp_path):
    path = write(tmp_path / "lab.yaml", text)
    out = run_forked(["lint", str(path)], {"SGNET_STATE_DIR": str(tmp_path / "state")})
    assert not out.timed_out and not out.stray, out
    assert "Traceback" not in out.stderr, out.stderr
    assert out.code in (0, 1, 2), out
    assert len(out.stderr) <= MAX_STDERR, out.stderr[:500]
    if out.code == 2:
        assert str(path) in out.stderr, out.stderr  # the file is named
    assert not (tmp_path / "state").exists()

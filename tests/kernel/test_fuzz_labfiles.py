"""Mutated lab files (issue 11, section 3), the kernel half: a file `lint` refuses must be
refused by `up` too, with exit 2, never a traceback, and nothing created in the kernel. The
files are tests/unit/test_fuzz_lint.py's (tests/helpers/lab_mutations.py), each run in a
process of its own under a memory and a time limit (tests/helpers/cli.py); that `lint`
itself answers them well is checked there.
"""

import sgnet.session  # noqa: F401 (imported once here, not again in each forked run)
from helpers.cli import run_forked
from helpers.lab_mutations import lab_mutations, write
from sgnet.kernel import netns


def test_up_refuses_what_lint_refuses(tmp_path):
    refused, wrong = 0, []
    for i, (label, text) in enumerate(lab_mutations()):
        path = write(tmp_path / f"lab{i}.yaml", text)
        env = {"SGNET_STATE_DIR": str(tmp_path / f"state{i}")}
        if run_forked(["lint", str(path)], env).code != 2:
            continue
        refused += 1
        before = set(netns.list_names())
        up = run_forked(["up", str(path)], env)
        if up.code != 2 or "Traceback" in up.stderr or up.timed_out or up.stray:
            wrong.append(f"{label}: exit {up.code}: {up.stderr[-300:]}")
        if set(netns.list_names()) != before:
            wrong.append(f"{label}: namespaces {sorted(set(netns.list_names()) - before)}")
        state = tmp_path / f"state{i}"
        if state.exists() and any(state.iterdir()):
            wrong.append(f"{label}: left {sorted(p.name for p in state.iterdir())} in the state")
    assert refused, "no mutation refused: the sample does not test `up`"
    assert not wrong, f"{len(wrong)} of {refused} refused files:\n" + "\n".join(wrong[:10])

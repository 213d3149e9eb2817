"""The mutated lab files the fuzz tests run (tests/unit/test_fuzz_lint.py: lint;
tests/kernel/test_fuzz_labfiles.py: up): every lab file of tests/labs/ and examples/ as a
seed, a reproducible sample of its mutations (tests/helpers/mutate.py). A JSON document is a
YAML document, so the mutations are written as they come."""

import json

import yaml

from helpers import mutate

ROOT = mutate.EXPORTS.parent.parent
SEEDS = (sorted((ROOT / "tests" / "labs").glob("*.yaml"))
         + sorted((ROOT / "examples").glob("*.yaml")))
PER_SEED = 40  # mutations drawn from each lab file's few thousand


def lab_mutations() -> list:
    """(id, lab file text) for every mutation drawn, the same every run."""
    out = []
    for seed in SEEDS:
        doc = yaml.safe_load(seed.read_text(encoding="utf-8"))
        for m in mutate.sample(json.loads(json.dumps(doc, default=str)), PER_SEED,
                               rng_seed=11):
            out.append((f"{seed.stem}:{m.label}"[:120], m.text))
    return out


def write(path, text):
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path

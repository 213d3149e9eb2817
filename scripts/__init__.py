"""The project's scripts (not installed): benchmarks under scripts/bench, run from the
project's root as `python -m scripts.bench.<name>`, and the differential run
(`python -m scripts.differential`)."""

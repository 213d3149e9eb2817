"""The benchmarks (root, a quiet machine): each is run from the project's root as
`python -m scripts.bench.<name> [--json OUT]`; run_all.sh runs them all and writes
docs/benchmarks.md. labs.py holds their lab files, common.py their timing helpers; conn.py
and ctfill.py are run by path inside lab namespaces."""

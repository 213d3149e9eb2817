#!/usr/bin/env bash
# Run every benchmark (as root, on a quiet machine), then write docs/benchmarks.md.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
py=${SGNET_VENV:-$here/.venv}/bin/python
mkdir -p "$here/docs/bench"
cd "$here"
"$py" scripts/bench/bringup.py --json docs/bench/bringup.json
"$py" scripts/bench/datapath.py --json docs/bench/datapath.json
"$py" scripts/bench/groups.py --json docs/bench/groups.json
"$py" scripts/bench/probe.py --json docs/bench/probe.json
"$py" scripts/bench/capacity.py --json docs/bench/capacity.json
"$py" scripts/bench/multihost.py --json docs/bench/multihost.json
"$py" scripts/bench/report.py
"$py" -m scripts.bench.lint --json docs/bench/lint.json
"$py" scripts/bench/scale_doc.py > /dev/null

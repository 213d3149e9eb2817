#!/usr/bin/env bash
# Run every benchmark (as root, on a quiet machine), then write docs/benchmarks.md and
# docs/scale.md. Each is a module of the scripts package, run from the project's root.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
py=${SGNET_VENV:-$here/.venv}/bin/python
mkdir -p "$here/docs/bench"
cd "$here"
for bench in bringup datapath groups probe capacity multihost classes replay; do
    "$py" -m "scripts.bench.$bench" --json "docs/bench/$bench.json"
done
"$py" -m scripts.bench.report
"$py" -m scripts.bench.lint --json docs/bench/lint.json
"$py" -m scripts.bench.scale_doc > /dev/null

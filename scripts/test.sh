#!/usr/bin/env bash
# Install, then run the whole test suite (pure tests and kernel-backed tests, as root).
# Extra arguments go to pytest. Fails if any sgnet namespace is left behind.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$here/scripts/install.sh"
cd "$here"
before=$(ip netns list 2>/dev/null | awk '{print $1}' | sort)
rc=0
"${SGNET_VENV:-$here/.venv}/bin/python" -m pytest -p no:cacheprovider "$@" || rc=$?
after=$(ip netns list 2>/dev/null | awk '{print $1}' | sort)
left=$(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')
if [ -n "${left// /}" ]; then
    echo "test.sh: namespaces left behind by the tests: $left" >&2
    rc=1
fi
exit $rc

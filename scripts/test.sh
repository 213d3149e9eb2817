#!/usr/bin/env bash
# Install, then run the whole test suite (pure tests and kernel-backed tests, as root).
# Extra arguments go to pytest. Fails if any sgnet namespace is left behind.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$here/scripts/install.sh" --test
# Vagrant, to check the Vagrantfiles with `vagrant validate --ignore-provider`, which needs
# no hypervisor (tests/test_vagrant.py): from Debian's packages when they have it; otherwise
# the test says why it cannot run. install.sh updates the package lists only when it
# installs something: without lists (cleaned, or never fetched), fetch them first.
if ! command -v vagrant >/dev/null; then
    case "$(apt-cache policy vagrant 2>/dev/null)" in
        *"Candidate: "[0-9]*) ;;
        *) apt-get update -q >/dev/null 2>&1 || true ;;
    esac
    if ! out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            vagrant 2>&1); then
        export SGNET_NO_VAGRANT="apt-get install vagrant failed: $(echo "$out" | tail -1)"
        echo "test.sh: $SGNET_NO_VAGRANT" >&2
    fi
fi
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

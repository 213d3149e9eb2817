#!/usr/bin/env bash
# Install everything sgnet needs on Debian 12, idempotently: system packages (nftables,
# libnftables1 and its Python binding, conntrack, iproute2, iperf3, tcpdump) and a Python
# virtual environment with sgnet and its test tools, linked as /usr/local/bin/sgnet.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "$(id -u)" != 0 ]; then
    echo "scripts/install.sh: run as root (sudo $0)" >&2
    exit 3
fi
packages="nftables libnftables1 python3-nftables conntrack iproute2 iperf3 tcpdump
          python3 python3-venv python3-pip procps chromium fonts-dejavu-core openssh-client"
# --test: what the test suite needs besides: sshd, which the multi-host tests start
# themselves on 127.0.0.1 (the package's own service is not started).
test_packages="openssh-server"
[ "${1:-}" = "--test" ] && packages="$packages $test_packages"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # No service may start while installing (openssh-server would listen on port 22):
    # Debian's policy-rc.d convention, only where the machine has none of its own.
    guard=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        guard=/usr/sbin/policy-rc.d
    fi
    apt-get install -y -q --no-install-recommends $missing || { [ -z "$guard" ] || rm -f "$guard"; exit 1; }
    [ -z "$guard" ] || rm -f "$guard"
fi
venv=${SGNET_VENV:-$here/.venv}
if [ ! -x "$venv/bin/python" ]; then
    # Debian's python3 with its site packages: the nftables binding comes from python3-nftables.
    /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$here[test]"
"$venv/bin/python" -c "import nftables, pyroute2, scapy, yaml, hcl2; nftables.Nftables()"
ln -sf "$venv/bin/sgnet" /usr/local/bin/sgnet
echo "sgnet installed: $(command -v sgnet) (venv $venv)"

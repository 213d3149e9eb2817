#!/usr/bin/env bash
# Install, bring up the source document's VPC-X example, print its reachability matrix
# (real packets against the reference evaluator, IPv4 and IPv6), then remove the lab.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$here/scripts/install.sh"
sgnet=${SGNET_VENV:-$here/.venv}/bin/sgnet
"$sgnet" down vpcx >/dev/null 2>&1 || true
trap '"$sgnet" down vpcx >/dev/null' EXIT
"$sgnet" up "$here/examples/vpcx.yaml"
echo
rc=0
"$sgnet" matrix vpcx --ports tcp/22,tcp/80,udp/53,icmp || rc=$?
echo
"$sgnet" matrix vpcx -6 --ports tcp/22,udp/53,icmp || rc=$?
exit $rc

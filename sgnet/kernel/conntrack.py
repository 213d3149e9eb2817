"""Connection tracking inside a lab namespace (kernel layer): list, delete, count, timeouts.

Entries are listed and deleted with the conntrack tool (conntrack-tools) run inside the
namespace (its lines read and its arguments written by sgnet.core.ctentry); timeouts are
the namespace's own nf_conntrack sysctls, never the host's.
"""

from __future__ import annotations

import subprocess
from typing import Optional

from sgnet.core.ctentry import CtEntry, delete_args, parse_line
from sgnet.core.errors import EnvError
from sgnet.kernel import netns


def _run(ns: str, args: list) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["conntrack", *args], capture_output=True, text=True,
                              preexec_fn=netns.enter_in_child(ns), timeout=30)
    except FileNotFoundError:
        raise EnvError("the conntrack tool is missing: apt-get install conntrack "
                       "(scripts/install.sh does)") from None


def entries(ns: str) -> list:
    """Every tracked entry of namespace `ns` (CtEntry), IPv4 then IPv6."""
    out = []
    for family in (4, 6):
        r = _run(ns, ["-L", "-f", f"ipv{family}"])
        for line in r.stdout.splitlines():
            e = parse_line(line, family)
            if e is not None:
                out.append(e)
    return out


def delete(ns: str, e: CtEntry):
    _run(ns, delete_args(e))


def count(ns: str) -> int:
    try:
        return int(netns.call(ns, lambda: netns.read_sysctl("net.netfilter.nf_conntrack_count")))
    except (FileNotFoundError, ValueError):
        return 0


def sysctls(timeout: Optional[int]) -> dict:
    """Strict tracking in an instance: no mid-stream pick-up (a bare ACK is not a flow), and
    the provider's (or the lab's) idle timeout for established sessions. To be set once the
    ruleset is loaded (the sysctls exist only once nf_conntrack is)."""
    values = {"net.netfilter.nf_conntrack_tcp_loose": 0}
    if timeout:
        for key in ("tcp_timeout_established", "udp_timeout_stream", "udp_timeout",
                    "icmp_timeout", "icmpv6_timeout", "generic_timeout"):
            values[f"net.netfilter.nf_conntrack_{key}"] = timeout
    return values


def configure(ns: str, timeout: Optional[int]):
    values = sysctls(timeout)
    netns.call(ns, lambda: netns.sysctl(values))

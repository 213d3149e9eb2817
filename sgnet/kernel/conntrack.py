"""Connection tracking inside a lab namespace: list, delete, count, timeouts.

Entries are listed and deleted with the conntrack tool (conntrack-tools) run inside the
namespace; timeouts are the namespace's own nf_conntrack sysctls, never the host's.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from typing import Optional

from sgnet.kernel import netns
from sgnet.core.errors import EnvError

PROTO_NUM = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}
_KV = re.compile(r"(\w+)=(\S+)")


@dataclass(frozen=True)
class Entry:
    family: int
    protocol: int
    src: str
    dst: str
    sport: Optional[int]
    dport: Optional[int]
    icmp: tuple = ()  # (type, code, id) for ICMP
    state: str = ""

    @classmethod
    def from_dict(cls, d: dict) -> "Entry":
        """Back from dataclasses.asdict, through JSON (which turns the tuple into a list)."""
        return cls(**dict(d, icmp=tuple(d.get("icmp") or ())))


def _run(ns: str, args: list) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["conntrack", *args], capture_output=True, text=True,
                              preexec_fn=netns.enter_in_child(ns), timeout=30)
    except FileNotFoundError:
        raise EnvError("the conntrack tool is missing: apt-get install conntrack "
                       "(scripts/install.sh does)") from None


def parse_line(line: str, family: int) -> Optional[Entry]:
    words = line.split()
    if len(words) < 3 or words[0] not in PROTO_NUM:
        return None
    proto = PROTO_NUM[words[0]]
    kv = {}
    for k, v in _KV.findall(line):
        kv.setdefault(k, v)  # the first tuple is the original direction
    state = words[3] if proto == 6 and len(words) > 3 and "=" not in words[3] else ""
    icmp = ()
    if proto in (1, 58):
        icmp = (int(kv.get("type", 0)), int(kv.get("code", 0)), int(kv.get("id", 0)))
    return Entry(family, proto, kv["src"], kv["dst"],
                 int(kv["sport"]) if "sport" in kv else None,
                 int(kv["dport"]) if "dport" in kv else None, icmp, state)


def entries(ns: str) -> list:
    out = []
    for family in (4, 6):
        r = _run(ns, ["-L", "-f", f"ipv{family}"])
        for line in r.stdout.splitlines():
            e = parse_line(line, family)
            if e is not None:
                out.append(e)
    return out


def delete(ns: str, e: Entry):
    args = ["-D", "-f", f"ipv{e.family}", "-p", str(e.protocol), "-s", e.src, "-d", e.dst]
    if e.sport is not None:
        args += ["--sport", str(e.sport), "--dport", str(e.dport)]
    elif e.icmp:
        name = "icmp" if e.protocol == 1 else "icmpv6"
        args[args.index("-p") + 1] = name
        args += ["--icmp-type" if e.protocol == 1 else "--icmpv6-type", str(e.icmp[0]),
                 "--icmp-code" if e.protocol == 1 else "--icmpv6-code", str(e.icmp[1]),
                 "--icmp-id" if e.protocol == 1 else "--icmpv6-id", str(e.icmp[2])]
    _run(ns, args)


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

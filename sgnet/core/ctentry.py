"""A connection-tracking entry, read from and written back to the conntrack tool (core: pure).

sgnet.kernel.conntrack runs `conntrack -L` and `-D` inside a lab namespace; the lines it
reads become CtEntry values here, and an entry to delete becomes the tool's arguments here.
Entries cross to the controller as JSON (dataclasses.asdict, then CtEntry.from_dict).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from sgnet.core.values import ICMP, ICMPV6, PROTOCOLS, TCP

# The protocols whose sessions are re-checked; entries of any other are left alone.
TRACKED = {name: PROTOCOLS[name] for name in ("tcp", "udp", "icmp", "icmpv6")}
_KV = re.compile(r"(\w+)=(\S+)")


@dataclass(frozen=True)
class CtEntry:
    family: int
    protocol: int
    src: str
    dst: str
    sport: Optional[int]
    dport: Optional[int]
    icmp: tuple = ()  # (type, code, id) for ICMP
    state: str = ""
    mark: int = 0  # the ct mark: the rule that admitted the session (sgnet.core.witness)

    @classmethod
    def from_dict(cls, d: dict) -> "CtEntry":
        """Back from dataclasses.asdict, through JSON (which turns the tuple into a list)."""
        return cls(**dict(d, icmp=tuple(d.get("icmp") or ())))


def parse_line(line: str, family: int) -> Optional[CtEntry]:
    """One line of `conntrack -L -f ipv{family}`, or None if it is not a tracked protocol's."""
    words = line.split()
    if len(words) < 3 or words[0] not in TRACKED:
        return None
    proto = TRACKED[words[0]]
    kv = {}
    for k, v in _KV.findall(line):
        kv.setdefault(k, v)  # the first tuple is the original direction
    state = words[3] if proto == TCP and len(words) > 3 and "=" not in words[3] else ""
    icmp = ()
    if proto in (ICMP, ICMPV6):
        icmp = (int(kv.get("type", 0)), int(kv.get("code", 0)), int(kv.get("id", 0)))
    mark = kv.get("mark", "0")
    return CtEntry(family, proto, kv["src"], kv["dst"],
                   int(kv["sport"]) if "sport" in kv else None,
                   int(kv["dport"]) if "dport" in kv else None, icmp, state,
                   int(mark, 0) if re.fullmatch(r"(0x[0-9a-fA-F]+|\d+)", mark) else 0)


def delete_args(e: CtEntry) -> list:
    """The conntrack tool's arguments that delete exactly this entry."""
    args = ["-D", "-f", f"ipv{e.family}", "-p", str(e.protocol), "-s", e.src, "-d", e.dst]
    if e.sport is not None:
        args += ["--sport", str(e.sport), "--dport", str(e.dport)]
    elif e.icmp:
        v4 = e.protocol == ICMP
        args[args.index("-p") + 1] = "icmp" if v4 else "icmpv6"
        args += ["--icmp-type" if v4 else "--icmpv6-type", str(e.icmp[0]),
                 "--icmp-code" if v4 else "--icmpv6-code", str(e.icmp[1]),
                 "--icmp-id" if v4 else "--icmpv6-id", str(e.icmp[2])]
    return args

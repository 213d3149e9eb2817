"""What the kernel says it did (core: pure): rule marks, NFLOG messages, witnessed verdicts.

Every rule that decides a packet in a lab namespace (a decision-list entry, an ENI's
default, the stateful drop of a segment of no connection, the gateway's VPC isolation) sets
the packet's mark to a number naming it, keeps that number on the tracked session (`ct
mark`), and logs the packet to NFLOG group LOG_GROUP (field-notes: "Witnessing a verdict").
A listener in the namespace reads which probe (the packet) met which rule (the mark); this
module turns marks back into the group and rule of the lab file, parses NFLOG messages, and
combines what was reported with what came back into a verdict.

A mark: bit 31 set (sgnet's), bit 30 the direction (1: ingress), bits 26-29 the ENI's index
in its instance, bits 0-25 the entry's index in the ENI's decision list plus one, or one of
the codes DEFAULT, STATEFUL, ROUTE. Decision lists come from the provider profile, so the
marks the compiler writes and the ones read back here refer to the same entries.
"""

from __future__ import annotations

import functools
import ipaddress
import struct
from dataclasses import dataclass
from typing import Optional

from sgnet.core.probes import ProbeResult, ProbeSpec, classify_answer, probe_tag

LOG_GROUP = 7  # the NFLOG group every lab rule logs to (per namespace)
SNAPLEN = 80  # bytes of each packet copied to the listener: IP header and ports
OURS, INGRESS = 1 << 31, 1 << 30
ENI_SHIFT, ENI_MASK = 26, 0xF
CODE_MASK = (1 << 26) - 1
DEFAULT, STATEFUL, ROUTE, ESTABLISHED = CODE_MASK, CODE_MASK - 1, CODE_MASK - 2, CODE_MASK - 3
ANY_ENI = ENI_MASK  # rules before the per-ENI dispatch (the stateful drop)


def mark(direction: str, eni_index: int, code: int) -> int:
    """The mark of a rule: `code` is an entry's index plus one, or DEFAULT/STATEFUL/ROUTE."""
    return OURS | (INGRESS if direction == "ingress" else 0) | \
        ((eni_index & ENI_MASK) << ENI_SHIFT) | code


def entry_mark(direction: str, eni_index: int, entry_index: int) -> int:
    return mark(direction, eni_index, entry_index + 1)


@dataclass(frozen=True)
class Witnessed:
    """One rule's report of one packet: where (namespace), the direction, what it did."""
    ns: str
    direction: str  # ingress | egress | route
    verdict: str  # allow | deny
    eni_index: Optional[int]
    code: int

    def to_decision(self, lab, evaluator, endpoint: str) -> dict:
        """The report as a record's `observed_by` (the shape of `decided_by`): the group and
        rule of the lab file behind the mark, read from the ENI's decision list."""
        if self.code == ROUTE:
            return {"direction": "route", "group": None, "rule": None,
                    "why": "the gateway dropped it: different VPCs"}
        if self.code == STATEFUL:
            return {"direction": self.direction, "group": None, "rule": None,
                    "why": STATEFUL_WHY}
        if self.code == ESTABLISHED:
            return {"direction": self.direction, "group": None, "rule": None,
                    "why": ESTABLISHED_WHY}
        inst = lab.instance(endpoint)
        if inst is None or self.eni_index is None or self.eni_index >= len(inst.enis):
            return {"direction": self.direction, "group": None, "rule": None,
                    "why": f"unknown rule (mark code {self.code}) in {self.ns}"}
        dl = evaluator.decision_list(inst.enis[self.eni_index], self.direction)
        if self.code == DEFAULT:
            return {"direction": self.direction, "group": None, "rule": None,
                    "why": dl.default_why}
        if self.code - 1 >= len(dl.entries):
            return {"direction": self.direction, "group": None, "rule": None,
                    "why": f"unknown rule (entry {self.code - 1}) in {self.ns}"}
        e = dl.entries[self.code - 1]
        return {"direction": self.direction, "group": e.group, "rule": e.rule, "why": e.why}


def decode(ns: str, value: int, hook: int) -> Optional[Witnessed]:
    """A mark read back (None: not one of sgnet's). `hook`: the netfilter hook the packet
    was logged at (1 input, 2 forward, 3 output)."""
    if not value & OURS:
        return None
    code = value & CODE_MASK
    eni = (value >> ENI_SHIFT) & ENI_MASK
    if code == ROUTE:
        return Witnessed(ns, "route", "deny", None, code)
    direction = "ingress" if value & INGRESS else "egress"
    # the verdict is carried by the NFLOG prefix (see PREFIX)
    return Witnessed(ns, direction, "", None if eni == ANY_ENI else eni, code)


STATEFUL_WHY = ("stateful: a segment of no connection (a TCP segment without SYN) is dropped "
                "as invalid; only a SYN opens a connection")
ESTABLISHED_WHY = ("stateful: a packet of a session already tracked passes, whatever the "
                   "rules (the stateful shortcut)")
PREFIX = {"allow": "sgnet+", "deny": "sgnet-"}  # the log prefix says what the rule did

# nfnetlink_log, from linux/netfilter/nfnetlink_log.h
NFULNL_MSG_PACKET = (4 << 8) | 0  # NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET
NFULA_PACKET_HDR, NFULA_MARK, NFULA_PAYLOAD, NFULA_PREFIX = 1, 2, 9, 10


_HDR = struct.Struct("=IH")
_ATTR = struct.Struct("=HH")


def parse_messages(data: bytes):
    """NFLOG packet messages in one netlink datagram -> [(hook, mark, prefix, payload)]."""
    out = []
    off, end = 0, len(data)
    unpack_hdr, unpack_attr = _HDR.unpack_from, _ATTR.unpack_from
    while off + 16 <= end:
        length, mtype = unpack_hdr(data, off)
        if length < 16:
            break
        if mtype == NFULNL_MSG_PACKET:
            hook, value, prefix, payload = None, 0, "", b""
            a, stop = off + 20, off + length
            while a + 4 <= stop:
                alen, atype = unpack_attr(data, a)
                if alen < 4:
                    break
                atype &= 0x7FFF
                if atype == NFULA_PAYLOAD:
                    payload = data[a + 4:a + alen]
                elif atype == NFULA_MARK:
                    value = int.from_bytes(data[a + 4:a + 8], "big")
                elif atype == NFULA_PREFIX:
                    prefix = data[a + 4:a + alen].split(b"\0", 1)[0].decode(errors="replace")
                elif atype == NFULA_PACKET_HDR:
                    hook = data[a + 6]
                a += (alen + 3) & ~3
            out.append((hook, value, prefix, payload))
        off += (length + 3) & ~3
    return out


def packet_key(payload: bytes):
    """(family, source address, tag) of a logged probe, or None (too short to be one):
    the tag read by sgnet.core.probes.probe_tag, as the probe was stamped."""
    version = payload[0] >> 4 if payload else 0
    if version == 4 and len(payload) >= 28:
        src = "%d.%d.%d.%d" % (payload[12], payload[13], payload[14], payload[15])
    elif version == 6 and len(payload) >= 48:
        src = _v6(payload[8:24])
    else:
        return None
    return (version, src, probe_tag(payload, version))


@functools.lru_cache(maxsize=1 << 16)
def _v6(packed: bytes) -> str:
    return str(ipaddress.IPv6Address(packed))


def report(ns: str, hook: int, value: int, prefix: str) -> Optional[Witnessed]:
    """One NFLOG message as a Witnessed report (None: not a lab rule's)."""
    w = decode(ns, value, hook)
    if w is None or not prefix.startswith("sgnet"):
        return None
    verdict = "allow" if prefix.startswith(PREFIX["allow"]) else "deny"
    return Witnessed(w.ns, w.direction, verdict, w.eni_index, w.code)


def _in_words(d: dict) -> str:
    who = f"{d['group']} rule {d['rule']}" if d["group"] is not None else d["why"]
    return f"{d['direction']}: {who}"


class Judge:
    """Verdicts of probes from what the kernel said (judge), for one lab: a rule's report
    is turned into its group and rule once per namespace and mark."""

    def __init__(self, lab, evaluator):
        self.lab, self.evaluator = lab, evaluator
        self._seen = {}  # (namespace, mark, prefix) -> (Witnessed, observed_by) or None

    def _heard(self, r, spec: ProbeSpec, ends):
        key = (r[0], r[2], r[3])
        if key not in self._seen:
            w = report(*r)
            if w is None:
                self._seen[key] = None
            else:
                endpoint = ends[0] if w.ns == spec.ns else ends[1] if w.ns == spec.dst_ns \
                    else None
                self._seen[key] = (w, w.to_decision(self.lab, self.evaluator, endpoint))
        return self._seen[key]

    def judge(self, spec: ProbeSpec, answer, reports: list, ends) -> ProbeResult:
        """The verdict of one probe: `answer` (kind, source, extra:
        sgnet.core.probes.parse_answer) or None, and the rules' reports [(namespace, hook,
        mark, prefix)] in the order heard. `ends`: (source, destination) endpoint names.

        - a rule reported dropping it: `deny`, observed_by that rule;
        - the destination answered: `allow` (open or refused), observed_by the rule that let
          it in at the destination (an instance), else the one that let it out at the
          source;
        - neither (silence, or an ICMP error from a router): `lost`, a lab fault, with what
          is known; never a deny, since no lab rule dropped it."""
        heard = [h for h in (self._heard(r, spec, ends) for r in reports) if h is not None]
        drop = next((d for w, d in heard if w.verdict == "deny"), None)
        if drop is not None:
            return ProbeResult("deny", "filtered", f"dropped at {_in_words(drop)}", drop)
        passed = [(w, d) for w, d in heard if w.verdict == "allow"]
        if answer is not None and answer[0] == "unsent":  # the source's kernel refused it
            return ProbeResult("lost", "lost", f"not sent: {answer[1]}")
        if answer is not None:
            r = classify_answer(spec, answer)
            if r.observed == "allow":
                at_dst = [d for w, d in passed if w.ns == spec.dst_ns]
                at_src = [d for w, d in passed if w.ns == spec.ns]
                return ProbeResult("allow", r.detail, r.answer, (at_dst or at_src or [None])[0])
            known = r.answer  # an ICMP error from a router
        else:
            known = "no answer"
        steps = [_in_words(d) for _, d in passed]
        let = f"let through at {'; '.join(steps)}" if steps else "no lab rule reported it"
        return ProbeResult("lost", "lost", f"{known}; {let}")

"""Reference evaluator: what the provider's documented semantics say a flow should do.

Pure Python, no kernel. A flow is judged at the source's egress (if the source is an
instance) and at the destination's ingress (if the destination is an instance); both must
allow it. Groups are stateful: the replies of an allowed flow pass whatever the reverse
direction's rules say, so only the initiating direction is judged.

Where the documents can be read two ways (sgnet.core.readings), a flow is also judged under
every other reading of the lab's provider, and its expectation lists those that give another
verdict (Expectation.readings). The other readings' decision lists are made once per ENI,
only for a lab and an ENI where they can differ, and a flow is judged again only where it
can be decided otherwise.
"""

from __future__ import annotations

import functools
import ipaddress
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from sgnet.core import readings
from sgnet.core.model import Lab
from sgnet.providers import get_profile


@dataclass(frozen=True)
class Flow:
    src: str  # endpoint name
    dst: str
    protocol: int  # 6, 17, 1 (icmp) or 58 (icmpv6), or any other number
    port: Optional[int]
    family: int
    src_ip: str = ""
    dst_ip: str = ""


@dataclass
class Decision:
    direction: str
    verdict: str  # allow | deny
    group: Optional[str]
    rule: Optional[int]
    why: str
    eni: Optional[str] = None

    def to_dict(self):
        return {"direction": self.direction, "group": self.group, "rule": self.rule,
                "why": self.why}


@dataclass
class OtherReading:
    """The verdict a flow would get under another reading of the documents."""

    setting: str
    value: str  # the other reading
    lab_value: str  # the reading the lab uses
    verdict: str
    decided_by: Decision

    def to_dict(self):
        return {"setting": self.setting, "value": self.value, "lab_value": self.lab_value,
                "verdict": self.verdict, "decided_by": self.decided_by.to_dict(),
                "sources": readings.source_urls(self.setting, self.value)}


@dataclass
class Expectation:
    flow: Flow
    verdict: str
    decided_by: Decision
    steps: list = field(default_factory=list)  # the decisions of each direction judged
    readings: list = field(default_factory=list)  # OtherReading: only those that differ


class Endpoint:
    """Where a flow starts or ends: an instance's ENI or an external host."""

    def __init__(self, name, kind, address, eni=None, vpc=None):
        self.name, self.kind, self.address, self.eni, self.vpc = name, kind, address, eni, vpc


@functools.lru_cache(maxsize=65536)
def _network(text: str):
    return ipaddress.ip_network(text)


def _remote_matches(lab: Lab, remote, family: int, addr) -> bool:
    if remote.kind == "any":
        return True
    if remote.kind == "cidr":
        net = _network(remote.value)
        return net.version == addr.version and addr in net
    if remote.kind == "group":
        return lab.is_member(remote.value, family, addr)
    if remote.kind == "prefix_list":
        return any(addr in n for n in lab.prefix_lists[remote.value].networks(family))
    raise ValueError(remote.kind)


def entry_matches(lab: Lab, entry, family, protocol, port, peer) -> bool:
    if entry.family != family:
        return False
    if entry.protocol is not None and entry.protocol != protocol:
        return False
    if entry.ports is not None and (port is None or
                                    not any(lo <= port <= hi for lo, hi in entry.ports)):
        return False
    return _remote_matches(lab, entry.remote, family, peer)


def _extra(longer: list, shorter: list):
    """The entries of `longer` that are not in `shorter` if `shorter` is `longer` with
    those left out (a flow that matches none of them is decided alike), else None."""
    extra, k = [], 0
    for e in longer:
        if k < len(shorter) and e == shorter[k]:
            k += 1
        else:
            extra.append(e)
    return extra if k == len(shorter) else None


def _telling(a, b):
    """Entries a flow must match for lists `a` and `b` (DecisionList) to decide it
    otherwise: None if no flow can, True if any may. One list is the other with entries
    added: those entries. The same entries reordered: a flow matches the same ones in both,
    so only one that matches entries of both actions can differ; the entries of the rarer
    action tell."""
    if a.entries == b.entries and a.default == b.default:
        return None
    if a.default != b.default:
        return True
    if len(a.entries) == len(b.entries):
        if Counter(a.entries) != Counter(b.entries):
            return True
        denies = [e for e in a.entries if e.action == "deny"]
        allows = [e for e in a.entries if e.action != "deny"]
        return min(denies, allows, key=len) or None
    longer, shorter = (a, b) if len(a.entries) > len(b.entries) else (b, a)
    return _extra(longer.entries, shorter.entries) or True


class _Other:
    """Another reading of one setting: its evaluator, and per ENI and direction how its
    decision list differs from the lab's (_telling)."""

    def __init__(self, lab, setting, value):
        self.setting, self.value = setting, value
        self.lab_value = readings.value(lab, setting)
        self.evaluator = Evaluator(lab.with_settings({**lab.settings, setting: value}),
                                   judge_readings=False)
        self.diffs = {}

    def diff(self, mine: "Evaluator", eni, direction):
        key = (eni.instance, eni.index, direction)
        d = self.diffs.get(key, self)
        if d is self:
            d = self.diffs[key] = _telling(mine.decision_list(eni, direction),
                                           self.evaluator.decision_list(eni, direction)) \
                if readings.eni_may_differ(self.setting, eni) else None
        return d


class Evaluator:
    def __init__(self, lab: Lab, judge_readings: bool = True):
        self.lab = lab
        self.profile = get_profile(lab.provider)
        self._lists = {}
        self._judge_readings = judge_readings
        self._others = None  # [_Other], made on the first flow that has groups

    def decision_list(self, eni, direction):
        key = (eni.instance, eni.index, direction)
        if key not in self._lists:
            self._lists[key] = self.profile.decision_list(self.lab, eni, direction)
        return self._lists[key]

    def others(self) -> list:
        """The other readings under which some flow of the lab can be judged otherwise."""
        if self._others is None:
            self._others = [_Other(self.lab, s, v) for s, v in readings.alternatives(self.lab)
                            if self._judge_readings and readings.may_differ(self.lab, s)]
        return self._others

    # -- endpoints --------------------------------------------------------------
    def resolve(self, name_or_ip: str, family: int) -> Endpoint:
        """An instance (its primary ENI), an external, or an address of either."""
        key = (name_or_ip, family)
        cache = self.__dict__.setdefault("_resolved", {})
        if key not in cache:
            cache[key] = self._resolve(name_or_ip, family)
        return cache[key]

    def _resolve(self, name_or_ip: str, family: int) -> Endpoint:
        lab = self.lab
        inst = lab.instance(name_or_ip)
        if inst is not None:
            eni = inst.primary
            return Endpoint(inst.name, "instance", eni.address(family), eni,
                            lab.vpc_of(eni.subnet).name)
        ext = lab.external(name_or_ip)
        if ext is not None:
            return Endpoint(ext.name, "external", ext.address(family))
        try:
            addr = ipaddress.ip_address(name_or_ip)
        except ValueError:
            raise KeyError(name_or_ip) from None
        eni = lab.eni_by_address(addr)
        if eni is not None:
            return Endpoint(eni.instance, "instance", addr, eni, lab.vpc_of(eni.subnet).name)
        ext = lab.external_by_address(addr)
        if ext is not None:
            return Endpoint(ext.name, "external", addr)
        raise KeyError(name_or_ip)

    def egress_eni(self, src: Endpoint, dst_addr):
        """The ENI the kernel sends from: the first whose subnet holds the destination,
        else the primary (the default route). Mirrors the routes the lab installs."""
        key = (src.eni.instance, dst_addr)
        cache = self.__dict__.setdefault("_egress", {})
        if key not in cache:
            cache[key] = self._egress_eni(src, dst_addr)
        return cache[key]

    def _egress_eni(self, src: Endpoint, dst_addr):
        inst = self.lab.instance(src.eni.instance)
        for eni in inst.enis:
            s = self.lab.subnet(eni.subnet)
            net = s.cidr if dst_addr.version == 4 else s.ipv6_cidr
            if net is not None and dst_addr in net and eni.address(dst_addr.version):
                return eni
        return inst.primary

    # -- judging ----------------------------------------------------------------
    def judge(self, eni, direction, family, protocol, port, peer) -> Decision:
        dl = self.decision_list(eni, direction)
        for e in dl.entries:
            if entry_matches(self.lab, e, family, protocol, port, peer):
                return Decision(direction, e.action, e.group, e.rule, e.why,
                                f"{eni.instance}/{eni.ifname}")
        return Decision(direction, dl.default, None, None, dl.default_why,
                        f"{eni.instance}/{eni.ifname}")

    def _ends(self, src_name: str, dst_name: str, protocol: int, port: Optional[int],
              family: int):
        src = self.resolve(src_name, family)
        dst = self.resolve(dst_name, family)
        if src.address is None or dst.address is None:
            raise KeyError(f"{src_name if src.address is None else dst_name} has no "
                           f"IPv{family} address")
        src_eni = self.egress_eni(src, dst.address) if src.kind == "instance" else None
        src_addr = src_eni.address(family) if src_eni else src.address
        flow = Flow(src.name, dst.name, protocol, port, family, str(src_addr), str(dst.address))
        return flow, src, dst, src_eni, src_addr

    def flow(self, src_name: str, dst_name: str, protocol: int, port: Optional[int],
             family: int = 4) -> Flow:
        """The flow between two ends, as evaluate() sees it (its addresses), unjudged:
        what a probe needs to be sent."""
        return self._ends(src_name, dst_name, protocol, port, family)[0]

    def evaluate(self, src_name: str, dst_name: str, protocol: int, port: Optional[int],
                 family: int = 4) -> Expectation:
        flow, src, dst, src_eni, src_addr = self._ends(src_name, dst_name, protocol, port,
                                                       family)
        if src.kind == "external" and dst.kind == "external":
            d = Decision("none", "allow", None, None, "between external hosts: no group applies")
            return Expectation(flow, "allow", d, [d])
        if src.kind == "instance" and dst.kind == "instance" and src.vpc != dst.vpc:
            # the source's egress rules see the packet first (its ENI), then routing fails
            out = self.judge(src_eni, "egress", family, protocol, port, dst.address)
            d = Decision("route", "deny", None, None,
                         f"{src.vpc} and {dst.vpc} are different VPCs: no route between them")
            if out.verdict == "deny":
                return Expectation(flow, "deny", out, [out])
            return Expectation(flow, "deny", d, [out, d])
        ends = (src_eni, dst.eni, family, protocol, port, src_addr, dst.address)
        exp = Expectation(flow, *self.judge_ends(*ends))
        for other in self.others():
            r = self._other_reading(other, exp.verdict, ends)
            if r is not None:
                exp.readings.append(r)
        return exp

    def judge_ends(self, src_eni, dst_eni, family, protocol, port, src_addr, dst_addr):
        """(verdict, deciding decision, steps) of a flow between two ends in one VPC:
        egress at the source's ENI, then ingress at the destination's (None: an external)."""
        steps = []
        if src_eni is not None:
            d = self.judge(src_eni, "egress", family, protocol, port, dst_addr)
            steps.append(d)
            if d.verdict == "deny":
                return "deny", d, steps
        if dst_eni is not None:
            d = self.judge(dst_eni, "ingress", family, protocol, port, src_addr)
            steps.append(d)
            return d.verdict, d, steps
        return "allow", steps[-1], steps

    def _tells(self, other: _Other, eni, direction, family, protocol, port, peer) -> bool:
        """Can the other reading's list of this ENI decide the flow otherwise?"""
        if eni is None:
            return False
        d = other.diff(self, eni, direction)
        return d is True or (d is not None and any(
            entry_matches(self.lab, e, family, protocol, port, peer) for e in d))

    def _other_reading(self, other: _Other, verdict: str, ends):
        """The flow under another reading, if its verdict differs there (else None)."""
        src_eni, dst_eni, family, protocol, port, src_addr, dst_addr = ends
        if not (self._tells(other, src_eni, "egress", family, protocol, port, dst_addr) or
                self._tells(other, dst_eni, "ingress", family, protocol, port, src_addr)):
            return None  # decided alike: the lists agree wherever this flow can match
        v, d, _ = other.evaluator.judge_ends(*ends)
        if v == verdict:
            return None
        return OtherReading(other.setting, other.value, other.lab_value, v, d)

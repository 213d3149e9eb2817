"""Reference evaluator: what the provider's documented semantics say a flow should do.

Pure Python, no kernel. A flow is judged at the source's egress (if the source is an
instance) and at the destination's ingress (if the destination is an instance); both must
allow it. Groups are stateful: the replies of an allowed flow pass whatever the reverse
direction's rules say, so only the initiating direction is judged.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Optional

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
class Expectation:
    flow: Flow
    verdict: str
    decided_by: Decision
    steps: list = field(default_factory=list)  # the decisions of each direction judged


class Endpoint:
    """Where a flow starts or ends: an instance's ENI or an external host."""

    def __init__(self, name, kind, address, eni=None, vpc=None):
        self.name, self.kind, self.address, self.eni, self.vpc = name, kind, address, eni, vpc


def _remote_matches(lab: Lab, remote, family: int, addr) -> bool:
    if remote.kind == "any":
        return True
    if remote.kind == "cidr":
        net = ipaddress.ip_network(remote.value)
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


class Evaluator:
    def __init__(self, lab: Lab):
        self.lab = lab
        self.profile = get_profile(lab.provider)
        self._lists = {}

    def decision_list(self, eni, direction):
        key = (eni.instance, eni.index, direction)
        if key not in self._lists:
            self._lists[key] = self.profile.decision_list(self.lab, eni, direction)
        return self._lists[key]

    # -- endpoints --------------------------------------------------------------
    def resolve(self, name_or_ip: str, family: int) -> Endpoint:
        """An instance (its primary ENI), an external, or an address of either."""
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

    def evaluate(self, src_name: str, dst_name: str, protocol: int, port: Optional[int],
                 family: int = 4) -> Expectation:
        src = self.resolve(src_name, family)
        dst = self.resolve(dst_name, family)
        if src.address is None or dst.address is None:
            raise KeyError(f"{src_name if src.address is None else dst_name} has no "
                           f"IPv{family} address")
        src_eni = self.egress_eni(src, dst.address) if src.kind == "instance" else None
        src_addr = src_eni.address(family) if src_eni else src.address
        flow = Flow(src.name, dst.name, protocol, port, family, str(src_addr), str(dst.address))
        steps = []
        if src.kind == "external" and dst.kind == "external":
            d = Decision("none", "allow", None, None, "between external hosts: no group applies")
            return Expectation(flow, "allow", d, [d])
        if src.kind == "instance" and dst.kind == "instance" and src.vpc != dst.vpc:
            d = Decision("route", "deny", None, None,
                         f"{src.vpc} and {dst.vpc} are different VPCs: no route between them")
            return Expectation(flow, "deny", d, [d])
        if src_eni is not None:
            d = self.judge(src_eni, "egress", family, protocol, port, dst.address)
            steps.append(d)
            if d.verdict == "deny":
                return Expectation(flow, "deny", d, steps)
        if dst.kind == "instance":
            d = self.judge(dst.eni, "ingress", family, protocol, port, src_addr)
            steps.append(d)
            return Expectation(flow, d.verdict, d, steps)
        return Expectation(flow, "allow", steps[-1], steps)

"""The lab as plain data: VPCs, subnets, instances, ENIs, externals, groups and rules (core).

Every class is a frozen dataclass, built complete by the lab file's validation
(sgnet.core.labspec) and never changed after: a change is a new lab. The provider profile
(sgnet.providers) gives the groups their meaning, and its own fields of a group
(Group.extras); the compiler and the evaluator read the lab, the kernel shell builds it.
"""

from __future__ import annotations

import bisect
import dataclasses
import ipaddress
from dataclasses import dataclass, field
from typing import Any, Optional

from sgnet.core.values import ports_text, protocol_name


@dataclass(frozen=True)
class Remote:
    """The other end of a rule: any address, a CIDR, a group's members or a prefix list."""

    kind: str  # any | cidr | group | prefix_list
    value: Optional[str] = None

    def text(self) -> str:
        if self.kind == "any":
            return "any"
        if self.kind == "cidr":
            return self.value
        return f"{self.kind.replace('_', '-')}:{self.value}"


@dataclass(frozen=True)
class Rule:
    direction: str  # ingress | egress
    action: str  # allow | deny
    priority: int
    family: int  # 4 | 6  (the rule's ethertype)
    protocol: Optional[int]  # None = all protocols
    ports: Optional[tuple] = None  # ((lo, hi), ...) or None = all ports
    remote: Remote = Remote("any")
    description: str = ""

    def ports_text(self) -> str:
        return ports_text(self.ports)

    def text(self) -> str:
        where = "from" if self.direction == "ingress" else "to"
        proto = protocol_name(self.protocol)
        if self.ports is not None:
            proto += "/" + self.ports_text()
        return (f"{self.direction} {self.action} IPv{self.family} {proto} {where} "
                f"{self.remote.text()} priority {self.priority}")

    def to_dict(self) -> dict:
        d = {"direction": self.direction, "action": self.action, "priority": self.priority,
             "ethertype": f"IPv{self.family}", "protocol": protocol_name(self.protocol)}
        if self.ports is not None:
            d["ports"] = self.ports_text()
        if self.remote.kind == "cidr":
            d["remote"] = self.remote.value
        elif self.remote.kind == "group":
            d["remote_group"] = self.remote.value
        elif self.remote.kind == "prefix_list":
            d["remote_prefix_list"] = self.remote.value
        if self.description:
            d["description"] = self.description
        return d


@dataclass(frozen=True)
class Group:
    name: str
    rules: list = field(default_factory=list)
    builtin: bool = False  # created by the provider itself
    description: str = ""
    # The provider's own fields of the group (an instance of its Profile.group_fields, e.g.
    # sgnet.providers.alibaba.AlibabaGroup), None for a provider that has none.
    extras: Any = None


@dataclass(frozen=True)
class Subnet:
    name: str
    vpc: str
    cidr: ipaddress.IPv4Network
    ipv6_cidr: Optional[ipaddress.IPv6Network]
    index: int

    @property
    def gateway(self) -> ipaddress.IPv4Address:
        return self.cidr.network_address + 1

    @property
    def gateway6(self) -> Optional[ipaddress.IPv6Address]:
        return self.ipv6_cidr.network_address + 1 if self.ipv6_cidr else None


@dataclass(frozen=True)
class Vpc:
    name: str
    cidr: ipaddress.IPv4Network
    ipv6_cidr: Optional[ipaddress.IPv6Network]
    subnets: list


@dataclass(frozen=True)
class Eni:
    instance: str
    index: int  # 0 = primary
    subnet: str
    ip: ipaddress.IPv4Address
    ipv6: Optional[ipaddress.IPv6Address]
    groups: list
    # Secondary private IPv4 addresses: one contiguous block (first, last), or None. They
    # are the ENI's as much as its primary address: members of its groups, answered by it.
    secondary: Optional[tuple] = None
    # The cloud's id of the ENI, when the lab was imported (sgnet.core.labspec.ENI_ID): flow
    # logs name the ENI that logged a record by it.
    eni_id: Optional[str] = None

    @property
    def ifname(self) -> str:
        return f"eth{self.index}"

    def address(self, family: int):
        return self.ip if family == 4 else self.ipv6

    def addresses(self, family: int) -> list:
        """Every private address of the family: the primary, then the secondary block."""
        a = self.address(family)
        out = [a] if a is not None else []
        if family == 4 and self.secondary:
            lo, hi = (int(x) for x in self.secondary)
            out += [ipaddress.IPv4Address(i) for i in range(lo, hi + 1)]
        return out

    def owns(self, addr) -> bool:
        if addr in (self.ip, self.ipv6):
            return True
        return (self.secondary is not None and addr.version == 4
                and self.secondary[0] <= addr <= self.secondary[1])


@dataclass(frozen=True)
class Instance:
    name: str
    index: int
    enis: list
    host: Optional[str] = None  # multi-host labs: the host it runs on

    @property
    def primary(self) -> Eni:
        return self.enis[0]

    @property
    def groups(self) -> list:
        return self.primary.groups


@dataclass(frozen=True)
class External:
    name: str
    index: int
    ip: ipaddress.IPv4Address
    ipv6: Optional[ipaddress.IPv6Address]
    host: Optional[str] = None  # multi-host labs: the host it runs on

    def address(self, family: int):
        return self.ip if family == 4 else self.ipv6


@dataclass(frozen=True)
class Host:
    """A machine of a multi-host lab: a real one driven over SSH (or this machine, when the
    address is one of its own), or a namespace standing in for a hypervisor."""

    name: str
    index: int
    address: Optional[str] = None  # the underlay (VXLAN) address; simulated: optional
    ssh_user: str = "root"
    ssh_port: int = 22
    simulated: bool = False
    command: str = "sgnet"  # how sgnet is run on the host
    ssh_identity: Optional[str] = None  # a private key file; else ssh's own configuration
    ssh_options: tuple = ()  # extra ssh -o options, "Key=Value"
    transport: str = "ssh"  # ssh | local: how its agent is reached
    ssh_host: Optional[str] = None  # where SSH connects (a real host: its address)


@dataclass(frozen=True)
class PrefixList:
    name: str
    entries: list  # ip_network objects, both families

    def networks(self, family: int) -> list:
        return [n for n in self.entries if n.version == family]


@dataclass(frozen=True)
class Lab:
    name: str
    provider: str
    vpcs: list
    groups: dict  # name -> Group, in declaration order (provider's own first)
    instances: list
    externals: list
    prefix_lists: dict = field(default_factory=dict)
    source: str = "<lab>"
    settings: dict = field(default_factory=dict)
    hosts: list = field(default_factory=list)  # Host; empty = everything on this machine

    # -- look-ups ---------------------------------------------------------------
    @property
    def subnets(self) -> list:
        return [s for v in self.vpcs for s in v.subnets]

    def _index(self) -> dict:
        """Look-ups by name, made once (a matrix asks hundreds of thousands of times); kept
        in the instance's dict, as the frozen model itself never changes."""
        idx = self.__dict__.get("_by_name")
        if idx is None:
            idx = {"subnet": {s.name: s for s in self.subnets},
                   "vpc_of": {s.name: v for v in self.vpcs for s in v.subnets},
                   "instance": {i.name: i for i in self.instances},
                   "external": {e.name: e for e in self.externals}}
            self.__dict__["_by_name"] = idx
        return idx

    def subnet(self, name: str) -> Subnet:
        return self._index()["subnet"][name]

    def vpc_of(self, subnet_name: str) -> Vpc:
        return self._index()["vpc_of"][subnet_name]

    def instance(self, name: str) -> Optional[Instance]:
        return self._index()["instance"].get(name)

    def external(self, name: str) -> Optional[External]:
        return self._index()["external"].get(name)

    def host(self, name: str) -> Optional[Host]:
        return next((h for h in self.hosts if h.name == name), None)

    def host_of(self, endpoint: str) -> Optional[str]:
        """The host an instance or external runs on (None: a one-host lab)."""
        e = self.instance(endpoint) or self.external(endpoint)
        return e.host if e is not None else None

    @property
    def enis(self) -> list:
        return [e for i in self.instances for e in i.enis]

    def eni_by_address(self, addr) -> Optional[Eni]:
        """The ENI holding the address (its primary, IPv6 or secondary block), or None:
        looked up in an index made once (a replay asks for a week of logs' addresses)."""
        if not isinstance(addr, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            addr = ipaddress.ip_address(addr)
        single, starts, blocks = self._address_index()
        eni = single.get(addr)
        if eni is not None or addr.version != 4:
            return eni
        i = bisect.bisect_right(starts, int(addr)) - 1  # the last block starting below
        return blocks[i][1] if i >= 0 and int(addr) <= blocks[i][0] else None

    def _address_index(self) -> tuple:
        """({address: ENI}, [secondary block starts], [(block end, ENI)]): every address
        of the lab is one ENI's (the lab file's validation)."""
        index = self.__dict__.get("_addresses")
        if index is None:
            single, spans = {}, []
            for eni in self.enis:
                single.update((a, eni) for a in (eni.ip, eni.ipv6) if a is not None)
                if eni.secondary:
                    spans.append((int(eni.secondary[0]), int(eni.secondary[1]), eni))
            spans.sort(key=lambda x: x[0])
            index = self.__dict__["_addresses"] = (
                single, [lo for lo, _, _ in spans], [(hi, eni) for _, hi, eni in spans])
        return index

    def eni_by_id(self, eni_id: str) -> Optional[Eni]:
        """The ENI the cloud knows by this id (None: no ENI of the lab has it)."""
        by_id = self.__dict__.get("_eni_by_id")
        if by_id is None:
            by_id = self.__dict__["_eni_by_id"] = {e.eni_id: e for e in self.enis if e.eni_id}
        return by_id.get(eni_id)

    def host_by_address(self, addr) -> Optional[tuple]:
        """(name, "instance" or "external") of the lab host holding the address, or None:
        no host of the lab holds it (the outside world's)."""
        eni = self.eni_by_address(addr)
        if eni is not None:
            return eni.instance, "instance"
        x = self.external_by_address(addr)
        return (x.name, "external") if x is not None else None

    def external_by_address(self, addr) -> Optional[External]:
        addr = ipaddress.ip_address(addr)
        return next((x for x in self.externals if addr in (x.ip, x.ipv6)), None)

    def members(self, group: str, family: int) -> list:
        """Private addresses of the given family of every ENI in the group."""
        return [a for eni in self.enis if group in eni.groups for a in eni.addresses(family)]

    def with_settings(self, settings: dict) -> "Lab":
        """The same lab under other settings (no setting changes a membership: the
        membership sets are shared)."""
        other = dataclasses.replace(self, settings=settings)
        other.__dict__["_member_sets"] = self.__dict__.setdefault("_member_sets", {})
        other.__dict__["_by_name"] = self._index()
        return other

    def is_member(self, group: str, family: int, addr) -> bool:
        cache = self.__dict__.setdefault("_member_sets", {})
        key = (group, family)
        if key not in cache:
            cache[key] = frozenset(self.members(group, family))
        return addr in cache[key]

    def enis_in(self, group: str) -> list:
        return [e for e in self.enis if group in e.groups]

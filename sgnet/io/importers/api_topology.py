"""The network of an API export (io: pure): subnets and VPCs that instances name but the
export does not describe, inferred from the instances' real addresses.

Instance listings (Alibaba ``DescribeInstances`` / ``DescribeNetworkInterfaces``, Huawei
``ShowServer`` / ``ListServersDetails``) give each ENI its vswitch or network and its
addresses, not the CIDR of the subnet or the VPC. When the subnet listing
(``DescribeVSwitches``, ``ListSubnets``) or the VPC listing (``DescribeVpcs``,
``ListVpcs``) is not among the files, `infer_networks` chooses a subnet holding the
addresses: the /24 of the first address, widened until it holds every address of that
vswitch (an IPv6 /64 likewise), and a VPC covering its subnets (their /16 where that stays
in the same private range). Each choice is a warning naming the vswitch or VPC and the CIDR
chosen; the instance addresses stay the real ones.
"""

from __future__ import annotations

import ipaddress
from typing import Optional

from sgnet.core.labspec import PRIVATE_RANGES
from sgnet.io.importers.export import short, show
from sgnet.io.importers.normaliser import Importer, Network, covering

FREE_BASE = ipaddress.ip_network("10.0.0.0/16")  # where a subnet with no address is placed


def infer_networks(imp: Importer, subnet_vpc: dict, names: Optional[dict] = None, *,
                   subnet_word: str, listing: str, vpc_listing: str):
    """Declare the subnets the instances' ENIs name that `imp.subnets` lacks, and the VPCs
    of subnets that `imp.vpcs` lacks. `subnet_vpc`: subnet key -> VPC key (from the
    instances); `names`: subnet key -> the name to give it (else its key)."""
    names = names or {}
    wanted = {}  # subnet key -> ([IPv4 addresses], [IPv6 addresses]) in the export's order
    for inst in imp.instances:
        for skey, ip, ipv6 in inst.enis:
            if skey is None or imp.subnet_aliases.get(skey, skey) in imp.subnets:
                continue
            v4, v6 = wanted.setdefault(skey, ([], []))
            for text, out, family in ((ip, v4, 4), (ipv6, v6, 6)):
                a = _address(text, family)
                if a is not None and a not in out:
                    out.append(a)
    bases = {}  # VPC key -> where its subnets without an address go
    for skey, (v4, v6) in wanted.items():
        vpc_key = subnet_vpc.get(skey) or f"vpc-of-{skey}"
        taken = [ipaddress.ip_network(s.cidr, strict=False) for s in imp.subnets.values()
                 if s.cidr]
        vpc = imp.vpcs.get(vpc_key)
        if not v4 and vpc_key not in bases:
            bases[vpc_key] = ipaddress.ip_network(vpc.cidr, strict=False) if vpc and vpc.cidr \
                else _free_base(imp, subnet_vpc, wanted, vpc_key)
        cidr, why = _subnet_cidr(v4, taken, bases.get(vpc_key))
        cidr6 = str(_holding(v6, 64)) if v6 else None
        label = f"{subnet_word} {short(str(skey))}"
        imp.subnets[skey] = Network(skey, names.get(skey, skey), cidr, cidr6, vpc_key,
                                    label=label)
        imp.warn(label, f"its CIDR is not in the export (give the {listing} response to use "
                 f"the real one): taken as {cidr}{' and ' + cidr6 if cidr6 else ''}, {why}")
    _infer_vpcs(imp, vpc_listing)


def _infer_vpcs(imp: Importer, vpc_listing: str):
    by_vpc = {}
    for s in imp.subnets.values():
        if s.vpc_key not in imp.vpcs and s.cidr:
            by_vpc.setdefault(s.vpc_key, []).append(ipaddress.ip_network(s.cidr, strict=False))
    for vkey, nets in by_vpc.items():
        net = covering(nets)
        others = [ipaddress.ip_network(n.cidr, strict=False) for n in imp.vpcs.values()
                  if n.cidr] + [covering(o) for k, o in by_vpc.items() if k != vkey]
        wide = net.supernet(new_prefix=16) if net.prefixlen > 16 else net
        if wide.is_private and all(wide.subnet_of(p) for p in _private_blocks(net)) and \
                not any(wide.overlaps(o) for o in others):  # a lab's VPCs must not overlap
            net = wide
        label = f"VPC {short(str(vkey))}"
        imp.vpcs[vkey] = Network(vkey, vkey, str(net), label=label)
        imp.warn(label, f"its CIDR is not in the export (give the {vpc_listing} response to "
                 f"use the real one): taken as {net}, holding its subnets")


def _address(text, family):
    if not text or "%" in str(text):
        return None
    try:
        a = ipaddress.ip_address(str(text).strip())
    except ValueError:
        return None  # the lab builder warns about it (the next free address is used)
    return a if a.version == family else None


def _holding(addresses: list, prefix: int):
    """The network of `addresses[0]` with `prefix`, widened until it holds them all."""
    return covering([ipaddress.ip_network(f"{addresses[0]}/{prefix}", strict=False),
                     *(ipaddress.ip_network(a) for a in addresses[1:])])


def _free_base(imp, subnet_vpc, wanted, vpc_key):
    """A /16 of 10.0.0.0/8 that no VPC, subnet or address of another VPC of the export
    uses (a VPC whose CIDR and addresses are all unknown)."""
    used = [ipaddress.ip_network(n.cidr, strict=False) for n in
            [*imp.vpcs.values(), *imp.subnets.values()] if n.cidr]
    used += [ipaddress.ip_network(a) for skey, (v4, _) in wanted.items()
             if (subnet_vpc.get(skey) or f"vpc-of-{skey}") != vpc_key for a in v4]
    return next((c for c in ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=16)
                 if not any(c.overlaps(u) for u in used)), FREE_BASE)


def _subnet_cidr(v4: list, taken: list, base) -> tuple:
    """(CIDR, why) of an inferred subnet: holding `v4`, else a free /24 of `base`."""
    if v4:
        net = _holding(v4, 24)
        if any(net.overlaps(t) for t in taken):  # another subnet's: the tightest instead
            net = _holding(v4, 32 if len(v4) == 1 else 30)
            while net.prefixlen > 29 or not all(a in net for a in v4):
                net = net.supernet()
        shown = ", ".join(str(a) for a in v4[:5]) + (", ..." if len(v4) > 5 else "")
        return str(net), f"holding its instances' addresses {shown}"
    base = base or FREE_BASE
    for cand in base.subnets(new_prefix=max(24, base.prefixlen)):
        if not any(cand.overlaps(t) for t in taken):
            return str(cand), "a free /24 (no address of its instances could be read)"
    return str(base), "the VPC's CIDR (no address of its instances could be read)"


def _private_blocks(net) -> list:
    """The private range (labspec's, where a VPC must lie) that holds `net`, or `net`."""
    return [b for b in PRIVATE_RANGES if net.subnet_of(b)] or [net]


def cidr_or_none(imp, label, node, family):
    """The CIDR text of a network listing's field, None (warned) when it is no CIDR of
    `family` (the lab file judges host bits and ranges)."""
    text = node.text()
    if not text:
        return None
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        net = None
    if net is None or net.version != family:
        imp.warn(label, f"{node.path} {show(text)} is not an IPv{family} CIDR: left out")
        return None
    return text

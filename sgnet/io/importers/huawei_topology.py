"""Huawei Cloud ECS servers, subnets and VPCs -> the neutral form (io: a format reader,
pure).

Reads, as the ECS and VPC API references document them, alongside the group exports of the
same import (huawei):
- ECS ``ShowServer`` (``server``) and ``ListServersDetails`` (``servers[]``): ``id``,
  ``name``, ``security_groups`` (``[{"id", "name"}]`` or ``[{"name"}]``), ``addresses``
  (``{VPC id: [{addr, version, OS-EXT-IPS:type, OS-EXT-IPS:port_id, ...}]}``: the key is
  the VPC of the server, ECS API "addresses: key is the ID of the VPC used by the ECS").
  The ``fixed`` addresses of one ``port_id`` are one ENI (its IPv4 and IPv6), in the order
  listed, the first the primary; ``floating`` addresses (EIPs) are the cloud's NAT, not an
  ENI address, and are not used. A group named but not given by id is the export's group of
  that name (several of that name: the first, warned; none: an empty placeholder, warned).
- VPC ``ListSubnets`` (``subnets[]``: ``id``, ``name``, ``cidr``, ``vpc_id``, ``cidr_v6`` /
  ``ipv6_cidr_block``, ``neutron_subnet_id``) and ``ListVpcs`` (``vpcs[]``: ``id``,
  ``name``, ``cidr``): an address is placed in the subnet of its VPC that holds it; without
  the listings a subnet per VPC holding the addresses is inferred (api_topology, warned).
"""

from __future__ import annotations

import ipaddress

from sgnet.io.importers.api_topology import cidr_or_none, infer_networks
from sgnet.io.importers.export import Node, short, show
from sgnet.io.importers.normaliser import Importer, Instance, Network


class Collected:
    """The network records of every file, kept until the groups are read."""

    def __init__(self):
        self.servers, self.subnets, self.vpcs = [], [], []

    def read(self, path: str, data: Node) -> bool:
        found = False
        for key, out, many in (("server", self.servers, False), ("servers", self.servers, True),
                               ("subnet", self.subnets, False), ("subnets", self.subnets, True),
                               ("vpc", self.vpcs, False), ("vpcs", self.vpcs, True)):
            if data.has(key):
                out.extend((path, n) for n in (data[key].objects() if many else
                                               [data[key].object()]))
                found = True
        return found

    def build(self, imp: Importer):
        for path, v in self.vpcs:
            self._network(imp, path, v, None)
        for path, s in self.subnets:
            self._network(imp, path, s, "vpc_id")
        subnet_vpc, names = {}, {}
        for path, srv in self.servers:
            _server(imp, path, srv, subnet_vpc, names)
        if imp.instances:
            infer_networks(imp, subnet_vpc, names, subnet_word="network",
                           listing="ListSubnets", vpc_listing="ListVpcs")

    @staticmethod
    def _network(imp, path, v: Node, vpc_attr):
        key = v["id"].required_text("every VPC and subnet has an id")
        label = f"{path}: {'subnet' if vpc_attr else 'VPC'} {short(key)}"
        cidr = cidr_or_none(imp, label, v["cidr"], 4)
        if not cidr:
            imp.warn(label, "its CIDR is not in the export or cannot be read: left out")
            return
        v6 = v["cidr_v6"] if v["cidr_v6"].text() else v["ipv6_cidr_block"]
        net = Network(key, v["name"].text() or key, cidr, cidr_or_none(imp, label, v6, 6),
                      v[vpc_attr].text() if vpc_attr else None, label=label)
        (imp.subnets if vpc_attr else imp.vpcs).setdefault(key, net)
        for alias in ("neutron_subnet_id", "neutron_network_id"):
            if vpc_attr and v[alias].text():
                imp.subnet_aliases.setdefault(v[alias].text(), key)


def _server(imp: Importer, path: str, srv: Node, subnet_vpc: dict, names: dict):
    sid = srv["id"].required_text("every server has an id")
    name = srv["name"].text()
    label = f"{path}: server {short(name or sid)}" + (f" ({short(sid)})" if name else "")
    ports = {}  # port id (or the address) -> [subnet key, IPv4, IPv6]
    addresses = set()  # the keys of ports without an id
    for vpc, addrs in srv["addresses"].entries():
        for a in addrs.objects():
            if a["OS-EXT-IPS:type"].text().lower() == "floating":
                continue
            addr = a["addr"].text()
            if not a["OS-EXT-IPS:port_id"].text():
                addresses.add(addr)
            port = ports.setdefault(a["OS-EXT-IPS:port_id"].text() or addr,
                                    [_subnet_of(imp, vpc, addr), None, None])
            six = str(a["version"].scalar() or "") == "6" or ":" in addr
            port[2 if six else 1] = port[2 if six else 1] or addr
            if port[0] == f"net:{vpc}":
                subnet_vpc[port[0]] = vpc
                names[port[0]] = f"subnet-{vpc}"
    if not ports:
        imp.warn(label, "has no fixed address in the export: left out")
        return
    groups = _groups(imp, label, srv["security_groups"])
    ids = {k: port for k, port in enumerate(ports) if port not in addresses}
    imp.instances.append(Instance(name or sid, label, [tuple(p) for p in ports.values()],
                                  groups, eni_ids=ids))


def _subnet_of(imp: Importer, vpc: str, addr: str) -> str:
    """The listed subnet of `vpc` holding `addr`, else the inferred one of that VPC."""
    try:
        a = ipaddress.ip_address(addr)
    except ValueError:
        a = None
    for s in imp.subnets.values():
        if a is not None and s.vpc_key == vpc and \
                any(c and a.version == ipaddress.ip_network(c, strict=False).version and
                    a in ipaddress.ip_network(c, strict=False) for c in (s.cidr, s.ipv6_cidr)):
            return s.key
    return f"net:{vpc}"


def _groups(imp: Importer, label: str, items: Node) -> list:
    """Group keys of a server's `security_groups`: by id, else by name (warned when the
    name is ambiguous or unknown)."""
    out = []
    by_name = {}
    for key, g in imp.groups.items():
        if g.cloud_name:
            by_name.setdefault(g.cloud_name, []).append(key)
    for item in items.objects():
        gid, gname = item["id"].text(), item["name"].text()
        if gid:
            imp.group(gid, label, cloud_name=gname or None)
            out.append(gid)
            continue
        keys = by_name.get(gname, [])
        if len(keys) > 1:
            imp.warn(label, f"security group name {show(gname)} is the name of {len(keys)} "
                     f"groups of the export: taken as the first, {short(keys[0])}")
        if keys:
            out.append(keys[0])
        elif gname:
            key = f"name:{gname}"
            g = imp.group(key, label, cloud_name=gname)
            g.placeholder = True
            imp.warn(label, f"security group {show(gname)} (named, without its id) is not in "
                     "the export: declared as an empty placeholder group of that name")
            out.append(key)
    return out

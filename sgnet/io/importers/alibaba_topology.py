"""Alibaba Cloud instances, ENIs, vswitches and VPCs -> the neutral form (io: a format
reader, pure).

Reads, as the ECS and VPC API references (2014-05-26, 2016-04-28) document them, alongside
the group exports of the same import (alibaba):
- ``DescribeInstances`` (``Instances.Instance[]``): ``InstanceId``, ``InstanceName``,
  ``VpcAttributes`` (``VpcId``, ``VSwitchId``, ``PrivateIpAddress.IpAddress[]``), the
  primary ENI's groups ``SecurityGroupIds.SecurityGroupId[]``, and
  ``NetworkInterfaces.NetworkInterface[]`` (``NetworkInterfaceId``, ``PrimaryIpAddress``,
  ``Type`` Primary / Secondary, ``PrivateIpSets``, ``Ipv6Sets``);
- ``DescribeNetworkInterfaces`` (``NetworkInterfaceSets.NetworkInterfaceSet[]``): each ENI's
  ``InstanceId``, ``VSwitchId``, ``VpcId``, ``PrivateIpAddress``, ``PrivateIpSets``,
  ``Ipv6Sets``, ``Type`` and its OWN ``SecurityGroupIds`` (a secondary ENI can be in other
  groups than the instance: source document 004, "secondary ENIs in other groups");
- ``DescribeVSwitches`` (``VSwitches.VSwitch[]``) and ``DescribeVpcs`` (``Vpcs.Vpc[]``):
  ``CidrBlock``, ``Ipv6CidrBlock``, names. Without them the CIDRs are inferred from the
  addresses (api_topology, warned).
A bare list of one kind of record (what ``aliyun ... --output`` filters give) is read too.
The ENI listing is the authority for an ENI it lists (vswitch, addresses, groups); the
instance listing gives the rest. An ENI attached to no instance carries no traffic and is
left out; an instance of the classic network has no VPC and is left out (both warned).
Further private addresses of an ENI (``PrivateIpSets`` entries not primary) become that many
``secondary_ips``, whose addresses sgnet chooses (warned).
"""

from __future__ import annotations

from sgnet.io.importers.api_topology import cidr_or_none, infer_networks
from sgnet.io.importers.export import Node, short, show
from sgnet.io.importers.normaliser import Importer, Instance, Network

RESPONSES = {"Instances": ("Instance", "instances"), "NetworkInterfaceSets":
             ("NetworkInterfaceSet", "enis"), "VSwitches": ("VSwitch", "vswitches"),
             "Vpcs": ("Vpc", "vpcs")}


class Collected:
    """The network records of every file, kept until the groups are read (memberships name
    groups of any file)."""

    def __init__(self):
        self.instances, self.enis, self.vswitches, self.vpcs = [], [], [], []

    def read(self, path: str, doc: Node) -> bool:
        """Keep the records of one response (or of one bare record); False: not a network
        response."""
        for key, (inner, kind) in RESPONSES.items():
            if doc.has(key):
                records = doc[key]
                records = records[inner] if records.is_object() else records
                getattr(self, kind).extend((path, r) for r in records.objects())
                return True
            if doc.has(inner) and not doc.has("InstanceId"):  # the response's inner object
                getattr(self, kind).extend((path, r) for r in doc[inner].objects())
                return True
        kind = ("enis" if doc.has("NetworkInterfaceId") else
                "instances" if doc.has("InstanceId") else
                "vswitches" if doc.has("VSwitchId") and doc.has("CidrBlock") else
                "vpcs" if doc.has("VpcId") and doc.has("CidrBlock") else None)
        if kind is None or not doc.is_object():
            return False
        getattr(self, kind).append((path, doc))
        return True

    def build(self, imp: Importer):
        for path, v in self.vpcs:
            _network(imp, path, v, "VpcId", "VpcName", None)
        for path, v in self.vswitches:
            _network(imp, path, v, "VSwitchId", "VSwitchName", "VpcId")
        subnet_vpc = _Instances(imp, self).build()
        if imp.instances:
            infer_networks(imp, subnet_vpc, subnet_word="vswitch", listing="DescribeVSwitches",
                           vpc_listing="DescribeVpcs")


def _network(imp, path, v: Node, id_key, name_key, vpc_key):
    key = v[id_key].required_text("every VPC and vswitch has an id")
    label = f"{path}: {'vswitch' if vpc_key else 'VPC'} {short(key)}"
    cidr = cidr_or_none(imp, label, v["CidrBlock"], 4)
    v6 = v["Ipv6CidrBlock"]
    if not v6.text() and v["Ipv6CidrBlocks"].is_object():  # DescribeVpcs: a list of blocks
        v6 = next((b["Ipv6CidrBlock"] for b in v["Ipv6CidrBlocks"]["Ipv6CidrBlock"].objects()
                   if b["Ipv6CidrBlock"].text()), v6)
    if not cidr:
        imp.warn(label, "its CIDR is not in the export or cannot be read: left out")
        return
    net = Network(key, v[name_key].text() or key, cidr, cidr_or_none(imp, label, v6, 6),
                  v[vpc_key].text() if vpc_key else None, label=label)
    second = v["SecondaryCidrBlocks"]
    if vpc_key is None and second.is_object() and second["SecondaryCidrBlock"].texts():
        imp.warn(label, "secondary CIDR blocks are not represented: the VPC has its primary "
                 f"CIDR {cidr} only")
    (imp.subnets if vpc_key else imp.vpcs).setdefault(key, net)


def _ids(node: Node, inner: str) -> list:
    """A `{"SecurityGroupId": [...]}` list (or a bare list of strings)."""
    return node[inner].texts() if node.is_object() else node.texts()


def _eni_addresses(imp, label, eni: Node) -> tuple:
    """(primary IPv4, first IPv6, number of further private IPv4 addresses) of an ENI."""
    ip = eni["PrimaryIpAddress"].text() or eni["PrivateIpAddress"].text()
    sets = eni["PrivateIpSets"]
    sets = sets["PrivateIpSet"] if sets.is_object() else sets
    extra = []
    for item in sets.objects():
        addr = item["PrivateIpAddress"].text()
        if item["Primary"].flag():
            ip = ip or addr
        elif addr:
            extra.append(addr)
    if extra:
        imp.warn(label, f"secondary private addresses {', '.join(short(a) for a in extra[:5])}"
                 f"{', ...' if len(extra) > 5 else ''}: sgnet gives the ENI {len(extra)} "
                 "secondary addresses of its own choosing (their addresses are not kept)")
    v6 = eni["Ipv6Sets"]
    v6 = v6["Ipv6Set"] if v6.is_object() else v6
    ipv6 = next((s["Ipv6Address"].text() for s in v6.objects() if s["Ipv6Address"].text()),
                None)
    return ip or None, ipv6, len(extra)


class _Instances:
    """Instances and ENIs of every file -> `imp.instances` (instance order first, then the
    instances only the ENI listing names)."""

    def __init__(self, imp: Importer, c: Collected):
        self.imp, self.c = imp, c
        self.subnet_vpc = {}
        self.enis_of = {}  # instance id -> [(path, ENI record)] in the listing's order
        self.seen_enis = set()
        for path, e in c.enis:
            eid = e["NetworkInterfaceId"].required_text("every ENI has an id")
            if eid in self.seen_enis:
                continue
            self.seen_enis.add(eid)
            iid = e["InstanceId"].text()
            if not iid:
                imp.warn(f"{path}: ENI {short(eid)}", "is attached to no instance (it carries "
                         "no traffic): left out")
                continue
            self.enis_of.setdefault(iid, []).append((path, e))

    def build(self) -> dict:
        done = set()
        for path, inst in self.c.instances:
            iid = inst["InstanceId"].required_text("every instance has an id")
            if iid not in done:
                done.add(iid)
                self._instance(path, iid, inst)
        for iid, enis in self.enis_of.items():
            if iid not in done:
                done.add(iid)
                self._instance(enis[0][0], iid, None)
        return self.subnet_vpc

    def _instance(self, path, iid, inst):
        imp = self.imp
        name = inst["InstanceName"].text() if inst is not None else ""
        label = f"{path}: instance {short(name or iid)}" + (f" ({short(iid)})" if name else "")
        if inst is None:
            imp.warn(label, "is not in a DescribeInstances export: named after its id")
        elif inst["InstanceNetworkType"].text().lower() == "classic":
            imp.warn(label, "is in the classic network, not a VPC: left out")
            return
        enis, eni_groups, secondary, ids = [], {}, {}, {}
        groups = _ids(inst["SecurityGroupIds"], "SecurityGroupId") if inst is not None else []
        for i, (eid, rec, entry) in enumerate(self._eni_list(label, iid, inst)):
            elabel = f"{label}: ENI {short(eid)}" if eid else label
            skey, vpc, own = self._eni_fields(elabel, inst, rec, entry, i)
            src = rec if rec is not None else entry
            ip, ipv6, n2 = _eni_addresses(imp, elabel, src) if src is not None else \
                (None, None, 0)
            if i == 0 and inst is not None and not ip:
                ip = next(iter(inst["VpcAttributes"]["PrivateIpAddress"]["IpAddress"].texts()),
                          None) if inst["VpcAttributes"]["PrivateIpAddress"].is_object() else None
            if skey is None:
                imp.warn(elabel, "has no vswitch in the export: left out")
                if i == 0:
                    return
                continue
            if vpc:
                self.subnet_vpc.setdefault(skey, vpc)
            if i == 0:
                groups = own if own is not None else groups
            elif own is not None:
                eni_groups[len(enis)] = own
            if n2:
                secondary[len(enis)] = n2
            if eid:
                ids[len(enis)] = eid
            enis.append((skey, ip, ipv6))
        if enis:
            imp.instances.append(Instance(name or iid, label, enis, groups,
                                          eni_groups=eni_groups, secondary_ips=secondary,
                                          eni_ids=ids))

    def _eni_list(self, label, iid, inst) -> list:
        """[(ENI id, ENI listing record or None, instance listing entry or None)], primary
        first."""
        records = {r["NetworkInterfaceId"].text(): r for _, r in self.enis_of.get(iid, [])}
        entries = []
        if inst is not None and inst["NetworkInterfaces"].is_object():
            entries = inst["NetworkInterfaces"]["NetworkInterface"].objects()
        elif inst is not None:
            entries = inst["NetworkInterfaces"].objects()
        by_id = {e["NetworkInterfaceId"].text(): e for e in entries}
        order = list(dict.fromkeys([*by_id, *records]))
        out = [(eid, records.get(eid), by_id.get(eid)) for eid in order if eid]
        primary = [x for x in out if _type(x) == "primary"]
        rest = [x for x in out if _type(x) != "primary"]
        if not primary:  # an instance listing without its ENIs: the primary is VpcAttributes
            primary = [("", None, None)]
        return primary[:1] + rest + primary[1:]

    def _eni_fields(self, elabel, inst, rec, entry, i) -> tuple:
        """(vswitch, VPC, own groups or None) of one ENI."""
        va = inst["VpcAttributes"].object() if inst is not None else Node({}, "")
        if rec is not None:
            own = _ids(rec["SecurityGroupIds"], "SecurityGroupId") or None
            return (rec["VSwitchId"].text() or (va["VSwitchId"].text() if i == 0 else None),
                    rec["VpcId"].text() or va["VpcId"].text(), own)
        if i == 0:
            return va["VSwitchId"].text() or None, va["VpcId"].text(), None
        own = _ids(entry["SecurityGroupIds"], "SecurityGroupId") or None if entry is not None \
            else None
        skey = entry["VSwitchId"].text() if entry is not None else ""
        if not skey:
            skey = va["VSwitchId"].text() or None
            self.imp.warn(elabel, "its vswitch is not in the export (give the "
                          "DescribeNetworkInterfaces response): taken as the instance's "
                          f"vswitch {short(str(skey))}")
        if own is None:
            self.imp.warn(elabel, "its security groups are not in the export (give the "
                          "DescribeNetworkInterfaces response): taken as the instance's")
        return skey, va["VpcId"].text(), own


def _type(x) -> str:
    _, rec, entry = x
    src = rec if rec is not None else entry
    return src["Type"].text().lower() if src is not None else ""

"""Alibaba Cloud ECS API responses -> the neutral form (io: a format reader, pure).

Reads, as the ECS API reference (2014-05-26) documents them:
- ``DescribeSecurityGroupAttribute``: one group (``SecurityGroupId``, name, description,
  ``InnerAccessPolicy``) and its rules (``Permissions.Permission[]``); one file per group,
  several pages of a group, or a JSON list of responses;
- ``DescribePrefixListAttributes``: a prefix list's entries (``DescribePrefixLists``: names);
- ``DescribeSecurityGroups`` (optional): ``SecurityGroupType`` (normal: basic, enterprise:
  advanced), ``ServiceManaged``, names, and the groups that have no attribute file.
Per rule: the remote is ``Source*`` of an ingress rule, ``Dest*`` of an egress rule;
Alibaba documents that ``SourceCidrIp`` prevails over ``SourceGroupId``, and that the prefix
list is ignored when either is given (the order of `remotes` below). What has no lab field
(``SourcePortRange``, the local address, ICMP ``PortRange``, ``PortRangeListId``) is lifted
with a warning. ``NicType: internet`` is kept as an intranet rule (warned): AuthorizeSecurityGroup
documents that for a security group of the VPC type NicType can only be intranet (the
internet value is for classic network groups), so the cloud applies the rule as intranet.
https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-authorizesecuritygroup

The network, with the groups in the same import (`alibaba_topology`): ``DescribeInstances``,
``DescribeNetworkInterfaces``, ``DescribeVSwitches`` and ``DescribeVpcs`` responses.
"""

from __future__ import annotations

from typing import Optional

from sgnet.core.values import ICMP, ICMPV6, PORTED_PROTOCOLS
from sgnet.io.importers import alibaba_topology
from sgnet.io.importers.export import Node, error_response, short, show, unrecognised
from sgnet.io.importers.normaliser import (Group, Importer, Rule, address_group_entries,
                                           protocol_or_none)

GROUP_TYPES = {"normal": "basic", "enterprise": "advanced"}  # SecurityGroupType
# AuthorizeSecurityGroup, NicType: "If the security group is in a VPC, the parameter is set
# to intranet by default and cannot be modified"; "For a security group of the VPC type, you
# can set the NicType parameter only to intranet" (AlibabaCloudDocs/ecs, intl.en-US/API
# Reference/Security groups/AuthorizeSecurityGroup.md; the page of the module's docstring).
NIC_TYPE_INTERNET = ("{field} internet is for a classic network group's public NIC; in a VPC "
                     "group the cloud applies the rule as intranet: kept as an intranet rule")


EXPECTED = ("one of these ECS / VPC API responses (or a JSON list of them, or the bare "
            "list of records of one): DescribeSecurityGroupAttribute (SecurityGroupId, "
            "Permissions.Permission[]), DescribeSecurityGroups (SecurityGroups.SecurityGroup[]), "
            "DescribeInstances (Instances.Instance[]), DescribeNetworkInterfaces "
            "(NetworkInterfaceSets.NetworkInterfaceSet[]), DescribePrefixListAttributes "
            "(PrefixListId, Entries.Entry[]), DescribePrefixLists (PrefixLists.PrefixList[]), "
            "DescribeSecurityGroupReferences, DescribeVSwitches "
            "(VSwitches.VSwitch[]), DescribeVpcs (Vpcs.Vpc[])")


def read(docs: list) -> Importer:
    """The groups and rules, and the network, of (path, Node) API responses."""
    imp = Importer("alibaba")
    network = alibaba_topology.Collected()
    for path, data in docs:
        _read_file(imp, network, path, data)
    if not imp.alibaba_list_seen:
        imp.warnings.append("no DescribeSecurityGroups export given: the group types are "
                            "unknown, every group is taken as a basic group")
    network.build(imp)
    return imp


def _read_file(imp: Importer, network, path: str, data: Node):
    docs = data.items() if isinstance(data.value, list) else [data]
    for doc in docs:
        if doc.has("Permissions"):
            _attribute(imp, path, doc)
        elif doc.has("PrefixListId") and doc.has("Entries"):
            _prefix_list(imp, path, doc)
        elif doc.has("PrefixLists"):
            _prefix_list_names(imp, doc["PrefixLists"])
        elif doc.has("SecurityGroupReferences"):
            imp.warnings.append(f"{path}: DescribeSecurityGroupReferences says which groups' "
                                "rules name a group; the rules themselves are in "
                                "DescribeSecurityGroupAttribute: nothing imported from it")
        elif doc.has("SecurityGroups"):
            _groups(imp, path, doc["SecurityGroups"]["SecurityGroup"])
        elif doc.has("SecurityGroup") and not doc.has("SecurityGroupId"):
            _groups(imp, path, doc["SecurityGroup"])  # SecurityGroups alone
        elif doc.has("SecurityGroupId") and doc.is_object():
            _groups(imp, path, Node([doc.value], path, doc.parent, doc.key), bare=doc)
        elif not network.read(path, doc):
            raise error_response(path, "alibaba", doc) or unrecognised(path, "alibaba", EXPECTED + f"; got {show(doc.value)}"
                               + (f" at {doc.path}" if doc.path else ""))


def _prefix_list(imp: Importer, path: str, doc: Node):
    """DescribePrefixListAttributes: a prefix list and its entries (``Entries.Entry[].Cidr``),
    the remote of a rule's ``SourcePrefixListId`` / ``DestPrefixListId``.
    https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-describeprefixlistattributes"""
    pid = doc["PrefixListId"].required_text("the prefix list's id")
    pl = imp.prefix_list(pid)
    pl.cloud_name = pl.cloud_name or doc["PrefixListName"].text() or None
    where = f"{path}: prefix list {show(pl.cloud_name) if pl.cloud_name else short(pid)}"
    entries = doc["Entries"]
    if entries.is_object():
        entries = entries["Entry"]
    found = address_group_entries(imp, where, [e["Cidr"] for e in entries.objects()])
    if pl.entries is not None and pl.entries != found:
        imp.warn(where, "its entries differ from another file's: the first file's are kept")
        return
    pl.entries = found


def _prefix_list_names(imp: Importer, lists: Node):
    """DescribePrefixLists: names only (the entries are in DescribePrefixListAttributes)."""
    if lists.is_object():
        lists = lists["PrefixList"]
    for item in lists.objects():
        pid = item["PrefixListId"].required_text("every prefix list has an id")
        pl = imp.prefix_list(pid)
        pl.cloud_name = pl.cloud_name or item["PrefixListName"].text() or None


def inner_access(imp, where, g: Group, value: Node):
    """InnerAccessPolicy (Accept, Drop) of a group; the first file that says it wins."""
    v = value.text().lower()
    if not v:
        return
    if v not in ("accept", "drop"):
        imp.warn(where, f"unknown InnerAccessPolicy {show(value.value)}: ignored")
        return
    if g.inner_access and g.inner_access != v:
        imp.warn(where, f"InnerAccessPolicy {v} disagrees with another file "
                 f"({g.inner_access}): the first is kept")
        return
    g.inner_access, g.inner_access_from = v, where


def _groups(imp: Importer, path: str, records: Node, bare: Optional[Node] = None):
    """DescribeSecurityGroups: type (normal/enterprise), ServiceManaged, names (`records`:
    SecurityGroups.SecurityGroup[]; `bare`: one record of a bare list of them)."""
    imp.alibaba_list_seen = True
    for item in ([bare] if bare is not None else records.objects(required=True)):
        gid = item["SecurityGroupId"].required_text("every group has an id")
        g = imp.group(gid, path, cloud_name=item["SecurityGroupName"].text() or None)
        where = f"{path}: {g.label}"
        g.description = g.description or item["Description"].description()
        stype = item["SecurityGroupType"].text().lower()
        if stype:
            if stype not in GROUP_TYPES:
                imp.warn(where, f"unknown SecurityGroupType {show(stype)}: taken as basic")
            g.type = GROUP_TYPES.get(stype, "basic")
        if item["ServiceManaged"].flag():
            g.managed = True
        # Not in every API version's response; the attribute response always has it.
        inner_access(imp, where, g, item["InnerAccessPolicy"])


def _attribute(imp: Importer, path: str, doc: Node):
    """DescribeSecurityGroupAttribute: one group and its rules (several pages may repeat it)."""
    gid = doc["SecurityGroupId"].required_text("the group's id")
    g = imp.group(gid, path, cloud_name=doc["SecurityGroupName"].text() or None)
    g.rules_given = True
    g.description = g.description or doc["Description"].description()
    inner_access(imp, f"{path}: {g.label}", g, doc["InnerAccessPolicy"])
    perms = doc["Permissions"]
    if perms.is_object():
        perms = perms["Permission"]
    for i, p in enumerate(perms.objects()):
        rid = p["SecurityGroupRuleId"].text()
        where = f"{path}: {g.label}: rule {short(rid) if rid else f'#{i}'}"
        imp.add_rule(g, rid or None, _permission(imp, where, p))


def _permission(imp: Importer, where: str, p: Node) -> Optional[Rule]:
    if p["NicType"].text().lower() == "internet":
        imp.warn(where, NIC_TYPE_INTERNET.format(field="NicType"))
    direction = p["Direction"].text()
    ingress = direction.lower() == "ingress"
    there, here = ("Source", "Dest") if ingress else ("Dest", "Source")
    f = {k: p[k].text() for k in (
        f"{there}GroupOwnerAccount", f"{there}GroupOwnerId", f"{there}GroupId",
        f"{here}CidrIp", f"Ipv6{here}CidrIp", f"{there}CidrIp", f"Ipv6{there}CidrIp",
        f"{there}PrefixListId", "SourcePortRange", "PortRangeListId", "Policy")}
    owner = f[f"{there}GroupOwnerAccount"] or f[f"{there}GroupOwnerId"]
    if owner and f[f"{there}GroupId"]:
        imp.warn(where, f"{there}GroupId {short(f[f'{there}GroupId'])} belongs to account "
                 f"{short(owner)}: another account's group")
    for local in (f[f"{here}CidrIp"], f[f"Ipv6{here}CidrIp"]):
        if local:
            imp.warn(where, f"{here}CidrIp {short(local)} restricts the local address, which "
                     "sgnet cannot express: the rule applies to every member")
    spr = f["SourcePortRange"]
    if spr and spr not in ("-1/-1", "1/65535"):
        imp.warn(where, f"SourcePortRange {short(spr)} cannot be represented: the rule "
                 "matches every source port")
    ports = p["PortRange"].scalar()
    if f["PortRangeListId"]:
        imp.warn(where, f"port list {short(f['PortRangeListId'])} is not in the export and "
                 "sgnet has no port lists: the rule matches every port")
        ports = None
    protocol = p["IpProtocol"].scalar()
    if ports in (None, "") and protocol_or_none(protocol) in PORTED_PROTOCOLS and \
            not f["PortRangeListId"]:
        imp.warn(where, "no PortRange on a TCP or UDP rule (the API requires one): taken as "
                 "all ports")
    if protocol_or_none(protocol) in (ICMP, ICMPV6) and str(ports or "") not in ("", "-1/-1"):
        imp.warn(where, f"ICMP PortRange {short(str(ports))} (type/code) cannot be "
                 "represented: the rule matches all ICMP")
        ports = None
    v6 = f[f"Ipv6{there}CidrIp"] or f[f"Ipv6{here}CidrIp"]
    return imp.rule(
        where, direction=direction, action=f["Policy"] or "accept",
        priority=p["Priority"].scalar(), protocol=protocol, ports=ports,
        ethertype="IPv6" if v6 else None,
        remotes=[("cidr", f[f"{there}CidrIp"]), ("cidr", f[f"Ipv6{there}CidrIp"]),
                 ("group", f[f"{there}GroupId"]), ("prefix_list", f[f"{there}PrefixListId"])],
        description=p["Description"].description())

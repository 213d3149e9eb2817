"""Huawei Cloud VPC API responses -> the neutral form (io: a format reader, pure).

Reads, as the VPC API reference documents them:
- v3: ``ListSecurityGroupRules`` / ``ShowSecurityGroupRule`` (``security_group_rules[]``,
  ``security_group_rule``: ``multiport``, ``action``, ``priority``, ``enabled``,
  ``remote_address_group_id``), ``ListSecurityGroups`` / ``ShowSecurityGroup`` (names,
  descriptions, a group's embedded ``security_group_rules``), ``ShowAddressGroup`` /
  ``ListAddressGroups`` (the entries of the address groups rules name);
- v2.0 (OpenStack Neutron style) ``security-group-rules`` / ``security-groups``
  (``port_range_min/max``, no action or priority: every rule allows, priority 1).
A rule id seen in both is one rule, the v3 record kept. Huawei's remote fields are mutually
exclusive; should several be given, the CIDR is kept first, as on Alibaba. A v3 rule with
``enabled: false`` has no effect in the cloud and is not imported. `rule_fields` also reads
the rules of a Terraform huaweicloud state or plan (terraform_huaweicloud).
"""

from __future__ import annotations

from sgnet.core.values import ICMP, ICMPV6
from sgnet.io.importers import huawei_topology
from sgnet.io.importers.export import Node, error_response, short, show, unrecognised
from sgnet.io.importers.normaliser import Importer, address_group_entries, protocol_or_none

EXPECTED = ("one of these VPC / ECS API responses: ListSecurityGroupRules / "
            "ShowSecurityGroupRule (security_group_rules[], security_group_rule), "
            "ListSecurityGroups / ShowSecurityGroup (security_groups[], security_group), v3 or "
            "v2.0; ShowAddressGroup / ListAddressGroups (address_group, address_groups[]); "
            "ECS ShowServer / ListServersDetails (server, servers[]); ListSubnets / "
            "ShowSubnet (subnets[], subnet); ListVpcs / ShowVpc (vpcs[], vpc)")


def read(docs: list) -> Importer:
    """The groups and rules, and the network, of (path, Node) responses."""
    imp = Importer("huawei")
    network = huawei_topology.Collected()
    for path, data in docs:
        _read_file(imp, network, path, data)
    network.build(imp)
    return imp


def _read_file(imp: Importer, network, path: str, data: Node):
    found = network.read(path, data) if data.is_object() else False
    if data.is_object():
        if data.has("security_group"):
            _group(imp, path, data["security_group"])
            found = True
        if data.has("security_groups"):
            for g in data["security_groups"].items():
                _group(imp, path, g)
            found = True
        for key in ("address_group", "address_groups"):
            if data.has(key):
                for ag in (data[key].items() if key.endswith("s") else [data[key]]):
                    _address_group(imp, path, ag)
                found = True
        rules = None
        if data.has("security_group_rule"):
            rules = [data["security_group_rule"]]
        elif data.has("security_group_rules"):
            rules = data["security_group_rules"].items()
        if rules is not None:
            for i, r in enumerate(rules):
                _rule(imp, path, r, i)
            found = True
    if not found:
        raise error_response(path, "huawei", data) or \
            unrecognised(path, "huawei", EXPECTED + f"; got {show(data.value)}")


def _address_group(imp: Importer, path: str, item: Node):
    """v3 ShowAddressGroup / ListAddressGroups: an IP address group, the remote of a rule's
    ``remote_address_group_id``. ``ip_set`` holds addresses, CIDRs and ranges 'a-b';
    ``ip_extra_set`` the same entries with remarks (read both, each entry once).
    https://support.huaweicloud.com/intl/en-us/api-vpc/vpc_ipaddressgroup_0003.html"""
    gid = item["id"].required_text("every address group has an id")
    pl = imp.prefix_list(gid)
    pl.cloud_name = pl.cloud_name or item["name"].text() or None
    where = f"{path}: address group {show(pl.cloud_name) if pl.cloud_name else short(gid)}"
    nodes = item["ip_set"].items() + [e["ip"] for e in item["ip_extra_set"].objects()]
    entries = list(dict.fromkeys(address_group_entries(imp, where, nodes)))
    if pl.entries is not None and pl.entries != entries:
        imp.warn(where, "its entries differ from another file's: the first file's are kept")
        return
    pl.entries = entries


def _group(imp: Importer, path: str, item: Node):
    gid = item["id"].required_text("every security group has an id")
    g = imp.group(gid, path, cloud_name=item["name"].text() or None)
    g.description = g.description or item["description"].description()
    rules = item["security_group_rules"]
    if rules.value is not None:
        g.rules_given = True
        for i, r in enumerate(rules.items()):
            _rule(imp, path, r, i, default_group=g.key)


def _rule(imp: Importer, path: str, r: Node, index: int, default_group=None):
    gid = r["security_group_id"].text() or default_group
    if default_group and gid != default_group:
        imp.warn(f"{path}: {imp.group(default_group, path).label}: rule "
                 f"{short(r['id'].text() or f'#{index}')}",
                 f"listed in this group but its security_group_id is {short(gid)}: kept "
                 "as a rule of that group")
    if not gid:
        r["security_group_id"].fail("is required (every rule names its security group)")
    g = imp.group(gid, path)
    g.rules_given = True
    rid = r["id"].text()
    where = f"{path}: {g.label}: rule {short(rid) if rid else f'#{index}'}"
    v3 = any(k in r.value for k in ("multiport", "action", "priority"))
    if r["enabled"].flag() is False:
        imp.warn(where, "the rule is disabled (enabled: false) and has no effect: not imported")
        imp.add_rule(g, rid, None, v3)
        return
    imp.add_rule(g, rid, rule_fields(imp, where, r, v3), v3)


def rule_fields(imp, where, r: Node, v3: bool, terraform=False, remotes=None):
    """One Huawei rule: v3 API (`multiport`, `action`, `priority`), v2.0 API (no action or
    priority: every rule allows, priority 1), or Terraform (`ports`; 0 and "" mean unset,
    and a missing action or priority is the provider's documented default, allow and 1).
    `remotes`: the group and address group ids when a Terraform plan resolved them."""
    protocol = r["protocol"].scalar()
    proto = protocol_or_none(protocol)
    unset = (None, "", 0) if terraform else (None, "")
    lo, hi = r["port_range_min"].scalar(), r["port_range_max"].scalar()
    lo = None if lo in unset else lo
    hi = None if hi in unset else hi
    ports_key = "ports" if terraform else "multiport"
    icmp, ports = None, r[ports_key].scalar()
    ports = None if ports in ("", None) else ports
    if ports is None and (lo is not None or hi is not None):
        if proto in (ICMP, ICMPV6):
            icmp = (lo, hi)
        else:
            ports = f"{lo if lo is not None else hi}-{hi if hi is not None else lo}"
    action = r["action"].text()
    if v3 and not terraform and not action:
        imp.warn(where, "no action in the export: taken as allow")
    if remotes is None:
        remotes = {k: r[k].text() for k in ("remote_group_id", "remote_address_group_id")}
    return imp.rule(
        where, direction=r["direction"].text(), action=action or "allow",
        priority=r["priority"].scalar() if v3 else 1, protocol=protocol, ports=ports,
        ethertype=r["ethertype"].text(), icmp=icmp,  # none: from the CIDR, else IPv4
        remotes=[("cidr", r["remote_ip_prefix"].text()),
                 ("group", remotes["remote_group_id"]),
                 ("prefix_list", remotes["remote_address_group_id"])],
        description=r["description"].description())

"""Terraform alicloud resources -> the neutral form (io: a format reader, pure).

Reads the resources of a `terraform show -json` state or plan (terraform.read) with the
attributes the alicloud provider's documentation gives them: ``alicloud_security_group``
(``security_group_name``, ``security_group_type``, ``inner_access_policy`` or the older
``inner_access``), ``alicloud_security_group_rule`` (``type``, ``ip_protocol``,
``port_range``, ``policy``, ``priority``, ``cidr_ip`` / ``ipv6_cidr_ip`` /
``source_security_group_id`` / ``prefix_list_id``, ``nic_type``), ``alicloud_ecs_prefix_list``,
``alicloud_vpc``, ``alicloud_vswitch``, ``alicloud_instance`` (``security_groups``,
``vswitch_id``, ``private_ip``, ``network_interfaces`` blocks) and secondary ENIs:
``alicloud_(ecs_)network_interface`` (``vswitch_id``, ``security_group_ids`` or the older
``security_groups``, ``primary_ip_address`` or the older ``private_ip``) attached to an instance by
``alicloud_(ecs_)network_interface_attachment`` (``instance_id``, ``network_interface_id``):
registry.terraform.io/providers/aliyun/alicloud/latest/docs/resources/ecs_network_interface
and network_interface_attachment. A rule's missing action is
the provider's documented default, accept. The remote order and what cannot be represented
are Alibaba's (alibaba).
"""

from __future__ import annotations

from sgnet.core.values import ICMP, ICMPV6
from sgnet.io.importers.alibaba import GROUP_TYPES, NIC_TYPE_INTERNET, inner_access
from sgnet.io.importers.export import Node, short
from sgnet.io.importers.normaliser import (Importer, Instance, address_group_entries,
                                           protocol_or_none)
from sgnet.io.importers.terraform import Resource, Terraform, attach_enis, network

PROVIDER = "alibaba"
TYPES = {"groups": ("alicloud_security_group",),
         "rules": ("alicloud_security_group_rule",),
         "other": ("alicloud_vpc", "alicloud_vswitch", "alicloud_instance",
                   "alicloud_ecs_prefix_list", "alicloud_network_interface",
                   "alicloud_ecs_network_interface", "alicloud_network_interface_attachment",
                   "alicloud_ecs_network_interface_attachment")}


def read(imp: Importer, tf: Terraform, res: Resource):
    """One resource of a type in TYPES."""
    _READERS[res.type](imp, tf, res)


def _group(imp: Importer, tf: Terraform, res: Resource):
    v = res.values
    g = imp.group(tf.key(res), res.path,
                  cloud_name=v["security_group_name"].text() or v["name"].text() or None)
    g.label = f"{short(res.address, 200)} ({short(g.cloud_name or g.key)})"  # g.source: the file
    g.rules_given = True  # Terraform lists the group's rules as resources (maybe none)
    g.description = v["description"].description()
    stype = v["security_group_type"].text().lower() or "normal"
    g.type = GROUP_TYPES.get(stype, "basic")
    policy = v["inner_access_policy"]
    inner = v["inner_access"].flag()
    if not policy.text() and inner is not None:
        policy = Node("Accept" if inner else "Drop", policy.file, v, "inner_access")
    inner_access(imp, res.where, g, policy)


def _rule(imp: Importer, tf: Terraform, res: Resource):
    v = res.values
    g = tf.rule_group(imp, res)
    if g is None:
        return
    where = res.where
    if v["nic_type"].text().lower() == "internet":  # the cloud applies it as intranet
        imp.warn(where, NIC_TYPE_INTERNET.format(field="nic_type"))
    owner = v["source_group_owner_account"].text()
    if owner:
        imp.warn(where, f"source_security_group_id belongs to account {short(owner)}: "
                 "another account's group")
    protocol = v["ip_protocol"].scalar()
    ports = v["port_range"].scalar()
    if protocol_or_none(protocol) in (ICMP, ICMPV6) and str(ports or "") not in ("", "-1/-1"):
        imp.warn(where, f"ICMP port_range {short(str(ports))} (type/code) cannot be "
                 "represented: the rule matches all ICMP")
        ports = None
    prefix = tf.ref(res, "prefix_list_id")
    ipv6 = v["ipv6_cidr_ip"].text()
    rule = imp.rule(
        where, direction=v["type"].text(), action=v["policy"].text() or "accept",
        priority=v["priority"].scalar(), protocol=protocol, ports=ports,
        ethertype="IPv6" if ipv6 else None,
        remotes=[("cidr", v["cidr_ip"].text()), ("cidr", ipv6),
                 ("group", tf.ref(res, "source_security_group_id")),
                 ("prefix_list", prefix)],
        description=v["description"].description())
    imp.add_rule(g, res.address, rule)


def _prefix_list(imp: Importer, tf: Terraform, res: Resource):
    v = res.values
    pl = imp.prefix_list(tf.key(res))
    pl.cloud_name = v["prefix_list_name"].text() or None
    pl.entries = address_group_entries(imp, res.where, [e["cidr"] for e in v["entry"].objects()])


def _vpc(imp: Importer, tf: Terraform, res: Resource):
    v = res.values
    ipv6 = v["ipv6_cidr_block"]
    if not ipv6.text():
        ipv6 = next((b["ipv6_cidr_block"] for b in v["ipv6_cidr_blocks"].objects()
                     if b["ipv6_cidr_block"].text()), ipv6)
    network(imp, tf, res, name=v["vpc_name"].text() or v["name"].text(),
            cidr=v["cidr_block"], ipv6=ipv6)


def _vswitch(imp: Importer, tf: Terraform, res: Resource):
    v = res.values
    network(imp, tf, res, name=v["vswitch_name"].text() or v["name"].text(),
            cidr=v["cidr_block"], ipv6=v["ipv6_cidr_block"], vpc_attr="vpc_id")


def _instance(imp: Importer, tf: Terraform, res: Resource):
    v = res.values
    ipv6 = next(iter(v["ipv6_addresses"].texts()), None)
    inst = Instance(
        v["instance_name"].text() or res.address.rsplit(".", 1)[-1], res.where,
        [(tf.ref(res, "vswitch_id"), v["private_ip"].text() or None, ipv6)],
        tf.refs(res, "security_groups"))
    imp.instances.append(inst)
    tf.pending.setdefault("instances", {})[tf.key(res)] = inst
    _instance_enis(tf, res)


def _instance_enis(tf: Terraform, res: Resource):
    """The instance's ``network_interfaces`` blocks (alicloud_instance docs, "network_interfaces":
    the secondary ENIs created with it): an existing ENI (``network_interface_id``) is
    attached like an alicloud_ecs_network_interface_attachment; one given by ``vswitch_id``
    (and ``security_group_ids``) is created on that vSwitch."""
    exprs = res.expressions["network_interfaces"]
    exprs = exprs.items() if isinstance(exprs.value, list) else []
    for i, n in enumerate(res.values["network_interfaces"].objects()):
        e = exprs[i] if i < len(exprs) and exprs[i].is_object() else Node({}, n.file)
        eni_key = tf.ref(res, "network_interface_id", n, e)
        if eni_key is None and tf.ref(res, "vswitch_id", n, e):
            eni_key = f"tf:eni:{res.address}:{i}"
            groups = n["security_group_ids"].texts() or tf._refs(res, e["security_group_ids"])
            tf.pending.setdefault("enis", {})[eni_key] = (
                res, (tf.ref(res, "vswitch_id", n, e), None, None), groups)
        if eni_key is not None:
            tf.pending.setdefault("attachments", []).append((res, tf.key(res), eni_key))


def _eni(imp: Importer, tf: Terraform, res: Resource):
    v = res.values
    ip = v["primary_ip_address"].text() or v["private_ip"].text() or None
    ipv6 = next(iter(v["ipv6_addresses"].texts()), None)
    groups = tf.refs(res, "security_group_ids") or tf.refs(res, "security_groups")
    tf.pending.setdefault("enis", {})[tf.key(res)] = (res, (tf.ref(res, "vswitch_id"), ip,
                                                            ipv6), groups)
    if v["id"].text():  # a state's: the eni-... id its flow logs name it by
        tf.pending.setdefault("eni_ids", {})[tf.key(res)] = v["id"].text()


def _attachment(imp: Importer, tf: Terraform, res: Resource):
    tf.pending.setdefault("attachments", []).append(
        (res, tf.ref(res, "instance_id"), tf.ref(res, "network_interface_id")))


def finish(imp: Importer, tf: Terraform):
    """Each attached ENI becomes its instance's next network interface, with its groups."""
    attach_enis(imp, tf)


_READERS = {"alicloud_security_group": _group, "alicloud_security_group_rule": _rule,
            "alicloud_ecs_prefix_list": _prefix_list, "alicloud_vpc": _vpc,
            "alicloud_vswitch": _vswitch, "alicloud_instance": _instance,
            "alicloud_network_interface": _eni, "alicloud_ecs_network_interface": _eni,
            "alicloud_network_interface_attachment": _attachment,
            "alicloud_ecs_network_interface_attachment": _attachment}

"""Terraform huaweicloud resources -> the neutral form (io: a format reader, pure).

Reads the resources of a `terraform show -json` state or plan (terraform.read) with the
attributes the huaweicloud provider's documentation gives them:
``huaweicloud_networking_secgroup(_v2)`` (``name``, ``description``, a state's ``rules``,
``delete_default_rules``), ``huaweicloud_networking_secgroup_rule(_v2)`` (read as Huawei's
API rules, by huawei.rule_fields: ``ports``, 0 and "" meaning unset; a missing action or
priority is the provider's documented default, allow and 1), ``huaweicloud_vpc_address_group``
(``addresses``, ``ip_extra_set``), ``huaweicloud_vpc``, ``huaweicloud_vpc_subnet`` and
``huaweicloud_compute_instance`` (``network[]``, ``security_group_ids`` or the older
``security_groups`` names; every ``network`` block after the first is a secondary ENI) and
``huaweicloud_compute_interface_attach`` (a further ENI: ``instance_id``, ``network_id``,
``fixed_ip``, ``security_group_ids``: registry.terraform.io/providers/huaweicloud/
huaweicloud/latest/docs/resources/compute_interface_attach). A group a plan creates
without ``delete_default_rules`` gets
Huawei's default rules, written out as rules.
"""

from __future__ import annotations

from sgnet.io.importers.export import Node, short, show
from sgnet.io.importers.huawei import rule_fields
from sgnet.io.importers.normaliser import Importer, Instance, Rule, address_group_entries
from sgnet.io.importers.terraform import Resource, Terraform, attach_enis, network

PROVIDER = "huawei"
TYPES = {"groups": ("huaweicloud_networking_secgroup", "huaweicloud_networking_secgroup_v2"),
         "rules": ("huaweicloud_networking_secgroup_rule",
                   "huaweicloud_networking_secgroup_rule_v2"),
         "other": ("huaweicloud_vpc", "huaweicloud_vpc_subnet",
                   "huaweicloud_compute_instance", "huaweicloud_vpc_address_group",
                   "huaweicloud_compute_interface_attach")}


def read(imp: Importer, tf: Terraform, res: Resource):
    """One resource of a type in TYPES."""
    _READERS[res.type](imp, tf, res)


def _group(imp: Importer, tf: Terraform, res: Resource):
    v = res.values
    g = imp.group(tf.key(res), res.path, cloud_name=v["name"].text() or None)
    g.label = f"{short(res.address, 200)} ({short(g.cloud_name or g.key)})"  # g.source: the file
    g.rules_given = True
    g.description = v["description"].description()
    rules = v["rules"]
    if rules.value is not None:  # a state: every rule of the group, as the API has them
        for i, r in enumerate(rules.objects()):
            rid = r["id"].text()
            where = f"{res.where}: rules[{i}] {short(rid)}".rstrip()
            imp.add_rule(g, rid or None, rule_fields(imp, where, r, True, terraform=True), True)
    elif not v["delete_default_rules"].flag():
        # A plan: Huawei gives the new group its default rules (inbound from the group
        # itself, outbound to everywhere, IPv4 and IPv6), at priority 100 as the cloud
        # creates them (VPC API v3 CreateSecurityGroup example, sgnet.providers.huawei);
        # they are written out.
        for fam in (4, 6):
            g.rules.append(Rule("ingress", "allow", 100, fam, None, None, "group", g.key,
                                "default rule: members reach each other", res.where))
        for fam, any_net in ((4, "0.0.0.0/0"), (6, "::/0")):
            g.rules.append(Rule("egress", "allow", 100, fam, None, None, "cidr", any_net,
                                "default rule: all outbound traffic", res.where))


def _rule(imp: Importer, tf: Terraform, res: Resource):
    v = res.values
    g = tf.rule_group(imp, res)
    if g is None:
        return
    rid = v["id"].text() or res.address
    remotes = {attr: tf.ref(res, attr) for attr in ("remote_group_id", "remote_address_group_id")}
    imp.add_rule(g, rid,
                 rule_fields(imp, res.where, v, True, terraform=True, remotes=remotes), True)


def _address_group(imp: Importer, tf: Terraform, res: Resource):
    v = res.values
    pl = imp.prefix_list(tf.key(res))
    pl.cloud_name = v["name"].text() or None
    addresses = v["addresses"].items() + [e["ip"] for e in v["ip_extra_set"].objects()]
    pl.entries = address_group_entries(imp, res.where, addresses)


def _vpc(imp: Importer, tf: Terraform, res: Resource):
    network(imp, tf, res, name=res.values["name"].text(), cidr=res.values["cidr"])


def _subnet(imp: Importer, tf: Terraform, res: Resource):
    v = res.values
    net = network(imp, tf, res, name=v["name"].text(), cidr=v["cidr"],
                  ipv6=v["ipv6_cidr"] if v["ipv6_enable"].flag() else None, vpc_attr="vpc_id")
    for alias in ("subnet_id", "ipv4_subnet_id"):
        if v[alias].text():
            imp.subnet_aliases[v[alias].text()] = net.key


def _instance(imp: Importer, tf: Terraform, res: Resource):
    v = res.values
    enis = []
    networks = v["network"].objects()
    exprs = res.expressions["network"]
    exprs = exprs.items() if isinstance(exprs.value, list) else []
    ids = {}  # the port id of a network (given, or a state's): its flow logs name it by
    for i, n in enumerate(networks):
        e = exprs[i] if i < len(exprs) and exprs[i].is_object() else Node({}, n.file)
        enis.append((tf.ref(res, "uuid", n, e), n["fixed_ip_v4"].text() or None,
                     n["fixed_ip_v6"].text() or None))
        if n["port"].text():
            ids[i] = n["port"].text()
    groups = tf.refs(res, "security_group_ids")
    names = v["security_groups"].texts()
    if not groups and names:  # older configurations name the groups
        by_name = imp.groups_by_name()
        for gname in names:
            if gname in by_name:
                groups.append(by_name[gname])
            else:
                imp.warn(res.where, f"security group {show(gname)} is not in the export: "
                         "left out")
    if not enis:
        imp.warn(res.where, "has no network in the export: left out")
        return
    inst = Instance(v["name"].text() or res.address.rsplit(".", 1)[-1], res.where, enis,
                    groups, eni_ids=ids)
    imp.instances.append(inst)
    tf.pending.setdefault("instances", {})[tf.key(res)] = inst


def _interface_attach(imp: Importer, tf: Terraform, res: Resource):
    """A further ENI of an instance: the subnet it is created in (network_id), its address
    and groups."""
    v = res.values
    key = f"tf:eni:{res.address}"
    eni = (tf.ref(res, "network_id"), v["fixed_ip"].text() or None,
           v["fixed_ipv6"].text() or None)
    tf.pending.setdefault("enis", {})[key] = (res, eni, tf.refs(res, "security_group_ids"))
    if v["port_id"].text():
        tf.pending.setdefault("eni_ids", {})[key] = v["port_id"].text()
    tf.pending.setdefault("attachments", []).append((res, tf.ref(res, "instance_id"), key))


def finish(imp: Importer, tf: Terraform):
    """Each attached interface becomes its instance's next network interface."""
    attach_enis(imp, tf)


_READERS = {**{t: _group for t in TYPES["groups"]}, **{t: _rule for t in TYPES["rules"]},
            "huaweicloud_vpc_address_group": _address_group, "huaweicloud_vpc": _vpc,
            "huaweicloud_vpc_subnet": _subnet, "huaweicloud_compute_instance": _instance,
            "huaweicloud_compute_interface_attach": _interface_attach}

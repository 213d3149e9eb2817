"""`terraform show -json` output -> its managed resources (io: a format reader, pure).

Reads the JSON Output Format of Terraform (``format_version``): a state's
``values.root_module`` or a plan's ``planned_values.root_module``, child modules included.
A plan does not know values computed at apply (the ids of new resources); they are followed
through the ``configuration``'s ``expressions.*.references`` instead, relative to the module
instance a resource is in. A resource is keyed by its id, or ``tf:<address>`` while a plan
does not know it. `read` picks the provider from the security group resources and hands
each resource to that provider's reader (terraform_alicloud, terraform_huaweicloud): groups
and lists first, then networks and instances, then rules. `network` reads a VPC or subnet
resource for both.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Optional

from sgnet.core.errors import LabError
from sgnet.io.importers.export import Node, short, show, unrecognised
from sgnet.io.importers.normaliser import Importer, Network

MAX_REF_PARTS = 80  # dotted parts of a Terraform reference that are looked up


def read(docs: list, providers: list, warnings=()) -> Importer:
    """The resources of (path, Node) documents, read by the one provider module of
    `providers` (each: PROVIDER, TYPES groups/rules/other, read(imp, tf, res), optionally
    finish(imp, tf) once every resource is read) whose security groups they hold.
    `warnings`: what reading the documents found (hcl: what could not be evaluated)."""
    tf = Terraform(docs)
    files = ", ".join(p for p, _ in docs)
    with_groups = [p for p in providers
                   if any(r.type in p.TYPES["groups"] + p.TYPES["rules"] for r in tf.resources)]
    if not with_groups:
        raise LabError(f"{files}: no alicloud_security_group(_rule) or "
                       "huaweicloud_networking_secgroup(_rule) resources in the terraform export")
    if len(with_groups) > 1:
        raise LabError(f"{files}: the terraform export holds security groups of both alicloud "
                       "and huaweicloud; a lab has one provider: import each one separately")
    provider = with_groups[0]
    imp = Importer(provider.PROVIDER)
    imp.warnings.extend(warnings)
    types = provider.TYPES
    known = types["groups"] + types["rules"] + types["other"]
    _warn_ignored(imp, files, [r.type for r in tf.resources if r.type not in known])
    # Groups and lists first, so that rules and instances find them by key in any order.
    order = {t: 0 for t in types["groups"]}
    order.update({t: 1 for t in types["other"]})
    order.update({t: 2 for t in types["rules"]})
    for res in sorted((r for r in tf.resources if r.type in known), key=lambda r: order[r.type]):
        provider.read(imp, tf, res)
    if hasattr(provider, "finish"):
        provider.finish(imp, tf)
    return imp


def _warn_ignored(imp: Importer, files: str, types: list):
    """One warning naming the resource types that have no meaning for a lab."""
    ignored = {}
    for t in types:
        ignored[t] = ignored.get(t, 0) + 1
    if ignored:
        shown = sorted(ignored.items())
        imp.warnings.append(f"{files}: resources not imported (no security group, network or "
                            "instance meaning for a lab): " + ", ".join(
                                f"{short(t)} x{n}" for t, n in shown[:20])
                            + (f" and {len(shown) - 20} other types" if len(shown) > 20 else ""))


@dataclass
class Resource:
    path: str
    address: str
    type: str
    values: Node  # an object
    expressions: Node  # an object: from the plan's configuration ({} for a state)
    module: str  # the module instance it is in: "module.x[0]." or ""

    @property
    def where(self):
        return f"{self.path}: {short(self.address, 200)}"


class Terraform:
    """The managed resources of `terraform show -json` outputs, and reference resolution."""

    def __init__(self, docs):
        self.resources = []
        for path, doc in docs:
            if not doc.is_object() or "format_version" not in doc.value or \
                    not (doc.has("values") or doc.has("planned_values")):
                raise unrecognised(path, "terraform", "the output of `terraform show -json` "
                                   "(format_version and values.root_module or "
                                   "planned_values.root_module)")
            root = doc["values"] if doc.has("values") else doc["planned_values"]
            config = {}
            self._walk_config(doc["configuration"].object()["root_module"].object(), "",
                              config)
            self._walk_values(path, root.object()["root_module"].object(), config)
        self.by_address = {}
        self.by_base = {}
        self.pending = {}  # what a provider reader keeps for its finish()
        for res in self.resources:
            self.by_address[res.address] = res
            self.by_base.setdefault(strip_index(res.address), []).append(res)

    def _walk_config(self, module: Node, prefix: str, out: dict):
        for r in module["resources"].objects():
            out[prefix + r["address"].text()] = r["expressions"].object()
        for name, call in module["module_calls"].entries():
            self._walk_config(call.object()["module"].object(), f"{prefix}module.{name}.", out)

    def _walk_values(self, path: str, module: Node, config: dict):
        for r in module["resources"].objects():
            if (r["mode"].text() or "managed") != "managed":
                continue
            address, rtype = r["address"].text(), r["type"].text()
            base = strip_index(address)
            module_prefix = base[: len(base) - len(f"{rtype}.{r['name'].text()}")]
            # configuration addresses have no instance keys; references inside a module
            # instance ("module.x[0].") are relative to it. A plan made from HCL files
            # (hcl_plan) has each instance's own references, absolute, and its file.
            if r.has("sgnet_expressions"):
                expressions, module_prefix = r["sgnet_expressions"].object(), ""
            else:
                expressions = config.get(without_indexes(address)) or Node({}, path)
            self.resources.append(Resource(r["sgnet_file"].text() or path, address, rtype,
                                           r["values"].object(), expressions, module_prefix))
        for child in module["child_modules"].objects():
            self._walk_values(path, child, config)

    def key(self, res: Resource) -> str:
        rid = res.values["id"].text()
        return rid or f"tf:{res.address}"

    def _resolve(self, res: Resource, ref: str) -> list:
        """The keys of the resources a configuration reference points at."""
        parts = ref.split(".", MAX_REF_PARTS)[:MAX_REF_PARTS]
        for n in range(len(parts), 1, -1):
            candidate = res.module + ".".join(parts[:n])
            if candidate in self.by_address:
                return [self.key(self.by_address[candidate])]
            if candidate in self.by_base:
                return [self.key(x) for x in self.by_base[candidate]]
        return []

    def _refs(self, res, expression: Node) -> list:
        keys = []
        if expression.is_object():  # a block's expression is a list: no references
            for ref in expression["references"].texts():
                for k in self._resolve(res, ref):
                    if k not in keys:
                        keys.append(k)
        return keys

    def ref(self, res: Resource, attr: str, values=None, expressions=None) -> Optional[str]:
        """A single id attribute: its value, or (in a plan) the resource its expression names."""
        values = res.values if values is None else values
        expressions = res.expressions if expressions is None else expressions
        v = values[attr].text()
        if v:
            return v
        keys = self._refs(res, expressions[attr])
        return keys[0] if len(keys) == 1 else None

    def rule_group(self, imp, res: Resource):
        """The group a rule resource belongs to (its security_group_id), or None when the
        export does not hold it: the rule is then dropped, with a warning."""
        gkey = self.ref(res, "security_group_id")
        if gkey is None:
            imp.warn(res.where, "its security_group_id is not in the export: rule dropped")
            return None
        return imp.group(gkey, res.path)

    def refs(self, res: Resource, attr: str) -> list:
        """A list of ids: the value when fully known, else the configuration's references."""
        node = res.values[attr]
        v = node.texts()
        if v and len(v) == len(node.value):
            return v
        return self._refs(res, res.expressions[attr]) or v


def strip_index(address: str) -> str:
    """`address` without its last instance key: a.b["k"] -> a.b (linear, unlike a regex
    that backtracks over a run of '[')."""
    if not address.endswith("]"):
        return address
    start = address.find("[", address.rfind("]", 0, len(address) - 1) + 1)
    return address[:start] if start >= 0 else address


def without_indexes(address: str) -> str:
    """`address` without any instance key: module.m[0].a.b["k"] -> module.m.a.b."""
    out, pos = [], 0
    while True:
        start = address.find("[", pos)
        end = address.find("]", start) if start >= 0 else -1
        if end < 0:
            out.append(address[pos:])
            return "".join(out)
        out.append(address[pos:start])
        pos = end + 1


def network(imp, tf, res, *, name, cidr, ipv6=None, vpc_attr=None) -> Network:
    """A VPC (vpc_attr None) or a subnet (its VPC's id in attribute `vpc_attr`). `cidr` and
    `ipv6` are the nodes of its CIDRs: one that cannot be read is left out (warned)."""
    net = Network(tf.key(res), name or res.address.rsplit(".", 1)[-1],
                  _cidr(imp, res, cidr, 4), _cidr(imp, res, ipv6, 6) if ipv6 else None,
                  label=res.where)
    if vpc_attr:
        net.vpc_key = tf.ref(res, vpc_attr)
    if not net.cidr:
        imp.warn(res.where, "its CIDR is not in the export: left out")
    else:
        (imp.subnets if vpc_attr else imp.vpcs)[net.key] = net
    return net


def _cidr(imp, res, node: Node, family: int) -> Optional[str]:
    """A network's CIDR as the export has it (the lab file judges host bits and ranges),
    None (warned) when it is no CIDR of `family`."""
    text = node.text()
    if not text:
        return None
    try:
        if "%" in text:  # an IPv6 scope: no network
            raise ValueError(text)
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        net = None
    if net is None or net.version != family:
        imp.warn(res.where, f"{node.path} {show(text)} is not an IPv{family} CIDR: left out")
        return None
    return text


def attach_enis(imp: Importer, tf: Terraform):
    """The ENIs of tf.pending["enis"] (key -> (resource, (subnet, ip, ipv6), groups)) on
    the instances their attachments name (tf.pending["attachments"]: (resource, instance
    key, ENI key)); what does not meet is warned about and left out."""
    instances, enis = tf.pending.get("instances", {}), tf.pending.get("enis", {})
    used = set()
    for res, ikey, ekey in tf.pending.get("attachments", []):
        inst, eni = instances.get(ikey), enis.get(ekey)
        if inst is None or eni is None:
            what = "instance" if inst is None else "network interface"
            imp.warn(res.where, f"its {what} is not in the export: attachment left out")
            continue
        used.add(ekey)
        inst.enis.append(eni[1])
        eni_id = tf.pending.get("eni_ids", {}).get(ekey)
        if eni_id and hasattr(inst, "eni_ids"):
            inst.eni_ids[len(inst.enis) - 1] = eni_id
        if eni[2] and hasattr(inst, "eni_groups"):
            inst.eni_groups[len(inst.enis) - 1] = list(eni[2])
        elif eni[2] and eni[2] != inst.groups:
            imp.warn(eni[0].where, "its own security groups cannot be given to one ENI: the "
                     "instance's groups apply")
    for key, (res, _, _) in enis.items():
        if key not in used:
            imp.warn(res.where, "is attached to no instance of the export: left out")

"""Exported cloud configurations -> a lab file (`sgnet import`).

Sources (`kind`):

- ``alibaba``: ECS ``DescribeSecurityGroupAttribute`` responses (one group and its rules each;
  one file per group, or a JSON list of responses), optionally a ``DescribeSecurityGroups``
  response (group type, managed flag, and the groups that have no attribute file);
- ``huawei``: VPC API v3 ``ListSecurityGroupRules`` / ``ShowSecurityGroupRule`` /
  ``ShowSecurityGroup`` / ``ListSecurityGroups`` (names), and the v2.0 (Neutron style)
  ``security-group-rules`` / ``security-groups`` responses;
- ``terraform``: the JSON of ``terraform show -json`` of a state (``values``) or of a plan
  (``planned_values``; values a plan does not know yet, such as the ids of new resources, are
  followed through the ``configuration`` references), with alicloud or huaweicloud resources.

Each export shape has one reader that turns its records into neutral fields; ``_Importer.rule``
is the one place that decides what sgnet can represent. Groups and rules are imported exactly,
in the export's order, with ``default_rules: false`` (the export lists every rule the group
has). Instances, subnets and addresses come from the export where it has them (Terraform);
otherwise a small lab is generated: one VPC, one subnet, one instance ``vm-<group>`` per group
and an ``internet`` external.

What sgnet cannot represent is reported in ``ImportResult.warnings`` (file, group, rule id,
what and why), never dropped silently. The choices:

- a restriction sgnet has no field for is *lifted* and the rule kept, so it matches more than
  in the cloud: a source port range (Alibaba ``SourcePortRange``), a restriction of the local
  address (Alibaba ``DestCidrIp`` of an ingress rule, ``SourceCidrIp`` of an egress rule), ICMP
  type and code (Huawei v2.0 / Terraform ``port_range_min/max`` of an ICMP rule, Alibaba ICMP
  ``PortRange``), an Alibaba port list (``PortRangeListId``), ports on a protocol other than
  TCP or UDP;
- a rule that cannot exist in a VPC lab, or that cannot be read, is *dropped*: Alibaba
  ``NicType: internet`` (classic network public NIC rules), an unknown direction, action,
  ethertype or protocol, a malformed CIDR or port range, a CIDR (or a prefix list's entries)
  of the other family than the rule's ethertype, a Huawei v3 rule with ``enabled: false``
  (it has no effect in the cloud either), a rule whose remote is an Alibaba advanced group
  (the API refuses that too);
- a rule naming both a CIDR and a group (or prefix list) keeps the CIDR: Alibaba documents
  that ``SourceCidrIp`` prevails over ``SourceGroupId``, and the prefix list is ignored when
  either is given; Huawei's fields are mutually exclusive, the same order is used;
- a remote group that is not in the export (another account's, or simply not exported)
  becomes an empty placeholder group named after its id; a prefix list (Alibaba) or address
  group (Huawei) whose entries are not in the export becomes a prefix list with no entries
  named after its id (the rule matches nothing until entries are added); a group known only
  from a listing (DescribeSecurityGroups, ListSecurityGroups) is declared with no rules;
- values out of range are brought into it: a priority outside 1-100 (Alibaba's legacy 110)
  is clamped, a CIDR with host bits set becomes its network, ``icmp`` on an IPv6 rule becomes
  ``icmpv6`` and the reverse; an Alibaba rule without an IPv6 field takes the family of its
  prefix list's entries when they are known, else IPv4;
- defaults the export leaves out: an Alibaba group missing from DescribeSecurityGroups is a
  basic group; a Huawei v3 rule without ``action`` allows (Terraform: the provider's
  documented defaults, allow and priority 1); a Huawei group planned by Terraform without
  ``delete_default_rules`` gets Huawei's default rules written out as rules; an advanced
  Alibaba group keeps inner access drop whatever the export says;
- names that are not valid sgnet names, are reserved (``self``) or taken are sanitised or made
  unique (an Alibaba advanced or managed group named ``default`` is renamed: sgnet's
  ``default`` is Alibaba's basic default group);
- the exported network (Terraform) is used where sgnet can build it: an instance address
  outside its subnet, reserved or taken is replaced by the next free one; an instance whose
  subnet is not in the export is placed in the first subnet; an ENI in another VPC than the
  instance's first ENI is left out; an Alibaba instance in basic and advanced groups keeps the
  groups of its first group's type; a network sgnet refuses (e.g. a VPC outside the private
  ranges) is replaced by the generated one.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Optional

import yaml

from .errors import FieldError, LabError
from .labfile import LAB_NAME, OBJECT_NAME, parse, read_text
from .model import PORTED_PROTOCOLS, PROTOCOL_NAMES

KINDS = ("alibaba", "huawei", "terraform")

PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "ipv6-icmp": 58, "icmp6": 58,
             "gre": 47, "esp": 50, "ah": 51, "sctp": 132, "igmp": 2, "vrrp": 112}
ALL_PROTOCOLS = ("", "all", "any", "-1")
ACTIONS = {"allow": "allow", "accept": "allow", "deny": "deny", "drop": "deny"}
ALIBABA_TYPES = {"normal": "basic", "enterprise": "advanced"}
RESERVED_NAMES = {"self"}  # `remote_group: self` means the rule's own group

GENERATED_VPC = ("vpc-imported", "10.0.0.0/16", "fd00:100::/48")
GENERATED_SUBNET = ("subnet-imported", "10.0.1.0/24", "fd00:100:0:1::/64")
INTERNET = ("internet", ["203.0.113.10", "198.51.100.10", "192.0.2.10"],
            ["2001:db8::10", "2001:db8:ffff::10"])


@dataclass
class ImportResult:
    lab: dict  # a lab file as plain data (contract section 1), ready for yaml.safe_dump
    warnings: list = field(default_factory=list)

    def to_yaml(self) -> str:
        """The lab file, its warnings first as comments."""
        head = "".join(f"# warning: {w}\n" for w in self.warnings)
        return head + yaml.safe_dump(self.lab, sort_keys=False, allow_unicode=True)


# -- the neutral form ---------------------------------------------------------------------

@dataclass
class _Rule:
    """A normalised rule; a group or prefix-list remote is still the cloud's id."""

    direction: str
    action: str
    priority: int
    family: int
    protocol: Optional[int]
    ports: Optional[tuple]
    remote_kind: str  # any | cidr | group | prefix_list
    remote: Optional[str]
    description: str
    where: str  # for warnings: "file: group ...: rule ..."
    family_given: bool = True  # False: the family was inferred (no ethertype, no CIDR)


@dataclass
class _Group:
    key: str  # the cloud's id (a Terraform address while a plan does not know it)
    label: str  # for warnings
    source: str = ""  # the file that first named it
    cloud_name: Optional[str] = None
    description: str = ""
    type: Optional[str] = None  # alibaba: basic | advanced (None: not in the export)
    inner_access: Optional[str] = None  # alibaba: accept | drop
    inner_access_from: str = ""  # where the export says so (for warnings)
    managed: bool = False
    rules: list = field(default_factory=list)
    rule_ids: dict = field(default_factory=dict)  # rule id -> (index, is a v3 record)
    rules_given: bool = False  # the export holds this group's rule list (possibly empty)
    placeholder: bool = False  # only referenced, never described
    name: Optional[str] = None  # the sgnet name, decided when the lab is built


@dataclass
class _PrefixList:
    key: str
    cloud_name: Optional[str] = None
    entries: Optional[list] = None  # None: not in the export
    name: Optional[str] = None


@dataclass
class _Network:
    key: str
    cloud_name: str
    cidr: Optional[str]
    ipv6_cidr: Optional[str] = None
    vpc_key: Optional[str] = None  # subnets only
    label: str = ""
    name: Optional[str] = None  # the sgnet name, decided when the lab is built


@dataclass
class _Instance:
    cloud_name: str
    label: str
    enis: list  # [(subnet key, ip, ipv6)], primary first
    groups: list  # group keys
    name: Optional[str] = None


# -- entry point --------------------------------------------------------------------------

def import_files(kind: str, paths: list, name: str = "imported") -> ImportResult:
    """Read the exports in `paths` (kind alibaba, huawei or terraform) into a lab file."""
    if kind not in KINDS:
        raise LabError(f"unknown export kind {kind!r}; allowed: {', '.join(KINDS)}")
    if not isinstance(name, str) or not LAB_NAME.fullmatch(name):
        raise LabError(f"lab name {name!r} is not valid; allowed: 1-8 characters [a-z0-9]")
    if not paths:
        raise LabError("no export files given")
    docs = [(str(p), _load_json(str(p))) for p in paths]
    if kind == "terraform":
        imp = _read_terraform(docs)
    else:
        imp = _Importer(kind)
        reader = _read_alibaba if kind == "alibaba" else _read_huawei
        for path, data in docs:
            reader(imp, path, data)
        if kind == "alibaba" and not imp.alibaba_list_seen:
            imp.warnings.append("no DescribeSecurityGroups export given: the group types are "
                                "unknown, every group is taken as a basic group")
    if not imp.groups:
        raise LabError(f"{', '.join(p for p, _ in docs)}: no security groups found in the "
                       f"{kind} export")
    return imp.build(name)


def _load_json(path: str):
    text = read_text(path, "the export", encoding="utf-8-sig")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise LabError(f"{path}: not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
                       ) from None


def _unrecognised(path, kind, expected):
    return LabError(f"{path}: not a recognised {kind} export; expected {expected}")


def _text(value) -> str:
    """A string field of an export: None and non-strings become ''."""
    return value.strip() if isinstance(value, str) else ""


# -- the importer: collected groups, the rule normaliser, the lab builder ------------------

class _Importer:
    def __init__(self, provider: str):
        self.provider = provider
        self.groups: dict = {}  # key -> _Group, in order of first appearance
        self.prefix_lists: dict = {}  # key -> _PrefixList
        self.vpcs: dict = {}  # key -> _Network
        self.subnets: dict = {}  # key -> _Network
        self.subnet_aliases: dict = {}  # other ids of a subnet -> its key
        self.instances: list = []
        self.warnings: list = []
        self.alibaba_list_seen = False

    def warn(self, where: str, message: str):
        self.warnings.append(f"{where}: {message}")

    def group(self, key: str, source: str, cloud_name=None) -> _Group:
        g = self.groups.get(key)
        if g is None:
            g = self.groups[key] = _Group(key, f"group {key}", source)
        if cloud_name and not g.cloud_name:
            g.cloud_name = cloud_name
            g.label = f"group {cloud_name!r} ({key})"
        return g

    def prefix_list(self, key: str) -> _PrefixList:
        return self.prefix_lists.setdefault(key, _PrefixList(key))

    def add_rule(self, group: _Group, rule_id, rule: Optional[_Rule], v3: bool = False):
        """Append a rule; a rule id seen before is the same rule (a v3 record replaces a
        v2.0 record of it, which has no action or priority)."""
        if rule_id and rule_id in group.rule_ids:
            index, was_v3 = group.rule_ids[rule_id]
            if v3 and not was_v3 and rule is not None and index is not None:
                group.rules[index] = rule
                group.rule_ids[rule_id] = (index, True)
            return
        index = None
        if rule is not None:
            group.rules.append(rule)
            index = len(group.rules) - 1
        if rule_id:
            group.rule_ids[rule_id] = (index, v3)

    # -- the shared rule normaliser ---------------------------------------------------------
    def rule(self, where, *, direction, action, priority, protocol, ports=None,
             ethertype=None, remotes=(), description="", icmp=None) -> Optional[_Rule]:
        """Normalise one rule's fields, or warn and return None when it is dropped.

        `remotes`: (kind, value) candidates in the cloud's order of precedence, kind cidr,
        group or prefix_list; empty values are ignored. `icmp`: (type, code) of an ICMP rule.
        """
        d = _text(direction).lower()
        if d not in ("ingress", "egress"):
            self.warn(where, f"unknown direction {direction!r}: rule dropped")
            return None
        a = ACTIONS.get(_text(action).lower())
        if a is None:
            self.warn(where, f"unknown action {action!r}: rule dropped")
            return None
        prio = self._priority(where, priority)
        try:
            proto = _protocol(protocol)
        except ValueError:
            self.warn(where, f"unknown protocol {protocol!r}: rule dropped")
            return None

        given = [(k, _text(v) if isinstance(v, str) else v) for k, v in remotes]
        given = [(k, v) for k, v in given if v not in (None, "")]
        if len(given) > 1:
            self.warn(where, "names several remotes (" + ", ".join(f"{k} {v}" for k, v in given)
                      + f"): only {given[0][0]} {given[0][1]} is kept, as the cloud does")
        kind, value, cidr_family = "any", None, None
        if given:
            kind, value = given[0]
            if kind == "cidr":
                try:
                    net = ipaddress.ip_network(str(value), strict=False)
                except ValueError:
                    self.warn(where, f"remote {value!r} is not an IP address or CIDR: "
                              "rule dropped")
                    return None
                if "/" in str(value) and \
                        ipaddress.ip_interface(str(value)).ip != net.network_address:
                    self.warn(where, f"remote {value} has host bits set: taken as {net}")
                value, cidr_family = str(net), net.version

        et = _text(ethertype).lower()
        if et and et not in ("ipv4", "ipv6"):
            self.warn(where, f"unknown ethertype {ethertype!r}: rule dropped")
            return None
        family = (6 if et == "ipv6" else 4) if et else (cidr_family or (6 if proto == 58 else 4))
        if cidr_family and cidr_family != family:
            self.warn(where, f"remote {value} is an IPv{cidr_family} CIDR but the rule's "
                      f"ethertype is IPv{family}: rule dropped")
            return None
        proto = self._icmp_for_family(where, proto, family)

        try:
            port_ranges = _ports(ports)
        except ValueError as e:
            self.warn(where, f"{e}: rule dropped")
            return None
        if port_ranges is not None and proto not in PORTED_PROTOCOLS:
            what = "ICMP type/code" if proto in (1, 58) else "ports"
            self.warn(where, f"{what} {ports!r} on protocol {_protocol_text(proto)} cannot be "
                      "represented: the rule is widened to the whole protocol")
            port_ranges = None
        if icmp and any(x not in (None, -1) for x in icmp):
            tc = "/".join("any" if x in (None, -1) else str(x) for x in icmp)
            self.warn(where, f"ICMP type/code {tc} cannot be represented: the rule is widened "
                      f"to all of {_protocol_text(proto)}")
        return _Rule(d, a, prio, family, proto, port_ranges, kind, value,
                     _text(description), where, family_given=bool(et or cidr_family))

    def _icmp_for_family(self, where, proto, family):
        if proto == 1 and family == 6:
            self.warn(where, "protocol icmp on an IPv6 rule: taken as icmpv6")
            return 58
        if proto == 58 and family == 4:
            self.warn(where, "protocol icmpv6 on an IPv4 rule: taken as icmp")
            return 1
        return proto

    def _priority(self, where, value) -> int:
        if value in (None, ""):
            return 1
        try:
            n = int(str(value).strip())
        except ValueError:
            self.warn(where, f"priority {value!r} is not a number: taken as 1")
            return 1
        if not 1 <= n <= 100:
            clamped = min(max(n, 1), 100)
            self.warn(where, f"priority {n} is outside 1-100: taken as {clamped}")
            return clamped
        return n

    # -- building the lab ------------------------------------------------------------------
    def build(self, lab_name: str) -> ImportResult:
        self._declare_referenced()
        self._name_groups()
        self._name_prefix_lists()
        groups = [self._group_dict(g) for g in self.groups.values()]
        ipv6 = any(r["ethertype"] == "IPv6" for g in groups for r in g["rules"])
        prefix_lists = [{"name": p.name, "entries": list(p.entries or [])}
                        for p in self.prefix_lists.values()]
        exported = self._exported_topology() if self.subnets else None
        lab = self._assemble(lab_name, exported or self._generated_topology(ipv6),
                             prefix_lists, groups, ipv6)
        try:
            parse(lab, "<import>")
        except FieldError as e:
            if exported is None or not e.path.startswith(("vpcs", "instances", "externals")):
                raise LabError(f"the imported lab does not validate (a bug in sgnet import): "
                               f"{e}") from None
            self.warnings.append(f"the exported network cannot be built as a lab ({e}): a "
                                 "generated network is used instead")
            lab = self._assemble(lab_name, self._generated_topology(ipv6), prefix_lists,
                                 groups, ipv6)
            parse(lab, "<import>")
        return ImportResult(lab, list(self.warnings))

    def _assemble(self, lab_name, topology, prefix_lists, groups, ipv6) -> dict:
        lab = {"name": lab_name, "provider": self.provider, "vpcs": topology["vpcs"]}
        if prefix_lists:
            lab["prefix_lists"] = prefix_lists
        lab["security_groups"] = groups
        lab["instances"] = topology["instances"]
        lab["externals"] = self._externals(topology["vpcs"], ipv6)
        return lab

    def _declare_referenced(self):
        """Remote groups and prefix lists named by a rule but not in the export."""
        warned = set()
        for g in list(self.groups.values()):
            for r in g.rules:
                if r.remote_kind == "group" and r.remote not in self.groups:
                    self.group(r.remote, g.source).placeholder = True
                    self.warnings.append(
                        f"{r.where}: remote group {r.remote} is not in the export: declared "
                        "as an empty placeholder group named after its id (its rules and "
                        "members are unknown)")
                elif r.remote_kind == "prefix_list":
                    pl = self.prefix_list(r.remote)
                    if pl.entries is None and pl.key not in warned:
                        warned.add(pl.key)
                        self.warnings.append(
                            f"{r.where}: the entries of prefix list / address group {r.remote} "
                            "are not in the export: declared with no entries (the rule matches "
                            "nothing until you add them)")
        for inst in self.instances:
            for key in inst.groups:
                if key not in self.groups:
                    self.group(key, inst.label).placeholder = True
                    self.warnings.append(f"{inst.label}: security group {key} is not in the "
                                         "export: declared as an empty placeholder group")
        for g in self.groups.values():
            if not g.rules_given and not g.placeholder:
                self.warnings.append(f"{g.source}: {g.label}: its rules are not in the export: "
                                     "declared with no rules")
            if self.provider == "alibaba" and self.alibaba_list_seen and g.type is None \
                    and not g.placeholder:
                self.warnings.append(f"{g.source}: {g.label}: not in the DescribeSecurityGroups "
                                     "export, its type is unknown: taken as a basic group")

    def _name_groups(self):
        """The cloud's names where sgnet can use them. A Huawei group named default,
        Sys-WebServer or Sys-FullAccess (or Alibaba's default) keeps its name: declaring the
        provider's own group with `default_rules: false` gives it the export's rules."""
        taken = set()
        for g in self.groups.values():
            wanted = g.cloud_name or g.key
            if self.provider == "alibaba" and wanted == "default" and \
                    (g.type == "advanced" or g.managed):
                wanted = f"default-{g.key}"  # sgnet's default is Alibaba's basic default group
            g.name = _unique_name(wanted, g.key, taken)
            taken.add(g.name)
            if g.cloud_name and g.name != g.cloud_name:
                self.warnings.append(f"{g.source}: {g.label}: name {g.cloud_name!r} is not "
                                     "usable in a lab (invalid, reserved or already taken): "
                                     f"named {g.name!r}")
            elif not g.cloud_name and not g.placeholder:
                self.warnings.append(f"{g.source}: {g.label}: its name is not in the export: "
                                     "named after its id")

    def _name_prefix_lists(self):
        taken = set()
        for pl in self.prefix_lists.values():
            wanted = pl.key if not pl.key.startswith("tf:") else (pl.cloud_name or pl.key)
            pl.name = _unique_name(wanted, pl.key, taken)
            taken.add(pl.name)

    def _group_dict(self, g: _Group) -> dict:
        d = {"name": g.name}
        if g.description:
            d["description"] = g.description
        if self.provider == "alibaba":
            gtype = g.type or "basic"
            d["type"] = gtype
            if gtype == "basic":
                d["inner_access"] = g.inner_access or "accept"
            elif g.inner_access == "accept":
                self.warnings.append(f"{g.inner_access_from}: an advanced group with inner "
                                     "access policy Accept: advanced groups always isolate "
                                     "their members, kept as drop")
            if g.managed:
                d["managed"] = True
        d["default_rules"] = False
        d["rules"] = [rd for rd in (self._rule_dict(g, r) for r in g.rules) if rd is not None]
        return d

    def _rule_dict(self, owner: _Group, r: _Rule) -> Optional[dict]:
        d = {"direction": r.direction, "action": r.action, "priority": r.priority,
             "ethertype": f"IPv{r.family}", "protocol": _protocol_text(r.protocol)}
        if r.ports is not None:
            d["ports"] = ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in r.ports)
        if r.remote_kind == "cidr":
            d["remote"] = r.remote
        elif r.remote_kind == "group":
            target = self.groups[r.remote]
            if self.provider == "alibaba" and target.type == "advanced" and target is not owner:
                self.warnings.append(f"{r.where}: remote group {target.name} is an advanced "
                                     "group, which cannot be the remote of another group's "
                                     "rule on Alibaba Cloud: rule dropped")
                return None
            d["remote_group"] = target.name
        elif r.remote_kind == "prefix_list":
            pl = self.prefix_lists[r.remote]
            families = {ipaddress.ip_network(e).version for e in pl.entries or []}
            if families and r.family not in families:
                if r.family_given or len(families) > 1:
                    self.warnings.append(f"{r.where}: prefix list {pl.name} has no IPv{r.family}"
                                         f" entries but the rule is IPv{r.family}: rule dropped")
                    return None
                # no ethertype in the export (Alibaba): the prefix list's address family
                family = families.pop()
                d["ethertype"] = f"IPv{family}"
                d["protocol"] = _protocol_text(self._icmp_for_family(r.where, r.protocol, family))
            d["remote_prefix_list"] = pl.name
        if r.description:
            d["description"] = r.description
        return d

    # -- topology --------------------------------------------------------------------------
    def _generated_topology(self, ipv6: bool) -> dict:
        vpc = {"name": GENERATED_VPC[0], "cidr": GENERATED_VPC[1]}
        subnet = {"name": GENERATED_SUBNET[0], "cidr": GENERATED_SUBNET[1]}
        if ipv6:
            vpc["ipv6_cidr"] = GENERATED_VPC[2]
            subnet["ipv6_cidr"] = GENERATED_SUBNET[2]
        vpc["subnets"] = [subnet]
        return {"vpcs": [vpc], "instances": self._one_instance_per_group(subnet["name"])}

    def _one_instance_per_group(self, subnet_name: str) -> list:
        taken = {INTERNET[0]}
        out = []
        for g in self.groups.values():
            name = _unique_name(f"vm-{g.name}", f"vm-{g.key}", taken)
            taken.add(name)
            out.append({"name": name, "subnet": subnet_name, "security_groups": [g.name]})
        return out

    def _exported_topology(self) -> Optional[dict]:
        vpcs, vpc_names, subnet_names = {}, set(), set()
        subnets_by_vpc = {}
        for s in self.subnets.values():
            if s.vpc_key not in self.vpcs:
                self.warn(s.label, f"its VPC {s.vpc_key} is not in the export: subnet left out")
                continue
            subnets_by_vpc.setdefault(s.vpc_key, []).append(s)
        for key, v in self.vpcs.items():
            if key not in subnets_by_vpc:
                self.warn(v.label, "has no subnet in the export: VPC left out")
                continue
            name = _unique_name(v.cloud_name or key, key, vpc_names)
            vpc_names.add(name)
            vd = {"name": name, "cidr": v.cidr}
            sub6 = [s.ipv6_cidr for s in subnets_by_vpc[key] if s.ipv6_cidr]
            v6 = v.ipv6_cidr or (_covering(sub6) if sub6 else None)
            if v6:
                vd["ipv6_cidr"] = v6
            vd["subnets"] = []
            for s in subnets_by_vpc[key]:
                sname = _unique_name(s.cloud_name or s.key, s.key, subnet_names)
                subnet_names.add(sname)
                s.name = sname
                sd = {"name": sname, "cidr": s.cidr}
                if s.ipv6_cidr and v6:
                    sd["ipv6_cidr"] = s.ipv6_cidr
                vd["subnets"].append(sd)
            vpcs[key] = vd
        if not vpcs:
            return None
        placed = [s for s in self.subnets.values() if s.vpc_key in vpcs]
        if self.instances:
            instances = self._exported_instances(placed)
        else:
            self.warnings.append("the export has no instances: one instance per group is "
                                 f"generated in subnet {placed[0].name}")
            instances = self._one_instance_per_group(placed[0].name)
        return {"vpcs": list(vpcs.values()), "instances": instances}

    def _exported_instances(self, subnets: list) -> list:
        by_key = {s.key: s for s in subnets}
        first = subnets[0]
        taken, used = {INTERNET[0]}, set()
        out = []
        for inst in self.instances:
            inst.name = _unique_name(inst.cloud_name, inst.label, taken)
            taken.add(inst.name)
            if inst.name != inst.cloud_name:
                self.warn(inst.label, f"name {inst.cloud_name!r} is not usable in a lab: "
                          f"named {inst.name!r}")
            groups = self._instance_groups(inst)
            enis, vpc = [], None
            for i, (skey, ip, ipv6) in enumerate(inst.enis):
                subnet = by_key.get(self.subnet_aliases.get(skey, skey))
                if subnet is None:
                    if i:
                        self.warn(inst.label, f"network interface {i}: its subnet {skey} is "
                                  "not in the export: interface left out")
                        continue
                    self.warn(inst.label, f"its subnet {skey} is not in the export: placed in "
                              f"subnet {first.name} with the next free address")
                    subnet, ip, ipv6 = first, None, None
                if vpc is None:
                    vpc = subnet.vpc_key
                elif subnet.vpc_key != vpc:
                    self.warn(inst.label, f"network interface {i} is in another VPC than the "
                              "first (sgnet keeps an instance in one VPC): interface left out")
                    continue
                eni = {"subnet": subnet.name}
                for fam, addr, net in ((4, ip, subnet.cidr), (6, ipv6, subnet.ipv6_cidr)):
                    if addr and self._usable_address(inst, addr, net, used):
                        eni["ip" if fam == 4 else "ipv6"] = addr
                        used.add(ipaddress.ip_address(addr))
                enis.append(eni)
            d = {"name": inst.name, **enis[0]}
            if groups:
                d["security_groups"] = groups
            else:
                self.warn(inst.label, "has no security group in the export: sgnet puts it in "
                          "the provider's default group")
            if enis[1:]:
                d["secondary_enis"] = enis[1:]
            out.append(d)
        return out

    def _instance_groups(self, inst: _Instance) -> list:
        names = []
        for key in inst.groups:
            g = self.groups[key]
            if g.name not in names:
                names.append(g.name)
        if self.provider == "alibaba":
            types = [self.groups[k].type or "basic" for k in inst.groups]
            if len(set(types)) > 1:
                keep = types[0]
                dropped = [self.groups[k].name for k, t in zip(inst.groups, types) if t != keep]
                self.warn(inst.label, "is in basic and advanced groups at once, which Alibaba "
                          f"does not allow: kept the {keep} groups, left out {dropped}")
                names = [self.groups[k].name for k, t in zip(inst.groups, types) if t == keep]
        return names

    def _usable_address(self, inst, addr, net, used) -> bool:
        try:
            a = ipaddress.ip_address(addr)
        except ValueError:
            self.warn(inst.label, f"address {addr!r} is not an IP address: the next free one "
                      "is used")
            return False
        n = ipaddress.ip_network(net) if net else None
        if n is None or a not in n or a in (n.network_address, n.network_address + 1) or \
                (a.version == 4 and a == n.broadcast_address) or a in used:
            self.warn(inst.label, f"address {addr} is outside its subnet, reserved or already "
                      "used: the next free one is used")
            return False
        return True

    def _externals(self, vpcs: list, ipv6: bool) -> list:
        """One `internet` host outside every VPC (IPv6 too when the lab has IPv6)."""
        nets = [ipaddress.ip_network(v[k]) for v in vpcs for k in ("cidr", "ipv6_cidr")
                if v.get(k)]
        has6 = ipv6 or any(v.get("ipv6_cidr") for v in vpcs)

        def outside(candidates):
            return next(a for a in candidates
                        if not any(ipaddress.ip_address(a) in n for n in nets
                                   if n.version == ipaddress.ip_address(a).version))

        ext = {"name": INTERNET[0], "ip": outside(INTERNET[1])}
        if has6:
            ext["ipv6"] = outside(INTERNET[2])
        return [ext]


def _unique_name(wanted, fallback, taken) -> str:
    """A valid sgnet name for `wanted`, not in `taken`."""
    for candidate in (wanted, _sanitise(wanted), f"{_sanitise(wanted)}-{_sanitise(fallback)}",
                      _sanitise(fallback)):
        candidate = candidate[:64]
        if candidate and OBJECT_NAME.fullmatch(candidate) and candidate not in taken \
                and candidate not in RESERVED_NAMES:
            return candidate
    base = _sanitise(fallback)[:60] or "x"
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _sanitise(name) -> str:
    text = re.sub(r"[^A-Za-z0-9_.:-]+", "-", str(name or ""))
    return re.sub(r"^[^A-Za-z0-9]+", "", text).rstrip("-")


def _covering(cidrs: list) -> str:
    """The smallest network holding every one of `cidrs` (IPv6 subnets of one VPC)."""
    nets = [ipaddress.ip_network(c) for c in cidrs]
    net = nets[0]
    while not all(n.subnet_of(net) for n in nets):
        net = net.supernet()
    return str(net if net.prefixlen <= 64 else net.supernet(new_prefix=64))


def _protocol(value) -> Optional[int]:
    """A protocol name (any case), number (int or string), or all (None); ValueError else."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        if 0 <= value <= 255:
            return value
        raise ValueError(value)
    text = str(value).strip().lower()
    if text in ALL_PROTOCOLS:
        return None
    if text.isdigit():
        n = int(text)
        if 0 <= n <= 255:
            return n
        raise ValueError(value)
    if text in PROTOCOLS:
        return PROTOCOLS[text]
    raise ValueError(value)


def _protocol_text(proto: Optional[int]):
    if proto is None:
        return "all"
    return PROTOCOL_NAMES.get(proto, proto)


def _ports(value) -> Optional[tuple]:
    """Port ranges of a rule: '22/22', '-1/-1', '22,80-90', 8080, (lo, hi); None = all."""
    if value is None or value == "":
        return None
    items = [value] if isinstance(value, (int, tuple)) else str(value).split(",")
    ranges = []
    for item in items:
        if isinstance(item, tuple):
            lo, hi = item
        else:
            text = str(item).strip()
            if text in ("-1/-1", "-1", "all", "any", ""):
                return None
            m = re.fullmatch(r"(\d+)(?:\s*[-/]\s*(\d+))?", text)
            if not m:
                raise ValueError(f"port range {value!r} cannot be read")
            lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if not (1 <= lo <= hi <= 65535):
            raise ValueError(f"port range {value!r} is outside 1-65535")
        ranges.append((lo, hi))
    ranges = tuple(sorted(set(ranges)))
    if any(lo <= 1 and hi >= 65535 for lo, hi in ranges):
        return None
    return ranges


# -- Alibaba Cloud ------------------------------------------------------------------------

def _read_alibaba(imp: _Importer, path: str, data):
    docs = data if isinstance(data, list) else [data]
    for doc in docs:
        if isinstance(doc, dict) and "SecurityGroupId" in doc and "Permissions" in doc:
            _alibaba_attribute(imp, path, doc)
        elif isinstance(doc, dict) and isinstance(doc.get("SecurityGroups"), dict):
            _alibaba_groups(imp, path, doc)
        else:
            raise _unrecognised(path, "alibaba", "a DescribeSecurityGroupAttribute response "
                                "(SecurityGroupId, Permissions.Permission[]) or a "
                                "DescribeSecurityGroups response (SecurityGroups.SecurityGroup[])")


def _alibaba_inner_access(imp, where, g: _Group, value):
    v = _text(value).lower()
    if not v:
        return
    if v not in ("accept", "drop"):
        imp.warn(where, f"unknown InnerAccessPolicy {value!r}: ignored")
        return
    if g.inner_access and g.inner_access != v:
        imp.warn(where, f"InnerAccessPolicy {value} disagrees with another file "
                 f"({g.inner_access}): the first is kept")
        return
    g.inner_access, g.inner_access_from = v, where


def _alibaba_groups(imp: _Importer, path: str, doc: dict):
    """DescribeSecurityGroups: type (normal/enterprise), ServiceManaged, names."""
    imp.alibaba_list_seen = True
    items = doc["SecurityGroups"].get("SecurityGroup")
    if not isinstance(items, list):
        raise _unrecognised(path, "alibaba", "SecurityGroups.SecurityGroup to be a list")
    for item in items:
        gid = _text(item.get("SecurityGroupId")) if isinstance(item, dict) else ""
        if not gid:
            raise _unrecognised(path, "alibaba", "a SecurityGroupId in every SecurityGroup")
        g = imp.group(gid, path, cloud_name=_text(item.get("SecurityGroupName")) or None)
        where = f"{path}: {g.label}"
        g.description = g.description or _text(item.get("Description"))
        stype = _text(item.get("SecurityGroupType")).lower()
        if stype:
            if stype not in ALIBABA_TYPES:
                imp.warn(where, f"unknown SecurityGroupType {stype!r}: taken as basic")
            g.type = ALIBABA_TYPES.get(stype, "basic")
        if item.get("ServiceManaged") is True:
            g.managed = True
        # Not in every API version's response; the attribute response always has it.
        _alibaba_inner_access(imp, where, g, item.get("InnerAccessPolicy"))


def _alibaba_attribute(imp: _Importer, path: str, doc: dict):
    """DescribeSecurityGroupAttribute: one group and its rules (several pages may repeat it)."""
    gid = _text(doc.get("SecurityGroupId"))
    if not gid:
        raise _unrecognised(path, "alibaba", "a SecurityGroupId")
    g = imp.group(gid, path, cloud_name=_text(doc.get("SecurityGroupName")) or None)
    g.rules_given = True
    g.description = g.description or _text(doc.get("Description"))
    _alibaba_inner_access(imp, f"{path}: {g.label}", g, doc.get("InnerAccessPolicy"))
    perms = doc.get("Permissions")
    perms = perms.get("Permission") if isinstance(perms, dict) else perms
    if perms is None:
        perms = []
    if not isinstance(perms, list):
        raise _unrecognised(path, "alibaba", "Permissions.Permission to be a list")
    for i, p in enumerate(perms):
        if not isinstance(p, dict):
            raise _unrecognised(path, "alibaba", "Permissions.Permission[] to hold objects")
        rid = _text(p.get("SecurityGroupRuleId"))
        where = f"{path}: {g.label}: rule {rid or f'#{i}'}"
        imp.add_rule(g, rid or None, _alibaba_permission(imp, where, p))


def _alibaba_permission(imp: _Importer, where: str, p: dict) -> Optional[_Rule]:
    if _text(p.get("NicType")).lower() == "internet":
        imp.warn(where, "NicType internet is a classic-network rule for the public NIC; a lab "
                 "is a VPC: rule dropped")
        return None
    ingress = _text(p.get("Direction")).lower() == "ingress"
    there, here = ("Source", "Dest") if ingress else ("Dest", "Source")
    owner = _text(p.get(f"{there}GroupOwnerAccount")) or _text(p.get(f"{there}GroupOwnerId"))
    if owner and _text(p.get(f"{there}GroupId")):
        imp.warn(where, f"{there}GroupId {p.get(f'{there}GroupId')} belongs to account "
                 f"{owner}: another account's group")
    for local in (p.get(f"{here}CidrIp"), p.get(f"Ipv6{here}CidrIp")):
        if _text(local):
            imp.warn(where, f"{here}CidrIp {_text(local)} restricts the local address, which "
                     "sgnet cannot express: the rule applies to every member")
    spr = _text(p.get("SourcePortRange"))
    if spr and spr not in ("-1/-1", "1/65535"):
        imp.warn(where, f"SourcePortRange {spr} cannot be represented: the rule matches every "
                 "source port")
    ports = p.get("PortRange")
    if _text(p.get("PortRangeListId")):
        imp.warn(where, f"port list {_text(p.get('PortRangeListId'))} is not in the export and "
                 "sgnet has no port lists: the rule matches every port")
        ports = None
    protocol = p.get("IpProtocol")
    if _protocol_safe(protocol) in (1, 58) and _text(ports) not in ("", "-1/-1"):
        imp.warn(where, f"ICMP PortRange {ports} (type/code) cannot be represented: the rule "
                 "matches all ICMP")
        ports = None
    v6 = _text(p.get(f"Ipv6{there}CidrIp")) or _text(p.get(f"Ipv6{here}CidrIp"))
    return imp.rule(
        where, direction=p.get("Direction"), action=p.get("Policy") or "accept",
        priority=p.get("Priority"), protocol=protocol, ports=ports,
        ethertype="IPv6" if v6 else None,
        remotes=[("cidr", p.get(f"{there}CidrIp")), ("cidr", p.get(f"Ipv6{there}CidrIp")),
                 ("group", p.get(f"{there}GroupId")),
                 ("prefix_list", p.get(f"{there}PrefixListId"))],
        description=p.get("Description"))


def _protocol_safe(value):
    try:
        return _protocol(value)
    except ValueError:
        return None


# -- Huawei Cloud -------------------------------------------------------------------------

def _read_huawei(imp: _Importer, path: str, data):
    found = False
    if isinstance(data, dict):
        if isinstance(data.get("security_group"), dict):
            _huawei_group(imp, path, data["security_group"])
            found = True
        if isinstance(data.get("security_groups"), list):
            for g in data["security_groups"]:
                _huawei_group(imp, path, g)
            found = True
        rules = data.get("security_group_rules")
        if isinstance(data.get("security_group_rule"), dict):
            rules = [data["security_group_rule"]]
        if isinstance(rules, list):
            for i, r in enumerate(rules):
                _huawei_rule(imp, path, r, i)
            found = True
    if not found:
        raise _unrecognised(path, "huawei", "a ListSecurityGroupRules / ListSecurityGroups / "
                            "ShowSecurityGroup response (v3 or v2.0): security_group_rules[], "
                            "security_groups[] or security_group")


def _huawei_group(imp: _Importer, path: str, item: dict):
    if not isinstance(item, dict) or not _text(item.get("id")):
        raise _unrecognised(path, "huawei", "security groups with an id")
    g = imp.group(_text(item["id"]), path, cloud_name=_text(item.get("name")) or None)
    g.description = g.description or _text(item.get("description"))
    rules = item.get("security_group_rules")
    if isinstance(rules, list):
        g.rules_given = True
        for i, r in enumerate(rules):
            _huawei_rule(imp, path, r, i, default_group=g.key)


def _huawei_rule(imp: _Importer, path: str, r: dict, index: int, default_group=None):
    if not isinstance(r, dict):
        raise _unrecognised(path, "huawei", "security group rules as objects")
    gid = _text(r.get("security_group_id")) or default_group
    if not gid:
        raise _unrecognised(path, "huawei", "a security_group_id in every rule")
    g = imp.group(gid, path)
    g.rules_given = True
    rid = _text(r.get("id"))
    where = f"{path}: {g.label}: rule {rid or f'#{index}'}"
    v3 = any(k in r for k in ("multiport", "action", "priority"))
    if r.get("enabled") is False:
        imp.warn(where, "the rule is disabled (enabled: false) and has no effect: not imported")
        imp.add_rule(g, rid, None, v3)
        return
    imp.add_rule(g, rid, _huawei_rule_fields(imp, where, r, v3), v3)


def _huawei_rule_fields(imp, where, r: dict, v3: bool, terraform=False):
    """One Huawei rule: v3 API (`multiport`, `action`, `priority`), v2.0 API (no action or
    priority: every rule allows, priority 1), or Terraform (`ports`; 0 and "" mean unset,
    and a missing action or priority is the provider's documented default, allow and 1)."""
    protocol = r.get("protocol")
    proto = _protocol_safe(protocol)
    unset = (None, "", 0) if terraform else (None, "")
    lo, hi = r.get("port_range_min"), r.get("port_range_max")
    lo = None if lo in unset else lo
    hi = None if hi in unset else hi
    ports_key = "ports" if terraform else "multiport"
    icmp, ports = None, _text(r.get(ports_key)) or None
    if ports is None and (lo is not None or hi is not None):
        if proto in (1, 58):
            icmp = (lo, hi)
        else:
            ports = f"{lo if lo is not None else hi}-{hi if hi is not None else lo}"
    action = r.get("action")
    if v3 and not terraform and action in (None, ""):
        imp.warn(where, "no action in the export: taken as allow")
    return imp.rule(
        where, direction=r.get("direction"), action=action or "allow",
        priority=r.get("priority") if v3 else 1, protocol=protocol, ports=ports,
        ethertype=r.get("ethertype"), icmp=icmp,  # none: from the CIDR, else IPv4
        remotes=[("cidr", r.get("remote_ip_prefix")), ("group", r.get("remote_group_id")),
                 ("prefix_list", r.get("remote_address_group_id"))],
        description=r.get("description"))


# -- Terraform ----------------------------------------------------------------------------

TF_TYPES = {
    "alibaba": {"groups": ("alicloud_security_group",),
                "rules": ("alicloud_security_group_rule",),
                "other": ("alicloud_vpc", "alicloud_vswitch", "alicloud_instance",
                          "alicloud_ecs_prefix_list")},
    "huawei": {"groups": ("huaweicloud_networking_secgroup", "huaweicloud_networking_secgroup_v2"),
               "rules": ("huaweicloud_networking_secgroup_rule",
                         "huaweicloud_networking_secgroup_rule_v2"),
               "other": ("huaweicloud_vpc", "huaweicloud_vpc_subnet",
                         "huaweicloud_compute_instance", "huaweicloud_vpc_address_group")},
}


@dataclass
class _TfResource:
    path: str
    address: str
    type: str
    values: dict
    expressions: dict  # from the plan's configuration ({} for a state)
    module: str  # the module instance it is in: "module.x[0]." or ""

    @property
    def where(self):
        return f"{self.path}: {self.address}"


class _Terraform:
    """The managed resources of `terraform show -json` outputs, and reference resolution."""

    def __init__(self, docs):
        self.resources = []
        for path, doc in docs:
            root = None
            if isinstance(doc, dict):
                root = doc.get("values") if isinstance(doc.get("values"), dict) \
                    else doc.get("planned_values")
            if not isinstance(root, dict) or not isinstance(root.get("root_module", {}), dict) \
                    or "format_version" not in doc:
                raise _unrecognised(path, "terraform", "the output of `terraform show -json` "
                                    "(format_version and values.root_module or "
                                    "planned_values.root_module)")
            config = {}
            self._walk_config((doc.get("configuration") or {}).get("root_module") or {}, "",
                              config)
            self._walk_values(path, root.get("root_module") or {}, config)
        self.by_address = {}
        self.by_base = {}
        for res in self.resources:
            self.by_address[res.address] = res
            self.by_base.setdefault(_strip_index(res.address), []).append(res)

    def _walk_config(self, module: dict, prefix: str, out: dict):
        for r in module.get("resources") or []:
            out[prefix + r.get("address", "")] = r.get("expressions") or {}
        for name, call in (module.get("module_calls") or {}).items():
            self._walk_config(call.get("module") or {}, f"{prefix}module.{name}.", out)

    def _walk_values(self, path: str, module: dict, config: dict):
        for r in module.get("resources") or []:
            if r.get("mode", "managed") != "managed":
                continue
            address, rtype = r.get("address", ""), r.get("type", "")
            base = _strip_index(address)
            module_prefix = base[: len(base) - len(f"{rtype}.{r.get('name', '')}")]
            # configuration addresses have no instance keys; references inside a module
            # instance ("module.x[0].") are relative to it
            self.resources.append(_TfResource(
                path, address, rtype, r.get("values") or {},
                config.get(re.sub(r"\[[^\]]*\]", "", address), {}), module_prefix))
        for child in module.get("child_modules") or []:
            self._walk_values(path, child, config)

    def key(self, res: _TfResource) -> str:
        rid = res.values.get("id")
        return rid if isinstance(rid, str) and rid else f"tf:{res.address}"

    def _resolve(self, res: _TfResource, ref: str) -> list:
        """The keys of the resources a configuration reference points at."""
        parts = ref.split(".")
        for n in range(len(parts), 1, -1):
            candidate = res.module + ".".join(parts[:n])
            if candidate in self.by_address:
                return [self.key(self.by_address[candidate])]
            if candidate in self.by_base:
                return [self.key(x) for x in self.by_base[candidate]]
        return []

    def _refs(self, res, expression) -> list:
        keys = []
        if isinstance(expression, dict):
            for ref in expression.get("references") or []:
                for k in self._resolve(res, ref):
                    if k not in keys:
                        keys.append(k)
        return keys

    def ref(self, res: _TfResource, attr: str, values=None, expressions=None) -> Optional[str]:
        """A single id attribute: its value, or (in a plan) the resource its expression names."""
        values = res.values if values is None else values
        expressions = res.expressions if expressions is None else expressions
        v = values.get(attr)
        if isinstance(v, str) and v:
            return v
        keys = self._refs(res, expressions.get(attr))
        return keys[0] if len(keys) == 1 else None

    def refs(self, res: _TfResource, attr: str) -> list:
        """A list of ids: the value when fully known, else the configuration's references."""
        v = res.values.get(attr)
        if isinstance(v, list) and v and all(isinstance(x, str) and x for x in v):
            return list(v)
        keys = self._refs(res, res.expressions.get(attr))
        return keys or [x for x in (v or []) if isinstance(x, str) and x]


def _strip_index(address: str) -> str:
    return re.sub(r"\[[^\]]*\]$", "", address)


def _read_terraform(docs) -> _Importer:
    tf = _Terraform(docs)
    files = ", ".join(p for p, _ in docs)
    with_groups = [p for p, t in TF_TYPES.items()
                   if any(r.type in t["groups"] + t["rules"] for r in tf.resources)]
    if not with_groups:
        raise LabError(f"{files}: no alicloud_security_group(_rule) or "
                       "huaweicloud_networking_secgroup(_rule) resources in the terraform export")
    if len(with_groups) > 1:
        raise LabError(f"{files}: the terraform export holds security groups of both alicloud "
                       "and huaweicloud; a lab has one provider: import each one separately")
    provider = with_groups[0]
    imp = _Importer(provider)
    types = TF_TYPES[provider]
    known = types["groups"] + types["rules"] + types["other"]
    ignored = {}
    for res in tf.resources:
        if res.type not in known:
            ignored[res.type] = ignored.get(res.type, 0) + 1
    if ignored:
        imp.warnings.append(f"{files}: resources not imported (no security group, network or "
                            "instance meaning for a lab): " + ", ".join(
                                f"{t} x{n}" for t, n in sorted(ignored.items())))
    reader = _terraform_alicloud if provider == "alibaba" else _terraform_huaweicloud
    # Groups and lists first, so that rules and instances find them by key in any order.
    order = {t: 0 for t in types["groups"]}
    order.update({t: 1 for t in types["other"]})
    order.update({t: 2 for t in types["rules"]})
    for res in sorted((r for r in tf.resources if r.type in known), key=lambda r: order[r.type]):
        reader(imp, tf, res)
    return imp


def _tf_network(imp, tf, res, *, name, cidr, ipv6=None, vpc_attr=None) -> _Network:
    """A VPC (vpc_attr None) or a subnet (its VPC's id in attribute `vpc_attr`)."""
    net = _Network(tf.key(res), _text(name) or res.address.rsplit(".", 1)[-1],
                   _text(cidr) or None, _text(ipv6) or None, label=res.where)
    if vpc_attr:
        net.vpc_key = tf.ref(res, vpc_attr)
    if not net.cidr:
        imp.warn(res.where, "its CIDR is not in the export: left out")
    else:
        (imp.subnets if vpc_attr else imp.vpcs)[net.key] = net
    return net


def _terraform_alicloud(imp: _Importer, tf: _Terraform, res: _TfResource):
    v = res.values
    if res.type == "alicloud_security_group":
        g = imp.group(tf.key(res), res.path,
                      cloud_name=_text(v.get("security_group_name")) or _text(v.get("name"))
                      or None)
        g.label = f"{res.where} ({g.cloud_name or g.key})"
        g.rules_given = True  # Terraform lists the group's rules as resources (maybe none)
        g.description = _text(v.get("description"))
        stype = _text(v.get("security_group_type")).lower() or "normal"
        g.type = ALIBABA_TYPES.get(stype, "basic")
        policy = v.get("inner_access_policy")
        if not _text(policy) and isinstance(v.get("inner_access"), bool):
            policy = "Accept" if v["inner_access"] else "Drop"
        _alibaba_inner_access(imp, res.where, g, policy)
    elif res.type == "alicloud_security_group_rule":
        gkey = tf.ref(res, "security_group_id")
        if gkey is None:
            imp.warn(res.where, "its security_group_id is not in the export: rule dropped")
            return
        g = imp.group(gkey, res.path)
        where = res.where
        if _text(v.get("nic_type")).lower() == "internet":
            imp.warn(where, "nic_type internet is a classic-network rule for the public NIC; a "
                     "lab is a VPC: rule dropped")
            return
        if _text(v.get("source_group_owner_account")):
            imp.warn(where, f"source_security_group_id belongs to account "
                     f"{v['source_group_owner_account']}: another account's group")
        protocol = v.get("ip_protocol")
        ports = v.get("port_range")
        if _protocol_safe(protocol) in (1, 58) and _text(ports) not in ("", "-1/-1"):
            imp.warn(where, f"ICMP port_range {ports} (type/code) cannot be represented: the "
                     "rule matches all ICMP")
            ports = None
        prefix = tf.ref(res, "prefix_list_id")
        rule = imp.rule(
            where, direction=v.get("type"), action=v.get("policy") or "accept",
            priority=v.get("priority"), protocol=protocol, ports=ports,
            ethertype="IPv6" if _text(v.get("ipv6_cidr_ip")) else None,
            remotes=[("cidr", v.get("cidr_ip")), ("cidr", v.get("ipv6_cidr_ip")),
                     ("group", tf.ref(res, "source_security_group_id")),
                     ("prefix_list", prefix)],
            description=v.get("description"))
        imp.add_rule(g, res.address, rule)
    elif res.type == "alicloud_ecs_prefix_list":
        pl = imp.prefix_list(tf.key(res))
        pl.cloud_name = _text(v.get("prefix_list_name")) or None
        pl.entries = [_text(e.get("cidr")) for e in v.get("entry") or []
                      if isinstance(e, dict) and _text(e.get("cidr"))]
    elif res.type == "alicloud_vpc":
        blocks = v.get("ipv6_cidr_blocks") or []
        ipv6 = _text(v.get("ipv6_cidr_block")) or next(
            (_text(b.get("ipv6_cidr_block")) for b in blocks if isinstance(b, dict)), "")
        _tf_network(imp, tf, res, name=v.get("vpc_name") or v.get("name"),
                    cidr=v.get("cidr_block"), ipv6=ipv6)
    elif res.type == "alicloud_vswitch":
        _tf_network(imp, tf, res, name=v.get("vswitch_name") or v.get("name"),
                    cidr=v.get("cidr_block"), ipv6=v.get("ipv6_cidr_block"), vpc_attr="vpc_id")
    elif res.type == "alicloud_instance":
        ipv6 = next((a for a in v.get("ipv6_addresses") or [] if _text(a)), None)
        imp.instances.append(_Instance(
            _text(v.get("instance_name")) or res.address.rsplit(".", 1)[-1], res.where,
            [(tf.ref(res, "vswitch_id"), _text(v.get("private_ip")) or None, ipv6)],
            tf.refs(res, "security_groups")))


def _terraform_huaweicloud(imp: _Importer, tf: _Terraform, res: _TfResource):
    v = res.values
    if res.type in TF_TYPES["huawei"]["groups"]:
        g = imp.group(tf.key(res), res.path, cloud_name=_text(v.get("name")) or None)
        g.label = f"{res.where} ({g.cloud_name or g.key})"
        g.rules_given = True
        g.description = _text(v.get("description"))
        rules = v.get("rules")
        if isinstance(rules, list):  # a state: every rule of the group, as the API has them
            for i, r in enumerate(rules):
                where = f"{res.where}: rules[{i}] {_text(r.get('id'))}".rstrip()
                imp.add_rule(g, _text(r.get("id")) or None,
                             _huawei_rule_fields(imp, where, r, True, terraform=True), True)
        elif not v.get("delete_default_rules"):
            # A plan: Huawei gives the new group its default rules (inbound from the group
            # itself, outbound to everywhere, IPv4 and IPv6); they are written out.
            for fam in (4, 6):
                g.rules.append(_Rule("ingress", "allow", 1, fam, None, None, "group", g.key,
                                     "default rule: members reach each other", res.where))
            for fam, any_net in ((4, "0.0.0.0/0"), (6, "::/0")):
                g.rules.append(_Rule("egress", "allow", 1, fam, None, None, "cidr", any_net,
                                     "default rule: all outbound traffic", res.where))
    elif res.type in TF_TYPES["huawei"]["rules"]:
        gkey = tf.ref(res, "security_group_id")
        if gkey is None:
            imp.warn(res.where, "its security_group_id is not in the export: rule dropped")
            return
        rid = _text(v.get("id")) or res.address
        r = dict(v)
        for attr in ("remote_group_id", "remote_address_group_id"):
            r[attr] = tf.ref(res, attr)
        imp.add_rule(imp.group(gkey, res.path), rid,
                     _huawei_rule_fields(imp, res.where, r, True, terraform=True), True)
    elif res.type == "huaweicloud_vpc_address_group":
        pl = imp.prefix_list(tf.key(res))
        pl.cloud_name = _text(v.get("name")) or None
        addresses = list(v.get("addresses") or []) + [
            e.get("ip") for e in v.get("ip_extra_set") or [] if isinstance(e, dict)]
        pl.entries = _address_group_entries(imp, res.where, addresses)
    elif res.type == "huaweicloud_vpc":
        _tf_network(imp, tf, res, name=v.get("name"), cidr=v.get("cidr"))
    elif res.type == "huaweicloud_vpc_subnet":
        net = _tf_network(imp, tf, res, name=v.get("name"), cidr=v.get("cidr"),
                          ipv6=v.get("ipv6_cidr") if v.get("ipv6_enable") else None,
                          vpc_attr="vpc_id")
        for alias in ("subnet_id", "ipv4_subnet_id"):
            if _text(v.get(alias)):
                imp.subnet_aliases[_text(v[alias])] = net.key
    elif res.type == "huaweicloud_compute_instance":
        enis = []
        networks = [n for n in v.get("network") or [] if isinstance(n, dict)]
        exprs = res.expressions.get("network") or []
        for i, n in enumerate(networks):
            e = exprs[i] if i < len(exprs) and isinstance(exprs[i], dict) else {}
            enis.append((tf.ref(res, "uuid", n, e), _text(n.get("fixed_ip_v4")) or None,
                         _text(n.get("fixed_ip_v6")) or None))
        groups = tf.refs(res, "security_group_ids")
        if not groups and v.get("security_groups"):  # older configurations name the groups
            by_name = {g.cloud_name: k for k, g in imp.groups.items() if g.cloud_name}
            for gname in v["security_groups"]:
                if gname in by_name:
                    groups.append(by_name[gname])
                else:
                    imp.warn(res.where, f"security group {gname!r} is not in the export: "
                             "left out")
        if not enis:
            imp.warn(res.where, "has no network in the export: left out")
            return
        imp.instances.append(_Instance(_text(v.get("name")) or res.address.rsplit(".", 1)[-1],
                                       res.where, enis, groups))


def _address_group_entries(imp, where, addresses) -> list:
    """Huawei address group entries: addresses, CIDRs and ranges 'a-b' -> CIDRs."""
    out = []
    for a in addresses:
        text = _text(a)
        if not text:
            continue
        try:
            if "-" in text:
                lo, hi = (ipaddress.ip_address(x.strip()) for x in text.split("-", 1))
                out += [str(n) for n in ipaddress.summarize_address_range(lo, hi)]
            else:
                out.append(str(ipaddress.ip_network(text, strict=False)))
        except (ValueError, TypeError):
            imp.warn(where, f"address group entry {text!r} cannot be read: left out")
    return out

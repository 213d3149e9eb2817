"""The one normaliser (io: pure): what every format reader found, in a neutral form, made
into the lab file's data.

The readers (alibaba, huawei, terraform_alicloud, terraform_huaweicloud) hand each rule's
fields to `Importer.rule`, the one place that decides what sgnet can represent (the
choices of the package's docstring: lifted, dropped, brought into range, defaulted; each
warned), and groups, prefix lists, networks and instances to the `Importer`. `build` then
declares what rules name but the export lacks, makes names valid and unique (`Names`),
writes groups and rules as the lab file has them, takes the network from the export or
generates one, and validates the result with the lab file parser (`ImportResult`).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Optional

import yaml

from sgnet.core.errors import FieldError, LabError
from sgnet.core import labspec
from sgnet.core.labspec import BOUNDS, OBJECT_NAME, parse
from sgnet.core.values import (ACTIONS, ALL_PORTS_WORDS, ALL_WORDS, EXPORT_PROTOCOLS, ICMP,
                               ICMPV6, MAX_PORT, MIN_PORT, PORTED_PROTOCOLS, ValueProblem,
                               parse_ports, parse_protocol, ports_text, protocol_name)
from sgnet.io import labfile
from sgnet.providers import get_profile
from sgnet.io.importers.export import MAX_DIGITS, printable, short, show

ALL_PROTOCOLS = ("",) + ALL_WORDS  # an export's words for every protocol
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
        """The lab file, its warnings first as comments (printable: one line each)."""
        head = "".join(f"# warning: {printable(w)}\n" for w in self.warnings)
        return head + yaml.dump(self.lab, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """No anchors and aliases: a value used twice is written twice (the lab file's reader
    bounds what aliases may expand to). libyaml's emitter where PyYAML has it (four times
    faster; the same text)."""

    def ignore_aliases(self, data):
        return True


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def check_text(files: str, result: ImportResult):
    """What is written must read back as the data build() validated: the text of the lab
    file (warning comments included) loads to the same data, within the input size limit
    of the lab file reader. (A C YAML loader: parsing the text again with the lab file's
    own reader would cost ten times the import.)"""
    try:
        text = result.to_yaml()
        same = yaml.load(text, Loader=_Loader) == result.lab
    except (yaml.YAMLError, UnicodeError):
        same = False
    if not same:
        raise LabError(f"{files}: the lab file made from the export does not read back as "
                       "its data (a bug in sgnet import)")
    limit = labfile.input_limit()
    if len(text.encode("utf-8")) > limit:
        raise LabError(f"{files}: the lab file made from the export would be larger than "
                       f"{limit:,} bytes, more than `sgnet` reads; allowed: at most {limit:,} "
                       f"(set {labfile.INPUT_LIMIT_VARIABLE} to read larger files)")


# -- the neutral form ---------------------------------------------------------------------

@dataclass
class Rule:
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
class Group:
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
class PrefixList:
    key: str
    cloud_name: Optional[str] = None
    entries: Optional[list] = None  # None: not in the export; else normalised CIDR strings
    name: Optional[str] = None

    def families(self) -> set:
        return {_family(e) for e in self.entries or []}


def _family(cidr: str) -> int:
    """The family of a normalised CIDR text."""
    return 6 if ":" in cidr else 4


@dataclass
class Network:
    key: str
    cloud_name: str
    cidr: Optional[str]
    ipv6_cidr: Optional[str] = None
    vpc_key: Optional[str] = None  # subnets only
    label: str = ""
    name: Optional[str] = None  # the sgnet name, decided when the lab is built


@dataclass
class Instance:
    cloud_name: str
    label: str
    enis: list  # [(subnet key, ip, ipv6)], primary first
    groups: list  # group keys: the primary ENI's, and every ENI's that has none of its own
    name: Optional[str] = None
    eni_groups: dict = field(default_factory=dict)  # ENI index -> its own group keys
    secondary_ips: dict = field(default_factory=dict)  # ENI index -> further IPv4 addresses
    eni_ids: dict = field(default_factory=dict)  # ENI index -> the cloud's id of the ENI


def _text(value) -> str:
    """A string the readers have read (None for an absent field becomes '')."""
    return value.strip() if isinstance(value, str) else ""


# -- the importer: collected records and the rule normaliser ------------------------------

class Importer:
    """What the format readers found, in the neutral form, and the one rule normaliser.
    `build` turns it into the lab file."""

    def __init__(self, provider: str):
        self.provider = provider
        self.groups: dict = {}  # key -> Group, in order of first appearance
        self.prefix_lists: dict = {}  # key -> PrefixList
        self.vpcs: dict = {}  # key -> Network
        self.subnets: dict = {}  # key -> Network
        self.subnet_aliases: dict = {}  # other ids of a subnet -> its key
        self.instances: list = []
        self.warnings: list = []
        self.alibaba_list_seen = False
        self._by_name = (-1, {})

    def warn(self, where: str, message: str):
        self.warnings.append(f"{where}: {message}")

    def group(self, key: str, source: str, cloud_name=None) -> Group:
        g = self.groups.get(key)
        if g is None:
            g = self.groups[key] = Group(key, f"group {short(key)}", source)
        if cloud_name and not g.cloud_name:
            g.cloud_name = cloud_name
            g.label = f"group {show(cloud_name)} ({short(key)})"
        return g

    def groups_by_name(self) -> dict:
        """Cloud name -> key of the groups known so far (built once per number of groups)."""
        if self._by_name[0] != len(self.groups):
            self._by_name = (len(self.groups), {g.cloud_name: k for k, g in self.groups.items()
                                                if g.cloud_name})
        return self._by_name[1]

    def prefix_list(self, key: str) -> PrefixList:
        return self.prefix_lists.setdefault(key, PrefixList(key))

    def add_rule(self, group: Group, rule_id, rule: Optional[Rule], v3: bool = False):
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

    # -- the one rule normaliser ------------------------------------------------------------
    def rule(self, where, *, direction, action, priority, protocol, ports=None,
             ethertype=None, remotes=(), description="", icmp=None) -> Optional[Rule]:
        """Normalise one rule's fields, or warn and return None when it is dropped.

        `remotes`: (kind, value) candidates in the cloud's order of precedence, kind cidr,
        group or prefix_list; empty values are ignored. `icmp`: (type, code) of an ICMP rule.
        """
        try:
            d = _text(direction).lower()
            if d not in ("ingress", "egress"):
                raise _Dropped(f"unknown direction {show(direction)}")
            a = ACTIONS.get(_text(action).lower())
            if a is None:
                raise _Dropped(f"unknown action {show(action)}")
            prio = self._priority(where, priority)
            try:
                proto = _protocol(protocol)
            except ValueError:
                raise _Dropped(f"unknown protocol {show(protocol)}") from None
            kind, value, cidr_family = self._remote(where, remotes)
            et = _text(ethertype).lower()
            if et and et not in ("ipv4", "ipv6"):
                raise _Dropped(f"unknown ethertype {show(ethertype)}")
            family = (6 if et == "ipv6" else 4) if et else \
                (cidr_family or (6 if proto == ICMPV6 else 4))
            if cidr_family and cidr_family != family:
                raise _Dropped(f"remote {value} is an IPv{cidr_family} CIDR but the rule's "
                               f"ethertype is IPv{family}")
            proto = self.icmp_for_family(where, proto, family)
            port_ranges = self._ports(where, proto, ports)
        except _Dropped as e:
            self.warn(where, f"{e}: rule dropped")
            return None
        if icmp and any(x not in (None, -1) for x in icmp):
            tc = "/".join("any" if x in (None, -1) else short(str(x)) for x in icmp)
            self.warn(where, f"ICMP type/code {tc} cannot be represented: the rule is widened "
                      f"to all of {_protocol_field(proto)}")
        return Rule(d, a, prio, family, proto, port_ranges, kind, value,
                    _text(description), where, family_given=bool(et or cidr_family))

    def _remote(self, where, remotes) -> tuple:
        """(kind, value, family of a CIDR) of the first remote given: any when none is."""
        given = [(k, _text(v) if isinstance(v, str) else v) for k, v in remotes]
        given = [(k, v) for k, v in given if v not in (None, "")]
        if len(given) > 1:
            self.warn(where, "names several remotes (" + ", ".join(
                f"{k} {short(str(v))}" for k, v in given) + f"): only {given[0][0]} "
                f"{short(str(given[0][1]))} is kept, as the cloud does")
        if not given and self.provider == "alibaba":
            # AuthorizeSecurityGroup(Egress): a rule names a CIDR, a group or a prefix list;
            # without one the API refuses it, so the cloud has no such rule
            raise _Dropped("no authorization object (a CIDR, a security group or a prefix "
                           "list): Alibaba Cloud refuses such a rule")
        if not given:
            return "any", None, None
        kind, value = given[0]
        if kind != "cidr":
            return kind, value, None
        try:
            if "%" in str(value):  # an IPv6 scope: no meaning for a remote
                raise ValueError(value)
            net = ipaddress.ip_network(str(value), strict=False)
        except ValueError:
            raise _Dropped(f"remote {show(value)} is not an IP address or CIDR") from None
        if "/" in str(value) and ipaddress.ip_interface(str(value)).ip != net.network_address:
            self.warn(where, f"remote {short(str(value))} has host bits set: taken as {net}")
        return kind, str(net), net.version

    def _ports(self, where, proto, ports) -> Optional[tuple]:
        """The port ranges of a rule on `proto` (None: all); ports on a protocol that has
        none widen the rule."""
        try:
            port_ranges = _ports(ports)
        except ValueError as e:
            raise _Dropped(str(e)) from None
        if isinstance(ports, str) and "," in ports and \
                not all(item.strip() for item in ports.split(",")):
            self.warn(where, f"port list {show(ports)} has an empty item: ignored (the rule "
                      f"keeps {ports_text(port_ranges) if port_ranges else 'all ports'})")
        if port_ranges is not None and proto not in PORTED_PROTOCOLS:
            what = "ICMP type/code" if proto in (ICMP, ICMPV6) else "ports"
            self.warn(where, f"{what} {show(ports)} on protocol {_protocol_field(proto)} cannot "
                      "be represented: the rule is widened to the whole protocol")
            return None
        return port_ranges

    def icmp_for_family(self, where, proto, family):
        """icmp on an IPv6 rule is icmpv6, and the reverse (warned)."""
        if proto == ICMP and family == 6:
            self.warn(where, "protocol icmp on an IPv6 rule: taken as icmpv6")
            return ICMPV6
        if proto == ICMPV6 and family == 4:
            self.warn(where, "protocol icmpv6 on an IPv4 rule: taken as icmp")
            return ICMP
        return proto

    def _priority(self, where, value) -> int:
        if value in (None, ""):
            return 1
        n = _integer(value)
        if n is None:
            self.warn(where, f"priority {show(value)} is not a number: taken as 1")
            return 1
        if not 1 <= n <= 100:
            clamped = min(max(n, 1), 100)
            self.warn(where, f"priority {n} is outside 1-100: taken as {clamped}")
            return clamped
        return n

    def build(self, lab_name: str) -> ImportResult:
        """The lab file: validated by the lab file parser, or refused (LabError)."""
        return _LabBuilder(self).build(lab_name)


class _Dropped(Exception):
    """A rule that cannot be read or cannot exist in a lab: why (the rule is dropped)."""


# -- the lab builder ----------------------------------------------------------------------

class _LabBuilder:
    """The neutral form -> the lab file's data: remote groups and prefix lists the export
    only names are declared, names are made valid and unique, groups and rules written as
    the lab file has them, the network taken from the export or generated."""

    def __init__(self, imp: Importer):
        self.imp, self.provider = imp, imp.provider
        self.groups, self.prefix_lists, self.warnings = imp.groups, imp.prefix_lists, \
            imp.warnings
        self.topology = _Topology(imp)
        # groups the provider makes with documented rules (Huawei: default, Sys-WebServer,
        # Sys-FullAccess; seed 000): named but not exported, they get those rules
        self._documented = {g.name for g in get_profile(imp.provider).builtin_groups()} \
            if imp.provider == "huawei" else set()

    def build(self, lab_name: str) -> ImportResult:
        self._declare_referenced()
        self._name_groups()
        self._name_prefix_lists()
        self._one_family_prefix_lists()
        groups = [self._group_dict(g) for g in self.groups.values()]
        ipv6 = any(r["ethertype"] == "IPv6" for g in groups for r in g["rules"])
        prefix_lists = [{"name": p.name, "entries": list(p.entries or [])}
                        for p in self.prefix_lists.values()]
        exported = self.topology.exported() if self.imp.subnets else None
        lab = None
        if exported is not None:
            lab = self._assemble(lab_name, exported, prefix_lists, groups, ipv6)
            try:
                parse(lab, "<import>")
            except FieldError as e:
                if not e.path.startswith(("vpcs", "instances", "externals")):
                    raise self._refused(e) from None
                self.warnings.append(f"the exported network cannot be built as a lab ({e}): "
                                     "a generated network is used instead")
                lab = None
        if lab is None:
            lab = self._assemble(lab_name, self.topology.generated(ipv6), prefix_lists,
                                 groups, ipv6)
            try:
                parse(lab, "<import>")
            except FieldError as e:
                raise self._refused(e) from None
        return ImportResult(lab, [printable(w) for w in self.warnings])

    def _one_family_prefix_lists(self):
        """Where a prefix list holds one address family (Alibaba, CreatePrefixList), a list
        mixing them (not from the cloud, which refuses it) keeps its first entry's family;
        the rest is reported (a rule of the other family then has no entries: warned)."""
        if get_profile(self.provider).mixed_prefix_lists:
            return
        for pl in self.prefix_lists.values():
            if len(pl.families()) > 1:
                keep = _family(pl.entries[0])
                dropped = [e for e in pl.entries if _family(e) != keep]
                pl.entries = [e for e in pl.entries if _family(e) == keep]
                self.warnings.append(
                    f"prefix list {pl.name or pl.key} mixes IPv4 and IPv6 entries, which "
                    f"{self.provider} refuses (one address family per prefix list): kept the "
                    f"IPv{keep} entries, left out {', '.join(dropped[:5])}"
                    + (f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""))

    def _refused(self, e: FieldError) -> LabError:
        files = ", ".join(dict.fromkeys(g.source for g in self.groups.values()))
        return LabError(f"{files}: the lab made from the export is refused by the lab file's "
                        f"rules: {e}")

    def _assemble(self, lab_name, topology, prefix_lists, groups, ipv6) -> dict:
        lab = {"name": lab_name, "provider": self.provider, "vpcs": topology["vpcs"]}
        if prefix_lists:
            lab["prefix_lists"] = prefix_lists
        lab["security_groups"] = groups
        lab["instances"] = topology["instances"]
        lab["externals"] = self.topology.externals(topology["vpcs"], ipv6)
        return lab

    def _declare_referenced(self):
        """Remote groups and prefix lists named by a rule but not in the export."""
        warned = set()
        for g in list(self.groups.values()):
            for r in g.rules:
                if r.remote_kind == "group" and r.remote not in self.groups:
                    self.imp.group(r.remote, g.source).placeholder = True
                    self.warnings.append(
                        f"{r.where}: remote group {short(r.remote)} is not in the export: "
                        "declared "
                        "as an empty placeholder group named after its id (its rules and "
                        "members are unknown)")
                elif r.remote_kind == "prefix_list":
                    pl = self.imp.prefix_list(r.remote)
                    if pl.entries is None and pl.key not in warned:
                        warned.add(pl.key)
                        self.warnings.append(
                            f"{r.where}: the entries of prefix list / address group "
                            f"{short(r.remote)} are not in the export: declared with no "
                            "entries (the rule matches nothing until you add them)")
        for inst in self.imp.instances:
            for key in [k for keys in [inst.groups, *inst.eni_groups.values()] for k in keys]:
                if key not in self.groups:
                    self.imp.group(key, inst.label).placeholder = True
                    self.warnings.append(f"{inst.label}: security group {short(key)} is not "
                                         "in the "
                                         "export: declared as an empty placeholder group")
        for g in self.groups.values():
            if not g.rules_given and not g.placeholder and g.rules:
                self.warnings.append(f"{g.source}: {g.label}: the group itself is not in the "
                                     f"export: declared with the {len(g.rules)} rule(s) found "
                                     "for it (any other rules it has are unknown)")
            elif not g.rules_given and not g.placeholder and \
                    (g.cloud_name or g.key) not in self._documented:
                self.warnings.append(f"{g.source}: {g.label}: its rules are not in the export: "
                                     "declared with no rules")
            if self.provider == "alibaba" and self.imp.alibaba_list_seen and g.type is None \
                    and not g.placeholder:
                self.warnings.append(f"{g.source}: {g.label}: not in the DescribeSecurityGroups "
                                     "export, its type is unknown: taken as a basic group")

    def _name_groups(self):
        """The cloud's names where sgnet can use them. A Huawei group named default,
        Sys-WebServer or Sys-FullAccess (or Alibaba's default) keeps its name: declaring the
        provider's own group with `default_rules: false` gives it the export's rules."""
        names = Names()
        for g in self.groups.values():
            wanted = g.cloud_name or g.key
            if self.provider == "alibaba" and wanted == "default" and \
                    (g.type == "advanced" or g.managed):
                wanted = f"default-{g.key}"  # sgnet's default is Alibaba's basic default group
            g.name = names.take(wanted, g.key)
            if g.cloud_name and g.name != g.cloud_name:
                self.warnings.append(f"{g.source}: {g.label}: name {show(g.cloud_name)} is not "
                                     "usable in a lab (invalid, reserved or already taken): "
                                     f"named {g.name!r}")
            elif not g.cloud_name and not g.placeholder:
                self.warnings.append(f"{g.source}: {g.label}: its name is not in the export: "
                                     "named after its id")

    def _name_prefix_lists(self):
        names = Names()
        for pl in self.prefix_lists.values():
            wanted = pl.key if not pl.key.startswith("tf:") else (pl.cloud_name or pl.key)
            pl.name = names.take(wanted, pl.key)

    def _group_dict(self, g: Group) -> dict:
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
        if not g.rules_given and not g.placeholder and not g.rules and \
                (g.cloud_name or g.key) in self._documented:
            if g.name in self._documented:  # Huawei's own group, known only by its name
                d["default_rules"] = True
                self.warnings.append(f"{g.source}: {g.label}: its rules are not in the export: "
                                     f"given the rules Huawei documents for {g.name}")
            else:
                self.warnings.append(f"{g.source}: {g.label}: its rules are not in the export "
                                     f"and its name is another group's: declared as {g.name} "
                                     "with no rules")
        d["rules"] = [rd for rd in (self._rule_dict(g, r) for r in g.rules) if rd is not None]
        return d

    def _rule_dict(self, owner: Group, r: Rule) -> Optional[dict]:
        d = {"direction": r.direction, "action": r.action, "priority": r.priority,
             "ethertype": f"IPv{r.family}", "protocol": _protocol_field(r.protocol)}
        if r.ports is not None:
            d["ports"] = ports_text(r.ports)
        if r.remote_kind == "cidr":
            d["remote"] = r.remote
        elif r.remote_kind == "group":
            target = self.groups[r.remote]
            if self.provider == "alibaba" and owner.type == "advanced":
                # AuthorizeSecurityGroup: "You cannot reference security groups as sources
                # or destinations in the rules of advanced security groups" (itself too)
                self.warnings.append(f"{r.where}: an advanced group's rule cannot reference "
                                     f"a security group ({target.name}) on Alibaba Cloud: "
                                     "rule dropped")
                return None
            if self.provider == "alibaba" and target.type == "advanced" and target is not owner:
                self.warnings.append(f"{r.where}: remote group {target.name} is an advanced "
                                     "group, which cannot be the remote of another group's "
                                     "rule on Alibaba Cloud: rule dropped")
                return None
            d["remote_group"] = target.name
        elif r.remote_kind == "prefix_list":
            pl = self.prefix_lists[r.remote]
            families = set(pl.families())
            if families and r.family not in families:
                if r.family_given or len(families) > 1:
                    self.warnings.append(f"{r.where}: prefix list {pl.name} has no IPv{r.family}"
                                         f" entries but the rule is IPv{r.family}: rule dropped")
                    return None
                # no ethertype in the export (Alibaba): the prefix list's address family
                family = families.pop()
                d["ethertype"] = f"IPv{family}"
                proto = self.imp.icmp_for_family(r.where, r.protocol, family)
                d["protocol"] = _protocol_field(proto)
            d["remote_prefix_list"] = pl.name
        if r.description:
            d["description"] = r.description
        return d


class _Topology:
    """The lab's network: the export's VPCs, subnets and instances where sgnet can build
    them (Terraform), else a generated one: one VPC, one subnet, one instance per group."""

    def __init__(self, imp: Importer):
        self.provider, self.groups, self.warnings, self.warn = \
            imp.provider, imp.groups, imp.warnings, imp.warn
        self.vpcs, self.subnets, self.subnet_aliases, self.instances = \
            imp.vpcs, imp.subnets, imp.subnet_aliases, imp.instances
        self.eni_ids = set()  # the ENI ids the lab file keeps so far

    def generated(self, ipv6: bool) -> dict:
        vpc = {"name": GENERATED_VPC[0], "cidr": GENERATED_VPC[1]}
        # a /24 holds 253 instances (network, gateway and broadcast aside); more groups get
        # a larger subnet of the same VPC
        prefix = 24
        while prefix > 16 and 2 ** (32 - prefix) - 3 < len(self.groups):
            prefix -= 1
        cidr = GENERATED_SUBNET[1] if prefix == 24 else f"10.0.0.0/{prefix}"
        subnet = {"name": GENERATED_SUBNET[0], "cidr": cidr}
        if ipv6:
            vpc["ipv6_cidr"] = GENERATED_VPC[2]
            subnet["ipv6_cidr"] = GENERATED_SUBNET[2]
        vpc["subnets"] = [subnet]
        return {"vpcs": [vpc], "instances": self._one_instance_per_group(subnet["name"])}

    def _one_instance_per_group(self, subnet_name: str) -> list:
        names = Names({INTERNET[0]})
        out = []
        for g in self.groups.values():
            name = names.take(f"vm-{g.name}", f"vm-{g.key}")
            out.append({"name": name, "subnet": subnet_name, "security_groups": [g.name]})
        return out

    def exported(self) -> Optional[dict]:
        vpcs, vpc_names, subnet_names = {}, Names(), Names()
        subnets_by_vpc = {}
        for s in self.subnets.values():
            if s.vpc_key not in self.vpcs:
                self.warn(s.label, f"its VPC {s.vpc_key} is not in the export: subnet left out")
                continue
            subnets_by_vpc.setdefault(s.vpc_key, []).append(s)
        taken = []  # the IPv4 networks of the VPCs kept so far
        for key, v in self.vpcs.items():
            if key not in subnets_by_vpc:
                self.warn(v.label, "has no subnet in the export: VPC left out")
                continue
            net = _network_or_none(v.cidr)
            clash = next((t for t in taken if net is not None and net.overlaps(t[1])), None)
            if clash is not None:
                # the cloud allows overlapping VPCs; a lab routes its VPCs through one
                # gateway, so they cannot overlap: this one is left out, not the whole network
                self.warn(v.label, f"its CIDR {v.cidr} overlaps VPC {clash[0]}'s "
                          f"({clash[1]}), which a lab cannot hold: VPC left out (its "
                          "instances are placed in the first subnet)")
                continue
            if net is not None:
                taken.append((v.cloud_name or key, net))
            name = vpc_names.take(v.cloud_name or key, key)
            vd = {"name": name, "cidr": v.cidr}
            sub6 = [s.ipv6_cidr for s in subnets_by_vpc[key] if s.ipv6_cidr]
            v6 = v.ipv6_cidr or (_covering(sub6) if sub6 else None)
            if v6:
                vd["ipv6_cidr"] = v6
            vd["subnets"] = []
            for s in subnets_by_vpc[key]:
                sname = subnet_names.take(s.cloud_name or s.key, s.key)
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
        names, used = Names({INTERNET[0]}), set()
        out = []
        for inst in self.instances:
            # a taken name gets what the label says after its file (address or id)
            taken = inst.cloud_name in names.taken
            inst.name = names.take(inst.cloud_name, inst.label.rsplit(": ", 1)[-1])
            if inst.name != inst.cloud_name:
                why = "is another instance's too" if taken else "is not usable in a lab"
                self.warn(inst.label, f"name {show(inst.cloud_name)} {why}: "
                          f"named {inst.name!r}")
            enis = self._instance_enis(inst, by_key, subnets[0], used)
            d = {"name": inst.name, **enis[0]}
            if not d.get("security_groups"):
                d.pop("security_groups", None)
                self.warn(inst.label, "has no security group in the export: sgnet puts it in "
                          "the provider's default group")
            if enis[1:]:
                d["secondary_enis"] = enis[1:]
            out.append(d)
        return out

    def _instance_enis(self, inst: Instance, by_key: dict, first, used: set) -> list:
        """The lab's ENIs of an instance, primary first: the export's subnet, addresses and
        groups where sgnet can use them (warned otherwise)."""
        enis, vpc = [], None
        for i, (skey, ip, ipv6) in enumerate(inst.enis):
            subnet = by_key.get(self.subnet_aliases.get(skey, skey))
            if subnet is None:
                if i:
                    self.warn(inst.label, f"network interface {i}: its subnet "
                              f"{short(str(skey))} is not in the export: interface left out")
                    continue
                self.warn(inst.label, f"its subnet {short(str(skey))} is not in the export: "
                          f"placed in subnet {first.name} with the next free address")
                subnet, ip, ipv6 = first, None, None
            if vpc is None:
                vpc = subnet.vpc_key
            elif subnet.vpc_key != vpc:
                self.warn(inst.label, f"network interface {i} is in another VPC than the "
                          "first (sgnet keeps an instance in one VPC): interface left out")
                continue
            eni = {"subnet": subnet.name}
            for fam, addr, net in ((4, ip, subnet.cidr), (6, ipv6, subnet.ipv6_cidr)):
                a = self._usable_address(inst, addr, net, used) if addr else None
                if a is not None:
                    eni["ip" if fam == 4 else "ipv6"] = str(a)
                    used.add(a)
            keys = inst.eni_groups.get(i)
            groups = self._instance_groups(inst, inst.groups if keys is None else keys,
                                           f"network interface {i}: " if i else "")
            if groups or not i:
                eni["security_groups"] = groups
            if inst.secondary_ips.get(i):
                eni["secondary_ips"] = inst.secondary_ips[i]
            eni_id = inst.eni_ids.get(i)
            if eni_id and labspec.ENI_ID.fullmatch(eni_id) and eni_id not in self.eni_ids:
                eni["eni_id"] = eni_id  # flow logs name the ENI by it (sgnet replay)
                self.eni_ids.add(eni_id)
            elif eni_id:
                self.warn(inst.label, f"network interface {i}: its id {short(eni_id)} "
                          + ("is another's too" if eni_id in self.eni_ids else
                             "is not usable as an ENI id") + ": not kept")
            enis.append(eni)
        return enis

    def _instance_groups(self, inst: Instance, keys: list, what: str = "") -> list:
        """The sgnet names of the groups `keys` of one ENI (Alibaba: of one type)."""
        names = []
        for key in keys:
            g = self.groups[key]
            if g.name not in names:
                names.append(g.name)
        if self.provider == "alibaba":
            types = [self.groups[k].type or "basic" for k in keys]
            if len(set(types)) > 1:
                keep = types[0]
                dropped = [self.groups[k].name for k, t in zip(keys, types) if t != keep]
                self.warn(inst.label, f"{what}is in basic and advanced groups at once, which "
                          f"Alibaba does not allow: kept the {keep} groups, left out {dropped}")
                names = list(dict.fromkeys(self.groups[k].name for k, t in zip(keys, types)
                                           if t == keep))
        return names

    def _usable_address(self, inst, addr, net, used):
        """The address, or None (warned) when it is not one, not in `net` or not free."""
        try:
            if "%" in addr:  # an IPv6 scope: not an instance address
                raise ValueError(addr)
            a = ipaddress.ip_address(addr)
        except ValueError:
            self.warn(inst.label, f"address {show(addr)} is not an IP address: the next free "
                      "one is used")
            return None
        n = ipaddress.ip_network(net, strict=False) if net else None
        if n is None or a not in n or a in (n.network_address, n.network_address + 1) or \
                (a.version == 4 and a == n.broadcast_address) or a in used:
            self.warn(inst.label, f"address {a} is outside its subnet, reserved or already "
                      "used: the next free one is used")
            return None
        return a

    def externals(self, vpcs: list, ipv6: bool) -> list:
        """One `internet` host outside every VPC (IPv6 too when the lab has IPv6)."""
        nets = [ipaddress.ip_network(v[k], strict=False) for v in vpcs
                for k in ("cidr", "ipv6_cidr") if v.get(k)]
        has6 = ipv6 or any(v.get("ipv6_cidr") for v in vpcs)

        def outside(candidates):
            # the first candidate outside the VPCs; the last one when the VPCs cover them all
            # (such VPCs are public ranges, which the lab file refuses: the generated network
            # is used then)
            return next((a for a in candidates
                         if not any(ipaddress.ip_address(a) in n for n in nets)),
                        candidates[-1])

        ext = {"name": INTERNET[0], "ip": outside(INTERNET[1])}
        if has6:
            ext["ipv6"] = outside(INTERNET[2])
        return [ext]


class Names:
    """Valid, unique sgnet names for the cloud's names (one allocator per kind of object)."""

    def __init__(self, taken=()):
        self.taken = set(taken)
        self.counters = {}  # base -> next number to try (no rescans: linear in the names)

    def take(self, wanted, fallback) -> str:
        name = self._choose(str(wanted or ""), str(fallback or ""))
        self.taken.add(name)
        return name

    def _choose(self, wanted, fallback) -> str:
        for candidate in (wanted, _sanitise(wanted), f"{_sanitise(wanted)}-{_sanitise(fallback)}",
                          _sanitise(fallback)):
            candidate = candidate[:64]
            if candidate and OBJECT_NAME.fullmatch(candidate) and \
                    candidate not in self.taken and candidate not in RESERVED_NAMES:
                return candidate
        base = _sanitise(fallback) or "x"
        n = self.counters.get(base, 2)
        while True:
            suffix = f"-{n}"
            name = base[:64 - len(suffix)] + suffix
            n += 1
            if name not in self.taken:
                self.counters[base] = n
                return name


def _network_or_none(cidr):
    try:
        return ipaddress.ip_network(str(cidr), strict=False) if cidr else None
    except ValueError:
        return None  # the lab file names it (the generated network is used then)


def _sanitise(name) -> str:
    text = re.sub(r"[^A-Za-z0-9_.:-]+", "-", str(name or ""))
    return re.sub(r"^[^A-Za-z0-9]+", "", text).rstrip("-")


def covering(nets: list):
    """The first of `nets` widened until it holds every one of them (one family)."""
    net = nets[0]
    while not all(n.subnet_of(net) for n in nets):
        net = net.supernet()
    return net


def _covering(cidrs: list) -> str:
    """The network holding every one of `cidrs` (IPv6 subnets of one VPC), /64 at most."""
    net = covering([ipaddress.ip_network(c, strict=False) for c in cidrs])
    return str(net if net.prefixlen <= 64 else net.supernet(new_prefix=64))


# -- values: sgnet.core.values reads them; what an export adds ----------------------------

_INTEGER = re.compile(r"[+-]?[0-9]{1,%d}" % MAX_DIGITS)  # ASCII digits only: '٢٢' is no number
_LONG_NUMBER = re.compile(r"[0-9]{6}")  # no port has six digits: '000022' is not read as 22


def _integer(value) -> Optional[int]:
    """An int, or a string of ASCII digits with an optional sign, as an int (a priority of
    '-5' is clamped, naming -5); None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _protocol(value) -> Optional[int]:
    """A protocol name (any case, the names exports use too), number (int or string, signed
    like every number of an export), or all (None: absent, '', all, any, -1); ValueError
    else."""
    if value is None or isinstance(value, str) and value.strip().lower() in ALL_PROTOCOLS:
        return None
    n = _integer(value)
    return parse_protocol(value if n is None else n, EXPORT_PROTOCOLS, ALL_PROTOCOLS)


def _protocol_field(proto: Optional[int]):
    """A protocol as the lab file writes it: its name, all, or its number (an integer)."""
    name = protocol_name(proto)
    return int(name) if name.isdigit() else name


def _ports(value) -> Optional[tuple]:
    """Port ranges of a rule: '22/22', '-1/-1', '22,80-90', 8080 (a JSON number is that
    port); None = all (a range that covers 1-65535 too); ValueError saying why else. Each
    item is read by values.parse_ports; an all word makes the rule all ports. An empty item
    of a list ('22,', '22,,80') is no port (the caller warns): it never
    widens the rule; a list of nothing but empty items cannot be read."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"port range {show(value)} cannot be read")
    ranges = []
    items = [item.strip() for item in str(value).split(",")]
    if not any(items):
        raise ValueError(f"port range {show(value)} cannot be read")
    for text in items:
        if not text:
            continue
        if text in ALL_PORTS_WORDS:
            return None
        if _LONG_NUMBER.search(text):
            raise ValueError(f"port range {show(value)} cannot be read")
        try:
            ranges += parse_ports(text) or [(MIN_PORT, MAX_PORT)]
        except ValueProblem as e:
            what = "is outside 1-65535" if e.problem == "bad port range" else "cannot be read"
            raise ValueError(f"port range {show(value)} {what}") from None
    ranges = tuple(sorted(set(ranges)))
    if (MIN_PORT, MAX_PORT) in ranges:
        return None
    return ranges


def protocol_or_none(value):
    """The protocol number of a field, None for all and for one that cannot be read (the
    readers' check for ICMP before the rule is normalised)."""
    try:
        return _protocol(value)
    except ValueError:
        return None


def address_group_entries(imp, where, addresses) -> list:
    """Address group / prefix list entries (nodes): addresses, CIDRs and ranges 'a-b' ->
    normalised CIDRs; one that cannot be read is left out (warned)."""
    # a range is up to 254 CIDRs: bounded as it expands, not once the list is built
    bound = BOUNDS["prefix_list_entries"]
    out = []
    for node in addresses:
        text = node.text()
        if not text:
            continue
        try:
            if "%" in text:  # an IPv6 scope: no network
                raise ValueError(text)
            if "-" in text:
                lo, hi = (ipaddress.ip_address(x.strip()) for x in text.split("-", 1))
                for n in ipaddress.summarize_address_range(lo, hi):
                    out.append(str(n))
                    if len(out) > bound:
                        break
            else:
                out.append(str(ipaddress.ip_network(text, strict=False)))
        except (ValueError, TypeError):
            imp.warn(where, f"address group entry {show(text)} cannot be read: left out")
        if len(out) > bound:
            node.fail(f"the entries up to this one make more than {bound:,} CIDRs, more than a "
                      "lab file's prefix list holds", text)
    return out

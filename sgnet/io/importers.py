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

Bad input. Every field is read through one accessor (`_Node`) that knows the field's JSON path
and checks its JSON type; a malformed export is refused (`ExportError`, exit 2) with the file,
the path (``Permissions.Permission[3].PortRange``) and the value, cut to a readable length:

- a field of the wrong JSON type (a list where a string is expected, a string where an object
  is), ``null`` being the same as a missing field; a group or rule list that is not a list; an
  id that the export must have (``SecurityGroupId``, a Huawei group's ``id``) missing or empty;
- JSON nested deeper than `MAX_DEPTH` levels, an integer of more than `MAX_DIGITS` digits,
  ``NaN`` or ``Infinity``, an id, name, address or port field longer than `MAX_TEXT`
  characters;
- Huawei address ranges that expand to more CIDRs than a lab file's prefix list holds
  (checked as they expand: one IPv6 range is up to 254 CIDRs);
- the file itself: unreadable, not UTF-8, not JSON (labfile.read_text: regular files only,
  within the size limit);
- a lab beyond a bound of the lab file (groups, rules per group, ...): the bound is named.

A field of the right type whose value sgnet cannot read (an unknown protocol, port range,
direction, CIDR) keeps the choices above: the rule is dropped (or the value replaced) with a
warning. Numbers are ASCII digits (``'٢٢'`` is not 22).

Names from the export are sanitised, never refused: characters a lab file name cannot hold
(anything but letters, digits, ``_ . : -``, including NUL and line breaks) become ``-``, the
name is cut to 64 characters, and a name that ends up empty, reserved or taken becomes
``<name>-<id>``, the id, or a numbered variant (``<id>-2``). Descriptions keep their text with
non-printable characters written as escapes (``\\x00``) and are cut to `MAX_DESCRIPTION`
characters. Warnings are made printable the same way, so that a value of the export can never
start a new line in the lab file's warning comments (where it would be YAML of the export's
choosing). The lab is validated by the lab file parser and its text loaded back to the same
data before it is returned: an import writes a file that `sgnet lint` reads, or refuses.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Optional

import yaml

from sgnet.io import labfile
from sgnet.core.errors import _NO_VALUE, FieldError, LabError
from sgnet.io.labfile import LAB_NAME, OBJECT_NAME, parse, read_text
from sgnet.core.model import PORTED_PROTOCOLS, PROTOCOL_NAMES

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


MAX_DEPTH = 100  # levels of JSON nesting (a Terraform plan of modules in modules stays far below)
MAX_DIGITS = 18  # digits of an integer (every number of an export fits in 64 bits)
MAX_TEXT = 4096  # characters of an id, name, address, CIDR or port field
MAX_DESCRIPTION = 1024  # characters kept of a description (the clouds allow 255 to 512)
MAX_SHOWN = 60  # characters of a value shown in a message
MAX_REF_PARTS = 80  # dotted parts of a Terraform reference that are looked up


class ExportError(FieldError):
    """A malformed export: the file, the JSON path of the field and its value (cut)."""

    def __init__(self, source, path, problem, value=_NO_VALUE):
        self.source, self.path, self.problem = source, path, problem
        self.value, self.allowed = value, None
        shown = path if len(path) <= 200 else f"{path[:150]}...{path[-40:]}"
        msg = f"{source}: {shown}: {problem}"
        if value is not _NO_VALUE:
            msg += f" (got {_show(value)})"
        LabError.__init__(self, msg)


class _Unreadable:
    """A JSON number Python must not convert (too many digits, NaN, Infinity)."""

    def __init__(self, what):
        self.what = what

    def __repr__(self):
        return self.what


def _printable(text: str) -> str:
    """`text` with every non-printable character (NUL, line breaks, escapes, lone
    surrogates) written as its Python escape; printable non-ASCII text is kept."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _short(text: str, limit: int = MAX_SHOWN) -> str:
    """An export's string for a message: printable, cut to `limit` characters."""
    if len(text) > limit:
        return _printable(text[:limit]) + f"...({len(text)} characters)"
    return _printable(text)


def _show(value) -> str:
    """A value of an export as a message shows it: cut, printable, never expanded."""
    if isinstance(value, str):
        if len(value) > MAX_SHOWN:
            return repr(value[:MAX_SHOWN]) + f"...({len(value)} characters)"
        return repr(value)
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, dict):
        keys = ", ".join(_short(str(k), 20) for k in list(value)[:5])
        return f"an object{' with keys ' + keys if keys else ''}" + \
            (", ..." if len(value) > 5 else "")
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    return _short(repr(value))


_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class _Node:
    """One value of an export and where it is (file, JSON path). Every field is read through
    these methods: each checks the JSON type and raises ExportError naming the path; null is
    the same as a missing field."""

    __slots__ = ("value", "file", "parent", "key")

    def __init__(self, value, file: str, parent: "Optional[_Node]" = None, key=None):
        # the path is built from parent and key only when a message needs it
        self.value, self.file, self.parent, self.key = value, file, parent, key

    @property
    def path(self) -> str:
        steps, node = [], self
        while node is not None and node.parent is not None:
            steps.append(node.key)
            node = node.parent
        out = ""
        for key in reversed(steps):
            if isinstance(key, int):
                out += f"[{key}]"
            elif _SIMPLE_KEY.fullmatch(key):
                out += f".{key}" if out else key
            else:
                out += f"[{json.dumps(_short(key, 40), ensure_ascii=False)}]"
        return out

    def fail(self, problem, value=_NO_VALUE):
        raise ExportError(self.file, self.path or "(top)", problem, value)

    def _expected(self, what):
        self.fail(f"must be {what}", self.value)

    def child(self, key) -> "_Node":
        if isinstance(self.value, dict):
            return _Node(self.value.get(key), self.file, self, key)
        return _Node(self.value[key] if isinstance(key, int) else None, self.file, self, key)

    def __getitem__(self, key: str) -> "_Node":
        """The field `key` of this object (a null node when it is missing)."""
        if not isinstance(self.value, dict):
            self._expected("an object")
        return self.child(key)

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and self.value.get(key) is not None

    def is_object(self) -> bool:
        return isinstance(self.value, dict)

    def object(self) -> "_Node":
        """This value as an object ({} when null)."""
        if self.value is None:
            return _Node({}, self.file, self.parent, self.key)
        if not isinstance(self.value, dict):
            self._expected("an object")
        return self

    def items(self, required=False) -> list:
        """The items of this list ([] when null)."""
        if self.value is None and not required:
            return []
        if not isinstance(self.value, list):
            self._expected("a list")
        return [self.child(i) for i in range(len(self.value))]

    def objects(self, required=False) -> list:
        """The items of this list, each an object."""
        out = self.items(required)
        for item in out:
            if not isinstance(item.value, dict):
                item._expected("an object")
        return out

    def entries(self) -> list:
        """(key, node) of this object's fields."""
        return [(k, self.child(k)) for k in self.object().value]

    def text(self, limit: int = MAX_TEXT) -> str:
        """A string field, stripped ('' when null)."""
        v = self.value
        if v is None:
            return ""
        if not isinstance(v, str):
            self._expected("a string")
        if len(v) > limit:
            self.fail(f"is longer than {limit} characters", v)
        return v.strip()

    def required_text(self, what: str) -> str:
        t = self.text()
        if not t:
            self.fail(f"is required ({what})", self.value)
        return t

    def texts(self) -> list:
        """A list of strings (null items skipped), each stripped, empty ones left out."""
        out = []
        for item in self.items():
            t = item.text()
            if t:
                out.append(t)
        return out

    def description(self) -> str:
        """A free text: printable (escapes for the rest), cut to MAX_DESCRIPTION."""
        v = self.value
        if v is None:
            return ""
        if not isinstance(v, str):
            self._expected("a string")
        text = v.strip()[:MAX_DESCRIPTION]
        return _printable(text)[:MAX_DESCRIPTION]

    def scalar(self):
        """A field that is a string or an integer (ports, priority, protocol): the value,
        stripped if a string (None when null)."""
        v = self.value
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            self._expected("a string or an integer")
        if isinstance(v, int):
            return v
        return self.text()

    def flag(self) -> Optional[bool]:
        """A true/false field (None when null)."""
        if self.value is None or isinstance(self.value, bool):
            return self.value
        self._expected("true or false")


@dataclass
class ImportResult:
    lab: dict  # a lab file as plain data (contract section 1), ready for yaml.safe_dump
    warnings: list = field(default_factory=list)

    def to_yaml(self) -> str:
        """The lab file, its warnings first as comments (printable: one line each)."""
        head = "".join(f"# warning: {_printable(w)}\n" for w in self.warnings)
        return head + yaml.dump(self.lab, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """No anchors and aliases: a value used twice is written twice (the lab file's reader
    bounds what aliases may expand to). libyaml's emitter where PyYAML has it (four times
    faster; the same text)."""

    def ignore_aliases(self, data):
        return True


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    entries: Optional[list] = None  # None: not in the export; else normalised CIDR strings
    name: Optional[str] = None

    def families(self) -> set:
        return {6 if ":" in e else 4 for e in self.entries or []}


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
        raise LabError(f"unknown export kind {_show(kind)}; allowed: {', '.join(KINDS)}")
    if not isinstance(name, str) or not LAB_NAME.fullmatch(name):
        raise LabError(f"lab name {_show(name)} is not valid; allowed: 1-8 characters [a-z0-9]")
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
    result = imp.build(name)
    _check_text(", ".join(p for p, _ in docs), result)
    return result


def _check_text(files: str, result: ImportResult):
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


def _load_json(path: str) -> _Node:
    """An export file as a _Node. Integers beyond MAX_DIGITS digits and NaN/Infinity are
    kept unconverted (refused where a field reads them); nesting is bounded."""
    text = read_text(path, "the export", encoding="utf-8-sig")
    try:
        data = json.loads(text, parse_int=_json_int, parse_constant=_Unreadable)
    except json.JSONDecodeError as e:
        raise LabError(f"{path}: not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
                       ) from None
    except RecursionError:  # deeper than Python's own stack: find where, from the text
        raise LabError(f"{path}: {_too_deep_at(text)}: JSON nested deeper than {MAX_DEPTH} "
                       "levels") from None
    _check_depth(path, data)
    return _Node(data, path)


def _too_deep_at(text: str) -> str:
    """'line L, column C' where the nesting of JSON `text` first goes beyond MAX_DEPTH."""
    depth = 0
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, m.start()) + 1
                return f"line {line}, column {m.start() - text.rfind(chr(10), 0, m.start())}"
        elif c in "]}":
            depth -= 1
    return "(top)"


def _json_int(digits: str):
    if len(digits.lstrip("-")) > MAX_DIGITS:
        return _Unreadable(f"a number of {len(digits.lstrip('-'))} digits")
    return int(digits)


def _check_depth(path: str, data):
    """Refuse nesting deeper than MAX_DEPTH (the readers recurse into Terraform modules).
    One level at a time, with no per-value objects: a 16 MB file of small lists takes a
    fraction of a second; the path is looked for only when the nesting is too deep."""
    level, depth = ([data] if isinstance(data, (dict, list)) else []), 1
    while level:
        if depth > MAX_DEPTH:
            _deepest(_Node(data, path)).fail(f"nested deeper than {MAX_DEPTH} levels")
        nxt = []
        for v in level:
            nxt += [c for c in (v.values() if isinstance(v, dict) else v)
                    if isinstance(c, (dict, list))]
        level, depth = nxt, depth + 1


def _deepest(top: _Node) -> _Node:
    """The first value, in document order, nested MAX_DEPTH + 1 levels deep."""
    stack = [(top, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node
        v = node.value
        keys = list(v) if isinstance(v, dict) else range(len(v))
        stack += [(node.child(k), depth + 1) for k in reversed(keys)
                  if isinstance(v[k], (dict, list))]
    return top


def _unrecognised(path, kind, expected):
    return LabError(f"{path}: not a recognised {kind} export; expected {expected}")


def _text(value) -> str:
    """A string the readers have read (None for an absent field becomes '')."""
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
        self._by_name = (-1, {})

    def warn(self, where: str, message: str):
        self.warnings.append(f"{where}: {message}")

    def group(self, key: str, source: str, cloud_name=None) -> _Group:
        g = self.groups.get(key)
        if g is None:
            g = self.groups[key] = _Group(key, f"group {_short(key)}", source)
        if cloud_name and not g.cloud_name:
            g.cloud_name = cloud_name
            g.label = f"group {_show(cloud_name)} ({_short(key)})"
        return g

    def groups_by_name(self) -> dict:
        """Cloud name -> key of the groups known so far (built once per number of groups)."""
        if self._by_name[0] != len(self.groups):
            self._by_name = (len(self.groups), {g.cloud_name: k for k, g in self.groups.items()
                                                if g.cloud_name})
        return self._by_name[1]

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
            self.warn(where, f"unknown direction {_show(direction)}: rule dropped")
            return None
        a = ACTIONS.get(_text(action).lower())
        if a is None:
            self.warn(where, f"unknown action {_show(action)}: rule dropped")
            return None
        prio = self._priority(where, priority)
        try:
            proto = _protocol(protocol)
        except ValueError:
            self.warn(where, f"unknown protocol {_show(protocol)}: rule dropped")
            return None

        given = [(k, _text(v) if isinstance(v, str) else v) for k, v in remotes]
        given = [(k, v) for k, v in given if v not in (None, "")]
        if len(given) > 1:
            self.warn(where, "names several remotes (" + ", ".join(
                f"{k} {_short(str(v))}" for k, v in given) + f"): only {given[0][0]} "
                f"{_short(str(given[0][1]))} is kept, as the cloud does")
        kind, value, cidr_family = "any", None, None
        if given:
            kind, value = given[0]
            if kind == "cidr":
                try:
                    if "%" in str(value):  # an IPv6 scope: no meaning for a remote
                        raise ValueError(value)
                    net = ipaddress.ip_network(str(value), strict=False)
                except ValueError:
                    self.warn(where, f"remote {_show(value)} is not an IP address or CIDR: "
                              "rule dropped")
                    return None
                if "/" in str(value) and \
                        ipaddress.ip_interface(str(value)).ip != net.network_address:
                    self.warn(where, f"remote {_short(str(value))} has host bits set: taken as "
                              f"{net}")
                value, cidr_family = str(net), net.version

        et = _text(ethertype).lower()
        if et and et not in ("ipv4", "ipv6"):
            self.warn(where, f"unknown ethertype {_show(ethertype)}: rule dropped")
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
            self.warn(where, f"{what} {_show(ports)} on protocol {_protocol_text(proto)} cannot "
                      "be represented: the rule is widened to the whole protocol")
            port_ranges = None
        if icmp and any(x not in (None, -1) for x in icmp):
            tc = "/".join("any" if x in (None, -1) else _short(str(x)) for x in icmp)
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
        n = _integer(value)
        if n is None:
            self.warn(where, f"priority {_show(value)} is not a number: taken as 1")
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
            lab = self._assemble(lab_name, self._generated_topology(ipv6), prefix_lists,
                                 groups, ipv6)
            try:
                parse(lab, "<import>")
            except FieldError as e:
                raise self._refused(e) from None
        return ImportResult(lab, [_printable(w) for w in self.warnings])

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
                        f"{r.where}: remote group {_short(r.remote)} is not in the export: "
                        "declared "
                        "as an empty placeholder group named after its id (its rules and "
                        "members are unknown)")
                elif r.remote_kind == "prefix_list":
                    pl = self.prefix_list(r.remote)
                    if pl.entries is None and pl.key not in warned:
                        warned.add(pl.key)
                        self.warnings.append(
                            f"{r.where}: the entries of prefix list / address group "
                            f"{_short(r.remote)} are not in the export: declared with no "
                            "entries (the rule matches nothing until you add them)")
        for inst in self.instances:
            for key in inst.groups:
                if key not in self.groups:
                    self.group(key, inst.label).placeholder = True
                    self.warnings.append(f"{inst.label}: security group {_short(key)} is not "
                                         "in the "
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
        names = _Names()
        for g in self.groups.values():
            wanted = g.cloud_name or g.key
            if self.provider == "alibaba" and wanted == "default" and \
                    (g.type == "advanced" or g.managed):
                wanted = f"default-{g.key}"  # sgnet's default is Alibaba's basic default group
            g.name = names.take(wanted, g.key)
            if g.cloud_name and g.name != g.cloud_name:
                self.warnings.append(f"{g.source}: {g.label}: name {_show(g.cloud_name)} is not "
                                     "usable in a lab (invalid, reserved or already taken): "
                                     f"named {g.name!r}")
            elif not g.cloud_name and not g.placeholder:
                self.warnings.append(f"{g.source}: {g.label}: its name is not in the export: "
                                     "named after its id")

    def _name_prefix_lists(self):
        names = _Names()
        for pl in self.prefix_lists.values():
            wanted = pl.key if not pl.key.startswith("tf:") else (pl.cloud_name or pl.key)
            pl.name = names.take(wanted, pl.key)

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
            families = set(pl.families())
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
        names = _Names({INTERNET[0]})
        out = []
        for g in self.groups.values():
            name = names.take(f"vm-{g.name}", f"vm-{g.key}")
            out.append({"name": name, "subnet": subnet_name, "security_groups": [g.name]})
        return out

    def _exported_topology(self) -> Optional[dict]:
        vpcs, vpc_names, subnet_names = {}, _Names(), _Names()
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
        first = subnets[0]
        names, used = _Names({INTERNET[0]}), set()
        out = []
        for inst in self.instances:
            inst.name = names.take(inst.cloud_name, inst.label)
            if inst.name != inst.cloud_name:
                self.warn(inst.label, f"name {_show(inst.cloud_name)} is not usable in a lab: "
                          f"named {inst.name!r}")
            groups = self._instance_groups(inst)
            enis, vpc = [], None
            for i, (skey, ip, ipv6) in enumerate(inst.enis):
                subnet = by_key.get(self.subnet_aliases.get(skey, skey))
                if subnet is None:
                    if i:
                        self.warn(inst.label, f"network interface {i}: its subnet "
                                  f"{_short(str(skey))} is "
                                  "not in the export: interface left out")
                        continue
                    self.warn(inst.label, f"its subnet {_short(str(skey))} is not in the "
                              "export: placed in "
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
                    a = self._usable_address(inst, addr, net, used) if addr else None
                    if a is not None:
                        eni["ip" if fam == 4 else "ipv6"] = str(a)
                        used.add(a)
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

    def _usable_address(self, inst, addr, net, used):
        """The address, or None (warned) when it is not one, not in `net` or not free."""
        try:
            if "%" in addr:  # an IPv6 scope: not an instance address
                raise ValueError(addr)
            a = ipaddress.ip_address(addr)
        except ValueError:
            self.warn(inst.label, f"address {_show(addr)} is not an IP address: the next free "
                      "one is used")
            return None
        n = ipaddress.ip_network(net, strict=False) if net else None
        if n is None or a not in n or a in (n.network_address, n.network_address + 1) or \
                (a.version == 4 and a == n.broadcast_address) or a in used:
            self.warn(inst.label, f"address {a} is outside its subnet, reserved or already "
                      "used: the next free one is used")
            return None
        return a

    def _externals(self, vpcs: list, ipv6: bool) -> list:
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


class _Names:
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


def _sanitise(name) -> str:
    text = re.sub(r"[^A-Za-z0-9_.:-]+", "-", str(name or ""))
    return re.sub(r"^[^A-Za-z0-9]+", "", text).rstrip("-")


def _covering(cidrs: list) -> str:
    """The smallest network holding every one of `cidrs` (IPv6 subnets of one VPC)."""
    nets = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    net = nets[0]
    while not all(n.subnet_of(net) for n in nets):
        net = net.supernet()
    return str(net if net.prefixlen <= 64 else net.supernet(new_prefix=64))


_INTEGER = re.compile(r"[+-]?[0-9]{1,%d}" % MAX_DIGITS)  # ASCII digits only: '٢٢' is no number


def _integer(value) -> Optional[int]:
    """An int, or a string of ASCII digits, as an int; None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _protocol(value) -> Optional[int]:
    """A protocol name (any case), number (int or string), or all (None); ValueError else."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(value)
    if isinstance(value, int):
        if 0 <= value <= 255:
            return value
        raise ValueError(value)
    text = value.strip().lower()
    if text in ALL_PROTOCOLS:
        return None
    n = _integer(text)
    if n is not None:
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
    """Port ranges of a rule: '22/22', '-1/-1', '22,80-90', 8080; None = all."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"port range {_show(value)} cannot be read")
    ranges = []
    for item in str(value).split(","):
        text = item.strip()
        if text in ("-1/-1", "-1", "all", "any", ""):
            return None
        m = re.fullmatch(r"([0-9]{1,5})(?:\s*[-/]\s*([0-9]{1,5}))?", text)
        if not m:
            raise ValueError(f"port range {_show(value)} cannot be read")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if not (1 <= lo <= hi <= 65535):
            raise ValueError(f"port range {_show(value)} is outside 1-65535")
        ranges.append((lo, hi))
    ranges = tuple(sorted(set(ranges)))
    if any(lo <= 1 and hi >= 65535 for lo, hi in ranges):
        return None
    return ranges


# -- Alibaba Cloud ------------------------------------------------------------------------

def _read_alibaba(imp: _Importer, path: str, data: _Node):
    docs = data.items() if isinstance(data.value, list) else [data]
    for doc in docs:
        if doc.has("Permissions"):
            _alibaba_attribute(imp, path, doc)
        elif doc.has("SecurityGroups"):
            _alibaba_groups(imp, path, doc)
        else:
            raise _unrecognised(path, "alibaba", "a DescribeSecurityGroupAttribute response "
                                "(SecurityGroupId, Permissions.Permission[]) or a "
                                "DescribeSecurityGroups response (SecurityGroups.SecurityGroup[])")


def _alibaba_inner_access(imp, where, g: _Group, value: _Node):
    v = value.text().lower()
    if not v:
        return
    if v not in ("accept", "drop"):
        imp.warn(where, f"unknown InnerAccessPolicy {_show(value.value)}: ignored")
        return
    if g.inner_access and g.inner_access != v:
        imp.warn(where, f"InnerAccessPolicy {v} disagrees with another file "
                 f"({g.inner_access}): the first is kept")
        return
    g.inner_access, g.inner_access_from = v, where


def _alibaba_groups(imp: _Importer, path: str, doc: _Node):
    """DescribeSecurityGroups: type (normal/enterprise), ServiceManaged, names."""
    imp.alibaba_list_seen = True
    for item in doc["SecurityGroups"]["SecurityGroup"].objects(required=True):
        gid = item["SecurityGroupId"].required_text("every group has an id")
        g = imp.group(gid, path, cloud_name=item["SecurityGroupName"].text() or None)
        where = f"{path}: {g.label}"
        g.description = g.description or item["Description"].description()
        stype = item["SecurityGroupType"].text().lower()
        if stype:
            if stype not in ALIBABA_TYPES:
                imp.warn(where, f"unknown SecurityGroupType {_show(stype)}: taken as basic")
            g.type = ALIBABA_TYPES.get(stype, "basic")
        if item["ServiceManaged"].flag():
            g.managed = True
        # Not in every API version's response; the attribute response always has it.
        _alibaba_inner_access(imp, where, g, item["InnerAccessPolicy"])


def _alibaba_attribute(imp: _Importer, path: str, doc: _Node):
    """DescribeSecurityGroupAttribute: one group and its rules (several pages may repeat it)."""
    gid = doc["SecurityGroupId"].required_text("the group's id")
    g = imp.group(gid, path, cloud_name=doc["SecurityGroupName"].text() or None)
    g.rules_given = True
    g.description = g.description or doc["Description"].description()
    _alibaba_inner_access(imp, f"{path}: {g.label}", g, doc["InnerAccessPolicy"])
    perms = doc["Permissions"]
    if perms.is_object():
        perms = perms["Permission"]
    for i, p in enumerate(perms.objects()):
        rid = p["SecurityGroupRuleId"].text()
        where = f"{path}: {g.label}: rule {_short(rid) if rid else f'#{i}'}"
        imp.add_rule(g, rid or None, _alibaba_permission(imp, where, p))


def _alibaba_permission(imp: _Importer, where: str, p: _Node) -> Optional[_Rule]:
    if p["NicType"].text().lower() == "internet":
        imp.warn(where, "NicType internet is a classic-network rule for the public NIC; a lab "
                 "is a VPC: rule dropped")
        return None
    direction = p["Direction"].text()
    ingress = direction.lower() == "ingress"
    there, here = ("Source", "Dest") if ingress else ("Dest", "Source")
    f = {k: p[k].text() for k in (
        f"{there}GroupOwnerAccount", f"{there}GroupOwnerId", f"{there}GroupId",
        f"{here}CidrIp", f"Ipv6{here}CidrIp", f"{there}CidrIp", f"Ipv6{there}CidrIp",
        f"{there}PrefixListId", "SourcePortRange", "PortRangeListId", "Policy")}
    owner = f[f"{there}GroupOwnerAccount"] or f[f"{there}GroupOwnerId"]
    if owner and f[f"{there}GroupId"]:
        imp.warn(where, f"{there}GroupId {_short(f[f'{there}GroupId'])} belongs to account "
                 f"{_short(owner)}: another account's group")
    for local in (f[f"{here}CidrIp"], f[f"Ipv6{here}CidrIp"]):
        if local:
            imp.warn(where, f"{here}CidrIp {_short(local)} restricts the local address, which "
                     "sgnet cannot express: the rule applies to every member")
    spr = f["SourcePortRange"]
    if spr and spr not in ("-1/-1", "1/65535"):
        imp.warn(where, f"SourcePortRange {_short(spr)} cannot be represented: the rule "
                 "matches every source port")
    ports = p["PortRange"].scalar()
    if f["PortRangeListId"]:
        imp.warn(where, f"port list {_short(f['PortRangeListId'])} is not in the export and "
                 "sgnet has no port lists: the rule matches every port")
        ports = None
    protocol = p["IpProtocol"].scalar()
    if _protocol_safe(protocol) in (1, 58) and str(ports or "") not in ("", "-1/-1"):
        imp.warn(where, f"ICMP PortRange {_short(str(ports))} (type/code) cannot be "
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


def _protocol_safe(value):
    try:
        return _protocol(value)
    except ValueError:
        return None


# -- Huawei Cloud -------------------------------------------------------------------------

def _read_huawei(imp: _Importer, path: str, data: _Node):
    found = False
    if data.is_object():
        if data.has("security_group"):
            _huawei_group(imp, path, data["security_group"])
            found = True
        if data.has("security_groups"):
            for g in data["security_groups"].items():
                _huawei_group(imp, path, g)
            found = True
        rules = None
        if data.has("security_group_rule"):
            rules = [data["security_group_rule"]]
        elif data.has("security_group_rules"):
            rules = data["security_group_rules"].items()
        if rules is not None:
            for i, r in enumerate(rules):
                _huawei_rule(imp, path, r, i)
            found = True
    if not found:
        raise _unrecognised(path, "huawei", "a ListSecurityGroupRules / ListSecurityGroups / "
                            "ShowSecurityGroup response (v3 or v2.0): security_group_rules[], "
                            "security_groups[] or security_group")


def _huawei_group(imp: _Importer, path: str, item: _Node):
    gid = item["id"].required_text("every security group has an id")
    g = imp.group(gid, path, cloud_name=item["name"].text() or None)
    g.description = g.description or item["description"].description()
    rules = item["security_group_rules"]
    if rules.value is not None:
        g.rules_given = True
        for i, r in enumerate(rules.items()):
            _huawei_rule(imp, path, r, i, default_group=g.key)


def _huawei_rule(imp: _Importer, path: str, r: _Node, index: int, default_group=None):
    gid = r["security_group_id"].text() or default_group
    if not gid:
        r["security_group_id"].fail("is required (every rule names its security group)")
    g = imp.group(gid, path)
    g.rules_given = True
    rid = r["id"].text()
    where = f"{path}: {g.label}: rule {_short(rid) if rid else f'#{index}'}"
    v3 = any(k in r.value for k in ("multiport", "action", "priority"))
    if r["enabled"].flag() is False:
        imp.warn(where, "the rule is disabled (enabled: false) and has no effect: not imported")
        imp.add_rule(g, rid, None, v3)
        return
    imp.add_rule(g, rid, _huawei_rule_fields(imp, where, r, v3), v3)


def _huawei_rule_fields(imp, where, r: _Node, v3: bool, terraform=False, remotes=None):
    """One Huawei rule: v3 API (`multiport`, `action`, `priority`), v2.0 API (no action or
    priority: every rule allows, priority 1), or Terraform (`ports`; 0 and "" mean unset,
    and a missing action or priority is the provider's documented default, allow and 1).
    `remotes`: the group and address group ids when a Terraform plan resolved them."""
    protocol = r["protocol"].scalar()
    proto = _protocol_safe(protocol)
    unset = (None, "", 0) if terraform else (None, "")
    lo, hi = r["port_range_min"].scalar(), r["port_range_max"].scalar()
    lo = None if lo in unset else lo
    hi = None if hi in unset else hi
    ports_key = "ports" if terraform else "multiport"
    icmp, ports = None, r[ports_key].scalar()
    ports = None if ports in ("", None) else ports
    if ports is None and (lo is not None or hi is not None):
        if proto in (1, 58):
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
    values: _Node  # an object
    expressions: _Node  # an object: from the plan's configuration ({} for a state)
    module: str  # the module instance it is in: "module.x[0]." or ""

    @property
    def where(self):
        return f"{self.path}: {_short(self.address, 200)}"


class _Terraform:
    """The managed resources of `terraform show -json` outputs, and reference resolution."""

    def __init__(self, docs):
        self.resources = []
        for path, doc in docs:
            if not doc.is_object() or "format_version" not in doc.value or \
                    not (doc.has("values") or doc.has("planned_values")):
                raise _unrecognised(path, "terraform", "the output of `terraform show -json` "
                                    "(format_version and values.root_module or "
                                    "planned_values.root_module)")
            root = doc["values"] if doc.has("values") else doc["planned_values"]
            config = {}
            self._walk_config(doc["configuration"].object()["root_module"].object(), "",
                              config)
            self._walk_values(path, root.object()["root_module"].object(), config)
        self.by_address = {}
        self.by_base = {}
        for res in self.resources:
            self.by_address[res.address] = res
            self.by_base.setdefault(_strip_index(res.address), []).append(res)

    def _walk_config(self, module: _Node, prefix: str, out: dict):
        for r in module["resources"].objects():
            out[prefix + r["address"].text()] = r["expressions"].object()
        for name, call in module["module_calls"].entries():
            self._walk_config(call.object()["module"].object(), f"{prefix}module.{name}.", out)

    def _walk_values(self, path: str, module: _Node, config: dict):
        for r in module["resources"].objects():
            if (r["mode"].text() or "managed") != "managed":
                continue
            address, rtype = r["address"].text(), r["type"].text()
            base = _strip_index(address)
            module_prefix = base[: len(base) - len(f"{rtype}.{r['name'].text()}")]
            # configuration addresses have no instance keys; references inside a module
            # instance ("module.x[0].") are relative to it
            expressions = config.get(_without_indexes(address)) or _Node({}, path)
            self.resources.append(_TfResource(path, address, rtype, r["values"].object(),
                                              expressions, module_prefix))
        for child in module["child_modules"].objects():
            self._walk_values(path, child, config)

    def key(self, res: _TfResource) -> str:
        rid = res.values["id"].text()
        return rid or f"tf:{res.address}"

    def _resolve(self, res: _TfResource, ref: str) -> list:
        """The keys of the resources a configuration reference points at."""
        parts = ref.split(".", MAX_REF_PARTS)[:MAX_REF_PARTS]
        for n in range(len(parts), 1, -1):
            candidate = res.module + ".".join(parts[:n])
            if candidate in self.by_address:
                return [self.key(self.by_address[candidate])]
            if candidate in self.by_base:
                return [self.key(x) for x in self.by_base[candidate]]
        return []

    def _refs(self, res, expression: _Node) -> list:
        keys = []
        if expression.is_object():  # a block's expression is a list: no references
            for ref in expression["references"].texts():
                for k in self._resolve(res, ref):
                    if k not in keys:
                        keys.append(k)
        return keys

    def ref(self, res: _TfResource, attr: str, values=None, expressions=None) -> Optional[str]:
        """A single id attribute: its value, or (in a plan) the resource its expression names."""
        values = res.values if values is None else values
        expressions = res.expressions if expressions is None else expressions
        v = values[attr].text()
        if v:
            return v
        keys = self._refs(res, expressions[attr])
        return keys[0] if len(keys) == 1 else None

    def refs(self, res: _TfResource, attr: str) -> list:
        """A list of ids: the value when fully known, else the configuration's references."""
        node = res.values[attr]
        v = node.texts()
        if v and len(v) == len(node.value):
            return v
        return self._refs(res, res.expressions[attr]) or v


def _strip_index(address: str) -> str:
    """`address` without its last instance key: a.b["k"] -> a.b (linear, unlike a regex
    that backtracks over a run of '[')."""
    if not address.endswith("]"):
        return address
    start = address.find("[", address.rfind("]", 0, len(address) - 1) + 1)
    return address[:start] if start >= 0 else address


def _without_indexes(address: str) -> str:
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
        shown = sorted(ignored.items())
        imp.warnings.append(f"{files}: resources not imported (no security group, network or "
                            "instance meaning for a lab): " + ", ".join(
                                f"{_short(t)} x{n}" for t, n in shown[:20])
                            + (f" and {len(shown) - 20} other types" if len(shown) > 20 else ""))
    reader = _terraform_alicloud if provider == "alibaba" else _terraform_huaweicloud
    # Groups and lists first, so that rules and instances find them by key in any order.
    order = {t: 0 for t in types["groups"]}
    order.update({t: 1 for t in types["other"]})
    order.update({t: 2 for t in types["rules"]})
    for res in sorted((r for r in tf.resources if r.type in known), key=lambda r: order[r.type]):
        reader(imp, tf, res)
    return imp


def _tf_network(imp, tf, res, *, name, cidr, ipv6=None, vpc_attr=None) -> _Network:
    """A VPC (vpc_attr None) or a subnet (its VPC's id in attribute `vpc_attr`). `cidr` and
    `ipv6` are the nodes of its CIDRs: one that cannot be read is left out (warned)."""
    net = _Network(tf.key(res), name or res.address.rsplit(".", 1)[-1],
                   _tf_cidr(imp, res, cidr, 4), _tf_cidr(imp, res, ipv6, 6) if ipv6 else None,
                   label=res.where)
    if vpc_attr:
        net.vpc_key = tf.ref(res, vpc_attr)
    if not net.cidr:
        imp.warn(res.where, "its CIDR is not in the export: left out")
    else:
        (imp.subnets if vpc_attr else imp.vpcs)[net.key] = net
    return net


def _tf_cidr(imp, res, node: _Node, family: int) -> Optional[str]:
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
        imp.warn(res.where, f"{node.path} {_show(text)} is not an IPv{family} CIDR: left out")
        return None
    return text


def _terraform_alicloud(imp: _Importer, tf: _Terraform, res: _TfResource):
    v = res.values
    if res.type == "alicloud_security_group":
        g = imp.group(tf.key(res), res.path,
                      cloud_name=v["security_group_name"].text() or v["name"].text() or None)
        g.label = f"{res.where} ({_short(g.cloud_name or g.key)})"
        g.rules_given = True  # Terraform lists the group's rules as resources (maybe none)
        g.description = v["description"].description()
        stype = v["security_group_type"].text().lower() or "normal"
        g.type = ALIBABA_TYPES.get(stype, "basic")
        policy = v["inner_access_policy"]
        inner = v["inner_access"].flag()
        if not policy.text() and inner is not None:
            policy = _Node("Accept" if inner else "Drop", policy.file, v, "inner_access")
        _alibaba_inner_access(imp, res.where, g, policy)
    elif res.type == "alicloud_security_group_rule":
        gkey = tf.ref(res, "security_group_id")
        if gkey is None:
            imp.warn(res.where, "its security_group_id is not in the export: rule dropped")
            return
        g = imp.group(gkey, res.path)
        where = res.where
        if v["nic_type"].text().lower() == "internet":
            imp.warn(where, "nic_type internet is a classic-network rule for the public NIC; a "
                     "lab is a VPC: rule dropped")
            return
        owner = v["source_group_owner_account"].text()
        if owner:
            imp.warn(where, f"source_security_group_id belongs to account {_short(owner)}: "
                     "another account's group")
        protocol = v["ip_protocol"].scalar()
        ports = v["port_range"].scalar()
        if _protocol_safe(protocol) in (1, 58) and str(ports or "") not in ("", "-1/-1"):
            imp.warn(where, f"ICMP port_range {_short(str(ports))} (type/code) cannot be "
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
    elif res.type == "alicloud_ecs_prefix_list":
        pl = imp.prefix_list(tf.key(res))
        pl.cloud_name = v["prefix_list_name"].text() or None
        pl.entries = _address_group_entries(imp, res.where,
                                            [e["cidr"] for e in v["entry"].objects()])
    elif res.type == "alicloud_vpc":
        ipv6 = v["ipv6_cidr_block"]
        if not ipv6.text():
            ipv6 = next((b["ipv6_cidr_block"] for b in v["ipv6_cidr_blocks"].objects()
                         if b["ipv6_cidr_block"].text()), ipv6)
        _tf_network(imp, tf, res, name=v["vpc_name"].text() or v["name"].text(),
                    cidr=v["cidr_block"], ipv6=ipv6)
    elif res.type == "alicloud_vswitch":
        _tf_network(imp, tf, res, name=v["vswitch_name"].text() or v["name"].text(),
                    cidr=v["cidr_block"], ipv6=v["ipv6_cidr_block"], vpc_attr="vpc_id")
    elif res.type == "alicloud_instance":
        ipv6 = next(iter(v["ipv6_addresses"].texts()), None)
        imp.instances.append(_Instance(
            v["instance_name"].text() or res.address.rsplit(".", 1)[-1], res.where,
            [(tf.ref(res, "vswitch_id"), v["private_ip"].text() or None, ipv6)],
            tf.refs(res, "security_groups")))


def _terraform_huaweicloud(imp: _Importer, tf: _Terraform, res: _TfResource):
    v = res.values
    if res.type in TF_TYPES["huawei"]["groups"]:
        g = imp.group(tf.key(res), res.path, cloud_name=v["name"].text() or None)
        g.label = f"{res.where} ({_short(g.cloud_name or g.key)})"
        g.rules_given = True
        g.description = v["description"].description()
        rules = v["rules"]
        if rules.value is not None:  # a state: every rule of the group, as the API has them
            for i, r in enumerate(rules.objects()):
                rid = r["id"].text()
                where = f"{res.where}: rules[{i}] {_short(rid)}".rstrip()
                imp.add_rule(g, rid or None,
                             _huawei_rule_fields(imp, where, r, True, terraform=True), True)
        elif not v["delete_default_rules"].flag():
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
        rid = v["id"].text() or res.address
        remotes = {attr: tf.ref(res, attr)
                   for attr in ("remote_group_id", "remote_address_group_id")}
        imp.add_rule(imp.group(gkey, res.path), rid,
                     _huawei_rule_fields(imp, res.where, v, True, terraform=True,
                                         remotes=remotes), True)
    elif res.type == "huaweicloud_vpc_address_group":
        pl = imp.prefix_list(tf.key(res))
        pl.cloud_name = v["name"].text() or None
        addresses = v["addresses"].items() + [e["ip"] for e in v["ip_extra_set"].objects()]
        pl.entries = _address_group_entries(imp, res.where, addresses)
    elif res.type == "huaweicloud_vpc":
        _tf_network(imp, tf, res, name=v["name"].text(), cidr=v["cidr"])
    elif res.type == "huaweicloud_vpc_subnet":
        net = _tf_network(imp, tf, res, name=v["name"].text(), cidr=v["cidr"],
                          ipv6=v["ipv6_cidr"] if v["ipv6_enable"].flag() else None,
                          vpc_attr="vpc_id")
        for alias in ("subnet_id", "ipv4_subnet_id"):
            if v[alias].text():
                imp.subnet_aliases[v[alias].text()] = net.key
    elif res.type == "huaweicloud_compute_instance":
        enis = []
        networks = v["network"].objects()
        exprs = res.expressions["network"]
        exprs = exprs.items() if isinstance(exprs.value, list) else []
        for i, n in enumerate(networks):
            e = exprs[i] if i < len(exprs) and exprs[i].is_object() else _Node({}, n.file)
            enis.append((tf.ref(res, "uuid", n, e), n["fixed_ip_v4"].text() or None,
                         n["fixed_ip_v6"].text() or None))
        groups = tf.refs(res, "security_group_ids")
        names = v["security_groups"].texts()
        if not groups and names:  # older configurations name the groups
            by_name = imp.groups_by_name()
            for gname in names:
                if gname in by_name:
                    groups.append(by_name[gname])
                else:
                    imp.warn(res.where, f"security group {_show(gname)} is not in the export: "
                             "left out")
        if not enis:
            imp.warn(res.where, "has no network in the export: left out")
            return
        imp.instances.append(_Instance(v["name"].text() or res.address.rsplit(".", 1)[-1],
                                       res.where, enis, groups))


def _address_group_entries(imp, where, addresses) -> list:
    """Address group / prefix list entries (nodes): addresses, CIDRs and ranges 'a-b' ->
    normalised CIDRs; one that cannot be read is left out (warned)."""
    # a range is up to 254 CIDRs: bounded as it expands, not once the list is built
    bound = labfile.BOUNDS["prefix_list_entries"]
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
            imp.warn(where, f"address group entry {_show(text)} cannot be read: left out")
        if len(out) > bound:
            node.fail(f"the entries up to this one make more than {bound:,} CIDRs, more than a "
                      "lab file's prefix list holds", text)
    return out

"""Lab file (YAML) -> validated model.

Every check happens here, before anything touches the kernel: a bad value raises FieldError
naming the file, the field path, the value (cut to a readable length) and what is allowed
(exit code 2). What a lab file can ask for is bounded (BOUNDS), and so is reading it: a
regular file of at most MAX_INPUT_BYTES (SGNET_MAX_INPUT_BYTES raises it), of at most
MAX_NODES YAML values nested at most MAX_DEPTH deep, aliases that expand to at most
MAX_ALIAS_NODES nodes, integers of ASCII digits (ascii_int, bounded_int).
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import ipaddress
import os
import re
import reprlib
import stat

import yaml

from sgnet.core.errors import _NO_VALUE, MAX_SHOWN, FieldError, LabError, short
from sgnet.core.model import (PORTED_PROTOCOLS, PROTOCOLS, Eni, External, Group, Host, Instance, Lab,
                    PrefixList, Remote, Rule, Subnet, Vpc, protocol_name)
from sgnet.providers import PROFILES, get_profile

PRIVATE_RANGES = [ipaddress.ip_network(n) for n in
                  ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
LAB_NAME = re.compile(r"^[a-z0-9]{1,8}$")
OBJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
NAME_RULE = "1-64 characters: letters, digits, '_', '.', ':', '-', starting with a letter or digit"

TOP_KEYS = ("name", "provider", "vpcs", "prefix_lists", "security_groups", "instances",
            "externals", "hosts", "placement", "settings")
VPC_KEYS = ("name", "cidr", "ipv6_cidr", "subnets")
SUBNET_KEYS = ("name", "cidr", "ipv6_cidr")
GROUP_KEYS = ("name", "type", "default_rules", "inner_access", "rules", "description",
              "managed", "created_by", "legacy_priority", "http_https")
RULE_KEYS = ("direction", "action", "priority", "ethertype", "protocol", "ports", "remote",
             "remote_group", "remote_prefix_list", "description")
INSTANCE_KEYS = ("name", "subnet", "ip", "ipv6", "security_groups", "secondary_enis", "host",
                 "secondary_ips")
ENI_KEYS = ("subnet", "ip", "ipv6", "security_groups", "secondary_ips")
EXTERNAL_KEYS = ("name", "ip", "ipv6", "host")
PREFIX_LIST_KEYS = ("name", "entries")
HOST_KEYS = ("name", "address", "simulated", "transport", "ssh_host", "ssh_user", "ssh_port",
             "ssh_identity", "ssh_options", "command")
TRANSPORTS = ("ssh", "local")
HOST_NAME = re.compile(r"^[a-z0-9]{1,8}$")
PLACEMENTS = ("round-robin",)
SETTINGS_KEYS = ("conntrack_timeout",)
MAX_TIMEOUT = 432000  # the kernel's own TCP established default, 5 days

ACTIONS = {"allow": "allow", "accept": "allow", "deny": "deny", "drop": "deny"}
DIRECTIONS = {"ingress": "ingress", "egress": "egress"}

# -- bounds ------------------------------------------------------------------------------------
# Every count a lab file sets, checked before anything is built (exit 2). README "Bounds".
BOUNDS = {
    # <lab>i<N>e<k>, the gateway's end of ENI k of instance N, must fit the kernel's
    # 15-character interface names: 8 (lab name) + "i" + 4 digits + "e" + 1 digit.
    "instances": 10_000,
    "secondary_enis": 9,  # per instance: eth1..eth9, k one digit of that name
    # Secondary addresses per ENI: with its primary, the largest group a provider documents
    # (Alibaba, an advanced group: 65,536 private IPv4 addresses), the largest sgnet measures
    # (docs/benchmarks.md). The clouds give one ENI far fewer (Alibaba: 49 at its creation).
    "secondary_ips": 65_535,
    # Private IPv4 addresses of the whole lab (primaries and secondary blocks): each is an
    # nftables set element in every instance whose rules name one of its groups (a lab of
    # 16 million ran 3 minutes to 8 GB); four groups of the largest size above.
    "private_ipv4": 262_144,
    # Each a namespace and a link of the gateway, like an instance; the outside world of a
    # lab is a few hosts.
    "externals": 1_000,
    "vpcs": 100,  # the gateway keeps every pair of VPCs apart
    "subnets": 1_000,  # in the whole lab: one bridge each in the gateway namespace
    "security_groups": 1_000,  # declared in the file (the provider's own come on top)
    "rules_per_group": 10_000,  # the largest group measured (docs/benchmarks.md)
    "rules": 50_000,  # declared in the whole file: read, parsed, linted, compiled
    "ports_per_rule": 1_000,  # ports and ranges of one rule ("22,80,8000-8080": 3)
    "prefix_lists": 1_000,
    # Alibaba: at most 200 entries per prefix list, of one family; sgnet's hold both.
    "prefix_list_entries": 1_000,
    "hosts": 250,  # simulated underlay: one /24
    "host_subnets": 255,  # subnets of a multi-host lab: VNIs, 8 bits under 16 bits of lab
    "ssh_options": 32,  # per host
    "description": 1_024,  # characters (the clouds allow 255 to 512)
    "text": 4_096,  # characters of a host's command, identity file or ssh option
}
# What the command line and the pytest plugin set for a run (session.verdicts checks both).
RUN_BOUNDS = {
    "probe_timeout": 60.0,  # seconds a probe waits for answers
    "jobs": 1024,  # worker processes (up) or source namespaces probed at once (matrix)
}
MAX_SECONDARY_ENIS = BOUNDS["secondary_enis"]
MAX_HOSTS = BOUNDS["hosts"]
MAX_HOST_SUBNETS = BOUNDS["host_subnets"]

# Reading: the file's size (a lab of 10,000 instances is about 1 MB); the environment
# variable raises it.
MAX_INPUT_BYTES = 16 * 2**20
INPUT_LIMIT_VARIABLE = "SGNET_MAX_INPUT_BYTES"
MAX_DEPTH = 64  # levels of YAML nesting (a lab file needs 7)
# Values (YAML nodes) of one file: each costs Python about 10 microseconds and 500 bytes to
# read, whatever its length (a file of 16 MiB could hold 8 million). A lab of 10,000
# instances has about 80,000; one of 50,000 rules (BOUNDS["rules"]) about 650,000.
MAX_NODES = 1_000_000
# Nodes that aliases add when expanded: a "billion laughs" file of a few lines expands to
# billions; a lab that reuses a rule list in every group stays far below.
MAX_ALIAS_NODES = 1_000_000
MAX_INT_DIGITS = 20  # digits read of an integer: every field's range fits in far fewer
MAX_ALLOWED_SHOWN = 300  # characters of the list of what is allowed

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # \t, \n kept


@contextlib.contextmanager
def building():
    """Reading a lab makes many objects that all live on (nodes, then the model): the cyclic
    garbage collector would walk every live object again and again, for no garbage (none of
    them forms a cycle), a tenth of the time of a lab of 10,000 instances and growing with
    it. Off while building, as it was after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# -- values in messages ---------------------------------------------------------------------------
class _Shown:
    """A value for FieldError's message: its repr is short(value)."""

    def __init__(self, value):
        self.text = short(value)

    def __repr__(self):
        return self.text


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _key_text(key) -> str:
    """A mapping key as a step of a field path: as typed if it is a short plain string."""
    if isinstance(key, str) and len(key) <= MAX_SHOWN and not _CONTROL.search(key):
        return key
    return short(key)


def control_character(text: str, allow_layout: bool = False):
    """The first control character (or lone surrogate) in text, as U+XXXX, else None. With
    allow_layout, tab and newline are text (a YAML block scalar ends with a newline)."""
    m = (_CONTROL_IN_TEXT if allow_layout else _CONTROL).search(text)
    if m is None:
        return None
    c = m.group()
    return "NUL (U+0000)" if c == "\x00" else f"U+{ord(c):04X}"


# -- integers --------------------------------------------------------------------------------------
def ascii_int(value, strings: bool = True):
    """An integer a user wrote: a YAML or JSON integer (never a bool) or, with strings, a
    string of ASCII digits (blanks around them allowed); None for anything else. Python's
    int() and str.isdigit() take '²' and '٢٢' as digits: this does not. A string of more than
    MAX_INT_DIGITS digits reads as 10**MAX_INT_DIGITS, beyond every field's range, without
    being converted (int() refuses 4,300 digits, and would take time quadratic in them)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if strings and isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit():
            return int(text) if len(text) <= MAX_INT_DIGITS else 10 ** MAX_INT_DIGITS
    return None


def bounded_int(value, lo: int, hi: int, strings: bool = True):
    """ascii_int(value) if it lies in lo..hi, else None."""
    n = ascii_int(value, strings)
    return n if n is not None and lo <= n <= hi else None


# -- reading -----------------------------------------------------------------------------------
def input_limit() -> int:
    """The most bytes an input file may hold: MAX_INPUT_BYTES, or $SGNET_MAX_INPUT_BYTES."""
    value = os.environ.get(INPUT_LIMIT_VARIABLE)
    if value is None or value == "":
        return MAX_INPUT_BYTES
    n = bounded_int(value, 1, 2**62)
    if n is None:
        raise LabError(f"{INPUT_LIMIT_VARIABLE}: not a number of bytes (got {short(value)}); "
                       "allowed: a whole number, e.g. 67108864 for 64 MiB")
    return n


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def read_text(path: str, what: str = "the lab file", encoding: str = "utf-8") -> str:
    """A text file's contents, or a LabError naming the file (exit 2). Only a regular file
    is read (a FIFO would block, /dev/zero never end), at most input_limit() bytes of it."""
    limit = input_limit()
    path_shown = path if not isinstance(path, str) or len(path) <= 200 else \
        f"{path[:120]}...{path[-60:]} ({len(path):,} characters)"  # ENAMETOOLONG's
    try:
        # O_NONBLOCK: opening a FIFO waits for a writer otherwise; regular files ignore it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as e:
        raise LabError(f"{path_shown}: cannot read {what}: {e.strerror}") from None
    except ValueError:  # a NUL byte in the path
        raise LabError(f"{short(path)}: cannot read {what}: the path holds a NUL byte") \
            from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((k for test, k in _KINDS if test(mode)), "not a regular file")
            raise LabError(f"{path_shown}: cannot read {what}: it is {kind}, not a regular file")
        chunks, size = [], 0
        while size <= limit:  # st_size can lie (/proc) or grow: count what is read
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise LabError(f"{path_shown}: cannot read {what}: {e.strerror}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise LabError(f"{path_shown}: {what} is larger than {limit:,} bytes; allowed: at most "
                       f"{limit:,} (set {INPUT_LIMIT_VARIABLE} to read larger files)")
    try:
        return b"".join(chunks).decode(encoding)
    except UnicodeDecodeError as e:
        raise LabError(f"{path_shown}: not a UTF-8 text file (byte {e.start})") from None


# -- YAML --------------------------------------------------------------------------------------
class _Refused(yaml.composer.ComposerError):
    """A YAML file too large or too deep to read (not a syntax error)."""


class _Bounded(yaml.composer.Composer):
    """The composer of the lab file loaders: refuses more than MAX_NODES nodes, nesting
    deeper than MAX_DEPTH (counting what aliases bring in), aliases expanding to more than
    MAX_ALIAS_NODES nodes or into themselves. (With the key and integer constructors below, a
    loader also refuses a key given twice in one mapping, which PyYAML would keep the last
    of, and integers too long to read.)"""

    def _start(self):
        self._depth = 0
        self._nodes = 0
        self._expanded = 0  # nodes the aliases so far add
        self._size = {}  # collection node -> (nodes once expanded, depth once expanded)

    def compose_node(self, parent, index):
        event = self.peek_event()
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(None, None, f"more than {MAX_NODES:,} values", event.start_mark)
        if isinstance(event, yaml.ScalarEvent):  # most nodes: nothing inside to count
            return super().compose_node(parent, index)
        if isinstance(event, yaml.AliasEvent):
            node = self.anchors.get(event.anchor)
            if node is not None:
                if isinstance(node, yaml.ScalarNode):
                    size, depth = _ONE
                elif node in self._size:
                    size, depth = self._size[node]
                else:
                    raise _Refused(
                        None, None, f"alias *{_cut(event.anchor, MAX_SHOWN)} is used inside "
                        "the node it names (a recursive structure)", event.start_mark)
                self._expanded += size
                if self._expanded > MAX_ALIAS_NODES:
                    raise _Refused(
                        None, None, f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes "
                        "(an alias bomb?)", event.start_mark)
                if self._depth + depth > MAX_DEPTH:
                    raise _Refused(
                        None, None, f"alias *{_cut(event.anchor, MAX_SHOWN)} nests deeper "
                        f"than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(None, None, f"nested deeper than {MAX_DEPTH} levels",
                           event.start_mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        get = self._size.get
        if isinstance(node, yaml.SequenceNode):
            sizes = [get(c, _ONE) for c in node.value]
        else:
            sizes = [get(c, _ONE) for pair in node.value for c in pair]
        self._size[node] = (1 + sum(s for s, _ in sizes),
                            1 + max((d for _, d in sizes), default=0))
        return node


_ONE = (1, 0)  # a scalar: one node, no level of nesting


class _PyLoader(_Bounded, yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
                yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """The safe loader, bounded, in Python."""

    def __init__(self, stream):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self._start()


_LOADERS = [_PyLoader]
try:
    from yaml.cyaml import CParser

    class _CLoader(_Bounded, CParser, yaml.constructor.SafeConstructor,
                   yaml.resolver.Resolver):
        """The same, parsing with libyaml (4 times faster at 10,000 instances): its events
        composed and constructed by the same Python code."""

        def __init__(self, stream):
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._start()

    _LOADERS.insert(0, _CLoader)
except ImportError:  # PyYAML without libyaml
    pass


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable key (a list or mapping used as a key)",
                key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {short(key)} (first at line {seen[key]})",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line + 1
    return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep)


def _construct_int(loader, node):
    text = node.value
    if len(text) > MAX_INT_DIGITS + 2:  # sign, underscores and prefixes aside
        raise yaml.constructor.ConstructorError(
            None, None, f"integer of {len(text):,} characters: too long (at most "
            f"{MAX_INT_DIGITS} digits)", node.start_mark)
    return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)


for _loader in _LOADERS:
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def load_yaml(text: str, source: str, loader=None):
    """The YAML document in text, bounded (see _Bounded); a LabError naming the source, the
    line and column, and the problem, cut to a readable length."""
    try:
        with building():
            return yaml.load(text, Loader=loader or _LOADERS[0])
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        if mark is not None:
            where = f"line {mark.line + 1}, column {mark.column + 1}"
        elif isinstance(e, yaml.reader.ReaderError):  # a character YAML does not allow
            # a position in the text (Python reader) or in its UTF-8 bytes (libyaml)
            before = text[:e.position] if e.encoding == "unicode" else \
                text.encode("utf-8", "surrogatepass")[:e.position].decode("utf-8", "replace")
            where = (f"line {before.count(chr(10)) + 1}, column "
                     f"{len(before) - (before.rfind(chr(10)) + 1) + 1}")
            char = e.character if isinstance(e.character, str) else chr(e.character)
            e.problem = (f"{control_character(char) or f'U+{ord(char):04X}'}: a character "
                         "YAML does not allow (control characters and NUL bytes)")
        else:
            where = "?"
        problem = getattr(e, "problem", None) or str(e)
        context, cmark = getattr(e, "context", None), getattr(e, "context_mark", None)
        if context:  # "while parsing a flow mapping (line 3)", "found duplicate anchor ..."
            problem = f"{context}{f' (line {cmark.line + 1})' if cmark else ''}: {problem}"
        kind = "YAML refused" if isinstance(e, _Refused) else "YAML syntax error"
        raise LabError(f"{source}: {where}: {kind}: {_cut(problem, 300)}") from None


def load_file(path: str) -> Lab:
    return parse(load_yaml(read_text(path), path), path)


def parse_text(text: str, source: str = "<lab>") -> Lab:
    return parse(load_yaml(text, source), source)


class _Parser:
    def __init__(self, source):
        self.source = source

    def fail(self, path, problem, value=_NO_VALUE, allowed=None):
        shown = value if value is _NO_VALUE else _Shown(value)
        if allowed is not None:
            allowed = _cut(str(allowed), MAX_ALLOWED_SHOWN)
        e = FieldError(self.source, path, problem, shown, allowed)
        e.value = value  # the value itself, for whoever words the refusal differently
        raise e

    # -- generic field helpers --------------------------------------------------
    def mapping(self, value, path, keys, required=()):
        if not isinstance(value, dict):
            self.fail(path, "must be a mapping", value)
        for k in value:
            if k not in keys:
                self.fail(f"{path}.{_key_text(k)}" if path else _key_text(k), "unknown key",
                          k, ", ".join(keys))
        for k in required:
            if k not in value or value[k] is None:
                self.fail(f"{path}.{k}" if path else k, "is required")
        return value

    def seq(self, value, path, bound=None, what="entries"):
        """A list (None: empty) of at most `bound` items (BOUNDS key or number)."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(path, "must be a list", value)
        if bound is not None:
            self.count(len(value), path, bound, what)
        return value

    def count(self, n, path, bound, what):
        """Refuse a count above its bound (a BOUNDS key or a number)."""
        most = BOUNDS[bound] if isinstance(bound, str) else bound
        if n > most:
            self.fail(path, f"too many {what}", n, f"at most {most:,}")

    def name(self, value, path, pattern=OBJECT_NAME, rule=NAME_RULE):
        if not isinstance(value, str) or not pattern.fullmatch(value):
            bad = control_character(value) if isinstance(value, str) else None
            self.fail(path, f"invalid name: it holds the control character {bad}" if bad
                      else "invalid name", value, rule)
        return value

    def text(self, value, path, what="a string", bound="description", layout=True):
        """A free text (description, command, path): a string of at most BOUNDS[bound]
        characters, without control characters (tab and newline allowed with layout)."""
        if not isinstance(value, str):
            self.fail(path, f"must be {what}", value)
        most = BOUNDS[bound]
        if len(value) > most:
            self.fail(path, f"too long: {len(value):,} characters", value,
                      f"at most {most:,} characters")
        bad = control_character(value, allow_layout=layout)
        if bad:
            self.fail(path, f"holds the control character {bad}", value,
                      "printable text" + (", tabs and newlines" if layout else ""))
        return value

    def unique_name(self, value, path, seen: set, what: str):
        """A valid name not used before by another object of its kind (recorded in seen)."""
        name = self.name(value, path)
        if name in seen:
            self.fail(path, f"duplicate {what} name", name)
        seen.add(name)
        return name

    def boolean(self, value, path):
        if not isinstance(value, bool):
            self.fail(path, "must be true or false", value)
        return value

    def network(self, value, path, family, within=None):
        kind = "IPv4" if family == 4 else "IPv6"
        if not isinstance(value, str):
            self.fail(path, f"must be an {kind} CIDR string", value)
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            self.fail(path, f"not a valid {kind} CIDR", value, "e.g. 192.168.1.0/24"
                      if family == 4 else "e.g. fd00:1::/64")
        if net.version != family:
            self.fail(path, f"must be an {kind} CIDR", value)
        if net != ipaddress.ip_network(value, strict=False) or \
                ipaddress.ip_interface(value).ip != net.network_address:
            self.fail(path, "has host bits set", value, f"the network address {net}")
        if within is not None and not net.subnet_of(within):
            self.fail(path, f"is not inside {within}", value)
        return net

    def address(self, value, path, family=None):
        if not isinstance(value, str):
            self.fail(path, "must be an IP address string", value)
        try:
            addr = ipaddress.ip_address(value)
        except ValueError:
            self.fail(path, "not a valid IP address", value)
        if family and addr.version != family:
            self.fail(path, f"must be an IPv{family} address", value)
        return addr


def parse(raw, source: str = "<lab>") -> Lab:
    with building():
        return _parse(raw, source)


def _parse(raw, source):
    p = _Parser(source)
    if raw is None:
        p.fail("(top)", "the lab file is empty")
    if not isinstance(raw, dict):
        p.fail("(top)", "must be a mapping of keys (name, provider, vpcs, ...)", raw)
    p.mapping(raw, "", TOP_KEYS, required=("name",))
    name = p.name(raw["name"], "name", LAB_NAME, "1-8 characters [a-z0-9]")
    provider = raw.get("provider", "huawei")
    if not isinstance(provider, str) or provider not in PROFILES:
        p.fail("provider", "unknown provider", provider, ", ".join(PROFILES))
    profile = get_profile(provider)
    hosts = _parse_hosts(p, raw)
    if raw.get("settings") is not None:
        p.mapping(raw["settings"], "settings", SETTINGS_KEYS)
        t = raw["settings"].get("conntrack_timeout")
        if t is not None and bounded_int(t, 1, MAX_TIMEOUT, strings=False) is None:
            p.fail("settings.conntrack_timeout", "not a timeout in seconds", t,
                   f"1-{MAX_TIMEOUT}")

    vpcs = _parse_vpcs(p, raw)
    prefix_lists = _parse_prefix_lists(p, raw)
    groups = _parse_groups(p, raw, profile, prefix_lists)
    instances = _parse_instances(p, raw, vpcs, groups, profile)
    externals = _parse_externals(p, raw, vpcs, instances)
    _place(p, raw, hosts, instances, externals)
    if hosts:
        p.count(sum(len(v.subnets) for v in vpcs), "vpcs", "host_subnets",
                "subnets for a multi-host lab (one VXLAN VNI each)")

    lab = Lab(name=name, provider=provider, vpcs=vpcs, groups=groups, instances=instances,
              externals=externals, prefix_lists=prefix_lists, source=source,
              settings=dict(raw.get("settings") or {}), hosts=hosts)
    profile.validate(lab, raw, p.fail)
    return lab


def _parse_hosts(p, raw) -> list:
    """`hosts:` (and `placement:`): the machines a lab spans: real ones (`address`: the
    VXLAN underlay address, and where SSH goes) or simulated ones (local namespaces
    standing in for hypervisors; `address`, optional, their address on the simulated
    underlay). `transport` says how a host's agent is reached: ssh (real hosts, unless the
    address is this machine's) or local exec (simulated hosts); a simulated host can be
    reached over SSH too (`transport: ssh`, to `ssh_host`, 127.0.0.1 by default). One lab
    is built on hosts of one kind: see check_buildable."""
    if raw.get("hosts") is None:
        if raw.get("placement") is not None:
            p.fail("placement", "needs hosts: to place instances on", raw["placement"])
        return []
    hosts_raw = p.seq(raw["hosts"], "hosts", "hosts", "hosts")
    if not hosts_raw:
        p.fail("hosts", "is empty: name at least one host, or leave hosts out", raw["hosts"])
    if raw.get("placement") is not None and raw["placement"] not in PLACEMENTS:
        p.fail("placement", "unknown placement policy", raw["placement"],
               ", ".join(PLACEMENTS) + ", or host: per instance")
    hosts, names, addresses = [], set(), set()
    for i, h in enumerate(hosts_raw):
        path = f"hosts[{i}]"
        p.mapping(h, path, HOST_KEYS, required=("name",))
        name = p.name(h["name"], f"{path}.name", HOST_NAME, "1-8 characters [a-z0-9]")
        if name in names:
            p.fail(f"{path}.name", "duplicate host name", name)
        names.add(name)
        simulated = p.boolean(h.get("simulated", False), f"{path}.simulated")
        address = h.get("address")
        if address is None and not simulated:
            p.fail(f"{path}.address", "is required for a real host (its SSH and VXLAN "
                   "address); or set simulated: true", None)
        if address is not None:
            a = p.address(address, f"{path}.address")
            if a.is_multicast or a.is_unspecified or (simulated and a.is_loopback):
                p.fail(f"{path}.address", "must be a unicast address", address)
            if a in addresses:
                p.fail(f"{path}.address", "two hosts cannot share an address", address)
            addresses.add(a)
            address = str(a)
        transport = h.get("transport", "local" if simulated else "ssh")
        if transport not in TRANSPORTS:
            p.fail(f"{path}.transport", "unknown transport", transport, ", ".join(TRANSPORTS))
        if transport == "local" and not simulated:
            p.fail(f"{path}.transport", "a real host is reached over ssh (or by local exec "
                   "when its address is this machine's, found by itself)", transport, "ssh")
        ssh_host = h.get("ssh_host", address if not simulated else "127.0.0.1")
        if not isinstance(ssh_host, str) or not re.fullmatch(r"[A-Za-z0-9_.:%-]+", ssh_host):
            p.fail(f"{path}.ssh_host", "not a host name or address", ssh_host)
        user = h.get("ssh_user", "root")
        if not isinstance(user, str) or not re.fullmatch(r"[a-z_][a-z0-9_.-]{0,31}", user):
            p.fail(f"{path}.ssh_user", "not a user name", user)
        port = h.get("ssh_port", 22)
        if bounded_int(port, 1, 65535, strings=False) is None:
            p.fail(f"{path}.ssh_port", "not a TCP port", port, "1-65535")
        command = h.get("command", "sgnet")
        if not isinstance(command, str) or not command.strip():
            p.fail(f"{path}.command", "must be the command that runs sgnet on the host",
                   command, "e.g. sgnet or /opt/sgnet/.venv/bin/sgnet")
        p.text(command, f"{path}.command", bound="text", layout=False)
        identity = h.get("ssh_identity")
        if identity is not None and (not isinstance(identity, str) or not identity):
            p.fail(f"{path}.ssh_identity", "must be the path of a private key file", identity)
        if identity is not None:
            p.text(identity, f"{path}.ssh_identity", bound="text", layout=False)
        options = p.seq(h.get("ssh_options"), f"{path}.ssh_options", "ssh_options",
                        "ssh options")
        for k, o in enumerate(options):
            if isinstance(o, str):
                p.text(o, f"{path}.ssh_options[{k}]", bound="text", layout=False)
            if not isinstance(o, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*[= ]\S.*", o):
                p.fail(f"{path}.ssh_options[{k}]", "not an ssh option", o,
                       "Key=Value, e.g. ProxyJump=bastion")
        hosts.append(Host(name, i, address, user, port, simulated, command, identity,
                          tuple(options), transport, ssh_host))
    return hosts


def check_buildable(lab: Lab):
    """What a valid lab file may say but one lab cannot be built from (checked by `up`,
    before anything is touched; the pure verbs take such a file): its hosts must be all
    simulated or all real, and their underlay addresses of one family."""
    hosts = lab.hosts
    if len({h.simulated for h in hosts}) > 1:
        raise FieldError(lab.source, "hosts", "mixes simulated and real hosts, which cannot "
                         "be joined: a simulated host's underlay is a namespace of this "
                         "machine and never reaches a real one",
                         _Shown([h.name for h in hosts]), "all simulated: true, or all real")
    from sgnet.kernel.fabric import underlay_ip
    underlay = [underlay_ip(h) for h in hosts]
    for h, a in zip(hosts, underlay):
        if underlay.count(a) > 1:
            raise FieldError(lab.source, f"hosts[{h.index}].address", "is also another "
                             "host's underlay address (simulated hosts without one get "
                             "198.18.0.N, N their place in the list)", a)
    if len({ipaddress.ip_address(a).version for a in underlay}) > 1:
        raise FieldError(lab.source, "hosts", "mixes IPv4 and IPv6 addresses: the VXLAN "
                         "underlay is one family", _Shown([h.address for h in hosts]))


def _place(p, raw, hosts, instances, externals):
    """Give every instance and external its host: `host:` where given, else round-robin
    over the hosts (instances) or the first host (externals)."""
    names = [h.name for h in hosts]
    turn = 0
    for kind, items in (("instances", instances), ("externals", externals)):
        for i, item in enumerate(items):
            where = (raw.get(kind) or [])[i].get("host")
            path = f"{kind}[{i}].host"
            if where is not None:
                if not hosts:
                    p.fail(path, "names a host, but the lab has no hosts:", where)
                if where not in names:
                    p.fail(path, "unknown host", where, ", ".join(names))
                item.host = where
            elif hosts:
                if kind == "instances":
                    item.host = names[turn % len(names)]
                    turn += 1
                else:
                    item.host = names[0]


class _Disjoint:
    """Networks of one family declared so far, none overlapping another: does a new one
    overlap any of them? A look-up in their sorted bounds, not a scan of them all."""

    def __init__(self):
        self.starts, self.ends = [], []  # sorted; the networks are disjoint, so both are

    def overlaps(self, net) -> bool:
        lo, hi = int(net.network_address), int(net.broadcast_address)
        i = bisect.bisect_right(self.starts, hi)  # the networks starting at or before hi
        return i > 0 and self.ends[i - 1] >= lo

    def add(self, net):
        i = bisect.bisect_right(self.starts, int(net.network_address))
        self.starts.insert(i, int(net.network_address))
        self.ends.insert(i, int(net.broadcast_address))


def _parse_vpcs(p, raw):
    vpcs_raw = p.seq(raw.get("vpcs"), "vpcs", "vpcs", "VPCs")
    if not vpcs_raw:
        # Huawei creates vpc-default with the first ECS; one VPC, one subnet.
        vpcs_raw = [{"name": "vpc-default", "cidr": "192.168.0.0/16",
                     "subnets": [{"name": "subnet-default", "cidr": "192.168.0.0/24"}]}]
    vpcs, names, subnet_names = [], set(), set()
    taken4, taken6 = _Disjoint(), _Disjoint()
    index = 0
    for i, v in enumerate(vpcs_raw):
        path = f"vpcs[{i}]"
        p.mapping(v, path, VPC_KEYS, required=("name", "cidr"))
        vname = p.unique_name(v["name"], f"{path}.name", names, "VPC")
        cidr = p.network(v["cidr"], f"{path}.cidr", 4)
        if not any(cidr.subnet_of(r) for r in PRIVATE_RANGES) or not 8 <= cidr.prefixlen <= 28:
            p.fail(f"{path}.cidr", "a VPC needs a private IPv4 range", v["cidr"],
                   "inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, mask /8 to /28")
        if taken4.overlaps(cidr):
            other = next(o for o in vpcs if cidr.overlaps(o.cidr))
            p.fail(f"{path}.cidr", f"overlaps VPC {other.name} ({other.cidr}); the VPCs "
                   "of one lab share its gateway and must not overlap", v["cidr"])
        taken4.add(cidr)
        v6 = None
        if v.get("ipv6_cidr") is not None:
            v6 = p.network(v["ipv6_cidr"], f"{path}.ipv6_cidr", 6)
            if v6.prefixlen > 64:
                p.fail(f"{path}.ipv6_cidr", "too small for /64 subnets", v["ipv6_cidr"],
                       "a prefix of /64 or shorter, e.g. fd00:10::/48")
            if taken6.overlaps(v6):
                other = next(o for o in vpcs if o.ipv6_cidr and v6.overlaps(o.ipv6_cidr))
                p.fail(f"{path}.ipv6_cidr", f"overlaps VPC {other.name} "
                       f"({other.ipv6_cidr})", v["ipv6_cidr"])
            taken6.add(v6)
        subnets = []
        subnets4, subnets6 = _Disjoint(), _Disjoint()
        subnets_raw = p.seq(v.get("subnets"), f"{path}.subnets")
        p.count(index + len(subnets_raw), f"{path}.subnets", "subnets",
                "subnets in the lab (counting the VPCs before this one)")
        for j, s in enumerate(subnets_raw):
            spath = f"{path}.subnets[{j}]"
            p.mapping(s, spath, SUBNET_KEYS, required=("name", "cidr"))
            sname = p.unique_name(s["name"], f"{spath}.name", subnet_names, "subnet")
            scidr = p.network(s["cidr"], f"{spath}.cidr", 4)
            if not scidr.subnet_of(cidr):
                p.fail(f"{spath}.cidr", f"is outside its VPC {vname} ({cidr})", s["cidr"])
            if scidr.prefixlen > 29:
                p.fail(f"{spath}.cidr", "too small: a subnet needs at least a /29", s["cidr"])
            if subnets4.overlaps(scidr):
                other = next(o for o in subnets if scidr.overlaps(o.cidr))
                p.fail(f"{spath}.cidr", f"overlaps subnet {other.name} ({other.cidr})",
                       s["cidr"])
            subnets4.add(scidr)
            s6 = None
            if s.get("ipv6_cidr") is not None:
                if v6 is None:
                    p.fail(f"{spath}.ipv6_cidr", f"VPC {vname} has no ipv6_cidr",
                           s["ipv6_cidr"])
                s6 = p.network(s["ipv6_cidr"], f"{spath}.ipv6_cidr", 6, within=v6)
                if not 64 <= s6.prefixlen <= 120:
                    p.fail(f"{spath}.ipv6_cidr", "too small", s["ipv6_cidr"], "/64 to /120")
                if subnets6.overlaps(s6):
                    other = next(o for o in subnets if o.ipv6_cidr and s6.overlaps(o.ipv6_cidr))
                    p.fail(f"{spath}.ipv6_cidr", f"overlaps subnet {other.name}",
                           s["ipv6_cidr"])
                subnets6.add(s6)
            subnets.append(Subnet(sname, vname, scidr, s6, index))
            index += 1
        if not subnets:
            p.fail(f"{path}.subnets", "a VPC needs at least one subnet")
        vpcs.append(Vpc(vname, cidr, v6, subnets))
    return vpcs


def _parse_prefix_lists(p, raw):
    out, names = {}, set()
    for i, pl in enumerate(p.seq(raw.get("prefix_lists"), "prefix_lists", "prefix_lists",
                                 "prefix lists")):
        path = f"prefix_lists[{i}]"
        p.mapping(pl, path, PREFIX_LIST_KEYS, required=("name",))
        name = p.unique_name(pl["name"], f"{path}.name", names, "prefix list")
        entries = []
        for j, e in enumerate(p.seq(pl.get("entries"), f"{path}.entries",
                                    "prefix_list_entries", "entries")):
            fam = 6 if isinstance(e, str) and ":" in e else 4
            entries.append(p.network(e, f"{path}.entries[{j}]", fam))
        out[name] = PrefixList(name, entries)
    return out


def _parse_groups(p, raw, profile, prefix_lists):
    builtin = {g.name: g for g in profile.builtin_groups()}
    declared, names, n_rules = {}, set(), 0
    for i, g in enumerate(p.seq(raw.get("security_groups"), "security_groups",
                                "security_groups", "security groups")):
        path = f"security_groups[{i}]"
        p.mapping(g, path, GROUP_KEYS, required=("name",))
        name = p.unique_name(g["name"], f"{path}.name", names, "security group")
        declared[name] = (path, g)
        # every count before any rule is parsed
        n_rules += len(p.seq(g.get("rules"), f"{path}.rules", "rules_per_group", "rules"))
        p.count(n_rules, f"{path}.rules", "rules", "rules in the lab (counting the groups "
                "before this one)")
    groups = dict(builtin)
    for name, (path, g) in declared.items():
        description = g.get("description") or ""
        if isinstance(description, (list, dict, set, tuple, bytes)):
            p.fail(f"{path}.description", "must be a string", description)
        group = Group(name, builtin=name in builtin, description=p.text(
            str(description), f"{path}.description"))
        if "type" in g and g["type"] not in ("basic", "advanced"):
            p.fail(f"{path}.type", "unknown group type", g["type"], "basic, advanced")
        group.type = g.get("type", "basic")
        if "inner_access" in g and g["inner_access"] not in ("accept", "drop"):
            p.fail(f"{path}.inner_access", "unknown inner access policy", g["inner_access"],
                   "accept, drop")
        group.inner_access = g.get("inner_access", "accept" if group.type == "basic" else "drop")
        if "managed" in g:
            group.managed = p.boolean(g["managed"], f"{path}.managed")
        for key in ("legacy_priority", "http_https"):
            if key in g:
                setattr(group, key, p.boolean(g[key], f"{path}.{key}"))
        if "created_by" in g:
            if g["created_by"] not in ("console", "api"):
                p.fail(f"{path}.created_by", "unknown creator", g["created_by"], "console, api")
            group.created_by = g["created_by"]
        declared_defaults = None
        if "default_rules" in g:
            declared_defaults = p.boolean(g["default_rules"], f"{path}.default_rules")
        use_defaults = profile.wants_default_rules(group, declared_defaults)
        group.rules = list(profile.new_group_rules(group)) if use_defaults else []
        groups[name] = group
    # Rules are parsed once every group name is known (remote_group may point forward).
    for name, (path, g) in declared.items():
        for j, r in enumerate(p.seq(g.get("rules"), f"{path}.rules")):
            groups[name].rules.append(
                parse_rule(p, r, f"{path}.rules[{j}]", name, groups, prefix_lists, profile))
    return groups


_PORT_RANGE = re.compile(r"([0-9]+)(?:\s*[-/]\s*([0-9]+))?")  # ASCII digits only


def parse_ports(p, value, path):
    """'22', 22, '22,80,8000-8080', [22, '80-90'], alibaba '22/22', '-1/-1' (all)."""
    items = value if isinstance(value, list) else [value]
    ranges, most = [], BOUNDS["ports_per_rule"]
    for item in items:
        if isinstance(item, bool):
            p.fail(path, "not a port", value)
        if isinstance(item, int):
            parts = [str(item) if abs(item) < 10 ** MAX_INT_DIGITS else "0"]
        elif isinstance(item, str):
            if len(ranges) + item.count(",") >= most:
                p.count(len(ranges) + item.count(",") + 1, path, most, "ports and port ranges")
            parts = item.split(",")
        else:
            p.fail(path, "bad port or port range", value,
                   "1-65535, lists and ranges like '22,80,8000-8080' or '22/22'")
        for part in parts:
            text = part.strip()
            if text in ("-1/-1", "-1", "all", "any"):
                return None
            m = _PORT_RANGE.fullmatch(text)
            if not m:
                p.fail(path, "bad port or port range", value,
                       "1-65535, lists and ranges like '22,80,8000-8080' or '22/22'")
            lo = ascii_int(m.group(1))
            hi = ascii_int(m.group(2)) if m.group(2) else lo
            if not (1 <= lo <= 65535 and 1 <= hi <= 65535) or lo > hi:
                p.fail(path, "bad port range", value, "ports 1-65535, start <= end")
            ranges.append((lo, hi))
            p.count(len(ranges), path, most, "ports and port ranges")
    if not ranges:
        p.fail(path, "empty port list", value)
    if ranges == [(1, 65535)]:
        return None
    return tuple(sorted(set(ranges)))


def parse_protocol(p, value, path):
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("all", "any", "-1"):
            return None
        if v in PROTOCOLS:
            return PROTOCOLS[v]
    n = ascii_int(value)
    if n is not None:
        if not 0 <= n <= 255:
            p.fail(path, "protocol number out of range", value, "0-255")
        return n
    p.fail(path, "unknown protocol", value, "tcp, udp, icmp, icmpv6, gre, all or 0-255")


def parse_rule(p, r, path, group_name, groups, prefix_lists, profile) -> Rule:
    p.mapping(r, path, RULE_KEYS, required=("direction", "action"))
    direction = r["direction"]
    if not isinstance(direction, str) or direction.lower() not in DIRECTIONS:
        p.fail(f"{path}.direction", "unknown direction", direction, "ingress, egress")
    direction = DIRECTIONS[direction.lower()]
    action = r["action"]
    if not isinstance(action, str) or action.lower() not in ACTIONS:
        p.fail(f"{path}.action", "unknown action", action, "allow, deny (or accept, drop)")
    action = ACTIONS[action.lower()]
    priority = bounded_int(r.get("priority", profile.default_priority), 1, 100)
    if priority is None:
        p.fail(f"{path}.priority", "priority out of range", r["priority"],
               "1-100 (1 is highest)")
    protocol = parse_protocol(p, r.get("protocol", "all"), f"{path}.protocol")

    remotes = [k for k in ("remote", "remote_group", "remote_prefix_list")
               if r.get(k) is not None]
    if len(remotes) > 1:
        p.fail(path, "more than one remote", ", ".join(remotes),
               "exactly one of remote, remote_group, remote_prefix_list (or none = any)")
    remote, remote_family = Remote("any"), None
    if remotes == ["remote"]:
        value = r["remote"]
        fam = 6 if isinstance(value, str) and ":" in value else 4
        if isinstance(value, str) and "/" not in value:
            addr = p.address(value, f"{path}.remote")
            value = f"{addr}/{addr.max_prefixlen}"
        net = p.network(value, f"{path}.remote", fam)
        remote, remote_family = Remote("cidr", str(net)), net.version
    elif remotes == ["remote_group"]:
        target = r["remote_group"]
        target = group_name if target == "self" else target
        if not isinstance(target, str) or target not in groups:
            p.fail(f"{path}.remote_group", "unknown security group", r["remote_group"],
                   ", ".join(list(groups) + ["self"]))
        remote = Remote("group", target)
    elif remotes == ["remote_prefix_list"]:
        target = r["remote_prefix_list"]
        if not isinstance(target, str) or target not in prefix_lists:
            p.fail(f"{path}.remote_prefix_list", "unknown prefix list", target,
                   ", ".join(prefix_lists) or "(no prefix lists declared)")
        remote = Remote("prefix_list", target)
        fams = {n.version for n in prefix_lists[target].entries}
        remote_family = fams.pop() if len(fams) == 1 else None

    if "ethertype" in r:
        et = r["ethertype"]
        if not isinstance(et, str) or et.lower() not in ("ipv4", "ipv6"):
            p.fail(f"{path}.ethertype", "unknown ethertype", et, "IPv4, IPv6")
        family = 4 if et.lower() == "ipv4" else 6
        if remote_family and remote.kind == "cidr" and remote_family != family:
            p.fail(f"{path}.remote", f"is not an IPv{family} CIDR but ethertype is {et}",
                   r["remote"])
        if remote.kind == "prefix_list" and prefix_lists[remote.value].entries and \
                not prefix_lists[remote.value].networks(family):
            p.fail(f"{path}.remote_prefix_list", f"prefix list {remote.value} has no "
                   f"IPv{family} entries but ethertype is {et}", remote.value)
    else:
        family = remote_family or (6 if protocol == 58 else 4)
    if protocol == 1 and family == 6:
        p.fail(f"{path}.protocol", "icmp is IPv4 only; use icmpv6 for IPv6", r.get("protocol"))
    if protocol == 58 and family == 4:
        p.fail(f"{path}.protocol", "icmpv6 needs ethertype IPv6", r.get("protocol"))

    ports = None
    if r.get("ports") is not None:
        ports = parse_ports(p, r["ports"], f"{path}.ports")
        if ports is not None and protocol not in PORTED_PROTOCOLS:
            p.fail(f"{path}.ports", f"protocol {protocol_name(protocol)} has no ports",
                   r["ports"], "ports with tcp or udp only")
    desc = p.text(r.get("description") or "", f"{path}.description")
    return Rule(direction, action, priority, family, protocol, ports, remote, desc)


class _Gaps:
    """The free runs of host addresses of one subnet, first-fit: a max-tree over the runs'
    lengths finds the first run long enough in log time (a scan of the subnet per block
    made a lab of many blocks quadratic)."""

    def __init__(self, first, last, used):
        runs, start = [], first
        for a in sorted(used):
            if a > start:
                runs.append([start, a - 1])
            start = max(start, a + 1)
        if start <= last:
            runs.append([start, last])
        self.runs = runs
        self.size = 1
        while self.size < len(runs):
            self.size *= 2
        self.tree = [0] * (2 * self.size)
        for i, (lo, hi) in enumerate(runs):
            self.tree[self.size + i] = hi - lo + 1
        for i in range(self.size - 1, 0, -1):
            self.tree[i] = max(self.tree[2 * i], self.tree[2 * i + 1])

    def take(self, n):
        """The first n consecutive free addresses (first, last), now used; None if no run
        is that long."""
        if self.tree[1] < n:
            return None
        i = 1
        while i < self.size:
            i = 2 * i if self.tree[2 * i] >= n else 2 * i + 1
        run = self.runs[i - self.size]
        first = run[0]
        run[0] += n
        self.tree[i] -= n
        i //= 2
        while i:
            self.tree[i] = max(self.tree[2 * i], self.tree[2 * i + 1])
            i //= 2
        return first, first + n - 1


class _Allocator:
    """Hands out free host addresses of a subnet (network, gateway, broadcast kept): each
    subnet's next address in order, then blocks of secondary addresses, first fit."""

    def __init__(self):
        self.used = set()
        self.cursor = {}  # net -> int: every host address below it is used
        self.claimed = {}  # IPv4 net -> [int] its used addresses, for the blocks
        self.gaps = {}  # IPv4 net -> _Gaps, once the first block is asked for

    def claim(self, addr, net):
        self.used.add(addr)
        if net.version == 4:
            self.claimed.setdefault(net, []).append(int(addr))

    def next_free(self, net):
        start = int(net.network_address) + 2  # .0 network, .1 gateway
        last = int(net.broadcast_address) - (1 if net.version == 4 else 0)
        cls = ipaddress.IPv4Address if net.version == 4 else ipaddress.IPv6Address
        n = self.cursor.get(net, start)
        while n <= last:
            addr = cls(n)
            n += 1
            if addr not in self.used:
                self.cursor[net] = n
                self.claim(addr, net)
                return addr
        self.cursor[net] = n
        return None

    def block(self, net, n):
        """The first run of n consecutive free host addresses, claimed as (first, last).
        Asked for once every primary address is handed out."""
        if net not in self.gaps:
            self.gaps[net] = _Gaps(int(net.network_address) + 2,
                                   int(net.broadcast_address) - 1, self.claimed.get(net, ()))
        got = self.gaps[net].take(n)
        if got is None:
            return None
        return ipaddress.IPv4Address(got[0]), ipaddress.IPv4Address(got[1])


def _check_host_address(p, addr, net, path, value, used):
    if addr not in net:
        p.fail(path, f"is outside its subnet {net}", value)
    reserved = {net.network_address, net.network_address + 1}
    if net.version == 4:
        reserved.add(net.broadcast_address)
    if addr in reserved:
        p.fail(path, "is reserved (network, gateway or broadcast address)", value)
    if addr in used:
        p.fail(path, "address already in use", value)


def _parse_group_list(p, value, path, groups):
    if value is None:
        return None
    names = p.seq(value, path)
    out, seen = [], set()
    for k, g in enumerate(names):
        if not isinstance(g, str) or g not in groups:
            p.fail(f"{path}[{k}]", "unknown security group", g, ", ".join(groups))
        if g in seen:
            p.fail(f"{path}[{k}]", "group listed twice", g)
        seen.add(g)
        out.append(g)
    return out


def _parse_instances(p, raw, vpcs, groups, profile):
    subnets = {s.name: s for v in vpcs for s in v.subnets}
    names = set()
    alloc = _Allocator()
    pending = []  # (eni fields, path) to allocate once every explicit address is claimed
    instances = []
    private = 0  # IPv4 addresses of the ENIs so far, primary and secondary
    most = BOUNDS["private_ipv4"]
    for i, inst in enumerate(p.seq(raw.get("instances"), "instances", "instances",
                                   "instances")):
        path = f"instances[{i}]"
        p.mapping(inst, path, INSTANCE_KEYS, required=("name",))
        name = p.unique_name(inst["name"], f"{path}.name", names, "instance")
        inst_groups = _parse_group_list(p, inst.get("security_groups"),
                                        f"{path}.security_groups", groups)
        if not inst_groups:
            inst_groups = [profile.default_group]
        eni_specs = [(inst, path, inst_groups)]
        secondaries = p.seq(inst.get("secondary_enis"), f"{path}.secondary_enis",
                            "secondary_enis", "secondary ENIs")
        for k, e in enumerate(secondaries):
            epath = f"{path}.secondary_enis[{k}]"
            p.mapping(e, epath, ENI_KEYS, required=("subnet",))
            eg = _parse_group_list(p, e.get("security_groups"), f"{epath}.security_groups",
                                   groups) or list(inst_groups)
            eni_specs.append((e, epath, eg))
        enis = []
        primary_vpc = None
        for k, (spec, epath, eg) in enumerate(eni_specs):
            sname = spec.get("subnet")
            if sname is None:
                if len(subnets) != 1:
                    p.fail(f"{epath}.subnet", "is required when the lab has more than one subnet")
                sname = next(iter(subnets))
            if not isinstance(sname, str) or sname not in subnets:
                p.fail(f"{epath}.subnet", "unknown subnet", sname, ", ".join(subnets))
            subnet = subnets[sname]
            if primary_vpc is None:
                primary_vpc = subnet.vpc
            elif subnet.vpc != primary_vpc:
                p.fail(f"{epath}.subnet", f"is in VPC {subnet.vpc}, but the instance is in "
                       f"VPC {primary_vpc}; an instance's ENIs share one VPC", sname)
            ip = ipv6 = None
            if spec.get("ip") is not None:
                ip = p.address(spec["ip"], f"{epath}.ip", 4)
                _check_host_address(p, ip, subnet.cidr, f"{epath}.ip", spec["ip"], alloc.used)
                alloc.claim(ip, subnet.cidr)
            if spec.get("ipv6") is not None:
                if subnet.ipv6_cidr is None:
                    p.fail(f"{epath}.ipv6", f"subnet {sname} has no ipv6_cidr", spec["ipv6"])
                ipv6 = p.address(spec["ipv6"], f"{epath}.ipv6", 6)
                _check_host_address(p, ipv6, subnet.ipv6_cidr, f"{epath}.ipv6", spec["ipv6"],
                                    alloc.used)
                alloc.claim(ipv6, subnet.ipv6_cidr)
            eni = Eni(name, k, sname, ip, ipv6, eg)
            enis.append(eni)
            n2 = spec.get("secondary_ips", 0)
            if bounded_int(n2, 0, 10 ** MAX_INT_DIGITS, strings=False) is None:
                p.fail(f"{epath}.secondary_ips", "not a count of addresses", n2,
                       "a whole number (0 = none)")
            p.count(n2, f"{epath}.secondary_ips", "secondary_ips",
                    "secondary addresses on one ENI")
            private += 1 + n2
            if n2 and private > most:
                p.fail(f"{epath}.secondary_ips", f"brings the lab's private IPv4 addresses "
                       f"to {private:,}", n2, f"at most {most:,} in a lab, primary and "
                       "secondary")
            pending.append((eni, subnet, epath, n2))
        instances.append(Instance(name, i, enis))
    p.count(private, "instances", most, "private IPv4 addresses in the lab")
    for eni, subnet, epath, _ in pending:
        if eni.ip is None:
            eni.ip = alloc.next_free(subnet.cidr)
            if eni.ip is None:
                p.fail(f"{epath}.subnet", "no free address left in the subnet", subnet.name)
        if eni.ipv6 is None and subnet.ipv6_cidr is not None:
            eni.ipv6 = alloc.next_free(subnet.ipv6_cidr)
    for eni, subnet, epath, n2 in pending:  # secondary blocks after every primary address
        if n2:
            eni.secondary = alloc.block(subnet.cidr, n2)
            if eni.secondary is None:
                p.fail(f"{epath}.secondary_ips", f"no block of {n2} free addresses left in "
                       f"subnet {subnet.name} ({subnet.cidr})", n2)
    return instances


def _parse_externals(p, raw, vpcs, instances):
    taken = {i.name for i in instances}
    out, addrs = [], set()
    for i, x in enumerate(p.seq(raw.get("externals"), "externals", "externals",
                                "externals")):
        path = f"externals[{i}]"
        p.mapping(x, path, EXTERNAL_KEYS, required=("name", "ip"))
        name = p.name(x["name"], f"{path}.name")
        if name in taken:
            p.fail(f"{path}.name", "name already used by another instance or external", name)
        taken.add(name)
        ip = p.address(x["ip"], f"{path}.ip", 4)
        ipv6 = p.address(x["ipv6"], f"{path}.ipv6", 6) if x.get("ipv6") is not None else None
        for fam, a, key in ((4, ip, "ip"), (6, ipv6, "ipv6")):
            if a is None:
                continue
            if (a.is_loopback or a.is_multicast or a.is_link_local or a.is_unspecified
                    or a.is_reserved or (fam == 6 and a.ipv4_mapped is not None)
                    or (fam == 4 and a == ipaddress.IPv4Address("255.255.255.255"))):
                p.fail(f"{path}.{key}", "must be a unicast host address", x[key])
            for v in vpcs:
                inside = a in v.cidr if fam == 4 else (v.ipv6_cidr and a in v.ipv6_cidr)
                if inside:
                    p.fail(f"{path}.{key}", f"is inside VPC {v.name}; an external host lives "
                           "outside every VPC", x[key])
            if a in addrs:
                p.fail(f"{path}.{key}", "address already in use", x[key])
            addrs.add(a)
        out.append(External(name, i, ip, ipv6))
    return out

"""A lab file's contents (a dict) -> the validated model (core: pure).

Every check of what a lab file says happens here, before anything touches the kernel: a bad
value raises FieldError naming the source, the field path, the value (cut to a readable
length) and what is allowed (exit code 2). What a lab file can ask for is bounded (BOUNDS).
sgnet.io.labfile reads the file and its YAML and calls parse(); the live changes
(sgnet.core.changes) check a rule typed on the command line with the same parse_rule.
Values (protocols, ports, actions, integers) are read by sgnet.core.values; a group's
provider-specific fields by its provider (Profile.group_fields).
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import gc
import ipaddress
import re

from sgnet.core import readings, values
from sgnet.core.errors import _NO_VALUE, MAX_SHOWN, FieldError, short
from sgnet.core.model import (Eni, External, Group, Host, Instance, Lab, PrefixList, Remote, Rule,
                              Subnet, Vpc)
from sgnet.core.values import (MAX_INT_DIGITS, PORTED_PROTOCOLS, ValueProblem, bounded_int,
                               protocol_name)
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
# A group's keys: these, then every provider's own (Profile.group_fields; a key of another
# provider is refused by name, see _refuse_foreign_group_keys).
GROUP_KEYS = ("name", "default_rules", "rules", "description") + tuple(dict.fromkeys(
    k for profile in PROFILES.values() if profile.group_fields is not None
    for k in profile.group_fields.KEYS))
# A rule's fields, in the lab file and as `sgnet rule` flags (--remote-group: remote_group).
RULE_FIELDS = ("direction", "action", "priority", "ethertype", "protocol", "ports", "remote",
               "remote_group", "remote_prefix_list", "description")
INSTANCE_KEYS = ("name", "subnet", "ip", "ipv6", "security_groups", "secondary_enis", "host",
                 "secondary_ips", "eni_id")
ENI_KEYS = ("subnet", "ip", "ipv6", "security_groups", "secondary_ips", "eni_id")
# The cloud's id of an ENI (kept by `import`; flow logs name the ENI that logged a record by
# it): Huawei's port id (a UUID), Alibaba's eni-... id.
ENI_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
ENI_ID_RULE = "a cloud's ENI id: letters, digits and . _ : -, at most 128 characters"
EXTERNAL_KEYS = ("name", "ip", "ipv6", "host")
PREFIX_LIST_KEYS = ("name", "entries")
HOST_KEYS = ("name", "address", "simulated", "transport", "ssh_host", "ssh_user", "ssh_port",
             "ssh_identity", "ssh_options", "command")
TRANSPORTS = ("ssh", "local")
HOST_NAME = re.compile(r"^[a-z0-9]{1,8}$")
PLACEMENTS = ("round-robin",)
# conntrack_timeout, then the settings that choose how a document is read (sgnet.core.readings)
SETTINGS_KEYS = ("conntrack_timeout",) + tuple(readings.settings())
MAX_TIMEOUT = 432000  # the kernel's own TCP established default, 5 days

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
MAX_ALLOWED_SHOWN = 300  # characters of the list of what is allowed

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # \t, \n kept


@contextlib.contextmanager
def building():
    """Reading a lab makes many objects that all live on (nodes, then the model): the cyclic
    garbage collector would walk every live object again and again, for no garbage (none of
    them forms a cycle), a tenth of the time of a lab of 10,000 instances and growing with
    it. Off while building, as it was after. (A probe run's records are the same case:
    sgnet.session holds this around one.)"""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# -- values in messages ---------------------------------------------------------------------------
class Shown:
    """A value for FieldError's message: its repr is short(value)."""

    def __init__(self, value):
        self.text = short(value)

    def __repr__(self):
        return self.text


def cut_text(text: str, limit: int) -> str:
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


class FieldReader:
    """Reads the fields of one source (a lab file, the command line): each check returns the
    value read or raises FieldError naming the source, the field's path and the value."""

    def __init__(self, source):
        self.source = source

    def fail(self, path, problem, value=_NO_VALUE, allowed=None):
        shown = value if value is _NO_VALUE else Shown(value)
        if allowed is not None:
            allowed = cut_text(str(allowed), MAX_ALLOWED_SHOWN)
        e = FieldError(self.source, path, problem, shown, allowed)
        e.value = value  # the value itself, for whoever words the refusal differently
        raise e

    def value(self, path, value, parse, *args):
        """parse(value, *args) (a sgnet.core.values reader); its ValueProblem refused here."""
        try:
            return parse(value, *args)
        except ValueProblem as e:
            self.fail(path, e.problem, value if e.shown is values.THE_VALUE else e.shown,
                      e.allowed)

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
    """A lab file's YAML document -> the validated Lab, or FieldError (exit 2)."""
    with building():
        return _parse(raw, source)


def _parse(raw, source):
    p = FieldReader(source)
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
        _check_readings(p, raw["settings"], provider)

    vpcs = _parse_vpcs(p, raw)
    prefix_lists = _parse_prefix_lists(p, raw)
    groups = _parse_groups(p, raw, profile, prefix_lists)
    instances = _parse_instances(p, raw, vpcs, groups, profile)
    externals = _parse_externals(p, raw, vpcs, instances)
    instance_hosts, external_hosts = _place(p, raw, hosts, len(instances), len(externals))
    if hosts:
        p.count(sum(len(v.subnets) for v in vpcs), "vpcs", "host_subnets",
                "subnets for a multi-host lab (one VXLAN VNI each)")

    lab = Lab(name=name, provider=provider, vpcs=vpcs, groups=groups,
              instances=[Instance(n, i, enis, h) for i, ((n, enis), h)
                         in enumerate(zip(instances, instance_hosts))],
              externals=[External(n, i, ip, ipv6, h) for i, ((n, ip, ipv6), h)
                         in enumerate(zip(externals, external_hosts))],
              prefix_lists=prefix_lists, source=source,
              settings=dict(raw.get("settings") or {}), hosts=hosts)
    _refuse_foreign_group_keys(p, raw, profile)
    profile.validate(lab, raw, p.fail)
    return lab


def _check_readings(p, settings, provider):
    """A reading's setting: one of its values, in a lab of its provider (a setting another
    provider's lab would silently ignore is refused instead)."""
    for key in readings.settings():
        if key not in settings:
            continue
        reading, v = readings.BY_SETTING[key], settings[key]
        if reading.provider != provider:
            p.fail(f"settings.{key}", f"applies to provider {reading.provider} only; this lab's "
                   f"provider is {provider}", v, f"no settings.{key} in a {provider} lab")
        names = [x.name for x in reading.values]
        if not isinstance(v, str) or v not in names:
            p.fail(f"settings.{key}", "unknown reading", v,
                   ", ".join(names) + f" (default {reading.default})")


def _parse_hosts(p, raw) -> list:
    """`hosts:` (and `placement:`): the machines a lab spans: real ones (`address`: the
    VXLAN underlay address, and where SSH goes) or simulated ones (local namespaces
    standing in for hypervisors; `address`, optional, their address on the simulated
    underlay). `transport` says how a host's agent is reached: ssh (real hosts, unless the
    address is this machine's) or local exec (simulated hosts); a simulated host can be
    reached over SSH too (`transport: ssh`, to `ssh_host`, 127.0.0.1 by default). One lab
    is built on hosts of one kind: see sgnet.io.labfile.check_buildable."""
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
    names, addresses = set(), set()
    return [_parse_host(p, h, i, names, addresses) for i, h in enumerate(hosts_raw)]


def _parse_host(p, h, i, names: set, addresses: set) -> Host:
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
    user, port, command, identity, options = _host_ssh(p, h, path)
    return Host(name, i, address, user, port, simulated, command, identity, options,
                transport, ssh_host)


def _host_ssh(p, h, path) -> tuple:
    """How sgnet reaches and runs on a host: user, port, command, identity, options."""
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
    return user, port, command, identity, tuple(options)


def _place(p, raw, hosts, n_instances: int, n_externals: int):
    """The host of every instance and external (None: a one-host lab): `host:` where
    given, else round-robin over the hosts (instances) or the first host (externals)."""
    names = [h.name for h in hosts]
    turn = 0
    placed = {"instances": [], "externals": []}
    for kind, n in (("instances", n_instances), ("externals", n_externals)):
        for i in range(n):
            where = (raw.get(kind) or [])[i].get("host")
            path = f"{kind}[{i}].host"
            if where is not None:
                if not hosts:
                    p.fail(path, "names a host, but the lab has no hosts:", where)
                if where not in names:
                    p.fail(path, "unknown host", where, ", ".join(names))
            elif hosts:
                if kind == "instances":
                    where = names[turn % len(names)]
                    turn += 1
                else:
                    where = names[0]
            placed[kind].append(where)
    return placed["instances"], placed["externals"]


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
        subnets = _parse_subnets(p, v, path, Vpc(vname, cidr, v6, []), subnet_names, index)
        index += len(subnets)
        vpcs.append(Vpc(vname, cidr, v6, subnets))
    return vpcs


def _parse_subnets(p, v, path, vpc, names: set, index: int) -> list:
    """The subnets of VPC declaration v (vpc: its name and ranges); index: the lab's
    subnets before them."""
    subnets = []
    subnets4, subnets6 = _Disjoint(), _Disjoint()
    subnets_raw = p.seq(v.get("subnets"), f"{path}.subnets")
    p.count(index + len(subnets_raw), f"{path}.subnets", "subnets",
            "subnets in the lab (counting the VPCs before this one)")
    for j, s in enumerate(subnets_raw):
        spath = f"{path}.subnets[{j}]"
        p.mapping(s, spath, SUBNET_KEYS, required=("name", "cidr"))
        sname = p.unique_name(s["name"], f"{spath}.name", names, "subnet")
        scidr = p.network(s["cidr"], f"{spath}.cidr", 4)
        if not scidr.subnet_of(vpc.cidr):
            p.fail(f"{spath}.cidr", f"is outside its VPC {vpc.name} ({vpc.cidr})", s["cidr"])
        if scidr.prefixlen > 29:
            p.fail(f"{spath}.cidr", "too small: a subnet needs at least a /29", s["cidr"])
        if subnets4.overlaps(scidr):
            other = next(o for o in subnets if scidr.overlaps(o.cidr))
            p.fail(f"{spath}.cidr", f"overlaps subnet {other.name} ({other.cidr})",
                   s["cidr"])
        subnets4.add(scidr)
        s6 = None
        if s.get("ipv6_cidr") is not None:
            if vpc.ipv6_cidr is None:
                p.fail(f"{spath}.ipv6_cidr", f"VPC {vpc.name} has no ipv6_cidr",
                       s["ipv6_cidr"])
            s6 = p.network(s["ipv6_cidr"], f"{spath}.ipv6_cidr", 6, within=vpc.ipv6_cidr)
            if not 64 <= s6.prefixlen <= 120:
                p.fail(f"{spath}.ipv6_cidr", "too small", s["ipv6_cidr"], "/64 to /120")
            if subnets6.overlaps(s6):
                other = next(o for o in subnets if o.ipv6_cidr and s6.overlaps(o.ipv6_cidr))
                p.fail(f"{spath}.ipv6_cidr", f"overlaps subnet {other.name}",
                       s["ipv6_cidr"])
            subnets6.add(s6)
        subnets.append(Subnet(sname, vpc.name, scidr, s6, index + j))
    if not subnets:
        p.fail(f"{path}.subnets", "a VPC needs at least one subnet")
    return subnets


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
    declared = _declared_groups(p, raw)
    groups = dict(builtin)
    for name, (path, g) in declared.items():
        groups[name] = _group(p, g, path, name, name in builtin, profile)
    # Rules are parsed once every group name is known (remote_group may point forward).
    for name, (path, g) in declared.items():
        rules = [parse_rule(p, r, f"{path}.rules[{j}]", name, groups, prefix_lists, profile)
                 for j, r in enumerate(p.seq(g.get("rules"), f"{path}.rules"))]
        groups[name] = dataclasses.replace(groups[name], rules=groups[name].rules + rules)
    return groups


def _declared_groups(p, raw) -> dict:
    """name -> (path, declaration) of the file's groups, every count checked before any
    rule is parsed."""
    declared, names, n_rules = {}, set(), 0
    for i, g in enumerate(p.seq(raw.get("security_groups"), "security_groups",
                                "security_groups", "security groups")):
        path = f"security_groups[{i}]"
        p.mapping(g, path, GROUP_KEYS, required=("name",))
        name = p.unique_name(g["name"], f"{path}.name", names, "security group")
        declared[name] = (path, g)
        n_rules += len(p.seq(g.get("rules"), f"{path}.rules", "rules_per_group", "rules"))
        p.count(n_rules, f"{path}.rules", "rules", "rules in the lab (counting the groups "
                "before this one)")
    return declared


def _group(p, g, path, name, builtin: bool, profile) -> Group:
    """A declared group with its provider's fields and its default rules (the declared
    rules come once every group is known)."""
    description = g.get("description") or ""
    if isinstance(description, (list, dict, set, tuple, bytes)):
        p.fail(f"{path}.description", "must be a string", description)
    description = p.text(str(description), f"{path}.description")
    group = Group(name, builtin=builtin, description=description,
                  extras=_group_fields(p, g, path, profile))
    declared_defaults = None
    if "default_rules" in g:
        declared_defaults = p.boolean(g["default_rules"], f"{path}.default_rules")
    if not profile.wants_default_rules(group, declared_defaults):
        return group
    return dataclasses.replace(group, rules=list(profile.new_group_rules(group)))


def _group_fields(p, g, path, profile):
    """The provider's own fields of declaration g (Group.extras). A key of another
    provider's groups is read as that provider reads it (a bad value is refused as such),
    then refused as not this provider's (_refuse_foreign_group_keys)."""
    own = None
    for name, other in PROFILES.items():
        fields = other.group_fields
        if fields is not None and (name == profile.name or any(k in g for k in fields.KEYS)):
            extras = fields.read(p, g, path)
            own = extras if name == profile.name else own
    return own


def _refuse_foreign_group_keys(p, raw, profile):
    own = profile.group_fields.KEYS if profile.group_fields is not None else ()
    foreign = [(key, name) for name, other in PROFILES.items() if other.group_fields
               is not None for key in other.group_fields.KEYS if key not in own]
    for i, g in enumerate(raw.get("security_groups") or []):
        if isinstance(g, dict):
            for key, name in foreign:
                if key in g:
                    p.fail(f"security_groups[{i}].{key}", f"'{key}' applies to {name} groups "
                           f"only, not to provider {profile.name}", g[key])


def parse_ports(p, value, path):
    """'22', 22, '22,80,8000-8080', [22, '80-90'], alibaba '22/22', '-1/-1' (all)."""
    return p.value(path, value, values.parse_ports, BOUNDS["ports_per_rule"])


def parse_protocol(p, value, path):
    return p.value(path, value, values.parse_protocol)


def parse_rule(p, r, path, group_name, groups, prefix_lists, profile) -> Rule:
    """One rule of group_name (a declaration of RULE_FIELDS); groups: the lab's groups by
    name (remote_group), prefix_lists its prefix lists (remote_prefix_list)."""
    p.mapping(r, path, RULE_FIELDS, required=("direction", "action"))
    direction = p.value(f"{path}.direction", r["direction"], values.parse_direction)
    action = p.value(f"{path}.action", r["action"], values.parse_action)
    priority = bounded_int(r.get("priority", profile.default_priority), 1, 100)
    if priority is None:
        p.fail(f"{path}.priority", "priority out of range", r["priority"],
               "1-100 (1 is highest)")
    protocol = parse_protocol(p, r.get("protocol", "all"), f"{path}.protocol")
    remote, remote_family = _rule_remote(p, r, path, group_name, groups, prefix_lists)
    family = _rule_family(p, r, path, protocol, remote, remote_family, prefix_lists)
    ports = None
    if r.get("ports") is not None:
        ports = parse_ports(p, r["ports"], f"{path}.ports")
        if ports is not None and protocol not in PORTED_PROTOCOLS:
            p.fail(f"{path}.ports", f"protocol {protocol_name(protocol)} has no ports",
                   r["ports"], "ports with tcp or udp only")
    desc = p.text(r.get("description") or "", f"{path}.description")
    return Rule(direction, action, priority, family, protocol, ports, remote, desc)


def _rule_remote(p, r, path, group_name, groups, prefix_lists) -> tuple:
    """The rule's remote and the one family it implies (None: either)."""
    remotes = [k for k in ("remote", "remote_group", "remote_prefix_list")
               if r.get(k) is not None]
    if len(remotes) > 1:
        p.fail(path, "more than one remote", ", ".join(remotes),
               "exactly one of remote, remote_group, remote_prefix_list (or none = any)")
    if remotes == ["remote"]:
        value = r["remote"]
        fam = 6 if isinstance(value, str) and ":" in value else 4
        if isinstance(value, str) and "/" not in value:
            addr = p.address(value, f"{path}.remote")
            value = f"{addr}/{addr.max_prefixlen}"
        net = p.network(value, f"{path}.remote", fam)
        return Remote("cidr", str(net)), net.version
    if remotes == ["remote_group"]:
        target = r["remote_group"]
        target = group_name if target == "self" else target
        if not isinstance(target, str) or target not in groups:
            p.fail(f"{path}.remote_group", "unknown security group", r["remote_group"],
                   ", ".join(list(groups) + ["self"]))
        return Remote("group", target), None
    if remotes == ["remote_prefix_list"]:
        target = r["remote_prefix_list"]
        if not isinstance(target, str) or target not in prefix_lists:
            p.fail(f"{path}.remote_prefix_list", "unknown prefix list", target,
                   ", ".join(prefix_lists) or "(no prefix lists declared)")
        fams = {n.version for n in prefix_lists[target].entries}
        return Remote("prefix_list", target), fams.pop() if len(fams) == 1 else None
    return Remote("any"), None


def _rule_family(p, r, path, protocol, remote, remote_family, prefix_lists) -> int:
    """The rule's family: its ethertype, else what its remote or protocol implies."""
    if "ethertype" in r:
        et = r["ethertype"]
        family = p.value(f"{path}.ethertype", et, values.parse_family)
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
    return family


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


class _EniDraft:
    """An ENI read from the file, its addresses still to be handed out where not given."""

    def __init__(self, instance, index, subnet, ip, ipv6, groups, n_secondary, path,
                 eni_id=None):
        self.instance, self.index, self.subnet = instance, index, subnet
        self.ip, self.ipv6, self.groups = ip, ipv6, groups
        self.n_secondary, self.path, self.eni_id = n_secondary, path, eni_id


def _parse_instances(p, raw, vpcs, groups, profile) -> list:
    """(name, [Eni]) of every instance, in file order (their hosts are placed later)."""
    subnets = {s.name: s for v in vpcs for s in v.subnets}
    names, alloc, drafts, spans, ids = set(), _Allocator(), [], [], set()
    private = 0  # IPv4 addresses of the ENIs so far, primary and secondary
    most = BOUNDS["private_ipv4"]
    for i, inst in enumerate(p.seq(raw.get("instances"), "instances", "instances",
                                   "instances")):
        path = f"instances[{i}]"
        p.mapping(inst, path, INSTANCE_KEYS, required=("name",))
        name = p.unique_name(inst["name"], f"{path}.name", names, "instance")
        first, vpc = len(drafts), None
        for k, (spec, epath, eg) in enumerate(_eni_specs(p, inst, path, groups, profile)):
            subnet = _eni_subnet(p, spec, epath, subnets, vpc)
            vpc = subnet.vpc
            ip, ipv6 = _eni_addresses(p, spec, epath, subnet, alloc)
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
            eni_id = spec.get("eni_id")
            if eni_id is not None:
                p.name(eni_id, f"{epath}.eni_id", ENI_ID, ENI_ID_RULE)
                if eni_id in ids:
                    p.fail(f"{epath}.eni_id", "another ENI of the lab has this id", eni_id)
                ids.add(eni_id)
            drafts.append(_EniDraft(name, k, subnet, ip, ipv6, eg, n2, epath, eni_id))
        spans.append((name, first, len(drafts)))
    p.count(private, "instances", most, "private IPv4 addresses in the lab")
    enis = _allocate(p, alloc, drafts)
    return [(name, enis[a:b]) for name, a, b in spans]


def _eni_specs(p, inst, path, groups, profile) -> list:
    """(declaration, path, groups) of an instance's ENIs: the primary, then the others."""
    inst_groups = _parse_group_list(p, inst.get("security_groups"),
                                    f"{path}.security_groups", groups)
    if not inst_groups:
        inst_groups = [profile.default_group]
    specs = [(inst, path, inst_groups)]
    secondaries = p.seq(inst.get("secondary_enis"), f"{path}.secondary_enis",
                        "secondary_enis", "secondary ENIs")
    for k, e in enumerate(secondaries):
        epath = f"{path}.secondary_enis[{k}]"
        p.mapping(e, epath, ENI_KEYS, required=("subnet",))
        eg = _parse_group_list(p, e.get("security_groups"), f"{epath}.security_groups",
                               groups) or list(inst_groups)
        specs.append((e, epath, eg))
    return specs


def _eni_subnet(p, spec, epath, subnets, vpc) -> Subnet:
    """An ENI's subnet, in `vpc` (the instance's, None for its primary ENI)."""
    sname = spec.get("subnet")
    if sname is None:
        if len(subnets) != 1:
            p.fail(f"{epath}.subnet", "is required when the lab has more than one subnet")
        sname = next(iter(subnets))
    if not isinstance(sname, str) or sname not in subnets:
        p.fail(f"{epath}.subnet", "unknown subnet", sname, ", ".join(subnets))
    subnet = subnets[sname]
    if vpc is not None and subnet.vpc != vpc:
        p.fail(f"{epath}.subnet", f"is in VPC {subnet.vpc}, but the instance is in "
               f"VPC {vpc}; an instance's ENIs share one VPC", sname)
    return subnet


def _eni_addresses(p, spec, epath, subnet, alloc) -> tuple:
    """The addresses the file gives an ENI (None where not given), claimed."""
    ip = ipv6 = None
    if spec.get("ip") is not None:
        ip = p.address(spec["ip"], f"{epath}.ip", 4)
        _check_host_address(p, ip, subnet.cidr, f"{epath}.ip", spec["ip"], alloc.used)
        alloc.claim(ip, subnet.cidr)
    if spec.get("ipv6") is not None:
        if subnet.ipv6_cidr is None:
            p.fail(f"{epath}.ipv6", f"subnet {subnet.name} has no ipv6_cidr", spec["ipv6"])
        ipv6 = p.address(spec["ipv6"], f"{epath}.ipv6", 6)
        _check_host_address(p, ipv6, subnet.ipv6_cidr, f"{epath}.ipv6", spec["ipv6"],
                            alloc.used)
        alloc.claim(ipv6, subnet.ipv6_cidr)
    return ip, ipv6


def _allocate(p, alloc, drafts) -> list:
    """The ENIs, complete: the addresses not given handed out once every given one is
    claimed, then the secondary blocks once every primary address is."""
    for d in drafts:
        if d.ip is None:
            d.ip = alloc.next_free(d.subnet.cidr)
            if d.ip is None:
                p.fail(f"{d.path}.subnet", "no free address left in the subnet", d.subnet.name)
        if d.ipv6 is None and d.subnet.ipv6_cidr is not None:
            d.ipv6 = alloc.next_free(d.subnet.ipv6_cidr)
    enis = []
    for d in drafts:
        secondary = None
        if d.n_secondary:
            secondary = alloc.block(d.subnet.cidr, d.n_secondary)
            if secondary is None:
                p.fail(f"{d.path}.secondary_ips", f"no block of {d.n_secondary} free "
                       f"addresses left in subnet {d.subnet.name} ({d.subnet.cidr})",
                       d.n_secondary)
        enis.append(Eni(d.instance, d.index, d.subnet.name, d.ip, d.ipv6, d.groups, secondary,
                        d.eni_id))
    return enis


def _parse_externals(p, raw, vpcs, instances) -> list:
    """(name, ip, ipv6) of every external host, in file order (hosts placed later)."""
    taken = {name for name, _ in instances}
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
        out.append((name, ip, ipv6))
    return out

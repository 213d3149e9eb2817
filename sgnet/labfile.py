"""Lab file (YAML) -> validated model.

Every check happens here, before anything touches the kernel: a bad value raises FieldError
naming the file, the field path, the value and what is allowed (exit code 2).
"""

from __future__ import annotations

import ipaddress
import re

import yaml

from .errors import _NO_VALUE, FieldError, LabError
from .model import (PORTED_PROTOCOLS, PROTOCOLS, Eni, External, Group, Host, Instance, Lab,
                    PrefixList, Remote, Rule, Subnet, Vpc, protocol_name)
from .providers import PROFILES, get_profile

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
MAX_HOSTS = 250  # simulated underlay: one /24
MAX_HOST_SUBNETS = 255  # VNIs: 8 bits of subnet under 16 bits of lab
SETTINGS_KEYS = ("conntrack_timeout",)
MAX_TIMEOUT = 432000  # the kernel's own TCP established default, 5 days

ACTIONS = {"allow": "allow", "accept": "allow", "deny": "deny", "drop": "deny"}
DIRECTIONS = {"ingress": "ingress", "egress": "egress"}
MAX_SECONDARY_ENIS = 9  # interface names eth0..eth9


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last)."""


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
                None, None, f"duplicate key {key!r} (first at line {seen[key]})",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line + 1
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _construct_mapping)


def load_yaml(text: str, source: str):
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        problem = getattr(e, "problem", None) or str(e)
        raise LabError(f"{source}: {where}: YAML syntax error: {problem}") from None


def read_text(path: str, what: str = "the lab file", encoding: str = "utf-8") -> str:
    """A text file's contents, or a LabError naming the file (exit 2)."""
    try:
        with open(path, encoding=encoding) as f:
            return f.read()
    except OSError as e:
        raise LabError(f"{path}: cannot read {what}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise LabError(f"{path}: not a UTF-8 text file (byte {e.start})") from None


def load_file(path: str) -> Lab:
    return parse(load_yaml(read_text(path), path), path)


def parse_text(text: str, source: str = "<lab>") -> Lab:
    return parse(load_yaml(text, source), source)


class _Parser:
    def __init__(self, source):
        self.source = source

    def fail(self, path, problem, value=_NO_VALUE, allowed=None):
        raise FieldError(self.source, path, problem, value, allowed)

    # -- generic field helpers --------------------------------------------------
    def mapping(self, value, path, keys, required=()):
        if not isinstance(value, dict):
            self.fail(path, "must be a mapping", value)
        for k in value:
            if k not in keys:
                self.fail(f"{path}.{k}" if path else str(k), "unknown key", k,
                          ", ".join(keys))
        for k in required:
            if k not in value or value[k] is None:
                self.fail(f"{path}.{k}" if path else k, "is required")
        return value

    def seq(self, value, path):
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(path, "must be a list", value)
        return value

    def name(self, value, path, pattern=OBJECT_NAME, rule=NAME_RULE):
        if not isinstance(value, str) or not pattern.fullmatch(value):
            self.fail(path, "invalid name", value, rule)
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
        if t is not None and (isinstance(t, bool) or not isinstance(t, int)
                              or not 1 <= t <= MAX_TIMEOUT):
            p.fail("settings.conntrack_timeout", "not a timeout in seconds", t,
                   f"1-{MAX_TIMEOUT}")

    vpcs = _parse_vpcs(p, raw)
    prefix_lists = _parse_prefix_lists(p, raw)
    groups = _parse_groups(p, raw, profile, prefix_lists)
    instances = _parse_instances(p, raw, vpcs, groups, profile)
    externals = _parse_externals(p, raw, vpcs, instances)
    _place(p, raw, hosts, instances, externals)
    if hosts and sum(len(v.subnets) for v in vpcs) > MAX_HOST_SUBNETS:
        p.fail("vpcs", "too many subnets for a multi-host lab (one VXLAN VNI each)",
               sum(len(v.subnets) for v in vpcs), f"at most {MAX_HOST_SUBNETS}")

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
    hosts_raw = p.seq(raw["hosts"], "hosts")
    if not hosts_raw:
        p.fail("hosts", "is empty: name at least one host, or leave hosts out", raw["hosts"])
    if len(hosts_raw) > MAX_HOSTS:
        p.fail("hosts", "too many hosts", len(hosts_raw), f"at most {MAX_HOSTS}")
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
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            p.fail(f"{path}.ssh_port", "not a TCP port", port, "1-65535")
        command = h.get("command", "sgnet")
        if not isinstance(command, str) or not command.strip():
            p.fail(f"{path}.command", "must be the command that runs sgnet on the host",
                   command, "e.g. sgnet or /opt/sgnet/.venv/bin/sgnet")
        identity = h.get("ssh_identity")
        if identity is not None and (not isinstance(identity, str) or not identity):
            p.fail(f"{path}.ssh_identity", "must be the path of a private key file", identity)
        options = p.seq(h.get("ssh_options"), f"{path}.ssh_options")
        for k, o in enumerate(options):
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
                         [h.name for h in hosts], "all simulated: true, or all real")
    from .fabric import underlay_ip
    underlay = [underlay_ip(h) for h in hosts]
    for h, a in zip(hosts, underlay):
        if underlay.count(a) > 1:
            raise FieldError(lab.source, f"hosts[{h.index}].address", "is also another "
                             "host's underlay address (simulated hosts without one get "
                             "198.18.0.N, N their place in the list)", a)
    if len({ipaddress.ip_address(a).version for a in underlay}) > 1:
        raise FieldError(lab.source, "hosts", "mixes IPv4 and IPv6 addresses: the VXLAN "
                         "underlay is one family", [h.address for h in hosts])


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


def _parse_vpcs(p, raw):
    vpcs_raw = p.seq(raw.get("vpcs"), "vpcs")
    if not vpcs_raw:
        # Huawei creates vpc-default with the first ECS; one VPC, one subnet.
        vpcs_raw = [{"name": "vpc-default", "cidr": "192.168.0.0/16",
                     "subnets": [{"name": "subnet-default", "cidr": "192.168.0.0/24"}]}]
    vpcs, names, subnet_names = [], set(), set()
    index = 0
    for i, v in enumerate(vpcs_raw):
        path = f"vpcs[{i}]"
        p.mapping(v, path, VPC_KEYS, required=("name", "cidr"))
        vname = p.unique_name(v["name"], f"{path}.name", names, "VPC")
        cidr = p.network(v["cidr"], f"{path}.cidr", 4)
        if not any(cidr.subnet_of(r) for r in PRIVATE_RANGES) or not 8 <= cidr.prefixlen <= 28:
            p.fail(f"{path}.cidr", "a VPC needs a private IPv4 range", v["cidr"],
                   "inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, mask /8 to /28")
        for other in vpcs:
            if cidr.overlaps(other.cidr):
                p.fail(f"{path}.cidr", f"overlaps VPC {other.name} ({other.cidr}); the VPCs "
                       "of one lab share its gateway and must not overlap", v["cidr"])
        v6 = None
        if v.get("ipv6_cidr") is not None:
            v6 = p.network(v["ipv6_cidr"], f"{path}.ipv6_cidr", 6)
            if v6.prefixlen > 64:
                p.fail(f"{path}.ipv6_cidr", "too small for /64 subnets", v["ipv6_cidr"],
                       "a prefix of /64 or shorter, e.g. fd00:10::/48")
            for other in vpcs:
                if other.ipv6_cidr and v6.overlaps(other.ipv6_cidr):
                    p.fail(f"{path}.ipv6_cidr", f"overlaps VPC {other.name} "
                           f"({other.ipv6_cidr})", v["ipv6_cidr"])
        subnets = []
        for j, s in enumerate(p.seq(v.get("subnets"), f"{path}.subnets")):
            spath = f"{path}.subnets[{j}]"
            p.mapping(s, spath, SUBNET_KEYS, required=("name", "cidr"))
            sname = p.unique_name(s["name"], f"{spath}.name", subnet_names, "subnet")
            scidr = p.network(s["cidr"], f"{spath}.cidr", 4)
            if not scidr.subnet_of(cidr):
                p.fail(f"{spath}.cidr", f"is outside its VPC {vname} ({cidr})", s["cidr"])
            if scidr.prefixlen > 29:
                p.fail(f"{spath}.cidr", "too small: a subnet needs at least a /29", s["cidr"])
            for other in subnets:
                if scidr.overlaps(other.cidr):
                    p.fail(f"{spath}.cidr", f"overlaps subnet {other.name} ({other.cidr})",
                           s["cidr"])
            s6 = None
            if s.get("ipv6_cidr") is not None:
                if v6 is None:
                    p.fail(f"{spath}.ipv6_cidr", f"VPC {vname} has no ipv6_cidr",
                           s["ipv6_cidr"])
                s6 = p.network(s["ipv6_cidr"], f"{spath}.ipv6_cidr", 6, within=v6)
                if not 64 <= s6.prefixlen <= 120:
                    p.fail(f"{spath}.ipv6_cidr", "too small", s["ipv6_cidr"], "/64 to /120")
                for other in subnets:
                    if other.ipv6_cidr and s6.overlaps(other.ipv6_cidr):
                        p.fail(f"{spath}.ipv6_cidr", f"overlaps subnet {other.name}",
                               s["ipv6_cidr"])
            subnets.append(Subnet(sname, vname, scidr, s6, index))
            index += 1
        if not subnets:
            p.fail(f"{path}.subnets", "a VPC needs at least one subnet")
        vpcs.append(Vpc(vname, cidr, v6, subnets))
    return vpcs


def _parse_prefix_lists(p, raw):
    out = {}
    for i, pl in enumerate(p.seq(raw.get("prefix_lists"), "prefix_lists")):
        path = f"prefix_lists[{i}]"
        p.mapping(pl, path, PREFIX_LIST_KEYS, required=("name",))
        name = p.unique_name(pl["name"], f"{path}.name", set(out), "prefix list")
        entries = []
        for j, e in enumerate(p.seq(pl.get("entries"), f"{path}.entries")):
            fam = 6 if isinstance(e, str) and ":" in e else 4
            entries.append(p.network(e, f"{path}.entries[{j}]", fam))
        out[name] = PrefixList(name, entries)
    return out


def _parse_groups(p, raw, profile, prefix_lists):
    builtin = {g.name: g for g in profile.builtin_groups()}
    declared = {}
    for i, g in enumerate(p.seq(raw.get("security_groups"), "security_groups")):
        path = f"security_groups[{i}]"
        p.mapping(g, path, GROUP_KEYS, required=("name",))
        name = p.unique_name(g["name"], f"{path}.name", set(declared), "security group")
        declared[name] = (path, g)
    groups = dict(builtin)
    for name, (path, g) in declared.items():
        group = Group(name, builtin=name in builtin,
                      description=str(g.get("description") or ""))
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


def parse_ports(p, value, path):
    """'22', 22, '22,80,8000-8080', [22, '80-90'], alibaba '22/22', '-1/-1' (all)."""
    items = value if isinstance(value, list) else [value]
    ranges = []
    for item in items:
        if isinstance(item, bool):
            p.fail(path, "not a port", value)
        parts = [item] if isinstance(item, int) else str(item).split(",")
        for part in parts:
            text = str(part).strip()
            if text in ("-1/-1", "-1", "all", "any"):
                return None
            m = re.fullmatch(r"(\d+)(?:\s*[-/]\s*(\d+))?", text)
            if not m:
                p.fail(path, "bad port or port range", value,
                       "1-65535, lists and ranges like '22,80,8000-8080' or '22/22'")
            lo = int(m.group(1))
            hi = int(m.group(2)) if m.group(2) else lo
            if not (1 <= lo <= 65535 and 1 <= hi <= 65535) or lo > hi:
                p.fail(path, "bad port range", value, "ports 1-65535, start <= end")
            ranges.append((lo, hi))
    if not ranges:
        p.fail(path, "empty port list", value)
    if ranges == [(1, 65535)]:
        return None
    return tuple(sorted(set(ranges)))


def parse_protocol(p, value, path):
    if isinstance(value, bool):
        p.fail(path, "unknown protocol", value)
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        n = int(value)
        if not 0 <= n <= 255:
            p.fail(path, "protocol number out of range", value, "0-255")
        return n
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("all", "any", "-1"):
            return None
        if v in PROTOCOLS:
            return PROTOCOLS[v]
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
    priority = r.get("priority", profile.default_priority)
    if isinstance(priority, str) and priority.strip().isdigit():
        priority = int(priority)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 100:
        p.fail(f"{path}.priority", "priority out of range", priority, "1-100 (1 is highest)")
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
    desc = r.get("description") or ""
    if not isinstance(desc, str):
        p.fail(f"{path}.description", "must be a string", desc)
    return Rule(direction, action, priority, family, protocol, ports, remote, desc)


class _Allocator:
    """Hands out free host addresses of a subnet (network, gateway, broadcast kept)."""

    def __init__(self):
        self.used = set()
        self.blocks = []  # secondary address blocks, as (first, last) integers

    def claim(self, addr):
        self.used.add(addr)

    def next_free(self, net):
        start = net.network_address + 2  # .0 network, .1 gateway
        last = net.broadcast_address - 1 if net.version == 4 else net.broadcast_address
        addr = start
        while addr <= last:
            if addr not in self.used:
                self.used.add(addr)
                return addr
            addr += 1
        return None

    def block(self, net, n):
        """The first run of n consecutive free host addresses, claimed as (first, last)."""
        first = int(net.network_address) + 2
        last = int(net.broadcast_address) - 1
        taken = sorted([(int(a), int(a)) for a in self.used if a.version == 4 and a in net]
                       + self.blocks)
        start = first
        for lo, hi in taken + [(last + 1, last + 1)]:
            if lo - start >= n:
                break
            start = max(start, hi + 1)
        if start + n - 1 > last:
            return None
        self.blocks.append((start, start + n - 1))
        return ipaddress.IPv4Address(start), ipaddress.IPv4Address(start + n - 1)


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
    out = []
    for k, g in enumerate(names):
        if not isinstance(g, str) or g not in groups:
            p.fail(f"{path}[{k}]", "unknown security group", g, ", ".join(groups))
        if g in out:
            p.fail(f"{path}[{k}]", "group listed twice", g)
        out.append(g)
    return out


def _parse_instances(p, raw, vpcs, groups, profile):
    subnets = {s.name: s for v in vpcs for s in v.subnets}
    names = set()
    alloc = _Allocator()
    pending = []  # (eni fields, path) to allocate once every explicit address is claimed
    instances = []
    for i, inst in enumerate(p.seq(raw.get("instances"), "instances")):
        path = f"instances[{i}]"
        p.mapping(inst, path, INSTANCE_KEYS, required=("name",))
        name = p.unique_name(inst["name"], f"{path}.name", names, "instance")
        inst_groups = _parse_group_list(p, inst.get("security_groups"),
                                        f"{path}.security_groups", groups)
        if not inst_groups:
            inst_groups = [profile.default_group]
        eni_specs = [(inst, path, inst_groups)]
        secondaries = p.seq(inst.get("secondary_enis"), f"{path}.secondary_enis")
        if len(secondaries) > MAX_SECONDARY_ENIS:
            p.fail(f"{path}.secondary_enis", "too many ENIs", len(secondaries),
                   f"at most {MAX_SECONDARY_ENIS}")
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
                alloc.claim(ip)
            if spec.get("ipv6") is not None:
                if subnet.ipv6_cidr is None:
                    p.fail(f"{epath}.ipv6", f"subnet {sname} has no ipv6_cidr", spec["ipv6"])
                ipv6 = p.address(spec["ipv6"], f"{epath}.ipv6", 6)
                _check_host_address(p, ipv6, subnet.ipv6_cidr, f"{epath}.ipv6", spec["ipv6"],
                                    alloc.used)
                alloc.claim(ipv6)
            eni = Eni(name, k, sname, ip, ipv6, eg)
            enis.append(eni)
            n2 = spec.get("secondary_ips", 0)
            if isinstance(n2, bool) or not isinstance(n2, int) or n2 < 0:
                p.fail(f"{epath}.secondary_ips", "not a count of addresses", n2,
                       "a whole number (0 = none)")
            pending.append((eni, subnet, epath, n2))
        instances.append(Instance(name, i, enis))
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
    for i, x in enumerate(p.seq(raw.get("externals"), "externals")):
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

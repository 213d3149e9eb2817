"""Security groups -> nftables JSON (pure; applied by sgnet.kernel.nft in the instance's namespace).

One `inet` table per instance namespace, named after the lab:
  input/output base chains, policy drop:
      ct state established,related accept      (stateful: replies pass)
      ct state invalid drop                    (segments that belong to no connection)
      ICMPv6 neighbour discovery / MLD accept  (conntrack leaves it untracked)
      loopback accept                          (an instance talking to itself)
      iifname/oifname vmap -> per-ENI chain    (each ENI has its own groups)
  in_ethN / out_ethN: the ENI's decision list (sgnet.providers), in order, each rule with a
      counter and a comment naming its group and rule, ending in the list's default verdict.
Every deciding rule also says so (sgnet.core.witness): it sets the packet's mark to the
rule's number, keeps it on the session it admits (ct mark), and logs the packet to NFLOG.
Group and prefix-list remotes are named sets per family. The whole table is replaced in one
transaction (add + delete + add), so a change is atomic.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re

from sgnet.core import layering, witness
from sgnet.core.model import Instance, Lab
from sgnet.core.names import bridge_name, world_link_name
from sgnet.core.placement import has_world
from sgnet.providers import get_profile

ND_TYPES = ["nd-router-solicit", "nd-router-advert", "nd-neighbor-solicit",
            "nd-neighbor-advert", "nd-redirect", "mld-listener-query", "mld-listener-report",
            "mld-listener-done", "mld2-listener-report"]


def _m(left, right, op="=="):
    return {"match": {"op": op, "left": left, "right": right}}


def _meta(key):
    return {"meta": {"key": key}}


def set_name(kind: str, name: str, family: int) -> str:
    """A valid, collision-free nft set name for a group or prefix list."""
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name)[:40]
    if clean != name:
        clean += "_" + hashlib.sha1(name.encode()).hexdigest()[:6]
    return f"{kind}{family}_{clean}"


def _addr_value(net):
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address)
    return {"prefix": {"addr": str(net.network_address), "len": net.prefixlen}}


def _ports_value(ports):
    if len(ports) == 1 and ports[0][0] == ports[0][1]:
        return ports[0][0]
    return {"set": [lo if lo == hi else {"range": [lo, hi]} for lo, hi in ports]}


def _interval(a, fam):
    cls = ipaddress.IPv4Address if fam == 4 else ipaddress.IPv6Address
    lo, hi = cls(a[0]), cls(a[1])
    if lo == hi:
        return str(lo)
    nets = list(ipaddress.summarize_address_range(lo, hi))
    if len(nets) == 1:
        return _addr_value(nets[0])
    return {"range": [str(lo), str(hi)]}


def _span(r):
    return r[0] if r[0] == r[1] else {"range": [r[0], r[1]]}


# Decision lists at least this long are compiled into layers of set lookups
# (sgnet.core.layering); shorter ones stay one rule per entry, easier to read.
LAYER_MIN = int(os.environ.get("SGNET_LAYER_MIN", "64"))
# A layer merges its entries into sets from this many on (fewer stay plain rules).
MERGE_MIN = int(os.environ.get("SGNET_MERGE_MIN", "4"))


def _witness(code_mark: int, verdict: str, value=None, admits: bool = None) -> list:
    """The statements that report a decision: the mark (a number, or a map lookup that
    gives the deciding entry's), kept on the session it admits (`admits`: an accept that
    opens one; not the stateful shortcut, whose session keeps its own), then the log."""
    meta_mark = {"meta": {"key": "mark"}}
    out = [{"mangle": {"key": meta_mark, "value": code_mark if value is None else value}}]
    if verdict == "allow" if admits is None else admits:
        out.append({"mangle": {"key": {"ct": {"key": "mark"}}, "value": meta_mark}})
    out.append({"log": {"prefix": witness.PREFIX[verdict], "group": witness.LOG_GROUP,
                        "snaplen": witness.SNAPLEN}})
    return out


def _verdict(action: str):
    return {"accept": None} if action == "allow" else {"drop": None}


class Compiler:
    def __init__(self, lab: Lab, layer_min: int = None):
        self.lab = lab
        self.table = lab.name
        self.profile = get_profile(lab.provider)
        self.layer_min = LAYER_MIN if layer_min is None else layer_min
        self.merge_min = MERGE_MIN

    def _t(self, **kw):
        return {"family": "inet", "table": self.table, **kw}

    def entry_exprs(self, entry, direction):
        """The match part of one decision-list entry."""
        fam = entry.family
        ex = [_m(_meta("nfproto"), "ipv4" if fam == 4 else "ipv6")]
        if entry.protocol is not None:
            ex.append(_m(_meta("l4proto"), entry.protocol))
        if entry.ports is not None:
            ex.append(_m({"payload": {"protocol": "th", "field": "dport"}},
                         _ports_value(entry.ports)))
        field = "saddr" if direction == "ingress" else "daddr"
        addr = {"payload": {"protocol": "ip" if fam == 4 else "ip6", "field": field}}
        r = entry.remote
        if r.kind == "cidr":
            net = ipaddress.ip_network(r.value)
            if net.prefixlen:
                ex.append(_m(addr, _addr_value(net)))
        elif r.kind == "group":
            ex.append(_m(addr, "@" + set_name("g", r.value, fam)))
        elif r.kind == "prefix_list":
            ex.append(_m(addr, "@" + set_name("p", r.value, fam)))
        return ex

    def _sets(self, lists):
        """Named sets for every group / prefix list the lists refer to, per family."""
        wanted = {}
        for dl in lists:
            for e in dl.entries:
                if e.remote.kind in ("group", "prefix_list"):
                    wanted[(e.remote.kind, e.remote.value, e.family)] = True
        cmds = []
        for kind, name, fam in wanted:
            typ = "ipv4_addr" if fam == 4 else "ipv6_addr"
            if kind == "group":
                s = self._t(name=set_name("g", name, fam), type=typ)
                elems = sorted({str(a) for a in self.lab.members(name, fam)},
                               key=ipaddress.ip_address)
            else:
                s = self._t(name=set_name("p", name, fam), type=typ, flags=["interval"])
                s["auto-merge"] = True
                elems = [_addr_value(n) for n in
                         self.lab.prefix_lists[name].networks(fam)]
            if elems:
                s["elem"] = elems
            s["comment"] = f"{kind} {name} IPv{fam}"[:128]
            cmds.append({"add": {"set": s}})
        return cmds

    def _rule(self, chain, exprs, comment):
        return {"add": {"rule": self._t(chain=chain, expr=exprs, comment=comment[:128])}}

    def compile_instance(self, inst: Instance, fresh: bool = False) -> dict:
        """The instance's whole table. `fresh`: the namespace has no table yet, so the
        replacement (add + delete + add, which waits for an RCU grace period, ~15 ms) is
        left out."""
        t = self.table
        cmds = [{"add": {"table": {"family": "inet", "name": t}}}]
        if not fresh:
            cmds += [{"delete": {"table": {"family": "inet", "name": t}}},
                     {"add": {"table": {"family": "inet", "name": t}}}]
        lists = {(eni.ifname, d): self.profile.decision_list(self.lab, eni, d)
                 for eni in inst.enis for d in ("ingress", "egress")}
        cmds += self._sets(lists.values())
        for base, hook, key, prefix in (("input", "input", "iifname", "in_"),
                                        ("output", "output", "oifname", "out_")):
            cmds.append({"add": {"chain": self._t(name=base, type="filter", hook=hook, prio=0,
                                                  policy="drop")}})
            ct = {"ct": {"key": "state"}}
            cmds.append(self._rule(base, [_m(ct, ["established", "related"], "in"),
                                          _m({"ct": {"key": "direction"}}, "reply"),
                                          {"accept": None}], "stateful: replies pass"))
            # a packet of a session already tracked, in its own direction, passes too: the
            # stateful shortcut, which reports itself like any rule
            shortcut = witness.mark("ingress" if hook == "input" else "egress",
                                    witness.ANY_ENI, witness.ESTABLISHED)
            cmds.append(self._rule(base, [_m(ct, ["established", "related"], "in"),
                                          *_witness(shortcut, "allow", admits=False),
                                          {"accept": None}],
                                   "stateful: a tracked session's packets pass"))
            stateful = witness.mark("ingress" if hook == "input" else "egress",
                                    witness.ANY_ENI, witness.STATEFUL)
            cmds.append(self._rule(base, [_m(ct, "invalid", "in"), {"counter": None},
                                          *_witness(stateful, "deny"), {"drop": None}],
                                   "no connection: drop"))
            cmds.append(self._rule(base, [
                _m(_meta("l4proto"), 58),
                _m({"payload": {"protocol": "icmpv6", "field": "type"}}, {"set": ND_TYPES}),
                {"accept": None}], "IPv6 neighbour discovery"))
            cmds.append(self._rule(base, [_m(_meta(key), "lo"), {"accept": None}], "loopback"))
            for eni in inst.enis:
                cmds.append({"add": {"chain": self._t(name=prefix + eni.ifname)}})
            cmds.append(self._rule(base, [{"vmap": {"key": _meta(key), "data": {"set": [
                [eni.ifname, {"jump": {"target": prefix + eni.ifname}}] for eni in inst.enis]}}}],
                "per-ENI dispatch"))
        eni_index = {eni.ifname: k for k, eni in enumerate(inst.enis)}
        for (ifname, direction), dl in lists.items():
            chain = ("in_" if direction == "ingress" else "out_") + ifname
            k = eni_index[ifname]
            numbered = list(enumerate(dl.entries))
            if len(dl.entries) >= self.layer_min:
                cmds += self._layered(chain, numbered, direction, k)
            else:
                cmds += [self._entry_rule(chain, i, e, direction, k) for i, e in numbered]
            default = witness.mark(direction, k, witness.DEFAULT)
            cmds.append(self._rule(chain, [{"counter": None}, *_witness(default, dl.default),
                                           _verdict(dl.default)], "default: " + dl.default))
        return {"nftables": cmds}

    def _entry_rule(self, chain, i, e, direction, eni_index):
        """Entry number `i` of the ENI's decision list as one rule."""
        comment = (f"{e.group} rule {e.rule}" if e.group is not None else e.why)
        code = witness.entry_mark(direction, eni_index, i)
        return self._rule(chain, self.entry_exprs(e, direction) + [
            {"counter": None}, *_witness(code, e.action), _verdict(e.action)], comment)

    def _layered(self, chain, numbered, direction, eni_index):
        """A long decision list, [(index, entry)], as single-action layers
        (sgnet.core.layering), each a lookup in maps of concatenated intervals whose value
        is the mark of the entry that decides (the earliest of those a box belongs to): the
        first packet of a connection costs a few lookups, however many rules there are.
        Group remotes stay rules of their own, in the order of the list between the runs
        of merged entries."""
        cmds, rules = [], []
        for li, lay in enumerate(layering.layer(self.lab, numbered)):
            if sum(e.remote.kind != "group" for _, e in lay.entries) < self.merge_min:
                rules += [self._entry_rule(chain, i, e, direction, eni_index)
                          for i, e in lay.entries]
                continue
            run = []
            for i, e in lay.entries + [(None, None)]:
                if e is not None and e.remote.kind != "group":
                    run.append((i, e))
                    continue
                if len(run) < self.merge_min:
                    rules += [self._entry_rule(chain, j, r, direction, eni_index)
                              for j, r in run]
                elif run:
                    maps, merged = self._merged(chain, f"{chain}_l{li}_{len(rules)}", run,
                                                direction, eni_index, lay.action)
                    cmds += maps
                    rules += merged
                run = []
                if e is not None:
                    rules.append(self._entry_rule(chain, i, e, direction, eni_index))
        return cmds + rules

    def _merged(self, chain, stem, run, direction, eni_index, action):
        """Consecutive entries of one layer ([(index, entry)]) as maps and the rules that
        look packets up in them: (map commands, rules)."""
        field = "saddr" if direction == "ingress" else "daddr"
        buckets = {}
        for i, e in run:
            for kind, b in layering.boxes(self.lab, e):
                buckets.setdefault((e.family, kind), {}).setdefault(b, (i, e))
        cmds, rules = [], []
        for (fam, kind), owners in sorted(buckets.items()):
            for gi, group in enumerate(layering.disjoint_sets(list(owners))):
                name = f"{stem}_{fam}{kind[0]}{gi}"
                addr_t = "ipv4_addr" if fam == 4 else "ipv6_addr"
                typ = [addr_t, "inet_proto"] + (["inet_service"] if kind == "ported" else [])
                elems = [[{"concat": [_interval(a, fam), _span(p)]
                           + ([_span(q)] if kind == "ported" else [])},
                          witness.entry_mark(direction, eni_index, owners[(a, p, q)][0])]
                         for a, p, q in group]
                cmds.append({"add": {"map": self._t(name=name, type=typ, map="mark",
                                                    flags=["interval"], elem=elems)}})
                key = [{"payload": {"protocol": "ip" if fam == 4 else "ip6",
                                    "field": field}}, _meta("l4proto")]
                ex = [_m(_meta("nfproto"), "ipv4" if fam == 4 else "ipv6")]
                if kind == "ported":
                    ex.append(_m(_meta("l4proto"), {"set": [6, 17]}))
                    key.append({"payload": {"protocol": "th", "field": "dport"}})
                # an implicit entry (the provider's own, no group) sorts first
                who = sorted({(owners[b][1].group, owners[b][1].rule) for b in group},
                             key=lambda gr: (gr[0] or "", -1 if gr[1] is None else gr[1]))
                label = ", ".join(f"{g} {r}" if g is not None else "implicit"
                                  for g, r in who[:6]) + \
                    (f" +{len(who) - 6}" if len(who) > 6 else "")
                # the lookup sets the mark; a packet in no box ends the rule there, before
                # the counter
                lookup = {"map": {"key": {"concat": key}, "data": "@" + name}}
                set_mark, *report = _witness(0, action, lookup)
                ex += [set_mark, {"counter": None}, *report, _verdict(action)]
                rules.append(self._rule(chain, ex, f"merged {len(who)} rules: {label}"))
        return cmds, rules

    def compile_gateway(self) -> dict:
        """The lab gateway routes between subnets; different VPCs are kept apart."""
        t = self.table
        cmds = [{"add": {"table": {"family": "inet", "name": t}}},
                {"delete": {"table": {"family": "inet", "name": t}}},
                {"add": {"table": {"family": "inet", "name": t}}},
                {"add": {"chain": self._t(name="forward", type="filter", hook="forward",
                                          prio=0, policy="accept")}},
                {"add": {"chain": self._t(name="output", type="filter", hook="output",
                                          prio=0, policy="accept")}}]
        # Within a subnet the gateway routes back out of the same bridge; an IPv6 router
        # then sends redirects (IPv4's are off by sysctl): instances must keep sending
        # through the gateway, whose neighbours are all permanent (sgnet.core.names).
        cmds.append(self._rule("output", [
            _m({"payload": {"protocol": "icmpv6", "field": "type"}}, "nd-redirect"),
            {"drop": None}], "no redirects: every ENI reaches its subnet through the gateway"))
        if len(self.lab.vpcs) > 1:
            for vpc in self.lab.vpcs:
                mine = [bridge_name(self.lab, s) for s in vpc.subnets]
                others = [bridge_name(self.lab, s) for v in self.lab.vpcs if v is not vpc
                          for s in v.subnets]
                route = witness.mark("route", witness.ANY_ENI, witness.ROUTE)
                cmds.append(self._rule("forward", [
                    _m(_meta("iifname"), {"set": mine}), _m(_meta("oifname"), {"set": others}),
                    {"counter": None}, *_witness(route, "deny"), {"drop": None}],
                    f"VPC {vpc.name} is isolated from other VPCs"))
                if not has_world(self.lab):
                    continue
                # an address of another VPC that no ENI holds is routed to the world, not to
                # a bridge: kept apart by the other VPCs' ranges
                for proto, fam in (("ip", 4), ("ip6", 6)):
                    ranges = [_addr_value(n) for v in self.lab.vpcs if v is not vpc
                              for n in (v.cidr, v.ipv6_cidr) if n is not None and
                              n.version == fam]
                    if not ranges:
                        continue
                    cmds.append(self._rule("forward", [
                        _m(_meta("iifname"), {"set": mine}),
                        _m(_meta("oifname"), world_link_name(self.lab)),
                        _m({"payload": {"protocol": proto, "field": "daddr"}},
                           {"set": ranges}),
                        {"counter": None}, *_witness(route, "deny"), {"drop": None}],
                        f"VPC {vpc.name} is isolated from other VPCs' unheld addresses"))
        return {"nftables": cmds}

    def compile_world(self) -> dict:
        """The outside world (sgnet.core.wiring) answers at any address, but an ICMPv6
        error's source is the offending packet's destination only if that is a configured
        address (icmp6_send: ipv6_chk_addr), never under AnyIP: it is set so here, from the
        inner header (its destination address: 24 bytes into the IPv6 header quoted 8 bytes
        into the ICMPv6 message; the checksum follows: NFT_PAYLOAD_L4CSUM). IPv4 needs none
        (__icmp_send answers from a local route's destination)."""
        t = self.table
        inner_dst = {"payload": {"base": "th", "offset": (8 + 24) * 8, "len": 128}}
        return {"nftables": [  # made once, with the world's namespace
            {"add": {"table": {"family": "inet", "name": t}}},
            {"add": {"chain": self._t(name="output", type="filter", hook="output", prio=0,
                                      policy="accept")}},
            self._rule("output", [
                _m({"payload": {"protocol": "icmpv6", "field": "type"}},
                   {"set": ["destination-unreachable", "time-exceeded",
                            "parameter-problem"]}),
                {"mangle": {"key": {"payload": {"protocol": "ip6", "field": "saddr"}},
                            "value": inner_dst}}],
                "an ICMPv6 error comes from where the packet it is about was sent")]}


def _index(ruleset: dict):
    sets, maps, chains, order = {}, {}, {}, []
    for c in ruleset["nftables"]:
        add = c.get("add", {})
        if "set" in add:
            sets[add["set"]["name"]] = add["set"]
        elif "map" in add:
            maps[add["map"]["name"]] = add["map"]
        elif "chain" in add:
            chains[add["chain"]["name"]] = (add["chain"], [])
            order.append(add["chain"]["name"])
        elif "rule" in add:
            r = add["rule"]
            chains[r["chain"]][1].append((r["expr"], r.get("comment")))
    return sets, maps, chains, order


def _elem_key(e):
    import json
    return json.dumps(e, sort_keys=True)


def diff_rulesets(old: dict, new: dict, table: str) -> dict:
    """The smallest transaction turning ruleset `old` into `new` (both from
    compile_instance): changed set elements are added or deleted in place, a chain whose
    rules changed is flushed and refilled, and chains and sets that did not change are left
    alone, with their counters. Anything structural (base chains, the set of chains) makes
    it a whole-table replacement, and so does any change to a layered list's maps."""
    osets, omaps, ochains, oorder = _index(old)
    nsets, nmaps, nchains, norder = _index(new)
    base = [n for n in norder if "hook" in nchains[n][0]]
    # a layered list's maps (rule marks by box) are rebuilt with their table
    if oorder != norder or any(ochains[n] != nchains[n] for n in base) or omaps != nmaps:
        return new
    t = {"family": "inet", "table": table}
    cmds = []
    for name, s in nsets.items():
        if name not in osets:
            cmds.append({"add": {"set": s}})
            continue
        if {k: v for k, v in s.items() if k != "elem"} != \
                {k: v for k, v in osets[name].items() if k != "elem"}:
            return new
        before = {_elem_key(e): e for e in osets[name].get("elem", [])}
        after = {_elem_key(e): e for e in s.get("elem", [])}
        gone = [before[k] for k in before if k not in after]
        added = [after[k] for k in after if k not in before]
        if gone:
            cmds.append({"delete": {"element": dict(t, name=name, elem=gone)}})
        if added:
            cmds.append({"add": {"element": dict(t, name=name, elem=added)}})
    for name in norder:
        if name in base or ochains[name][1] == nchains[name][1]:
            continue
        cmds.append({"flush": {"chain": dict(t, name=name)}})
        for expr, comment in nchains[name][1]:
            r = dict(t, chain=name, expr=expr)
            if comment is not None:
                r["comment"] = comment
            cmds.append({"add": {"rule": r}})
    for name, s in osets.items():
        if name not in nsets:
            cmds.append({"delete": {"set": dict(t, name=name)}})
    return {"nftables": cmds}

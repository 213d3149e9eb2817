"""A lab as the user drives it: up, down, probe, matrix, explain, exec, status.

Used by the CLI and by the pytest plugin; the pure parts (model, evaluator, compiler) and
the kernel parts (topology, nft, probe) meet here.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import subprocess

import yaml

from sgnet.core import changes
from sgnet.kernel import conntrack, fabric, netns, nft, probe, topology
from sgnet.io import labfile
from sgnet.hosts import driver as parts
from sgnet import state
from sgnet.core.compiler import Compiler, diff_rulesets, set_name
from sgnet.core.errors import EnvError, LabError
from sgnet.core.evaluator import Decision, Evaluator
from sgnet.core.errors import short
from sgnet.io.labfile import bounded_int
from sgnet.core.model import PROTOCOLS, Lab, protocol_name

DEFAULT_PORTS = ["tcp/22", "tcp/80", "udp/53", "icmp"]


def _reason(e: BaseException) -> str:
    return str(e) or type(e).__name__


def _typed(name) -> str:
    """A name as the user typed it, quoted and cut only when it cannot be a real one."""
    return name if isinstance(name, str) and len(name) <= 64 else short(name)


def require_environment():
    """Exit 3 with what to do when the machine cannot run a lab."""
    if os.geteuid() != 0:
        raise EnvError("sgnet builds network namespaces and must run as root: sudo sgnet ...")
    missing = []
    for mod, what in (("pyroute2", "pyroute2"), ("nftables", "pip-nftables + libnftables1"),
                      ("scapy", "scapy")):
        try:
            __import__(mod)
        except ImportError:
            missing.append(what)
    if missing:
        raise EnvError(f"missing: {', '.join(missing)}; run scripts/install.sh as root")
    try:
        import nftables
        nftables.Nftables()
    except OSError as e:
        raise EnvError(f"libnftables cannot be loaded ({e}): apt-get install libnftables1") \
            from None
    if not os.path.exists("/proc/self/ns/net"):
        raise EnvError("this kernel has no network namespaces (CONFIG_NET_NS)")


def parse_proto(text: str, family: int, what: str = "PROTO"):
    """'tcp/22', 'udp/53', 'icmp', 'icmpv6', 'gre', '47' -> (protocol number, port).
    Errors name `what` (the argument it came from: PROTO, --ports) and the text."""
    where = f"{what} {short(text)}"
    name, _, port = str(text).strip().partition("/")
    name = name.lower()
    number = bounded_int(name, 0, 255)  # ASCII digits: not '٦'
    if number is not None:
        proto = number
    elif name in PROTOCOLS:
        proto = PROTOCOLS[name]
    else:
        raise LabError(f"{where}: unknown protocol: use tcp/PORT, udp/PORT, icmp, icmpv6, gre "
                       "or a protocol number 0-255")
    if proto == 1 and family == 6:
        proto = 58  # ping over IPv6 is ICMPv6
    if proto == 58 and family == 4:
        raise LabError(f"{where}: icmpv6 needs -6")
    if proto in (6, 17):
        number = bounded_int(port, 1, 65535)
        if number is None:
            raise LabError(f"{where}: {name} needs a port 1-65535 in ASCII digits, "
                           f"e.g. {name}/22")
        return proto, number
    if port:
        raise LabError(f"{where}: {name} has no ports")
    return proto, None


def _check_run(timeout, jobs):
    """What the CLI's options check, for the plugin's and other Python callers too (a
    jobs of -1 never let a probe start, a nan timeout never ended)."""
    t_max, j_max = labfile.RUN_BOUNDS["probe_timeout"], labfile.RUN_BOUNDS["jobs"]
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or not 0 < timeout <= t_max:
        raise LabError(f"timeout {short(timeout)}: allowed: seconds, more than 0 and at "
                       f"most {t_max:g}")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int)
                             or not 1 <= jobs <= j_max):
        raise LabError(f"jobs {short(jobs)}: allowed: 1-{j_max}")


def _each(calls: dict) -> tuple:
    """Run calls (key -> fn()) at once, one thread each (hosts work in parallel):
    (results, errors) by key."""
    import threading
    results, errors = {}, {}

    def run(key, fn):
        try:
            results[key] = fn()
        except BaseException as e:  # reported by host, never lost
            errors[key] = e
    threads = [threading.Thread(target=run, args=kv) for kv in calls.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def _all_of(calls: dict) -> dict:
    """_each, for calls that must all succeed: their results, or the first error raised."""
    results, errors = _each(calls)
    if errors:
        raise next(iter(errors.values()))
    return results


def _lab_of_state(st):
    """The lab a state on disk was built from (None if its file no longer parses)."""
    try:
        return labfile.parse_text(st["text"], st["source"])
    except LabError:
        return None


def _host_parts(lab: Lab) -> dict:
    """host name -> the part driving it (None -> this process, for a one-host lab)."""
    if not lab.hosts:
        return {None: parts.LocalPart()}
    control = os.path.join(state.lab_dir(lab.name), "ssh")
    mine = {} if all(h.simulated for h in lab.hosts) else fabric.local_addresses()
    return {h.name: parts.AgentPart(h, parts.transport_for(h, control, mine),
                                    fabric.host_ns(lab.name, h.name) if h.simulated else None)
            for h in lab.hosts}


class LabSession:
    def __init__(self, lab: Lab):
        self.lab = lab
        self.evaluator = Evaluator(lab)
        self.parts = _host_parts(lab)

    def part_of(self, endpoint: str):
        return self.parts[self.lab.host_of(endpoint)]

    def _by_host(self, names) -> dict:
        """host -> endpoint names on it, in the order given."""
        out = {}
        for n in names:
            out.setdefault(self.lab.host_of(n), []).append(n)
        return out

    def _on_hosts(self, names, op, *args, **kw) -> dict:
        """endpoint -> part.op(namespaces of those on its host, ...)[i], all hosts at once."""
        groups = self._by_host(names)
        results = _all_of({
            h: (lambda h=h, ns=ns: getattr(self.parts[h], op)(
                [self.ns_of(n) for n in ns], *args, **kw)) for h, ns in groups.items()})
        return {n: r for h, ns in groups.items() for n, r in zip(ns, results[h])}

    # -- life cycle -------------------------------------------------------------
    @classmethod
    def up(cls, path: str, progress=None, jobs=None) -> "LabSession":
        text = labfile.read_text(path)
        lab = labfile.parse(labfile.load_yaml(text, path), path)  # bad input: exit 2 first
        return cls._up(lab, text, os.path.abspath(path), progress, jobs)

    @classmethod
    def up_from_text(cls, text: str, source: str = "<lab>", progress=None,
                     jobs=None) -> "LabSession":
        return cls._up(labfile.parse_text(text, source), text, source, progress, jobs)

    @classmethod
    def _up(cls, lab, text, source, progress=None, jobs=None) -> "LabSession":
        labfile.check_buildable(lab)
        require_environment()
        with state.locked(lab.name):
            st = state.load(lab.name)
            names = topology.lab_namespaces(lab)
            if st is not None and st["status"] == "up":
                if st["sha256"] != state.digest(text):
                    raise LabError(f"lab {lab.name} is already up from a different file "
                                   f"({st['source']}); run: sgnet down {lab.name}")
                sess = cls(lab)
                if sess._all_there():
                    sess._apply_groups(text, source)  # idempotent: re-assert the groups
                    return sess
            # A crash or a half-built lab: remove what is left before building anew (on
            # every host it had, which may not be those of this file).
            if st is not None:
                cls._remove_previous(st)
            elif topology.leftovers(lab.name):  # a crash, and its state lost
                topology.teardown(lab.name)
            if lab.hosts:
                return cls._up_hosts(lab, text, source, jobs)
            state.save(lab.name, source, text, "building", names)
            try:
                topology.build(lab, progress, jobs)
            except BaseException:
                topology.teardown(lab.name, names)
                state.forget(lab.name)
                raise
            state.save(lab.name, source, text, "up", names)
        return cls(lab)

    def _all_there(self) -> bool:
        if not self.lab.hosts:
            return all(netns.exists(n) for n in topology.lab_namespaces(self.lab))
        sim = fabric.simulated_namespaces(self.lab)
        if not all(netns.exists(n) for n in sim):
            return False
        results, errors = _each({h.name: (lambda h=h: self.parts[h.name].exists(
            fabric.host_namespaces(self.lab, h.name))) for h in self.lab.hosts})
        return not errors and all(all(r) for r in results.values())

    def _apply_groups(self, text: str, source: str):
        if not self.lab.hosts:
            return topology.apply_groups(self.lab)
        _all_of({h: (lambda h=h: p.apply_groups(text, source, h))
                 for h, p in self.parts.items()})

    @classmethod
    def _remove_previous(cls, st):
        """What a lab's earlier state says was built, removed, on its hosts too."""
        old = _lab_of_state(st)
        if old is not None and old.hosts:
            kept, _ = cls._down_hosts(old, st["namespaces"])
            if kept:
                raise parts.HostError(f"lab {old.name}: what an earlier run built on "
                                      f"{', '.join(kept)} cannot be removed (unreachable); "
                                      f"run sgnet down {old.name} once they answer")
        else:
            topology.teardown(st["lab"], st["namespaces"])

    @classmethod
    def _up_hosts(cls, lab, text, source, jobs) -> "LabSession":
        """Build each host's part through its agent, all hosts at once. If one fails, what
        was built on the others is removed (or, where a host cannot be reached, kept and
        reported, for `down` to finish)."""
        names = topology.lab_namespaces(lab)
        state.save(lab.name, source, text, "building", names)
        sess = cls(lab)
        failed = {}
        if lab.hosts[0].simulated:
            try:
                fabric.build_simulated(lab)
            except BaseException as e:
                failed["(simulated underlay)"] = e
        if not failed:
            _, failed = _each({h: (lambda h=h, p=p: p.build(text, source, h, jobs))
                               for h, p in sess.parts.items()})
        if not failed:
            state.save(lab.name, source, text, "up", names)
            return sess
        why = "; ".join(f"host {h}: {_reason(e)}" if not str(e).startswith("host ")
                        else str(e) for h, e in sorted(failed.items()))
        kept, _ = cls._down_hosts(lab, names)
        if kept:
            state.save(lab.name, source, text, "partial", names)
            raise parts.HostError(f"lab {lab.name} failed: {why}. Could not remove what was "
                                  f"built on {', '.join(kept)}: run sgnet down {lab.name} "
                                  "when they are reachable")
        state.forget(lab.name)
        raise parts.HostError(f"lab {lab.name} failed: {why}. What was built on the other "
                              "hosts has been removed")

    @staticmethod
    def _down_hosts(lab, names=()) -> tuple:
        """Remove every host's part (hosts at once), then what is on this machine (the
        simulated hosts, the underlay switch): (the hosts that could not be cleaned, the
        namespaces removed)."""
        sess = LabSession(lab)
        # A simulated host whose own namespace is gone has nothing left but what the
        # teardown on this machine, below, removes.
        hosts = [h for h in lab.hosts
                 if not h.simulated or netns.exists(fabric.host_ns(lab.name, h.name))]
        results, errors = _each({h.name: (lambda h=h: sess.parts[h.name].teardown(
            lab.name, fabric.host_namespaces(lab, h.name)))
            for h in hosts})
        for p in sess.parts.values():
            if isinstance(p.transport, parts.Ssh):
                p.transport.close()
        local = topology.teardown(lab.name, names)
        return sorted(errors), sorted({n for r in results.values() for n in r} | set(local))

    @classmethod
    def attach(cls, name: str, repair: bool = False) -> "LabSession":
        """The running lab `name`; with repair, finish a change that was killed part-way."""
        st = state.load(name)
        if st is None:
            raise LabError(f"no lab named {name!r} is up (known: "
                           f"{', '.join(state.known_labs()) or 'none'})")
        sess = cls(labfile.parse_text(st["text"], st["source"]))
        if repair and st["status"] == "changing":
            with state.locked(name):
                sess.repair()
        return sess

    # -- live changes -----------------------------------------------------------
    def _reload(self, text, source):
        self.lab = labfile.parse_text(text, source)
        self.evaluator = Evaluator(self.lab)

    def repair(self, st=None) -> bool:
        """A change killed part-way leaves status 'changing': re-apply every ruleset from the
        file on disk (each an atomic replacement) and re-check sessions. Under the lock."""
        st = st or state.load(self.lab.name)
        if st is None or st["status"] != "changing":
            return False
        self._reload(st["text"], st["source"])
        self._apply_groups(st["text"], st["source"])
        self._recheck(self.lab.instances)
        state.save(self.lab.name, st["source"], st["text"], "up", st["namespaces"])
        return True

    def _change(self, edit, what: str, where=None) -> dict:
        """Edit the lab file, validate it as `up` would, apply the difference to every
        affected namespace (one transaction each), re-check tracked sessions as the provider
        does, and keep the state on disk consistent throughout. A refusal names what the
        user typed: where(edited file) -> changes.places for changes.in_words."""
        name = self.lab.name
        with state.locked(name):
            st = state.load(name)
            if st is None:
                raise LabError(f"lab {name} is not up")
            self.repair(st)
            st = state.load(name)
            old = labfile.parse_text(st["text"], st["source"])
            try:
                raw = edit(yaml.safe_load(st["text"]), old)
            except LabError as e:
                raise LabError(f"{what} refused, the lab is unchanged: {e}") from None
            result = raw[1] if isinstance(raw, tuple) else None
            raw = raw[0] if isinstance(raw, tuple) else raw
            text = yaml.safe_dump(raw, sort_keys=False)
            try:
                new = labfile.parse(raw, st["source"])
            except LabError as e:
                why = changes.in_words(e, where(raw)) if where else str(e)
                raise LabError(f"{what} refused, the lab is unchanged: {why}") from None
            plan = self._plan(old, new)
            state.save(name, st["source"], text, "changing", st["namespaces"])
            # on an error, status stays 'changing': the next command repairs
            _all_of({h: (lambda h=h, ns=ns: self.parts[h].apply(
                [(self.ns_of(n), plan[n]) for n in ns]))
                for h, ns in self._by_host(plan).items()})
            self._reload(text, st["source"])
            cut = self._recheck([new.instance(n) for n in plan])
            state.save(name, st["source"], text, "up", st["namespaces"])
        return {"lab": name, "change": what, "instances_updated": sorted(plan),
                "sessions_cut": cut, "result": result}

    def _plan(self, old: Lab, new: Lab) -> dict:
        """instance -> the nftables transaction that brings it from `old` to `new`.

        Instances with an ENI in a group whose definition changed, or whose own groups
        changed, are recompiled and diffed. Every other instance can only see member
        addresses come and go in the sets of the groups it references: those elements are
        added or deleted directly, at a cost that does not grow with the groups' size."""
        def definition(g):
            return (g.rules, g.type, g.inner_access)

        changed = {n for n in set(old.groups) | set(new.groups)
                   if n not in old.groups or n not in new.groups
                   or definition(old.groups[n]) != definition(new.groups[n])}
        moved = {}
        for inst in new.instances:
            for eni in inst.enis:
                before = old.instance(inst.name).enis[eni.index].groups
                if before != eni.groups:
                    moved[(inst.name, eni.index)] = (set(before), set(eni.groups))
        full = {i.name for i in new.instances
                if any(set(e.groups) & changed or (i.name, e.index) in moved for e in i.enis)}
        plan = {}
        old_c, new_c = Compiler(old), Compiler(new)
        for inst in new.instances:
            if inst.name in full:
                before = old_c.compile_instance(old.instance(inst.name))
                after = new_c.compile_instance(inst)
                if before != after:
                    plan[inst.name] = diff_rulesets(before, after, new.name)
        delta = {}  # (group, family) -> {"add": [...], "delete": [...]}
        for (iname, idx), (before, after) in moved.items():
            eni = new.instance(iname).enis[idx]
            for fam in (4, 6):
                addrs = [str(a) for a in eni.addresses(fam)]
                for g, op in [(g, "add") for g in after - before] + \
                        [(g, "delete") for g in before - after]:
                    if addrs:
                        delta.setdefault((g, fam), {"add": [], "delete": []})[op] += addrs
        if delta:
            profile = self.evaluator.profile
            for inst in new.instances:
                if inst.name in full:
                    continue
                refs = {(e.remote.value, e.family) for eni in inst.enis
                        for d in ("ingress", "egress")
                        for e in profile.decision_list(new, eni, d).entries
                        if e.remote.kind == "group"}
                cmds = []
                for (g, fam) in sorted(refs & set(delta)):
                    for op in ("delete", "add"):
                        if delta[(g, fam)][op]:
                            cmds.append({op: {"element": {
                                "family": "inet", "table": new.name,
                                "name": set_name("g", g, fam), "elem": delta[(g, fam)][op]}}})
                if cmds:
                    plan[inst.name] = {"nftables": cmds}
        return plan

    def _recheck(self, instances) -> int:
        """Re-check each tracked session of these instances against the current rules, in
        the directions the provider re-checks: a session now denied is deleted (its next
        packet is not a new connection: it is dropped); the others are kept."""
        directions = self.evaluator.profile.recheck
        cut = 0
        counts = self._on_hosts([i.name for i in instances], "ct_count")
        busy = [i for i in instances if counts[i.name]]  # nothing tracked: nothing to check
        listed = self._on_hosts([i.name for i in busy], "ct_entries")
        for inst in busy:
            doomed = []
            for e in map(conntrack.Entry.from_dict, listed[inst.name]):
                src, dst = ipaddress.ip_address(e.src), ipaddress.ip_address(e.dst)
                to_me = next((eni for eni in inst.enis if eni.owns(dst)), None)
                from_me = next((eni for eni in inst.enis if eni.owns(src)), None)
                if to_me and "ingress" in directions:
                    d = self.evaluator.judge(to_me, "ingress", e.family, e.protocol, e.dport,
                                             src)
                elif from_me and "egress" in directions:
                    d = self.evaluator.judge(from_me, "egress", e.family, e.protocol, e.dport,
                                             dst)
                else:
                    continue
                if d.verdict == "deny":
                    doomed.append(dataclasses.asdict(e))
            if doomed:
                cut += self.part_of(inst.name).ct_delete(self.ns_of(inst.name), doomed)
        return cut

    def rule_add(self, group: str, **fields) -> dict:
        fields = {k: v for k, v in fields.items() if v is not None}
        return self._change(lambda raw, lab: changes.rule_add(raw, lab, group, fields),
                            f"rule add to {_typed(group)}",
                            lambda raw: changes.places(raw, group=group, added=True))

    def rule_delete(self, group: str, **fields) -> dict:
        fields = {k: v for k, v in fields.items() if v is not None}
        return self._change(lambda raw, lab: changes.rule_delete(raw, lab, group, fields),
                            f"rule delete from {_typed(group)}",
                            lambda raw: changes.places(raw, group=group))

    def attach_group(self, instance: str, group: str, eni: int = 0) -> dict:
        return self._change(lambda raw, lab: changes.attach(raw, lab, instance, group, eni),
                            f"attach {_typed(group)} to {_typed(instance)}",
                            lambda raw: changes.places(raw, group, instance, eni))

    def detach_group(self, instance: str, group: str, eni: int = 0) -> dict:
        return self._change(lambda raw, lab: changes.detach(raw, lab, instance, group, eni),
                            f"detach {_typed(group)} from {_typed(instance)}",
                            lambda raw: changes.places(raw, group, instance, eni))

    def rule_hits(self) -> dict:
        """Packets and bytes each rule has matched in the kernel, per group and instance."""
        rows = {}
        listings = self._on_hosts([i.name for i in self.lab.instances], "list_tables",
                                  self.lab.name)
        for inst in self.lab.instances:
            listing = listings[inst.name]
            for chain, comment, packets, nbytes in nft.rule_counters(listing):
                if chain in ("input", "output"):
                    continue
                group, _, idx = comment.rpartition(" rule ")
                key = (group, int(idx)) if group and idx.isdigit() else ("(implicit)", comment)
                row = rows.setdefault(key, {"group": key[0], "rule": key[1], "packets": 0,
                                            "bytes": 0, "instances": {}})
                row["packets"] += packets
                row["bytes"] += nbytes
                row["instances"][inst.name] = row["instances"].get(inst.name, 0) + packets
        out = []
        for (group, idx), row in sorted(rows.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
            if group in self.lab.groups and isinstance(idx, int):
                row["text"] = self.lab.groups[group].rules[idx].text()
            out.append(row)
        return {"lab": self.lab.name, "rules": out}

    @staticmethod
    def exists(name: str) -> bool:
        """Whether there is a lab `name` to take down: its state, or, if a crash lost it,
        namespaces named as its are, with one of the lab's own among them."""
        return state.has(name) or bool(topology.leftovers(name))

    @staticmethod
    def down(name: str, progress=None) -> list:
        """Remove the lab `name` (the namespaces its state names, and any other named as
        its are) and its state directory: the namespaces removed. A name that is no lab
        (LabSession.exists): [], with nothing touched."""
        state.check_name(name)
        if not LabSession.exists(name):
            return []  # not even a state directory made for its lock
        with state.locked(name):
            st = state.load(name)
            lab = _lab_of_state(st) if st is not None else None
            if lab is not None and lab.hosts:
                kept, removed = LabSession._down_hosts(lab, st["namespaces"])
                if kept:
                    state.save(name, st["source"], st["text"], "partial", st["namespaces"])
                    raise parts.HostError(f"lab {name}: could not reach {', '.join(kept)} "
                                          "to remove what the lab has there; run sgnet "
                                          "down again once reachable")
                state.forget(name)
                return removed
            removed = topology.teardown(name, st["namespaces"] if st else (), progress)
            state.forget(name)
        return removed

    # -- looking at it ----------------------------------------------------------
    def ns_of(self, endpoint: str) -> str:
        return topology.ns_name(self.lab.name, endpoint)

    def _endpoint_name(self, name_or_ip: str, family: int) -> str:
        try:
            return self.evaluator.resolve(name_or_ip, family).name
        except KeyError:
            raise LabError(f"{name_or_ip!r} is not an instance, external or address of lab "
                           f"{self.lab.name}") from None

    def explain(self, src: str, dst: str, proto: str, family: int = 4) -> dict:
        p, port = parse_proto(proto, family)
        exp = self._expect(src, dst, p, port, family)
        return {"src": exp.flow.src, "dst": exp.flow.dst, "src_ip": exp.flow.src_ip,
                "dst_ip": exp.flow.dst_ip, "protocol": protocol_name(p), "port": port,
                "family": f"ipv{family}", "expected": exp.verdict,
                "decided_by": exp.decided_by.to_dict(),
                "steps": [dict(d.to_dict(), verdict=d.verdict, eni=d.eni) for d in exp.steps]}

    def _expect(self, src, dst, p, port, family):
        try:
            return self.evaluator.evaluate(src, dst, p, port, family)
        except KeyError as e:
            why = e.args[0]
        for what, end in (("SRC", src), ("DST", dst)):  # say which one, as typed
            try:
                address = self.evaluator.resolve(end, family).address
            except KeyError:
                raise LabError(f"{what} {short(end)}: not an instance, external or address of "
                               f"lab {self.lab.name}") from None
            if address is None:
                raise LabError(f"{what} {short(end)}: has no IPv{family} address")
        raise LabError(f"cannot probe {short(src)} -> {short(dst)} over IPv{family}: "
                       f"{short(why)}")

    def verdicts(self, flows, timeout: float = 1.0, tcp_flags: str = "S",
                 progress=None, pcap: str = None, jobs: int = None) -> list:
        """flows: [(src, dst, protocol number, port, family)] -> verdict records (contract
        §3), all probed at once. TCP probes are SYNs unless tcp_flags says otherwise: a
        segment without SYN (a bare ACK, a RST, a SYN-ACK out of the blue) belongs to no
        connection, so groups never let it through, whatever the rules."""
        _check_run(timeout, jobs)
        exps = [self._expect(*f) for f in flows]
        stray = tcp_flags.upper() != "S"
        if stray:
            for e in exps:
                if e.flow.protocol == 6:
                    e.verdict = "deny"
                    e.decided_by = Decision(
                        "ingress", "deny", None, None,
                        f"TCP flags {tcp_flags}: a segment of no connection is dropped as "
                        "invalid (only a SYN opens a connection)")
        specs = [probe.ProbeSpec(self.ns_of(e.flow.src), e.flow.src_ip, e.flow.dst_ip,
                                 e.flow.protocol, e.flow.port, e.flow.family, tcp_flags)
                 for e in exps]
        with state.locked(self.lab.name):  # never interleaved with a change
            results = self._probe(specs, [e.flow.src for e in exps], timeout, progress,
                                  pcap, jobs)
        out = []
        for e, r in zip(exps, results):
            out.append({"src": e.flow.src, "dst": e.flow.dst, "src_ip": e.flow.src_ip,
                        "dst_ip": e.flow.dst_ip, "protocol": protocol_name(e.flow.protocol),
                        "port": e.flow.port, "family": f"ipv{e.flow.family}",
                        "expected": e.verdict, "observed": r.observed, "detail": r.detail,
                        "match": e.verdict == r.observed,
                        "decided_by": e.decided_by.to_dict()})
            if self.lab.hosts:  # where each end runs (externals too)
                out[-1]["src_host"] = self.lab.host_of(e.flow.src)
                out[-1]["dst_host"] = self.lab.host_of(e.flow.dst)
        return out

    def _probe(self, specs, sources, timeout, progress, pcap, jobs) -> list:
        """Each source's probes are sent on the host it runs on, every host at once."""
        if not self.lab.hosts:
            return probe.run(specs, timeout=timeout, progress=progress, pcap=pcap, jobs=jobs)
        idx = {}
        for i, src in enumerate(sources):
            idx.setdefault(self.lab.host_of(src), []).append(i)
        answers = _all_of({h: (lambda h=h, ii=ii: self.parts[h].probe(
            [dataclasses.asdict(specs[i]) for i in ii], timeout, jobs, pcap is not None))
            for h, ii in idx.items()})
        results, packets = [None] * len(specs), []
        for h, ii in idx.items():
            for i, r in zip(ii, answers[h]["results"]):
                results[i] = probe.ProbeResult(*r)
            packets += [(t, bytes.fromhex(d)) for t, d in answers[h]["packets"]]
            if progress:
                progress(len(ii))
        if pcap:
            probe.write_pcap(pcap, packets)
        return results

    def probe(self, src: str, dst: str, proto: str, family: int = 4,
              timeout: float = 1.0, tcp_flags: str = "S", pcap: str = None) -> dict:
        p, port = parse_proto(proto, family)
        # checked before upper(): 'ß'.upper() is 'SS'
        if not isinstance(tcp_flags, str) or not re.fullmatch(r"[SAFRPUsafrpu]{1,6}", tcp_flags):
            raise LabError(f"--flags {short(tcp_flags)}: TCP flags are letters of S A F R P U")
        return self.verdicts([(src, dst, p, port, family)], timeout, tcp_flags.upper(),
                             pcap=pcap)[0]

    def endpoints(self, family: int) -> list:
        out = [i.name for i in self.lab.instances if i.primary.address(family) is not None]
        out += [x.name for x in self.lab.externals if x.address(family) is not None]
        return out

    def matrix(self, ports=None, family: int = 4, timeout: float = 1.0,
               sources=None, destinations=None, progress=None, total=None,
               pcap: str = None, jobs: int = None) -> dict:
        flows = self.matrix_flows(ports, family, sources, destinations)
        if total:
            total(len(flows))
        results = self.verdicts(flows, timeout, progress=progress, pcap=pcap, jobs=jobs)
        wrong = sum(1 for r in results if not r["match"])
        return {"lab": self.lab.name, "results": results,
                "summary": {"total": len(results), "correct": len(results) - wrong,
                            "wrong": wrong}}

    def matrix_flows(self, ports=None, family: int = 4, sources=None, destinations=None):
        """Every source x destination x port: instances and externals, never an endpoint to
        itself nor an external to an external."""
        specs = [parse_proto(p, family, "ports") for p in (ports or DEFAULT_PORTS)]
        names = self.endpoints(family)
        externals = {x.name for x in self.lab.externals}
        flows = []
        for s in sources or names:
            for d in destinations or names:
                if s == d or (s in externals and d in externals):
                    continue
                for p, port in specs:
                    flows.append((s, d, p, port, family))
        return flows

    def diff(self, changed_path: str, ports=None, family: int = 4, timeout: float = 1.0,
             progress=None) -> dict:
        """The reachability that would change if this lab's groups were those of another
        file: computed by the evaluator, then confirmed with real packets on a clone of the
        lab (its own namespaces), never touching this lab."""
        import hashlib
        changed = labfile.load_yaml(labfile.read_text(changed_path), changed_path) or {}
        if not isinstance(changed, dict):
            raise LabError(f"{changed_path}: not a lab file")
        st = state.load(self.lab.name)
        raw = yaml.safe_load(st["text"])
        raw["security_groups"] = changed.get("security_groups") or []
        if "prefix_lists" in changed:
            raw["prefix_lists"] = changed["prefix_lists"]
        members = {i.get("name"): i for i in changed.get("instances") or []
                   if isinstance(i, dict)}
        for inst in raw.get("instances") or []:
            other = members.get(inst.get("name"))
            if other is None:
                continue
            if "security_groups" in other:
                inst["security_groups"] = other["security_groups"]
            for mine, theirs in zip(inst.get("secondary_enis") or [],
                                    other.get("secondary_enis") or []):
                if "security_groups" in theirs:
                    mine["security_groups"] = theirs["security_groups"]
        new = labfile.parse(raw, changed_path)  # refused: exit 2, nothing touched
        after = Evaluator(new)
        flows = self.matrix_flows(ports, family)
        gained, lost, same = [], [], 0
        for f in flows:
            a, b = self.evaluator.evaluate(*f), after.evaluate(*f)
            if a.verdict == b.verdict:
                same += 1
            else:
                (gained if b.verdict == "allow" else lost).append((f, a, b))
        clone = dict(raw, name="d" + hashlib.sha1(
            (self.lab.name + yaml.safe_dump(raw)).encode()).hexdigest()[:7])
        sess = LabSession.up_from_text(yaml.safe_dump(clone, sort_keys=False), changed_path)
        try:
            records = sess.verdicts(flows, timeout, progress=progress)
        finally:
            LabSession.down(clone["name"])
        observed = {tuple(f): r for f, r in zip(flows, records)}

        def row(item):
            f, a, b = item
            r = observed[tuple(f)]
            return {"src": r["src"], "dst": r["dst"], "protocol": r["protocol"],
                    "port": r["port"], "family": r["family"], "before": a.verdict,
                    "after": b.verdict, "observed": r["observed"], "detail": r["detail"],
                    "confirmed": r["observed"] == b.verdict,
                    "decided_by": b.decided_by.to_dict()}

        rows_gained, rows_lost = [row(x) for x in gained], [row(x) for x in lost]
        wrong = sum(1 for r in records if not r["match"])
        return {"lab": self.lab.name, "changed": changed_path, "clone": clone["name"],
                "gained": rows_gained, "lost": rows_lost, "unchanged": same,
                "summary": {"flows": len(flows), "gained": len(rows_gained),
                            "lost": len(rows_lost), "clone_mismatches": wrong}}

    def status(self) -> dict:
        lab = self.lab
        instances = []
        everyone = [i.name for i in lab.instances] + [x.name for x in lab.externals]
        up = self._on_hosts(everyone, "exists")
        counts = self._on_hosts([i.name for i in lab.instances if up[i.name]], "ct_count")
        for inst in lab.instances:
            ns = self.ns_of(inst.name)
            alive = up[inst.name]
            tracked = counts.get(inst.name)
            enis = []
            for eni in inst.enis:
                rules = {d: len(self.evaluator.decision_list(eni, d).entries)
                         for d in ("ingress", "egress")}
                enis.append({"ifname": eni.ifname, "subnet": eni.subnet, "ip": str(eni.ip),
                             "ipv6": str(eni.ipv6) if eni.ipv6 else None,
                             "groups": list(eni.groups), "rules": rules})
            instances.append(dict({"name": inst.name, "namespace": ns, "up": alive,
                                   "enis": enis, "conntrack_entries": tracked},
                                  **({"host": inst.host} if lab.hosts else {})))
        externals = [dict({"name": x.name, "ip": str(x.ip),
                           "ipv6": str(x.ipv6) if x.ipv6 else None,
                           "namespace": self.ns_of(x.name), "up": up[x.name]},
                          **({"host": x.host} if lab.hosts else {}))
                     for x in lab.externals]
        groups = {g.name: {"rules": len(g.rules), "builtin": g.builtin,
                           "members": [f"{e.instance}/{e.ifname}" for e in lab.enis_in(g.name)]}
                  for g in lab.groups.values()}
        out = {"lab": lab.name, "provider": lab.provider, "instances": instances,
               "externals": externals, "groups": groups}
        if lab.hosts:
            out["hosts"] = [{"name": h.name, "address": h.address, "simulated": h.simulated,
                             "transport": self.parts[h.name].transport.name,
                             "instances": len(fabric.instances_on(lab, h.name))}
                            for h in lab.hosts]
        return out

    def exec(self, name: str, cmd: list, **kw) -> subprocess.CompletedProcess:
        """Run a command inside an instance's or external's namespace."""
        if self.lab.instance(name) is None and self.lab.external(name) is None:
            raise LabError(f"NAME {short(name)}: not an instance or external of lab "
                           f"{self.lab.name}")
        argv, enter = self.part_of(name).command(self.ns_of(name), cmd)
        return subprocess.run(argv, preexec_fn=enter, **kw)

    def popen(self, name: str, cmd: list, **kw) -> subprocess.Popen:
        """Start a long-running command (a server, a stream) inside a namespace (on the
        host it runs on)."""
        argv, enter = self.part_of(name).command(self.ns_of(name), cmd)
        return subprocess.Popen(argv, preexec_fn=enter, **kw)

"""A lab as the user drives it (the top of the shell, for the CLI and the pytest plugin):
up, down, repair, live changes, probe, matrix, diff, explain, status, exec. It sequences,
under the lab's lock: decisions come from sgnet.core (flows, changeplan, evaluator), kernel
work from the lab's drivers (sgnet.hosts.driver: this process for a one-host lab, each
host's agent over several), the state on disk from sgnet.state.
"""

from __future__ import annotations

import os
import re
import subprocess

import yaml

from sgnet import state
from sgnet.core import changeplan, changes, flows, witness
from sgnet.core.classes import Analysis
from sgnet.core.classview import diff_result
from sgnet.core.errors import LabError, short
from sgnet.core.evaluator import Evaluator
from sgnet.core.model import Lab
from sgnet.core.probes import ProbeSpec, assign_tags
from sgnet.hosts.driver import Drivers, HostError, LabText, LocalDriver, require_environment
from sgnet.kernel import workers
from sgnet.core import labspec
from sgnet.io import labfile

HERE = LocalDriver()  # this machine: what a lab left here when its state is lost


def _typed(name) -> str:
    """A name as the user typed it, quoted and cut only when it cannot be a real one."""
    return name if isinstance(name, str) and len(name) <= 64 else short(name)


def _lab_of_state(st):
    """The lab a state on disk was built from (None if its file no longer parses)."""
    try:
        return labfile.parse_text(st["text"], st["source"])
    except LabError:
        return None


def _drivers(lab: Lab) -> Drivers:
    return Drivers(lab, os.path.join(state.lab_dir(lab.name), "ssh"))


class LabSession:
    def __init__(self, lab: Lab):
        self.lab = lab
        self.evaluator = Evaluator(lab)
        self.drivers = _drivers(lab)

    # -- life cycle -------------------------------------------------------------
    @classmethod
    def up(cls, path: str, progress=None, jobs=None) -> "LabSession":
        text = labfile.read_text(path)
        lab = labspec.parse(labfile.load_yaml(text, path), path)  # bad input: exit 2 first
        return cls._up(lab, text, os.path.abspath(path), progress, jobs)

    @classmethod
    def up_from_text(cls, text: str, source: str = "<lab>", progress=None,
                     jobs=None) -> "LabSession":
        return cls._up(labfile.parse_text(text, source), text, source, progress, jobs)

    @classmethod
    def _up(cls, lab, text, source, progress=None, jobs=None) -> "LabSession":
        labfile.check_buildable(lab)
        require_environment()
        written = LabText(text, source, lab)
        with state.locked(lab.name):
            st = state.load(lab.name)
            sess = cls(lab)
            if st is not None and st["status"] == "up":
                if st["sha256"] != state.digest(text):
                    raise LabError(f"lab {lab.name} is already up from a different file "
                                   f"({st['source']}); run: sgnet down {lab.name}")
                if sess.drivers.all_there():
                    sess.drivers.apply_groups(written)  # idempotent: re-assert the groups
                    return sess
            # A crash or a half-built lab: remove what is left before building anew (on
            # every host it had, which may not be those of this file).
            if st is not None:
                kept, _ = cls._remove(lab.name, st)
                if kept:
                    raise HostError(f"lab {lab.name}: what an earlier run built on "
                                    f"{', '.join(kept)} cannot be removed (unreachable); "
                                    f"run sgnet down {lab.name} once they answer")
            elif HERE.leftovers(lab.name):  # a crash, and its state lost
                HERE.sweep(lab.name)
            sess._build(written, progress, jobs)
        return sess

    def _build(self, written: LabText, progress, jobs):
        """Build every host's share, all hosts at once. If one fails, what was built on the
        others is removed (or, where a host cannot be reached, kept and reported, for
        `down` to finish)."""
        name, names = self.lab.name, self.drivers.namespaces()
        state.save(name, written.source, written.text, "building", names)
        failed = self.drivers.build(written, jobs, progress)
        if not failed:
            state.save(name, written.source, written.text, "up", names)
            return
        why = "; ".join(f"host {h}: {str(e) or type(e).__name__}" if not str(e).startswith("host ")
                        else str(e) for h, e in sorted(failed.items()))
        kept, _ = self.drivers.teardown(names)
        if kept:
            state.save(name, written.source, written.text, "partial", names)
            raise HostError(f"lab {name} failed: {why}. Could not remove what was built on "
                            f"{', '.join(kept)}: run sgnet down {name} when they are reachable")
        state.forget(name)
        if None in failed:  # a one-host lab (no host of its own): its error as it is
            raise failed[None]
        raise HostError(f"lab {name} failed: {why}. What was built on the other hosts has "
                        "been removed")

    @staticmethod
    def _remove(name: str, st, progress=None) -> tuple:
        """What lab `name`'s state `st` (or None) says was built, removed from every host it
        had, with whatever else here is named as the lab's: (the hosts that could not be
        reached, the namespaces removed)."""
        lab = _lab_of_state(st) if st is not None else None
        if lab is None:
            return [], HERE.sweep(name, st["namespaces"] if st else (), progress)
        return _drivers(lab).teardown(st["namespaces"], progress)

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

    @staticmethod
    def exists(name: str) -> bool:
        """Whether there is a lab `name` to take down: its state, or, if a crash lost it,
        namespaces named as its are, with one of the lab's own among them."""
        return state.has(name) or bool(HERE.leftovers(name))

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
            kept, removed = LabSession._remove(name, st, progress)
            if kept:
                state.save(name, st["source"], st["text"], "partial", st["namespaces"])
                raise HostError(f"lab {name}: could not reach {', '.join(kept)} to remove "
                                "what the lab has there; run sgnet down again once reachable")
            state.forget(name)
        return removed

    # -- live changes -----------------------------------------------------------
    def _reload(self, text, source):
        self.lab = labfile.parse_text(text, source)
        self.evaluator = Evaluator(self.lab)
        self.drivers.lab = self.lab  # the same hosts and placement: only groups change

    def repair(self, st=None) -> bool:
        """A change killed part-way leaves status 'changing': re-apply every ruleset from the
        file on disk (each an atomic replacement) and re-check sessions. Under the lock."""
        st = st or state.load(self.lab.name)
        if st is None or st["status"] != "changing":
            return False
        self._reload(st["text"], st["source"])
        self.drivers.apply_groups(LabText(st["text"], st["source"], self.lab))
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
                new = labspec.parse(raw, st["source"])
            except LabError as e:
                why = changes.in_words(e, where(raw)) if where else str(e)
                raise LabError(f"{what} refused, the lab is unchanged: {why}") from None
            plan = changeplan.plan(old, new)
            state.save(name, st["source"], text, "changing", st["namespaces"])
            # on an error, status stays 'changing': the next command repairs
            self.drivers.apply(plan)
            self._reload(text, st["source"])
            cut = self._recheck([new.instance(n) for n in plan])
            state.save(name, st["source"], text, "up", st["namespaces"])
        return {"lab": name, "change": what, "instances_updated": sorted(plan),
                "sessions_cut": len(cut), "cut": cut, "result": result}

    def _recheck(self, instances) -> list:
        """Delete the tracked sessions of these instances that the current rules cut
        (changeplan.cuts_with_rules), and ask the kernel which rule cuts each: a twin of
        the session (the same ends, protocol and port, a new source port) is probed
        through the new rules. -> one record per session cut: the session, the rule the
        provider's documents say cuts it (`decided_by`), the rule the kernel reported
        (`observed_by`), and `match`."""
        counts = self.drivers.per_endpoint([i.name for i in instances], "ct_count")
        busy = [i for i in instances if counts[i.name]]  # nothing tracked: nothing to check
        listed = self.drivers.per_endpoint([i.name for i in busy], "ct_entries")
        cut = []
        for inst in busy:
            doomed = changeplan.cuts_with_rules(self.evaluator, inst, listed[inst.name])
            if doomed:
                self.drivers.of(inst.name).ct_delete(self.ns_of(inst.name),
                                                     [e for e, _ in doomed])
            cut += [(inst, e, d) for e, d in doomed]
        out = [dict(flows.session_record(self.lab, self.evaluator, inst, e),
                    instance=inst.name, decided_by=d.to_dict()) for inst, e, d in cut]
        twins = [(i, (e.src, e.dst, e.protocol, e.dport if e.sport is not None else None,
                      e.family)) for i, (_, e, _) in enumerate(cut)]
        known = [(i, f, flow) for i, f in twins if (flow := self._in_lab(f)) is not None]
        if known:
            records = self._verdicts([f for _, f, _ in known], [x for *_, x in known], 1.0)
            for (i, _, _), r in zip(known, records):
                out[i].update(observed=r["observed"], observed_by=r["observed_by"],
                              match=r["observed"] == "deny" and flows.rule_key(
                                  r["observed_by"]) == flows.rule_key(out[i]["decided_by"]))
        return out

    def _in_lab(self, f):
        """The flow of a session whose ends are both the lab's own (a twin can be sent from,
        and to), else None."""
        try:
            return flows.flow_of(self.evaluator, *f)
        except LabError:
            return None

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

    # -- probing and looking ----------------------------------------------------
    def ns_of(self, endpoint: str) -> str:
        return self.drivers.ns_of(endpoint)

    def endpoints(self, family: int) -> list:
        return flows.endpoints(self.lab, family)

    def explain(self, src: str, dst: str, proto: str, family: int = 4,
                timeout: float = 1.0) -> dict:
        """The evaluator's steps for one flow and, beside them, what the running lab's
        kernel did with a probe of it (`kernel`: its verdict and the rule it reported)."""
        p, port = flows.parse_proto(proto, family)
        out = flows.explanation(flows.expectation(self.evaluator, src, dst, p, port, family))
        r = self.verdicts([(src, dst, p, port, family)], timeout)[0]
        out["kernel"] = {k: r[k] for k in ("observed", "detail", "observed_by", "match",
                                           "mismatch", "lost") if k in r}
        return out

    def verdicts(self, flow_list, timeout: float = 1.0, tcp_flags: str = "S",
                 progress=None, pcap: str = None, jobs: int = None) -> list:
        """flows: [(src, dst, protocol number, port, family)] -> verdict records (contract
        §3), all probed at once, TCP with these flags (flows.with_tcp_flags)."""
        flows.check_run(timeout, jobs, labspec.RUN_BOUNDS)
        fl = [flows.flow_of(self.evaluator, *f) for f in flow_list]  # refused: nothing sent
        with state.locked(self.lab.name), labspec.building():  # never beside a change
            return self._verdicts(flow_list, fl, timeout, tcp_flags, progress, pcap, jobs)

    def _verdicts(self, flow_list, fl, timeout, tcp_flags="S", progress=None, pcap=None,
                  jobs=None) -> list:
        """verdicts() of flow_list (their flows: fl), the lab's lock held by the caller."""
        lab = self.lab
        specs = [ProbeSpec(self.ns_of(f.src), f.src_ip, f.dst_ip, f.protocol, f.port,
                           f.family, tcp_flags, dst_ns=self.ns_of(f.dst),
                           src_rules=lab.instance(f.src) is not None,
                           dst_rules=lab.instance(f.dst) is not None) for f in fl]
        state.next_tags(lab.name, lambda start: assign_tags(specs, start))
        ends = [(f.src, f.dst) for f in fl]
        # the evaluator judges while the probes are out (probing waits on its workers)
        done, failed = workers.fan_out({
            "probe": lambda: self.drivers.probe(specs, ends, timeout, jobs, pcap, progress),
            "judge": lambda: [flows.with_tcp_flags(flows.expectation(self.evaluator, *f),
                                                   tcp_flags) for f in flow_list]})
        if failed:  # the probe's error first: it may be why the judging stopped
            raise failed.get("probe") or failed["judge"]
        facts, exps = done["probe"], done["judge"]
        judge = witness.Judge(lab, self.evaluator)
        return [flows.verdict_record(e, judge.judge(s, answer, reports, end), lab)
                for e, s, (answer, reports), end in zip(exps, specs, facts, ends)]

    def probe(self, src: str, dst: str, proto: str, family: int = 4,
              timeout: float = 1.0, tcp_flags: str = "S", pcap: str = None) -> dict:
        p, port = flows.parse_proto(proto, family)
        # checked before upper(): 'ß'.upper() is 'SS'
        if not isinstance(tcp_flags, str) or not re.fullmatch(r"[SAFRPUsafrpu]{1,6}", tcp_flags):
            raise LabError(f"--flags {short(tcp_flags)}: TCP flags are letters of S A F R P U")
        return self.verdicts([(src, dst, p, port, family)], timeout, tcp_flags.upper(),
                             pcap=pcap)[0]

    def matrix(self, ports=None, family: int = 4, timeout: float = 1.0,
               sources=None, destinations=None, progress=None, total=None,
               pcap: str = None, jobs: int = None) -> dict:
        flow_list = flows.matrix_flows(self.lab, ports, family, sources, destinations)
        if total:
            total(len(flow_list))
        records = self.verdicts(flow_list, timeout, progress=progress, pcap=pcap, jobs=jobs)
        return flows.matrix_result(self.lab.name, records)

    def diff(self, changed_path: str, ports=None, family: int = None, timeout: float = 1.0,
             progress=None) -> dict:
        """Every class of traffic the changed groups would turn (classprobe.changed_classes),
        each confirmed with packets on a clone of the lab (its own namespaces)."""
        from sgnet import classprobe
        clone, new = classprobe.clone_of(self, changed_path)
        moved, records, families = classprobe.changed_classes(self, new, ports, family)
        if moved:
            self.on_clone(clone, changed_path, lambda sess: classprobe.confirm(
                sess, Analysis(sess.evaluator), records, moved, timeout))
        return diff_result(self.lab.name, changed_path, clone["name"] if moved else None,
                           records, families, ports)

    @staticmethod
    def on_clone(clone: dict, source: str, work):
        """work(session) on a lab brought up from `clone` (a lab file), then taken down."""
        sess = LabSession.up_from_text(yaml.safe_dump(clone, sort_keys=False), source)
        try:
            return work(sess)
        finally:
            LabSession.down(clone["name"])

    def rule_hits(self) -> dict:
        """Packets and bytes each rule has matched in the kernel, per group and instance."""
        counters = self.drivers.per_endpoint([i.name for i in self.lab.instances],
                                             "rule_counters", self.lab.name)
        return {"lab": self.lab.name, "rules": flows.rule_hits(self.lab, counters)}

    def status(self) -> dict:
        """The lab as built (flows.status_record) and what its namespaces hold now."""
        lab = self.lab
        everyone = [i.name for i in lab.instances] + [x.name for x in lab.externals]
        up = self.drivers.per_endpoint(everyone, "exists")
        counts = self.drivers.per_endpoint([i.name for i in lab.instances if up[i.name]],
                                           "ct_count")
        busy = [n for n, c in counts.items() if c]
        sessions = self.drivers.per_endpoint(busy, "ct_entries") if busy else {}
        return flows.status_record(lab, self.evaluator, self.ns_of, up, counts,
                                   self.drivers.transport_names(), sessions)

    def exec(self, name: str, cmd: list, **kw) -> subprocess.CompletedProcess:
        """Run a command inside an instance's or external's namespace."""
        if self.lab.instance(name) is None and self.lab.external(name) is None:
            raise LabError(f"NAME {short(name)}: not an instance or external of lab "
                           f"{self.lab.name}")
        argv, enter = self.drivers.of(name).command(self.ns_of(name), cmd)
        return subprocess.run(argv, preexec_fn=enter, **kw)

    def popen(self, name: str, cmd: list, **kw) -> subprocess.Popen:
        """Start a long-running command (a server, a stream) inside a namespace (on the
        host it runs on)."""
        argv, enter = self.drivers.of(name).command(self.ns_of(name), cmd)
        return subprocess.Popen(argv, preexec_fn=enter, **kw)

"""Who does a lab's kernel work on each host (hosts: the shell's outer edge).

A driver does one host's share of a lab, behind one interface: LocalDriver in this process
on this machine; AgentDriver through `sgnet agent` on the host (one JSON request on its
stdin, one JSON answer on its stdout; the agent hands it to serve(), which does the very
same LocalDriver work there), reached by a transport (sgnet.hosts.transport). Drivers holds
every driver of one lab and uses them together, hosts at once: a one-host lab has one
LocalDriver, so the session above never asks how many hosts a lab has.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import tempfile
import threading

from sgnet.core.ctentry import CtEntry
from sgnet.core.errors import EnvError, LabError, SgnetError
from sgnet.core import placement
from sgnet.core.names import gw_ns, host_ns, ns_name
from sgnet.core.model import Lab
from sgnet.core.probes import ProbeSpec
from sgnet.hosts.transport import Ssh, transport_for
from sgnet.io import labfile
from sgnet.kernel import build, conntrack, netns, nft, workers
from sgnet.kernel.probe import send as probe_send, witnessed


class HostError(SgnetError):
    """A host could not be reached, or failed: always names the host."""
    exit_code = 3


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


@dataclasses.dataclass(frozen=True)
class LabText:
    """A lab as written (what an agent is sent, to parse itself) and as parsed."""
    text: str
    source: str
    lab: Lab


# -- on the machine the work runs on ---------------------------------------------------------
class LocalDriver:
    """Namespaces of this machine, driven in this process. `host`: which host's share of
    a multi-host lab this machine holds (None: the whole of a one-host lab)."""

    def build(self, lab: LabText, host=None, jobs=None, progress=None):
        try:
            build.build(lab.lab, progress, jobs, host)
        except BaseException:
            if host is not None:  # leave nothing half-built on this host
                build.teardown(lab.lab.name, only=placement.host_namespaces(lab.lab, host))
            raise
        return True

    def teardown(self, lab_name: str, names):
        """Exactly these namespaces of the lab (one host's share, beside the others')."""
        return build.teardown(lab_name, only=names)

    def apply_groups(self, lab: LabText, host=None):
        build.apply_groups(lab.lab, host)
        return True

    def apply(self, items):
        """items: (namespace, nftables transaction): each applied atomically."""
        for ns, ruleset in items:
            nft.apply(ns, ruleset)
        return len(items)

    def exists(self, names):
        return [netns.exists(n) for n in names]

    def ct_count(self, names):
        return [conntrack.count(n) if netns.exists(n) else None for n in names]

    def ct_entries(self, names):
        return [conntrack.entries(n) for n in names]

    def ct_delete(self, ns, entries):
        for e in entries:
            conntrack.delete(ns, e)
        return len(entries)

    def rule_counters(self, names, table):
        """Per namespace: (chain, comment, packets, bytes) of each rule of `table`."""
        return [nft.rule_counters(nft.list_table(n, table)) for n in names]

    def probe(self, specs, sent, watch_ns, timeout=1.0, jobs=None, capture=False,
              progress=None, gate=None):
        """Send specs[i] (tagged ProbeSpecs) for i in `sent`, listen to the lab's rules in
        namespaces `watch_ns`: per probe its answer and the rules' reports
        (sgnet.kernel.probe.witnessed), and the packets sent and received, (time, bytes),
        only with capture. `gate`: in step with other hosts (an agent's StdioGate)."""
        return witnessed.run(specs, sent, watch_ns, timeout, jobs, capture, progress, gate)

    def command(self, ns: str, cmd: list):
        """(argv, preexec_fn) that run `cmd` inside namespace `ns`."""
        return list(cmd), netns.enter_in_child(ns)

    # this machine only (never asked of an agent): what a lab left here
    @staticmethod
    def leftovers(lab_name: str) -> list:
        return build.leftovers(lab_name)

    @staticmethod
    def sweep(lab_name: str, names=(), progress=None) -> list:
        """Every namespace here named as the lab's, plus `names` (its state's): removed."""
        return build.teardown(lab_name, names, progress)


def serve(op: str, args: dict):
    """The agent's side of AgentDriver.call: the LocalDriver work of one request, its
    answer as JSON values."""
    here = LocalDriver()
    if op in ("build", "apply_groups"):
        text, source = args.pop("lab_text"), args.pop("source")
        return getattr(here, op)(LabText(text, source, labfile.parse_text(text, source)),
                                 **args)
    if op == "ct_entries":
        return [[dataclasses.asdict(e) for e in es] for es in here.ct_entries(**args)]
    if op == "ct_delete":
        return here.ct_delete(args["ns"], [CtEntry.from_dict(e) for e in args["entries"]])
    if op == "probe":
        return here.probe([ProbeSpec(**s) for s in args.pop("specs")], **args)
    if op in ("teardown", "apply", "exists", "ct_count", "rule_counters"):
        return getattr(here, op)(**args)
    raise ValueError(f"unknown op {op!r}")


# -- through a host's agent ------------------------------------------------------------------
class AgentDriver:
    """One host's namespaces, driven by `sgnet agent` on it through a transport."""

    def __init__(self, host, transport, netns_name: str = None):
        self.host = host
        self.transport = transport
        self.netns = netns_name  # a simulated host: the agent enters its namespace first

    def _agent_args(self) -> list:
        return ["agent"] + (["--netns", self.netns] if self.netns else [])

    def call(self, op: str, **args):
        argv = self.transport.argv(self._agent_args())
        try:
            proc = subprocess.run(argv, input=json.dumps({"op": op, "args": args}),
                                  capture_output=True, text=True)
        except FileNotFoundError as e:
            raise EnvError(f"host {self.host.name}: cannot run {argv[0]}: {e}") from None
        try:
            answer = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() \
                else None
        except json.JSONDecodeError:
            answer = None
        if not isinstance(answer, dict):
            why = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
            raise HostError(f"host {self.host.name} ({self.transport.name}): {op} failed: "
                            f"{why}")
        if "error" in answer:
            cls = LabError if answer.get("type") == "LabError" else HostError
            raise cls(f"host {self.host.name}: {op}: {answer['error']}")
        return answer["ok"]

    def build(self, lab: LabText, host=None, jobs=None, progress=None):
        return self.call("build", lab_text=lab.text, source=lab.source, host=host, jobs=jobs)

    def teardown(self, lab_name: str, names):
        return self.call("teardown", lab_name=lab_name, names=names)

    def apply_groups(self, lab: LabText, host=None):
        return self.call("apply_groups", lab_text=lab.text, source=lab.source, host=host)

    def apply(self, items):
        return self.call("apply", items=items)

    def exists(self, names):
        return self.call("exists", names=names)

    def ct_count(self, names):
        return self.call("ct_count", names=names)

    def ct_entries(self, names):
        return [[CtEntry.from_dict(e) for e in es] for es in self.call("ct_entries",
                                                                         names=names)]

    def ct_delete(self, ns, entries):
        return self.call("ct_delete", ns=ns, entries=[dataclasses.asdict(e) for e in entries])

    def rule_counters(self, names, table):
        return self.call("rule_counters", names=names, table=table)

    def start_probe(self, specs, sent, watch_ns, timeout=1.0, jobs=None, capture=False):
        """A gated probe run on this host (_GatedRun): its agent opens its sockets, says
        ready, sends on the go, says sent, listens until the stop."""
        argv = self.transport.argv(self._agent_args())
        request = {"op": "probe", "args": dict(
            specs=[dataclasses.asdict(s) for s in specs], sent=sent, watch_ns=watch_ns,
            timeout=timeout, jobs=jobs, capture=capture, gated=True)}
        err = tempfile.TemporaryFile("w+")  # never a pipe nobody reads while it waits
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=err, text=True)
        except FileNotFoundError as e:
            raise EnvError(f"host {self.host.name}: cannot run {argv[0]}: {e}") from None
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
        return _GatedRun(self, proc, err)

    def command(self, ns: str, cmd: list):
        return self.transport.argv(self._agent_args() + ["--exec", ns, "--", *cmd]), None


class _GatedRun:
    """One host's agent in a gated probe run: its steps read as they come, the
    controller's words written."""

    def __init__(self, driver, proc, err):
        self.driver, self.proc, self.err = driver, proc, err

    def _fail(self, line: str):
        self.err.seek(0)
        err = self.err.read().strip().splitlines()
        try:
            answer = json.loads(line) if line.strip() else {}
        except json.JSONDecodeError:
            answer = {}
        why = answer.get("error") or (err or [f"exit status {self.proc.wait()}"])[-1]
        cls = LabError if answer.get("type") == "LabError" else HostError
        raise cls(f"host {self.driver.host.name}: probe: {why}")

    def expect(self, step: str) -> dict:
        """The agent's next step, which must be `step`: what it said."""
        line = self.proc.stdout.readline()
        try:
            said = json.loads(line)
        except json.JSONDecodeError:
            said = None
        if not isinstance(said, dict) or said.get("step") != step:
            self._fail(line)
        return said

    def tell(self, word: str):
        try:
            self.proc.stdin.write(word + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # it has ended: its answer says why

    def answer(self):
        line = self.proc.stdout.readline()
        self.proc.stdin.close()
        self.proc.wait()
        try:
            answer = json.loads(line)
        except json.JSONDecodeError:
            answer = None
        if not isinstance(answer, dict) or "ok" not in answer:
            self._fail(line)
        return answer["ok"]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.err.close()


def _gated_probe(runs: dict, order: dict, dst_host: list) -> dict:
    """Every host's gated run in step: all listen before any sends, all listen until all
    have sent. The probes a host saw answered from another host (its "sent" names them)
    are named to that host with the stop: it listens on until their reports are in.
    order: host -> the probes (indices of all) its run has, in its order; dst_host: per
    probe, its destination's host. -> host -> its answer."""
    try:
        for r in runs.values():
            r.expect("ready")
        for r in runs.values():
            r.tell("go")
        due = {h: [] for h in runs}
        local = {h: {i: k for k, i in enumerate(ii)} for h, ii in order.items()}
        for h, r in runs.items():
            reached = r.expect("sent").get("reached")
            for k in reached if isinstance(reached, list) else []:
                i = order[h][k] if isinstance(k, int) and 0 <= k < len(order[h]) else None
                d = dst_host[i] if i is not None else None
                if d in due and i in local[d]:
                    due[d].append(local[d][i])
        for h, r in runs.items():
            if due[h]:
                r.tell("due " + json.dumps(due[h]))
            r.tell("stop")
        return {h: r.answer() for h, r in runs.items()}
    finally:
        for r in runs.values():
            r.kill()


# -- every driver of one lab -----------------------------------------------------------------
def _at_once(calls: dict) -> tuple:
    """calls (key -> fn()) all at once: (results, errors) by key. A single call runs in
    this thread (a one-host lab: Ctrl-C reaches it as it always did), several in threads
    (sgnet.kernel.workers.fan_out)."""
    if len(calls) != 1:
        return workers.fan_out(calls)
    (key, fn), = calls.items()
    try:
        return {key: fn()}, {}
    except BaseException as e:  # handed back by key, as fan_out does
        return {}, {key: e}


def _all_at_once(calls: dict) -> dict:
    """_at_once, for calls that must all succeed: their results, or the first error."""
    results, errors = _at_once(calls)
    for key in calls:
        if key in errors:
            raise errors[key]
    return results


def _one_at_a_time(progress):
    """progress, called from each host's thread in turn (never two at once)."""
    if progress is None:
        return None
    lock = threading.Lock()

    def step(n=1):
        with lock:
            progress(n)
    return step


class Drivers:
    """The drivers of one lab by host (None: the one LocalDriver of a one-host lab),
    used together: each call goes to every host concerned at once. `here` is this
    machine, which also holds the simulated hosts and what a lab leaves behind."""

    def __init__(self, lab: Lab, control_dir: str):
        self.lab = lab
        self.here = LocalDriver()
        if not lab.hosts:
            self.by_host = {None: self.here}
            return
        mine = {} if all(h.simulated for h in lab.hosts) else build.local_addresses()
        self.by_host = {h.name: AgentDriver(h, transport_for(h, control_dir, mine),
                                            host_ns(lab.name, h.name)
                                            if h.simulated else None)
                        for h in lab.hosts}

    def of(self, endpoint: str):
        return self.by_host[self.lab.host_of(endpoint)]

    def ns_of(self, endpoint: str) -> str:
        return ns_name(self.lab.name, endpoint)

    def namespaces(self) -> list:
        """Every namespace of the lab, on whichever host (what its state records)."""
        return placement.lab_namespaces(self.lab)

    def namespaces_on(self, host) -> list:
        """The namespaces a host's driver makes (a one-host lab: all of them)."""
        if host is None:
            return placement.lab_namespaces(self.lab)
        return placement.host_namespaces(self.lab, host)

    def _by_host(self, names) -> dict:
        """host -> the endpoints among `names` on it, in the order given."""
        out = {}
        for n in names:
            out.setdefault(self.lab.host_of(n), []).append(n)
        return out

    def per_endpoint(self, names, op: str, *args) -> dict:
        """endpoint -> its host driver's op(namespaces of those on the host, *args)[i]."""
        groups = self._by_host(names)
        results = _all_at_once({h: (lambda h=h, ns=ns: getattr(self.by_host[h], op)(
            [self.ns_of(n) for n in ns], *args))
            for h, ns in groups.items()})
        return {n: r for h, ns in groups.items() for n, r in zip(ns, results[h])}

    # -- life cycle ----------------------------------------------------------------------------
    def build(self, lab: LabText, jobs=None, progress=None) -> dict:
        """Build every host's share (the simulated underlay first): {host: error} of those
        that failed, {} when the lab is whole."""
        if placement.simulated_namespaces(self.lab):
            try:
                build.build_simulated(self.lab)
            except BaseException as e:
                return {"(simulated underlay)": e}
        return _at_once({h: (lambda h=h, d=d: d.build(lab, h, jobs, progress))
                         for h, d in self.by_host.items()})[1]

    def all_there(self) -> bool:
        if not all(netns.exists(n) for n in placement.simulated_namespaces(self.lab)):
            return False
        results, errors = _at_once({h: (lambda h=h, d=d: d.exists(self.namespaces_on(h)))
                                    for h, d in self.by_host.items()})
        return not errors and all(all(r) for r in results.values())

    def apply_groups(self, lab: LabText):
        _all_at_once({h: (lambda h=h, d=d: d.apply_groups(lab, h))
                      for h, d in self.by_host.items()})

    def teardown(self, names=(), progress=None) -> tuple:
        """Remove every host's share (hosts at once), then what is on this machine (a
        one-host lab, the simulated hosts, the underlay switch, and `names`): (the hosts
        that could not be cleaned, the namespaces removed)."""
        # A simulated host whose own namespace is gone has nothing left but what the
        # sweep of this machine, below, removes.
        hosts = [h for h in self.lab.hosts
                 if not h.simulated or netns.exists(host_ns(self.lab.name, h.name))]
        results, errors = _at_once({h.name: (lambda h=h: self.by_host[h.name].teardown(
            self.lab.name, placement.host_namespaces(self.lab, h.name))) for h in hosts})
        for d in self.by_host.values():
            if isinstance(getattr(d, "transport", None), Ssh):
                d.transport.close()
        local = self.here.sweep(self.lab.name, names, progress)
        return sorted(errors), sorted({n for r in results.values() for n in r} | set(local))

    # -- live changes and looking --------------------------------------------------------------
    def apply(self, plan: dict) -> None:
        """plan: endpoint -> the nftables transaction for its namespace."""
        _all_at_once({h: (lambda h=h, ns=ns: self.by_host[h].apply(
            [(self.ns_of(n), plan[n]) for n in ns]))
            for h, ns in self._by_host(plan).items()})

    def probe(self, specs, ends, timeout, jobs=None, pcap=None, progress=None) -> list:
        """Each probe (specs[i], from endpoint ends[i][0] to ends[i][1]) is sent on the
        host its source runs on and listened for on every host either end runs on (each
        host's gateway hears what crosses VPCs), all hosts at once: per probe (answer,
        reports) with the reports of every host. What was sent and received is written
        to `pcap`. A one-host lab is this machine's alone: no plan per host."""
        if not self.lab.hosts:  # this machine sends and hears everything
            ns = {gw_ns(self.lab.name)} | {s.ns for s in specs if s.src_rules} | \
                {s.dst_ns for s in specs if s.dst_rules}
            got = self.here.probe(specs, list(range(len(specs))), sorted(ns), timeout, jobs,
                                  pcap is not None, progress)
            packets = [(t, bytes.fromhex(d)) for t, d in got["packets"]]
            self._write_pcap(pcap, packets)
            return list(zip(got["answers"], got["reports"]))
        sent, watched = {}, {}
        for i, (src, dst) in enumerate(ends):
            h = self.lab.host_of(src)
            sent.setdefault(h, []).append(i)
            watched.setdefault(h, set()).add(i)
            watched.setdefault(self.lab.host_of(dst), set()).add(i)
        step = _one_at_a_time(progress)
        calls = {}
        for h, ii in watched.items():
            ii = sorted(ii)
            ns = {gw_ns(self.lab.name, h)}
            for i in ii:
                s = specs[i]
                if s.src_rules and self.lab.host_of(ends[i][0]) == h:
                    ns.add(s.ns)
                if s.dst_rules and self.lab.host_of(ends[i][1]) == h:
                    ns.add(s.dst_ns)
            local = {i: k for k, i in enumerate(ii)}
            mine = [local[i] for i in sent.get(h, [])]
            calls[h] = ([specs[i] for i in ii], mine, sorted(ns))
        runs = {}  # several hosts: in step (_gated_probe)
        try:
            for h, (ss, mine, ns) in calls.items():
                runs[h] = self.by_host[h].start_probe(ss, mine, ns, timeout, jobs,
                                                      pcap is not None)
        except BaseException:
            for r in runs.values():
                r.kill()
            raise
        answers = _gated_probe(runs, {h: sorted(ii) for h, ii in watched.items()},
                               [self.lab.host_of(dst) for _, dst in ends])
        if step:
            step(len(specs))
        facts = [[None, []] for _ in specs]
        packets = []
        for h, ii in watched.items():
            got = answers[h]
            for k, i in enumerate(sorted(ii)):
                if got["answers"][k] is not None:
                    facts[i][0] = got["answers"][k]
                facts[i][1] += got["reports"][k]
            packets += [(t, bytes.fromhex(d)) for t, d in got["packets"]]
        self._write_pcap(pcap, packets)
        return facts

    @staticmethod
    def _write_pcap(pcap, packets):
        if pcap:
            try:
                probe_send.write_pcap(pcap, packets)
            except OSError as e:  # checked before probing; the disk may still fill up
                raise EnvError(f"--pcap {pcap}: cannot write: {e.strerror or e}") from None

    def transport_names(self) -> dict:
        """host -> how its agent is reached."""
        return {h: d.transport.name for h, d in self.by_host.items() if h is not None}

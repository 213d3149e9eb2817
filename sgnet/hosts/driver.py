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
import threading

from sgnet.core.ctentry import CtEntry
from sgnet.core.errors import EnvError, LabError, SgnetError
from sgnet.core import placement
from sgnet.core.names import host_ns, ns_name
from sgnet.core.model import Lab
from sgnet.core.probes import ProbeResult, ProbeSpec
from sgnet.hosts.transport import Ssh, transport_for
from sgnet.io import labfile
from sgnet.kernel import build, conntrack, netns, nft, workers
from sgnet.kernel.probe import send as probe_send


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

    def probe(self, specs, timeout=1.0, jobs=None, capture=False, progress=None):
        """ProbeSpecs -> (ProbeResults in order, packets sent and received: (time, bytes),
        only with capture)."""
        packets = []
        results = probe_send.run(specs, timeout=timeout, jobs=jobs, progress=progress,
                            packets=packets if capture else None)
        return results, packets

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
        results, packets = here.probe([ProbeSpec(**s) for s in args.pop("specs")],
                                      **args)
        return {"results": [[r.observed, r.detail, r.answer] for r in results],
                "packets": [[t, d.hex()] for t, d in packets]}
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

    def probe(self, specs, timeout=1.0, jobs=None, capture=False, progress=None):
        answer = self.call("probe", specs=[dataclasses.asdict(s) for s in specs],
                           timeout=timeout, jobs=jobs, capture=capture)
        if progress:
            progress(len(specs))
        return ([ProbeResult(*r) for r in answer["results"]],
                [(t, bytes.fromhex(d)) for t, d in answer["packets"]])

    def command(self, ns: str, cmd: list):
        return self.transport.argv(self._agent_args() + ["--exec", ns, "--", *cmd]), None


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

    def probe(self, specs, sources, timeout, jobs=None, pcap=None, progress=None) -> list:
        """Each probe (specs[i], sent from endpoint sources[i]) is sent on the host its
        source runs on, every host at once: ProbeResults in order. What was sent and
        received is written to `pcap`."""
        idx = {}
        for i, src in enumerate(sources):
            idx.setdefault(self.lab.host_of(src), []).append(i)
        step = _one_at_a_time(progress)
        answers = _all_at_once({h: (lambda h=h, ii=ii: self.by_host[h].probe(
            [specs[i] for i in ii], timeout, jobs, pcap is not None, step))
            for h, ii in idx.items()})
        results, packets = [None] * len(specs), []
        for h, ii in idx.items():
            for i, r in zip(ii, answers[h][0]):
                results[i] = r
            packets += answers[h][1]
        if pcap:
            try:
                probe_send.write_pcap(pcap, packets)
            except OSError as e:  # checked before probing; the disk may still fill up
                raise EnvError(f"--pcap {pcap}: cannot write: {e.strerror or e}") from None
        return results

    def transport_names(self) -> dict:
        """host -> how its agent is reached."""
        return {h: d.transport.name for h, d in self.by_host.items() if h is not None}

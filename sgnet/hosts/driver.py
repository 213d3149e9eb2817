"""Where a lab's namespaces are driven from: this process, or a host's agent.

A one-host lab is driven in-process (LocalPart). Over several hosts, each host's part is
driven by `sgnet agent` running on that host (AgentPart): one JSON request on its stdin,
one JSON answer on its stdout, the agent doing the very same LocalPart work there. The
agent is reached by a transport: OpenSSH with connection sharing (one multiplexed
connection per host, kept open between commands) or, for this machine and its simulated
hosts, a plain local exec. Everything above the transport is the same code.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import shlex
import subprocess
import sys

from sgnet.core.errors import EnvError, LabError, SgnetError


class HostError(SgnetError):
    """A host could not be reached, or failed: always names the host."""
    exit_code = 3


# -- the work itself, on the machine it runs on ---------------------------------------------
class LocalPart:
    """Namespaces of this machine, driven in this process."""

    def build(self, lab_text: str, source: str, host=None, jobs=None, progress=None):
        from sgnet.kernel import fabric, topology
        from sgnet.io import labfile
        lab = labfile.parse_text(lab_text, source)
        try:
            topology.build(lab, progress, jobs, host)
        except BaseException:
            if host is not None:  # leave nothing half-built on this host
                topology.teardown(lab.name, only=fabric.host_namespaces(lab, host))
            raise
        return True

    def teardown(self, lab_name: str, names):
        from sgnet.kernel import topology
        return topology.teardown(lab_name, only=names)

    def apply_groups(self, lab_text: str, source: str, host=None):
        from sgnet.io import labfile
        from sgnet.kernel import topology
        topology.apply_groups(labfile.parse_text(lab_text, source), host)
        return True

    def apply(self, items):
        from sgnet.kernel import nft
        for ns, ruleset in items:
            nft.apply(ns, ruleset)
        return len(items)

    def exists(self, names):
        from sgnet.kernel import netns
        return [netns.exists(n) for n in names]

    def ct_count(self, names):
        from sgnet.kernel import conntrack, netns
        return [conntrack.count(n) if netns.exists(n) else None for n in names]

    def ct_entries(self, names):
        from sgnet.kernel import conntrack
        return [[dataclasses.asdict(e) for e in conntrack.entries(n)] for n in names]

    def ct_delete(self, ns, entries):
        from sgnet.kernel import conntrack
        for e in entries:
            conntrack.delete(ns, conntrack.Entry.from_dict(e))
        return len(entries)

    def list_tables(self, names, table):
        from sgnet.kernel import nft
        return [nft.list_table(n, table) for n in names]

    def probe(self, specs, timeout=1.0, jobs=None, capture=False, progress=None):
        """specs: ProbeSpec fields as dicts -> {"results": [[observed, detail, answer]],
        "packets": [[time, hex]]} (packets only with capture)."""
        from sgnet.kernel import probe
        packets = [] if capture else None
        results = probe.run([probe.ProbeSpec(**s) for s in specs], timeout=timeout, jobs=jobs,
                            progress=progress, packets=packets)
        return {"results": [[r.observed, r.detail, r.answer] for r in results],
                "packets": [[t, d.hex()] for t, d in packets or []]}

    def command(self, ns: str, cmd: list):
        """(argv, preexec_fn) that run `cmd` inside namespace `ns`."""
        from sgnet.kernel import netns
        return list(cmd), netns.enter_in_child(ns)


OPS = ("build", "teardown", "apply_groups", "apply", "exists", "ct_count", "ct_entries",
       "ct_delete", "list_tables", "probe")


# -- transports ------------------------------------------------------------------------------
class LocalExec:
    """This machine: the agent is a child process of the same sgnet."""

    name = "local exec"

    def argv(self, args: list) -> list:
        return [sys.executable, "-m", "sgnet", *args]

    def close(self):
        pass


class Ssh:
    """OpenSSH with connection sharing: the first command opens a master connection to the
    host (ControlMaster), every later one, of this or another sgnet command, goes through it
    (ControlPersist keeps it open for a while). Non-interactive: keys, never a password."""

    name = "ssh"

    def __init__(self, host, control_dir: str):
        self.host = host
        os.makedirs(control_dir, mode=0o700, exist_ok=True)
        self.control_path = os.path.join(control_dir, f"{host.name}.sock")
        self.base = ["ssh", "-o", "BatchMode=yes", "-o", "ControlMaster=auto",
                     "-o", f"ControlPath={self.control_path}", "-o", "ControlPersist=600",
                     "-o", "ConnectTimeout=5", "-o", "ServerAliveInterval=5",
                     "-o", "ServerAliveCountMax=3",
                     "-o", "StrictHostKeyChecking=accept-new",
                     "-p", str(host.ssh_port), "-l", host.ssh_user]
        if host.ssh_identity:
            self.base += ["-o", "IdentitiesOnly=yes", "-i", host.ssh_identity]
        for o in host.ssh_options:
            self.base += ["-o", o]
        self.base.append(host.ssh_host)
        self.remote = (["sudo", "-n"] if host.ssh_user != "root" else []) + \
            shlex.split(host.command)

    def argv(self, args: list) -> list:
        return [*self.base, "--", shlex.join(self.remote + list(args))]

    def close(self):
        subprocess.run([*self.base, "-O", "exit"], capture_output=True)


def transport_for(host, control_dir: str, mine: dict):
    """`transport: local` (simulated hosts by default), and a real host whose address is
    one of this machine's own (`mine`: sgnet.kernel.fabric.local_addresses()): local exec.
    Otherwise SSH."""
    if host.transport == "local" or (
            not host.simulated and host.address in mine
            and not ipaddress.ip_address(host.address).is_loopback):
        return LocalExec()
    return Ssh(host, control_dir)


# -- the part of a host, driven through its agent -------------------------------------------
class AgentPart:
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

    def __getattr__(self, op):
        if op not in OPS:
            raise AttributeError(op)
        return lambda *a, progress=None, **kw: self.call(op, **_named(op, a, kw))

    def command(self, ns: str, cmd: list):
        return self.transport.argv(self._agent_args() + ["--exec", ns, "--", *cmd]), None


def _named(op, args, kwargs):
    """Positional arguments of a LocalPart method as keywords (the request is JSON)."""
    import inspect
    params = [p for p in inspect.signature(getattr(LocalPart, op)).parameters
              if p != "self"]
    return dict(zip(params, args), **kwargs)

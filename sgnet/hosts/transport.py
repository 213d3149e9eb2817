"""How the controller reaches a host's agent (hosts: process and SSH plumbing, no kernel).

A transport turns `sgnet agent ...` arguments into the argv that runs it on the host:
LocalExec for this machine and its simulated hosts (a child process of the same sgnet),
Ssh for any other host (OpenSSH with connection sharing). transport_for picks one.
sgnet.hosts.driver.AgentDriver runs what it gives.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import subprocess
import sys


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
    one of this machine's own (`mine`: sgnet.kernel.build.local_addresses()): local exec.
    Otherwise SSH."""
    if host.transport == "local" or (
            not host.simulated and host.address in mine
            and not ipaddress.ip_address(host.address).is_loopback):
        return LocalExec()
    return Ssh(host, control_dir)

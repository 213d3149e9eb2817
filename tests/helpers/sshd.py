"""An OpenSSH server of the tests' own: its own host and client keys and configuration in
a private directory, listening on one address (in a given network namespace, or the
test's), root login by key only. Started and stopped by the tests that use it."""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from helpers.ports import free_port


class Sshd:
    def __init__(self, workdir: Path, address: str = "127.0.0.1", netns: str = None,
                 port: int = None):
        self.dir, self.address, self.netns = workdir, address, netns
        self.dir.mkdir(mode=0o700, exist_ok=True)
        self.port = port or free_port()
        for key in ("host_key", "client_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                            str(self.dir / key)], check=True)
        shutil.copy(self.dir / "client_key.pub", self.dir / "authorized_keys")
        self.log = self.dir / "sshd.log"
        self.log.touch()
        (self.dir / "sshd_config").write_text(f"""
Port {self.port}
ListenAddress {address}
HostKey {self.dir}/host_key
AuthorizedKeysFile {self.dir}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile {self.dir}/sshd.pid
LogLevel VERBOSE
MaxSessions 64
""")
        self.proc = None

    @property
    def identity(self) -> str:
        return str(self.dir / "client_key")

    def _reachable(self) -> bool:
        def connect():
            try:
                socket.create_connection((self.address, self.port), timeout=0.2).close()
                return True
            except OSError:
                return False
        if self.netns is None:
            return connect()
        from sgnet.kernel import netns
        return netns.call(self.netns, connect)

    def start(self):
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        enter = None
        if self.netns is not None:
            from sgnet.kernel import netns
            enter = netns.enter_in_child(self.netns)
        self.proc = subprocess.Popen([sshd, "-D", "-f", str(self.dir / "sshd_config"),
                                      "-E", str(self.log)], preexec_fn=enter)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._reachable():
                return
            time.sleep(0.05)
        raise RuntimeError(f"sshd did not start: {self.log.read_text()}")

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
            self.proc = None

    def logins(self) -> int:
        return self.log.read_text().count("Accepted publickey for root")

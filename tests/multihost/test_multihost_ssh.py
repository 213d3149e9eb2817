"""Multi-host control over OpenSSH (needs root and sshd): the test starts its own sshd on
127.0.0.1 with its own keys, and a lab whose three simulated hosts are reached through it.
Checks the control path a real deployment uses: one multiplexed connection per host, kept
across commands; `down` closes them; a host that stops answering is named, and a later
`down` finishes the job."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers.sshd import Sshd
from sgnet.kernel import netns
from sgnet import state


pytestmark = pytest.mark.kernel
LABS = Path(__file__).parents[1] / "labs"
SGNET = [sys.executable, "-m", "sgnet"]


@pytest.fixture()
def sshd(tmp_path):
    if not (shutil.which("sshd") or os.path.exists("/usr/sbin/sshd")):
        pytest.fail("sshd is missing: scripts/install.sh --test installs openssh-server")
    d = Sshd(tmp_path / "sshd")
    d.start()
    yield d
    d.stop()


def ssh_lab(name, sshd, tmp_path):
    raw = dict(yaml.safe_load((LABS / "multihost.yaml").read_text()), name=name)
    raw["hosts"] = [{"name": h, "simulated": True, "transport": "ssh", "ssh_host": "127.0.0.1",
                     "ssh_port": sshd.port, "ssh_identity": sshd.identity,
                     "ssh_options": [f"UserKnownHostsFile={tmp_path}/known_hosts"],
                     "command": f"{sys.executable} -m sgnet"}
                    for h in ("hv1", "hv2", "hv3")]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def cli(*args, check=True):
    r = subprocess.run([*SGNET, *args], capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def test_one_shared_connection_per_host_across_commands(sshd, tmp_path):
    path = ssh_lab("mhs", sshd, tmp_path)
    cli("up", str(path))
    try:
        st = yaml.safe_load(cli("status", "mhs", "--json").stdout)
        assert [h["transport"] for h in st["hosts"]] == ["ssh"] * 3
        assert all(i["up"] for i in st["instances"])
        m = yaml.safe_load(cli("matrix", "mhs", "--json").stdout)
        assert m["summary"]["wrong"] == 0 and m["summary"]["total"] > 100
        cli("rule", "add", "mhs", "db", "--direction", "ingress", "--action", "allow",
            "--protocol", "tcp", "--ports", "22", "--remote", "10.10.1.0/24")
        r = yaml.safe_load(cli("probe", "mhs", "web2", "db1", "tcp/22", "--json").stdout)
        assert r["observed"] == "allow" and r["dst_host"] == "hv3"
        r = cli("exec", "mhs", "db1", "--", "cat", "/proc/sys/net/ipv4/ip_forward")
        assert r.stdout.strip() == "0"  # an instance, not a router, run on hv3 via ssh
        # seven commands, dozens of agent calls: three connections, one per host, all alive
        assert sshd.logins() == 3
        for h in ("hv1", "hv2", "hv3"):
            sock = Path(state.lab_dir("mhs")) / "ssh" / f"{h}.sock"
            assert sock.exists()
    finally:
        cli("down", "mhs")
    assert netns.list_names("mhs-") == []
    assert not (Path(state.lab_dir("mhs")) / "ssh" / "hv1.sock").exists()


def test_an_unreachable_host_is_reported_and_down_finishes_later(sshd, tmp_path):
    path = ssh_lab("mhd", sshd, tmp_path)
    cli("up", str(path))
    try:
        for h in ("hv1", "hv2", "hv3"):  # close the shared connections, stop sshd:
            subprocess.run(["ssh", "-o", f"ControlPath={state.lab_dir('mhd')}/ssh/{h}.sock",
                            "-O", "exit", "x"], capture_output=True)
        sshd.stop()  # every host is now out of reach
        r = cli("down", "mhd", check=False)
        assert r.returncode == 3
        assert "hv1, hv2, hv3" in r.stderr and "sgnet down" in r.stderr
        assert state.load("mhd")["status"] == "partial"
        sshd.start()
        assert cli("down", "mhd").returncode == 0
    finally:
        if not sshd.proc:
            sshd.start()
        cli("down", "mhd", check=False)
    assert netns.list_names("mhd-") == []
    assert state.load("mhd") is None

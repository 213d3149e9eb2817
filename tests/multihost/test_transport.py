"""How a multi-host lab's hosts are reached (sgnet.hosts.transport): the SSH command line
with connection sharing, sudo for a non-root user, local exec for this machine. No kernel
work; here as tests/unit imports nothing of sgnet.hosts."""

from pathlib import Path

import yaml

from sgnet.hosts import transport
from sgnet.core import labspec

LABS = Path(__file__).parents[1] / "labs"


def lab_from(raw):
    return labspec.parse(raw, "t.yaml")


def test_transports():
    raw = yaml.safe_load((LABS / "multihost.yaml").read_text())
    raw["hosts"] = [{"name": "a", "simulated": True},
                    {"name": "b", "simulated": True, "transport": "ssh", "ssh_port": 2200,
                     "ssh_identity": "/k/id", "ssh_options": ["UserKnownHostsFile=/k/kh"]}]
    for i in raw["instances"] + raw["externals"]:
        i.pop("host", None)
    lab = lab_from(raw)
    assert isinstance(transport.transport_for(lab.hosts[0], "/tmp/x", {}), transport.LocalExec)
    t = transport.transport_for(lab.hosts[1], "/tmp/sgnet-test-ssh", {})
    assert isinstance(t, transport.Ssh)
    argv = t.argv(["agent", "--netns", "mh--h-b"])
    assert argv[0] == "ssh"
    assert "ControlMaster=auto" in argv and "ControlPersist=600" in argv
    assert "ControlPath=/tmp/sgnet-test-ssh/b.sock" in argv
    assert "BatchMode=yes" in argv  # never a password prompt
    assert argv[argv.index("-p") + 1] == "2200" and argv[argv.index("-i") + 1] == "/k/id"
    assert "UserKnownHostsFile=/k/kh" in argv
    assert argv[-3:] == ["127.0.0.1", "--", "sgnet agent --netns mh--h-b"]


def test_non_root_user_runs_the_agent_with_sudo():
    raw = yaml.safe_load((LABS / "multihost.yaml").read_text())
    raw["hosts"] = [{"name": "a", "address": "192.0.2.11", "ssh_user": "vagrant",
                     "command": "/opt/sgnet/venv/bin/sgnet"}]
    for i in raw["instances"] + raw["externals"]:
        i.pop("host", None)
    t = transport.Ssh(lab_from(raw).hosts[0], "/tmp/sgnet-test-ssh")
    assert t.argv(["agent"])[-1] == "sudo -n /opt/sgnet/venv/bin/sgnet agent"


def test_a_real_host_that_is_this_machine_is_driven_by_local_exec():
    raw = yaml.safe_load((LABS / "multihost.yaml").read_text())
    raw["hosts"] = [{"name": "a", "address": "192.0.2.11"}, {"name": "b", "address": "192.0.2.12"}]
    for i in raw["instances"] + raw["externals"]:
        i.pop("host", None)
    a, b = lab_from(raw).hosts
    mine = {"192.0.2.11": 1500, "127.0.0.1": 65536}
    assert isinstance(transport.transport_for(a, "/tmp/sgnet-test-ssh", mine), transport.LocalExec)
    assert isinstance(transport.transport_for(b, "/tmp/sgnet-test-ssh", mine), transport.Ssh)


def test_an_agent_reads_the_probes_due_before_the_stop(monkeypatch):
    """The controller names the probes whose reports a host must still hear on `due`
    lines before its stop; an agent returns them with the stop, skips lines it does not
    know, and a bare stop (a controller from before `due`) or the end of input names none."""
    import io
    from sgnet.hosts.agent import StdioGate
    monkeypatch.setattr("sys.stdin", io.StringIO("due [3, 7]\nhello\ndue [9]\nstop\n"))
    assert StdioGate().wait("stop") == [3, 7, 9]
    monkeypatch.setattr("sys.stdin", io.StringIO("due nonsense\nstop\n"))
    assert StdioGate().wait("stop") == []
    monkeypatch.setattr("sys.stdin", io.StringIO("go\n"))
    assert StdioGate().wait("go") == []
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert StdioGate().wait("stop") == []

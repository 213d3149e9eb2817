"""Real hosts (not simulated ones), on one machine (needs root and sshd).

Three network namespaces stand for three whole machines on a private network (192.0.2.0/24,
as vagrant/multi's VMs are on 192.168.56.0/24): each is the "root" namespace of its machine.
The lab file names them as real hosts, by address. sgnet itself runs inside machine 1, as a
user would on vm1: it drives itself by local exec and the other two over SSH, to an sshd
running in each; every agent treats its machine's namespace as the host's own, where the
VXLAN sockets live, and finds its underlay MTU on the interface holding its address. This is
the path of the Vagrant lab, end to end, short of separate kernels."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers.sshd import Sshd
from sgnet.kernel import netns
from sgnet import state

pytestmark = pytest.mark.kernel
MACHINES = {"vm1": "192.0.2.1", "vm2": "192.0.2.2", "vm3": "192.0.2.3"}
LAB = "trh"


def machine_ns(vm):
    return f"tvm-{vm}"  # not the lab's prefix: the lab's down must not touch the machines


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def machines(tmp_path_factory):
    """The three machines and their network; sshd on vm2 and vm3."""
    ip("netns", "add", "tvm-sw")
    ip("-n", "tvm-sw", "link", "add", "sw", "type", "bridge")
    ip("-n", "tvm-sw", "link", "set", "sw", "up")
    daemons = {}
    try:
        for k, (vm, addr) in enumerate(MACHINES.items()):
            ns = machine_ns(vm)
            ip("netns", "add", ns)
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "link", "add", "ul0", "mtu", "1500", "type", "veth", "peer", "name",
               f"p{k}", "netns", "tvm-sw")
            ip("-n", "tvm-sw", "link", "set", f"p{k}", "master", "sw", "up")
            ip("-n", ns, "addr", "add", f"{addr}/24", "dev", "ul0")
            ip("-n", ns, "link", "set", "ul0", "up")
            if vm != "vm1":
                d = Sshd(tmp_path_factory.mktemp(f"sshd-{vm}"), addr, ns, port=22)
                d.start()
                daemons[vm] = d
        yield daemons
    finally:
        for d in daemons.values():
            d.stop()
        for ns in ["tvm-sw"] + [machine_ns(vm) for vm in MACHINES]:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def on_vm1(*args, check=True):
    """`sgnet ARGS` run on machine 1."""
    r = subprocess.run([sys.executable, "-m", "sgnet", *args], capture_output=True,
                       text=True, preexec_fn=netns.enter_in_child(machine_ns("vm1")))
    if check:
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def lab_file(tmp_path, daemons):
    raw = yaml.safe_load((Path(__file__).parents[2] / "vagrant/multi/lab.yaml").read_text())
    raw["name"] = LAB
    raw["hosts"] = []
    for vm, addr in MACHINES.items():
        host = {"name": vm, "address": addr}
        if vm in daemons:
            host.update(ssh_identity=daemons[vm].identity, command=f"{sys.executable} -m sgnet",
                        ssh_options=[f"UserKnownHostsFile={tmp_path}/known_hosts"])
        raw["hosts"].append(host)
    path = tmp_path / "real.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def links(ns):
    out = subprocess.run(["ip", "-j", "-d", "-n", ns, "link", "show"], capture_output=True,
                         text=True, check=True).stdout
    return {link["ifname"]: link for link in json.loads(out or "[]")}


def test_a_lab_over_three_real_hosts(machines, tmp_path):
    path = lab_file(tmp_path, machines)
    on_vm1("up", str(path))
    try:
        st = json.loads(on_vm1("status", LAB, "--json").stdout)
        assert {h["name"]: h["transport"] for h in st["hosts"]} == \
            {"vm1": "local exec", "vm2": "ssh", "vm3": "ssh"}
        assert all(i["up"] for i in st["instances"] + st["externals"])
        for vm, addr in MACHINES.items():
            # each machine's own namespace only has its network: the lab is beside it
            assert set(links(machine_ns(vm))) == {"lo", "ul0"}
            gw = links(f"{LAB}--gw-{vm}")
            vx = gw[f"{LAB}v0"]["linkinfo"]["info_data"]
            assert vx["local"] == addr and vx["port"] == 4789
            assert gw[f"{LAB}v0"]["mtu"] == 1450  # the machine's 1500 less VXLAN's 50
        for fam in ([], ["-6"]):
            m = json.loads(on_vm1("matrix", LAB, "--json", *fam).stdout)
            assert m["summary"]["wrong"] == 0 and m["summary"]["total"] > 50
            assert {r["src_host"] for r in m["results"]} == set(MACHINES)
        on_vm1("rule", "add", LAB, "db", "--direction", "ingress", "--action", "allow",
               "--protocol", "tcp", "--ports", "22", "--remote", "10.0.1.0/24")
        rec = json.loads(on_vm1("probe", LAB, "web2", "db1", "tcp/22", "--json").stdout)
        assert rec["observed"] == rec["expected"] == "allow"
        assert (rec["src_host"], rec["dst_host"]) == ("vm2", "vm3")
        assert on_vm1("exec", LAB, "db1", "--", "cat", "/proc/sys/net/ipv4/ip_forward") \
            .stdout.strip() == "0"
        assert [d.logins() for d in machines.values()] == [1, 1]  # one shared connection
    finally:
        on_vm1("down", LAB, check=False)
    assert netns.list_names(f"{LAB}-") == []
    assert state.load(LAB) is None
    assert all(netns.exists(machine_ns(vm)) for vm in MACHINES)  # the machines stay

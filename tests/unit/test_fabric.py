"""Multi-host labs, the pure parts (no root): placement, overlay numbering, namespaces of
each host, and how hosts are reached (the SSH command line with connection sharing)."""

from pathlib import Path

import pytest
import yaml

from sgnet.kernel import fabric, topology
from sgnet.io import labfile
from sgnet.core import macs
from sgnet.hosts import driver as parts

LABS = Path(__file__).parents[1] / "labs"


def lab_from(raw):
    return labfile.parse(raw, "t.yaml")


@pytest.fixture()
def multi():
    return labfile.parse_text((LABS / "multihost.yaml").read_text(), "multihost.yaml")


def test_round_robin_skips_instances_placed_by_hand(multi):
    where = {i.name: i.host for i in multi.instances}
    # round-robin over the instances without host:, in file order; db2 and lone are placed
    assert where == {"web1": "hv1", "web2": "hv2", "db1": "hv3", "db2": "hv1",
                     "misc": "hv1", "lone": "hv2"}
    assert {x.name: x.host for x in multi.externals} == {"internet": "hv1", "office": "hv3"}


def test_one_host_lab_has_no_hosts():
    raw = yaml.safe_load((LABS / "multihost.yaml").read_text())
    for k in ("hosts", "placement"):
        raw.pop(k)
    for i in raw["instances"] + raw["externals"]:
        i.pop("host", None)
    lab = lab_from(raw)
    assert lab.hosts == [] and all(i.host is None for i in lab.instances)
    assert topology.lab_namespaces(lab)[0] == "mh--gw"


def test_host_defaults_and_real_hosts():
    raw = yaml.safe_load((LABS / "multihost.yaml").read_text())
    raw["hosts"] = [{"name": "a", "address": "192.0.2.11"},
                    {"name": "b", "address": "192.0.2.12", "ssh_user": "vagrant",
                     "ssh_port": 2222, "command": "/opt/sgnet/bin/sgnet",
                     "ssh_options": ["ProxyJump=bastion"]}]
    for i in raw["instances"] + raw["externals"]:
        i.pop("host", None)
    lab = lab_from(raw)
    a, b = lab.hosts
    assert (a.ssh_user, a.ssh_port, a.simulated, a.command) == ("root", 22, False, "sgnet")
    assert fabric.underlay_ip(a) == "192.0.2.11" and fabric.underlay_ip(b) == "192.0.2.12"
    assert fabric.simulated_namespaces(lab) == []


def test_namespaces_of_each_host_cover_the_lab_once(multi):
    per_host = [fabric.host_namespaces(multi, h.name) for h in multi.hosts]
    flat = [n for names in per_host for n in names]
    assert len(flat) == len(set(flat))
    assert set(flat) | set(fabric.simulated_namespaces(multi)) == \
        set(topology.lab_namespaces(multi))
    assert per_host[0][0] == "mh--gw-hv1"
    assert set(fabric.simulated_namespaces(multi)) == {"mh--ul", "mh--h-hv1", "mh--h-hv2",
                                                       "mh--h-hv3"}
    for names in per_host:  # every name carries the lab's prefix: down finds them all
        assert all(n.startswith("mh-") for n in names)


def test_overlay_numbers_are_distinct(multi):
    vnis = [fabric.vni(multi, s) for s in multi.subnets] + [fabric.transit_vni(multi)]
    assert len(set(vnis)) == len(vnis) and all(0 < v < 1 << 24 for v in vnis)
    other = lab_from(dict(yaml.safe_load((LABS / "multihost.yaml").read_text()), name="zz"))
    assert fabric.transit_vni(other) != fabric.transit_vni(multi)  # labs sharing hosts
    fixed = [macs.eni_mac(i, e) for i in multi.instances for e in i.enis]
    fixed += [macs.gateway_mac(s) for s in multi.subnets]
    fixed += [macs.transit_mac(h) for h in multi.hosts]
    fixed += [macs.external_mac(x) for x in multi.externals]
    fixed += [macs.external_link_mac(x) for x in multi.externals]
    assert len(set(fixed)) == len(fixed)
    for m in fixed:  # locally administered unicast
        first = int(m.split(":")[0], 16)
        assert first & 2 and not first & 1
    assert [fabric.underlay_ip(h) for h in multi.hosts] == ["198.18.0.1", "198.18.0.2",
                                                            "198.18.0.3"]
    assert fabric.overlay_mtu(1500) == 1450 and fabric.overlay_mtu(1500, 6) == 1430


def test_interface_names_fit_the_kernel(multi):
    longest = dict(yaml.safe_load((LABS / "multihost.yaml").read_text()), name="abcdefgh")
    lab = lab_from(longest)
    names = [fabric.vxlan_name(lab, s) for s in lab.subnets] + [fabric.transit_name(lab)]
    assert all(len(n) <= 15 for n in names)


def test_transports():
    raw = yaml.safe_load((LABS / "multihost.yaml").read_text())
    raw["hosts"] = [{"name": "a", "simulated": True},
                    {"name": "b", "simulated": True, "transport": "ssh", "ssh_port": 2200,
                     "ssh_identity": "/k/id", "ssh_options": ["UserKnownHostsFile=/k/kh"]}]
    for i in raw["instances"] + raw["externals"]:
        i.pop("host", None)
    lab = lab_from(raw)
    assert isinstance(parts.transport_for(lab.hosts[0], "/tmp/x", {}), parts.LocalExec)
    t = parts.transport_for(lab.hosts[1], "/tmp/sgnet-test-ssh", {})
    assert isinstance(t, parts.Ssh)
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
    t = parts.Ssh(lab_from(raw).hosts[0], "/tmp/sgnet-test-ssh")
    assert t.argv(["agent"])[-1] == "sudo -n /opt/sgnet/venv/bin/sgnet agent"


def test_too_many_subnets_for_vnis():
    raw = {"name": "big", "hosts": [{"name": "a", "simulated": True}],
           "vpcs": [{"name": "v", "cidr": "10.0.0.0/8",
                     "subnets": [{"name": f"s{i}", "cidr": f"10.{i // 256}.{i % 256}.0/24"}
                                 for i in range(256)]}]}
    with pytest.raises(Exception) as e:
        lab_from(raw)
    assert "vpcs" in str(e.value) and "256" in str(e.value)


def test_a_real_host_that_is_this_machine_is_driven_by_local_exec():
    raw = yaml.safe_load((LABS / "multihost.yaml").read_text())
    raw["hosts"] = [{"name": "a", "address": "192.0.2.11"}, {"name": "b", "address": "192.0.2.12"}]
    for i in raw["instances"] + raw["externals"]:
        i.pop("host", None)
    a, b = lab_from(raw).hosts
    mine = {"192.0.2.11": 1500, "127.0.0.1": 65536}
    assert isinstance(parts.transport_for(a, "/tmp/sgnet-test-ssh", mine), parts.LocalExec)
    assert isinstance(parts.transport_for(b, "/tmp/sgnet-test-ssh", mine), parts.Ssh)

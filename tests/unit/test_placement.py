"""Multi-host labs, the pure parts (no root): placement, overlay numbering, namespaces of
each host, MACs and names (sgnet.core.placement, sgnet.core.names)."""

from pathlib import Path

import pytest
import yaml

from sgnet.io import labfile
from sgnet.core import labspec
from sgnet.core import names, placement

LABS = Path(__file__).parents[1] / "labs"


def lab_from(raw):
    return labspec.parse(raw, "t.yaml")


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
    assert placement.lab_namespaces(lab)[0] == "mh--gw"


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
    assert placement.underlay_ip(a) == "192.0.2.11" and placement.underlay_ip(b) == "192.0.2.12"
    assert placement.simulated_namespaces(lab) == []


def test_namespaces_of_each_host_cover_the_lab_once(multi):
    per_host = [placement.host_namespaces(multi, h.name) for h in multi.hosts]
    flat = [n for names in per_host for n in names]
    assert len(flat) == len(set(flat))
    assert set(flat) | set(placement.simulated_namespaces(multi)) == \
        set(placement.lab_namespaces(multi))
    assert per_host[0][0] == "mh--gw-hv1"
    assert set(placement.simulated_namespaces(multi)) == {"mh--ul", "mh--h-hv1", "mh--h-hv2",
                                                       "mh--h-hv3"}
    for names in per_host:  # every name carries the lab's prefix: down finds them all
        assert all(n.startswith("mh-") for n in names)


def test_overlay_numbers_are_distinct(multi):
    vnis = [placement.vni(multi, s) for s in multi.subnets] + [placement.transit_vni(multi)]
    assert len(set(vnis)) == len(vnis) and all(0 < v < 1 << 24 for v in vnis)
    other = lab_from(dict(yaml.safe_load((LABS / "multihost.yaml").read_text()), name="zz"))
    assert placement.transit_vni(other) != placement.transit_vni(multi)  # labs sharing hosts
    fixed = [names.eni_mac(i, e) for i in multi.instances for e in i.enis]
    fixed += [names.gateway_mac(s) for s in multi.subnets]
    fixed += [names.transit_mac(h) for h in multi.hosts]
    fixed += [names.external_mac(x) for x in multi.externals]
    fixed += [names.external_link_mac(x) for x in multi.externals]
    assert len(set(fixed)) == len(fixed)
    for m in fixed:  # locally administered unicast
        first = int(m.split(":")[0], 16)
        assert first & 2 and not first & 1
    assert [placement.underlay_ip(h) for h in multi.hosts] == ["198.18.0.1", "198.18.0.2",
                                                            "198.18.0.3"]
    assert placement.overlay_mtu(1500) == 1450 and placement.overlay_mtu(1500, 6) == 1430


def test_interface_names_fit_the_kernel(multi):
    longest = dict(yaml.safe_load((LABS / "multihost.yaml").read_text()), name="abcdefgh")
    lab = lab_from(longest)
    ifnames = [names.vxlan_name(lab, s) for s in lab.subnets] + [names.transit_name(lab)]
    assert all(len(n) <= 15 for n in ifnames)


def test_too_many_subnets_for_vnis():
    raw = {"name": "big", "hosts": [{"name": "a", "simulated": True}],
           "vpcs": [{"name": "v", "cidr": "10.0.0.0/8",
                     "subnets": [{"name": f"s{i}", "cidr": f"10.{i // 256}.{i % 256}.0/24"}
                                 for i in range(256)]}]}
    with pytest.raises(Exception) as e:
        lab_from(raw)
    assert "vpcs" in str(e.value) and "256" in str(e.value)

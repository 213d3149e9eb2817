"""The lab in the kernel, over netlink: namespaces, veths, bridges, addresses, routes.

Layout (every name starts with the lab's name):
  <lab>--gw          the lab's gateway: one bridge per subnet (<lab>b<N>, holding the subnet's
                     gateway address), routing between subnets, a point-to-point link to
                     every external host (<lab>x<N>), different VPCs kept apart by nftables.
  <lab>-<instance>   one namespace per ECS instance; ENI k is eth<k>, the peer of
                     <lab>i<instance#>e<k> on its subnet's bridge.
  <lab>-<external>   one namespace per outside host (internet client, NAT gateway...).
Nothing is created in the host's namespace: links are created from inside the gateway
namespace with their peer placed straight into the instance's namespace.
"""

from __future__ import annotations

import os
import socket

from . import netns, nft
from .compiler import Compiler, bridge_name
from .model import Lab

GW_LINK4 = "169.254.0.1"  # the gateway's side of every external's point-to-point link
GW_LINK6 = "fe80::1"
IFA_F_NODAD = 0x02
AF4, AF6 = socket.AF_INET, socket.AF_INET6

COMMON_SYSCTLS = {
    "net.ipv4.conf.all.rp_filter": 0, "net.ipv4.conf.default.rp_filter": 0,
    "net.ipv6.conf.all.accept_ra": 0, "net.ipv6.conf.default.accept_ra": 0,
    "net.ipv6.conf.all.accept_dad": 0, "net.ipv6.conf.default.accept_dad": 0,
    # ICMP errors are rate-limited per destination: a burst of UDP probes to closed ports
    # would get only some port-unreachables back, which looks like a silent drop.
    "net.ipv4.icmp_ratelimit": 0, "net.ipv6.icmp.ratelimit": 0,
    "net.ipv4.ping_group_range": "0 2147483647",
}
HOST_SYSCTLS = {  # instances and externals are hosts, not routers
    "net.ipv4.ip_forward": 0, "net.ipv6.conf.all.forwarding": 0,
    # An ENI answers ARP only for its own address: otherwise eth0 could answer for eth1's
    # address and packets for one ENI would be judged by another ENI's groups.
    "net.ipv4.conf.all.arp_ignore": 1, "net.ipv4.conf.default.arp_ignore": 1,
    "net.ipv4.conf.all.arp_announce": 2, "net.ipv4.conf.default.arp_announce": 2,
}
GW_SYSCTLS = {"net.ipv4.ip_forward": 1, "net.ipv6.conf.all.forwarding": 1}
OPTIONAL_SYSCTLS = {"net.ipv4.icmp_msgs_per_sec": 1000000, "net.ipv4.icmp_msgs_burst": 1000000}


def gw_ns(lab_name: str) -> str:
    return f"{lab_name}--gw"


def ns_name(lab_name: str, endpoint: str) -> str:
    return f"{lab_name}-{endpoint}"


def lab_namespaces(lab: Lab) -> list:
    return ([gw_ns(lab.name)] + [ns_name(lab.name, i.name) for i in lab.instances]
            + [ns_name(lab.name, x.name) for x in lab.externals])


def _sysctls(values):
    netns.sysctl(values)
    # Visible inside a namespace only where the kernel keeps them per namespace; a global
    # one (older kernels) would change the host, so it is left alone.
    netns.sysctl({k: v for k, v in OPTIONAL_SYSCTLS.items()
                  if os.path.exists("/proc/sys/" + k.replace(".", "/"))})


def _idx(ipr, ifname):
    return ipr.link("get", ifname=ifname)[0]["index"]


def _up(ipr, ifname):
    ipr.link("set", index=_idx(ipr, ifname), state="up")


def _setup_gateway(lab: Lab):
    def work(ipr):
        _sysctls({**COMMON_SYSCTLS, **GW_SYSCTLS})
        _up(ipr, "lo")
        for s in lab.subnets:
            br = bridge_name(lab, s)
            ipr.link("add", ifname=br, kind="bridge", br_stp_state=0, br_forward_delay=0,
                     br_mcast_snooping=0)
            i = _idx(ipr, br)
            ipr.addr("add", index=i, address=str(s.gateway), prefixlen=s.cidr.prefixlen)
            if s.ipv6_cidr:
                ipr.addr("add", index=i, address=str(s.gateway6),
                         prefixlen=s.ipv6_cidr.prefixlen, flags=IFA_F_NODAD)
            ipr.link("set", index=i, state="up")
    return work


def _setup_host_ns(ipr):
    _sysctls({**COMMON_SYSCTLS, **HOST_SYSCTLS})
    _up(ipr, "lo")


def _wire(lab: Lab):
    """In the gateway: a veth per ENI (peer straight into the instance) and per external."""
    def work(ipr):
        bridges = {s.name: _idx(ipr, bridge_name(lab, s)) for s in lab.subnets}
        for inst in lab.instances:
            fd = netns.open_fd(ns_name(lab.name, inst.name))
            try:
                for eni in inst.enis:
                    name = f"{lab.name}i{inst.index}e{eni.index}"
                    ipr.link("add", ifname=name, kind="veth",
                             peer={"ifname": eni.ifname, "net_ns_fd": fd})
                    ipr.link("set", index=_idx(ipr, name), master=bridges[eni.subnet])
                    ipr.link("set", index=_idx(ipr, name), state="up")
            finally:
                os.close(fd)
        for x in lab.externals:
            fd = netns.open_fd(ns_name(lab.name, x.name))
            try:
                name = f"{lab.name}x{x.index}"
                ipr.link("add", ifname=name, kind="veth", peer={"ifname": "eth0", "net_ns_fd": fd})
                i = _idx(ipr, name)
                ipr.link("set", index=i, state="up")
                ipr.addr("add", index=i, address=GW_LINK4, prefixlen=32)
                ipr.route("add", dst=f"{x.ip}/32", oif=i, scope=253)
                if x.ipv6:
                    ipr.addr("add", index=i, address=GW_LINK6, prefixlen=64, flags=IFA_F_NODAD)
                    ipr.route("add", dst=f"{x.ipv6}/128", oif=i, family=AF6)
            finally:
                os.close(fd)
    return work


def _configure_instance(lab: Lab, inst):
    """Addresses and routes: subnet routes per ENI (lower ENI number wins), the default route
    through the primary ENI, and source routing so each ENI answers through itself."""
    def work(ipr):
        for eni in inst.enis:
            subnet = lab.subnet(eni.subnet)
            i = _idx(ipr, eni.ifname)
            ipr.link("set", index=i, state="up")
            table = 100 + eni.index
            ipr.addr("add", index=i, address=str(eni.ip), prefixlen=subnet.cidr.prefixlen)
            ipr.route("add", dst="0.0.0.0/0", gateway=str(subnet.gateway), oif=i, table=table)
            ipr.route("add", dst=str(subnet.cidr), oif=i, table=table, scope=253)
            ipr.rule("add", family=AF4, src=str(eni.ip), src_len=32, table=table,
                     priority=1000 + eni.index)
            if eni.index == 0:
                ipr.route("add", dst="0.0.0.0/0", gateway=str(subnet.gateway), oif=i)
            if eni.ipv6:
                ipr.addr("add", index=i, address=str(eni.ipv6), prefixlen=128,
                         flags=IFA_F_NODAD)
                ipr.route("add", dst=str(subnet.ipv6_cidr), oif=i, family=AF6,
                          priority=100 + eni.index)
                ipr.route("add", dst=str(subnet.ipv6_cidr), oif=i, family=AF6, table=table)
                ipr.route("add", dst="::/0", gateway=str(subnet.gateway6), oif=i, family=AF6,
                          table=table)
                ipr.rule("add", family=AF6, src=str(eni.ipv6), src_len=128, table=table,
                         priority=1000 + eni.index)
        v6 = next((e for e in inst.enis if e.ipv6), None)
        if v6 is not None:
            ipr.route("add", dst="::/0", gateway=str(lab.subnet(v6.subnet).gateway6),
                      oif=_idx(ipr, v6.ifname), family=AF6)
    return work


def _configure_external(x):
    def work(ipr):
        i = _idx(ipr, "eth0")
        ipr.link("set", index=i, state="up")
        ipr.addr("add", index=i, address=str(x.ip), prefixlen=32)
        ipr.route("add", dst=f"{GW_LINK4}/32", oif=i, scope=253)
        ipr.route("add", dst="0.0.0.0/0", gateway=GW_LINK4, oif=i)
        if x.ipv6:
            ipr.addr("add", index=i, address=str(x.ipv6), prefixlen=128, flags=IFA_F_NODAD)
            ipr.route("add", dst="::/0", gateway=GW_LINK6, oif=i, family=AF6)
    return work


def build(lab: Lab, progress=None):
    """Create every namespace, link, address and route of the lab, then apply the groups."""
    gw = gw_ns(lab.name)
    netns.create(gw, then=_setup_gateway(lab))
    for inst in lab.instances:
        netns.create(ns_name(lab.name, inst.name), then=_setup_host_ns)
    for x in lab.externals:
        netns.create(ns_name(lab.name, x.name), then=_setup_host_ns)
    netns.run(gw, _wire(lab))
    for inst in lab.instances:
        netns.run(ns_name(lab.name, inst.name), _configure_instance(lab, inst))
        if progress:
            progress()
    for x in lab.externals:
        netns.run(ns_name(lab.name, x.name), _configure_external(x))
    apply_groups(lab)


def apply_groups(lab: Lab):
    """Compile and apply every instance's ruleset: one atomic transaction per namespace;
    then the provider's connection tracking (the sysctls exist once conntrack is loaded)."""
    from . import conntrack
    from .providers import get_profile
    comp = Compiler(lab)
    nft.apply(gw_ns(lab.name), comp.compile_gateway())
    timeout = lab.settings.get("conntrack_timeout") or get_profile(lab.provider).conntrack_timeout
    for inst in lab.instances:
        ns = ns_name(lab.name, inst.name)
        nft.apply(ns, comp.compile_instance(inst))
        conntrack.configure(ns, timeout)


def teardown(lab_name: str, extra=()):
    """Remove every namespace of the lab (by its prefix, plus any named in its state)."""
    names = set(netns.list_names(f"{lab_name}-")) | {n for n in extra if netns.exists(n)}
    for n in sorted(names):
        netns.remove(n)
    netns.wait_gone(names)
    return sorted(names)

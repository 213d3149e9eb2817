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

import contextlib
import ipaddress
import os
import signal

from sgnet.kernel import fabric, netns, nft, rtnl
from sgnet.core import macs
from sgnet.core.compiler import Compiler, bridge_name
from sgnet.core.model import Lab

GW_LINK4 = "169.254.0.1"  # the gateway's side of every external's point-to-point link
GW_LINK6 = "fe80::1"
IFA_F_NODAD = 0x02

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
    # address and packets for one ENI would be judged by another ENI's groups. (The device's
    # own value counts, with `all` as a floor: an ENI with a block of secondary addresses,
    # held as a local route, lowers its own to 0 to answer for them.)
    "net.ipv4.conf.all.arp_ignore": 0, "net.ipv4.conf.default.arp_ignore": 1,
    "net.ipv4.conf.all.arp_announce": 2, "net.ipv4.conf.default.arp_announce": 2,
}
GW_SYSCTLS = {"net.ipv4.ip_forward": 1, "net.ipv6.conf.all.forwarding": 1,
              # Traffic within a subnet is routed back out of the bridge it came from: no
              # redirects (instances would then resolve each other's addresses themselves).
              "net.ipv4.conf.all.send_redirects": 0, "net.ipv4.conf.default.send_redirects": 0}
OPTIONAL_SYSCTLS = {"net.ipv4.icmp_msgs_per_sec": 1000000, "net.ipv4.icmp_msgs_burst": 1000000}


def gw_ns(lab_name: str, host: str = None) -> str:
    return fabric.gw_ns(lab_name, host) if host else f"{lab_name}--gw"


def ns_name(lab_name: str, endpoint: str) -> str:
    return f"{lab_name}-{endpoint}"


def owner(ns: str):
    """(lab, kind) of a namespace named as sgnet names them: kind "endpoint" for an
    instance's or external's (ns_name), "lab" for the lab's own after "<lab>--": the gateway
    (gw_ns), and over several hosts each host's gateway, simulated host and the underlay
    switch (fabric.gw_ns, host_ns, switch_ns). None for any other name. A lab name has no
    '-', so what comes before the first '-' is the only lab a name can belong to: lab rp has
    rp-x, never rpfx-x."""
    from sgnet.io.labfile import HOST_NAME, LAB_NAME, OBJECT_NAME
    if not isinstance(ns, str):  # from a state file, which can say anything
        return None
    lab, dash, rest = ns.partition("-")
    if not dash or not LAB_NAME.fullmatch(lab):
        return None
    if not rest.startswith("-"):
        return (lab, "endpoint") if OBJECT_NAME.fullmatch(rest) else None
    own = rest[1:]
    kind, _, host = own.partition("-")
    if own in ("gw", "ul") or (kind in ("gw", "h") and HOST_NAME.fullmatch(host)):
        return lab, "lab"
    return None


def _belongs(ns: str, lab_name: str) -> bool:
    o = owner(ns)
    return o is not None and o[0] == lab_name


def namespaces_of(lab_name: str) -> list:
    """The namespaces on this machine named as lab `lab_name`'s are."""
    return [n for n in netns.list_names(f"{lab_name}-") if _belongs(n, lab_name)]


def leftovers(lab_name: str) -> list:
    """What a lab that lost its state left on this machine: its namespaces, if one of the
    lab's own is among them (every lab has one, made first and removed last); otherwise
    none, as a namespace `x-y` alone may be anyone's."""
    names = namespaces_of(lab_name)
    return names if any(owner(n)[1] == "lab" for n in names) else []


def labs_left() -> list:
    """Labs with a namespace of their own on this machine (state or not)."""
    return sorted({o[0] for o in map(owner, netns.list_names()) if o and o[1] == "lab"})


def lab_namespaces(lab: Lab) -> list:
    """Every namespace of the lab; over several hosts, those of every host."""
    if lab.hosts:
        return (fabric.simulated_namespaces(lab)
                + [n for h in lab.hosts for n in fabric.host_namespaces(lab, h.name)])
    return ([gw_ns(lab.name)] + [ns_name(lab.name, i.name) for i in lab.instances]
            + [ns_name(lab.name, x.name) for x in lab.externals])


_needed = {}  # frozenset of wanted sysctls -> those a new namespace does not already have


def _sysctls(values):
    """Set these sysctls in the current (new) namespace. A new namespace starts the same
    way as the previous one, so the first one is read and later ones get only the writes
    that change something."""
    key = frozenset(values.items())
    todo = _needed.get(key)
    if todo is None:
        # Optional ones are visible inside a namespace only where the kernel keeps them per
        # namespace; a global one (older kernels) would change the host: left alone.
        wanted = dict(values, **{k: v for k, v in OPTIONAL_SYSCTLS.items()
                                 if os.path.exists("/proc/sys/" + k.replace(".", "/"))})
        todo = {k: v for k, v in wanted.items()
                if " ".join(netns.read_sysctl(k).split()) != str(v)}
        _needed[key] = todo
    netns.sysctl(todo)


def _idx(ipr, ifname):
    return ipr.link("get", ifname=ifname)[0]["index"]


def _up(ipr, ifname):
    ipr.link("set", index=_idx(ipr, ifname), state="up")


def _setup_gateway(lab: Lab, mtu: int = 0):
    """Bridges with the subnets' gateway addresses and fixed MACs (sgnet.core.macs; over
    several hosts, the same on every host: an anycast gateway), and the overlay's MTU."""
    def work(ipr):
        _sysctls({**COMMON_SYSCTLS, **GW_SYSCTLS})
        _up(ipr, "lo")
        for s in lab.subnets:
            br = bridge_name(lab, s)
            ipr.link("add", ifname=br, kind="bridge", br_stp_state=0, br_forward_delay=0,
                     br_mcast_snooping=0)
            i = _idx(ipr, br)
            ipr.link("set", index=i, address=macs.gateway_mac(s), **({"mtu": mtu} if mtu else {}))
            ipr.addr("add", index=i, address=str(s.gateway), prefixlen=s.cidr.prefixlen)
            if s.ipv6_cidr:
                ipr.addr("add", index=i, address=str(s.gateway6),
                         prefixlen=s.ipv6_cidr.prefixlen, flags=IFA_F_NODAD)
            ipr.link("set", index=i, state="up")
        # Links made from now on (the bridge ports: ENI peers, VXLAN devices) carry no IPv6
        # of their own: a port with IPv6 multicasts its reports to every other port as it
        # comes up. Links that route IPv6 (to externals, the transit) turn it back on.
        netns.sysctl({"net.ipv6.conf.default.disable_ipv6": 1})
    return work


def _host_ns(r):
    _sysctls({**COMMON_SYSCTLS, **HOST_SYSCTLS})
    r.up(1)  # lo


def _instance_work(lab: Lab, inst, gw_fd: int, ruleset: dict, ct_values: dict,
                   mtu: int = 0):
    """Everything inside one new instance namespace, in its own thread, with one netlink
    socket: sysctls, a veth per ENI (its peer placed straight into the gateway), addresses,
    routes, the groups' ruleset (a fresh table: no replacement needed) and connection
    tracking.

    As on a cloud's virtual switch, an ENI reaches its whole subnet through the subnet's
    gateway: its address is a /32 (/128), its routes go on-link through the gateway, whose
    MAC is a permanent neighbour; so nothing is resolved dynamically (sgnet.core.macs). Subnet
    routes per ENI, lower ENI number wins; the default route through the primary ENI;
    source routing so each ENI answers through itself."""
    ns = ns_name(lab.name, inst.name)

    def work(r):
        _host_ns(r)
        v6_default = None
        for eni in inst.enis:
            subnet = lab.subnet(eni.subnet)
            gw_mac = macs.gateway_mac(subnet)
            r.veth(eni.ifname, f"{lab.name}i{inst.index}e{eni.index}", gw_fd, mtu,
                   macs.eni_mac(inst, eni))
            i = r.index(eni.ifname)
            r.up(i)
            table = 100 + eni.index
            r.addr(i, eni.ip, 32)
            r.neigh(i, subnet.gateway, gw_mac)
            r.route("0.0.0.0/0", i, subnet.gateway, table=table, onlink=True)
            r.route(str(subnet.cidr), i, subnet.gateway, table=table, onlink=True)
            r.route(str(subnet.cidr), i, subnet.gateway, priority=eni.index, onlink=True)
            r.rule_from(eni.ip, table, 1000 + eni.index)
            if eni.index == 0:
                r.route("0.0.0.0/0", i, subnet.gateway, onlink=True)
            if eni.secondary:
                r.local_block(*eni.secondary)
                for net in ipaddress.summarize_address_range(*eni.secondary):
                    r.rule_from(net, table, 1000 + eni.index)
                netns.sysctl({f"net.ipv4.conf.{eni.ifname}.arp_ignore": 0})
            if eni.ipv6:
                r.addr(i, eni.ipv6, 128, nodad=True)
                r.neigh(i, subnet.gateway6, gw_mac)
                r.route(str(subnet.ipv6_cidr), i, subnet.gateway6, priority=100 + eni.index,
                        onlink=True)
                r.route(str(subnet.ipv6_cidr), i, subnet.gateway6, table=table, onlink=True)
                r.route("::/0", i, subnet.gateway6, table=table, onlink=True)
                r.rule_from(eni.ipv6, table, 1000 + eni.index)
                if v6_default is None:
                    v6_default = (i, subnet.gateway6)
        if v6_default is not None:
            r.route("::/0", v6_default[0], v6_default[1], onlink=True)
        nft.apply_here(ns, ruleset, keep=False)
        netns.sysctl(ct_values)
    return work


def _external_work(lab: Lab, x, gw_fd: int, mtu: int = 0):
    def work(r):
        _host_ns(r)
        r.veth("eth0", f"{lab.name}x{x.index}", gw_fd, mtu, macs.external_mac(x),
               macs.external_link_mac(x))
        i = r.index("eth0")
        r.up(i)
        r.addr(i, x.ip, 32)
        r.neigh(i, GW_LINK4, macs.external_link_mac(x))
        r.route("0.0.0.0/0", i, GW_LINK4, onlink=True)
        if x.ipv6:
            r.addr(i, x.ipv6, 128, nodad=True)
            r.neigh(i, GW_LINK6, macs.external_link_mac(x))
            r.route("::/0", i, GW_LINK6)
    return work


def _gateway_ports(lab: Lab, instances, externals):
    """In the gateway, once every peer is there: ENI peers onto their subnet's bridge, and
    the point-to-point link of each external."""
    def work(r):
        bridges = {s.name: r.index(bridge_name(lab, s)) for s in lab.subnets}
        for inst in instances:
            for eni in inst.enis:
                br = bridges[eni.subnet]
                r.up(r.index(f"{lab.name}i{inst.index}e{eni.index}"), master=br)
                mac = macs.eni_mac(inst, eni)
                r.neigh(br, eni.ip, mac)
                if eni.ipv6:
                    r.neigh(br, eni.ipv6, mac)
        for x in externals:
            i = r.index(f"{lab.name}x{x.index}")
            netns.enable_ipv6(f"{lab.name}x{x.index}")
            r.up(i)
            r.addr(i, GW_LINK4, 32)
            r.route(f"{x.ip}/32", i, scope=rtnl.SCOPE_LINK)
            r.neigh(i, x.ip, macs.external_mac(x))
            if x.ipv6:
                r.addr(i, GW_LINK6, 64, nodad=True)
                r.route(f"{x.ipv6}/128", i)
                r.neigh(i, x.ipv6, macs.external_mac(x))
    return work


def default_jobs() -> int:
    return os.cpu_count() or 1


def _build_part(lab: Lab, instances, gw_fd: int, ct_values: dict, report, mtu: int = 0):
    comp = Compiler(lab)
    rulesets = {}  # instances with the same groups per ENI get the very same ruleset
    for inst in instances:
        shape = tuple((e.ifname, tuple(e.groups)) for e in inst.enis)
        if shape not in rulesets:
            rulesets[shape] = comp.compile_instance(inst, fresh=True)
        netns.create(ns_name(lab.name, inst.name),
                     then=_instance_work(lab, inst, gw_fd, rulesets[shape], ct_values, mtu),
                     lean=True)
        report()


def _in_workers(jobs: int, parts: list, work, progress=None):
    """Run work(part, report) for each part in its own forked process (Python and the
    kernel's per-namespace work then use every core; threads would share one GIL). A worker
    reports each finished instance with one byte, and its error as text; the first error
    is raised here once all workers have stopped. Workers die with this process however it
    ends (a SIGKILL included: netns.die_with_parent), and with this call if it is
    interrupted, so none goes on building, or tearing down, on its own."""
    children = {}
    parent = os.getpid()
    try:
        for part in parts:
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # worker: never returns into the caller (whose except would tear
                code = 1  # the lab down from here), dies with the process that forked it
                try:
                    os.close(r)
                    try:
                        netns.die_with_parent(parent)
                        work(part, lambda: os.write(w, b"."))
                        code = 0
                    except BaseException as e:
                        os.write(w, b"!" + f"{type(e).__name__}: {e}".encode())
                except BaseException:  # nobody left to tell (the pipe is broken)
                    pass
                finally:
                    os._exit(code)
            os.close(w)
            children[r] = (pid, bytearray())
        errors = []
        import select
        while children:
            ready, _, _ = select.select(list(children), [], [])
            for r in ready:
                chunk = os.read(r, 4096)
                pid, buf = children[r]
                if chunk:
                    buf += chunk
                    if progress:
                        for _ in range(chunk.count(b".") if b"!" not in buf else 0):
                            progress()
                    continue
                os.close(r)
                del children[r]
                _, status = os.waitpid(pid, 0)
                if b"!" in buf:
                    errors.append(buf[buf.index(b"!") + 1:].decode(errors="replace"))
                elif status != 0:
                    errors.append(f"worker {pid} died (status {status})")
    except BaseException:
        # Interrupted here (Ctrl-C, an error): stop the workers before the caller tears the
        # lab down, or they would go on creating namespaces behind its back.
        for r, (pid, _) in children.items():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            os.close(r)
        raise
    if errors:
        raise SgnetBuildError(errors[0])


class SgnetBuildError(RuntimeError):
    pass


def build(lab: Lab, progress=None, jobs=None, host: str = None):
    """Create every namespace, link, address and route of the lab with its groups (over
    several hosts: this host's part, joined to the others by the VXLAN overlay).

    The gateway is set up first; then each instance namespace gets all of its work done by
    one short-lived thread with one netlink socket (sgnet.kernel.rtnl), the instances shared out
    among `jobs` forked workers; the gateway's ports are wired last."""
    from sgnet.kernel import conntrack
    from sgnet.providers import get_profile
    instances, externals, mtu = lab.instances, lab.externals, 0
    if host is not None:
        h = lab.host(host)
        instances, externals = fabric.instances_on(lab, host), fabric.externals_on(lab, host)
        local = fabric.underlay_ip(h)
        mtu = fabric.overlay_mtu(fabric.underlay_mtu(local),
                                 ipaddress.ip_address(local).version)
    gw = gw_ns(lab.name, host)
    netns.create(gw, then=_setup_gateway(lab, mtu))
    if host is not None:
        fabric.attach_overlay(lab, h, gw, mtu)
    nft.apply(gw, Compiler(lab).compile_gateway())
    timeout = lab.settings.get("conntrack_timeout") or get_profile(lab.provider).conntrack_timeout
    ct_values = conntrack.sysctls(timeout)
    jobs = max(1, min(jobs or default_jobs(), len(instances) // 50 or 1))
    gw_fd = netns.open_fd(gw)
    try:
        if jobs == 1:
            _build_part(lab, instances, gw_fd, ct_values, progress or (lambda: None), mtu)
        else:
            parts = [instances[k::jobs] for k in range(jobs)]
            _in_workers(jobs, parts, lambda part, report: _build_part(
                lab, part, gw_fd, ct_values, report, mtu), progress)
        for x in externals:
            netns.create(ns_name(lab.name, x.name), then=_external_work(lab, x, gw_fd, mtu),
                         lean=True)
    finally:
        os.close(gw_fd)
    netns.run(gw, _gateway_ports(lab, instances, externals), lean=True)


def apply_groups(lab: Lab, host: str = None):
    """Compile and apply every instance's ruleset (over several hosts: this host's): one
    atomic transaction per namespace; then the provider's connection tracking (the sysctls
    exist once conntrack is loaded)."""
    from sgnet.kernel import conntrack
    from sgnet.providers import get_profile
    comp = Compiler(lab)
    nft.apply(gw_ns(lab.name, host), comp.compile_gateway())
    timeout = lab.settings.get("conntrack_timeout") or get_profile(lab.provider).conntrack_timeout
    for inst in (lab.instances if host is None else fabric.instances_on(lab, host)):
        ns = ns_name(lab.name, inst.name)
        nft.apply(ns, comp.compile_instance(inst))
        conntrack.configure(ns, timeout)


def teardown(lab_name: str, extra=(), progress=None, only=None):
    """Remove every namespace of the lab (named as its namespaces are, plus any named in its
    state); with `only`, exactly those (one simulated host's part, beside the other hosts'
    parts). Never a namespace not named as this lab's (a state file can say anything).
    Endpoints go first, the lab's own last: as long as anything is left, one of them says
    whose it is (leftovers)."""
    names = {n for n in (only if only is not None else [*namespaces_of(lab_name), *extra])
             if _belongs(n, lab_name) and netns.exists(n)}
    nft.forget(f"{lab_name}-")
    pids = netns.pids_by_namespace()  # one walk of /proc, not one per namespace
    for n in sorted(names, key=lambda n: (owner(n)[1] == "lab", n)):
        netns.remove(n, pids=pids)
        if progress:
            progress()
    netns.wait_gone(names)
    return sorted(names)

"""Bring-up and teardown (kernel layer): executes a lab's wiring plan (sgnet.core.wiring)
over netlink, applies its groups (nftables, conntrack), and removes what is named as a lab's.

Nothing is created in the host's namespace: veths are made from inside one namespace with
their peer placed straight into the other, VXLAN devices from the underlay's namespace
straight into the gateway. A namespace's plan runs in two halves: `_setup` (sysctls, the
links made there, their addresses) and `_finish` (the links others made there, the rest
of the addresses, neighbour and forwarding entries, routes, rules), in one thread for an
instance or external, around everything else for the gateway and the underlay switch.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess

from sgnet.core import names, placement, wiring
from sgnet.core.compiler import Compiler
from sgnet.core.model import Lab
from sgnet.kernel import conntrack, netns, nft, rtnl, workers
from sgnet.providers import get_profile

IFA_F_NODAD, IFA_F_NOPREFIXROUTE = rtnl.IFA_F_NODAD, rtnl.IFA_F_NOPREFIXROUTE
# Visible inside a namespace only where the kernel keeps them per namespace; a global one
# (older kernels) would change the host: left alone there.
OPTIONAL_SYSCTLS = {"net.ipv4.icmp_msgs_per_sec": 1000000, "net.ipv4.icmp_msgs_burst": 1000000}
SCOPES = {"universe": rtnl.SCOPE_UNIVERSE, "link": rtnl.SCOPE_LINK, "host": rtnl.SCOPE_HOST}
ROUTE_TYPES = {"unicast": rtnl.RTN_UNICAST, "local": rtnl.RTN_LOCAL}


class SgnetBuildError(RuntimeError):
    pass


# -- whose namespaces are there ------------------------------------------------------------
def _belongs(ns: str, lab_name: str) -> bool:
    o = names.owner(ns)
    return o is not None and o[0] == lab_name


def namespaces_of(lab_name: str) -> list:
    """The namespaces on this machine named as lab `lab_name`'s are."""
    return [n for n in netns.list_names(f"{lab_name}-") if _belongs(n, lab_name)]


def leftovers(lab_name: str) -> list:
    """What a lab that lost its state left on this machine: its namespaces, if one of the
    lab's own is among them (every lab has one, made first and removed last); otherwise
    none, as a namespace `x-y` alone may be anyone's."""
    found = namespaces_of(lab_name)
    return found if any(names.owner(n)[1] == "lab" for n in found) else []


def labs_left() -> list:
    """Labs with a namespace of their own on this machine (state or not)."""
    return sorted({o[0] for o in map(names.owner, netns.list_names()) if o and o[1] == "lab"})


# -- the underlay ------------------------------------------------------------------------------
def local_addresses() -> dict:
    """This process's namespace's own addresses, each with the MTU of the link holding it
    (read only)."""
    out = subprocess.run(["ip", "-j", "addr", "show"], capture_output=True, text=True,
                         check=True).stdout
    return {a["local"]: int(link["mtu"]) for link in json.loads(out or "[]")
            for a in link.get("addr_info", []) if "local" in a}


def underlay_mtu(address: str) -> int:
    """The MTU of the device holding the underlay address, in this process's namespace."""
    mtu = local_addresses().get(address)
    if mtu is None:
        raise LookupError(f"no interface of this host has the address {address}: a host's "
                          "address must be its own (the VXLAN underlay)")
    return mtu


# -- executing a namespace's plan --------------------------------------------------------------
_needed = {}  # frozenset of wanted sysctls -> those a new namespace does not already have


def _sysctls(values):
    """Set these sysctls in the current (new) namespace. A new namespace starts the same
    way as the previous one, so the first one is read and later ones get only the writes
    that change something."""
    key = frozenset(values.items())
    todo = _needed.get(key)
    if todo is None:
        wanted = dict(values, **{k: v for k, v in OPTIONAL_SYSCTLS.items()
                                 if os.path.exists("/proc/sys/" + k.replace(".", "/"))})
        todo = {k: v for k, v in wanted.items()
                if " ".join(netns.read_sysctl(k).split()) != str(v)}
        _needed[key] = todo
    netns.sysctl(todo)


def _made_here(link) -> bool:
    return link.made_in in ("", wiring.KERNEL)


class _Indexes(dict):
    """Interface name -> index in the current namespace, each looked up once."""

    def __missing__(self, name):
        self[name] = rtnl.Rtnl.index(name)
        return self[name]


def _make(r, link, fds: dict):
    if link.kind == "veth":
        r.veth(link.name, link.peer, fds[link.peer_ns], link.mtu, link.mac, link.peer_mac)
    elif link.kind == "bridge" and not (link.mac or link.mtu):
        r.bridge(link.name)
    else:
        raise ValueError(f"cannot make link {link.name} ({link.kind}) here")


def _up(r, ix, link):
    if link.sysctls:
        netns.sysctl(link.sysctls)
    r.up(ix[link.name], master=ix[link.master] if link.master else 0)


def _setup(r, ns, fds: dict):
    """The first half of a namespace's plan (with sgnet's own netlink client, in the new
    namespace): its sysctls, the links made here, each brought up, and their addresses."""
    if ns.sysctls:
        _sysctls(ns.sysctls)
    ix, here = _Indexes(), set()
    for link in ns.links:
        if _made_here(link):
            if link.made_in == "":
                _make(r, link, fds)
            _up(r, ix, link)
            here.add(link.name)
    for a in ns.addresses:
        if a.dev in here:
            r.addr(ix[a.dev], a.address, a.prefixlen, nodad=a.nodad,
                   noprefixroute=a.noprefixroute)
    if ns.late_sysctls:
        netns.sysctl(ns.late_sysctls)


def _finish(r, ns):
    """The second half: the links made elsewhere brought up (onto their masters), their
    addresses, then every neighbour and forwarding entry, route and rule."""
    ix = _Indexes()
    there = {link.name for link in ns.links if not _made_here(link)}
    for link in ns.links:
        if link.name in there:
            _up(r, ix, link)
    for a in ns.addresses:
        if a.dev in there:
            r.addr(ix[a.dev], a.address, a.prefixlen, nodad=a.nodad,
                   noprefixroute=a.noprefixroute)
    for n in ns.neighbours:
        r.neigh(ix[n.dev], n.address, n.mac)
    for f in ns.fdb:
        r.fdb(ix[f.dev], f.mac, f.dst)
    for rt in ns.routes:
        r.route(rt.dst, ix[rt.dev], rt.gateway, table=rt.table, priority=rt.priority,
                scope=SCOPES[rt.scope], rtype=ROUTE_TYPES[rt.type], onlink=rt.onlink)
    # the kernel's own rules go before any is added: a deletion takes the first rule that
    # matches, which could otherwise be one of the plan's (the world's local lookup)
    for rule in ns.removed_rules:
        r.rule(rule.table, rule.priority, rule.version, rule.src, rule.iif, delete=True)
    for rule in ns.rules:
        r.rule(rule.table, rule.priority, rule.version, rule.src, rule.iif)


def _whole(ns, fds: dict):
    """A namespace made and wired in one go (an instance, an external, a simulated host)."""
    return lambda r: (_setup(r, ns, fds), _finish(r, ns))


def _setup_gateway(ns):
    """The gateway's first half, with pyroute2 (which sets a bridge's MAC and MTU): its
    bridges with their fixed MACs, the overlay's MTU and their addresses."""
    def work(ipr):
        _sysctls(ns.sysctls)
        for link in ns.links:
            if link.made_in == wiring.KERNEL:
                ipr.link("set", index=_ipr_index(ipr, link.name), state="up")
            elif link.made_in == "":
                _ipr_bridge(ipr, link, [a for a in ns.addresses if a.dev == link.name])
        netns.sysctl(ns.late_sysctls)
    return work


def _ipr_index(ipr, ifname):
    return ipr.link("get", ifname=ifname)[0]["index"]


def _ipr_bridge(ipr, link, addresses):
    ipr.link("add", ifname=link.name, kind="bridge", br_stp_state=0, br_forward_delay=0,
             br_mcast_snooping=0)
    i = _ipr_index(ipr, link.name)
    ipr.link("set", index=i, address=link.mac, **({"mtu": link.mtu} if link.mtu else {}))
    for a in addresses:
        # pyroute2 sends `flags` as IFA_FLAGS (32 bits): room for IFA_F_NOPREFIXROUTE
        flags = (IFA_F_NODAD if a.nodad else 0) | (IFA_F_NOPREFIXROUTE if a.noprefixroute
                                                   else 0)
        ipr.addr("add", index=i, address=a.address, prefixlen=a.prefixlen,
                 **({"flags": flags} if flags else {}))
    ipr.link("set", index=i, state="up")


def _underlay_links(ns, ns_fd: int):
    """The links of `ns` made from this process's namespace (the underlay: VXLAN devices,
    their sockets here), in a fresh thread of it: the one request made outside a lab."""
    def make():
        r = rtnl.Rtnl(host_ok=True)
        try:
            for link in ns.links:
                if link.made_in == wiring.UNDERLAY:
                    r.vxlan(link.name, link.vni, link.local, link.port, ns_fd, mtu=link.mtu,
                            mac=link.mac)
        finally:
            r.close()
    workers.fan_out_all({"underlay": make})


# -- a lab ---------------------------------------------------------------------------------------
def default_jobs() -> int:
    return os.cpu_count() or 1


def _conntrack_timeout(lab: Lab):
    return lab.settings.get("conntrack_timeout") or get_profile(lab.provider).conntrack_timeout


def _build_part(lab: Lab, part, fds: dict, ct_values: dict, report):
    """Instances (model, plan) of one worker: each namespace wired, with its groups' ruleset
    (a fresh table: no replacement needed) and connection tracking, in one thread."""
    comp = Compiler(lab)
    rulesets = {}  # instances with the same groups per ENI get the very same ruleset
    for inst, ns in part:
        shape = tuple((e.ifname, tuple(e.groups)) for e in inst.enis)
        if shape not in rulesets:
            rulesets[shape] = comp.compile_instance(inst, fresh=True)

        def work(r, ns=ns, ruleset=rulesets[shape]):
            _whole(ns, fds)(r)
            nft.apply_here(ns.name, ruleset, keep=False)
            netns.sysctl(ct_values)
        netns.create(ns.name, then=work, own_netlink=True)
        report()


def build(lab: Lab, progress=None, jobs=None, host: str = None):
    """Create every namespace, link, address and route of the lab with its groups (over
    several hosts: this host's part, joined to the others by the VXLAN overlay).

    The gateway is set up first; then each instance namespace gets all of its work done by
    one short-lived thread with one netlink socket (sgnet.kernel.rtnl), the instances shared
    out among `jobs` forked workers; the gateway's ports and overlay are wired last."""
    mtu = 0
    if host is not None:
        local = placement.underlay_ip(lab.host(host))
        mtu = placement.overlay_mtu(underlay_mtu(local), ipaddress.ip_address(local).version)
    plan = wiring.plan(lab, host, mtu)
    gw = plan.gateway.name
    netns.create(gw, then=_setup_gateway(plan.gateway))
    gw_fd = netns.open_fd(gw)
    try:
        if host is not None:
            _underlay_links(plan.gateway, gw_fd)
        nft.apply(gw, Compiler(lab).compile_gateway())
        ct_values = conntrack.sysctls(_conntrack_timeout(lab))
        fds = {gw: gw_fd}
        todo = list(zip(lab.instances if host is None else placement.instances_on(lab, host),
                        plan.instances))
        jobs = max(1, min(jobs or default_jobs(), len(todo) // 50 or 1))
        if jobs == 1:
            _build_part(lab, todo, fds, ct_values, progress or (lambda: None))
        else:
            error = workers.first_error(workers.in_children(
                [todo[k::jobs] for k in range(jobs)],
                lambda part, report: _build_part(lab, part, fds, ct_values, report),
                jobs, progress and (lambda n: [progress() for _ in range(n)])))
            if error:
                raise SgnetBuildError(error)
        for x in plan.externals:
            netns.create(x.name, then=_whole(x, fds), own_netlink=True)
        if plan.world is not None:
            world = Compiler(lab).compile_world()
            netns.create(plan.world.name, own_netlink=True, then=lambda r: (
                _whole(plan.world, fds)(r), nft.apply_here(plan.world.name, world, keep=False)))
    finally:
        os.close(gw_fd)
    netns.run(gw, lambda r: _finish(r, plan.gateway), own_netlink=True)


def build_simulated(lab: Lab):
    """Create the simulated hypervisors (wiring.simulated): the underlay switch, then one
    namespace per host plugged into it. Run by the controller, before any agent."""
    switch, *hosts = wiring.simulated(lab)
    netns.create(switch.name, then=lambda r: _setup(r, switch, {}), own_netlink=True)
    sw_fd = netns.open_fd(switch.name)
    try:
        for h in hosts:
            netns.create(h.name, then=_whole(h, {switch.name: sw_fd}), own_netlink=True)
    finally:
        os.close(sw_fd)
    netns.run(switch.name, lambda r: _finish(r, switch), own_netlink=True)


def apply_groups(lab: Lab, host: str = None):
    """Compile and apply every instance's ruleset (over several hosts: this host's): one
    atomic transaction per namespace; then the provider's connection tracking (the sysctls
    exist once conntrack is loaded)."""
    comp = Compiler(lab)
    nft.apply(names.gw_ns(lab.name, host), comp.compile_gateway())
    timeout = _conntrack_timeout(lab)
    for inst in (lab.instances if host is None else placement.instances_on(lab, host)):
        ns = names.ns_name(lab.name, inst.name)
        nft.apply(ns, comp.compile_instance(inst))
        conntrack.configure(ns, timeout)


def teardown(lab_name: str, extra=(), progress=None, only=None):
    """Remove every namespace of the lab (named as its namespaces are, plus any named in its
    state); with `only`, exactly those (one simulated host's part, beside the other hosts'
    parts). Never a namespace not named as this lab's (a state file can say anything).
    Endpoints go first, the lab's own last: as long as anything is left, one of them says
    whose it is (leftovers)."""
    gone = {n for n in (only if only is not None else [*namespaces_of(lab_name), *extra])
            if _belongs(n, lab_name) and netns.exists(n)}
    nft.forget(f"{lab_name}-")
    pids = netns.pids_by_namespace()  # one walk of /proc, not one per namespace
    for n in sorted(gone, key=lambda n: (names.owner(n)[1] == "lab", n)):
        netns.remove(n, pids=pids)
        if progress:
            progress()
    netns.wait_gone(gone)
    return sorted(gone)

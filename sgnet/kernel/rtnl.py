"""sgnet's own netlink client (kernel layer): links, addresses, routes, rules, synchronous.

pyroute2 0.9 runs every request through an asyncio event loop: about 0.4 ms per request,
most of a lab's bring-up time. The handful of messages a lab needs are simple to encode, so
they are encoded here and sent on a plain netlink socket opened in the caller's thread (and
so in its network namespace), each request acknowledged before the next. Used only inside
lab namespaces: the socket is checked against the host's namespace cookie (sgnet.kernel.guard).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct

from sgnet.kernel import guard

NETLINK_ROUTE = 0
RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWNEIGH, RTM_NEWRULE = 16, 20, 24, 28, 32
RTM_DELRULE = 33
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE, NLM_F_APPEND = 0x1, 0x4, 0x200, 0x400, 0x800
NLM_F_REPLACE = 0x100
NLMSG_ERROR = 2
IFF_UP = 0x1
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER, IFLA_LINKINFO, IFLA_NET_NS_FD = \
    1, 3, 4, 10, 18, 28
IFLA_VXLAN_ID, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LEARNING, IFLA_VXLAN_PORT = 1, 4, 7, 15
IFLA_VXLAN_LOCAL6, IFLA_VXLAN_DF, VXLAN_DF_SET = 17, 29, 1
NDA_DST, NDA_LLADDR, NUD_PERMANENT, NTF_SELF, AF_BRIDGE = 1, 2, 0x80, 0x02, 7
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
IFLA_BR_FORWARD_DELAY, IFLA_BR_STP_STATE, IFLA_BR_MCAST_SNOOPING = 1, 5, 23
IFA_ADDRESS, IFA_LOCAL, IFA_FLAGS = 1, 2, 8
IFA_F_NODAD, IFA_F_NOPREFIXROUTE = 0x02, 0x200  # the latter only in IFA_FLAGS (32 bits)
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_TABLE = 1, 4, 5, 6, 15
FRA_SRC, FRA_IIFNAME, FRA_PRIORITY, FRA_TABLE = 2, 3, 6, 15
RT_TABLE_MAIN, RTPROT_STATIC, FR_ACT_TO_TBL, RTNH_F_ONLINK = 254, 4, 1, 4
RTN_UNICAST, RTN_LOCAL = 1, 2
SCOPE_UNIVERSE, SCOPE_LINK, SCOPE_HOST = 0, 253, 254


class NetlinkError(OSError):
    pass


def _attr(kind: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("HH", length, kind) + payload + b"\0" * (-length % 4)


def _u32(kind, v):
    return _attr(kind, struct.pack("I", v))


def _str(kind, v):
    return _attr(kind, v.encode() + b"\0")


def _mac(text: str) -> bytes:
    return bytes(int(x, 16) for x in text.split(":"))


def _ifinfo(index=0, flags=0, change=0):
    return struct.pack("BxHiII", socket.AF_UNSPEC, 0, index, flags, change)


class Rtnl:
    """One netlink socket in the current thread's namespace."""

    def __init__(self, host_ok: bool = False):
        """host_ok: only for creating a VXLAN device straight into a lab namespace (see
        vxlan): its socket must be where the underlay is, the host's namespace."""
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        if not host_ok:
            guard.check_socket(self.sock)
        self.sock.bind((0, 0))
        self.seq = 0

    def close(self):
        self.sock.close()

    def request(self, msg_type: int, body: bytes, flags: int = NLM_F_CREATE | NLM_F_EXCL):
        self.seq += 1
        header = struct.pack("IHHII", 16 + len(body), msg_type,
                             NLM_F_REQUEST | NLM_F_ACK | flags, self.seq, 0)
        self.sock.send(header + body)
        while True:
            data = self.sock.recv(65536)
            off = 0
            while off < len(data):
                length, kind, _, seq, _ = struct.unpack_from("IHHII", data, off)
                if kind == NLMSG_ERROR and seq == self.seq:
                    err = struct.unpack_from("i", data, off + 16)[0]
                    if err:
                        raise NetlinkError(-err, f"rtnetlink request {msg_type}: "
                                                 f"{os.strerror(-err)}")
                    return
                off += (length + 3) & ~3

    # -- links ------------------------------------------------------------------
    @staticmethod
    def index(ifname: str) -> int:
        return socket.if_nametoindex(ifname)  # a socket of this thread: this namespace

    def veth(self, ifname: str, peer: str, peer_ns_fd: int, mtu: int = 0, mac: str = None,
             peer_mac: str = None):
        """A veth pair: `ifname` here, `peer` straight into another namespace; both ends
        get `mtu` when given, this end `mac` and the peer `peer_mac` when given."""
        link = _u32(IFLA_MTU, mtu) if mtu else b""
        peer_msg = (_ifinfo() + _str(IFLA_IFNAME, peer) + _u32(IFLA_NET_NS_FD, peer_ns_fd)
                    + link + (_attr(IFLA_ADDRESS, _mac(peer_mac)) if peer_mac else b""))
        info = _str(IFLA_INFO_KIND, "veth") + _attr(IFLA_INFO_DATA,
                                                      _attr(VETH_INFO_PEER, peer_msg))
        if mac:
            link += _attr(IFLA_ADDRESS, _mac(mac))
        self.request(RTM_NEWLINK, _ifinfo() + _str(IFLA_IFNAME, ifname) + link
                     + _attr(IFLA_LINKINFO, info))

    def vxlan(self, ifname: str, vni: int, local, port: int, target_ns_fd: int,
              mtu: int = 0, mac: str = None):
        """A VXLAN device created straight into the namespace `target_ns_fd`: its UDP socket
        stays in this thread's namespace (the underlay), the device never appears here.
        Unicast only: no group, no learning; forwarding entries are added with fdb()."""
        a = ipaddress.ip_address(local)
        data = (_u32(IFLA_VXLAN_ID, vni)
                + (_attr(IFLA_VXLAN_LOCAL, a.packed) if a.version == 4
                   else _attr(IFLA_VXLAN_LOCAL6, a.packed))
                + _attr(IFLA_VXLAN_LEARNING, b"\0") + _attr(IFLA_VXLAN_PORT, struct.pack("!H", port))
                + _attr(IFLA_VXLAN_DF, bytes([VXLAN_DF_SET])))
        info = _str(IFLA_INFO_KIND, "vxlan") + _attr(IFLA_INFO_DATA, data)
        extra = (_u32(IFLA_MTU, mtu) if mtu else b"") + (_attr(IFLA_ADDRESS, _mac(mac))
                                                          if mac else b"")
        self.request(RTM_NEWLINK, _ifinfo() + _str(IFLA_IFNAME, ifname)
                     + _u32(IFLA_NET_NS_FD, target_ns_fd) + extra
                     + _attr(IFLA_LINKINFO, info))

    def fdb(self, index: int, mac: str, dst):
        """A static forwarding entry of a VXLAN device: frames for `mac` (all-zero: every
        broadcast, multicast and unknown frame) are sent to the VTEP `dst`."""
        body = struct.pack("BBHiHBB", AF_BRIDGE, 0, 0, index, NUD_PERMANENT, NTF_SELF, 0)
        body += _attr(NDA_LLADDR, _mac(mac)) + _attr(NDA_DST, ipaddress.ip_address(dst).packed)
        self.request(RTM_NEWNEIGH, body, flags=NLM_F_CREATE | NLM_F_APPEND)

    def neigh(self, index: int, address, mac: str):
        """A permanent neighbour (ARP or NDP) entry: `address` is at `mac` on this link."""
        a = ipaddress.ip_address(address)
        fam = socket.AF_INET if a.version == 4 else socket.AF_INET6
        body = struct.pack("BBHiHBB", fam, 0, 0, index, NUD_PERMANENT, 0, 0)
        body += _attr(NDA_DST, a.packed) + _attr(NDA_LLADDR, _mac(mac))
        self.request(RTM_NEWNEIGH, body, flags=NLM_F_CREATE | NLM_F_REPLACE)

    def bridge(self, ifname: str):
        data = (_u32(IFLA_BR_FORWARD_DELAY, 0) + _u32(IFLA_BR_STP_STATE, 0)
                + _attr(IFLA_BR_MCAST_SNOOPING, b"\0"))
        info = _str(IFLA_INFO_KIND, "bridge") + _attr(IFLA_INFO_DATA, data)
        self.request(RTM_NEWLINK, _ifinfo() + _str(IFLA_IFNAME, ifname)
                     + _attr(IFLA_LINKINFO, info))

    def up(self, index: int, master: int = 0):
        attrs = _u32(IFLA_MASTER, master) if master else b""
        self.request(RTM_NEWLINK, _ifinfo(index, IFF_UP, IFF_UP) + attrs, flags=0)

    # -- addresses, routes, rules ------------------------------------------------
    def addr(self, index: int, address, prefixlen: int, nodad: bool = False,
             noprefixroute: bool = False):
        """noprefixroute: no route to the address's subnet is made for it."""
        a = ipaddress.ip_address(address)
        fam = socket.AF_INET if a.version == 4 else socket.AF_INET6
        flags = (IFA_F_NODAD if nodad else 0) | (IFA_F_NOPREFIXROUTE if noprefixroute else 0)
        body = struct.pack("BBBBI", fam, prefixlen, flags & 0xFF, 0, index)
        body += _attr(IFA_LOCAL, a.packed) + _attr(IFA_ADDRESS, a.packed)
        if flags:
            body += _u32(IFA_FLAGS, flags)
        self.request(RTM_NEWADDR, body)

    def route(self, dst: str, oif: int, gateway=None, table: int = RT_TABLE_MAIN,
              priority: int = 0, scope: int = SCOPE_UNIVERSE, rtype: int = RTN_UNICAST,
              onlink: bool = False):
        """onlink: the gateway is on this link, whatever the addresses say (an ENI's
        address is a /32: its subnet is reached through the gateway)."""
        net = ipaddress.ip_network(dst)
        fam = socket.AF_INET if net.version == 4 else socket.AF_INET6
        body = struct.pack("BBBBBBBBI", fam, net.prefixlen, 0, 0, min(table, 255),
                           RTPROT_STATIC, scope, rtype, RTNH_F_ONLINK if onlink else 0)
        if net.prefixlen:
            body += _attr(RTA_DST, net.network_address.packed)
        body += _u32(RTA_OIF, oif) + _u32(RTA_TABLE, table)
        if gateway is not None:
            body += _attr(RTA_GATEWAY, ipaddress.ip_address(gateway).packed)
        if priority:
            body += _u32(RTA_PRIORITY, priority)
        self.request(RTM_NEWROUTE, body)

    def rule_from(self, src, table: int, priority: int):
        """Source routing: packets from `src` (an address or a CIDR) use `table`."""
        self.rule(table, priority, src=src)

    def rule(self, table: int, priority: int, family: int = 0, src=None, iif: str = None,
             delete: bool = False):
        """A policy rule: packets from `src` (None: any, of `family`, 4 or 6) that came in on
        `iif` (None: any; "lo": sent from this namespace) use `table`; `delete`: remove the
        rule that says so instead (the first found: fib_nl_delrule)."""
        net = ipaddress.ip_network(src) if src is not None else None
        version = net.version if net is not None else family
        fam = socket.AF_INET if version == 4 else socket.AF_INET6
        body = struct.pack("BBBBBBBBI", fam, 0, net.prefixlen if net else 0, 0,
                           min(table, 255), 0, 0, FR_ACT_TO_TBL, 0)
        if net is not None:
            body += _attr(FRA_SRC, net.network_address.packed)
        if iif is not None:
            body += _str(FRA_IIFNAME, iif)
        body += _u32(FRA_TABLE, table) + _u32(FRA_PRIORITY, priority)
        self.request(RTM_DELRULE if delete else RTM_NEWRULE, body,
                     flags=0 if delete else NLM_F_CREATE | NLM_F_EXCL)

"""NFLOG listeners inside lab namespaces (kernel layer): what the lab's rules report.

A netlink socket (NETLINK_NETFILTER) opened inside a namespace and bound to sgnet's log
group (sgnet.core.witness.LOG_GROUP) receives every packet a lab rule there logged, with its
mark; the messages are parsed by sgnet.core.witness. pyroute2 has no nfnetlink_log client,
so the few messages needed are written here (linux/netfilter/nfnetlink_log.h).
One socket binds a group per namespace: a second listener gets EBUSY (a probe run holds
the lab's lock, sgnet.state.locked, so two runs of one lab never compete).
"""

from __future__ import annotations

import errno
import socket
import struct

from sgnet.core import witness
from sgnet.core.errors import EnvError
from sgnet.kernel import guard

NETLINK_NETFILTER = 12
NFNL_SUBSYS_ULOG = 4
NFULNL_MSG_CONFIG = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
NFULA_CFG_CMD, NFULA_CFG_MODE, NFULA_CFG_NLBUFSIZ = 1, 2, 3
NFULA_CFG_TIMEOUT, NFULA_CFG_QTHRESH = 4, 5
NFULNL_CFG_CMD_BIND = 1
NFULNL_COPY_PACKET = 2
SO_RCVBUFFORCE = 33
# Messages are batched by the kernel: up to QTHRESH per datagram, flushed after TIMEOUT
# (hundredths of a second) at the latest; a verdict waits at most that long for its report.
QTHRESH, FLUSH = 64, 1
NLBUFSIZ = 1 << 16


def _attr(atype: int, body: bytes) -> bytes:
    a = struct.pack("=HH", 4 + len(body), atype) + body
    return a + b"\0" * (-len(a) % 4)


def _config(group: int, attrs: bytes, seq: int) -> bytes:
    head = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(group))
    body = head + attrs
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG,
                       NLM_F_REQUEST | NLM_F_ACK, seq, 0) + body


def _ack(sock, seq: int):
    """Read the kernel's answer to config message `seq`: 0 or an errno."""
    while True:
        data = sock.recv(65536)
        off = 0
        while off + 16 <= len(data):
            length, mtype, _, mseq, _ = struct.unpack_from("=IHHII", data, off)
            if mtype == NLMSG_ERROR and mseq == seq:
                return -struct.unpack_from("=i", data, off + 16)[0]
            off += (length + 3) & ~3


def open_here(ns: str) -> socket.socket:
    """In the current thread's namespace (named `ns` for messages): a non-blocking socket
    bound to sgnet's log group, copying SNAPLEN bytes of each logged packet."""
    guard.assert_not_host()
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 1 << 25)
        sock.bind((0, 0))
        group = witness.LOG_GROUP
        steps = [
            _attr(NFULA_CFG_CMD, struct.pack("=B", NFULNL_CFG_CMD_BIND)),
            _attr(NFULA_CFG_MODE, struct.pack(">IBx", witness.SNAPLEN, NFULNL_COPY_PACKET))
            + _attr(NFULA_CFG_NLBUFSIZ, struct.pack(">I", NLBUFSIZ))
            + _attr(NFULA_CFG_TIMEOUT, struct.pack(">I", FLUSH))
            + _attr(NFULA_CFG_QTHRESH, struct.pack(">I", QTHRESH))]
        for seq, attrs in enumerate(steps, 1):
            sock.send(_config(group, attrs, seq))
            err = _ack(sock, seq)
            if err == errno.EBUSY:
                raise EnvError(f"{ns}: another listener holds NFLOG group {group} there "
                               "(another sgnet probing this lab?)")
            if err:
                raise EnvError(f"{ns}: cannot listen to NFLOG group {group}: "
                               f"{errno.errorcode.get(err, err)} (is nfnetlink_log loaded? "
                               "modprobe nfnetlink_log)")
        sock.setblocking(False)
        return sock
    except BaseException:
        sock.close()
        raise


def read(sock) -> list:
    """Every message waiting: [(hook, mark, prefix, payload)]. An overrun (the kernel had
    to drop reports) is an error: a verdict must never rest on a missing report."""
    out = []
    while True:
        try:
            data = sock.recv(1 << 20)
        except BlockingIOError:
            return out
        except OSError as e:
            if e.errno == errno.ENOBUFS:
                raise EnvError("NFLOG reports were lost (the listener fell behind): "
                               "probe fewer flows at once (--jobs)") from None
            raise
        out += witness.parse_messages(data)

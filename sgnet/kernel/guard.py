"""The host's guard (kernel layer, lowest rung): the one way into a lab namespace.

sgnet never changes the network namespace it was started in, the host's. That namespace is
known by its cookie (SO_NETNS_COOKIE), read once, lazily: by the first kernel work, in the
thread that is about to leave it (`enter`, `unshare`), or by the first check. Nothing reads
it at import, so pure code never depends on it, and `sgnet agent --netns` can first move
the whole process with `setns` into a simulated host, which is then its host.
`setns` (through ctypes: Python 3.11's os has none) is written here only.
"""

from __future__ import annotations

import ctypes
import os
import socket

from sgnet.core.errors import SgnetError

NETNS_DIR = "/run/netns"  # named namespaces, bind-mounted as iproute2 does
CLONE_NEWNET = 0x40000000
SO_NETNS_COOKIE = 71

libc = ctypes.CDLL(None, use_errno=True)  # for the calls Python's os lacks

_host = None  # the host's cookie, once read


class HostNamespaceError(SgnetError):
    pass


def cookie(sock) -> bytes:
    """The namespace cookie of the namespace a socket was opened in."""
    return sock.getsockopt(socket.SOL_SOCKET, SO_NETNS_COOKIE, 8)


def _this_thread_cookie() -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        return cookie(s)


def host_cookie() -> bytes:
    """The host's cookie: read on first use, in the calling thread, which must still be in
    the namespace sgnet was started in (every way out below reads it before leaving)."""
    global _host
    if _host is None:  # two first readers read the same: both are still in the host
        _host = _this_thread_cookie()
    return _host


def assert_not_host():
    if _this_thread_cookie() == host_cookie():
        raise HostNamespaceError("refusing to change the host's network namespace")


def check_socket(sock):
    """A netlink socket about to change things: refused (and closed) if it is the host's."""
    if cookie(sock) == host_cookie():
        sock.close()
        raise HostNamespaceError("netlink socket would be in the host namespace")


def path(name: str) -> str:
    return os.path.join(NETNS_DIR, name)


def setns(name: str):
    """Move the calling thread (after a fork: the process) into namespace `name`, as is:
    no check. Only `sgnet agent --netns` and subprocess children use it bare."""
    fd = os.open(path(name), os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns {name}: {os.strerror(e)}")
    finally:
        os.close(fd)


def enter(name: str):
    """Move the calling thread into lab namespace `name` and check it is not the host's."""
    host_cookie()
    setns(name)
    assert_not_host()


def unshare():
    """Move the calling thread into a new, empty network namespace."""
    host_cookie()
    if libc.unshare(CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"unshare(CLONE_NEWNET): {os.strerror(e)}")
    assert_not_host()

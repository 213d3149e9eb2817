"""Network namespaces (kernel layer): create, enter per thread, list, remove.

setns() changes only the calling thread, so each piece of kernel work runs in a short-lived
thread that enters its namespace (through sgnet.kernel.guard, which checks it is not the
host's), opens its netlink socket there (pyroute2 0.9 would open it lazily in whatever
thread first uses it: we hand it one we opened, with use_socket) and checks the socket's
namespace cookie differs from the host's before anything is changed.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import socket
import threading
import time

from sgnet.core.errors import EnvError
from sgnet.kernel import guard
from sgnet.kernel.guard import NETNS_DIR
from sgnet.kernel.rtnl import Rtnl

MS_BIND, MS_REC, MS_SHARED = 4096, 16384, 1 << 20
MNT_DETACH = 2

_libc = guard.libc


def path(name: str) -> str:
    return guard.path(name)


def exists(name: str) -> bool:
    return os.path.exists(path(name))


def list_names(prefix: str = "") -> list:
    try:
        return sorted(n for n in os.listdir(NETNS_DIR) if n.startswith(prefix))
    except FileNotFoundError:
        return []


def _run_thread(target):
    out = {}

    def run():
        try:
            out["r"] = target()
        except BaseException as e:  # re-raised in the caller
            out["e"] = e

    th = threading.Thread(target=run)
    th.start()
    th.join()
    if "e" in out:
        raise out["e"]
    return out.get("r")


def _ensure_dir():
    os.makedirs(NETNS_DIR, exist_ok=True)
    # As iproute2 does: /run/netns is a shared mount so namespaces show in every mount ns.
    if _libc.mount(b"", NETNS_DIR.encode(), b"none", MS_SHARED | MS_REC, None) != 0:
        if _libc.mount(NETNS_DIR.encode(), NETNS_DIR.encode(), b"none", MS_BIND | MS_REC,
                       None) != 0:
            e = ctypes.get_errno()
            raise EnvError(f"cannot mount {NETNS_DIR}: {os.strerror(e)}")
        _libc.mount(b"", NETNS_DIR.encode(), b"none", MS_SHARED | MS_REC, None)


_dir_ready = False


def create(name: str, then=None, own_netlink=False):
    """Create a named namespace without forking: unshare in a thread, bind-mount it.

    `then(ipr)` runs in the new namespace, in the same thread, before it returns; with
    `own_netlink`, it gets sgnet's own netlink client, a sgnet.kernel.rtnl.Rtnl (fast,
    synchronous), instead of a pyroute2 IPRoute."""
    global _dir_ready
    if not _dir_ready:
        _ensure_dir()
        _dir_ready = True
    p = path(name)

    def work():
        fd = os.open(p, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0)
        os.close(fd)
        try:
            guard.unshare()
        except OSError as e:
            os.unlink(p)
            raise EnvError(f"unshare(CLONE_NEWNET) failed: {os.strerror(e.errno)}") from None
        src = b"/proc/thread-self/ns/net"
        if _libc.mount(src, p.encode(), b"none", MS_BIND, None) != 0:
            e = ctypes.get_errno()
            os.unlink(p)
            raise EnvError(f"cannot bind {p}: {os.strerror(e)}")
        if then is not None:
            return _with_rtnl(then) if own_netlink else _with_ipr(then)

    return _run_thread(work)


def _with_rtnl(fn):
    r = Rtnl()
    try:
        return fn(r)
    finally:
        r.close()


def _with_ipr(fn):
    from pyroute2 import IPRoute

    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0)  # NETLINK_ROUTE
    guard.check_socket(sock)
    ipr = IPRoute(use_socket=sock)
    try:
        return fn(ipr)
    finally:
        ipr.close()
        sock.close()


def run(name: str, fn, own_netlink=False):
    """Run fn(ipr) inside namespace `name` with a netlink socket bound there (a pyroute2
    IPRoute, or with `own_netlink` sgnet's own client, a sgnet.kernel.rtnl.Rtnl)."""
    return _run_thread(lambda: (guard.enter(name),
                                (_with_rtnl if own_netlink else _with_ipr)(fn))[1])


def call(name: str, fn):
    """Run fn() inside namespace `name` (no netlink socket), e.g. libnftables, sysctls."""
    return _run_thread(lambda: (guard.enter(name), fn())[1])


def open_fd(name: str) -> int:
    return os.open(path(name), os.O_RDONLY)


def sysctl(values: dict):
    """Write sysctls of the current thread's namespace (call inside run/call/create)."""
    guard.assert_not_host()
    for key, value in values.items():
        with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write(f"{value}\n")  # a line, as `sysctl -w` writes it ("" empties a list)


def enable_ipv6(ifname: str):
    """IPv6 on one link of the current namespace, whatever the namespace's default."""
    sysctl({f"net.ipv6.conf.{ifname}.disable_ipv6": 0})


def read_sysctl(key: str) -> str:
    with open("/proc/sys/" + key.replace(".", "/")) as f:
        return f.read().strip()


def _ns_inode(name: str):
    try:
        return os.stat(path(name)).st_ino
    except FileNotFoundError:
        return None


def pids_by_namespace() -> dict:
    """Network namespace inode -> pids of the processes in it."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            out.setdefault(os.stat(f"/proc/{pid}/ns/net").st_ino, []).append(int(pid))
        except OSError:
            pass
    return out


def pids_in(name: str, pids=None) -> list:
    ino = _ns_inode(name)
    if ino is None:
        return []
    return list((pids if pids is not None else pids_by_namespace()).get(ino, []))


def remove(name: str, kill=True, pids=None):
    """Kill what runs inside (it would keep the namespace alive), unmount and unlink."""
    p = path(name)
    if kill:
        for pid in [x for x in pids_in(name, pids) if x != os.getpid()]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    if _libc.umount2(p.encode(), MNT_DETACH) != 0:
        e = ctypes.get_errno()
        if e not in (errno.EINVAL, errno.ENOENT):
            raise OSError(e, f"umount {p}: {os.strerror(e)}")
    try:
        os.unlink(p)
    except FileNotFoundError:
        pass


def wait_gone(names, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(exists(n) for n in names):
        time.sleep(0.02)


PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int):
    """In a forked child (a build worker, a probe): be killed when the thread that forked it
    ends, however it ends (SIGKILL included), and end now if `parent` (its pid) is already
    gone, as it may have been before the request was made."""
    ul = ctypes.c_ulong  # prctl reads unsigned longs: no stray upper bits
    if _libc.prctl(PR_SET_PDEATHSIG, ul(signal.SIGKILL), ul(0), ul(0), ul(0)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"prctl(PR_SET_PDEATHSIG): {os.strerror(e)}")
    if os.getppid() != parent:
        os._exit(1)


def enter_in_child(name: str):
    """A preexec_fn for subprocess: the child enters `name` before exec, or dies trying
    (never runs the command in the host's namespace)."""
    def enter():
        try:
            guard.setns(name)
        except OSError:
            os._exit(126)

    return enter

"""Network namespaces, entered per thread, with a guard that the host is never touched.

setns() changes only the calling thread, so each piece of kernel work runs in a short-lived
thread that enters its namespace, opens its netlink socket there (pyroute2 0.9 would open it
lazily in whatever thread first uses it: we hand it one we opened, with use_socket) and checks
the socket's namespace cookie differs from the host's before anything is changed.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import socket
import threading
import time

from sgnet.core.errors import EnvError, SgnetError

NETNS_DIR = "/run/netns"
CLONE_NEWNET = 0x40000000
MS_BIND, MS_REC, MS_SHARED = 4096, 16384, 1 << 20
MNT_DETACH = 2
SO_NETNS_COOKIE = 71

_libc = ctypes.CDLL(None, use_errno=True)


def _cookie(sock) -> bytes:
    return sock.getsockopt(socket.SOL_SOCKET, SO_NETNS_COOKIE, 8)


def _this_thread_cookie() -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        return _cookie(s)


# The namespace sgnet was started in: the host. Nothing is ever changed through a socket here.
HOST_COOKIE = _this_thread_cookie()


class HostNamespaceError(SgnetError):
    pass


def assert_not_host():
    if _this_thread_cookie() == HOST_COOKIE:
        raise HostNamespaceError("refusing to change the host's network namespace")


def path(name: str) -> str:
    return os.path.join(NETNS_DIR, name)


def exists(name: str) -> bool:
    return os.path.exists(path(name))


def list_names(prefix: str = "") -> list:
    try:
        return sorted(n for n in os.listdir(NETNS_DIR) if n.startswith(prefix))
    except FileNotFoundError:
        return []


def _setns_thread(name: str):
    fd = os.open(path(name), os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns {name}: {os.strerror(e)}")
    finally:
        os.close(fd)
    assert_not_host()


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


def create(name: str, then=None, lean=False):
    """Create a named namespace without forking: unshare in a thread, bind-mount it.

    `then(ipr)` runs in the new namespace, in the same thread, before it returns; with
    `lean`, it gets a sgnet.kernel.rtnl.Rtnl (fast, synchronous) instead of a pyroute2 IPRoute."""
    global _dir_ready
    if not _dir_ready:
        _ensure_dir()
        _dir_ready = True
    p = path(name)

    def work():
        fd = os.open(p, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0)
        os.close(fd)
        if _libc.unshare(CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            os.unlink(p)
            raise EnvError(f"unshare(CLONE_NEWNET) failed: {os.strerror(e)}")
        src = b"/proc/thread-self/ns/net"
        if _libc.mount(src, p.encode(), b"none", MS_BIND, None) != 0:
            e = ctypes.get_errno()
            os.unlink(p)
            raise EnvError(f"cannot bind {p}: {os.strerror(e)}")
        assert_not_host()
        if then is not None:
            return _with_rtnl(then) if lean else _with_ipr(then)

    return _run_thread(work)


def _with_rtnl(fn):
    from sgnet.kernel.rtnl import Rtnl
    r = Rtnl()
    try:
        return fn(r)
    finally:
        r.close()


def _with_ipr(fn):
    from pyroute2 import IPRoute

    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0)  # NETLINK_ROUTE
    if _cookie(sock) == HOST_COOKIE:
        sock.close()
        raise HostNamespaceError("netlink socket would be in the host namespace")
    ipr = IPRoute(use_socket=sock)
    try:
        return fn(ipr)
    finally:
        ipr.close()
        sock.close()


def run(name: str, fn, lean=False):
    """Run fn(ipr) inside namespace `name` with a netlink socket bound there (a pyroute2
    IPRoute, or with `lean` a sgnet.kernel.rtnl.Rtnl)."""
    return _run_thread(lambda: (_setns_thread(name),
                                (_with_rtnl if lean else _with_ipr)(fn))[1])


def call(name: str, fn):
    """Run fn() inside namespace `name` (no netlink socket), e.g. libnftables, sysctls."""
    return _run_thread(lambda: (_setns_thread(name), fn())[1])


def open_fd(name: str) -> int:
    return os.open(path(name), os.O_RDONLY)


def sysctl(values: dict):
    """Write sysctls of the current thread's namespace (call inside run/call/create)."""
    assert_not_host()
    for key, value in values.items():
        with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write(str(value))


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
    p = path(name)

    def enter():
        fd = os.open(p, os.O_RDONLY)
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            os._exit(126)
        os.close(fd)

    return enter

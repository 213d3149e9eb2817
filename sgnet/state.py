"""A lab's state on disk: the lab file it was built from and what was created.

Written atomically (temp file + rename) before the kernel is touched, so that `down` always
knows what to remove, even after a crash. Kept under /run (tmpfs), which, like network
namespaces, does not survive a reboot. A per-lab lock serialises sgnet commands.

A lab's directory is <state dir>/<lab name>, and only a valid lab name (as a lab file's
`name`) ever becomes one: whatever a user types stays inside the state directory. It exists
only while the lab has a state: the command that forgets the state removes the directory
too, lock included, before it lets go of the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import time

from sgnet.core.errors import LabError, shown
from sgnet.core.labspec import LAB_NAME


def check_name(name, what: str = "lab name") -> str:
    """`name` if it is a lab name (as a lab file's `name`), else LabError (exit 2)."""
    if isinstance(name, str) and LAB_NAME.fullmatch(name):
        return name
    raise LabError(f"{what} {shown(name)}: not a lab name; allowed: 1-8 characters [a-z0-9]")


def state_dir() -> str:
    return os.environ.get("SGNET_STATE_DIR", "/run/sgnet")


def lab_dir(name: str) -> str:
    return os.path.join(state_dir(), check_name(name))


def _atomic_write(path: str, data: str):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def save(name: str, source: str, text: str, status: str, namespaces: list):
    d = lab_dir(name)
    os.makedirs(d, exist_ok=True)
    _atomic_write(os.path.join(d, "lab.yaml"), text)
    _atomic_write(os.path.join(d, "state.json"), json.dumps({
        "lab": name, "source": source, "sha256": digest(text), "status": status,
        "namespaces": namespaces, "updated": time.time()}, indent=1))


def next_tags(name: str, run) -> None:
    """Under the lab's lock: run(start) -> the start of the next run's probe tags
    (sgnet.core.probes.assign_tags), kept in the lab's directory so that runs of separate
    commands do not reuse each other's tags either (None at first: a random start)."""
    path = os.path.join(lab_dir(name), "tags")
    try:
        with open(path, encoding="utf-8") as f:
            start = int(f.read().strip())
    except (OSError, ValueError):
        start = None
    nxt = run(start)
    try:
        _atomic_write(path, str(nxt))
    except OSError:  # a lab whose directory went (taken down meanwhile): nothing to keep
        pass


def load(name: str):
    try:
        with open(os.path.join(lab_dir(name), "state.json"), encoding="utf-8") as f:
            st = json.load(f)
        with open(os.path.join(lab_dir(name), "lab.yaml"), encoding="utf-8") as f:
            st["text"] = f.read()
        return st
    except (FileNotFoundError, json.JSONDecodeError):
        return None


_TEMP = re.compile(r"^(state\.json|lab\.yaml|tags)\.tmp[0-9]+$")  # _atomic_write's, if killed


def forget(name: str):
    """Drop the lab's state (under its lock: the lock and the directory go on release)."""
    d = lab_dir(name)
    for fn in ("state.json", "lab.yaml", "tags"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(d, fn))
    with contextlib.suppress(FileNotFoundError):
        for fn in os.listdir(d):
            if _TEMP.fullmatch(fn):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(d, fn))
    with contextlib.suppress(OSError):  # SSH control sockets' folder, once they are closed
        os.rmdir(os.path.join(d, "ssh"))


def has(name: str) -> bool:
    """Whether lab `name` has a state on disk (readable or not)."""
    return os.path.exists(os.path.join(lab_dir(name), "state.json"))


def known_labs() -> list:
    try:
        return sorted(n for n in os.listdir(state_dir())
                      if LAB_NAME.fullmatch(n)
                      and os.path.exists(os.path.join(state_dir(), n, "state.json")))
    except FileNotFoundError:
        return []


def _same_file(fd: int, path: str) -> bool:
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


@contextlib.contextmanager
def locked(name: str, timeout: float = 300.0):
    """Serialise sgnet commands on one lab. On release, a lab left without a state (taken
    down, or a failed first `up`) loses its directory and lock file; a command that was
    waiting then holds a lock file no longer in place, and starts again on a new one."""
    d = lab_dir(name)
    lock = os.path.join(d, "lock")
    deadline = time.monotonic() + timeout
    while True:
        os.makedirs(d, exist_ok=True)
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except FileNotFoundError:  # the directory went just now, with its lab
            if time.monotonic() > deadline:
                raise LabError(f"lab {name}: cannot open its lock in {d}") from None
            continue
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LabError(f"lab {name} is locked by another sgnet command") \
                            from None
                    time.sleep(0.05)
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, lock):
            break
        os.close(fd)  # the one we waited for removed the lab, and this lock with it
    try:
        yield
    finally:
        try:
            if not os.path.exists(os.path.join(d, "state.json")):
                # still holding the lock: nobody else can be using the directory
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(lock)
                with contextlib.suppress(OSError):  # not empty: something not ours is there
                    os.rmdir(d)
        finally:
            os.close(fd)

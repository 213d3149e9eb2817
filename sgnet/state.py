"""A lab's state on disk: the lab file it was built from and what was created.

Written atomically (temp file + rename) before the kernel is touched, so that `down` always
knows what to remove, even after a crash. Kept under /run (tmpfs), which, like network
namespaces, does not survive a reboot. A per-lab lock serialises sgnet commands.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time

from .errors import LabError


def state_dir() -> str:
    return os.environ.get("SGNET_STATE_DIR", "/run/sgnet")


def lab_dir(name: str) -> str:
    return os.path.join(state_dir(), name)


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


def load(name: str):
    try:
        with open(os.path.join(lab_dir(name), "state.json"), encoding="utf-8") as f:
            st = json.load(f)
        with open(os.path.join(lab_dir(name), "lab.yaml"), encoding="utf-8") as f:
            st["text"] = f.read()
        return st
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def forget(name: str):
    d = lab_dir(name)
    for fn in ("state.json", "lab.yaml"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(d, fn))
    with contextlib.suppress(OSError):  # SSH control sockets' folder, once they are closed
        os.rmdir(os.path.join(d, "ssh"))


def known_labs() -> list:
    try:
        return sorted(n for n in os.listdir(state_dir())
                      if os.path.exists(os.path.join(state_dir(), n, "state.json")))
    except FileNotFoundError:
        return []


@contextlib.contextmanager
def locked(name: str, timeout: float = 300.0):
    """Serialise sgnet commands on one lab."""
    d = lab_dir(name)
    os.makedirs(d, exist_ok=True)
    fd = os.open(os.path.join(d, "lock"), os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LabError(f"lab {name} is locked by another sgnet command") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)

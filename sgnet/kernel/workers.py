"""Parallel work for the kernel layer: one fork pool and one thread fan-out.

in_children(items, work, jobs, ...) runs work(item, report) for each item in a forked child
process (Python and the kernel's per-namespace work then use every core; threads would share
one GIL), at most `jobs` children at once, optionally each inside a network namespace
first. Children die with the process that forked them however it ends (PR_SET_PDEATHSIG,
netns.die_with_parent) and with the call if it is interrupted, so none goes on building,
probing or tearing down on its own; a child never returns into the caller's code.

fan_out(calls) runs calls (key -> fn()) at once, one thread each (hosts work in
parallel; a thread that enters a namespace changes only itself).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import threading
from dataclasses import dataclass
from typing import Any, Optional

from sgnet.kernel import guard, netns

_REPORT, _RESULT, _ERROR = b".", b"=", b"!"  # a child's pipe: reports, then one outcome


@dataclass(frozen=True)
class Outcome:
    """What one item's child gave: `result` (work's return value, through JSON) or `error`
    (text: "Type: message"; also when the child died without a word)."""
    result: Any = None
    error: Optional[str] = None


def in_children(items: list, work, jobs: int, progress=None, enter=None) -> list:
    """Run work(item, report) for each item, each in its own forked child, at most `jobs`
    at once (items started in the order given); one Outcome per item, in that order.

    - work's return value must be JSON-serialisable (None is fine); an exception it raises
      (any BaseException) becomes the Outcome's error: never raised here.
    - report(n=1), called in a child, calls progress(n) in this process as it happens.
    - enter(item) -> a namespace name: the child enters it first (checked not to be the
      host's) before work runs; None: the child stays where it was forked.
    Every child has stopped when this returns or raises; if this call is interrupted
    (KeyboardInterrupt, an error in progress()), the running children are killed first."""
    pending = list(enumerate(items))[::-1]
    running = {}  # read fd -> (pid, item index, bytearray)
    outcomes = [None] * len(items)
    parent = os.getpid()
    try:
        while pending or running:
            while pending and len(running) < max(1, jobs):
                k, item = pending.pop()
                r, pid = _fork(item, work, enter, parent)
                running[r] = (pid, k, bytearray())
            for r in select.select(list(running), [], [])[0]:
                if _read(r, running, progress):
                    pid, k, buf = running.pop(r)
                    os.close(r)
                    outcomes[k] = _outcome(buf, os.waitpid(pid, 0)[1], pid)
    except BaseException:
        for r, (pid, _, _) in running.items():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            os.close(r)
        raise
    return outcomes


def _fork(item, work, enter, parent: int):
    """Fork one child for `item`: (the parent's read end of its pipe, its pid)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller (whose except clauses would,
        code = 1  # say, tear the lab down from here)
        try:
            os.close(r)
            try:
                netns.die_with_parent(parent)
                ns = enter(item) if enter is not None else None
                if ns is not None:  # after fork one thread is left: the whole process
                    guard.enter(ns)  # enters, then checks it is not the host's
                out = work(item, lambda n=1: _write(w, _REPORT * n))
                payload = _RESULT + json.dumps(out).encode()
                code = 0
            except BaseException as e:
                payload = _ERROR + f"{type(e).__name__}: {e}".encode(errors="replace")
            _write(w, payload)
        except BaseException:  # nobody left to tell (the pipe is broken)
            pass
        finally:
            os._exit(code)
    os.close(w)
    return r, pid


def _write(fd: int, data: bytes):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read(r: int, running: dict, progress) -> bool:
    """Read what a child wrote; reports before its outcome go to progress. True at EOF."""
    chunk = os.read(r, 1 << 16)
    if not chunk:
        return True
    buf = running[r][2]
    if progress and not buf.lstrip(_REPORT):  # nothing but reports so far
        n = len(chunk) - len(chunk.lstrip(_REPORT))
        if n:
            progress(n)
    buf += chunk
    return False


def _outcome(buf: bytearray, status: int, pid: int) -> Outcome:
    body = bytes(buf.lstrip(_REPORT))
    if body[:1] == _RESULT and status == 0:
        return Outcome(result=json.loads(body[1:]))
    if body[:1] == _ERROR:
        return Outcome(error=body[1:].decode(errors="replace"))
    return Outcome(error=f"worker {pid} died (status {status})")


def first_error(outcomes: list) -> Optional[str]:
    """The first item's error among outcomes, or None if every item succeeded."""
    return next((o.error for o in outcomes if o.error is not None), None)


def fan_out(calls: dict) -> tuple:
    """Run calls (key -> fn()) at once, one thread each, and wait for all of them:
    (results, errors), two dicts by key (an error is the exception fn raised, any
    BaseException, never lost and never raised here)."""
    results, errors = {}, {}

    def run(key, fn):
        try:
            results[key] = fn()
        except BaseException as e:  # handed back by key
            errors[key] = e
    threads = [threading.Thread(target=run, args=kv) for kv in calls.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def fan_out_all(calls: dict) -> dict:
    """fan_out, for calls that must all succeed: their results by key, or (once every call
    has ended) the first error in the calls' order raised."""
    results, errors = fan_out(calls)
    for key in calls:
        if key in errors:
            raise errors[key]
    return results

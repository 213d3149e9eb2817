"""libnftables, inside a lab namespace.

A libnftables context is bound to the namespace it was created in, and the library keeps
process-global caches: every context is made inside the target namespace (sgnet.kernel.netns.call)
and calls are serialised by one lock.
"""

from __future__ import annotations

import json
import os
import threading

from sgnet.kernel import guard, netns
from sgnet.core.errors import EnvError, SgnetError

_lock = threading.Lock()


class NftError(SgnetError):
    pass


def _context():
    try:
        import nftables
    except ImportError as e:
        raise EnvError("the nftables Python binding is missing: run scripts/install.sh "
                       f"(installs libnftables1 and pip-nftables) ({e})") from None
    try:
        ctx = nftables.Nftables()
    except OSError as e:
        raise EnvError(f"libnftables cannot be loaded: apt-get install libnftables1 ({e})") \
            from None
    ctx.set_json_output(True)
    ctx.set_handle_output(True)
    return ctx


_contexts = {}  # (namespace name, its inode) -> a context created inside it


def _context_for(ns: str):
    """A context for namespace `ns`, created in it (the calling thread is inside it) and
    kept: a fresh context's first command costs several milliseconds more (a deletion,
    notably), which a live change would pay in every namespace it touches."""
    try:
        key = (ns, os.stat(netns.path(ns)).st_ino)
    except FileNotFoundError:
        return _context()
    ctx = _contexts.get(key)
    if ctx is None:
        ctx = _contexts[key] = _context()
    return ctx


def forget(prefix: str):
    """Drop the kept contexts of namespaces named with this prefix: a context's netlink
    socket holds its namespace alive, so they go before (and with) the namespaces."""
    with _lock:
        for key in [k for k in _contexts if k[0].startswith(prefix)]:
            del _contexts[key]


def apply_here(ns: str, ruleset: dict, dry_run: bool = False, keep: bool = True):
    """Apply one JSON batch in the current thread's namespace (named `ns` for messages):
    one netlink transaction, all or nothing. `keep`: keep the context for later changes
    (a namespace's first load at bring-up does not: it is made and freed at once)."""
    guard.assert_not_host()
    with _lock:
        ctx = _context_for(ns) if keep and not dry_run else _context()
        if dry_run:
            ctx.set_dry_run(True)  # Debian's binding; checks in the kernel, commits nothing
        rc, out, err = ctx.json_cmd(ruleset)
    if rc != 0:
        raise NftError(f"nftables refused the ruleset for {ns}: {err.strip()}")
    return out


def apply(ns: str, ruleset: dict, dry_run: bool = False):
    """Apply one JSON batch in namespace `ns`: one netlink transaction, all or nothing."""
    return netns.call(ns, lambda: apply_here(ns, ruleset, dry_run))


def list_table(ns: str, table: str) -> dict:
    def work():
        with _lock:
            ctx = _context()
            # JSON, not `list table inet NAME`: a lab name may be an nft keyword (mh, ah...)
            rc, out, err = ctx.json_cmd({"nftables": [
                {"list": {"table": {"family": "inet", "name": table}}}]})
        if rc != 0:
            return None
        return json.loads(out) if isinstance(out, str) else out

    return netns.call(ns, work)


def rule_counters(listing) -> list:
    """(chain, comment, packets, bytes) of every rule with a counter in a table listing."""
    out = []
    for item in (listing or {}).get("nftables", []):
        rule = item.get("rule")
        if not rule:
            continue
        for ex in rule.get("expr", []):
            if isinstance(ex, dict) and "counter" in ex and ex["counter"]:
                out.append((rule["chain"], rule.get("comment", ""),
                            ex["counter"].get("packets", 0), ex["counter"].get("bytes", 0)))
    return out

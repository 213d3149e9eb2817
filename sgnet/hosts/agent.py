"""`sgnet agent`: one host's part of a multi-host lab, driven by the controller.

Reads one JSON request ({"op", "args"}) on stdin, does it with sgnet.hosts.driver.LocalPart on
this host, writes one JSON answer ({"ok": ...} or {"error", "type"}) on stdout. With
--netns, it first enters a simulated host's namespace, which is then its host namespace
(the underlay; the guard of sgnet.kernel.netns protects it as it would a real host's). With
--exec NS -- CMD, it runs CMD inside the lab namespace NS, stdio passed through.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

CLONE_NEWNET = 0x40000000


def _enter(ns: str):
    """Enter namespace `ns` for the whole (still single-threaded) process, before sgnet's
    namespace guard records where it started."""
    fd = os.open(os.path.join("/run/netns", ns), os.O_RDONLY)
    if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), f"setns {ns}")
    os.close(fd)


def main(argv: list) -> int:
    netns_name = None
    if argv[:1] == ["--netns"] and len(argv) > 1:
        netns_name, argv = argv[1], argv[2:]
        try:
            _enter(netns_name)
        except OSError as e:
            print(json.dumps({"error": f"cannot enter {netns_name}: {e}", "type": "EnvError"}))
            return 3
    if argv[:1] == ["--exec"]:
        ns, cmd = argv[1], argv[2:]
        cmd = cmd[1:] if cmd[:1] == ["--"] else cmd
        from sgnet.kernel import netns
        netns.enter_in_child(ns)()
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            print(f"sgnet agent: {cmd[0]}: {e}", file=sys.stderr)
            return 127
    from sgnet.hosts import driver as parts
    from sgnet.core.errors import SgnetError
    try:
        request = json.loads(sys.stdin.read())
        op = request["op"]
        if op not in parts.OPS:
            raise ValueError(f"unknown op {op!r}")
        result = getattr(parts.LocalPart(), op)(**request.get("args", {}))
        print(json.dumps({"ok": result}))
        return 0
    except (SgnetError, OSError, ValueError, KeyError, RuntimeError) as e:
        print(json.dumps({"error": str(e), "type": type(e).__name__}))
        return 1

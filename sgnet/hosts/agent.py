"""`sgnet agent`: one host's part of a multi-host lab, driven by the controller.

Reads one JSON request ({"op", "args"}) on stdin, does it with sgnet.hosts.driver.serve (the
LocalDriver work) on this host, writes one JSON answer ({"ok": ...} or {"error", "type"}) on
stdout. With --netns, it first enters a simulated host's namespace, which is then its host
namespace (the underlay; the guard of sgnet.kernel.guard protects it as it would a real
host's). With --exec NS -- CMD, it runs CMD inside the lab namespace NS, stdio passed through.
"""

from __future__ import annotations

import json
import os
import sys

from sgnet.kernel import guard


class StdioGate:
    """A probe run's steps with the controller (sgnet.kernel.probe.witnessed._gated): say
    a step as a line of JSON on stdout (with the probes it names), wait for the
    controller's word on stdin (its end of input counts as every word: the controller is
    gone, stop). Lines `due [probes]` before the word name probes whose reports are due
    here: wait() returns them (a controller of before them sends none; an agent of before
    them skips them)."""

    def say(self, step: str, reached=()):
        print(json.dumps({"step": step, "reached": list(reached)}), flush=True)

    def wait(self, word: str) -> list:
        due = []
        while True:
            line = sys.stdin.readline()
            if not line or line.strip() == word:
                return due
            said, _, probes = line.strip().partition(" ")
            if said == "due":
                try:
                    named = json.loads(probes)
                except json.JSONDecodeError:
                    named = []
                due += [i for i in named if isinstance(i, int)] \
                    if isinstance(named, list) else []


def _enter(ns: str):
    """Enter namespace `ns` for the whole (still single-threaded) process, before sgnet's
    namespace guard records where it started (it reads that lazily: not yet)."""
    guard.setns(ns)


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
    # the rest of sgnet is imported only now, inside the namespace entered above
    from sgnet.hosts.driver import serve
    from sgnet.core.errors import SgnetError
    try:
        # the request is the first line; a gated probe reads the controller's steps after it
        request = json.loads(sys.stdin.readline())
        args = request.get("args", {})
        if request.get("op") == "probe" and args.pop("gated", False):
            args["gate"] = StdioGate()
        print(json.dumps({"ok": serve(request["op"], args)}))
        return 0
    except (SgnetError, OSError, ValueError, KeyError, RuntimeError) as e:
        print(json.dumps({"error": str(e), "type": type(e).__name__}))
        return 1

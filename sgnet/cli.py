"""The `sgnet` command line (contract §2)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys

from sgnet.core.errors import EnvError, LabError, SgnetError
from sgnet.io.labfile import MAX_SECONDARY_ENIS, RUN_BOUNDS, bounded_int
from sgnet.core.errors import short as shown
from sgnet.io.progress import Progress

EPILOG = """exit codes: 0 success (matrix/probe: every observed verdict as expected),
1 a mismatch between kernel and expectation, 2 bad input or usage (nothing changed),
3 environment problem (not root, kernel feature or package missing).
Lab files, verdict records and examples: see README.md and examples/."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors are exit 2, as the contract says
        if len(message) > 400:  # argparse quotes a bad choice whole, even 100 KB of it
            message = f"{message[:240]} ... {message[-120:]}"
        self.print_usage(sys.stderr)
        print(f"sgnet: error: {message}", file=sys.stderr)
        sys.exit(2)


# -- numbers on the command line ------------------------------------------------------
# int() and float() also read other scripts' digits ('٢٢' is 22) and float() reads nan, inf
# and 1e9: options take ASCII digits only, within a stated range (integers as the lab file
# reads them: labfile.bounded_int). --priority is left to the lab file's rule parser.
_DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{0,6})?|\.[0-9]{1,6}")
MAX_TIMEOUT = RUN_BOUNDS["probe_timeout"]
MAX_JOBS = RUN_BOUNDS["jobs"]


def _integer(lo: int, hi: int):
    """An argparse type: a whole number in ASCII digits from lo to hi."""
    def integer(text: str) -> int:
        n = bounded_int(text, lo, hi)
        if n is None:
            raise argparse.ArgumentTypeError(f"a whole number from {lo} to {hi}, in ASCII "
                                             f"digits (got {shown(text)})")
        return n
    return integer


def _seconds(text: str) -> float:
    """An argparse type: a time in seconds, more than 0 and at most MAX_TIMEOUT."""
    if _DECIMAL.fullmatch(text) and 0 < float(text) <= MAX_TIMEOUT:
        return float(text)
    raise argparse.ArgumentTypeError(f"seconds, more than 0 and at most {MAX_TIMEOUT:g}, in "
                                     f"ASCII digits such as 0.5 (got {shown(text)})")


def _flow_options(s):
    """The flows a matrix-like verb covers."""
    s.add_argument("--ports", default=None,
                   help="comma-separated, default tcp/22,tcp/80,udp/53,icmp")
    s.add_argument("-6", dest="ipv6", action="store_true", help="IPv6")
    s.add_argument("--timeout", type=_seconds, default=1.0,
                   help=f"seconds to wait for answers (default 1, at most {MAX_TIMEOUT:g})")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p = _Parser(prog="sgnet", description="Cloud security groups (Huawei Cloud, Alibaba Cloud) "
                "on a real Linux datapath: network namespaces, nftables, real packets.",
                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                parents=[common])
    sub = p.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    sub.required = True

    s = sub.add_parser("up", parents=[common], help="validate a lab file, build the lab, apply "
                       "every group (idempotent for the same file)")
    s.add_argument("file", metavar="LAB.yaml")
    s.add_argument("--jobs", type=_integer(1, MAX_JOBS), default=None,
                   help="worker processes building the lab (default: the CPUs)")

    s = sub.add_parser("down", parents=[common], help="remove everything a lab created (safe "
                       "after a crash)")
    s.add_argument("lab", nargs="?", metavar="LAB")
    s.add_argument("--all", action="store_true", help="every lab on this machine")

    s = sub.add_parser("status", parents=[common], help="instances, ENIs, addresses, groups, "
                       "rule counts, conntrack entries")
    s.add_argument("lab", nargs="?", metavar="LAB")
    s.add_argument("--rules", action="store_true", help="packets each rule has matched in the "
                   "kernel, per group and instance")

    rule = sub.add_parser("rule", parents=[common], help="add or delete a rule of a running "
                          "lab's group, applied atomically to every affected instance")
    rsub = rule.add_subparsers(dest="rule_verb", metavar="add|delete", parser_class=_Parser)
    rsub.required = True
    for verb, text in (("add", "add a rule (flags mirror the lab file's rule keys)"),
                       ("delete", "delete the one rule that agrees with every given flag")):
        r = rsub.add_parser(verb, parents=[common], help=text)
        r.add_argument("lab", metavar="LAB")
        r.add_argument("group", metavar="GROUP")
        r.add_argument("--direction", choices=["ingress", "egress"], required=verb == "add")
        r.add_argument("--action", required=verb == "add",
                       help="allow | deny (accept | drop)")
        r.add_argument("--priority", help="1-100, 1 is highest")
        r.add_argument("--ethertype", help="IPv4 | IPv6")
        r.add_argument("--protocol", required=verb == "add",
                       help="tcp | udp | icmp | icmpv6 | gre | all | 0-255")
        r.add_argument("--ports", help="'22', '22,80,8000-8080', '22/22', '-1/-1'")
        g = r.add_mutually_exclusive_group()
        g.add_argument("--remote", help="IP or CIDR")
        g.add_argument("--remote-group", dest="remote_group", help="a group, or self")
        g.add_argument("--remote-prefix-list", dest="remote_prefix_list")
        r.add_argument("--description")

    for verb, text in (("attach", "add an instance (or one of its ENIs) to a group, live"),
                       ("detach", "remove an instance (or one of its ENIs) from a group, live")):
        a = sub.add_parser(verb, parents=[common], help=text)
        a.add_argument("lab", metavar="LAB")
        a.add_argument("instance", metavar="INSTANCE")
        a.add_argument("group", metavar="GROUP")
        a.add_argument("--eni", type=_integer(0, MAX_SECONDARY_ENIS), default=0,
                       help="0 = primary (default), 1.. secondary")

    for verb, text in (("probe", "send real packets from SRC to DST and report what the kernel "
                        "did, next to what the provider's rules say"),
                       ("explain", "which group and rule decide a flow, in each direction, "
                        "without sending packets")):
        s = sub.add_parser(verb, parents=[common], help=text)
        s.add_argument("lab", metavar="LAB")
        s.add_argument("src", metavar="SRC", help="instance or external name, or an IP")
        s.add_argument("dst", metavar="DST", help="instance or external name, or an IP")
        s.add_argument("proto", metavar="PROTO[/PORT]", help="tcp/22, udp/53, icmp, gre, 47...")
        s.add_argument("-6", dest="ipv6", action="store_true", help="IPv6")
        if verb == "probe":
            s.add_argument("--timeout", type=_seconds, default=1.0,
                           help=f"seconds to wait for answers (default 1, at most "
                           f"{MAX_TIMEOUT:g})")
            s.add_argument("--pcap", metavar="FILE", help="write the probe and its answer, as "
                           "captured in the source namespace, to a pcap file")
            s.add_argument("--flags", default="S", help="TCP flags of the probe: S (a new "
                           "connection, default), or e.g. A, R, SA: a segment of no "
                           "connection, which groups must drop")

    s = sub.add_parser("matrix", parents=[common], help="every source x destination x port: "
                       "expected (reference evaluator) against observed (real packets)")
    s.add_argument("lab", metavar="LAB")
    _flow_options(s)
    s.add_argument("--jobs", type=_integer(1, MAX_JOBS), default=None,
                   help="source namespaces probed at once (default 64: their timeouts overlap)")
    s.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML")
    s.add_argument("--pcap", metavar="FILE", help="write the probes and their answers, as "
                   "captured in the namespaces, to a pcap file")

    s = sub.add_parser("diff", parents=[common], help="flows gained and lost if the running "
                       "lab's groups became those of another file (evaluator, confirmed with "
                       "real packets on a clone; the running lab is not touched)")
    s.add_argument("lab", metavar="LAB")
    s.add_argument("changed", metavar="CHANGED.yaml")
    _flow_options(s)
    s.add_argument("--junit", metavar="FILE", help="also write the changes as JUnit XML")

    s = sub.add_parser("report", parents=[common], help="one self-contained HTML page: the "
                       "topology as a picture and the reachability matrix as a grid")
    s.add_argument("lab", metavar="LAB")
    s.add_argument("-o", "--output", required=True, metavar="FILE.html")
    _flow_options(s)

    s = sub.add_parser("import", parents=[common], help="turn exported cloud configurations "
                       "(Alibaba, Huawei, Terraform JSON) into a lab file")
    s.add_argument("--from", dest="kind", required=True,
                   choices=["alibaba", "huawei", "terraform"])
    s.add_argument("files", nargs="+", metavar="FILE")
    s.add_argument("-o", "--output", required=True, metavar="LAB.yaml")
    s.add_argument("--name", default="imported", help="the lab's name (1-8 chars [a-z0-9])")

    s = sub.add_parser("lint", parents=[common], help="least-privilege and consistency findings "
                       "on a lab file's groups (no kernel needed)")
    s.add_argument("file", metavar="LAB.yaml")
    s.add_argument("--fail-on", choices=["info", "warning", "error"], default="error",
                   help="exit 1 if anything at or above this severity is found (default error)")

    s = sub.add_parser("exec", parents=[common], help="run a command inside an instance's or "
                       "external's namespace: sgnet exec LAB NAME -- CMD...")
    s.add_argument("lab", metavar="LAB")
    s.add_argument("name", metavar="NAME")
    s.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD")
    return p


def _out(args, data, text):
    if args.json:
        print(json.dumps(data, indent=1, default=str))
    else:
        print(text)


def _pick_lab(name):
    from sgnet import state
    if name:
        return name
    labs = state.known_labs()
    if len(labs) == 1:
        return labs[0]
    raise LabError("name the lab: " + (", ".join(labs) if labs else "no lab is up"))


def format_record(r) -> str:
    port = f"/{r['port']}" if r["port"] is not None else ""
    mark = "" if r["match"] else "   <-- MISMATCH"
    d = r["decided_by"]
    return (f"{r['src']} ({r['src_ip']}) -> {r['dst']} ({r['dst_ip']}) {r['protocol']}{port}: "
            f"observed {r['observed']} ({r['detail']}), expected {r['expected']}{mark}\n"
            f"  decided by: {d['why']}")


def format_matrix(m) -> str:
    results = m["results"]
    if not results:
        return f"lab {m['lab']}: no flows to probe"
    fam = results[0]["family"].replace("ipv", "IPv")
    names = []
    for r in results:
        for n in (r["src"], r["dst"]):
            if n not in names:
                names.append(n)
    ports = []
    for r in results:
        key = r["protocol"] + (f"/{r['port']}" if r["port"] is not None else "")
        if key not in ports:
            ports.append(key)
    cells = {}
    for r in results:
        key = r["protocol"] + (f"/{r['port']}" if r["port"] is not None else "")
        cells[(key, r["src"], r["dst"])] = r["observed"] + ("" if r["match"] else "!")
    w = max(8, max(len(n) for n in names) + 2)
    lines = [f"lab {m['lab']}, {fam}: {m['summary']['total']} flows, "
             f"{m['summary']['correct']} as expected, {m['summary']['wrong']} wrong", ""]
    srcs = [n for n in names if any(r["src"] == n for r in results)]
    dsts = [n for n in names if any(r["dst"] == n for r in results)]
    for key in ports:
        lines.append(f"{key:<{w}}" + "".join(f"{d:>{w}}" for d in dsts) + "   (rows: source)")
        for s in srcs:
            row = "".join(f"{cells.get((key, s, d), '·'):>{w}}" for d in dsts)
            lines.append(f"{s:<{w}}{row}")
        lines.append("")
    lines.append("allow = the destination answered; deny = silence; "
                 "X! = observed X, the provider's rules say otherwise")
    wrong = [r for r in results if not r["match"]]
    if wrong:
        lines.append("\nmismatches:")
        lines += ["  " + format_record(r).replace("\n", "\n  ") for r in wrong]
    return "\n".join(lines)


def format_status(st) -> str:
    lines = [f"lab {st['lab']} ({st['provider']})"]
    for h in st.get("hosts", []):
        where = "simulated" if h["simulated"] else h["address"]
        lines.append(f"  host {h['name']} ({where}, {h['transport']}): "
                     f"{h['instances']} instances")
    for i in st["instances"]:
        on = f" on {i['host']}" if "host" in i else ""
        lines.append(f"  {i['name']}  [{'up' if i['up'] else 'DOWN'}] namespace {i['namespace']}"
                     f"{on}, conntrack entries {i['conntrack_entries']}")
        for e in i["enis"]:
            v6 = f" {e['ipv6']}" if e["ipv6"] else ""
            lines.append(f"    {e['ifname']} {e['subnet']} {e['ip']}{v6} groups "
                         f"{', '.join(e['groups'])} (rules in {e['rules']['ingress']}, "
                         f"out {e['rules']['egress']})")
    for x in st["externals"]:
        v6 = f" {x['ipv6']}" if x["ipv6"] else ""
        on = f" on {x['host']}" if "host" in x else ""
        lines.append(f"  {x['name']}  [{'up' if x['up'] else 'DOWN'}] external {x['ip']}{v6}"
                     f"{on}")
    return "\n".join(lines)


def format_diff(d) -> str:
    lines = [f"lab {d['lab']} with the groups of {d['changed']}: {d['summary']['gained']} "
             f"flows gained, {d['summary']['lost']} lost, {d['unchanged']} unchanged "
             f"(confirmed on clone {d['clone']}: {d['summary']['clone_mismatches']} mismatches)"]
    for title, rows in (("gained", d["gained"]), ("lost", d["lost"])):
        for r in rows:
            port = f"/{r['port']}" if r["port"] is not None else ""
            ok = "confirmed" if r["confirmed"] else f"NOT confirmed: observed {r['observed']}"
            lines.append(f"  {title:6s} {r['src']} -> {r['dst']} {r['protocol']}{port}: "
                         f"{r['before']} -> {r['after']} ({ok}); {r['decided_by']['why']}")
    return "\n".join(lines)


def format_change(res) -> str:
    inst = ", ".join(res["instances_updated"]) or "none (no ruleset changed)"
    return (f"lab {res['lab']}: {res['change']}: applied; instances updated: {inst}; "
            f"tracked sessions cut: {res['sessions_cut']}")


def format_hits(h) -> str:
    lines = [f"lab {h['lab']}: packets matched per rule (new connections; replies pass as "
             "established)"]
    for r in h["rules"]:
        rule = f"rule {r['rule']}" if isinstance(r["rule"], int) else r["rule"]
        per = ", ".join(f"{k} {v}" for k, v in sorted(r["instances"].items()))
        lines.append(f"  {r['packets']:>8}  {r['group']} {rule}: {r.get('text', '')}  [{per}]")
    return "\n".join(lines)


def format_explain(e) -> str:
    port = f"/{e['port']}" if e["port"] is not None else ""
    lines = [f"{e['src']} ({e['src_ip']}) -> {e['dst']} ({e['dst_ip']}) {e['protocol']}{port} "
             f"{e['family']}: expected {e['expected']}"]
    for s in e["steps"]:
        where = f" on {s['eni']}" if s.get("eni") else ""
        lines.append(f"  {s['direction']}{where}: {s['verdict']} - {s['why']}")
    lines.append("  replies of an allowed flow pass whatever the reverse rules say (stateful)")
    return "\n".join(lines)


# -- output files and flows, checked before any work -------------------------------
OUTPUTS = (("output", "-o"), ("junit", "--junit"), ("pcap", "--pcap"))


def check_output(option: str, path: str):
    """Refuse now a file that could not be written at the end (after the probes ran): its
    directory must exist and be writable, and the path must not be a directory."""
    where = f"{option} {shown(path)}"
    try:
        if not path or "\0" in path or len(os.fsencode(path)) >= 4096:
            raise LabError(f"{where}: not a usable file name")
        if os.path.exists(path):  # a file to replace (or a device: /dev/stdout)
            if os.path.isdir(path):
                raise LabError(f"{where}: is a directory; name a file in it")
            if not os.access(path, os.W_OK):
                raise LabError(f"{where}: cannot be written (permissions or a read-only file "
                               "system)")
            return
        parent = os.path.dirname(os.path.realpath(path))  # a dangling link: where it points
        if not os.path.isdir(parent):
            raise LabError(f"{where}: no such directory {shown(parent)}")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise LabError(f"{where}: cannot create a file in {shown(parent)} (permissions or "
                           "a read-only file system)")
    except (OSError, ValueError) as e:  # names the OS cannot take (surrogates, NUL)
        raise LabError(f"{where}: not a usable file name ({e})") from None


@contextlib.contextmanager
def _writing(option: str, path: str):
    """Writing an output at the end: an OS failure (disk full, directory gone) is the
    environment's (exit 3), with the option and the path, never a traceback."""
    try:
        yield
    except OSError as e:
        raise EnvError(f"{option} {shown(path)}: cannot write: {e.strerror or e}") from None


def _flows(args) -> list:
    """--ports as protocol/port texts, each checked now (with -6 in mind): None = default."""
    from sgnet.session import parse_proto
    if not args.ports:
        return None
    ports = [p.strip() for p in args.ports.split(",")]
    for p in ports:
        parse_proto(p, 6 if args.ipv6 else 4, "--ports")
    return ports


def run(argv) -> int:
    args = build_parser().parse_args(argv)
    for attr, option in OUTPUTS:
        if getattr(args, attr, None) is not None:
            check_output(option, getattr(args, attr))
    ports = _flows(args) if args.verb in ("matrix", "diff", "report") else None
    if args.verb in ("probe", "explain"):  # PROTO too, before the lab is looked at
        from sgnet.session import parse_proto
        parse_proto(args.proto, 6 if args.ipv6 else 4)
    from sgnet.session import LabSession, require_environment
    if getattr(args, "lab", None) is not None:  # every verb's LAB, before anything is done
        from sgnet.state import check_name
        check_name(args.lab, "LAB")

    if args.verb == "up":
        from sgnet.io.labfile import load_file
        n = len(load_file(args.file).instances)
        bar = Progress("building", n, None if not args.json else False)
        try:
            sess = LabSession.up(args.file, progress=bar.step, jobs=args.jobs)
        finally:
            bar.close()
        st = sess.status()
        _out(args, st, f"lab {sess.lab.name} is up\n" + format_status(st))
        return 0
    if args.verb == "down":
        require_environment()
        from sgnet import state
        from sgnet.kernel import topology
        if args.all:
            labs = set(state.known_labs()) | set(topology.labs_left())
        else:
            lab = _pick_lab(args.lab)
            if not LabSession.exists(lab):  # a typo must not pass for a clean machine
                raise LabError(f"no lab {lab}: nothing removed (labs here: "
                               f"{', '.join(state.known_labs()) or 'none'})")
            labs = {lab}
        removed = {}
        for lab in sorted(labs):
            bar = Progress(f"removing {lab}", len(topology.namespaces_of(lab)),
                           None if not args.json else False)
            try:
                removed[lab] = LabSession.down(lab, progress=bar.step)
            finally:
                bar.close()
        _out(args, {"removed": removed}, "\n".join(
            f"lab {lab}: removed {len(ns)} namespaces" for lab, ns in removed.items())
            or "no lab to remove")
        return 0
    if args.verb == "status":
        require_environment()
        from sgnet import state
        labs = [args.lab] if args.lab else state.known_labs()
        read, fmt = ((LabSession.rule_hits, format_hits) if args.rules
                     else (LabSession.status, format_status))
        sts = [read(LabSession.attach(lab, repair=True)) for lab in labs]
        if args.json:
            print(json.dumps(sts[0] if args.lab else sts, indent=1))
        else:
            print("\n".join(fmt(s) for s in sts) or "no lab is up")
        return 0
    if args.verb == "import":
        from sgnet.io.importers import import_files
        from sgnet.io.labfile import parse
        res = import_files(args.kind, args.files, args.name)
        lab = parse(res.lab, args.output)  # what is written always reads back
        with _writing("-o", args.output), open(args.output, "w", encoding="utf-8") as f:
            f.write(res.to_yaml())
        for w in res.warnings:
            print(f"sgnet: warning: {w}", file=sys.stderr)
        _out(args, {"output": args.output, "groups": len(res.lab.get("security_groups") or []),
                    "instances": len(lab.instances), "warnings": res.warnings},
             f"wrote {args.output}: {len(res.lab.get('security_groups') or [])} groups, "
             f"{len(lab.instances)} instances, {len(res.warnings)} warnings")
        return 0
    if args.verb == "lint":
        from sgnet.io.labfile import load_file
        from sgnet.core.lint import at_or_above, lint
        findings = lint(load_file(args.file))
        text = "\n".join(f"{f['severity']:7s} {f['group']}"
                         + (f" rule {f['rule']}" if f["rule"] is not None else "")
                         + f": {f['message']}" for f in findings) or "no findings"
        _out(args, {"findings": findings}, text)
        return 1 if at_or_above(findings, args.fail_on) else 0
    if args.verb == "explain":
        e = LabSession.attach(args.lab).explain(args.src, args.dst, args.proto,
                                                6 if args.ipv6 else 4)
        _out(args, e, format_explain(e))
        return 0
    require_environment()
    sess = LabSession.attach(args.lab, repair=True)
    if args.verb == "rule":
        fields = {k: getattr(args, k) for k in ("direction", "action", "priority", "ethertype",
                                                 "protocol", "ports", "remote", "remote_group",
                                                 "remote_prefix_list", "description")}
        fn = sess.rule_add if args.rule_verb == "add" else sess.rule_delete
        res = fn(args.group, **fields)
        _out(args, res, format_change(res))
        return 0
    if args.verb in ("attach", "detach"):
        fn = sess.attach_group if args.verb == "attach" else sess.detach_group
        res = fn(args.instance, args.group, args.eni)
        _out(args, res, format_change(res))
        return 0
    if args.verb == "probe":
        r = sess.probe(args.src, args.dst, args.proto, 6 if args.ipv6 else 4, args.timeout,
                       args.flags, pcap=args.pcap)
        _out(args, r, format_record(r))
        return 0 if r["match"] else 1
    if args.verb == "matrix":
        bar = Progress("probing", 0, None if not args.json else False)
        try:
            m = sess.matrix(ports, 6 if args.ipv6 else 4, args.timeout,
                            progress=bar.step, total=lambda n: setattr(bar, "total", n),
                            pcap=args.pcap, jobs=args.jobs)
        finally:
            bar.close()
        if args.junit:
            from sgnet.io import junit
            with _writing("--junit", args.junit):
                junit.write(args.junit, f"sgnet matrix {args.lab}", junit.matrix_cases(m))
        _out(args, m, format_matrix(m))
        return 0 if m["summary"]["wrong"] == 0 else 1
    if args.verb == "diff":
        d = sess.diff(args.changed, ports, 6 if args.ipv6 else 4, args.timeout)
        if args.junit:
            from sgnet.io import junit
            with _writing("--junit", args.junit):
                junit.write(args.junit, f"sgnet diff {args.lab} {args.changed}",
                            junit.diff_cases(d))
        _out(args, d, format_diff(d))
        confirmed = all(r["confirmed"] for r in d["gained"] + d["lost"])
        return 0 if confirmed and d["summary"]["clone_mismatches"] == 0 else 1
    if args.verb == "report":
        from sgnet.io import report
        m = sess.matrix(ports, 6 if args.ipv6 else 4, args.timeout)
        with _writing("-o", args.output), open(args.output, "w", encoding="utf-8") as f:
            f.write(report.render(sess.lab, m))
        _out(args, {"lab": args.lab, "output": args.output, "summary": m["summary"]},
             f"wrote {args.output}: {m['summary']['total']} flows, "
             f"{m['summary']['wrong']} wrong")
        return 0 if m["summary"]["wrong"] == 0 else 1
    if args.verb == "exec":
        cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        if not cmd:
            raise LabError("exec needs a command: sgnet exec LAB NAME -- CMD...")
        import subprocess
        try:
            return sess.exec(args.name, cmd).returncode
        except subprocess.SubprocessError:  # its namespace could not be entered
            raise EnvError(f"cannot enter the namespace of {args.name}: is lab {args.lab} "
                           f"whole? (sgnet status {args.lab})") from None
        except FileNotFoundError:
            raise LabError(f"command not found: {shown(cmd[0])}") from None
        except (OSError, ValueError) as e:  # not executable, a NUL in an argument...
            raise LabError(f"cannot run {shown(cmd[0])}: {getattr(e, 'strerror', None) or e}") \
                from None
    raise LabError(f"unknown verb {args.verb}")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["agent"]:  # a host's part of a multi-host lab (not for users)
        from sgnet.hosts import agent
        return agent.main(argv[1:])
    for stream in (sys.stdout, sys.stderr):  # a file name of undecodable bytes, printed
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")
    try:
        return run(argv)
    except SgnetError as e:
        print(f"sgnet: error: {e}", file=sys.stderr)
        if "--json" in argv:
            print(json.dumps({"error": str(e), "exit_code": e.exit_code}))
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except PermissionError as e:
        print(f"sgnet: error: {e}: run as root (sudo sgnet ...)", file=sys.stderr)
        return EnvError.exit_code


if __name__ == "__main__":
    sys.exit(main())

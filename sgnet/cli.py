"""The `sgnet` command line (contract §2; the shell's front door): the parser, one handler
per verb, and what every verb checks before any work (output paths, flows, the LAB's name).

Text output is `sgnet.cli_format`'s. The session, and with it the kernel, is imported only
by the verbs that need a lab: `lint` and `import` run without one, and start quickly."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys

from sgnet.cli_format import (format_access, format_change, format_diff, format_explain,
                              format_findings, format_hits, format_import, format_matrix,
                              format_record, format_removed, format_replay, format_report,
                              format_status, format_verify)
from sgnet.core.errors import EnvError, LabError, SgnetError
from sgnet.core.labspec import MAX_SECONDARY_ENIS, RULE_FIELDS, RUN_BOUNDS
from sgnet.core.values import bounded_int
from sgnet.core.errors import short as shown
from sgnet.io.importers import KINDS
from sgnet.io.progress import Progress

EPILOG = """exit codes: 0 success (matrix/probe: every observed verdict and the rule the
kernel reported as expected), 1 a mismatch between kernel and expectation, 2 bad input or
usage (nothing changed), 3 environment problem (not root, kernel feature or package
missing) or a lost probe (neither answered nor dropped by a lab rule: a lab fault).
Lab files, verdict records and examples: see README.md and examples/."""


LOST = 3  # exit status when a probe was lost: a lab fault, like an environment problem


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
# reads them: values.bounded_int). --priority is left to the lab file's rule parser.
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


# -- the parser, by group of verbs (in the order `--help` lists them) --------------------
def _timeout_option(s):
    s.add_argument("--timeout", type=_seconds, default=1.0,
                   help=f"seconds to wait for answers (default 1, at most {MAX_TIMEOUT:g})")


def _flow_options(s):
    """The flows a matrix-like verb covers."""
    s.add_argument("--ports", default=None,
                   help="comma-separated, default tcp/22,tcp/80,udp/53,icmp")
    s.add_argument("-6", dest="ipv6", action="store_true", help="IPv6")
    _timeout_option(s)


def _lab_verbs(verb):
    """up, down, status: a lab's life."""
    s = verb("up", "validate a lab file, build the lab, apply every group (idempotent for "
             "the same file)")
    s.add_argument("file", metavar="LAB.yaml")
    s.add_argument("--jobs", type=_integer(1, MAX_JOBS), default=None,
                   help="worker processes building the lab (default: the CPUs)")
    s = verb("down", "remove everything a lab created (safe after a crash)")
    s.add_argument("lab", nargs="?", metavar="LAB")
    s.add_argument("--all", action="store_true", help="every lab on this machine")
    s = verb("status", "instances, ENIs, addresses, groups, rule counts, conntrack entries")
    s.add_argument("lab", nargs="?", metavar="LAB")
    s.add_argument("--rules", action="store_true", help="packets each rule has matched in the "
                   "kernel, per group and instance")


def _rule_options(r, required: bool):
    """`rule add|delete`: the flags mirror the lab file's rule keys (RULE_FIELDS)."""
    r.add_argument("lab", metavar="LAB")
    r.add_argument("group", metavar="GROUP")
    r.add_argument("--direction", choices=["ingress", "egress"], required=required)
    r.add_argument("--action", required=required, help="allow | deny (accept | drop)")
    r.add_argument("--priority", help="1-100, 1 is highest")
    r.add_argument("--ethertype", help="IPv4 | IPv6")
    r.add_argument("--protocol", required=required,
                   help="tcp | udp | icmp | icmpv6 | gre | all | 0-255")
    r.add_argument("--ports", help="'22', '22,80,8000-8080', '22/22', '-1/-1'")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--remote", help="IP or CIDR")
    g.add_argument("--remote-group", dest="remote_group", help="a group, or self")
    g.add_argument("--remote-prefix-list", dest="remote_prefix_list")
    r.add_argument("--description")


def _change_verbs(verb, common):
    """rule add|delete, attach, detach: live changes to a running lab."""
    rule = verb("rule", "add or delete a rule of a running lab's group, applied atomically to "
                "every affected instance")
    rsub = rule.add_subparsers(dest="rule_verb", metavar="add|delete", parser_class=_Parser)
    rsub.required = True
    for name, text in (("add", "add a rule (flags mirror the lab file's rule keys)"),
                       ("delete", "delete the one rule that agrees with every given flag")):
        _rule_options(rsub.add_parser(name, parents=[common], help=text), name == "add")
    for name, text in (("attach", "add an instance (or one of its ENIs) to a group, live"),
                       ("detach", "remove an instance (or one of its ENIs) from a group, live")):
        a = verb(name, text)
        a.add_argument("lab", metavar="LAB")
        a.add_argument("instance", metavar="INSTANCE")
        a.add_argument("group", metavar="GROUP")
        a.add_argument("--eni", type=_integer(0, MAX_SECONDARY_ENIS), default=0,
                       help="0 = primary (default), 1.. secondary")


def _flow_verbs(verb):
    """probe, explain, matrix, diff, report: what the rules and the kernel do to flows."""
    for name, text in (("probe", "send real packets from SRC to DST and report what the "
                        "kernel did, next to what the provider's rules say"),
                       ("explain", "which group and rule decide a flow, in each direction, "
                        "and what the running lab's kernel did with it; with only DST (an "
                        "instance): its complete access table, every class of traffic it "
                        "accepts and sends, each confirmed by packets")):
        s = verb(name, text)
        s.add_argument("lab", metavar="LAB")
        explain = name == "explain"
        s.add_argument("src", metavar="DST" if explain else "SRC",
                       help="explain LAB DST: the instance's access table" if explain else
                       "instance or external name, or an IP")
        s.add_argument("dst", metavar="DST", nargs="?" if explain else None,
                       help="instance or external name, or an IP")
        s.add_argument("proto", metavar="PROTO[/PORT]", nargs="?" if explain else None,
                       help="tcp/22, udp/53, icmp, gre, 47...")
        s.add_argument("-6", dest="ipv6", action="store_true", help="IPv6")
        if explain:
            _timeout_option(s)
        if name == "probe":
            _timeout_option(s)
            s.add_argument("--pcap", metavar="FILE", help="write the probe and its answer, as "
                           "captured in the source namespace, to a pcap file")
            s.add_argument("--flags", default="S", help="TCP flags of the probe: S (a new "
                           "connection, default), or e.g. A, R, SA: a segment of no "
                           "connection, which groups must drop")
    s = verb("matrix", "every source x destination x port: expected (reference evaluator) "
             "against observed (real packets)")
    s.add_argument("lab", metavar="LAB")
    _flow_options(s)
    s.add_argument("--jobs", type=_integer(1, MAX_JOBS), default=None,
                   help="source namespaces probed in one round (default 1024)")
    s.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML")
    s.add_argument("--pcap", metavar="FILE", help="write the probes and their answers, as "
                   "captured in the namespaces, to a pcap file")
    s = verb("diff", "flows gained and lost if the running lab's groups became those of "
             "another file (evaluator, confirmed with real packets on a clone; the running "
             "lab is not touched)")
    s.add_argument("lab", metavar="LAB")
    s.add_argument("changed", metavar="CHANGED.yaml")
    _flow_options(s)
    s.add_argument("--junit", metavar="FILE", help="also write the changes as JUnit XML")
    s = verb("verify", "check intents (who may reach what) over the whole traffic space; "
             "each violation a class of traffic with its rule, confirmed by packets")
    s.add_argument("lab", metavar="LAB")
    s.add_argument("intents", metavar="INTENTS.yaml")
    _timeout_option(s)
    s.add_argument("--junit", metavar="FILE", help="also write a test case per intent")
    s = verb("replay", "replay production's VPC flow logs (Huawei LTS, Alibaba SLS exports) "
             "on the running lab, each distinct flow once, and with --against on a clone "
             "carrying changed groups: what was logged against what the lab does")
    s.add_argument("lab", metavar="LAB")
    s.add_argument("logs", nargs="+", metavar="LOG", help="flow-log files (lines, JSON "
                   "lines, CSV, SLS query JSON; gzip too)")
    s.add_argument("--format", choices=["huawei", "alibaba"], default=None,
                   help="the provider's record format (default: read from the file)")
    s.add_argument("--against", metavar="CHANGED.yaml", help="also on a clone with the groups "
                   "of this file: which logged flows the change cuts or opens")
    _timeout_option(s)
    s.add_argument("--junit", metavar="FILE", help="also write a test case per replayed flow")
    s = verb("report", "one self-contained HTML page: the topology as a picture and the "
             "reachability matrix as a grid")
    s.add_argument("lab", metavar="LAB")
    s.add_argument("-o", "--output", required=True, metavar="FILE.html")
    _flow_options(s)
    s.add_argument("--diff", metavar="CHANGED.yaml", help="also the classes of traffic the "
                   "groups of this file would change (confirmed on a clone)")
    s.add_argument("--verify", metavar="INTENTS.yaml", help="also these intents, with their "
                   "violations")
    s.add_argument("--replay", nargs="+", metavar="LOG", help="also these flow logs "
                   "replayed: where production and the lab disagree, and each rule's use")


def _file_verbs(verb):
    """import, lint, exec: lab files without a kernel, and a command inside a lab."""
    s = verb("import", "turn exported cloud configurations (Alibaba, Huawei, Terraform .tf "
             "files or `terraform show -json`) into a lab file")
    s.add_argument("--from", dest="kind", required=True, choices=list(KINDS))
    s.add_argument("files", nargs="+", metavar="FILE",
                   help="export files; for terraform also .tf files or directories")
    s.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                   help="terraform: a variable's value (repeatable)")
    s.add_argument("--var-file", action="append", default=[], metavar="FILE.tfvars",
                   help="terraform: a file of variable values (repeatable)")
    s.add_argument("-o", "--output", required=True, metavar="LAB.yaml")
    s.add_argument("--name", default="imported", help="the lab's name (1-8 chars [a-z0-9])")
    s = verb("lint", "least-privilege and consistency findings on a lab file's groups (no "
             "kernel needed)")
    s.add_argument("file", metavar="LAB.yaml")
    s.add_argument("--fail-on", choices=["info", "warning", "error"], default="error",
                   help="exit 1 if anything at or above this severity is found (default error)")
    s = verb("exec", "run a command inside an instance's or external's namespace: sgnet exec "
             "LAB NAME -- CMD...")
    s.add_argument("lab", metavar="LAB")
    s.add_argument("name", metavar="NAME")
    s.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p = _Parser(prog="sgnet", description="Cloud security groups (Huawei Cloud, Alibaba Cloud) "
                "on a real Linux datapath: network namespaces, nftables, real packets.",
                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                parents=[common])
    sub = p.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    sub.required = True

    def verb(name: str, text: str):
        return sub.add_parser(name, parents=[common], help=text)
    _lab_verbs(verb)
    _change_verbs(verb, common)
    _flow_verbs(verb)
    _file_verbs(verb)
    return p


# -- output files and flows, checked before any work -------------------------------
OUTPUTS = (("output", "-o"), ("junit", "--junit"), ("pcap", "--pcap"))
FLOW_VERBS = ("matrix", "diff", "report")  # the verbs of --ports


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
    from sgnet.core.flows import parse_proto
    if not args.ports:
        return None
    ports = [p.strip() for p in args.ports.split(",")]
    for p in ports:
        parse_proto(p, 6 if args.ipv6 else 4, "--ports")
    return ports


def _check_first(args):
    """What a verb refuses before anything is done: an output that could not be written,
    --ports and PROTO (args.flows: the flows asked for), the LAB's name."""
    for attr, option in OUTPUTS:
        if getattr(args, attr, None) is not None:
            check_output(option, getattr(args, attr))
    args.flows = _flows(args) if args.verb in FLOW_VERBS else None
    if args.verb == "explain" and (args.dst is None) != (args.proto is None):
        raise LabError("explain takes SRC DST PROTO (one flow) or DST alone (an instance's "
                       "access table)")
    if args.verb in ("probe", "explain") and args.proto is not None:  # PROTO, first
        from sgnet.core.flows import parse_proto
        parse_proto(args.proto, 6 if args.ipv6 else 4)
    if getattr(args, "lab", None) is not None:  # every verb's LAB, before anything is done
        from sgnet.state import check_name
        check_name(args.lab, "LAB")


# -- the verbs ------------------------------------------------------------------------
def _out(args, data, text):
    if args.json:
        print(json.dumps(data, indent=1, default=str))
    else:
        print(text)


def _family(args) -> int:
    return 6 if args.ipv6 else 4


def _bar(args, label: str, total: int) -> Progress:
    return Progress(label, total, None if not args.json else False)


def _up(args) -> int:
    from sgnet.io.labfile import load_file
    from sgnet.session import LabSession
    bar = _bar(args, "building", len(load_file(args.file).instances))
    try:
        sess = LabSession.up(args.file, progress=bar.step, jobs=args.jobs)
    finally:
        bar.close()
    st = sess.status()
    _out(args, st, f"lab {sess.lab.name} is up\n" + format_status(st))
    return 0


def _pick_lab(name):
    from sgnet import state
    if name:
        return name
    labs = state.known_labs()
    if len(labs) == 1:
        return labs[0]
    raise LabError("name the lab: " + (", ".join(labs) if labs else "no lab is up"))


def _labs_to_remove(args) -> set:
    from sgnet import state
    from sgnet.kernel import build
    from sgnet.session import LabSession
    if args.all:
        return set(state.known_labs()) | set(build.labs_left())
    lab = _pick_lab(args.lab)
    if not LabSession.exists(lab):  # a typo must not pass for a clean machine
        raise LabError(f"no lab {lab}: nothing removed (labs here: "
                       f"{', '.join(state.known_labs()) or 'none'})")
    return {lab}


def _down(args) -> int:
    from sgnet.kernel import build
    from sgnet.session import LabSession, require_environment
    require_environment()
    removed = {}
    for lab in sorted(_labs_to_remove(args)):
        bar = _bar(args, f"removing {lab}", len(build.namespaces_of(lab)))
        try:
            removed[lab] = LabSession.down(lab, progress=bar.step)
        finally:
            bar.close()
    _out(args, {"removed": removed}, format_removed(removed))
    return 0


def _status(args) -> int:
    from sgnet import state
    from sgnet.session import LabSession, require_environment
    require_environment()
    labs = [args.lab] if args.lab else state.known_labs()
    read, fmt = ((LabSession.rule_hits, format_hits) if args.rules
                 else (LabSession.status, format_status))
    sts = [read(LabSession.attach(lab, repair=True)) for lab in labs]
    if args.json:
        print(json.dumps(sts[0] if args.lab else sts, indent=1))
    else:
        print("\n".join(fmt(s) for s in sts) or "no lab is up")
    return 0


def _import(args) -> int:
    from sgnet.io.importers.files import import_files
    from sgnet.core.labspec import parse
    res = import_files(args.kind, args.files, args.name, args.var, args.var_file)
    lab = parse(res.lab, args.output)  # what is written always reads back
    with _writing("-o", args.output), open(args.output, "w", encoding="utf-8") as f:
        f.write(res.to_yaml())
    for w in res.warnings:
        print(f"sgnet: warning: {w}", file=sys.stderr)
    done = {"output": args.output, "groups": len(res.lab.get("security_groups") or []),
            "instances": len(lab.instances), "warnings": res.warnings}
    _out(args, done, format_import(done))
    return 0


def _lint(args) -> int:
    from sgnet.io.labfile import load_file
    from sgnet.core.lint import at_or_above, lint
    findings = lint(load_file(args.file))
    _out(args, {"findings": findings}, format_findings(findings))
    return 1 if at_or_above(findings, args.fail_on) else 0


def _explain(args) -> int:
    from sgnet.session import LabSession
    sess = LabSession.attach(args.lab)
    if args.dst is None:  # explain LAB DST: the access table
        from sgnet.classprobe import access
        t = access(sess, args.src, args.timeout)
        _out(args, t, format_access(t))
        return LOST if t["summary"].get("lost") else 1 if t["summary"]["disagree"] else 0
    e = sess.explain(args.src, args.dst, args.proto, _family(args), args.timeout)
    _out(args, e, format_explain(e))
    return LOST if e["kernel"]["observed"] == "lost" else 0


# verbs on a running lab: (args, its session, attached and repaired)
def _rule(args, sess) -> int:
    fn = sess.rule_add if args.rule_verb == "add" else sess.rule_delete
    res = fn(args.group, **{k: getattr(args, k) for k in RULE_FIELDS})
    _out(args, res, format_change(res))
    return 0


def _membership(args, sess) -> int:
    fn = sess.attach_group if args.verb == "attach" else sess.detach_group
    res = fn(args.instance, args.group, args.eni)
    _out(args, res, format_change(res))
    return 0


def _probe(args, sess) -> int:
    r = sess.probe(args.src, args.dst, args.proto, _family(args), args.timeout, args.flags,
                   pcap=args.pcap)
    _out(args, r, format_record(r))
    return LOST if r["observed"] == "lost" else 0 if r["match"] else 1


def _matrix(args, sess) -> int:
    bar = _bar(args, "probing", 0)
    try:
        m = sess.matrix(args.flows, _family(args), args.timeout,
                        progress=bar.step, total=lambda n: setattr(bar, "total", n),
                        pcap=args.pcap, jobs=args.jobs)
    finally:
        bar.close()
    _junit(args, f"sgnet matrix {args.lab}", "matrix_cases", m)
    _out(args, m, format_matrix(m))
    return _verdicts_exit(m["summary"])


def _verdicts_exit(summary) -> int:
    """A lost probe is a lab fault (exit 3), before any mismatch (1)."""
    return LOST if summary.get("lost") else 0 if summary["wrong"] == 0 else 1


def _junit(args, name: str, cases: str, answer: dict):
    """--junit FILE: the answer's test cases (sgnet.io.junit.<cases>) written there."""
    if args.junit:
        from sgnet.io import junit
        with _writing("--junit", args.junit):
            junit.write(args.junit, name, getattr(junit, cases)(answer))


def _diff(args, sess) -> int:
    # the whole space: both families, unless -6 or --ports (read in one family) narrow it
    family = _family(args) if args.ipv6 or args.flows else None
    d = sess.diff(args.changed, args.flows, family, args.timeout)
    _junit(args, f"sgnet diff {args.lab} {args.changed}", "diff_cases", d)
    _out(args, d, format_diff(d))
    if d["summary"].get("clone_lost"):
        return LOST
    return 0 if d["summary"]["clone_mismatches"] == 0 else 1


def _verify(args, sess) -> int:
    from sgnet.classprobe import verify
    v = verify(sess, args.intents, args.timeout)
    _junit(args, f"sgnet verify {args.lab} {args.intents}", "verify_cases", v)
    _out(args, v, format_verify(v))
    if v["summary"].get("lost"):
        return LOST
    return 0 if v["summary"]["violated"] == 0 else 1


def _replay(args, sess) -> int:
    from sgnet.replaying import replay
    r = replay(sess, args.logs, args.format, args.against, args.timeout)
    _junit(args, f"sgnet replay {args.lab}", "replay_cases", r)
    _out(args, r, format_replay(r))
    s = r["summary"]
    if s.get("lost"):
        return LOST
    return 1 if s["disagree"] or s.get("cut") else 0


def _report(args, sess) -> int:
    from sgnet import classprobe
    from sgnet.io.report import page
    m = sess.matrix(args.flows, _family(args), args.timeout)
    tables = classprobe.access_tables(sess, [i.name for i in sess.lab.instances], args.timeout)
    d = sess.diff(args.diff, None, None, args.timeout) if args.diff else None
    v = classprobe.verify(sess, args.verify, args.timeout) if args.verify else None
    rp = None
    if args.replay:
        from sgnet.replaying import replay
        rp = replay(sess, args.replay, None, None, args.timeout)
    with _writing("-o", args.output), open(args.output, "w", encoding="utf-8") as f:
        f.write(page.render(sess.lab, m, access=tables, diff=d, verify=v, replay=rp))
    done = {"lab": args.lab, "output": args.output, "summary": m["summary"]}
    disagree = sum(t["summary"]["disagree"] for t in tables)
    if disagree:
        done["summary"] = dict(m["summary"], classes_disagree=disagree)
    _out(args, done, format_report(done))
    code = _verdicts_exit(m["summary"])
    return code or (1 if disagree or (d and d["summary"]["clone_mismatches"]) or
                    (v and v["summary"]["violated"]) or (rp and rp["summary"]["disagree"])
                    else 0)


def _exec(args, sess) -> int:
    import subprocess
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        raise LabError("exec needs a command: sgnet exec LAB NAME -- CMD...")
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


VERBS = {"up": _up, "down": _down, "status": _status, "import": _import, "lint": _lint,
         "explain": _explain}
LAB_VERBS = {"rule": _rule, "attach": _membership, "detach": _membership, "probe": _probe,
             "matrix": _matrix, "diff": _diff, "verify": _verify, "replay": _replay,
             "report": _report,
             "exec": _exec}


def run(argv) -> int:
    args = build_parser().parse_args(argv)
    _check_first(args)
    if args.verb in VERBS:
        return VERBS[args.verb](args)
    from sgnet.session import LabSession, require_environment
    require_environment()
    return LAB_VERBS[args.verb](args, LabSession.attach(args.lab, repair=True))


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

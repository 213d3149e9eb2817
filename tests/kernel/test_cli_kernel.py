"""The command line end to end, on the real kernel, and the lab's safety rules (needs root)."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sgnet.core import witness
import yaml

from helpers.cli import lab_file, sgnet
from sgnet.kernel import netns

pytestmark = pytest.mark.kernel
LABS = Path(__file__).parents[1] / "labs"


def web_lab(name="tcli"):
    raw = yaml.safe_load((LABS / "webserver.yaml").read_text())
    raw["name"] = name
    return raw


def namespaces(lab):
    return netns.list_names(f"{lab}-")


def test_cli_verbs_end_to_end(tmp_path, cleanup):
    f = lab_file(tmp_path, web_lab())
    cleanup.append("tcli")
    r = sgnet("up", f, "--json")
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert [i["name"] for i in st["instances"]] == ["web1", "web2"]
    assert namespaces("tcli") == ["tcli--gw", "tcli--world", "tcli-internet", "tcli-web1",
                                  "tcli-web2"]

    r = sgnet("status", "tcli", "--json")
    st = json.loads(r.stdout)
    web1 = st["instances"][0]
    assert web1["up"] and web1["enis"][0]["groups"] == ["Sys-WebServer"]
    assert web1["enis"][0]["rules"] == {"ingress": 7, "egress": 2}

    r = sgnet("probe", "tcli", "internet", "web1", "tcp/80", "--json")
    rec = json.loads(r.stdout)
    assert r.returncode == 0
    assert {k: rec[k] for k in ("src", "dst", "protocol", "port", "family", "expected",
                                "observed", "detail", "match")} == {
        "src": "internet", "dst": "web1", "protocol": "tcp", "port": 80, "family": "ipv4",
        "expected": "allow", "observed": "allow", "detail": "refused", "match": True}
    assert rec["decided_by"]["group"] == "Sys-WebServer" and rec["decided_by"]["rule"] == 3

    r = sgnet("probe", "tcli", "internet", "203.0.113.10", "tcp/80")  # an IP as endpoint
    assert r.returncode == 2 or "internet" in r.stdout
    r = sgnet("probe", "tcli", "internet", "web1", "tcp/8080", "-6")
    assert r.returncode == 0 and "observed deny (filtered), expected deny" in r.stdout

    r = sgnet("matrix", "tcli", "--ports", "tcp/22,tcp/8080,icmp", "--json")
    m = json.loads(r.stdout)
    assert r.returncode == 0 and m["lab"] == "tcli"
    assert m["summary"] == {"total": 18, "correct": 18, "wrong": 0}
    r = sgnet("matrix", "tcli", "--ports", "tcp/22,tcp/8080,icmp")
    assert r.returncode == 0 and "18 flows, 18 as expected (verdict and rule), 0 wrong" \
        in r.stdout
    assert re.search(r"internet\s+allow\s+allow", r.stdout)

    r = sgnet("explain", "tcli", "internet", "web1", "tcp/22", "--json")
    e = json.loads(r.stdout)
    assert e["expected"] == "allow" and e["decided_by"]["rule"] == 4
    r = sgnet("explain", "tcli", "internet", "web1", "tcp/25")
    assert "expected deny" in r.stdout and "no ingress rule of Sys-WebServer matched" in r.stdout

    r = sgnet("exec", "tcli", "web1", "--", "ip", "-br", "addr", "show", "eth0")
    # a /32: the ENI reaches its subnet through the gateway (no dynamic neighbours)
    assert r.returncode == 0 and "10.30.1.2/32" in r.stdout
    r = sgnet("exec", "tcli", "web1", "--", "sh", "-c", "exit 7")
    assert r.returncode == 7
    r = sgnet("exec", "tcli", "nosuch", "--", "true")
    assert r.returncode == 2 and "nosuch" in r.stderr

    r = sgnet("down", "tcli", "--json")
    assert r.returncode == 0 and len(json.loads(r.stdout)["removed"]["tcli"]) == 5
    assert namespaces("tcli") == []


def test_usage_errors_exit_2(tmp_path, cleanup):
    f = lab_file(tmp_path, web_lab("tuse"))
    cleanup.append("tuse")
    assert sgnet("up", f).returncode == 0
    for args in (["probe", "tuse", "web1"], ["probe", "tuse", "nosuch", "web1", "tcp/22"],
                 ["probe", "tuse", "internet", "web1", "tcp"],
                 ["probe", "tuse", "internet", "web1", "tcp/70000"],
                 ["probe", "tuse", "internet", "web1", "icmp/3"],
                 ["probe", "tuse", "internet", "web1", "bogus/1"],
                 ["matrix", "nolab"], ["frobnicate"], ["up", tmp_path / "missing.yaml"]):
        r = sgnet(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "error" in r.stderr


def test_kernel_mismatch_is_reported_with_exit_1(tmp_path, cleanup):
    f = lab_file(tmp_path, web_lab("tmis"))
    cleanup.append("tmis")
    assert sgnet("up", f).returncode == 0
    # Tamper with the kernel behind sgnet's back: drop tcp/80 in web1 before the groups,
    # by a rule that reports itself as web1's ingress default (from internet and from web2:
    # two flows of the matrix below): the kernel denies, for the default's reason.
    default = "0x%x" % witness.mark("ingress", 0, witness.DEFAULT)
    r = sgnet("exec", "tmis", "web1", "--", "nft", "insert", "rule", "inet", "tmis", "in_eth0",
              "tcp", "dport", "80", "meta", "mark", "set", default, "log", "prefix",
              '"sgnet-"', "group", str(witness.LOG_GROUP), "drop")
    assert r.returncode == 0, r.stderr
    r = sgnet("matrix", "tmis", "--ports", "tcp/80,tcp/22")
    assert r.returncode == 1
    assert "2 wrong" in r.stdout and "deny!" in r.stdout and "MISMATCH" in r.stdout
    r = sgnet("probe", "tmis", "internet", "web1", "tcp/80", "--json")
    rec = json.loads(r.stdout)
    assert r.returncode == 1 and (rec["expected"], rec["observed"], rec["match"]) == \
        ("allow", "deny", False)
    assert rec["mismatch"] == "verdict" and rec["observed_by"]["group"] is None
    # `up` of the same file is idempotent and re-asserts the groups: the mismatch is gone
    assert sgnet("up", f).returncode == 0
    assert sgnet("probe", "tmis", "internet", "web1", "tcp/80").returncode == 0
    # a rule reporting another lab rule's mark with the expected verdict: the kernel lets
    # tcp/80 in for a reason the provider's rules do not give (a rule-level mismatch)
    other = "0x%x" % witness.entry_mark("ingress", 0, 0)
    r = sgnet("exec", "tmis", "web1", "--", "nft", "insert", "rule", "inet", "tmis", "in_eth0",
              "tcp", "dport", "80", "meta", "mark", "set", other, "log", "prefix",
              '"sgnet+"', "group", str(witness.LOG_GROUP), "accept")
    assert r.returncode == 0, r.stderr
    r = sgnet("matrix", "tmis", "--ports", "tcp/80")
    assert r.returncode == 1 and "allow~" in r.stdout and "RULE MISMATCH" in r.stdout
    rec = json.loads(sgnet("probe", "tmis", "internet", "web1", "tcp/80", "--json").stdout)
    assert (rec["observed"], rec["mismatch"], rec["observed_by"]["rule"]) == ("allow", "rule", 0)
    assert sgnet("up", f).returncode == 0
    # a drop by no lab rule at all: the probe is lost, a lab fault (exit 3), not a deny
    r = sgnet("exec", "tmis", "web1", "--", "nft", "insert", "rule", "inet", "tmis", "input",
              "tcp", "dport", "80", "drop")
    assert r.returncode == 0, r.stderr
    r = sgnet("probe", "tmis", "internet", "web1", "tcp/80", "--timeout", "0.5", "--json")
    rec = json.loads(r.stdout)
    assert r.returncode == 3 and rec["observed"] == "lost" and "mismatch" not in rec


def test_up_of_another_file_with_the_same_name_changes_nothing(tmp_path, cleanup):
    f = lab_file(tmp_path, web_lab("tidem"))
    cleanup.append("tidem")
    assert sgnet("up", f).returncode == 0
    before = namespaces("tidem")
    ruleset = sgnet("exec", "tidem", "web1", "--", "nft", "list", "ruleset").stdout
    other = web_lab("tidem")
    other["instances"][0]["security_groups"] = ["Sys-FullAccess"]
    r = sgnet("up", lab_file(tmp_path, other, "other.yaml"))
    assert r.returncode == 2 and "already up from a different file" in r.stderr
    assert namespaces("tidem") == before
    assert sgnet("exec", "tidem", "web1", "--", "nft", "list", "ruleset").stdout == ruleset


def _host_snapshot():
    def run(*cmd):
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        return re.sub(r"expires \d+sec", "", out)
    return {
        "links": run("ip", "-o", "link", "show"),
        "addrs": run("ip", "-br", "addr"),
        "routes4": run("ip", "route", "show", "table", "all"),
        "routes6": run("ip", "-6", "route", "show", "table", "all"),
        "rules": run("ip", "rule") + run("ip", "-6", "rule"),
        "nft": run("nft", "list", "ruleset"),
    }


def test_the_host_network_is_never_touched(tmp_path, cleanup):
    before = _host_snapshot()
    f = lab_file(tmp_path, web_lab("tsafe"))
    cleanup.append("tsafe")
    assert sgnet("up", f).returncode == 0
    during = _host_snapshot()
    assert sgnet("matrix", "tsafe", "--ports", "tcp/22,udp/53,icmp").returncode == 0
    assert sgnet("down", "tsafe").returncode == 0
    after = _host_snapshot()
    for key in before:
        assert during[key] == before[key], f"the host's {key} changed while the lab was up"
        assert after[key] == before[key], f"the host's {key} changed"


def test_down_after_a_crash_removes_everything(tmp_path, cleanup):
    raw = web_lab("tcrash")
    raw["instances"] = [{"name": f"vm{i}", "subnet": "s1"} for i in range(40)]
    f = lab_file(tmp_path, raw)
    cleanup.append("tcrash")
    p = subprocess.Popen([sys.executable, "-m", "sgnet.cli", "up", str(f)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while len(namespaces("tcrash")) < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)  # killed part-way through the build
    p.wait()
    assert namespaces("tcrash"), "the build should have started"
    r = sgnet("down", "tcrash")
    assert r.returncode == 0 and namespaces("tcrash") == []
    # a lab whose state on disk is gone is still removed by its prefix
    assert sgnet("up", f).returncode == 0
    for fn in ("state.json", "lab.yaml"):
        os.unlink(f"/run/sgnet/tcrash/{fn}")
    assert len(namespaces("tcrash")) == 43  # the gateway, 40 instances, an external, the world
    assert sgnet("down", "tcrash").returncode == 0 and namespaces("tcrash") == []
    # and `up` after a crash rebuilds from scratch
    p = subprocess.Popen([sys.executable, "-m", "sgnet.cli", "up", str(f)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while len(namespaces("tcrash")) < 10 and time.monotonic() < deadline + 30:
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()
    r = sgnet("up", f)
    assert r.returncode == 0, r.stderr
    assert len(namespaces("tcrash")) == 43  # the gateway, 40 instances, an external, the world
    assert sgnet("probe", "tcrash", "vm0", "vm39", "tcp/22").returncode == 0


def test_not_root_is_exit_3():
    """`sgnet up` as an unprivileged user: exit 3, saying why, nothing made. The CLI runs in
    a forked child that drops to nobody after sgnet is imported, so the test does not depend
    on nobody being able to read the checkout (a clone in a 0700 mktemp directory)."""
    import tempfile
    import sgnet.session  # noqa: F401  (everything `up` needs, imported while still root)
    from sgnet import cli
    d = Path(tempfile.mkdtemp(prefix="sgnet-test-"))  # readable by the unprivileged user
    os.chmod(d, 0o755)
    f = lab_file(d, web_lab("troot"))
    os.chmod(f, 0o644)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: nobody, its stderr into the pipe
        code = 70
        try:
            os.close(r)
            os.dup2(w, 2)
            sys.stderr = open(2, "w", closefd=False)  # pytest's capture is no file
            os.chdir("/")
            os.environ["HOME"] = "/"
            os.setgid(65534)
            os.setuid(65534)
            code = cli.main(["up", str(f)])
        finally:
            sys.stderr.flush()
            os._exit(code if isinstance(code, int) else 70)
    os.close(w)
    with os.fdopen(r) as pipe:
        err = pipe.read()
    status = os.waitpid(pid, 0)[1]
    assert os.waitstatus_to_exitcode(status) == 3, err
    assert "root" in err
    assert namespaces("troot") == []
    f.unlink()
    d.rmdir()

"""pytest plugin (entry point pytest11): kernel-backed tests of your own security groups.

    def test_ssh_closed_to_the_world(sgnet_lab):
        lab = sgnet_lab("lab.yaml")
        v = lab.probe("internet", "web1", "tcp/22")
        assert v.observed == v.expected == "deny"

The lab is torn down after the test, pass or fail.
"""

from __future__ import annotations

import os
import tempfile

import pytest
import yaml


class Verdict(dict):
    """A verdict record (contract §3) whose keys are also attributes: v.observed, v.expected,
    and within its rules too: v.observed_by.rule, v.decided_by.group."""

    def __getattr__(self, key):
        try:
            value = self[key]
        except KeyError:
            raise AttributeError(key) from None
        return Verdict(value) if isinstance(value, dict) else value


class LabHandle:
    def __init__(self, session):
        self.session = session
        self.lab = session.lab
        self.name = session.lab.name

    def probe(self, src, dst, proto, family=4, timeout=1.0, tcp_flags="S") -> Verdict:
        return Verdict(self.session.probe(src, dst, proto, family, timeout, tcp_flags))

    # live changes (contract §2), applied like `sgnet rule add` and friends
    def rule_add(self, group, **fields) -> dict:
        return self.session.rule_add(group, **fields)

    def rule_delete(self, group, **fields) -> dict:
        return self.session.rule_delete(group, **fields)

    def attach(self, instance, group, eni=0) -> dict:
        return self.session.attach_group(instance, group, eni)

    def detach(self, instance, group, eni=0) -> dict:
        return self.session.detach_group(instance, group, eni)

    def rule_hits(self) -> dict:
        return self.session.rule_hits()

    def explain(self, src, dst, proto, family=4) -> Verdict:
        return Verdict(self.session.explain(src, dst, proto, family))

    def matrix(self, ports=None, family=4, timeout=1.0, **kw) -> dict:
        m = self.session.matrix(ports, family, timeout, **kw)
        m["results"] = [Verdict(r) for r in m["results"]]
        return m

    def verify(self, intents, timeout=1.0) -> Verdict:
        """Intents (a file's path, or its content: a list of intents or {"intents": [...]})
        checked over the whole traffic space, as `sgnet verify`; v.summary.violated,
        v.intents[k]["violations"]."""
        from sgnet.classprobe import verify
        return Verdict(verify(self.session, intents, timeout))

    def access(self, instance, timeout=1.0) -> Verdict:
        """An instance's complete access table, as `sgnet explain LAB DST`."""
        from sgnet.classprobe import access
        return Verdict(access(self.session, instance, timeout))

    def diff(self, changed, ports=None, family=None, timeout=1.0) -> Verdict:
        """Every class of traffic a changed file's groups would turn, as `sgnet diff`
        (`changed`: a lab file's path)."""
        return Verdict(self.session.diff(changed, ports, family, timeout))

    def replay(self, logs, fmt=None, against=None, timeout=1.0) -> Verdict:
        """Flow-log files replayed on the lab (and with `against`, a changed lab file, on a
        clone), as `sgnet replay`; v.summary.disagree, v.flows, v.rules."""
        from sgnet.replaying import replay
        return Verdict(replay(self.session, list(logs), fmt, against, timeout))

    def exec(self, name, cmd, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        cmd = [str(c) for c in cmd] if isinstance(cmd, list) else ["sh", "-c", cmd]
        return self.session.exec(name, cmd, **kw)

    def popen(self, name, cmd, **kw):
        return self.session.popen(name, [str(c) for c in cmd], **kw)

    def status(self) -> dict:
        return self.session.status()


@pytest.fixture
def sgnet_lab():
    """Factory: sgnet_lab(path | dict | yaml text) -> a running lab, removed after the test."""
    from sgnet.session import LabSession

    names, tmpfiles = [], []

    def factory(lab):
        path = lab
        if isinstance(lab, dict) or (isinstance(lab, str) and "\n" in lab):
            text = yaml.safe_dump(lab, sort_keys=False) if isinstance(lab, dict) else lab
            fd, path = tempfile.mkstemp(suffix=".yaml", prefix="sgnet-lab-")
            with os.fdopen(fd, "w") as f:
                f.write(text)
            tmpfiles.append(path)
        from sgnet.io.labfile import load_file
        names.append(load_file(path).name)
        return LabHandle(LabSession.up(path))

    yield factory
    for name in names:
        LabSession.down(name)
    for p in tmpfiles:
        os.unlink(p)

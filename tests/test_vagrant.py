"""The Vagrant labs are checked with `vagrant validate` (scripts/test.sh installs Vagrant
from Debian's packages; where it cannot, this says why instead of passing)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("where", ["vagrant", "vagrant/multi"])
def test_vagrantfile_validates(where):
    if not shutil.which("vagrant"):
        pytest.skip(os.environ.get("SGNET_NO_VAGRANT")
                    or "vagrant is not installed (scripts/test.sh installs it from Debian)")
    r = subprocess.run(["vagrant", "validate"], cwd=ROOT / where, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "validated successfully" in r.stdout
    assert not (ROOT / where / ".keys").exists()  # validating makes no key


def test_multi_vm_lab_matches_the_vagrantfile():
    import re

    import yaml
    lab = yaml.safe_load((ROOT / "vagrant/multi/lab.yaml").read_text())
    vms = dict(re.findall(r'"(vm\d)" => "([\d.]+)"', (ROOT / "vagrant/multi/Vagrantfile")
                          .read_text()))
    assert {h["name"]: h["address"] for h in lab["hosts"]} == vms

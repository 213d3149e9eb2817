"""The Vagrant labs are checked with `vagrant validate` (scripts/test.sh installs Vagrant
from Debian's packages; where it cannot, this says why instead of passing).

`--ignore-provider`: a plain `validate` first picks a usable provider, and a machine with
no hypervisor (CI, a VM without nested virtualisation) has none ("No usable default
provider"), so the check would pass only where VirtualBox or libvirt happens to run. With
it, the same check runs everywhere: the Ruby is evaluated and every setting outside the
provider blocks (box, synced folders, networks, provisioners, machine names) is validated;
only the `config.vm.provider` blocks (memory, CPUs) are not."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize("where", ["vagrant", "vagrant/multi"])
def test_vagrantfile_validates(where, tmp_path):
    if not shutil.which("vagrant"):
        pytest.skip(os.environ.get("SGNET_NO_VAGRANT")
                    or "vagrant is not installed (scripts/test.sh installs it from Debian)")
    # Vagrant's home and the machine's .vagrant folder in tmp_path: nothing is written to
    # the tree or to root's ~/.vagrant.d, and no plugin installed there changes the check
    env = dict(os.environ, VAGRANT_HOME=str(tmp_path / "home"),
               VAGRANT_DOTFILE_PATH=str(tmp_path / "dot"), VAGRANT_CHECKPOINT_DISABLE="1")
    run = lambda *a: subprocess.run(["vagrant", *a], cwd=ROOT / where, env=env,  # noqa
                                    capture_output=True, text=True, timeout=120)
    if "--ignore-provider" not in run("validate", "--help").stdout:
        pytest.skip("this Vagrant's validate has no --ignore-provider (Vagrant >= 2.2.3 has):"
                    " without it, validating needs a hypervisor")
    made = lambda: {n for n in (".keys", ".vagrant") if (ROOT / where / n).exists()}  # noqa
    before = made()  # a user's own `vagrant up` leaves both
    r = run("validate", "--ignore-provider")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "validated successfully" in r.stdout
    assert made() == before  # validating makes no key and no machine folder


def test_multi_vm_lab_matches_the_vagrantfile():
    import re

    import yaml
    lab = yaml.safe_load((ROOT / "vagrant/multi/lab.yaml").read_text())
    vms = dict(re.findall(r'"(vm\d)" => "([\d.]+)"', (ROOT / "vagrant/multi/Vagrantfile")
                          .read_text()))
    assert {h["name"]: h["address"] for h in lab["hosts"]} == vms

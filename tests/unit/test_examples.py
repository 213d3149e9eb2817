"""Every example under examples/ is a valid lab file (the kernel half: tests/kernel/test_examples_kernel.py)."""

from pathlib import Path

import pytest

from sgnet.io.labfile import load_file

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))
PORTS = ["tcp/22", "tcp/80", "tcp/3306", "tcp/8080", "udp/53", "icmp"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_is_valid(path):
    lab = load_file(str(path))
    assert lab.instances

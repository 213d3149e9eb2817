"""Suite-wide: tests under tests/kernel/ and tests/multihost/ are kernel-backed (marked by
folder), and skip with the reason when not run as root; no test may leave a namespace."""

import os
from pathlib import Path

import pytest

KERNEL_FOLDERS = {"kernel", "multihost"}
NETNS_DIR = "/run/netns"  # where named namespaces are mounted (iproute2's convention)


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent.name in KERNEL_FOLDERS:
            item.add_marker(pytest.mark.kernel)


def pytest_runtest_setup(item):
    if item.get_closest_marker("kernel") and os.geteuid() != 0:
        pytest.skip("kernel-backed test: needs root to make namespaces and nftables rulesets "
                    "(sudo scripts/test.sh)")


def _namespaces() -> set:
    # Read the directory rather than import sgnet.kernel: pure tests import nothing of the shell.
    try:
        return set(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return set()


@pytest.fixture(scope="session", autouse=True)
def no_namespace_left_behind():
    before = _namespaces()
    yield
    left = _namespaces() - before
    assert not left, f"tests left namespaces behind: {sorted(left)}"

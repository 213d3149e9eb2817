"""Suite-wide: tests under tests/kernel/ and tests/multihost/ are kernel-backed (marked by
folder), and skip with the reason when not run as root; no test may leave a namespace."""

import os
from pathlib import Path

import pytest

from helpers.netns_dir import namespaces

KERNEL_FOLDERS = {"kernel", "multihost"}


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent.name in KERNEL_FOLDERS:
            item.add_marker(pytest.mark.kernel)


def pytest_runtest_setup(item):
    if item.get_closest_marker("kernel") and os.geteuid() != 0:
        pytest.skip("kernel-backed test: needs root to make namespaces and nftables rulesets "
                    "(sudo scripts/test.sh)")


@pytest.fixture(scope="session", autouse=True)
def no_namespace_left_behind():
    before = set(namespaces())
    yield
    left = set(namespaces()) - before
    assert not left, f"tests left namespaces behind: {sorted(left)}"

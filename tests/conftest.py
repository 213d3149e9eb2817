import os

import pytest

from sgnet import netns


def pytest_runtest_setup(item):
    if item.get_closest_marker("kernel") and os.geteuid() != 0:
        # Kernel tests are the point of this project: a non-root run fails, never skips.
        pytest.fail("kernel-backed test: run as root (sudo scripts/test.sh)")


@pytest.fixture(scope="session", autouse=True)
def no_namespace_left_behind():
    before = set(netns.list_names())
    yield
    left = set(netns.list_names()) - before
    assert not left, f"tests left namespaces behind: {sorted(left)}"

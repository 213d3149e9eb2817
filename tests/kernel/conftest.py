"""Fixtures of the kernel-backed tests."""

import pytest

from helpers.cli import take_down


@pytest.fixture
def cleanup():
    """Append the name of every lab a test brings up: each is taken down after the test,
    and nothing of it may be left (namespaces, state directory)."""
    names = []
    yield names
    take_down(names)

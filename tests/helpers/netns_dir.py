"""The named network namespaces, read from their directory (iproute2's convention), so that
the suite's own checks import nothing of sgnet's shell."""

import os

NETNS_DIR = "/run/netns"


def namespaces(prefix: str = "") -> list:
    try:
        return sorted(n for n in os.listdir(NETNS_DIR) if n.startswith(prefix))
    except FileNotFoundError:
        return []

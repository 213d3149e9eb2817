"""A TCP port of 127.0.0.1 that nothing listens on (free when this returns)."""

import socket


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

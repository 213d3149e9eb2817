"""New-connection rate helpers, run inside lab namespaces by bench/datapath.py."""

import socket
import struct
import sys
import time


def server(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(port)))
    s.listen(4096)
    print("ready", flush=True)
    while True:
        c, _ = s.accept()
        c.close()


def client(addr, port, seconds):
    """Open and close connections for `seconds`; print how many per second."""
    linger = struct.pack("ii", 1, 0)  # close with RST: no TIME_WAIT piling up
    end = time.monotonic() + float(seconds)
    n = fail = 0
    t = time.monotonic()
    while time.monotonic() < end:
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        c.settimeout(1)
        try:
            c.connect((addr, int(port)))
            n += 1
        except OSError:
            fail += 1
        c.close()
    print(f"{n / (time.monotonic() - t):.1f} {fail}", flush=True)


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])

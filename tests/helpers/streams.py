"""Programs run inside lab namespaces by the stateful tests: a TCP echo server, a TCP
client that keeps a connection busy and reports every exchange, a delayed-push server for
timeouts, and a UDP echo pair for packet counting. Each prints plain lines on stdout."""

import socket
import sys
import time


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def tcp_echo_server(bind, port):
    import threading
    s = socket.socket(family_of(bind), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind, int(port)))
    s.listen(16)
    print("ready", flush=True)

    def serve(c):
        f = c.makefile("rwb", buffering=0)
        try:
            for line in f:
                if line.startswith(b"wait "):  # hold the session idle, then push a line
                    time.sleep(float(line.split()[1]))
                f.write(line)
        except OSError:
            pass

    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def tcp_busy_client(addr, port, seconds, interval):
    """One connection; a line every `interval` s; prints '<monotonic> ok|lost <n>'."""
    c = socket.socket(family_of(addr), socket.SOCK_STREAM)
    c.settimeout(3)
    c.connect((addr, int(port)))
    c.settimeout(float(interval) * 3)
    f = c.makefile("rwb", buffering=0)
    end = time.monotonic() + float(seconds)
    n = 0
    while time.monotonic() < end:
        n += 1
        try:
            f.write(b"ping %d\n" % n)
            got = f.readline()
            status = "ok" if got.strip() == b"ping %d" % n else "lost"
        except (socket.timeout, OSError):
            status = "lost"
        print(f"{time.monotonic():.3f} {status} {n}", flush=True)
        if status == "lost":  # the session is cut: keep the clock going, not the socket
            time.sleep(float(interval))
            continue
        time.sleep(float(interval))


def tcp_idle_client(addr, port, idle):
    """Ask the server to push a line after `idle` s of silence: prints got or timeout."""
    c = socket.socket(family_of(addr), socket.SOCK_STREAM)
    c.settimeout(3)
    c.connect((addr, int(port)))
    c.sendall(b"wait %s\n" % idle.encode())
    c.settimeout(float(idle) + 4)
    try:
        data = c.recv(100)
        print("got" if data.startswith(b"wait") else "closed", flush=True)
    except socket.timeout:
        print("timeout", flush=True)


def udp_echo_server(bind, port):
    s = socket.socket(family_of(bind), socket.SOCK_DGRAM)
    s.bind((bind, int(port)))
    print("ready", flush=True)
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(data, peer)


def udp_stream_client(addr, port, stopfile, rate):
    """Send numbered datagrams at `rate` per second until `stopfile` exists, count the
    echoes: 'sent N got M'."""
    import os
    s = socket.socket(family_of(addr), socket.SOCK_DGRAM)
    s.connect((addr, int(port)))
    s.setblocking(False)
    got, sent = set(), 0
    gap = 1.0 / float(rate)
    nxt = time.monotonic()
    print("started", flush=True)
    while not os.path.exists(stopfile):
        if time.monotonic() >= nxt:
            s.send(b"%d" % sent)
            sent += 1
            nxt += gap
        try:
            while True:
                got.add(int(s.recv(64)))
        except BlockingIOError:
            pass
        time.sleep(gap / 4)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and len(got) < sent:
        try:
            got.add(int(s.recv(64)))
        except BlockingIOError:
            time.sleep(0.01)
    print(f"sent {sent} got {len(got)}", flush=True)


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])

"""Programs run inside lab namespaces by the stateful tests: a TCP echo server, a TCP
client that keeps a connection busy and reports which of its lines were echoed, a
delayed-push server for timeouts, and a UDP echo pair for packet counting. Each prints
plain lines on stdout."""

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


def tcp_busy_client(addr, port, stopfile, interval, drain):
    """One connection, a numbered line every `interval` s until `stopfile` exists, each
    echoed by tcp_echo_server. Prints 'started' once the first echo is back (or exits
    silently if none comes within 3 s), and at the end one line per line sent:
    '<monotonic time sent> ok|lost <n> <seconds to its echo, or ->'.

    A line is lost when its echo never comes, not when it is late: a cut session's
    segments are dropped for good (no tracked entry: each one is invalid), while a busy
    machine only delays a kept session's echoes (a server not scheduled for a while). So
    no line has a deadline of its own and sending never waits for echoes; those still
    missing when the stop file appears are awaited `drain` s more."""
    import os
    import select
    c = socket.socket(family_of(addr), socket.SOCK_STREAM)
    c.settimeout(3)
    c.connect((addr, int(port)))
    c.settimeout(None)
    sent, echoed, buf = [], {}, b""

    def send():
        sent.append(time.monotonic())
        c.sendall(b"ping %d\n" % len(sent))  # a few bytes: the buffer always has room

    def receive(wait) -> bool:
        """Take in the echoes that arrive within `wait` s; False once the peer is gone."""
        nonlocal buf
        if not select.select([c], [], [], max(0.0, wait))[0]:
            return True
        try:
            data = c.recv(4096)
        except OSError:  # reset
            return False
        buf += data
        *lines, buf = buf.split(b"\n")
        for line in lines:
            word, _, n = line.partition(b" ")
            if word == b"ping" and n.isdigit() and 0 < int(n) <= len(sent):
                echoed.setdefault(int(n), time.monotonic())
        return bool(data)

    try:
        send()
        first = time.monotonic() + 3
        while not echoed and time.monotonic() < first and receive(first - time.monotonic()):
            pass
        if not echoed:
            return
        print("started", flush=True)
        gap = float(interval)
        nxt = time.monotonic()
        while not os.path.exists(stopfile):
            if time.monotonic() >= nxt:
                send()
                nxt += gap
            if not receive(nxt - time.monotonic()):
                break
        until = time.monotonic() + float(drain)
        while len(echoed) < len(sent) and time.monotonic() < until \
                and receive(until - time.monotonic()):
            pass
    except OSError:  # the connection failed: what was not echoed is lost
        pass
    for n, t in enumerate(sent, 1):
        late = f"{echoed[n] - t:.3f}" if n in echoed else "-"
        print(f"{t:.3f} {'ok' if n in echoed else 'lost'} {n} {late}", flush=True)


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

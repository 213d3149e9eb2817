"""Run inside a lab namespace by bench/capacity.py: send one UDP packet each from N source
ports to DST:PORT on a raw socket (each passes conntrack: one tracked flow per packet)."""

import socket
import struct
import sys


def main(dst, port, n, first_sport=1024):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    sent = 0
    sport, base = int(first_sport), 0
    for i in range(int(n)):
        p = sport + i % 60000
        if i and i % 60000 == 0:
            base += 1  # more flows than ports: vary the destination port too
        s.sendto(struct.pack("!HHHH", p, int(port) + base, 8, 0), (dst, 0))
        sent += 1
    print(sent, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])

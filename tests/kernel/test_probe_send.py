"""The batched probe's reader, on the real kernel (a namespace of its own, loopback only)."""

import select
import socket
import time

import pytest

from sgnet.core.probes import ProbeSpec, parse_answer
from sgnet.kernel import netns
from sgnet.kernel.probe import packets, send

NS = "sgtdrain-lab"


@pytest.fixture
def loopback_ns():
    netns.create(NS, then=lambda ipr: ipr.link("set", index=1, state="up"))
    yield NS
    netns.remove(NS)
    assert not netns.exists(NS)


def test_answers_queued_before_the_reader_looks_count_after_the_deadline(loopback_ns):
    """On a loaded machine the reading child may run again only after its deadline: an
    answer that came in time and waits on the socket is still an answer (a busy-machine
    run once judged an allowed udp/53 flow 'filtered' this way)."""
    spec = ProbeSpec(NS, "127.0.0.1", "127.0.0.1", 17, 9, 4)  # nothing listens: unreachable
    tag = 40000

    def probe():
        ins = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(send.ETH_P_ALL))
        watch = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                              socket.htons(send.ETH_P_ALL))
        out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        out.setsockopt(socket.SOL_IP, socket.IP_HDRINCL, 1)
        ins.setblocking(False)
        try:
            out.sendto(packets.stamper().build(spec, tag), (spec.dst_ip, 0))
            seen, bound = False, time.monotonic() + 10
            while not seen and select.select([watch], [], [], bound - time.monotonic())[0]:
                data, addr = watch.recvfrom(65535)
                seen = addr[2] != send.PACKET_OUTGOING and parse_answer(data, 4) is not None
            assert seen, "the kernel sent no port unreachable within 10 s"
            answers = {}
            send._collect(ins, time.monotonic() - 1, 4, {tag}, answers, None)
            return answers
        finally:
            for s in (ins, watch, out):
                s.close()

    answers = netns.call(loopback_ns, probe)
    assert answers[tag][0] == "error" and answers[tag][1] == "127.0.0.1"

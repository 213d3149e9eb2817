"""Witnessed probing (kernel layer): send every probe and hear what the lab's rules did.

A probe run is shared among a few forked workers (one per CPU). Each owns some of the
namespaces concerned: for those that send, a raw IP socket per family (it passes the
source's OUTPUT hook, so its egress rules see the probe) and raw sockets per protocol that
hear the answers; for those with lab rules (instances, the gateway), an NFLOG listener
(sgnet.kernel.nflog). Sockets stay bound to the namespace they were opened in, so one epoll
loop per worker hears all its namespaces.

A probe is settled as soon as a rule reports dropping it, or its answer and the reports of
the rules that let it through are in, whichever worker heard them: workers share one byte
of flags per probe and worker (anonymous shared memory; flags are only ever set). Only
probes nobody accounts for wait for the timeout (they are `lost`:
sgnet.core.witness.judge). What each probe met is returned as facts, the verdict is judged
in the core.
"""

from __future__ import annotations

import functools
import gc
import ipaddress
import mmap
import os
import pickle
import select
import socket
import struct
import tempfile
import threading
import time

from sgnet.core.probes import parse_answer, parse_l4, probe_tag
from sgnet.core.witness import packet_key
from sgnet.core.values import ICMP, ICMPV6, TCP, UDP
from sgnet.kernel import netns, nflog, workers
from sgnet.kernel.probe.packets import load_scapy, stamper

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_RCVBUFFORCE = 33
BATCH = 64  # probes sent between two looks at what came back
IDLE = 0.005  # seconds between two looks at the other workers' flags when nothing comes
DEFAULT_JOBS = 1024  # source namespaces sent from in one round (about 8 sockets each)

# a probe's flags (one byte per probe and worker)
ANSWERED, SRC_HEARD, DST_HEARD, DROPPED, ROUTER_ERROR = 1, 2, 4, 8, 16


def _source_sockets(families: set, capture: bool):
    """In the source's namespace: {family: raw sending socket}, [(family, receiving
    socket)]. Raw sockets per protocol hear the answers (an IPv4 one with its IP header,
    an IPv6 one without); a capture uses a packet socket instead, which also sees our own
    probes leave (and costs an RCU grace period to close)."""
    raw, ins = {}, []
    for fam in families:
        af = socket.AF_INET if fam == 4 else socket.AF_INET6
        s = socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_RAW)
        if fam == 4:
            s.setsockopt(socket.SOL_IP, socket.IP_HDRINCL, 1)
        raw[fam] = s
        if capture:
            continue
        for proto in (TCP, UDP, ICMP if fam == 4 else ICMPV6):
            r = socket.socket(af, socket.SOCK_RAW, proto)
            r.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 1 << 22)
            r.setblocking(False)
            ins.append((fam, proto, r))
    if capture:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 1 << 24)
        s.setblocking(False)
        ins.append((None, None, s))
    return raw, ins


@functools.lru_cache(maxsize=1 << 16)
def _canon(ip: str) -> str:
    return str(ipaddress.ip_address(ip))


class _Shared:
    """What the forked workers share (anonymous shared memory): flags per probe and
    worker, and per worker a slot: its own probes settled / to settle, all its probes
    (with those it only watches for) settled / to settle, its deadline, whether its sockets
    are open. Two control bytes: go (a gated run may send) and stop (stop listening)."""
    # Every field is 8-byte aligned and 8 bytes wide, so that each is written and read in
    # one piece (a field read while another process writes it is never half old, half new).
    SLOT = struct.Struct("=qqqqqd")
    CONTROL = 8

    def __init__(self, n: int, workers_n: int):
        self.n, self.w = n, workers_n
        self.head = self.CONTROL + self.SLOT.size * workers_n
        # a mailbox per (writer, owner): the probes whose flags the writer set for the
        # owner to look at again (a tail, then indices; each report is one, so 4 per probe
        # is room enough; beyond it the owner looks at all its probes)
        self.box_len = 4 * n + 16
        self.boxes = _aligned(self.head + n * workers_n)
        self.box_size = _aligned(8 + 4 * self.box_len)
        # a byte per probe, written by the gated run's controller thread only: the probes
        # another host saw answered, whose destination here must report them
        self.awaited_at = self.boxes + self.box_size * workers_n * workers_n
        self.mem = mmap.mmap(-1, self.awaited_at + n)
        self.seen = [0] * workers_n  # (each worker's own copy, after fork)

    def set(self, w: int, i: int, bit: int):
        at = self.head + w * self.n + i
        self.mem[at] |= bit

    def get(self, i: int) -> int:
        out = 0
        for w in range(self.w):
            out |= self.mem[self.head + w * self.n + i]
        return out

    def progress(self, w: int, sent_settled, sent_total, settled, total, deadline, ready=1):
        self.SLOT.pack_into(self.mem, self.CONTROL + self.SLOT.size * w, sent_settled,
                            sent_total, settled, total, ready, deadline)

    def slots(self) -> list:
        return [self.SLOT.unpack_from(self.mem, self.CONTROL + self.SLOT.size * k)
                for k in range(self.w)]

    def ready(self) -> bool:
        return all(slot[4] for slot in self.slots())

    def sent_done(self) -> bool:
        """Every worker's own probes settled (or past their deadline)."""
        now = time.monotonic()
        return all(a >= b or now >= d for a, b, _, _, _, d in self.slots())

    def all_done(self) -> tuple:
        """(every worker's probes settled, the latest deadline)."""
        slots = self.slots()
        return all(c >= t for _, _, c, t, _, _ in slots), max(d for *_, d in slots)

    def tell(self, writer: int, owner: int, i: int):
        """Let the owner of probe i know its flags changed (another worker heard it)."""
        at = self.boxes + self.box_size * (writer * self.w + owner)
        tail = struct.unpack_from("=q", self.mem, at)[0]
        if tail < self.box_len:
            struct.pack_into("=i", self.mem, at + 8 + 4 * tail, i)
        struct.pack_into("=q", self.mem, at, tail + 1)  # written after its index

    def mail(self, owner: int):
        """The probes other workers told `owner` about since it last looked; None when a
        mailbox overflowed (look at every probe)."""
        out = []
        for writer in range(self.w):
            if writer == owner:
                continue
            at = self.boxes + self.box_size * (writer * self.w + owner)
            tail = struct.unpack_from("=q", self.mem, at)[0]
            if tail > self.box_len:
                return None
            if tail <= self.seen[writer]:
                continue
            start, self.seen[writer] = self.seen[writer], tail
            out += struct.unpack_from(f"={tail - start}i", self.mem, at + 8 + 4 * start)
        return out

    def await_report(self, i: int):
        self.mem[self.awaited_at + i] = 1

    def awaited(self, i: int) -> bool:
        return bool(self.mem[self.awaited_at + i])

    def flag(self, k: int) -> bool:
        return bool(self.mem[k])

    def raise_flag(self, k: int):
        self.mem[k] = 1


def _aligned(offset: int) -> int:
    return -(-offset // 8) * 8


GO, STOP = 0, 1  # the control bytes
GATED_GRACE = 30.0  # a gated run stops listening by itself this long after its deadline


class _Worker:
    def __init__(self, specs, sent, watched, shared, w, capture, heard_here=(), owner=None):
        self.specs = specs
        self.owner = owner  # per probe: the worker that settles it
        self.heard_here = set(heard_here)  # namespaces listened to on this host
        self.shared = shared
        self.w = w
        self.capture = [] if capture else None
        self.answers = {}
        self.unsent = {}  # probe -> why the kernel would not send it
        self.reports = []  # [probe, namespace, hook, mark, prefix]
        # not yet settled: own probes, and those another host sends to a namespace here
        self.watched = set(watched)
        self.open_ = set(sent) | self.watched
        self.own = set(sent)
        self.left_own = len(self.own)  # own probes not yet settled
        self.by_key = {(s.family, _canon(s.src_ip), s.tag): i for i, s in enumerate(specs)}
        self.by_answer = {(specs[i].ns, specs[i].family, specs[i].tag): i for i in sent}
        self.stopped = None  # gated: when the stop came

    def settled(self, i) -> bool:
        if i in self.unsent:
            return True
        s = self.specs[i]
        f = self.shared.get(i)
        if f & (DROPPED | ROUTER_ERROR):
            return True
        if i in self.watched:  # sent by another host: the destination has spoken
            return bool(f & DST_HEARD)
        if not f & ANSWERED:
            return False
        # a destination on another host reports there (merged by sgnet.hosts.driver)
        return (not s.src_rules or f & SRC_HEARD) and \
            (not s.dst_rules or s.dst_ns not in self.heard_here or f & DST_HEARD)

    def sweep(self):
        """Settle what the flags now allow: the probes another worker heard of (its
        reports came there), or, if a mailbox overflowed, every open one."""
        told = self.shared.mail(self.w)
        for i in list(self.open_) if told is None else told:
            if i in self.open_ and self.settled(i):
                self.close(i)

    def over(self, gated: bool, events, timeout: float) -> bool:
        """Is this worker's listening over: every worker's probes settled, the stop, or
        the last deadline passed (without events)? Gated (over several hosts), another
        host may still send to the namespaces listened to here: not before the stop, and
        after it only once the reports of probes another host saw answered are in (the
        kernel may hold them a while, nflog.FLUSH, and the sender's host can say "sent"
        before this one has them)."""
        done, last = self.shared.all_done()
        now = time.monotonic()
        if not gated:
            return done or self.shared.flag(STOP) or (not events and now >= last)
        if self.stopped is None and self.shared.flag(STOP):
            self.stopped = now
        return done or now >= last + GATED_GRACE or self.stopped is not None and (
            now >= self.stopped + timeout or not self.awaiting())

    def awaiting(self) -> bool:
        """Is a report still due here: of a probe another host sent and saw answered
        (so it passed this destination's rules), not yet heard of?"""
        return any(self.shared.awaited(i) and not self.shared.get(i) & DST_HEARD
                   for i in self.watched & self.open_)

    def close(self, i):
        self.open_.discard(i)
        if i in self.own:
            self.left_own -= 1

    def _set(self, i, bit):
        self.shared.set(self.w, i, bit)
        if self.owner is not None and self.owner[i] != self.w:
            self.shared.tell(self.w, self.owner[i], i)

    def on_answer(self, ns, family, hit, data, l3=True):
        i = self.by_answer.get((ns, family, hit[0]))
        if i is None or i in self.answers:
            return
        if hit[1] in ("tcp", "udp") and not self._answers(i, hit, data, family, l3):
            return  # another probe passing by (the world hears every egress probe)
        self.answers[i] = list(hit[1:])
        bit = ANSWERED
        if hit[1] == "error" and _canon(hit[2]) != _canon(self.specs[i].dst_ip):
            bit |= ROUTER_ERROR
        self._set(i, bit)
        if self.capture is not None:
            self.capture.append((time.time(), data))
        if i in self.open_ and self.settled(i):
            self.close(i)

    def _answers(self, i, hit, data, family, l3) -> bool:
        """Is this TCP or UDP segment the answer to probe i: from its destination, from
        the port it was sent to?"""
        s = self.specs[i]
        if _canon(hit[2]) != _canon(s.dst_ip):
            return False
        at = ((data[0] & 0x0F) * 4 if family == 4 else 40) if l3 else 0
        return len(data) >= at + 2 and struct.unpack_from("!H", data, at)[0] == s.port

    def on_log(self, ns, k, messages):
        for hook, value, prefix, payload in messages:
            i = self.by_key.get(packet_key(payload))
            if i is None:
                continue
            self.reports.append([i, k, hook, value, prefix])
            s = self.specs[i]
            bit = DROPPED if prefix.startswith("sgnet-") else 0
            if ns == s.ns:
                bit |= SRC_HEARD
            if ns == s.dst_ns:
                bit |= DST_HEARD
            self._set(i, bit)
            if i in self.open_ and self.settled(i):
                self.close(i)


def _work(specs, sent, watched, mine_watch, shared, w, timeout, capture, heard_here,
          owner, gated=False):
    """One worker: listen in `mine_watch`, send the probes `sent`, until every worker's
    probes (and those `watched`, sent by another host) are settled or the last deadline
    has passed; gated (over several hosts), send only on the go, listen until the stop."""
    me = _Worker(specs, sent, watched, shared, w, capture, heard_here, owner)
    ep = select.epoll()
    socks, raw, opened = {}, {}, []
    try:
        for ns, k in mine_watch:  # listening first: no report can come before its listener
            s = netns.call(ns, lambda ns=ns: nflog.open_here(ns))
            opened.append(s)
            socks[s.fileno()] = ("log", ns, k, None, s)
            ep.register(s.fileno(), select.EPOLLIN)
        families = {}
        for i in sent:
            families.setdefault(specs[i].ns, set()).add(specs[i].family)
        for ns, fams in families.items():
            out, ins = netns.call(ns, lambda fams=fams: _source_sockets(fams, capture))
            opened += list(out.values()) + [x[2] for x in ins]
            for fam, s in out.items():
                raw[(ns, fam)] = s
            for fam, proto, s in ins:
                socks[s.fileno()] = ("answer", ns, fam, proto, s)
                ep.register(s.fileno(), select.EPOLLIN)
        # every worker is listening before any sends: wait for all to be ready (and, in a
        # gated run, for every host's workers: the go)
        total = len(me.open_)
        shared.progress(w, 0, len(sent), 0, total, time.monotonic() + 3600)
        while not shared.ready() or (gated and not shared.flag(GO)):
            time.sleep(0.001)
        stamps = stamper()
        queue = _interleaved(specs, sent)
        deadline = time.monotonic() + timeout
        shared.progress(w, 0, len(sent), 0, total, deadline)
        while True:
            if queue:
                for i in queue[:BATCH]:
                    s = specs[i]
                    try:
                        raw[(s.ns, s.family)].sendto(stamps.build(s, s.tag), (s.dst_ip, 0))
                    except PermissionError:
                        pass  # this instance's egress rules dropped it: their report says so
                    except OSError as e:  # no route, the link down: it never left
                        me.unsent[i] = os.strerror(e.errno) if e.errno else str(e)
                del queue[:BATCH]
                deadline = time.monotonic() + timeout
            events = ep.poll(0 if queue else IDLE)
            for fd, _ in events:
                _drain(me, *socks[fd])
            if queue:
                continue
            me.sweep()
            shared.progress(w, len(sent) - me.left_own, len(sent), total - len(me.open_), total,
                            deadline)
            if me.over(gated, events, timeout):
                for entry in socks.values():
                    _drain(me, *entry)  # what came in time but was not yet read
                break
    except BaseException:
        shared.raise_flag(STOP)  # the other workers must not wait for this one
        raise
    finally:
        ep.close()
        for s in opened:
            s.close()
    return {"answers": [[i, a] for i, a in me.answers.items()], "reports": me.reports,
            "unsent": [[i, why] for i, why in me.unsent.items()],
            "packets": [[t, d.hex()] for t, d in me.capture or []]}


def _drain(me: _Worker, kind: str, ns: str, family, proto, sock):
    if kind == "log":
        me.on_log(ns, family, nflog.read(sock))  # family: the namespace's index in watch_ns
        return
    while True:
        try:
            data, addr = sock.recvfrom(65535)
        except BlockingIOError:
            return
        if family is None:  # a capture's packet socket
            fam = 4 if addr[1] == 0x0800 else 6 if addr[1] == 0x86DD else None
            if fam is None:
                continue
            if addr[2] == PACKET_OUTGOING:
                if (ns, fam, probe_tag(data, fam)) in me.by_answer:
                    me.capture.append((time.time(), data))  # a probe, after our OUTPUT hook
                continue
            hit = parse_answer(data, fam)
        elif family == 4:
            hit = parse_answer(data, 4)
        else:
            hit = parse_l4(data, proto, _canon(addr[0]), 6)
        if hit is not None:  # (an IPv6 raw socket gives what follows the IP header)
            me.on_answer(ns, family or fam, hit, data, l3=family != 6)


def _interleaved(specs, sent) -> list:
    """The probes to send, one source after the other in turn: no namespace's queues fill
    while the others wait."""
    by_ns = {}
    for i in sent:
        by_ns.setdefault(specs[i].ns, []).append(i)
    lists = list(by_ns.values())
    out = []
    for k in range(max((len(x) for x in lists), default=0)):
        out += [x[k] for x in lists if k < len(x)]
    return out


def collect(specs: list, sent: list, watch_ns: list, timeout: float,
            capture: bool = False, workers_n: int = None, gate=None) -> dict:
    """Send specs[i] for i in `sent` (each with its tag) from its namespace, listen in the
    namespaces `watch_ns`, and gather per probe the answer and the rules' reports until all
    are settled or `timeout` after the last was sent. Every probe of `specs` is listened
    for; those not in `sent` are sent by another host. -> {"answers": [per probe: (kind,
    source, extra) or None], "reports": [per probe: [(namespace, hook, mark, prefix)]],
    "packets": [(time, hex)]}."""
    sources = list(dict.fromkeys(specs[i].ns for i in sent))  # in order, once each
    n = max(1, min(workers_n or os.cpu_count() or 1, len(sources) or 1))
    owned = [([], []) for _ in range(n)]
    for k, ns in enumerate(sources):
        owned[k % n][0].append(ns)
    for k, ns in enumerate(watch_ns):
        owned[k % n][1].append((ns, k))
    shared = _Shared(len(specs), n)
    sent_set = set(sent)
    # probes another host sends are settled by the worker listening at the destination
    where = {ns: w for w, (_, listens) in enumerate(owned) for ns, _ in listens}
    plan = [([], []) for _ in range(n)]
    worker_of = {ns: w for w, (sources_w, _) in enumerate(owned) for ns in sources_w}
    for i in sent:
        plan[worker_of[specs[i].ns]][0].append(i)
    for i, s in enumerate(specs):
        if i not in sent_set and where.get(s.dst_ns) is not None:
            plan[where[s.dst_ns]][1].append(i)
    owner = [0] * len(specs)  # the worker that settles each probe
    for w, (own, watched) in enumerate(plan):
        for i in own + watched:
            owner[i] = w
    # a worker's facts go through a file: a pipe would hold the worker until this process
    # (whose evaluator judges meanwhile, holding the GIL) has read them all
    with tempfile.TemporaryDirectory(prefix="sgnet-probe-") as where_to:
        def work(w, report):
            facts = _work(specs, plan[w][0], plan[w][1], owned[w][1], shared, w, timeout,
                          capture, watch_ns, owner, gate is not None)
            path = os.path.join(where_to, str(w))
            with open(path, "wb") as f:
                pickle.dump(facts, f, protocol=pickle.HIGHEST_PROTOCOL)
            return path

        # what exists now is the workers' too (forked): frozen, the collector of a worker
        # leaves it alone instead of touching, hence copying, every page of it
        gc.freeze()
        try:
            if gate is None:
                outcomes = workers.in_children(list(range(n)), work, n)
            else:
                outcomes = _gated(shared, gate,
                                  lambda: workers.in_children(list(range(n)), work, n),
                                  specs, sent, watch_ns)
        finally:
            gc.unfreeze()
        err = workers.first_error(outcomes)
        if err is not None:
            from sgnet.core.errors import EnvError
            raise EnvError(f"probing failed: {err}")
        results = []
        for o in outcomes:
            with open(o.result, "rb") as f:
                results.append(pickle.load(f))
    answers = [None] * len(specs)
    reports = [[] for _ in specs]
    packets = []
    for result in results:
        for i, a in result["answers"]:
            answers[i] = a
        for i, why in result["unsent"]:
            answers[i] = ["unsent", why, 0]
        for i, k, hook, value, prefix in result["reports"]:
            reports[i].append((watch_ns[k], hook, value, prefix))
        packets += result["packets"]
    return {"answers": answers, "reports": reports, "packets": packets}


def _reached(shared: _Shared, specs, sent, watch_ns) -> list:
    """Of the probes sent here, those answered by their destination on another host whose
    rules report them there: that host must hear the report before it stops."""
    heard_here = set(watch_ns)
    return [i for i in sent if specs[i].dst_rules and specs[i].dst_ns not in heard_here
            and shared.get(i) & (ANSWERED | ROUTER_ERROR) == ANSWERED]


def _gated(shared: _Shared, gate, start, specs, sent, watch_ns):
    """A run over several hosts: once every worker here listens, tell the controller
    (gate.say("ready")) and wait for its go, so that no host sends before every host
    listens; once this host's own probes are settled say "sent" with those answered from
    another host (_reached), and listen on until the controller's stop (every host has
    sent), which names the probes sent to this host that were answered: their reports
    are waited for. start() runs the workers, in a thread."""
    out = {}

    def run():
        try:
            out["outcomes"] = start()
        except BaseException as e:  # raised below
            out["error"] = e
    th = threading.Thread(target=run)
    th.start()
    try:
        for step in ("ready", "sent"):
            while th.is_alive() and not (shared.ready() if step == "ready"
                                         else shared.sent_done()):
                time.sleep(0.001)
            if "error" in out or (step == "ready" and not th.is_alive() and
                                  "outcomes" not in out):
                break  # the answer tells the controller what went wrong
            # (workers whose probes all settled may have ended already: the steps are
            # said all the same, the controller waits for each)
            if step == "ready":
                gate.say(step)
                gate.wait("go")
                shared.raise_flag(GO)
                continue
            gate.say(step, reached=_reached(shared, specs, sent, watch_ns))
            for i in gate.wait("stop"):  # reached here, answered on their senders' hosts
                if 0 <= i < len(specs):
                    shared.await_report(i)
            shared.raise_flag(STOP)
    finally:
        shared.raise_flag(GO)
        shared.raise_flag(STOP)  # whatever happened, the workers end
        th.join()
    if "error" in out:
        raise out["error"]
    return out["outcomes"]


def run(specs: list, sent: list, watch_ns: list, timeout: float = 1.0, jobs: int = None,
        capture: bool = False, progress=None, gate=None) -> dict:
    """collect(), in rounds of at most `jobs` source namespaces (each round listens in
    every namespace of `watch_ns`); progress(n) is told of each round's probes. Probes
    only watched for (sent by another host) are all in one round."""
    load_scapy()
    sources = list(dict.fromkeys(specs[i].ns for i in sent))  # in order, once each
    jobs = jobs or DEFAULT_JOBS
    sent_set = set(sent)
    watched_only = len(sent_set) < len(specs) or gate is not None
    rounds = [sources] if watched_only else \
        [sources[k:k + jobs] for k in range(0, len(sources), jobs)] or [[]]
    if len(rounds) == 1:  # the usual case: every probe in one round, no re-indexing
        got = collect(specs, sent, watch_ns, timeout, capture, gate=gate)
        if progress:
            progress(len(sent))
        return got
    out = {"answers": [None] * len(specs), "reports": [[] for _ in specs], "packets": []}
    for chunk in rounds:
        mine = set(chunk)
        idx = [i for i in range(len(specs)) if specs[i].ns in mine]
        local = {i: k for k, i in enumerate(idx)}
        got = collect([specs[i] for i in idx], [local[i] for i in sent if i in local],
                      watch_ns, timeout, capture, gate=gate)
        for k, i in enumerate(idx):
            out["answers"][i] = got["answers"][k]
            out["reports"][i] = got["reports"][k]
        out["packets"] += got["packets"]
        if progress:
            progress(sum(1 for i in sent if i in local))
    return out

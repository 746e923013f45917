#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/fast_scenarios.py - the established fast path (app/gw_fast.c) against the full
path, with scenarios.py's lab and checks (every output frame byte for byte, checksums
recomputed, no inside address leaking, exact drops and their reasons).

    /usr/bin/python3 tests/replay/fast_scenarios.py NATGW_REPLAY SCENARIO [--keep DIR]
    /usr/bin/python3 tests/replay/fast_scenarios.py --list

SCENARIO_workers2 runs SCENARIO with --workers 2.

fast_same:   every base scenario of scenarios.py with the fast path (the default) and with
             `[workers] fast_path = no`: byte-identical outputs and drops (reasons
             included), every check of the scenario passes with the fast path, and the
             fast path forwarded packets where the scenario has established traffic.
fast_burst:  new connections whose packets arrive together (natgw-replay --burst: one
             receive burst per run of same-timestamp records): the first packet of a UDP
             flow three times, a TCP SYN and its retransmission and a second UDP flow in one
             inside burst, then their replies in one outside burst and the next packets of
             each in bursts again: every copy translated to its flow's one outside port, one
             connection per flow (a later packet of the burst finds what an earlier one
             created), the replies back in, the flows on the fast path afterwards.
fast_edges:  a UDP flow and a TCP connection that the fast path carries both ways, then
             what it must leave to the full path, each in its turn: the reply tuple sent in
             from the inside and the original tuple from the uplink (spoofs: dropped as
             SRC_NOT_INSIDE / WRONG_SIDE), a bad IPv4 header checksum, a frame for another
             MAC, a reply with TTL 1 (time exceeded to the server), a TCP segment out of the
             window (dropped), IP options, then the FIN exchange; the flows carry on on the
             fast path afterwards; UDP checksums 0 stay 0 and a computed 0 goes as 0xffff.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, IPOption_Router_Alert, Raw  # noqa: E402

H1, H1_MAC = sc.H1, sc.H1_MAC
GW_IN, GW_OUT, GW_IN_MAC, GW_OUT_MAC = sc.GW_IN, sc.GW_OUT, sc.GW_IN_MAC, sc.GW_OUT_MAC
SERVER, ROUTER_MAC = sc.SERVER, sc.ROUTER_MAC
host, remote, to_out, to_in = sc.host, sc.remote, sc.to_out, sc.to_in

# base scenarios with established traffic: the fast path must have carried some of it
FAST_USED = {"tcp", "forward"}


def worker_sum(d, counter):
    """A counter of natgw-replay's per-worker stats lines ("fast path", "conns created"),
    summed over workers; None if there is no such line."""
    n, seen = 0, False
    with open(os.path.join(d, "replay.log")) as f:
        for line in f:
            m = re.search(r"^worker \d+ .* %s (\d+)" % counter, line)
            if m:
                n += int(m.group(1))
                seen = True
    return n if seen else None


def fast_count(d):
    """Packets the fast path forwarded, summed over workers."""
    return worker_sum(d, "fast path")


def fast_same(replay, d, ck, workers):
    names = list(sc.SCENARIOS) if workers == 1 else ["tcp", "udp", "forward", "hairpin",
                                                     "icmp_error", "fragments"]
    for name in names:
        runs = sc.run_twice(replay, d, name, workers, "[workers]\nfast_path = no\n")
        sc.arp_normalise(runs[0][1])
        sub = sc.Checks()
        sc.verify(runs[0][0], runs[0][1], sub)
        ck.eq(f"{name}: checks pass with the fast path", [], sub.failures)
        a, b = sc.output_files(runs[0][1].dir), sc.output_files(runs[1][1].dir)
        for f in a:
            ck.ok(a[f] == b[f], f"{name}: {f} identical with the fast path on and off",
                  "identical", "differs")
        on, off = fast_count(runs[0][1].dir), fast_count(runs[1][1].dir)
        ck.eq(f"{name}: nothing on the fast path with fast_path = no", 0, off)
        if name in FAST_USED:
            ck.ok(on is not None and on > 0, f"{name}: the fast path forwarded packets",
                  "> 0", on)


def fast_edges(tr):
    sc.preamble(tr)
    pl = lambda p: bytes(p[Raw].load)  # noqa: E731
    e = tr.flow("u", "outside", lambda p: p.haslayer(UDP) and pl(p).startswith(b"u-0"),
                lambda p: p[UDP].sport, 4600)
    t = tr.flow("t", "outside", lambda p: p.haslayer(TCP) and p[TCP].flags == "S",
                lambda p: p[TCP].sport, 46000)

    def u_out(load, **kw):
        x = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4600, dport=9999) / load, **kw))
        tr.out("outside", to_out(x, src=GW_OUT, sport=e))

    def u_in(load, **kw):
        y = tr.send("outside", remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=e) / load,
                                      **kw))
        tr.out("inside", to_in(y, H1_MAC, dst=H1, dport=4600))

    def c(**kw):
        load = kw.pop("load", None)
        p = host(tr, H1, SERVER, TCP(sport=46000, dport=80, **kw))
        return p / load if load else p

    def s(**kw):
        load = kw.pop("load", None)
        p = remote(tr, SERVER, GW_OUT, TCP(sport=80, dport=t, **kw))
        return p / load if load else p

    def t_out(x):
        tr.out("outside", to_out(tr.send("inside", x), src=GW_OUT, sport=t))

    def t_in(y):
        tr.out("inside", to_in(tr.send("outside", y), H1_MAC, dst=H1, dport=46000))

    # the UDP flow, three each way: learnt, then fast both ways
    for i in range(3):
        u_out(b"u-%d" % i)
        u_in(b"r-%d" % i)
    # the TCP connection: handshake, then data both ways
    cs, ss = 7000, 9000
    t_out(c(flags="S", seq=cs, window=64240, options=sc.tcp_opts()))
    t_in(s(flags="SA", seq=ss, ack=cs + 1, window=65160, options=sc.tcp_opts()))
    t_out(c(flags="A", seq=cs + 1, ack=ss + 1, window=502))
    cs, ss = cs + 1, ss + 1
    for i in range(3):
        t_out(c(flags="PA", seq=cs, ack=ss, window=502, load=b"c" * 100))
        cs += 100
        t_in(s(flags="PA", seq=ss, ack=cs, window=509, load=b"s" * 300))
        ss += 300
    # spoofs of the learnt tuples, from the wrong side
    tr.drop(tr.send("inside", Ether(src=H1_MAC, dst=GW_IN_MAC) /
                    IP(src=SERVER, dst=GW_OUT, id=tr.ipid(H1)) /
                    UDP(sport=9999, dport=e) / b"spoof-in"), reason="SRC_NOT_INSIDE")
    tr.drop(tr.send("outside", Ether(src=ROUTER_MAC, dst=GW_OUT_MAC) /
                    IP(src=H1, dst=SERVER, id=tr.ipid(SERVER)) /
                    UDP(sport=4600, dport=9999) / b"spoof-out"), reason="WRONG_SIDE")
    # a bad IPv4 header checksum on the flow
    bad = Ether(bytes(host(tr, H1, SERVER, UDP(sport=4600, dport=9999) / b"badck")))
    bad[IP].chksum = (IP(bytes(bad[IP])).chksum ^ 0x0101) & 0xffff
    tr.drop(tr.send("inside", bad), reason="CT_L3_BAD_CSUM")
    # a frame for another MAC (a unicast not for us: never forwarded)
    other = Ether(bytes(host(tr, H1, SERVER, UDP(sport=4600, dport=9999) / b"mac")))
    other.dst = "02:00:00:00:99:99"
    tr.drop(tr.send("inside", other))
    # IP options: the full path, options kept
    u_out(b"u-opts", options=[IPOption_Router_Alert()])
    # a reply with TTL 1: time exceeded back to the server, quoting what it sent
    r = tr.send("outside", remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=e) / b"ttl1",
                                  ttl=1))
    r_t = tr.t
    tr.drop(r, reason="TTL_EXCEEDED")
    # a TCP segment far out of the window: the full path's verdict (dropped)
    tr.drop(tr.send("outside", s(flags="PA", seq=ss + 5000000, ack=cs, window=509,
                                 load=b"o" * 10)), reason="CT_TCP_OUT_OF_WINDOW")
    # data again, then the close (FIN is the full path's)
    t_out(c(flags="PA", seq=cs, ack=ss, window=502, load=b"d" * 50))
    cs += 50
    t_in(s(flags="A", seq=ss, ack=cs, window=509))
    t_out(c(flags="FA", seq=cs, ack=ss, window=502))
    t_in(s(flags="FA", seq=ss, ack=cs + 1, window=509))
    t_out(c(flags="A", seq=cs + 1, ack=ss + 1, window=502))
    # the UDP flow carries on (fast path again)
    for i in range(3, 5):
        u_out(b"u-%d" % i)
        u_in(b"r-%d" % i)
    # UDP checksums on the fast path: 0 ("none") stays 0 both ways; a translated checksum
    # that computes to 0 leaves as 0xffff (RFC 768)
    z = tr.flow("z", "outside", lambda p: p.haslayer(UDP) and pl(p).startswith(b"z-0"),
                lambda p: p[UDP].sport, 4601)
    for i in range(3):
        x = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4601, dport=9999, chksum=0) /
                                   (b"z-%d" % i)))
        tr.out("outside", to_out(x, src=GW_OUT, sport=z))
        y = tr.send("outside", remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=z, chksum=0) /
                                      (b"y-%d" % i)))
        tr.out("inside", to_in(y, H1_MAC, dst=H1, dport=4601))
    x = sc.udp_csum_edge(host(tr, H1, SERVER, UDP(sport=4600, dport=9999) / b"edge.."),
                         GW_OUT, None, e, None)
    tr.send("inside", x)
    tr.out("outside", to_out(x, src=GW_OUT, sport=e))
    y = sc.udp_csum_edge(remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=e) / b"edge.."),
                         None, H1, None, 4600)
    tr.send("outside", y)
    tr.out("inside", to_in(y, H1_MAC, dst=H1, dport=4600))
    tr.check(lambda t, r, ck: ck.eq("fast path: translated UDP checksums 0 sent as 0xffff",
                                    [0xffff, 0xffff],
                                    [Ether(b)[UDP].chksum for _t, b in r.ip("outside") +
                                     r.ip("inside") if b[-6:-2] == b"edge"]))

    def check(t_, res, ck):
        te = [(ts, b) for ts, b in res.ip("outside")
              if Ether(b).haslayer(ICMP) and Ether(b)[ICMP].type == 11]
        ck.eq("one time exceeded out of the uplink", 1, len(te))
        for ts, b in te:
            p = Ether(b)
            ck.eq("time exceeded: stamped with the TTL-1 reply", r_t, ts)
            ck.eq("time exceeded: addresses", (GW_OUT, SERVER), (p[IP].src, p[IP].dst))
            ck.eq("time exceeded: next hop MAC", ROUTER_MAC, p.dst)
            ck.eq("time exceeded: quotes what the server sent",
                  bytes(r[IP])[:28].hex(), bytes(p[ICMP].payload)[:28].hex())
        rest = [(ts, b) for ts, b in res.ip("outside") if (ts, b) not in te]
        want = [(ts, b) for ts, b in t_.expect["outside"]]
        ck.eq("outside: every other frame as expected, in order", [x[1].hex() for x in want],
              [x[1].hex() for x in rest])
        n = fast_count(res.dir)
        # learnt after the first packet each way: most of UDP 5+5 and TCP data went fast
        ck.ok(n is not None and n >= 12, "the fast path carried the flows", ">= 12", n)
    tr.check(check)
    tr.own_check = {"outside"}      # the time exceeded is checked field by field above


def fast_burst(tr):
    sc.preamble(tr)
    tr.replay_args += ["--burst"]
    pl = lambda p: bytes(p[Raw].load)  # noqa: E731
    a = tr.flow("a", "outside", lambda p: p.haslayer(UDP) and pl(p).startswith(b"a-0"),
                lambda p: p[UDP].sport, 4700)
    b = tr.flow("b", "outside", lambda p: p.haslayer(TCP) and p[TCP].flags == "S",
                lambda p: p[TCP].sport, 47000)
    c = tr.flow("c", "outside", lambda p: p.haslayer(UDP) and pl(p).startswith(b"c-0"),
                lambda p: p[UDP].sport, 4701)
    ext = {4700: a, 47000: b, 4701: c}

    def burst(port, pkts):
        """pkts arrive on port in one burst (the same timestamp); each is forwarded"""
        for i, x in enumerate(pkts):
            y = tr.send(port, x, dt=1000 if i == 0 else 0)
            if port == "inside":
                sp = y[UDP].sport if y.haslayer(UDP) else y[TCP].sport
                tr.out("outside", to_out(y, src=GW_OUT, sport=ext[sp]))
            else:
                dp = y[UDP].dport if y.haslayer(UDP) else y[TCP].dport
                inner = {v: k for k, v in ext.items()}[dp]
                tr.out("inside", to_in(y, H1_MAC, dst=H1, dport=inner))

    def u(sport, load):
        return host(tr, H1, SERVER, UDP(sport=sport, dport=53) / load)

    def ur(sport, load):
        return remote(tr, SERVER, GW_OUT, UDP(sport=53, dport=ext[sport]) / load)

    cs, ss = 5000, 8000
    syn = dict(flags="S", seq=cs, window=64240, options=sc.tcp_opts())
    burst("inside", [u(4700, b"a-0"), u(4700, b"a-0 again"),
                     host(tr, H1, SERVER, TCP(sport=47000, dport=80, **syn)),
                     u(4700, b"a-0 third"), u(4701, b"c-0"),
                     host(tr, H1, SERVER, TCP(sport=47000, dport=80, **syn))])
    burst("outside", [ur(4700, b"a-r0"),
                      remote(tr, SERVER, GW_OUT, TCP(sport=80, dport=b, flags="SA", seq=ss,
                                                     ack=cs + 1, window=65160,
                                                     options=sc.tcp_opts())),
                      ur(4701, b"c-r0")])
    cs, ss = cs + 1, ss + 1
    for i in range(1, 4):
        burst("inside", [u(4700, b"a-%d" % i),
                         host(tr, H1, SERVER, TCP(sport=47000, dport=80, flags="PA", seq=cs,
                                                  ack=ss, window=502) / (b"q" * 20)),
                         u(4701, b"c-%d" % i)])
        cs += 20
        burst("outside", [ur(4700, b"a-r%d" % i),
                          remote(tr, SERVER, GW_OUT, TCP(sport=80, dport=b, flags="PA",
                                                         seq=ss, ack=cs, window=509) /
                                 (b"s" * 40)),
                          ur(4701, b"c-r%d" % i)])
        ss += 40

    def check(t_, res, ck):
        ck.eq("one connection per flow, though its first packets came in one burst", 3,
              worker_sum(res.dir, "conns created"))
        n = fast_count(res.dir)
        ck.ok(n is not None and n >= 6, "the flows went on on the fast path", ">= 6", n)
    tr.check(check)


SCENARIOS = {"fast_edges": fast_edges, "fast_burst": fast_burst}
NAMES = ["fast_same", "fast_same_workers2", "fast_edges", "fast_edges_workers2",
         "fast_burst", "fast_burst_workers2"]


def run(replay, d, name, ck, workers):
    base, workers = sc.workers_of(name, workers)
    if base == "fast_same":
        fast_same(replay, d, ck, workers)
        return
    sc.run_checked(replay, d, SCENARIOS[base], workers, ck)


if __name__ == "__main__":
    sys.exit(sc.main(sys.argv, __doc__, SCENARIOS, run=run, names=NAMES))

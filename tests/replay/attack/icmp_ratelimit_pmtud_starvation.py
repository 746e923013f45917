#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Attack: one inside host (or anyone on the Internet) switches off path MTU discovery for
every inside host. natgw rate-limits the ICMP errors it makes with one token bucket per
worker (app/gw_icmp.c gw_icmp_allowed: 1000/s, burst 50), shared by every error type and
every destination; fragmentation-needed (RFC 1191) included. 50 TTL-1 datagrams in a
millisecond empty it, so the frag-needed another host's DF packet needs is never sent:
a PMTUD black hole (TCP with DF stalls) for as long as the sender keeps 1000 pps going.
Linux never rate-limits frag-needed ("Don't limit PMTU discovery", icmpv4_mask_allow) and
limits the others per destination (icmp_ratelimit, inet_peer) before the global bucket.

natgw-replay.ini with [outside] mtu = 1492 (PPPoE).
Case 1, inside: 60 UDP datagrams with TTL 1 from 192.168.1.10 within 60 us, then one
1500-byte DF datagram from 192.168.1.20.
Case 2, Internet: 60 TCP SYNs with TTL 1 from 198.51.100.7 to the forward :8080 within
60 us, then the same DF datagram from 192.168.1.20.
Then a TTL-1 datagram from 192.168.1.20.
Wanted: 192.168.1.20 gets its ICMP fragmentation needed (MTU 1492) in both cases, and its
time exceeded: the burst's source gets at most 6 errors (per destination, before the
shared bucket), and takes nothing more from it.
Before the fix: nothing is sent to it (counted icmp rate-limited).

    /usr/bin/python3 tests/replay/attack/icmp_ratelimit_pmtud_starvation.py NATGW_REPLAY
"""
import sys
import os
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atk import *  # noqa: E402,F401,F403


def one(replay, keep, from_outside):
    cfg = set_key(base_config(), "outside", "mtu", "1492")
    r = Run(cfg)
    r.preamble()
    for k in range(60):
        if from_outside:
            r.send("outside", r.remote(PEER, GW_OUT, TCP(sport=3000 + k, dport=8080, flags="S",
                                                         seq=k), ttl=1), dt=1)
        else:
            r.send("inside", r.host(H1, SERVER, UDP(sport=3000 + k, dport=33434) / b"t", ttl=1),
                   dt=1)
    r.send("inside", r.host(H2, SERVER, UDP(sport=4000, dport=9999) / (b"x" * 1472),
                            flags="DF"), dt=1)
    r.send("inside", r.host(H2, SERVER, UDP(sport=4001, dport=33434) / b"t", ttl=1), dt=1)
    res = r.run(replay, keep)
    where = "the Internet (to a forward)" if from_outside else "another inside host"
    out = [Ether(b) for p in ("inside", "outside") for _t, b in res.ip(p)]
    fn = [e for e in out if e.haslayer(ICMP) and e[IP].dst == H2 and e[ICMP].type == 3 and
          e[ICMP].code == 4]
    te_h2 = [e for e in out if e.haslayer(ICMP) and e[IP].dst == H2 and e[ICMP].type == 11]
    burster = PEER if from_outside else H1
    te_b = [e for e in out if e.haslayer(ICMP) and e[IP].dst == burster and e[ICMP].type == 11]
    a = verdict(len(fn) == 1, "H2 gets its fragmentation needed after a TTL-1 burst from " + where)
    # per destination before the shared bucket: the burst's source gets a few errors (a
    # burst of 6 per destination), and takes only those from everybody else's
    b = verdict(1 <= len(te_b) <= 6, f"the TTL-1 burst from {where} is answered per "
                f"destination ({len(te_b)} time exceeded for 60 datagrams, 1..6 wanted)")
    c = verdict(len(te_h2) == 1, f"H2 still gets its time exceeded after the burst from {where}")
    return a or b or c


def main():
    replay, keep = main_replay()
    a = one(replay, keep, False)
    b = one(replay, keep, True)
    return 1 if a or b else 0


if __name__ == "__main__":
    sys.exit(main())

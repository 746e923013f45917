#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Attack: anyone on the Internet injects ICMP errors into hairpinned flows (inside host to
inside host through an outside address). A hairpinned datagram never leaves natgw (it is
looped back in, app/gw_pipeline.c gw_hairpin_loop), so an ICMP error arriving from the
uplink that quotes a datagram from one of our outside addresses to one of our outside
addresses is forged. natgw translates it anyway: the outer destination is the quoted
source (203.0.113.2) as lib/conntrack/ct_parse.c requires, the inverted quote matches the
hairpin connection, its egress is the inside, so the BOUNCE check of gw_hit (uplink in,
uplink out) does not fire. A port/protocol unreachable kills the victim's connect() or UDP
socket; a frag-needed with a tiny MTU degrades it. With port preservation the ports are the
inside ports (a forward's port is public).

natgw-replay.ini (hairpin = yes, forward tcp 203.0.113.2:8080 -> 192.168.1.10:80).
Input:
  UDP: H2:5000 -> 198.51.100.5, H1:4000 -> 198.51.100.5 (mappings 5000, 4000), H1 -> 203.0.113.2:5000,
  H2 -> 203.0.113.2:4000 (hairpinned, delivered); then from 6.6.6.6 on the uplink two port
  unreachables to 203.0.113.2 quoting UDP 203.0.113.2:4000 -> 203.0.113.2:5000 and
  203.0.113.2:5000 -> 203.0.113.2:4000.
  TCP: H2:5001 -> 203.0.113.2:8080 SYN (hairpinned to the forward, H1:80); then from 6.6.6.6
  a port unreachable quoting TCP 203.0.113.2:5001 -> 203.0.113.2:8080.
  Then from 198.51.100.5 a port unreachable quoting H2's UDP 203.0.113.2:5000 -> 198.51.100.5.
Wanted: all three forged errors dropped ICMP_ERROR_FORGED; the real one delivered to H2.
Before the fix: delivered to 192.168.1.10 and 192.168.1.20 (outer source 6.6.6.6).

    /usr/bin/python3 tests/replay/attack/hairpin_forged_icmp_error.py NATGW_REPLAY [--workers N]
"""
import sys
import os
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atk import *  # noqa: E402,F401,F403


def main():
    replay, keep = main_replay()
    workers = workers_arg()
    r = Run(workers=workers)
    r.preamble()
    r.send("inside", r.host(H2, SERVER, UDP(sport=5000, dport=9999) / b"h2"))
    r.send("inside", r.host(H1, SERVER, UDP(sport=4000, dport=9999) / b"h1"))
    r.send("inside", r.host(H1, GW_OUT, UDP(sport=4000, dport=5000) / b"h1->h2"))
    r.send("inside", r.host(H2, GW_OUT, UDP(sport=5000, dport=4000) / b"h2->h1"))
    r.send("inside", r.host(H2, GW_OUT, TCP(sport=5001, dport=8080, flags="S", seq=100)))
    for a, b in ((4000, 5000), (5000, 4000)):
        q = IP(src=GW_OUT, dst=GW_OUT, ttl=60, id=77) / UDP(sport=a, dport=b) / b"x"
        r.send("outside", r.remote("6.6.6.6", GW_OUT, ICMP(type=3, code=3) / Raw(bytes(q))))
    q = IP(src=GW_OUT, dst=GW_OUT, ttl=60, id=78) / TCP(sport=5001, dport=8080, flags="S", seq=100)
    r.send("outside", r.remote("6.6.6.6", GW_OUT, ICMP(type=3, code=3) / Raw(bytes(q)[:28])))
    # an error about H2's flow to the Internet, from where that flow went, still arrives
    q = IP(src=GW_OUT, dst=SERVER, ttl=60, id=79) / UDP(sport=5000, dport=9999) / b"h2"
    r.send("outside", r.remote(SERVER, GW_OUT, ICMP(type=3, code=3) / Raw(bytes(q))))
    res = r.run(replay, keep)
    got = [summary(b) for _t, b in res.ip("inside")
           if Ether(b).haslayer(ICMP) and Ether(b)[IP].src == "6.6.6.6"]
    for g in got:
        print("  delivered:", g)
    a = verdict(not got, f"forged ICMP errors about hairpinned flows dropped ({len(got)} "
                "delivered)")
    rs = [r_ for _t, b_, r_ in res.dropped()
          if Ether(b_).haslayer(ICMP) and Ether(b_)[IP].src == "6.6.6.6"]
    b = verdict(rs == ["ICMP_ERROR_FORGED"] * 3, f"dropped as ICMP_ERROR_FORGED (got {rs})")
    real = [e for e in (Ether(b_) for _t, b_ in res.ip("inside"))
            if e.haslayer(ICMP) and e[IP].src == SERVER and e[IP].dst == H2]
    c = verdict(len(real) == 1, f"the error about H2's Internet flow delivered ({len(real)})")
    return a or b or c


if __name__ == "__main__":
    sys.exit(main())

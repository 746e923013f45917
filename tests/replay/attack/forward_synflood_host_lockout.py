#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Attack: a spoofed-source SYN flood from the Internet against a port forward locks the
forwarded server out of all its own outbound connections (and locks out legitimate clients
of the forward) for the SYN_SENT timeout (4 min), at a cost of capacity/4 SYNs.

natgw-replay.ini, [conntrack] capacity = 64 -> max_conns_per_host auto = 16.
Input: 20 SYNs from 20 different (spoofed) Internet sources to 203.0.113.2:8080 (forward
-> 192.168.1.10:80), the server does not answer; then 192.168.1.10 sends a DNS query out,
and a genuine client 198.51.100.7 connects to :8080.
Wanted: the server's own outbound query leaves (translated) and the genuine client's SYN
reaches the server (the flood's unreplied entries make room, as netfilter's early_drop).
Before the fix: both dropped NAT_HOST_CONNS_LIMIT; inbound forward connections count against
the inside server's per-host budget and are never evicted for it.

    /usr/bin/python3 tests/replay/attack/forward_synflood_host_lockout.py NATGW_REPLAY [--workers N]
"""
import sys
import os
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atk import *  # noqa: E402,F401,F403


def main():
    replay, keep = main_replay()
    workers = workers_arg()
    cfg = set_key(base_config(), "conntrack", "capacity", "64")
    r = Run(cfg, workers=workers)
    r.preamble()
    for k in range(20):
        r.send("outside", r.remote("45.33.7.%d" % (1 + k), GW_OUT,
                                   TCP(sport=1000 + k, dport=8080, flags="S", seq=k)))
    r.send("inside", r.host(H1, SERVER, UDP(sport=4200, dport=53) / b"query"))
    r.send("outside", r.remote(PEER, GW_OUT, TCP(sport=5555, dport=8080, flags="S", seq=1)))
    res = r.run(replay, keep)
    out_ok = any(Ether(b).haslayer(UDP) and Ether(b)[IP].src == GW_OUT and
                 Ether(b)[UDP].dport == 53 for _t, b in res.ip("outside"))
    in_ok = any(Ether(b).haslayer(TCP) and Ether(b)[IP].src == PEER and
                Ether(b)[IP].dst == H1 for _t, b in res.ip("inside"))
    why = [(summary(b), rr) for _t, b, rr in res.dropped()
           if Ether(b)[IP].src in (H1, PEER)]
    if not (out_ok and in_ok):
        print("  dropped:", why)
    return verdict(out_ok and in_ok, "forwarded server keeps outbound connectivity and "
                   "accepts a genuine client after a 20-SYN spoofed flood "
                   f"(server's query out: {out_ok}, client's SYN in: {in_ok})")


if __name__ == "__main__":
    sys.exit(main())

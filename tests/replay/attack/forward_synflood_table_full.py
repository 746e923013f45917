#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Attack: a spoofed-source SYN flood against a port forward whose server answers (SYN/ACK,
as every stack, SYN cookies included, does) fills the conntrack table with SYN_RECV
entries that are never evicted: every inside host is then refused new connections
(CT_TABLE_FULL) for the SYN_RECV timeout (4 min). Costs `capacity` SYNs per 4 minutes
(65536 per worker with the defaults: ~270 SYN/s).

natgw-replay.ini, [conntrack] capacity = 64 (auto per-host limit 16) and four forwards
203.0.113.2:8081-8084 -> 192.168.1.31-34:80 (four servers: each may hold a quarter).
Input: 20 SYNs from distinct (spoofed) sources to each forward, each answered by its
server's SYN/ACK; then 192.168.1.20 sends a UDP query and a TCP SYN to 198.51.100.5.
(One forward suffices with max_conns_per_host = unlimited; with UDP forwards whose server
answers, the same with replied UDP entries.)
Wanted: 192.168.1.20's two packets leave translated (netfilter's early_drop evicts entries
that are not ASSURED, SYN_RECV included).
Before the fix: both dropped CT_TABLE_FULL; lib/conntrack/ct_table.c evict_one() only looks at
the SYN_SENT/UDP_UNREPLIED/ICMP/OTHER classes and skips any entry with SEEN_REPLY.

    /usr/bin/python3 tests/replay/attack/forward_synflood_table_full.py NATGW_REPLAY [--workers N]
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
    servers = ["192.168.1.%d" % (31 + i) for i in range(4)]
    cfg = cfg.replace("[forward]\n", "[forward]\n" + "".join(
        f"srv{i} = tcp 203.0.113.2:{8081 + i} -> {a}:80\n" for i, a in enumerate(servers)))
    r = Run(cfg, workers=workers)
    r.preamble()
    macs = ["02:00:00:01:00:%02x" % (31 + i) for i in range(4)]
    for i, a in enumerate(servers):
        r.send("inside", sc.arp_req(macs[i], a, GW_IN))
    for k in range(20):
        for i, a in enumerate(servers):
            src = "45.33.%d.%d" % (i, 1 + k)
            r.send("outside", r.remote(src, GW_OUT, TCP(sport=1000 + k, dport=8081 + i,
                                                        flags="S", seq=k)))
            r.send("inside", r.host(a, src, TCP(sport=80, dport=1000 + k, flags="SA", seq=777,
                                                ack=k + 1), mac=macs[i]))
    r.send("inside", r.host(H2, SERVER, UDP(sport=4200, dport=53) / b"query"))
    r.send("inside", r.host(H2, SERVER, TCP(sport=4201, dport=80, flags="S", seq=9)))
    res = r.run(replay, keep)
    got = [Ether(b) for _t, b in res.ip("outside")]
    udp_ok = any(p.haslayer(UDP) and p[UDP].dport == 53 for p in got)
    tcp_ok = any(p.haslayer(TCP) and p[TCP].dport == 80 and p[TCP].flags == "S" for p in got)
    if not (udp_ok and tcp_ok):
        print("  dropped:", [(summary(b), rr) for _t, b, rr in res.dropped()
                             if Ether(b)[IP].src == H2])
    return verdict(udp_ok and tcp_ok, "another host still gets new connections after a "
                   f"SYN flood on a forward (udp out: {udp_ok}, tcp SYN out: {tcp_ok})")


if __name__ == "__main__":
    sys.exit(main())

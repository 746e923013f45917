#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Attack: one inside machine defeats the per-host port limit (RFC 6888 REQ-4) by sending from several unused addresses of the inside subnet (uRPF only checks the
subnet), and with a cooperating outside server that answers each flow (replied mappings are
never evicted) takes every outside UDP port: other hosts get NAT_PORTS_EXHAUSTED for the
udp_replied timeout (5 min), renewable at will.

natgw-replay.ini with [nat] ports = 1024-1103 (80 ports: auto max_ports_per_host = 20).
Input: from MAC 02:00:00:01:00:0a (H1) only, sources 192.168.1.100-104 (nobody answers
ARP for them), 16 UDP flows each to 198.51.100.5:9999 (80 in all, each under the per-host
limit), each answered by the server; then 192.168.1.20 (H2) sends one UDP query.
Wanted: H2's query leaves translated (one machine must not take more than its share).
Before the fix: H2's query dropped NAT_PORTS_EXHAUSTED.

    /usr/bin/python3 tests/replay/attack/host_limit_spoofed_sources.py NATGW_REPLAY [--workers N]
"""
import sys
import os
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atk import *  # noqa: E402,F401,F403


def main():
    replay, keep = main_replay()
    workers = workers_arg()
    cfg = set_key(base_config(), "nat", "ports", "1024-1103")
    r = Run(cfg, workers=workers)
    r.preamble()
    for s in range(5):
        src = "192.168.1.%d" % (100 + s)
        for k in range(16):
            sp = 1024 + 16 * s + k      # in the range: preserved, so the reply port is known
            r.send("inside", r.host(src, SERVER, UDP(sport=sp, dport=9999) / b"x", mac=H1_MAC))
            r.send("outside", r.remote(SERVER, GW_OUT, UDP(sport=9999, dport=sp) / b"y"))
    r.send("inside", r.host(H2, SERVER, UDP(sport=4000, dport=53) / b"h2 query"))
    res = r.run(replay, keep)
    ok = any(Ether(b).haslayer(UDP) and Ether(b)[UDP].dport == 53
             for _t, b in res.ip("outside"))
    if not ok:
        print("  dropped:", [(summary(b), rr) for _t, b, rr in res.dropped()
                             if Ether(b)[IP].src == H2])
    return verdict(ok, "a second host still gets a UDP port after one machine used 5 "
                   "spoofed inside source addresses")


if __name__ == "__main__":
    sys.exit(main())

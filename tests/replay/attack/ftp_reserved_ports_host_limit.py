#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Attack: an inside host escapes the per-host port limit (RFC 6888 REQ-4)
through the FTP helper: every PORT command reserves an outside port
(lib/helpers/helper.c handle_match -> nat_port_reserve, lib/nat/nat_ports.c), which is
charged to no host; the data connection that uses it keeps it (HC_F_RESV) and, answered,
is never evicted. One control connection to a cooperating FTP server takes every TCP port.

natgw-replay.ini with [nat] ports = 1024-1103 (80 ports, auto max_ports_per_host = 20).
Input: H1 opens one control connection 192.168.1.10:1024 -> 198.51.100.5:21, sends 79
PORT commands (its own address, ports 1025..1103), the server opens each data connection
from port 20 and H1 answers it (SYN/ACK); then H2 sends a TCP SYN out.
Wanted: H1 holds at most its 20 ports (a PORT past the limit is refused, text unchanged),
and H2's SYN leaves translated.
Before the fix: H1 holds all 80 TCP ports; H2's SYN dropped NAT_PORTS_EXHAUSTED.

    /usr/bin/python3 tests/replay/attack/ftp_reserved_ports_host_limit.py NATGW_REPLAY
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
    ctl = Tcp(r, H1, 1024, SERVER, 21)
    ctl.open()
    for k in range(79):
        p = 1025 + k
        ctl.csend(ftp_port(H1, p))
        r.send("outside", r.remote(SERVER, GW_OUT, TCP(sport=20, dport=p, flags="S", seq=9000)))
        r.send("inside", r.host(H1, SERVER, TCP(sport=p, dport=20, flags="SA", seq=7000,
                                                ack=9001)))
    r.send("inside", r.host(H2, SERVER, TCP(sport=4001, dport=80, flags="S", seq=1)))
    res = r.run(replay, keep)
    ok = any(Ether(b).haslayer(TCP) and Ether(b)[TCP].dport == 80 and
             Ether(b)[TCP].flags == "S" for _t, b in res.ip("outside"))
    held = len({Ether(b)[TCP].sport for _t, b in res.ip("outside")
                if Ether(b).haslayer(TCP) and Ether(b)[TCP].dport == 20})
    if not ok:
        print("  dropped:", [(summary(b), rr) for _t, b, rr in res.dropped()
                             if Ether(b)[IP].src == H2])
    return verdict(ok and held <= 20, f"H1 holds {held} data ports (limit 20) and H2 still "
                   f"gets a TCP port: {ok}")


if __name__ == "__main__":
    sys.exit(main())

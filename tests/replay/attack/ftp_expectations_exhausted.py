#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Attack: one inside host takes every expectation of its worker (RFC 6888 REQ-5: one host
must not starve the others): [helpers] max_expect = 1024 per worker, max 4 per master
(lib/helpers/helper.c helper_config_default, helper_expect.c helper_expect_add), and
nothing per host. 256 FTP control connections to a cooperating server with 4 PORT commands
each fill the table for expect_timeout (300 s); every other host's PORT/PASV data
connection then fails (EXPECT_FULL: the PORT text is rewritten to a reserved port, which
is given back at once, and the server's data SYN finds nothing: NAT_NO_MAPPING).

natgw-replay.ini (defaults: FTP helper on 21).
Input: H1 opens 260 control connections 192.168.1.10:20000+k -> 198.51.100.6:21 and sends
4 PORT commands on each; then H2 opens one to 198.51.100.5:21, sends
"PORT 192,168,1,20,11,185" and the server opens the data connection 198.51.100.5:20 ->
203.0.113.2:3001.
Wanted: H2's data connection reaches 192.168.1.20:3001.
Before the fix: dropped NAT_NO_MAPPING (helper counter EXPECT_FULL).

    /usr/bin/python3 tests/replay/attack/ftp_expectations_exhausted.py NATGW_REPLAY
"""
import sys
import os
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atk import *  # noqa: E402,F401,F403


def main():
    replay, keep = main_replay()
    r = Run()
    r.preamble()
    for k in range(260):
        c = Tcp(r, H1, 20000 + k, SERVER2, 21)
        c.open()
        for j in range(4):
            c.csend(ftp_port(H1, 30000 + 4 * k + j))
    ctl = Tcp(r, H2, 3000, SERVER, 21)
    ctl.open()
    ctl.csend(ftp_port(H2, 3001))
    r.send("outside", r.remote(SERVER, GW_OUT, TCP(sport=20, dport=3001, flags="S", seq=9)))
    res = r.run(replay, keep)
    ok = any(Ether(b).haslayer(TCP) and Ether(b)[IP].dst == H2 and Ether(b)[TCP].dport == 3001
             and Ether(b)[TCP].flags == "S" for _t, b in res.ip("inside"))
    if not ok:
        print("  dropped:", [(summary(b), rr) for _t, b, rr in res.dropped()
                             if Ether(b).haslayer(TCP) and Ether(b)[TCP].sport == 20])
    return verdict(ok, "H2's active-FTP data connection gets in after H1 filled the "
                   "expectation table")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Attack: one inside host starves every other host of the FTP helper (RFC 6888 REQ-5: one
host must not starve the others) with bare SYNs to port 21. Each new connection to a
helper port takes a helper record at creation (app/gw_pipeline.c gw_miss ->
lib/helpers/helper.c helper_conn_attach -> helper_conn_new_rec); there are [helpers]
max_conns = 4096 of them per worker (helper_config_default), fewer than one host may hold
connections (the auto per-host limit is a quarter of the conntrack capacity: 16384 with
the default 65536). Unreplied SYN_SENT entries hold theirs for 4 minutes.

natgw-replay.ini with [conntrack] capacity = 16384 (per-host limit 4096).
Input: 4100 SYNs from 192.168.1.10 to 198.51.100.6:21 (distinct source ports, never
answered); then 192.168.1.20 opens an FTP control connection to 198.51.100.5:21 and sends
"PORT 192,168,1,20,11,185".
Wanted: H2's PORT is rewritten to 203,0,113,2,... with an expectation (the helper still
works for H2), so no inside address leaves in the payload.
Before the fix: H2's connection gets no helper (NO_RECORD): the PORT command leaves the uplink
untranslated with 192.168.1.20 in it and active FTP fails for H2.

    /usr/bin/python3 tests/replay/attack/ftp_helper_records_exhausted.py NATGW_REPLAY
"""
import sys
import os
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atk import *  # noqa: E402,F401,F403


def main():
    replay, keep = main_replay()
    cfg = set_key(base_config(), "conntrack", "capacity", "16384")
    r = Run(cfg)
    r.preamble()
    for k in range(4100):
        r.send("inside", r.host(H1, SERVER2, TCP(sport=10000 + k, dport=21, flags="S", seq=1)),
               dt=10)
    ctl = Tcp(r, H2, 3000, SERVER, 21)
    ctl.open()
    ctl.csend(ftp_port(H2, 3001))
    res = r.run(replay, keep)
    cmds = [bytes(Ether(b)[TCP].payload) for _t, b in res.ip("outside")
            if Ether(b).haslayer(TCP) and Ether(b)[IP].dst == SERVER and
            bytes(Ether(b)[TCP].payload).startswith(b"PORT")]
    ok = len(cmds) == 1 and cmds[0].startswith(b"PORT 203,0,113,2,")
    return verdict(ok, f"H2's PORT rewritten after H1's SYN flood to port 21: {cmds}")


if __name__ == "__main__":
    sys.exit(main())

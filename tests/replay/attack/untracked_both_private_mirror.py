#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Attack: an [untracked] rule `direction both` naming a private inside host without
`private yes`. Its outbound half never applies (docs/config.md: a private inside source is
NATed instead), so there are no untracked replies to let in, yet its mirror image still
opens a stateless hole from the uplink: anyone there who sends from port 53 reaches every
port of 192.168.1.20 (app/gw_pipeline.c gw_untracked_match, the GW_UT_BOTH branch checks
no private_ok / gw_is_private as the GW_PORT_INSIDE branch does; gw_check_addrs lets the
packet through because g->ut_inbound is set for any `both` rule).

Config: natgw-replay.ini + [untracked] dns = udp dport 53 inside 192.168.1.20 direction both
Input: H2 sends a DNS query (NATed, as documented); then from the uplink
198.51.100.7:53 -> 192.168.1.20:22 (UDP).
Wanted: the inbound datagram dropped (TO_INSIDE_DIRECT): the rule never sends that host's
packets out untracked, so its mirror must not let anything in either. With `private yes`
added, the query leaves untranslated and its answer (198.51.100.5:53 -> H2:4000) comes in.
Before the fix: delivered to 192.168.1.20:22 untranslated, no state.

    /usr/bin/python3 tests/replay/attack/untracked_both_private_mirror.py NATGW_REPLAY
"""
import sys
import os
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atk import *  # noqa: E402,F401,F403


def main():
    replay, keep = main_replay()
    cfg = base_config() + "\n[untracked]\ndns = udp dport 53 inside 192.168.1.20 direction both\n"
    r = Run(cfg)
    r.preamble()
    r.send("inside", r.host(H2, SERVER, UDP(sport=4000, dport=53) / b"q"))
    r.send("outside", r.remote(PEER, H2, UDP(sport=53, dport=22) / b"unsolicited"))
    res = r.run(replay, keep)
    leaked = [summary(b) for _t, b in res.ip("inside")
              if Ether(b).haslayer(UDP) and Ether(b)[UDP].dport == 22]
    nat_ok = any(Ether(b)[IP].src == GW_OUT for _t, b in res.ip("outside"))
    if leaked:
        print("  delivered:", leaked)
    a = verdict(not leaked and nat_ok, "no stateless hole from the uplink to a private "
                "host whose own packets are NATed")
    why = res.reason_of(lambda e: e.haslayer(UDP) and e[UDP].dport == 22)
    b = verdict(why == "TO_INSIDE_DIRECT", f"dropped as TO_INSIDE_DIRECT (got {why})")
    # with `private yes` the rule's outbound half applies, and so does its mirror
    r = Run(cfg.replace("direction both", "direction both private yes"))
    r.preamble()
    r.send("inside", r.host(H2, SERVER, UDP(sport=4000, dport=53) / b"q"))
    r.send("outside", r.remote(SERVER, H2, UDP(sport=53, dport=4000) / b"answer"))
    res = r.run(replay, keep)
    out = [Ether(b_) for _t, b_ in res.ip("outside") if Ether(b_).haslayer(UDP)]
    back = [Ether(b_) for _t, b_ in res.ip("inside") if Ether(b_).haslayer(UDP)]
    c = verdict(len(out) == 1 and out[0][IP].src == H2 and len(back) == 1 and
                back[0][UDP].dport == 4000, "with `private yes` the query leaves untracked "
                f"and its answer comes back ({len(out)} out, {len(back)} back)")
    return a or b or c


if __name__ == "__main__":
    sys.exit(main())

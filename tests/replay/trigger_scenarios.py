#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/trigger_scenarios.py - port triggering ([trigger], lib/nat/nat_trigger.c)
through natgw-replay, with scenarios.py's lab and checks (checksums recomputed, no inside
address leaking out). The config adds
    [trigger] irc = tcp 6667 -> tcp 113 timeout 30
              game = udp 27015 -> both 28000-28010

    /usr/bin/python3 tests/replay/trigger_scenarios.py NATGW_REPLAY SCENARIO [--keep DIR]
    /usr/bin/python3 tests/replay/trigger_scenarios.py --list

SCENARIO_workers2 runs SCENARIO with --workers 2 (packets received round robin: the inbound
packet for the open range reaches the triggering host's worker through the handoff ring).

trigger: before H1 connects to the IRC port, an ident SYN from PEER to 113 is dropped; after
    it, the same SYN from PEER (a host H1 never talked to) reaches H1:113 and H1's SYN/ACK
    leaves from 203.0.113.2:113; 31 s later the range is closed (a new SYN dropped) while the
    connection made through it goes on. H2's UDP to 27015 opens 28000-28010 for TCP and UDP
    to H2 (not H1); 28011 stays closed.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402
from scapy.all import TCP, UDP  # noqa: E402

H1, H1_MAC, H2, H2_MAC = sc.H1, sc.H1_MAC, sc.H2, sc.H2_MAC
SERVER, PEER, GW_OUT = sc.SERVER, sc.PEER, sc.GW_OUT


def trigger_config(d, name):
    return sc.write_config(d, lines={"trigger": ["irc = tcp 6667 -> tcp 113 timeout 30",
                                                 "game = udp 27015 -> both 28000-28010"]})


def sc_trigger(tr):
    sc.preamble(tr)
    # closed: nothing triggered it yet
    tr.drop(tr.send("outside", sc.remote(tr, PEER, GW_OUT,
                                         TCP(sport=40000, dport=113, flags="S", seq=10))),
            reason="NAT_NO_MAPPING")
    # H1 connects to an IRC server on 6667 (port preserved: 50000)
    x = tr.send("inside", sc.host(tr, H1, SERVER, TCP(sport=50000, dport=6667, flags="S",
                                                      seq=100)))
    tr.out("outside", sc.to_out(x, src=GW_OUT))
    # the ident query, from a remote H1 never talked to: in, to H1:113
    y = tr.send("outside", sc.remote(tr, PEER, GW_OUT,
                                     TCP(sport=40001, dport=113, flags="S", seq=500)))
    tr.out("inside", sc.to_in(y, H1_MAC, dst=H1))
    x = tr.send("inside", sc.host(tr, H1, PEER, TCP(sport=113, dport=40001, flags="SA",
                                                    seq=900, ack=501)))
    tr.out("outside", sc.to_out(x, src=GW_OUT))
    y = tr.send("outside", sc.remote(tr, PEER, GW_OUT,
                                     TCP(sport=40001, dport=113, flags="A", seq=501, ack=901)))
    tr.out("inside", sc.to_in(y, H1_MAC, dst=H1))
    # 31 s later: the range has closed for new connections...
    tr.t += 31 * 1000000
    tr.drop(tr.send("outside", sc.remote(tr, PEER, GW_OUT,
                                         TCP(sport=40002, dport=113, flags="S", seq=10))),
            reason="NAT_NO_MAPPING")
    # ...and the connection made through it goes on
    y = tr.send("outside", sc.remote(tr, PEER, GW_OUT, TCP(sport=40001, dport=113,
                                                           flags="PA", seq=501, ack=901) /
                                     b"6667, 50000\r\n"))
    tr.out("inside", sc.to_in(y, H1_MAC, dst=H1))
    # H2's UDP to 27015 opens 28000-28010, TCP and UDP, to H2
    x = tr.send("inside", sc.host(tr, H2, SERVER, UDP(sport=41000, dport=27015) / b"join"))
    tr.out("outside", sc.to_out(x, src=GW_OUT))
    y = tr.send("outside", sc.remote(tr, PEER, GW_OUT, UDP(sport=5000, dport=28000) / b"hi"))
    tr.out("inside", sc.to_in(y, H2_MAC, dst=H2))
    y = tr.send("outside", sc.remote(tr, PEER, GW_OUT,
                                     TCP(sport=5001, dport=28010, flags="S", seq=7)))
    tr.out("inside", sc.to_in(y, H2_MAC, dst=H2))
    tr.drop(tr.send("outside", sc.remote(tr, PEER, GW_OUT, UDP(sport=5002, dport=28011) /
                                         b"closed")), reason="NAT_NO_MAPPING")


SCENARIOS = {"trigger": sc_trigger}


if __name__ == "__main__":
    sys.exit(sc.main(sys.argv, __doc__, SCENARIOS, config=trigger_config))

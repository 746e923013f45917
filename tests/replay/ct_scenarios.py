#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/ct_scenarios.py - replay scenarios for TCP reconnection on a live tuple,
RFC 5961 RSTs and checksums of state-changing packets (lib/conntrack/ct_proto_tcp.c,
ct_parse.c), through the real pipeline with scenarios.py's checks (every output frame byte
for byte, checksums recomputed, no inside address out of the uplink, exact drops) and the
reason of every drop.

    /usr/bin/python3 tests/replay/ct_scenarios.py NATGW_REPLAY SCENARIO [--keep DIR]
    /usr/bin/python3 tests/replay/ct_scenarios.py --list

SCENARIO_workers2 runs SCENARIO with --workers 2.

ct_reconnect_challenge: H1 loses a connection (reboot) and reconnects from the same
                 port: with EIM and port preservation the SYN has the old tuple. It goes
                 out on the same mapping; the server, still in the old connection, sends a
                 challenge ACK, H1 answers with a RST, the server accepts the retransmitted
                 SYN and the new connection runs.
ct_reconnect_synack: the same when the server lost the old connection too: its SYN/ACK
                 for the new ISN makes the entry the new connection at once; segments of
                 the old connection are dropped.
ct_syn_sent_challenge: a fresh entry while the server still holds an older connection on
                 the tuple: its challenge ACK reaches H1, H1's RST reaches it, and the
                 retransmitted SYN connects.
ct_rst_rfc5961:  a blind RST in window but not at rcv.nxt reaches H1 and closes nothing
                 (the connection still works a minute later, after the 10 s close
                 timeout); one outside the window is dropped; the one at rcv.nxt closes.
ct_checksums:    a SYN and a first UDP datagram with a wrong checksum are dropped, the right
                 ones pass; an ICMP error with a wrong checksum is dropped, the right one is
                 translated in.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

H1, H1_MAC = sc.H1, sc.H1_MAC
GW_OUT, GW_OUT_MAC, GW_IN_MAC = sc.GW_OUT, sc.GW_OUT_MAC, sc.GW_IN_MAC
SERVER, ROUTER, ROUTER_MAC = sc.SERVER, sc.ROUTER, sc.ROUTER_MAC
SEC = 1000000
NEW_ISN = 3000000000


def later(tr, dt):
    """dt microseconds pass; the hosts and the router ARP for natgw again (natgw's ARP cache
    ages, and nobody would answer its requests here)."""
    tr.t += dt
    sc.preamble(tr)


class Conn:
    """H1:sport <-> SERVER:443 through natgw: c() / s() build, out() / back() send a
    segment from H1 / the server and expect it translated on the other side, dropped()
    expects a drop with a reason."""

    def __init__(self, tr, sport):
        self.tr, self.sport = tr, sport
        self.ext = tr.flow(f"h1-{sport}", "outside",
                           lambda p: p.haslayer(TCP) and p[TCP].flags == "S" and
                           p[TCP].sport != 0 and p[IP].dst == SERVER,
                           lambda p: p[TCP].sport, sport)

    def c(self, load=None, **kw):
        p = sc.host(self.tr, H1, SERVER, TCP(sport=self.sport, dport=443, **kw))
        return p / load if load else p

    def s(self, load=None, **kw):
        p = sc.remote(self.tr, SERVER, GW_OUT, TCP(sport=443, dport=self.ext, **kw))
        return p / load if load else p

    def out(self, dt=1000, **kw):
        x = self.tr.send("inside", self.c(**kw), dt=dt)
        self.tr.out("outside", sc.to_out(x, src=GW_OUT, sport=self.ext))

    def back(self, dt=1000, **kw):
        y = self.tr.send("outside", self.s(**kw), dt=dt)
        self.tr.out("inside", sc.to_in(y, H1_MAC, dst=H1, dport=self.sport))

    def dropped(self, side, reason, dt=1000, **kw):
        f = self.c(**kw) if side == "inside" else self.s(**kw)
        self.tr.drop(self.tr.send(side, f, dt=dt), reason=reason)

    def establish(self, isn_c=1000, isn_s=5000):
        """Handshake, 100 bytes out, 200 back, all acknowledged."""
        self.out(flags="S", seq=isn_c, window=64240, options=sc.tcp_opts())
        self.back(flags="SA", seq=isn_s, ack=isn_c + 1, window=65160, options=sc.tcp_opts())
        self.out(flags="A", seq=isn_c + 1, ack=isn_s + 1, window=502)
        self.out(flags="PA", seq=isn_c + 1, ack=isn_s + 1, window=502, load=b"q" * 100)
        self.back(flags="PA", seq=isn_s + 1, ack=isn_c + 101, window=509, load=b"r" * 200)
        self.out(flags="A", seq=isn_c + 101, ack=isn_s + 201, window=501)

    def new_connection(self, isn_s):
        """The new connection (client ISN NEW_ISN) after the server's SYN/ACK: data both
        ways in its own sequence space."""
        self.out(flags="A", seq=NEW_ISN + 1, ack=isn_s + 1, window=502)
        self.out(flags="PA", seq=NEW_ISN + 1, ack=isn_s + 1, window=502, load=b"n" * 300)
        self.back(flags="PA", seq=isn_s + 1, ack=NEW_ISN + 301, window=509, load=b"m" * 400)
        self.out(flags="A", seq=NEW_ISN + 301, ack=isn_s + 401, window=501)


def ct_reconnect_challenge(tr):
    sc.preamble(tr)
    k = Conn(tr, 40050)
    k.establish()
    # H1 reboots and reconnects from the same port ten minutes later
    later(tr, 600 * SEC)
    k.out(flags="S", seq=NEW_ISN, window=64240, options=sc.tcp_opts())
    # the server, still in the old connection, sends a challenge ACK (RFC 5961 4.2)
    k.back(flags="A", seq=5201, ack=1101, window=509)
    # H1, in SYN-SENT, answers it with <SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.3)
    k.out(flags="R", seq=1101, window=0)
    # one second later the SYN again, now accepted
    k.out(dt=SEC, flags="S", seq=NEW_ISN, window=64240, options=sc.tcp_opts())
    k.back(flags="SA", seq=9000000, ack=NEW_ISN + 1, window=65160, options=sc.tcp_opts())
    k.new_connection(9000000)
    tr.check(sc.expect_preserved("h1-40050", 40050))


def ct_reconnect_synack(tr):
    sc.preamble(tr)
    k = Conn(tr, 40051)
    k.establish()
    later(tr, 600 * SEC)
    k.out(flags="S", seq=NEW_ISN, window=64240, options=sc.tcp_opts())
    # the server lost the old connection too: a SYN/ACK for the new ISN
    k.back(flags="SA", seq=9000000, ack=NEW_ISN + 1, window=65160, options=sc.tcp_opts())
    k.new_connection(9000000)
    # a late segment of the old connection, either way
    k.dropped("outside", "CT_TCP_OUT_OF_WINDOW", flags="PA", seq=5201, ack=1101, window=509,
              load=b"old")
    k.dropped("inside", "CT_TCP_OUT_OF_WINDOW", flags="PA", seq=1101, ack=5201, window=501,
              load=b"old")
    tr.check(sc.expect_preserved("h1-40051", 40051))


def ct_syn_sent_challenge(tr):
    sc.preamble(tr)
    k = Conn(tr, 40052)
    k.out(flags="S", seq=NEW_ISN, window=64240, options=sc.tcp_opts())
    k.back(flags="A", seq=777000, ack=424242, window=509)      # challenge ACK
    k.out(flags="R", seq=424242, window=0)                      # H1's answer
    k.out(dt=SEC, flags="S", seq=NEW_ISN, window=64240, options=sc.tcp_opts())
    k.back(flags="SA", seq=9000000, ack=NEW_ISN + 1, window=65160, options=sc.tcp_opts())
    k.new_connection(9000000)


def ct_rst_rfc5961(tr):
    sc.preamble(tr)
    k = Conn(tr, 40053)
    k.establish()
    # blind, in window, not at rcv.nxt (5201): passes to H1, closes nothing
    k.back(flags="R", seq=5201 + 5000, window=0)
    # H1's challenge ACK
    k.out(flags="A", seq=1101, ack=5201, window=501)
    # far outside the window: dropped
    k.dropped("outside", "CT_TCP_RST_OUT_OF_WINDOW", flags="R", seq=5201 + 0x40000000,
              window=0)
    # a minute later (the close timeout is 10 s) the connection still works
    k.out(dt=60 * SEC, flags="PA", seq=1101, ack=5201, window=501, load=b"still here")
    k.back(flags="A", seq=5201, ack=1111, window=509)
    # at rcv.nxt: closes; a minute later the server's segment finds no connection
    k.back(flags="R", seq=5201, window=0)
    k.dropped("outside", ("CT_", "NAT_"), dt=60 * SEC, flags="PA", seq=5201, ack=1111,
              window=509, load=b"late")


def ct_checksums(tr):
    sc.preamble(tr)
    k = Conn(tr, 40054)
    k.dropped("inside", "CT_L4_BAD_CSUM", flags="S", seq=1000, window=64240, chksum=0x1234)
    k.establish()
    # UDP: the first datagram with a wrong checksum, then a right one and its answer
    x = sc.host(tr, H1, SERVER, UDP(sport=4300, dport=53, chksum=0x4321) / b"query")
    tr.drop(tr.send("inside", x), reason="CT_L4_BAD_CSUM")
    e = tr.flow("udp-4300", "outside", lambda p: p.haslayer(UDP) and p[UDP].dport == 53,
                lambda p: p[UDP].sport, 4300)
    x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=4300, dport=53) / b"query"))
    o = sc.to_out(x, src=GW_OUT, sport=e)
    tr.out("outside", o)
    # an ICMP port unreachable about it from the router, first with a wrong checksum
    err = Ether(src=ROUTER_MAC, dst=GW_OUT_MAC) / IP(src=ROUTER, dst=GW_OUT, ttl=255, id=7) / \
        ICMP(type=3, code=3, chksum=0x1111) / Raw(sc.quote(o, ttl=60, l4_bytes=8))
    tr.drop(tr.send("outside", err), reason="CT_ICMP_BAD_CSUM")
    err = Ether(src=ROUTER_MAC, dst=GW_OUT_MAC) / IP(src=ROUTER, dst=GW_OUT, ttl=255, id=8) / \
        ICMP(type=3, code=3) / Raw(sc.quote(o, ttl=60, l4_bytes=8))
    e2 = tr.send("outside", err)
    tr.out("inside", sc.icmp_error_translated(e2, GW_IN_MAC, H1_MAC, new_outer_dst=H1,
                                              embedded=sc.quote(x, ttl=60, l4_bytes=8)))
    # a FIN and a RST with a wrong checksum change nothing: the connection still works
    k.dropped("inside", "CT_L4_BAD_CSUM", flags="FA", seq=1101, ack=5201, window=501,
              chksum=0x2222)
    k.dropped("outside", "CT_L4_BAD_CSUM", flags="R", seq=5201, window=0, chksum=0x3333)
    k.out(dt=60 * SEC, flags="PA", seq=1101, ack=5201, window=501, load=b"alive")

    def check(t, r, ck):
        # checksums before memory: the bad first packets took no connection (none was
        # created and deleted again), only the two good ones exist
        log = open(os.path.join(r.dir, "replay.log")).read()
        m = re.search(r"connections created (\d+) expired \d+ evicted \d+ deleted (\d+)", log)
        ck.ok(m is not None and m.group(1) == "2" and m.group(2) == "0",
              "bad-checksum first packets create no connection", "created 2 deleted 0",
              m.group(0) if m else "no counters")
    tr.check(check)


SCENARIOS = {
    "ct_reconnect_challenge": ct_reconnect_challenge,
    "ct_reconnect_synack": ct_reconnect_synack,
    "ct_syn_sent_challenge": ct_syn_sent_challenge,
    "ct_rst_rfc5961": ct_rst_rfc5961,
    "ct_checksums": ct_checksums,
}


if __name__ == "__main__":
    sys.exit(sc.main(sys.argv, __doc__, SCENARIOS))

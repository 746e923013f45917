#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/hardening_scenarios.py - replay scenarios for natgw's address and side checks
(app/gw_pipeline.c stage 1, app/gw_icmp.c, [untracked], [inside] routes), with
scenarios.py's lab and checks (every output frame byte for byte, checksums recomputed, no
inside address leaking out of the uplink, exact drops) plus the reason of every drop (its
identifier in drops.pcap.txt).

    /usr/bin/python3 tests/replay/hardening_scenarios.py NATGW_REPLAY SCENARIO [--keep DIR]
    /usr/bin/python3 tests/replay/hardening_scenarios.py --list

SCENARIO_workers2 runs SCENARIO with --workers 2.

h_frag_checks:   fragments that fail an address/side check (martian or inside source from
                 the uplink, to no address of ours, straight to an inside address, to our
                 inside address from outside, a directed broadcast, inside to inside, a
                 source outside the inside network from the inside) are each dropped at
                 once with that reason, never queued for reassembly; a good fragmented
                 datagram still passes.
h_icmp_forged:   a forged port unreachable (outer 6.6.6.6 -> 10.99.99.99, quoting a live
                 UDP flow, to natgw's MAC) never reaches the inside; an inside host forging
                 an error about another host's flow is dropped; the real host's error
                 passes translated (RFC 5508 REQ-3).
h_untracked_old: an old-syntax [untracked] config: the rule no longer opens a hole from the
                 uplink (nor through a quoted ICMP error), and private inside sources it
                 matches go through NAT instead of leaking out untranslated.
h_untracked_rules: the new syntax: direction out/in/both, host (outside end), inside (inside
                 end), sport, private yes; ICMP errors never match; a time exceeded about an
                 untracked inbound packet never leaves the uplink.
h_urpf:          from the inside port only sources of the inside network (strict uRPF,
                 RFC 3704 2.2).
h_inside_routes: [inside] routes: a routed prefix is accepted as source, its replies go to
                 the route's next hop, and it is an inside address on the uplink.
h_own_replies:   what natgw makes itself: no echo reply or time exceeded out of the uplink
                 for a spoofed inside source, for our inside address, for a TTL-1 packet
                 straight to an inside address or to our address without a mapping, nor to
                 a martian source; a reassembled 3000-byte echo request is answered with
                 fragments that fit the MTU (RFC 1122 3.2.2.6).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw, fragment  # noqa: E402

H1, H1_MAC, H2, H2_MAC = sc.H1, sc.H1_MAC, sc.H2, sc.H2_MAC
GW_IN, GW_OUT, GW_IN_MAC, GW_OUT_MAC = sc.GW_IN, sc.GW_OUT, sc.GW_IN_MAC, sc.GW_OUT_MAC
SERVER, PEER, ROUTER_MAC = sc.SERVER, sc.PEER, sc.ROUTER_MAC
R_IN, R_IN_MAC = "192.168.1.254", "02:00:00:01:00:fe"   # a router on the inside LAN


def config(tr, inside="", extra=""):
    """The scenario runs with natgw-replay.ini plus `inside` lines first in [inside] and
    `extra` sections appended."""
    tr.config = sc.write_config(tr.dir, lines={"inside": [inside]} if inside else None,
                                extra=extra)


def no_output(port):
    def fn(tr, res, ck):
        ck.eq(f"nothing IPv4 leaves the {port} port", [],
              [sc.summary(b) for _t, b in res.ip(port)])
    return fn


def inside_router_arp(tr):
    tr.send("inside", sc.arp_req(R_IN_MAC, R_IN, GW_IN))


def frags(pkt, size=16):
    """The fragments of pkt (scapy, with Ether) as frames with pkt's Ether header."""
    eth = Ether(src=pkt[Ether].src, dst=pkt[Ether].dst)
    return [eth / f for f in fragment(sc.concrete(pkt)[IP], fragsize=size)]


# ---------------------------------------------------------------------------------------------
# scenarios


def h_frag_checks(tr):
    """The address and side checks run before reassembly. Each train is incomplete (the first
    two of three fragments): queued, it would sit in the table until its timeout; checked
    first, each fragment is dropped at once with the reason of the check."""
    sc.preamble(tr)
    pl = b"x" * 40
    cases = [
        ("outside", sc.remote(tr, "192.168.1.50", GW_OUT, UDP(sport=1, dport=2) / pl),
         "WRONG_SIDE"),
        ("outside", sc.remote(tr, GW_OUT, GW_OUT, UDP(sport=1, dport=2) / pl), "WRONG_SIDE"),
        ("outside", sc.remote(tr, "0.0.0.16", GW_OUT, UDP(sport=1, dport=2) / pl),
         "MARTIAN_SRC"),
        ("outside", sc.remote(tr, PEER, "10.99.99.99", UDP(sport=1, dport=2) / pl),
         "NOT_OURS"),
        ("outside", sc.remote(tr, PEER, H1, UDP(sport=1, dport=2) / pl), "TO_INSIDE_DIRECT"),
        ("outside", sc.remote(tr, PEER, GW_IN, ICMP(type=8, id=1) / pl), "TO_ME_WRONG_SIDE"),
        ("outside", sc.remote(tr, PEER, "203.0.113.255", UDP(sport=1, dport=2) / pl),
         "NO_ROUTE"),
        ("inside", sc.host(tr, H1, H2, UDP(sport=1, dport=2) / pl), "NO_ROUTE"),
        ("inside", Ether(src=H1_MAC, dst=GW_IN_MAC) /
         IP(src="10.5.5.5", dst=SERVER, id=77) / UDP(sport=1, dport=2) / pl, "SRC_NOT_INSIDE"),
    ]
    for port, pkt, reason in cases:
        for f in frags(pkt)[:2]:
            tr.drop(tr.send(port, f), reason=reason)
    # a good datagram, fragmented, still reassembled and translated
    e = tr.flow("h1", "outside", lambda p: p[UDP].dport == 9999, lambda p: p[UDP].sport, 4600)
    big = sc.host(tr, H1, SERVER, UDP(sport=4600, dport=9999) / (b"ok" * 40))
    for f in frags(big, 64):
        tr.send("inside", f)
    tr.out("outside", sc.to_out(big, src=GW_OUT, sport=e))
    tr.check(no_output("inside"))


def udp_flow(tr, sport=4200):
    """H1:sport -> SERVER:53 and its reply: (outbound frame as sent, as translated)."""
    e = tr.flow("dns", "outside", lambda p: p[UDP].dport == 53 and p[IP].src == GW_OUT,
                lambda p: p[UDP].sport, sport)
    x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=sport, dport=53) / b"query"))
    o = sc.to_out(x, src=GW_OUT, sport=e)
    tr.out("outside", o)
    y = tr.send("outside", sc.remote(tr, SERVER, GW_OUT, UDP(sport=53, dport=e) / b"answer"))
    r = sc.to_in(y, H1_MAC, dst=H1, dport=sport)
    tr.out("inside", r)
    return x, o, y, r, e


def h_icmp_forged(tr):
    """Forged ICMP errors about a live UDP flow."""
    sc.preamble(tr)
    x, o, y, r, e = udp_flow(tr)
    # a forgery from anywhere: outer 6.6.6.6 -> 10.99.99.99, to natgw's MAC, quoting the flow
    tr.drop(tr.send("outside", Ether(src=ROUTER_MAC, dst=GW_OUT_MAC) /
                    IP(src="6.6.6.6", dst="10.99.99.99", ttl=60, id=0x666) /
                    ICMP(type=3, code=3) / Raw(sc.quote(o, ttl=60))),
            # the address check (app), or the parser's outer-dst == quoted-src (lib/conntrack)
            reason=("NOT_OURS", "CT_ICMP_ERROR_BAD_DST"))
    # H2 forges a port unreachable about H1's flow (quoting what H1 received)
    tr.drop(tr.send("inside", sc.host(tr, H2, SERVER, ICMP(type=3, code=3) / Raw(sc.quote(r)))),
            reason="ICMP_ERROR_FORGED")
    # the same from H1 itself is genuine: translated out (RFC 5508 REQ-3)
    g = tr.send("inside", sc.host(tr, H1, SERVER, ICMP(type=3, code=3) / Raw(sc.quote(r))))
    tr.out("outside", sc.icmp_error_translated(g, GW_OUT_MAC, ROUTER_MAC, new_outer_src=GW_OUT,
                                               embedded=sc.quote(y, ttl=y[IP].ttl - 1)))
    # and the flow still works
    y2 = tr.send("outside", sc.remote(tr, SERVER, GW_OUT, UDP(sport=53, dport=e) / b"again"))
    tr.out("inside", sc.to_in(y2, H1_MAC, dst=H1, dport=4200))


OLD_UNTRACKED = """
[untracked]
dns = udp dport 53
ntp = udp dport 123 host 192.168.1.0/24
"""


def h_untracked_old(tr):
    """[untracked], a config written for the old two-way rules."""
    config(tr, extra=OLD_UNTRACKED)
    sc.preamble(tr)
    # from the uplink straight to an inside host's port 53: no hole any more
    tr.drop(tr.send("outside", sc.remote(tr, PEER, H1, UDP(sport=5000, dport=53) / b"in")),
            reason="TO_INSIDE_DIRECT")
    # an ICMP error whose quoted tuple matches the rule: not through the rule either
    q = IP(src=H1, dst=PEER, ttl=60, id=5) / UDP(sport=53, dport=7777) / b"q"
    tr.drop(tr.send("outside", sc.remote(tr, PEER, H1, ICMP(type=3, code=3) / Raw(bytes(q)))),
            reason="TO_INSIDE_DIRECT")
    # a private inside source matching the rule goes through NAT (tracked, translated)
    x, o, y, r, e = udp_flow(tr, sport=5300)
    n = tr.flow("ntp", "outside", lambda p: p[UDP].dport == 123, lambda p: p[UDP].sport, 123)
    x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=123, dport=123) / b"ntp"))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=n))


NEW_UNTRACKED = """
[untracked]
pub  = udp dport 53 inside 198.18.0.0/24 direction both
priv = udp dport 5353 host 198.51.100.5 direction both private yes
ssh  = tcp dport 22 inside 192.168.1.20 direction in
"""
PUB = "198.18.0.5"      # a public host behind the inside router R_IN


def h_untracked_rules(tr):
    """[untracked], the new one-way syntax."""
    config(tr, inside="routes = 198.18.0.0/24 via " + R_IN, extra=NEW_UNTRACKED)
    sc.preamble(tr)
    inside_router_arp(tr)
    eth = Ether(src=R_IN_MAC, dst=GW_IN_MAC)
    # out as written: untranslated (a public source), TTL - 1
    x = tr.send("inside", eth / IP(src=PUB, dst=SERVER, id=1) / UDP(sport=4000, dport=53) / b"q")
    tr.out("outside", sc.to_out(x))
    # its reply, mirrored (`both`), to the route's next hop
    y = tr.send("outside", sc.remote(tr, SERVER, PUB, UDP(sport=53, dport=4000) / b"a"))
    tr.out("inside", sc.to_in(y, R_IN_MAC))
    # from the uplink to the same host's port 53: not the mirror, no rule
    tr.drop(tr.send("outside", sc.remote(tr, PEER, PUB, UDP(sport=4000, dport=53) / b"in")),
            reason="TO_INSIDE_DIRECT")
    # an ICMP error whose quoted tuple is the mirror: errors never match
    qd = IP(src=PUB, dst=SERVER, ttl=60, id=1) / UDP(sport=4000, dport=53) / b"q"
    tr.drop(tr.send("outside", sc.remote(tr, SERVER, PUB, ICMP(type=3, code=3) /
                                         Raw(bytes(qd)))), reason="TO_INSIDE_DIRECT")
    # TTL 1 on a matching inbound packet: dropped, and no time exceeded quoting the inside
    # address leaves the uplink
    tr.drop(tr.send("outside", sc.remote(tr, SERVER, PUB, UDP(sport=53, dport=4000) / b"t",
                                         ttl=1)), reason="TTL_EXCEEDED")
    # a private inside source on the `pub` rule's port: not matched, NAT
    e = tr.flow("h1-53", "outside", lambda p: p[UDP].dport == 53 and p[IP].src == GW_OUT,
                lambda p: p[UDP].sport, 5000)
    x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=5000, dport=53) / b"nat me"))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=e))
    # `private yes`: H1 to SERVER:5353 leaves untranslated, as the rule asks; the reply too
    x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=5353, dport=5353) / b"mdns"))
    tr.leak("outside", sc.to_out(x))
    y = tr.send("outside", sc.remote(tr, SERVER, H1, UDP(sport=5353, dport=5353) / b"back"))
    tr.out("inside", sc.to_in(y, H1_MAC))
    # ... but not to another host (host is the outside end): NAT
    f = tr.flow("h1-5353", "outside", lambda p: p[UDP].dport == 5353 and p[IP].src == GW_OUT,
                lambda p: p[UDP].sport, 5353)
    x = tr.send("inside", sc.host(tr, H1, PEER, UDP(sport=5353, dport=5353) / b"other"))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=f))
    # `direction in`: PEER -> H2:22 comes in untracked, but only that way
    s = tr.send("outside", sc.remote(tr, PEER, H2, TCP(sport=40000, dport=22, flags="S", seq=1)))
    tr.out("inside", sc.to_in(s, H2_MAC))
    tr.drop(tr.send("outside", sc.remote(tr, PEER, H1, TCP(sport=40000, dport=22, flags="S",
                                                           seq=1))), reason="TO_INSIDE_DIRECT")


def h_urpf(tr):
    """Strict uRPF: from the inside port, only sources of the inside network."""
    sc.preamble(tr)
    for src in ("10.5.5.5", "203.0.113.77", "198.51.100.9"):
        tr.drop(tr.send("inside", Ether(src=H1_MAC, dst=GW_IN_MAC) /
                        IP(src=src, dst=SERVER, id=9) / UDP(sport=4000, dport=9999) / b"s"),
                reason="SRC_NOT_INSIDE")
    tr.drop(tr.send("inside", Ether(src=H1_MAC, dst=GW_IN_MAC) /
                    IP(src="0.0.0.16", dst=SERVER, id=10) / UDP(sport=1, dport=2) / b"m"),
            reason="MARTIAN_SRC")
    # spoofed SYN flood sources would each take a connection: none is created
    tr.drop(tr.send("inside", Ether(src=H1_MAC, dst=GW_IN_MAC) /
                    IP(src="172.16.0.1", dst=SERVER, id=11) /
                    TCP(sport=1000, dport=80, flags="S")), reason="SRC_NOT_INSIDE")
    e = tr.flow("h1", "outside", lambda p: p[UDP].dport == 9999, lambda p: p[UDP].sport, 4001)
    x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=4001, dport=9999) / b"fine"))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=e))


def h_inside_routes(tr):
    """[inside] routes."""
    config(tr, inside="routes = 10.1.0.0/16 via " + R_IN + ", 10.2.0.0/24 via " + R_IN)
    sc.preamble(tr)
    inside_router_arp(tr)
    eth = Ether(src=R_IN_MAC, dst=GW_IN_MAC)
    e = tr.flow("r", "outside", lambda p: p[UDP].dport == 9999, lambda p: p[UDP].sport, 4002)
    x = tr.send("inside", eth / IP(src="10.1.2.3", dst=SERVER, id=1) /
                UDP(sport=4002, dport=9999) / b"routed")
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=e))
    y = tr.send("outside", sc.remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=e) / b"back"))
    tr.out("inside", sc.to_in(y, R_IN_MAC, dst="10.1.2.3", dport=4002))
    tr.drop(tr.send("inside", eth / IP(src="10.3.0.1", dst=SERVER, id=2) /
                    UDP(sport=4003, dport=9999) / b"not routed"), reason="SRC_NOT_INSIDE")
    # a routed prefix is inside: from the uplink it is the wrong side as a source, and
    # straight to it is no NAT traffic
    tr.drop(tr.send("outside", sc.remote(tr, "10.1.2.3", GW_OUT, UDP(sport=1, dport=e) / b"w")),
            reason="WRONG_SIDE")
    tr.drop(tr.send("outside", sc.remote(tr, PEER, "10.2.0.7", UDP(sport=1, dport=2) / b"d")),
            reason="TO_INSIDE_DIRECT")


def h_own_replies(tr):
    """Echo replies and ICMP errors natgw makes itself."""
    sc.preamble(tr)
    tr.own_check = {"inside", "outside"}
    # echo to our inside address from the uplink, spoofed inside source or not
    tr.drop(tr.send("outside", sc.remote(tr, H1, GW_IN, ICMP(type=8, id=1, seq=1) / b"spoof")),
            reason="WRONG_SIDE")
    tr.drop(tr.send("outside", sc.remote(tr, PEER, GW_IN, ICMP(type=8, id=2, seq=1) / b"peer")),
            reason="TO_ME_WRONG_SIDE")
    # TTL 1 straight to an inside address: no time exceeded out of the uplink
    tr.drop(tr.send("outside", sc.remote(tr, PEER, H1, UDP(sport=1, dport=2) / b"ttl",
                                         ttl=1)), reason="TO_INSIDE_DIRECT")
    tr.drop(tr.send("outside", sc.remote(tr, "0.0.0.16", H1, UDP(sport=1, dport=2) / b"m",
                                         ttl=1)), reason="MARTIAN_SRC")
    tr.drop(tr.send("outside", sc.remote(tr, "127.0.0.1", GW_OUT, ICMP(type=8, id=3) / b"lo")),
            reason="MARTIAN_SRC")
    # TTL 1 to our outside address, no mapping: ours, not expired in transit
    tr.drop(tr.send("outside", sc.remote(tr, PEER, GW_OUT, UDP(sport=1, dport=6000) / b"t1",
                                         ttl=1)), reason="NAT_")
    # a good echo on each side is still answered
    q_out = tr.send("outside", sc.remote(tr, PEER, GW_OUT, ICMP(type=8, id=4, seq=1) / b"ok"))
    t_out = tr.t
    # a 3000-byte echo request to our inside address, fragmented: the reply is fragmented to
    # the 1500 MTU (RFC 1122 3.2.2.6 echoes the data; RFC 791 fragments it)
    big = sc.host(tr, H1, GW_IN, ICMP(type=8, id=5, seq=1) / (b"0123456789" * 300))
    for f in frags(big, 1400):
        tr.send("inside", f)
    t_big = tr.t

    def check(t, res, ck):
        out = res.ip("outside")
        if ck.eq("outside: one frame (the echo reply to PEER)", 1, len(out)):
            tg, b = out[0]
            p = Ether(b)
            ck.eq("outside echo reply", (t_out, GW_OUT_MAC, ROUTER_MAC, GW_OUT, PEER, 0, 4),
                  (tg, p.src, p.dst, p[IP].src, p[IP].dst, p[ICMP].type, p[ICMP].id))
            ck.eq("outside echo reply data", bytes(q_out[ICMP].payload), bytes(p[ICMP].payload))
        ins = res.ip("inside")
        ck.ok(len(ins) >= 2, "inside: the big echo reply leaves as fragments", ">= 2 frames",
              len(ins))
        for i, (tg, b) in enumerate(ins):
            p = Ether(b)
            ck.eq(f"inside frame #{i}", (t_big, GW_IN_MAC, H1_MAC, GW_IN, H1, 1),
                  (tg, p.src, p.dst, p[IP].src, p[IP].dst, p[IP].proto))
        dgs = sc.reassemble([b for _t, b in ins])
        ck.eq("inside: one datagram", 1, len(dgs))
        for v in dgs.values():
            if not ck.ok(v is not None, "inside: echo reply fragments complete", "all", "missing"):
                continue
            hdr, data = v
            want = bytes(sc.concrete(ICMP(type=0, id=5, seq=1) / (b"0123456789" * 300)))
            ck.ok(data == want, "inside: reassembled echo reply (type 0, id, seq, data, "
                  "checksum)", len(want), len(data))
    tr.check(check)


def h_uplink_31(tr):
    """A /31 uplink (RFC 3021): the peer's address is a host, not a directed broadcast."""
    tr.config = sc.write_config(tr.dir, subst=[("address = 203.0.113.2/24",
                                                "address = 203.0.113.0/31")])
    sc.preamble(tr)
    x, o, y, r, e = udp_flow(tr)
    # the upstream router (203.0.113.1, the odd address of the /31) reports the flow's
    # destination unreachable: a host's error, translated in (RFC 5508 REQ-3)
    g = tr.send("outside", Ether(src=ROUTER_MAC, dst=GW_OUT_MAC) /
                IP(src=sc.ROUTER, dst=GW_OUT, ttl=64, id=0x31) /
                ICMP(type=3, code=1) / Raw(sc.quote(o, ttl=60)))
    tr.out("inside", sc.icmp_error_translated(g, GW_IN_MAC, H1_MAC, new_outer_dst=H1,
                                              embedded=sc.quote(x, ttl=60)))
    # and its echo request to our outside address is answered
    q = tr.send("outside", sc.remote(tr, sc.ROUTER, "203.0.113.0",
                                     ICMP(type=8, id=31, seq=1) / b"p31"))
    tr.own_check = {"outside"}     # the translated flow and natgw's own echo reply, below

    def check(t, res, ck):
        got = [Ether(b) for _t, b in res.ip("outside")]
        ck.eq("outside: the flow's datagram, then the echo reply to the /31 peer",
              [(GW_OUT, SERVER, 17, e), ("203.0.113.0", sc.ROUTER, 1, 31)],
              [(p[IP].src, p[IP].dst, p[IP].proto,
                p[UDP].sport if p.haslayer(UDP) else p[ICMP].id) for p in got])
        if len(got) == 2:
            ck.eq("echo reply type, data", (0, b"p31"),
                  (got[1][ICMP].type, bytes(got[1][ICMP].payload)))
            ck.eq("UDP datagram bytes", bytes(o), bytes(got[0]))
    tr.check(check)


def h_eth_padding(tr):
    """Bytes after the IPv4 datagram in a frame (Ethernet padding, or trailing garbage)
    never leave: the frame is cut to the IPv4 total length, so the inside host's bytes
    stay inside and a padded frame cannot exceed the egress MTU."""
    sc.preamble(tr)
    e = tr.flow("pad", "outside", lambda p: p.haslayer(UDP) and p[UDP].dport == 53,
                lambda p: p[UDP].sport, 4700)
    x = sc.host(tr, H1, SERVER, UDP(sport=4700, dport=53) / b"q")
    tr.send("inside", bytes(x) + b"SECRET-INSIDE-BYTES" * 70)   # 1,330 bytes more
    o = sc.to_out(Ether(bytes(x)), src=GW_OUT, sport=e)
    tr.out("outside", o)
    # the answer, padded too (a short frame), arrives without the padding
    y = sc.remote(tr, SERVER, GW_OUT, UDP(sport=53, dport=e) / b"a")
    tr.send("outside", bytes(y) + bytes(20))
    tr.out("inside", sc.to_in(Ether(bytes(y)), H1_MAC, dst=H1, dport=4700))


SCENARIOS = {
    "h_eth_padding": h_eth_padding,
    "h_uplink_31": h_uplink_31,
    "h_frag_checks": h_frag_checks,
    "h_icmp_forged": h_icmp_forged,
    "h_untracked_old": h_untracked_old,
    "h_untracked_rules": h_untracked_rules,
    "h_urpf": h_urpf,
    "h_inside_routes": h_inside_routes,
    "h_own_replies": h_own_replies,
}


if __name__ == "__main__":
    sys.exit(sc.main(sys.argv, __doc__, SCENARIOS))

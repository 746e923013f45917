#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/fuzz/make_corpus.py - writes the seed corpus of the libFuzzer targets (tests/fuzz/):
real frames built with scapy for the lab of fuzz_pipeline.c's configuration (inside
192.168.1.0/24, natgw 192.168.1.1 / 203.0.113.2, router 203.0.113.1, forwards 8080 -> .10:80,
2121 -> .10:21, udp 27000-27010 -> .20; natgw's MACs 02:6e:67:00:00:00 / :01).

    /usr/bin/python3 tests/fuzz/make_corpus.py OUTDIR

OUTDIR/<target>/<seed> for every target, in each target's input format:
  fuzz_ipv4         selector byte 0x01 (verify checksum, IPv4 at 14) + one frame
  fuzz_helpers      selector byte, 4 address bytes, 2 port bytes + one payload
  fuzz_pipeline     records [port][delta u16][len u16][frame] (fuzz_pipeline.c), the
                    fix-checksums bit set; IPv4 and IPv6 (ip6_* sequences)
  fuzz_pipeline_w2  the same sequences, the receiving worker alternating
Needs Debian's python3 (python3-scapy).
"""
import os
import struct
import sys

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, conf, fragment

conf.verb = 0

GW_IN_MAC, GW_OUT_MAC = "02:6e:67:00:00:00", "02:6e:67:00:00:01"
GW_IN, GW_OUT, GW_OUT2 = "192.168.1.1", "203.0.113.2", "203.0.113.3"
ROUTER, ROUTER_MAC = "203.0.113.1", "02:00:00:02:00:01"
H1, H1_MAC = "192.168.1.10", "02:00:00:01:00:0a"
H2, H2_MAC = "192.168.1.20", "02:00:00:01:00:14"
SERVER, PEER = "198.51.100.5", "198.51.100.7"
BCAST = "ff:ff:ff:ff:ff:ff"
IN, OUT = 0, 1


def e_in(src_mac=H1_MAC):
    return Ether(src=src_mac, dst=GW_IN_MAC)


def e_out():
    return Ether(src=ROUTER_MAC, dst=GW_OUT_MAC)


def ms(n):
    return 0x4000 | n


def sec(n):
    return 0x8000 | n


def tcp_flow(sport, dst, dport, ext, host=H1, mac=H1_MAC, c_data=(), s_data=(), c_delta=()):
    """Handshake, client and server data, FIN both ways; ext: natgw's outside port.
    c_delta: per client segment, how much natgw's helper rewrite changes its length (the
    server acknowledges what it received)."""
    c, s = 1000, 5000
    shift = 0
    recs = [(IN, 0, e_in(mac) / IP(src=host, dst=dst) / TCP(sport=sport, dport=dport,
                                                                flags="S", seq=c)),
            (OUT, ms(1), e_out() / IP(src=dst, dst=GW_OUT) / TCP(sport=dport, dport=ext,
                                                                  flags="SA", seq=s,
                                                                  ack=c + 1))]
    c += 1
    s += 1
    recs.append((IN, ms(1), e_in(mac) / IP(src=host, dst=dst) /
                 TCP(sport=sport, dport=dport, flags="A", seq=c, ack=s)))
    for d in s_data:
        recs.append((OUT, ms(2), e_out() / IP(src=dst, dst=GW_OUT) /
                     TCP(sport=dport, dport=ext, flags="PA", seq=s, ack=c) / Raw(d)))
        s += len(d)
    for k, d in enumerate(c_data):
        recs.append((IN, ms(2), e_in(mac) / IP(src=host, dst=dst) /
                     TCP(sport=sport, dport=dport, flags="PA", seq=c, ack=s) / Raw(d)))
        c += len(d)
        shift += c_delta[k] if k < len(c_delta) else 0
        recs.append((OUT, ms(1), e_out() / IP(src=dst, dst=GW_OUT) /
                     TCP(sport=dport, dport=ext, flags="A", seq=s, ack=c + shift)))
    recs.append((IN, ms(5), e_in(mac) / IP(src=host, dst=dst) /
                 TCP(sport=sport, dport=dport, flags="FA", seq=c, ack=s)))
    recs.append((OUT, ms(1), e_out() / IP(src=dst, dst=GW_OUT) /
                 TCP(sport=dport, dport=ext, flags="FA", seq=s, ack=c + shift + 1)))
    recs.append((IN, ms(1), e_in(mac) / IP(src=host, dst=dst) /
                 TCP(sport=sport, dport=dport, flags="A", seq=c + 1, ack=s + 1)))
    return recs


def sequences():
    seq = {}
    seq["tcp"] = tcp_flow(1100, SERVER, 80, 1100, c_data=[b"GET / HTTP/1.0\r\n\r\n"],
                          s_data=[])
    seq["udp"] = [
        (IN, 0, e_in() / IP(src=H1, dst=SERVER) / UDP(sport=1200, dport=53) / Raw(b"q" * 30)),
        (OUT, ms(3), e_out() / IP(src=SERVER, dst=GW_OUT) / UDP(sport=53, dport=1200) /
         Raw(b"r" * 60)),
        (OUT, sec(40), e_out() / IP(src=PEER, dst=GW_OUT) / UDP(sport=53, dport=1200)),
        (IN, sec(200), e_in() / IP(src=H1, dst=SERVER) / UDP(sport=1200, dport=53)),
    ]
    seq["icmp_echo"] = [
        (IN, 0, e_in() / IP(src=H1, dst=SERVER) / ICMP(type=8, id=1111, seq=1) / Raw(b"x" * 56)),
        (OUT, ms(10), e_out() / IP(src=SERVER, dst=GW_OUT) / ICMP(type=0, id=1111, seq=1) /
         Raw(b"x" * 56)),
        (IN, ms(10), e_in() / IP(src=H1, dst=GW_IN) / ICMP(type=8, id=7, seq=1)),
        (OUT, ms(10), e_out() / IP(src=PEER, dst=GW_OUT) / ICMP(type=8, id=8, seq=1)),
    ]
    udp_out = IP(src=GW_OUT, dst=SERVER) / UDP(sport=1201, dport=5000) / Raw(b"d" * 20)
    seq["icmp_error"] = [
        (IN, 0, e_in() / IP(src=H1, dst=SERVER) / UDP(sport=1201, dport=5000) / Raw(b"d" * 20)),
        (OUT, ms(2), e_out() / IP(src=SERVER, dst=GW_OUT) / ICMP(type=3, code=3) /
         bytes(udp_out)[:28]),
        (OUT, ms(2), e_out() / IP(src=ROUTER, dst=GW_OUT) / ICMP(type=3, code=4, nexthopmtu=576) /
         bytes(udp_out)),
        (OUT, ms(2), e_out() / IP(src=ROUTER, dst=GW_OUT) / ICMP(type=11, code=0) /
         bytes(udp_out)[:28]),
        (IN, ms(2), e_in() / IP(src=H1, dst=SERVER, ttl=1) / UDP(sport=1202, dport=33434)),
    ]
    big = IP(src=H1, dst=SERVER, id=77) / UDP(sport=1203, dport=9000) / Raw(b"F" * 3000)
    back = IP(src=SERVER, dst=GW_OUT, id=78) / UDP(sport=9000, dport=1203) / Raw(b"B" * 2000)
    seq["fragments"] = ([(IN, 0, e_in() / f) for f in fragment(big, fragsize=1000)] +
                        [(OUT, ms(5), e_out() / f) for f in fragment(back, fragsize=800)] +
                        [(IN, ms(1), e_in() / IP(src=H1, dst=SERVER, flags="DF") /
                          UDP(sport=1204, dport=9) / Raw(b"D" * 1450)),
                         (OUT, sec(3), e_out() / fragment(back, fragsize=800)[0])])
    seq["arp"] = [
        (IN, 0, Ether(src=H2_MAC, dst=BCAST) / ARP(op=1, hwsrc=H2_MAC, psrc=H2, pdst=GW_IN)),
        (OUT, ms(1), Ether(src=ROUTER_MAC, dst=BCAST) /
         ARP(op=1, hwsrc=ROUTER_MAC, psrc=ROUTER, pdst=GW_OUT)),
        # inbound to H2 through the forward: natgw asks for H2's MAC, holds the packet
        (OUT, ms(1), e_out() / IP(src=PEER, dst=GW_OUT) / UDP(sport=4000, dport=27003)),
        (IN, ms(1), Ether(src=H2_MAC, dst=GW_IN_MAC) /
         ARP(op=2, hwsrc=H2_MAC, psrc=H2, hwdst=GW_IN_MAC, pdst=GW_IN)),
        (IN, ms(1), Ether(src=H2_MAC, dst=GW_IN_MAC) / IP(src=H2, dst=PEER) /
         UDP(sport=27000, dport=4000)),
    ]
    seq["forward"] = [
        (OUT, 0, e_out() / IP(src=PEER, dst=GW_OUT) / TCP(sport=5555, dport=8080, flags="S",
                                                           seq=10)),
        (IN, ms(1), e_in() / IP(src=H1, dst=PEER) / TCP(sport=80, dport=5555, flags="SA",
                                                         seq=900, ack=11)),
        (OUT, ms(1), e_out() / IP(src=PEER, dst=GW_OUT) / TCP(sport=5555, dport=8080, flags="A",
                                                               seq=11, ack=901)),
        (OUT, ms(1), e_out() / IP(src=PEER, dst=GW_OUT) / TCP(sport=5556, dport=2121, flags="S",
                                                               seq=10)),
    ]
    seq["hairpin"] = [
        (IN, 0, Ether(src=H2_MAC, dst=GW_IN_MAC) / IP(src=H2, dst=GW_OUT) /
         TCP(sport=1150, dport=8080, flags="S", seq=1)),
        (IN, ms(1), e_in() / IP(src=H1, dst=GW_OUT2) / TCP(sport=80, dport=1150, flags="SA",
                                                            seq=1, ack=2)),
        (IN, ms(1), Ether(src=H2_MAC, dst=GW_IN_MAC) / IP(src=H2, dst=GW_OUT) /
         UDP(sport=1151, dport=27001) / Raw(b"h")),
    ]
    seq["ftp_active"] = tcp_flow(
        1110, SERVER, 21, 1110, s_data=[b"220 ready\r\n"],
        c_data=[b"USER a\r\n", b"PORT 192,168,1,10,4,100\r\n",
                b"EPRT |1|192.168.1.10|1125|\r\n"], c_delta=[0, -1, -1]) + [
        (OUT, ms(1), e_out() / IP(src=SERVER, dst=GW_OUT) /
         TCP(sport=20, dport=1124, flags="S", seq=77))]
    seq["ftp_passive"] = tcp_flow(
        1111, SERVER, 21, 1111,
        s_data=[b"227 Entering Passive Mode (198,51,100,5,195,80)\r\n",
                b"229 Entering Extended Passive Mode (|||50001|)\r\n"],
        c_data=[b"PASV\r\n"]) + [
        (IN, ms(1), e_in() / IP(src=H1, dst=SERVER) / TCP(sport=1112, dport=50000, flags="S"))]
    seq["ftp_forward"] = [
        (OUT, 0, e_out() / IP(src=PEER, dst=GW_OUT) / TCP(sport=5600, dport=2121, flags="S",
                                                           seq=100)),
        (IN, ms(1), e_in() / IP(src=H1, dst=PEER) / TCP(sport=21, dport=5600, flags="SA",
                                                         seq=300, ack=101)),
        (OUT, ms(1), e_out() / IP(src=PEER, dst=GW_OUT) / TCP(sport=5600, dport=2121, flags="A",
                                                               seq=101, ack=301)),
        (OUT, ms(1), e_out() / IP(src=PEER, dst=GW_OUT) /
         TCP(sport=5600, dport=2121, flags="PA", seq=101, ack=301) / Raw(b"PASV\r\n")),
        (IN, ms(1), e_in() / IP(src=H1, dst=PEER) /
         TCP(sport=21, dport=5600, flags="PA", seq=301, ack=107) /
         Raw(b"227 Entering Passive Mode (192,168,1,10,200,10)\r\n")),
    ]
    seq["irc_dcc"] = tcp_flow(
        1113, SERVER, 6667, 1113,
        c_data=[b"PRIVMSG bob :\x01DCC SEND file.txt 3232235786 1130 1234\x01\r\n",
                b"PRIVMSG bob :\x01DCC CHAT chat 3232235786 1131\x01\r\n"]) + [
        (OUT, ms(1), e_out() / IP(src=PEER, dst=GW_OUT) / TCP(sport=7000, dport=1130, flags="S"))]
    seq["tftp"] = [
        (IN, 0, e_in() / IP(src=H1, dst=SERVER) / UDP(sport=1140, dport=69) /
         Raw(b"\x00\x01file.bin\x00octet\x00")),
        (OUT, ms(2), e_out() / IP(src=SERVER, dst=GW_OUT) / UDP(sport=3333, dport=1140) /
         Raw(b"\x00\x03\x00\x01" + b"T" * 512)),
        (IN, ms(1), e_in() / IP(src=H1, dst=SERVER) / UDP(sport=1140, dport=3333) /
         Raw(b"\x00\x04\x00\x01")),
        (OUT, sec(400), e_out() / IP(src=SERVER, dst=GW_OUT) / UDP(sport=3333, dport=1140) /
         Raw(b"\x00\x03\x00\x02")),
    ]
    seq["unsolicited"] = [
        (OUT, 0, e_out() / IP(src=PEER, dst=GW_OUT) / TCP(sport=1, dport=1100, flags="S")),
        (OUT, ms(1), e_out() / IP(src="192.168.1.10", dst=GW_IN) / ICMP(type=8)),
        (OUT, ms(1), e_out() / IP(src=PEER, dst=H1, ttl=1) / UDP(sport=9, dport=9)),
        (IN, ms(1), e_in() / IP(src="10.0.0.1", dst=SERVER) / UDP(sport=9, dport=9)),
        (IN, ms(1), e_in() / IP(src=H1, dst=SERVER, options=b"\x94\x04\x00\x00") /
         TCP(sport=1101, dport=443, flags="S")),
    ]
    seq.update(ipv6_sequences())
    return seq


def ipv6_sequences():
    """IPv6 routed with conntrack (app/gw_ip6.c, gw_nd.c; fuzz_pipeline's address6 keys):
    ND both sides, a TCP connection, UDP with an ICMPv6 error about it, echo, hop limit 1,
    extension headers (and past the bound), a routing header, fragments, a router
    solicitation, unsolicited inbound."""
    from scapy.all import (ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest,
                           ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RS, ICMPv6NDOptDstLLAddr,
                           ICMPv6NDOptSrcLLAddr, ICMPv6PacketTooBig, IPv6, IPv6ExtHdrDestOpt,
                           IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting)
    h, s, r, g_in, g_out = ("2001:db8:1::10", "2001:db8:3::5", "2001:db8:2::1",
                            "2001:db8:1::1", "2001:db8:2::2")

    def i6(l4, src=h, dst=s, hlim=64):
        return e_in() / IPv6(src=src, dst=dst, hlim=hlim) / l4

    def o6(l4, src=s, dst=h, hlim=60):
        return e_out() / IPv6(src=src, dst=dst, hlim=hlim) / l4
    nd_in = e_in() / IPv6(src=h, dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt=g_in) / \
        ICMPv6NDOptSrcLLAddr(lladdr=H1_MAC)
    nd_out = e_out() / IPv6(src=r, dst="ff02::1:ff00:2", hlim=255) / ICMPv6ND_NS(tgt=g_out) / \
        ICMPv6NDOptSrcLLAddr(lladdr=ROUTER_MAC)
    na_out = e_out() / IPv6(src=r, dst=g_out, hlim=255) / ICMPv6ND_NA(S=1, O=1, tgt=r) / \
        ICMPv6NDOptDstLLAddr(lladdr=ROUTER_MAC)
    udp = i6(UDP(sport=5000, dport=53) / Raw(b"q" * 20))
    seq = {}
    seq["ip6_tcp"] = [
        (IN, 0, nd_in), (OUT, ms(1), nd_out),
        (IN, ms(1), i6(TCP(sport=40000, dport=80, flags="S", seq=1000))),
        (OUT, ms(1), na_out),
        (OUT, ms(1), o6(TCP(sport=80, dport=40000, flags="SA", seq=5000, ack=1001))),
        (IN, ms(1), i6(TCP(sport=40000, dport=80, flags="A", seq=1001, ack=5001))),
        (IN, ms(1), i6(TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=5001) /
                       Raw(b"GET / HTTP/1.0\r\n\r\n"))),
        (OUT, ms(1), o6(TCP(sport=80, dport=40000, flags="PA", seq=5001, ack=1019) /
                        Raw(b"x" * 1300))),
        (OUT, ms(1), o6(ICMPv6PacketTooBig(mtu=1280) / Raw(bytes(i6(TCP(
            sport=40000, dport=80, flags="PA", seq=1019, ack=6301) / Raw(b"y" * 1300)))[14:
                                                                                      1246]),
                        src=r)),
        (IN, ms(1), i6(TCP(sport=40000, dport=80, flags="FA", seq=1019, ack=6301))),
        (OUT, ms(1), o6(TCP(sport=80, dport=40000, flags="FA", seq=6301, ack=1020))),
    ]
    seq["ip6_udp_icmp"] = [
        (IN, 0, nd_in), (OUT, ms(1), nd_out), (IN, ms(1), udp), (OUT, ms(1), na_out),
        (OUT, ms(1), o6(UDP(sport=53, dport=5000) / Raw(b"a" * 40))),
        (OUT, ms(1), o6(ICMPv6DestUnreach(code=4) / Raw(bytes(udp)[14:]))),
        (IN, ms(1), i6(ICMPv6EchoRequest(id=7, seq=1, data=b"ping"))),
        (OUT, ms(1), o6(ICMPv6EchoReply(id=7, seq=1, data=b"ping"))),
        (IN, ms(1), i6(ICMPv6EchoRequest(id=8), dst=g_in)),
        (IN, ms(1), i6(UDP(sport=1, dport=2), hlim=1)),
        (IN, ms(1), e_in() / IPv6(src="fe80::1", dst="ff02::2", hlim=255) / ICMPv6ND_RS()),
    ]
    seq["ip6_ext_frag"] = [
        (IN, 0, nd_in), (OUT, ms(1), nd_out), (OUT, ms(1), na_out),
        (IN, ms(1), i6(IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() /
                       TCP(sport=40001, dport=80, flags="S"))),
        (IN, ms(1), i6(IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                       IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                       IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                       UDP(sport=1, dport=2))),
        (IN, ms(1), i6(IPv6ExtHdrRouting(segleft=1, addresses=["2001:db8:3::9"]) /
                       UDP(sport=1, dport=2))),
        (IN, ms(1), i6(IPv6ExtHdrFragment(offset=0, m=1, id=9) / UDP(sport=3, dport=4) /
                       Raw(b"f" * 64))),
        (IN, ms(1), i6(IPv6ExtHdrFragment(offset=9, m=0, id=9, nh=17) / Raw(b"g" * 64))),
        (OUT, ms(1), o6(TCP(sport=1, dport=22, flags="S"))),
        (OUT, ms(1), o6(UDP(sport=1, dport=2), src=h)),
    ]
    return seq


def frame_bytes(p):
    return bytes(p)


def records(recs, w2=False):
    out = b""
    for k, (port, delta, p) in enumerate(recs):
        b = frame_bytes(p)
        pb = port | ((k & 1) << 1 if w2 else 0) | 4   # bit 2: fix checksums of mutants
        out += struct.pack(">BHH", pb, delta, len(b)) + b
    return out


def helper_seeds():
    a = bytes([203, 0, 113, 2])
    s = {}
    ftp, irc, tftp, reply = 0, 1, 2, 4
    s["ftp_port"] = bytes([ftp]) + a + struct.pack(">H", 4100) + b"PORT 192,168,1,10,4,100\r\n"
    s["ftp_eprt"] = bytes([ftp]) + a + struct.pack(">H", 4101) + b"EPRT |1|192.168.1.10|1125|\r\n"
    s["ftp_pasv"] = (bytes([ftp | reply]) + a + struct.pack(">H", 4102) +
                     b"227 Entering Passive Mode (192,168,1,10,195,80)\r\n")
    s["ftp_epsv"] = (bytes([ftp | reply]) + a + struct.pack(">H", 4103) +
                     b"229 Entering Extended Passive Mode (|||50001|)\r\n")
    s["ftp_partial"] = bytes([ftp]) + a + struct.pack(">H", 4104) + b"PORT 192,168,1"
    s["irc_send"] = (bytes([irc]) + a + struct.pack(">H", 4105) +
                     b"PRIVMSG bob :\x01DCC SEND \"my file\" 3232235786 1130 1234\x01\r\n")
    s["irc_chat"] = (bytes([irc]) + a + struct.pack(">H", 4106) +
                     b"PRIVMSG bob :\x01DCC CHAT chat 3232235786 1131\x01\r\n")
    s["tftp_rrq"] = bytes([tftp]) + a + struct.pack(">H", 0) + b"\x00\x01file.bin\x00octet\x00"
    s["tftp_wrq"] = bytes([tftp]) + a + struct.pack(">H", 0) + b"\x00\x02up.bin\x00netascii\x00"
    return s


def rules_seeds():
    """fuzz_rules: the shipped default ruleset, the unit tests' every-keyword file and the
    e2e ruleset, each followed by a NUL and a match context."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ctx = bytes([192, 168, 1, 10, 198, 51, 100, 5, 0x9c, 0x40, 0, 25, 6, 0, 0, 1, 0, 8, 0,
                 0, 40, 0, 0, 0]) + struct.pack("<Q", 1700000000000000)
    s = {}
    for name, path in (("default", "config/rules-default.nft"),
                       ("e2e", "tests/e2e/rules.nft")):
        p = os.path.join(root, path)
        if os.path.exists(p):
            s["rules_" + name] = open(p, "rb").read() + b"\0" + ctx
    s["rules_all"] = (b"table inet t {\n chain i { type filter hook input priority 0; "
                      b"policy drop;\n  icmp type echo-request limit rate 10/second accept\n"
                      b"  tcp dport ssh reject with tcp reset\n  udp dport 1-1023 reject\n }\n"
                      b" chain f { type filter hook forward priority 0; policy accept;\n"
                      b"  ct state invalid log prefix \"x \" counter drop\n"
                      b"  ct status dnat,snat accept\n  ct helper \"ftp\" accept\n"
                      b"  iif inside oif outside ip saddr 10.0.0.0/8 ip daddr { 1.2.3.4, "
                      b"5.6.0.0/16 } tcp dport { 80, 443, 8000-8080 } accept\n"
                      b"  meta l4proto udp udp sport 53 notrack\n }\n}\n") + b"\0" + ctx
    return s


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    top = sys.argv[1]
    seqs = sequences()
    for t in ("fuzz_ipv4", "fuzz_helpers", "fuzz_rules", "fuzz_pipeline", "fuzz_pipeline_w2"):
        os.makedirs(os.path.join(top, t), exist_ok=True)

    def put(target, name, data):
        with open(os.path.join(top, target, name), "wb") as f:
            f.write(data)

    for name, recs in seqs.items():
        put("fuzz_pipeline", name, records(recs))
        put("fuzz_pipeline_w2", name, records(recs, w2=True))
        for k, (_, _, p) in enumerate(recs):
            put("fuzz_ipv4", f"{name}_{k}", b"\x01" + frame_bytes(p))
    for name, data in helper_seeds().items():
        put("fuzz_helpers", name, data)
    for name, data in rules_seeds().items():
        put("fuzz_rules", name, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/ip6_scenarios.py - routed IPv6 with conntrack (app/gw_ip6.c, app/gw_nd.c,
lib/conntrack/ct_ip6.c) through the real pipeline: every IPv6 frame natgw sends is compared
byte for byte with the expected one (addresses and ports unchanged, hop limit - 1, the next
hop's MAC), every checksum recomputed from scratch, and every IPv6 drop has the expected
reason. scenarios.py's common checks run too (no IPv4 here).

    /usr/bin/python3 tests/replay/ip6_scenarios.py NATGW_REPLAY SCENARIO [--keep DIR]
    /usr/bin/python3 tests/replay/ip6_scenarios.py --list

SCENARIO_workers2 runs SCENARIO with --workers 2 (frames received round robin: IPv6 flows
are handed to the worker owning the inside host, ND teaches every worker).

ip6_off:     without address6 IPv6 frames are dropped as before (NOT_IPV4).
ip6_nd:      NS for natgw's inside address (to its solicited-node group) and for its
             link-local address answered with a solicited router NA; an NS with hop limit
             64 is dropped (ND_BAD); an NS for someone else is not answered; a packet to an
             unresolved next hop is held while natgw solicits it, and sent when the NA
             comes; an unsolicited NA creates nothing; a DAD probe for natgw's address is
             answered to all nodes; echo to natgw answered (not to its inside address from
             the uplink).
ip6_tcp:     a TCP connection out and back; an unsolicited inbound SYN is dropped (RFC 6092,
             IP6_INBOUND_NEW); a segment outside the window is dropped; a spoofed inside
             source is dropped (uRPF).
ip6_udp_icmp: UDP out and back; an ICMPv6 port unreachable quoting it is RELATED and reaches
             the host; one quoting an unknown flow or with a bad checksum is dropped; echo
             out and back by identifier; an echo reply from outside creates nothing.
ip6_hop_mtu: hop limit 1 from the inside gets Time Exceeded from natgw; a packet larger
             than the uplink MTU (1400 here) gets Packet Too Big with the MTU, never
             fragmented; a Packet Too Big from the uplink router about a tracked flow
             reaches the host.
ip6_ext:     a segment with hop-by-hop and destination options headers is tracked and
             forwarded; nine extension headers (past the bound) and a routing header with
             segments left are dropped.
ip6_frag:    fragments both ways reassembled before conntrack (out of order too), forwarded
             whole when that fits, in egress-MTU pieces when not; overlapping fragments
             (RFC 5722) make no datagram and are dropped at the timeout.
ip6_rules:   the ruleset ([filter] rules, app/gw_rules.c) on IPv6: the forward chain on
             routed flows (ip6 daddr/saddr prefixes, meta nfproto ipv6, ports, icmpv6
             type; `ip saddr 0.0.0.0/0 accept` never matches IPv6, as in an nft inet
             table), the cached verdict on later packets, reject as ICMPv6 admin-prohibited
             and as a TCP RST over IPv6, the input chain on echo to natgw; an
             unsolicited inbound SYN opened by an explicit rule only (RFC 6092 3.2).
ip6_ra:      with ra = yes natgw advertises the inside prefix (from its link-local address,
             to all nodes, prefix / MTU / link-layer options) and answers a router
             solicitation; nothing is advertised on the uplink.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402
from scapy.all import (ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest,  # noqa: E402
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RS, ICMPv6NDOptDstLLAddr,
                       ICMPv6NDOptSrcLLAddr, ICMPv6PacketTooBig, ICMPv6TimeExceeded, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, TCP, UDP,
                       Ether, Raw, in6_chksum)

GW_IN_MAC, GW_OUT_MAC, ROUTER_MAC = sc.GW_IN_MAC, sc.GW_OUT_MAC, sc.ROUTER_MAC
H1_MAC, H2_MAC = sc.H1_MAC, sc.H2_MAC
GW6_IN = "2001:db8:1::1"
GW6_OUT = "2001:db8:2::2"
RTR6 = "2001:db8:2::1"
H6 = "2001:db8:1::10"
H6B = "2001:db8:1::20"
SRV6 = "2001:db8:3::5"
# EUI-64 link-local addresses of natgw-replay's port MACs (RFC 4291 appendix A)
GW6_IN_LL = "fe80::6e:67ff:fe00:0"
GW6_OUT_LL = "fe80::6e:67ff:fe00:1"
H6_LL = "fe80::ff:fe01:a"
SEC = 1000000
KEYS = {"inside": {"address6": "2001:db8:1::1/64"},
        "outside": {"address6": "2001:db8:2::2/64", "gateway6": RTR6}}


def snm(addr):
    """Solicited-node multicast group and its MAC (RFC 4291 2.7.1, RFC 2464 7)."""
    import ipaddress
    b = ipaddress.IPv6Address(addr).packed
    g = ipaddress.IPv6Address(bytes.fromhex("ff0200000000000000000001ff") + b[13:])
    return str(g), "33:33:" + ":".join(f"{x:02x}" for x in g.packed[12:])


def ns(smac, src, target, hlim=255, lla=True):
    grp, gmac = snm(target)
    p = Ether(src=smac, dst=gmac) / IPv6(src=src, dst=grp, hlim=hlim) / ICMPv6ND_NS(tgt=target)
    return p / ICMPv6NDOptSrcLLAddr(lladdr=smac) if lla else p


def na_from_gw(port, target, dst, dmac):
    """What natgw answers to an NS for its address `target`: router, solicited, override,
    its MAC as target link-layer address."""
    mac = GW_IN_MAC if port == "inside" else GW_OUT_MAC
    return sc.concrete(Ether(src=mac, dst=dmac) / IPv6(src=target, dst=dst, hlim=255) /
                       ICMPv6ND_NA(R=1, S=1, O=1, tgt=target) /
                       ICMPv6NDOptDstLLAddr(lladdr=mac))


def na(smac, src, dst, dmac, target, solicited=True):
    return Ether(src=smac, dst=dmac) / IPv6(src=src, dst=dst, hlim=255) / \
        ICMPv6ND_NA(R=0, S=1 if solicited else 0, O=1, tgt=target) / \
        ICMPv6NDOptDstLLAddr(lladdr=smac)


def preamble6(tr, router=True):
    """The host and the router resolve natgw's addresses: natgw answers and learns them."""
    tr.send("inside", ns(H1_MAC, H6, GW6_IN))
    tr.out6("inside", na_from_gw("inside", GW6_IN, H6, H1_MAC))
    tr.send("inside", ns(H2_MAC, H6B, GW6_IN))
    tr.out6("inside", na_from_gw("inside", GW6_IN, H6B, H2_MAC))
    if router:
        tr.send("outside", ns(ROUTER_MAC, RTR6, GW6_OUT))
        tr.out6("outside", na_from_gw("outside", GW6_OUT, RTR6, ROUTER_MAC))


def h6(src, dst, l4, hlim=64, mac=None):
    return Ether(src=mac or (H1_MAC if src == H6 else H2_MAC), dst=GW_IN_MAC) / \
        IPv6(src=src, dst=dst, hlim=hlim) / l4


def r6(src, dst, l4, hlim=50):
    return Ether(src=ROUTER_MAC, dst=GW_OUT_MAC) / IPv6(src=src, dst=dst, hlim=hlim) / l4


def fwd6(x, smac, dmac):
    """x as natgw forwards it: only the MACs and the hop limit change (no IPv6 header
    checksum; the pseudo header has no hop limit)."""
    b = bytearray(bytes(x))
    b[0:6] = bytes.fromhex(dmac.replace(":", ""))
    b[6:12] = bytes.fromhex(smac.replace(":", ""))
    b[14 + 7] -= 1
    return bytes(b)


def out6(x):
    return fwd6(x, GW_OUT_MAC, ROUTER_MAC)


def in6(x, mac=H1_MAC):
    return fwd6(x, GW_IN_MAC, mac)


def icmp6_from_gw(port, x, typ, param=0, dmac=None):
    """An ICMPv6 error natgw sends about frame x received on port: from its address there,
    back to x's source via x's sender, quoting x whole (it fits 1280)."""
    q = bytes(x)[14:]
    q = q[:1280 - 48]
    mac = GW_IN_MAC if port == "inside" else GW_OUT_MAC
    src = GW6_IN if port == "inside" else GW6_OUT
    e = {3: ICMPv6TimeExceeded(code=0), 2: ICMPv6PacketTooBig(mtu=param),
         1: ICMPv6DestUnreach(code=0)}[typ]
    return sc.concrete(Ether(src=mac, dst=dmac or Ether(bytes(x)).src) /
                       IPv6(src=src, dst=Ether(bytes(x))[IPv6].src, hlim=64) / e / Raw(q))


# ---------------------------------------------------------------------------------------------
# the trace additions: IPv6 outputs and drops, checked in order


def setup(tr):
    tr.exp6 = {"inside": [], "outside": []}
    tr.drop6 = []
    tr.check(check6)

    def out6_(port, frame):
        tr.exp6[port].append((tr.t, bytes(frame)))

    def drop6_(frame, reason):
        tr.drop6.append((tr.t, bytes(frame), reason))
    tr.out6, tr.drop6_ = out6_, drop6_


def csum6_problems(b):
    p = Ether(b)
    probs = []
    if IPv6 not in p:
        return probs
    for cls, nh in ((TCP, 6), (UDP, 17)):
        if cls in p:
            seg = bytes(p[cls])
            if in6_chksum(nh, p[IPv6], seg) not in (0, 0xffff) and \
                    in6_chksum(nh, p[IPv6], seg[:6] + b"\0\0" + seg[8:]) != \
                    struct.unpack("!H", seg[6 if nh == 17 else 16:][:2])[0]:
                probs.append(cls.__name__ + " checksum")
            return probs
    # ICMPv6: the first ICMPv6 layer
    ip = p[IPv6]
    l4 = ip.payload
    while l4.__class__.__name__.startswith("IPv6ExtHdr"):
        l4 = l4.payload
    seg = bytes(l4)
    if ip.nh == 58 or (seg and l4.__class__.__name__.startswith("ICMPv6")):
        zero = seg[:2] + b"\0\0" + seg[4:]
        if in6_chksum(58, ip, zero) != struct.unpack("!H", seg[2:4])[0]:
            probs.append("icmpv6 checksum")
    return probs


def v6(frames):
    return [(t, b) for t, b in frames if b[12:14] == b"\x86\xdd"]


def check6(tr, res, ck):
    for port in ("inside", "outside"):
        got, exp = v6(res.out[port]), tr.exp6[port]
        for i in range(max(len(got), len(exp))):
            what = f"{port} ipv6 output #{i}"
            if i >= len(got):
                ck.ok(False, what + " missing", Ether(exp[i][1]).summary(), "nothing")
                continue
            if i >= len(exp):
                ck.ok(False, what + " unexpected", "nothing", Ether(got[i][1]).summary())
                continue
            if ck.ok(exp[i][1] == got[i][1], what + ": " + Ether(exp[i][1]).summary(),
                     exp[i][1].hex(), got[i][1].hex()):
                ck.eq(what + " timestamp", exp[i][0], got[i][0])
        for i, (_t, b) in enumerate(got):
            ck.ok(not csum6_problems(b), f"{port} ipv6 output #{i} checksum from scratch",
                  "right", Ether(b).summary())
    got = [(i, t, b) for i, (t, b) in enumerate(res.drops) if b[12:14] == b"\x86\xdd"]
    for i in range(max(len(got), len(tr.drop6))):
        if i >= len(got):
            ck.ok(False, f"ipv6 drop #{i} missing", Ether(tr.drop6[i][1]).summary(), "none")
            continue
        idx, tg, bg = got[i]
        if i >= len(tr.drop6):
            ck.ok(False, f"ipv6 drop #{i} unexpected", "nothing",
                  f"{Ether(bg).summary()} {res.reasons.get(idx)!r}")
            continue
        te, be, why = tr.drop6[i]
        ck.ok(be[14:] == bg[14:] and te == tg, f"ipv6 drop #{i} is the expected packet",
              Ether(be).summary(), Ether(bg).summary())
        ck.eq(f"ipv6 drop #{i} reason", why, res.reason_id(idx))


RULES6 = ("table inet natgw {\n"
          " chain input {\n  type filter hook input priority 0; policy drop;\n"
          "  icmpv6 type echo-request ip6 saddr 2001:db8:1::10 accept\n }\n"
          " chain forward {\n  type filter hook forward priority 0; policy drop;\n"
          "  ct state established,related accept\n"
          "  ct state invalid drop\n"
          "  iif outside ip6 daddr 2001:db8:1::10 tcp dport 22 ct state new accept\n"
          "  ip6 daddr 2001:db8:3::/48 tcp dport 22 log prefix \"v6 \" drop\n"
          "  ip6 saddr 2001:db8:1::20 reject with icmpv6 type admin-prohibited\n"
          "  meta nfproto ipv6 udp dport 53 accept\n"
          "  ip6 saddr 2001:db8:1::/64 ip6 daddr { 2001:db8:3::5, 2001:db8:4::/64 } "
          "tcp dport 443 accept\n"
          "  ip saddr 0.0.0.0/0 accept\n"
          "  meta l4proto icmpv6 icmpv6 type echo-request accept\n"
          "  tcp dport 25 reject with tcp reset\n }\n}\n")


def config_for(extra_keys=None):
    def make(d, name):
        keys = {k: dict(v) for k, v in KEYS.items()}
        for sec, kv in (extra_keys or {}).get(name, {}).items():
            keys.setdefault(sec, {}).update(kv)
        if name == "ip6_off":
            return None
        if name == "ip6_rules":
            with open(os.path.join(d, "rules.nft"), "w") as f:
                f.write(RULES6)
            return sc.write_config(d, keys=keys, extra="[filter]\nrules = rules.nft\n")
        return sc.write_config(d, keys=keys)
    return make


# ---------------------------------------------------------------------------------------------
# scenarios


def ip6_off(tr):
    setup(tr)
    x = tr.send("inside", h6(H6, SRV6, UDP(sport=5000, dport=53) / Raw(b"q")))
    tr.drop6_(x, "NOT_IPV4")
    x = tr.send("inside", ns(H1_MAC, H6, GW6_IN))
    tr.drop6_(x, "NOT_IPV4")


def ip6_nd(tr):
    setup(tr)
    preamble6(tr, router=False)
    # NS for the link-local address, from the host's link-local address
    tr.send("inside", ns(H1_MAC, H6_LL, GW6_IN_LL))
    tr.out6("inside", na_from_gw("inside", GW6_IN_LL, H6_LL, H1_MAC))
    # a DAD probe for natgw's address (source ::): defended to all nodes, not solicited
    tr.send("inside", ns(H1_MAC, "::", GW6_IN, lla=False))
    tr.out6("inside", sc.concrete(
        Ether(src=GW_IN_MAC, dst="33:33:00:00:00:01") / IPv6(src=GW6_IN, dst="ff02::1", hlim=255) /
        ICMPv6ND_NA(R=1, S=0, O=1, tgt=GW6_IN) / ICMPv6NDOptDstLLAddr(lladdr=GW_IN_MAC)))
    # not from a neighbour (hop limit 64): RFC 4861 7.1.1
    x = tr.send("inside", ns(H1_MAC, H6, GW6_IN, hlim=64))
    tr.drop6_(x, "ND_BAD")
    # for someone else: silently not ours (counted as not routable multicast)
    x = tr.send("inside", ns(H1_MAC, H6, "2001:db8:1::77"))
    tr.drop6_(x, "IP6_MARTIAN")
    # an unsolicited NA from the uplink creates no entry: the packet below still solicits
    tr.send("outside", na(ROUTER_MAC, RTR6, GW6_OUT, GW_OUT_MAC, RTR6))
    x = tr.send("inside", h6(H6, SRV6, UDP(sport=5000, dport=53) / Raw(b"query")))
    grp, gmac = snm(RTR6)
    tr.out6("outside", sc.concrete(
        Ether(src=GW_OUT_MAC, dst=gmac) / IPv6(src=GW6_OUT, dst=grp, hlim=255) /
        ICMPv6ND_NS(tgt=RTR6) / ICMPv6NDOptSrcLLAddr(lladdr=GW_OUT_MAC)))
    # the router answers: the held packet leaves at once
    tr.send("outside", na(ROUTER_MAC, RTR6, GW6_OUT, GW_OUT_MAC, RTR6))
    tr.out6("outside", out6(x))
    # echo to natgw's inside address, answered from it
    e = tr.send("inside", h6(H6, GW6_IN, ICMPv6EchoRequest(id=9, seq=1, data=b"ping")))
    tr.out6("inside", sc.concrete(Ether(src=GW_IN_MAC, dst=H1_MAC) /
                                  IPv6(src=GW6_IN, dst=H6, hlim=64) /
                                  ICMPv6EchoReply(id=9, seq=1, data=b"ping")))
    del e
    # echo to the uplink address from the inside: answered from it
    tr.send("inside", h6(H6, GW6_OUT, ICMPv6EchoRequest(id=10, seq=1, data=b"out")))
    tr.out6("inside", sc.concrete(Ether(src=GW_IN_MAC, dst=H1_MAC) /
                                  IPv6(src=GW6_OUT, dst=H6, hlim=64) /
                                  ICMPv6EchoReply(id=10, seq=1, data=b"out")))
    # ... but natgw's inside address is not reachable from the uplink
    x = tr.send("outside", r6(RTR6, GW6_IN, ICMPv6EchoRequest(id=11, seq=1)))
    tr.drop6_(x, "TO_ME_WRONG_SIDE")


def ip6_tcp(tr):
    setup(tr)
    preamble6(tr)

    def c(**kw):
        return h6(H6, SRV6, TCP(sport=40000, dport=443, **kw))

    def s(**kw):
        return r6(SRV6, H6, TCP(sport=443, dport=40000, **kw))
    x = tr.send("inside", c(flags="S", seq=1000, window=64240))
    tr.out6("outside", out6(x))
    y = tr.send("outside", s(flags="SA", seq=5000, ack=1001, window=65000))
    tr.out6("inside", in6(y))
    x = tr.send("inside", c(flags="A", seq=1001, ack=5001, window=502))
    tr.out6("outside", out6(x))
    x = tr.send("inside", c(flags="PA", seq=1001, ack=5001, window=502) / Raw(b"GET /"))
    tr.out6("outside", out6(x))
    y = tr.send("outside", s(flags="PA", seq=5001, ack=1006, window=509) / Raw(b"x" * 500))
    tr.out6("inside", in6(y))
    # outside the window
    y = tr.send("outside", s(flags="PA", seq=5001 + 0x40000000, ack=1006) / Raw(b"evil"))
    tr.drop6_(y, "CT_TCP_OUT_OF_WINDOW")
    # unsolicited inbound SYN to the host (RFC 6092 simple security)
    y = tr.send("outside", r6(SRV6, H6, TCP(sport=443, dport=22, flags="S", seq=1)))
    tr.drop6_(y, "IP6_INBOUND_NEW")
    # a unicast destination in a broadcast frame is not routed
    x = tr.send("inside", Ether(src=H1_MAC, dst="ff:ff:ff:ff:ff:ff") /
                IPv6(src=H6, dst=SRV6) / TCP(sport=40000, dport=443, flags="A", seq=1006))
    tr.drop6_(x, "L2_GROUP")
    # a spoofed inside source
    x = tr.send("inside", h6("2001:db8:9::1", SRV6, TCP(sport=1, dport=2, flags="S")))
    tr.drop6_(x, "SRC_NOT_INSIDE")
    # the other inside host: its own flow
    x = tr.send("inside", h6(H6B, SRV6, TCP(sport=40000, dport=443, flags="S", seq=77)))
    tr.out6("outside", out6(x))
    x = tr.send("inside", c(flags="FA", seq=1006, ack=5501))
    tr.out6("outside", out6(x))


def ip6_udp_icmp(tr):
    setup(tr)
    preamble6(tr)
    u = tr.send("inside", h6(H6, SRV6, UDP(sport=5000, dport=53) / Raw(b"query")))
    tr.out6("outside", out6(u))
    y = tr.send("outside", r6(SRV6, H6, UDP(sport=53, dport=5000) / Raw(b"answer")))
    tr.out6("inside", in6(y))
    # the server's port unreachable about the flow: RELATED
    u2 = tr.send("inside", h6(H6, SRV6, UDP(sport=5000, dport=9999) / Raw(b"x")))
    tr.out6("outside", out6(u2))
    err = r6(SRV6, H6, ICMPv6DestUnreach(code=4) / Raw(bytes(out6(u2))[14:]))
    y = tr.send("outside", err)
    tr.out6("inside", in6(y))
    # about a flow nobody made
    bogus = h6(H6, SRV6, UDP(sport=5001, dport=9999) / Raw(b"x"))
    y = tr.send("outside", r6(SRV6, H6, ICMPv6DestUnreach(code=4) / Raw(bytes(bogus)[14:])))
    tr.drop6_(y, "CT_ICMP_ERROR_NO_CONN")
    # bad checksum
    b = bytearray(bytes(sc.concrete(err)))
    b[14 + 40 + 2] ^= 0x5a
    y = tr.send("outside", Ether(bytes(b)))
    tr.drop6_(y, "CT_ICMP_BAD_CSUM")
    # echo by identifier
    e = tr.send("inside", h6(H6, SRV6, ICMPv6EchoRequest(id=0x1234, seq=1, data=b"abc")))
    tr.out6("outside", out6(e))
    y = tr.send("outside", r6(SRV6, H6, ICMPv6EchoReply(id=0x1234, seq=1, data=b"abc")))
    tr.out6("inside", in6(y))
    y = tr.send("outside", r6(SRV6, H6, ICMPv6EchoReply(id=0x4321, seq=1, data=b"abc")))
    tr.drop6_(y, "IP6_INBOUND_NEW")
    # an echo request from outside to the inside host: not established
    y = tr.send("outside", r6(SRV6, H6, ICMPv6EchoRequest(id=5, seq=1)))
    tr.drop6_(y, "IP6_INBOUND_NEW")


def ip6_rules(tr):
    setup(tr)
    preamble6(tr)      # ND is never filtered
    # meta nfproto ipv6 udp dport 53 accept; the answer as established
    u = tr.send("inside", h6(H6, SRV6, UDP(sport=5000, dport=53) / Raw(b"query")))
    tr.out6("outside", out6(u))
    y = tr.send("outside", r6(SRV6, H6, UDP(sport=53, dport=5000) / Raw(b"answer")))
    tr.out6("inside", in6(y))
    # ip6 daddr 2001:db8:3::/48 tcp dport 22 drop
    x = tr.send("inside", h6(H6, SRV6, TCP(sport=40001, dport=22, flags="S", seq=1)))
    tr.drop6_(x, "RULE_DROP")
    # ... not to another prefix: no rule accepts it, the policy drops it
    x = tr.send("inside", h6(H6, "2001:db8:5::5", TCP(sport=40001, dport=22, flags="S", seq=1)))
    tr.drop6_(x, "RULE_DROP")
    # tcp 443 to a set member: the whole connection, later packets from the cached verdict
    x = tr.send("inside", h6(H6, SRV6, TCP(sport=40000, dport=443, flags="S", seq=1000)))
    tr.out6("outside", out6(x))
    y = tr.send("outside", r6(SRV6, H6, TCP(sport=443, dport=40000, flags="SA", seq=5000,
                                            ack=1001)))
    tr.out6("inside", in6(y))
    for i in range(3):
        x = tr.send("inside", h6(H6, SRV6, TCP(sport=40000, dport=443, flags="PA", seq=1001 + i,
                                               ack=5001) / Raw(b"x")))
        tr.out6("outside", out6(x))
    # tcp 443 to an address in no element of the set: policy
    x = tr.send("inside", h6(H6, "2001:db8:6::5", TCP(sport=40000, dport=443, flags="S", seq=9)))
    tr.drop6_(x, "RULE_DROP")
    # UDP elsewhere: `ip saddr 0.0.0.0/0 accept` is IPv4 only, the policy drops it
    x = tr.send("inside", h6(H6, SRV6, UDP(sport=5000, dport=5001) / Raw(b"x")))
    tr.drop6_(x, "RULE_DROP")
    # the other host: ICMPv6 destination unreachable, admin prohibited (RFC 4443 3.1 code 1)
    x = tr.send("inside", h6(H6B, SRV6, UDP(sport=5000, dport=53) / Raw(b"query")))
    tr.out6("inside", sc.concrete(Ether(src=GW_IN_MAC, dst=H2_MAC) /
                                  IPv6(src=GW6_IN, dst=H6B, hlim=64) /
                                  ICMPv6DestUnreach(code=1) / Raw(bytes(x)[14:])))
    tr.drop6_(x, "RULE_REJECT")
    # reject with tcp reset: the RST over IPv6 from the segment's destination
    x = tr.send("inside", h6(H6, SRV6, TCP(sport=40002, dport=25, flags="S", seq=700)))
    tr.out6("inside", sc.concrete(Ether(src=GW_IN_MAC, dst=H1_MAC) /
                                  IPv6(src=SRV6, dst=H6, hlim=64) /
                                  TCP(sport=25, dport=40002, seq=0, ack=701, flags="RA",
                                      window=0)))
    tr.drop6_(x, "RULE_REJECT")
    # icmpv6 type echo-request accept; the reply as established
    e = tr.send("inside", h6(H6, SRV6, ICMPv6EchoRequest(id=0x77, seq=1, data=b"abc")))
    tr.out6("outside", out6(e))
    y = tr.send("outside", r6(SRV6, H6, ICMPv6EchoReply(id=0x77, seq=1, data=b"abc")))
    tr.out6("inside", in6(y))
    # the input chain: echo to natgw from H6 answered, from H6B dropped by its policy
    tr.send("inside", h6(H6, GW6_IN, ICMPv6EchoRequest(id=9, seq=1, data=b"ping")))
    tr.out6("inside", sc.concrete(Ether(src=GW_IN_MAC, dst=H1_MAC) /
                                  IPv6(src=GW6_IN, dst=H6, hlim=64) /
                                  ICMPv6EchoReply(id=9, seq=1, data=b"ping")))
    x = tr.send("inside", h6(H6B, GW6_IN, ICMPv6EchoRequest(id=9, seq=1, data=b"ping")))
    tr.drop6_(x, "RULE_DROP")
    # simple security (RFC 6092 3.2): inbound only what a rule explicitly accepts: SSH to
    # H6 is, and its answer passes as established
    y = tr.send("outside", r6(SRV6, H6, TCP(sport=50000, dport=22, flags="S", seq=1)))
    tr.out6("inside", in6(y))
    x = tr.send("inside", h6(H6, SRV6, TCP(sport=22, dport=50000, flags="SA", seq=90, ack=2)))
    tr.out6("outside", out6(x))
    # ... to H6B no rule does: the policy is no permission (IP6_INBOUND_NEW, as without rules)
    y = tr.send("outside", r6(SRV6, H6B, TCP(sport=50000, dport=22, flags="S", seq=1)))
    tr.drop6_(y, "IP6_INBOUND_NEW")

    def evals(t, res, ck):
        # 20 forwarded or refused packets and echoes to natgw, 18 evaluations: the last two
        # segments of the 443 connection took the verdict cached on its entry (the first
        # reply evaluates, and clears the cache of both directions, as for IPv4)
        with open(os.path.join(res.dir, "replay.log")) as f:
            log = f.read()
        ck.ok("rules: evaluations 18 " in log, "forward/input chain evaluations",
              "18 (2 cached)", [ln for ln in log.splitlines() if "evaluations" in ln])
        ck.eq("the log line of the IPv6 drop (nf_log_ipv6 fields)",
              ["natgw: rules: v6 IN=inside OUT=outside SRC=2001:db8:1::10 DST=2001:db8:3::5 "
               "LEN=60 PROTO=TCP SPT=40001 DPT=22 STATE=new VERDICT=drop"],
              [ln for ln in log.splitlines() if ln.startswith("natgw: rules: ")])
    tr.check(evals)


def ip6_hop_mtu(tr):
    setup(tr)
    preamble6(tr)
    x = tr.send("inside", h6(H6, SRV6, UDP(sport=33434, dport=33435) / Raw(b"t"), hlim=1))
    tr.out6("inside", icmp6_from_gw("inside", x, 3))
    tr.drop6_(x, "TTL_EXCEEDED")
    # a TCP flow, then a segment too big for the 1400-byte uplink
    x = tr.send("inside", h6(H6, SRV6, TCP(sport=40001, dport=80, flags="S", seq=1)))
    tr.out6("outside", out6(x))
    y = tr.send("outside", r6(SRV6, H6, TCP(sport=80, dport=40001, flags="SA", seq=9, ack=2)))
    tr.out6("inside", in6(y))
    big = tr.send("inside", h6(H6, SRV6, TCP(sport=40001, dport=80, flags="PA", seq=2, ack=10)
                               / Raw(b"u" * 1400)))
    tr.out6("inside", icmp6_from_gw("inside", big, 2, 1400))
    tr.drop6_(big, "IP6_TOO_BIG")
    # a 1400-byte one fits and leaves
    ok = tr.send("inside", h6(H6, SRV6, TCP(sport=40001, dport=80, flags="PA", seq=2, ack=10)
                              / Raw(b"u" * 1340)))
    tr.out6("outside", out6(ok))
    # the router further on has a 1280 link: its Packet Too Big reaches the host
    ptb = r6(RTR6, H6, ICMPv6PacketTooBig(mtu=1280) / Raw(bytes(out6(ok))[14:14 + 1232]))
    y = tr.send("outside", ptb)
    tr.out6("inside", in6(y))


def ip6_ext(tr):
    setup(tr)
    preamble6(tr)
    x = tr.send("inside", h6(H6, SRV6, IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() /
                             TCP(sport=40002, dport=80, flags="S", seq=1)))
    tr.out6("outside", out6(x))
    y = tr.send("outside", r6(SRV6, H6, IPv6ExtHdrDestOpt() /
                              TCP(sport=80, dport=40002, flags="SA", seq=9, ack=2)))
    tr.out6("inside", in6(y))
    chain = IPv6ExtHdrDestOpt()
    for _ in range(8):
        chain = chain / IPv6ExtHdrDestOpt()
    x = tr.send("inside", h6(H6, SRV6, chain / UDP(sport=1, dport=2)))
    tr.drop6_(x, "CT_IP6_EXT_LIMIT")
    x = tr.send("inside", h6(H6, SRV6, IPv6ExtHdrRouting(type=0, segleft=1,
                                                         addresses=["2001:db8:3::9"]) /
                             UDP(sport=1, dport=2)))
    tr.drop6_(x, "CT_IP6_SRCROUTE")


def ip6_ra(tr):
    setup(tr)
    tr.replay_args = []
    ra = sc.concrete(
        Ether(src=GW_IN_MAC, dst="33:33:00:00:00:01") /
        IPv6(src=GW6_IN_LL, dst="ff02::1", hlim=255, nh=58) /
        Raw(bytes([134, 0, 0, 0, 64, 0, 0x07, 0x08]) + bytes(8) +
            bytes([1, 1]) + bytes.fromhex(GW_IN_MAC.replace(":", "")) +
            bytes([5, 1, 0, 0]) + struct.pack("!I", 1500) +
            bytes([3, 4, 64, 0xc0]) + struct.pack("!II", 86400, 14400) + bytes(4) +
            bytes.fromhex("20010db8000100000000000000000000")))
    # the first RA goes with the first housekeeping; the RS comes 4 s later (RAs are at
    # least 3 s apart, RFC 4861 MIN_DELAY_BETWEEN_RAS)
    preamble6(tr, router=False)
    tr.send("inside", Ether(src=H1_MAC, dst="33:33:00:00:00:02") /
            IPv6(src=H6_LL, dst="ff02::2", hlim=255) / ICMPv6ND_RS() /
            ICMPv6NDOptSrcLLAddr(lladdr=H1_MAC), dt=4 * SEC)
    tr.ra_frame = fix_icmp6(ra)


def fix_icmp6(frame):
    b = bytearray(bytes(frame))
    ip = Ether(bytes(b))[IPv6]
    seg = bytes(b[54:])
    c = in6_chksum(58, ip, seg[:2] + b"\0\0" + seg[4:])
    b[56:58] = struct.pack("!H", c)
    return bytes(b)


def check_ra(tr, res, ck):
    got = v6(res.out["inside"])
    ras = [b for _t, b in got if len(b) > 54 and b[20] == 58 and b[54] == 134]
    ck.ok(len(ras) >= 2, "inside: an RA at start and one answering the RS", ">= 2", len(ras))
    for i, b in enumerate(ras):
        ck.eq(f"RA #{i} bytes", tr.ra_frame.hex(), b.hex())
    ck.eq("uplink: no RA", 0, len(v6(res.out["outside"])))


def reassemble6(frames):
    """{fragment id: payload after the fragment header, in order} of IPv6 fragment frames,
    None for an incomplete set; frames without a fragment header under key None."""
    from scapy.all import IPv6ExtHdrFragment
    groups = {}
    for b in frames:
        p = Ether(b)
        if IPv6ExtHdrFragment not in p:
            groups.setdefault(None, []).append(b)
            continue
        fh = p[IPv6ExtHdrFragment]
        groups.setdefault(fh.id, []).append((fh.offset * 8, fh.m, bytes(fh.payload), fh.nh))
    out = {}
    for k, fr in groups.items():
        if k is None:
            out[None] = fr
            continue
        fr.sort(key=lambda x: x[0])
        data, ok = b"", True
        for off, _m, pl, _nh in fr:
            if off != len(data):
                ok = False
            data += pl
        out[k] = (fr[0][3], data) if ok and not fr[-1][1] else None
    return out


def ip6_frag(tr):
    """Fragments both ways: reassembled before conntrack, forwarded whole when the result
    fits the egress MTU, in egress-MTU pieces again when not; overlapping ones (RFC 5722)
    make no datagram; a fragment header after hop-by-hop options is not taken."""
    from scapy.all import IPv6ExtHdrFragment, fragment6
    setup(tr)
    preamble6(tr)
    tr.own_drops = True
    # outbound: 1300 bytes of UDP in two fragments, out of order
    whole = h6(H6, SRV6, IPv6ExtHdrFragment(id=0x111) / UDP(sport=5000, dport=7) /
               Raw(bytes(range(256)) * 5 + b"z" * 20))
    frs = fragment6(whole, 800)
    tr.send("inside", frs[1])
    tr.send("inside", frs[0])
    exp = h6(H6, SRV6, UDP(sport=5000, dport=7) / Raw(bytes(range(256)) * 5 + b"z" * 20))
    tr.out6("outside", out6(exp))
    # inbound: the answer, 3000 bytes in three fragments, more than the inside 1500 MTU
    big = r6(SRV6, H6, IPv6ExtHdrFragment(id=0x222) / UDP(sport=7, dport=5000) /
             Raw(b"A" * 1000 + b"B" * 1000 + b"C" * 992))
    for fr in fragment6(big, 1200):
        tr.send("outside", fr)
    tr.big_payload = bytes(sc.concrete(r6(SRV6, H6, UDP(sport=7, dport=5000) /
                                          Raw(b"A" * 1000 + b"B" * 1000 + b"C" * 992)))
                           [IPv6].payload)
    # overlapping fragments: never a datagram
    ov = h6(H6, SRV6, IPv6ExtHdrFragment(id=0x333, offset=0, m=1) /
            UDP(sport=5000, dport=7, len=8 + 64, chksum=0x1234) / Raw(b"o" * 56))
    ov2 = h6(H6, SRV6, IPv6ExtHdrFragment(id=0x333, offset=4, m=0, nh=17) / Raw(b"p" * 64))
    tr.send("inside", ov)
    tr.send("inside", ov2)
    tr.send("inside", Ether(src=H1_MAC, dst=GW_IN_MAC) / IPv6(src=H6, dst=SRV6) /
            UDP(sport=5000, dport=8) / Raw(b"after"), dt=3 * SEC)
    tr.out6("outside", out6(h6(H6, SRV6, UDP(sport=5000, dport=8) / Raw(b"after"))))
    tr.checks = [check_frag]


def check_frag(tr, res, ck):
    out = v6(res.out["outside"])
    nas = [b for _t, b in out if b[20] == 58 and len(b) > 54 and b[54] == 136]
    data = [x for x in out if x[1] not in nas]
    ck.eq("outside: the reassembled outbound datagram, whole", tr.exp6["outside"][1][1].hex(),
          data[0][1].hex() if data else "")
    ck.eq("outside: nothing of the overlapping datagram; the next packet passes", 2, len(data))
    if len(data) == 2:
        ck.eq("outside: the packet after", tr.exp6["outside"][2][1].hex(), data[1][1].hex())
    inside = [b for _t, b in v6(res.out["inside"]) if not (b[20] == 58 and b[54] == 136)]
    ck.ok(len(inside) >= 3, "inside: the 3000-byte answer in pieces", ">= 3", len(inside))
    ck.ok(all(len(b) <= 1514 for b in inside), "inside: each piece fits the 1500 MTU",
          "<= 1514", [len(b) for b in inside])
    got = reassemble6(inside)
    whole = [v for k, v in got.items() if k is not None and v is not None]
    ck.ok(len(whole) == 1 and whole[0][0] == 17 and whole[0][1] == tr.big_payload,
          "inside: the pieces reassemble to the server's datagram", "the datagram",
          [(k, None if v is None else len(v[1])) for k, v in got.items()])
    for b in inside:
        ck.eq("inside: piece hop limit decremented", 49, Ether(b)[IPv6].hlim)
        ck.eq("inside: piece to the host's MAC", H1_MAC, Ether(b).dst)
    drops = [(i, b) for i, (_t, b) in enumerate(res.drops) if b[12:14] == b"\x86\xdd"]
    ck.ok(any(res.reason_id(i) == "REASM_FAILED" for i, _b in drops),
          "the overlapping fragments dropped (REASM_FAILED)", "REASM_FAILED",
          [res.reason_id(i) for i, _b in drops])


SCENARIOS = {
    "ip6_off": ip6_off, "ip6_nd": ip6_nd, "ip6_tcp": ip6_tcp, "ip6_udp_icmp": ip6_udp_icmp,
    "ip6_hop_mtu": ip6_hop_mtu, "ip6_ext": ip6_ext, "ip6_ra": ip6_ra, "ip6_frag": ip6_frag,
    "ip6_rules": ip6_rules,
}
EXTRA = {"ip6_hop_mtu": {"outside": {"mtu": "1400"}},
         "ip6_ra": {"inside": {"ra": "yes"}}}


def run(replay, d, name, ck, workers):
    base, workers = sc.workers_of(name, workers)
    cfg = config_for(EXTRA)(d, base)
    scen = SCENARIOS[base]
    if base == "ip6_ra":
        def scen_ra(tr):
            ip6_ra(tr)
            tr.checks = [check_ra]
        tr, res = sc.build_and_run(replay, d, scen_ra, workers, cfg)
    else:
        tr, res = sc.build_and_run(replay, d, scen, workers, cfg)
    sc.arp_normalise(res)
    sc.verify(tr, res, ck)


if __name__ == "__main__":
    sys.exit(sc.main(sys.argv, __doc__, SCENARIOS, run=run, workers_opt=True))

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/nat64_scenarios.py - stateful NAT64 (RFC 6146, app/gw_nat64.c) through the
real pipeline: IPv6-only hosts on the inside reach IPv4 servers through 64:ff9b::/96
(RFC 6052), translated by RFC 7915 into IPv4 from a shadow address and then NATed by NAT44
(the same pool, port allocation, EIM and filtering), replies translated back.

    /usr/bin/python3 tests/replay/nat64_scenarios.py NATGW_REPLAY SCENARIO [--keep DIR]
    /usr/bin/python3 tests/replay/nat64_scenarios.py --list

Every frame that leaves is compared with the frame it must be, built with scapy from the
input (checksums computed by scapy from scratch): IPv4 frames on the uplink field by field
(the Identification natgw picks for a small IPv6 packet, RFC 7915 5.1, is taken from the
output), IPv6 frames on the inside byte for byte. No frame on the uplink carries a shadow
(100.64.0.0/10) or inside address. Drops are checked in order with their reasons.
SCENARIO_workers2 runs it with 2 workers.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scapy.all import (ICMP, IP, TCP, UDP, Ether, Raw)  # noqa: E402
from scapy.utils import checksum  # noqa: E402
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrFragment, ICMPv6EchoRequest,  # noqa: E402
                                ICMPv6EchoReply, ICMPv6DestUnreach, ICMPv6PacketTooBig,
                                ICMPv6TimeExceeded)

import scenarios as S  # noqa: E402
from scenarios import (GW_IN_MAC, GW_OUT_MAC, GW_OUT, GW_IN, ROUTER_MAC, SERVER,  # noqa: E402
                       SERVER2, H1, H1_MAC, summary, field_diff)

H6, H6_MAC = "2001:db8:1::10", "02:00:00:01:00:64"
H6B, H6B_MAC = "2001:db8:1::20", "02:00:00:01:00:65"
PFX = "64:ff9b::"
SHADOW = bytes([100, 64])       # first octets of the default shadow range (/10: 100.64-127)


def p64(v4):
    return PFX + v4


def v6in(tr, src, mac, dst4, l4, hlim=64, tc=0, fh=None):
    p = Ether(src=mac, dst=GW_IN_MAC) / IPv6(src=src, dst=p64(dst4), hlim=hlim, tc=tc)
    return p / fh / l4 if fh is not None else p / l4


def srv(tr, src, l4, ttl=50, tos=0, flags=0, ipid=None):
    return Ether(src=ROUTER_MAC, dst=GW_OUT_MAC) / IP(
        src=src, dst=GW_OUT, ttl=ttl, tos=tos, flags=flags,
        id=tr.ipid(src) if ipid is None else ipid) / l4


def l4_copy(layer):
    """An independent copy of an L4 layer (and what follows), its checksum to recompute."""
    c = layer.__class__(bytes(layer))
    if hasattr(c, "chksum"):
        del c.chksum
    return c


def out4(x, sport=None, icmp_id=None, df=None):
    """The IPv4 frame natgw must send on the uplink for IPv6 input x: RFC 7915 5.1 header
    (TOS = traffic class, TTL = hop limit - 1 after forwarding, DF above 1260 bytes), NAT44
    source = the pool address; ports/identifier as given (None: unchanged)."""
    ip6 = x[IPv6]
    nh = ip6.payload
    if isinstance(nh, ICMPv6EchoRequest):
        l4 = ICMP(type=8, code=0, id=nh.id if icmp_id is None else icmp_id, seq=nh.seq) / \
            Raw(bytes(nh.data))
    else:
        l4 = l4_copy(nh)
        if sport is not None:
            l4.sport = sport
    size = 20 + len(bytes(nh))
    if df is None:
        df = size > 1260
    return Ether(src=GW_OUT_MAC, dst=ROUTER_MAC) / IP(
        src=GW_OUT, dst=ip6.dst.split("::")[-1] if "." in ip6.dst else v4_of(ip6.dst),
        ttl=ip6.hlim - 1, tos=ip6.tc, flags="DF" if df else 0, id=0) / l4


def v4_of(a6):
    import ipaddress
    return str(ipaddress.IPv4Address(ipaddress.IPv6Address(a6).packed[12:]))


def in6(y, mac=H6_MAC, dst=H6, dport=None, icmp_id=None):
    """The IPv6 frame natgw must send to the host for IPv4 input y (RFC 7915 4.1)."""
    ip = y[IP]
    l4 = ip.payload
    if isinstance(l4, ICMP) and l4.type == 0:
        n6 = ICMPv6EchoReply(id=l4.id if icmp_id is None else icmp_id, seq=l4.seq,
                             data=bytes(l4.payload))
    else:
        n6 = l4_copy(l4)
        if dport is not None:
            n6.dport = dport
        if isinstance(n6, UDP) and l4.chksum == 0:
            del n6.chksum           # 4.5: computed
    return Ether(src=GW_IN_MAC, dst=mac) / IPv6(src=p64(ip.src), dst=dst, hlim=ip.ttl - 1,
                                               tc=ip.tos) / n6


class Out:
    """What a scenario expects on each port, compared by check_outputs."""

    def __init__(self, tr):
        self.tr = tr
        self.exp = {"inside": [], "outside": []}
        self.drops = []
        self.skip_t = set()     # inside outputs at these times: checked by the scenario
        tr.own_check = {"inside", "outside"}
        tr.own_drops = True
        tr.check(self.verify)

    def out(self, port, frame, any_id=False):
        self.exp[port].append((self.tr.t, bytes(frame), any_id))

    def drop(self, reason):
        self.drops.append((self.tr.t, reason))

    def verify(self, tr, res, ck):
        for port in ("inside", "outside"):
            got = [(t, b) for t, b in res.out[port] if b[12:14] in (b"\x08\x00", b"\x86\xdd")
                   and not (port == "inside" and t in self.skip_t)]
            exp = self.exp[port]
            for i in range(max(len(got), len(exp))):
                what = f"{port} output #{i}"
                if i >= len(got):
                    ck.ok(False, what + " missing", summary(exp[i][1]), "nothing")
                    continue
                if i >= len(exp):
                    ck.ok(False, what + " unexpected", "nothing", summary(got[i][1]))
                    continue
                te, be, any_id = exp[i]
                tg, bg = got[i]
                if any_id and bg[12:14] == b"\x08\x00":
                    e = Ether(be)
                    e[IP].id = Ether(bg)[IP].id
                    del e[IP].chksum
                    be = bytes(Ether(bytes(e)))
                ck.ok(be == bg, what + ": " + summary(be), summary(be),
                      summary(bg) + "\n    diff:     " +
                      (field_diff(be, bg) if be != bg else ""))
                ck.eq(what + " timestamp", te, tg)
            for i, (_t, b) in enumerate(got):
                if b[12:14] == b"\x86\xdd":
                    ck.ok(ipv6_csums_ok(b), f"{port} output #{i} ipv6 checksums recomputed",
                          "right", summary(b))
        for i, (_t, b) in enumerate(res.ip("outside")):
            ck.ok(b[26:28] != SHADOW and b[30:32] != SHADOW and b[26:29] != bytes([192, 168, 1])
                  and b[30:33] != bytes([192, 168, 1]),
                  f"outside output #{i} carries no shadow or inside address", "none",
                  summary(b))
        got = [(t, res.reason_id(i)) for i, (t, _b) in enumerate(res.drops)]
        ck.eq("drops (time, reason) in order", self.drops, got)


def ipv6_csums_ok(b):
    """Recompute the upper-layer checksum of an IPv6 frame from scratch (RFC 8200 8.1
    pseudo header, one's complement sum by scapy.utils.checksum); fragments are checked
    after reassembly by their scenario."""
    ip6 = b[14:]
    nh, off = ip6[6], 40
    if nh == 44:
        return True
    seg = ip6[off:40 + struct.unpack("!H", ip6[4:6])[0]]
    if nh not in (6, 17, 58):
        return True
    pseudo = ip6[8:40] + struct.pack("!IxxxB", len(seg), nh)
    return checksum(pseudo + seg) == 0


def nat64_config(d, extra=None):
    keys = {"nat64": {"prefix": "64:ff9b::/96", "timeout": "5"}}
    for k, v in (extra or {}).items():
        keys.setdefault(k, {}).update(v)
    return S.write_config(d, keys=keys)


def preamble(tr):
    tr.send("outside", S.arp_req(ROUTER_MAC, S.ROUTER, GW_OUT))
    tr.send("inside", S.arp_req(H1_MAC, H1, GW_IN))


def ext_port(tr, name, pred, default):
    return tr.flow(name, "outside", pred, lambda p: p[TCP].sport if TCP in p else
                   p[UDP].sport if UDP in p else p[ICMP].id, default)


# ---------------------------------------------------------------------------------------------
# scenarios


def sc_nat64_tcp(tr):
    """A TCP connection from an IPv6-only host to 64:ff9b::198.51.100.5: handshake, data both
    ways (a 1300-byte segment: DF set, RFC 7915 5.1), FIN; traffic class/TOS and hop
    limit/TTL carried over, NAT44 source port preserved."""
    o = Out(tr)
    preamble(tr)
    e = ext_port(tr, "t", lambda p: TCP in p and p[TCP].seq == 1000, 40000)

    def c(**kw):
        load = kw.pop("load", b"")
        return v6in(tr, H6, H6_MAC, SERVER, TCP(sport=40000, dport=80, **kw) / load, tc=0x28)

    def s(**kw):
        load = kw.pop("load", b"")
        return srv(tr, SERVER, TCP(sport=80, dport=e, **kw) / load, tos=0x10)
    x = tr.send("inside", c(flags="S", seq=1000, window=64800, options=S.tcp_opts()))
    o.out("outside", out4(x, sport=e), any_id=True)
    y = tr.send("outside", s(flags="SA", seq=5000, ack=1001, window=65160,
                             options=S.tcp_opts()))
    o.out("inside", in6(y, dport=40000))
    x = tr.send("inside", c(flags="A", seq=1001, ack=5001))
    o.out("outside", out4(x, sport=e), any_id=True)
    x = tr.send("inside", c(flags="PA", seq=1001, ack=5001, load=b"G" * 1260))
    o.out("outside", out4(x, sport=e))          # 1300 bytes: DF, id 0
    y = tr.send("outside", s(flags="PA", seq=5001, ack=2261, load=b"r" * 700))
    o.out("inside", in6(y, dport=40000))
    x = tr.send("inside", c(flags="FA", seq=2261, ack=5701))
    o.out("outside", out4(x, sport=e), any_id=True)
    y = tr.send("outside", s(flags="FA", seq=5701, ack=2262))
    o.out("inside", in6(y, dport=40000))
    x = tr.send("inside", c(flags="A", seq=2262, ack=5702))
    o.out("outside", out4(x, sport=e), any_id=True)
    tr.check(S.expect_preserved("t", 40000))


def sc_nat64_udp(tr):
    """UDP both ways; a reply without checksum gets one computed (RFC 7915 4.5); a second
    IPv6 host with the same source port gets its own shadow and another outside port."""
    o = Out(tr)
    preamble(tr)
    e = ext_port(tr, "u1", lambda p: UDP in p and bytes(p[UDP].payload) == b"q1", 5353)
    e2 = ext_port(tr, "u2", lambda p: UDP in p and bytes(p[UDP].payload) == b"q2", 5354)
    x = tr.send("inside", v6in(tr, H6, H6_MAC, SERVER, UDP(sport=5353, dport=53) / b"q1"))
    o.out("outside", out4(x, sport=e), any_id=True)
    y = tr.send("outside", srv(tr, SERVER, UDP(sport=53, dport=e) / b"answer-1"))
    o.out("inside", in6(y, dport=5353))
    y = tr.send("outside", srv(tr, SERVER, UDP(sport=53, dport=e, chksum=0) / b"no-csum"))
    o.out("inside", in6(y, dport=5353))
    x = tr.send("inside", v6in(tr, H6B, H6B_MAC, SERVER, UDP(sport=5353, dport=53) / b"q2"))
    o.out("outside", out4(x, sport=e2), any_id=True)
    y = tr.send("outside", srv(tr, SERVER, UDP(sport=53, dport=e2) / b"answer-2"))
    o.out("inside", in6(y, mac=H6B_MAC, dst=H6B, dport=5353))

    def distinct(tr, res, ck):
        got = S.learn(tr, res)
        ck.ok(got.get("u1") != got.get("u2"), "two IPv6 hosts, one source port: two "
              "outside ports", "different", got)
    tr.check(distinct)


def sc_nat64_icmp_echo(tr):
    """ICMPv6 echo request -> ICMP echo (identifier through NAT44's ICMP mapping), the reply
    back as ICMPv6 echo reply; payload intact."""
    o = Out(tr)
    preamble(tr)
    e = ext_port(tr, "i", lambda p: ICMP in p and p[ICMP].type == 8, 0x3344)
    x = tr.send("inside", v6in(tr, H6, H6_MAC, SERVER,
                               ICMPv6EchoRequest(id=0x3344, seq=1, data=b"ping" * 14)))
    o.out("outside", out4(x, icmp_id=e), any_id=True)
    y = tr.send("outside", srv(tr, SERVER, ICMP(type=0, id=e, seq=1) / (b"ping" * 14)))
    o.out("inside", in6(y, icmp_id=0x3344))


def sc_nat64_icmp_error(tr):
    """ICMP errors both ways, RELATED through conntrack: the server's port unreachable about
    the host's UDP datagram becomes ICMPv6 destination unreachable (port) quoting the
    datagram as the host sent it; the host's ICMPv6 port unreachable about a reply becomes
    ICMP port unreachable quoting it as the server sent it; hop limit 1 gets time exceeded
    (from 64:ff9b::192.168.1.1, natgw's inside address embedded)."""
    o = Out(tr)
    preamble(tr)
    e = ext_port(tr, "u", lambda p: UDP in p and p[UDP].dport == 9999, 7000)
    # 1300 bytes as IPv4: DF set, identification 0, so the server's quote is known
    x = tr.send("inside", v6in(tr, H6, H6_MAC, SERVER, UDP(sport=7000, dport=9999) /
                               (b"d" * 1272)))
    sent = out4(x, sport=e)
    o.out("outside", sent)
    q = bytes(sent[IP])[:28]
    y = tr.send("outside", srv(tr, SERVER, ICMP(type=3, code=3) / Raw(q)))
    # expected: ICMPv6 type 1 code 4 quoting the host's datagram (hop limit 63 as it left)
    quoted = IPv6(bytes(x[IPv6]))
    quoted.hlim = 63
    qb = bytes(quoted)[:40 + 8]
    o.out("inside", Ether(src=GW_IN_MAC, dst=H6_MAC) /
          IPv6(src=p64(SERVER), dst=H6, hlim=49) / ICMPv6DestUnreach(code=4) / Raw(qb))
    # a reply reaches the host; the host answers port unreachable about it
    y = tr.send("outside", srv(tr, SERVER, UDP(sport=9999, dport=e) / b"late", ipid=0x77))
    got6 = in6(y, dport=7000)
    o.out("inside", got6)
    inner = bytes(got6[IPv6])
    x = tr.send("inside", v6in(tr, H6, H6_MAC, SERVER, ICMPv6DestUnreach(code=4) /
                               Raw(inner)))
    # as IPv4: type 3 code 3 quoting the reply as the server sent it after NAT44 (ttl 49
    # as the host got it; identification 0: lost in IPv6), every checksum right
    o.out("outside", Ether(src=GW_OUT_MAC, dst=ROUTER_MAC) /
          IP(src=GW_OUT, dst=SERVER, ttl=63, id=0) / ICMP(type=3, code=3) /
          Raw(bytes(IP(src=SERVER, dst=GW_OUT, ttl=49, id=0) /
                    UDP(sport=9999, dport=e) / b"late")),
          any_id=True)
    # hop limit 1: time exceeded to the host
    x = tr.send("inside", v6in(tr, H6, H6_MAC, SERVER, UDP(sport=7000, dport=9999) / b"t",
                               hlim=1))
    quoted = bytes(x[IPv6])
    o.out("inside", Ether(src=GW_IN_MAC, dst=H6_MAC) /
          IPv6(src=p64(GW_IN), dst=H6, hlim=64, tc=0xc0) / ICMPv6TimeExceeded(code=0) /
          Raw(quoted))
    o.drop("TTL_EXCEEDED")


def sc_nat64_ptb(tr):
    """Path MTU across the translation: the uplink MTU 1400 makes natgw send fragmentation
    needed (1400) to the shadow, which reaches the host as Packet Too Big 1420; a router's
    fragmentation needed (MTU 1300) reaches the host as PTB 1320 (RFC 7915 4.2: + 20); a
    server's 1500-byte DF datagram to the host gets fragmentation needed 1480 (inside MTU
    1500 - 20); a 1400-byte datagram without DF reaches the host as IPv6 fragments of at
    most 1280 bytes (RFC 7915 4)."""
    o = Out(tr)
    preamble(tr)
    e = ext_port(tr, "t", lambda p: TCP in p and p[TCP].seq == 1, 41000)
    x = tr.send("inside", v6in(tr, H6, H6_MAC, SERVER, TCP(sport=41000, dport=80, flags="S",
                                                          seq=1)))
    o.out("outside", out4(x, sport=e), any_id=True)
    y = tr.send("outside", srv(tr, SERVER, TCP(sport=80, dport=e, flags="SA", seq=9, ack=2)))
    o.out("inside", in6(y, dport=41000))
    # 1440 bytes as IPv4 with DF: over the uplink's 1400
    big = v6in(tr, H6, H6_MAC, SERVER, TCP(sport=41000, dport=80, flags="PA", seq=2, ack=10)
               / (b"B" * 1400))
    x = tr.send("inside", big)
    # natgw -> shadow frag needed 1400 (TOS 0xc0, quoting 548 bytes of the datagram as
    # received), translated: PTB 1420, the quote as the host sent it (548 - 20 + 40 bytes)
    inner6 = bytes(x[IPv6])[:568]
    o.out("inside", Ether(src=GW_IN_MAC, dst=H6_MAC) /
          IPv6(src=p64(GW_IN), dst=H6, hlim=64, tc=0xc0) / ICMPv6PacketTooBig(mtu=1420) /
          Raw(inner6))
    o.drop("FRAG_NEEDED")
    # a router beyond says 1300 about a 1380-byte segment that did pass
    x = tr.send("inside", v6in(tr, H6, H6_MAC, SERVER,
                               TCP(sport=41000, dport=80, flags="PA", seq=2, ack=10) /
                               (b"C" * 1340)))
    s4 = out4(x, sport=e)
    o.out("outside", s4)
    y = tr.send("outside", srv(tr, "203.0.113.77", ICMP(type=3, code=4, nexthopmtu=1300) /
                               Raw(bytes(s4[IP])[:28])))
    q6 = IPv6(bytes(x[IPv6]))
    q6.hlim = 63
    o.out("inside", Ether(src=GW_IN_MAC, dst=H6_MAC) /
          IPv6(src=p64("203.0.113.77"), dst=H6, hlim=49) / ICMPv6PacketTooBig(mtu=1320) /
          Raw(bytes(q6)[:48]))
    # the server sends 1500 bytes with DF: natgw answers frag needed 1480
    y = tr.send("outside", srv(tr, SERVER, TCP(sport=80, dport=e, flags="PA", seq=10, ack=2)
                               / (b"S" * 1460), flags="DF", ipid=0x4444))
    # RFC 7915 4 / RFC 1191: the inside IPv6 MTU 1500 less the 20 bytes IPv6 adds; natgw's
    # own error (TOS 0xc0, RFC 1812 4.3.2.5) quotes what fits 576 bytes
    o.out("outside", Ether(src=GW_OUT_MAC, dst=ROUTER_MAC) /
          IP(src=GW_OUT, dst=SERVER, ttl=64, tos=0xc0, id=0) /
          ICMP(type=3, code=4, nexthopmtu=1480) / Raw(bytes(y[IP])[:548]))
    o.drop("FRAG_NEEDED")
    # 1400 bytes without DF: IPv6 fragments <= 1280 bytes
    y = tr.send("outside", srv(tr, SERVER, TCP(sport=80, dport=e, flags="PA", seq=10, ack=2)
                               / (b"F" * 1360), ipid=0x5555))
    whole = in6(y, dport=41000)
    tr.frag6 = (whole, tr.t)
    o.skip_t.add(tr.t)
    tr.check(frag6_check)


def frag6_check(tr, res, ck):
    """The IPv6 fragments of the last datagram: each <= 1280 bytes with a fragment header,
    identification = the IPv4 one, and reassembled they are the datagram translated."""
    whole, t = tr.frag6
    frs = [Ether(b) for tt, b in res.out["inside"] if tt == t and b[12:14] == b"\x86\xdd"]
    ck.ok(len(frs) >= 2, "1400-byte datagram without DF: fragmented for the IPv6 side",
          ">= 2 fragments", len(frs))
    data = b""
    for f in frs:
        ck.ok(len(bytes(f[IPv6])) <= 1280, "fragment <= 1280 bytes", "<= 1280",
              len(bytes(f[IPv6])))
        fh = f[IPv6ExtHdrFragment]
        ck.eq("fragment identification = IPv4 identification", 0x5555, fh.id)
        ck.eq("fragment offset in order", len(data), fh.offset * 8)
        data += bytes(fh.payload)
    ck.eq("reassembled = the datagram translated", bytes(whole[IPv6].payload), data)


def sc_nat64_frag(tr):
    """IPv6 fragments from the host (fragment header) become IPv4 fragments (identification,
    offset, MF), natgw reassembles them as any IPv4 datagram and sends it whole."""
    o = Out(tr)
    preamble(tr)
    e = ext_port(tr, "u", lambda p: UDP in p and p[UDP].dport == 4444, 6000)
    dg = IPv6(src=H6, dst=p64(SERVER), hlim=64) / UDP(sport=6000, dport=4444) / (b"z" * 1000)
    frs = fragment6_list(dg, 0x01020304, 512)
    for f in frs:
        tr.send("inside", Ether(src=H6_MAC, dst=GW_IN_MAC) / f)
    whole = Ether(src=H6_MAC, dst=GW_IN_MAC) / dg
    exp = out4(whole, sport=e, df=False)
    exp[IP].id = 0x0304
    o.out("outside", exp)


def fragment6_list(dg, ident, size):
    """The IPv6 datagram dg cut into fragments of `size` payload bytes (multiple of 8)."""
    raw = bytes(dg)
    hdr, pl = raw[:40], raw[40:]
    out = []
    for off in range(0, len(pl), size):
        part = pl[off:off + size]
        more = off + size < len(pl)
        f = IPv6(hdr) / IPv6ExtHdrFragment(nh=dg.nh, offset=off // 8, m=int(more), id=ident)
        f = IPv6(bytes(IPv6(src=dg.src, dst=dg.dst, hlim=dg.hlim, nh=44) /
                       IPv6ExtHdrFragment(nh=dg.nh, offset=off // 8, m=int(more), id=ident) /
                       Raw(part)))
        out.append(f)
    return out


def sc_nat64_unsolicited(tr):
    """What must not pass: unsolicited inbound to the pool (no mapping: RFC 6146 filtering =
    NAT44's), IPv4 straight to a shadow address from the uplink, an IPv4 packet from the
    inside claiming a shadow source, the Well-Known Prefix to a non-global IPv4 address
    (RFC 6052 3.1), a TCP segment that is no SYN from a host without a shadow."""
    o = Out(tr)
    preamble(tr)
    tr.send("outside", srv(tr, SERVER, TCP(sport=80, dport=40000, flags="S", seq=1)))
    o.drop("NAT_NO_MAPPING")
    tr.send("outside", Ether(src=ROUTER_MAC, dst=GW_OUT_MAC) /
            IP(src=SERVER, dst="100.64.0.1") / UDP(sport=53, dport=5353))
    o.drop("TO_INSIDE_DIRECT")
    tr.send("inside", Ether(src=H1_MAC, dst=GW_IN_MAC) / IP(src="100.64.0.1", dst=SERVER) /
            UDP(sport=1, dport=2))
    o.drop("NAT64_SPOOFED")
    tr.send("inside", v6in(tr, H6, H6_MAC, "10.1.2.3", UDP(sport=1, dport=53)))
    o.drop("NAT64_NON_GLOBAL")
    tr.send("inside", v6in(tr, H6, H6_MAC, SERVER, TCP(sport=1, dport=80, flags="A")))
    o.drop("NAT64_NO_SHADOW")
    # after a connection of the host exists, only its replies come in
    e = ext_port(tr, "u", lambda p: UDP in p, 8000)
    x = tr.send("inside", v6in(tr, H6, H6_MAC, SERVER, UDP(sport=8000, dport=53) / b"q"))
    o.out("outside", out4(x, sport=e), any_id=True)
    tr.send("outside", srv(tr, SERVER2, UDP(sport=53, dport=e) / b"not asked"))
    o.drop("NAT_NO_MAPPING")


def sc_nat64_eim(tr):
    """NAT64 and NAT44 share the pool and the mapping behaviour: an IPv4 host and an IPv6
    host both leave from 203.0.113.2; the IPv6 host's one source port keeps one outside
    port to two destinations (endpoint-independent mapping, RFC 4787 REQ-1 / RFC 6146 3.5),
    and the IPv4 host with the same source port gets another one."""
    o = Out(tr)
    preamble(tr)
    e6 = ext_port(tr, "v6", lambda p: UDP in p and bytes(p[UDP].payload) == b"6a", 9000)
    e4 = ext_port(tr, "v4", lambda p: UDP in p and bytes(p[UDP].payload) == b"4a", 9001)
    x = tr.send("inside", v6in(tr, H6, H6_MAC, SERVER, UDP(sport=9000, dport=53) / b"6a"))
    o.out("outside", out4(x, sport=e6), any_id=True)
    x = tr.send("inside", S.host(tr, H1, SERVER, UDP(sport=9000, dport=53) / b"4a"))
    o.out("outside", S.to_out(x, src=GW_OUT, sport=e4))
    x = tr.send("inside", v6in(tr, H6, H6_MAC, SERVER2, UDP(sport=9000, dport=53) / b"6b"))
    o.out("outside", out4(x, sport=e6), any_id=True)
    y = tr.send("outside", srv(tr, SERVER2, UDP(sport=53, dport=e6) / b"from-2"))
    o.out("inside", in6(y, dport=9000))
    y = tr.send("outside", srv(tr, SERVER, UDP(sport=53, dport=e4) / b"to-v4"))
    o.out("inside", S.to_in(y, H1_MAC, dst=H1, dport=9000))

    def eim(tr, res, ck):
        got = S.learn(tr, res)
        ck.ok(got.get("v6") != got.get("v4"), "v4 and v6 hosts: distinct outside ports",
              "different", got)
    tr.check(eim)


def sc_nat64_shadow_bound(tr):
    """The shadow table is bounded ([nat64] max_hosts = 1): a second IPv6 host is refused
    (counted) while the first has connections; once they expired and the shadow was idle
    past [nat64] timeout, it is reclaimed and the second host gets it."""
    o = Out(tr)
    preamble(tr)
    x = tr.send("inside", v6in(tr, H6, H6_MAC, SERVER, UDP(sport=1111, dport=53) / b"a"))
    o.out("outside", out4(x, sport=1111), any_id=True)
    tr.send("inside", v6in(tr, H6B, H6B_MAC, SERVER, UDP(sport=2222, dport=53) / b"b"))
    o.drop("NAT64_SHADOW_FULL")
    # udp unreplied timeout (2 min) + shadow timeout (5 s) later
    x = tr.send("inside", v6in(tr, H6B, H6B_MAC, SERVER, UDP(sport=2222, dport=53) / b"c"),
                dt=130 * 1000000)
    o.out("outside", out4(x, sport=2222), any_id=True)
    y = tr.send("outside", srv(tr, SERVER, UDP(sport=53, dport=2222) / b"to-b"))
    o.out("inside", in6(y, mac=H6B_MAC, dst=H6B, dport=2222))


SCENARIOS = {
    "nat64_tcp": sc_nat64_tcp,
    "nat64_udp": sc_nat64_udp,
    "nat64_icmp_echo": sc_nat64_icmp_echo,
    "nat64_icmp_error": sc_nat64_icmp_error,
    "nat64_ptb": sc_nat64_ptb,
    "nat64_frag": sc_nat64_frag,
    "nat64_unsolicited": sc_nat64_unsolicited,
    "nat64_eim": sc_nat64_eim,
    "nat64_shadow_bound": sc_nat64_shadow_bound,
}


def config(d, name):
    if name == "nat64_ptb":
        return nat64_config(d, {"outside": {"mtu": "1400"}})
    if name == "nat64_shadow_bound":
        return nat64_config(d, {"nat64": {"max_hosts": "1"}})
    return nat64_config(d)


if __name__ == "__main__":
    sys.exit(S.main(sys.argv, __doc__, SCENARIOS, config=config))

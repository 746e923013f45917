#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Attack: IP options go through untouched.
 (1) A loose/strict source-routed datagram (LSRR 0x83 / SSRR 0x89) from the Internet,
     addressed to 203.0.113.2 on a live UDP mapping, whose route names another inside host
     (192.168.1.20) as the next hop, is translated and delivered to 192.168.1.10 with the
     option intact: an inside host that honours source routes (a router with
     accept_source_route=1) then forwards it to 192.168.1.20, past natgw's filter. A Linux
     router drops source-routed datagrams by default (accept_source_route = 0, RFC 7126
     4.3/4.4 recommend dropping them).
 (2) An echo request from 192.168.1.10 with a Record Route option (what `ping -R` sends:
     Linux records the sender's own address in the first slot) leaves the uplink with
     192.168.1.10 in the option: an inside address out of the uplink.
Nothing in the pipeline (app/gw_pipeline.c gw_stage1, lib/conntrack/ct_parse.c
ct_parse_ipv4, lib/nat/nat_rewrite.c) looks at options.
Wanted: (1) dropped with a reason; (2) no inside address in what leaves the uplink (options
stripped/NOPed, or the recorded inside address translated, or the datagram dropped).

    /usr/bin/python3 tests/replay/attack/ip_options_srcroute_rr.py NATGW_REPLAY
"""
import sys
import os
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atk import *  # noqa: E402,F401,F403
from scapy.all import IPOption_LSRR, IPOption_RR, IPOption_SSRR  # noqa: E402


def with_opts(frame, opts):
    """frame with IP options added, L4 bytes (checksum over the real destination) kept"""
    p = Ether(bytes(frame))
    ip = IP(src=p[IP].src, dst=p[IP].dst, ttl=p[IP].ttl, id=p[IP].id, proto=p[IP].proto,
            options=opts)
    return Ether(src=p.src, dst=p.dst) / ip / Raw(bytes(p[IP].payload))


def raw_opts(frame, opts):
    """frame with the raw option bytes `opts` (padded to 4 with EOL) in its IP header, the
    header checksum right, whatever the options say"""
    p = Ether(bytes(frame))
    opts = opts + b"\x00" * (-len(opts) % 4)
    hdr = bytearray(bytes(p[IP])[:20])
    l4 = bytes(p[IP].payload)
    hdr[0] = 0x40 | (20 + len(opts)) // 4
    hdr[2:4] = (20 + len(opts) + len(l4)).to_bytes(2, "big")
    hdr[10:12] = b"\x00\x00"
    h = bytes(hdr) + opts
    c = sum(int.from_bytes(h[i:i + 2], "big") for i in range(0, len(h), 2))
    while c >> 16:
        c = (c & 0xffff) + (c >> 16)
    hdr[10:12] = (~c & 0xffff).to_bytes(2, "big")
    return Ether(bytes(Ether(src=p.src, dst=p.dst, type=0x0800)) + bytes(hdr) + opts + l4)


def ip_csum_ok(b):
    h = bytes(Ether(b)[IP])[:Ether(b)[IP].ihl * 4]
    c = sum(int.from_bytes(h[i:i + 2], "big") for i in range(0, len(h), 2))
    while c >> 16:
        c = (c & 0xffff) + (c >> 16)
    return c == 0xffff


def main():
    replay, keep = main_replay()
    r = Run()
    r.preamble()
    r.send("inside", r.host(H1, SERVER, UDP(sport=4200, dport=53) / b"query"))
    r.send("outside", with_opts(r.remote(SERVER, GW_OUT, UDP(sport=53, dport=4200) / b"lsrr"),
                                [IPOption_LSRR(routers=[H2], pointer=4)]))
    r.send("outside", with_opts(r.remote(SERVER, GW_OUT, UDP(sport=53, dport=4200) / b"ssrr"),
                                [IPOption_SSRR(routers=[H2], pointer=4)]))
    r.send("inside", with_opts(r.host(H1, SERVER, ICMP(type=8, id=5, seq=1) / b"ping -R"),
                               [IPOption_RR(routers=[H1] + ["0.0.0.0"] * 8, pointer=8)]))
    # a Record Route with no inside address in it passes as it is; a Timestamp with
    # addresses naming H1 is NOPed; an option running past the header is a counted drop
    r.send("inside", with_opts(r.host(H1, SERVER, ICMP(type=8, id=6, seq=1) / b"rr zero"),
                               [IPOption_RR(routers=["0.0.0.0"] * 3, pointer=4)]))
    r.send("inside", raw_opts(r.host(H1, SERVER, ICMP(type=8, id=7, seq=1) / b"ts"),
                              b"\x44\x0c\x05\x01" + bytes([192, 168, 1, 10]) + b"\x00" * 4))
    r.send("inside", raw_opts(r.host(H1, SERVER, ICMP(type=8, id=8, seq=1) / b"bad"),
                              b"\x07\x10\x04" + b"\x00" * 5))
    res = r.run(replay, keep)
    echoes = {bytes(Ether(b)[ICMP].payload): bytes(Ether(b)[IP])[20:Ether(b)[IP].ihl * 4]
              for _t, b in res.ip("outside") if Ether(b).haslayer(ICMP)}
    csum_ok = all(ip_csum_ok(b) for _t, b in res.ip("outside"))
    ok3 = verdict(csum_ok and set(echoes) == {b"ping -R", b"rr zero", b"ts"} and
                  echoes[b"ping -R"] == b"\x01" * 39 + b"\x00" and
                  echoes[b"ts"] == b"\x01" * 12 and
                  echoes[b"rr zero"] == b"\x07\x0f\x04" + b"\x00" * 13,
                  "ping -R and the timestamp echo leave with their options NOPed (header "
                  "checksums right), the Record "
                  f"Route with no inside address untouched, the malformed one not ({echoes})")
    rs = [res.reason_of(lambda e, d=d: bytes(e).endswith(d))
          for d in (b"lsrr", b"ssrr", b"bad")]
    ok4 = verdict(rs == ["IP_SRCROUTE", "IP_SRCROUTE", "IP_OPTS_BAD"],
                  f"drop reasons IP_SRCROUTE, IP_SRCROUTE, IP_OPTS_BAD (got {rs})")
    routed_in = [summary(b) for _t, b in res.ip("inside")
                 if any(o.option in (3, 9) for o in Ether(b)[IP].options)]
    rr_out = [b for _t, b in res.ip("outside")
              if INSIDE_PREFIX in bytes(Ether(b)[IP])[20:(Ether(b)[IP].ihl * 4)]]
    ok1 = verdict(not routed_in, f"source-routed datagrams not delivered inside ({len(routed_in)}"
                  " delivered with LSRR/SSRR naming 192.168.1.20)")
    ok2 = verdict(not rr_out, f"no inside address in the IP options leaving the uplink "
                  f"({len(rr_out)} frame(s) carry 192.168.1.x in Record Route)")
    return 1 if ok1 or ok2 or ok3 or ok4 else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Attack: link-layer broadcast/multicast handling (low severity).
 (1) A frame sent to the Ethernet broadcast (or a multicast) MAC that carries a unicast
     IPv4 datagram to the Internet is NATed and forwarded. RFC 1812 5.3.4: a router MUST
     NOT forward a packet received as a link-layer broadcast unless it is addressed to an IP
     multicast address (Linux ip_forward drops pkt_type != PACKET_HOST). With two gateways on
     a LAN every one of them forwards such a frame. app/gw_pipeline.c gw_stage1 accepts any
     multicast destination MAC for IPv4.
 (2) A TTL-1 frame whose Ethernet source is the broadcast address makes natgw send its
     ICMP time exceeded to ff:ff:ff:ff:ff:ff: to every station of the segment (on the
     uplink, the ISP's whole L2 segment). app/gw_icmp.c gw_icmp_error copies oeth->src_addr
     without the unicast check gw_icmp_echo_reply has.
Input: from H1's port a broadcast frame and a 01:00:5e multicast frame carrying UDP to
198.51.100.5; a TTL-1 UDP frame to 198.51.100.5 with Ethernet source ff:ff:ff:ff:ff:ff;
from the uplink a TTL-1 SYN to the forward :8080 with Ethernet source ff:ff:ff:ff:ff:ff.
Then a TTL-1 frame from Ethernet source 00:00:00:00:00:00, a TTL-1 frame from H1 (unicast
MACs), a broadcast frame to 255.255.255.255.
Wanted: nothing forwarded, no error sent to a group or zero MAC; the unicast-in-broadcast
frames dropped L2_GROUP, the one to 255.255.255.255 NO_ROUTE (martian destination); the
ordinary TTL-1 frame still gets its time exceeded.

    /usr/bin/python3 tests/replay/attack/l2_broadcast_frames.py NATGW_REPLAY
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
    r.send("inside", Ether(src=H1_MAC, dst=BCAST) / IP(src=H1, dst=SERVER, id=7) /
           UDP(sport=4300, dport=53) / b"bcast")
    r.send("inside", Ether(src=H1_MAC, dst="01:00:5e:00:00:01") / IP(src=H1, dst=SERVER, id=8) /
           UDP(sport=4301, dport=53) / b"mcast")
    r.send("inside", Ether(src=BCAST, dst=GW_IN_MAC) / IP(src=H1, dst=SERVER, id=9, ttl=1) /
           UDP(sport=4302, dport=53) / b"ttl1")
    r.send("outside", Ether(src=BCAST, dst=GW_OUT_MAC) / IP(src=PEER, dst=GW_OUT, ttl=1) /
           TCP(sport=5, dport=8080, flags="S"))
    r.send("inside", Ether(src="00:00:00:00:00:00", dst=GW_IN_MAC) /
           IP(src=H1, dst=SERVER, id=10, ttl=1) / UDP(sport=4303, dport=53) / b"zero")
    # still answered: a unicast TTL-1 frame from H1, and a broadcast frame to the broadcast
    # address (not forwarded, dropped as a martian destination)
    r.send("inside", Ether(src=H1_MAC, dst=GW_IN_MAC) / IP(src=H1, dst=SERVER, id=11, ttl=1) /
           UDP(sport=4304, dport=53) / b"ttl1 ok")
    r.send("inside", Ether(src=H1_MAC, dst=BCAST) / IP(src=H1, dst="255.255.255.255", id=12) /
           UDP(sport=68, dport=67) / b"dhcp")
    res = r.run(replay, keep)
    fwd = [summary(b) for _t, b in res.ip("outside") if Ether(b).haslayer(UDP)]
    grp = [summary(b) for p in ("inside", "outside") for _t, b in res.ip(p)
           if int(Ether(b).dst.split(":")[0], 16) & 1 or Ether(b).dst == "00:00:00:00:00:00"]
    te = [b for _t, b in res.ip("inside") if Ether(b).haslayer(ICMP) and
          Ether(b)[ICMP].type == 11 and Ether(b).dst == H1_MAC]
    rs = [res.reason_of(lambda e, i=i: e.haslayer(IP) and e[IP].id == i) for i in (7, 8, 12)]
    a = verdict(not fwd, f"link-layer broadcast/multicast frames not forwarded ({len(fwd)} were)")
    b = verdict(not grp, f"no ICMP error sent to a group or zero MAC ({len(grp)} were)")
    c = verdict(len(te) == 1, f"the unicast TTL-1 frame still gets its time exceeded ({len(te)})")
    d = verdict(rs == ["L2_GROUP", "L2_GROUP", "NO_ROUTE"],
                f"drop reasons L2_GROUP, L2_GROUP, NO_ROUTE (got {rs})")
    return 1 if a or b or c or d else 0


if __name__ == "__main__":
    sys.exit(main())

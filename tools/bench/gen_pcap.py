#!/usr/bin/python3
"""Captures for tools/bench/live.sh: natgw on net_pcap with infinite_rx=1.

inside.pcap  gratuitous ARP from every inside host, then one packet of each flow (TCP ACK
             segments and UDP datagrams, 60-byte frames, random flow order) from the hosts
             to servers in 198.18.0.0/15 (RFC 2544 benchmarking range).
outside.pcap gratuitous ARP from the uplink gateway, then the servers' replies addressed to
             the translated tuple natgw is expected to pick: one pool address, and the inside
             port preserved (every flow has a distinct inside port, so with one worker all
             are free and natgw keeps them). Replies natgw did not map as predicted are
             dropped by natgw and show up in its drop counters, not as forwarded packets.

The first loop through inside.pcap creates the connections (TCP ones are picked up
mid-stream: natgw's tcp_loose, on by default); every later loop is established traffic.
"""
import argparse
import random
import sys

from scapy.all import ARP, IP, TCP, UDP, Ether, Raw, wrpcap


def pad60(p):
    raw = bytes(p)
    return Ether(raw + b'\0' * (60 - len(raw))) if len(raw) < 60 else p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--flows', type=int, default=2000)
    ap.add_argument('--hosts', type=int, default=64)
    ap.add_argument('--tcp-pct', type=int, default=50)
    ap.add_argument('--in-mac', default='02:70:63:61:70:00', help="natgw's inside port")
    ap.add_argument('--out-mac', default='02:70:63:61:70:01', help="natgw's outside port")
    ap.add_argument('--inside-gw', default='10.0.0.1', help="natgw's inside address")
    ap.add_argument('--outside-addr', default='203.0.113.2', help="natgw's outside address")
    ap.add_argument('--uplink-gw', default='203.0.113.1')
    ap.add_argument('--pool', default='203.0.113.2', help='the one pool address')
    ap.add_argument('--first-port', type=int, default=20000)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--inside', default='inside.pcap')
    ap.add_argument('--outside', default='outside.pcap')
    a = ap.parse_args()
    if a.flows + a.first_port > 65535:
        sys.exit('gen_pcap: too many flows for distinct inside ports')
    rnd = random.Random(a.seed)
    host_macs = ['02:00:0a:%02x:%02x:%02x' % (h >> 16 & 0xff, h >> 8 & 0xff, h & 0xff)
                 for h in range(a.hosts)]
    host_ips = ['10.0.%d.%d' % (1 + h // 250, 1 + h % 250) for h in range(a.hosts)]
    gw_mac = '02:00:cb:00:71:01'

    inside, outside = [], []
    for h in range(a.hosts):
        inside.append(Ether(src=host_macs[h], dst='ff:ff:ff:ff:ff:ff') /
                      ARP(op=2, hwsrc=host_macs[h], psrc=host_ips[h], hwdst=host_macs[h],
                          pdst=host_ips[h]))
    outside.append(Ether(src=gw_mac, dst='ff:ff:ff:ff:ff:ff') /
                   ARP(op=2, hwsrc=gw_mac, psrc=a.uplink_gw, hwdst=gw_mac, pdst=a.uplink_gw))

    order = list(range(a.flows))
    rnd.shuffle(order)
    for i in order:
        h = i % a.hosts
        sport = a.first_port + i
        srv = '198.18.%d.%d' % (i // 200 % 256, 1 + i % 200)
        tcp = rnd.randrange(100) < a.tcp_pct
        if tcp:
            dport = 443
            isn_c, isn_s = rnd.getrandbits(32), rnd.getrandbits(32)
            l4o = TCP(sport=sport, dport=dport, flags='A', seq=isn_c, ack=isn_s, window=65535)
            l4i = TCP(sport=dport, dport=sport, flags='A', seq=isn_s, ack=isn_c, window=65535)
        else:
            dport = 443
            l4o = UDP(sport=sport, dport=dport) / Raw(b'q' * 18)
            l4i = UDP(sport=dport, dport=sport) / Raw(b'r' * 18)
        inside.append(pad60(Ether(src=host_macs[h], dst=a.in_mac) /
                            IP(src=host_ips[h], dst=srv, ttl=64) / l4o))
        outside.append(pad60(Ether(src=gw_mac, dst=a.out_mac) /
                             IP(src=srv, dst=a.pool, ttl=60) / l4i))
    wrpcap(a.inside, inside)
    wrpcap(a.outside, outside)
    print(f'gen_pcap: {a.inside} {len(inside)} frames, {a.outside} {len(outside)} frames')


if __name__ == '__main__':
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Live run of natgw on net_tap (needs root and /dev/net/tun; skipped, exit 77, without).

Two workers, one queue per tap port. scapy plays the inside host on the kernel side of the
inside tap and the server on the outside tap: a TCP handshake and a UDP exchange go out
translated and their replies come back translated to the host (the first reply waits in the
ARP hold queue until scapy answers natgw's ARP request for the host) (checksums recomputed in
full), an unsolicited inbound packet is dropped (NAT_NO_MAPPING), natgw stops on SIGTERM
with status 0 and the counters say so.

usage: smoke_tap.py NATGW
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from scapy.all import (ARP, IP, TCP, UDP, AsyncSniffer, Ether, Raw, conf, sendp)  # noqa: E402

IN_IF, OUT_IF = "ngwsmk-in", "ngwsmk-out"
IN_MAC, OUT_MAC = "02:00:00:00:01:01", "02:00:00:00:02:01"
HOST, HOST_MAC = "10.0.1.10", "02:00:00:00:01:10"
GW_MAC, SERVER = "02:00:00:00:02:fe", "198.51.100.7"

CONFIG = """
[ports]
inside  = net_tap0
outside = net_tap1
[inside]
address = 10.0.1.1/24
mac     = %s
[outside]
address = 10.0.2.1/24
gateway = 10.0.2.254
mac     = %s
[arp]
static  = 10.0.2.254 %s
[conntrack]
capacity = 1024
[workers]
idle_sleep_us = 200
""" % (IN_MAC, OUT_MAC, GW_MAC)


def fail(msg, p=None):
    print("FAIL: " + msg)
    if p is not None and p.poll() is None:
        p.kill()
    sys.exit(1)


def l4_ok(pkt):
    ip = IP(bytes(pkt[IP]))
    l4 = ip[TCP] if TCP in ip else ip[UDP]
    want_ip, want = ip.chksum, l4.chksum
    del ip.chksum
    del l4.chksum
    re_ip = IP(bytes(ip))
    return re_ip.chksum == want_ip and (re_ip[TCP] if TCP in re_ip else re_ip[UDP]).chksum == want


def exchange(p, out_if, in_if, pkt, match):
    s = AsyncSniffer(iface=in_if, lfilter=match, count=1, timeout=5)
    s.start()
    time.sleep(0.3)
    sendp(pkt, iface=out_if, verbose=False)
    s.join()
    if not s.results:
        fail("no packet came out on %s for %s" % (in_if, pkt.summary()), p)
    return s.results[0]


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    if os.getuid() != 0 or not os.path.exists("/dev/net/tun"):
        print("SKIP: needs root and /dev/net/tun")
        return 77
    natgw = sys.argv[1]
    d = tempfile.mkdtemp(prefix="natgw-tap-")
    with open(os.path.join(d, "natgw.ini"), "w") as f:
        f.write(CONFIG)
    cmd = [natgw, "--no-huge", "-m", "256", "--no-shconf", "--no-pci",
           "--file-prefix", "natgw-tap-%d" % os.getpid(), "--lcores", "0@0,1@1,2@1",
           "--vdev", "net_tap0,iface=%s" % IN_IF, "--vdev", "net_tap1,iface=%s" % OUT_IF,
           "--", "--config", os.path.join(d, "natgw.ini")]
    print(" ".join(cmd))
    log = open(os.path.join(d, "natgw.log"), "w+")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        time.sleep(0.1)
        log.seek(0)
        if "tables:" in log.read() or p.poll() is not None:
            break
    if p.poll() is not None:
        log.seek(0)
        fail("natgw exited:\n" + log.read())
    for i in (IN_IF, OUT_IF):
        subprocess.run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % i])
        subprocess.run(["ip", "link", "set", i, "up"], check=True)
    conf.verb = 0
    time.sleep(0.5)
    # TCP handshake out and back
    syn = Ether(src=HOST_MAC, dst=IN_MAC) / IP(src=HOST, dst=SERVER) / \
        TCP(sport=40000, dport=80, flags="S", seq=1000)
    o = exchange(p, IN_IF, OUT_IF, syn, lambda x: TCP in x and x[TCP].dport == 80)
    if o[IP].src != "10.0.2.1" or o[Ether].dst != GW_MAC or not l4_ok(o):
        fail("outbound SYN not translated: %s" % o.summary(), p)
    eport = o[TCP].sport
    synack = Ether(src=GW_MAC, dst=OUT_MAC) / IP(src=SERVER, dst="10.0.2.1") / \
        TCP(sport=80, dport=eport, flags="SA", seq=5000, ack=1001)
    # the host is not in the ARP cache: natgw asks, holds the SYN-ACK, sends it on the reply
    req = exchange(p, OUT_IF, IN_IF, synack,
                   lambda x: ARP in x and x[ARP].op == 1 and x[ARP].pdst == HOST)
    if req[ARP].psrc != "10.0.1.1" or req[ARP].hwsrc != IN_MAC:
        fail("bad ARP request %s" % req.summary(), p)
    arp_reply = Ether(src=HOST_MAC, dst=IN_MAC) / ARP(op=2, hwsrc=HOST_MAC, psrc=HOST,
                                                     hwdst=IN_MAC, pdst="10.0.1.1")
    r = exchange(p, IN_IF, IN_IF, arp_reply, lambda x: TCP in x and x[TCP].sport == 80)
    if r[IP].dst != HOST or r[TCP].dport != 40000 or r[Ether].dst != HOST_MAC or not l4_ok(r):
        fail("SYN-ACK not translated back: %s" % r.summary(), p)
    # UDP out and back
    q = Ether(src=HOST_MAC, dst=IN_MAC) / IP(src=HOST, dst=SERVER) / UDP(sport=5353, dport=53) \
        / Raw(b"query")
    o = exchange(p, IN_IF, OUT_IF, q, lambda x: UDP in x and x[UDP].dport == 53)
    a = Ether(src=GW_MAC, dst=OUT_MAC) / IP(src=SERVER, dst="10.0.2.1") / \
        UDP(sport=53, dport=o[UDP].sport) / Raw(b"answer")
    r = exchange(p, OUT_IF, IN_IF, a, lambda x: UDP in x and x[UDP].sport == 53)
    if r[IP].dst != HOST or r[UDP].dport != 5353 or bytes(r[UDP].payload) != b"answer" or \
            not l4_ok(r):
        fail("UDP answer not translated back: %s" % r.summary(), p)
    # unsolicited inbound
    sendp(Ether(src=GW_MAC, dst=OUT_MAC) / IP(src=SERVER, dst="10.0.2.1") /
          UDP(sport=53, dport=1), iface=OUT_IF)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        fail("natgw did not stop on SIGTERM", p)
    log.seek(0)
    out = log.read()
    print(out)
    if rc != 0:
        fail("natgw exit status %d" % rc)
    if not re.search(r"NAT_NO_MAPPING\s+1\b", out):
        fail("unsolicited inbound not counted as NAT_NO_MAPPING")
    m = re.search(r"^connections created (\d+)", out, re.M)
    if m is None or int(m.group(1)) != 2:
        fail("want 2 connections created")
    if not re.search(r"arp requests [1-9]", out):
        fail("no ARP request counted")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

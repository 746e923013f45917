#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Live smoke run of the natgw binary on net_pcap (net_tap: smoke_tap.py).

natgw runs with two workers on virtual ports: the inside port reads a scapy-built pcap of
outbound flows from several hosts (TCP, UDP, ICMP echo), plus router traffic (ARP request
for the gateway's inside address, ping to it, a TTL=1 packet); the outside port reads an
ARP request for the outside address. With one queue per port, worker 0 receives the inside,
worker 1 the outside, and flows owned by the other worker go through the handoff rings.
After the input is consumed natgw gets SIGINT; the test checks exit status 0, the output
pcaps (every flow translated to the outside address with a consistent mapping, TTL-1, L2
rewritten to the gateway's MAC, IPv4/L4 checksums valid by full recomputation, ARP and ICMP
answers on the inside) and the final counters.

usage: smoke.py NATGW [--keep DIR]
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, Raw, defragment, fragment,
                       rdpcap, wrpcap)  # noqa: E402

IN_MAC = "02:00:00:00:01:01"
OUT_MAC = "02:00:00:00:02:01"
GW_MAC = "02:00:00:00:02:fe"
HOST_MAC = "02:00:00:00:01:%02x"
HOSTS = ["10.0.1.%d" % i for i in range(10, 16)]
SERVER = "198.51.100.7"
N_FLOWS = [0]
N_EXTRA = [0]
PORTS_TEL = [""]

CONFIG = """
[ports]
inside  = net_pcap0
outside = net_pcap1
[inside]
address = 10.0.1.1/24
mac     = %s
[outside]
address = 10.0.2.1/24
gateway = 10.0.2.254
mac     = %s
mtu     = 1400
[arp]
static  = 10.0.2.254 %s
[conntrack]
capacity = 4096
[workers]
idle_sleep_us = 100
""" % (IN_MAC, OUT_MAC, GW_MAC)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def csum_ok(pkt):
    """Full recomputation of the IPv4 and L4 checksums."""
    ip = pkt[IP]
    raw = bytes(ip)
    re_ip = IP(raw)
    want_ip = re_ip.chksum
    del re_ip.chksum
    if IP(bytes(re_ip)).chksum != want_ip:
        return False
    l4 = re_ip.payload
    if isinstance(l4, (TCP, UDP, ICMP)):
        want = l4.chksum
        if isinstance(l4, UDP) and want == 0:
            return True
        del l4.chksum
        if IP(bytes(re_ip))[type(l4)].chksum != want:
            return False
    return True


def build_inputs(d):
    inside, flows = [], []
    for h, src in enumerate(HOSTS):
        hm = HOST_MAC % (h + 16)
        for k in range(3):
            sport = 40000 + h * 10 + k
            inside.append(Ether(src=hm, dst=IN_MAC) / IP(src=src, dst=SERVER, ttl=64) /
                          TCP(sport=sport, dport=80, flags="S", seq=1000 + k))
            flows.append(("tcp", src, sport))
        inside.append(Ether(src=hm, dst=IN_MAC) / IP(src=src, dst=SERVER, ttl=64) /
                      UDP(sport=5000 + h, dport=53) / Raw(b"q" * 20))
        flows.append(("udp", src, 5000 + h))
        inside.append(Ether(src=hm, dst=IN_MAC) / IP(src=src, dst=SERVER, ttl=64) /
                      ICMP(type=8, id=700 + h, seq=1) / Raw(b"ping"))
        flows.append(("icmp", src, 700 + h))
    # router duties on the inside
    hm = HOST_MAC % 16
    inside.append(Ether(src=hm, dst="ff:ff:ff:ff:ff:ff") /
                  ARP(op=1, hwsrc=hm, psrc=HOSTS[0], pdst="10.0.1.1"))
    inside.append(Ether(src=hm, dst=IN_MAC) / IP(src=HOSTS[0], dst="10.0.1.1") /
                  ICMP(type=8, id=99, seq=1) / Raw(b"hello"))
    inside.append(Ether(src=hm, dst=IN_MAC) / IP(src=HOSTS[0], dst=SERVER, ttl=1) /
                  UDP(sport=33434, dport=33435))
    # a UDP datagram in fragments, out of order: reassembled, translated, re-fragmented
    # for the outside MTU (1400); a DF packet over 1400: fragmentation needed
    big = IP(src=HOSTS[1], dst=SERVER, id=4242, flags=0) / UDP(sport=6000, dport=9000) / \
        Raw(bytes(range(256)) * 12)
    frs = fragment(big, fragsize=1200)
    for f in reversed(frs):
        inside.append(Ether(src=HOST_MAC % 17, dst=IN_MAC) / f)
    flows.append(("frag", HOSTS[1], 6000))
    inside.append(Ether(src=HOST_MAC % 17, dst=IN_MAC) /
                  IP(src=HOSTS[1], dst=SERVER, flags="DF") /
                  TCP(sport=6001, dport=80, flags="S") / Raw(b"x" * 1420))
    N_EXTRA[0] = len(frs) + 1
    outside = [Ether(src=GW_MAC, dst="ff:ff:ff:ff:ff:ff") /
               ARP(op=1, hwsrc=GW_MAC, psrc="10.0.2.254", pdst="10.0.2.1")]
    wrpcap(os.path.join(d, "in.pcap"), inside)
    wrpcap(os.path.join(d, "out.pcap"), outside)
    return flows


def run_natgw(natgw, d):
    with open(os.path.join(d, "natgw.ini"), "w") as f:
        f.write(CONFIG)
    cmd = [natgw, "--no-huge", "-m", "256", "--no-shconf", "--no-pci",
           "--file-prefix", "natgw-smoke-%d" % os.getpid(), "--lcores", "0@0,1@1,2@1",
           "--log-level", "lib.*:warning",
           "--vdev", "net_pcap0,rx_pcap=%s/in.pcap,tx_pcap=%s/in_tx.pcap" % (d, d),
           "--vdev", "net_pcap1,rx_pcap=%s/out.pcap,tx_pcap=%s/out_tx.pcap" % (d, d),
           "--", "--config", os.path.join(d, "natgw.ini")]
    print(" ".join(cmd))
    log = open(os.path.join(d, "natgw.log"), "w+")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    # the pcaps are read at once; wait for the start-up banner, then a little
    for _ in range(100):
        time.sleep(0.1)
        log.seek(0)
        if "tables:" in log.read() or p.poll() is not None:
            break
    time.sleep(2)
    if p.poll() is not None:
        log.seek(0)
        fail("natgw exited early:\n" + log.read())
    cli = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                       "natgw-conntrack")
    r = subprocess.run(["/usr/bin/python3", cli, "-p", "natgw-smoke-%d" % os.getpid()],
                       capture_output=True, text=True, timeout=20)
    print(r.stdout + r.stderr)
    conns = [l for l in r.stdout.splitlines() if "worker=" in l]
    # the PMD's own counters beside natgw's in /natgw/stats (tools/lab/natgw_tel.py ports)
    tel = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "lab",
                       "natgw_tel.py")
    t = subprocess.run(["/usr/bin/python3", tel, "ports"], capture_output=True, text=True,
                       timeout=20, env=dict(os.environ, NATGW_PREFIX="natgw-smoke-%d" %
                                            os.getpid()))
    print(t.stdout + t.stderr)
    PORTS_TEL[0] = t.stdout
    if r.returncode != 0 or len(conns) != N_FLOWS[0] or \
            not any("SYN_SENT src=10.0.1.10 dst=%s sport=40000" % SERVER in l for l in conns):
        p.kill()
        fail("natgw-conntrack listed %d connections, want %d" % (len(conns), N_FLOWS[0]))
    p.send_signal(signal.SIGINT)
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("natgw did not stop on SIGINT")
    log.seek(0)
    out = log.read()
    print(out)
    if rc != 0:
        fail("natgw exit status %d" % rc)
    return out


def check_outside(d, flows):
    pkts = rdpcap(os.path.join(d, "out_tx.pcap"))
    arp_replies = [p for p in pkts if ARP in p]
    if len(arp_replies) != 1 or arp_replies[0][ARP].op != 2 or \
            arp_replies[0][ARP].psrc != "10.0.2.1" or arp_replies[0][ARP].hwsrc != OUT_MAC:
        fail("outside: want one ARP reply for 10.0.2.1, got %r" % arp_replies)
    ip = [p for p in pkts if IP in p and p[IP].flags.MF == 0 and p[IP].frag == 0]
    frags = [p[IP] for p in pkts if IP in p and (p[IP].flags.MF or p[IP].frag)]
    if len(frags) < 3 or any(len(f) > 1400 for f in frags):
        fail("outside: want the big datagram in fragments <= 1400 bytes, got %d" % len(frags))
    whole = defragment(frags)[0]
    if whole[IP].src != "10.0.2.1" or bytes(whole[UDP].payload) != bytes(range(256)) * 12:
        fail("outside: reassembled datagram wrong: %s" % whole.summary())
    want = whole[UDP].chksum
    del whole[UDP].chksum
    if IP(bytes(whole))[UDP].chksum != want:
        fail("outside: reassembled datagram has a bad UDP checksum")
    flows = [f for f in flows if f[0] != "frag"]
    if len(ip) != len(flows):
        fail("outside: %d IP packets, want %d" % (len(ip), len(flows)))
    seen = {}
    for p in ip:
        if p[Ether].dst != GW_MAC or p[Ether].src != OUT_MAC:
            fail("outside: bad L2 %s -> %s" % (p[Ether].src, p[Ether].dst))
        if p[IP].src != "10.0.2.1" or p[IP].dst != SERVER or p[IP].ttl != 63:
            fail("outside: bad IP header %s" % p.summary())
        if not csum_ok(p):
            fail("outside: bad checksum %s" % p.summary())
        if TCP in p:
            key = ("tcp", p[TCP].sport)
        elif UDP in p:
            key = ("udp", p[UDP].sport)
        else:
            key = ("icmp", p[ICMP].id)
        if key in seen:
            fail("outside: two flows share mapping %r" % (key,))
        seen[key] = p
    print("outside: %d packets translated, %d distinct mappings, checksums ok" %
          (len(ip), len(seen)))


def check_inside(d):
    pkts = rdpcap(os.path.join(d, "in_tx.pcap"))
    arp = [p for p in pkts if ARP in p and p[ARP].op == 2 and p[ARP].psrc == "10.0.1.1"
           and p[ARP].hwsrc == IN_MAC and p[ARP].pdst == HOSTS[0]]
    echo = [p for p in pkts if ICMP in p and p[ICMP].type == 0 and p[IP].src == "10.0.1.1"
            and p[ICMP].id == 99 and bytes(p[ICMP].payload) == b"hello" and csum_ok(p)]
    te = [p for p in pkts if ICMP in p and p[ICMP].type == 11 and p[IP].src == "10.0.1.1"
          and p[IP].dst == HOSTS[0] and csum_ok(p)]
    if not arp:
        fail("inside: no ARP reply for 10.0.1.1")
    if not echo:
        fail("inside: no echo reply from 10.0.1.1")
    if not te:
        fail("inside: no ICMP time exceeded for the TTL=1 packet")
    fn = [p for p in pkts if ICMP in p and p[ICMP].type == 3 and p[ICMP].code == 4 and
          p[ICMP].nexthopmtu == 1400 and p[IP].dst == HOSTS[1] and csum_ok(p)]
    if not fn:
        fail("inside: no ICMP fragmentation needed (mtu 1400) for the DF packet")
    print("inside: ARP reply, echo reply, time exceeded ok (%d packets)" % len(pkts))


def counter(out, regex):
    m = re.search(regex, out, re.M)
    if m is None:
        fail("counter /%s/ not in natgw output" % regex)
    return [int(x) for x in m.groups()]


def check_pmd_counters(out, n_in):
    """natgw's final report and /natgw/stats carry the PMD's counters (rte_eth_stats) per
    port: what net_pcap delivered is what natgw counted, and nothing was lost under it."""
    (prx, ptx, miss, ierr, nombuf, oerr, xd) = counter(
        out, r"^\s+pmd inside rx (\d+) tx (\d+) imissed (\d+) ierrors (\d+) rx_nombuf (\d+) "
        r"oerrors (\d+) xstats_drops (\d+)")
    if prx != n_in or miss or ierr or nombuf or oerr:
        fail("pmd inside rx %d (want %d) imissed %d ierrors %d rx_nombuf %d oerrors %d" %
             (prx, n_in, miss, ierr, nombuf, oerr))
    counter(out, r"^\s+pmd outside rx (\d+) tx (\d+) imissed (\d+)")
    m = re.search(r"^inside rx=(\d+) .*\| pmd rx=(\d+) tx=\d+ imissed=(\d+) ierrors=\d+ "
                  r"rx_nombuf=\d+ oerrors=\d+ xstats_drops=\d+", PORTS_TEL[0], re.M)
    if m is None or int(m.group(2)) != n_in or int(m.group(1)) != n_in:
        fail("natgw_tel.py ports: no PMD counters for inside in /natgw/stats:\n" + PORTS_TEL[0])
    print("pmd counters ok (inside rx %d)" % prx)


def check_counters(out, flows):
    n_in = len(flows) - 1 + 3 + N_EXTRA[0]
    check_pmd_counters(out, n_in)
    rx, tx, drop = counter(out, r"^port inside\s+rx (\d+) tx (\d+) drop (\d+)")
    if rx != n_in or tx != 4 or drop != 2:
        fail("inside counters rx %d tx %d drop %d, want %d 4 2" % (rx, tx, drop, n_in))
    rx, tx, drop = counter(out, r"^port outside\s+rx (\d+) tx (\d+) drop (\d+)")
    if rx != 1 or tx < len(flows) + 2 or drop != 0:
        fail("outside counters rx %d tx %d drop %d" % (rx, tx, drop))
    # the DF packet's connection is created, then removed with its packet (not confirmed)
    (created, deleted, active) = counter(
        out, r"^connections created (\d+) expired \d+ evicted \d+ deleted (\d+) active (\d+)")
    wk = sum(int(x) for x in re.findall(r"conns created (\d+)", out))
    if active != len(flows) or wk != len(flows) or created != len(flows) + 1 or deleted != 1:
        fail("connections created %d (workers %d) deleted %d active %d, want %d" %
             (created, wk, deleted, active, len(flows)))
    (ttl,) = counter(out, r"TTL_EXCEEDED\s+(\d+)")
    (fn,) = counter(out, r"FRAG_NEEDED\s+(\d+)")
    (rs, fr) = counter(out, r"reassembled (\d+), fragmented (\d+)")
    if ttl != 1 or fn != 1 or rs != 1 or fr != 1:
        fail("TTL_EXCEEDED %d FRAG_NEEDED %d reassembled %d fragmented %d, want 1 each" %
             (ttl, fn, rs, fr))
    ho = sum(int(x) for x in re.findall(r"handoff out (\d+)", out))
    if ho == 0:
        fail("no packet went through the handoff rings")
    print("counters ok (handoff %d)" % ho)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    natgw = sys.argv[1]
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    d = keep or tempfile.mkdtemp(prefix="natgw-smoke-")
    os.makedirs(d, exist_ok=True)
    flows = build_inputs(d)
    N_FLOWS[0] = len(flows)
    out = run_natgw(natgw, d)
    check_outside(d, flows)
    check_inside(d)
    check_counters(out, flows)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

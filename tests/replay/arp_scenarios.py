#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/arp_scenarios.py - replay scenarios for natgw's ARP cache (app/gw_arp.c):
what may create an entry (RFC 826 merge restricted as Linux's arp_accept = 0: only the
sender of a request for us and the answer to our own request; gratuitous ARP and unsolicited
replies only update an existing entry, and not within the 1 s locktime), eviction of the
least recently used entry of a full port, aging, bounded hold queues (per next hop and in
total), more than 1,000 inside hosts, and the sharing of what one worker learned with the
others. The machinery (pcaps, natgw-replay, field-by-field checks) is tests/replay/
scenarios.py's; the lab is the same except that the inside network is a /16 (room for the
hosts) and [arp] takes the keys a scenario sets.

    /usr/bin/python3 tests/replay/arp_scenarios.py NATGW_REPLAY SCENARIO [--keep DIR]
    /usr/bin/python3 tests/replay/arp_scenarios.py --list

SCENARIO_workers2 runs SCENARIO with --workers 2. Exit status 0 when every check passed.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402
from scenarios import (ARP, BCAST, GW_IN, GW_IN_MAC, GW_OUT, GW_OUT_MAC, H1, H1_MAC,  # noqa: E402
                       H2, H2_MAC, IP, ROUTER, ROUTER_MAC, SERVER, UDP, Ether, Raw)

EVIL_MAC = "02:00:00:0e:0e:0e"
H1_MAC2 = "02:00:00:01:01:0a"       # H1 after a NIC change
H3, H3_MAC = "192.168.1.30", "02:00:00:01:00:1e"
H4, H4_MAC = "192.168.1.40", "02:00:00:01:00:28"
ZERO_MAC = "00:00:00:00:00:00"


# ---------------------------------------------------------------------------------------------
# the lab: natgw-replay.ini with a /16 inside network and the scenario's [arp] keys

def arp_config(d, name):
    return sc.write_config(d, subst=[("address = 192.168.1.1/24", "address = 192.168.1.1/16")],
                           keys={"arp": ARP_KEYS.get(name, {})})


def hmac(i):
    return "02:00:01:%02x:%02x:%02x" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)


def hip(i, net=10):
    """Inside host i, from 192.168.<net>.1 on (250 a /24): never 192.168.1.x."""
    return f"192.168.{net + i // 250}.{i % 250 + 1}"


def from_host(tr, ip, mac, dst, l4):
    return Ether(src=mac, dst=GW_IN_MAC) / IP(src=ip, dst=dst, ttl=64, id=tr.ipid(ip)) / l4


def who_has(ip, port="inside"):
    """The ARP request natgw sends for ip."""
    if port == "inside":
        return Ether(src=GW_IN_MAC, dst=BCAST) / ARP(op=1, hwsrc=GW_IN_MAC, psrc=GW_IN,
                                                     hwdst=ZERO_MAC, pdst=ip)
    return Ether(src=GW_OUT_MAC, dst=BCAST) / ARP(op=1, hwsrc=GW_OUT_MAC, psrc=GW_OUT,
                                                  hwdst=ZERO_MAC, pdst=ip)


def answer(mac, ip, gw_mac=GW_IN_MAC, gw=GW_IN):
    """A host's reply to natgw's request."""
    return sc.arp_reply(mac, ip, gw_mac, gw)


def garp(mac, ip, op=1):
    """Gratuitous ARP (sender = target address), broadcast."""
    return Ether(src=mac, dst=BCAST) / ARP(op=op, hwsrc=mac, psrc=ip,
                                           hwdst=ZERO_MAC if op == 1 else BCAST, pdst=ip)


def unsolicited_reply(mac, ip):
    """A reply to natgw's inside address that natgw never asked for."""
    return Ether(src=mac, dst=GW_IN_MAC) / ARP(op=2, hwsrc=mac, psrc=ip, hwdst=GW_IN_MAC,
                                               pdst=GW_IN)


def ask_us(tr, ip, mac):
    """ip asks natgw's inside address: natgw answers (and may add ip)."""
    tr.send("inside", sc.arp_req(mac, ip, GW_IN), dt=100)
    tr.out("inside", sc.arp_reply(GW_IN_MAC, GW_IN, mac, ip))


class Flow:
    """One UDP flow of an inside host through NAT (external port learned with N workers)."""

    def __init__(self, tr, ip, mac, sport, name=None):
        self.tr, self.ip, self.mac, self.sport = tr, ip, mac, sport
        tag = (name or f"{ip}:{sport}").encode()
        self.tag = tag
        if tr.workers > 1:
            self.ext = tr.flow(name or f"{ip}:{sport}", "outside",
                               lambda p, t=tag: bytes(p[Raw].load).startswith(t + b" out"),
                               lambda p: p[UDP].sport, sport)
        else:
            self.ext = sport        # port_preserve = yes, distinct source ports

    def out(self, dt=100, dst=SERVER, expect=True):
        x = self.tr.send("inside", from_host(self.tr, self.ip, self.mac, dst,
                                             UDP(sport=self.sport, dport=9999) /
                                             (self.tag + b" out")), dt=dt)
        if expect:
            self.tr.out("outside", sc.to_out(x, src=GW_OUT, sport=self.ext))
        return x

    def back(self, dt=100, n=0):
        """A reply from the server; returns (input, the frame natgw must send to the host,
        with the host's current MAC)."""
        y = self.tr.send("outside", sc.remote(self.tr, SERVER, GW_OUT,
                                              UDP(sport=9999, dport=self.ext) /
                                              (self.tag + b" back %d" % n)), dt=dt)
        return y, sc.to_in(y, self.mac, dst=self.ip, dport=self.sport)


def replay_stats(res):
    """natgw-replay's final counters (gw_stats_print) from its log."""
    log = open(os.path.join(res.dir, "replay.log")).read()
    st = {}
    m = re.search(r"^arp learned (\d+) ignored (\d+) evicted (\d+) aged (\d+)", log, re.M)
    if m:
        st.update(zip(("learned", "ignored", "evicted", "aged"), map(int, m.groups())))
    st["conns"] = [int(x) for x in re.findall(r"^worker \d+ .* conns created (\d+)", log, re.M)]
    return st


def no_inside_leak(tr, res, ck):
    """scenarios.py checks 192.168.1.x; these scenarios' inside network is 192.168/16."""
    for i, (_t, b) in enumerate(res.ip("outside")):
        hdr, _l4 = sc.ip_parts(b)
        ck.ok(hdr[12:14] != bytes([192, 168]) and hdr[16:18] != bytes([192, 168]),
              f"outside output #{i} carries no 192.168/16 address", "none", sc.summary(b))


# ---------------------------------------------------------------------------------------------
# scenarios


def sc_arp_unsolicited(tr):
    """Only a request for us and the answer to our own request create an entry. An
    unsolicited reply to natgw claiming H1 is at EVIL_MAC, gratuitous ARP (request and reply
    form) for H2 from EVIL_MAC, and a request from H4 for another address create none: when
    replies come back for H1, H2 and H4, natgw asks for them and their own answers are
    used. H3's request for natgw's address creates one: its reply goes straight out. Then an
    unsolicited reply within the locktime (1 s) of H1's answer changes nothing, and H1's
    gratuitous ARP with a new MAC two seconds later updates the existing entry."""
    tr.only_ip = False
    tr.send("outside", sc.arp_req(ROUTER_MAC, ROUTER, GW_OUT))
    tr.out("outside", sc.arp_reply(GW_OUT_MAC, GW_OUT, ROUTER_MAC, ROUTER))
    tr.send("inside", unsolicited_reply(EVIL_MAC, H1))
    tr.send("inside", garp(EVIL_MAC, H2, op=1))
    tr.send("inside", garp(EVIL_MAC, H2, op=2))
    tr.send("inside", sc.arp_req(H4_MAC, H4, "192.168.1.99"))     # not for us
    ask_us(tr, H3, H3_MAC)
    f1, f2 = Flow(tr, H1, H1_MAC, 5001, "h1"), Flow(tr, H2, H2_MAC, 5002, "h2")
    f3, f4 = Flow(tr, H3, H3_MAC, 5003, "h3"), Flow(tr, H4, H4_MAC, 5004, "h4")
    for f in (f1, f2, f3, f4):
        f.out()
    for f in (f1, f2, f4):
        _y, exp = f.back()
        tr.out("inside", who_has(f.ip))             # held: natgw asks
        tr.send("inside", answer(f.mac, f.ip), dt=200)
        tr.out("inside", exp)                       # released by the host's own answer
    _y, exp = f3.back()
    tr.out("inside", exp)                           # H3 asked for us: known
    # locktime: 1 ms after H1's answer a reply nobody asked for does not replace its MAC
    tr.send("inside", unsolicited_reply(EVIL_MAC, H1), dt=1000)
    _y, exp = f1.back(n=1)
    tr.out("inside", exp)
    # two seconds later H1 announces a new MAC (gratuitous): the existing entry follows
    tr.send("inside", garp(H1_MAC2, H1), dt=2000000)
    f1.mac = H1_MAC2
    _y, exp = f1.back(n=2)
    tr.out("inside", exp)
    tr.check(lambda t, r, ck: ck.eq("nothing sent to the MAC of the unsolicited ARP", [],
                                    [sc.summary(b) for _t, b in r.out["inside"]
                                     if Ether(b).dst == EVIL_MAC]))

    def counters(t, r, ck):
        if t.workers == 1:
            st = replay_stats(r)
            # the reply claiming H1, two gratuitous for H2 and H4's request for someone
            # else do not add their (unknown) senders
            ck.eq("arp: unsolicited senders not added (arp ignored)", 4, st.get("ignored"))
            ck.eq("arp: entries added (router and H3 asked us; H1, H2, H4 answered us)", 5,
                  st.get("learned"))
    tr.check(counters)


def sc_arp_shared(tr):
    """What one worker learned from the answer to its own request teaches the others: the
    router's answer (and then an on-link peer's) arrives once on one worker, in turn on
    each of the two, and flows owned by every worker then go out without a second request.
    With one worker the same holds trivially."""
    tr.only_ip = False
    hosts = [(hip(i), hmac(i)) for i in range(8)]
    for ip, mac in hosts:
        ask_us(tr, ip, mac)
    flows = [Flow(tr, ip, mac, 6000 + i, f"s{i}") for i, (ip, mac) in enumerate(hosts)]
    peer = "203.0.113.50"                           # on the uplink: its own next hop
    peer_mac = "02:00:00:02:00:32"
    for phase, (nh, nh_mac, dst) in enumerate(((ROUTER, ROUTER_MAC, SERVER),
                                               (peer, peer_mac, peer))):
        x = flows[0].out(dst=dst, expect=False)
        tr.out("outside", who_has(nh, "outside"))
        # the answer arrives on worker (input index) % 2: the even one, then the odd one
        if (len(tr.inputs["inside"]) + len(tr.inputs["outside"])) % 2 != phase:
            tr.send("inside", sc.arp_req(hosts[0][1], hosts[0][0], "192.168.1.99"))
        tr.send("outside", sc.arp_reply(nh_mac, nh, GW_OUT_MAC, GW_OUT), dt=200)
        tr.out("outside", sc.forwarded(x, GW_OUT_MAC, nh_mac, src=GW_OUT, sport=flows[0].ext))
        for f in flows[1:]:
            x = f.out(dst=dst, expect=False)
            tr.out("outside", sc.forwarded(x, GW_OUT_MAC, nh_mac, src=GW_OUT, sport=f.ext))

    def owners(t, r, ck):
        if t.workers > 1:
            ck.ok(all(n > 0 for n in replay_stats(r)["conns"]),
                  "every worker owns some of the flows (else the check proves nothing)",
                  "conns created > 0 on each worker", replay_stats(r)["conns"])
    tr.check(owners)


def sc_arp_evict(tr):
    """[arp] entries = 16 per port. A full inside port gives up its least recently used
    entry for a new one (A0: the others carried packets since), an unresolved one drops
    what it held (ARP_EVICTED), and the outside port's router entry survives any churn of
    the inside one (no request for the router, ever)."""
    tr.only_ip = False
    tr.send("outside", sc.arp_req(ROUTER_MAC, ROUTER, GW_OUT))
    tr.out("outside", sc.arp_reply(GW_OUT_MAC, GW_OUT, ROUTER_MAC, ROUTER))
    a = [(hip(i), hmac(i)) for i in range(16)]
    for ip, mac in a:
        ask_us(tr, ip, mac)
    fa = [Flow(tr, ip, mac, 31000 + i, f"a{i}") for i, (ip, mac) in enumerate(a)]
    for f in fa:
        f.out()
    tr.t += 200000
    for f in fa[1:]:                                # A1..A15 used; A0 the least recently
        _y, exp = f.back()
        tr.out("inside", exp)
    tr.t += 200000
    b_ip, b_mac = hip(100), hmac(100)
    ask_us(tr, b_ip, b_mac)                         # the 17th: A0 goes
    fb = Flow(tr, b_ip, b_mac, 32000, "b")
    fb.out()
    _y, exp = fb.back()
    tr.out("inside", exp)
    _y, exp = fa[0].back()
    tr.out("inside", who_has(fa[0].ip))             # A0 was evicted: asked again
    tr.send("inside", answer(fa[0].mac, fa[0].ip), dt=200)
    tr.out("inside", exp)
    _y, exp = fa[5].back(n=1)                       # A5 still known
    tr.out("inside", exp)
    # an unresolved next hop is evicted like any other: its held packet is dropped
    c_ip, c_mac = hip(200), hmac(200)
    fc = Flow(tr, c_ip, c_mac, 33000, "c")
    fc.out()
    _y, held = fc.back()
    tr.out("inside", who_has(c_ip))
    for i in range(16):                             # 16 newer entries push C out
        ask_us(tr, hip(300 + i), hmac(300 + i))
    tr.drop(held)
    # a flood of requests from 40 spoofed inside senders: the outside is not touched
    for i in range(40):
        ask_us(tr, hip(i, net=50), hmac(5000 + i))
    fa[3].out()

    def checks(t, r, ck):
        ck.eq("the held packet of the evicted unresolved entry dropped as ARP_EVICTED",
              ["ARP_EVICTED"], r.drop_reason_ids())
        ck.eq("no ARP request for the router (outside entries are bound to their port)", [],
              [sc.summary(b) for _t, b in r.arp("outside") if Ether(b)[ARP].op == 1])
        if t.workers == 1:
            # B, A0 again, 16 newer, 40 spoofed (C's was in the slot count too)
            ck.eq("arp evicted", 1 + 1 + 1 + 16 + 40, replay_stats(r).get("evicted"))
    tr.check(checks)
    tr.check(no_inside_leak)


def sc_arp_aging(tr):
    """[arp] timeout = 5: an entry that carried nothing for 5 s is reclaimed by the timer
    (counted arp aged); the next packet to that host waits for a fresh answer. An entry in
    use is kept (re-probed, not reclaimed)."""
    tr.only_ip = False
    tr.send("outside", sc.arp_req(ROUTER_MAC, ROUTER, GW_OUT))
    tr.out("outside", sc.arp_reply(GW_OUT_MAC, GW_OUT, ROUTER_MAC, ROUTER))
    ask_us(tr, H1, H1_MAC)
    ask_us(tr, H2, H2_MAC)
    f1, f2 = Flow(tr, H1, H1_MAC, 7001, "h1"), Flow(tr, H2, H2_MAC, 7002, "h2")
    f1.out()
    f2.out()
    for _ in range(6):                  # H2 gets a packet every second, H1 nothing
        _y, exp = f2.back(dt=1000000)
        tr.out("inside", exp)
    _y, exp = f1.back()
    tr.out("inside", who_has(H1))
    tr.send("inside", answer(H1_MAC, H1), dt=200)
    tr.out("inside", exp)

    def checks(t, r, ck):
        if t.workers == 1:
            ck.eq("arp aged (H1's and the router's unused entries reclaimed)", 2,
                  replay_stats(r).get("aged"))
        # H2's entry expired (reachable 5 s) while in use: re-probed, still used
        ck.ok(any(Ether(b)[ARP].op == 1 and Ether(b)[ARP].pdst == H2 for _t, b in
                  r.arp("inside")), "H2's entry re-probed while in use", "a request for H2",
              "none")
    tr.own_check.add("inside")          # re-probe requests interleave: checked below

    def inside_ip(t, r, ck):
        exp = [(t_, b) for t_, b in t.expect["inside"] if b[12:14] == b"\x08\x00"]
        got = r.ip("inside")
        ck.eq("inside IPv4 outputs (time, frame)", [(t_, sc.summary(b)) for t_, b in exp],
              [(t_, sc.summary(b)) for t_, b in got])
        ck.ok(exp == got, "inside IPv4 outputs identical bytes", "identical", "differ")
        req_h1 = [t_ for t_, b in r.arp("inside") if Ether(b)[ARP].op == 1 and
                  Ether(b)[ARP].pdst == H1]
        ck.eq("one request for H1, when its reclaimed entry is needed", 1, len(req_h1))
    tr.check(checks)
    tr.check(inside_ip)


def sc_arp_hold(tr):
    """Hold queues are bounded per next hop ([arp] hold = 4: ARP_HOLD_FULL) and in total
    ([arp] hold_total, default 256 per worker: ARP_HOLD_TOTAL). 300 inside hosts unknown to
    natgw get a reply from outside each: 256 packets wait, the rest are dropped; an answer
    frees its slots for the next; every host then answers and gets what was held; three
    hosts that never answer lose theirs after 3 tries (ARP_UNRESOLVED)."""
    tr.only_ip = True
    tr.send("outside", sc.arp_req(ROUTER_MAC, ROUTER, GW_OUT))
    n = 300
    hosts = [(hip(i, net=20), hmac(0x1000 + i)) for i in range(n)]
    flows = [Flow(tr, ip, mac, 20000 + i, f"h{i}") for i, (ip, mac) in enumerate(hosts)]
    for f in flows:
        f.out(dt=50)
    held = {i: [] for i in range(n)}
    for k in range(6):                          # 6 for host 0: 4 held, 2 ARP_HOLD_FULL
        _y, exp = flows[0].back(dt=50, n=k)
        if k < 4:
            held[0].append(exp)
        else:
            tr.drop(exp)
    total = 4
    for i in range(1, n):
        _y, exp = flows[i].back(dt=50)
        if total < 256:
            held[i].append(exp)
            total += 1
        else:
            tr.drop(exp)                        # ARP_HOLD_TOTAL
    tr.send("inside", answer(hosts[1][1], hosts[1][0]), dt=50)
    for e in held[1]:
        tr.out("inside", e)
    held[1] = []
    _y, exp = flows[260].back(dt=50, n=1)       # the freed slot takes one more
    held[260].append(exp)
    _y, exp = flows[261].back(dt=50, n=1)       # and then it is full again
    tr.drop(exp)
    for i in range(n):
        if i == 1:
            continue
        tr.send("inside", answer(hosts[i][1], hosts[i][0]), dt=50)
        for e in held[i]:
            tr.out("inside", e)
    # everything released: three that never answer keep their packets 3 tries long
    lost = [Flow(tr, hip(i, net=40), hmac(0x2000 + i), 25000 + i, f"l{i}") for i in range(3)]
    for f in lost:
        f.out(dt=50)
    drops = []
    for f in lost:
        _y, exp = f.back(dt=50)
        drops.append(exp)
    for k in range(4):                          # time passes: 2 retries, then give up
        flows[0].out(dt=1000000)
        if k == 2:
            for e in drops:
                tr.drop(e)

    def checks(t, r, ck):
        want = ["ARP_HOLD_FULL"] * 2 + ["ARP_HOLD_TOTAL"] * (n - 253) + \
            ["ARP_HOLD_TOTAL"] + ["ARP_UNRESOLVED"] * 3
        ck.eq("drop reasons: per next hop, total, then unresolved", want,
              r.drop_reason_ids())
        asked = sorted({Ether(b)[ARP].pdst for _t, b in r.arp("inside")
                        if Ether(b)[ARP].op == 1})
        ck.eq("natgw asked for every unknown host", sorted([h for h, _m in hosts] +
                                                           [f.ip for f in lost]), asked)
    tr.check(checks)
    tr.check(no_inside_leak)


def sc_arp_many_hosts(tr):
    """2,000 inside hosts (the cache had 1,024 slots and refused the rest) each ask for
    natgw's address, send a datagram out and get the answer back; host #1500 also talks
    only after all others and is resolved by natgw's own request. No inside host is asked
    for (all known), every reply reaches its host's MAC."""
    tr.only_ip = False
    n = 2000
    tr.send("outside", sc.arp_req(ROUTER_MAC, ROUTER, GW_OUT))
    tr.out("outside", sc.arp_reply(GW_OUT_MAC, GW_OUT, ROUTER_MAC, ROUTER))
    hosts = [(hip(i), hmac(i)) for i in range(n + 1)]
    for i, (ip, mac) in enumerate(hosts):
        if i != 1500:
            ask_us(tr, ip, mac)
    flows = [Flow(tr, ip, mac, 10000 + i, f"m{i}") for i, (ip, mac) in enumerate(hosts)]
    for i, f in enumerate(flows):
        if i != 1500:
            f.out(dt=50)
    for i, f in enumerate(flows):
        if i != 1500:
            _y, exp = f.back(dt=50)
            tr.out("inside", exp)
    f = flows[1500]
    f.out()
    _y, exp = f.back()
    tr.out("inside", who_has(f.ip))
    tr.send("inside", answer(f.mac, f.ip), dt=200)
    tr.out("inside", exp)
    _y, exp = f.back(n=1)
    tr.out("inside", exp)
    tr.check(no_inside_leak)


SCENARIOS = {
    "arp_unsolicited": sc_arp_unsolicited,
    "arp_shared": sc_arp_shared,
    "arp_evict": sc_arp_evict,
    "arp_aging": sc_arp_aging,
    "arp_hold": sc_arp_hold,
    "arp_many_hosts": sc_arp_many_hosts,
}
# [arp] keys of a scenario's natgw-replay.ini
ARP_KEYS = {"arp_evict": {"entries": 16}, "arp_aging": {"timeout": 5}}


if __name__ == "__main__":
    sys.exit(sc.main(sys.argv, __doc__, SCENARIOS, config=arp_config))

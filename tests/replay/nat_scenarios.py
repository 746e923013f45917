#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/nat_scenarios.py - NAT behaviour scenarios for natgw-replay (lib/nat), with
scenarios.py's lab and checks (every output frame byte for byte, checksums recomputed from
scratch, no inside address leaking out, exact drops), each run with 1, 2 and 4 simulated
workers (input packet k received by worker k % N, handoff rings), and then the three runs
compared: the frames leaving each port and the drops must be the same, byte for byte,
whatever the worker count (N workers behave exactly as one).

    /usr/bin/python3 tests/replay/nat_scenarios.py NATGW_REPLAY SCENARIO [--keep DIR]
    /usr/bin/python3 tests/replay/nat_scenarios.py --list

RFC 4787 scenarios:
  nat_eim          six hosts, UDP and TCP: one outside port per inside endpoint whatever the
                   destination (REQ-1; RFC 5382 REQ-1), every free inside port preserved
                   (section 4.2.1; with per-worker port slices only ~1/N were), a taken one
                   searched with its parity kept (section 4.2.2), the same port for 1, 2, 4
                   workers; replies come back.
  nat_apdf / nat_adf / nat_eif
                   the filtering behaviours (section 5): probes from the same remote
                   address on another port and from another address.
  nat_hairpin      hairpinning (REQ-9) under APDF, host pairs across workers: the packet to
                   another host's mapping leaves the sender's worker from the sender's own
                   EIM mapping and is filtered by the target's mapping (refused until the
                   target has sent to the sender's outside endpoint, then both ways pass);
                   through a forward: the sender's EIM port, the answer from the forward.
  nat_hairpin_eif  the same under EIF: delivered at once, both ways, EIM ports.
Per-host limits (RFC 6888 REQ-4/5):
  nat_host_ports   ports 1024-1100, default limits: host 1 opens 200 UDP flows and gets a
                   quarter of the 77 ports (the rest refused, NAT_HOST_PORTS_LIMIT); host 2
                   then still gets all of its 10 flows, and their answers.
  nat_host_ports_30  the same with max_ports_per_host = 30 in [nat].
  nat_host_conns   max_conns_per_host = 8: host 1's unanswered connections past the eighth
                   push out its own oldest; host 2's eight assured ones are kept and its
                   ninth refused (NAT_HOST_CONNS_LIMIT); host 1 unaffected by host 2.
  nat_syn_flood    conntrack capacity 64 per worker: 400 SYNs from spoofed inside sources
                   fill the table with unreplied entries; each new one evicts the oldest
                   (early_drop), and a real host's connection still gets in and is answered.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402
from scapy.all import IP, TCP, UDP, Ether, Raw  # noqa: E402

GW_IN_MAC, GW_OUT, SERVER, SERVER2, PEER = sc.GW_IN_MAC, sc.GW_OUT, sc.SERVER, sc.SERVER2, sc.PEER
WORKERS = (1, 2, 4)

# inside hosts: the lab's two and four more on the same LAN
HOSTS = [(sc.H1, sc.H1_MAC), (sc.H2, sc.H2_MAC)] + \
    [(f"192.168.1.{31 + i}", f"02:00:00:01:00:{31 + i:02x}") for i in range(4)]
MAC = dict(HOSTS)


def pl(p):
    return bytes(p[Raw].load) if Raw in p else b""


def preamble(tr, hosts=HOSTS):
    for h, mac in hosts:
        tr.send("inside", sc.arp_req(mac, h, sc.GW_IN))
    tr.send("outside", sc.arp_req(sc.ROUTER_MAC, sc.ROUTER, GW_OUT))


def host(tr, h, dst, l4, mac=None):
    return Ether(src=mac or MAC[h], dst=GW_IN_MAC) / IP(src=h, dst=dst, ttl=64,
                                                         id=tr.ipid(h)) / l4


def out_udp(tr, h, sport, dst, dport, ext, load):
    """h:sport -> dst:dport must leave from GW_OUT:ext."""
    x = tr.send("inside", host(tr, h, dst, UDP(sport=sport, dport=dport) / load))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=ext))
    return x


def back_udp(tr, src, sport, ext, h, hport, load):
    """src:sport -> GW_OUT:ext must reach h:hport."""
    y = tr.send("outside", sc.remote(tr, src, GW_OUT, UDP(sport=sport, dport=ext) / load))
    tr.out("inside", sc.to_in(y, MAC[h], dst=h, dport=hport))
    return y


# ---------------------------------------------------------------------------------------------
# RFC 4787 scenarios


def sc_eim(tr):
    preamble(tr)
    for i, (h, _m) in enumerate(HOSTS):
        p = 10000 + 2 * i + (i & 1)             # even and odd ports
        out_udp(tr, h, p, SERVER, 9999, p, f"eim {i} a".encode())
        out_udp(tr, h, p, SERVER2, 7777, p, f"eim {i} b".encode())     # REQ-1: same port
        out_udp(tr, h, p, SERVER, 1111, p, f"eim {i} c".encode())
        back_udp(tr, SERVER2, 7777, p, h, p, f"eim {i} back".encode())
        t = 40000 + 2 * i + (i & 1)
        x = tr.send("inside", host(tr, h, SERVER, TCP(sport=t, dport=80, flags="S", seq=100)))
        tr.out("outside", sc.to_out(x, src=GW_OUT, sport=t))
        x = tr.send("inside", host(tr, h, SERVER2, TCP(sport=t, dport=443, flags="S",
                                                        seq=200)))
        tr.out("outside", sc.to_out(x, src=GW_OUT, sport=t))           # RFC 5382 REQ-1
        y = tr.send("outside", sc.remote(tr, SERVER2, GW_OUT, TCP(sport=443, dport=t,
                                                                  flags="SA", seq=900,
                                                                  ack=201)))
        tr.out("inside", sc.to_in(y, MAC[h], dst=h, dport=t))
    # one inside port taken by another host: searched, parity kept, same for every count
    for k, (h, _m) in enumerate(HOSTS[1:4]):
        ext = tr.flow(f"taken-{k}", "outside", lambda p, k=k: pl(p) == f"taken {k}".encode(),
                      lambda p: p[UDP].sport, 20001)
        out_udp(tr, h, 10000, SERVER, 9999, ext, f"taken {k}".encode())
        back_udp(tr, SERVER, 9999, ext, h, 10000, f"taken {k} back".encode())

    def check(t, r, ck):
        got = sc.learn(t, r)
        ports = [got.get(f"taken-{k}") for k in range(3)]
        ck.ok(all(p is not None and p % 2 == 0 and p != 10000 for p in ports) and
              len(set(ports)) == 3, "taken port 10000: three distinct even ports instead "
              "(RFC 4787 4.2.2 parity)", "even, distinct, not 10000", ports)
    tr.check(check)


def filtering_probes(tr, mode):
    """H1:4000 -> SERVER:9999, then probes to its mapping; `mode` is the filtering."""
    preamble(tr)
    out_udp(tr, sc.H1, 4000, SERVER, 9999, 4000, b"open")
    back_udp(tr, SERVER, 9999, 4000, sc.H1, 4000, b"the answer")         # every mode
    y = tr.send("outside", sc.remote(tr, SERVER, GW_OUT, UDP(sport=1234, dport=4000) /
                                     b"same address, other port"))
    if mode in ("adf", "eif"):
        tr.out("inside", sc.to_in(y, MAC[sc.H1], dst=sc.H1, dport=4000))
    else:
        tr.drop(y)
    y = tr.send("outside", sc.remote(tr, PEER, GW_OUT, UDP(sport=9999, dport=4000) /
                                     b"other address"))
    if mode == "eif":
        tr.out("inside", sc.to_in(y, MAC[sc.H1], dst=sc.H1, dport=4000))
    else:
        tr.drop(y)
    # the mapping still works outbound, same port (EIM)
    out_udp(tr, sc.H1, 4000, PEER, 53, 4000, b"still the same port")


def sc_apdf(tr):
    filtering_probes(tr, "apdf")


def sc_adf(tr):
    filtering_probes(tr, "adf")


def sc_eif(tr):
    filtering_probes(tr, "eif")


PAIRS = [(HOSTS[0], HOSTS[1]), (HOSTS[2], HOSTS[3]), (HOSTS[4], HOSTS[5]),
         (HOSTS[1], HOSTS[4])]


def hairpin_pairs(tr, eif):
    for n, ((a, _ma), (b, _mb)) in enumerate(PAIRS):
        ap, bp = 5000 + 10 * n, 6001 + 10 * n
        out_udp(tr, a, ap, SERVER, 3478, ap, f"stun a{n}".encode())     # the mappings
        out_udp(tr, b, bp, SERVER, 3478, bp, f"stun b{n}".encode())
        # A -> B's mapping: from A's own mapping GW_OUT:ap (REQ-9 b, EIM)
        x = tr.send("inside", host(tr, a, GW_OUT, UDP(sport=ap, dport=bp) /
                                   f"a{n} to b".encode()))
        if eif:
            tr.out("inside", sc.to_in(x, MAC[b], src=GW_OUT, sport=ap, dst=b, dport=bp))
        else:
            tr.drop(x)                  # APDF: B never sent to GW_OUT:ap
        # B -> A's mapping: A has sent to GW_OUT:bp, so it passes in every mode
        y = tr.send("inside", host(tr, b, GW_OUT, UDP(sport=bp, dport=ap) /
                                   f"b{n} to a".encode()))
        tr.out("inside", sc.to_in(y, MAC[a], src=GW_OUT, sport=bp, dst=a, dport=ap))
        # and A -> B again: now B has sent to GW_OUT:ap
        x = tr.send("inside", host(tr, a, GW_OUT, UDP(sport=ap, dport=bp) /
                                   f"a{n} to b again".encode()))
        tr.out("inside", sc.to_in(x, MAC[b], src=GW_OUT, sport=ap, dst=b, dport=bp))


def sc_hairpin(tr):
    preamble(tr)
    hairpin_pairs(tr, eif=False)
    # through the forward tcp 203.0.113.2:8080 -> H1:80, from H2's EIM TCP mapping
    h1, h2 = sc.H1, sc.H2
    x = tr.send("inside", host(tr, h2, SERVER, TCP(sport=41000, dport=443, flags="S", seq=1)))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=41000))
    x = tr.send("inside", host(tr, h2, GW_OUT, TCP(sport=41000, dport=8080, flags="S",
                                                    seq=10, options=sc.tcp_opts())))
    tr.out("inside", sc.to_in(x, MAC[h1], src=GW_OUT, sport=41000, dst=h1, dport=80))
    y = tr.send("inside", host(tr, h1, GW_OUT, TCP(sport=80, dport=41000, flags="SA", seq=20,
                                                    ack=11, options=sc.tcp_opts())))
    tr.out("inside", sc.to_in(y, MAC[h2], src=GW_OUT, sport=8080, dst=h2, dport=41000))
    x = tr.send("inside", host(tr, h2, GW_OUT, TCP(sport=41000, dport=8080, flags="PA",
                                                    seq=11, ack=21) / b"GET /"))
    tr.out("inside", sc.to_in(x, MAC[h1], src=GW_OUT, sport=41000, dst=h1, dport=80))
    y = tr.send("inside", host(tr, h1, GW_OUT, TCP(sport=80, dport=41000, flags="PA", seq=21,
                                                    ack=16) / b"200 OK"))
    tr.out("inside", sc.to_in(y, MAC[h2], src=GW_OUT, sport=8080, dst=h2, dport=41000))


def sc_hairpin_eif(tr):
    preamble(tr)
    hairpin_pairs(tr, eif=True)


# ---------------------------------------------------------------------------------------------
# per-host limits


def sc_host_ports(tr, limit=77 // 4):
    """Ports 1024-1100 (77); the default limit is a quarter of them: 19 per host."""
    preamble(tr)
    for i in range(200):
        load = f"h1 flow {i}".encode()
        x = tr.send("inside", host(tr, sc.H1, SERVER, UDP(sport=20000 + i, dport=9999) / load),
                    dt=100)
        if i < limit:
            ext = tr.flow(f"h1-{i}", "outside", lambda p, ld=load: pl(p) == ld,
                          lambda p: p[UDP].sport, 1024)
            tr.out("outside", sc.to_out(x, src=GW_OUT, sport=ext))
        else:
            tr.drop(x)                  # NAT_HOST_PORTS_LIMIT
    for i in range(10):
        load = f"h2 flow {i}".encode()
        ext = tr.flow(f"h2-{i}", "outside", lambda p, ld=load: pl(p) == ld,
                      lambda p: p[UDP].sport, 1024)
        out_udp(tr, sc.H2, 30000 + i, SERVER, 9999, ext, load)
        back_udp(tr, SERVER, 9999, ext, sc.H2, 30000 + i, b"answer " + load)

    def check(t, r, ck):
        got = sc.learn(t, r)
        ports = [got.get(f"h1-{i}") for i in range(limit)] + \
            [got.get(f"h2-{i}") for i in range(10)]
        ck.ok(None not in ports and len(set(ports)) == len(ports) and
              all(1024 <= p <= 1100 for p in ports),
              f"{limit + 10} distinct outside ports in 1024-1100", "distinct, in range", ports)
        ck.eq("refused flows counted as the host's port limit",
              ["NAT_HOST_PORTS_LIMIT"] * (200 - limit), r.drop_reason_ids())
    tr.check(check)


def sc_host_conns(tr):
    """max_conns_per_host = 8: H1's 20 unanswered SYNs all leave, each past the eighth
    pushing out H1's own oldest unassured connection; H2's eight UDP streams (answered,
    then more: ASSURED) are not evictable, so H2's further connections are refused
    (NAT_HOST_CONNS_LIMIT), and H1 is not affected by H2's limit."""
    preamble(tr)
    for i in range(20):
        x = tr.send("inside", host(tr, sc.H1, SERVER, TCP(sport=40000, dport=1000 + i,
                                                           flags="S", seq=i)))
        tr.out("outside", sc.to_out(x, src=GW_OUT, sport=40000))
    for i in range(8):
        out_udp(tr, sc.H2, 7000 + i, SERVER, 53, 7000 + i, f"h2 {i}".encode())
        back_udp(tr, SERVER, 53, 7000 + i, sc.H2, 7000 + i, b"answer")
        out_udp(tr, sc.H2, 7000 + i, SERVER, 53, 7000 + i, b"more")
    for i in range(3):
        x = tr.send("inside", host(tr, sc.H2, SERVER, TCP(sport=41000 + i, dport=80,
                                                           flags="S", seq=i)))
        tr.drop(x)                      # NAT_HOST_CONNS_LIMIT
    out_udp(tr, sc.H1, 7100, SERVER, 53, 7100, b"h1 still")

    def check(t, r, ck):
        ck.eq("refused connections counted as the host's connection limit",
              ["NAT_HOST_CONNS_LIMIT"] * 3, r.drop_reason_ids())
    tr.check(check)


def sc_syn_flood(tr):
    """Conntrack capacity 64 per worker: 400 SYNs from spoofed inside sources."""
    preamble(tr, HOSTS[:1])
    for i in range(400):
        src = f"192.168.1.{64 + i % 180}"
        x = tr.send("inside", host(tr, src, SERVER, TCP(sport=30000 + i, dport=80, flags="S",
                                                         seq=i), mac="02:00:00:66:66:66"),
                    dt=100)
        tr.out("outside", sc.to_out(x, src=GW_OUT, sport=30000 + i))
    x = tr.send("inside", host(tr, sc.H1, SERVER, TCP(sport=45000, dport=443, flags="S",
                                                       seq=7)))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=45000))
    y = tr.send("outside", sc.remote(tr, SERVER, GW_OUT, TCP(sport=443, dport=45000,
                                                             flags="SA", seq=70, ack=8)))
    tr.out("inside", sc.to_in(y, MAC[sc.H1], dst=sc.H1, dport=45000))

    def check(t, r, ck):
        # natgw-replay's counters: the table is full (64 per worker) and made room
        log = open(os.path.join(r.dir, "replay.log")).read()
        m = re.search(r"evicted (\d+) deleted \d+ active (\d+)", log)
        ck.ok(m is not None and int(m.group(1)) > 0 and int(m.group(2)) == 64 * t.workers,
              "conntrack full of unreplied entries, evicting instead of refusing",
              f"evicted > 0, active {64 * t.workers}", m.group(0) if m else "no counters")
    tr.check(check)


# name: (builder, [nat] keys, [conntrack] keys)
SCENARIOS = {
    "nat_eim": (sc_eim, {}, {}),
    "nat_apdf": (sc_apdf, {"filtering": "address-and-port-dependent"}, {}),
    "nat_adf": (sc_adf, {"filtering": "address-dependent"}, {}),
    "nat_eif": (sc_eif, {"filtering": "endpoint-independent"}, {}),
    "nat_hairpin": (sc_hairpin, {}, {}),
    "nat_hairpin_eif": (sc_hairpin_eif, {"filtering": "endpoint-independent"}, {}),
    "nat_host_ports": (sc_host_ports, {"ports": "1024-1100"}, {}),
    "nat_host_ports_30": (lambda tr: sc_host_ports(tr, 30),
                          {"ports": "1024-1100", "max_ports_per_host": "30"}, {}),
    "nat_host_conns": (sc_host_conns, {"max_conns_per_host": "8"}, {}),
    "nat_syn_flood": (sc_syn_flood, {}, {"capacity": "64"}),
}


def ip_outputs(res):
    return {p: res.ip(p) for p in ("inside", "outside")}


def ip_drops(res):
    return [(t, b, res.reasons.get(i, "")) for i, t, b in res.ip_drops()]


class Prefixed:
    """Checks with every message prefixed by the worker count."""

    def __init__(self, ck, prefix):
        self.ck, self.prefix = ck, prefix

    def ok(self, cond, what, expected="", got=""):
        return self.ck.ok(cond, f"{self.prefix}: {what}", expected, got)

    def eq(self, what, expected, got):
        return self.ok(expected == got, what, expected, got)


def run_scenario(replay, d, name, ck, _workers):
    builder, nat, conntrack = SCENARIOS[name]
    cfg = sc.write_config(d, keys={"nat": nat, "conntrack": conntrack})
    base = None
    for w in WORKERS:
        dw = os.path.join(d, f"w{w}")
        os.makedirs(dw)
        tr, res = sc.run_checked(replay, dw, builder, w, Prefixed(ck, f"--workers {w}"), cfg)
        got = (ip_outputs(res), ip_drops(res))
        if base is None:
            base = got
            continue
        for port in ("inside", "outside"):
            a, b = base[0][port], got[0][port]
            ck.eq(f"--workers {w}: as many frames out of the {port} port as with 1 worker",
                  len(a), len(b))
            for i, (x, y) in enumerate(zip(a, b)):
                ck.ok(x == y, f"--workers {w}: {port} frame #{i} identical to 1 worker's",
                      sc.summary(x[1]), sc.summary(y[1]) + "\n    diff:     " +
                      (sc.field_diff(x[1], y[1]) if x[1] != y[1] else "timestamp"))
        ck.eq(f"--workers {w}: the same drops (time, frame, reason) as with 1 worker",
              [(t, sc.summary(b), r) for t, b, r in base[1]],
              [(t, sc.summary(b), r) for t, b, r in got[1]])


if __name__ == "__main__":
    sys.exit(sc.main(sys.argv, __doc__, SCENARIOS, run=run_scenario, names=list(SCENARIOS)))

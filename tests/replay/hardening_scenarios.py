#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/hardening_scenarios.py - replay scenarios for the classification hardening of
issue 9 (app/gw_pipeline.c stage 1, app/gw_icmp.c, [untracked], [inside] routes), built on
the machinery of scenarios.py (same lab, same checks: every output frame byte for byte,
checksums recomputed, no inside address leaking out of the uplink, exact drops), plus the
drop reason of every drop (its identifier in drops.pcap.txt).

    /usr/bin/python3 tests/replay/hardening_scenarios.py NATGW_REPLAY SCENARIO [--keep DIR]
    /usr/bin/python3 tests/replay/hardening_scenarios.py --list

h_frag_checks:   fragments that fail an address/side check (martian or inside source from
                 the uplink, to no address of ours, straight to an inside address, to our
                 inside address from outside, a directed broadcast, inside to inside, a
                 source outside the inside network from the inside) are each dropped at
                 once with that reason, never queued for reassembly; a good fragmented
                 datagram still passes (item 1).
h_icmp_forged:   the forged port unreachable of the issue (outer 6.6.6.6 -> 10.99.99.99,
                 quoting a live UDP flow, to natgw's MAC) never reaches the inside; an
                 inside host forging an error about another host's flow is dropped; the
                 real host's error passes translated (item 4).
h_untracked_old: an old-syntax [untracked] config: the rule no longer opens a hole from the
                 uplink (nor through a quoted ICMP error), and private inside sources it
                 matches go through NAT instead of leaking out untranslated (item 7).
h_untracked_rules: the new syntax: direction out/in/both, host (outside end), inside (inside
                 end), sport, private yes; ICMP errors never match; a time exceeded about an
                 untracked inbound packet never leaves the uplink (item 7).
h_urpf:          from the inside port only sources of the inside network (item 9).
h_inside_routes: [inside] routes: a routed prefix is accepted as source, its replies go to
                 the route's next hop, and it is an inside address on the uplink (item 9).
h_own_replies:   what natgw makes itself: no echo reply or time exceeded out of the uplink
                 for a spoofed inside source, for our inside address, for a TTL-1 packet
                 straight to an inside address or to our address without a mapping, nor to
                 a martian source; a reassembled 3000-byte echo request is answered with
                 fragments that fit the MTU (item 11).
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402  (the replay engineer's machinery, reused as is)
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw, fragment  # noqa: E402

H1, H1_MAC, H2, H2_MAC = sc.H1, sc.H1_MAC, sc.H2, sc.H2_MAC
GW_IN, GW_OUT, GW_IN_MAC, GW_OUT_MAC = sc.GW_IN, sc.GW_OUT, sc.GW_IN_MAC, sc.GW_OUT_MAC
SERVER, PEER, ROUTER_MAC = sc.SERVER, sc.PEER, sc.ROUTER_MAC
R_IN, R_IN_MAC = "192.168.1.254", "02:00:00:01:00:fe"   # a router on the inside LAN

# ---------------------------------------------------------------------------------------------
# a scenario's own config (natgw-replay.ini plus keys), written into the run directory


def config(tr, d, inside="", extra=""):
    """natgw-replay.ini with `inside` lines added to [inside] and `extra` sections appended;
    natgw-replay takes the last --config."""
    text = open(sc.CONFIG).read()
    if inside:
        text = text.replace("[inside]\n", "[inside]\n" + inside.strip() + "\n", 1)
    path = os.path.join(d, "hardening.ini")
    with open(path, "w") as f:
        f.write(text + "\n" + extra.strip() + "\n")
    tr.replay_args += ["--config", path]


def drop(tr, frame, reason):
    """Expect frame dropped with the reason identifier `reason` (gw.h GW_FOREACH_DROP, a
    prefix such as "CT_" / "NAT_", or a tuple of those: any of them)."""
    tr.drop(frame)
    tr.__dict__.setdefault("reasons", []).append(reason)


def check_reasons(tr, res, ck):
    got = [(i, b) for i, (_t, b) in enumerate(res.drops) if b[12:14] == b"\x08\x00"]
    for k, want in enumerate(getattr(tr, "reasons", [])):
        if k >= len(got):
            break               # the common check already reports the missing drop
        rid = res.reasons.get(got[k][0], "").split(" ")[0]
        alts = want if isinstance(want, tuple) else (want,)
        ck.ok(any(rid == w or (w.endswith("_") and rid.startswith(w)) for w in alts),
              f"drop #{k} reason ({sc.summary(got[k][1])})", " or ".join(alts), rid)


def leak(tr, port, frame):
    """Expect frame to leave `port` though it carries an inside address out of the uplink
    (an untracked rule with `private yes` asked for exactly that): checked here, in order,
    and kept out of the common no-leak check."""
    tr.__dict__.setdefault("leaks", []).append((port, tr.t, bytes(frame)))


def take_leaks(tr, res, ck):
    want = getattr(tr, "leaks", [])
    for port, t, b in want:
        ck.ok((t, b) in res.out[port], f"{port}: untracked private-source frame sent as asked",
              sc.summary(b), "missing")
    res.out["outside"] = [x for x in res.out["outside"] if ("outside",) + x not in want]


def no_output(port):
    def fn(tr, res, ck):
        ck.eq(f"nothing IPv4 leaves the {port} port", [],
              [sc.summary(b) for _t, b in res.ip(port)])
    return fn


def inside_router_arp(tr):
    tr.send("inside", sc.arp_req(R_IN_MAC, R_IN, GW_IN))


def frags(pkt, size=16):
    """The fragments of pkt (scapy, with Ether) as frames with pkt's Ether header."""
    eth = Ether(src=pkt[Ether].src, dst=pkt[Ether].dst)
    return [eth / f for f in fragment(sc.concrete(pkt)[IP], fragsize=size)]


# ---------------------------------------------------------------------------------------------
# scenarios


def h_frag_checks(tr, d):
    """Item 1: the header checks run before reassembly. Each train is incomplete (the first
    two of three fragments): queued, it would sit in the table until its timeout; checked
    first, each fragment is dropped at once with the reason of the check."""
    sc.preamble(tr)
    pl = b"x" * 40
    cases = [
        ("outside", sc.remote(tr, "192.168.1.50", GW_OUT, UDP(sport=1, dport=2) / pl),
         "WRONG_SIDE"),
        ("outside", sc.remote(tr, GW_OUT, GW_OUT, UDP(sport=1, dport=2) / pl), "WRONG_SIDE"),
        ("outside", sc.remote(tr, "0.0.0.16", GW_OUT, UDP(sport=1, dport=2) / pl),
         "MARTIAN_SRC"),
        ("outside", sc.remote(tr, PEER, "10.99.99.99", UDP(sport=1, dport=2) / pl),
         "NOT_OURS"),
        ("outside", sc.remote(tr, PEER, H1, UDP(sport=1, dport=2) / pl), "TO_INSIDE_DIRECT"),
        ("outside", sc.remote(tr, PEER, GW_IN, ICMP(type=8, id=1) / pl), "TO_ME_WRONG_SIDE"),
        ("outside", sc.remote(tr, PEER, "203.0.113.255", UDP(sport=1, dport=2) / pl),
         "NO_ROUTE"),
        ("inside", sc.host(tr, H1, H2, UDP(sport=1, dport=2) / pl), "NO_ROUTE"),
        ("inside", Ether(src=H1_MAC, dst=GW_IN_MAC) /
         IP(src="10.5.5.5", dst=SERVER, id=77) / UDP(sport=1, dport=2) / pl, "SRC_NOT_INSIDE"),
    ]
    for port, pkt, reason in cases:
        for f in frags(pkt)[:2]:
            drop(tr, tr.send(port, f), reason)
    # a good datagram, fragmented, still reassembled and translated
    e = tr.flow("h1", "outside", lambda p: p[UDP].dport == 9999, lambda p: p[UDP].sport, 4600)
    big = sc.host(tr, H1, SERVER, UDP(sport=4600, dport=9999) / (b"ok" * 40))
    for f in frags(big, 64):
        tr.send("inside", f)
    tr.out("outside", sc.to_out(big, src=GW_OUT, sport=e))
    tr.check(no_output("inside"))


def udp_flow(tr, sport=4200):
    """H1:sport -> SERVER:53 and its reply: (outbound frame as sent, as translated)."""
    e = tr.flow("dns", "outside", lambda p: p[UDP].dport == 53 and p[IP].src == GW_OUT,
                lambda p: p[UDP].sport, sport)
    x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=sport, dport=53) / b"query"))
    o = sc.to_out(x, src=GW_OUT, sport=e)
    tr.out("outside", o)
    y = tr.send("outside", sc.remote(tr, SERVER, GW_OUT, UDP(sport=53, dport=e) / b"answer"))
    r = sc.to_in(y, H1_MAC, dst=H1, dport=sport)
    tr.out("inside", r)
    return x, o, y, r, e


def h_icmp_forged(tr, d):
    """Item 4: forged ICMP errors about a live UDP flow."""
    sc.preamble(tr)
    x, o, y, r, e = udp_flow(tr)
    # the forgery: outer 6.6.6.6 -> 10.99.99.99, to natgw's MAC, quoting the flow
    drop(tr, tr.send("outside", Ether(src=ROUTER_MAC, dst=GW_OUT_MAC) /
                     IP(src="6.6.6.6", dst="10.99.99.99", ttl=60, id=0x666) /
                     ICMP(type=3, code=3) / Raw(sc.quote(o, ttl=60))),
         # the address check (app), or the parser's outer-dst == quoted-src (lib/conntrack)
         ("NOT_OURS", "CT_ICMP_ERROR_BAD_DST"))
    # H2 forges a port unreachable about H1's flow (quoting what H1 received)
    drop(tr, tr.send("inside", sc.host(tr, H2, SERVER, ICMP(type=3, code=3) / Raw(sc.quote(r)))),
         "ICMP_ERROR_FORGED")
    # the same from H1 itself is genuine: translated out (RFC 5508 REQ-3)
    g = tr.send("inside", sc.host(tr, H1, SERVER, ICMP(type=3, code=3) / Raw(sc.quote(r))))
    tr.out("outside", sc.icmp_error_translated(g, GW_OUT_MAC, ROUTER_MAC, new_outer_src=GW_OUT,
                                               embedded=sc.quote(y, ttl=y[IP].ttl - 1)))
    # and the flow still works
    y2 = tr.send("outside", sc.remote(tr, SERVER, GW_OUT, UDP(sport=53, dport=e) / b"again"))
    tr.out("inside", sc.to_in(y2, H1_MAC, dst=H1, dport=4200))


OLD_UNTRACKED = """
[untracked]
dns = udp dport 53
ntp = udp dport 123 host 192.168.1.0/24
"""


def h_untracked_old(tr, d):
    """Item 7, a config written for the old two-way rules."""
    config(tr, d, extra=OLD_UNTRACKED)
    sc.preamble(tr)
    # from the uplink straight to an inside host's port 53: no hole any more
    drop(tr, tr.send("outside", sc.remote(tr, PEER, H1, UDP(sport=5000, dport=53) / b"in")),
         "TO_INSIDE_DIRECT")
    # an ICMP error whose quoted tuple matches the rule: not through the rule either
    q = IP(src=H1, dst=PEER, ttl=60, id=5) / UDP(sport=53, dport=7777) / b"q"
    drop(tr, tr.send("outside", sc.remote(tr, PEER, H1, ICMP(type=3, code=3) / Raw(bytes(q)))),
         "TO_INSIDE_DIRECT")
    # a private inside source matching the rule goes through NAT (tracked, translated)
    x, o, y, r, e = udp_flow(tr, sport=5300)
    n = tr.flow("ntp", "outside", lambda p: p[UDP].dport == 123, lambda p: p[UDP].sport, 123)
    x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=123, dport=123) / b"ntp"))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=n))


NEW_UNTRACKED = """
[untracked]
pub  = udp dport 53 inside 198.18.0.0/24 direction both
priv = udp dport 5353 host 198.51.100.5 direction both private yes
ssh  = tcp dport 22 inside 192.168.1.20 direction in
"""
PUB = "198.18.0.5"      # a public host behind the inside router R_IN


def h_untracked_rules(tr, d):
    """Item 7, the new syntax."""
    config(tr, d, inside="routes = 198.18.0.0/24 via " + R_IN, extra=NEW_UNTRACKED)
    sc.preamble(tr)
    inside_router_arp(tr)
    eth = Ether(src=R_IN_MAC, dst=GW_IN_MAC)
    # out as written: untranslated (a public source), TTL - 1
    x = tr.send("inside", eth / IP(src=PUB, dst=SERVER, id=1) / UDP(sport=4000, dport=53) / b"q")
    tr.out("outside", sc.to_out(x))
    # its reply, mirrored (`both`), to the route's next hop
    y = tr.send("outside", sc.remote(tr, SERVER, PUB, UDP(sport=53, dport=4000) / b"a"))
    tr.out("inside", sc.to_in(y, R_IN_MAC))
    # from the uplink to the same host's port 53: not the mirror, no rule
    drop(tr, tr.send("outside", sc.remote(tr, PEER, PUB, UDP(sport=4000, dport=53) / b"in")),
         "TO_INSIDE_DIRECT")
    # an ICMP error whose quoted tuple is the mirror: errors never match
    qd = IP(src=PUB, dst=SERVER, ttl=60, id=1) / UDP(sport=4000, dport=53) / b"q"
    drop(tr, tr.send("outside", sc.remote(tr, SERVER, PUB, ICMP(type=3, code=3) /
                                          Raw(bytes(qd)))), "TO_INSIDE_DIRECT")
    # TTL 1 on a matching inbound packet: dropped, and no time exceeded quoting the inside
    # address leaves the uplink
    drop(tr, tr.send("outside", sc.remote(tr, SERVER, PUB, UDP(sport=53, dport=4000) / b"t",
                                          ttl=1)), "TTL_EXCEEDED")
    # a private inside source on the `pub` rule's port: not matched, NAT
    e = tr.flow("h1-53", "outside", lambda p: p[UDP].dport == 53 and p[IP].src == GW_OUT,
                lambda p: p[UDP].sport, 5000)
    x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=5000, dport=53) / b"nat me"))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=e))
    # `private yes`: H1 to SERVER:5353 leaves untranslated, as the rule asks; the reply too
    x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=5353, dport=5353) / b"mdns"))
    leak(tr, "outside", sc.to_out(x))
    y = tr.send("outside", sc.remote(tr, SERVER, H1, UDP(sport=5353, dport=5353) / b"back"))
    tr.out("inside", sc.to_in(y, H1_MAC))
    # ... but not to another host (host is the outside end): NAT
    f = tr.flow("h1-5353", "outside", lambda p: p[UDP].dport == 5353 and p[IP].src == GW_OUT,
                lambda p: p[UDP].sport, 5353)
    x = tr.send("inside", sc.host(tr, H1, PEER, UDP(sport=5353, dport=5353) / b"other"))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=f))
    # `direction in`: PEER -> H2:22 comes in untracked, but only that way
    s = tr.send("outside", sc.remote(tr, PEER, H2, TCP(sport=40000, dport=22, flags="S", seq=1)))
    tr.out("inside", sc.to_in(s, H2_MAC))
    drop(tr, tr.send("outside", sc.remote(tr, PEER, H1, TCP(sport=40000, dport=22, flags="S",
                                                            seq=1))), "TO_INSIDE_DIRECT")


def h_urpf(tr, d):
    """Item 9: from the inside port, only sources of the inside network."""
    sc.preamble(tr)
    for src in ("10.5.5.5", "203.0.113.77", "198.51.100.9"):
        drop(tr, tr.send("inside", Ether(src=H1_MAC, dst=GW_IN_MAC) /
                         IP(src=src, dst=SERVER, id=9) / UDP(sport=4000, dport=9999) / b"s"),
             "SRC_NOT_INSIDE")
    drop(tr, tr.send("inside", Ether(src=H1_MAC, dst=GW_IN_MAC) /
                     IP(src="0.0.0.16", dst=SERVER, id=10) / UDP(sport=1, dport=2) / b"m"),
         "MARTIAN_SRC")
    # spoofed SYN flood sources would each take a connection: none is created
    drop(tr, tr.send("inside", Ether(src=H1_MAC, dst=GW_IN_MAC) /
                     IP(src="172.16.0.1", dst=SERVER, id=11) /
                     TCP(sport=1000, dport=80, flags="S")), "SRC_NOT_INSIDE")
    e = tr.flow("h1", "outside", lambda p: p[UDP].dport == 9999, lambda p: p[UDP].sport, 4001)
    x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=4001, dport=9999) / b"fine"))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=e))


def h_inside_routes(tr, d):
    """Item 9: [inside] routes."""
    config(tr, d, inside="routes = 10.1.0.0/16 via " + R_IN + ", 10.2.0.0/24 via " + R_IN)
    sc.preamble(tr)
    inside_router_arp(tr)
    eth = Ether(src=R_IN_MAC, dst=GW_IN_MAC)
    e = tr.flow("r", "outside", lambda p: p[UDP].dport == 9999, lambda p: p[UDP].sport, 4002)
    x = tr.send("inside", eth / IP(src="10.1.2.3", dst=SERVER, id=1) /
                UDP(sport=4002, dport=9999) / b"routed")
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=e))
    y = tr.send("outside", sc.remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=e) / b"back"))
    tr.out("inside", sc.to_in(y, R_IN_MAC, dst="10.1.2.3", dport=4002))
    drop(tr, tr.send("inside", eth / IP(src="10.3.0.1", dst=SERVER, id=2) /
                     UDP(sport=4003, dport=9999) / b"not routed"), "SRC_NOT_INSIDE")
    # a routed prefix is inside: from the uplink it is the wrong side as a source, and
    # straight to it is no NAT traffic
    drop(tr, tr.send("outside", sc.remote(tr, "10.1.2.3", GW_OUT, UDP(sport=1, dport=e) / b"w")),
         "WRONG_SIDE")
    drop(tr, tr.send("outside", sc.remote(tr, PEER, "10.2.0.7", UDP(sport=1, dport=2) / b"d")),
         "TO_INSIDE_DIRECT")


def h_own_replies(tr, d):
    """Item 11: echo replies and ICMP errors natgw makes itself."""
    sc.preamble(tr)
    tr.own_check = {"inside", "outside"}
    # echo to our inside address from the uplink, spoofed inside source or not
    drop(tr, tr.send("outside", sc.remote(tr, H1, GW_IN, ICMP(type=8, id=1, seq=1) / b"spoof")),
         "WRONG_SIDE")
    drop(tr, tr.send("outside", sc.remote(tr, PEER, GW_IN, ICMP(type=8, id=2, seq=1) / b"peer")),
         "TO_ME_WRONG_SIDE")
    # TTL 1 straight to an inside address: no time exceeded out of the uplink
    drop(tr, tr.send("outside", sc.remote(tr, PEER, H1, UDP(sport=1, dport=2) / b"ttl",
                                          ttl=1)), "TO_INSIDE_DIRECT")
    drop(tr, tr.send("outside", sc.remote(tr, "0.0.0.16", H1, UDP(sport=1, dport=2) / b"m",
                                          ttl=1)), "MARTIAN_SRC")
    drop(tr, tr.send("outside", sc.remote(tr, "127.0.0.1", GW_OUT, ICMP(type=8, id=3) / b"lo")),
         "MARTIAN_SRC")
    # TTL 1 to our outside address, no mapping: ours, not expired in transit
    drop(tr, tr.send("outside", sc.remote(tr, PEER, GW_OUT, UDP(sport=1, dport=6000) / b"t1",
                                          ttl=1)), "NAT_")
    # a good echo on each side is still answered
    q_out = tr.send("outside", sc.remote(tr, PEER, GW_OUT, ICMP(type=8, id=4, seq=1) / b"ok"))
    t_out = tr.t
    # a 3000-byte echo request to our inside address, fragmented: the reply is fragmented to
    # the 1500 MTU (RFC 1122 3.2.2.6 echoes the data; RFC 791 fragments it)
    big = sc.host(tr, H1, GW_IN, ICMP(type=8, id=5, seq=1) / (b"0123456789" * 300))
    for f in frags(big, 1400):
        tr.send("inside", f)
    t_big = tr.t

    def check(t, res, ck):
        out = res.ip("outside")
        if ck.eq("outside: one frame (the echo reply to PEER)", 1, len(out)):
            tg, b = out[0]
            p = Ether(b)
            ck.eq("outside echo reply", (t_out, GW_OUT_MAC, ROUTER_MAC, GW_OUT, PEER, 0, 4),
                  (tg, p.src, p.dst, p[IP].src, p[IP].dst, p[ICMP].type, p[ICMP].id))
            ck.eq("outside echo reply data", bytes(q_out[ICMP].payload), bytes(p[ICMP].payload))
        ins = res.ip("inside")
        ck.ok(len(ins) >= 2, "inside: the big echo reply leaves as fragments", ">= 2 frames",
              len(ins))
        for i, (tg, b) in enumerate(ins):
            p = Ether(b)
            ck.eq(f"inside frame #{i}", (t_big, GW_IN_MAC, H1_MAC, GW_IN, H1, 1),
                  (tg, p.src, p.dst, p[IP].src, p[IP].dst, p[IP].proto))
        dgs = sc.reassemble([b for _t, b in ins])
        ck.eq("inside: one datagram", 1, len(dgs))
        for v in dgs.values():
            if not ck.ok(v is not None, "inside: echo reply fragments complete", "all", "missing"):
                continue
            hdr, data = v
            want = bytes(sc.concrete(ICMP(type=0, id=5, seq=1) / (b"0123456789" * 300)))
            ck.ok(data == want, "inside: reassembled echo reply (type 0, id, seq, data, "
                  "checksum)", len(want), len(data))
    tr.check(check)


SCENARIOS = {
    "h_frag_checks": h_frag_checks,
    "h_icmp_forged": h_icmp_forged,
    "h_untracked_old": h_untracked_old,
    "h_untracked_rules": h_untracked_rules,
    "h_urpf": h_urpf,
    "h_inside_routes": h_inside_routes,
    "h_own_replies": h_own_replies,
}


def run_one(replay, d, name, ck, workers=1):
    if name.endswith("_workers2"):
        name, workers = name[:-len("_workers2")], 2
    fn = SCENARIOS[name]
    tr, res = sc.build_and_run(replay, d, lambda t: fn(t, d), workers)
    sc.arp_normalise(res)
    take_leaks(tr, res, ck)
    sc.verify(tr, res, ck)
    check_reasons(tr, res, ck)


def main(argv):
    if "--list" in argv:
        print("\n".join(SCENARIOS))
        return 0
    args = [a for a in argv[1:] if not a.startswith("-")]
    keep = None
    if "--keep" in argv:
        keep = argv[argv.index("--keep") + 1]
        args.remove(keep)
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    replay, name = args
    if name.replace("_workers2", "") not in SCENARIOS:
        print(f"unknown scenario {name}; --list", file=sys.stderr)
        return 2
    replay = os.path.abspath(replay)
    d = keep or tempfile.mkdtemp(prefix=f"natgw-replay-{name}-")
    if keep:
        shutil.rmtree(keep, ignore_errors=True)
        os.makedirs(keep)
    ck = sc.Checks()
    try:
        run_one(replay, d, name, ck)
    except Exception as e:  # noqa: BLE001 - report and fail, keep the files
        ck.ok(False, f"scenario {name} ran", "no error", f"{type(e).__name__}: {e}")
    for f in ck.failures:
        print(f)
    print(f"scenario {name}: {ck.passed} checks passed, {len(ck.failures)} failed"
          + (f" (files in {d})" if ck.failures or keep else ""))
    if not ck.failures and not keep:
        shutil.rmtree(d, ignore_errors=True)
    return 1 if ck.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

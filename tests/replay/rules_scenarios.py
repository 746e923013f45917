#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/rules_scenarios.py - the ruleset ([filter] rules, lib/ruleset, app/gw_rules.c)
through the real pipeline: each match and action of the nftables subset on real packets,
the frames natgw makes for `reject` (TCP RST, ICMP unreachable) checked field by field, the
`log` lines natgw prints, the counters of the listing (natgw-replay prints the ruleset with
its counters at the end, as `nft list ruleset`), `limit`, `notrack`, the input chain, and
the shipped config/rules-default.nft giving byte-identical results to no ruleset.

    /usr/bin/python3 tests/replay/rules_scenarios.py NATGW_REPLAY SCENARIO [--keep DIR]
    /usr/bin/python3 tests/replay/rules_scenarios.py --list
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

H1, H1_MAC, H2, H2_MAC = sc.H1, sc.H1_MAC, sc.H2, sc.H2_MAC
GW_IN, GW_OUT, GW_IN_MAC, GW_OUT_MAC = sc.GW_IN, sc.GW_OUT, sc.GW_IN_MAC, sc.GW_OUT_MAC
SERVER, SERVER2, PEER, ROUTER_MAC = sc.SERVER, sc.SERVER2, sc.PEER, sc.ROUTER_MAC
R_IN, R_IN_MAC = "192.168.1.254", "02:00:00:01:00:fe"   # a router on the inside LAN
PUB = "198.18.0.5"                                      # a public host behind it
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES_DEFAULT = os.path.join(ROOT, "config", "rules-default.nft")

FWD_SSH = ["ssh1 = tcp 203.0.113.2:2222 -> 192.168.1.10:22",
           "ssh2 = tcp 203.0.113.2:2223 -> 192.168.1.20:22"]


def ruleset(forward, policy="drop", input_rules="", input_policy="accept"):
    return ("table inet natgw {\n"
            f" chain input {{\n  type filter hook input priority 0; policy {input_policy};\n"
            f"{input_rules}\n }}\n"
            f" chain forward {{\n  type filter hook forward priority 0; policy {policy};\n"
            f"{forward}\n }}\n}}\n")


def with_rules(tr, text, forwards=None, inside=""):
    """natgw-replay.ini plus [filter] rules = a file holding `text` (and `forwards` lines
    in [forward], `inside` in [inside])."""
    path = os.path.join(tr.dir, "rules.nft")
    with open(path, "w") as f:
        f.write(text)
    lines = {}
    if inside:
        lines["inside"] = [inside]
    if forwards:
        lines["forward"] = forwards
    tr.config = sc.write_config(tr.dir, lines=lines, extra="[filter]\nrules = rules.nft\n")


def replay_log(res):
    with open(os.path.join(res.dir, "replay.log")) as f:
        return f.read()


def counter_of(res, rule_start):
    """(packets, bytes) of the listed rule beginning with rule_start."""
    for line in replay_log(res).splitlines():
        s = line.strip()
        if s.startswith(rule_start):
            m = re.search(r"counter packets (\d+) bytes (\d+)", s)
            if m:
                return int(m.group(1)), int(m.group(2))
    return None


def rst_for(x, ttl_out=64):
    """The RST natgw must answer TCP segment frame x with (RFC 9293 3.10.7.1): from x's
    destination to its source, seq = SEG.ACK with ACK, else seq 0 and ack = SEG.SEQ +
    SEG.LEN (+1 for SYN/FIN), TTL 64, DF, window 0."""
    ip, t = x[IP], x[TCP]
    if t.flags & 0x10:
        seq, ack, flags = t.ack, 0, "R"
    else:
        ln = len(bytes(t.payload)) + (1 if t.flags & 0x02 else 0) + (1 if t.flags & 0x01 else 0)
        seq, ack, flags = 0, (t.seq + ln) & 0xffffffff, "RA"
    return IP(src=ip.dst, dst=ip.src, ttl=ttl_out, flags="DF", id=0) / \
        TCP(sport=t.dport, dport=t.sport, seq=seq, ack=ack, flags=flags, window=0)


def check_rst(tr, port, index, x, what):
    def fn(t, res, ck):
        frames = res.ip(port)
        if not ck.ok(len(frames) > index, f"{what}: a frame at {port} #{index}", "a RST",
                     "nothing"):
            return
        got = Ether(frames[index][1])
        want = rst_for(x)
        ck.eq(f"{what}: L2 to the sender", (x.dst, x.src), (got.src, got.dst))
        ck.eq(f"{what}: IP/TCP header", bytes(sc.concrete(Ether() / want)[IP]),
              bytes(got[IP]))
    tr.check(fn)


def check_icmp_unreach(tr, port, index, x, code, src, what):
    def fn(t, res, ck):
        frames = res.ip(port)
        if not ck.ok(len(frames) > index, f"{what}: a frame at {port} #{index}",
                     "an ICMP error", "nothing"):
            return
        got = Ether(frames[index][1])
        ck.eq(f"{what}: ICMP type/code", (3, code), (got[ICMP].type, got[ICMP].code))
        ck.eq(f"{what}: from/to", (src, x[IP].src), (got[IP].src, got[IP].dst))
        q = bytes(got[ICMP].payload)
        ck.eq(f"{what}: quotes the datagram as it arrived", sc.quote(x)[:28], q[:28])
    tr.check(fn)


# ---------------------------------------------------------------------------------------------


def rules_forward(tr):
    """forward chain, policy drop: an inbound SSH port forward only to H1 and only NEW via
    ct status dnat + the DNATed address and port; outbound by saddr, dport sets/ranges,
    meta l4proto and icmp type; replies by ct state established."""
    with_rules(tr, ruleset(
        "  ct state established,related accept\n"
        "  ct state new ct status dnat ip daddr 192.168.1.10 tcp dport 22 accept\n"
        "  iif inside oif outside ip saddr 192.168.1.10 tcp dport { 80, 443 } accept\n"
        "  iif inside udp dport 5000-5010 accept\n"
        "  iif inside meta l4proto icmp icmp type echo-request accept\n"), forwards=FWD_SSH)
    sc.preamble(tr)
    # inbound SSH through the forward to H1: allowed, reply passes as established
    s = tr.send("outside", sc.remote(tr, PEER, GW_OUT, TCP(sport=40000, dport=2222, flags="S",
                                                          seq=10)))
    tr.out("inside", sc.to_in(s, H1_MAC, dst=H1, dport=22))
    a = tr.send("inside", sc.host(tr, H1, PEER, TCP(sport=22, dport=40000, flags="SA", seq=50,
                                                    ack=11)))
    tr.out("outside", sc.to_out(a, src=GW_OUT, sport=2222))
    # the same to H2 (forward exists, rule names H1 only): dropped by policy
    tr.drop(tr.send("outside", sc.remote(tr, PEER, GW_OUT, TCP(sport=40001, dport=2223,
                                                               flags="S", seq=10))),
            reason="RULE_DROP")
    # outbound: H1 to 80 ok, H2 to 80 dropped, H1 to 8080 dropped
    x = tr.send("inside", sc.host(tr, H1, SERVER, TCP(sport=41000, dport=80, flags="S", seq=1)))
    tr.out("outside", sc.to_out(x, src=GW_OUT))
    tr.drop(tr.send("inside", sc.host(tr, H2, SERVER, TCP(sport=41001, dport=80, flags="S",
                                                          seq=1))), reason="RULE_DROP")
    tr.drop(tr.send("inside", sc.host(tr, H1, SERVER, TCP(sport=41002, dport=8080, flags="S",
                                                          seq=1))), reason="RULE_DROP")
    # UDP range
    x = tr.send("inside", sc.host(tr, H2, SERVER, UDP(sport=6000, dport=5010) / b"in range"))
    tr.out("outside", sc.to_out(x, src=GW_OUT))
    tr.drop(tr.send("inside", sc.host(tr, H2, SERVER, UDP(sport=6001, dport=5011) / b"out")),
            reason="RULE_DROP")
    # ICMP echo request allowed, its reply established; a timestamp request dropped
    q = tr.flow("ping", "outside", lambda p: p.haslayer(ICMP) and p[ICMP].type == 8,
                lambda p: p[ICMP].id, 0x99)
    x = tr.send("inside", sc.host(tr, H1, SERVER, ICMP(type=8, id=0x99, seq=1) / b"ping"))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=q))
    y = tr.send("outside", sc.remote(tr, SERVER, GW_OUT, ICMP(type=0, id=q, seq=1) / b"ping"))
    tr.out("inside", sc.to_in(y, H1_MAC, dst=H1, sport=0x99))
    tr.drop(tr.send("inside", sc.host(tr, H1, SERVER, ICMP(type=13, id=0x9a, seq=1) /
                                      (b"\0" * 12))), reason="RULE_DROP")
    # a dropped first packet leaves no connection: the reply to it is refused by NAT
    tr.drop(tr.send("outside", sc.remote(tr, SERVER, GW_OUT, TCP(sport=80, dport=41001,
                                                                 flags="SA", seq=9, ack=2))))


def rules_reject(tr):
    """reject: `with tcp reset` answers a SYN and an ACK segment with the RFC 9293 RST (to
    the sender, from the address it wrote to), plain `reject` is ICMP port unreachable and
    `icmpx type admin-prohibited` code 13, from natgw's inside address; the rejected
    packets are dropped as RULE_REJECT and nothing reaches the uplink."""
    with_rules(tr, ruleset(
        "  tcp dport 25 reject with tcp reset\n"
        "  udp dport 25 reject\n"
        "  tcp dport 26 reject with icmpx type admin-prohibited\n", policy="accept"))
    sc.preamble(tr)
    tr.own_check.add("inside")
    x1 = tr.send("inside", sc.host(tr, H1, SERVER, TCP(sport=42000, dport=25, flags="S",
                                                       seq=1000)))
    tr.drop(x1, reason="RULE_REJECT")
    x2 = tr.send("inside", sc.host(tr, H1, SERVER, TCP(sport=42001, dport=25, flags="PA",
                                                       seq=7, ack=99) / b"MAIL"))
    tr.drop(x2, reason=("CT_", "RULE_REJECT"))   # invalid (no SYN): forward chain runs too
    x3 = tr.send("inside", sc.host(tr, H2, SERVER, UDP(sport=42002, dport=25) / b"u"))
    tr.drop(x3, reason="RULE_REJECT")
    x4 = tr.send("inside", sc.host(tr, H2, SERVER, TCP(sport=42003, dport=26, flags="S", seq=5)))
    tr.drop(x4, reason="RULE_REJECT")
    # a RST is never answered
    tr.drop(tr.send("inside", sc.host(tr, H1, SERVER, TCP(sport=42004, dport=25, flags="R",
                                                          seq=5))), reason=("CT_", "RULE_REJECT"))
    check_rst(tr, "inside", 0, x1, "RST for the SYN")
    check_rst(tr, "inside", 1, x2, "RST for the ACK segment")
    check_icmp_unreach(tr, "inside", 2, x3, 3, GW_IN, "udp reject")
    check_icmp_unreach(tr, "inside", 3, x4, 13, GW_IN, "admin-prohibited")

    def count(t, res, ck):
        ck.eq("exactly four answers on the inside", 4, len(res.ip("inside")))
        ck.eq("nothing leaves the uplink", [], [sc.summary(b) for _t, b in res.ip("outside")])
    tr.check(count)


def rules_log_counter(tr):
    """log prefix and counter: invalid packets (TCP without a connection, an ICMP error
    about no connection) are logged to natgw's output with the kernel's fields and counted;
    a counter on accepted traffic counts every packet, established ones included."""
    with_rules(tr, ruleset(
        "  ct state invalid log prefix \"INVALID \" counter drop\n"
        "  iif inside udp dport 7000 counter accept\n"
        "  ct state established accept\n"
        "  iif inside accept\n", policy="drop"))
    sc.preamble(tr)
    bad = tr.send("inside", sc.host(tr, H1, SERVER, TCP(sport=43000, dport=443, flags="A",
                                                        seq=1, ack=1)))
    tr.drop(bad, reason="CT_TCP_NEW_NOT_SYN")
    e = tr.flow("u", "outside", lambda p: p.haslayer(UDP) and p[UDP].dport == 7000,
                lambda p: p[UDP].sport, 43001)
    for i in range(3):
        x = tr.send("inside", sc.host(tr, H2, SERVER, UDP(sport=43001, dport=7000) / (b"d" * i)))
        tr.out("outside", sc.to_out(x, src=GW_OUT, sport=e))
    y = tr.send("outside", sc.remote(tr, SERVER, GW_OUT, UDP(sport=7000, dport=e) / b"r"))
    tr.out("inside", sc.to_in(y, H2_MAC, dst=H2, dport=43001))

    def fn(t, res, ck):
        log = replay_log(res)
        lines = [ln for ln in log.splitlines() if ln.startswith("natgw: rules: ")]
        ck.eq("one log line", 1, len(lines))
        if lines:
            ck.eq("log line", "natgw: rules: INVALID IN=inside OUT=outside SRC=192.168.1.10 "
                  "DST=198.51.100.5 LEN=40 PROTO=TCP SPT=43000 DPT=443 STATE=invalid "
                  "VERDICT=drop", lines[0])
        ck.eq("invalid rule counter", (1, 40), counter_of(res, "ct state invalid"))
        ck.eq("udp 7000 counter (3 packets, 28+29+30 bytes)", (3, 87),
              counter_of(res, "iif inside udp dport 7000"))
    tr.check(fn)


def rules_limit(tr):
    """limit rate 2/second (burst 5): the first 5 packets of a burst pass, the rest fall to
    the next rule (drop); after a second 2 more pass."""
    with_rules(tr, ruleset("  iif inside udp dport 9000 limit rate 2/second accept\n"
                           "  iif inside udp dport 9000 counter drop\n"
                           "  ct state established accept\n", policy="drop"))
    sc.preamble(tr)
    e = tr.flow("u", "outside", lambda p: p.haslayer(UDP) and p[UDP].dport == 9000,
                lambda p: p[UDP].sport, 44000)
    for i in range(8):
        x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=44000, dport=9000) / b"b"))
        if i < 5:
            tr.out("outside", sc.to_out(x, src=GW_OUT, sport=e))
        else:
            tr.drop(x, reason="RULE_DROP")
    for i in range(3):
        x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=44000, dport=9000) / b"c"),
                    dt=1000000 if i == 0 else 1000)
        if i < 2:
            tr.out("outside", sc.to_out(x, src=GW_OUT, sport=e))
        else:
            tr.drop(x, reason="RULE_DROP")
    tr.check(lambda t, res, ck: ck.eq("drop rule counted the 4 over the limit", 4,
                                      (counter_of(res, "iif inside udp dport 9000 counter")
                                       or (0, 0))[0]))


def rules_notrack(tr):
    """notrack: a public host behind an inside router talks to SERVER:53 untracked and
    untranslated both ways (ct state untracked accept); a private inside source matched by
    a notrack rule is never sent out untranslated (RULE_NOTRACK_PRIVATE); other traffic is
    tracked and NATed as usual."""
    with_rules(tr, ruleset(
        "  ip daddr 198.51.100.5 udp dport 53 notrack\n"
        "  ip saddr 198.51.100.5 udp sport 53 notrack\n"
        "  ct state untracked accept\n"
        "  ct state established,related accept\n"
        "  iif inside accept\n"), inside="routes = 198.18.0.0/24 via " + R_IN)
    sc.preamble(tr)
    tr.send("inside", sc.arp_req(R_IN_MAC, R_IN, GW_IN))
    eth = Ether(src=R_IN_MAC, dst=GW_IN_MAC)
    x = tr.send("inside", eth / IP(src=PUB, dst=SERVER, id=1) / UDP(sport=4000, dport=53) / b"q")
    tr.out("outside", sc.to_out(x))
    y = tr.send("outside", sc.remote(tr, SERVER, PUB, UDP(sport=53, dport=4000) / b"a"))
    tr.out("inside", sc.to_in(y, R_IN_MAC))
    tr.drop(tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=4001, dport=53) / b"priv")),
            reason="RULE_NOTRACK_PRIVATE")
    # not matched by notrack: tracked + NAT
    e = tr.flow("h1", "outside", lambda p: p.haslayer(UDP) and p[UDP].dport == 54,
                lambda p: p[UDP].sport, 4002)
    x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=4002, dport=54) / b"nat"))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=e))
    # from the uplink to the inside without a notrack rule: still refused
    tr.drop(tr.send("outside", sc.remote(tr, SERVER2, PUB, UDP(sport=53, dport=4000) / b"n")),
            reason="TO_INSIDE_DIRECT")


def rules_input(tr):
    """input chain, policy drop: echo requests to natgw only from inside (outside: dropped),
    a TCP SYN to natgw's inside address port 22 gets a RST, UDP to it an ICMP port
    unreachable from natgw; forwarded traffic is not the input chain's business."""
    with_rules(tr, ruleset("  iif inside accept\n  ct state established accept\n",
                           policy="drop",
                           input_rules="  iif inside icmp type echo-request accept\n"
                                       "  tcp dport 22 reject with tcp reset\n"
                                       "  udp dport 161 reject\n",
                           input_policy="drop"))
    sc.preamble(tr)
    tr.own_check.add("inside")
    p1 = tr.send("inside", sc.host(tr, H1, GW_IN, ICMP(type=8, id=5, seq=1) / b"hi"))
    tr.drop(tr.send("outside", sc.remote(tr, PEER, GW_OUT, ICMP(type=8, id=6, seq=1) / b"hi")),
            reason="RULE_DROP")
    s = tr.send("inside", sc.host(tr, H2, GW_IN, TCP(sport=45000, dport=22, flags="S", seq=77)))
    tr.drop(s, reason="RULE_REJECT")
    u = tr.send("inside", sc.host(tr, H2, GW_IN, UDP(sport=45001, dport=161) / b"snmp"))
    tr.drop(u, reason="RULE_REJECT")
    tr.drop(tr.send("inside", sc.host(tr, H2, GW_IN, TCP(sport=45002, dport=23, flags="S",
                                                         seq=1))), reason="RULE_DROP")

    def fn(t, res, ck):
        fr = [Ether(b) for _t, b in res.ip("inside")]
        ck.eq("three answers on the inside", 3, len(fr))
        if len(fr) >= 1:
            ck.eq("echo reply to H1", (GW_IN, H1, 0, 5),
                  (fr[0][IP].src, fr[0][IP].dst, fr[0][ICMP].type, fr[0][ICMP].id))
    tr.check(fn)
    check_rst(tr, "inside", 1, s, "RST from natgw's inside address")
    check_icmp_unreach(tr, "inside", 2, u, 3, GW_IN, "udp to natgw")


def rules_cache(tr):
    """The verdict cache: two TCP connections (9 segments each, scenarios.py's tcp) through
    `ct state established,related accept; iif inside accept` walk the chain only when what
    the rules see changes: the SYN (new), the SYN/ACK (first reply: SEEN_REPLY), the ACK
    that makes the connection ASSURED, and the first reply after it: 4 evaluations per
    connection, 8 for 18 segments; the outputs are those of the tcp scenario."""
    with_rules(tr, ruleset("  ct state established,related accept\n  iif inside accept\n"))
    sc.SCENARIOS["tcp"](tr)

    def fn(t, res, ck):
        m = re.search(r"rules: evaluations (\d+)", replay_log(res))
        ck.eq("chain evaluations", 8, int(m.group(1)) if m else None)
    tr.check(fn)


def rules_reload(tr):
    """A reload (natgw-replay --rules-reload: gw_rules_reload, what natgw-ctl reload does)
    replaces the ruleset between two packets: a UDP flow accepted and cached under the first
    ruleset is dropped at once under the second one in the direction it names (the cached
    verdicts are not used after the reload), its replies still pass, a new flow passes; the
    replaced ruleset is freed once the workers moved on; counters start from zero."""
    with_rules(tr, ruleset("  ct state established,related accept\n  iif inside accept\n"))
    second = os.path.join(tr.dir, "rules2.nft")
    with open(second, "w") as f:
        f.write(ruleset("  ct state established udp dport 7000 counter drop\n"
                        "  ct state established,related accept\n"
                        "  iif inside counter accept\n"))
    sc.preamble(tr)                                             # packets 1-3
    e = tr.flow("u", "outside", lambda p: p.haslayer(UDP) and p[UDP].dport == 7000,
                lambda p: p[UDP].sport, 46000)
    x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=46000, dport=7000) / b"1"))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=e))
    y = tr.send("outside", sc.remote(tr, SERVER, GW_OUT, UDP(sport=7000, dport=e) / b"r1"))
    tr.out("inside", sc.to_in(y, H1_MAC, dst=H1, dport=46000))
    x = tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=46000, dport=7000) / b"2"))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=e))    # packet 6: then the reload
    tr.replay_args = ["--rules-reload", "6:" + second]
    tr.drop(tr.send("inside", sc.host(tr, H1, SERVER, UDP(sport=46000, dport=7000) / b"3")),
            reason="RULE_DROP")
    y = tr.send("outside", sc.remote(tr, SERVER, GW_OUT, UDP(sport=7000, dport=e) / b"r2"))
    tr.out("inside", sc.to_in(y, H1_MAC, dst=H1, dport=46000))
    f = tr.flow("h2", "outside", lambda p: p.haslayer(UDP) and p[UDP].dport == 7001,
                lambda p: p[UDP].sport, 46001)
    x = tr.send("inside", sc.host(tr, H2, SERVER, UDP(sport=46001, dport=7001) / b"new"))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=f))

    def fn(t, res, ck):
        log = replay_log(res)
        ck.ok("rules reloaded from " + second + " after 6 packets" in log, "reload done",
              "reloaded after 6", "not reported")
        ck.ok("1 replaced ruleset(s) freed" in log, "the first ruleset freed", "1 freed",
              re.findall(r"\d+ replaced ruleset\(s\) freed", log))
        ck.eq("new ruleset's drop rule counted the one packet", (1, 29),
              counter_of(res, "ct state established udp dport 7000"))
        ck.eq("new ruleset's counter starts at the reload (the new flow only)", (1, 31),
              counter_of(res, "iif inside counter"))
    tr.check(fn)


def rules_untracked_deprecated(tr):
    """[untracked] still works, and natgw says it is deprecated in favour of notrack."""
    tr.config = sc.write_config(tr.dir, extra="[untracked]\nx = udp dport 53 inside "
                                "198.18.0.0/24 direction out\n",
                                lines={"inside": ["routes = 198.18.0.0/24 via " + R_IN]})
    sc.preamble(tr)
    tr.send("inside", sc.arp_req(R_IN_MAC, R_IN, GW_IN))
    x = tr.send("inside", Ether(src=R_IN_MAC, dst=GW_IN_MAC) /
                IP(src=PUB, dst=SERVER, id=1) / UDP(sport=4000, dport=53) / b"q")
    tr.out("outside", sc.to_out(x))
    tr.check(lambda t, res, ck: ck.ok("[untracked] is deprecated" in replay_log(res),
                                      "deprecation message", "printed", "missing"))


SCENARIOS = {
    "rules_forward": rules_forward,
    "rules_reject": rules_reject,
    "rules_log_counter": rules_log_counter,
    "rules_limit": rules_limit,
    "rules_notrack": rules_notrack,
    "rules_input": rules_input,
    "rules_untracked_deprecated": rules_untracked_deprecated,
    "rules_cache": rules_cache,
    "rules_reload": rules_reload,
}

# the base scenarios the default ruleset must leave byte for byte unchanged
DEFAULT_SAME = ["tcp", "udp", "icmp_echo", "icmp_error", "unsolicited", "forward", "hairpin",
                "udp_timeout", "fragments", "ttl", "invalid_tcp", "ping_gw", "to_gw_unmapped"]
NAMES = list(SCENARIOS) + [n + "_workers2" for n in SCENARIOS
                           if n != "rules_untracked_deprecated"] + \
    ["rules_default_same", "rules_default_same_workers2"]


def default_same(replay, d, ck, workers):
    """Each base scenario with and without [filter] rules = config/rules-default.nft: the
    same inputs give byte-identical outputs and drops (reasons included), and the run with
    the ruleset passes every check of the scenario."""
    for name in DEFAULT_SAME if workers == 1 else ["tcp", "forward", "hairpin", "icmp_error"]:
        runs = sc.run_twice(replay, d, name, workers, f"[filter]\nrules = {RULES_DEFAULT}\n")
        sc.arp_normalise(runs[1][1])
        sub = sc.Checks()
        sc.verify(runs[1][0], runs[1][1], sub)
        ck.eq(f"{name}: checks pass with the default ruleset", [], sub.failures)
        a, b = sc.output_files(runs[0][1].dir), sc.output_files(runs[1][1].dir)
        for f in a:
            ck.ok(a[f] == b[f], f"{name}: {f} identical with and without the ruleset",
                  "identical", "differs")
        ck.ok("table inet natgw" in replay_log(runs[1][1]), f"{name}: ruleset loaded",
              "listed at the end", "not listed")


def run(replay, d, name, ck, workers):
    base, workers = sc.workers_of(name, workers)
    if base == "rules_default_same":
        default_same(replay, d, ck, workers)
        return
    sc.run_checked(replay, d, SCENARIOS[base], workers, ck)


if __name__ == "__main__":
    sys.exit(sc.main(sys.argv, __doc__, SCENARIOS, run=run, names=NAMES))

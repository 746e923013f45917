#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/frag_scenarios.py - reassembly bounds and big datagrams (app/gw_frag.c) through
natgw-replay, with scenarios.py's lab and checks (checksums recomputed, frames within the
MTU, no inside address leaking out); each scenario's own check compares the outputs and
the drops. frag_bounds runs with small bounds: [fragments] max_mbufs = 40 (per worker and
ingress port), max_per_source = 12, timeout = 2.

    /usr/bin/python3 tests/replay/frag_scenarios.py NATGW_REPLAY SCENARIO [--keep DIR]
    /usr/bin/python3 tests/replay/frag_scenarios.py --list

SCENARIO_workers2 runs SCENARIO with --workers 2.

frag_bounds: fragments that never complete (all with MF set) from the uplink to the outside
    address: from one source the first 12 are held and the next ones dropped at once
    (REASM_SRC_LIMIT); from 10 other sources the port's total reaches 40 and the rest are
    dropped (REASM_LIMIT); an inside host's fragmented datagram meanwhile is reassembled
    (the outside's fragments cannot fill the inside's share) and leaves translated. When
    the held ones time out they are dropped (REASM_FAILED, every one of them, no more),
    and a fragmented reply from the server is then reassembled and delivered: the bounds
    free up by themselves. Each drop is checked by (source, IP id, offset, reason).
big_whole: a 4028-byte UDP datagram arriving as one 4042-byte frame on the inside port, as
    net_af_packet hands over what the kernel reassembled (fanout defrag): accepted (not
    L2_TOO_BIG), translated and sent as fragments that fit the 1500 MTU (single-segment
    mbufs), reassembling to the translated datagram; the same frame with DF set gets an
    ICMP fragmentation needed (RFC 1191, MTU 1500) and is dropped (FRAG_NEEDED); a frame
    whose IP total length disagrees with the frame (truncated by the kernel) is dropped
    (L2_TOO_BIG).
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402
from scapy.all import ICMP, IP, UDP, Ether, Raw, fragment  # noqa: E402

H1, H1_MAC, SERVER, PEER, GW_OUT = sc.H1, sc.H1_MAC, sc.SERVER, sc.PEER, sc.GW_OUT
MAX_MBUFS, MAX_PER_SRC = 40, 12


def frag_config(d, name):
    """frag_bounds runs with small reassembly bounds."""
    if name != "frag_bounds":
        return None
    return sc.write_config(d, keys={"fragments": {"max_mbufs": MAX_MBUFS,
                                                  "max_per_source": MAX_PER_SRC}})


def never_complete(tr, src, n, size=64):
    """n fragments of one datagram from src to our outside address, all with MF set."""
    ipid = tr.ipid(src)
    frames = []
    for k in range(n):
        p = Ether(src=sc.ROUTER_MAC, dst=sc.GW_OUT_MAC) / IP(src=src, dst=GW_OUT, id=ipid,
                                                             flags="MF", frag=k * size // 8,
                                                             proto=17, ttl=50) / \
            Raw(bytes([k]) * size)
        frames.append(tr.send("outside", p, dt=10))
    return frames


def key(b):
    p = Ether(b)[IP]
    return (p.src, p.id, p.frag)


def sc_frag_bounds(tr):
    sc.preamble(tr)
    # this check sees every output and every drop (the drops of held fragments come in the
    # table's order): no generic ordered comparison
    tr.own_check = {"inside", "outside"}
    tr.own_drops = True
    want = {}   # (src, id, frag) -> reason
    # one source: MAX_PER_SRC held, the rest refused at once
    for t in range(5):                       # 15 fragments
        for i, f in enumerate(never_complete(tr, PEER, 3)):
            n = t * 3 + i
            want[key(bytes(f))] = "REASM_FAILED" if n < MAX_PER_SRC else "REASM_SRC_LIMIT"
    held = MAX_PER_SRC
    for s in range(10):                      # 30 more, 3 per source
        src = "198.51.100.%d" % (100 + s)
        for f in never_complete(tr, src, 3):
            want[key(bytes(f))] = "REASM_FAILED" if held < MAX_MBUFS else "REASM_LIMIT"
            held += 1
    # meanwhile an inside host's fragmented datagram is reassembled and leaves translated
    e = tr.flow("h1", "outside", lambda p: p[IP].frag == 0 and p[UDP].dport == 9999,
                lambda p: p[UDP].sport, 4400)
    dg = sc.host(tr, H1, SERVER, UDP(sport=4400, dport=9999) / (bytes(range(256)) * 4))
    for f in fragment(sc.concrete(dg)[IP], fragsize=512):
        tr.send("inside", Ether(src=H1_MAC, dst=sc.GW_IN_MAC) / f)
    tr.out("outside", sc.to_out(dg, src=GW_OUT, sport=e))
    # after the timeout (2 s) everything held is dropped and the bounds are free again:
    # a fragmented reply is reassembled and delivered
    rep = sc.remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=e) / (b"r" * 900))
    rfr = fragment(sc.concrete(rep)[IP], fragsize=400)
    tr.send("outside", Ether(src=sc.ROUTER_MAC, dst=sc.GW_OUT_MAC) / rfr[0], dt=3000000)
    for f in rfr[1:]:
        tr.send("outside", Ether(src=sc.ROUTER_MAC, dst=sc.GW_OUT_MAC) / f)
    tr.out("inside", sc.to_in(rep, H1_MAC, dst=H1, dport=4400))

    def check(t, res, ck):
        for port in ("inside", "outside"):
            got = [b for _t, b in res.ip(port)]
            exp = [b for _t, b in t.expect[port]]
            ck.eq(f"{port}: frames out", len(exp), len(got))
            for i, (be, bg) in enumerate(zip(exp, got)):
                ck.ok(be == bg, f"{port} output #{i}: {sc.summary(be)}", sc.summary(be),
                      sc.summary(bg) + "\n    diff: " + sc.field_diff(be, bg))
        drops = {}
        for i, _t, b in res.ip_drops():
            drops.setdefault(key(b), []).append(res.reason_id(i))
        for k, r in sorted(want.items()):
            ck.eq(f"fragment {k}: dropped once, reason", [r], drops.get(k))
        extra = sorted(set(drops) - set(want))
        ck.eq("no other IPv4 drop", [], extra)
        counts = {}
        for r in want.values():
            counts[r] = counts.get(r, 0) + 1
        ck.eq("held then timed out / refused per source / refused port full",
              (MAX_MBUFS, 3, 40 + 3 + 2 - MAX_MBUFS - 3),
              (counts.get("REASM_FAILED"), counts.get("REASM_SRC_LIMIT"),
               counts.get("REASM_LIMIT")))
    tr.check(check)


def sc_big_whole(tr):
    sc.preamble(tr)
    tr.own_check = {"inside", "outside"}
    tr.own_drops = True
    e = tr.flow("h1", "outside", lambda p: p[IP].frag == 0 and p[UDP].dport == 9999,
                lambda p: p[UDP].sport, 4500)
    payload = bytes((i * 7) & 0xff for i in range(4000))
    dg = sc.host(tr, H1, SERVER, UDP(sport=4500, dport=9999) / payload)
    frame = bytes(sc.concrete(dg))
    tr.send("inside", frame)
    exp_dg = sc.to_out(dg, src=GW_OUT, sport=e)
    # DF set: frag needed back to the host, the datagram dropped
    df = sc.host(tr, H1, SERVER, UDP(sport=4500, dport=9999) / payload, flags="DF")
    tr.send("inside", df)
    # truncated: total length says 4028, the frame has 2000 bytes of it
    tr_ = bytes(sc.concrete(sc.host(tr, H1, SERVER, UDP(sport=4500, dport=9999) / payload)))
    tr.send("inside", tr_[:2014])

    def check(t, res, ck):
        frames = [b for _t, b in res.ip("outside")]
        ck.ok(len(frames) >= 3, "outside: the 4028-byte datagram left as fragments",
              ">= 3 frames", len(frames))
        for i, b in enumerate(frames):
            ck.ok(len(b) <= 1514, f"outside frame #{i} fits the 1500 MTU", "<= 1514", len(b))
            ck.eq(f"outside frame #{i} destination MAC", sc.ROUTER_MAC, Ether(b).dst)
        dgs = sc.reassemble(frames)
        hdr_e, l4_e = sc.ip_parts(bytes(exp_dg))
        ipid = struct.unpack("!H", hdr_e[4:6])[0]
        v = dgs.get(ipid)
        if ck.ok(v is not None, "outside: the fragments reassemble", "complete", "missing"):
            hdr, data = v
            ck.eq("reassembled: src/dst translated", hdr_e[12:20].hex(), hdr[12:20].hex())
            ck.eq("reassembled: TTL decremented", hdr_e[8], hdr[8])
            ck.ok(data == l4_e, "reassembled: UDP datagram (port, checksum, payload)",
                  sc.summary(bytes(exp_dg)), f"{len(data)} bytes")
        icmp = [Ether(b) for _t, b in res.ip("inside")]
        ok = [p for p in icmp if ICMP in p and p[ICMP].type == 3 and p[ICMP].code == 4]
        if ck.ok(len(ok) == 1, "inside: one ICMP fragmentation needed for the DF datagram",
                 1, [sc.summary(bytes(p)) for p in icmp]):
            ck.eq("frag needed: next-hop MTU", 1500, ok[0][ICMP].nexthopmtu)
            ck.eq("frag needed: to the host", H1, ok[0][IP].dst)
        ck.eq("drop reasons", ["FRAG_NEEDED", "L2_TOO_BIG"], res.drop_reason_ids())
    tr.check(check)


SCENARIOS = {"frag_bounds": sc_frag_bounds, "big_whole": sc_big_whole}


if __name__ == "__main__":
    sys.exit(sc.main(sys.argv, __doc__, SCENARIOS, config=frag_config))

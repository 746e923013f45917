#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/vlan_scenarios.py - 802.1Q sides and frame sizes (app/gw_vlan.c, [inside] /
[outside] vlan and mtu) through natgw-replay, with scenarios.py's lab (hosts, router,
addresses). Every frame natgw sends is checked on its bytes: the tag (TPID 0x8100, PCP 0,
DEI 0, the side's VLAN id) and, with the tag taken off, the frame itself; every drop by its
reason identifier.

    /usr/bin/python3 tests/replay/vlan_scenarios.py NATGW_REPLAY SCENARIO [--keep DIR]
    /usr/bin/python3 tests/replay/vlan_scenarios.py --list

SCENARIO_workers2 runs SCENARIO with --workers 2 (packets received round robin: what
crosses the handoff rings must leave with the right tag too).

vlan_ports: inside VLAN 10 on port 0, outside VLAN 20 on port 1. Tagged ARP request for
    natgw's address answered tagged; natgw's own ARP request for the router leaves tagged
    20, the tagged reply releases the held datagram; UDP out and back translated, each way
    with its side's tag; TTL 1 gets a time exceeded (natgw's ICMP error) tagged 10; an echo
    request to natgw's inside address answered tagged 10; a DF datagram over the outside MTU
    (1400 here) gets frag needed (mtu 1400) tagged 10; the same without DF leaves as
    fragments each tagged 20. Dropped: an untagged frame on the inside (VLAN_UNTAGGED), a
    frame tagged 30 (VLAN_OTHER), a frame tagged 20 (the outside's id) on the inside port
    (VLAN_OTHER), a priority-tagged (VID 0) frame (VLAN_UNTAGGED).
vlan_stick: the same with both sides on one port ([ports] inside = outside = 0, router on a
    stick): everything arrives in one pcap and leaves in one (out-inside), the tag alone
    telling the side; an untagged frame and one tagged 30 are dropped.
vlan_inside_only: inside VLAN 10, outside untagged on its own port: what leaves the uplink
    has no tag; a tagged frame on the untagged uplink is dropped (VLAN_OTHER), as is one
    with VLAN 10 (the inside's id) there.
vlan_jumbo: mtu 9000 inside (VLAN 10), 4000 outside (VLAN 20), both on one port: an
    8000-byte datagram from the inside leaves as fragments of at most 4000 bytes, each
    tagged 20, reassembling to the translated datagram; a 3500-byte one leaves whole; with
    DF an 8000-byte one gets frag needed with mtu 4000, tagged 10; replies of 4000 bytes and
    of 8000 (one whole datagram over the uplink MTU, as net_af_packet hands over what the
    kernel reassembled) leave whole tagged 10; a frame over the MTU that is no whole
    datagram is dropped (L2_TOO_BIG).
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402
from scenarios import (BCAST, GW_IN, GW_IN_MAC, GW_OUT, GW_OUT_MAC, H1, H1_MAC,  # noqa: E402
                       ROUTER, ROUTER_MAC, SERVER, Ether, summary)
from scapy.all import ARP, ICMP, IP, UDP, Dot1Q, Raw  # noqa: E402

VIN, VOUT = 10, 20

# per scenario: ([inside] vlan, [outside] vlan, one port?, inside mtu, outside mtu)
SETUPS = {
    "vlan_ports": (VIN, VOUT, False, 1500, 1400),
    "vlan_stick": (VIN, VOUT, True, 1500, 1400),
    "vlan_inside_only": (VIN, 0, False, 1500, 1500),
    "vlan_jumbo": (VIN, VOUT, True, 9000, 4000),
}


def vlan_config(d, name):
    vin, vout, stick, mtu_in, mtu_out = SETUPS[name]
    keys = {"inside": {"mtu": mtu_in}, "outside": {"mtu": mtu_out}}
    if vin:
        keys["inside"]["vlan"] = vin
    if vout:
        keys["outside"]["vlan"] = vout
    if stick:
        keys["ports"] = {"inside": "0", "outside": "0"}
    return sc.write_config(d, keys=keys)


def tag(frame, vid, pcp=0):
    """frame (scapy or bytes) with an 802.1Q tag after the MAC addresses."""
    b = bytes(frame)
    return b[:12] + struct.pack("!HH", 0x8100, (pcp << 13) | vid) + b[12:]


def untag(b):
    """(TCI or None, the frame without its tag)."""
    if b[12:14] != b"\x81\x00":
        return None, b
    return struct.unpack("!H", b[14:16])[0], b[:12] + b[16:]


def arp_trim(b):
    """An ARP frame padded with zeros to 60 bytes compares with scapy's 42."""
    if b[12:14] == b"\x08\x06" and len(b) > 42 and not any(b[42:]):
        return b[:42]
    return b


class Lab:
    """A scenario's inputs and expectations by side; frames go in tagged with the side's
    VLAN (or the one asked for) on the side's port (with one port: the same pcap)."""

    def __init__(self, tr, name):
        self.tr = tr
        self.vin, self.vout, self.stick, self.mtu_in, self.mtu_out = SETUPS[name]
        self.expect = {"inside": [], "outside": []}    # (what, bytes or predicate)
        self.drops = []                                 # (reason, bytes or None)

    def file_of(self, side):
        return "inside" if self.stick else side

    def vid(self, side):
        return self.vin if side == "inside" else self.vout

    def send(self, side, pkt, vid=None, dt=1000):
        vid = self.vid(side) if vid is None else vid
        b = tag(pkt, vid) if vid else bytes(pkt)
        self.tr.send(self.file_of(side), b, dt=dt)
        return Ether(bytes(pkt))

    def out(self, side, frame, what=None):
        self.expect[side].append((what or summary(bytes(frame)), frame if callable(frame)
                                  else bytes(frame)))

    def drop(self, reason, frame=None):
        self.drops.append((reason, None if frame is None else bytes(frame)))


def check_outputs(lab, res, ck):
    """Every frame of each output carries its side's tag exactly; then, untagged, the frames
    of each side are the expected ones in order."""
    got = {"inside": [], "outside": []}
    files = ("inside",) if lab.stick else ("inside", "outside")
    if lab.stick:
        ck.eq("one port: nothing in the outside output", 0, len(res.out["outside"]))
    for f in files:
        for i, (_t, b) in enumerate(res.out[f]):
            tci, inner = untag(b)
            if lab.stick:
                side = "inside" if tci == lab.vin else "outside" if tci == lab.vout else None
                ck.ok(side is not None, f"{f} output #{i} tagged {lab.vin} or {lab.vout}",
                      "a tag of ours", "untagged" if tci is None else f"tci {tci:#x}")
            else:
                side = f
                want = lab.vid(f) or None
                ck.eq(f"{f} output #{i} ({summary(inner)}) 802.1Q tag", want, tci)
            if side is None:
                continue
            if tci is not None:
                ck.eq(f"{f} output #{i} tag priority/DEI bits zero", 0, tci & 0xf000)
            got[side].append(arp_trim(inner))
    for side in ("inside", "outside"):
        exp, g = lab.expect[side], got[side]
        for i in range(max(len(exp), len(g))):
            what = f"{side} frame #{i}"
            if i >= len(g):
                ck.ok(False, what + " missing", exp[i][0], "nothing")
                continue
            if i >= len(exp):
                ck.ok(False, what + " unexpected", "nothing", summary(g[i]))
                continue
            desc, e = exp[i]
            if callable(e):
                ck.ok(e(g[i]), f"{what}: {desc}", desc, summary(g[i]))
            else:
                ck.ok(e == g[i], f"{what}: {desc}", desc, summary(g[i]) + "\n    diff:     " +
                      (sc.field_diff(e, g[i]) if e != g[i] else ""))
            probs = sc.csum_problems(g[i])
            ck.ok(not probs, f"{what} checksums", "all right", ", ".join(probs))
            ck.eq(f"{what} source MAC", GW_IN_MAC if side == "inside" else GW_OUT_MAC,
                  Ether(g[i]).src)
            mtu = lab.mtu_in if side == "inside" else lab.mtu_out
            ck.ok(len(g[i]) - 14 <= mtu, f"{what} within the {side} MTU", f"<= {mtu}",
                  len(g[i]) - 14)
            if side == "outside" and sc.ip_parts(g[i]) is not None:
                ck.ok(not sc.leaks_inside(g[i]), f"{what} carries no inside address",
                      "no 192.168.1.x", summary(g[i]))


def check_drops(lab, res, ck):
    got = [(res.reason_id(i), b) for i, (_t, b) in enumerate(res.drops)]
    ck.eq("drop reasons in order", [r for r, _b in lab.drops], [r for r, _b in got])
    for i, ((r, e), (_rg, b)) in enumerate(zip(lab.drops, got)):
        if e is not None:
            ck.ok(e == b, f"drop #{i} ({r}) is the frame as received", summary(e), summary(b))


# ---------------------------------------------------------------------------------------------
# building blocks


def host(tr, dst, l4, **kw):
    return sc.host(tr, H1, dst, l4, **kw)


def icmp_from_gw(src, dst, mac, typ, code, quoted, mtu=None):
    """A predicate for natgw's ICMP error: MACs, addresses, type/code, next-hop MTU, and the
    quoted datagram's header and first 8 bytes as received."""
    def pred(b):
        p = Ether(b)
        if not p.haslayer(ICMP) or p.src != (GW_IN_MAC if src == GW_IN else GW_OUT_MAC):
            return False
        q = bytes(p[ICMP].payload)
        # the quoted datagram: its IP id, protocol, destination and first 8 L4 bytes
        ok = (p.dst, p[IP].src, p[IP].dst, p[ICMP].type, p[ICMP].code) == \
            (mac, src, dst, typ, code) and len(q) >= 28 and \
            (q[4:6], q[9], q[16:20]) == (quoted[4:6], quoted[9], quoted[16:20])
        if mtu is not None:
            ok = ok and p[ICMP].nexthopmtu == mtu
        return ok
    return pred


def fragments_of(expected, mtu, n_frags, lab):
    """Predicates for n_frags fragments of expected (translated datagram), each at most
    mtu; the last one also checks that all reassemble to it."""
    seen = []
    hdr_e, l4_e = sc.ip_parts(bytes(expected))

    def one(k):
        def pred(b):
            parts = sc.ip_parts(b)
            if parts is None or len(b) - 14 > mtu:
                return False
            seen.append(b)
            if k < n_frags - 1:
                return parts[0][12:20] == hdr_e[12:20]
            dgs = sc.reassemble(seen)
            v = dgs.get(struct.unpack("!H", hdr_e[4:6])[0])
            return len(seen) == n_frags and v is not None and v[1] == l4_e and \
                v[0][12:20] == hdr_e[12:20] and v[0][8] == hdr_e[8]
        return pred
    return [one(k) for k in range(n_frags)]


def arp_setup(lab, tr):
    """H1 asks for natgw's inside address (answered on the inside VLAN); the router is
    learned by natgw's own request, answered on the outside VLAN."""
    lab.send("inside", sc.arp_req(H1_MAC, H1, GW_IN))
    lab.out("inside", sc.arp_reply(GW_IN_MAC, GW_IN, H1_MAC, H1), "ARP reply to H1")
    x = lab.send("inside", host(tr, SERVER, UDP(sport=4500, dport=9999) / b"held"))
    lab.out("outside", Ether(src=GW_OUT_MAC, dst=BCAST) /
            ARP(op=1, hwsrc=GW_OUT_MAC, psrc=GW_OUT, hwdst="00:00:00:00:00:00", pdst=ROUTER),
            "natgw's ARP request for the router")
    lab.send("outside", sc.arp_reply(ROUTER_MAC, ROUTER, GW_OUT_MAC, GW_OUT), dt=200)
    lab.out("outside", sc.to_out(x, src=GW_OUT, sport=4500), "held UDP, translated")
    y = lab.send("outside", sc.remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=4500) / b"back"))
    lab.out("inside", sc.to_in(y, H1_MAC, dst=H1, dport=4500), "UDP reply, translated")


def router_tags(lab, tr):
    """Frames natgw makes itself: time exceeded, echo reply, frag needed; fragments."""
    z = lab.send("inside", host(tr, SERVER, UDP(sport=4501, dport=9999) / (b"t" * 40), ttl=1))
    lab.out("inside", icmp_from_gw(GW_IN, H1, H1_MAC, 11, 0, bytes(z[IP])),
            "time exceeded from natgw to H1")
    lab.drop("TTL_EXCEEDED")
    e = lab.send("inside", host(tr, GW_IN, ICMP(type=8, id=77, seq=1) / b"ping"))

    def echo_reply(b):
        p = Ether(b)
        return p.haslayer(ICMP) and p[ICMP].type == 0 and p[ICMP].id == 77 and \
            (p[IP].src, p[IP].dst, p.dst) == (GW_IN, H1, H1_MAC) and \
            bytes(p[ICMP].payload) == bytes(e[ICMP].payload)
    lab.out("inside", echo_reply, "echo reply from natgw's inside address")
    big = lab.mtu_out + 100 - 28
    d = lab.send("inside", host(tr, SERVER, UDP(sport=4502, dport=9999) / (b"d" * big),
                                flags="DF"))
    lab.out("inside", icmp_from_gw(GW_IN, H1, H1_MAC, 3, 4, bytes(d[IP]), mtu=lab.mtu_out),
            f"frag needed (mtu {lab.mtu_out}) to H1")
    lab.drop("FRAG_NEEDED")
    f = lab.send("inside", host(tr, SERVER, UDP(sport=4502, dport=9999) / (b"f" * big)))
    for k, pred in enumerate(fragments_of(sc.to_out(f, src=GW_OUT, sport=4502), lab.mtu_out,
                                          2, lab)):
        lab.out("outside", pred, f"fragment {k} of the translated datagram")


def sc_vlan_ports(tr, lab):
    tr.only_ip = False
    arp_setup(lab, tr)
    router_tags(lab, tr)
    u = host(tr, SERVER, UDP(sport=4503, dport=9999) / b"untagged")
    lab.send("inside", u, vid=0)
    lab.drop("VLAN_UNTAGGED", u)
    o = host(tr, SERVER, UDP(sport=4503, dport=9999) / b"vlan30")
    lab.send("inside", o, vid=30)
    lab.drop("VLAN_OTHER", tag(o, 30))
    w = host(tr, SERVER, UDP(sport=4503, dport=9999) / b"vlan20")
    lab.send("inside", w, vid=VOUT)
    lab.drop("VLAN_OTHER", tag(w, VOUT))
    pr = host(tr, SERVER, UDP(sport=4503, dport=9999) / b"prio")
    tr.send("inside", tag(pr, 0, pcp=5))
    lab.drop("VLAN_UNTAGGED", tag(pr, 0, pcp=5))
    # the flow still works afterwards
    x = lab.send("inside", host(tr, SERVER, UDP(sport=4500, dport=9999) / b"again"))
    lab.out("outside", sc.to_out(x, src=GW_OUT, sport=4500), "UDP again, translated")


def sc_vlan_stick(tr, lab):
    tr.only_ip = False
    arp_setup(lab, tr)
    router_tags(lab, tr)
    u = sc.remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=4500) / b"untagged")
    lab.send("outside", u, vid=0)
    lab.drop("VLAN_UNTAGGED", u)
    o = sc.remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=4500) / b"vlan30")
    lab.send("outside", o, vid=30)
    lab.drop("VLAN_OTHER", tag(o, 30))
    # an outside frame tagged with the inside's id is an inside frame: not to the inside's
    # MAC, it is not for us there
    s = sc.remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=4500) / b"wrong side")
    lab.send("outside", s, vid=VIN)
    lab.drop("L2_NOT_FOR_US")
    y = lab.send("outside", sc.remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=4500) / b"ok"))
    lab.out("inside", sc.to_in(y, H1_MAC, dst=H1, dport=4500), "UDP reply, translated")


def sc_vlan_inside_only(tr, lab):
    tr.only_ip = False
    arp_setup(lab, tr)
    o = sc.remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=4500) / b"vlan20")
    lab.send("outside", o, vid=VOUT)
    lab.drop("VLAN_OTHER", tag(o, VOUT))
    o2 = sc.remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=4500) / b"vlan10")
    lab.send("outside", o2, vid=VIN)
    lab.drop("VLAN_OTHER", tag(o2, VIN))
    u = host(tr, SERVER, UDP(sport=4500, dport=9999) / b"untagged")
    lab.send("inside", u, vid=0)
    lab.drop("VLAN_UNTAGGED", u)
    y = lab.send("outside", sc.remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=4500) / b"ok"))
    lab.out("inside", sc.to_in(y, H1_MAC, dst=H1, dport=4500), "UDP reply, translated")


def sc_vlan_jumbo(tr, lab):
    tr.only_ip = False
    arp_setup(lab, tr)
    x = lab.send("inside", host(tr, SERVER, UDP(sport=4500, dport=9999) / (b"w" * 3472)))
    lab.out("outside", sc.to_out(x, src=GW_OUT, sport=4500), "3500-byte datagram whole")
    d = lab.send("inside", host(tr, SERVER, UDP(sport=4500, dport=9999) / (b"j" * 7972),
                                flags="DF"))
    lab.out("inside", icmp_from_gw(GW_IN, H1, H1_MAC, 3, 4, bytes(d[IP]), mtu=4000),
            "frag needed (mtu 4000) for the 8000-byte DF datagram")
    lab.drop("FRAG_NEEDED")
    f = lab.send("inside", host(tr, SERVER, UDP(sport=4500, dport=9999) / (b"f" * 7972)))
    for k, pred in enumerate(fragments_of(sc.to_out(f, src=GW_OUT, sport=4500), 4000, 3, lab)):
        lab.out("outside", pred, f"fragment {k} of the 8000-byte datagram (<= 4000)")
    r = lab.send("outside", sc.remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=4500) /
                                      (b"r" * 3972)))
    lab.out("inside", sc.to_in(r, H1_MAC, dst=H1, dport=4500), "4000-byte reply whole")
    # over the uplink's MTU: only a whole datagram (as net_af_packet hands over what the
    # kernel reassembled) is taken; it fits the inside's 9000 whole
    r2 = lab.send("outside", sc.remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=4500) /
                                       (b"R" * 7972)))
    lab.out("inside", sc.to_in(r2, H1_MAC, dst=H1, dport=4500), "8000-byte reply whole")
    bad = sc.remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=4500) / (b"B" * 7972))
    bb = bytearray(bytes(bad))
    bb[16:18] = struct.pack("!H", 7000)     # total length disagrees with the frame
    bb[24:26] = b"\0\0"
    bb[24:26] = struct.pack("!H", sc.checksum(bytes(bb[14:34])))
    lab.send("outside", bytes(bb))
    lab.drop("L2_TOO_BIG")


SCENARIOS = {
    "vlan_ports": sc_vlan_ports,
    "vlan_stick": sc_vlan_stick,
    "vlan_inside_only": sc_vlan_inside_only,
    "vlan_jumbo": sc_vlan_jumbo,
}


def run(replay, d, name, ck, workers):
    base, workers = sc.workers_of(name, workers)
    tr = sc.Trace({}, workers, d, vlan_config(d, base))
    lab = Lab(tr, base)
    SCENARIOS[base](tr, lab)
    res = sc.run_replay(replay, d, tr, workers)
    check_outputs(lab, res, ck)
    check_drops(lab, res, ck)


if __name__ == "__main__":
    sys.exit(sc.main(sys.argv, __doc__, SCENARIOS, run=run))

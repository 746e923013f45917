#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/scenarios.py - replay scenarios for natgw-replay: each scenario writes the
packets arriving on the inside and outside ports as pcaps (scapy), runs natgw-replay over
them with tests/replay/natgw-replay.ini, and checks every packet that leaves, field by
field, against the packet it must be (built with scapy from the input, checksums recomputed
from scratch), plus the drop file (natgw-replay's Z.pcap and Z.pcap.txt).

    /usr/bin/python3 tests/replay/scenarios.py NATGW_REPLAY SCENARIO [--keep DIR] [--workers N]
    /usr/bin/python3 tests/replay/scenarios.py --list

Exit status 0 when every check passed, 1 otherwise (each failure printed: what, expected,
got). --keep DIR keeps the pcaps of the last run there (default: a temporary directory,
removed unless a check failed). --workers N runs a plain scenario with N simulated workers;
SCENARIO_workers2 is SCENARIO with --workers 2.

How outputs are matched: for each port, the list of IPv4 frames that left must equal, in
order and byte for byte, the list the scenario expects (timestamp = that of the input packet
that caused it). Every output frame also has its checksums recomputed independently, and no
frame leaving the outside port may carry an inside address (no untranslated leak). Dropped
IPv4 packets must be exactly the expected ones, each with a non-empty reason. Packets the
gateway makes itself (ICMP time exceeded, echo replies) and fragments are checked field by
field by the scenario's own check instead of byte for byte.

External ports/identifiers: with one worker natgw preserves the inside port when free
(port_preserve = yes), and the scenarios expect that. Where a port cannot be preserved (two
hosts with the same source port, a forwarded port, several workers) the scenario declares a
"flow" whose external port is learned from a first run and the inputs are rebuilt with it.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, IPOption_Router_Alert, Raw, conf,
                       fragment)
from scapy.utils import checksum

conf.verb = 0

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, "natgw-replay.ini")

# --- the lab (must match natgw-replay.ini and natgw-replay's fixed port MACs) -------------
GW_IN_MAC = "02:6e:67:00:00:00"    # natgw-replay: inside port MAC
GW_OUT_MAC = "02:6e:67:00:00:01"   # natgw-replay: outside port MAC
GW_IN = "192.168.1.1"
GW_OUT = "203.0.113.2"
ROUTER = "203.0.113.1"
ROUTER_MAC = "02:00:00:02:00:01"
H1, H1_MAC = "192.168.1.10", "02:00:00:01:00:0a"
H2, H2_MAC = "192.168.1.20", "02:00:00:01:00:14"
SERVER = "198.51.100.5"           # remote, reached through ROUTER
SERVER2 = "198.51.100.6"
PEER = "198.51.100.7"             # remote client (port forwards, unsolicited traffic)
BCAST = "ff:ff:ff:ff:ff:ff"

T0 = 1700000000 * 1000000         # first timestamp, microseconds

# ---------------------------------------------------------------------------------------------
# pcap files (microsecond, Ethernet), written and read by hand so timestamps are exact


def write_pcap(path, recs):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for t, b in recs:
            f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(b), len(b)))
            f.write(b)


def read_pcap(path):
    data = open(path, "rb").read()
    if len(data) < 24:
        raise ValueError(f"{path}: no pcap header")
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e = "<"
    elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
        e = ">"
        magic = struct.unpack(">I", data[:4])[0]
    else:
        raise ValueError(f"{path}: not a pcap file")
    nano = magic == 0xa1b23c4d
    linktype = struct.unpack(e + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError(f"{path}: linktype {linktype}, want 1 (Ethernet)")
    off, out = 24, []
    while off < len(data):
        sec, frac, incl, _orig = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        out.append((sec * 1000000 + (frac // 1000 if nano else frac), data[off:off + incl]))
        off += incl
    return out


# ---------------------------------------------------------------------------------------------
# checks


class Checks:
    def __init__(self):
        self.failures = []
        self.passed = 0

    def ok(self, cond, what, expected="", got=""):
        if cond:
            self.passed += 1
        else:
            msg = f"FAIL {what}"
            if expected != "" or got != "":
                msg += f"\n    expected: {expected}\n    got:      {got}"
            self.failures.append(msg)
        return cond

    def eq(self, what, expected, got):
        return self.ok(expected == got, what, expected, got)


def layers(p):
    out = []
    while p is not None and p.__class__.__name__ != "NoPayload":
        out.append(p)
        p = p.payload
    return out


def field_diff(exp_b, got_b):
    """Field-by-field difference of two frames (scapy dissection)."""
    e, g = Ether(exp_b), Ether(got_b)
    diffs = []
    for le, lg in zip(layers(e), layers(g)):
        if type(le) is not type(lg):
            diffs.append(f"layer {le.name} expected, {lg.name} got")
            break
        if isinstance(le, Raw):
            a, b = le.load, lg.load
            if a != b:
                n = min(len(a), len(b))
                i = next((k for k in range(n) if a[k] != b[k]), n)
                diffs.append(f"payload differs at byte {i} (len {len(a)} vs {len(b)})")
            continue
        for f in le.fields_desc:
            a, b = le.getfieldval(f.name), lg.getfieldval(f.name)
            if a != b:
                diffs.append(f"{le.name}.{f.name}: expected {a!r}, got {b!r}")
    le, lg = layers(e), layers(g)
    if len(le) != len(lg):
        diffs.append(f"layers: expected {[x.name for x in le]}, got {[x.name for x in lg]}")
    if not diffs:
        diffs.append(f"bytes differ (len {len(exp_b)} vs {len(got_b)})")
    return "; ".join(diffs)


def summary(b):
    try:
        return Ether(b).summary()
    except Exception:  # noqa: BLE001 - a malformed frame is itself the finding
        return b[:64].hex()


def ip_parts(b):
    """(ip header bytes, l4 bytes) of an Ethernet/IPv4 frame, None if not IPv4."""
    if len(b) < 34 or b[12:14] != b"\x08\x00":
        return None
    ihl = (b[14] & 0x0f) * 4
    tot = struct.unpack("!H", b[16:18])[0]
    return b[14:14 + ihl], b[14 + ihl:14 + tot]


def csum_l4(src, dst, proto, seg):
    pseudo = src + dst + struct.pack("!BBH", 0, proto, len(seg))
    return checksum(pseudo + seg)


def csum_problems(b):
    """Recompute every checksum of a frame (outer, and embedded for ICMP errors) from
    scratch; return a list of what is wrong."""
    probs = []
    parts = ip_parts(b)
    if parts is None:
        return probs
    hdr, l4 = parts
    if checksum(hdr) != 0:
        probs.append("ipv4 header checksum")
    frag = struct.unpack("!H", hdr[6:8])[0]
    if frag & 0x3fff:
        return probs            # a fragment: checked after reassembly
    proto, src, dst = hdr[9], hdr[12:16], hdr[16:20]
    if proto == 6 and len(l4) >= 20 and csum_l4(src, dst, 6, l4) != 0:
        probs.append("tcp checksum")
    elif proto == 17 and len(l4) >= 8:
        if l4[6:8] != b"\x00\x00" and csum_l4(src, dst, 17, l4) != 0:
            probs.append("udp checksum")
    elif proto == 1 and len(l4) >= 8:
        if checksum(l4) != 0:
            probs.append("icmp checksum")
        if l4[0] in (3, 4, 5, 11, 12) and len(l4) >= 28:
            inner = l4[8:]
            ihl = (inner[0] & 0x0f) * 4
            if len(inner) >= ihl and checksum(inner[:ihl]) != 0:
                probs.append("embedded ipv4 header checksum")
            ilen = struct.unpack("!H", inner[2:4])[0]
            iproto, il4 = inner[9], inner[ihl:ilen]
            if len(inner) >= ilen:      # whole datagram quoted: its L4 checksum is checkable
                if iproto == 6 and csum_l4(inner[12:16], inner[16:20], 6, il4) != 0:
                    probs.append("embedded tcp checksum")
                if iproto == 17 and il4[6:8] != b"\x00\x00" and \
                        csum_l4(inner[12:16], inner[16:20], 17, il4) != 0:
                    probs.append("embedded udp checksum")
    return probs


def leaks_inside(b):
    """Does this frame carry a 192.168.1.0/24 address in its IPv4 header, or in the header
    an ICMP error quotes?"""
    hdr, l4 = ip_parts(b)
    addrs = [hdr[12:16], hdr[16:20]]
    if hdr[9] == 1 and len(l4) >= 28 and l4[0] in (3, 4, 5, 11, 12):
        addrs += [l4[8 + 12:8 + 16], l4[8 + 16:8 + 20]]
    return any(a[:3] == bytes([192, 168, 1]) for a in addrs)


def reassemble(frames):
    """Reassemble IPv4 fragments (list of frame bytes, any order) -> {ip id: (hdr, data)}."""
    groups = {}
    for b in frames:
        hdr, l4 = ip_parts(b)
        ipid = struct.unpack("!H", hdr[4:6])[0]
        frag = struct.unpack("!H", hdr[6:8])[0]
        groups.setdefault(ipid, []).append(((frag & 0x1fff) * 8, bool(frag & 0x2000), hdr, l4))
    out = {}
    for ipid, fr in groups.items():
        fr.sort(key=lambda x: x[0])
        data, first_hdr, complete = b"", None, True
        for off, _mf, hdr, l4 in fr:
            if off == 0:
                first_hdr = hdr
            if off != len(data):
                complete = False
                break
            data += l4
        if fr[-1][1] or first_hdr is None:
            complete = False
        out[ipid] = (first_hdr, data) if complete else None
    return out


# ---------------------------------------------------------------------------------------------
# building packets and their expected translations


def concrete(p):
    """Every field of a scapy packet fixed (checksums and lengths computed)."""
    return Ether(bytes(p))


def forwarded(inp, smac, dmac, src=None, dst=None, sport=None, dport=None, ttl_dec=1):
    """The frame natgw must send for input frame `inp`: MACs of the next hop, TTL - 1,
    addresses/ports (ICMP query: sport = identifier) rewritten, checksums recomputed from
    scratch (a zero UDP checksum stays zero)."""
    p = Ether(bytes(inp))
    p.src, p.dst = smac, dmac
    ip = p[IP]
    ip.ttl -= ttl_dec
    if src is not None:
        ip.src = src
    if dst is not None:
        ip.dst = dst
    del ip.chksum
    l4 = ip.payload
    if isinstance(l4, (TCP, UDP)):
        if sport is not None:
            l4.sport = sport
        if dport is not None:
            l4.dport = dport
        if not (isinstance(l4, UDP) and l4.chksum == 0):
            del l4.chksum
    elif isinstance(l4, ICMP):
        if sport is not None:
            l4.id = sport
        del l4.chksum
    return concrete(p)


def quote(frame, ttl=None, l4_bytes=None):
    """The datagram an ICMP error quotes: the IPv4 header of `frame` (TTL set to `ttl`,
    header checksum recomputed) and its first `l4_bytes` L4 bytes (None: all)."""
    hdr, l4 = ip_parts(bytes(frame))
    hdr = bytearray(hdr)
    if ttl is not None:
        hdr[8] = ttl
        hdr[10:12] = b"\0\0"
        hdr[10:12] = struct.pack("!H", checksum(bytes(hdr)))
    return bytes(hdr) + (l4 if l4_bytes is None else l4[:l4_bytes])


def icmp_error_translated(inp, smac, dmac, new_outer_src=None, new_outer_dst=None,
                          embedded=b""):
    """Expected frame for an ICMP error `inp` after translation: outer address rewritten,
    TTL - 1, the quoted datagram replaced by `embedded`, every checksum recomputed."""
    b = bytearray(bytes(inp))
    b[0:6] = bytes.fromhex(dmac.replace(":", ""))
    b[6:12] = bytes.fromhex(smac.replace(":", ""))
    ihl = (b[14] & 0x0f) * 4
    ip, icmp = 14, 14 + ihl
    b[ip + 8] -= 1
    if new_outer_src:
        b[ip + 12:ip + 16] = bytes(map(int, new_outer_src.split(".")))
    if new_outer_dst:
        b[ip + 16:ip + 20] = bytes(map(int, new_outer_dst.split(".")))
    if len(embedded) != len(b) - icmp - 8:
        raise ValueError("embedded length changes")
    b[icmp + 8:] = embedded
    b[ip + 10:ip + 12] = b"\0\0"
    b[ip + 10:ip + 12] = struct.pack("!H", checksum(bytes(b[ip:icmp])))
    b[icmp + 2:icmp + 4] = b"\0\0"
    b[icmp + 2:icmp + 4] = struct.pack("!H", checksum(bytes(b[icmp:])))
    return bytes(b)


def arp_req(smac, sip, tip):
    return Ether(src=smac, dst=BCAST) / ARP(op=1, hwsrc=smac, psrc=sip, hwdst="00:00:00:00:00:00",
                                            pdst=tip)


def arp_reply(smac, sip, dmac, dip):
    return Ether(src=smac, dst=dmac) / ARP(op=2, hwsrc=smac, psrc=sip, hwdst=dmac, pdst=dip)


# ---------------------------------------------------------------------------------------------
# a scenario's trace: inputs, expectations, flows whose external port is learned


class Flow:
    def __init__(self, port, match, field, default):
        self.port, self.match, self.field, self.default = port, match, field, default


class Trace:
    def __init__(self, ext, workers, d=None, config=None):
        self.ext = ext                  # learned external ports {flow name: port}
        self.workers = workers
        self.dir = d                    # the run directory (a scenario's own config goes there)
        self.config = config            # natgw-replay's config; None: CONFIG
        self.t = T0
        self.inputs = {"inside": [], "outside": []}
        self.expect = {"inside": [], "outside": []}
        self.drops = []                 # (t, frame bytes)
        self.drop_reasons = []          # for each drop: the reason it must have, or None
        self.leaks = []                 # (port, t, frame bytes): inside addresses asked for
        self.flows = {}
        self.checks = []                # functions (Trace, Result, Checks)
        self.replay_args = []
        self.ip_ids = {}
        self.only_ip = True             # outputs compared: IPv4 frames only
        self.own_check = set()          # ports whose outputs only the scenario's check sees
        self.own_drops = False          # drops only the scenario's check sees

    def flow(self, name, port, match, field, default):
        """Declare a flow whose external port (as seen on output `port` in the first frame
        that `match`es, read by `field`) is learned; return the value to build with."""
        self.flows[name] = Flow(port, match, field, default)
        return self.ext.get(name, default)

    def ipid(self, host):
        self.ip_ids[host] = self.ip_ids.get(host, 0x100) + 1
        return self.ip_ids[host]

    def send(self, port, pkt, dt=1000):
        """Queue pkt as arriving on `port` dt microseconds after the previous input."""
        self.t += dt
        b = bytes(pkt)
        self.inputs[port].append((self.t, b))
        return Ether(b)

    def out(self, port, frame, t=None):
        """Expect `frame` to leave `port`, stamped t (default: the last input's time)."""
        self.expect[port].append((self.t if t is None else t, bytes(frame)))

    def drop(self, frame, t=None, reason=None):
        """Expect `frame` dropped (stamped t, default: the last input's time), with the
        reason identifier `reason` when given (gw.h GW_FOREACH_DROP, a prefix such as "CT_"
        / "NAT_", or a tuple of those: any of them)."""
        self.drops.append((self.t if t is None else t, bytes(frame)))
        self.drop_reasons.append(reason)

    def leak(self, port, frame):
        """Expect `frame` to leave `port` though it carries an inside address out of the
        uplink (an untracked rule with `private yes` asks for exactly that): checked in
        order, and kept out of the common no-leak check."""
        self.leaks.append((port, self.t, bytes(frame)))

    def check(self, fn):
        self.checks.append(fn)


class Result:
    def __init__(self, d):
        self.dir = d
        self.out = {"inside": read_pcap(os.path.join(d, "out-inside.pcap")),
                    "outside": read_pcap(os.path.join(d, "out-outside.pcap"))}
        self.drops = read_pcap(os.path.join(d, "drops.pcap"))
        self.reasons = {}
        with open(os.path.join(d, "drops.pcap.txt")) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                idx, _, reason = line.partition(" ")
                self.reasons[int(idx)] = reason

    def reason_id(self, i):
        """The identifier of drop #i's reason (drops.pcap.txt: "ID description")."""
        return self.reasons.get(i, "").split(" ")[0]

    def ip_drops(self):
        """The IPv4 drops: (index in drops.pcap, t, frame)."""
        return [(i, t, b) for i, (t, b) in enumerate(self.drops) if b[12:14] == b"\x08\x00"]

    def drop_reason_ids(self):
        """The reason identifiers of the IPv4 drops, in order."""
        return [self.reason_id(i) for i, _t, _b in self.ip_drops()]

    def ip(self, port):
        return [(t, b) for t, b in self.out[port] if b[12:14] == b"\x08\x00"]

    def arp(self, port):
        return [(t, b) for t, b in self.out[port] if b[12:14] == b"\x08\x06"]


def run_replay(replay, d, tr, workers):
    write_pcap(os.path.join(d, "in-inside.pcap"), tr.inputs["inside"])
    write_pcap(os.path.join(d, "in-outside.pcap"), tr.inputs["outside"])
    cmd = [replay, "--config", tr.config or CONFIG,
           "--in-inside", os.path.join(d, "in-inside.pcap"),
           "--in-outside", os.path.join(d, "in-outside.pcap"),
           "--out-inside", os.path.join(d, "out-inside.pcap"),
           "--out-outside", os.path.join(d, "out-outside.pcap"),
           "--out-drops", os.path.join(d, "drops.pcap"),
           "--workers", str(workers)] + tr.replay_args
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    with open(os.path.join(d, "replay.log"), "w") as f:
        f.write(" ".join(cmd) + "\n" + r.stdout + r.stderr)
    if r.returncode != 0:
        raise RuntimeError(f"natgw-replay exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return Result(d)


def learn(tr, res):
    """External ports the flows actually got."""
    got = {}
    for name, fl in tr.flows.items():
        for _t, b in res.ip(fl.port):
            p = Ether(b)
            try:
                if fl.match(p):
                    got[name] = fl.field(p)
                    break
            except (IndexError, AttributeError):
                continue
    return got


def build_and_run(replay, d, scenario, workers, config=None):
    """Run a scenario (natgw-replay with `config`, default CONFIG; the scenario may set its
    own); if a declared flow got another external port than the one the inputs were built
    with, rebuild with the learned ports and run again."""
    ext = {}
    for _ in range(3):
        tr = Trace(dict(ext), workers, d, config)
        scenario(tr)
        res = run_replay(replay, d, tr, workers)
        got = learn(tr, res)
        want = {n: tr.ext.get(n, f.default) for n, f in tr.flows.items()}
        if all(got.get(n, want[n]) == want[n] for n in want):
            return tr, res
        ext.update(got)
    return tr, res


def verify(tr, res, ck):
    """The checks common to every scenario, then the scenario's own."""
    # frames that carry an inside address out of the uplink because the scenario asked
    for port, t, b in tr.leaks:
        ck.ok((t, b) in res.out[port], f"{port}: untracked private-source frame sent as asked",
              summary(b), "missing")
    res.out["outside"] = [x for x in res.out["outside"] if ("outside",) + x not in tr.leaks]
    for port in ("inside", "outside"):
        got = res.ip(port) if tr.only_ip else res.out[port]
        exp = tr.expect[port]
        for i in range(0 if port in tr.own_check else max(len(got), len(exp))):
            what = f"{port} output #{i}"
            if i >= len(got):
                ck.ok(False, what + " missing", summary(exp[i][1]), "nothing")
                continue
            if i >= len(exp):
                ck.ok(False, what + " unexpected", "nothing", summary(got[i][1]))
                continue
            (te, be), (tg, bg) = exp[i], got[i]
            if ck.ok(be == bg, what + ": " + summary(be), summary(be),
                     summary(bg) + "\n    diff:     " + (field_diff(be, bg) if be != bg else "")):
                ck.eq(what + " timestamp", te, tg)
        for i, (_t, b) in enumerate(res.out[port]):
            probs = csum_problems(b)
            ck.ok(not probs, f"{port} output #{i} checksums recomputed", "all right",
                  ", ".join(probs) + " wrong in " + summary(b))
            ck.ok(len(b) <= 1514, f"{port} output #{i} fits the 1500 MTU", "<= 1514", len(b))
            want_mac = GW_IN_MAC if port == "inside" else GW_OUT_MAC
            ck.eq(f"{port} output #{i} source MAC", want_mac, Ether(b).src)
    # no inside address may leave the outside port, outer or embedded in an ICMP error
    for i, (_t, b) in enumerate(res.ip("outside")):
        ck.ok(not leaks_inside(b), f"outside output #{i} carries no inside address "
              "(untranslated leak)", "no 192.168.1.x", summary(b))
    # drops: exactly the expected IPv4 ones, each with a reason (the expected one, if given)
    got_drops = [] if tr.own_drops else res.ip_drops()
    for i in range(0 if tr.own_drops else max(len(got_drops), len(tr.drops))):
        if i >= len(got_drops):
            ck.ok(False, f"drop #{i} missing", summary(tr.drops[i][1]), "not dropped")
            continue
        idx, tg, bg = got_drops[i]
        if i >= len(tr.drops):
            ck.ok(False, f"drop #{i} unexpected", "nothing",
                  f"{summary(bg)} reason {res.reasons.get(idx)!r}")
            continue
        te, be = tr.drops[i]
        # the same datagram: protocol, IP id and destination (a packet dropped after NAT,
        # e.g. from the ARP hold queue, has its source already translated)
        pe, pg = ip_parts(be), ip_parts(bg)
        same = pg is not None and pe[0][9] == pg[0][9] and pe[0][16:20] == pg[0][16:20] and \
            pe[0][4:6] == pg[0][4:6]
        ck.ok(same and te == tg, f"drop #{i} is the expected packet",
              f"{summary(be)} at {te}", f"{summary(bg)} at {tg}")
        r = res.reasons.get(idx, "")
        ck.ok(r.strip() != "" and r.strip().lower() != "none", f"drop #{i} has a reason",
              "a reason", repr(r))
        want = tr.drop_reasons[i]
        if want is not None:
            rid = res.reason_id(idx)
            alts = want if isinstance(want, tuple) else (want,)
            ck.ok(any(rid == w or (w.endswith("_") and rid.startswith(w)) for w in alts),
                  f"drop #{i} reason ({summary(bg)})", " or ".join(alts), rid)
    for fn in tr.checks:
        fn(tr, res, ck)


def run_checked(replay, d, scenario, workers, ck, config=None):
    """Run one scenario (build_and_run) and check everything (verify)."""
    tr, res = build_and_run(replay, d, scenario, workers, config)
    arp_normalise(res)
    verify(tr, res, ck)
    return tr, res


def workers_of(name, workers=1):
    """SCENARIO_workers2 is SCENARIO with 2 workers: (SCENARIO, worker count)."""
    if name.endswith("_workers2"):
        return name[:-len("_workers2")], 2
    return name, workers


def write_config(d, keys=None, lines=None, subst=(), extra="", name="natgw-replay.ini"):
    """A scenario's own copy of CONFIG, written into run directory d; returns its path.
    `subst`: (old, new) text replacements (old must be there); `keys`: {section: {key:
    value}}, each key's line replaced, or added first in its section; `lines`: {section:
    [line, ...]} added first in their section. A section CONFIG lacks is appended with its
    keys and lines; `extra` is text appended at the end."""
    with open(CONFIG) as f:
        text = f.read()
    for old, new in subst:
        if old not in text:
            raise RuntimeError(f"{CONFIG}: no {old!r} to replace")
        text = text.replace(old, new, 1)
    keys = keys or {}
    lines = lines or {}

    def key_of(st):
        return st.split("=", 1)[0].strip() if "=" in st and not st.startswith(";") else None
    have, sec = set(), None
    for line in text.splitlines():
        st = line.strip()
        if st.startswith("["):
            sec = st.strip("[]").strip()
        elif key_of(st) is not None:
            have.add((sec, key_of(st)))
    out, done = [], set()

    def section_head(sec):
        done.add(sec)
        out.extend(lines.get(sec, []))
        out.extend(f"{k} = {v}" for k, v in keys.get(sec, {}).items() if (sec, k) not in have)
    sec = None
    for line in text.splitlines():
        st = line.strip()
        k = key_of(st)
        if st.startswith("["):
            sec = st.strip("[]").strip()
            out.append(line)
            section_head(sec)
        elif k is not None and k in keys.get(sec, {}):
            out.append(f"{k} = {keys[sec][k]}")
        else:
            out.append(line)
    for sec in list(keys) + list(lines):
        if sec not in done and (keys.get(sec) or lines.get(sec)):
            out += ["", f"[{sec}]"]
            section_head(sec)
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n" + ("\n" + extra.strip() + "\n" if extra else ""))
    return path


def main(argv, doc, scenarios, run=None, config=None, names=None, workers_opt=False):
    """The command line of every scenario file (its docstring `doc` says how to use it):

        FILE NATGW_REPLAY SCENARIO [--keep DIR]     (workers_opt: also [--workers N])
        FILE --list

    `scenarios`: {name: builder(tr)}. SCENARIO is one of `names` (--list prints them;
    default: every scenario, and SCENARIO_workers2 for each). `run(replay, d, name, ck,
    workers)` runs one into run directory d, recording its checks in ck (default:
    run_checked with the builder of workers_of(name), natgw-replay configured with
    config(d, SCENARIO) when config is given). The run directory is a temporary one,
    removed when every check passed, or DIR, emptied first and kept. Prints each failure
    and a summary; returns 0 when every check passed, 1 when one failed, 2 for bad usage."""
    if names is None:
        names = list(scenarios) + [n + "_workers2" for n in scenarios]
    if run is None:
        def run(replay, d, name, ck, workers):
            base, workers = workers_of(name, workers)
            run_checked(replay, d, scenarios[base], workers, ck,
                        config(d, base) if config is not None else None)
    if "--list" in argv:
        print("\n".join(names))
        return 0
    args = [a for a in argv[1:] if not a.startswith("-")]
    keep = None
    if "--keep" in argv:
        keep = argv[argv.index("--keep") + 1]
        args.remove(keep)
    workers = 1
    if workers_opt and "--workers" in argv:
        workers = int(argv[argv.index("--workers") + 1])
        args.remove(str(workers))
    if len(args) != 2:
        print(doc, file=sys.stderr)
        return 2
    replay, name = os.path.abspath(args[0]), args[1]
    if name not in names:
        print(f"unknown scenario {name}; --list", file=sys.stderr)
        return 2
    d = keep or tempfile.mkdtemp(prefix=f"natgw-replay-{name}-")
    if keep:
        shutil.rmtree(keep, ignore_errors=True)
        os.makedirs(keep)
    ck = Checks()
    try:
        run(replay, d, name, ck, workers)
    except Exception as e:  # noqa: BLE001 - report and fail, keep the files
        ck.ok(False, f"scenario {name} ran", "no error", f"{type(e).__name__}: {e}")
    for f in ck.failures:
        print(f)
    print(f"scenario {name}: {ck.passed} checks passed, {len(ck.failures)} failed"
          + (f" (files in {d})" if ck.failures or keep else ""))
    if not ck.failures and not keep:
        shutil.rmtree(d, ignore_errors=True)
    return 1 if ck.failures else 0


# ---------------------------------------------------------------------------------------------
# scenario building blocks


def preamble(tr, router=True):
    """Hosts and the router ARP for natgw's addresses: natgw answers and (RFC 826: it is the
    target) learns their MACs, so no packet of the scenario waits for ARP."""
    tr.send("inside", arp_req(H1_MAC, H1, GW_IN))
    tr.send("inside", arp_req(H2_MAC, H2, GW_IN))
    if router:
        tr.send("outside", arp_req(ROUTER_MAC, ROUTER, GW_OUT))


def host(tr, h, dst, l4, ttl=64, flags=0, options=None):
    mac = H1_MAC if h == H1 else H2_MAC
    return Ether(src=mac, dst=GW_IN_MAC) / IP(src=h, dst=dst, ttl=ttl, id=tr.ipid(h),
                                             flags=flags, options=options or []) / l4


def remote(tr, src, dst, l4, ttl=50):
    return Ether(src=ROUTER_MAC, dst=GW_OUT_MAC) / IP(src=src, dst=dst, ttl=ttl,
                                                     id=tr.ipid(src)) / l4


def to_out(x, **kw):
    """Expected frame on the outside port for inside input x."""
    return forwarded(x, GW_OUT_MAC, ROUTER_MAC, **kw)


def to_in(x, mac, **kw):
    return forwarded(x, GW_IN_MAC, mac, **kw)


def expect_preserved(name, inside_port):
    def fn(tr, res, ck):
        if tr.workers == 1:
            got = learn(tr, res).get(name)
            ck.eq(f"flow {name}: inside port {inside_port} preserved (port_preserve = yes)",
                  inside_port, got)
    return fn


def tcp_opts():
    return [("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]


# ---------------------------------------------------------------------------------------------
# scenarios


def sc_arp(tr):
    """natgw answers ARP requests for its own addresses on each port, and only those."""
    tr.only_ip = False
    tr.send("inside", arp_req(H1_MAC, H1, GW_IN))
    tr.out("inside", arp_reply(GW_IN_MAC, GW_IN, H1_MAC, H1))
    tr.send("inside", arp_req(H1_MAC, H1, "192.168.1.99"))       # not ours: silence
    tr.send("outside", arp_req(ROUTER_MAC, ROUTER, GW_OUT))
    tr.out("outside", arp_reply(GW_OUT_MAC, GW_OUT, ROUTER_MAC, ROUTER))
    tr.send("outside", arp_req(ROUTER_MAC, ROUTER, "203.0.113.77"))  # not ours
    tr.send("outside", arp_req(ROUTER_MAC, ROUTER, GW_IN))      # inside address, outside port
    tr.send("inside", arp_req(H2_MAC, H2, GW_IN))
    tr.out("inside", arp_reply(GW_IN_MAC, GW_IN, H2_MAC, H2))


def arp_normalise(res):
    """Strip zero padding of 60-byte ARP frames so they compare with scapy's 42 bytes."""
    for port in ("inside", "outside"):
        res.out[port] = [(t, b[:42] if b[12:14] == b"\x08\x06" and len(b) > 42 and
                          not any(b[42:]) else b) for t, b in res.out[port]]


def sc_arp_resolve(tr):
    """natgw resolves the outside gateway itself: the first packet waits, natgw sends an ARP
    request, the router's reply releases the held packet (timestamp of the reply)."""
    preamble(tr, router=False)
    tr.only_ip = False
    e = tr.flow("h1", "outside", lambda p: bytes(p[Raw].load) == b"held",
                lambda p: p[UDP].sport, 4500)
    x = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4500, dport=9999) / b"held"))
    tr.out("outside", Ether(src=GW_OUT_MAC, dst=BCAST) /
           ARP(op=1, hwsrc=GW_OUT_MAC, psrc=GW_OUT, hwdst="00:00:00:00:00:00", pdst=ROUTER))
    tr.send("outside", arp_reply(ROUTER_MAC, ROUTER, GW_OUT_MAC, GW_OUT), dt=200)
    tr.out("outside", to_out(x, src=GW_OUT, sport=e))
    y = tr.send("outside", remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=e) / b"back"))
    tr.out("inside", to_in(y, H1_MAC, dst=H1, dport=4500))
    x2 = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4500, dport=9999) / b"again"))
    tr.out("outside", to_out(x2, src=GW_OUT, sport=e))
    # preamble ARP replies are on the inside port: expect them first
    tr.expect["inside"] = [(T0 + 1000, bytes(arp_reply(GW_IN_MAC, GW_IN, H1_MAC, H1))),
                           (T0 + 2000, bytes(arp_reply(GW_IN_MAC, GW_IN, H2_MAC, H2)))] + \
        tr.expect["inside"]


def tcp_flow(tr, h, mac, sport, ext, payload_c, payload_s):
    """Generator of one TCP connection's packets through NAT, interleavable: yields after
    each packet."""
    def c(**kw):
        pl = kw.pop("load", None)
        p = host(tr, h, SERVER, TCP(sport=sport, dport=80, **kw))
        return p / pl if pl else p

    def s(**kw):
        pl = kw.pop("load", None)
        p = remote(tr, SERVER, GW_OUT, TCP(sport=80, dport=ext, **kw))
        return p / pl if pl else p

    def out(x):
        tr.out("outside", to_out(x, src=GW_OUT, sport=ext))

    def back(y):
        tr.out("inside", to_in(y, mac, dst=h, dport=sport))

    isn_c, isn_s = 1000 + sport, 5000 + sport
    lc, ls = len(payload_c), len(payload_s)
    out(tr.send("inside", c(flags="S", seq=isn_c, window=64240, options=tcp_opts())))
    yield
    back(tr.send("outside", s(flags="SA", seq=isn_s, ack=isn_c + 1, window=65160,
                              options=tcp_opts())))
    yield
    out(tr.send("inside", c(flags="A", seq=isn_c + 1, ack=isn_s + 1, window=502)))
    yield
    out(tr.send("inside", c(flags="PA", seq=isn_c + 1, ack=isn_s + 1, window=502,
                            load=payload_c)))
    yield
    back(tr.send("outside", s(flags="PA", seq=isn_s + 1, ack=isn_c + 1 + lc, window=509,
                              load=payload_s)))
    yield
    out(tr.send("inside", c(flags="A", seq=isn_c + 1 + lc, ack=isn_s + 1 + ls, window=501)))
    yield
    out(tr.send("inside", c(flags="FA", seq=isn_c + 1 + lc, ack=isn_s + 1 + ls, window=501)))
    yield
    back(tr.send("outside", s(flags="FA", seq=isn_s + 1 + ls, ack=isn_c + 2 + lc,
                              window=509)))
    yield
    out(tr.send("inside", c(flags="A", seq=isn_c + 2 + lc, ack=isn_s + 2 + ls, window=501)))
    yield


def sc_tcp(tr):
    """Two TCP connections (H1 and H2), interleaved: handshake, data both ways, FIN close,
    translated both ways with checksums right and TTL decremented."""
    preamble(tr)
    e1 = tr.flow("tcp-h1", "outside", lambda p: p[TCP].flags == "S" and p[TCP].seq == 41000,
                 lambda p: p[TCP].sport, 40000)
    e2 = tr.flow("tcp-h2", "outside", lambda p: p[TCP].flags == "S" and p[TCP].seq == 41001,
                 lambda p: p[TCP].sport, 40001)
    g1 = tcp_flow(tr, H1, H1_MAC, 40000, e1, b"GET / HTTP/1.0\r\n\r\n", b"x" * 200)
    g2 = tcp_flow(tr, H2, H2_MAC, 40001, e2, b"hello from h2", b"y" * 1000)
    for _ in zip(g1, g2):       # one packet of each in turn
        pass
    tr.check(expect_preserved("tcp-h1", 40000))
    tr.check(expect_preserved("tcp-h2", 40001))


def sc_udp(tr):
    """UDP out and back; endpoint-independent mapping (same external port to another
    destination); a second host with the same source port gets another external port; a
    zero UDP checksum stays zero."""
    preamble(tr)
    pl = lambda p: bytes(p[Raw].load)  # noqa: E731
    p1 = tr.flow("h1", "outside", lambda p: pl(p).startswith(b"h1-a"), lambda p: p[UDP].sport,
                 4000)
    p2 = tr.flow("h2", "outside", lambda p: pl(p).startswith(b"h2-a"), lambda p: p[UDP].sport,
                 4002)
    p3 = tr.flow("z", "outside", lambda p: pl(p).startswith(b"zero"), lambda p: p[UDP].sport,
                 4001)
    x = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4000, dport=9999) / b"h1-a"))
    tr.out("outside", to_out(x, src=GW_OUT, sport=p1))
    y = tr.send("outside", remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=p1) / b"r1-a"))
    tr.out("inside", to_in(y, H1_MAC, dst=H1, dport=4000))
    x = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4000, dport=9999) / (b"h1-b" * 50)))
    tr.out("outside", to_out(x, src=GW_OUT, sport=p1))
    x = tr.send("inside", host(tr, H1, SERVER2, UDP(sport=4000, dport=7777) / b"h1-eim"))
    tr.out("outside", to_out(x, src=GW_OUT, sport=p1))           # RFC 4787 REQ-1: EIM
    y = tr.send("outside", remote(tr, SERVER2, GW_OUT, UDP(sport=7777, dport=p1) / b"r1-e"))
    tr.out("inside", to_in(y, H1_MAC, dst=H1, dport=4000))
    x = tr.send("inside", host(tr, H2, SERVER, UDP(sport=4000, dport=9999) / b"h2-a"))
    tr.out("outside", to_out(x, src=GW_OUT, sport=p2))
    y = tr.send("outside", remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=p2) / b"r2-a"))
    tr.out("inside", to_in(y, H2_MAC, dst=H2, dport=4000))
    x = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4001, dport=9999, chksum=0) /
                                b"zero checksum"))
    tr.out("outside", to_out(x, src=GW_OUT, sport=p3))
    y = tr.send("outside", remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=p3, chksum=0) /
                                  b"zero back"))
    tr.out("inside", to_in(y, H1_MAC, dst=H1, dport=4001))
    # a translated UDP checksum that computes to 0 must be sent as 0xffff (RFC 768), both
    # ways: the payload's last word is chosen so that the translated sum is all ones
    p4 = tr.flow("edge", "outside", lambda p: pl(p).startswith(b"edge"), lambda p: p[UDP].sport,
                 4003)
    x = udp_csum_edge(host(tr, H1, SERVER, UDP(sport=4003, dport=9999) / b"edge.."),
                      GW_OUT, None, p4, None)
    tr.send("inside", x)
    tr.out("outside", to_out(x, src=GW_OUT, sport=p4))
    y = udp_csum_edge(remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=p4) / b"edge.."),
                      None, H1, None, 4003)
    tr.send("outside", y)
    tr.out("inside", to_in(y, H1_MAC, dst=H1, dport=4003))
    tr.check(lambda t, r, ck: ck.eq("translated UDP checksums 0 sent as 0xffff (RFC 768)",
                                    [0xffff, 0xffff],
                                    [Ether(b)[UDP].chksum for _t, b in r.ip("outside") +
                                     r.ip("inside") if b[-6:-2] == b"edge"]))
    # IPv4 options: the L4 header is further in (IHL 6); options are kept
    x = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4000, dport=9999) / b"h1-opts",
                               options=[IPOption_Router_Alert()]))
    tr.out("outside", to_out(x, src=GW_OUT, sport=p1))
    tr.check(expect_preserved("h1", 4000))
    tr.check(lambda t, r, ck: ck.ok(learn(t, r).get("h2") not in (None, learn(t, r).get("h1")),
                                    "H2:4000 gets an external port other than H1:4000's",
                                    "!= " + str(learn(t, r).get("h1")), learn(t, r).get("h2")))


def udp_csum_edge(frame, src, dst, sport, dport):
    """frame (UDP, payload ending in a spare 16-bit word at an even offset) with that word
    set so that, once translated to src/dst/sport/dport (None: unchanged), the UDP checksum
    computes to 0, i.e. must be sent as 0xffff."""
    p = concrete(frame)
    t = p.copy()
    if src:
        t[IP].src = src
    if dst:
        t[IP].dst = dst
    if sport is not None:
        t[UDP].sport = sport
    if dport is not None:
        t[UDP].dport = dport
    load = bytes(p[Raw].load)
    t[Raw].load = load[:-2] + b"\0\0"
    del t[UDP].chksum
    c = concrete(t)[UDP].chksum         # ~sum with the word 0: setting the word to it
    p[Raw].load = load[:-2] + struct.pack("!H", c)   # makes the translated sum 0xffff
    del p[UDP].chksum
    del p[IP].chksum
    return concrete(p)


def sc_icmp_echo(tr):
    """ICMP echo: identifier translated out and back; two hosts with the same identifier
    get different external identifiers."""
    preamble(tr)
    i1 = tr.flow("h1", "outside", lambda p: p[ICMP].type == 8 and bytes(p[Raw].load) == b"h1-1",
                 lambda p: p[ICMP].id, 0x1234)
    i2 = tr.flow("h2", "outside", lambda p: p[ICMP].type == 8 and bytes(p[Raw].load) == b"h2-1",
                 lambda p: p[ICMP].id, 0x1235)
    for seq in (1, 2):
        x = tr.send("inside", host(tr, H1, SERVER, ICMP(type=8, id=0x1234, seq=seq) /
                                   f"h1-{seq}".encode()))
        tr.out("outside", to_out(x, src=GW_OUT, sport=i1))
        y = tr.send("outside", remote(tr, SERVER, GW_OUT, ICMP(type=0, id=i1, seq=seq) /
                                      f"h1-{seq}".encode()))
        tr.out("inside", to_in(y, H1_MAC, dst=H1, sport=0x1234))
    x = tr.send("inside", host(tr, H2, SERVER, ICMP(type=8, id=0x1234, seq=1) / b"h2-1"))
    tr.out("outside", to_out(x, src=GW_OUT, sport=i2))
    y = tr.send("outside", remote(tr, SERVER, GW_OUT, ICMP(type=0, id=i2, seq=1) / b"h2-1"))
    tr.out("inside", to_in(y, H2_MAC, dst=H2, sport=0x1234))
    tr.check(expect_preserved("h1", 0x1234))
    tr.check(lambda t, r, ck: ck.ok(learn(t, r).get("h2") not in (None, learn(t, r).get("h1")),
                                    "H2's echo id 0x1234 gets another external id than H1's",
                                    "!= " + str(learn(t, r).get("h1")), learn(t, r).get("h2")))


def sc_icmp_error(tr):
    """ICMP errors from the router/server about outbound flows, translated back to the
    inside host: outer destination and the embedded header (addresses, ports, embedded
    IPv4 and L4 checksums) restored (RFC 5508 REQ-3, RFC 5382 REQ-9)."""
    preamble(tr)
    eu = tr.flow("udp", "outside", lambda p: p[UDP].dport == 33434, lambda p: p[UDP].sport, 4200)
    et = tr.flow("tcp", "outside", lambda p: p[TCP].dport == 443, lambda p: p[TCP].sport, 40020)
    x = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4200, dport=33434) / (b"u" * 32)))
    o = to_out(x, src=GW_OUT, sport=eu)
    tr.out("outside", o)
    # 1. time exceeded from the router, whole datagram quoted
    e = tr.send("outside", Ether(src=ROUTER_MAC, dst=GW_OUT_MAC) /
                IP(src=ROUTER, dst=GW_OUT, ttl=255, id=0x777) / ICMP(type=11, code=0) /
                Raw(quote(o, ttl=1)))
    tr.out("inside", icmp_error_translated(e, GW_IN_MAC, H1_MAC, new_outer_dst=H1,
                                           embedded=quote(x, ttl=1)))
    # 2. port unreachable from the server, IP header + 8 bytes quoted (RFC 792)
    e = tr.send("outside", remote(tr, SERVER, GW_OUT, ICMP(type=3, code=3) /
                                  Raw(quote(o, ttl=60, l4_bytes=8))))
    tr.out("inside", icmp_error_translated(e, GW_IN_MAC, H1_MAC, new_outer_dst=H1,
                                           embedded=quote(x, ttl=60, l4_bytes=8)))
    # 3. TCP SYN; time exceeded from the router quoting 8 bytes; fragmentation needed
    # (PMTUD, next-hop MTU 1280) quoting all; then the SYN-ACK still passes
    s = tr.send("inside", host(tr, H1, SERVER, TCP(sport=40020, dport=443, flags="S",
                                                   seq=777, window=64240, options=tcp_opts())))
    so = to_out(s, src=GW_OUT, sport=et)
    tr.out("outside", so)
    e = tr.send("outside", Ether(src=ROUTER_MAC, dst=GW_OUT_MAC) /
                IP(src=ROUTER, dst=GW_OUT, ttl=255, id=0x778) / ICMP(type=11, code=0) /
                Raw(quote(so, ttl=1, l4_bytes=8)))
    tr.out("inside", icmp_error_translated(e, GW_IN_MAC, H1_MAC, new_outer_dst=H1,
                                           embedded=quote(s, ttl=1, l4_bytes=8)))
    e = tr.send("outside", Ether(src=ROUTER_MAC, dst=GW_OUT_MAC) /
                IP(src=ROUTER, dst=GW_OUT, ttl=255, id=0x779) /
                ICMP(type=3, code=4, nexthopmtu=1280) / Raw(quote(so, ttl=62)))
    tr.out("inside", icmp_error_translated(e, GW_IN_MAC, H1_MAC, new_outer_dst=H1,
                                           embedded=quote(s, ttl=62)))
    y = tr.send("outside", remote(tr, SERVER, GW_OUT, TCP(sport=443, dport=et, flags="SA",
                                                          seq=9000, ack=778, window=65160,
                                                          options=tcp_opts())))
    tr.out("inside", to_in(y, H1_MAC, dst=H1, dport=40020))
    # 4. a forged error from outside quoting a packet *to* the inside host (it matches the
    # UDP flow's original direction): dropped, never sent back out of the uplink
    forged = IP(src=SERVER, dst=H1, ttl=60, id=9) / UDP(sport=33434, dport=4200) / (b"f" * 8)
    tr.drop(tr.send("outside", remote(tr, PEER, GW_OUT, ICMP(type=3, code=3) /
                                      Raw(bytes(forged)))))


def sc_unsolicited(tr):
    """Unsolicited inbound TCP, UDP and ICMP to the outside address: dropped, with a reason,
    nothing leaves the inside port."""
    preamble(tr)
    for l4 in (TCP(sport=12345, dport=5555, flags="S", seq=1),
               TCP(sport=12345, dport=5557, flags="A", seq=1, ack=1),
               UDP(sport=12345, dport=5556) / b"hi",
               ICMP(type=0, id=0x7777, seq=1) / b"unsolicited echo reply"):
        tr.drop(tr.send("outside", remote(tr, PEER, GW_OUT, l4)))
    # an ICMP error about a flow natgw never saw
    ghost = IP(src=GW_OUT, dst=PEER, ttl=60, id=1) / UDP(sport=6000, dport=7000) / b"ghost"
    tr.drop(tr.send("outside", remote(tr, PEER, GW_OUT, ICMP(type=3, code=3) / Raw(bytes(ghost)))))
    # straight to an inside address (no NAT involved), and with an inside source address
    tr.drop(tr.send("outside", remote(tr, PEER, H1, UDP(sport=12345, dport=4000) / b"direct")))
    tr.drop(tr.send("outside", remote(tr, PEER, H1, TCP(sport=12345, dport=22, flags="S"))))
    tr.drop(tr.send("outside", remote(tr, "192.168.1.50", GW_OUT,
                                      UDP(sport=4000, dport=4000) / b"spoofed")))
    tr.check(lambda t, r, ck: ck.eq("nothing leaves the inside port but ARP replies", [],
                                    [summary(b) for _t, b in r.ip("inside")]))


def sc_forward(tr):
    """Port forwards: TCP 203.0.113.2:8080 -> 192.168.1.10:80 (connection in both
    directions), UDP range 27000-27010 -> 192.168.1.20:27000-27010; an unforwarded port is
    dropped; a forwarded port is never handed to an outbound flow."""
    preamble(tr)

    def p(**kw):
        pl = kw.pop("load", None)
        x = remote(tr, PEER, GW_OUT, TCP(sport=33000, dport=8080, **kw))
        return x / pl if pl else x

    def h(**kw):
        pl = kw.pop("load", None)
        x = host(tr, H1, PEER, TCP(sport=80, dport=33000, **kw))
        return x / pl if pl else x

    def fin(y):
        tr.out("inside", to_in(y, H1_MAC, dst=H1, dport=80))

    def fout(x):
        tr.out("outside", to_out(x, src=GW_OUT, sport=8080))

    fin(tr.send("outside", p(flags="S", seq=100, window=64240, options=tcp_opts())))
    fout(tr.send("inside", h(flags="SA", seq=700, ack=101, window=65160, options=tcp_opts())))
    fin(tr.send("outside", p(flags="A", seq=101, ack=701, window=502)))
    fin(tr.send("outside", p(flags="PA", seq=101, ack=701, window=502, load=b"GET /\r\n")))
    fout(tr.send("inside", h(flags="PA", seq=701, ack=108, window=509, load=b"z" * 300)))
    fin(tr.send("outside", p(flags="FA", seq=108, ack=1001, window=502)))
    fout(tr.send("inside", h(flags="FA", seq=1001, ack=109, window=509)))
    fin(tr.send("outside", p(flags="A", seq=109, ack=1002, window=502)))
    # UDP range forward: 27005 -> H2:27005
    y = tr.send("outside", remote(tr, PEER, GW_OUT, UDP(sport=5000, dport=27005) / b"game"))
    tr.out("inside", to_in(y, H2_MAC, dst=H2))
    x = tr.send("inside", host(tr, H2, PEER, UDP(sport=27005, dport=5000) / b"state"))
    tr.out("outside", to_out(x, src=GW_OUT))
    # H2 answers the forwarded datagram with an ICMP port unreachable: outbound error
    # translation (RFC 5508 REQ-3): outer source and the quoted destination become natgw's
    e = tr.send("inside", host(tr, H2, PEER, ICMP(type=3, code=3) /
                               Raw(quote(to_in(y, H2_MAC, dst=H2)))))
    tr.out("outside", icmp_error_translated(e, GW_OUT_MAC, ROUTER_MAC, new_outer_src=GW_OUT,
                                            embedded=quote(y, ttl=y[IP].ttl - 1)))
    # not forwarded
    tr.drop(tr.send("outside", remote(tr, PEER, GW_OUT, TCP(sport=33001, dport=8081, flags="S"))))
    # an inside host using source port 8080 must not be given the forwarded external port
    q = tr.flow("h2-8080", "outside", lambda p: p[TCP].dport == 80 and p[IP].src == GW_OUT,
                lambda p: p[TCP].sport, 8081)
    x = tr.send("inside", host(tr, H2, SERVER, TCP(sport=8080, dport=80, flags="S", seq=5)))
    tr.out("outside", to_out(x, src=GW_OUT, sport=q))
    tr.check(lambda t, r, ck: ck.ok(learn(t, r).get("h2-8080") not in (None, 8080),
                                    "outbound flow from inside port 8080 not mapped to the "
                                    "forwarded external port 8080", "!= 8080",
                                    learn(t, r).get("h2-8080")))


def no_arp_for_self(tr, res, ck):
    """natgw never ARPs for one of its own addresses."""
    for port in ("inside", "outside"):
        bad = [summary(b) for _t, b in res.arp(port)
               if Ether(b)[ARP].op == 1 and Ether(b)[ARP].pdst in (GW_IN, GW_OUT)]
        ck.eq(f"{port}: no ARP request for natgw's own address", [], bad)


def sc_hairpin(tr):
    """Hairpinning (RFC 4787 REQ-9, RFC 5382 REQ-8): H2 connects to the outside address's
    forwarded port; natgw sends it to H1 with H2's external address as source, and H1's
    answer back to H2 from the forwarded external address and port."""
    preamble(tr)
    q = tr.flow("h2", "inside", lambda p: p[TCP].dport == 80 and p[IP].dst == H1,
                lambda p: p[TCP].sport, 41000)

    def c(**kw):
        pl = kw.pop("load", None)
        x = host(tr, H2, GW_OUT, TCP(sport=41000, dport=8080, **kw))
        return x / pl if pl else x

    def s(**kw):
        pl = kw.pop("load", None)
        x = host(tr, H1, GW_OUT, TCP(sport=80, dport=q, **kw))
        return x / pl if pl else x

    def to_h1(x):
        tr.out("inside", to_in(x, H1_MAC, src=GW_OUT, sport=q, dst=H1, dport=80))

    def to_h2(y):
        tr.out("inside", to_in(y, H2_MAC, src=GW_OUT, sport=8080, dst=H2, dport=41000))

    to_h1(tr.send("inside", c(flags="S", seq=10, window=64240, options=tcp_opts())))
    to_h2(tr.send("inside", s(flags="SA", seq=20, ack=11, window=65160, options=tcp_opts())))
    to_h1(tr.send("inside", c(flags="A", seq=11, ack=21, window=502)))
    to_h1(tr.send("inside", c(flags="PA", seq=11, ack=21, window=502, load=b"ping")))
    to_h2(tr.send("inside", s(flags="PA", seq=21, ack=15, window=509, load=b"pong")))
    # UDP to another inside host's endpoint-independent mapping (RFC 4787 REQ-9): H1:4000
    # talks to SERVER (mapping 203.0.113.2:4000); H2:5000 sends to 203.0.113.2:4000. The
    # hairpinned packet is filtered by H1's mapping like any inbound one from H2's outside
    # endpoint (RFC 4787 section 5): under APDF it is refused until H1 has sent to that
    # endpoint; H1's packet to it then passes (H2 has sent to H1's), and so does H2's next
    # (hole punching, as between two NATs). This scenario used to expect the first one
    # delivered: hairpinning skipped the filtering.
    u = tr.flow("h2-udp", "inside", lambda p: bytes(p[Raw].load) == b"to h1's mapping again",
                lambda p: p[UDP].sport, 5000)
    m1 = tr.flow("h1-udp", "outside", lambda p: bytes(p[Raw].load) == b"h1 out",
                 lambda p: p[UDP].sport, 4000)
    x = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4000, dport=9999) / b"h1 out"))
    tr.out("outside", to_out(x, src=GW_OUT, sport=m1))
    x = tr.send("inside", host(tr, H2, GW_OUT, UDP(sport=5000, dport=m1) / b"to h1's mapping"))
    tr.drop(x)                      # APDF: H1 never sent to 203.0.113.2:u
    y = tr.send("inside", host(tr, H1, GW_OUT, UDP(sport=4000, dport=u) / b"h1 answers"))
    tr.out("inside", to_in(y, H2_MAC, src=GW_OUT, sport=m1, dst=H2, dport=5000))
    x = tr.send("inside", host(tr, H2, GW_OUT, UDP(sport=5000, dport=m1) /
                               b"to h1's mapping again"))
    tr.out("inside", to_in(x, H1_MAC, src=GW_OUT, sport=u, dst=H1, dport=4000))
    tr.check(expect_preserved("h2", 41000))
    tr.check(expect_preserved("h2-udp", 5000))


def sc_to_gw_unmapped(tr):
    """From inside to natgw's outside address on a port nothing is forwarded or mapped to:
    nowhere to go, so dropped at once (not translated and sent to natgw's own address, and
    natgw never ARPs for itself)."""
    preamble(tr)
    tr.drop(tr.send("inside", host(tr, H1, GW_OUT, UDP(sport=4001, dport=6000) / b"nobody")))
    tr.drop(tr.send("inside", host(tr, H1, GW_OUT, TCP(sport=40050, dport=6001, flags="S"))))
    x = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4002, dport=9999) / b"after"))
    tr.out("outside", to_out(x, src=GW_OUT))
    tr.check(no_arp_for_self)


def sc_udp_timeout(tr):
    """A UDP mapping times out by the packet clock (--timeout udp_unreplied=30): a reply 29 s
    after the request passes, one 31 s after is dropped; the next request maps again."""
    preamble(tr)
    tr.replay_args += ["--timeout", "udp_unreplied=30"]
    pl = lambda p: bytes(p[Raw].load)  # noqa: E731
    ea = tr.flow("a", "outside", lambda p: pl(p) == b"a", lambda p: p[UDP].sport, 4100)
    eb = tr.flow("b", "outside", lambda p: pl(p) == b"b", lambda p: p[UDP].sport, 4101)
    eb2 = tr.flow("b2", "outside", lambda p: pl(p) == b"b2", lambda p: p[UDP].sport, 4101)
    t0 = tr.t
    a = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4100, dport=9999) / b"a"))
    tr.out("outside", to_out(a, src=GW_OUT, sport=ea))
    b = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4101, dport=9999) / b"b"))
    tr.out("outside", to_out(b, src=GW_OUT, sport=eb))
    y = tr.send("outside", remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=ea) / b"ra"),
                dt=t0 + 1000 + 29000000 - tr.t)
    tr.out("inside", to_in(y, H1_MAC, dst=H1, dport=4100))
    tr.drop(tr.send("outside", remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=eb) / b"rb"),
                    dt=t0 + 2000 + 31000000 - tr.t))
    b2 = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4101, dport=9999) / b"b2"))
    tr.out("outside", to_out(b2, src=GW_OUT, sport=eb2))
    y = tr.send("outside", remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=eb2) / b"rb2"))
    tr.out("inside", to_in(y, H1_MAC, dst=H1, dport=4101))
    # the replied flow A is still there (udp_replied default > 30 s) well after 30 s
    y = tr.send("outside", remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=ea) / b"ra2"),
                dt=10000000)
    tr.out("inside", to_in(y, H1_MAC, dst=H1, dport=4100))


def sc_fragments(tr):
    """Out-of-order IPv4 fragments, both directions: natgw reassembles (or forwards) them
    translated; the reassembled datagram is compared with the expected one. A 3000-byte
    datagram, reassembled, is larger than the 1500 MTU: what leaves must be fragments that
    fit (RFC 791), reassembling to the translated datagram."""
    preamble(tr)
    tr.own_check = {"inside", "outside"}
    exp = {"inside": [], "outside": []}
    eth_in = Ether(src=H1_MAC, dst=GW_IN_MAC)
    eth_out = Ether(src=ROUTER_MAC, dst=GW_OUT_MAC)
    e = tr.flow("h1", "outside", lambda p: p[IP].frag == 0 and p[UDP].dport == 9999,
                lambda p: p[UDP].sport, 4300)
    dg = host(tr, H1, SERVER, UDP(sport=4300, dport=9999) / (bytes(range(256)) * 5))
    frags = fragment(concrete(dg)[IP], fragsize=512)
    for i in (2, 0, 1):
        tr.send("inside", eth_in / frags[i])
    exp["outside"].append(to_out(dg, src=GW_OUT, sport=e))
    rep = remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=e) / (bytes(range(255, -1, -1)) * 4))
    rfr = fragment(concrete(rep)[IP], fragsize=400)
    for i in (1, 2, 0):
        tr.send("outside", eth_out / rfr[i])
    exp["inside"].append(to_in(rep, H1_MAC, dst=H1, dport=4300))
    big = host(tr, H1, SERVER, UDP(sport=4300, dport=9999) / (b"0123456789" * 300))
    bfr = fragment(concrete(big)[IP], fragsize=1000)
    for i in (3, 1, 0, 2):
        tr.send("inside", eth_in / bfr[i])
    exp["outside"].append(to_out(big, src=GW_OUT, sport=e))

    def check(t, res, ck):
        for port, mac in (("outside", ROUTER_MAC), ("inside", H1_MAC)):
            frames = [b for _t, b in res.ip(port)]
            for i, b in enumerate(frames):
                ck.eq(f"{port} frame #{i} destination MAC", mac, Ether(b).dst)
            dgs = reassemble(frames)
            ck.eq(f"{port}: datagrams (by IP id)", len(exp[port]), len(dgs))
            for e in exp[port]:
                hdr_e, l4_e = ip_parts(bytes(e))
                ipid = struct.unpack("!H", hdr_e[4:6])[0]
                v = dgs.get(ipid)
                if not ck.ok(v is not None, f"{port}: datagram id {ipid:#x} complete",
                             "all fragments", "missing" if ipid in dgs else "absent"):
                    continue
                hdr, data = v
                ck.eq(f"{port} id {ipid:#x}: src/dst", hdr_e[12:20].hex(), hdr[12:20].hex())
                ck.eq(f"{port} id {ipid:#x}: TTL", hdr_e[8], hdr[8])
                ck.eq(f"{port} id {ipid:#x}: protocol", hdr_e[9], hdr[9])
                ck.ok(data == l4_e, f"{port} id {ipid:#x}: reassembled UDP datagram (ports, "
                      "checksum over all fragments, payload)", summary(bytes(e)),
                      field_diff(bytes(e), bytes(e)[:14] + hdr_e + data)
                      if len(data) == len(l4_e) else f"{len(data)} bytes")
    tr.check(check)


def sc_ttl(tr):
    """TTL expiry: natgw does not forward a datagram whose TTL would reach 0, and sends ICMP
    time exceeded (RFC 1812 5.3.1) back to the sender; TTL 2 passes with TTL 1."""
    preamble(tr)
    x = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4400, dport=9999) / (b"t" * 40),
                               ttl=1))
    x_t = tr.t
    s = tr.send("inside", host(tr, H1, SERVER, TCP(sport=40030, dport=80, flags="S", seq=1),
                               ttl=1))
    s_t = tr.t
    tr.drop(x, t=x_t)
    tr.drop(s, t=s_t)
    e = tr.flow("h1", "outside", lambda p: bytes(p[Raw].load) == b"ttl2",
                lambda p: p[UDP].sport, 4400)
    ok = tr.send("inside", host(tr, H1, SERVER, UDP(sport=4400, dport=9999) / b"ttl2", ttl=2))
    ok_out = to_out(ok, src=GW_OUT, sport=e)
    ok_t = tr.t
    # a reply with TTL 1 on the established flow: time exceeded back to the server, quoting
    # what the server sent (natgw's outside address), never the inside address
    r = tr.send("outside", remote(tr, SERVER, GW_OUT, UDP(sport=9999, dport=e) / b"r", ttl=1))
    tr.drop(r)

    def check(t, res, ck):
        got = res.ip("inside")
        ck.eq("inside: two time-exceeded messages", 2, len(got))
        for i, (orig, ts) in enumerate(((x, x_t), (s, s_t))):
            if i >= len(got):
                break
            tg, b = got[i]
            p = Ether(b)
            what = f"inside time exceeded #{i}"
            ck.eq(what + " timestamp", ts, tg)
            ck.eq(what + " MACs", (GW_IN_MAC, H1_MAC), (p.src, p.dst))
            ck.eq(what + " addresses", (GW_IN, H1), (p[IP].src, p[IP].dst))
            ck.ok(p[IP].ttl > 1, what + " TTL", "> 1", p[IP].ttl)
            ck.eq(what + " ICMP type/code", (11, 0), (p[ICMP].type, p[ICMP].code))
            q = bytes(p[ICMP].payload)
            oh, ol4 = ip_parts(bytes(orig))
            ck.ok(len(q) >= len(oh) + 8, what + " quotes IP header + 8 bytes", ">= 28",
                  len(q))
            ck.ok(len(b) - 14 <= 576, what + " at most 576 bytes (RFC 1812 4.3.2.3)", "<= 576",
                  len(b) - 14)
            ck.eq(what + " quoted datagram is the received one", (oh + ol4)[:len(q)].hex(),
                  q.hex())
        out = res.ip("outside")
        ck.ok(len(out) >= 1 and out[0] == (ok_t, bytes(ok_out)), "outside #0: the TTL-2 datagram "
              "forwarded with TTL 1", summary(bytes(ok_out)), summary(out[0][1]) if out else
              "nothing")
        ck.eq("outside: two frames", 2, len(out))
        te = [b for _t, b in out if Ether(b).haslayer(ICMP) and Ether(b)[ICMP].type == 11]
        ck.eq("outside: time exceeded for the TTL-1 reply", 1, len(te))
        for b in te:
            p = Ether(b)
            ck.eq("outside time exceeded: addresses", (GW_OUT, SERVER), (p[IP].src, p[IP].dst))
            ck.eq("outside time exceeded: next hop MAC", ROUTER_MAC, p.dst)
            q = bytes(p[ICMP].payload)
            rh, rl4 = ip_parts(bytes(r))
            ck.eq("outside time exceeded: quotes what the server sent", (rh + rl4)[:28].hex(),
                  q[:28].hex())
    tr.check(check)
    tr.own_check = {"inside", "outside"}   # gateway-made ICMP: checked field by field above


def sc_invalid_tcp(tr):
    """INVALID TCP segments are dropped, never forwarded untranslated: SYN+FIN, a segment far
    out of window (both directions), SYN+FIN opening a connection, a RST out of window; the
    connection keeps working afterwards, a valid RST closes it, a new SYN reopens it."""
    preamble(tr)
    e = tr.flow("h1", "outside", lambda p: p[TCP].flags == "S" and p[TCP].seq == 100,
                lambda p: p[TCP].sport, 40040)

    def c(**kw):
        pl = kw.pop("load", None)
        p = host(tr, H1, SERVER, TCP(sport=40040, dport=80, **kw))
        return p / pl if pl else p

    def s(**kw):
        pl = kw.pop("load", None)
        p = remote(tr, SERVER, GW_OUT, TCP(sport=80, dport=e, **kw))
        return p / pl if pl else p

    tr.out("outside", to_out(tr.send("inside", c(flags="S", seq=100, window=64240,
                                                 options=tcp_opts())), src=GW_OUT, sport=e))
    tr.out("inside", to_in(tr.send("outside", s(flags="SA", seq=900, ack=101, window=65160,
                                                options=tcp_opts())), H1_MAC, dst=H1, dport=40040))
    tr.out("outside", to_out(tr.send("inside", c(flags="A", seq=101, ack=901, window=502)),
                             src=GW_OUT, sport=e))
    tr.drop(tr.send("inside", c(flags="SF", seq=101, ack=901, window=502)))
    tr.drop(tr.send("inside", c(flags="PA", seq=101 + 0x40000000, ack=901, window=502,
                                load=b"far out")))
    tr.drop(tr.send("outside", s(flags="PA", seq=901 + 0x40000000, ack=101, window=509,
                                 load=b"far in")))
    tr.drop(tr.send("inside", host(tr, H2, SERVER, TCP(sport=40041, dport=80, flags="SF",
                                                       seq=1))))
    tr.out("outside", to_out(tr.send("inside", c(flags="PA", seq=101, ack=901, window=502,
                                                 load=b"still ok")), src=GW_OUT, sport=e))
    tr.out("inside", to_in(tr.send("outside", s(flags="A", seq=901, ack=109, window=509)),
                           H1_MAC, dst=H1, dport=40040))
    # a RST far outside the window is dropped (RFC 5961 3.2); an in-window one passes and
    # closes; a fresh SYN on the same ports then opens the connection again
    tr.drop(tr.send("outside", s(flags="R", seq=901 + 0x40000000, window=0)))
    tr.out("inside", to_in(tr.send("outside", s(flags="R", seq=901, window=0)), H1_MAC,
                           dst=H1, dport=40040))
    x = tr.send("inside", c(flags="S", seq=70000, window=64240, options=tcp_opts()), dt=2000000)
    tr.out("outside", to_out(x, src=GW_OUT, sport=e))
    tr.out("inside", to_in(tr.send("outside", s(flags="SA", seq=80000, ack=70001,
                                                window=65160, options=tcp_opts())),
                           H1_MAC, dst=H1, dport=40040))


def sc_ping_gw(tr):
    """natgw answers echo requests to its own address on each side (RFC 1122 3.2.2.6): same
    identifier, sequence and data, from the address pinged, back to the L2 sender; the
    request is not forwarded."""
    preamble(tr)
    tr.own_check = {"inside", "outside"}
    q_in = tr.send("inside", host(tr, H1, GW_IN, ICMP(type=8, id=0x4242, seq=7) / b"ping gw in"))
    t_in = tr.t
    q_out = tr.send("outside", remote(tr, PEER, GW_OUT, ICMP(type=8, id=0x4343, seq=9) /
                                      b"ping gw out"))
    t_out = tr.t

    def check(t, res, ck):
        for port, q, ts, gw_mac, peer_mac in (("inside", q_in, t_in, GW_IN_MAC, H1_MAC),
                                              ("outside", q_out, t_out, GW_OUT_MAC,
                                               ROUTER_MAC)):
            got = res.ip(port)
            if not ck.eq(f"{port}: one echo reply", 1, len(got)):
                continue
            tg, b = got[0]
            r = Ether(b)
            what = f"{port} echo reply"
            ck.eq(what + " timestamp", ts, tg)
            ck.eq(what + " MACs", (gw_mac, peer_mac), (r.src, r.dst))
            ck.eq(what + " addresses", (q[IP].dst, q[IP].src), (r[IP].src, r[IP].dst))
            ck.ok(r[IP].ttl > 1, what + " TTL", "> 1", r[IP].ttl)
            ck.eq(what + " type/code/id/seq", (0, 0, q[ICMP].id, q[ICMP].seq),
                  (r[ICMP].type, r[ICMP].code, r[ICMP].id, r[ICMP].seq))
            ck.eq(what + " data", bytes(q[ICMP].payload), bytes(r[ICMP].payload))
    tr.check(check)


SCENARIOS = {
    "arp": sc_arp,
    "arp_resolve": sc_arp_resolve,
    "tcp": sc_tcp,
    "udp": sc_udp,
    "icmp_echo": sc_icmp_echo,
    "icmp_error": sc_icmp_error,
    "unsolicited": sc_unsolicited,
    "forward": sc_forward,
    "hairpin": sc_hairpin,
    "udp_timeout": sc_udp_timeout,
    "fragments": sc_fragments,
    "ttl": sc_ttl,
    "invalid_tcp": sc_invalid_tcp,
    "ping_gw": sc_ping_gw,
    "to_gw_unmapped": sc_to_gw_unmapped,
}
# meta scenarios: determinism (same input twice, byte-identical outputs), --workers 2
DETERMINISM_SET = ["tcp", "icmp_error", "fragments", "udp_timeout", "forward"]
META = ["determinism", "tcp_workers2"]


def run_one(replay, d, name, ck, workers=1):
    name, workers = workers_of(name, workers)
    return run_checked(replay, d, SCENARIOS[name], workers, ck)


def run_twice(replay, d, name, workers, extra):
    """Base scenario `name` run twice on exactly the same inputs: with CONFIG, then with
    `extra` appended to it (each in its own directory under d). Returns [(tr, res)] * 2."""
    runs = []
    for k in range(2):
        dd = os.path.join(d, f"{name}-{k}")
        os.makedirs(dd, exist_ok=True)
        cfg = None if k == 0 else write_config(dd, extra=extra)
        inputs = runs[0][0].inputs if runs else None

        def build(tr, inputs=inputs):
            SCENARIOS[name](tr)
            if inputs is not None:      # exactly the inputs of the first run
                tr.inputs = inputs
        runs.append(build_and_run(replay, dd, build, workers, cfg))
    return runs


def output_files(d):
    return {f: open(os.path.join(d, f), "rb").read()
            for f in ("out-inside.pcap", "out-outside.pcap", "drops.pcap", "drops.pcap.txt")}


def meta_determinism(replay, d, ck):
    for workers in (1, 2):
        for name in DETERMINISM_SET if workers == 1 else ["tcp"]:
            runs = []
            for k in range(2):
                dd = os.path.join(d, f"{name}-w{workers}-{k}")
                os.makedirs(dd)
                tr, _ = build_and_run(replay, dd, SCENARIOS[name], workers)
                # the second run uses exactly the inputs of the first
                if k == 0:
                    ins = {p: open(os.path.join(dd, f"in-{p}.pcap"), "rb").read()
                           for p in ("inside", "outside")}
                else:
                    for p in ("inside", "outside"):
                        ck.eq(f"{name} w{workers}: same input ({p})", True,
                              ins[p] == open(os.path.join(dd, f"in-{p}.pcap"), "rb").read())
                runs.append(output_files(dd))
            for f in runs[0]:
                ck.ok(runs[0][f] == runs[1][f], f"{name} --workers {workers}: {f} byte-identical "
                      "across runs", "identical", "differs")
                if f.startswith("out-"):
                    ck.ok(len(runs[0][f]) > 24, f"{name} --workers {workers}: {f} has packets",
                          "> 24 bytes", len(runs[0][f]))


def flow_signature(res, ext_map):
    """Every output frame with the external ports normalised (for comparing runs whose
    external ports differ): (port, time, ip src, ip dst, sport, dport, flags, seq, ack,
    payload)."""
    sig = []
    for port in ("inside", "outside"):
        for t, b in res.ip(port):
            p = Ether(b)
            l4 = p[TCP]
            # external ports appear only as the source of what leaves the outside port
            sp, dp = l4.sport, l4.dport
            if port == "outside":
                sp = ext_map.get(sp, sp)
            sig.append((port, t, p[IP].src, p[IP].dst, sp, dp, str(l4.flags), l4.seq, l4.ack,
                        bytes(l4.payload)))
    return sig


def meta_tcp_workers2(replay, d, ck):
    d1, d2 = os.path.join(d, "w1"), os.path.join(d, "w2")
    os.makedirs(d1)
    os.makedirs(d2)
    tr1, res1 = run_one(replay, d1, "tcp", ck, workers=1)
    tr2, res2 = run_one(replay, d2, "tcp", ck, workers=2)
    e1, e2 = learn(tr1, res1), learn(tr2, res2)
    m1 = {v: "ext-" + k for k, v in e1.items()}
    m2 = {v: "ext-" + k for k, v in e2.items()}
    ck.eq("--workers 2: external ports are distinct per flow", len(e2), len(set(e2.values())))
    s1, s2 = flow_signature(res1, m1), flow_signature(res2, m2)
    ck.eq("--workers 2: same number of frames as with 1 worker", len(s1), len(s2))
    for i, (a, b) in enumerate(zip(s1, s2)):
        ck.eq(f"--workers 2: frame #{i} same translated flow as with 1 worker", a, b)


def run_named(replay, d, name, ck, workers):
    if name == "determinism":
        meta_determinism(replay, d, ck)
    elif name == "tcp_workers2":
        meta_tcp_workers2(replay, d, ck)
    else:
        run_one(replay, d, name, ck, workers)


if __name__ == "__main__":
    sys.exit(main(sys.argv, __doc__, SCENARIOS, run=run_named, workers_opt=True,
                  names=list(SCENARIOS) + META +
                  [n + "_workers2" for n in SCENARIOS if n + "_workers2" not in META]))

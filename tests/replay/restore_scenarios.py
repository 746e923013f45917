#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/restore_scenarios.py - sessions across a restart (app/gw_snapshot.c) and
natgw-replay's optional inputs, through natgw-replay (the real pipeline, clock from the
pcap timestamps):

    /usr/bin/python3 tests/replay/restore_scenarios.py NATGW_REPLAY SCENARIO [--keep DIR]
    /usr/bin/python3 tests/replay/restore_scenarios.py --list

restore_1to1, restore_2to1, restore_1to3, restore_2to2:
            one run of a scenario (a TCP download with window tracking on, a UDP flow, ICMP
            echo, a connection through a port forward, then an unsolicited packet, the TCP
            close) against two: the first half with --save, the second half with --restore
            (the worker counts of each run in the name: ownership is re-derived). What
            leaves each port and what is dropped must be the same records, byte for byte,
            timestamps too; the second half alone without --restore must differ (its
            packets are refused: the restore is what makes them pass).
restore_ftp, restore_ftp_2to1:
            active FTP split after the PORT command (rewritten to another length: sequence
            adjustment, a reserved outside port, an expectation): the second run's data
            connection finds the restored expectation (RELATED, to H1:1025), the next
            command leaves with the restored sequence shift; byte for byte as one run.
restore_refused: the snapshot truncated, corrupted, with another magic or version, from
            another NAT pool, or missing; with a right checksum but another record size, a
            count past the end, trailing bytes, an unknown section: natgw-replay --restore refuses each with a message
            naming the problem, exit status 2, and writes no output.
restore_expired: a snapshot restored 60 s after it was saved: the UDP flow (30 s) and the
            ICMP echo (30 s) are gone (the late UDP answer is dropped), the TCP connections
            (established, 5 days) still pass.
one_side_inside, one_side_outside: natgw-replay with only --in-inside (a UDP flow leaves
            translated) or only --in-outside (unsolicited packets are dropped): the other
            side is empty.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

H1, H1_MAC, H2, H2_MAC = sc.H1, sc.H1_MAC, sc.H2, sc.H2_MAC
SERVER, PEER, GW_OUT = sc.SERVER, sc.PEER, sc.GW_OUT
T0 = sc.T0
SEC = 1000000
# static ARP entries: the second run must not have to resolve what the first one learnt
# (the ARP cache is not part of the snapshot), so neither run resolves anything
ARP = (f"static = {sc.ROUTER} {sc.ROUTER_MAC}, {H1} {H1_MAC}, {H2} {H2_MAC}")


def out_frame(p):
    return bytes(Ether(src=sc.ROUTER_MAC, dst=sc.GW_OUT_MAC) / p)


def in_frame(p, mac):
    return bytes(Ether(src=mac, dst=sc.GW_IN_MAC) / p)


def tcp(src, dst, sport, dport, flags, seq, ack, data=b""):
    p = IP(src=src, dst=dst, ttl=64) / TCP(sport=sport, dport=dport, flags=flags, seq=seq,
                                          ack=ack, window=65535)
    return p / Raw(data) if data else p


def scenario():
    """Two halves: [(t, side, frame)]; side 0 inside, 1 outside."""
    a, b = [], []
    t = T0
    # first half: connections made
    c, s = 1000, 5000
    a.append((t, 0, in_frame(tcp(H1, SERVER, 40001, 80, "S", c, 0), H1_MAC)))
    a.append((t + 1000, 1, out_frame(tcp(SERVER, GW_OUT, 80, 40001, "SA", s, c + 1))))
    a.append((t + 2000, 0, in_frame(tcp(H1, SERVER, 40001, 80, "A", c + 1, s + 1), H1_MAC)))
    req = b"GET /big HTTP/1.0\r\n\r\n"
    a.append((t + 3000, 0, in_frame(tcp(H1, SERVER, 40001, 80, "PA", c + 1, s + 1, req),
                                    H1_MAC)))
    c += 1 + len(req)
    s += 1
    for k in range(4):
        d = bytes([65 + k]) * 1000
        a.append((t + 4000 + k * 100, 1, out_frame(tcp(SERVER, GW_OUT, 80, 40001, "A", s, c,
                                                       d))))
        s += len(d)
    a.append((t + 5000, 0, in_frame(tcp(H1, SERVER, 40001, 80, "A", c, s), H1_MAC)))
    a.append((t + 6000, 0, in_frame(IP(src=H2, dst=SERVER) / UDP(sport=5353, dport=53) /
                                    Raw(b"query"), H2_MAC)))
    a.append((t + 7000, 1, out_frame(IP(src=SERVER, dst=GW_OUT) / UDP(sport=53, dport=5353) /
                                     Raw(b"answer"))))
    a.append((t + 8000, 0, in_frame(IP(src=H2, dst=SERVER) / ICMP(type=8, id=77, seq=1) /
                                    Raw(b"ping"), H2_MAC)))
    a.append((t + 9000, 1, out_frame(IP(src=SERVER, dst=GW_OUT) / ICMP(type=0, id=77, seq=1) /
                                     Raw(b"ping"))))
    # through the port forward web = tcp 203.0.113.2:8080 -> 192.168.1.10:80
    a.append((t + 10000, 1, out_frame(tcp(PEER, GW_OUT, 33000, 8080, "S", 700, 0))))
    a.append((t + 11000, 0, in_frame(tcp(H1, PEER, 80, 33000, "SA", 900, 701), H1_MAC)))
    a.append((t + 12000, 1, out_frame(tcp(PEER, GW_OUT, 33000, 8080, "A", 701, 901))))
    # second half, 20 s later: the same connections go on
    t = T0 + 20 * SEC
    for k in range(3):
        d = bytes([97 + k]) * 1200
        b.append((t + k * 100, 1, out_frame(tcp(SERVER, GW_OUT, 80, 40001, "A", s, c, d))))
        s += len(d)
    b.append((t + 1000, 0, in_frame(tcp(H1, SERVER, 40001, 80, "A", c, s), H1_MAC)))
    b.append((t + 2000, 1, out_frame(IP(src=SERVER, dst=GW_OUT) / UDP(sport=53, dport=5353) /
                                     Raw(b"late answer"))))
    b.append((t + 3000, 0, in_frame(IP(src=H2, dst=SERVER) / UDP(sport=5353, dport=53) /
                                    Raw(b"again"), H2_MAC)))
    b.append((t + 6000, 1, out_frame(tcp(PEER, GW_OUT, 33000, 8080, "PA", 701, 901,
                                         b"hello"))))
    b.append((t + 7000, 0, in_frame(tcp(H1, PEER, 80, 33000, "PA", 901, 706, b"world"),
                                    H1_MAC)))
    # unsolicited: dropped in every run
    b.append((t + 8000, 1, out_frame(IP(src=SERVER, dst=GW_OUT) / UDP(sport=53, dport=6000) /
                                     Raw(b"x"))))
    # a segment far outside the window: dropped (the restored window data says so)
    b.append((t + 9000, 1, out_frame(tcp(SERVER, GW_OUT, 80, 40001, "A", s + 50000000, c,
                                         b"stale"))))
    # the close
    b.append((t + 10000, 0, in_frame(tcp(H1, SERVER, 40001, 80, "FA", c, s), H1_MAC)))
    b.append((t + 11000, 1, out_frame(tcp(SERVER, GW_OUT, 80, 40001, "FA", s, c + 1))))
    b.append((t + 12000, 0, in_frame(tcp(H1, SERVER, 40001, 80, "A", c + 1, s + 1), H1_MAC)))
    return a, b


def write_inputs(d, tag, frames):
    ins = os.path.join(d, f"{tag}_in.pcap")
    outs = os.path.join(d, f"{tag}_out.pcap")
    sc.write_pcap(ins, [(t, f) for t, side, f in frames if side == 0])
    sc.write_pcap(outs, [(t, f) for t, side, f in frames if side == 1])
    return ins, outs


def replay(binary, d, tag, config, ins, outs, workers=1, extra=()):
    """Run natgw-replay; returns (rc, stderr, {port: records, 'drops': records, 'txt'})."""
    o = {k: os.path.join(d, f"{tag}_{k}.pcap") for k in ("oin", "oout", "drops")}
    args = [binary, "--config", config, "--out-inside", o["oin"], "--out-outside", o["oout"],
            "--out-drops", o["drops"], "--workers", str(workers)] + list(extra)
    if ins is not None:
        args += ["--in-inside", ins]
    if outs is not None:
        args += ["--in-outside", outs]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    res = {}
    if r.returncode == 0:
        for k, p in o.items():
            res[k] = sc.read_pcap(p)
        with open(o["drops"] + ".txt") as f:
            res["txt"] = [ln.split(" ", 1)[1] for ln in f.read().splitlines()]
    else:
        res["files"] = [p for p in o.values() if os.path.exists(p) and os.path.getsize(p)]
    return r.returncode, r.stdout + r.stderr, res


def config(d, extra_keys=None):
    keys = {"arp": {"static": ARP.split("=", 1)[1].strip()}}
    for sec, kv in (extra_keys or {}).items():
        keys.setdefault(sec, {}).update(kv)
    return sc.write_config(d, keys=keys, name="restore.ini")


def check_same(ck, what, whole, first, second):
    for k in ("oin", "oout", "drops", "txt"):
        ck.eq(f"{what}: {k}: records", len(whole[k]), len(first[k]) + len(second[k]))
        ck.ok(whole[k] == first[k] + second[k], f"{what}: {k}: same records as one run",
              f"{len(whole[k])} records", "differ")


def sc_restore(binary, d, ck, w_first, w_second):
    cfg = config(d)
    a, b = scenario()
    snap = os.path.join(d, "snap.bin")
    rc, log, whole = replay(binary, d, "whole", cfg, *write_inputs(d, "whole", a + b),
                            workers=w_first)
    ck.eq("whole run exit status", 0, rc)
    rc, log1, first = replay(binary, d, "first", cfg, *write_inputs(d, "first", a),
                             workers=w_first, extra=["--save", snap])
    ck.eq("first half (--save) exit status", 0, rc)
    ck.ok("saved " in log1 and "4 connections" in log1, "the save reports 4 connections",
          "4 connections", log1.strip().splitlines()[:2])
    ins, outs = write_inputs(d, "second", b)
    rc, log2, second = replay(binary, d, "second", cfg, ins, outs, workers=w_second,
                              extra=["--restore", snap])
    ck.eq("second half (--restore) exit status", 0, rc)
    ck.ok("restored" in log2 and "4 connections (0 refused, 0 expired)" in log2,
          "the restore reports 4 connections", "4 connections (0 refused, 0 expired)",
          log2.strip().splitlines()[:2])
    if ck.failures:
        return
    check_same(ck, f"workers {w_first} then {w_second}", whole, first, second)
    # every translated packet of the second half passed: nothing but the two planted drops
    ck.eq("second half: drops", ["NAT_NO_MAPPING nat: unsolicited inbound (no mapping)",
                                 "CT_TCP_OUT_OF_WINDOW ct: tcp segment outside window"],
          second["txt"])
    for t, f in second["oout"]:
        ck.ok(not sc.leaks_inside(f), "no inside address leaves the uplink")
    # without the restore the second half is refused: the test depends on it
    rc, _, bare = replay(binary, d, "bare", cfg, ins, outs, workers=w_second)
    ck.eq("second half alone exit status", 0, rc)
    ck.ok(bare["oout"] != second["oout"] and len(bare["txt"]) > len(second["txt"]),
          "without --restore the second half is refused", "more drops",
          f"{len(bare['txt'])} drops")


def sc_restore_ftp(binary, d, ck, w_first, w_second):
    """Active FTP: the PORT rewrite (another length: sequence adjustment, a reserved outside
    port, an expectation) in the first run; the data connection and more commands in the
    second, restored one; against one unbroken run."""
    cfg = config(d)
    c, s, t = 1000, 5000, T0
    a = [(t, 0, in_frame(tcp(H1, SERVER, 40010, 21, "S", c, 0), H1_MAC)),
         (t + 1000, 1, out_frame(tcp(SERVER, GW_OUT, 21, 40010, "SA", s, c + 1))),
         (t + 2000, 0, in_frame(tcp(H1, SERVER, 40010, 21, "A", c + 1, s + 1), H1_MAC))]
    c, s = c + 1, s + 1
    a.append((t + 3000, 1, out_frame(tcp(SERVER, GW_OUT, 21, 40010, "PA", s, c,
                                         b"220 ready\r\n"))))
    s += 11
    port_cmd = b"PORT 192,168,1,10,4,1\r\n"
    a.append((t + 4000, 0, in_frame(tcp(H1, SERVER, 40010, 21, "PA", c, s, port_cmd), H1_MAC)))
    snap = os.path.join(d, "snap.bin")
    rc, log1, first = replay(binary, d, "first", cfg, *write_inputs(d, "first", a),
                             workers=w_first, extra=["--save", snap])
    ck.eq("first run exit status", 0, rc)
    ck.ok("1 expectations" in log1 and "1 helper records" in log1,
          "the save has the helper record and the expectation", "1 helper records", log1)
    if ck.failures:
        return
    sent = [Ether(f) for _, f in first["oout"] if TCP in Ether(f) and Raw in Ether(f)]
    ck.eq("the PORT left", 1, len(sent))
    if not sent:
        return
    txt = bytes(sent[0][Raw].load)
    nums = txt.decode().split()[1].split(",")
    dport = int(nums[4]) * 256 + int(nums[5])
    delta = len(txt) - len(port_cmd)
    ck.ok(txt.startswith(b"PORT 203,0,113,2,") and delta != 0,
          "the PORT was rewritten to another length", "PORT 203,0,113,2,...", txt)
    c += len(port_cmd)
    t = T0 + 20 * SEC
    b = [(t, 1, out_frame(tcp(SERVER, GW_OUT, 21, 40010, "PA", s, c + delta, b"200 ok\r\n"))),
         (t + 1000, 1, out_frame(tcp(SERVER, GW_OUT, 20, dport, "S", 9000, 0))),
         (t + 2000, 0, in_frame(tcp(H1, SERVER, 1025, 20, "SA", 7000, 9001), H1_MAC)),
         (t + 3000, 0, in_frame(tcp(H1, SERVER, 40010, 21, "PA", c, s + 8, b"LIST\r\n"),
                                H1_MAC)),
         (t + 4000, 1, out_frame(tcp(SERVER, GW_OUT, 21, 40010, "A", s + 8, c + delta + 6)))]
    rc, _, whole = replay(binary, d, "whole", cfg, *write_inputs(d, "whole", a + b),
                          workers=w_first)
    ck.eq("whole run exit status", 0, rc)
    ins, outs = write_inputs(d, "second", b)
    rc, log2, second = replay(binary, d, "second", cfg, ins, outs, workers=w_second,
                              extra=["--restore", snap])
    ck.eq("second run (--restore) exit status", 0, rc)
    ck.ok("1 helper records, 1 expectations (0 refused)" in log2,
          "the helper record and the expectation are restored", "1 helper records", log2)
    if ck.failures:
        return
    check_same(ck, f"ftp, workers {w_first} then {w_second}", whole, first, second)
    ck.eq("second run: nothing dropped", [], second["txt"])
    data = [Ether(f) for _, f in second["oin"] if Ether(f)[TCP].flags == "S"]
    ck.ok(len(data) == 1 and data[0][IP].dst == H1 and data[0][TCP].dport == 1025,
          "the data connection reaches H1:1025 (the restored expectation)", "SYN to H1:1025",
          [x.summary() for x in data])
    lst = [Ether(f) for _, f in second["oout"] if Raw in Ether(f)]
    ck.ok(len(lst) == 1 and lst[0][TCP].seq == c + delta,
          "LIST leaves with its seq shifted by the restored adjustment", c + delta,
          [x[TCP].seq for x in lst])
    rc, _, bare = replay(binary, d, "bare", cfg, ins, outs, workers=w_second)
    ck.ok(rc == 0 and len(bare["txt"]) >= 3, "without --restore the second run is refused",
          ">= 3 drops", bare.get("txt"))


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def resum(snap, edit):
    """snap with its payload (after the 64-byte header) edited, length and checksum
    written again to match (app/gw_snapshot.c's header)."""
    payload = edit(snap[64:])
    hdr = bytearray(snap[:64])
    hdr[16:24] = struct.pack("<Q", len(payload))
    hdr[24:32] = struct.pack("<Q", fnv1a64(payload))
    return bytes(hdr) + payload


def sc_restore_refused(binary, d, ck):
    cfg = config(d)
    a, b = scenario()
    snap = os.path.join(d, "snap.bin")
    rc, _, _ = replay(binary, d, "first", cfg, *write_inputs(d, "first", a),
                      extra=["--save", snap])
    ck.eq("save exit status", 0, rc)
    good = open(snap, "rb").read()
    ck.eq("magic", b"NATGWSNP", good[:8])
    ins, outs = write_inputs(d, "second", b)

    def bad(name, data, want, config_path=None):
        p = os.path.join(d, name)
        if data is not None:
            with open(p, "wb") as f:
                f.write(data)
        rc, log, res = replay(binary, d, name, config_path or cfg, ins, outs,
                              extra=["--restore", p])
        ck.eq(f"{name}: exit status", 2, rc)
        ck.ok(want in log, f"{name}: message names the problem", want, log.strip())
        ck.eq(f"{name}: no output written", [], res.get("files"))
    bad("truncated.bin", good[:-10], "truncated")
    bad("short.bin", good[:40], "truncated")
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x40
    bad("corrupt.bin", bytes(flipped), "checksum mismatch: the file is corrupt")
    bad("foreign.bin", open(ins, "rb").read(), "not a natgw snapshot")
    v2 = bytearray(good)
    v2[8:12] = struct.pack("<I", 2)
    bad("version.bin", bytes(v2), "format version 2, this natgw reads version 1")
    # structurally wrong but with a right checksum (written again): each refused by name
    bad("recsize.bin", resum(good, lambda p: p[:4] + struct.pack("<I", 99) + p[8:]),
        "99-byte records")
    bad("count.bin", resum(good, lambda p: p[:8] + struct.pack("<Q", 1 << 40) + p[16:]),
        "records past the end")
    bad("trailing.bin", resum(good, lambda p: p + b"\0" * 8), "bytes after the last section")
    bad("section.bin", resum(good, lambda p: struct.pack("<I", 9) + p[4:]),
        "unknown or repeated section type 9")
    other = sc.write_config(d, keys={"arp": {"static": ARP.split("=", 1)[1].strip()},
                                     "nat": {"ports": "2000-65535"}}, name="other.ini")
    bad("otherpool.bin", good, "saved with another NAT pool", other)
    bad("missing.bin", None, "No such file")


def sc_restore_expired(binary, d, ck):
    # udp 30 s (icmp's default is 30 s): both die in a 60 s gap, TCP established does not
    cfg = config(d)
    a, b = scenario()
    snap = os.path.join(d, "snap.bin")
    rc, _, _ = replay(binary, d, "first", cfg, *write_inputs(d, "first", a),
                      extra=["--save", snap, "--timeout", "udp_replied=30",
                             "--timeout", "udp_unreplied=30"])
    ck.eq("save exit status", 0, rc)
    late = [(t + 60 * SEC, side, f) for t, side, f in b]
    rc, log, res = replay(binary, d, "late", cfg, *write_inputs(d, "late", late),
                          extra=["--restore", snap])
    ck.eq("restore exit status", 0, rc)
    ck.ok("2 connections (0 refused, 2 expired)" in log,
          "the UDP and ICMP connections expired meanwhile, the two TCP ones did not",
          "2 connections (0 refused, 2 expired)", log)
    ck.eq("the late UDP answer is dropped",
          "NAT_NO_MAPPING nat: unsolicited inbound (no mapping)", res["txt"][0])
    ck.ok(any(TCP in Ether(f) and Ether(f)[IP].dst == H1 and Ether(f)[TCP].sport == 80
              for _, f in res["oin"]), "the TCP download still reaches H1")


def sc_one_side(binary, d, ck, side):
    cfg = config(d)
    if side == 0:
        frames = [(T0, 0, in_frame(IP(src=H2, dst=SERVER) / UDP(sport=5353, dport=53) /
                                   Raw(b"query"), H2_MAC))]
        ins, _ = write_inputs(d, "one", frames)
        rc, log, res = replay(binary, d, "one", cfg, ins, None)
        ck.eq("exit status", 0, rc)
        ck.eq("one packet out of the uplink", 1, len(res["oout"]))
        if res["oout"]:
            e = Ether(res["oout"][0][1])
            ck.eq("translated source", GW_OUT, e[IP].src)
            ck.eq("destination", SERVER, e[IP].dst)
            ck.eq("port preserved", 5353, e[UDP].sport)
            ck.ok(not sc.leaks_inside(res["oout"][0][1]), "no inside address leaks")
        ck.eq("nothing to the inside", [], res["oin"])
    else:
        frames = [(T0, 1, out_frame(IP(src=SERVER, dst=GW_OUT) / UDP(sport=53, dport=6000) /
                                    Raw(b"x")))]
        _, outs = write_inputs(d, "one", frames)
        rc, log, res = replay(binary, d, "one", cfg, None, outs)
        ck.eq("exit status", 0, rc)
        ck.eq("dropped as unsolicited", ["NAT_NO_MAPPING nat: unsolicited inbound (no mapping)"],
              res["txt"])
        ck.eq("nothing forwarded", ([], []), (res["oin"], res["oout"]))
    # neither side: a usage error is not what it is (nothing in, nothing out)
    rc, log, res = replay(binary, d, "none", cfg, None, None)
    ck.eq("no input at all: exit status", 0, rc)
    ck.ok("0 packets in" in log, "no input at all: 0 packets in", "0 packets in", log)


SCENARIOS = {
    "restore_1to1": lambda r, d, ck: sc_restore(r, d, ck, 1, 1),
    "restore_2to1": lambda r, d, ck: sc_restore(r, d, ck, 2, 1),
    "restore_1to3": lambda r, d, ck: sc_restore(r, d, ck, 1, 3),
    "restore_2to2": lambda r, d, ck: sc_restore(r, d, ck, 2, 2),
    "restore_ftp": lambda r, d, ck: sc_restore_ftp(r, d, ck, 1, 1),
    "restore_ftp_2to1": lambda r, d, ck: sc_restore_ftp(r, d, ck, 2, 1),
    "restore_refused": sc_restore_refused,
    "restore_expired": sc_restore_expired,
    "one_side_inside": lambda r, d, ck: sc_one_side(r, d, ck, 0),
    "one_side_outside": lambda r, d, ck: sc_one_side(r, d, ck, 1),
}


def main(argv):
    if len(argv) >= 2 and argv[1] == "--list":
        print("\n".join(SCENARIOS))
        return 0
    if len(argv) < 3 or argv[2] not in SCENARIOS:
        print(__doc__, file=sys.stderr)
        return 2
    keep = argv[argv.index("--keep") + 1] if "--keep" in argv else None
    d = keep or tempfile.mkdtemp(prefix="natgw-restore-")
    os.makedirs(d, exist_ok=True)
    ck = sc.Checks()
    SCENARIOS[argv[2]](os.path.abspath(argv[1]), d, ck)
    for f in ck.failures:
        print(f)
    print(f"{argv[2]}: {ck.passed} checks passed, {len(ck.failures)} failed")
    if not ck.failures and keep is None:
        shutil.rmtree(d)
    elif ck.failures:
        print(f"files kept in {d}")
    return 1 if ck.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

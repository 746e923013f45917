#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Sessions across a restart of the natgw binary itself (app/main.c --save, --restore,
--restore-fallback, natgw-ctl save; app/gw_snapshot.c), on net_pcap ports.

1. natgw starts with --save A; its inside port reads a UDP flow and a TCP SYN from an inside
   host (2 connections). `natgw-ctl save` writes A while it runs, `natgw-ctl save B` writes
   B; SIGTERM makes natgw write A again ("natgw: saved A: 2 connections").
2. natgw --restore A: the outside port reads the server's UDP answer to the translated flow;
   it must leave the inside port to the host (restored connection; a natgw started without
   the restore drops it: checked too).
3. Refusals: a corrupt A (natgw exits 1: "checksum mismatch", "not started"), the same with
   --restore-fallback empty (starts: "starting with no sessions"), a missing file, a snapshot
   of another pool ("saved with another NAT pool"), `natgw-ctl save` on a natgw started
   without --save (an error naming the option).

usage: snapshot_live.py NATGW NATGW_CTL [--keep DIR]
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from scapy.all import IP, TCP, UDP, Ether, Raw, rdpcap, wrpcap  # noqa: E402

IN_MAC = "02:00:00:00:01:01"
OUT_MAC = "02:00:00:00:02:01"
GW_MAC = "02:00:00:00:02:fe"
H_MAC = "02:00:00:00:01:0a"
HOST, SERVER = "10.0.1.10", "198.51.100.7"
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
[nat]
ports   = %s
[arp]
static  = 10.0.2.254 %s, %s %s
[conntrack]
capacity = 4096
[workers]
idle_sleep_us = 100
"""
FAILS = []


def check(cond, what, got=""):
    print(("PASS " if cond else "FAIL ") + what + ("" if cond else " (got: %s)" % got))
    if not cond:
        FAILS.append(what)


def write_config(d, name, ports="1024-65535"):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write(CONFIG % (IN_MAC, OUT_MAC, ports, GW_MAC, HOST, H_MAC))
    return p


def start(natgw, d, tag, cfg, rx_in, rx_out, extra):
    cmd = [natgw, "--no-huge", "-m", "256", "--no-shconf", "--no-pci",
           "--file-prefix", "natgw-snap-%d-%s" % (os.getpid(), tag), "-l", "0,1",
           "--log-level", "lib.*:error",
           "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=%s/%s_in_tx.pcap" % (rx_in, d, tag),
           "--vdev", "net_pcap1,rx_pcap=%s,tx_pcap=%s/%s_out_tx.pcap" % (rx_out, d, tag),
           "--", "--config", cfg, "--ctl-socket", os.path.join(d, "ctl.sock")] + extra
    log = open(os.path.join(d, tag + ".log"), "w")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log.name


def wait_banner(p, logname, timeout=20):
    t = time.time() + timeout
    while time.time() < t:
        if p.poll() is not None:
            return False
        if "idle_sleep_us" in open(logname).read():
            time.sleep(1.0)	# the pcaps are read at once
            return True
        time.sleep(0.1)
    return False


def stop(p, sig):
    p.send_signal(sig)
    try:
        return p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        return -9


def ctl(natgw_ctl, d, *args):
    r = subprocess.run([sys.executable, natgw_ctl, "-S", os.path.join(d, "ctl.sock")] +
                       list(args), capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout + r.stderr


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    natgw, natgw_ctl = argv[1], argv[2]
    keep = argv[argv.index("--keep") + 1] if "--keep" in argv else None
    d = keep or tempfile.mkdtemp(prefix="natgw-snap-")
    os.makedirs(d, exist_ok=True)
    cfg = write_config(d, "gw.ini")
    snap_a, snap_b = os.path.join(d, "a.snap"), os.path.join(d, "b.snap")
    h = Ether(src=H_MAC, dst=IN_MAC)
    r = Ether(src=GW_MAC, dst=OUT_MAC)
    wrpcap(os.path.join(d, "in1.pcap"), [
        h / IP(src=HOST, dst=SERVER) / UDP(sport=5000, dport=53) / Raw(b"query"),
        h / IP(src=HOST, dst=SERVER) / TCP(sport=40000, dport=80, flags="S", seq=1000)])
    wrpcap(os.path.join(d, "empty.pcap"), [])
    wrpcap(os.path.join(d, "out2.pcap"), [
        r / IP(src=SERVER, dst="10.0.2.1") / UDP(sport=53, dport=5000) / Raw(b"answer")])

    # 1. save while running, and on SIGTERM
    p, log = start(natgw, d, "run1", cfg, os.path.join(d, "in1.pcap"),
                   os.path.join(d, "empty.pcap"), ["--save", snap_a])
    check(wait_banner(p, log), "natgw started with --save", open(log).read()[-500:])
    rc, out = ctl(natgw_ctl, d, "save")
    check(rc == 0 and "saved %s: 2 connections" % snap_a in out,
          "natgw-ctl save writes the --save file while natgw runs", out)
    rc, out = ctl(natgw_ctl, d, "save", snap_b)
    check(rc == 0 and os.path.exists(snap_b) and "2 connections" in out,
          "natgw-ctl save FILE writes FILE", out)
    os.unlink(snap_a)
    rc = stop(p, signal.SIGTERM)
    text = open(log).read()
    check(rc == 0 and "natgw: saved %s: 2 connections, 2 mappings" % snap_a in text,
          "SIGTERM: natgw saves and exits 0", "rc %d %s" % (rc, text[-300:]))
    check(open(snap_a, "rb").read(8) == b"NATGWSNP", "the file starts with the magic")

    # 2. restore: the answer to the translated flow reaches the host; without: dropped
    for tag, extra in (("run2", ["--restore", snap_a]), ("bare", [])):
        p, log = start(natgw, d, tag, cfg, os.path.join(d, "empty.pcap"),
                       os.path.join(d, "out2.pcap"), extra)
        ok = wait_banner(p, log)
        rc = stop(p, signal.SIGINT)
        text = open(log).read()
        got = [x for x in rdpcap(os.path.join(d, tag + "_in_tx.pcap")) if UDP in x]
        if tag == "run2":
            check(ok and rc == 0 and "restored %s: 2 connections (0 refused" % snap_a in text,
                  "--restore: natgw says what it restored", text[-400:])
            check(len(got) == 1 and got[0][IP].dst == HOST and got[0][UDP].dport == 5000 and
                  got[0][UDP].sport == 53 and bytes(got[0][UDP].payload) == b"answer",
                  "the server's answer reaches the host through the restored mapping",
                  [x.summary() for x in got])
        else:
            check(ok and got == [], "without --restore the same answer is dropped",
                  [x.summary() for x in got])

    # 3. refusals
    bad = os.path.join(d, "bad.snap")
    data = bytearray(open(snap_a, "rb").read())
    data[len(data) // 2] ^= 0x10
    open(bad, "wb").write(bytes(data))
    other = write_config(d, "other.ini", ports="2000-3000")
    for tag, c, extra, want_rc, wants in (
            ("corrupt", cfg, ["--restore", bad], 1,
             ["checksum mismatch: the file is corrupt", "not started"]),
            ("fallback", cfg, ["--restore", bad, "--restore-fallback", "empty"], 0,
             ["checksum mismatch", "starting with no sessions"]),
            ("missing", cfg, ["--restore", os.path.join(d, "none.snap")], 1,
             ["No such file or directory", "not started"]),
            ("otherpool", other, ["--restore", snap_a], 1, ["saved with another NAT pool"])):
        p, log = start(natgw, d, tag, c, os.path.join(d, "empty.pcap"),
                       os.path.join(d, "empty.pcap"), extra)
        if want_rc == 0:
            up = wait_banner(p, log)
            if tag == "fallback":
                rc2, out = ctl(natgw_ctl, d, "save")
                check(rc2 != 0 and "started without --save" in out,
                      "natgw-ctl save without --save: an error naming the option", out)
            rc = stop(p, signal.SIGINT) if up else p.wait(timeout=20)
        else:
            try:
                rc = p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                rc = stop(p, signal.SIGKILL)
        text = open(log).read()
        check(rc == want_rc and all(w in text for w in wants),
              "%s snapshot: exit %d, message %s" % (tag, want_rc, wants),
              "rc %d: %s" % (rc, text[-300:]))
    print("%d failed" % len(FAILS))
    if not FAILS and keep is None:
        shutil.rmtree(d)
    elif FAILS:
        print("files kept in " + d)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Connection events and NAT logging of a running natgw (app/gw_event.c) on net_tap.

natgw runs with two workers on two taps (root and /dev/net/tun; exit 77 without), [log]
sending IPFIX and syslog to UDP sockets of this script. Two `natgw-ctl events` streams run
(one filtered with -p udp); scapy makes a UDP exchange and a TCP SYN from inside hosts, then
`natgw-ctl flush -s` deletes the UDP connection. Checked: the [NEW]/[UPDATE]/[DESTROY] lines
each stream prints (fields as the listing's, reason=deleted), the filter, the IPFIX records
decoded by tshark (natEvent 4/5, addresses, ports, wall-clock times), the RFC 5424 syslog
messages, `natgw-ctl log`, and reload of [log]: a new collector port is taken live, a new
ring_size is refused naming the key.

usage: events_live.py NATGW [NATGW_CTL]
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "replay"))
import ctl_live as CL  # noqa: E402

# taps of this process's own (ctl_live's, or another build's run of this test, may run at
# the same time)
CL.IN_IF, CL.OUT_IF = "ngev%di" % (os.getpid() % 100000), "ngev%do" % (os.getpid() % 100000)
FAILS = CL.FAILS
check = CL.check


class Reader:
    """Lines of a `natgw-ctl events` process, collected by a thread."""

    def __init__(self, gw, *args):
        self.p = subprocess.Popen([sys.executable, gw.ctlpath, "-S", gw.sock, "events"] +
                                  list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        self.lines = []
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        for line in self.p.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait(self, pred, timeout=5):
        for _ in range(int(timeout * 10)):
            if pred(self.lines):
                return True
            time.sleep(0.1)
        return pred(self.lines)

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=5)


def udp_sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.2)
    return s


def recv_all(s):
    out = []
    while True:
        try:
            out.append(s.recv(65535))
        except socket.timeout:
            return out


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    if os.getuid() != 0 or not os.path.exists("/dev/net/tun"):
        print("SKIP: needs root and /dev/net/tun")
        return 77
    import log_scenarios as LS   # tshark decoding (tests/replay/log_scenarios.py)
    ctl = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "..", "tools",
                                                             "natgw-ctl")
    CL.conf.verb = 0
    d = tempfile.mkdtemp(prefix="natgw-events-")
    ipfix, ipfix2, syslog = udp_sock(), udp_sock(), udp_sock()
    gw = CL.Gw(sys.argv[1], ctl, d)
    log = ("[log]\nipfix = 127.0.0.1:%d\nsyslog = udp:127.0.0.1:%d\ndomain_id = %d\n"
           "hostname = evtest\n")
    gw.write(extra=log % (ipfix.getsockname()[1], syslog.getsockname()[1], LS.DOMAIN))
    t0 = time.time()
    gw.start()
    try:
        run(gw, LS, ipfix, ipfix2, syslog, t0, log)
    finally:
        gw.stop()
    check(gw.p.returncode == 0, "natgw exit status 0")
    if FAILS:
        print(gw.logtext()[-3000:])
        print("FAIL: %d check(s) failed (files in %s)" % (len(FAILS), d))
        return 1
    print("PASS")
    return 0


def run(gw, LS, ipfix, ipfix2, syslog, t0, log):
    H10, H11, SERVER, OUT = CL.H10, CL.H11, CL.SERVER, "10.0.2.1"
    all_ev, udp_ev = Reader(gw), Reader(gw, "-p", "udp")
    time.sleep(1.0)                     # both streams registered
    check(CL.udp_roundtrip(H10, 1000), "udp exchange through natgw")
    CL.syn_out(H11, 2000)
    new_udp = re.compile(r"^\[NEW\] udp      17  \d+ src=%s dst=%s sport=1000 dport=53 "
                         r"\[UNREPLIED\] src=%s dst=%s sport=53 dport=(\d+) id=\d+ worker=\d$"
                         % (H10, SERVER, SERVER, OUT))
    upd_udp = re.compile(r"^\[UPDATE\] udp      17  \d+ src=%s dst=%s sport=1000 dport=53 "
                         r"src=%s dst=%s sport=53 dport=\d+ id=\d+ worker=\d$"
                         % (H10, SERVER, SERVER, OUT))
    new_tcp = re.compile(r"^\[NEW\] tcp      6   \d+ SYN_SENT src=%s dst=%s sport=2000 "
                         r"dport=80 \[UNREPLIED\] src=%s dst=%s sport=80 dport=\d+ id=\d+ "
                         r"worker=\d$" % (H11, SERVER, SERVER, OUT))
    check(all_ev.wait(lambda ls: any(new_tcp.match(x) for x in ls)),
          "events: [NEW] tcp SYN_SENT line")
    rc, _out, err = gw.ctl("flush", "-s", H10)
    check(rc == 0, "flush -s %s: %s" % (H10, err.strip()))
    del_udp = re.compile(r"^\[DESTROY\] udp      17  src=%s dst=%s sport=1000 dport=53 "
                         r"src=%s dst=%s sport=53 dport=\d+ id=\d+ worker=\d reason=deleted$"
                         % (H10, SERVER, SERVER, OUT))
    check(all_ev.wait(lambda ls: any(del_udp.match(x) for x in ls)),
          "events: [DESTROY] udp ... reason=deleted after the flush")
    time.sleep(0.3)
    lines = list(all_ev.lines)
    print("     events:\n       " + "\n       ".join(lines))
    kinds = [next((n for n, r in (("new_udp", new_udp), ("upd_udp", upd_udp),
                                   ("new_tcp", new_tcp), ("del_udp", del_udp)) if r.match(x)),
                  x) for x in lines]
    check(kinds.count("new_udp") == 1 and kinds.count("upd_udp") == 1 and
          kinds.count("new_tcp") == 1 and kinds.count("del_udp") == 1 and len(kinds) == 4,
          "events: exactly NEW, UPDATE (reply seen) for udp, NEW tcp, DESTROY udp: %s" % kinds)
    check(kinds.index("new_udp") < kinds.index("upd_udp") < kinds.index("del_udp"),
          "events: udp NEW, UPDATE, DESTROY in that order")
    check(udp_ev.wait(lambda ls: len(ls) >= 3) and len(udp_ev.lines) == 3 and
          all(" udp " in x for x in udp_ev.lines), "events -p udp: the 3 udp lines only: %s"
          % udp_ev.lines)
    ext = int(new_udp.match(lines[kinds.index("new_udp")]).group(1))
    # IPFIX: template, create udp, create tcp, delete udp (tshark decodes)
    frames = LS.tshark_ipfix(gw.d, ipfix.getsockname()[1], recv_all(ipfix))
    ck = LS.S.Checks()
    recs = LS.ipfix_records(frames, ck, 1000)
    for f in ck.failures:
        check(False, "ipfix: " + f)
    now_ms = time.time() * 1000
    check(all(t0 * 1000 - 1000 <= r[1] <= now_ms + 1000 for r in recs),
          "ipfix: observation times are wall-clock times of this run")
    got = sorted((r[0], r[2], r[3], r[4], r[5], r[6], r[7], r[8]) for r in recs)
    want = sorted([(4, 17, H10, 1000, OUT, ext, SERVER, 53), (5, 17, H10, 1000, OUT, ext,
                                                              SERVER, 53)])
    check([g for g in got if g[1] == 17] == want,
          "ipfix: udp create and delete records, every field: %s" % got)
    check(any(g[:4] == (4, 6, H11, 2000) and g[4] == OUT and g[6:] == (SERVER, 80)
              for g in got), "ipfix: tcp create record")
    # syslog
    ck = LS.S.Checks()
    msgs = LS.syslog_parse(recv_all(syslog), LS.S.Checks())
    evs = sorted((f["event"], f["proto"], f["inside"], f["outside"], f["remote"])
                 for _ts, f in msgs)
    check(("create", "udp", "%s:1000" % H10, "%s:%d" % (OUT, ext), "%s:53" % SERVER) in evs and
          ("delete", "udp", "%s:1000" % H10, "%s:%d" % (OUT, ext), "%s:53" % SERVER) in evs and
          any(e[:3] == ("create", "tcp", "%s:2000" % H11) for e in evs) and len(evs) == 3,
          "syslog: RFC 5424 create udp/tcp and delete udp: %s" % evs)
    rc, out, _ = gw.ctl("log")
    check(rc == 0 and re.search(r"^events_lost +0$", out, re.M) and
          re.search(r"^syslog_sent +3$", out, re.M), "natgw-ctl log: counters\n" + out)
    # reload: a new IPFIX collector is taken live; ring_size cannot change
    gw.write(extra=log % (ipfix2.getsockname()[1], syslog.getsockname()[1], LS.DOMAIN))
    rc, out, err = gw.ctl("reload")
    check(rc == 0, "reload with another ipfix collector accepted: %s%s" % (out, err))
    CL.syn_out(H11, 2001)
    time.sleep(1.0)
    frames = LS.tshark_ipfix(gw.d, ipfix2.getsockname()[1], recv_all(ipfix2))
    recs = LS.ipfix_records(frames, LS.S.Checks(), 1000)
    check(frames and frames[0]["cflow.flowset_id"][:1] == ["2"] and
          frames[0]["cflow.sequence"] == ["0"] and
          [(r[0], r[3], r[4]) for r in recs] == [(4, H11, 2001)],
          "after reload: the new collector gets a new stream (template, sequence 0) and "
          "the create of the next session")
    gw.write(extra=(log % (ipfix2.getsockname()[1], syslog.getsockname()[1], LS.DOMAIN)) +
             "ring_size = 64\n")
    rc, out, err = gw.ctl("reload")
    check(rc != 0 and "[log] ring_size cannot change live" in err,
          "reload with another ring_size refused, naming it: %s" % err.strip())
    all_ev.stop()
    udp_ev.stop()


if __name__ == "__main__":
    sys.exit(main())

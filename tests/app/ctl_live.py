#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Live control of a running natgw (app/gw_ctl*.c, tools/natgw-ctl) on net_tap.

natgw runs with two workers on two taps (needs root and /dev/net/tun; exit 77 without).
scapy plays inside hosts and an outside server; connections are made with real packets.
The test drives tools/natgw-ctl through every command: list (filters, format), mappings,
flush by filter (exactly the matching connections go, the others keep forwarding), delete
(by tuple and by worker/id), forward add/del (a SYN to the new forward is forwarded, before
and after it is dropped), timeout (a new connection takes it), counters and reset, reload
(accepted: forward and timeout change, sessions kept; by SIGHUP; refused for each key that
cannot change live, with the key named and nothing changed; a bad file changes nothing),
and the error message of each command's bad input. The socket must be mode 0600.

usage: ctl_live.py NATGW [NATGW_CTL]
"""
import json
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import time

from scapy.all import (IP, TCP, UDP, AsyncSniffer, Ether, Raw, conf, sendp)  # noqa: E402

# per process: two runs at once (several build dirs' test suites) must not share taps
IN_IF, OUT_IF = "ngc%d-in" % (os.getpid() % 100000), "ngc%d-out" % (os.getpid() % 100000)
IN_MAC, OUT_MAC = "02:00:00:00:01:01", "02:00:00:00:02:01"
GW_MAC, SERVER = "02:00:00:00:02:fe", "198.51.100.7"
HMAC = "02:00:00:00:01:%02x"
H10, H11, H12, H20 = "10.0.1.10", "10.0.1.11", "10.0.1.12", "10.0.1.20"

BASE = """
[ports]
inside  = net_tap0
outside = net_tap1
[inside]
address = 10.0.1.1/24
mac     = %s
[outside]
address = 10.0.2.1/24
gateway = 10.0.2.254
mac     = %s
[arp]
static  = 10.0.2.254 %s, 10.0.1.10 %s, 10.0.1.11 %s, 10.0.1.12 %s, 10.0.1.20 %s
[forward]
web = tcp 10.0.2.1:8080 -> 10.0.1.10:80
[conntrack]
capacity = 1024
timeout.udp_unreplied = %s
timeout.tcp_syn_sent = 600
[workers]
idle_sleep_us = 200
[control]
socket = %s
""" + "%s"

FAILS = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        FAILS.append(msg)
    return cond


class Gw:
    def __init__(self, natgw, ctl, d):
        self.natgw, self.ctlpath, self.d = natgw, ctl, d
        self.sock = os.path.join(d, "run", "ctl.sock")
        self.ini = os.path.join(d, "natgw.ini")
        self.p = None

    def write(self, udp_to="600", extra="", **repl):
        text = BASE % (IN_MAC, OUT_MAC, GW_MAC, HMAC % 10, HMAC % 11, HMAC % 12, HMAC % 20,
                       udp_to, self.sock, extra)
        for k, v in repl.items():
            text = text.replace(k, v)
        with open(self.ini, "w") as f:
            f.write(text)

    def start(self):
        cmd = [self.natgw, "--no-huge", "-m", "256", "--no-shconf", "--no-pci",
               "--file-prefix", "natgw-ctl-%d" % os.getpid(), "--lcores", "0@0,1@1,2@1",
               "--vdev", "net_tap0,iface=%s" % IN_IF, "--vdev", "net_tap1,iface=%s" % OUT_IF,
               "--", "--config", self.ini]
        self.log = open(os.path.join(self.d, "natgw.log"), "w+")
        self.p = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(150):
            time.sleep(0.1)
            if "control socket" in self.logtext() or self.p.poll() is not None:
                break
        if self.p.poll() is not None or not os.path.exists(self.sock):
            print(self.logtext())
            raise SystemExit("FAIL: natgw did not start with its control socket")
        for i in (IN_IF, OUT_IF):
            subprocess.run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % i])
            subprocess.run(["ip", "link", "set", i, "up"], check=True)
        time.sleep(0.5)

    def logtext(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def ctl(self, *args):
        r = subprocess.run([sys.executable, self.ctlpath, "-S", self.sock] + list(args),
                           capture_output=True, text=True, timeout=30)
        return r.returncode, r.stdout, r.stderr

    def j(self, *args):
        rc, out, err = self.ctl("--json", *args)
        if rc != 0:
            raise SystemExit("FAIL: natgw-ctl %s: %s" % (" ".join(args), err))
        return json.loads(out)

    def conns(self, *filt):
        return self.j("list", *filt)

    def stop(self):
        if self.p is not None and self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()


def udp_out(src, sport, dport=53):
    sendp(Ether(src=HMAC % int(src.split(".")[3]), dst=IN_MAC) / IP(src=src, dst=SERVER) /
          UDP(sport=sport, dport=dport) / Raw(b"q"), iface=IN_IF, verbose=False)


def syn_out(src, sport, dport=80):
    sendp(Ether(src=HMAC % int(src.split(".")[3]), dst=IN_MAC) / IP(src=src, dst=SERVER) /
          TCP(sport=sport, dport=dport, flags="S", seq=1), iface=IN_IF, verbose=False)


def wait_count(gw, n, *filt):
    got = None
    for _ in range(50):
        got = len(gw.conns(*filt))
        if got == n:
            return True
        time.sleep(0.1)
    print("     (want %d connections for %s, have %s)" % (n, filt, got))
    return False


def until(pred, secs=4.0):
    """pred() until it is true or secs passed; its last value."""
    end = time.time() + secs
    while True:
        v = pred()
        if v or time.time() > end:
            return v
        time.sleep(0.1)


def inbound_syn(port, sport):
    """A SYN from the server to 10.0.2.1:port; the translated packet on the inside, or None."""
    s = AsyncSniffer(iface=IN_IF, count=1, timeout=4,
                     lfilter=lambda x: TCP in x and x[TCP].sport == sport)
    s.start()
    time.sleep(0.5)
    sendp(Ether(src=GW_MAC, dst=OUT_MAC) / IP(src=SERVER, dst="10.0.2.1") /
          TCP(sport=sport, dport=port, flags="S", seq=7), iface=OUT_IF, verbose=False)
    s.join()
    return s.results[0] if s.results else None


def udp_roundtrip(src, sport):
    """A UDP query out and its answer back: True when the answer reaches the host."""
    s = AsyncSniffer(iface=OUT_IF, count=1, timeout=4,
                     lfilter=lambda x: UDP in x and x[UDP].dport == 53 and x[IP].src == "10.0.2.1"
                     and bytes(x[UDP].payload) == b"r%d" % sport)
    s.start()
    time.sleep(0.5)
    sendp(Ether(src=HMAC % int(src.split(".")[3]), dst=IN_MAC) / IP(src=src, dst=SERVER) /
          UDP(sport=sport, dport=53) / Raw(b"r%d" % sport), iface=IN_IF, verbose=False)
    s.join()
    if not s.results:
        return False
    eport = s.results[0][UDP].sport
    b = AsyncSniffer(iface=IN_IF, count=1, timeout=4,
                     lfilter=lambda x: UDP in x and x[UDP].sport == 53 and x[IP].dst == src)
    b.start()
    time.sleep(0.5)
    sendp(Ether(src=GW_MAC, dst=OUT_MAC) / IP(src=SERVER, dst="10.0.2.1") /
          UDP(sport=53, dport=eport) / Raw(b"a"), iface=OUT_IF, verbose=False)
    b.join()
    return bool(b.results) and b.results[0][UDP].dport == sport


def udp_out_src(src, sport, dport):
    """A UDP datagram out: the source address it leaves the uplink with, or None."""
    s = AsyncSniffer(iface=OUT_IF, count=1, timeout=4,
                     lfilter=lambda x: UDP in x and x[UDP].dport == dport and
                     bytes(x[UDP].payload) == b"u%d" % sport)
    s.start()
    time.sleep(0.5)
    sendp(Ether(src=HMAC % int(src.split(".")[3]), dst=IN_MAC) / IP(src=src, dst=SERVER) /
          UDP(sport=sport, dport=dport) / Raw(b"u%d" % sport), iface=IN_IF, verbose=False)
    s.join()
    return s.results[0][IP].src if s.results else None


def test_list_flush_delete(gw):
    udp_out(H10, 1000)
    udp_out(H10, 1001)
    udp_out(H11, 2000)
    syn_out(H12, 3000)
    check(wait_count(gw, 4), "list: the 4 connections made by packets are listed")
    rc, out, err = gw.ctl("list")
    lines = out.strip().split("\n")
    check(rc == 0 and len(lines) == 4 and "4 flow entries have been shown" in err,
          "list: 4 lines and the conntrack -L trailer")
    tcp = [ln for ln in lines if ln.startswith("tcp")]
    check(len(tcp) == 1 and re.match(r"tcp +6 +\d+ SYN_SENT src=10\.0\.1\.12 dst=198\.51\.100\.7 "
                                     r"sport=3000 dport=80 \[UNREPLIED\] src=198\.51\.100\.7 "
                                     r"dst=10\.0\.2\.1 sport=80 dport=\d+ worker=\d lcore=\d "
                                     r"id=\d+$", tcp[0]) is not None,
          "list: natgw-conntrack's line format: %s" % (tcp[0] if tcp else None))
    check(len(gw.conns("-s", H10)) == 2, "list -s: 2 of host .10")
    check(len(gw.conns("-s", "10.0.1.8/30")) == 3, "list -s PREFIX: 3 in 10.0.1.8/30")
    check(len(gw.conns("-p", "tcp")) == 1, "list -p tcp")
    check(len(gw.conns("-p", "udp", "--sport", "2000")) == 1, "list -p udp --sport")
    check(len(gw.conns("-p", "udp", "--dport", "53")) == 3, "list --dport")
    check(len(gw.conns("--state", "SYN_SENT")) == 1, "list --state")
    check(len(gw.conns("-d", SERVER)) == 4 and len(gw.conns("-d", "192.0.2.1")) == 0, "list -d")
    m = gw.j("list", "mappings")
    ins = sorted(x["inside"] for x in m["mappings"])
    check(ins == ["10.0.1.10:1000", "10.0.1.10:1001", "10.0.1.11:2000", "10.0.1.12:3000"] and
          all(x["outside"].startswith("10.0.2.1:") and x["type"] == "dynamic" and
              x["conns"] == 1 for x in m["mappings"]),
          "mappings: each inside endpoint -> 10.0.2.1:PORT, one connection each")
    check([f["spec"] for f in m["static"]] == ["tcp 10.0.2.1:8080 -> 10.0.1.10:80"],
          "mappings: the forward is listed as static")
    rc, out, _ = gw.ctl("list", "mappings")
    check(rc == 0 and re.search(r"^udp +10\.0\.1\.10:1000 +-> 10\.0\.2\.1:\d+ +conns=1 "
                                r"remotes=1 worker=\d dynamic$", out, re.M) is not None,
          "mappings: text line")
    # flush one host: exactly its connections go, the others stay and keep working
    rc, out, _ = gw.ctl("flush", "-s", H10)
    check(rc == 0 and re.search(r"2 flow entries have been deleted \(worker 0: \d, worker 1: "
                                r"\d\)", out) is not None, "flush -s HOST: 2 deleted: " + out.strip())
    left = gw.conns()
    check(sorted(c["orig"].split()[0] for c in left) == ["src=" + H11, "src=" + H12],
          "flush -s HOST: exactly the other hosts' connections remain")
    check(udp_roundtrip(H11, 2000), "flush -s HOST: another host's connection still forwards")
    rc, out, _ = gw.ctl("flush", "-p", "udp", "-s", H12)
    check(rc == 0 and "0 flow entries" in out, "flush with a filter matching nothing: 0")
    # delete one: by its tuple, then by worker and id
    rc, out, _ = gw.ctl("delete", "-s", H11, "-d", SERVER, "-p", "udp", "--sport", "2000",
                        "--dport", "53")
    check(rc == 0 and "1 flow entry has been deleted" in out, "delete by tuple")
    rc, _, err = gw.ctl("delete", "-s", H11, "-d", SERVER, "-p", "udp", "--sport", "2000",
                        "--dport", "53")
    check(rc == 1 and "delete: no such connection" in err, "delete again: 'no such connection'")
    c = gw.conns("-p", "tcp")[0]
    rc, out, _ = gw.ctl("delete", "--worker", str(c["worker"]), "--id", str(c["id"]))
    check(rc == 0 and "1 flow entry" in out and len(gw.conns()) == 0, "delete by worker and id")
    rc, _, err = gw.ctl("delete", "-s", H11)
    check(rc == 1 and "name one connection" in err, "delete without a whole tuple: error")
    udp_out(H10, 1005)
    udp_out(H11, 1006)
    wait_count(gw, 2)
    rc, out, _ = gw.ctl("flush")
    check(rc == 0 and "2 flow entries have been deleted" in out and len(gw.conns()) == 0,
          "flush: all")


def test_errors(gw):
    cases = [
        (("list", "-s", "10.0.0.300"), "src: want ADDR or ADDR/LEN, got '10.0.0.300'"),
        (("list", "-p", "bogus"), "proto: want tcp, udp, icmp or 1..255, got 'bogus'"),
        (("list", "--sport", "99"), "sport needs proto tcp or udp"),
        (("flush", "-p", "tcp", "--dport", "70000"), "dport: want 0..65535, got '70000'"),
        (("flush", "--state", "DANCING"), "state: want a TCP state"),
        (("flush", "-p", "udp", "--state", "ESTABLISHED"), "state is a TCP state"),
        (("flush", "--worker", "7"), "worker: want 0..1, got '7'"),
        (("forward", "add", "tcp", "10.0.2.1:99"), "forward 'tcp 10.0.2.1:99': want PROTO"),
        (("forward", "add", "tcp 192.0.2.9:99 -> 10.0.1.5:99"),
         "outside address is not a pool address"),
        (("forward", "add", "tcp 10.0.2.1:8080 -> 10.0.1.10:80"), "exists already"),
        (("forward", "add", "tcp 10.0.2.1:8080-8081 -> 10.0.1.11:80"), "overlap"),
        (("forward", "del", "tcp 10.0.2.1:9 -> 10.0.1.5:9"), "no forward"),
        (("forward", "move"), "forward: want list, add SPEC or del SPEC"),
        (("timeout", "udp_forever=5"), "timeout udp_forever=5: want CLASS=TIME"),
        (("timeout", "udp_unreplied=0"), "timeout udp_unreplied=0: want CLASS=TIME"),
        (("counters", "--bogus"), "unknown option"),
        (("reload", "now"), "reload takes no arguments"),
        (("raw", '{"cmd":"nosuch"}'), "unknown command 'nosuch'"),
        (("raw", '{"cmd":"list","colour":"red"}'), "list: unknown option 'colour'"),
        (("raw", '{"cmd":"reload","x":1}'), "reload takes no options"),
    ]
    for args, want in cases:
        rc, _, err = gw.ctl(*args)
        check(rc == 1 and want in err, "error: natgw-ctl %s -> %s" % (" ".join(args),
                                                                      err.strip()))
    # the socket itself: bad JSON, an over-long line
    import socket as so
    s = so.socket(so.AF_UNIX, so.SOCK_STREAM)
    s.connect(gw.sock)
    s.sendall(b'{"cmd": "list",}\n{"cmd" 1}\n[1]\n{"cmd":"help"}\n')
    buf = b""
    while buf.count(b"\n") < 4:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    rep = [json.loads(x) for x in buf.split(b"\n")[:4]]
    check(not rep[0]["ok"] and "bad request: at byte 16: expected a key string" in
          rep[0]["error"], "socket: trailing comma: %s" % rep[0].get("error"))
    check(not rep[1]["ok"] and "expected ':'" in rep[1]["error"], "socket: missing colon")
    check(not rep[2]["ok"] and "expected '{'" in rep[2]["error"], "socket: not an object")
    check(rep[3]["ok"] and "flush" in rep[3]["commands"] and "reload" in rep[3]["commands"],
          "socket: the connection stays usable; help lists the commands")
    s.close()


def test_forward(gw):
    check(inbound_syn(2222, 41000) is None, "forward: before add, a SYN to :2222 is dropped")
    rc, out, _ = gw.ctl("forward", "add", "tcp 10.0.2.1:2222 -> 10.0.1.20:22")
    check(rc == 0 and "forward added" in out and "2 forwards now" in out,
          "forward add: " + out.strip())
    r = inbound_syn(2222, 41001)
    check(r is not None and r[IP].dst == H20 and r[TCP].dport == 22 and r[IP].src == SERVER,
          "forward add: a SYN to :2222 reaches 10.0.1.20:22")
    rc, out, _ = gw.ctl("forward", "list")
    check(out.split("\n")[:2] == ["tcp 10.0.2.1:8080 -> 10.0.1.10:80",
                                  "tcp 10.0.2.1:2222 -> 10.0.1.20:22"], "forward list")
    rc, out, _ = gw.ctl("forward", "del", "tcp 10.0.2.1:2222 -> 10.0.1.20:22")
    check(rc == 0 and "forward removed" in out and "1 forwards now" in out, "forward del")
    check(inbound_syn(2222, 41002) is None, "forward del: a new SYN to :2222 is dropped again")
    check(len(gw.conns("-p", "tcp", "--sport", "41001")) == 1,
          "forward del: the connection made through it stays (as conntrack keeps DNAT entries)")
    r = inbound_syn(8080, 41003)
    check(r is not None and r[IP].dst == H10 and r[TCP].dport == 80,
          "forward: the configured one still works")
    gw.ctl("flush")


def test_timeout_counters(gw):
    rc, out, _ = gw.ctl("timeout")
    check(rc == 0 and re.search(r"^udp_unreplied +600$", out, re.M) is not None,
          "timeout: shows the configured udp_unreplied 600")
    udp_out(H10, 1100)
    wait_count(gw, 1)
    rc, out, err = gw.ctl("timeout", "udp_unreplied=7", "tcp_syn_sent=2m")
    check(rc == 0 and re.search(r"^udp_unreplied +7$", out, re.M) is not None and
          re.search(r"^tcp_syn_sent +120$", out, re.M) is not None and
          "1 entries re-scheduled" in err, "timeout set: shown, 1 entry re-scheduled: " +
          err.strip())
    udp_out(H11, 1101)
    wait_count(gw, 2)
    c = gw.conns("-s", H11)
    check(len(c) == 1 and c[0]["timeout"] <= 7, "timeout set: a new connection gets 7 s")
    time.sleep(8.5)
    check(len(gw.conns("-s", H11)) == 0, "timeout set: the new connection expired after 7 s")
    c = gw.conns("-s", H10)
    check(len(c) == 1 and c[0]["timeout"] > 500,
          "timeout set: the old one keeps its timer until its next packet (as netfilter)")
    udp_out(H10, 1100)
    c = until(lambda: [x for x in gw.conns("-s", H10) if x["timeout"] <= 7])
    check(len(c) == 1 and len(gw.conns("-s", H10)) == 1,
          "timeout set: its next packet gives it 7 s")
    gw.ctl("timeout", "udp_unreplied=600", "tcp_syn_sent=600")
    gw.ctl("flush")
    # counters
    c0 = gw.j("counters")
    check(c0["conntrack"]["created"] >= 10 and c0["ports"]["inside"]["rx"] >= 10,
          "counters: created %d" % c0["conntrack"]["created"])
    rc, out, err = gw.ctl("counters", "--reset")
    check(rc == 0 and "counters reset" in err and re.search(r"^  created +\d+$", out, re.M),
          "counters --reset")
    c1 = gw.j("counters")
    check(c1["conntrack"]["created"] == 0 and c1["ports"]["inside"]["rx"] == 0,
          "counters after reset: 0 created, 0 received")
    udp_out(H12, 1200)
    wait_count(gw, 1)
    c2 = gw.j("counters")
    check(c2["conntrack"]["created"] == 1 and c2["conntrack"]["active"] == 1 and
          c2["ports"]["inside"]["rx"] >= 1, "counters after reset count what came since")
    gw.ctl("flush")


REFUSED = [
    ("[ports] inside", {"inside  = net_tap0": "inside  = net_tap9"}),
    ("[inside] address", {"address = 10.0.1.1/24": "address = 10.0.1.2/24"}),
    ("[outside] address", {"address = 10.0.2.1/24": "address = 10.0.2.2/24",
                           "tcp 10.0.2.1:": "tcp 10.0.2.2:"}),
    ("[outside] gateway", {"gateway = 10.0.2.254": "gateway = 10.0.2.253"}),
    ("[outside] mtu", {"gateway = 10.0.2.254": "gateway = 10.0.2.254\nmtu = 1400"}),
    ("[nat] pool", {"[forward]": "[nat]\npool = 10.0.2.1, 10.0.2.9\n[forward]"}),
    ("[nat] ports", {"[forward]": "[nat]\nports = 2000-60000\n[forward]"}),
    ("[nat] mapping", {"[forward]": "[nat]\nmapping = address-and-port-dependent\n[forward]"}),
    ("[nat] filtering", {"[forward]": "[nat]\nfiltering = endpoint-independent\n[forward]"}),
    ("[nat] hairpin", {"[forward]": "[nat]\nhairpin = no\n[forward]"}),
    ("[conntrack] capacity", {"capacity = 1024": "capacity = 2048"}),
    ("[conntrack] tcp_loose", {"capacity = 1024": "capacity = 1024\ntcp_loose = no"}),
    ("[workers] burst", {"idle_sleep_us = 200": "idle_sleep_us = 200\nburst = 16"}),
    ("[arp] entries", {"[arp]\n": "[arp]\nentries = 512\n"}),
    ("[fragments] max_flows", {"[forward]": "[fragments]\nmax_flows = 100\n[forward]"}),
    ("[control] socket", {"socket = ": "socket = /tmp/other.sock\n;"}),
    ("[helpers] max_expect", {"[forward]": "[helpers]\nmax_expect = 77\n[forward]"}),
    ("[inside] routes", {"address = 10.0.1.1/24": "address = 10.0.1.1/24\n"
                                                  "routes = 10.9.0.0/16 via 10.0.1.254"}),
]


def state(gw):
    return gw.j("timeout")["timeouts"], gw.j("forward", "list")["forwards"]


def test_reload(gw):
    udp_out(H10, 1300)
    syn_out(H11, 1301)
    wait_count(gw, 2)
    before = sorted(c["orig"] for c in gw.conns())
    # accepted: a forward and a timeout change, sessions kept
    gw.write(udp_to="45", **{"[conntrack]": "ssh = tcp 10.0.2.1:2200 -> 10.0.1.20:22\n"
                                              "[conntrack]"})
    rc, out, err = gw.ctl("reload")
    check(rc == 0 and "forwards (1 -> 2)" in out and "udp_unreplied 600 -> 45" in out,
          "reload: forward and timeout applied: " + (out + err).strip())
    check(sorted(c["orig"] for c in gw.conns()) == before,
          "reload: no session lost")
    check(gw.j("timeout")["timeouts"]["udp_unreplied"] == 45, "reload: timeout in force")
    r = inbound_syn(2200, 42000)
    check(r is not None and r[IP].dst == H20 and r[TCP].dport == 22,
          "reload: the new forward works")
    check(udp_roundtrip(H10, 1300), "reload: an old session still forwards")
    rc, out, _ = gw.ctl("reload")
    check(rc == 0 and "nothing to change" in out, "reload unchanged: nothing to change")
    # SIGHUP
    gw.write(udp_to="50", **{"[conntrack]": "ssh = tcp 10.0.2.1:2200 -> 10.0.1.20:22\n"
                                              "[conntrack]"})
    gw.p.send_signal(signal.SIGHUP)
    ok = False
    for _ in range(30):
        time.sleep(0.1)
        if gw.j("timeout")["timeouts"]["udp_unreplied"] == 50:
            ok = True
            break
    check(ok and "reload (SIGHUP): timeouts (udp_unreplied 45 -> 50" in gw.logtext(),
          "SIGHUP: reloaded, logged")
    # per-host limits, helpers and stats_interval change live too
    syn_out(H12, 2100, dport=21)
    wait_count(gw, 1, "-s", H12, "-p", "tcp", "--dport", "21")
    c = gw.conns("-s", H12, "-p", "tcp", "--dport", "21")
    check(len(c) == 1 and c[0]["helper"], "helpers: before the reload a connection to :21 "
          "gets the FTP helper")
    gw.write(udp_to="50", **{"[conntrack]": "ssh = tcp 10.0.2.1:2200 -> 10.0.1.20:22\n"
                                              "[conntrack]",
                             "[forward]": "[nat]\nmax_conns_per_host = 1\n[helpers]\n"
                                          "ftp = off\n[forward]",
                             "idle_sleep_us = 200": "idle_sleep_us = 200\nstats_interval = 30"})
    rc, out, err = gw.ctl("reload")
    check(rc == 0 and "limits ([nat] per-host limits)" in out and
          "helpers (0 helper port(s))" in out and "stats_interval (0 -> 30 s)" in out,
          "reload: limits, helpers, stats_interval applied: " + (out + err).strip())
    udp_out(H12, 1400)
    wait_count(gw, 1, "-s", H12)
    udp_out(H12, 1401)
    c = until(lambda: [x for x in gw.conns("-s", H12) if "sport=1401" in x["orig"]])
    c = gw.conns("-s", H12) if c else c
    check(len(c) == 1 and "sport=1401" in c[0]["orig"],
          "reload: max_conns_per_host = 1 in force: the host's second connection replaced "
          "its first (unassured)")
    syn_out(H11, 2101, dport=21)
    wait_count(gw, 1, "-s", H11, "-p", "tcp", "--dport", "21")
    c = gw.conns("-s", H11, "-p", "tcp", "--dport", "21")
    check(len(c) == 1 and not c[0]["helper"], "reload: ftp = off in force: a new connection "
          "to :21 gets no helper")
    gw.ctl("flush", "-s", H12)
    gw.ctl("flush", "-s", H11, "-p", "tcp", "--dport", "21")
    # [untracked] changes live (the workers pause between bursts while it is replaced)
    live = {"[conntrack]": "ssh = tcp 10.0.2.1:2200 -> 10.0.1.20:22\n[conntrack]",
            "idle_sleep_us = 200": "idle_sleep_us = 200\nstats_interval = 30"}
    check(udp_out_src(H12, 1500, 5353) == "10.0.2.1", "untracked: before the reload UDP to "
          ":5353 leaves translated")
    gw.write(udp_to="50", **dict(live, **{"[forward]": "[nat]\nmax_conns_per_host = 1\n"
                                          "[helpers]\nftp = off\n[untracked]\n"
                                          "mdns = udp dport 5353 private yes\n[forward]"}))
    rc, out, err = gw.ctl("reload")
    check(rc == 0 and "untracked (0 -> 1 rules)" in out,
          "reload: [untracked] applied: " + (out + err).strip())
    check(udp_out_src(H12, 1501, 5353) == H12, "untracked: after the reload UDP to :5353 "
          "leaves untranslated (private yes)")
    check(udp_out_src(H12, 1502, 5354) == "10.0.2.1", "untracked: other ports still NATed")
    gw.write(udp_to="50", **dict(live, **{"[forward]": "[nat]\nmax_conns_per_host = 1\n"
                                          "[helpers]\nftp = off\n[forward]"}))
    rc, out, err = gw.ctl("reload")
    check(rc == 0 and "untracked (1 -> 0 rules)" in out and
          udp_out_src(H12, 1503, 5353) == "10.0.2.1",
          "reload: [untracked] rule removed, NATed again: " + (out + err).strip())
    gw.ctl("flush", "-s", H12)
    # refused, key by key: nothing changes (the same file also changes a timeout)
    st0 = state(gw)
    before = sorted(c["orig"] for c in gw.conns())
    for key, repl in REFUSED:
        r2 = {"[conntrack]": "ssh = tcp 10.0.2.1:2200 -> 10.0.1.20:22\n[conntrack]"}
        r2.update(repl)
        gw.write(udp_to="99", **r2)
        rc, _, err = gw.ctl("reload")
        check(rc == 1 and ("reload refused, nothing changed: %s cannot change while natgw "
                           "runs" % key) in err and state(gw) == st0,
              "reload refused for %s: %s" % (key, err.strip()))
    # a bad file changes nothing
    gw.write(udp_to="99", **{"[conntrack]": "this is not ini\n[conntrack]"})
    rc, _, err = gw.ctl("reload")
    check(rc == 1 and "reload refused, nothing changed:" in err and "natgw.ini:" in err and
          state(gw) == st0, "reload of a bad file: refused, names file:line: " + err.strip())
    gw.write(udp_to="99", **{"[conntrack]": "bad = tcp 192.0.2.1:1 -> 10.0.1.5:1\n"
                                              "[conntrack]"})
    rc, _, err = gw.ctl("reload")
    check(rc == 1 and "not a pool address" in err and state(gw) == st0,
          "reload with a forward outside the pool: refused: " + err.strip())
    gw.write(udp_to="99", **{"[conntrack]": "a = tcp 10.0.2.1:100-200 -> 10.0.1.5:1\n"
                                              "b = tcp 10.0.2.1:150 -> 10.0.1.6:1\n[conntrack]"})
    rc, _, err = gw.ctl("reload")
    check(rc == 1 and "[forward]" in err and state(gw) == st0,
          "reload with overlapping forwards: refused: " + err.strip())
    os.rename(gw.ini, gw.ini + ".away")
    rc, _, err = gw.ctl("reload")
    check(rc == 1 and "reload refused, nothing changed" in err and state(gw) == st0,
          "reload with the file gone: refused: " + err.strip())
    os.rename(gw.ini + ".away", gw.ini)
    check(sorted(c["orig"] for c in gw.conns()) == before, "refused reloads: sessions kept")
    test_reload_rules(gw)


def test_reload_rules(gw):
    """[filter] rules through reload: compiled first (a bad one refuses), installed when the
    file changed, removed when the key goes."""
    here = os.path.dirname(os.path.realpath(__file__))
    with open(os.path.join(here, "..", "..", "config", "rules-default.nft")) as f:
        text = f.read()
    check("ct state invalid drop" in text, "rules: config/rules-default.nft as expected")
    rules = os.path.join(gw.d, "rules.nft")
    with open(rules, "w") as f:
        f.write(text.replace("ct state invalid drop", "ct state invalid drop\n\t\tudp dport "
                             "9999 drop", 1))
    fwd = {"[conntrack]": "ssh = tcp 10.0.2.1:2200 -> 10.0.1.20:22\n[conntrack]",
           "[workers]": "[filter]\nrules = %s\n[workers]" % rules}
    gw.write(udp_to="50", **fwd)
    rc, out, err = gw.ctl("reload")
    check(rc == 0 and ("ruleset (%s)" % rules) in out, "reload: ruleset installed: " +
          (out + err).strip())
    d0 = gw.j("counters")["drops"].get("RULE_DROP", 0)
    udp_out(H10, 1500, dport=9999)
    until(lambda: gw.j("counters")["drops"].get("RULE_DROP", 0) > d0)
    d1 = gw.j("counters")["drops"].get("RULE_DROP", 0)
    check(d1 == d0 + 1 and len(gw.conns("-p", "udp", "--dport", "9999")) == 0,
          "reload: the new ruleset drops udp dport 9999 (RULE_DROP %d -> %d)" % (d0, d1))
    rc, out, err = gw.ctl("list", "ruleset", "-p", "natgw-ctl-%d" % os.getpid())
    check(rc == 0 and "udp dport 9999 drop" in out and "counter" not in err,
          "list ruleset (tools/natgw_rules.py): shows the installed rule")
    rc, out, _ = gw.ctl("reload")
    check(rc == 0 and "nothing to change" in out, "reload: an unchanged ruleset is kept")
    with open(rules, "a") as f:
        f.write("\nthis is not nft\n")
    rc, _, err = gw.ctl("reload")
    check(rc == 1 and "reload refused, nothing changed:" in err and "rules.nft:25:1:" in err,
          "reload: a broken ruleset refuses the reload: " + err.strip())
    udp_out(H10, 1501, dport=9999)
    until(lambda: gw.j("counters")["drops"].get("RULE_DROP", 0) > d1)
    check(gw.j("counters")["drops"].get("RULE_DROP", 0) == d1 + 1,
          "reload refused: the installed ruleset still drops")
    gw.write(udp_to="50", **{"[conntrack]": fwd["[conntrack]"]})
    rc, out, err = gw.ctl("reload")
    check(rc == 0 and "ruleset (removed)" in out, "reload: [filter] gone, ruleset removed: " +
          (out + err).strip())
    udp_out(H10, 1502, dport=9999)
    check(wait_count(gw, 1, "-p", "udp", "--dport", "9999"),
          "reload: without the ruleset udp dport 9999 goes out again")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    if os.getuid() != 0 or not os.path.exists("/dev/net/tun"):
        print("SKIP: needs root and /dev/net/tun")
        return 77
    here = os.path.dirname(os.path.realpath(__file__))
    ctl = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "..", "tools",
                                                             "natgw-ctl")
    conf.verb = 0
    d = tempfile.mkdtemp(prefix="natgw-ctl-")
    gw = Gw(sys.argv[1], ctl, d)
    gw.write()
    gw.start()
    try:
        st = os.stat(gw.sock)
        check(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600 and
              stat.S_IMODE(os.stat(os.path.dirname(gw.sock)).st_mode) == 0o700,
              "control socket mode 0600 in a 0700 directory")
        test_list_flush_delete(gw)
        test_errors(gw)
        test_forward(gw)
        test_timeout_counters(gw)
        test_reload(gw)
    finally:
        gw.stop()
    out = gw.logtext()
    check(gw.p.returncode == 0, "natgw exit status 0")
    check(not os.path.exists(gw.sock), "the socket file is removed at exit")
    if FAILS:
        print(out[-3000:])
        print("FAIL: %d check(s) failed" % len(FAILS))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

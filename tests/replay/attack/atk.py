#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/attack/atk.py - a small harness for the attack reproducers in this folder:
build the frames arriving on each port with scapy, run natgw-replay over them with a config
(natgw-replay.ini, optionally with extra text appended or keys replaced), and read back what
left each port and what was dropped (with the drop reason identifiers).

Each reproducer is a standalone script:  /usr/bin/python3 tests/replay/attack/X.py NATGW_REPLAY
printing PASS or FAIL (and exiting non-zero on FAIL).
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import scenarios as sc  # noqa: E402
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, conf  # noqa: E402,F401

conf.verb = 0
GW_IN_MAC, GW_OUT_MAC, ROUTER_MAC = sc.GW_IN_MAC, sc.GW_OUT_MAC, sc.ROUTER_MAC
GW_IN, GW_OUT, ROUTER = sc.GW_IN, sc.GW_OUT, sc.ROUTER
H1, H1_MAC, H2, H2_MAC = sc.H1, sc.H1_MAC, sc.H2, sc.H2_MAC
SERVER, SERVER2, PEER = sc.SERVER, sc.SERVER2, sc.PEER
BCAST = sc.BCAST
INSIDE_PREFIX = bytes([192, 168, 1])


def base_config():
    return open(sc.CONFIG).read()


def set_key(text, section, key, value):
    """Replace (or add) `key = value` in [section] of an ini text."""
    out, cur, done = [], None, False
    lines = text.split("\n")
    for ln in lines:
        s = ln.strip()
        if s.startswith("[") and s.endswith("]"):
            if cur == section and not done:
                out.append(f"{key} = {value}")
                done = True
            cur = s[1:-1]
        elif cur == section and s.split("=")[0].strip() == key and not s.startswith(";"):
            if not done:
                out.append(f"{key} = {value}")
                done = True
            continue
        out.append(ln)
    if not done:
        if cur == section:
            out.append(f"{key} = {value}")
        else:
            out += [f"[{section}]", f"{key} = {value}"]
    return "\n".join(out) + "\n"


class Result:
    def __init__(self, d):
        self.out = {"inside": sc.read_pcap(os.path.join(d, "out-inside.pcap")),
                    "outside": sc.read_pcap(os.path.join(d, "out-outside.pcap"))}
        self.drops = sc.read_pcap(os.path.join(d, "drops.pcap"))
        self.reasons = {}
        with open(os.path.join(d, "drops.pcap.txt")) as f:
            for line in f:
                idx, _, r = line.strip().partition(" ")
                if idx:
                    self.reasons[int(idx)] = r.split(" ")[0]
        self.log = open(os.path.join(d, "replay.log")).read()

    def ip(self, port):
        return [(t, b) for t, b in self.out[port] if b[12:14] == b"\x08\x00"]

    def dropped(self):
        """[(t, bytes, reason id)] of dropped IPv4 frames."""
        return [(t, b, self.reasons.get(i, "?")) for i, (t, b) in enumerate(self.drops)
                if b[12:14] == b"\x08\x00"]

    def reason_of(self, pred):
        for t, b, r in self.dropped():
            try:
                if pred(Ether(b)):
                    return r
            except Exception:  # noqa: BLE001
                continue
        return None


class Run:
    def __init__(self, config_text=None, workers=1, args=()):
        self.t = sc.T0
        self.inputs = {"inside": [], "outside": []}
        self.config_text = config_text if config_text is not None else base_config()
        self.workers = workers
        self.args = list(args)
        self.ids = {}

    def send(self, port, pkt, dt=1000):
        self.t += dt
        b = bytes(pkt)
        self.inputs[port].append((self.t, b))
        return Ether(b)

    def ipid(self, a):
        self.ids[a] = self.ids.get(a, 0x100) + 1
        return self.ids[a]

    def host(self, h, dst, l4, ttl=64, mac=None, **kw):
        if mac is None:
            mac = H1_MAC if h == H1 else H2_MAC
        return Ether(src=mac, dst=GW_IN_MAC) / IP(src=h, dst=dst, ttl=ttl, id=self.ipid(h),
                                                 **kw) / l4

    def remote(self, src, dst, l4, ttl=50, **kw):
        return Ether(src=ROUTER_MAC, dst=GW_OUT_MAC) / IP(src=src, dst=dst, ttl=ttl,
                                                         id=self.ipid(src), **kw) / l4

    def preamble(self):
        self.send("inside", sc.arp_req(H1_MAC, H1, GW_IN))
        self.send("inside", sc.arp_req(H2_MAC, H2, GW_IN))
        self.send("outside", sc.arp_req(ROUTER_MAC, ROUTER, GW_OUT))

    def run(self, replay, keep=None):
        d = keep or tempfile.mkdtemp(prefix="natgw-atk-")
        os.makedirs(d, exist_ok=True)
        cfg = os.path.join(d, "atk.ini")
        with open(cfg, "w") as f:
            f.write(self.config_text)
        sc.write_pcap(os.path.join(d, "in-inside.pcap"), self.inputs["inside"])
        sc.write_pcap(os.path.join(d, "in-outside.pcap"), self.inputs["outside"])
        cmd = [replay, "--config", cfg,
               "--in-inside", os.path.join(d, "in-inside.pcap"),
               "--in-outside", os.path.join(d, "in-outside.pcap"),
               "--out-inside", os.path.join(d, "out-inside.pcap"),
               "--out-outside", os.path.join(d, "out-outside.pcap"),
               "--out-drops", os.path.join(d, "drops.pcap"),
               "--workers", str(self.workers)] + self.args
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        with open(os.path.join(d, "replay.log"), "w") as f:
            f.write(" ".join(cmd) + "\n" + r.stdout + r.stderr)
        if r.returncode != 0:
            raise RuntimeError(f"natgw-replay exited {r.returncode}:\n{r.stdout[-3000:]}"
                               f"{r.stderr[-3000:]}")
        res = Result(d)
        if keep is None:
            shutil.rmtree(d, ignore_errors=True)
        return res


def leaks_inside(b):
    """An IPv4 frame carrying an inside (192.168.1.x) address in its header, or in the
    header an ICMP error quotes."""
    if b[12:14] != b"\x08\x00":
        return False
    ihl = (b[14] & 15) * 4
    hdr, l4 = b[14:14 + ihl], b[14 + ihl:]
    addrs = [hdr[12:16], hdr[16:20]]
    if hdr[9] == 1 and len(l4) >= 28 and l4[0] in (3, 4, 5, 11, 12):
        addrs += [l4[8 + 12:8 + 16], l4[8 + 16:8 + 20]]
    return any(a[:3] == INSIDE_PREFIX for a in addrs)


def verdict(ok, what):
    print(("PASS " if ok else "FAIL ") + what)
    return 0 if ok else 1


def main_replay():
    if len(sys.argv) < 2:
        print(f"usage: {sys.argv[0]} NATGW_REPLAY [--keep DIR]", file=sys.stderr)
        sys.exit(2)
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    return os.path.abspath(sys.argv[1]), keep


def workers_arg():
    """--workers N of a script that takes it (default 1)."""
    return int(sys.argv[sys.argv.index("--workers") + 1]) if "--workers" in sys.argv else 1


def summary(b):
    return sc.summary(b)


class Tcp:
    """An outbound TCP connection h:sp -> dst:dp through NAT whose outside port is `ext`
    (preserved by default): handshake and data segments with their sequence numbers
    tracked (no helper length changes are accounted for)."""

    def __init__(self, r, h, sp, dst, dp, ext=None, isn_c=1000, isn_s=5000):
        self.r, self.h, self.sp, self.dst, self.dp = r, h, sp, dst, dp
        self.ext = ext if ext is not None else sp
        self.c, self.s = isn_c, isn_s

    def open(self):
        r = self.r
        r.send("inside", r.host(self.h, self.dst, TCP(sport=self.sp, dport=self.dp, flags="S",
                                                      seq=self.c, window=65535)))
        r.send("outside", r.remote(self.dst, GW_OUT, TCP(sport=self.dp, dport=self.ext,
                                                         flags="SA", seq=self.s,
                                                         ack=self.c + 1, window=65535)))
        self.c += 1
        self.s += 1
        r.send("inside", r.host(self.h, self.dst, TCP(sport=self.sp, dport=self.dp, flags="A",
                                                      seq=self.c, ack=self.s, window=65535)))

    def csend(self, data, flags="PA"):
        r = self.r
        x = r.send("inside", r.host(self.h, self.dst,
                                    TCP(sport=self.sp, dport=self.dp, flags=flags, seq=self.c,
                                        ack=self.s, window=65535) / data))
        self.c += len(data)
        return x

    def ssend(self, data, flags="PA", ack=None):
        r = self.r
        x = r.send("outside", r.remote(self.dst, GW_OUT,
                                       TCP(sport=self.dp, dport=self.ext, flags=flags,
                                           seq=self.s, ack=self.c if ack is None else ack,
                                           window=65535) / data))
        self.s += len(data)
        return x


def ftp_port(ip, p):
    a = ip.split(".")
    return ("PORT %s,%s,%s,%s,%d,%d\r\n" % (a[0], a[1], a[2], a[3], p >> 8, p & 255)).encode()

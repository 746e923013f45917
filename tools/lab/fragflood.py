#!/usr/bin/python3
"""tools/lab/fragflood.py - a bounded IPv4 fragment flood for the namespace lab (tests/e2e/run.sh
case frag-flood): trains of never-completed fragments (offsets 0, 1, 2, ... x SIZE, all with
MF set, so no datagram ever completes and every fragment must be held until its reassembly
times out), sent with a packet socket from an on-link host straight to the gateway's MAC.

  fragflood.py --iface eth0 --dst 10.0.2.1 [--dst-mac MAC] [--seconds 4] [--train 7]
               [--size 512] [--sources N] [--pps 0]

--sources N: N source addresses, the host's own one first and then 11.x.y.z (not martian,
not ours, not inside); each train takes the next one. --dst-mac: default the neighbour table's
entry for --dst (ping it first). --pps 0: as fast as one core sends. Stops after --seconds
whatever happens; prints "sent N fragments in S s (R/s), T trains, N sources".
"""
import argparse
import socket
import struct
import sys
import time


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def mac_of(ip, iface):
    with open("/proc/net/arp") as f:
        for line in f.readlines()[1:]:
            p = line.split()
            if p[0] == ip and p[5] == iface and p[3] != "00:00:00:00:00:00":
                return p[3]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--dst-mac")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--train", type=int, default=7)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--sources", type=int, default=1)
    ap.add_argument("--pps", type=int, default=0)
    ap.add_argument("--whole", action="store_true",
                    help="control: unfragmented datagrams instead (same sizes and rate)")
    a = ap.parse_args()
    size = a.size // 8 * 8
    dmac = a.dst_mac or mac_of(a.dst, a.iface)
    if dmac is None:
        print(f"fragflood: no neighbour entry for {a.dst} on {a.iface}", file=sys.stderr)
        return 2
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    smac = s.getsockname()[4]
    eth = bytes.fromhex(dmac.replace(":", "")) + smac + b"\x08\x00"
    q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    q.connect((a.dst, 9))
    own = q.getsockname()[0]
    q.close()
    srcs = [socket.inet_aton(own)]
    for i in range(1, a.sources):
        srcs.append(bytes([11, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]))
    dst = socket.inet_aton(a.dst)
    payload = bytes(range(256)) * (size // 256 + 1)
    payload = payload[:size]
    # per source and fragment index, the header without id and checksum: patched per train
    sent = trains = 0
    t0 = time.monotonic()
    end = t0 + a.seconds
    ipid = 1
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if a.pps and sent > (now - t0) * a.pps:
            time.sleep(0.0005)
            continue
        src = srcs[trains % len(srcs)]
        for k in range(a.train):
            hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + size, ipid, 0 if a.whole else 0x2000 | (k * size // 8),
                              64, 17, 0, src, dst)
            hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
            try:
                s.send(eth + hdr + payload)
                sent += 1
            except OSError:
                time.sleep(0.0001)
        trains += 1
        ipid = ipid + 1 if ipid < 0xffff else 1
    secs = time.monotonic() - t0
    print(f"sent {sent} fragments in {secs:.1f} s ({sent / secs:.0f}/s), {trains} trains, "
          f"{len(srcs)} sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())

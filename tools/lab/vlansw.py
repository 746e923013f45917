#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""tools/lab/vlansw.py - a small userspace IEEE 802.1Q switch for the namespace lab, whose
kernel has neither VLAN devices (8021q) nor bridge VLAN filtering nor tc's vlan action.

    vlansw.py TRUNK ACCESS:VID [ACCESS:VID ...]

A frame received on an access port leaves the trunk tagged with that port's VID (priority 0);
a frame received on the trunk tagged VID leaves that VID's access port untagged; untagged
trunk frames and other VIDs are dropped (counted, printed at exit). The kernel takes a
received tag off into the packet's metadata (PACKET_AUXDATA, TP_STATUS_VLAN_VALID), or leaves
it in the frame: both are read. Frames the switch sends itself (PACKET_OUTGOING) are skipped.
"""
import select
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
AUX = struct.Struct("IIIHHHH")  # status, len, snaplen, mac, net, vlan_tci, vlan_tpid


def open_port(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((ifname, 0))
    s.setblocking(False)
    return s


def recv(s):
    """(frame with its tag in it if it had one, or None when it was our own)."""
    data, anc, _flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(AUX.size))
    if addr[2] == PACKET_OUTGOING:
        return None
    for level, typ, cdata in anc:
        if level == SOL_PACKET and typ == PACKET_AUXDATA and len(cdata) >= AUX.size:
            st, _l, _sl, _m, _n, tci, tpid = AUX.unpack_from(cdata)
            if st & TP_STATUS_VLAN_VALID:
                return data[:12] + struct.pack("!HH", tpid or 0x8100, tci) + data[12:]
    return data


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    trunk = open_port(argv[1])
    access = {}         # fd -> (socket, vid)
    by_vid = {}
    for a in argv[2:]:
        ifname, vid = a.rsplit(":", 1)
        s = open_port(ifname)
        access[s.fileno()] = (s, int(vid))
        by_vid[int(vid)] = s
    drops = {"untagged": 0, "other vid": 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    ep = select.epoll()
    ep.register(trunk.fileno(), select.EPOLLIN)
    for fd in access:
        ep.register(fd, select.EPOLLIN)
    while not stop:
        try:
            events = ep.poll(0.5)
        except InterruptedError:
            continue
        for fd, _ev in events:
            while True:
                try:
                    if fd == trunk.fileno():
                        f = recv(trunk)
                    else:
                        f = recv(access[fd][0])
                except BlockingIOError:
                    break
                if f is None or len(f) < 14:
                    continue
                try:
                    if fd == trunk.fileno():
                        if f[12:14] != b"\x81\x00" or len(f) < 18:
                            drops["untagged"] += 1
                            continue
                        vid = struct.unpack("!H", f[14:16])[0] & 0x0fff
                        out = by_vid.get(vid)
                        if out is None:
                            drops["other vid"] += 1
                            continue
                        out.send(f[:12] + f[16:])
                    else:
                        vid = access[fd][1]
                        trunk.send(f[:12] + struct.pack("!HH", 0x8100, vid) + f[12:])
                except OSError:
                    pass        # a frame over the MTU, a full queue: lost, as on a wire
    print(f"vlansw: dropped {drops}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

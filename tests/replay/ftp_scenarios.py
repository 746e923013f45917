#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/ftp_scenarios.py - FTP helper scenarios for natgw-replay (lib/helpers), built
on the machinery of scenarios.py (same lab, same checks: every output frame byte for byte,
checksums recomputed from scratch, no inside address leaking out, exact drops).

    /usr/bin/python3 tests/replay/ftp_scenarios.py NATGW_REPLAY SCENARIO [--keep DIR]
    /usr/bin/python3 tests/replay/ftp_scenarios.py --list

ftp_active:  PORT and EPRT from an inside client through SNAT. The address text is
             rewritten to 203.0.113.2 (one byte shorter each time), so every later segment
             of the control connection is checked with its SEQ moved (client -> server) and
             its ACK moved back (server -> client), the offsets adding up; the server's
             data connections from port 20 arrive on the announced ports and are DNATed to
             the client (RELATED), while the same SYN from another host is dropped.
ftp_passive: PASV (227) and EPSV (229) through SNAT: nothing rewritten, the client's data
             connections go out; then a PORT with a length change and the later segments
             both ways.
ftp_active_workers2: ftp_active with two simulated workers (external ports learned): the
             reserved ports are those one worker gives (preserved), and the server's data
             connections are steered to the worker that holds the expectation.
ftp_forward_passive: passive FTP from an outside client to a server behind a port forward
             on another outside port (tcp 203.0.113.2:2121 -> 192.168.1.20:21, added to
             natgw-replay.ini for this scenario only): the helper is chosen by the server's
             port (21), the server's 227 reply is rewritten to the outside address (one
             byte shorter, later segments moved both ways), and the client's data
             connection to the announced port is DNATed to the server (RELATED), while the
             same SYN from another host is dropped.
ftp_forward_passive_workers2: the same with two simulated workers.
tftp_master_expires: a slow TFTP read (RFC 1350) with the TFTP helper on (tftp = 69, added
             for this scenario only) and short UDP timeouts: the request's entry, never
             answered, expires while the transfer runs; the transfer keeps the client's
             outside port (another inside host with the same source port gets another
             one), keeps translating both ways, and once it has timed out too the port is
             free again (the other host then gets it).
tftp_master_expires_workers2: the same with two simulated workers (H2's flows may live in
             the other worker; the outside port table is shared).
Needs natgw's FTP helper on port 21 (the default, [helpers] ftp = 21).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402
from scapy.all import IP, TCP, UDP, Ether, Raw  # noqa: E402

H1, H1_MAC, SERVER, SERVER2, GW_OUT = sc.H1, sc.H1_MAC, sc.SERVER, sc.SERVER2, sc.GW_OUT


def rewritten(x, seq=None, ack=None, load=None):
    """Input frame x with TCP seq/ack/payload replaced, lengths and checksums left to be
    recomputed (forwarded() recomputes them from scratch)."""
    p = Ether(bytes(x))
    t = p[TCP]
    if seq is not None:
        t.seq = seq
    if ack is not None:
        t.ack = ack
    if load is not None:
        t.remove_payload()
        t.add_payload(Raw(load))
    del p[IP].len
    del p[IP].chksum
    del t.chksum
    return Ether(bytes(p))


class Ctl:
    """An FTP control connection H1:cport -> SERVER:21 (external port preserved), with the
    helper's length changes tracked: `off` is what the gateway added to the client's stream
    so far (the server sees seq + off and acknowledges in that space)."""

    def __init__(self, tr, cport):
        self.tr, self.cport = tr, cport
        self.cseq, self.sseq, self.off = 1000, 5000, 0
        # the external port: preserved with one worker, learned with several
        self.ext = tr.flow(f"ctl-{cport}", "outside",
                           lambda p: p[TCP].flags == "S" and p[TCP].dport == 21 and
                           p[TCP].seq == 1000 and p[IP].src == GW_OUT,
                           lambda p: p[TCP].sport, cport)

    def c(self, flags, load=None, out_load=None):
        """Client segment; out_load: the payload as the server must see it."""
        tr = self.tr
        p = sc.host(tr, H1, SERVER, TCP(sport=self.cport, dport=21, flags=flags,
                                        seq=self.cseq, ack=self.sseq, window=502))
        if load is not None:
            p = p / load
        x = tr.send("inside", p)
        want = rewritten(x, seq=(self.cseq + self.off) & 0xffffffff,
                         load=out_load if out_load is not None else None)
        tr.out("outside", sc.to_out(want, src=GW_OUT, sport=self.ext))
        n = len(load) if load else 0
        if "S" in flags or "F" in flags:
            n += 1
        if out_load is not None:
            self.off += len(out_load) - len(load)
        self.cseq += n

    def s(self, flags, load=None):
        """Server segment, acknowledging the client's stream as the server sees it."""
        tr = self.tr
        p = sc.remote(tr, SERVER, GW_OUT, TCP(sport=21, dport=self.ext, flags=flags,
                                              seq=self.sseq,
                                              ack=(self.cseq + self.off) & 0xffffffff,
                                              window=509))
        if load is not None:
            p = p / load
        y = tr.send("outside", p)
        tr.out("inside", sc.to_in(rewritten(y, ack=self.cseq), H1_MAC, dst=H1,
                                  dport=self.cport))
        self.sseq += (len(load) if load else 0) + (1 if "S" in flags or "F" in flags else 0)

    def open(self):
        tr = self.tr
        x = tr.send("inside", sc.host(tr, H1, SERVER, TCP(sport=self.cport, dport=21,
                                                            flags="S", seq=self.cseq,
                                                            window=64240,
                                                            options=sc.tcp_opts())))
        tr.out("outside", sc.to_out(x, src=GW_OUT, sport=self.ext))
        y = tr.send("outside", sc.remote(tr, SERVER, GW_OUT,
                                         TCP(sport=21, dport=self.ext, flags="SA",
                                             seq=self.sseq, ack=self.cseq + 1, window=65160,
                                             options=sc.tcp_opts())))
        tr.out("inside", sc.to_in(y, H1_MAC, dst=H1, dport=self.cport))
        self.cseq += 1
        self.sseq += 1
        self.c("A")
        self.s("PA", b"220 natgw replay ftp\r\n")


def data_in(tr, src, sport, ext, inside_port, seq=9000):
    """The server's active-mode data connection: SYN to ext, DNATed to H1:inside_port;
    the client's SYN-ACK goes out from ext; a segment of data comes in."""
    y = tr.send("outside", sc.remote(tr, src, GW_OUT, TCP(sport=sport, dport=ext, flags="S",
                                                          seq=seq, window=65160,
                                                          options=sc.tcp_opts())))
    tr.out("inside", sc.to_in(y, H1_MAC, dst=H1, dport=inside_port))
    x = tr.send("inside", sc.host(tr, H1, src, TCP(sport=inside_port, dport=sport,
                                                     flags="SA", seq=7000, ack=seq + 1,
                                                     window=64240, options=sc.tcp_opts())))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=ext))
    y = tr.send("outside", sc.remote(tr, src, GW_OUT, TCP(sport=sport, dport=ext, flags="PA",
                                                          seq=seq + 1, ack=7001,
                                                          window=509) / b"file contents\n"))
    tr.out("inside", sc.to_in(y, H1_MAC, dst=H1, dport=inside_port))


def data_out(tr, cport, dport):
    """The client's passive-mode data connection to SERVER:dport, SNATed (port preserved)."""
    x = tr.send("inside", sc.host(tr, H1, SERVER, TCP(sport=cport, dport=dport, flags="S",
                                                        seq=3000, window=64240,
                                                        options=sc.tcp_opts())))
    tr.out("outside", sc.to_out(x, src=GW_OUT))
    y = tr.send("outside", sc.remote(tr, SERVER, GW_OUT, TCP(sport=dport, dport=cport,
                                                             flags="SA", seq=8000, ack=3001,
                                                             window=65160,
                                                             options=sc.tcp_opts())))
    tr.out("inside", sc.to_in(y, H1_MAC, dst=H1))
    x = tr.send("inside", sc.host(tr, H1, SERVER, TCP(sport=cport, dport=dport, flags="A",
                                                        seq=3001, ack=8001, window=502)))
    tr.out("outside", sc.to_out(x, src=GW_OUT))


def port_in_text(p):
    """The port a rewritten PORT/EPRT command announces (as it left the outside port)."""
    t = bytes(p[TCP].payload).decode()
    if t.startswith("PORT "):
        n = t[5:].split(",")
        return int(n[4]) * 256 + int(n[5])
    return int(t.split("|")[3])


def announced(tr, name, cmd, default):
    """The outside port the gateway reserves for a PORT/EPRT (learned: with several
    workers it must come from the master's worker's slice, see data_in)."""
    return tr.flow(name, "outside",
                   lambda p: bytes(p[TCP].payload).startswith(cmd), port_in_text, default)


def sc_ftp_active(tr):
    sc.preamble(tr)
    ctl = Ctl(tr, 40100)
    ctl.open()
    # "192,168,1,10" -> "203,0,113,2": one byte shorter; data port 40001 kept (one worker)
    e1 = announced(tr, "data-port", b"PORT ", 40001)
    ctl.c("PA", b"PORT 192,168,1,10,156,65\r\n",
          b"PORT 203,0,113,2,%d,%d\r\n" % (e1 >> 8, e1 & 255))
    ctl.s("A")
    ctl.s("PA", b"200 PORT command successful\r\n")
    ctl.c("PA", b"RETR f\r\n")
    # the expectation is for the server's address only: another host is refused
    z = tr.send("outside", sc.remote(tr, SERVER2, GW_OUT, TCP(sport=20, dport=e1,
                                                              flags="S", seq=4242)))
    tr.drop(z)
    data_in(tr, SERVER, 20, e1, 40001)
    ctl.s("PA", b"150 Opening data connection\r\n")
    ctl.c("A")
    # EPRT: again one byte shorter (one worker), offsets add up to -2
    e2 = announced(tr, "data-eprt", b"EPRT ", 40002)
    ctl.c("PA", b"EPRT |1|192.168.1.10|40002|\r\n", b"EPRT |1|203.0.113.2|%d|\r\n" % e2)
    ctl.s("PA", b"200 EPRT command successful\r\n")
    ctl.c("PA", b"LIST\r\n")
    data_in(tr, SERVER, 20, e2, 40002, seq=19000)
    ctl.s("PA", b"226 Transfer complete\r\n")
    ctl.c("PA", b"QUIT\r\n")
    ctl.s("PA", b"221 Goodbye\r\n")
    ctl.c("FA")
    ctl.s("FA")
    ctl.c("A")
    if tr.workers > 1:
        # N workers behave as one (one port table shared by the workers): the announced
        # ports are preserved as with one worker, and the server's data connections reach
        # the expectation (the common checks)
        def check(t, res, ck):
            got = sc.learn(t, res)
            ck.eq("reserved data ports as with one worker (preserved)",
                  {"data-port": 40001, "data-eprt": 40002},
                  {k: got.get(k) for k in ("data-port", "data-eprt")})
        tr.check(check)


def sc_ftp_passive(tr):
    sc.preamble(tr)
    ctl = Ctl(tr, 40200)
    ctl.open()
    ctl.c("PA", b"PASV\r\n")
    ctl.s("PA", b"227 Entering Passive Mode (198,51,100,5,195,80).\r\n")
    data_out(tr, 40201, 50000)
    ctl.c("PA", b"EPSV\r\n")
    ctl.s("PA", b"229 Entering Extended Passive Mode (|||50001|)\r\n")
    data_out(tr, 40202, 50001)
    # then a length change on the same control connection: later segments both ways
    ctl.c("PA", b"PORT 192,168,1,10,157,1\r\n", b"PORT 203,0,113,2,157,1\r\n")
    ctl.s("PA", b"200 PORT command successful\r\n")
    ctl.c("PA", b"LIST\r\n")
    data_in(tr, SERVER, 20, 40193, 40193)
    ctl.s("PA", b"226 Transfer complete\r\n")
    ctl.c("PA", b"QUIT\r\n")
    ctl.s("PA", b"221 Goodbye\r\n")


def sc_ftp_forward_passive(tr):
    sc.preamble(tr)
    cli, cport, fport = sc.PEER, 33100, 2121
    st = {"c": 1000, "s": 5000, "off": 0}   # off: what natgw added to the server's stream

    def c(flags, load=None, sport=cport, dport=fport, seq=None, ack=None):
        """Client segment in; out to the server, ACK moved back into its space."""
        p = sc.remote(tr, cli, GW_OUT, TCP(sport=sport, dport=dport, flags=flags,
                                           seq=st["c"] if seq is None else seq,
                                           ack=(st["s"] + st["off"]) if ack is None else ack,
                                           window=502))
        if load is not None:
            p = p / load
        y = tr.send("outside", p)
        tr.out("inside", sc.to_in(rewritten(y, ack=st["s"]), sc.H2_MAC, dst=sc.H2, dport=21))
        st["c"] += (len(load) if load else 0) + (1 if "S" in flags or "F" in flags else 0)

    def s(flags, load=None, out_load=None):
        """Server segment out from the forward's port, SEQ moved by the offset."""
        p = sc.host(tr, sc.H2, cli, TCP(sport=21, dport=cport, flags=flags, seq=st["s"],
                                        ack=st["c"], window=509))
        if load is not None:
            p = p / load
        x = tr.send("inside", p)
        tr.out("outside", sc.to_out(rewritten(x, seq=st["s"] + st["off"], load=out_load),
                                    src=GW_OUT, sport=fport))
        if out_load is not None:
            st["off"] += len(out_load) - len(load)
        st["s"] += (len(load) if load else 0) + (1 if "S" in flags or "F" in flags else 0)

    # handshake through the forward
    y = tr.send("outside", sc.remote(tr, cli, GW_OUT, TCP(sport=cport, dport=fport, flags="S",
                                                          seq=st["c"], window=64240,
                                                          options=sc.tcp_opts())))
    tr.out("inside", sc.to_in(y, sc.H2_MAC, dst=sc.H2, dport=21))
    st["c"] += 1
    x = tr.send("inside", sc.host(tr, sc.H2, cli, TCP(sport=21, dport=cport, flags="SA",
                                                        seq=st["s"], ack=st["c"], window=65160,
                                                        options=sc.tcp_opts())))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=fport))
    st["s"] += 1
    c("A")
    s("PA", b"220 natgw replay ftp\r\n")
    c("PA", b"USER anonymous\r\n")
    s("PA", b"230 ok\r\n")
    c("PA", b"PASV\r\n")
    # "192,168,1,20" -> "203,0,113,2": one byte shorter; the data port 50000 is kept
    e1 = tr.flow("fwd-pasv", "outside",
                 lambda p: bytes(p[TCP].payload).startswith(b"227 "),
                 lambda p: (lambda n: int(n[4]) * 256 + int(n[5].split(")")[0]))(
                     bytes(p[TCP].payload).decode().split("(")[1].split(",")), 50000)
    s("PA", b"227 Entering Passive Mode (192,168,1,20,195,80).\r\n",
      b"227 Entering Passive Mode (203,0,113,2,%d,%d).\r\n" % (e1 >> 8, e1 & 255))
    c("A")
    c("PA", b"RETR f\r\n")
    # the expectation is for this client only: another host's SYN is dropped
    tr.drop(tr.send("outside", sc.remote(tr, SERVER2, GW_OUT,
                                         TCP(sport=40000, dport=e1, flags="S", seq=4242))))
    # the client's data connection: DNATed to the server's announced port
    y = tr.send("outside", sc.remote(tr, cli, GW_OUT, TCP(sport=cport + 1, dport=e1,
                                                          flags="S", seq=30000, window=64240,
                                                          options=sc.tcp_opts())))
    tr.out("inside", sc.to_in(y, sc.H2_MAC, dst=sc.H2, dport=50000))
    x = tr.send("inside", sc.host(tr, sc.H2, cli, TCP(sport=50000, dport=cport + 1,
                                                        flags="SA", seq=60000, ack=30001,
                                                        window=65160, options=sc.tcp_opts())))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=e1))
    y = tr.send("outside", sc.remote(tr, cli, GW_OUT, TCP(sport=cport + 1, dport=e1, flags="A",
                                                          seq=30001, ack=60001, window=502)))
    tr.out("inside", sc.to_in(y, sc.H2_MAC, dst=sc.H2, dport=50000))
    x = tr.send("inside", sc.host(tr, sc.H2, cli, TCP(sport=50000, dport=cport + 1,
                                                        flags="PA", seq=60001, ack=30001,
                                                        window=509) / b"file contents\n"))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=e1))
    # the control connection goes on with the -1 shift both ways
    s("PA", b"150 Opening data connection\r\n")
    s("PA", b"226 Transfer complete\r\n")
    c("PA", b"QUIT\r\n")
    s("PA", b"221 Goodbye\r\n")
    c("FA")
    s("FA")
    c("A")


def sc_tftp_master_expires(tr):
    sc.preamble(tr)
    tr.replay_args += ["--timeout", "udp_unreplied=20", "--timeout", "udp_replied=40",
                       "--timeout", "udp_assured=40"]
    srv, tid = SERVER, 4444

    def block(n, dt=1000):
        """DATA n from the server's transfer port in to H1:3333, its ACK out."""
        y = tr.send("outside", sc.remote(tr, srv, GW_OUT, UDP(sport=tid, dport=3333) /
                                         (b"\0\3\0" + bytes([n]) + b"data")), dt=dt)
        tr.out("inside", sc.to_in(y, H1_MAC, dst=H1, dport=3333))
        x = tr.send("inside", sc.host(tr, H1, srv, UDP(sport=3333, dport=tid) /
                                      (b"\0\4\0" + bytes([n]))))
        tr.out("outside", sc.to_out(x, src=GW_OUT))

    x = tr.send("inside", sc.host(tr, H1, srv, UDP(sport=3333, dport=69) /
                                  b"\0\1file\0octet\0"))
    tr.out("outside", sc.to_out(x, src=GW_OUT))         # 3333 preserved
    block(1)
    # a block every 15 s: the request's entry (unreplied, 20 s) expires meanwhile
    for n in (2, 3, 4):
        block(n, dt=15000000)
    # H2 with the same source port: 3333 is the transfer's, it gets another port
    q = tr.flow("h2-3333", "outside",
                lambda p: p[IP].src == GW_OUT and bytes(p[UDP].payload) == b"h2 first",
                lambda p: p[UDP].sport, 1024)
    x = tr.send("inside", sc.host(tr, sc.H2, SERVER2, UDP(sport=3333, dport=5000) /
                                  b"h2 first"))
    tr.out("outside", sc.to_out(x, src=GW_OUT, sport=q))
    tr.check(lambda t, r, ck: ck.ok(sc.learn(t, r).get("h2-3333") not in (None, 3333),
                                    "another host not given the running transfer's port "
                                    "3333", "!= 3333", sc.learn(t, r).get("h2-3333")))
    block(5)
    # both flows idle past their timeouts (40 s, 20 s): the port is free, H2 gets it
    x = tr.send("inside", sc.host(tr, sc.H2, SERVER2, UDP(sport=3333, dport=5001) /
                                  b"h2 later"), dt=50000000)
    tr.out("outside", sc.to_out(x, src=GW_OUT))


# the [forward] entry and [helpers] keys a scenario adds to natgw-replay.ini
FORWARDS = {"ftp_forward_passive": {"ftpalt": "tcp 203.0.113.2:2121 -> 192.168.1.20:21"}}
HELPERS = {"tftp_master_expires": {"tftp": 69}}


def ftp_config(d, name):
    if name not in FORWARDS and name not in HELPERS:
        return None
    return sc.write_config(d, keys={"forward": FORWARDS.get(name, {}),
                                    "helpers": HELPERS.get(name, {})})


SCENARIOS = {"ftp_active": sc_ftp_active, "ftp_passive": sc_ftp_passive,
             "ftp_forward_passive": sc_ftp_forward_passive,
             "tftp_master_expires": sc_tftp_master_expires}


if __name__ == "__main__":
    sys.exit(sc.main(sys.argv, __doc__, SCENARIOS, config=ftp_config))

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/replay/log_scenarios.py - connection events and NAT logging (app/gw_event.c) through
natgw-replay, with real collectors: natgw-replay runs the pipeline over scapy-built pcaps
with [log] ipfix and syslog pointed at UDP (or unix datagram) sockets this script listens
on, and --events FILE for the `conntrack -E` lines. The IPFIX datagrams received are written
to a pcap (Ether/IP/UDP to the collector port) and decoded by Debian's tshark
(`-d udp.port==PORT,cflow`); every field of every record is checked, and the message
headers (sequence numbers, observation domain, export time) and template (re-)sends. The
syslog messages are parsed against RFC 5424's ABNF and their fields checked.

    /usr/bin/python3 tests/replay/log_scenarios.py NATGW_REPLAY SCENARIO [--keep DIR]
    /usr/bin/python3 tests/replay/log_scenarios.py --list

Scenarios:
  log_ipfix        IPFIX records (natEvent 4 create / 5 delete), template, sequence, domain
  log_ipfix_workers2  the same with 2 workers (handoff rings; one event ring each)
  log_syslog       RFC 5424 over UDP, one message per session create/delete
  log_syslog_unix  the same to a unix datagram socket
  log_events       [NEW]/[UPDATE]/[DESTROY] lines as conntrack -E prints them
  log_ring_full    ring_size 16, main lcore draining only at the end: losses counted, every
                   packet still forwarded (the worker never waits)
  log_rate         [log] rate = 5: at most 5 session logs per second, the rest counted
  log_evicted      a full table: DESTROY reason=evicted, IPFIX deletes at eviction
"""
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as S  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether  # noqa: E402

DOMAIN = 77
HOSTNAME = "natgw-test"
TIMEOUTS = ["tcp_syn_sent=10", "tcp_syn_recv=10", "tcp_established=10", "udp_unreplied=10",
            "udp_replied=10", "udp_assured=10", "icmp=10"]
GAP = 100 * 1000000          # later traffic, after every timeout above


class Collector:
    """A UDP (or unix datagram) socket that keeps every datagram it receives."""

    def __init__(self, d, unix=None):
        if unix:
            self.path = os.path.join(d, unix)
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.s.bind(self.path)
            self.port = None
        else:
            self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            self.s.bind(("127.0.0.1", 0))
            self.port = self.s.getsockname()[1]
        self.s.setblocking(False)
        self.got = []

    def drain(self):
        while True:
            try:
                self.got.append(self.s.recv(65535))
            except BlockingIOError:
                return self.got


def run(replay, d, tr, log_keys, extra_args=(), keys=None):
    """Run natgw-replay over tr's inputs with [log] log_keys (and other sections' keys);
    returns (stdout, events)."""
    cfg = S.write_config(d, keys=dict(keys or {}, log=log_keys))
    S.write_pcap(os.path.join(d, "in-inside.pcap"), tr.inputs["inside"])
    S.write_pcap(os.path.join(d, "in-outside.pcap"), tr.inputs["outside"])
    ev = os.path.join(d, "events.txt")
    cmd = [replay, "--config", cfg,
           "--in-inside", os.path.join(d, "in-inside.pcap"),
           "--in-outside", os.path.join(d, "in-outside.pcap"),
           "--out-inside", os.path.join(d, "out-inside.pcap"),
           "--out-outside", os.path.join(d, "out-outside.pcap"),
           "--out-drops", os.path.join(d, "drops.pcap"), "--events", ev]
    for t in TIMEOUTS:
        cmd += ["--timeout", t]
    cmd += list(extra_args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    with open(os.path.join(d, "replay.log"), "w") as f:
        f.write(" ".join(cmd) + "\n" + r.stdout + r.stderr)
    if r.returncode != 0:
        raise RuntimeError(f"natgw-replay exited {r.returncode}:\n{r.stdout}{r.stderr}")
    with open(ev) as f:
        return r.stdout, [line.rstrip("\n") for line in f]


# ---------------------------------------------------------------------------------------------
# the traffic: four sessions (SNAT tcp/udp/icmp, a port forward), then after all timeouts a
# fifth; every session is (proto, src, sport, post_src, post_sport, dst, dport, post_dst,
# post_dport, create time) as RFC 8158 sees the original direction before and after NAT

def traffic(tr):
    S.preamble(tr)
    sess = []
    syn = tr.send("inside", S.host(tr, S.H1, S.SERVER, TCP(sport=40000, dport=80, flags="S",
                                                          seq=1000)))
    sess.append((6, S.H1, 40000, S.GW_OUT, 40000, S.SERVER, 80, S.SERVER, 80, tr.t))
    tr.send("outside", S.remote(tr, S.SERVER, S.GW_OUT, TCP(sport=80, dport=40000, flags="SA",
                                                           seq=5000, ack=1001)))
    tr.send("inside", S.host(tr, S.H1, S.SERVER, TCP(sport=40000, dport=80, flags="A",
                                                    seq=1001, ack=5001)))
    tr.send("inside", S.host(tr, S.H2, S.SERVER, UDP(sport=5000, dport=53) / b"q"))
    sess.append((17, S.H2, 5000, S.GW_OUT, 5000, S.SERVER, 53, S.SERVER, 53, tr.t))
    tr.send("outside", S.remote(tr, S.SERVER, S.GW_OUT, UDP(sport=53, dport=5000) / b"a"))
    tr.send("outside", S.remote(tr, S.PEER, S.GW_OUT, TCP(sport=33333, dport=8080, flags="S",
                                                         seq=7000)))
    sess.append((6, S.PEER, 33333, S.PEER, 33333, S.GW_OUT, 8080, S.H1, 80, tr.t))
    tr.send("inside", S.host(tr, S.H1, S.SERVER, ICMP(type=8, id=77, seq=1) / b"ping"))
    # ICMP identifiers are not preserved: the one natgw chose is read from its output
    sess.append((1, S.H1, 77, S.GW_OUT, "ID", S.SERVER, 77, S.SERVER, "ID", tr.t))
    tr.send("inside", S.host(tr, S.H2, S.SERVER2, UDP(sport=5001, dport=123) / b"ntp"),
            dt=GAP)
    last = (17, S.H2, 5001, S.GW_OUT, 5001, S.SERVER2, 123, S.SERVER2, 123, tr.t)
    return sess, last, syn


def icmp_ext_id(d):
    """The identifier the echo request left the outside port with."""
    for _t, b in S.Result(d).ip("outside"):
        p = Ether(b)
        if ICMP in p and p[ICMP].type == 8:
            return p[ICMP].id
    return None


def learned(d, sess):
    ext = icmp_ext_id(d)
    return [tuple(ext if v == "ID" else v for v in s) for s in sess]


def expected_records(sess, last, t_del):
    """(natEvent, time ms, proto, src, sport, post_src, post_sport, dst, dport, post_dst,
    post_dport) in the order natgw reports them; deletes all at t_del (the expiry pass before
    the last packet) in conntrack's expiry order, which the check does not assume."""
    creates = [(4, s[9] // 1000) + s[:9] for s in sess]
    deletes = [(5, t_del // 1000) + s[:9] for s in sess]
    return creates, deletes, [(4, last[9] // 1000) + last[:9]]


# ---------------------------------------------------------------------------------------------
# IPFIX through tshark

TS_FIELDS = ["frame.number", "cflow.version", "cflow.len", "cflow.exporttime", "cflow.sequence",
             "cflow.od_id", "cflow.flowset_id", "cflow.flowset_length", "cflow.template_id",
             "cflow.template_field_count", "cflow.template_ipfix_field_type",
             "cflow.template_field_length", "cflow.observation_time_milliseconds",
             "cflow.nat_event", "cflow.protocol", "cflow.srcaddr", "cflow.srcport",
             "cflow.post_natsource_ipv4_address", "cflow.post_naptsource_transport_port",
             "cflow.dstaddr", "cflow.dstport", "cflow.post_natdestination_ipv4_address",
             "cflow.post_naptdestination_transport_port"]
TEMPLATE = [(323, 8), (230, 1), (4, 1), (8, 4), (7, 2), (225, 4), (227, 2), (12, 4), (11, 2),
            (226, 4), (228, 2)]


def tshark_ipfix(d, port, datagrams):
    recs = [(1700000000 * 1000000 + i, bytes(Ether() / IP(src="127.0.0.1", dst="127.0.0.1") /
                                             UDP(sport=4739, dport=port) / g))
            for i, g in enumerate(datagrams)]
    path = os.path.join(d, "ipfix.pcap")
    S.write_pcap(path, recs)
    cmd = ["tshark", "-n", "-r", path, "-d", f"udp.port=={port},cflow", "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in TS_FIELDS:
        cmd += ["-e", f]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, TZ="UTC"))
    if r.returncode != 0:
        raise RuntimeError(f"tshark failed: {r.stderr}")
    with open(os.path.join(d, "tshark.txt"), "w") as f:
        f.write(r.stdout)
    frames = []
    for line in r.stdout.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(TS_FIELDS) - len(cols))
        frames.append({k: (v.split("|") if v else []) for k, v in zip(TS_FIELDS, cols)})
    return frames


def ts_ms(text):
    """tshark's absolute time ("Nov 14, 2023 22:13:20.123000000 UTC") in ms since 1970."""
    import calendar
    import time as _t
    m = re.match(r"(\w+ +\d+, \d+ \d+:\d+:\d+)\.(\d+)", text.strip())
    if not m:
        raise ValueError(f"time {text!r}")
    sec = calendar.timegm(_t.strptime(re.sub(" +", " ", m.group(1)), "%b %d, %Y %H:%M:%S"))
    return sec * 1000 + int(m.group(2)[:3])


def ipfix_records(frames, ck, template_records, t_of_frame=None):
    """Check every message's header and sets; return the data records in order."""
    recs, seq, since, nframe = [], 0, None, 0
    for fr in frames:
        nframe += 1
        ck.eq(f"ipfix message {nframe}: version", ["10"], fr["cflow.version"])
        ck.eq(f"ipfix message {nframe}: observation domain", [str(DOMAIN)], fr["cflow.od_id"])
        ck.eq(f"ipfix message {nframe}: sequence = data records before it", [str(seq)],
              fr["cflow.sequence"])
        if t_of_frame is not None:
            ck.eq(f"ipfix message {nframe}: export time", [str(t_of_frame[nframe - 1])],
                  fr["cflow.exporttime"])
        sets = list(zip(fr["cflow.flowset_id"], fr["cflow.flowset_length"]))
        n_tmpl = sum(1 for s, _ in sets if s == "2")
        ck.eq(f"ipfix message {nframe}: template ids", ["256"] * n_tmpl, fr["cflow.template_id"])
        ck.eq(f"ipfix message {nframe}: template fields",
              [str(a) for _ in range(n_tmpl) for a, _b in TEMPLATE],
              fr["cflow.template_ipfix_field_type"])
        ck.eq(f"ipfix message {nframe}: template field lengths",
              [str(b) for _ in range(n_tmpl) for _a, b in TEMPLATE],
              fr["cflow.template_field_length"])
        if nframe == 1:
            ck.eq("ipfix: the first set of the stream is the template", "2",
                  sets[0][0] if sets else None)
        n_data = 0
        for sid, slen in sets:
            if sid == "2":
                since = 0
                continue
            ck.eq(f"ipfix message {nframe}: data set of template 256", "256", sid)
            k = (int(slen) - 4) // 34
            ck.eq(f"ipfix message {nframe}: data set length", 4 + 34 * k, int(slen))
            ck.ok(since is not None, f"ipfix message {nframe}: data after a template",
                  "template first", "data first")
            since = (since or 0) + k
            if template_records:
                ck.ok(since <= template_records,
                      f"ipfix message {nframe}: template re-sent every {template_records} "
                      "records", f"<= {template_records}", since)
            n_data += k
        cols = ["cflow.nat_event", "cflow.observation_time_milliseconds", "cflow.protocol",
                "cflow.srcaddr", "cflow.srcport", "cflow.post_natsource_ipv4_address",
                "cflow.post_naptsource_transport_port", "cflow.dstaddr", "cflow.dstport",
                "cflow.post_natdestination_ipv4_address",
                "cflow.post_naptdestination_transport_port"]
        for c in cols:
            ck.eq(f"ipfix message {nframe}: {c} in every record", n_data, len(fr[c]))
        for i in range(n_data):
            v = [fr[c][i] if i < len(fr[c]) else None for c in cols]
            recs.append((int(v[0]), ts_ms(v[1]), int(v[2]), v[3], int(v[4]), v[5], int(v[6]),
                         v[7], int(v[8]), v[9], int(v[10])))
        seq += n_data
    return recs


def sc_log_ipfix(replay, d, ck, workers=1):
    col = Collector(d)
    tr = S.Trace({}, workers, d)
    sess, last, _ = traffic(tr)
    out, _ev = run(replay, d, tr, {"ipfix": f"127.0.0.1:{col.port}", "domain_id": DOMAIN,
                                   "template_interval": 50, "template_records": 3},
                   ["--workers", str(workers)])
    sess = learned(d, sess)
    frames = tshark_ipfix(d, col.port, col.drain())
    recs = ipfix_records(frames, ck, 3)
    creates, deletes, tail = expected_records(sess, last, last[9])
    if workers == 1:
        ck.eq("ipfix: the creates, in order, every field", creates, recs[:4])
    else:   # the workers' rings are drained one after the other: order within each
        ck.eq("ipfix: the creates, every field", sorted(creates), sorted(recs[:4]))
    ck.eq("ipfix: a delete for each session (natEvent 5), every field", sorted(deletes),
          sorted(recs[4:8]))
    ck.eq("ipfix: the last session's create", tail, recs[8:])
    # the template was re-sent at the poll 100 s later (template_interval 50): the first
    # message holding a delete starts with a template set
    first_del = next((fr for fr in frames if "5" in fr["cflow.nat_event"]), None)
    ck.eq("ipfix: template re-sent after template_interval (set before the deletes)", "2",
          first_del["cflow.flowset_id"][0] if first_del else None)
    ck.ok("ipfix messages" in out and f"records {len(recs)}" in out,
          "natgw-replay log counters", f"records {len(recs)}", out.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# syslog (RFC 5424 section 6 ABNF, the parts natgw uses)

RFC5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?"
    r"(?:Z|[+-]\d\d:\d\d)) (?P<host>[!-~]{1,255}) (?P<app>[!-~]{1,48}) (?P<proc>[!-~]{1,128}) "
    r"(?P<msgid>[!-~]{1,32}) (?P<sd>-|(?:\[[^\]]*\])+)(?: (?P<msg>.*))?$")
SD_ELEM = re.compile(r'\[(?P<id>[^ \]=@"]+@\d+)(?P<params>(?: [^ =\]"]{1,32}="[^"\\\]]*")*)\]')
SD_PARAM = re.compile(r' ([^ =\]"]{1,32})="([^"\\\]]*)"')


def iso_ms(ms):
    import time as _t
    return _t.strftime("%Y-%m-%dT%H:%M:%S", _t.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def syslog_expected(sess, last, t_del):
    names = {6: "tcp", 17: "udp", 1: "icmp"}

    def ep(a, p):
        return f"{a}:{p}"

    def fields(s, event):
        proto, src, sp, psrc, psp, dst, dp, pdst, pdp = s[:9]
        if (src, sp) != (psrc, psp) or (dst, dp) == (pdst, pdp):
            inside, outside, remote = ep(src, sp), ep(psrc, psp), ep(dst, dp)
        else:   # a port forward: the remote's session reaches the inside host
            inside, outside, remote = ep(pdst, pdp), ep(dst, dp), ep(src, sp)
        f = {"event": event, "proto": names[proto], "inside": inside, "outside": outside,
             "remote": remote}
        if event == "delete":
            f["reason"] = "timeout"
        return f
    creates = [(iso_ms(s[9] // 1000), fields(s, "create")) for s in sess]
    deletes = [(iso_ms(t_del // 1000), fields(s, "delete")) for s in sess]
    return creates, deletes, [(iso_ms(last[9] // 1000), fields(last, "create"))]


def syslog_parse(msgs, ck):
    out = []
    for i, raw in enumerate(msgs):
        text = raw.decode("ascii", "replace")
        m = RFC5424.match(text)
        ck.ok(m is not None, f"syslog {i}: RFC 5424 syntax", "HEADER SP SD [SP MSG]", text)
        if not m:
            continue
        ck.eq(f"syslog {i}: PRI local0.info", "134", m["pri"])
        ck.eq(f"syslog {i}: HOSTNAME", HOSTNAME, m["host"])
        ck.eq(f"syslog {i}: APP-NAME", "natgw", m["app"])
        ck.ok(m["proc"].isdigit(), f"syslog {i}: PROCID", "a pid", m["proc"])
        ck.eq(f"syslog {i}: MSGID", "NAT44", m["msgid"])
        el = SD_ELEM.fullmatch(m["sd"])
        ck.ok(el is not None, f"syslog {i}: one SD-ELEMENT natgw@32473", "[natgw@32473 ...]",
              m["sd"])
        if not el:
            continue
        ck.eq(f"syslog {i}: SD-ID", "natgw@32473", el["id"])
        f = dict(SD_PARAM.findall(el["params"]))
        ck.ok(m["msg"] and m["msg"].startswith(f"NAT44 session {f.get('event')} "),
              f"syslog {i}: MSG", "NAT44 session ...", m["msg"])
        out.append((m["ts"], f))
    return out


def syslog_check(replay, d, ck, unix):
    col = Collector(d, "syslog.sock" if unix else None)
    tr = S.Trace({}, 1, d)
    sess, last, _ = traffic(tr)
    dst = f"unix:{col.path}" if unix else f"udp:127.0.0.1:{col.port}"
    out, _ = run(replay, d, tr, {"syslog": dst, "hostname": HOSTNAME})
    sess = learned(d, sess)
    got = syslog_parse(col.drain(), ck)
    creates, deletes, tail = syslog_expected(sess, last, last[9])
    ck.eq("syslog: one message per session create, in order, every field", creates, got[:4])
    ck.eq("syslog: one per session delete (reason timeout)", sorted(deletes, key=str),
          sorted(got[4:8], key=str))
    ck.eq("syslog: the last session's create", tail, got[8:])
    ck.ok(f"syslog sent {len(got)} errors 0" in out, "natgw-replay log counters",
          f"syslog sent {len(got)} errors 0", out.strip().splitlines()[-1])


def sc_log_syslog(replay, d, ck):
    syslog_check(replay, d, ck, False)


def sc_log_syslog_unix(replay, d, ck):
    syslog_check(replay, d, ck, True)


# ---------------------------------------------------------------------------------------------
# conntrack -E lines

def sc_log_events(replay, d, ck):
    tr = S.Trace({}, 1, d)
    traffic(tr)
    _out, ev = run(replay, d, tr, {})
    o, s, s2, p = S.GW_OUT, S.SERVER, S.SERVER2, S.PEER
    h1, h2 = S.H1, S.H2
    tcp = (f"src={h1} dst={s} sport=40000 dport=80", f"src={s} dst={o} sport=80 dport=40000")
    udp = (f"src={h2} dst={s} sport=5000 dport=53", f"src={s} dst={o} sport=53 dport=5000")
    fwd = (f"src={p} dst={o} sport=33333 dport=8080", f"src={h1} dst={p} sport=80 dport=33333")
    x = icmp_ext_id(d)
    icmp = (f"src={h1} dst={s} sport=77 dport=77", f"src={s} dst={o} sport={x} dport={x}")
    ntp = (f"src={h2} dst={s2} sport=5001 dport=123", f"src={s2} dst={o} sport=123 dport=5001")
    want_head = [
        f"[NEW] tcp      6   10 SYN_SENT {tcp[0]} [UNREPLIED] {tcp[1]} id=0 worker=0",
        f"[UPDATE] tcp      6   10 SYN_RECV {tcp[0]} {tcp[1]} id=0 worker=0",
        f"[UPDATE] tcp      6   10 ESTABLISHED {tcp[0]} {tcp[1]} [ASSURED] id=0 worker=0",
        f"[NEW] udp      17  10 {udp[0]} [UNREPLIED] {udp[1]} id=1 worker=0",
        f"[UPDATE] udp      17  10 {udp[0]} {udp[1]} id=1 worker=0",
        f"[NEW] tcp      6   10 SYN_SENT {fwd[0]} [UNREPLIED] {fwd[1]} id=2 worker=0",
        f"[NEW] icmp     1   10 {icmp[0]} [UNREPLIED] {icmp[1]} id=3 worker=0",
    ]
    want_del = sorted([
        f"[DESTROY] tcp      6   ESTABLISHED {tcp[0]} {tcp[1]} [ASSURED] id=0 worker=0 "
        "reason=timeout",
        f"[DESTROY] udp      17  {udp[0]} {udp[1]} id=1 worker=0 reason=timeout",
        f"[DESTROY] tcp      6   SYN_SENT {fwd[0]} [UNREPLIED] {fwd[1]} id=2 worker=0 "
        "reason=timeout",
        f"[DESTROY] icmp     1   {icmp[0]} [UNREPLIED] {icmp[1]} id=3 worker=0 reason=timeout",
    ])
    ck.eq("events: NEW and UPDATE lines, in order", want_head, ev[:7])
    ck.eq("events: a DESTROY per connection, reason timeout", want_del, sorted(ev[7:11]))
    ck.ok(len(ev) == 12 and ev[11].startswith(f"[NEW] udp      17  10 {ntp[0]} [UNREPLIED] "
                                                f"{ntp[1]} id="),
          "events: the last connection's NEW", f"[NEW] udp ... {ntp[0]}", ev[11:])


# ---------------------------------------------------------------------------------------------
# a full ring, a rate cap

def many_flows(tr, n, dt=1000):
    S.preamble(tr)
    sent = []
    for i in range(n):
        x = tr.send("inside", S.host(tr, S.H1, S.SERVER, UDP(sport=20000 + i, dport=53) / b"q"),
                    dt=dt)
        sent.append(x)
    return sent


def sc_log_ring_full(replay, d, ck):
    col = Collector(d)
    tr = S.Trace({}, 1, d)
    n = 60
    many_flows(tr, n)
    out, ev = run(replay, d, tr, {"ipfix": f"127.0.0.1:{col.port}", "domain_id": DOMAIN,
                                  "ring_size": 16}, ["--drain-every", "1000000"])
    res = S.Result(d)
    ck.eq("ring full: every packet still forwarded (the worker never waits)", n,
          len(res.ip("outside")))
    ck.eq("ring full: nothing dropped", [], res.drop_reason_ids())
    held = 15                           # ring_size 16: an rte_ring holds one fewer
    ck.eq("ring full: the records the ring held reached the events stream", held, len(ev))
    ck.eq("ring full: the first flows' NEW", [f"sport={20000 + i} " in e for i, e in
                                              enumerate(ev)], [True] * len(ev))
    ck.ok(f"log: events {held} lost {n - held} " in out, "ring full: losses counted",
          f"events {held} lost {n - held}", out.strip().splitlines()[-1])
    recs = ipfix_records(tshark_ipfix(d, col.port, col.drain()), ck, 1000)
    ck.eq("ring full: the collector got the queued creates",
          [(4, 20000 + i) for i in range(held)], [(r[0], r[4]) for r in recs])


def sc_log_rate(replay, d, ck):
    col = Collector(d)
    tr = S.Trace({}, 1, d)
    n = 20
    many_flows(tr, n, dt=10000)        # 20 sessions in 0.2 s
    tr.send("inside", S.host(tr, S.H1, S.SERVER, UDP(sport=30000, dport=53) / b"q"),
            dt=3 * 1000000)            # 3 s later: the bucket is full again
    out, ev = run(replay, d, tr, {"syslog": f"udp:127.0.0.1:{col.port}", "rate": 5,
                                  "hostname": HOSTNAME})
    got = syslog_parse(col.drain(), ck)
    ck.eq("rate 5/s: the first 5 sessions and the one 3 s later are logged",
          [f"{S.H1}:{p}" for p in [20000, 20001, 20002, 20003, 20004, 30000]],
          [f["inside"] for _ts, f in got])
    ck.ok(f"rate_dropped {n - 5} " in out, "rate: the rest counted",
          f"rate_dropped {n - 5}", out.strip().splitlines()[-1])
    ck.eq("rate: the events stream is not capped", n + 1, len(ev))


def sc_log_evicted(replay, d, ck):
    """A full table: each new connection pushes out the oldest unanswered one (early drop);
    its DESTROY says evicted, its IPFIX delete comes at that moment."""
    col = Collector(d)
    tr = S.Trace({}, 1, d)
    many_flows(tr, 20)
    out, ev = run(replay, d, tr, {"ipfix": f"127.0.0.1:{col.port}", "domain_id": DOMAIN},
                  keys={"conntrack": {"capacity": 16},
                        "nat": {"max_conns_per_host": "unlimited"}})
    dest = [e for e in ev if e.startswith("[DESTROY]")]
    ck.eq("evicted: one DESTROY per connection pushed out, reason evicted",
          [True] * 4, [e.endswith(" reason=evicted") for e in dest])
    ck.eq("evicted: the 4 oldest went", [f"sport={20000 + i} " for i in range(4)],
          [re.search(r"sport=\d+ ", e).group(0) for e in dest])
    recs = ipfix_records(tshark_ipfix(d, col.port, col.drain()), ck, 1000)
    ck.eq("evicted: ipfix: 20 creates, a delete (natEvent 5) for each evicted one right "
          "before the create that pushed it out",
          [(4, 20000 + i) for i in range(16)] +
          [x for i in range(4) for x in ((5, 20000 + i), (4, 20016 + i))],
          [(r[0], r[4]) for r in recs])


SCENARIOS = {
    "log_ipfix": sc_log_ipfix,
    "log_ipfix_workers2": lambda replay, d, ck: sc_log_ipfix(replay, d, ck, 2),
    "log_syslog": sc_log_syslog,
    "log_syslog_unix": sc_log_syslog_unix,
    "log_events": sc_log_events,
    "log_ring_full": sc_log_ring_full,
    "log_rate": sc_log_rate,
    "log_evicted": sc_log_evicted,
}


def main(argv):
    if shutil.which("tshark") is None:
        print("tshark not installed (apt-get install tshark)", file=sys.stderr)
        return 77

    def runner(replay, d, name, ck, workers):
        SCENARIOS[name](replay, d, ck)
    return S.main(argv, __doc__, SCENARIOS, run=runner, names=list(SCENARIOS))


if __name__ == "__main__":
    sys.exit(main(sys.argv))

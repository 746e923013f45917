#!/usr/bin/python3
"""natgw lab clients for tests/e2e/run.sh and tools/lab/demo.sh. Each prints one result line
(and exits 0 when the result is the good one for the sub-command's usual use):

  udp-echo HOST PORT [--count N] [--sport P]   N datagrams, N echoes: "ok N/N mapped IP:PORT"
           [--size B]                          each datagram B bytes of payload (default: a tag;
                                               more than the MTU: sent and echoed fragmented)
  udp-later HOST PORT --sport P --delays D,..  ask the echo server to answer at those delays;
                 --listen S                    print "RX <t> <payload>" per datagram received
  tcp-probe HOST PORT [--timeout S]            "connected" | "refused" | "timeout" (exit 0 always)
  udp-probe HOST PORT [--timeout S]            "reply" | "refused" | "timeout" (exit 0 always)
  http-seq HOST PORT PATH --count N            N sequential HTTP/1.0 GETs, one connection each:
                                               "ok N fail M secs S rate R"
  http-par HOST PORT PATH --count N --par P    the same from P threads at once
"""
import argparse
import socket
import sys
import threading
import time


def udp_echo(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if a.sport:
        s.bind(("0.0.0.0", a.sport))
    s.settimeout(2)
    ok = 0
    mapped = set()
    for i in range(a.count):
        payload = f"lab-udp-{i}".encode()
        if a.size > len(payload):
            payload += bytes((i + k) & 0xff for k in range(a.size - len(payload)))
        s.sendto(payload, (a.host, a.port))
        try:
            data, _ = s.recvfrom(65535)
        except (socket.timeout, ConnectionRefusedError) as e:
            print(f"datagram {i}: {type(e).__name__}", file=sys.stderr)
            continue
        parts = data.split(b" ", 2)
        if len(parts) == 3 and parts[0] == b"ECHO" and parts[2] == payload:
            ok += 1
            mapped.add(parts[1].decode())
    print(f"ok {ok}/{a.count} mapped {','.join(sorted(mapped)) or '-'}")
    return 0 if ok == a.count else 1


def udp_later(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", a.sport))
    t0 = time.monotonic()
    s.sendto(f"LATER {a.delays}".encode(), (a.host, a.port))
    end = t0 + a.listen
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            break
        except ConnectionRefusedError:
            continue
        print(f"RX {time.monotonic() - t0:.2f} {peer[0]}:{peer[1]} {data.decode(errors='replace')}",
              flush=True)
    return 0


def tcp_probe(a):
    try:
        socket.create_connection((a.host, a.port), timeout=a.timeout).close()
        print("connected")
    except ConnectionRefusedError:
        print("refused")
    except socket.timeout:
        print("timeout")
    except OSError as e:
        print(f"error {e}")
    return 0


def udp_probe(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((a.host, a.port))
    s.settimeout(a.timeout)
    try:
        s.send(b"lab-unsolicited")
        s.recv(65535)
        print("reply")
    except ConnectionRefusedError:
        print("refused")
    except socket.timeout:
        print("timeout")
    return 0


def http_get(host, port, path, timeout=5.0):
    with socket.create_connection((host, port), timeout=timeout) as c:
        c.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        buf = bytearray()
        while True:
            b = c.recv(65536)
            if not b:
                break
            buf += b
    return buf.startswith(b"HTTP/1.0 200") or buf.startswith(b"HTTP/1.1 200")


def http_run(a, par):
    ok = [0]
    fail = [0]
    errs = []
    lock = threading.Lock()
    counts = [a.count // par + (1 if i < a.count % par else 0) for i in range(par)]

    def worker(n):
        for _ in range(n):
            try:
                good = http_get(a.host, a.port, a.path)
            except OSError as e:
                good = False
                with lock:
                    errs.append(repr(e))
            with lock:
                if good:
                    ok[0] += 1
                else:
                    fail[0] += 1

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker, args=(n,)) for n in counts]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    secs = time.monotonic() - t0
    print(f"ok {ok[0]} fail {fail[0]} secs {secs:.2f} rate {ok[0] / secs:.0f}")
    for e in errs[:5]:
        print(f"error {e}", file=sys.stderr)
    return 0 if fail[0] == 0 else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("udp-echo", "udp-later", "tcp-probe", "udp-probe", "http-seq", "http-par"):
        sp = sub.add_parser(name)
        sp.add_argument("host")
        sp.add_argument("port", type=int)
        if name.startswith("http"):
            sp.add_argument("path")
            sp.add_argument("--count", type=int, default=100)
            sp.add_argument("--par", type=int, default=1)
        sp.add_argument("--count", type=int, default=5) if name == "udp-echo" else None
        sp.add_argument("--size", type=int, default=0) if name == "udp-echo" else None
        sp.add_argument("--sport", type=int, default=0)
        sp.add_argument("--delays", default="0")
        sp.add_argument("--listen", type=float, default=5)
        sp.add_argument("--timeout", type=float, default=2)
    a = p.parse_args()
    fn = {"udp-echo": udp_echo, "udp-later": udp_later, "tcp-probe": tcp_probe,
          "udp-probe": udp_probe, "http-seq": lambda a: http_run(a, 1),
          "http-par": lambda a: http_run(a, a.par)}[a.cmd]
    sys.exit(fn(a))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
tests/e2e/tcp_session.py - a long-lived, mostly idle TCP session (what an SSH login looks
like to a NAT): a line echo server, and a client that exchanges a line, stays idle until told
to go on, then exchanges another line on the same connection. tests/e2e/restore.sh restarts
natgw while the session is idle.

    tcp_session.py server PORT
    tcp_session.py client HOST PORT GOFILE [--wait S] [--timeout S]

The client prints "ready LOCALPORT" once the first echo came back, waits (at most --wait
seconds, default 60) until GOFILE exists, sends the second line and prints "ok LOCALPORT"
when its echo comes back within --timeout seconds (default 3); exit 0, else prints the error
and exits 1.
"""
import os
import socket
import sys
import threading
import time


def serve(port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(16)

    def echo(c, peer):
        print(f"session from {peer[0]}:{peer[1]}", flush=True)
        with c:
            f = c.makefile("rb")
            for line in f:
                c.sendall(line)
        print(f"session from {peer[0]}:{peer[1]} closed", flush=True)
    while True:
        c, peer = ls.accept()
        threading.Thread(target=echo, args=(c, peer), daemon=True).start()


def exchange(s, f, text):
    s.sendall(text.encode() + b"\n")
    got = f.readline().decode().strip()
    if got != text:
        raise RuntimeError(f"sent {text!r}, echo {got!r}")


def client(host, port, gofile, wait, timeout):
    s = socket.create_connection((host, port), timeout=timeout)
    f = s.makefile("rb")
    lport = s.getsockname()[1]
    try:
        exchange(s, f, f"before {lport}")
        print(f"ready {lport}", flush=True)
        t_end = time.time() + wait
        while not os.path.exists(gofile):
            if time.time() > t_end:
                raise RuntimeError(f"{gofile} did not appear in {wait} s")
            time.sleep(0.1)
        exchange(s, f, f"after {lport}")
    except (OSError, RuntimeError) as e:
        print(f"error {lport}: {e}", flush=True)
        return 1
    print(f"ok {lport}", flush=True)
    s.close()
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "server":
        serve(int(argv[2]))
        return 0
    if len(argv) >= 5 and argv[1] == "client":
        opt = dict(zip(argv[5::2], argv[6::2]))
        return client(argv[2], int(argv[3]), argv[4], float(opt.get("--wait", 60)),
                      float(opt.get("--timeout", 3)))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

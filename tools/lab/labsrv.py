#!/usr/bin/python3
"""natgw lab servers (run inside the lab's namespaces by tools/lab/lab.sh).

  labsrv.py http --port 80 --dir DIR     HTTP/1.0 GET (files from DIR) and PUT (body is hashed,
                                         the reply is "<sha256> <bytes>"); one log line per
                                         request on stderr: "<client ip>:<port> <request> <code>"
  labsrv.py udpecho --port 7             UDP echo: replies "ECHO <ip>:<port> <data>" to each
                                         datagram. A datagram "LATER d1,d2,..." is answered once
                                         after each delay (seconds), from the same socket, so a
                                         test can send replies to a NAT mapping at chosen times.
"""
import argparse
import hashlib
import http.server
import socket
import sys
import threading
import time


def log(msg):
    sys.stderr.write(f"{time.strftime('%H:%M:%S')} {msg}\n")
    sys.stderr.flush()


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):  # noqa: N802 (http.server's name)
        pass

    def log_request(self, code="-", size="-"):
        ip, port = self.client_address[:2]
        log(f"{ip}:{port} {self.requestline} {code}")

    def do_PUT(self):  # noqa: N802
        n = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        got = 0
        while got < n:
            b = self.rfile.read(min(65536, n - got))
            if not b:
                break
            h.update(b)
            got += len(b)
        body = f"{h.hexdigest()} {got}\n".encode()
        self.send_response(200 if got == n else 400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True
    allow_reuse_address = True


class Server6(Server):
    """--ipv6: the same on [::] only (IPV6_V6ONLY), beside the IPv4 one."""
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()


def run_http(a):
    handler = lambda *x, **k: Handler(*x, directory=a.dir, **k)  # noqa: E731
    srv = Server6(("::", a.port), handler) if a.ipv6 else Server(("0.0.0.0", a.port), handler)
    log(f"http on :{a.port} serving {a.dir}")
    srv.serve_forever()


def run_udpecho(a):
    s = socket.socket(socket.AF_INET6 if a.ipv6 else socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.ipv6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::" if a.ipv6 else "0.0.0.0", a.port))
    log(f"udp echo on :{a.port}")
    while True:
        data, peer = s.recvfrom(65535)
        tag = f"{peer[0]}:{peer[1]}"
        log(f"{tag} {len(data)} bytes")
        if data.startswith(b"LATER "):
            for i, d in enumerate(data[6:].decode(errors="replace").split(",")):
                msg = f"ECHO {tag} LATER#{i} {d.strip()}".encode()
                t = threading.Timer(float(d), s.sendto, (msg, peer))
                t.daemon = True
                t.start()
            continue
        s.sendto(f"ECHO {tag} ".encode() + data, peer)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("http")
    h.add_argument("--port", type=int, default=80)
    h.add_argument("--dir", required=True)
    h.add_argument("--ipv6", action="store_true", help="listen on [::] (IPv6 only)")
    u = sub.add_parser("udpecho")
    u.add_argument("--port", type=int, default=7)
    u.add_argument("--ipv6", action="store_true", help="listen on [::] (IPv6 only)")
    a = p.parse_args()
    {"http": run_http, "udpecho": run_udpecho}[a.cmd](a)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Ask natgw's DPDK telemetry (file prefix natgw-lab) and summarise for the e2e suite.

  natgw_tel.py raw CMD            print the JSON answer of CMD ("/natgw/conns")
  natgw_tel.py conns              every connection (all pages of /natgw/conns), one line each
                                  in conntrack -L's shape: "udp REPLIED src=.. dst=.. sport=..
                                  dport=.. [packets=N] src=.. dst=.. sport=.. dport=.. [packets=N]
                                  timeout=S worker=W" (packets=N with [conntrack] accounting)
  natgw_tel.py stat NAME          the number under key NAME anywhere in /natgw/stats
  natgw_tel.py drops              /natgw/drops, one "REASON_ID COUNT" line each (what the
                                  PMD or the kernel lost under natgw too: PMD_INSIDE_IMISSED..)
  natgw_tel.py ports              per port, natgw's counters and the PMD's beside them:
                                  "inside rx=.. tx=.. drop=.. | pmd rx=.. tx=.. imissed=..
                                  ierrors=.. rx_nombuf=.. oerrors=.. xstats_drops=..
                                  [kernel_rx_dropped=.. kernel_tx_dropped=..]"
"""
import json
import os
import socket
import sys

PREFIX = os.environ.get("NATGW_PREFIX", "natgw-lab")
PATH = f"/var/run/dpdk/{PREFIX}/dpdk_telemetry.v2"


def ask(cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(PATH)
    info = json.loads(s.recv(1 << 16).decode())
    s.send(cmd.encode())
    buf = s.recv(max(int(info.get("max_output_len", 16384)), 1 << 16) * 4)
    s.close()
    return json.loads(buf.decode())


def records(x):
    """Leaf records: dicts with scalar values only, or strings that look like a connection."""
    if isinstance(x, dict):
        if x and all(not isinstance(v, (dict, list)) for v in x.values()):
            yield x
        else:
            for v in x.values():
                yield from records(v)
    elif isinstance(x, list):
        for v in x:
            yield from records(v)
    elif isinstance(x, str) and "." in x and " " in x:
        yield x


def main():
    cmd = sys.argv[1]
    if cmd == "raw":
        print(json.dumps(ask(sys.argv[2]), indent=1))
    elif cmd == "conns":
        param, pages = "", 0
        while pages < 10000:
            ans = ask("/natgw/conns" + ("," + param if param else ""))
            page = ans.get("/natgw/conns", ans)
            for k, c in page.items():
                if not isinstance(c, dict):
                    continue
                # packets=N only with [conntrack] accounting (as conntrack -L without acct)
                po = f" packets={c['packets_orig']}" if 'packets_orig' in c else ""
                pr = f" packets={c['packets_reply']}" if 'packets_reply' in c else ""
                print(f"{c.get('proto')} {c.get('tcp_state') or '-'} {c.get('status')} "
                      f"{c.get('orig')}{po} {c.get('reply')}{pr} "
                      f"timeout={c.get('timeout')} worker={c.get('worker')}")
            param = page.get("next", "")
            pages += 1
            if not param:
                break
    elif cmd == "stat":
        def find(x, k):
            if isinstance(x, dict):
                for kk, v in x.items():
                    if kk == k and isinstance(v, (int, float)):
                        return v
                    r = find(v, k)
                    if r is not None:
                        return r
            elif isinstance(x, list):
                for v in x:
                    r = find(v, k)
                    if r is not None:
                        return r
            return None
        v = find(ask("/natgw/stats"), sys.argv[2])
        print("" if v is None else v)
        return 0 if v is not None else 1
    elif cmd == "ports":
        st = ask("/natgw/stats")
        st = st.get("/natgw/stats", st)
        for port in ("inside", "outside"):
            def g(k):
                return st.get(f"{port}_{k}", "-")
            line = (f"{port} rx={g('rx')} tx={g('tx')} drop={g('drop')} | pmd "
                    f"rx={g('ipackets')} tx={g('opackets')} imissed={g('imissed')} "
                    f"ierrors={g('ierrors')} rx_nombuf={g('rx_nombuf')} "
                    f"oerrors={g('oerrors')} xstats_drops={g('pmd_drops')}")
            if f"{port}_kernel_rx_dropped" in st:
                line += (f" kernel_rx_dropped={g('kernel_rx_dropped')} "
                         f"kernel_tx_dropped={g('kernel_tx_dropped')}")
            print(line)
    elif cmd == "drops":
        ans = ask("/natgw/drops")
        for k, v in ans.get("/natgw/drops", ans).items():
            print(f"{k} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

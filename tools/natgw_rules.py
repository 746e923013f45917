#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""natgw_rules: list natgw's ruleset with its counters, as `nft list ruleset` does, from the
DPDK telemetry of a running natgw (/natgw/rules, app/gw_rules.c).

usage: natgw_rules.py [-p FILE_PREFIX | -s SOCKET] list [--json]
  -p, --file-prefix P  the --file-prefix natgw was started with (default: rte)
  -s, --socket PATH    the telemetry socket (default: <runtime dir>/P/dpdk_telemetry.v2)
  list                 the ruleset, `nft list ruleset` style, counters filled in
  --json               the raw /natgw/rules answer

As a module (tools/natgw-ctl's `list ruleset`): format_ruleset(reply) turns the
/natgw/rules answer (a dict) into that text; ask(path) reads it.

The counters are natgw's: a rule with `counter` shows `counter packets N bytes N` (summed
over the workers); each chain's policy line is followed by a comment with the packets and
bytes its policy decided. Without a ruleset natgw prints "# no ruleset (built-in policy)".
DPDK telemetry strings hold at most 127 bytes: a longer rule text arrives cut (shown with
"..." at the end).
"""
import argparse
import json
import os
import re
import socket
import sys

TEL_STRING_MAX = 127


def runtime_dir(prefix):
    base = "/var/run/dpdk" if os.getuid() == 0 else \
        os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")
    return os.path.join(base, prefix)


def ask(path, cmd="/natgw/rules"):
    """The answer of one telemetry command (the dict under its name)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(path)
    info = json.loads(s.recv(16384).decode())
    s.send(cmd.encode())
    reply = json.loads(s.recv(max(int(info.get("max_output_len", 16384)), 1 << 16)).decode())
    s.close()
    return reply.get(cmd, reply)


def _with_counter(text, packets, nbytes):
    """The rule text with its counter's values, as nft lists `counter packets N bytes N`."""
    repl = f"counter packets {packets} bytes {nbytes}"
    if re.search(r"\bcounter packets \d+ bytes \d+", text):
        return re.sub(r"\bcounter packets \d+ bytes \d+", repl, text, count=1)
    return re.sub(r"\bcounter\b", repl, text, count=1)


def format_ruleset(r):
    """`nft list ruleset` text for a /natgw/rules answer."""
    if not isinstance(r, dict) or r.get("ruleset", "none") == "none":
        return "# no ruleset (built-in policy)\n"
    texts = r.get("rule_text", [])
    chains = r.get("rule_chain", [])
    pk = r.get("rule_packets", [])
    by = r.get("rule_bytes", [])
    ctr = r.get("rule_counter", [])
    out = [f"# {r.get('ruleset')} (generation {r.get('generation')})",
           f"table {r.get('table', 'inet natgw')} {{"]
    for hook in ("input", "forward"):
        if not r.get(f"{hook}_declared") and hook not in chains:
            continue
        out.append(f"\tchain {r.get(f'{hook}_name', hook)} {{")
        out.append(f"\t\ttype filter hook {hook} priority filter; policy "
                   f"{r.get(f'{hook}_policy', 'accept')}; # policy packets "
                   f"{r.get(f'{hook}_policy_packets', 0)} bytes "
                   f"{r.get(f'{hook}_policy_bytes', 0)}")
        for i, t in enumerate(texts):
            if i >= len(chains) or chains[i] != hook:
                continue
            if len(t) >= TEL_STRING_MAX:
                t = t + "..."
            if i < len(ctr) and ctr[i]:
                t = _with_counter(t, pk[i] if i < len(pk) else 0, by[i] if i < len(by) else 0)
            out.append("\t\t" + t)
        out.append("\t}")
    out.append("}")
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description="list natgw's ruleset with counters")
    ap.add_argument("-p", "--file-prefix", default="rte")
    ap.add_argument("-s", "--socket")
    ap.add_argument("what", nargs="?", default="list", choices=["list"])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    path = a.socket or os.path.join(runtime_dir(a.file_prefix), "dpdk_telemetry.v2")
    try:
        r = ask(path)
    except OSError as e:
        print(f"natgw_rules: {path}: {e}", file=sys.stderr)
        return 1
    if a.json:
        print(json.dumps(r, indent=1))
    else:
        sys.stdout.write(format_ruleset(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())

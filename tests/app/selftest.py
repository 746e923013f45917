#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The self-test (natgw-replay --selftest, app/selftest.c) reports what the pipeline does.

Runs it on configurations that differ in one behaviour each and checks that the report names
the behaviour the configuration asks for, timeouts included (measured by bisection on the
simulated clock), and that the exit status follows the MUST verdicts.

usage: selftest.py NATGW_REPLAY BASE_CONFIG
"""
import os
import re
import subprocess
import sys
import tempfile

BIN, BASE = sys.argv[1], sys.argv[2]
failures = 0
passes = 0


def run(cfg_text, *args):
    with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as f:
        f.write(cfg_text)
        path = f.name
    try:
        p = subprocess.run([BIN, "--selftest", "--config", path, *args],
                           capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(path)
    return p.returncode, p.stdout, p.stderr


def line(out, req, what):
    for ln in out.splitlines():
        m = re.match(r"\s+(\S+)\s+(.+?)\s{2,}(.*)$", ln)
        if m and m.group(1) == req and m.group(2).strip() == what:
            return m.group(3)
    return None


def check(name, cond, detail=""):
    global failures, passes
    passes += 1 if cond else 0
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else ": " + detail))
    if not cond:
        failures += 1


def edit(text, section, key, value):
    """Set key = value in [section] (replacing it or adding it)."""
    out, sec, done = [], None, False
    for ln in text.splitlines():
        m = re.match(r"\[(\w+)\]", ln.strip())
        if m:
            if sec == section and not done:
                out.append(f"{key} = {value}")
                done = True
            sec = m.group(1)
        elif sec == section and re.match(rf"\s*{re.escape(key)}\s*=", ln):
            if not done:
                out.append(f"{key} = {value}")
                done = True
            continue
        out.append(ln)
    if not done:
        if sec != section:
            out.append(f"[{section}]")
        out.append(f"{key} = {value}")
    return "\n".join(out) + "\n"


base = open(BASE).read()
# defaults: RFC-conforming timers, so that every MUST is met
conf = base
for k, v in (("timeout.udp_unreplied", 300), ("timeout.udp_replied", 300),
             ("timeout.udp_assured", 300), ("timeout.tcp_established", 7440),
             ("timeout.tcp_syn_sent", 240), ("timeout.icmp", 60)):
    conf = edit(conf, "conntrack", k, v)

rc, out, err = run(conf)
check("conforming config exits 0", rc == 0, f"rc {rc}\n{out}{err}")
v = line(out, "REQ-1", "mapping")
check("UDP mapping EIM", v is not None and v.startswith("endpoint-independent"), str(v))
v = line(out, "REQ-8", "filtering")
check("filtering APDF", v is not None and v.startswith("address-and-port-dependent"), str(v))
v = line(out, "REQ-9", "hairpinning")
check("hairpinning with the external source", v is not None and "203.0.113.2:" in v and
      v.rstrip().endswith("(external source, 9a)"), str(v))
v = line(out, "REQ-5", "mapping timer (replied)")
check("UDP timer measured 300 s", v is not None and v.startswith("300 s") and "met" in v,
      str(v))
v = line(out, "REQ-5", "established idle timeout")
check("TCP established timer measured 7440 s", v is not None and v.startswith("7440 s"), str(v))
v = line(out, "REQ-2", "ICMP query timer")
check("ICMP query timer measured 60 s", v is not None and v.startswith("60 s"), str(v))
v = line(out, "REQ-14", "fragments")
check("fragments both orders", v is not None and v.count("translated") == 2, str(v))
v = line(out, "REQ-2", "simultaneous open")
check("simultaneous open", v is not None and v.startswith("passes"), str(v))
v = line(out, "REQ-4", "outbound ICMP error")
check("outbound ICMP error translated", v is not None and v.startswith("translated"), str(v))
v = line(out, "REQ-5", "inbound ICMP error")
check("inbound ICMP error translated", v is not None and v.startswith("translated"), str(v))

# each behaviour changed in the configuration shows in the report
rc, out, _ = run(edit(conf, "nat", "filtering", "endpoint-independent"))
v = line(out, "REQ-8", "filtering")
check("filtering EIF", v is not None and v.startswith("endpoint-independent"), str(v))
rc, out, _ = run(edit(conf, "nat", "filtering", "address-dependent"))
v = line(out, "REQ-8", "filtering")
check("filtering ADF", v is not None and v.startswith("address-dependent"), str(v))
rc, out, _ = run(edit(conf, "nat", "mapping", "address-and-port-dependent"))
v = line(out, "REQ-1", "mapping")
check("mapping APDM is NOT MET, exit 1", rc == 1 and v is not None and
      v.startswith("address-and-port-dependent") and "NOT MET" in v, f"rc {rc} {v}")
rc, out, _ = run(edit(conf, "nat", "hairpin", "no"))
v = line(out, "REQ-9", "hairpinning")
check("hairpin off is NOT MET", rc == 1 and v is not None and v.startswith("not supported"),
      f"rc {rc} {v}")
rc, out, _ = run(edit(conf, "nat", "port_preserve", "no"))
v = line(out, "4.2.1", "port preservation")
check("port preservation off", v is not None and v.startswith("no"), str(v))
rc, out, _ = run(edit(conf, "conntrack", "timeout.udp_replied", 30))
v = line(out, "REQ-5", "mapping timer (replied)")
check("30 s UDP timer measured and NOT MET", rc == 1 and v is not None and
      v.startswith("30 s") and "NOT MET" in v, f"rc {rc} {v}")
rc, out, _ = run(conf, "--workers", "2")
check("2 workers: every MUST met", rc == 0, f"rc {rc}\n{out}")

print(f"{passes} passed, {failures} failed")
sys.exit(1 if failures else 0)

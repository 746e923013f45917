#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""tools/natgw_rules.py's listing: format_ruleset() turns a /natgw/rules telemetry answer
(the shape app/gw_rules.c gives) into `nft list ruleset` text with counters filled in,
policies and their counts, rules in their chains in order, a cut text marked; and "no
ruleset" when natgw runs without one. usage: rules_cli.py TOOLS_DIR"""
import importlib.util
import os
import sys

spec = importlib.util.spec_from_file_location(
    "natgw_rules", os.path.join(sys.argv[1], "natgw_rules.py"))
nr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nr)

reply = {
    "serial": 2, "ruleset": "/etc/natgw/rules.nft", "table": "inet natgw", "generation": 7,
    "input_name": "in", "input_declared": 1, "input_policy": "drop",
    "input_policy_packets": 4, "input_policy_bytes": 336,
    "forward_name": "forward", "forward_declared": 1, "forward_policy": "drop",
    "forward_policy_packets": 12, "forward_policy_bytes": 720,
    "rule_text": ["icmp type echo-request accept",
                  "ct state established,related accept",
                  "ct state invalid log prefix \"bad \" counter drop",
                  "iif inside counter packets 5 bytes 9 accept",
                  "x" * 127],
    "rule_chain": ["input", "forward", "forward", "forward", "forward"],
    "rule_packets": [0, 0, 3, 40, 0],
    "rule_bytes": [0, 0, 120, 52000, 0],
    "rule_counter": [0, 0, 1, 1, 0],
}
want = """# /etc/natgw/rules.nft (generation 7)
table inet natgw {
\tchain in {
\t\ttype filter hook input priority filter; policy drop; # policy packets 4 bytes 336
\t\ticmp type echo-request accept
\t}
\tchain forward {
\t\ttype filter hook forward priority filter; policy drop; # policy packets 12 bytes 720
\t\tct state established,related accept
\t\tct state invalid log prefix "bad " counter packets 3 bytes 120 drop
\t\tiif inside counter packets 40 bytes 52000 accept
\t\t""" + "x" * 127 + """...
\t}
}
"""
fails = 0
got = nr.format_ruleset(reply)
if got != want:
    print("FAIL listing:\n--- want\n" + want + "--- got\n" + got)
    fails += 1
else:
    print("ok   listing with counters")
got = nr.format_ruleset({"serial": 0, "ruleset": "none"})
if got != "# no ruleset (built-in policy)\n":
    print("FAIL no ruleset: " + repr(got))
    fails += 1
else:
    print("ok   no ruleset")
print("PASS" if fails == 0 else f"{fails} failure(s)")
sys.exit(1 if fails else 0)

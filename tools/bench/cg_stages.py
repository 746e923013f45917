#!/usr/bin/env python3
"""Per-stage instructions per packet from a callgrind profile of natgw-bench's timed loop
(tools/bench/profile.sh), the budget docs/bench-findings.md gives. Exclusive Ir of each
function (inlined code counted where it was inlined), grouped by stage, divided by the
packets the phase timed (the floor's loop is counted as 'bench').

    tools/bench/cg_stages.py bench-out/callgrind-est64k.out [BEFORE.out]

Per packet = per packet natgw processed in the timed loops (natgw-bench's JSON beside the
profile, see packets()). Before 2026-12-03 15:00 this script divided by gw_stage1's call
count, which with --toggle-collect includes the untimed verification passes (1,525,057
against 1,000,000 timed at 64k): the per-stage figures published then are 1.525x too low.
"""
import json
import os
import re
import subprocess
import sys

# (stage, function-name regex) in order; the first match wins
STAGES = [
    ('fast path (parse, checks)', r'^gw_fast_'),
    ('parse', r'^ct_parse_ipv4'),
    ('stage-1 checks', r'^gw_stage1|^gw_check_'),
    ('lookup', r'^lookup_chunk|^ct_lookup_burst|^ct_lookup$|^ct_hash_find'),
    ('ct_update', r'^ct_update|^ct_tcp_|^ct_udp_|^ct_set_class|^ct_icmp_'),
    ('nat_rewrite', r'^nat_rewrite|^ct_conn_tuple|^rewrite_'),
    ('L2/TX (ARP)', r'^gw_arp_'),
    ('L2/TX (rest)', r'^gw_forward|^gw_l2_send|^gw_nexthop|^gw_tx_flush'),
    ('gw_hit rest', r'^gw_hit|^ct_conn_status'),
    ('loop', r'^gw_process|^gw_worker_rx|^gw_ho_flush|^gw_frag_drain'),
    ('housekeeping', r'^gw_worker_housekeeping|^ct_expire|^nat_ctx_sync|^gw_arp_timer|'
                     r'^gw_frag_timer|^helper_expect_expire'),
    ('bench (rx emulation, tx)', r'^run_loop|^bench_|^pipe_|^rte_|^timed_loop|^tcp_advance|'
                                 r'^stream_'),
]


# With link-time optimisation (the default build) the lookup, conntrack's update and the
# ARP memo are inlined into gw_fast_burst; callgrind still names the source file of each
# inlined line, so lines of these files count for their stage when a gw_fast_* function
# holds them
FAST_FN = r'gw_fast_'
FILE_STAGES = [
    ('lookup', r'(^|/)ct_hash\.c$'),
    ('ct_update', r'(^|/)ct_proto_(tcp|udp|icmp)\.c$'),
    ('nat_rewrite', r'(^|/)nat_rewrite\.c$'),
    ('L2/TX (ARP)', r'(^|/)gw_arp\.c$'),
]


def packets(path):
    """Packets natgw processed in the profiled region (natgw-bench's timed loops): from the
    JSON profile.sh wrote beside the profile (profile-PHASE.json for callgrind-PHASE.out):
    the established rows' packets, two per new connection measured (first packet and
    reply), the mix row's and the IPv6/NAT64 rows' packets. Not callgrind's call counts:
    with --toggle-collect, callgrind counts calls outside the toggled region too (the
    verification passes natgw-bench runs before timing)."""
    j = os.path.join(os.path.dirname(path),
                     os.path.basename(path).replace('callgrind-', 'profile-')
                     .replace('.out', '.json'))
    if not os.path.exists(j):
        raise SystemExit('cg_stages: no ' + j + ' (written by tools/bench/profile.sh)')
    r = json.load(open(j))
    n = sum(e.get('packets', 0) for e in r.get('established', []))
    n += 2 * r.get('new_conn_measured', 0)
    for k in ('mix', 'ip6_established', 'nat64_established'):
        if isinstance(r.get(k), dict):
            n += r[k].get('packets', 0)
    if n == 0:
        raise SystemExit('cg_stages: no packets timed in ' + j)
    return n


def stages(path):
    out = subprocess.run(['callgrind_annotate', '--threshold=100', path],
                         capture_output=True, text=True, check=True).stdout
    acc = {s: 0 for s, _ in STAGES}
    acc['other'] = 0
    for line in out.splitlines():
        m = re.match(r'\s*([\d,]+)\s+\([^)]*\)\s+(\S+):(\S+)', line)
        if m is None:
            continue
        ir = int(m.group(1).replace(',', ''))
        fn = m.group(3)
        # the file rule is for lines inlined into the fast path's burst function (LTO);
        # ct_hash_add, gw_arp_timer and the like keep their own names' stages
        for s, rx in FILE_STAGES if re.match(FAST_FN, fn) else []:
            if re.search(rx, m.group(2)):
                acc[s] += ir
                break
        else:
            for s, rx in STAGES:
                if re.search(rx, fn):
                    acc[s] += ir
                    break
            else:
                acc['other'] += ir
    return acc


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    n = float(packets(sys.argv[1]))
    cur = stages(sys.argv[1])
    old = None
    if len(sys.argv) > 2:
        n0 = float(packets(sys.argv[2]))
        old = {k: v * n / n0 for k, v in stages(sys.argv[2]).items()}
    print('%d packets through natgw' % n)
    hdr = '%-26s %10s' % ('stage', 'Ir/packet')
    print(hdr + ('%10s %8s' % ('before', 'delta') if old else ''))
    tot = tot0 = 0.0
    for s in list(cur):
        v = cur[s] / n
        natgw = not s.startswith('bench')
        if natgw:
            tot += v
        line = '%-26s %10.1f' % (s, v)
        if old:
            o = old[s] / n
            if natgw:
                tot0 += o
            line += '%10.1f %+8.1f' % (o, v - o)
        print(line)
    print('%-26s %10.1f' % ('natgw (all but bench)', tot) +
          ('%10.1f %+8.1f' % (tot0, tot - tot0) if old else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())

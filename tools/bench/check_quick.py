#!/usr/bin/env python3
"""natgw-bench --quick as a test: run it, then check that bench-results.json has the fields
run.sh and CI rely on and that packets were really translated (no timing assertions)."""
import json
import subprocess
import sys


def main():
    bench, out = sys.argv[1], sys.argv[2]
    rc = subprocess.run([bench, '--quick', '--json', out] + sys.argv[3:]).returncode
    if rc != 0:
        print(f'natgw-bench exited {rc}')
        return 1
    with open(out) as f:
        r = json.load(f)
    errs = []
    for k in ('floor_cycles_per_pkt', 'established', 'new_conn_per_sec', 'bytes_per_conn',
              'mix', 'verification', 'tsc_hz', 'mix_cycles_per_pkt', 'new_conn_measured',
              'new_conn_drops', 'new_conn_bad', 'tcp_payload_bytes', 'floor_drops'):
        if k not in r:
            errs.append(f'missing field {k}')
    if not errs:
        if not r['floor_cycles_per_pkt'] > 0:
            errs.append('floor_cycles_per_pkt not > 0')
        if len(r['established']) < 1:
            errs.append('no established sizes')
        for e in r['established']:
            for k in ('sessions', 'cycles_per_pkt', 'bytes_per_conn'):
                if not e.get(k, 0) > 0:
                    errs.append(f'established {e.get("sessions")}: {k} missing or not > 0')
            if e.get('translated_verified') is not True:
                errs.append(f'established {e.get("sessions")}: translation not verified')
            # the honest workload: TCP data segments with advancing seq/ack, window
            # tracking on; every one must be accepted
            if e.get('drops') != 0:
                errs.append(f'established {e.get("sessions")}: drops {e.get("drops")}')
        if not r['new_conn_per_sec'] > 0:
            errs.append('new_conn_per_sec not > 0')
        if not r['tcp_payload_bytes'] > 0 or r.get('tcp_seq_advancing') is not True:
            errs.append('established TCP segments carry no payload / fixed seq')
        # a new connection counts only when its reply came back translated
        if not r['new_conn_measured'] > 0 or r['new_conn_bad'] != 0:
            errs.append(f'new connections: {r["new_conn_measured"]} completed, '
                        f'{r["new_conn_bad"]} wrongly translated')
        if not r['mix_cycles_per_pkt'] > 0 or r['mix'].get('drops') != 0:
            errs.append(f'mix: cycles {r["mix_cycles_per_pkt"]}, drops {r["mix"].get("drops")}')
        if not r['bytes_per_conn'] > 0:
            errs.append('bytes_per_conn not > 0')
        # the IPv6 rows (bench_ip6.c): routed IPv6 with conntrack, and NAT64; measured as
        # the IPv4 established row, every packet of the verify passes checked on the bytes
        for key in ([] if '--no-ip6' in sys.argv[3:] else ('ip6', 'nat64')):
            c, e = r.get(f'{key}_est_cycles_per_pkt'), r.get(f'{key}_established')
            if c is None or e is None:
                errs.append(f'missing field {key}_est_cycles_per_pkt / {key}_established')
                continue
            if not c > 0 or e.get('translated_verified') is not True or e.get('bad') != 0:
                errs.append(f'{key} established: cycles {c}, not verified: {e}')
            if e.get('drops') != 0:
                errs.append(f'{key} established: drops {e.get("drops")}')
            if e.get('outbound_ok', 0) < e.get('sessions', 1) or \
                    e.get('inbound_ok', 0) < e.get('sessions', 1):
                errs.append(f'{key} established: too few packets verified: {e}')
        v = r['verification']
        if v['bad'] != 0 or not v['tx_eq_rx']:
            errs.append(f'verification failed: {v}')
        # every established flow's both directions went through at least once, checked
        want = sum(e['sessions'] for e in r['established'])
        if v['outbound_translated_ok'] < want or v['inbound_translated_ok'] < want:
            errs.append(f'too few packets verified as translated: {v}, want >= {want} each')
    for e in errs:
        print('FAIL:', e)
    if not errs:
        print('natgw-bench --quick: results complete, translation verified')
    return 1 if errs else 0


if __name__ == '__main__':
    sys.exit(main())

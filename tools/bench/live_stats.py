#!/usr/bin/python3
"""Mpps of a live natgw run (tools/bench/live.sh) from natgw's own periodic stats lines:
    natgw: in rx A tx B | out rx C tx D | drops E | conns active F created G
The counters are cumulative, printed every stats_interval (1 s in live.sh). The first two
intervals (start-up, connection creation) are skipped; the median of the rest is reported."""
import re
import statistics
import sys

LINE = re.compile(r'natgw: in rx (\d+) tx (\d+) \| out rx (\d+) tx (\d+) \| drops (\d+)')


def main():
    log, workers = sys.argv[1], sys.argv[2]
    interval = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    rows = []
    with open(log, errors='replace') as f:
        for line in f:
            m = LINE.search(line)
            if m:
                rows.append([int(x) for x in m.groups()])
    if len(rows) < 4:
        print(f'workers {workers}: too few stats lines ({len(rows)}) in {log}')
        return 1
    rx, tx, dr = [], [], []
    for a, b in zip(rows[2:], rows[3:]):
        rx.append(((b[0] - a[0]) + (b[2] - a[2])) / interval / 1e6)
        tx.append(((b[1] - a[1]) + (b[3] - a[3])) / interval / 1e6)
        dr.append((b[4] - a[4]) / interval / 1e6)
    print(f'workers {workers}: rx {statistics.median(rx):.2f} Mpps, forwarded '
          f'{statistics.median(tx):.2f} Mpps, dropped {statistics.median(dr):.2f} Mpps '
          f'(median of {len(rx)} intervals; natgw counters)')
    return 0


if __name__ == '__main__':
    sys.exit(main())

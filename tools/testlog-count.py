#!/usr/bin/python3
"""Count results in a meson testlog.json: each cmocka case counts as one test, any other
test program as one. A skipped test is not a passed one: a program meson reports as SKIP
(exit status 77) counts as one skipped, and a cmocka case reported as
"[  SKIPPED ] N test(s)" counts as skipped too. Prints 'passed N', 'failed N', 'skipped N'
and one 'FAIL name' line per failure, 'SKIP name' per skipped program or group.

    /usr/bin/python3 tools/testlog-count.py BUILD/meson-logs/testlog.json LABEL
"""
import json
import re
import sys

CASES_PASSED = re.compile(r"^\[  PASSED  \] (\d+) test", re.M)
CASES_FAILED = re.compile(r"^\[  FAILED  \] (\d+) test", re.M)
CASES_SKIPPED = re.compile(r"^\[  SKIPPED \] (\d+) test", re.M)


def count(lines, label):
    """(passed, failed, skipped, ['FAIL ...'/'SKIP ...' lines]) for testlog.json lines."""
    passed = failed = skipped = 0
    notes = []
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        out = (t.get("stdout") or "") + "\n" + (t.get("stderr") or "")
        result = t.get("result")
        ok = result in ("OK", "EXPECTEDFAIL", "SKIP")
        p = CASES_PASSED.findall(out)
        fl = CASES_FAILED.findall(out)
        sk = CASES_SKIPPED.findall(out)
        if p or fl or sk:
            np = sum(map(int, p))
            nf = sum(map(int, fl))
            ns = sum(map(int, sk))
            if not ok and nf == 0:
                nf = 1          # crashed or sanitizer report after the cases ran
            passed += np
            failed += nf
            skipped += ns
            if ns and ok:
                notes.append(f"SKIP {label}: {t.get('name')} ({ns} case(s) skipped)")
        elif result == "SKIP":
            skipped += 1
            notes.append(f"SKIP {label}: {t.get('name')}")
        elif ok:
            passed += 1
        else:
            failed += 1
        if not ok:
            notes.append(f"FAIL {label}: {t.get('name')} ({result})")
    return passed, failed, skipped, notes


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        passed, failed, skipped, notes = count(f, argv[2])
    print(f"passed {passed}")
    print(f"failed {failed}")
    print(f"skipped {skipped}")
    for x in notes:
        print(x)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

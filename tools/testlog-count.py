#!/usr/bin/python3
"""Count results in a meson testlog.json: each cmocka case counts as one test, any other
test program as one. Prints 'passed N', 'failed N' and one 'FAIL name' line per failure."""
import json
import re
import sys

log, label = sys.argv[1], sys.argv[2]
passed = failed = 0
fails = []
with open(log) as f:
    for line in f:
        if not line.strip():
            continue
        t = json.loads(line)
        out = (t.get("stdout") or "") + "\n" + (t.get("stderr") or "")
        ok = t.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
        p = re.findall(r"^\[  PASSED  \] (\d+) test", out, re.M)
        fl = re.findall(r"^\[  FAILED  \] (\d+) test", out, re.M)
        if p or fl:
            np = sum(map(int, p))
            nf = sum(map(int, fl))
            if not ok and nf == 0:
                nf = 1          # crashed or sanitizer report after the cases ran
            passed += np
            failed += nf
        elif ok:
            passed += 1
        else:
            failed += 1
        if not ok:
            fails.append(f"{label}: {t.get('name')} ({t.get('result')})")
print(f"passed {passed}")
print(f"failed {failed}")
for x in fails:
    print(f"FAIL {x}")

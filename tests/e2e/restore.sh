#!/usr/bin/env bash
# natgw end-to-end: sessions survive a restart (app/gw_snapshot.c, docs/operations.md
# "Snapshot"). The lab (tools/lab/lab.sh) runs natgw with --save; while an iperf3 upload runs
# and an idle SSH-like TCP session (tests/e2e/tcp_session.py) waits, natgw alone is restarted
# with --restore (lab.sh restart-natgw): both must go on, on the same connections; an idle
# session also survives a restart with the other worker count (1 <-> 2). Then the
# refusals: a corrupt snapshot stops natgw from starting, with a message; with
# --restore-fallback empty it starts without sessions, and a session opened before is then
# lost (what the restore is for). Prints "PASS name (detail)" / "FAIL name: reason" per case
# and "N passed, N failed" last; exits non-zero on any failure; always tears the lab down.
# Run it as: flock /run/natgw-lab.lock bash tests/e2e/restore.sh [--workers 1|2] [--keep]
set -uo pipefail
. "$(dirname "$0")/lib.sh"	# here, top, LAB, STATE, PY; pass, fail, run_case
SESS="$PY $here/tcp_session.py"
workers=1 keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) [ "$2" = natgw ] || { echo "restore.sh: natgw mode only"; echo "0 passed, 0 failed"; exit 0; }; shift ;;
	--workers) workers=$2; shift ;;
	--keep) keep=1 ;;
	-h|--help) sed -n '2,10p' "$0"; exit 0 ;;
	*) echo "restore.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
T0=$(date +%s)
WORK=$(mktemp -d /tmp/natgw-restore.XXXXXX)
SNAP="$STATE/natgw.snap"
cleanup() {
	[ $keep = 1 ] || bash "$LAB" down >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
C() { ip netns exec lab-client "$@"; }
S() { ip netns exec lab-server "$@"; }


export LAB_BLOB_MB=1
# the lab's config picks TCP up mid-stream (tcp_loose, default yes), which would carry the
# sessions over a restart by itself: off here, so only the restore can keep them
sed -e '/^tcp_loose *=/d' -e '/^\[conntrack\]/a tcp_loose = no' "$top/config/lab.ini" >"$WORK/lab.ini"
export NATGW_CONFIG=$WORK/lab.ini
if ! NATGW_ARGS="--save $SNAP" bash "$LAB" up --pmd af_packet --workers "$workers" >"$WORK/up.log" 2>&1; then
	tail -n 20 "$WORK/up.log"
	echo "FAIL lab: could not bring the lab up"
	echo "0 passed, 1 failed"
	exit 1
fi

# the idle session, and iperf3 upload through the 1280-MTU path
S setsid $SESS server 2222 >"$WORK/sess-server.log" 2>&1 &
for _ in $(seq 1 20); do S ss -ltn | grep -q ':2222 ' && break; sleep 0.1; done
C $SESS client 10.0.3.10 2222 "$WORK/go" --wait 60 >"$WORK/sess.log" 2>&1 &
sess_pid=$!
for _ in $(seq 1 30); do grep -q '^ready' "$WORK/sess.log" && break; sleep 0.1; done
C timeout 50 iperf3 -c 10.0.3.10 -t 20 -i 1 -J >"$WORK/iperf.json" 2>&1 &
iperf_pid=$!
sleep 4

# ---- restart with --restore during the transfer -------------------------------------------
t_r0=$(date +%s.%N)
if bash "$LAB" restart-natgw --restore "$SNAP" >"$WORK/restart.log" 2>&1; then
	t_r1=$(date +%s.%N)
	saved=$(grep -h '^natgw: saved' "$STATE"/logs/natgw.log.0 2>/dev/null | tail -n 1)
	restored=$(grep -h '^natgw: restored' "$STATE/logs/natgw.log" | tail -n 1)
	n=$(echo "$restored" | sed -n 's/.*: \([0-9]*\) connections.*/\1/p')
	if [ -n "$saved" ] && [ "${n:-0}" -ge 3 ]; then
		pass restart "$(printf '%.1f' "$(echo "$t_r1 - $t_r0" | bc)") s; ${saved#natgw: }; ${restored#natgw: }"
	else
		fail restart "natgw restarted but did not save/restore 3 connections (saved: '$saved', restored: '$restored')"
	fi
else
	fail restart "lab.sh restart-natgw failed: $(tail -n 5 "$WORK/restart.log" | tr '\n' ' ')"
fi

# ---- the idle session goes on, on its connection --------------------------------------------
touch "$WORK/go"
if wait $sess_pid; then
	pass idle-session "$(tail -n 1 "$WORK/sess.log"); server: $(head -n 1 "$WORK/sess-server.log")"
else
	fail idle-session "$(tail -n 1 "$WORK/sess.log")"
fi

# ---- iperf3 went on: it moved data again after the restart, the end result came -----------
wait $iperf_pid
rc_iperf=$?
stats=$($PY - "$WORK/iperf.json" <<'EOF'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except ValueError as e:
    print("bad", f"no JSON: {e}"); sys.exit()
if "error" in j:
    print("bad", j["error"]); sys.exit()
iv = [i["sum"]["bytes"] for i in j["intervals"]]
recv = j["end"]["sum_received"]["bytes"]
# the restart is at ~4 s and takes 3-6 s; TCP's retransmission back-off may add as much
# again: the last 4 seconds must all carry data (the transfer came back and stayed)
late = iv[-4:]
ok = len(iv) >= 19 and all(b > 0 for b in late) and recv > 0
print("ok" if ok else "bad", f"{recv / 1e6:.1f} MB received, per second (MB): "
      + " ".join(f"{b / 1e6:.1f}" for b in iv))
EOF
)
if [ $rc_iperf = 0 ] && [ "${stats%% *}" = ok ]; then
	pass iperf3 "${stats#* }"
else
	fail iperf3 "exit $rc_iperf: ${stats#* }"
fi

# ---- new connections after the restore ------------------------------------------------------
if C $PY "$top/tools/lab/labcli.py" http-seq 10.0.3.10 80 /small.txt --count 3 >"$WORK/http.log" 2>&1; then
	pass new-connections "$(tail -n 1 "$WORK/http.log")"
else
	fail new-connections "$(tail -n 3 "$WORK/http.log" | tr '\n' ' ')"
fi

# ---- another worker count: ownership re-derived ----------------------------------------------
# an idle session across a restart from $workers to the other count of workers
rm -f "$WORK/go"
other=$((3 - workers))
C $SESS client 10.0.3.10 2222 "$WORK/go" --wait 60 >"$WORK/sess3.log" 2>&1 &
sess3_pid=$!
for _ in $(seq 1 30); do grep -q '^ready' "$WORK/sess3.log" && break; sleep 0.1; done
if LAB_RESTART_WORKERS=$other bash "$LAB" restart-natgw --restore "$SNAP" >"$WORK/restart4.log" 2>&1; then
	touch "$WORK/go"
	restored=$(grep -h '^natgw: restored' "$STATE/logs/natgw.log" | tail -n 1)
	if wait $sess3_pid; then
		pass restart-workers "$workers -> $other workers: ${restored#natgw: }; $(tail -n 1 "$WORK/sess3.log")"
	else
		fail restart-workers "$workers -> $other workers: $(tail -n 1 "$WORK/sess3.log") (${restored#natgw: })"
	fi
else
	fail restart-workers "lab.sh restart-natgw failed: $(tail -n 5 "$WORK/restart4.log" | tr '\n' ' ')"
fi

# ---- refusals --------------------------------------------------------------------------------
# a session open now, across the two restarts below (it must be lost: no sessions restored)
rm -f "$WORK/go"
C $SESS client 10.0.3.10 2222 "$WORK/go" --wait 60 >"$WORK/sess2.log" 2>&1 &
sess2_pid=$!
for _ in $(seq 1 30); do grep -q '^ready' "$WORK/sess2.log" && break; sleep 0.1; done
bad="$WORK/corrupt.snap"
sleep 0.5
cp "$SNAP" "$bad" 2>/dev/null
$PY -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$bad"
if bash "$LAB" restart-natgw --restore "$bad" >"$WORK/restart2.log" 2>&1; then
	fail refuse-corrupt "natgw started from a corrupt snapshot"
elif grep -q 'checksum mismatch: the file is corrupt' "$STATE/logs/natgw.log" &&
     grep -q 'not started' "$STATE/logs/natgw.log"; then
	pass refuse-corrupt "$(grep -m1 'checksum mismatch' "$STATE/logs/natgw.log")"
else
	fail refuse-corrupt "no clear message: $(tail -n 3 "$STATE/logs/natgw.log" | tr '\n' ' ')"
fi
if bash "$LAB" restart-natgw --restore "$bad" --restore-fallback empty >"$WORK/restart3.log" 2>&1 &&
   grep -q 'starting with no sessions' "$STATE/logs/natgw.log"; then
	touch "$WORK/go"
	if wait $sess2_pid; then
		fail fallback-empty "the session survived although nothing was restored"
	else
		pass fallback-empty "started without sessions; the session opened before is lost: $(tail -n 1 "$WORK/sess2.log")"
	fi
else
	fail fallback-empty "natgw did not start with --restore-fallback empty: $(tail -n 3 "$STATE/logs/natgw.log" | tr '\n' ' ')"
fi

if ! kill -0 "$(cat "$STATE/pids/natgw.pid" 2>/dev/null)" 2>/dev/null; then
	failed=$((failed + 1))
	echo "FAIL run: natgw exited: $(tail -n 5 "$STATE/logs/natgw.log" | tr '\n' ' ')"
fi
if [ $keep = 0 ]; then
	bash "$LAB" down >/dev/null 2>&1
	echo "-- natgw's logs (last lines) --"
	for f in "$STATE.last"/logs/natgw.log*; do echo "== $(basename "$f")"; tail -n 4 "$f"; done
fi
echo "(e2e took $(( $(date +%s) - T0 )) s)"
echo "$passed passed, $failed failed"
[ $failed = 0 ]

#!/usr/bin/env bash
# natgw end-to-end: live control (app/gw_ctl*.c, tools/natgw-ctl, docs/operations.md) in
# the namespace lab (tools/lab/lab.sh), real clients, natgw never restarted:
#   ctl-socket       natgw's control socket is there, mode 0600, and answers
#   forward-add-use  lab-server cannot reach 10.0.2.1:8081; `natgw-ctl forward add` makes it
#                    reach lab-svc's web server; `forward del` closes it again
#   reload-timeout   the config file gets timeout.icmp = 3 (from 30), `natgw-ctl reload`
#                    says so; a new ping's connection has at most 3 s and is gone after them,
#                    while an idle TCP session opened before the reload goes on on its
#                    connection (nothing lost)
#   reload-refused   the file changes [conntrack] capacity: refused naming the key, the
#                    timeout stays (a file that is refused changes nothing)
#   flush-one-host   idle TCP sessions from lab-client and lab-svc; `natgw-ctl flush -s
#                    10.0.1.10` removes exactly lab-client's connections, lab-svc's session
#                    still answers on its connection
# Prints "PASS name (detail)" / "FAIL name: reason" per case and "N passed, N failed" last;
# exits non-zero on any failure; always tears the lab down (unless --keep).
# Run it as: flock /run/natgw-lab.lock bash tests/e2e/live.sh [--workers 1|2] [--keep]
set -uo pipefail
. "$(dirname "$0")/lib.sh"	# here, top, LAB, STATE, PY; pass, fail, run_case
SESS="$PY $here/tcp_session.py"
workers=1 keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) [ "$2" = natgw ] || { echo "live.sh: natgw mode only"; echo "0 passed, 0 failed"; exit 0; }; shift ;;
	--workers) workers=$2; shift ;;
	--keep) keep=1 ;;
	-h|--help) sed -n '2,20p' "$0"; exit 0 ;;
	*) echo "live.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
T0=$(date +%s)
WORK=$(mktemp -d /tmp/natgw-live.XXXXXX)
SOCK="$WORK/run/ctl.sock"
CTL() { $PY "$top/tools/natgw-ctl" -S "$SOCK" "$@"; }
cleanup() {
	[ $keep = 1 ] || bash "$LAB" down >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
C() { ip netns exec lab-client "$@"; }
V() { ip netns exec lab-svc "$@"; }
S() { ip netns exec lab-server "$@"; }


# the lab's config, as a file of our own that the reload cases edit
CFG="$WORK/live.ini"
sed 's/^\[conntrack\]$/[conntrack]\ntimeout.icmp = 30/' "$top/config/lab.ini" >"$CFG"
export LAB_BLOB_MB=1
if ! NATGW_CONFIG="$CFG" NATGW_ARGS="--ctl-socket $SOCK" bash "$LAB" up --pmd af_packet \
		--workers "$workers" >"$WORK/up.log" 2>&1; then
	tail -n 20 "$WORK/up.log"
	echo "FAIL lab: could not bring the lab up"
	echo "0 passed, 1 failed"
	exit 1
fi

# ---- the socket ------------------------------------------------------------------------------
mode=$(stat -c %a "$SOCK" 2>/dev/null)
if [ "$mode" = 600 ] && cmds=$(CTL help 2>&1); then
	pass ctl-socket "$SOCK mode $mode; commands: $cmds"
else
	fail ctl-socket "mode '$mode': $cmds"
fi

# ---- add a forward and use it ---------------------------------------------------------------
before=$(S curl -sS --max-time 2 "http://10.0.2.1:8081/svc.txt" 2>&1)
added=$(CTL forward add "tcp 10.0.2.1:8081 -> 10.0.1.20:80" 2>&1)
after=$(S curl -sS --max-time 5 "http://10.0.2.1:8081/svc.txt" 2>&1)
dnat=$(CTL list -p tcp -d 10.0.2.1 --dport 8081 2>/dev/null | grep -c 'src=10.0.1.20')
removed=$(CTL forward del "tcp 10.0.2.1:8081 -> 10.0.1.20:80" 2>&1)
again=$(S curl -sS --max-time 2 "http://10.0.2.1:8081/svc.txt" 2>&1)
if [[ "$before" != *"natgw-lab lab-svc"* ]] && [[ "$after" == "natgw-lab lab-svc 10.0.1.20" ]] &&
   [ "$dnat" -ge 1 ] && [[ "$again" != *"natgw-lab lab-svc"* ]]; then
	pass forward-add-use "$added; lab-server got '$after', $dnat connection(s) listed; $removed"
else
	fail forward-add-use "before '$before' / add '$added' / after '$after' / listed $dnat / del '$removed' / again '$again'"
fi

# ---- reload with a changed timeout ----------------------------------------------------------
S setsid $SESS server 2222 >"$WORK/sess-server.log" 2>&1 &
for _ in $(seq 1 20); do S ss -ltn | grep -q ':2222 ' && break; sleep 0.1; done
C $SESS client 10.0.3.10 2222 "$WORK/go-c" --wait 60 >"$WORK/sess-c.log" 2>&1 &
sess_c=$!
V $SESS client 10.0.3.10 2222 "$WORK/go-v" --wait 60 >"$WORK/sess-v.log" 2>&1 &
sess_v=$!
for _ in $(seq 1 30); do
	grep -q '^ready' "$WORK/sess-c.log" && grep -q '^ready' "$WORK/sess-v.log" && break
	sleep 0.1
done
C ping -c 1 -W 2 10.0.3.10 >/dev/null 2>&1
t_old=$(CTL list -p icmp -s 10.0.1.10 2>/dev/null | awk '{print $3; exit}')
sed -i 's/^timeout.icmp = 30$/timeout.icmp = 3/' "$CFG"
rl=$(CTL reload 2>&1)
C ping -c 1 -W 2 10.0.3.10 >/dev/null 2>&1
t_new=$(CTL list -p icmp -s 10.0.1.10 2>/dev/null | awk '{print $3}' | sort -n | head -n 1)
sleep 4
n_icmp=$(CTL list -p icmp -s 10.0.1.10 2>/dev/null | awk '$3 <= 3' | grep -c .)
touch "$WORK/go-c"
if wait $sess_c; then sess_ok=1; else sess_ok=0; fi
if [[ "$rl" == *"timeouts (icmp 30 -> 3"* ]] && [ "${t_old:-0}" -gt 10 ] && [ -n "$t_new" ] &&
   [ "$t_new" -le 3 ] && [ "$n_icmp" = 0 ] && [ $sess_ok = 1 ]; then
	pass reload-timeout "$rl; icmp timeout before ${t_old}s, after reload ${t_new}s, gone 4 s later; session opened before: $(tail -n 1 "$WORK/sess-c.log")"
else
	fail reload-timeout "reload '$rl'; timeout before '$t_old' after '$t_new'; short ones left $n_icmp; session $sess_ok: $(tail -n 1 "$WORK/sess-c.log")"
fi

# ---- a reload that is refused changes nothing -----------------------------------------------
sed -i -e 's/^timeout.icmp = 3$/timeout.icmp = 20/' -e 's/^capacity = 16384/capacity = 8192/' "$CFG"
rf=$(CTL reload 2>&1)
ti=$(CTL timeout 2>/dev/null | awk '$1 == "icmp" {print $2}')
if [[ "$rf" == *"[conntrack] capacity cannot change while natgw runs"* ]] && [ "$ti" = 3 ]; then
	pass reload-refused "$rf; icmp timeout still $ti"
else
	fail reload-refused "reload said '$rf'; icmp timeout '$ti' (want 3)"
fi

# ---- flush one host while another keeps working ---------------------------------------------
n_c=$(CTL list -s 10.0.1.10 2>/dev/null | grep -c .)
n_v=$(CTL list -s 10.0.1.20 -p tcp --dport 2222 2>/dev/null | grep -c .)
fl=$(CTL flush -s 10.0.1.10 2>&1)
left_c=$(CTL list -s 10.0.1.10 2>/dev/null | grep -c .)
left_v=$(CTL list -s 10.0.1.20 -p tcp --dport 2222 2>/dev/null | grep -c .)
touch "$WORK/go-v"
if wait $sess_v; then v_ok=1; else v_ok=0; fi
if [ "$n_c" -ge 1 ] && [[ "$fl" == *" $n_c flow entries have been deleted"* ]] && [ "$left_c" = 0 ] &&
   [ "$n_v" = 1 ] && [ "$left_v" = 1 ] && [ $v_ok = 1 ]; then
	pass flush-one-host "$fl; lab-client had $n_c, has $left_c; lab-svc's session kept: $(tail -n 1 "$WORK/sess-v.log")"
else
	fail flush-one-host "'$fl': lab-client $n_c -> $left_c, lab-svc $n_v -> $left_v, session $v_ok: $(tail -n 1 "$WORK/sess-v.log")"
fi

if ! kill -0 "$(cat "$STATE/pids/natgw.pid" 2>/dev/null)" 2>/dev/null; then
	failed=$((failed + 1))
	echo "FAIL run: natgw exited: $(tail -n 5 "$STATE/logs/natgw.log" | tr '\n' ' ')"
fi
grep -h '^natgw: reload' "$STATE/logs/natgw.log" 2>/dev/null | sed 's/^/  log: /'
echo "(e2e took $(( $(date +%s) - T0 )) s)"
echo "$passed passed, $failed failed"
[ $failed = 0 ]

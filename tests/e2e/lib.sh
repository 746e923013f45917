# shellcheck shell=bash
# tests/e2e/lib.sh - what the lab's end-to-end scripts share, sourced at their top (after
# `set -uo pipefail`): where things are, the case counters, and how a case is run and
# reported. Cases set REASON (why they failed) and DETAIL (what they measured) and return
# non-zero on failure. A script sets `mode` (natgw, or kernel for the reference runs) before
# its cases run; E2E_CASE_PREFIX, when set, goes before each case name (vlan.sh: the lab's
# name); E2E_ONLY="case ..." runs only those cases (one not run is counted neither way).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
LAB="$top/tools/lab/lab.sh"
PY=/usr/bin/python3
STATE=${LAB_STATE:-/run/natgw-lab}
export LAB_STATE=$STATE
passed=0 failed=0 REASON="" DETAIL=""

pass() { passed=$((passed + 1)); echo "PASS $1${2:+ ($2)}"; }
fail() { failed=$((failed + 1)); echo "FAIL $1: $2"; }

natgw_alive() { # natgw mode: the gateway process still runs (a precondition of every case)
	[ "${mode:-natgw}" != natgw ] && return 0
	kill -0 "$(cat "$STATE/pids/natgw.pid" 2>/dev/null)" 2>/dev/null
}

run_case() { # name function
	local name=${E2E_CASE_PREFIX:+$E2E_CASE_PREFIX-}$1 t0 t1
	REASON="" DETAIL=""
	[ -z "${E2E_ONLY:-}" ] || [[ " $E2E_ONLY " == *" $name "* ]] || return 0
	if ! natgw_alive; then
		failed=$((failed + 1))
		echo "FAIL $name: not run, natgw is not running"
		return
	fi
	t0=$(date +%s.%N)
	if "$2"; then
		t1=$(date +%s.%N)
		passed=$((passed + 1))
		printf 'PASS %-20s %s [%.1fs]\n' "$name" "$DETAIL" "$(echo "$t1 - $t0" | bc)"
	else
		failed=$((failed + 1))
		echo "FAIL $name: ${REASON:-failed} ${DETAIL:+($DETAIL)}"
	fi
}

#!/usr/bin/env bash
# natgw: install what is missing, build, and run every test:
#   unit (cmocka, no EAL), also under AddressSanitizer + UndefinedBehaviorSanitizer,
#   app (config errors, live smoke runs on net_pcap/net_tap), replay (pcap scenarios),
#   e2e (network namespaces, real clients through natgw; tests/e2e/run.sh on net_af_packet,
#   again --quick on net_af_xdp and with 2 workers; tests/e2e/ftp.sh; the kernel's NAT).
# Last line: "N passed, N failed" (", N skipped" appended when tests were skipped: a skip is
# not a pass); exit status non-zero on any failure.
# Options: --no-e2e, --no-asan, --build DIR (default build), --asan-build DIR.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
build=build
asan_build=build-asan
run_e2e=1
run_asan=1
while [ $# -gt 0 ]; do
	case "$1" in
	--no-e2e) run_e2e=0 ;;
	--no-asan) run_asan=0 ;;
	--build) build=$2; shift ;;
	--asan-build) asan_build=$2; shift ;;
	-h|--help) sed -n '2,10p' "$0"; exit 0 ;;
	*) echo "test-all: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

bash tools/install-deps.sh || { echo "install failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
skipped=0	# a skipped test is neither passed nor failed (tools/testlog-count.py)
failures=()
skips=()

count_meson() { # $1 = build dir, $2 = label: add per-case results from meson's test log
	local log="$1/meson-logs/testlog.json" out
	[ -f "$log" ] || { failed=$((failed + 1)); failures+=("$2: no test log"); return; }
	out=$(/usr/bin/python3 tools/testlog-count.py "$log" "$2") || true
	local p f s
	p=$(printf '%s\n' "$out" | sed -n 's/^passed \([0-9]*\)$/\1/p')
	f=$(printf '%s\n' "$out" | sed -n 's/^failed \([0-9]*\)$/\1/p')
	s=$(printf '%s\n' "$out" | sed -n 's/^skipped \([0-9]*\)$/\1/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${s:-0}))
	while IFS= read -r l; do skips+=("$l"); done < <(printf '%s\n' "$out" | sed -n 's/^SKIP //p')
	while IFS= read -r l; do failures+=("$l"); done < <(printf '%s\n' "$out" | sed -n 's/^FAIL //p')
}

step() { printf '\n==== %s ====\n' "$*"; }

step "build ($build)"
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$build" -j2; then
	echo "build failed"; echo "$passed passed, $((failed + 1)) failed"; exit 1
fi

step "unit, app and replay tests"
meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 2 \
	--suite unit --suite app --suite replay
count_meson "$build" "release"

if [ "$run_asan" = 1 ]; then
	step "unit tests under ASan + UBSan ($asan_build)"
	if [ ! -f "$asan_build/build.ninja" ]; then
		meson setup "$asan_build" -Dbuildtype=debug -Db_sanitize=address,undefined \
			-Db_lundef=false >/dev/null
	fi
	if ninja -C "$asan_build" -j2; then
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
		meson test -C "$asan_build" --no-rebuild --print-errorlogs --num-processes 2 \
			--suite unit
		count_meson "$asan_build" "asan"
	else
		failed=$((failed + 1)); failures+=("asan build failed")
	fi
fi

if [ "$run_e2e" = 1 ]; then
	# one lab at a time: each script brings the lab up and tears it down. natgw on
	# net_af_packet with one worker runs everything; the suite again, quick, on net_af_xdp
	# and with two workers on both PMDs (DESIGN.md: N workers behave as one; the PMDs differ
	# in who reassembles and what TX takes). The kernel's own NAT (nftables) runs the suite
	# last, to prove the tests themselves. Entries: script|mode|more options.
	for run in "run.sh|natgw|" "ftp.sh|natgw|" "vlan.sh|natgw|" "restore.sh|natgw|" "dumpcap.sh|natgw|" "live.sh|natgw|" \
		"run.sh|natgw|--pmd af_xdp --quick" \
		"run.sh|natgw|--workers 2 --quick" "run.sh|natgw|--pmd af_xdp --workers 2 --quick" \
		"rules.sh|natgw|" "rules.sh|kernel|" \
		"ipv6.sh|natgw|" "ipv6.sh|natgw|--workers 2" "ipv6.sh|kernel|" \
		"nat64.sh|natgw|" "nat64.sh|kernel|" \
		"run.sh|kernel|"; do
		IFS='|' read -r script mode opts <<<"$run"
		label="$script $mode${opts:+ $opts}"
		step "end-to-end: tests/e2e/$script --mode $mode $opts (namespace lab, real clients)"
		e2e_log=$(mktemp)
		# shellcheck disable=SC2086
		NATGW="$top/$build/app/natgw" bash "tests/e2e/$script" --mode "$mode" $opts 2>&1 |
			tee "$e2e_log"
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$e2e_log" | tail -n 1)
		if [ -n "$line" ]; then
			passed=$((passed + $(echo "$line" | awk '{print $1}')))
			f=$(echo "$line" | awk '{print $3}')
			failed=$((failed + f))
			while IFS= read -r l; do failures+=("e2e $label: $l"); done \
				< <(grep -E '^FAIL' "$e2e_log")
		else
			failed=$((failed + 1)); failures+=("e2e $label: no result line")
		fi
		rm -f "$e2e_log"
	done
fi

# fuzz targets (tests/fuzz/, clang build in build-fuzz): every regression input replayed,
# then each target fuzzed for NATGW_FUZZ_TIME seconds (default 20; 0 skips the step); one
# test per regression input and per target (passed: no crash). tools/fuzz.sh runs longer.
fuzz_time=${NATGW_FUZZ_TIME:-20}
if [ "$fuzz_time" != 0 ]; then
	step "fuzz targets: regressions, then ${fuzz_time} s each (tools/fuzz.sh, build-fuzz)"
	fuzz_log=$(mktemp)
	bash tools/fuzz.sh --time "$fuzz_time" --build build-fuzz 2>&1 | tee "$fuzz_log"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$fuzz_log" | tail -n 1)
	if [ -n "$line" ]; then
		passed=$((passed + $(echo "$line" | awk '{print $1}')))
		failed=$((failed + $(echo "$line" | awk '{print $3}')))
		while IFS= read -r l; do failures+=("fuzz: $l"); done \
			< <(sed -n 's/^FAIL //p' "$fuzz_log")
	else
		failed=$((failed + 1)); failures+=("fuzz: no result line")
	fi
	rm -f "$fuzz_log"
fi

step "summary"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
for s in "${skips[@]}"; do echo "SKIPPED: $s"; done
# last line: "N passed, N failed", and ", N skipped" only when something was skipped
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]

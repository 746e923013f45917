#!/usr/bin/env bash
# natgw: build and run the libFuzzer targets of tests/fuzz/ (clang, ASan + UBSan).
#   tools/fuzz.sh [--time SECONDS] [--jobs N] [--keep-going] [--skip CHECKS] [--build DIR]
#                 [--crashes DIR] [target ...]
#   tools/fuzz.sh --replay [target ...]       only replay tests/fuzz/regressions/<target>/
#   tools/fuzz.sh --minimize TARGET FILE      minimize a crash input (writes FILE.min)
# Targets: fuzz_ipv4 fuzz_helpers fuzz_rules fuzz_pipeline fuzz_pipeline_w2 (default: all).
# Configures DIR (default build-fuzz: CC=clang meson setup DIR -Dfuzz=true), builds only the
# fuzz targets, writes the seed corpus (tests/fuzz/make_corpus.py) to DIR/fuzz-seeds, replays
# every file of tests/fuzz/regressions/<target>/, then fuzzes each target for --time seconds
# (default 60) with its growing corpus DIR/fuzz-corpus/<target> (seeds read from
# DIR/fuzz-seeds/<target>), --jobs targets at a time (default 1), at nice 10. Crash inputs
# go to --crashes DIR/<target>/ (default DIR/fuzz-crashes), logs to DIR/fuzz-logs/.
# --keep-going: libFuzzer's -fork=1 -ignore_crashes=1, for long runs that should collect
# every crash instead of stopping at the first. --skip CHECKS: the pipeline's output checks
# to turn off (FUZZ_SKIP, tests/fuzz/fuzz_pipeline.c: mtu,mac,csum,addr), to go past a
# known finding in a long run.
# Per target one line: "PASS|FAIL <target>: <execs> execs, cov <N> ft <N>, <N> crashes, <S> s"
# (regressions: "PASS|FAIL <target> regression <file>"); last line "N passed, N failed";
# exit status non-zero when anything crashed.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
build=build-fuzz
time_s=60
jobs=1
keep_going=0
replay_only=0
crashes=""
minimize=""
all_targets=(fuzz_ipv4 fuzz_helpers fuzz_rules fuzz_pipeline fuzz_pipeline_w2)
targets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--time) time_s=$2; shift ;;
	--jobs) jobs=$2; shift ;;
	--keep-going) keep_going=1 ;;
	--skip) export FUZZ_SKIP=$2; shift ;;
	--build) build=$2; shift ;;
	--crashes) crashes=$2; shift ;;
	--replay) replay_only=1 ;;
	--minimize) minimize=$2; shift ;;
	-h|--help) sed -n '2,23p' "$0"; exit 0 ;;
	-*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
	*) targets+=("$1") ;;
	esac
	shift
done
case "$build" in /*) ;; *) build="$top/$build" ;; esac
[ -n "$crashes" ] || crashes="$build/fuzz-crashes"
case "$crashes" in /*) ;; *) crashes="$top/$crashes" ;; esac
if [ -n "$minimize" ]; then
	[ ${#targets[@]} = 1 ] || { echo "fuzz.sh: --minimize TARGET FILE" >&2; exit 2; }
	targets=("$minimize" "${targets[0]}")
fi

# ---- build ----------------------------------------------------------------------------
if ! command -v clang >/dev/null; then
	echo "fuzz.sh: clang not found (tools/install-deps.sh installs it)" >&2
	echo "0 passed, 1 failed"; exit 1
fi
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzz=true -Dbuildtype=debugoptimized >/dev/null ||
		{ echo "fuzz.sh: meson setup $build failed"; echo "0 passed, 1 failed"; exit 1; }
fi
ninja_targets=()
for t in "${all_targets[@]}"; do ninja_targets+=("tests/fuzz/$t"); done
if ! nice -n 10 ninja -C "$build" -j2 "${ninja_targets[@]}"; then
	echo "fuzz.sh: build failed"; echo "0 passed, 1 failed"; exit 1
fi

if [ -n "$minimize" ]; then
	t=${targets[0]}
	f=${targets[1]}
	nice -n 10 "$build/tests/fuzz/$t" -minimize_crash=1 -max_total_time=120 \
		-exact_artifact_path="$f.min" "$f" 2>&1 | tail -n 5
	[ -f "$f.min" ] && echo "minimized: $f.min ($(stat -c %s "$f.min") bytes)"
	exit 0
fi
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
	[ -x "$build/tests/fuzz/$t" ] || { echo "fuzz.sh: unknown target $t" >&2; exit 2; }
done

passed=0
failed=0
result() { # $1 = PASS|FAIL, rest = text
	echo "$*"
	if [ "$1" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

max_len() {
	case "$1" in
	fuzz_pipeline*) echo 16384 ;;
	*) echo 4096 ;;
	esac
}

# ---- regressions: every crash found so far, replayed once each ------------------------
mkdir -p "$build/fuzz-logs"
for t in "${targets[@]}"; do
	dir="tests/fuzz/regressions/$t"
	[ -d "$dir" ] || continue
	for f in "$dir"/*; do
		[ -f "$f" ] || continue
		log="$build/fuzz-logs/$t-regression-$(basename "$f").log"
		if env -u FUZZ_SKIP "$build/tests/fuzz/$t" -runs=1 "$f" >"$log" 2>&1; then
			result PASS "$t regression $(basename "$f")"
		else
			result FAIL "$t regression $(basename "$f") (log: $log)"
			grep -m 3 -E 'ERROR|check failed|runtime error' "$log" | sed 's/^/    /'
		fi
	done
done
if [ "$replay_only" = 1 ]; then
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
fi

# ---- seeds ----------------------------------------------------------------------------
rm -rf "$build/fuzz-seeds"
if ! /usr/bin/python3 tests/fuzz/make_corpus.py "$build/fuzz-seeds"; then
	echo "fuzz.sh: seed corpus failed (needs /usr/bin/python3 with scapy)"
	echo "$passed passed, $((failed + 1)) failed"; exit 1
fi

# ---- fuzzing --------------------------------------------------------------------------
run_one() { # $1 = target: fuzz it, then write the summary line to its .result file
	local t=$1 log="$build/fuzz-logs/$t.log" cdir="$crashes/$t/" before after n
	local execs cov ft start end extra=()
	mkdir -p "$build/fuzz-corpus/$t" "$cdir"
	before=$(find "$cdir" -type f | wc -l)
	[ "$keep_going" = 1 ] && extra=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
	start=$(date +%s)
	nice -n 10 "$build/tests/fuzz/$t" -max_total_time="$time_s" -print_final_stats=1 \
		-max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=4096 \
		-artifact_prefix="$cdir" "${extra[@]}" \
		"$build/fuzz-corpus/$t" "$build/fuzz-seeds/$t" >"$log" 2>&1
	local rc=$?
	end=$(date +%s)
	after=$(find "$cdir" -type f | wc -l)
	n=$((after - before))
	execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	if [ -z "$execs" ] || [ "$execs" = 0 ]; then	# fork mode / crash: the last #N line
		execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
	fi
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
	ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
	if [ "$rc" = 0 ] && [ "$n" = 0 ]; then
		echo "PASS $t: ${execs:-0} execs, cov ${cov:-?} ft ${ft:-?}, 0 crashes, $((end - start)) s" \
			>"$build/fuzz-logs/$t.result"
	else
		{
			echo "FAIL $t: ${execs:-0} execs, cov ${cov:-?} ft ${ft:-?}, $n crashes (exit $rc)," \
				"$((end - start)) s; inputs in $cdir, log $log"
			grep -m 3 -E '^==[0-9]+==ERROR|check failed|runtime error|SUMMARY' "$log" |
				sed 's/^/    /'
		} >"$build/fuzz-logs/$t.result"
	fi
}

pids=()
for t in "${targets[@]}"; do
	run_one "$t" &
	pids+=($!)
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
done
wait
for t in "${targets[@]}"; do
	if [ -f "$build/fuzz-logs/$t.result" ]; then
		line=$(cat "$build/fuzz-logs/$t.result")
		rm -f "$build/fuzz-logs/$t.result"
		result "${line%% *}" "$(echo "$line" | head -n 1 | cut -d' ' -f2-)"
		echo "$line" | tail -n +2
	else
		result FAIL "$t: no result"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

#!/usr/bin/env bash
# Instruction profile of natgw-bench's timed loops with callgrind (instruction counts do not
# depend on a noisy neighbour; hardware counters are not available in this VM). Only code
# under timed_loop() is counted, so setup, traffic generation and verification are left out.
#
# Valgrind 3.19 cannot execute AVX-512, and the project builds with -march=native, so the
# profiled build is a separate meson dir configured with -Dc_args=-mno-avx512f.
#
#   tools/bench/profile.sh [--out DIR] [--build DIR] PHASE
#     PHASE: est1k | est64k | est1m | cps | mix | ip6 (IPv6 and NAT64 established, 64k)
# Writes OUT/callgrind-PHASE.out and OUT/callgrind-PHASE.txt (functions by exclusive and
# inclusive instructions). Packets profiled are printed so Ir/packet can be computed.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build-bench-cg
out=bench-out
while [ $# -gt 1 ]; do
	case "$1" in
	--out) out=$2; shift ;;
	--build) build=$2; shift ;;
	*) echo "profile.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
phase=${1:-est64k}
mkdir -p "$out"
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" -Dc_args=-mno-avx512f -Ddebug=true >/dev/null
fi
ninja -C "$build" -j2 tools/bench/natgw-bench >/dev/null
common=(--reps 1 --min-pkts 1000000 --json "$out/profile-$phase.json")
toggle='timed_loop*'	# the compiler may suffix it (.constprop.0)
case "$phase" in
est1k) args=(--sizes 1000 --no-cps --no-mix --no-ip6) ;;	# cps minus this: the new connections
est64k) args=(--sizes 65536 --no-cps --no-mix --no-ip6) ;;
est1m) args=(--sizes 1048576 --no-cps --no-mix --no-ip6) ;;
cps) args=(--sizes 1000 --no-mix --no-ip6 --cps-conns 2097152) ;;	# 32 flows of one host: over its connection limit
mix) args=(--sizes 1000 --no-cps --no-ip6) ;;
# the IPv6 and NAT64 established rows at 64k together (bench_ip6.c's timed_loop6 only)
ip6) args=(--sizes 1000 --no-cps --no-mix --ip6-conns 65536); toggle='timed_loop6*' ;;
*) echo "profile.sh: phase est1k, est64k, est1m, cps, mix or ip6" >&2; exit 2 ;;
esac
valgrind --tool=callgrind --toggle-collect="$toggle" \
	--callgrind-out-file="$out/callgrind-$phase.out" \
	"$build/tools/bench/natgw-bench" "${common[@]}" "${args[@]}" > "$out/profile-$phase.log" 2>&1
set +o pipefail	# head closes the pipes below early (callgrind_annotate gets SIGPIPE)
{
	echo "# phase $phase: natgw-bench ${common[*]} ${args[*]}"
	/usr/bin/python3 - "$out/profile-$phase.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print('# timed region = floor + the phase; floor packets: %d' % 0 if False else
      '# the floor is timed too: subtract its rx/tx functions (run_loop, bench_tx, mbuf)')
for e in r['established']:
    print('# established %d: %d packets timed' % (e['sessions'], e['packets']))
print('# new connections timed: %d' % r.get('new_conn_measured', 0))
EOF
	callgrind_annotate "$out/callgrind-$phase.out" | sed -n '/^Ir/,/^--.*Auto-annotated/p' |
		head -45
	echo "# inclusive"
	callgrind_annotate --inclusive=yes "$out/callgrind-$phase.out" |
		sed -n '/^Ir/,/^--.*Auto-annotated/p' | head -45
	echo "# per stage (tools/bench/cg_stages.py; per packet natgw processed)"
	/usr/bin/python3 tools/bench/cg_stages.py "$out/callgrind-$phase.out"
} > "$out/callgrind-$phase.txt"
cat "$out/callgrind-$phase.txt"

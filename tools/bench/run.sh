#!/usr/bin/env bash
# natgw benchmark in one command: build natgw-bench if needed, run it (floor, established at
# 1k/64k/1M/4M connections, new connections per second, 90/10 mix, bytes per connection,
# established IPv6 (routed, conntrack) and NAT64 at 64k),
# write bench-results.json, bench.txt (the table), bench.dat and bench.png into OUT.
#
#   tools/bench/run.sh [--quick] [--out DIR] [--build DIR] [--testpmd] [-- natgw-bench args]
#
#   --quick     small sizes, a few seconds: proves the tool works, no timing claims
#   --out DIR   output folder (default bench-out)
#   --build DIR meson build folder (default build-bench)
#   --testpmd   also measure dpdk-testpmd io forwarding on net_null (the published I/O floor
#               of shared/reference/performance.md) on this machine, for comparison
#   --plot-only redraw OUT/bench.png from OUT/bench.dat
# Anything after -- goes to natgw-bench (e.g. -- --eal '-l 1' --reps 7 --sizes 65536).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build-bench
out=bench-out
quick=()
testpmd=0
plot_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=(--quick) ;;
	--out) out=$2; shift ;;
	--build) build=$2; shift ;;
	--testpmd) testpmd=1 ;;
	--plot-only) plot_only=1 ;;
	--) shift; break ;;
	-h|--help) sed -n '2,15p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
mkdir -p "$out"

if [ "$plot_only" = 0 ]; then
bash tools/install-deps.sh	# DPDK, meson, gnuplot-nox: installs only what is missing
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" >/dev/null
fi
ninja -C "$build" -j2 tools/bench/natgw-bench

{
	echo "# $(date -u +%FT%TZ) $(uname -r)"
	grep -m1 'model name' /proc/cpuinfo
	echo "# cpus: $(nproc), memory: $(free -g | awk '/Mem:/ {print $2}') GiB"
} > "$out/machine.txt"

"$build/tools/bench/natgw-bench" "${quick[@]}" --json "$out/bench-results.json" \
	--dat "$out/bench.dat" "$@" | tee "$out/bench.txt"

if [ "$testpmd" = 1 ] && command -v dpdk-testpmd >/dev/null; then
	# same EAL memory mode as natgw-bench; one forwarding core on lcore 1
	timeout -s INT 14 dpdk-testpmd --no-huge --no-shconf -m 1024 --no-pci -l 0-1 \
		--vdev=net_null0 -- --forward-mode=io --port-topology=loop --auto-start \
		--stats-period=4 --nb-cores=1 --burst=32 2>&1 |
		awk '/Rx-pps:/ {pps=$2} END {if (pps) printf "testpmd io/null: %.2f Mpps\n", pps/1e6}' |
		tee -a "$out/bench.txt" || true
fi
fi # plot_only

if command -v gnuplot >/dev/null; then
	gnuplot <<EOF
set terminal pngcairo size 900,560 font "sans,10"
set output "$out/bench.png"
set title "natgw: cycles per packet vs connections (one core, burst 32, 60 B frames, TCP data with advancing seq/ack)"
set logscale x 2
set xtics ("1k" 1000, "4k" 4096, "16k" 16384, "64k" 65536, "256k" 262144, "1M" 1048576, \
	"4M" 4194304, "16M" 16777216)
set xrange [500:8388608]
stats "$out/bench.dat" using 3 nooutput
floor = STATS_max
stats "$out/bench.dat" using 6 nooutput
est_drops = STATS_sum
stats "$out/bench.dat" using 7 nooutput
mix = STATS_max
stats "$out/bench.dat" using 8 nooutput
mix_drops = STATS_max
stats "$out/bench.dat" using 9 nooutput
cps_drops = STATS_max
set label 1 sprintf("drops: established %d, mix %d (mix %.0f cycles/pkt), new connections %d", \
	est_drops, mix_drops, mix, cps_drops) at graph 0.02, graph 0.95
set xlabel "established connections"
set ylabel "TSC cycles per packet"
set yrange [0:*]
set key bottom right
set grid
plot "$out/bench.dat" using 1:2 with linespoints lw 2 pt 7 \
	title sprintf("natgw established (median), %d drops", est_drops), \
     "$out/bench.dat" using 1:5 with linespoints lw 1 pt 6 dt 3 title "p10 (least disturbed)", \
     floor with lines lw 2 dt 2 title sprintf("floor: rx + tx, no NAT (%.0f)", floor), \
     "-" using 1:2 with points pt 6 ps 2 lw 2 title "targets (64k <= 150, 4M <= 250)"
65536 150
4194304 250
e
EOF
	echo "plot: $out/bench.png"
else
	echo "run.sh: gnuplot missing (apt-get install -y gnuplot-nox): no plot" >&2
fi
echo "results: $out/bench-results.json"

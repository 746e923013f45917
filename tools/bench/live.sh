#!/usr/bin/env bash
# natgw live, testpmd-style: the real natgw binary on two net_pcap ports that replay
# pre-generated captures forever (infinite_rx=1; tx is dropped by the PMD), with 1 and then
# 2 workers (the second measures what handing packets to the owning lcore costs). Mpps comes
# from natgw's own counters (its periodic stats lines), not from the PMD.
#
#   tools/bench/live.sh [--out DIR] [--seconds S] [--flows N] [--build DIR] [--workers "1 2"]
#
# Writes OUT/live-<n>w.log (natgw's output), OUT/live.ini, the captures, and OUT/live.txt
# (one line per worker count). The machine has 2 cores: with 2 workers the main lcore
# shares a core with worker 2 (it only sleeps and prints), so expect noise.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
build=build-bench
out=bench-out
seconds=10
flows=2000
workers="1 2"
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=$2; shift ;;
	--seconds) seconds=$2; shift ;;
	--flows) flows=$2; shift ;;
	--build) build=$2; shift ;;
	--workers) workers=$2; shift ;;
	-h|--help) sed -n '2,11p' "$0"; exit 0 ;;
	*) echo "live.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" >/dev/null
fi
ninja -C "$build" -j2 app/natgw
natgw="$top/$build/app/natgw"

/usr/bin/python3 tools/bench/gen_pcap.py --flows "$flows" --inside "$out/inside.pcap" \
	--outside "$out/outside.pcap"

cat > "$out/live.ini" <<EOF
; natgw-bench live run (tools/bench/live.sh)
[ports]
inside  = net_pcap0
outside = net_pcap1

[inside]
address = 10.0.0.1/8

[outside]
address = 203.0.113.2/24
gateway = 203.0.113.1

[nat]
pool = 203.0.113.2
ports = 1024-65535
port_preserve = yes

[conntrack]
capacity = 65536
tcp_loose = yes

[workers]
idle_sleep_us = 0
burst = 32
stats_interval = 1
EOF

: > "$out/live.txt"
for w in $workers; do
	case "$w" in
	1) lcores="0@1,1@0" ;;
	2) lcores="(0,2)@1,1@0" ;;
	*) echo "live.sh: 1 or 2 workers on this machine" >&2; exit 2 ;;
	esac
	log="$out/live-${w}w.log"
	# net_pcap has no RSS, so natgw configures one queue per port: with 2 workers, worker 0
	# polls the inside port and worker 1 the outside port, and every packet whose owner is
	# the other worker goes through natgw's handoff and tx rings: the handoff cost
	vin="net_pcap0,rx_pcap=$out/inside.pcap" vout="net_pcap1,rx_pcap=$out/outside.pcap"
	set +e
	# DPDK 22.11 refuses --in-memory with --no-huge; --no-shconf leaves no files either
	timeout -s INT "$((seconds + 5))" "$natgw" --lcores "$lcores" --no-huge --no-shconf \
		-m 1024 --no-pci --no-telemetry \
		--vdev "$vin,infinite_rx=1" --vdev "$vout,infinite_rx=1" \
		-- --config "$out/live.ini" --stats-interval 1 > "$log" 2>&1
	rc=$?
	set -e
	/usr/bin/python3 tools/bench/live_stats.py "$log" "$w" | tee -a "$out/live.txt" ||
		{ echo "live.sh: natgw with $w worker(s) exited $rc; see $log" | tee -a "$out/live.txt"; }
done
echo "live results: $out/live.txt"

#!/usr/bin/env bash
# natgw end-to-end: DPDK's own tools against the running natgw (docs/operations.md "Packet
# capture"). They are secondary processes: they attach to natgw's shared memory, which needs
# natgw on hugepages (the lab reserves them when it can; --no-huge primaries cannot be
# attached to). dpdk-dumpcap captures natgw's outside port (net_af_packet1) while the client
# pings the server and downloads a file: the capture (tshark) must hold the translated
# packets, source 10.0.2.1 out and destination 10.0.2.1 in, and no inside address;
# dpdk-dumpcap -D lists both ports; dpdk-proc-info --stats reads both ports' counters, which
# must have moved. Prints "PASS name (detail)" / "FAIL name: reason" and "N passed, N failed"
# last; always tears the lab down.
# Run it as: flock /run/natgw-lab.lock bash tests/e2e/dumpcap.sh [--workers 1|2] [--keep]
set -uo pipefail
. "$(dirname "$0")/lib.sh"	# here, top, LAB, STATE, PY; pass, fail, run_case
workers=1 keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) [ "$2" = natgw ] || { echo "dumpcap.sh: natgw mode only"; echo "0 passed, 0 failed"; exit 0; }; shift ;;
	--workers) workers=$2; shift ;;
	--keep) keep=1 ;;
	-h|--help) sed -n '2,11p' "$0"; exit 0 ;;
	*) echo "dumpcap.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
T0=$(date +%s)
WORK=$(mktemp -d /tmp/natgw-dumpcap.XXXXXX)
cleanup() {
	[ $keep = 1 ] || bash "$LAB" down >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
C() { ip netns exec lab-client "$@"; }
PFX=--file-prefix=natgw-lab


export LAB_BLOB_MB=1
if ! bash "$LAB" up --pmd af_packet --workers "$workers" >"$WORK/up.log" 2>&1; then
	tail -n 20 "$WORK/up.log"
	echo "FAIL lab: could not bring the lab up"
	echo "0 passed, 1 failed"
	exit 1
fi
mem=$(cat "$STATE/memory" 2>/dev/null)
if [ "$mem" = hugepages ]; then
	pass hugepages "$(grep -m1 'natgw memory' "$WORK/up.log" | sed 's/^lab: //')"
else
	fail hugepages "natgw runs --no-huge ($(grep -m1 'natgw memory' "$WORK/up.log")): the DPDK tools cannot attach"
fi

# ---- the ports as the tools see them ----------------------------------------------------------
if timeout 20 dpdk-dumpcap $PFX -D >"$WORK/list.txt" 2>"$WORK/list.err" &&
   grep -q net_af_packet0 "$WORK/list.txt" && grep -q net_af_packet1 "$WORK/list.txt"; then
	pass dumpcap-list "$(tr '\n' ' ' <"$WORK/list.txt")"
else
	fail dumpcap-list "$(tr '\n' ' ' <"$WORK/list.txt") $(tail -n 2 "$WORK/list.err" | tr '\n' ' ')"
fi

# ---- capture on the outside port during a ping and a download --------------------------------
cap="$WORK/out.pcapng"
dpdk-dumpcap $PFX -i net_af_packet1 -w "$cap" -a duration:30 >"$WORK/cap.log" 2>&1 &
cap_pid=$!
for _ in $(seq 1 100); do grep -qi 'capturing on\|error' "$WORK/cap.log" && break; sleep 0.1; done
sleep 0.5
C ping -c 3 -i 0.2 -W 2 -q 10.0.3.10 >"$WORK/ping.log" 2>&1
C /usr/bin/python3 "$top/tools/lab/labcli.py" http-seq 10.0.3.10 80 /small.txt --count 2 \
	>"$WORK/http.log" 2>&1
sleep 0.5
kill -INT $cap_pid 2>/dev/null	# dumpcap ends its file cleanly on SIGINT
wait $cap_pid
rc=$?
if [ -s "$cap" ]; then
	n_all=$(tshark -r "$cap" 2>/dev/null | wc -l)
	n_icmp_out=$(tshark -r "$cap" -Y 'icmp.type == 8 && ip.src == 10.0.2.1 && ip.dst == 10.0.3.10' 2>/dev/null | wc -l)
	n_icmp_in=$(tshark -r "$cap" -Y 'icmp.type == 0 && ip.dst == 10.0.2.1' 2>/dev/null | wc -l)
	n_http=$(tshark -r "$cap" -Y 'tcp.port == 80 && (ip.src == 10.0.2.1 || ip.dst == 10.0.2.1)' 2>/dev/null | wc -l)
	n_leak=$(tshark -r "$cap" -Y 'ip.addr == 10.0.1.0/24' 2>/dev/null | wc -l)
	detail="$n_all packets: $n_icmp_out echo requests from 10.0.2.1, $n_icmp_in replies, $n_http HTTP packets translated, $n_leak with an inside address"
	if [ "$n_icmp_out" -ge 3 ] && [ "$n_icmp_in" -ge 3 ] && [ "$n_http" -ge 6 ] && [ "$n_leak" = 0 ]; then
		pass dumpcap-capture "$detail"
	else
		fail dumpcap-capture "$detail (dumpcap exit $rc; http: $(tail -n 1 "$WORK/http.log"))"
	fi
else
	fail dumpcap-capture "no capture (exit $rc): $(tail -n 3 "$WORK/cap.log" | tr '\n' ' ')"
fi

# ---- dpdk-proc-info --stats -------------------------------------------------------------------
if timeout 20 dpdk-proc-info $PFX -- --stats >"$WORK/stats.txt" 2>"$WORK/stats.err"; then
	pk=$(awk '/RX-packets:/ { for (i = 1; i <= NF; i++) if ($i == "RX-packets:") s += $(i + 1) }
		END { print s + 0 }' "$WORK/stats.txt")
	np=$(grep -c 'NIC statistics for port' "$WORK/stats.txt")
	if [ "$np" = 2 ] && [ "$pk" -gt 0 ]; then
		pass proc-info-stats "$np ports, $pk packets received in all"
	else
		fail proc-info-stats "$np ports, $pk packets: $(head -c 300 "$WORK/stats.txt" | tr '\n' ' ')"
	fi
else
	fail proc-info-stats "$(tail -n 3 "$WORK/stats.err" | tr '\n' ' ')"
fi

if ! kill -0 "$(cat "$STATE/pids/natgw.pid" 2>/dev/null)" 2>/dev/null; then
	failed=$((failed + 1))
	echo "FAIL run: natgw exited: $(tail -n 5 "$STATE/logs/natgw.log" | tr '\n' ' ')"
fi
echo "(e2e took $(( $(date +%s) - T0 )) s)"
echo "$passed passed, $failed failed"
[ $failed = 0 ]

#!/usr/bin/env bash
# natgw end-to-end suite: brings the namespace lab up (tools/lab/lab.sh), runs real clients
# through the gateway, prints "PASS name (detail)" or "FAIL name: reason" per case and, as the
# last line, "N passed, N failed"; exits non-zero on any failure; always tears the lab down.
# natgw running is a precondition, not a case: a case that finds it dead fails as such, and
# if it died the run ends with "FAIL run: natgw exited" (counted as a failure).
#
#   tests/e2e/run.sh [--mode natgw|kernel] [--pmd af_packet|af_xdp] [--workers 1|2]
#                    [--quick] [--compare] [--keep]
#
#   --mode kernel  the same cases against the Linux kernel's NAT (nftables masquerade), which
#                  proves the tests; --mode natgw (default) runs natgw ($NATGW, default
#                  build/app/natgw) in the lab on net_af_packet (--pmd af_packet, default) or
#                  net_af_xdp (--pmd af_xdp), with 1 (default) or 2 worker lcores
#   --quick        smaller files and fewer connections
#   --compare      run both modes and print kernel vs natgw throughput and connections/s
#   --keep         leave the lab up afterwards (tools/lab/lab.sh down removes it)
set -uo pipefail
. "$(dirname "$0")/lib.sh"	# here, top, LAB, STATE, PY; pass, fail, run_case
CLI="/usr/bin/python3 $top/tools/lab/labcli.py"
mode=natgw quick=0 compare=0 keep=0 pmd=af_packet workers=1
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) mode=$2; shift ;;
	--mode=*) mode=${1#--mode=} ;;
	--pmd) pmd=$2; shift ;;
	--pmd=*) pmd=${1#--pmd=} ;;
	--workers) workers=$2; shift ;;
	--workers=*) workers=${1#--workers=} ;;
	--quick) quick=1 ;;
	--compare) compare=1 ;;
	--keep) keep=1 ;;
	-h|--help) sed -n '2,19p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

if [ $compare = 1 ]; then
	# One run, three labs one after the other, each under the shared lab lock only while it
	# is up (so do not hold the lock around --compare itself): the kernel's NAT, natgw on
	# af_packet, natgw on af_xdp (--workers N, default 1), running only the measuring cases
	# (E2E_COMPARE_CASES), then natgw's cycles/packet with 1 and 2 workers (tools/bench/live.sh,
	# natgw on net_pcap, no lab). The natgw labs also record a per-thread CPU profile of the
	# UDP flood (udp64), printed after the table.
	lock=${E2E_LOCK:-/run/natgw-lab.lock}
	cases=${E2E_COMPARE_CASES:-"conns-seq iperf3 udp64"}
	q=(); [ $quick = 1 ] && q=(--quick)
	declare -A mf
	cols=(kernel af_packet af_xdp)
	echo "== compare: load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs =="
	for c in "${cols[@]}"; do
		mf[$c]=$(mktemp)
		if [ $c = kernel ]; then a=(--mode kernel); else a=(--mode natgw --pmd $c --workers "$workers"); fi
		E2E_ONLY=$cases E2E_METRICS=${mf[$c]} flock "$lock" bash "$0" "${a[@]}" "${q[@]}" |
			tee "${mf[$c]}.out"
	done
	m() { sed -n "s/^$2 //p" "$1" | tail -n 1; }
	echo
	echo "== kernel vs natgw ($workers worker(s)), one run =="
	printf '%-34s %12s %12s %12s\n' "" kernel "natgw afpkt" "natgw afxdp"
	for k in iperf3_up_mbps iperf3_down_mbps udp64_sent_pps udp64_pps udp64_loss_pct \
		 conns_per_s; do
		printf '%-34s %12s %12s %12s\n' "$k" "$(m "${mf[kernel]}" $k)" \
			"$(m "${mf[af_packet]}" $k)" "$(m "${mf[af_xdp]}" $k)"
	done
	for c in af_packet af_xdp; do
		echo "-- natgw $c: CPU during udp64 (% of one CPU; threads, then per CPU) --"
		sed -n 's/^udp64_cpu //p' "${mf[$c]}" | tr ',' '\n' | grep -v ' 0%$' |
			sed 's/^/   /'
	done
	echo "-- kernel: CPU during udp64 --"
	sed -n 's/^udp64_cpu //p' "${mf[kernel]}" | tr ',' '\n' | grep -v ' 0%$' | sed 's/^/   /'
	# the build whose app/natgw live.sh runs: E2E_BENCH_BUILD, else the one $NATGW is in
	bb=${E2E_BENCH_BUILD:-$(dirname "$(dirname "${NATGW:-build/app/natgw}")")}
	bb=${bb#"$top/"}
	wc=$(mktemp -d /tmp/natgw-cmp.XXXXXX)
	echo "-- natgw on net_pcap, no lab (tools/bench/live.sh --build $bb), 1 and 2 workers;" \
	     "load average $(cut -d' ' -f1-3 /proc/loadavg) --"
	(cd "$top" && bash tools/bench/live.sh --seconds 4 --build "$bb" --out "$wc") \
		>"$wc/live.out" 2>&1 && [ -s "$wc/live.txt" ] &&
		awk -v mhz="$(grep -m1 'cpu MHz' /proc/cpuinfo | sed 's/.*: //')" \
			'{ w = $2 + 0; r = $4 + 0; printf "   %s  => %.0f cycles/packet per worker\n",
			   $0, (r > 0 ? mhz * w / r : 0) }' "$wc/live.txt" ||
		{ echo "   live.sh failed:"; tail -n 5 "$wc/live.out"; }
	rm -rf "$wc"
	p=0 f=0
	for c in "${cols[@]}"; do
		l=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "${mf[$c]}.out" | tail -n 1)
		p=$((p + ${l%% *})); l=${l#*, }; f=$((f + ${l%% *}))
		[ -n "$l" ] || f=$((f + 1))
		rm -f "${mf[$c]}" "${mf[$c]}.out"
	done
	echo "$p passed, $f failed"
	[ $f = 0 ]; exit
fi

if [ $quick = 1 ]; then
	export LAB_BLOB_MB=2; UP_MB=2; SEQ=100; PAR=20; PAR_EACH=2; IPERF_T=1
else
	export LAB_BLOB_MB=${LAB_BLOB_MB:-8}; UP_MB=4; SEQ=300; PAR=40; PAR_EACH=5; IPERF_T=3
fi
UDP_T=${LAB_UDP_TIMEOUT:-10}
export LAB_UDP_TIMEOUT=$UDP_T
METRICS=${E2E_METRICS:-/dev/null}
WORK=$(mktemp -d /tmp/natgw-e2e.XXXXXX)

cleanup() {
	[ $keep = 1 ] || bash "$LAB" down >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

C() { ip netns exec lab-client "$@"; }
S() { ip netns exec lab-server "$@"; }
R() { ip netns exec lab-router "$@"; }
G() { ip netns exec lab-gw "$@"; }

metric() { echo "$1 $2" >>"$METRICS"; }

# packet capture in a namespace, for evidence: cap_start NS IF FILTER; ...; cap_stop -> $CAPN
cap_start() {
	CAPF="$WORK/cap.$RANDOM.pcap"
	ip netns exec "$1" tcpdump -i "$2" -n -U --immediate-mode -w "$CAPF" "$3" 2>"$CAPF.err" &
	CAPPID=$!
	local i
	for i in $(seq 1 40); do grep -q listening "$CAPF.err" 2>/dev/null && return 0; sleep 0.05; done
}
cap_stop() {
	sleep 0.3
	kill -INT "$CAPPID" 2>/dev/null; wait "$CAPPID" 2>/dev/null
	CAPN=$(tcpdump -r "$CAPF" -n 2>/dev/null | wc -l)
	CAPTXT=$(tcpdump -r "$CAPF" -n 2>/dev/null | head -n 3 | cut -c1-110 | tr '\n' ';')
}

# ---------------------------------------------------------------------------------------------
case_ping() {
	local out
	out=$(C ping -c 3 -i 0.2 -W 2 -q 10.0.3.10 2>&1)
	DETAIL=$(echo "$out" | grep -o '[0-9.]*% packet loss')
	echo "$out" | grep -q ' 0% packet loss' || { REASON="client -> server ping lost packets"; return 1; }
}

case_pmtud_upload() {
	local f="$WORK/up.bin" want got mtu
	head -c $((UP_MB * 1024 * 1024)) /dev/urandom >"$f"
	want="$(sha256sum "$f" | cut -d' ' -f1) $((UP_MB * 1024 * 1024))"
	got=$(C timeout 30 curl -sS --max-time 25 -T "$f" http://10.0.3.10/upload 2>&1)
	mtu=$(C ip route get 10.0.3.10 | grep -o 'mtu [0-9]*')
	DETAIL="${UP_MB} MB PUT, client route: ${mtu:-no PMTU learnt}"
	if [ "$got" != "$want" ]; then
		REASON="upload through the 1280-MTU link failed (got '${got:0:80}'; a stall means the \
router's ICMP fragmentation-needed did not come back translated)"
		return 1
	fi
	[ "$mtu" = "mtu 1280" ] || { REASON="upload arrived but the client learnt no 1280 PMTU"; return 1; }
}

TAG=$RANDOM$RANDOM
case_http_download() {
	local want got
	want=$(cat "$STATE/blob.sha256")
	C curl -sS --max-time 30 -o "$WORK/dl.bin" "http://10.0.3.10/blob.bin?tag=$TAG" 2>"$WORK/curl.err" ||
		{ REASON="curl failed: $(head -c 200 "$WORK/curl.err")"; return 1; }
	got=$(sha256sum "$WORK/dl.bin" | cut -d' ' -f1)
	DETAIL="$LAB_BLOB_MB MB, sha256 ${got:0:16}"
	[ "$got" = "$want" ] || { REASON="sha256 mismatch: got $got want $want"; return 1; }
}

case_snat_source() {
	local line
	line=$(grep "GET /blob.bin?tag=$TAG " "$STATE/logs/server-http.log" | tail -n 1)
	DETAIL="server log: ${line:-none}"
	[ -n "$line" ] || { REASON="the download's request is not in the server log"; return 1; }
	echo "$line" | grep -q " 10\.0\.2\.1:[0-9]* GET" ||
		{ REASON="server saw a source other than 10.0.2.1"; return 1; }
}

case_traceroute() {
	local out last
	out=$(C timeout 20 traceroute -n -w 1 -q 1 -m 6 10.0.3.10 2>&1)
	last=$(echo "$out" | tail -n 1)
	DETAIL=$(echo "$out" | tail -n +2 | awk '{print $2}' | tr '\n' ' ')
	echo "$out" | grep -q ' 10\.0\.2\.254 ' || { REASON="no router hop (10.0.2.254)"; return 1; }
	echo "$last" | grep -q ' 10\.0\.3\.10 ' || { REASON="did not reach 10.0.3.10"; return 1; }
}

case_tracepath() {
	local out
	out=$(C timeout 25 tracepath -n -m 6 10.0.3.10 2>&1)
	DETAIL=$(echo "$out" | grep -E '^ +[0-9]+:' | awk '{print $2}' | uniq | tr '\n' ' ')
	DETAIL="$DETAIL$(echo "$out" | grep -o 'Resume:.*')"
	echo "$out" | grep -q ' 10\.0\.2\.254 ' || { REASON="no router hop (10.0.2.254)"; return 1; }
	echo "$out" | grep -q 'reached' || { REASON="did not reach 10.0.3.10"; return 1; }
}

case_udp_roundtrip() {
	local out
	out=$(C $CLI udp-echo 10.0.3.10 7 --count 5 2>&1)
	DETAIL=$(echo "$out" | head -n 1)
	echo "$out" | grep -q '^ok 5/5 mapped 10\.0\.2\.1:[0-9]*$' ||
		{ REASON="expected 5/5 echoes, the server seeing 10.0.2.1"; return 1; }
}

case_unsolicited() {
	local out p pids=() res=""
	cap_start lab-router eth0 "ip and src host 10.0.2.1"
	for p in 4444 2222 8081; do
		R $CLI tcp-probe 10.0.2.1 $p --timeout 2 >"$WORK/probe.tcp.$p" & pids+=($!)
	done
	for p in 5353 9999 40404; do
		R $CLI udp-probe 10.0.2.1 $p --timeout 2 >"$WORK/probe.udp.$p" & pids+=($!)
	done
	wait "${pids[@]}"
	cap_stop
	for f in "$WORK"/probe.*; do res="$res ${f##*/probe.}=$(cat "$f")"; done
	DETAIL="probes:$res; packets from 10.0.2.1 seen by the router: $CAPN"
	R ip neigh show 10.0.2.1 | grep -q lladdr ||
		{ REASON="gateway did not even answer ARP for 10.0.2.1 (is it up?)"; return 1; }
	echo "$res" | tr ' ' '\n' | grep '=' | grep -qv '=timeout$' &&
		{ REASON="a probe got an answer"; return 1; }
	[ "$CAPN" = 0 ] || { REASON="the gateway answered: $CAPTXT"; return 1; }
}

case_port_forward() {
	local out src
	out=$(S curl -sS --max-time 5 "http://10.0.2.1:8080/svc.txt?pf=$TAG" 2>&1)
	src=$(grep "pf=$TAG" "$STATE/logs/svc-http.log" | awk '{print $2}')
	DETAIL="body '$out', svc saw ${src:-nothing}"
	[ "$out" = "natgw-lab lab-svc 10.0.1.20" ] ||
		{ REASON="server -> 10.0.2.1:8080 did not reach lab-svc"; return 1; }
}

case_hairpin() {
	local out src
	out=$(C curl -sS --max-time 5 "http://10.0.2.1:8080/svc.txt?hp=$TAG" 2>&1)
	src=$(grep "hp=$TAG" "$STATE/logs/svc-http.log" | awk '{print $2}')
	DETAIL="body '$out', svc saw ${src:-nothing}"
	[ "$out" = "natgw-lab lab-svc 10.0.1.20" ] ||
		{ REASON="client -> 10.0.2.1:8080 (hairpin) did not reach lab-svc"; return 1; }
}

case_conns_sequential() {
	local out
	out=$(C timeout 120 $CLI http-seq 10.0.3.10 80 /small.txt --count $SEQ 2>&1)
	DETAIL=$(echo "$out" | head -n 1)
	metric conns_per_s "$(echo "$out" | sed -n 's/.* rate \([0-9]*\)$/\1/p' | head -n 1)"
	echo "$out" | grep -q "^ok $SEQ fail 0 " || { REASON="$(echo "$out" | tr '\n' ' ' | cut -c1-300)"; return 1; }
}

case_conns_parallel() {
	local out n=$((PAR * PAR_EACH))
	out=$(C timeout 120 $CLI http-par 10.0.3.10 80 /small.txt --count $n --par $PAR 2>&1)
	DETAIL="$PAR parallel: $(echo "$out" | head -n 1)"
	echo "$out" | grep -q "^ok $n fail 0 " || { REASON="$(echo "$out" | tr '\n' ' ' | cut -c1-300)"; return 1; }
}

iperf_mbps() { # json file -> receiver Mbit/s
	/usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1]));
print("%.0f" % (j["end"]["sum_received"]["bits_per_second"] / 1e6))' "$1" 2>/dev/null
}
case_iperf3() {
	local up down
	C timeout $((IPERF_T + 15)) iperf3 -c 10.0.3.10 -t $IPERF_T -J >"$WORK/ip-up.json" 2>&1
	up=$(iperf_mbps "$WORK/ip-up.json")
	C timeout $((IPERF_T + 15)) iperf3 -c 10.0.3.10 -t $IPERF_T -R -J >"$WORK/ip-down.json" 2>&1
	down=$(iperf_mbps "$WORK/ip-down.json")
	metric iperf3_up_mbps "$up"; metric iperf3_down_mbps "$down"
	DETAIL="upload ${up:-?} Mbit/s, download ${down:-?} Mbit/s (TCP, 1280-MTU path)"
	[ -n "$up" ] && [ -n "$down" ] && [ "$up" -gt 0 ] && [ "$down" -gt 0 ] ||
		{ REASON="iperf3 failed: $(grep -o '"error".*' "$WORK"/ip-*.json | head -c 200)"; return 1; }
}

# CPU time, in clock ticks, as "name ticks" lines: every thread of natgw and of the iperf3
# processes (comm/tid), and per CPU its busy time (user, system, irq, softirq, steal) and
# the softirq part alone (where the kernel's forwarding and the veth pairs run); for the
# per-thread profile of case_udp64
cpu_ticks() {
	local t pid
	for pid in $(cat "$STATE/pids/natgw.pid" 2>/dev/null) $(pgrep -x iperf3); do
		for t in /proc/$pid/task/*; do
			[ -r "$t/stat" ] || continue
			# fields after the ")" of comm: 12 utime, 13 stime
			echo "$(tr -d ' ' <"$t/comm")/$(basename "$t") $(sed 's/.*) //' "$t/stat" |
				awk '{ print $12 + $13 }')"
		done
	done
	awk '/^cpu[0-9]/ { print $1 "/busy", $2 + $3 + $4 + $7 + $8 + $9;
			   print $1 "/softirq", $8 }' /proc/stat
}
# iperf3 UDP with 18-byte payloads (60-byte frames: 64 on the wire with the FCS), as fast as
# the client can send, for IPERF_T seconds: packets delivered per second and loss at the
# receiver; meanwhile the CPU each thread (natgw's, iperf3's) and each CPU used
case_udp64() {
	local a b t0 t1 ip
	C timeout $((IPERF_T + 15)) iperf3 -c 10.0.3.10 -u -b 0 -l 18 -t $IPERF_T -J \
		>"$WORK/ip-udp.json" 2>&1 &
	ip=$!
	sleep 0.5
	a=$(cpu_ticks); t0=$(date +%s.%N)
	sleep "$(echo "$IPERF_T - 0.8" | bc)"
	b=$(cpu_ticks); t1=$(date +%s.%N)
	wait $ip
	read -r sent pps loss < <(/usr/bin/python3 -c 'import json,sys
j=json.load(open(sys.argv[1])); s=j["end"]["sum"]; t=s["seconds"] or 1
print("%.0f %.0f %.2f" % (s["packets"]/t, (s["packets"]-s["lost_packets"])/t, s["lost_percent"]))' \
		"$WORK/ip-udp.json" 2>/dev/null)
	metric udp64_sent_pps "$sent"; metric udp64_pps "$pps"; metric udp64_loss_pct "$loss"
	metric udp64_cpu "$(join <(echo "$a" | sort) <(echo "$b" | sort) |
		awk -v hz="$(getconf CLK_TCK)" -v t="$(echo "$t1 - $t0" | bc)" \
		'{ printf "%s%s %.0f%%", (NR > 1 ? "," : ""), $1, ($3 - $2) * 100 / hz / t }')"
	DETAIL="sent ${sent:-?} pps, delivered ${pps:-?} pps, loss ${loss:-?}% (64-byte frames)"
	[ -n "$pps" ] && [ "${pps%.*}" -gt 0 ] ||
		{ REASON="iperf3 -u failed: $(grep -o '"error".*' "$WORK/ip-udp.json" | head -c 200)"; return 1; }
}

TEL="/usr/bin/python3 $top/tools/lab/natgw_tel.py"
natgw_tcp80() { # natgw connections client -> server:80, NATed to 10.0.2.1, in /natgw/conns
	$TEL conns 2>/dev/null | grep '^tcp ' | grep 'src=10.0.1.10 dst=10.0.3.10 sport=[0-9]* dport=80 ' |
		grep -c 'src=10.0.3.10 dst=10.0.2.1 sport=80 '
}
case_conntrack() {
	local out i ntcp nudp tcp0=0 cc0=0 cc1
	if [ "$mode" = kernel ]; then
		G conntrack -F >/dev/null 2>&1
	else
		tcp0=$(natgw_tcp80); cc0=$($TEL stat conns_created 2>/dev/null)
	fi
	C $CLI http-seq 10.0.3.10 80 /small.txt --count 10 >"$WORK/ct.tcp" 2>&1
	for i in 1 2 3; do
		C $CLI udp-echo 10.0.3.10 7 --count 4 --sport $((43000 + i)) >>"$WORK/ct.udp" 2>&1
	done
	grep -q '^ok 10 fail 0' "$WORK/ct.tcp" && [ "$(grep -c '^ok 4/4' "$WORK/ct.udp")" = 3 ] ||
		{ REASON="the traffic itself failed: $(cat "$WORK/ct.tcp" "$WORK/ct.udp" | tr '\n' ' ')"; return 1; }
	if [ "$mode" = kernel ]; then
		out=$(G conntrack -L 2>/dev/null)
		ntcp=$(echo "$out" | grep '^tcp' | grep 'src=10.0.1.10 dst=10.0.3.10' | grep 'dport=80 ' |
			grep -c 'src=10.0.3.10 dst=10.0.2.1 sport=80')
		nudp=$(echo "$out" | grep '^udp' | grep -E 'sport=4300[123] dport=7 packets=4 ' |
			grep -cE 'src=10.0.3.10 dst=10.0.2.1 sport=7 dport=[0-9]+ packets=4 ')
		DETAIL="conntrack -L: $ntcp/10 TCP to :80 NATed to 10.0.2.1, $nudp/3 UDP flows with 4+4 packets"
		[ "$ntcp" = 10 ] && [ "$nudp" = 3 ] || { REASON="listing disagrees with the traffic sent:
$(echo "$out" | head -n 20)"; return 1; }
	else
		out=$($TEL conns 2>&1)
		echo "$out" >"$WORK/natgw-conns.txt"
		ntcp=$(( $(natgw_tcp80) - tcp0 ))
		nudp=$(echo "$out" | grep '^udp ' | grep -E 'sport=4300[123] dport=7 packets=4 ' |
			grep -cE 'src=10.0.3.10 dst=10.0.2.1 sport=7 dport=[0-9]+ packets=4 ')
		cc1=$($TEL stat conns_created 2>/dev/null)
		DETAIL="/natgw/conns: +$ntcp TCP to 10.0.3.10:80 (want 10), $nudp/3 UDP flows; conns_created +$(( ${cc1:-0} - ${cc0:-0} )) (want 13)"
		DETAIL=${DETAIL/3 UDP flows/3 UDP flows with 4+4 packets}
		[ "$ntcp" = 10 ] && [ "$nudp" = 3 ] || { REASON="natgw's listing disagrees or is missing:
$(echo "$out" | head -n 12)"; return 1; }
		[ -n "$cc1" ] && [ $((cc1 - cc0)) = 13 ] || { REASON="conns_created counter disagrees"; return 1; }
	fi
}

case_udp_expiry() {
	local sport=$((44000 + RANDOM % 1000)) late=$((UDP_T + 7)) out n0 n1 n2
	# the echo server answers the mapping at t=0 and t=3 (alive: both must arrive) and at
	# t=T+7, 4 s after the mapping's timeout ran out: that one must be dropped
	out=$(C $CLI udp-later 10.0.3.10 7 --sport $sport --delays "0,3,$late" --listen $((late + 2)) 2>&1)
	n0=$(echo "$out" | grep -c 'LATER#0')
	n1=$(echo "$out" | grep -c 'LATER#1')
	n2=$(echo "$out" | grep -c 'LATER#2')
	DETAIL="timeout ${UDP_T}s; replies at 0 s: $n0, 3 s: $n1, $late s: $n2"
	[ "$n0" = 1 ] && [ "$n1" = 1 ] || { REASON="replies to a live mapping were lost"; return 1; }
	[ "$n2" = 0 ] || { REASON="a reply $((late - 3)) s after the last packet still came in: $(echo "$out" |
		grep 'LATER#2')"; return 1; }
}

case_udp_big() { # bigger than every MTU on the path, both ways fragmented
	local out
	out=$(C $CLI udp-echo 10.0.3.10 7 --count 3 --size 4000 2>&1)
	DETAIL="4000-byte datagrams: $(echo "$out" | head -n 1)"
	echo "$out" | grep -q '^ok 3/3 mapped 10\.0\.2\.1:[0-9]*$' ||
		{ REASON="expected 3/3 4000-byte echoes (fragmented both ways)"; return 1; }
}

# reassembly bounds: trains of never-completed fragments from an on-link host (lab-router) at
# the outside address for FLOOD_S s; once it stops, ping and a download must pass within
# 3 s. natgw: its bounds must have been hit (counted drops) and what it holds stay bounded.
FLOOD_S=4 FLOOD_PPS=150000 FLOOD_SRCS=16
bound_drops() { $TEL drops 2>/dev/null | awk '/^REASM_(SRC_)?LIMIT / {s += $2} END {print s + 0}'; }
case_frag_flood() {
	local fpid t_end t_ok t_dl during held dl0=0 dl1 want got left i
	R ping -c1 -W1 10.0.2.1 >/dev/null 2>&1	# the router's neighbour entry for the sender
	[ "$mode" = natgw ] && dl0=$(bound_drops)
	R /usr/bin/python3 "$top/tools/lab/fragflood.py" --iface eth0 --dst 10.0.2.1 \
		--seconds $FLOOD_S --pps $FLOOD_PPS --sources $FLOOD_SRCS >"$WORK/flood.out" 2>&1 &
	fpid=$!
	sleep 2
	during=$(C ping -c 3 -i 0.3 -W 1 -q 10.0.3.10 2>&1 | grep -o '[0-9.]*% packet loss')
	[ "$mode" = natgw ] && held=$($TEL stat frag_held 2>/dev/null)
	wait $fpid
	t_end=$(date +%s.%N)
	# recovery: the first ping that passes, then the whole download, by t_end + 3 s
	t_ok=""
	for i in $(seq 1 12); do
		if C ping -c1 -W0.25 -q 10.0.3.10 >/dev/null 2>&1; then t_ok=$(date +%s.%N); break; fi
	done
	want=$(cat "$STATE/blob.sha256")
	left=$(echo "3 - ($(date +%s.%N) - $t_end)" | bc)
	[ -n "$t_ok" ] && C curl -sS --max-time "$left" -o "$WORK/flood-dl.bin" \
		"http://10.0.3.10/blob.bin?flood=$TAG" 2>/dev/null
	t_dl=$(date +%s.%N)
	got=$(sha256sum "$WORK/flood-dl.bin" 2>/dev/null | cut -d' ' -f1)
	DETAIL="$(cat "$WORK/flood.out"); ping during the flood: ${during:-?}; after it: ping \
$([ -n "$t_ok" ] && printf '%.2f s' "$(echo "$t_ok - $t_end" | bc)" || echo never), \
$LAB_BLOB_MB MB download done $(printf '%.2f' "$(echo "$t_dl - $t_end" | bc)") s after"
	[ -n "$t_ok" ] || { REASON="no ping passed within 3 s of the flood's end"; return 1; }
	[ "$got" = "$want" ] && [ "$(echo "$t_dl - $t_end <= 3" | bc)" = 1 ] ||
		{ REASON="the download did not complete within 3 s of the flood's end"; return 1; }
	if [ "$mode" = natgw ]; then
		dl1=$(bound_drops)
		DETAIL="$DETAIL; natgw held ${held:-?} fragments mid-flood, bound drops +$((dl1 - dl0))"
		# net_af_packet: the kernel's defrag (fanout flag) holds the fragments, not natgw
		[ "$pmd" = af_packet ] || [ "$((dl1 - dl0))" -gt 0 ] ||
			{ REASON="no REASM_LIMIT/REASM_SRC_LIMIT drop counted"; return 1; }
		# [fragments] max_mbufs (lab default 1024) per worker and ingress port
		[ -n "$held" ] && [ "$held" -le $((1024 * workers)) ] ||
			{ REASON="reassembly held ${held:-?} fragments, over its bound"; return 1; }
	fi
}
# ---------------------------------------------------------------------------------------------
variant=$([ "$mode" = natgw ] && echo ", pmd $pmd, $workers worker(s)")
echo "== e2e: mode $mode$variant$([ $quick = 1 ] && echo ', quick') =="
T0=$(date +%s)
if ! upout=$(bash "$LAB" up --mode "$mode" --pmd "$pmd" --workers "$workers" 2>&1); then
	echo "$upout" | tail -n 20
	echo "FAIL lab-up: the lab did not come up in mode $mode"
	echo "0 passed, 1 failed"
	exit 1
fi
# E2E_ONLY: only the cases named (space-separated), e.g. E2E_ONLY="udp-4000 frag-flood".
# E2E_AFTER_UP: a command run once the lab is up (e.g. break the kernel gateway on purpose to
# see the cases fail: E2E_AFTER_UP='ip netns exec lab-gw nft insert rule ip lab forward drop')
[ -z "${E2E_AFTER_UP:-}" ] || eval "$E2E_AFTER_UP"
run_case ping case_ping
run_case pmtud-upload case_pmtud_upload
run_case http-download case_http_download
run_case snat-source case_snat_source
run_case traceroute case_traceroute
run_case tracepath case_tracepath
run_case udp-roundtrip case_udp_roundtrip
run_case udp-4000 case_udp_big
run_case conntrack case_conntrack
run_case unsolicited case_unsolicited
run_case port-forward case_port_forward
run_case hairpin case_hairpin
run_case conns-seq case_conns_sequential
run_case conns-parallel case_conns_parallel
run_case iperf3 case_iperf3
run_case udp64 case_udp64
run_case udp-expiry case_udp_expiry
run_case frag-flood case_frag_flood
if [ "$mode" = natgw ]; then
	# not a case: a natgw that died fails the run (and the cases after its death, above)
	if ! natgw_alive; then
		failed=$((failed + 1))
		echo "FAIL run: natgw exited: $(tail -n 5 "$STATE/logs/natgw.log" | tr '\n' ' ')"
	fi
	if [ $keep = 0 ]; then
		bash "$LAB" down >/dev/null 2>&1
		echo "-- natgw's log (final counters) --"
		tail -n 40 "$STATE.last/logs/natgw.log" 2>/dev/null
	fi
fi
echo "(e2e took $(( $(date +%s) - T0 )) s)"
echo "$passed passed, $failed failed"
[ $failed = 0 ]

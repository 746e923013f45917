#!/usr/bin/env bash
# natgw end-to-end: 802.1Q sides and jumbo frames in the namespace lab (tools/lab/lab.sh),
# three labs one after the other, real clients through natgw:
#   --vlan       natgw's two ports carry VLAN 10 (inside) and 20 (outside): nat-in's peer is
#                a trunk whose VLAN 10 goes to the inside bridge, lab-router's addresses are
#                behind VLAN 20 of nat-out's peer (tools/lab/vlansw.py switches: the lab kernel
#                has no 8021q); ping, HTTP download, UDP echo through; ARP both ways over the VLANs;
#                what natgw sends is tagged (capture on the raw veths); untagged and VLAN 30
#                frames are dropped and counted (VLAN_UNTAGGED, VLAN_OTHER)
#   --stick      router on a stick: one veth trunk nat-trunk carries both sides (lab-sw: VLAN
#                10 to the inside bridge, VLAN 20 to lab-router); the same cases
#   --mtu 9000   inside and uplink links and natgw's mtu 9000 (net_af_xdp: 3400, its limit;
#                natgw refuses 9000 and 3500 there, checked): an 8000-byte DF ping to the
#                router, a download from a server on the router (9000-byte path, frames over
#                8000 bytes on the wire), an 8000-byte DF ping to the server behind the 1280
#                link gets the router's fragmentation needed (mtu 1280) back through natgw;
#                net_af_packet with a framesz too small for mtu 9000 is refused at start
# Prints "PASS name (detail)" or "FAIL name: reason" per case and, as the last line,
# "N passed, N failed"; exits non-zero on any failure; always tears the lab down.
#
#   tests/e2e/vlan.sh [--mode natgw] [--pmd af_packet|af_xdp] [--workers 1|2] [--keep]
#
# Run it as every lab command: flock /run/natgw-lab.lock bash tests/e2e/vlan.sh
set -uo pipefail
. "$(dirname "$0")/lib.sh"	# here, top, LAB, STATE, PY; pass, fail, run_case
CLI="/usr/bin/python3 $top/tools/lab/labcli.py"
TEL="/usr/bin/python3 $top/tools/lab/natgw_tel.py"
mode=natgw pmd=af_packet workers=1 keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) mode=$2; shift ;;
	--mode=*) mode=${1#--mode=} ;;
	--pmd) pmd=$2; shift ;;
	--pmd=*) pmd=${1#--pmd=} ;;
	--workers) workers=$2; shift ;;
	--workers=*) workers=${1#--workers=} ;;
	--keep) keep=1 ;;
	-h|--help) sed -n '2,26p' "$0"; exit 0 ;;
	*) echo "vlan.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$mode" = natgw ] || { echo "vlan.sh: natgw mode only (the lab's VLANs are natgw's)" >&2; exit 2; }
export LAB_BLOB_MB=2
WORK=$(mktemp -d /tmp/natgw-e2e-vlan.XXXXXX)

cleanup() {
	[ $keep = 1 ] || bash "$LAB" down >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

C() { ip netns exec lab-client "$@"; }
R() { ip netns exec lab-router "$@"; }
W() { ip netns exec lab-sw "$@"; }

LABNAME="" E2E_CASE_PREFIX=""

lab_up() { # name lab.sh options...: bring a lab up (a failure is one FAIL, the cases skipped)
	LABNAME=$1 E2E_CASE_PREFIX=$1; shift
	bash "$LAB" down >/dev/null 2>&1
	if bash "$LAB" up --mode natgw --pmd "$pmd" --workers "$workers" "$@" >"$WORK/up.log" 2>&1
	then
		return 0
	fi
	failed=$((failed + 1))
	echo "FAIL $LABNAME-up: lab.sh up $* failed: $(tail -n 5 "$WORK/up.log" | tr '\n' ' ' | cut -c1-400)"
	return 1
}

# packet capture, for evidence: cap_start NS IF FILTER; ...; cap_stop -> $CAPN, $CAPF
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
}
cap_count() { tcpdump -r "$CAPF" -n "$1" 2>/dev/null | wc -l; }	# FILTER
mac_of() { ip -n "$1" -br link show "$2" | awk '{print $3}'; }		# NS IF
# tagcount PCAP MAC VID|any [ARP]: frames from MAC tagged VID (any: all frames from MAC)
tagcount() {
	tcpdump -r "$1" -e -n 2>/dev/null | awk -v m="$2" -v v="$3" -v a="${4:-}" '
		tolower($2) != tolower(m) { next }
		a != "" && $0 !~ /ethertype ARP/ { next }
		v == "any" || $0 ~ (" vlan " v ",") { n++ }
		END { print n + 0 }'
}
drop_count() { $TEL drops 2>/dev/null | awk -v r="$1" '$1 == r {print $2; n = 1} END {if (!n) print 0}'; }

# ---------------------------------------------------------------------------------------------
case_ping() {
	local out
	out=$(C ping -c 3 -i 0.2 -W 2 -q 10.0.3.10 2>&1)
	DETAIL=$(echo "$out" | grep -o '[0-9.]*% packet loss')
	echo "$out" | grep -q ' 0% packet loss' || { REASON="client -> server ping lost packets"; return 1; }
}

case_http() {
	local want got
	want=$(cat "$STATE/blob.sha256")
	C curl -sS --max-time 20 -o "$WORK/dl.bin" "http://10.0.3.10/blob.bin" 2>"$WORK/curl.err" ||
		{ REASON="curl failed: $(head -c 200 "$WORK/curl.err")"; return 1; }
	got=$(sha256sum "$WORK/dl.bin" | cut -d' ' -f1)
	DETAIL="$LAB_BLOB_MB MB, sha256 ${got:0:16}"
	[ "$got" = "$want" ] || { REASON="sha256 mismatch"; return 1; }
}

case_udp() {
	local out
	out=$(C $CLI udp-echo 10.0.3.10 7 --count 5 2>&1)
	DETAIL=$(echo "$out" | head -n 1)
	echo "$out" | grep -q '^ok 5/5 mapped 10\.0\.2\.1:[0-9]*$' ||
		{ REASON="expected 5/5 echoes, the server seeing 10.0.2.1"; return 1; }
}

# ARP over the VLANs: the router and the client learnt natgw's MACs (natgw answered their
# requests on the VLAN), natgw learnt theirs (the ping above went through), and on the raw
# veths every frame from natgw is tagged with its side's VLAN: INSIDE_IF OUTSIDE_IF (raw
# devices under the VLANs, in lab-sw / lab-router or both in lab-sw for the trunk)
TRUNK_NS_IN=lab-sw TRUNK_IF_IN=p-gw TRUNK_NS_OUT=lab-router TRUNK_IF_OUT=eth0
case_tags() {
	local gin gout n_in n_out all_in all_out arp_in arp_out c1 p1 c2 p2
	gin=$(mac_of lab-gw "$GW_IF_IN") gout=$(mac_of lab-gw "$GW_IF_OUT")
	C ip neigh flush dev eth0 >/dev/null 2>&1
	R ip neigh flush all >/dev/null 2>&1
	cap_start "$TRUNK_NS_IN" "$TRUNK_IF_IN" "ether src $gin or ether src $gout"
	c1=$CAPF p1=$CAPPID c2=$CAPF p2=$CAPPID
	if [ "$TRUNK_NS_OUT:$TRUNK_IF_OUT" != "$TRUNK_NS_IN:$TRUNK_IF_IN" ]; then
		cap_start "$TRUNK_NS_OUT" "$TRUNK_IF_OUT" "ether src $gout"
		c2=$CAPF p2=$CAPPID
	fi
	C ping -c 2 -i 0.2 -W 2 -q 10.0.3.10 >/dev/null 2>&1
	R ping -c 2 -i 0.2 -W 2 -q 10.0.2.1 >/dev/null 2>&1
	sleep 0.3
	kill -INT "$p1" "$p2" 2>/dev/null; wait "$p1" "$p2" 2>/dev/null
	n_in=$(tagcount "$c1" "$gin" 10) arp_in=$(tagcount "$c1" "$gin" 10 ARP)
	n_out=$(tagcount "$c2" "$gout" 20) arp_out=$(tagcount "$c2" "$gout" 20 ARP)
	all_in=$(tagcount "$c1" "$gin" any) all_out=$(tagcount "$c2" "$gout" any)
	DETAIL="from natgw: $n_in tagged 10 ($arp_in ARP), $n_out tagged 20 ($arp_out ARP)"
	if [ "$c1" = "$c2" ]; then
		DETAIL="$DETAIL, $((all_in - n_in - n_out)) other on the trunk"
		[ $((all_in - n_in - n_out)) = 0 ] || { REASON="frames without a tag of ours"; return 1; }
	else
		DETAIL="$DETAIL, $((all_in - n_in)) + $((all_out - n_out)) other"
		[ "$all_in" = "$n_in" ] && [ "$all_out" = "$n_out" ] ||
			{ REASON="frames from natgw without their side's tag"; return 1; }
	fi
	[ "$n_in" -gt 0 ] && [ "$n_out" -gt 0 ] || { REASON="no tagged frames from natgw"; return 1; }
	[ "$arp_in" -gt 0 ] && [ "$arp_out" -gt 0 ] || { REASON="no tagged ARP from natgw"; return 1; }
	C ip neigh show 10.0.1.1 | grep -qi "$gin" || { REASON="client did not learn natgw's MAC"; return 1; }
	R ip neigh show 10.0.2.1 | grep -qi "$gout" || { REASON="router did not learn natgw's MAC"; return 1; }
}

# untagged and VLAN 30 frames on the raw inside device: dropped, each counted by its reason
case_drops() {
	local u0 o0 u1 o1 gin
	gin=$(mac_of lab-gw "$GW_IF_IN")
	u0=$(drop_count VLAN_UNTAGGED) o0=$(drop_count VLAN_OTHER)
	W $PY - "$TRUNK_IF_IN" "$gin" <<-'EOF'
	import sys
	from scapy.all import IP, UDP, Dot1Q, Ether, sendp
	ifc, mac = sys.argv[1], sys.argv[2]
	p = IP(src="10.0.1.10", dst="10.0.3.10") / UDP(sport=5555, dport=7) / b"x"
	sendp([Ether(src="02:00:00:00:99:01", dst=mac) / p] * 3, iface=ifc, verbose=0)
	sendp([Ether(src="02:00:00:00:99:01", dst=mac) / Dot1Q(vlan=30) / p] * 2, iface=ifc, verbose=0)
	EOF
	sleep 0.5
	u1=$(drop_count VLAN_UNTAGGED) o1=$(drop_count VLAN_OTHER)
	DETAIL="VLAN_UNTAGGED +$((u1 - u0)), VLAN_OTHER +$((o1 - o0))"
	[ $((u1 - u0)) -eq 3 ] && [ $((o1 - o0)) -eq 2 ] ||
		{ REASON="want 3 untagged and 2 VLAN 30 drops"; return 1; }
}

vlan_cases() {
	run_case ping case_ping
	run_case http case_http
	run_case udp case_udp
	run_case tags case_tags
	run_case drops case_drops
}

# ---------------------------------------------------------------------------------------------
case_jumbo_ping() {
	local out
	out=$(C ping -M do -s "$PS" -c 3 -i 0.2 -W 2 -q 10.0.2.254 2>&1)
	DETAIL="$((PS + 28))-byte DF datagrams to the router: $(echo "$out" | grep -o '[0-9.]*% packet loss')"
	echo "$out" | grep -q ' 0% packet loss' || { REASON="jumbo ping lost"; return 1; }
}

case_jumbo_download() {
	local pid want got big
	R setsid $PY -u "$top/tools/lab/labsrv.py" http --port 8081 --dir "$STATE/www-server" \
		>"$WORK/rsrv.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 40); do R ss -ltn | grep -q ':8081 ' && break; sleep 0.05; done
	cap_start lab-router eth0 "tcp src port 8081 and greater $PS"
	want=$(cat "$STATE/blob.sha256")
	C curl -sS --max-time 20 -o "$WORK/dl9k.bin" "http://10.0.2.254:8081/blob.bin" \
		2>"$WORK/curl.err"
	cap_stop
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	got=$(sha256sum "$WORK/dl9k.bin" 2>/dev/null | cut -d' ' -f1)
	big=$CAPN
	DETAIL="$LAB_BLOB_MB MB from 10.0.2.254, $big segments over $PS bytes on the uplink"
	[ "$got" = "$want" ] || { REASON="download failed or sha256 mismatch: $(head -c 200 "$WORK/curl.err")"; return 1; }
	[ "$big" -gt 0 ] || { REASON="no jumbo segment seen: the 9000 path was not used"; return 1; }
}

case_jumbo_pmtud() {
	local out
	out=$(C ping -M do -s "$PS" -c 2 -i 0.3 -W 2 10.0.3.10 2>&1)
	DETAIL=$(echo "$out" | grep -io 'frag needed.*\|mtu *= *[0-9]*' | head -n 1)
	echo "$out" | grep -Eiq 'mtu ?= ?1280' ||
		{ REASON="no fragmentation needed (mtu 1280) back through natgw: $(echo "$out" | head -c 200)"; return 1; }
}

case_jumbo_mtu() {
	local m
	m=$(ip -n lab-gw -o link show "$GW_IF_IN" | grep -o 'mtu [0-9]*')
	DETAIL="nat-in $m; $(grep -o 'inside .*mtu [0-9]*' "$STATE/logs/natgw.log" | head -n 1 | cut -c1-80)"
	[ "$m" = "mtu $J" ] && grep -q "mtu $J" "$STATE/logs/natgw.log" ||
		{ REASON="natgw or its port not at mtu $J"; return 1; }
	[ "$(drop_count L2_TOO_BIG)" = 0 ] || { REASON="L2_TOO_BIG drops at mtu 9000"; return 1; }
}

# net_af_packet: a framesz that cannot hold a frame of the MTU is refused at start, with the
# reason (natgw does not start and drop jumbo frames silently): a second natgw on the same
# interfaces, its own file prefix, framesz=2048, the lab's mtu 9000 configuration
case_framesz_refused() {
	local out rc
	out=$(ip netns exec lab-gw timeout 20 "${NATGW:-$top/build/app/natgw}" -l 0,1 --no-huge \
		-m 256 --no-pci --file-prefix natgw-vlan-mtu --log-level=lib.*:error \
		--vdev net_af_packet0,iface=nat-in,framesz=2048 \
		--vdev net_af_packet1,iface=nat-out,framesz=2048 -- --config "$(cat "$STATE/config")" \
		--inside net_af_packet0 --outside net_af_packet1 2>&1)
	rc=$?
	rm -rf /var/run/dpdk/natgw-vlan-mtu
	DETAIL="exit $rc: $(echo "$out" | grep -m1 'framesz=' | cut -c1-120)"
	[ $rc = 1 ] && echo "$out" | grep -q 'framesz=2048 holds frames of 2016 bytes, mtu 9000 needs' ||
		{ REASON="natgw did not refuse framesz=2048 at mtu 9000 with exit 1"; return 1; }
}

# a lab natgw must refuse to start: name lab.sh-options... -- PATTERN (its message)
refused() {
	local name=$1 pat=${*: -1} opts=("${@:2:$#-3}")
	if bash "$LAB" up --mode natgw --pmd "$pmd" --workers "$workers" "${opts[@]}" \
		>"$WORK/up.log" 2>&1; then
		failed=$((failed + 1)); echo "FAIL $name: natgw started with ${opts[*]}"
	elif grep -q -- "$pat" "$WORK/up.log"; then
		passed=$((passed + 1))
		echo "PASS $name $(grep -m1 -o -- "natgw: .*$pat.*" "$WORK/up.log" | cut -c1-110)"
	else
		failed=$((failed + 1)); echo "FAIL $name: no '$pat' in: $(tail -n 3 "$WORK/up.log")"
	fi
}

# ---------------------------------------------------------------------------------------------
GW_IF_IN=nat-in GW_IF_OUT=nat-out
if lab_up vlan --vlan; then vlan_cases; fi

GW_IF_IN=nat-trunk GW_IF_OUT=nat-trunk
TRUNK_NS_IN=lab-sw TRUNK_IF_IN=p-trunk TRUNK_NS_OUT=lab-sw TRUNK_IF_OUT=p-trunk
if lab_up stick --stick; then vlan_cases; fi

GW_IF_IN=nat-in GW_IF_OUT=nat-out
J=9000 PS=8000
if [ "$pmd" = af_xdp ]; then
	# DPDK 22.11's net_af_xdp has no multi-buffer frames (one frame in one page-sized UMEM
	# chunk): natgw refuses mtu 9000 with the port's limit and 3500 with its own (a frame,
	# XDP's headroom and the mbuf in 4 KiB); the jumbo cases run at 3400
	refused jumbo9000-refused --mtu 9000 -- "mtu 9000 not supported"
	refused jumbo3500-refused --mtu 3500 -- "does not fit a UMEM chunk"
	J=3400 PS=3300
fi
if lab_up jumbo --mtu "$J"; then
	[ "$pmd" = af_packet ] && run_case framesz-refused case_framesz_refused
	run_case mtu case_jumbo_mtu
	run_case bigping case_jumbo_ping
	run_case download case_jumbo_download
	run_case pmtud case_jumbo_pmtud
	run_case ping case_ping
fi

echo "$passed passed, $failed failed"
[ $failed = 0 ]

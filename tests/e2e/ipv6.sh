#!/usr/bin/env bash
# natgw end-to-end: IPv6 routed with conntrack (issue 12; docs/config.md "IPv6"), real
# clients in the namespace lab brought up with --ipv6 (tools/lab/lab.sh lab_ipv6: inside
# 2001:db8:1::/64 and the routed 2001:db8:100::/56 behind lab-svc, the router's far link to
# the server with MTU 1280). Prints "PASS name detail [time]" or "FAIL name: reason" per
# case and, last, "N passed, N failed"; exits non-zero on any failure; always tears the lab
# down.
#
#   tests/e2e/ipv6.sh [--mode natgw|kernel] [--pmd af_packet|af_xdp] [--workers 1|2] [--keep]
#
#   --mode kernel: the same cases against lab-gw's kernel (IPv6 forwarding + nftables "ct
#   state established,related" in, anything out), which proves the tests.
# Run it under the lab lock: flock /run/natgw-lab.lock bash tests/e2e/ipv6.sh --mode natgw
set -uo pipefail
. "$(dirname "$0")/lib.sh"	# here, top, LAB, STATE, PY; pass, fail, run_case
export LAB_IPV6=1 LAB_BLOB_MB=${LAB_BLOB_MB:-2}
mode=natgw pmd=af_packet workers=1 keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) mode=$2; shift ;;
	--mode=*) mode=${1#--mode=} ;;
	--pmd) pmd=$2; shift ;;
	--workers) workers=$2; shift ;;
	--keep) keep=1 ;;
	-h|--help) sed -n '2,12p' "$0"; exit 0 ;;
	*) echo "ipv6.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
WORK=$(mktemp -d /tmp/natgw-e2e6.XXXXXX)
cleanup() {
	[ $keep = 1 ] || bash "$LAB" down >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

C() { ip netns exec lab-client "$@"; }
V() { ip netns exec lab-svc "$@"; }
S() { ip netns exec lab-server "$@"; }
SRV=2001:db8:3::10


case_ping6() {
	local out
	out=$(C ping -6 -c 3 -i 0.2 -W 2 -q $SRV 2>&1)
	DETAIL=$(echo "$out" | grep -o '[0-9.]*% packet loss')
	echo "$out" | grep -q ' 0% packet loss' || { REASON="client -> server ping -6 lost packets"; return 1; }
	out=$(C ping -6 -c 2 -i 0.2 -W 2 -q 2001:db8:1::1 2>&1)
	echo "$out" | grep -q ' 0% packet loss' || { REASON="the gateway's address does not answer ping -6"; return 1; }
	DETAIL="$DETAIL; gateway answers"
}

case_http6_download() {
	local want got
	want=$(cat "$STATE/blob.sha256")
	C curl -6 -sS --max-time 30 -o "$WORK/dl.bin" "http://[$SRV]/blob.bin" 2>"$WORK/curl.err" ||
		{ REASON="curl failed: $(head -c 200 "$WORK/curl.err")"; return 1; }
	got=$(sha256sum "$WORK/dl.bin" | cut -d' ' -f1)
	DETAIL="$LAB_BLOB_MB MB, sha256 ${got:0:16}"
	[ "$got" = "$want" ] || { REASON="sha256 mismatch"; return 1; }
}

case_pmtud6_upload() {
	local f="$WORK/up.bin" want got mtu
	head -c $((2 * 1024 * 1024)) /dev/urandom >"$f"
	want="$(sha256sum "$f" | cut -d' ' -f1) $((2 * 1024 * 1024))"
	got=$(C timeout 30 curl -6 -sS --max-time 25 -T "$f" "http://[$SRV]/upload" 2>&1)
	mtu=$(C ip -6 route get $SRV | grep -o 'mtu [0-9]*')
	DETAIL="2 MB PUT, client route: ${mtu:-no PMTU learnt}"
	[ "$got" = "$want" ] || { REASON="upload through the 1280-MTU link failed (got '${got:0:60}'; \
a stall means the router's Packet Too Big did not reach the client)"; return 1; }
	[ "$mtu" = "mtu 1280" ] || { REASON="the client learnt no 1280 PMTU"; return 1; }
}

case_udp6() {
	local out
	out=$(C $PY - "$SRV" <<-'PY' 2>&1
	import socket, sys
	s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
	s.settimeout(3)
	s.connect((sys.argv[1], 7))
	s.send(b"hello6")
	print(s.recv(200).decode())
	PY
	)
	DETAIL="${out:0:80}"
	# routed, not translated: the server saw the client's own address
	[[ "$out" == "ECHO 2001:db8:1::10:"*" hello6" ]] || { REASON="no echo, or not from the client's address"; return 1; }
}

case_udp6_refused() {
	local out
	out=$(C $PY - "$SRV" <<-'PY' 2>&1
	import socket, sys
	s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
	s.settimeout(3)
	s.connect((sys.argv[1], 9))
	s.send(b"anyone?")
	try:
	    s.recv(200)
	    print("answered")
	except ConnectionRefusedError:
	    print("refused")
	except socket.timeout:
	    print("timeout")
	PY
	)
	DETAIL="closed UDP port: $out"
	# the server's ICMPv6 port unreachable came back (RELATED)
	[ "$out" = refused ] || { REASON="no ICMPv6 port unreachable reached the client"; return 1; }
}

case_unsolicited6() {
	local out
	C $PY -c 'import socket,time
s=socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 8022)); s.listen(4); time.sleep(6)' &
	local lp=$!
	sleep 0.3
	out=$(S $PY - <<-'PY' 2>&1
	import socket
	s = socket.socket(socket.AF_INET6)
	s.settimeout(2)
	try:
	    s.connect(("2001:db8:1::10", 8022))
	    print("connected")
	except (socket.timeout, TimeoutError):
	    print("timeout")
	except OSError as e:
	    print("error", e.errno)
	PY
	)
	kill $lp 2>/dev/null; wait $lp 2>/dev/null
	DETAIL="server -> client:8022 (listening): $out"
	[ "$out" = timeout ] || { REASON="an unsolicited inbound connection was not dropped"; return 1; }
}

case_routed_prefix() {
	local got
	got=$(V curl -6 -sS --max-time 10 --interface 2001:db8:100::20 "http://[$SRV]/small.txt" 2>&1)
	DETAIL="from 2001:db8:100::20 (routed inside prefix): ${got:0:40}"
	[ "$got" = "natgw-lab server small" ] || { REASON="the routed inside prefix got no answer"; return 1; }
}

echo "== e2e ipv6: mode $mode$([ "$mode" = natgw ] && echo ", pmd $pmd, $workers worker(s)") =="
T0=$(date +%s)
if ! upout=$(bash "$LAB" up --mode "$mode" --pmd "$pmd" --workers "$workers" --ipv6 2>&1); then
	echo "$upout" | tail -n 20
	echo "FAIL lab-up: the lab did not come up with --ipv6 in mode $mode"
	echo "0 passed, 1 failed"
	exit 1
fi
# the IPv6 servers listening
for _ in $(seq 1 20); do S ss -ltn6 | grep -q ':80 ' && break; sleep 0.25; done
run_case ping6 case_ping6
run_case http6-download case_http6_download
run_case pmtud6-upload case_pmtud6_upload
run_case udp6 case_udp6
run_case udp6-refused case_udp6_refused
run_case unsolicited6 case_unsolicited6
run_case routed-prefix case_routed_prefix
if [ "$mode" = natgw ] && ! natgw_alive; then
	failed=$((failed + 1))
	echo "FAIL run: natgw exited: $(tail -n 5 "$STATE/logs/natgw.log" | tr '\n' ' ')"
fi
if [ "$mode" = natgw ] && [ $keep = 0 ]; then
	bash "$LAB" down >/dev/null 2>&1
	echo "-- natgw's log (final counters) --"
	tail -n 30 "$STATE.last/logs/natgw.log" 2>/dev/null
fi
echo "(e2e ipv6 took $(( $(date +%s) - T0 )) s)"
echo "$passed passed, $failed failed"
[ $failed = 0 ]

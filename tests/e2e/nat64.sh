#!/usr/bin/env bash
# natgw end-to-end: stateful NAT64 (RFC 6146, app/gw_nat64.c; docs/config.md [nat64]). The
# lab comes up with --ipv6 (tools/lab/lab.sh lab_ipv6: lab-client has 2001:db8:1::10, a
# default route via the gateway's 2001:db8:1::1); the client, using IPv6 only, reaches the
# IPv4 server as 64:ff9b::192.88.99.10 (RFC 6052 3.1: the Well-Known Prefix may not embed
# non-global addresses such as the lab's 10.0.3.10, and tayga 0.9.2 also refuses the RFC 5737
# documentation blocks; the script gives lab-server 192.88.99.10 too, routed by lab-router
# over the same 1280-byte link; the lab reaches nothing outside). Cases: ping -6,
# an HTTP download, an upload that needs PMTUD (the router-server link is 1280 bytes of
# IPv4: fragmentation needed must come back as Packet Too Big), UDP echo, a refused UDP port
# (ICMP port unreachable -> ICMPv6). Prints "PASS name detail [time]" or "FAIL name: reason" per
# case and, last, "N passed, N failed"; exits non-zero on any failure; tears the lab down.
#
#   tests/e2e/nat64.sh [--mode natgw|kernel] [--pmd af_packet|af_xdp] [--workers 1|2] [--keep]
#
#   --mode kernel: the same cases against Debian's tayga (stateless NAT64 in user space over
#   a TUN device in lab-gw, installed with apt-get when missing) with the kernel's NAT44
#   (nftables masquerade) behind it, which proves the tests.
# Run it under the lab lock: flock /run/natgw-lab.lock bash tests/e2e/nat64.sh --mode natgw
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
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "nat64.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
WORK=$(mktemp -d /tmp/natgw-e2e64.XXXXXX)
cleanup() {
	[ $keep = 1 ] || bash "$LAB" down >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

C() { ip netns exec lab-client "$@"; }
G() { ip netns exec lab-gw "$@"; }
SRV4=192.88.99.10
SRV6=64:ff9b::$SRV4


# natgw: the lab's configuration with [nat64] added (lab.sh adds address6 for --ipv6)
natgw_config() {
	local base="$top/config/lab.ini"
	[ -f "$base" ] || { echo "nat64.sh: $base missing" >&2; return 1; }
	cat "$base" - >"$WORK/nat64.ini" <<-'INI'

	[nat64]
	prefix = 64:ff9b::/96
	INI
	export NATGW_CONFIG="$WORK/nat64.ini"
}

# kernel: tayga in lab-gw (TUN nat64, its IPv4 pool 192.168.255.0/24), NAT44 by the lab's
# nftables masquerade on nat-out; forwarding between nat-in, nat64 and nat-out allowed
tayga_up() {
	command -v tayga >/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q tayga >"$WORK/apt.log" 2>&1 ||
		{ echo "nat64.sh: cannot install tayga" >&2; return 1; }
	mkdir -p "$WORK/tayga"
	cat >"$WORK/tayga.conf" <<-EOF
	tun-device nat64
	ipv4-addr 192.168.255.1
	ipv6-addr 2001:db8:1:ffff::1
	prefix 64:ff9b::/96
	dynamic-pool 192.168.255.0/24
	data-dir $WORK/tayga
	EOF
	G tayga --config "$WORK/tayga.conf" --mktun >/dev/null 2>&1 || return 1
	G ip link set nat64 up
	G ip addr add 192.168.255.254 dev nat64
	G ip -6 addr add 2001:db8:1:fffe::1 dev nat64
	G ip route add 192.168.255.0/24 dev nat64
	G ip -6 route add 64:ff9b::/96 dev nat64
	G ip -6 route add 2001:db8:1:ffff::/64 dev nat64
	G nft add rule ip lab forward iifname nat64 oifname nat-out counter accept
	G nft add rule ip6 lab6 forward iifname nat-in oifname nat64 counter accept
	G setsid tayga --config "$WORK/tayga.conf" --nodetach </dev/null >"$WORK/tayga.log" 2>&1 &
	sleep 0.5
}

case_ping() {
	local out
	out=$(C ping -6 -c 3 -i 0.2 -W 2 -q $SRV6 2>&1)
	DETAIL="$SRV6: $(echo "$out" | grep -o '[0-9.]*% packet loss')"
	echo "$out" | grep -q ' 0% packet loss' || { REASON="ping -6 through NAT64 lost packets"; return 1; }
}

case_http_download() {
	local want got
	want=$(cat "$STATE/blob.sha256")
	C curl -6 -sS --max-time 30 -o "$WORK/dl.bin" "http://[$SRV6]/blob.bin" 2>"$WORK/curl.err" ||
		{ REASON="curl failed: $(head -c 200 "$WORK/curl.err")"; return 1; }
	got=$(sha256sum "$WORK/dl.bin" | cut -d' ' -f1)
	DETAIL="$LAB_BLOB_MB MB, sha256 ${got:0:16}"
	[ "$got" = "$want" ] || { REASON="sha256 mismatch"; return 1; }
}

case_pmtud_upload() {
	local f="$WORK/up.bin" want got mtu
	head -c $((1024 * 1024)) /dev/urandom >"$f"
	want="$(sha256sum "$f" | cut -d' ' -f1) $((1024 * 1024))"
	got=$(C timeout 30 curl -6 -sS --max-time 25 -T "$f" "http://[$SRV6]/upload" 2>&1)
	mtu=$(C ip -6 route get $SRV6 | grep -o 'mtu [0-9]*')
	DETAIL="1 MB PUT, client route: ${mtu:-no PMTU learnt}"
	[ "$got" = "$want" ] || { REASON="upload through the 1280-byte IPv4 link failed (got \
'${got:0:60}'; a stall: fragmentation needed did not come back as Packet Too Big)"; return 1; }
	[ -n "$mtu" ] || { REASON="the client learnt no path MTU"; return 1; }
}

case_udp_echo() {
	local out
	out=$(C $PY - "$SRV6" <<-'PY' 2>&1
	import socket, sys
	s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
	s.settimeout(2)
	ok = 0
	for i in range(5):
	    p = b"nat64-udp-%d" % i
	    s.sendto(p, (sys.argv[1], 7))
	    try:
	        d, _ = s.recvfrom(2000)
	    except socket.timeout:
	        continue
	    parts = d.split(b" ", 2)
	    if len(parts) == 3 and parts[0] == b"ECHO" and parts[2] == p:
	        ok += 1
	        seen = parts[1].decode()
	print(ok, seen if ok else "-")
	PY
	)
	DETAIL="echoed $(echo "$out" | cut -d' ' -f1)/5, server saw $(echo "$out" | cut -d' ' -f2)"
	[ "$(echo "$out" | cut -d' ' -f1)" = 5 ] || { REASON="UDP echo through NAT64: $out"; return 1; }
	# the server saw the IPv4 NAT44 source, not a shadow or pool-less address
	echo "$out" | grep -q '10\.0\.2\.1' || { REASON="server saw $out, not 10.0.2.1"; return 1; }
}

case_udp_refused() {
	local out
	out=$(C $PY - "$SRV6" <<-'PY' 2>&1
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
	DETAIL="closed UDP port 9: $out"
	# the server's ICMP port unreachable came back (RELATED) as ICMPv6 port unreachable
	[ "$out" = refused ] || { REASON="no ICMPv6 port unreachable reached the client"; return 1; }
}

echo "== e2e nat64: mode $mode$([ "$mode" = natgw ] && echo ", pmd $pmd, $workers worker(s)") =="
T0=$(date +%s)
if [ "$mode" = natgw ]; then
	natgw_config || { echo "0 passed, 1 failed"; exit 1; }
fi
if ! upout=$(bash "$LAB" up --mode "$mode" --pmd "$pmd" --workers "$workers" --ipv6 2>&1); then
	echo "$upout" | tail -n 20
	echo "FAIL lab-up: the lab did not come up with --ipv6 in mode $mode"
	echo "0 passed, 1 failed"
	exit 1
fi
# the server's global-looking address (see the top), behind the router's 1280-byte link
ip -n lab-server addr add $SRV4/32 dev lo
ip -n lab-router route add $SRV4/32 via 10.0.3.10
# what the server sends to the uplink (10.0.2.0/24: the NAT44 address) leaves from it too
# (the UDP echo answers from an unbound socket: its source is the route's)
ip -n lab-server route add 10.0.2.0/24 via 10.0.3.254 src $SRV4 advmss 1460
if [ "$mode" = kernel ] && ! tayga_up; then
	echo "FAIL tayga: could not start tayga in lab-gw ($(tail -c 300 "$WORK/tayga.log" 2>/dev/null))"
	echo "0 passed, 1 failed"
	exit 1
fi
# the gateway's MAC: neighbour discovery for 2001:db8:1::1 is the IPv6 side's (gw_nd.c);
# where it does not answer, a static entry lets the NAT64 cases run (said in the output)
if ! C ping -6 -c 1 -W 2 -q $SRV6 >/dev/null 2>&1 &&
   ! C ip -6 neigh show 2001:db8:1::1 | grep -q lladdr; then
	mac=$(G cat /sys/class/net/nat-in/address)
	C ip -6 neigh replace 2001:db8:1::1 lladdr "$mac" dev eth0 nud permanent
	echo "note: no neighbour advertisement for 2001:db8:1::1: static entry $mac on the client"
fi
run_case nat64-ping case_ping
run_case nat64-http-download case_http_download
run_case nat64-pmtud-upload case_pmtud_upload
run_case nat64-udp-echo case_udp_echo
run_case nat64-udp-refused case_udp_refused
if [ "$mode" = natgw ]; then
	/usr/bin/python3 "$top/tools/lab/natgw_tel.py" raw /natgw/nat64 2>/dev/null | head -c 600
	echo
fi
if [ "$mode" = natgw ] && ! natgw_alive; then
	failed=$((failed + 1))
	echo "FAIL run: natgw exited: $(tail -n 5 "$STATE/logs/natgw.log" | tr '\n' ' ')"
fi
if [ "$mode" = natgw ] && [ $keep = 0 ]; then
	bash "$LAB" down >/dev/null 2>&1
	echo "-- natgw's log (final counters) --"
	tail -n 30 "$STATE.last/logs/natgw.log" 2>/dev/null
fi
echo "(e2e nat64 took $(( $(date +%s) - T0 )) s)"
echo "$passed passed, $failed failed"
[ $failed = 0 ]

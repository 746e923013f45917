#!/usr/bin/env bash
# natgw end-to-end: a hand-written ruleset (tests/e2e/rules.nft) in the namespace lab
# (tools/lab/lab.sh), the same cases against natgw ([filter] rules) and against the Linux
# kernel (nft in lab-gw: the same file with iif inside/outside as iifname "nat-in"/"nat-out",
# DNAT for the same two port forwards, nf_conntrack_tcp_loose=0 as natgw's tcp_loose = no),
# which must give the same results:
#   ssh-allowed      lab-server -> 10.0.2.1:2222 (forward to lab-svc 10.0.1.20:22): connects
#   ssh-other-host   lab-server -> 10.0.2.1:2223 (forward to lab-client 10.0.1.10:22): dropped
#   forward-not-ssh  lab-server -> 10.0.2.1:8080 (the lab's web forward, port 80): dropped
#   outbound-http    lab-client -> lab-server:80 (GET): passes
#   smtp-rejected    lab-client -> lab-server:25: refused at once (the gateway's TCP RST,
#                    captured on the client side: from 10.0.3.10:25, RST+ACK)
#   invalid-counted  lab-client sends 3 lone TCP ACKs to lab-server:80 (no connection): none
#                    reaches the server; the invalid rule's counter says 3 (natgw:
#                    tools/natgw_rules.py list over telemetry; kernel: nft list ruleset) and
#                    the log has the prefix (natgw's log; kernel: dmesg, if netns logging on)
#   ssh-counter      the accept rule of the SSH forward counted the allowed connection
#   ping-gateway     lab-client pings natgw's inside address (input chain)
# Prints "PASS name (detail)" or "FAIL name: reason" per case and, as the last line,
# "N passed, N failed"; exits non-zero on any failure; always tears the lab down.
#
#   tests/e2e/rules.sh [--mode natgw|kernel] [--pmd af_packet|af_xdp] [--workers 1|2] [--keep]
#
# Run it as every lab command: flock /run/natgw-lab.lock bash tests/e2e/rules.sh
set -uo pipefail
. "$(dirname "$0")/lib.sh"	# here, top, LAB, STATE, PY; pass, fail, run_case
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
	-h|--help) sed -n '2,27p' "$0"; exit 0 ;;
	*) echo "rules.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
case "$mode" in natgw|kernel) ;; *) echo "rules.sh: --mode natgw or kernel" >&2; exit 2 ;; esac
export LAB_BLOB_MB=1
WORK=$(mktemp -d /tmp/natgw-e2e-rules.XXXXXX)
RULES="$here/rules.nft"

LOG_NETNS=""
cleanup() {
	[ -z "$LOG_NETNS" ] || sysctl -qw net.netfilter.nf_log_all_netns="$LOG_NETNS" 2>/dev/null
	[ $keep = 1 ] || bash "$LAB" down >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

C() { ip netns exec lab-client "$@"; }
S() { ip netns exec lab-server "$@"; }
G() { ip netns exec lab-gw "$@"; }


# TCP connect from a namespace: prints "connected", "refused", "timeout" or the error
tcp_try() { # NS HOST PORT [TIMEOUT]
	ip netns exec "$1" $PY - "$2" "$3" "${4:-3}" <<-'PYEOF'
	import socket, sys, time
	s = socket.socket()
	s.settimeout(float(sys.argv[3]))
	t = time.time()
	try:
	    s.connect((sys.argv[1], int(sys.argv[2])))
	    print("connected %.2f" % (time.time() - t))
	except ConnectionRefusedError:
	    print("refused %.2f" % (time.time() - t))
	except socket.timeout:
	    print("timeout")
	except OSError as e:
	    print("error", e)
	PYEOF
}

# the invalid rule's counter (packets) and the SSH accept rule's, as the gateway lists them
rule_packets() { # PATTERN (a unique part of the rule's text)
	local list
	if [ "$mode" = natgw ]; then
		list=$($PY "$top/tools/natgw_rules.py" -p natgw-lab list 2>&1)
	else
		list=$(G nft list table inet natgw 2>&1)
	fi
	echo "$list" >"$WORK/list.txt"
	echo "$list" | grep -F -- "$1" | grep -o 'counter packets [0-9]*' | head -n 1 |
		awk '{print $3}'
}

# ---------------------------------------------------------------------------------------------
case_ssh_allowed() {
	local r
	r=$(tcp_try lab-server 10.0.2.1 2222)
	DETAIL="10.0.2.1:2222 -> 10.0.1.20:22: $r"
	[[ $r == connected* ]] || { REASON="the allowed SSH forward did not connect"; return 1; }
}

case_ssh_other_host() {
	local r
	r=$(tcp_try lab-server 10.0.2.1 2223 2)
	DETAIL="10.0.2.1:2223 -> 10.0.1.10:22: $r"
	[ "$r" = timeout ] || { REASON="SSH to the other inside host was not dropped"; return 1; }
}

case_forward_not_ssh() {
	local r
	r=$(tcp_try lab-server 10.0.2.1 8080 2)
	DETAIL="10.0.2.1:8080 -> 10.0.1.20:80: $r"
	[ "$r" = timeout ] || { REASON="a forward to a port other than 22 was not dropped"; return 1; }
}

case_outbound_http() {
	local got
	got=$(C curl -sS --max-time 5 http://10.0.3.10/small.txt 2>&1)
	DETAIL="GET small.txt: ${got:0:40}"
	[ "$got" = "natgw-lab server small" ] || { REASON="outbound HTTP failed"; return 1; }
}

case_smtp_rejected() {
	local r rst
	ip netns exec lab-client tcpdump -i eth0 -n -U --immediate-mode -w "$WORK/rst.pcap" 'tcp port 25' \
		2>"$WORK/rst.err" &
	local cap=$!
	for _ in $(seq 1 40); do grep -q listening "$WORK/rst.err" 2>/dev/null && break; sleep 0.05; done
	r=$(tcp_try lab-client 10.0.3.10 25 3)
	sleep 0.3
	kill -INT $cap 2>/dev/null; wait $cap 2>/dev/null
	rst=$(tcpdump -r "$WORK/rst.pcap" -n 2>/dev/null | grep -c '10.0.3.10.25 > 10.0.1.10.*Flags \[R\.\]')
	DETAIL="connect to 10.0.3.10:25: $r, RST+ACK from 10.0.3.10:25 seen $rst"
	[[ $r == refused* ]] || { REASON="SMTP was not refused"; return 1; }
	[ "$rst" -ge 1 ] || { REASON="no RST from the server's address on the client's wire"; return 1; }
}

case_invalid_counted() {
	local before after logged=no klog0
	before=$(rule_packets 'ct state invalid')
	klog0=$(dmesg 2>/dev/null | grep -c 'natgw-invalid: ')
	ip netns exec lab-server tcpdump -i eth0 -n -U --immediate-mode -w "$WORK/inv.pcap" 'tcp port 80 and tcp[13] == 16' \
		2>"$WORK/inv.err" &
	local cap=$!
	for _ in $(seq 1 40); do grep -q listening "$WORK/inv.err" 2>/dev/null && break; sleep 0.05; done
	C $PY - <<-'PYEOF'
	from scapy.all import IP, TCP, send, conf
	conf.verb = 0
	for i in range(3):
	    send(IP(dst="10.0.3.10") / TCP(sport=40100 + i, dport=80, flags="A", seq=1000, ack=2000))
	PYEOF
	sleep 0.5
	kill -INT $cap 2>/dev/null; wait $cap 2>/dev/null
	local arrived
	arrived=$(tcpdump -r "$WORK/inv.pcap" -n 2>/dev/null | wc -l)
	after=$(rule_packets 'ct state invalid')
	if [ "$mode" = natgw ]; then
		grep -q 'natgw: rules: natgw-invalid: IN=inside OUT=outside SRC=10.0.1.10' \
			"$STATE/logs/natgw.log" && logged=yes
	else
		[ "$(dmesg 2>/dev/null | grep -c 'natgw-invalid: ')" -ge $((klog0 + 3)) ] && logged=yes
		[ "$(cat /proc/sys/net/netfilter/nf_log_all_netns 2>/dev/null)" = 1 ] || logged="n/a"
	fi
	DETAIL="counter ${before:-?} -> ${after:-?}, arrived at the server $arrived, logged $logged"
	[ "$arrived" = 0 ] || { REASON="an invalid segment reached the server"; return 1; }
	[ -n "$after" ] && [ $((after - ${before:-0})) = 3 ] ||
		{ REASON="the invalid rule did not count 3 packets ($(head -c 300 "$WORK/list.txt"))"; return 1; }
	[ "$logged" != no ] || { REASON="no log line with the prefix"; return 1; }
}

case_ssh_counter() {
	local n
	n=$(rule_packets 'tcp dport 22')
	DETAIL="SSH accept rule: ${n:-?} packets"
	[ "${n:-0}" = 1 ] || { REASON="want 1 (the SYN of the allowed connection; established
packets are accepted by the first rule)"; return 1; }
}

case_ping_gateway() {
	C ping -c 2 -i 0.2 -W 2 -q 10.0.1.1 >/dev/null 2>&1 || { REASON="no echo reply"; return 1; }
	DETAIL="10.0.1.1 answers"
}

# ---------------------------------------------------------------------------------------------
# the lab, with the ruleset
if [ "$mode" = natgw ]; then
	cfg="$WORK/lab-rules.ini"
	sed -e '/^\[forward\]/a ssh1 = tcp 10.0.2.1:2222 -> 10.0.1.20:22\nssh2 = tcp 10.0.2.1:2223 -> 10.0.1.10:22' \
	    -e '/^\[conntrack\]/a tcp_loose = no' "$top/config/lab.ini" >"$cfg"
	printf '\n[filter]\nrules = %s\n' "$RULES" >>"$cfg"
	if ! NATGW_CONFIG="$cfg" LAB_PMD=$pmd LAB_WORKERS=$workers bash "$LAB" up --mode natgw \
		--pmd "$pmd" --workers "$workers" >"$WORK/up.log" 2>&1; then
		echo "FAIL lab: up failed: $(tail -n 5 "$WORK/up.log" | tr '\n' ' ')"
		echo "0 passed, 1 failed"; exit 1
	fi
else
	if ! bash "$LAB" up --mode kernel >"$WORK/up.log" 2>&1; then
		echo "FAIL lab: up failed: $(tail -n 5 "$WORK/up.log" | tr '\n' ' ')"
		echo "0 passed, 1 failed"; exit 1
	fi
	# the lab's own filter chains out, this ruleset in; DNAT for the two SSH forwards
	G nft delete chain ip lab forward
	G nft delete chain ip lab input
	G nft add rule ip lab prerouting ip daddr 10.0.2.1 tcp dport 2222 dnat to 10.0.1.20:22
	G nft add rule ip lab prerouting ip daddr 10.0.2.1 tcp dport 2223 dnat to 10.0.1.10:22
	sed -e 's/iif inside/iifname "nat-in"/g' -e 's/iif outside/iifname "nat-out"/g' "$RULES" \
		>"$WORK/kernel.nft"
	G nft -f "$WORK/kernel.nft" || { echo "FAIL lab: the kernel refused the ruleset"; \
		echo "0 passed, 1 failed"; exit 1; }
	G sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
	# the kernel logs from a namespace only with this on: on for the run, restored after
	LOG_NETNS=$(cat /proc/sys/net/netfilter/nf_log_all_netns 2>/dev/null || echo "")
	sysctl -qw net.netfilter.nf_log_all_netns=1 2>/dev/null || true
fi
# SSH stand-ins (any TCP service on port 22) on both inside hosts
ip netns exec lab-svc setsid $PY -u "$top/tools/lab/labsrv.py" http --port 22 \
	--dir "$STATE/www-svc" </dev/null >"$WORK/ssh-svc.log" 2>&1 &
echo $! >"$WORK/ssh-svc.pid"
ip netns exec lab-client setsid $PY -u "$top/tools/lab/labsrv.py" http --port 22 \
	--dir "$STATE/www-svc" </dev/null >"$WORK/ssh-client.log" 2>&1 &
echo $! >"$WORK/ssh-client.pid"
for _ in $(seq 1 20); do
	ip netns exec lab-svc ss -ltn | grep -q ':22 ' &&
		ip netns exec lab-client ss -ltn | grep -q ':22 ' && break
	sleep 0.25
done

run_case ssh-allowed case_ssh_allowed
run_case ssh-other-host case_ssh_other_host
run_case forward-not-ssh case_forward_not_ssh
run_case outbound-http case_outbound_http
run_case smtp-rejected case_smtp_rejected
run_case invalid-counted case_invalid_counted
run_case ssh-counter case_ssh_counter
run_case ping-gateway case_ping_gateway
kill "$(cat "$WORK/ssh-svc.pid")" "$(cat "$WORK/ssh-client.pid")" 2>/dev/null
if ! natgw_alive; then
	failed=$((failed + 1))
	echo "FAIL run: natgw exited"
fi
echo "$passed passed, $failed failed"
[ $failed = 0 ]

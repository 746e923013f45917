#!/usr/bin/env bash
# natgw namespace lab: real hosts in network namespaces joined by veth pairs, with natgw (or,
# to prove the tests, the Linux kernel's own NAT) as the gateway between inside and outside.
#
#   lab.sh up [--mode natgw|kernel] [--pmd af_packet|af_xdp] [--workers 1|2]
#                                     build the lab (tears down what is left of an old one first);
#                                     --pmd/--workers: natgw's ports and worker lcores
#   lab.sh down                       remove every namespace, veth and process it started
#                                     (idempotent; safe after any failure)
#   lab.sh status                     what is up
#   lab.sh conntrack                  the gateway's connection table (natgw: tools/natgw-conntrack
#                                     or DPDK telemetry; kernel: conntrack -L in lab-gw)
#   lab.sh stats                      the gateway's counters (natgw: telemetry; kernel: nft)
#
#   lab-client 10.0.1.10 ─┐                              1500            1280 (PMTUD)
#   lab-svc    10.0.1.20 ─┼─ lab-sw (bridge) ─ nat-in ┤lab-gw├ nat-out ── lab-router ──── lab-server
#                         │                   10.0.1.1        10.0.2.1   .2.254 .3.254   10.0.3.10
#
# lab-gw holds nat-in and nat-out. --mode natgw: natgw runs in lab-gw on net_af_packet (default)
# or net_af_xdp (--pmd af_xdp) over them, with 1 (default) or 2 worker lcores (--workers 2;
# the lab machine may have 2 CPUs: workers share them with the clients, idle back-off on);
# the kernel there has no addresses and no forwarding; --mode kernel: lab-gw forwards
# with nftables masquerade, ESTABLISHED/RELATED filtering and the same port forward
# (10.0.2.1:8080 -> 10.0.1.20:80). lab-router has no route to 10.0.1.0/24, so packets that
# were not NATed die there. The router-server link has MTU 1280 while the server advertises
# MSS 1460, so uploads need PMTUD through the gateway. lab-server runs HTTP (:80, GET and PUT),
# a UDP echo (:7) and iperf3 (:5201); lab-svc runs HTTP (:80).
#
# net_af_packet joins the kernel's fanout group with its defragment flag: natgw gets datagrams
# that arrived fragmented already reassembled by the kernel, up to the PMD's frame size, so the
# lab gives it 8 KiB frames (framesz/blocksz; natgw sizes its mbufs from framesz). net_af_xdp
# gets every fragment as it is and natgw reassembles (libxdp's "No bpffs found" is harmless).
# Environment: NATGW (natgw binary, default build/app/natgw), NATGW_CONFIG (default
# config/lab.ini if it exists, else one written to the state dir), LAB_PMD and LAB_WORKERS
# (defaults for --pmd and --workers), LAB_AFP_ARGS / LAB_XDP_ARGS (the PMDs' devargs after
# iface=; af_packet default blocksz=8192,framesz=8192,framecnt=512), NATGW_EAL (EAL options,
# replaces the lcore choice),
# NATGW_ARGS (extra natgw options), LAB_UDP_TIMEOUT (seconds, default 10), LAB_BLOB_MB
# (size of the server's random file, default 8). State, logs and PIDs: /run/natgw-lab.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
STATE=${LAB_STATE:-/run/natgw-lab}
PY=/usr/bin/python3
NATGW=${NATGW:-build/app/natgw}
case "$NATGW" in /*) ;; *) NATGW="$top/$NATGW" ;; esac
LAB_UDP_TIMEOUT=${LAB_UDP_TIMEOUT:-10}
LAB_BLOB_MB=${LAB_BLOB_MB:-8}
NSS=(lab-client lab-svc lab-sw lab-gw lab-router lab-server)

log() { echo "lab: $*" >&2; }
die() { log "error: $*"; exit 1; }
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# start NAME NS CMD...: run CMD in namespace NS in the background, its own session, with its
# log in $STATE/logs/NAME.log and its PID in $STATE/pids/NAME.pid
start() {
	local name=$1 ns=$2; shift 2
	ip netns exec "$ns" setsid "$@" </dev/null >"$STATE/logs/$name.log" 2>&1 &
	echo $! >"$STATE/pids/$name.pid"
	disown $!
}

# veth A_NS A_IF B_NS B_IF [MTU]: a veth pair, one end in each namespace, offloads off (net_af_packet
# would otherwise see unfinished checksums and 64 KB GSO/GRO super-frames; the same settings in
# both modes keep the kernel-vs-natgw comparison fair)
veth() {
	local an=$1 ai=$2 bn=$3 bi=$4 mtu=${5:-1500}
	ip -n "$an" link add "$ai" mtu "$mtu" type veth peer name "$bi" netns "$bn" mtu "$mtu"
	nsx "$an" ethtool -K "$ai" rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
	nsx "$bn" ethtool -K "$bi" rx off tx off tso off gso off gro off >/dev/null 2>&1 || true
	ip -n "$an" link set "$ai" up
	ip -n "$bn" link set "$bi" up
}

ns_sysctl() { local ns=$1; shift; for kv in "$@"; do nsx "$ns" sysctl -qw "$kv" >/dev/null; done; }

write_config() { # the lab's natgw config (docs/config.md), when config/lab.ini does not exist
	cat >"$1" <<-INI
	; natgw lab configuration (written by tools/lab/lab.sh)
	[ports]
	inside  = net_af_packet0
	outside = net_af_packet1

	[inside]
	address = 10.0.1.1/24
	mtu     = 1500

	[outside]
	address = 10.0.2.1/24
	gateway = 10.0.2.254
	mtu     = 1500

	[nat]
	ports   = 1024-65535
	hairpin = yes

	[forward]
	web = tcp 10.0.2.1:8080 -> 10.0.1.20:80

	[conntrack]
	capacity = 16384
	timeout.udp_unreplied = $LAB_UDP_TIMEOUT
	timeout.udp_replied   = $LAB_UDP_TIMEOUT
	timeout.udp_assured   = $LAB_UDP_TIMEOUT

	[helpers]
	ftp  = 21
	tftp = 69

	[workers]
	idle_sleep_us  = 50
	stats_interval = 0
	INI
}

gw_kernel() {
	ip -n lab-gw addr add 10.0.1.1/24 dev nat-in
	ip -n lab-gw addr add 10.0.2.1/24 dev nat-out
	ip -n lab-gw route add default via 10.0.2.254
	ns_sysctl lab-gw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 \
		net.ipv4.conf.nat-in.send_redirects=0 net.ipv4.icmp_ratelimit=0
	nsx lab-gw nft -f - <<-'NFT'
	table ip lab {
		chain prerouting {
			type nat hook prerouting priority dstnat;
			ip daddr 10.0.2.1 tcp dport 8080 counter dnat to 10.0.1.20:80
		}
		chain postrouting {
			type nat hook postrouting priority srcnat;
			oifname "nat-out" counter masquerade
			ip saddr 10.0.1.0/24 ip daddr 10.0.1.0/24 ct status dnat counter masquerade
		}
		chain forward {
			type filter hook forward priority filter; policy drop;
			ct state established,related counter accept
			iifname "nat-in" oifname "nat-out" counter accept
			ct status dnat counter accept
			counter
		}
		chain input {
			type filter hook input priority filter; policy drop;
			ct state established,related accept
			iifname { "lo", "nat-in" } accept
			counter
		}
	}
	NFT
	# conntrack (loaded by the ruleset): short UDP timeouts for the expiry case, accounting
	# so the listing can be compared with what was sent
	ns_sysctl lab-gw net.netfilter.nf_conntrack_acct=1 \
		net.netfilter.nf_conntrack_udp_timeout="$LAB_UDP_TIMEOUT" \
		net.netfilter.nf_conntrack_udp_timeout_stream="$LAB_UDP_TIMEOUT"
}

gw_natgw() {
	[ -x "$NATGW" ] || die "natgw binary $NATGW not found (set NATGW=...)"
	local cfg=${NATGW_CONFIG:-}
	if [ -z "$cfg" ]; then
		if [ -f "$top/config/lab.ini" ]; then cfg="$top/config/lab.ini"
		else cfg="$STATE/lab.ini"; write_config "$cfg"; fi
	fi
	echo "$cfg" >"$STATE/config"
	ns_sysctl lab-gw net.ipv4.ip_forward=0
	# EAL: no hugepages needed, own file prefix (telemetry socket under
	# /var/run/dpdk/natgw-lab), main lcore 0 + one worker on CPU 1, or two workers on CPUs
	# 1 and 0 (lcore@cpu: runs on a 2-CPU machine)
	local lcores
	case "$LAB_WORKERS" in
	1) lcores="-l 0,1" ;;
	2) lcores="--lcores 0@0,1@1,2@0" ;;
	*) die "--workers: 1 or 2, not $LAB_WORKERS" ;;
	esac
	local eal=${NATGW_EAL:-"$lcores --no-huge -m 1024 --no-pci --file-prefix natgw-lab"}
	local t=$LAB_UDP_TIMEOUT vdev
	case "$LAB_PMD" in
	af_packet)
		# 8 KiB frames: the kernel's reassembled datagrams (fanout defrag) fit whole
		local fa=${LAB_AFP_ARGS-blocksz=8192,framesz=8192,framecnt=512}
		fa=${fa:+,$fa}
		vdev="--vdev net_af_packet0,iface=nat-in$fa --vdev net_af_packet1,iface=nat-out$fa --
			--inside net_af_packet0 --outside net_af_packet1" ;;
	af_xdp)
		local xa=${LAB_XDP_ARGS:+,$LAB_XDP_ARGS}
		vdev="--vdev net_af_xdp0,iface=nat-in$xa --vdev net_af_xdp1,iface=nat-out$xa --
			--inside net_af_xdp0 --outside net_af_xdp1" ;;
	*) die "--pmd: af_packet or af_xdp, not $LAB_PMD" ;;
	esac
	echo "$LAB_PMD" >"$STATE/pmd"
	echo "$LAB_WORKERS" >"$STATE/workers"
	# shellcheck disable=SC2086
	start natgw lab-gw "$NATGW" $eal $vdev \
		--config "$cfg" --idle-sleep-us 50 --timeout udp_unreplied="$t" \
		--timeout udp_replied="$t" --timeout udp_assured="$t" ${NATGW_ARGS:-}
}

wait_ready() { # the gateway forwards: the client reaches the server
	local pid
	for _ in $(seq 1 60); do
		if nsx lab-client ping -c1 -W1 -q 10.0.3.10 >/dev/null 2>&1; then return 0; fi
		if [ -f "$STATE/pids/natgw.pid" ]; then
			pid=$(cat "$STATE/pids/natgw.pid")
			kill -0 "$pid" 2>/dev/null || { tail -n 30 "$STATE/logs/natgw.log" >&2;
				die "natgw exited during start-up (log above)"; }
		fi
		sleep 0.5
	done
	[ -f "$STATE/logs/natgw.log" ] && tail -n 30 "$STATE/logs/natgw.log" >&2
	die "client cannot reach the server through the gateway after 30 s"
}

up() {
	local mode=$1
	down quiet
	mkdir -p "$STATE/pids" "$STATE/logs" "$STATE/www-server" "$STATE/www-svc"
	echo "$mode" >"$STATE/mode"
	# shellcheck disable=SC2154
	trap 'rc=$?; if [ $rc -ne 0 ]; then log "up failed, tearing down"; down quiet; fi' EXIT
	local ns
	for ns in "${NSS[@]}"; do
		ip netns add "$ns"
		echo "$ns" >>"$STATE/netns"
		ip -n "$ns" link set lo up
		ns_sysctl "$ns" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	# inside segment: a bridge in lab-sw
	ip -n lab-sw link add br0 type bridge
	ip -n lab-sw link set br0 up
	veth lab-client eth0 lab-sw p-client
	veth lab-svc eth0 lab-sw p-svc
	veth lab-gw nat-in lab-sw p-gw
	for p in p-client p-svc p-gw; do ip -n lab-sw link set "$p" master br0; done
	ip -n lab-client addr add 10.0.1.10/24 dev eth0
	ip -n lab-client route add default via 10.0.1.1
	ip -n lab-svc addr add 10.0.1.20/24 dev eth0
	ip -n lab-svc route add default via 10.0.1.1
	# outside: gateway - router - (MTU 1280) - server
	veth lab-gw nat-out lab-router eth0
	veth lab-router eth1 lab-server eth0 1280
	ip -n lab-router addr add 10.0.2.254/24 dev eth0
	ip -n lab-router addr add 10.0.3.254/24 dev eth1
	ns_sysctl lab-router net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0
	ip -n lab-server addr add 10.0.3.10/24 dev eth0
	# advmss 1460 over a 1280 link: the client sends full-size segments, the router answers
	# with ICMP fragmentation-needed (RFC 1191), which must find its way back through NAT
	ip -n lab-server route add default via 10.0.3.254 advmss 1460
	ns_sysctl lab-server net.ipv4.icmp_ratelimit=0

	# services
	head -c "$((LAB_BLOB_MB * 1024 * 1024))" /dev/urandom >"$STATE/www-server/blob.bin"
	sha256sum "$STATE/www-server/blob.bin" | cut -d' ' -f1 >"$STATE/blob.sha256"
	echo "natgw-lab server small" >"$STATE/www-server/small.txt"
	echo "natgw-lab lab-svc 10.0.1.20" >"$STATE/www-svc/svc.txt"
	start server-http lab-server $PY -u "$here/labsrv.py" http --port 80 --dir "$STATE/www-server"
	start server-udpecho lab-server $PY -u "$here/labsrv.py" udpecho --port 7
	start server-iperf3 lab-server iperf3 -s -p 5201
	start svc-http lab-svc $PY -u "$here/labsrv.py" http --port 80 --dir "$STATE/www-svc"

	case "$mode" in
	kernel) gw_kernel ;;
	natgw) gw_natgw ;;
	*) die "unknown mode $mode" ;;
	esac
	wait_ready
	# servers listening?
	local _
	for _ in $(seq 1 20); do
		nsx lab-server ss -ltn | grep -q ':80 ' && nsx lab-server ss -ltn | grep -q ':5201 ' &&
			nsx lab-svc ss -ltn | grep -q ':80 ' && break
		sleep 0.25
	done
	trap - EXIT
	log "up ($mode)"
}

down() {
	local quiet=${1:-} f pid ns
	if [ -d "$STATE/pids" ]; then
		for f in "$STATE"/pids/*.pid; do
			[ -f "$f" ] || continue
			pid=$(cat "$f")
			# natgw prints its final counters on SIGINT; the rest get SIGTERM (a background job
			# of a script starts with SIGINT ignored)
			if [ "$(basename "$f")" = natgw.pid ]; then kill -INT "$pid" 2>/dev/null || true
			else kill -TERM "$pid" 2>/dev/null || true; fi
		done
		for _ in $(seq 1 50); do
			local alive=0
			for f in "$STATE"/pids/*.pid; do
				[ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && alive=1
			done
			[ $alive = 0 ] && break
			sleep 0.1
		done
		for f in "$STATE"/pids/*.pid; do
			[ -f "$f" ] || continue
			pid=$(cat "$f")
			kill -KILL "$pid" 2>/dev/null || true
			rm -f "$f"
		done
	fi
	# anything else still running in our namespaces (clients of an interrupted test) was
	# started by the lab or its tests: end it by PID, then delete the namespaces (which
	# removes every veth and the bridge with them)
	for ns in "${NSS[@]}"; do
		ip netns list 2>/dev/null | grep -qw "^$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf /var/run/dpdk/natgw-lab
	if [ -d "$STATE" ]; then
		rm -rf "$STATE.last"; mkdir -p "$STATE.last"
		cp -a "$STATE/logs" "$STATE.last/" 2>/dev/null || true
		rm -rf "$STATE"
	fi
	[ "$quiet" = quiet ] || log "down"
}

status() {
	local ns f
	if [ -f "$STATE/mode" ]; then
		echo "mode: $(cat "$STATE/mode")$([ -f "$STATE/pmd" ] &&
			echo " pmd $(cat "$STATE/pmd") workers $(cat "$STATE/workers")")"
	else echo "lab: down"; fi
	for ns in "${NSS[@]}"; do
		ip netns list 2>/dev/null | grep -qw "^$ns" || continue
		printf '%-11s %s\n' "$ns" "$(ip -n "$ns" -br -4 addr | grep -v '^lo' | tr -s ' ' | tr '\n' ';')"
	done
	for f in "$STATE"/pids/*.pid; do
		[ -f "$f" ] || continue
		local pid; pid=$(cat "$f")
		if kill -0 "$pid" 2>/dev/null; then echo "$(basename "$f" .pid): pid $pid running"
		else echo "$(basename "$f" .pid): pid $pid NOT running"; fi
	done
}

# natgw's control plane: its own CLI (tools/natgw-conntrack) if there is one, else its DPDK
# telemetry commands /natgw/conns, /natgw/stats, /natgw/drops (socket under
# /var/run/dpdk/natgw-lab; tools/lab/natgw_tel.py speaks the protocol)
tel() { $PY "$here/natgw_tel.py" raw "$1"; }
natgw_cli() {
	local c
	for c in "$top/tools/natgw-conntrack" "$(dirname "$NATGW")/../tools/natgw-conntrack"; do
		[ -x "$c" ] && { "$c" --file-prefix natgw-lab "$@"; return; }
	done
	return 127
}

conntrack_list() {
	case "$(cat "$STATE/mode" 2>/dev/null)" in
	kernel) nsx lab-gw conntrack -L 2>/dev/null ;;
	natgw) natgw_cli || tel /natgw/conns ;;
	*) echo "lab is down"; return 1 ;;
	esac
}

gw_stats() {
	case "$(cat "$STATE/mode" 2>/dev/null)" in
	kernel) nsx lab-gw nft list ruleset | grep counter; nsx lab-gw conntrack -S 2>/dev/null | head -n 4 ;;
	natgw) tel /natgw/stats; tel /natgw/drops ;;
	*) echo "lab is down"; return 1 ;;
	esac
}

cmd=${1:-}; shift || true
mode=natgw
LAB_PMD=${LAB_PMD:-af_packet}
LAB_WORKERS=${LAB_WORKERS:-1}
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) mode=$2; shift ;;
	--mode=*) mode=${1#--mode=} ;;
	--pmd) LAB_PMD=$2; shift ;;
	--pmd=*) LAB_PMD=${1#--pmd=} ;;
	--workers) LAB_WORKERS=$2; shift ;;
	--workers=*) LAB_WORKERS=${1#--workers=} ;;
	*) die "unknown option $1" ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
case "$cmd" in
up) up "$mode" ;;
down) down ;;
status) status ;;
conntrack) conntrack_list ;;
stats) gw_stats ;;
*) sed -n '2,37p' "$0"; exit 2 ;;
esac

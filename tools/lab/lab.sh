#!/usr/bin/env bash
# natgw namespace lab: real hosts in network namespaces joined by veth pairs, with natgw (or,
# to prove the tests, the Linux kernel's own NAT) as the gateway between inside and outside.
#
#   lab.sh up [--mode natgw|kernel] [--pmd af_packet|af_xdp] [--workers 1|2]
#             [--vlan] [--stick] [--mtu N] [--ipv6]
#                                     build the lab (tears down what is left of an old one first);
#                                     --pmd/--workers: natgw's ports and worker lcores;
#                                     --vlan: nat-in's far end is a trunk with VLAN 10 to the
#                                     inside bridge, nat-out's one with VLAN 20 to lab-router
#                                     (natgw: [inside] vlan 10, [outside] vlan 20; the kernel
#                                     here has no 8021q, tools/lab/vlansw.py switches); --stick:
#                                     one veth trunk nat-trunk to lab-sw carries both (VLAN 10
#                                     to the inside bridge, VLAN 20 to lab-router), natgw's
#                                     two sides on one port; --mtu N: the inside and
#                                     uplink links (not the router-server one, 1280) and
#                                     natgw's mtu are N (natgw
#                                     mode only for --vlan/--stick); --ipv6: IPv6 beside
#                                     IPv4, routed (see lab_ipv6)
#   lab.sh down                       remove every namespace, veth and process it started
#                                     (idempotent; safe after any failure)
#   lab.sh status                     what is up
#   lab.sh conntrack                  the gateway's connection table (natgw: tools/natgw-conntrack
#                                     or DPDK telemetry; kernel: conntrack -L in lab-gw)
#   lab.sh stats                      the gateway's counters (natgw: telemetry; kernel: nft)
#   lab.sh restart-natgw [ARGS...]    stop only natgw (SIGTERM: it saves its sessions when
#                                     started with --save, NATGW_ARGS="--save FILE") and start
#                                     it again, same command line plus natgw options ARGS
#                                     (--restore FILE); the rest of the lab stays up;
#                                     LAB_RESTART_WORKERS=1|2: with that many workers
#
#   lab-client 10.0.1.10 ─┐                              1500            1280 (PMTUD)
#   lab-svc    10.0.1.20 ─┼─ lab-sw (bridge) ─ nat-in ┤lab-gw├ nat-out ── lab-router ──── lab-server
#                         │                   10.0.1.1        10.0.2.1   .2.254 .3.254   10.0.3.10
#
# lab-gw holds nat-in and nat-out. --mode natgw: natgw runs in lab-gw on net_af_xdp (default;
# net_af_packet for --mtu over 3000) or net_af_packet (--pmd af_packet) over them, with 1
# (default) or 2 worker lcores (--workers 2; the lab machine may have 2 CPUs: workers share
# them with the clients, idle back-off on);
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
	accounting = yes
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
	if [ -n "$LAB_VLAN$LAB_STICK$LAB_MTU" ]; then
		l2_config "$cfg" "$STATE/lab-l2.ini"
		cfg="$STATE/lab-l2.ini"
	fi
	if [ -n "${LAB_IPV6:-}" ]; then	# --ipv6: natgw's IPv6 keys (lab_ipv6)
		sed -e '/^\[inside\]/a address6 = 2001:db8:1::1/64' \
		    -e '/^\[inside\]/a routes6  = 2001:db8:100::/56 via 2001:db8:1::20' \
		    -e '/^\[outside\]/a address6 = 2001:db8:2::2/64' \
		    -e '/^\[outside\]/a gateway6 = 2001:db8:2::1' "$cfg" >"$STATE/lab-ip6.ini"
		cfg="$STATE/lab-ip6.ini"
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
	local eal=${NATGW_EAL:-"$lcores $(lab_mem) --no-pci --file-prefix natgw-lab"}
	local t=$LAB_UDP_TIMEOUT vdev
	case "$LAB_PMD" in
	af_packet)
		# 8 KiB frames: the kernel's reassembled datagrams (fanout defrag) fit whole
		local fa=${LAB_AFP_ARGS-blocksz=8192,framesz=8192,framecnt=512}
		fa=${fa:+,$fa}
		# jumbo frames (--mtu over 8000): frames of 16 KiB
		[ "${LAB_MTU:-0}" -gt 8000 ] && [ -z "${LAB_AFP_ARGS+x}" ] &&
			fa=blocksz=16384,framesz=16384,framecnt=512
		fa=${fa:+,$fa}
		vdev="--vdev net_af_packet0,iface=nat-in$fa --vdev net_af_packet1,iface=nat-out$fa --
			--inside net_af_packet0 --outside net_af_packet1"
		[ -n "$LAB_STICK" ] && vdev="--vdev net_af_packet0,iface=nat-trunk$fa --
			--inside net_af_packet0 --outside net_af_packet0" ;;
	af_xdp)
		local xa=${LAB_XDP_ARGS:+,$LAB_XDP_ARGS}
		vdev="--vdev net_af_xdp0,iface=nat-in$xa --vdev net_af_xdp1,iface=nat-out$xa --
			--inside net_af_xdp0 --outside net_af_xdp1"
		[ -n "$LAB_STICK" ] && vdev="--vdev net_af_xdp0,iface=nat-trunk$xa --
			--inside net_af_xdp0 --outside net_af_xdp0" ;;
	*) die "--pmd: af_packet or af_xdp, not $LAB_PMD" ;;
	esac
	echo "$LAB_PMD" >"$STATE/pmd"
	echo "$LAB_WORKERS" >"$STATE/workers"
	# shellcheck disable=SC2086,SC2206
	local argv=("$NATGW" $eal $vdev \
		--config "$cfg" --idle-sleep-us 50 --timeout udp_unreplied="$t" \
		--timeout udp_replied="$t" --timeout udp_assured="$t" ${NATGW_ARGS:-})
	printf '%s\0' "${argv[@]}" >"$STATE/natgw.argv"	# for restart-natgw
	start natgw lab-gw "${argv[@]}"
}

# natgw's memory: 2 MiB hugepages when 512 of them (1 GiB) can be reserved (and hugetlbfs
# mounted on /dev/hugepages), so that DPDK secondary processes (dpdk-dumpcap, dpdk-proc-info)
# can attach to it; else --no-huge, and they cannot ("is primary process running?").
# LAB_HUGE=0: never. Says which in the log and in $STATE/memory; pages reserved here are
# given back by down.
lab_mem() {
	local hp=/sys/kernel/mm/hugepages/hugepages-2048kB need=512 free nr
	if [ "${LAB_HUGE:-1}" != 0 ] && [ -d "$hp" ]; then
		free=$(cat "$hp/free_hugepages")
		nr=$(cat "$hp/nr_hugepages")
		if [ "$free" -lt $need ]; then
			echo "$nr" >"$STATE/hugepages.orig"
			echo $((nr + need - free)) >"$hp/nr_hugepages" 2>/dev/null || true
		fi
		mkdir -p /dev/hugepages
		mountpoint -q /dev/hugepages ||
			mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
		free=$(cat "$hp/free_hugepages")
		if [ "$free" -ge $need ] && mountpoint -q /dev/hugepages; then
			echo hugepages >"$STATE/memory"
			log "natgw memory: 1 GiB of 2 MiB hugepages (dpdk-dumpcap, dpdk-proc-info can attach)"
			echo "-m 1024 --huge-dir /dev/hugepages"
			return
		fi
	fi
	echo no-huge >"$STATE/memory"
	log "natgw memory: --no-huge ($([ "${LAB_HUGE:-1}" = 0 ] && echo "LAB_HUGE=0" ||
		echo "512 hugepages of 2 MiB could not be reserved")):" \
		"dpdk-dumpcap and dpdk-proc-info cannot attach"
	echo "--no-huge -m 1024"
}

# restart-natgw [ARGS]: natgw alone stops (SIGTERM, so a natgw started with --save writes its
# snapshot) and starts again with the command line it had plus ARGS; the old log is kept as
# natgw.log.N. Fails (log shown) when the new natgw exits or does not forward within 30 s.
restart_natgw() {
	[ -f "$STATE/natgw.argv" ] || die "restart-natgw: natgw is not running in the lab"
	local pid argv=() n=0 i
	mapfile -d '' argv <"$STATE/natgw.argv"
	# LAB_RESTART_WORKERS=1|2: the new natgw gets that many workers (its EAL lcores)
	if [ -n "${LAB_RESTART_WORKERS:-}" ]; then
		for i in "${!argv[@]}"; do
			case "${argv[$i]}" in -l|--lcores) ;; *) continue ;; esac
			case "$LAB_RESTART_WORKERS" in
			1) argv[i]=-l; argv[i + 1]=0,1 ;;
			2) argv[i]=--lcores; argv[i + 1]=0@0,1@1,2@0 ;;
			*) die "LAB_RESTART_WORKERS: 1 or 2" ;;
			esac
			break
		done
		printf '%s\0' "${argv[@]}" >"$STATE/natgw.argv"
		echo "$LAB_RESTART_WORKERS" >"$STATE/workers"
	fi
	pid=$(cat "$STATE/pids/natgw.pid" 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && die "restart-natgw: natgw (pid $pid) did not stop in 10 s"
	fi
	while [ -f "$STATE/logs/natgw.log.$n" ]; do n=$((n + 1)); done
	mv "$STATE/logs/natgw.log" "$STATE/logs/natgw.log.$n" 2>/dev/null || true
	start natgw lab-gw "${argv[@]}" "$@"
	wait_ready
	log "natgw restarted${*:+ with $*} (previous log: natgw.log.$n)"
}

# --vlan / --stick / --mtu (LAB_VLAN, LAB_STICK, LAB_MTU): re-plumb the inside and uplink
# segments built by up(). Addresses of lab-router's eth0 (whatever families up() gave it)
# move with it.
lab_l2() {
	local a addrs mtu=${LAB_MTU:-} dev
	[ -n "$LAB_VLAN$LAB_STICK$mtu" ] || return 0
	[ -z "$LAB_VLAN$LAB_STICK" ] || [ "$mode" = natgw ] || die "--vlan/--stick: natgw mode only"
	addrs=$(ip -n lab-router -o addr show dev eth0 scope global | awk '{print $3, $4}')
	if [ -n "$LAB_STICK" ]; then
		# one trunk: nat-trunk (lab-gw) - p-trunk (lab-sw), switched by vlansw.py: VLAN 10
		# to the inside bridge (v10b - v10a in br0), VLAN 20 to lab-router's eth0 (p-up)
		ip -n lab-gw link del nat-in
		ip -n lab-gw link del nat-out	# and lab-router's eth0 with it
		veth lab-gw nat-trunk lab-sw p-trunk
		veth lab-sw v10a lab-sw v10b
		ip -n lab-sw link set v10a master br0
		veth lab-sw p-up lab-router eth0
		while read -r fam a; do
			[ -n "$a" ] && ip -n lab-router "${fam/inet/-4}" addr add "$a" dev eth0
		done <<<"${addrs//inet6/-6}"
		start vlansw lab-sw $PY -u "$here/vlansw.py" p-trunk v10b:10 p-up:20
	elif [ -n "$LAB_VLAN" ]; then
		# nat-in's peer p-gw is a trunk carrying VLAN 10 (vlansw.py in lab-sw: v10b - v10a
		# in br0); lab-router's eth0 carries VLAN 20, its addresses on r20 (vlansw.py there)
		ip -n lab-sw link set p-gw nomaster
		veth lab-sw v10a lab-sw v10b
		ip -n lab-sw link set v10a master br0
		start vlansw-in lab-sw $PY -u "$here/vlansw.py" p-gw v10b:10
		veth lab-router r20 lab-router r20sw
		while read -r fam a; do
			[ -n "$a" ] || continue
			ip -n lab-router addr del "$a" dev eth0
			ip -n lab-router "${fam/inet/-4}" addr add "$a" dev r20
		done <<<"${addrs//inet6/-6}"
		start vlansw-out lab-router $PY -u "$here/vlansw.py" eth0 r20sw:20
	fi
	[ -n "$mtu" ] || return 0
	local ns_dev
	for ns_dev in lab-client:eth0 lab-svc:eth0 lab-sw:p-client lab-sw:p-svc lab-sw:p-gw \
		lab-sw:v10a lab-sw:v10b lab-sw:br0 lab-sw:p-trunk lab-sw:p-up lab-gw:nat-in \
		lab-gw:nat-out lab-gw:nat-trunk lab-router:eth0 lab-router:r20 lab-router:r20sw; do
		ip -n "${ns_dev%%:*}" link show "${ns_dev#*:}" >/dev/null 2>&1 || continue
		ip -n "${ns_dev%%:*}" link set "${ns_dev#*:}" mtu "$mtu"
	done
}

# natgw's configuration for --vlan / --stick / --mtu: config/lab.ini with the keys set (the
# ports are natgw's --inside / --outside options, gw_natgw)
l2_config() { # IN OUT
	local tagged=$LAB_VLAN$LAB_STICK e=(-e 's/[ \t]*;.*//')
	[ -n "$LAB_MTU" ] && e+=(-e "s/^mtu *=.*/mtu     = $LAB_MTU/")
	[ -n "$tagged" ] && e+=(-e '/^\[inside\]/a vlan    = 10' -e '/^\[outside\]/a vlan    = 20')
	sed "${e[@]}" "$1" >"$2"
}

# --ipv6 (LAB_IPV6=1): IPv6 beside IPv4, routed, no NAT (docs/config.md "IPv6"):
#   lab-client 2001:db8:1::10, lab-svc 2001:db8:1::20 (and 2001:db8:100::20, the routed
#   inside prefix 2001:db8:100::/56 behind it) | gateway 2001:db8:1::1 / 2001:db8:2::2 |
#   lab-router 2001:db8:2::1, 2001:db8:3::1 (MTU 1280 to the server) | lab-server
#   2001:db8:3::10 (HTTP and UDP echo on IPv6 too, advmss 1440: uploads need PMTUD).
#   Kernel mode: lab-gw forwards IPv6 with nftables ct state filtering (RFC 6092 simple
#   security: established,related in, anything out); natgw mode: its kernel keeps IPv6 off.
v6on() { # NS IF...: IPv6 on for these interfaces (up() turned it off everywhere)
	local ns=$1 i; shift
	ns_sysctl "$ns" net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
	for i in "$@"; do ns_sysctl "$ns" "net.ipv6.conf.$i.disable_ipv6=0" "net.ipv6.conf.$i.accept_ra=0"; done
}
lab_ipv6() {
	ip -n lab-sw link set br0 type bridge mcast_snooping 0
	v6on lab-client lo eth0
	ip -n lab-client -6 addr add 2001:db8:1::10/64 dev eth0 nodad
	ip -n lab-client -6 route add default via 2001:db8:1::1
	v6on lab-svc lo eth0
	ip -n lab-svc -6 addr add 2001:db8:1::20/64 dev eth0 nodad
	ip -n lab-svc -6 addr add 2001:db8:100::20/128 dev lo nodad
	ip -n lab-svc -6 route add default via 2001:db8:1::1
	v6on lab-router lo eth0 eth1
	ip -n lab-router -6 addr add 2001:db8:2::1/64 dev eth0 nodad
	ip -n lab-router -6 addr add 2001:db8:3::1/64 dev eth1 nodad
	ip -n lab-router -6 route add 2001:db8:1::/64 via 2001:db8:2::2
	ip -n lab-router -6 route add 2001:db8:100::/56 via 2001:db8:2::2
	ns_sysctl lab-router net.ipv6.conf.all.forwarding=1 net.ipv6.icmp.ratelimit=0
	v6on lab-server lo eth0
	ip -n lab-server -6 addr add 2001:db8:3::10/64 dev eth0 nodad
	ip -n lab-server -6 route add default via 2001:db8:3::1 advmss 1440
	ns_sysctl lab-server net.ipv6.icmp.ratelimit=0
	start server-http6 lab-server $PY -u "$here/labsrv.py" http --ipv6 --port 80 --dir "$STATE/www-server"
	start server-udpecho6 lab-server $PY -u "$here/labsrv.py" udpecho --ipv6 --port 7
	[ "$mode" = kernel ] || return 0
	v6on lab-gw lo nat-in nat-out
	ip -n lab-gw -6 addr add 2001:db8:1::1/64 dev nat-in nodad
	ip -n lab-gw -6 addr add 2001:db8:2::2/64 dev nat-out nodad
	ip -n lab-gw -6 route add default via 2001:db8:2::1
	ip -n lab-gw -6 route add 2001:db8:100::/56 via 2001:db8:1::20
	ns_sysctl lab-gw net.ipv6.conf.all.forwarding=1 net.ipv6.icmp.ratelimit=0
	nsx lab-gw nft -f - <<-'NFT'
	table ip6 lab6 {
		chain forward {
			type filter hook forward priority filter; policy drop;
			ct state established,related counter accept
			iifname "nat-in" oifname "nat-out" counter accept
			counter
		}
	}
	NFT
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

	lab_l2	# --vlan / --stick / --mtu
	[ -z "${LAB_IPV6:-}" ] || lab_ipv6	# --ipv6
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
	rm -f /dev/hugepages/natgw-lab* 2>/dev/null || true
	# hugepages lab_mem reserved go back
	[ -f "$STATE/hugepages.orig" ] && cat "$STATE/hugepages.orig" \
		>/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 2>/dev/null || true
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
	[ -f "$STATE/memory" ] && echo "natgw memory: $(cat "$STATE/memory")" \
		"($( [ "$(cat "$STATE/memory")" = hugepages ] && echo "dpdk-dumpcap, dpdk-proc-info can attach" ||
			echo "no hugepages: DPDK secondary processes cannot attach"))"
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
LAB_PMD=${LAB_PMD:-}	# default after the options: af_xdp, or af_packet for jumbo frames
LAB_WORKERS=${LAB_WORKERS:-1}
LAB_VLAN=${LAB_VLAN:-} LAB_STICK=${LAB_STICK:-} LAB_MTU=${LAB_MTU:-}
if [ "$cmd" = restart-natgw ]; then	# its arguments are natgw's own
	[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
	restart_natgw "$@"
	exit
fi
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) mode=$2; shift ;;
	--mode=*) mode=${1#--mode=} ;;
	--pmd) LAB_PMD=$2; shift ;;
	--pmd=*) LAB_PMD=${1#--pmd=} ;;
	--workers) LAB_WORKERS=$2; shift ;;
	--workers=*) LAB_WORKERS=${1#--workers=} ;;
	--vlan) LAB_VLAN=1 ;;
	--ipv6) LAB_IPV6=1 ;;
	--stick) LAB_STICK=1 ;;
	--mtu) LAB_MTU=$2; shift ;;
	--mtu=*) LAB_MTU=${1#--mtu=} ;;
	*) die "unknown option $1" ;;
	esac
	shift
done
# net_af_xdp by default: faster than net_af_packet with the lab's clients (iperf3 TCP 2,094
# against 1,470 Mbit/s up, docs/bench-findings.md); its frames live in one 4 KiB UMEM chunk,
# so an MTU over 3000 takes net_af_packet (8 KiB frames; 16 KiB over 8000)
[ -n "$LAB_PMD" ] || { [ "${LAB_MTU:-0}" -gt 3000 ] && LAB_PMD=af_packet || LAB_PMD=af_xdp; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
case "$cmd" in
up) up "$mode" ;;
down) down ;;
status) status ;;
conntrack) conntrack_list ;;
stats) gw_stats ;;
*) sed -n '2,42p' "$0"; exit 2 ;;
esac

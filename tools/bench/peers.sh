#!/usr/bin/env bash
# natgw beside Open vSwitch's userspace conntrack, in one run (not part of CI).
#
# Builds, once, into a cache outside the repo (PEERS_CACHE, default /var/cache/natgw-peers):
# from Debian's openvswitch-source (apt-get install openvswitch-source if missing; the tarball
# in /usr/src/openvswitch) only lib/libopenvswitch.a (configure, the generated headers, the
# library), then two programs linked to it:
#   - ovstest:      OVS's own tests/ovstest.c + tests/test-conntrack.c, to run
#                   `ovstest test-conntrack benchmark 1 N 32 1` as OVS ships it (one batch of
#                   at most 32 connections sent again and again);
#   - peers-ovs-ct: tools/bench/peers_ovs_ct.c, the same conntrack_execute() call fed as
#                   natgw-bench feeds natgw: N UDP connections, both directions, bursts of 32,
#                   random flow order, floor (header writes) subtracted.
# Then runs natgw-bench (its full run: established at the sizes, new connections, mix) and
# both OVS programs with the same connection counts, and prints one table with the ratio.
# natgw's figure includes NAT (rewrite, checksums, port table), L2/ARP and TX, on 50% TCP
# with window tracking; OVS's is conntrack alone (no NAT, no I/O) on UDP: the ratio favours
# OVS.
#
#   tools/bench/peers.sh [--build DIR] [--out DIR] [--sizes 1000,65536,...] [--pkts N]
#                        [--natgw-json FILE (natgw-bench's results of an earlier run)]
#                        [-- natgw-bench args]
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
build=build-bench
out=bench-out
sizes=1000,65536,1048576,4194304
pkts=4000000
cache=${PEERS_CACHE:-/var/cache/natgw-peers}
natgw_json=""
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift ;;
	--out) out=$2; shift ;;
	--sizes) sizes=$2; shift ;;
	--pkts) pkts=$2; shift ;;
	--natgw-json) natgw_json=$2; shift ;;
	--) shift; break ;;
	-h|--help) sed -n '2,23p' "$0"; exit 0 ;;
	*) echo "peers.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
mkdir -p "$out" "$cache"

# ---- Open vSwitch, once
tarball=$(ls /usr/src/openvswitch/openvswitch*.tar.* 2>/dev/null | head -n 1 || true)
if [ -z "$tarball" ]; then
	apt-get install -y openvswitch-source >/dev/null
	tarball=$(ls /usr/src/openvswitch/openvswitch*.tar.* | head -n 1)
fi
src=$cache/src
if [ ! -f "$src/lib/.libs/libopenvswitch.a" ]; then
	echo "peers.sh: building Open vSwitch's lib/libopenvswitch.a from $tarball (once)" >&2
	rm -rf "$src"
	mkdir -p "$src"
	tar -xf "$tarball" -C "$src" --strip-components=1
	(
		cd "$src"
		./configure --disable-ssl --disable-libcapng CFLAGS="-O2 -g0" >"$cache/configure.log" 2>&1
		bs=$(make -s -f Makefile -f <(printf 'print-bs:\n\t@echo $(BUILT_SOURCES)\n') print-bs)
		# shellcheck disable=SC2086
		make -j2 $bs >"$cache/make.log" 2>&1
		make -j2 lib/libopenvswitch.la >>"$cache/make.log" 2>&1
	) || { echo "peers.sh: OVS build failed, see $cache/*.log" >&2; exit 1; }
fi
libs=$(sed -n 's/^LIBS = //p' "$src/Makefile")
mkdir -p "$cache/bin"
cc_ovs() { # out sources...
	local o=$1
	shift
	# shellcheck disable=SC2086
	gcc -O2 -DHAVE_CONFIG_H -I"$src" -I"$src/include" -I"$src/lib" "$@" \
		"$src/lib/.libs/libopenvswitch.a" $libs -lpthread -lrt -o "$o"
}
[ -x "$cache/bin/ovstest" ] ||
	cc_ovs "$cache/bin/ovstest" "$src/tests/ovstest.c" "$src/tests/test-conntrack.c"
if [ ! -x "$cache/bin/peers-ovs-ct" ] ||
   [ "$top/tools/bench/peers_ovs_ct.c" -nt "$cache/bin/peers-ovs-ct" ]; then
	cc_ovs "$cache/bin/peers-ovs-ct" "$top/tools/bench/peers_ovs_ct.c"
fi
ovs_ver="openvswitch-source $(dpkg-query -W -f='${Version}' openvswitch-source 2>/dev/null || basename "$tarball")"

# ---- natgw-bench
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" >/dev/null
fi
ninja -C "$build" -j2 tools/bench/natgw-bench >/dev/null
load0=$(cut -d' ' -f1-3 /proc/loadavg)
if [ -n "$natgw_json" ]; then	# a natgw-bench JSON from before (its run's figures)
	cp "$natgw_json" "$out/peers-natgw.json.tmp" && mv "$out/peers-natgw.json.tmp" "$out/peers-natgw.json"
else
# natgw-bench's full run (new connections and the mix too: every figure of the note from the
# same run as the peers), its default traffic: 50% TCP with window tracking, 50% UDP (UDP
# alone would need more outside ports than the 64-address pool has at 4M)
"$build/tools/bench/natgw-bench" --sizes "$sizes" --min-pkts "$pkts" "$@" \
	--json "$out/peers-natgw.json" >"$out/peers-natgw.txt" 2>&1 ||
	{ tail -n 20 "$out/peers-natgw.txt"; exit 1; }
fi
: >"$out/peers-ovs.txt"
for n in ${sizes//,/ }; do
	"$cache/bin/peers-ovs-ct" "$n" "$pkts" >>"$out/peers-ovs.txt" 2>>"$out/peers-ovs.log" ||
		{ echo "peers.sh: peers-ovs-ct $n failed, see $out/peers-ovs.log" >&2; exit 1; }
done
# OVS's benchmark as shipped: 32 connections (one batch), UDP one way
"$cache/bin/ovstest" test-conntrack benchmark 1 "$pkts" 32 1 >"$out/peers-ovstest.txt" \
	2>>"$out/peers-ovs.log"
load1=$(cut -d' ' -f1-3 /proc/loadavg)

/usr/bin/python3 - "$out" "$ovs_ver" "$load0" "$load1" "$pkts" "$([ -z "$natgw_json" ] && echo 1 || echo 0)" <<'EOF'
import json, re, sys
out, ver, l0, l1, pkts, same = sys.argv[1:7]
same = same == '1'
nat = json.load(open(out + '/peers-natgw.json'))
hz = nat['tsc_hz']
ovs = {}
for line in open(out + '/peers-ovs.txt'):
    f = line.split()
    ovs[int(f[2])] = (float(f[6]), float(f[8]))
m = re.search(r'conntrack:\s+(\d+) ms', open(out + '/peers-ovstest.txt').read())
print('natgw vs Open vSwitch userspace conntrack (%s), TSC %.2f GHz, load %s -> %s%s' %
      (ver, hz / 1e9, l0, l1, '' if same else
       ' (natgw: an earlier run, --natgw-json; its load %s -> %s)' % (nat.get('loadavg_start'),
                                                                     nat.get('loadavg_end'))))
print('both directions, bursts of 32; cycles/packet. natgw: 50% TCP (window tracking) + 50% UDP,'
      ' with NAT, ARP and TX. OVS: UDP, conntrack only, its floor subtracted. Both: median over'
      ' chunks of 2,048 packets')
print('%-12s %14s %14s %10s %8s' % ('connections', 'natgw', 'OVS conntrack', 'OVS/natgw',
                                   'drops'))
for e in nat['established']:
    n = e['sessions']
    o = ovs.get(n)
    print('%-12d %14.1f %14s %10s %8d' % (n, e['cycles_per_pkt'],
          '%.1f' % o[0] if o else '-', '%.2f' % (o[0] / e['cycles_per_pkt']) if o else '-',
          e['drops']))
print('floors (rx emulation + tx / header writes): natgw %.1f, OVS driver %s' %
      (nat['floor_cycles_per_pkt'], ', '.join('%.1f' % v[1] for v in ovs.values())))
if nat.get('new_conn_per_sec'):
    print('natgw run: new connections %.2f M/s (%.0f cycles), mix %s cycles/packet,'
          ' %.1f bytes/connection at %d' % (nat['new_conn_per_sec'] / 1e6,
          nat['new_conn_cycles'], nat.get('mix_cycles_per_pkt'), nat['bytes_per_conn'],
          nat['bytes_per_conn_at_sessions']))
if m:
    ms = int(m.group(1))
    print('OVS as shipped: ovstest test-conntrack benchmark 1 %s 32 1 (32 connections, one '
          'way): %d ms = %.1f cycles/packet' % (pkts, ms, ms * 1e-3 * hz / int(pkts)))
EOF

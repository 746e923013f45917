#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# natgw refuses bad configuration files with "FILE:LINE: message" and exit status 1, and
# accepts the shipped examples. usage: config_errors.sh NATGW [CONFIG_DIR]
set -u
NATGW=${1:?usage: config_errors.sh NATGW [CONFIG_DIR]}
CONFDIR=${2:-$(dirname "$0")/../../config}
T=$(mktemp -d /tmp/natgw-cfgtest.XXXXXX)
trap 'rm -rf "$T"' EXIT
EAL="--no-huge -m 64 --no-shconf --no-pci --no-telemetry -l 0 --log-level=lib.*:error"
fails=0

good() { # name
	cat > "$T/$1.ini" <<EOC
[ports]
inside = 0
outside = 1
[inside]
address = 10.0.1.1/24
[outside]
address = 10.0.2.1/24
gateway = 10.0.2.254
[nat]
ports = 1024-65535
EOC
}

# case NAME EXPECTED_LINE EXPECTED_MESSAGE_SUBSTRING SED_EXPRESSION
case_() {
	good "$1"
	sed -i "$4" "$T/$1.ini"
	out=$($NATGW $EAL -- --config "$T/$1.ini" --check-config 2>&1)
	rc=$?
	line=$(printf '%s\n' "$out" | grep -F "$T/$1.ini:" | tail -1)
	if [ $rc -ne 1 ] || ! printf '%s' "$line" | grep -qF "$T/$1.ini:$2: " ||
	   ! printf '%s' "$line" | grep -qF "$3"; then
		echo "FAIL $1: rc=$rc, want 1 and '$T/$1.ini:$2: ...$3...'; got:"
		printf '%s\n' "$out" | tail -3
		fails=$((fails + 1))
	else
		echo "ok   $1: $line"
	fi
}

case_ unknown_key      5  "unknown key 'adress'"         's/^address = 10.0.1.1/adress = 10.0.1.1/'
case_ bad_address      5  "address: want A.B.C.D/LEN"    's|10.0.1.1/24|10.0.1.300/24|'
case_ bad_prefix       7  "address: want A.B.C.D/LEN"    's|10.0.2.1/24|10.0.2.1/33|'
case_ bad_range        10 "ports: want LO-HI"            's/1024-65535/60000-1024/'
case_ bad_gateway      8  "gateway: bad address"         's/10.0.2.254/10.0.2/'
case_ unknown_section  9 "unknown section [natt]"       's/^\[nat\]/[natt]/'
case_ missing_section  7 "missing section [outside]"    '/^\[outside\]/d; /^address = 10.0.2.1/d; /^gateway/d'
case_ syntax           4  "syntax error"                 '4s/.*/this is not ini/'
case_ bad_forward      12 "forward 'web'"                '$a [forward]\nweb = tcp 10.0.2.1:80 => 10.0.1.2:80'
case_ bad_timeout      12 "unknown timeout class"        '$a [conntrack]\ntimeout.udp_foo = 10'
case_ bad_bool         11 "hairpin: want yes or no"      '$a hairpin = maybe'
case_ bad_priv_ports   12 "privileged_data_ports: want yes or no" '$a [helpers]\nprivileged_data_ports = maybe'
# [inside] routes and [untracked] (app/gw_config.c)
case_ bad_routes       6  "routes: want PREFIX/LEN via ADDR" '5a routes = 10.9.0.0/16 10.0.1.254'
case_ route_host_bits  6  "routes: prefix has host bits set" '5a routes = 10.9.0.1/16 via 10.0.1.254'
case_ route_via_offnet 6  "next hop is not a host on the inside network" '5a routes = 10.9.0.0/16 via 10.0.2.5'
case_ route_overlap    6  "overlaps the inside network" '5a routes = 10.0.0.0/16 via 10.0.1.254'
case_ bad_ut_direction 12 "untracked 'x': want PROTO" '$a [untracked]\nx = udp dport 53 direction sideways'
case_ bad_ut_private   12 "untracked 'x': want PROTO" '$a [untracked]\nx = udp dport 53 private maybe'
case_ ut_icmp_ports    12 "(ports: tcp/udp only)" '$a [untracked]\nx = icmp dport 5'
# RSS steering ([nat] rss_*, lib/nat/nat_rss.c)
case_ bad_rss_steering 11 "rss_steering: want auto or off" '$a rss_steering = on'
case_ bad_rss_choice   11 "rss_port_choice: want steer or preserve" '$a rss_port_choice = both'
case_ bad_rss_key_len  11 "rss_key: want random or 80 / 104 hex digits" '$a rss_key = 6d5a56da'
case_ bad_rss_key_hex  11 "rss_key: '" '$a rss_key = 6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fz'
case_ bad_inbound_limit 11 "max_inbound_conns_per_host: want auto, unlimited or 1.." '$a max_inbound_conns_per_host = 0'
case_ bad_max_expect   12 "max_expect: want 1..16777216" '$a [helpers]\nmax_expect = 0'
case_ bad_expect_host  12 "max_expect_per_host: want auto, unlimited or 1.." '$a [helpers]\nmax_expect_per_host = lots'

for c in "$CONFDIR"/*.ini; do
	if out=$($NATGW $EAL -- --config "$c" --check-config 2>&1); then
		echo "ok   $(basename "$c") valid"
	else
		echo "FAIL $(basename "$c"): $(printf '%s' "$out" | tail -1)"
		fails=$((fails + 1))
	fi
done
if out=$($NATGW --help 2>&1) && printf '%s' "$out" | grep -q -- '--config FILE' &&
   printf '%s' "$out" | grep -q -- '--timeout CLASS=TIME'; then
	echo "ok   --help"
else
	echo "FAIL --help"
	fails=$((fails + 1))
fi
if $NATGW $EAL -- --bogus >/dev/null 2>&1; then
	echo "FAIL unknown option accepted"
	fails=$((fails + 1))
else
	echo "ok   unknown option refused"
fi
[ $fails -eq 0 ] && echo PASS || echo "$fails failure(s)"
exit $((fails != 0))

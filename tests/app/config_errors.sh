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
case_ long_timeout     12 "timeout.tcp_established: at most 1073741 s" '$a [conntrack]\ntimeout.tcp_established = 300h'
case_ bad_accounting   12 "accounting: want yes or no"   '$a [conntrack]\naccounting = maybe'
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
# 802.1Q sides and frame sizes ([inside] / [outside] vlan, mtu; app/gw_vlan.c)
case_ bad_vlan_4095    6  "vlan: want 1..4094 or none, got '4095'" '5a vlan = 4095'
case_ bad_vlan_zero    6  "vlan: want 1..4094 or none, got '0'" '5a vlan = 0'
case_ bad_vlan_text    8  "vlan: want 1..4094 or none, got 'ten'" '7a vlan = ten'
case_ bad_mtu_9001     6  "mtu: want 576..9000, got '9001'" '5a mtu = 9001'
case_ bad_mtu_small    8  "mtu: want 576..9000, got '500'" '7a mtu = 500'
case_ stick_no_vlan    3  "inside and outside on one port ('0') need [inside] vlan and [outside] vlan" '3s/outside = 1/outside = 0/; 5a vlan = 10'
case_ stick_same_vlan  9  "inside and outside on one port need different vlan ids (both 10)" '3s/outside = 1/outside = 0/; 5a vlan = 10
7a vlan = 10'
# IPv6 keys ([inside]/[outside] address6, gateway6, routes6, ra; app/gw_ip6.c)
case_ bad_address6     6  "address6: want a global unicast ADDR/LEN" '5a address6 = 2001:db8:1::1'
case_ ll_address6      6  "address6: want a global unicast ADDR/LEN" '5a address6 = fe80::1/64'
case_ address6_inside_only 6 "IPv6 needs address6 on both sides ([outside] has none)" '5a address6 = 2001:db8:1::1/64'
case_ routes6_no_addr6 6  "routes6 without address6" '5a routes6 = 2001:db8:100::/56'
case_ bad_routes6      6  "routes6: want PREFIX/LEN [via ADDR]" '5a routes6 = 2001:db8:100::/56 via'
case_ bad_ra           6  "ra: want yes or no" '5a ra = maybe'
case_ gateway6_offnet  11 "gateway6 is neither on the outside network nor link-local" '5a address6 = 2001:db8:1::1/64
8a address6 = 2001:db8:2::2/64\ngateway6 = 2001:db8:9::1'
# [filter] rules (lib/ruleset): --check-config compiles the ruleset; its errors say
# RULESFILE:LINE:COL with the offending token, a relative path is the config's folder's
printf 'table inet natgw {\n chain forward {\n  type filter hook forward priority 0;\n  tcp dport 22 acept\n }\n}\n' > "$T/bad.nft"
cp "$CONFDIR/rules-default.nft" "$T/default.nft"
case_ rules_bad_keyword 12 "rules: $T/bad.nft:4:16: unknown keyword 'acept'" '$a [filter]\nrules = bad.nft'
case_ rules_missing    12 "rules: $T/none.nft: No such file or directory" '$a [filter]\nrules = none.nft'
case_ rules_bad_key    12 "unknown key 'ruleset' in [filter]" '$a [filter]\nruleset = bad.nft'
# [control] (app/gw_ctl.c): an absolute socket path or off
case_ ctl_relative     12 "socket: want an absolute path or off, got 'ctl.sock'" '$a [control]\nsocket = ctl.sock'
case_ ctl_bad_key      12 "unknown key 'path' in [control]" '$a [control]\npath = /run/x.sock'
# [log] (app/gw_event.h): destinations, ring size, unknown keys
case_ log_syslog       12 "syslog: want udp:ADDR:PORT, unix:/PATH (under 108 bytes) or off, got 'tcp:10.0.0.1:514'" '$a [log]\nsyslog = tcp:10.0.0.1:514'
case_ log_ring         12 "ring_size: want a power of two 16..1048576, got '1000'" '$a [log]\nring_size = 1000'
case_ log_bad_key      12 "unknown key 'collector' in [log]" '$a [log]\ncollector = 10.0.0.1:4739'
# [nat64] (app/gw_nat64.c): RFC 6052 prefixes, the shadow range kept off every network
case_ nat64_prefix_len 12 "prefix: want an RFC 6052 prefix ADDR/LEN" '$a [nat64]\nprefix = 64:ff9b::/80'
case_ nat64_u_octet    12 "prefix: want an RFC 6052 prefix ADDR/LEN" '$a [nat64]\nprefix = 2001:db8:0:0:ff00::/96'
case_ nat64_shadow_overlap 13 "shadow range overlaps the inside network" '$a [nat64]\nprefix = 64:ff9b::/96\nshadow = 10.0.0.0/8'
case_ nat64_bad_key    12 "unknown key 'pool' in [nat64]" '$a [nat64]\npool = 100.64.0.0/10'
good rules_default
printf '[filter]\nrules = default.nft\n' >> "$T/rules_default.ini"
if out=$($NATGW $EAL -- --config "$T/rules_default.ini" --check-config 2>&1); then
	echo "ok   rules-default.nft valid"
else
	echo "FAIL rules-default.nft: $(printf '%s' "$out" | tail -1)"
	fails=$((fails + 1))
fi

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
